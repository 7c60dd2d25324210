//! The one writer of chat messages per process (group commit), whatever the
//! backend.
//!
//! Every socket's appends queue here; one task stores whatever is waiting
//! as a batch, in one transaction, through its backend's [`Batches`], and
//! answers each sender only after that batch committed. So an acknowledged
//! message is stored exactly as before, with far fewer transactions and
//! thread hand-offs per message under load.
//!
//! The answers are announced in commit order: each append carries an
//! [`OnCommit`], and one announcer task runs them batch after batch, in the
//! order the appends were queued. Seqs are given in that same order, so
//! whatever an `OnCommit` sends (an ack, a delivery) leaves in seq order for
//! every conversation and in submission order for every sender, however
//! many messages are in flight. (Waking each sender to announce its own
//! message instead lets a message whose batch committed early overtake
//! earlier ones still waiting to be polled.)
//!
//! What a batch becomes is decided here too ([`Plan`]): which messages are
//! resends already stored, which repeat an earlier message of the batch,
//! and which seq each new one gets; the backend only runs the statements.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{ChatMessage, ConversationId};
use crate::server::metrics;
use crate::server::storage::{Appended, NewMessage, OnCommit, StoreError, StoreResult};

/// Most appends stored in one transaction. Large batches are what let the
/// writer catch up under load: each batch rewrites one page per busy
/// conversation whatever the number of its messages, so at 100,000 msgs/s
/// over 100 conversations a batch of 2,048 writes about a fifth as many
/// pages per message as one of 400. Their insert binds 8 values per
/// message: 16,384, within SQLite's limit of 32,766 per statement.
pub const MAX_BATCH: usize = 2048;
/// Appends that may wait for the writer before senders wait too.
const QUEUE: usize = 8192;
/// Committed batches that may wait for the announcer before the writer waits.
const ANNOUNCE_QUEUE: usize = 4;

/// A batch of appends, in submission order.
pub type Batch = Vec<(ConversationId, NewMessage)>;

/// How a backend stores a batch: in one transaction, answering each append
/// in the batch's order (see [`Plan`] for the part every backend shares).
#[async_trait]
pub trait Batches: Send + 'static {
    /// Stores `batch` and commits.
    async fn write(&mut self, batch: Batch) -> sqlx::Result<Vec<Appended>>;

    /// Called once a batch committed, before any of its answers leaves.
    fn committed(&self, _results: &[Appended]) {}
}

struct Job {
    conversation: ConversationId,
    msg: NewMessage,
    then: OnCommit,
}

/// A committed (or failed) batch's answers, in submission order.
type Announced = Vec<(OnCommit, StoreResult<Appended>)>;

/// Handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task over `batches` (which owns its connection).
    pub fn start(batches: impl Batches) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (announce, announced) = mpsc::channel(ANNOUNCE_QUEUE);
        tokio::spawn(run(batches, rx, announce));
        tokio::spawn(announcer(announced));
        Self { tx }
    }

    /// Stores `msg` as the conversation's next seq (see [`Appended`]);
    /// returns once its batch is committed and everything submitted before
    /// it was announced.
    pub async fn append(
        &self,
        conversation: ConversationId,
        msg: NewMessage,
    ) -> StoreResult<Appended> {
        let (reply, answer) = oneshot::channel();
        let then: OnCommit = Box::new(move |result| {
            let _ = reply.send(result);
        });
        self.submit(conversation, msg, then).await;
        answer.await.unwrap_or(Err(StoreError::WriterStopped))
    }

    /// Queues `msg` behind everything submitted before it, waiting only for
    /// room in the queue: a socket can go on reading while its messages are
    /// stored. `then` runs once the batch committed, after the `then` of
    /// every message submitted before it (see the module's docs).
    pub async fn submit(&self, conversation: ConversationId, msg: NewMessage, then: OnCommit) {
        let job = Job {
            conversation,
            msg,
            then,
        };
        if let Err(mpsc::error::SendError(job)) = self.tx.send(job).await {
            // The writer task is gone (it never ends while a handle lives,
            // so it panicked): nothing queued before this can be announced.
            (job.then)(Err(StoreError::WriterStopped));
        }
    }
}

async fn run(
    mut batches: impl Batches,
    mut rx: mpsc::Receiver<Job>,
    announce: mpsc::Sender<Announced>,
) {
    while let Some(first) = rx.recv().await {
        let mut work = Vec::with_capacity(MAX_BATCH.min(rx.len() + 1));
        let mut thens = Vec::with_capacity(work.capacity());
        let mut next = Some(first);
        while let Some(job) = next.take() {
            work.push((job.conversation, job.msg));
            thens.push(job.then);
            if work.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        let size = work.len();
        let began = Instant::now();
        let written = batches.write(work).await;
        let took = began.elapsed();
        let answers: Announced = match written {
            Ok(results) => {
                record(size, took, &results);
                batches.committed(&results);
                thens.into_iter().zip(results.into_iter().map(Ok)).collect()
            }
            Err(e) => {
                tracing::error!(error = %e, size, "storing a batch of messages failed");
                let e = StoreError::from(e);
                thens
                    .into_iter()
                    .map(|then| (then, Err(e.clone())))
                    .collect()
            }
        };
        // The announcer lives as long as this sender; a send fails only if it panicked.
        if announce.send(answers).await.is_err() {
            tracing::error!("the announcer of stored messages is gone");
        }
    }
}

/// A committed batch's figures for `/metrics`: a few atomic adds per batch,
/// whatever its size.
fn record(size: usize, took: Duration, results: &[Appended]) {
    let m = metrics::handles();
    m.batch_size.record(size as f64);
    m.commit_seconds.record(took.as_secs_f64());
    let (mut chat, mut system) = (0u64, 0u64);
    for a in results {
        if let Appended::New(message) = a {
            if message.event.is_some() {
                system += 1;
            } else {
                chat += 1;
            }
        }
    }
    m.messages_chat.increment(chat);
    m.messages_system.increment(system);
}

/// Runs each batch's [`OnCommit`]s in order, batch after batch: the one
/// place where stored messages are announced. While it announces a batch,
/// the writer already stores the next.
async fn announcer(mut batches: mpsc::Receiver<Announced>) {
    while let Some(batch) = batches.recv().await {
        for (then, result) in batch {
            then(result);
        }
    }
}

/// What a batch becomes, decided before its seqs are reserved: per message,
/// new, or a resend stored by an earlier batch, or a resend of an earlier
/// message of this batch. Only messages marked as resends are looked up.
#[derive(Debug)]
pub struct Plan {
    prior: Vec<Option<ChatMessage>>,
    repeat_of: Vec<Option<usize>>,
    /// How many new messages each conversation gets.
    pub wanted: BTreeMap<ConversationId, i64>,
}

impl Plan {
    /// Plans `batch`, given the resends an earlier batch stored (by
    /// conversation and message id; see [`Plan::resends`]).
    pub fn new(batch: &Batch, earlier: &HashMap<(ConversationId, String), ChatMessage>) -> Self {
        let mut prior: Vec<Option<ChatMessage>> = vec![None; batch.len()];
        let mut repeat_of: Vec<Option<usize>> = vec![None; batch.len()];
        let mut wanted: BTreeMap<ConversationId, i64> = BTreeMap::new();
        for (i, (conversation, msg)) in batch.iter().enumerate() {
            if msg.resend {
                let key = (*conversation, msg.id.0.clone());
                if let Some(m) = earlier.get(&key) {
                    prior[i] = Some(m.clone());
                    continue;
                }
                repeat_of[i] = batch[..i]
                    .iter()
                    .position(|(c, m)| c == conversation && m.id == msg.id);
                if repeat_of[i].is_some() {
                    continue;
                }
            }
            *wanted.entry(*conversation).or_default() += 1;
        }
        Self {
            prior,
            repeat_of,
            wanted,
        }
    }

    /// The batch's messages marked as resends, to look up.
    pub fn resends(batch: &Batch) -> impl Iterator<Item = &(ConversationId, NewMessage)> + Clone {
        batch.iter().filter(|(_, m)| m.resend)
    }

    /// Keeps, of the stored `rows` found for the batch's resends, the first
    /// (lowest seq: rows come in seq order) per conversation and id.
    pub fn found(
        batch: &Batch,
        rows: impl IntoIterator<Item = ChatMessage>,
    ) -> HashMap<(ConversationId, String), ChatMessage> {
        let mut found = HashMap::new();
        for message in rows {
            if batch
                .iter()
                .any(|(c, m)| m.resend && *c == message.conversation && m.id == message.id)
            {
                found
                    .entry((message.conversation, message.id.0.clone()))
                    .or_insert(message);
            }
        }
        found
    }

    /// The seq of each message, given the first free seq of each open
    /// conversation (`next`, from the backend's reservation; a closed one is
    /// missing): `None` for resends, repeats and closed conversations.
    pub fn seqs(&self, batch: &Batch, mut next: HashMap<ConversationId, i64>) -> Vec<Option<i64>> {
        let mut seqs = vec![None; batch.len()];
        for (i, (conversation, _)) in batch.iter().enumerate() {
            if self.prior[i].is_none() && self.repeat_of[i].is_none() {
                if let Some(seq) = next.get_mut(conversation) {
                    seqs[i] = Some(*seq);
                    *seq += 1;
                }
            }
        }
        seqs
    }

    /// The answers, in the batch's order; the messages move into them.
    pub fn answers(mut self, batch: Batch, seqs: &[Option<i64>], sent_at: i64) -> Vec<Appended> {
        let mut out: Vec<Appended> = Vec::with_capacity(batch.len());
        for (i, (conversation, msg)) in batch.into_iter().enumerate() {
            let answer = if let Some(seq) = seqs[i] {
                Appended::New(ChatMessage {
                    id: msg.id,
                    conversation,
                    seq,
                    author: msg.author,
                    author_name: msg.author_name,
                    text: msg.text,
                    event: msg.event,
                    sent_at,
                })
            } else if let Some(m) = self.prior[i].take() {
                Appended::Duplicate(m)
            } else if let Some(j) = self.repeat_of[i] {
                match &out[j] {
                    Appended::New(m) | Appended::Duplicate(m) => Appended::Duplicate(m.clone()),
                    Appended::Closed => Appended::Closed,
                }
            } else {
                Appended::Closed
            };
            out.push(answer);
        }
        out
    }
}

/// The first seq to give in each conversation, from what the reservation
/// returned (each conversation's `last_seq` after adding what it gets).
pub fn first_seqs(
    wanted: &BTreeMap<ConversationId, i64>,
    reserved: Vec<(ConversationId, i64)>,
) -> HashMap<ConversationId, i64> {
    reserved
        .into_iter()
        .map(|(c, last)| (c, last - wanted.get(&c).copied().unwrap_or(0) + 1))
        .collect()
}
