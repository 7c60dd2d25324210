//! Typing, both ways: the other side's indicator (shown until they stop,
//! send, or [`TYPING_SHOWN_MS`] pass without news), and this side's
//! `typing` frames: a visitor's at most one per [`TYPING_EVERY_MS`], the
//! latest draft in the last one; an agent's (no draft) one per 2 s.

use leptos::prelude::*;

use super::link::{now_ms, Outbox};
use crate::protocol::{
    ClientMsg, ConversationId, MAX_DRAFT_CHARS, TYPING_EVERY_MS, TYPING_SHOWN_MS,
};

/// How often an agent, who sends no draft, repeats "typing" while typing.
const NO_DRAFT_EVERY_MS: u32 = 2_000;

/// The other side's typing, as shown.
#[derive(Clone, Copy)]
pub struct TheirTyping {
    /// Whether they are typing now.
    pub active: RwSignal<bool>,
    /// Their unsent text (visitors', to agents, when the site allows it).
    pub draft: RwSignal<Option<String>>,
    /// Bumped by every frame: a timer clears only if none came since.
    generation: StoredValue<u64>,
}

impl Default for TheirTyping {
    fn default() -> Self {
        Self::new()
    }
}

impl TheirTyping {
    /// Nobody typing.
    pub fn new() -> Self {
        Self {
            active: RwSignal::new(false),
            draft: RwSignal::new(None),
            generation: StoredValue::new(0),
        }
    }

    /// A `typing` frame came: shown, then cleared after [`TYPING_SHOWN_MS`]
    /// unless another frame comes first.
    pub fn show(&self, active: bool, draft: Option<String>) {
        self.generation.update_value(|g| *g += 1);
        if !active {
            self.clear();
            return;
        }
        self.active.set(true);
        self.draft.set(draft);
        #[cfg(feature = "hydrate")]
        {
            let this = *self;
            let generation = self.generation.get_value();
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(TYPING_SHOWN_MS).await;
                if this.generation.try_get_value() == Some(generation) {
                    this.clear();
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = TYPING_SHOWN_MS;
    }

    /// They stopped, or sent what they typed.
    pub fn clear(&self) {
        self.active.try_set(false);
        self.draft.try_set(None);
    }
}

/// This side's typing: what was last sent, and whether a later frame waits.
#[derive(Debug)]
struct Sent {
    /// When the last "typing" frame went (ms since the epoch).
    at: f64,
    /// The other side was told "typing" and not yet "stopped".
    shown: bool,
    /// A frame is due once the pace allows.
    waiting: bool,
    /// The composer's text now (cut to [`MAX_DRAFT_CHARS`]).
    text: String,
}

impl Default for Sent {
    fn default() -> Self {
        Self {
            at: f64::NEG_INFINITY,
            shown: false,
            waiting: false,
            text: String::new(),
        }
    }
}

/// Sends this side's `typing` frames for one conversation.
#[derive(Clone, Copy)]
pub struct Typer {
    outbox: Outbox,
    /// Agents: the conversation (visitors leave it out).
    conversation: Option<ConversationId>,
    /// Visitors send their draft; agents never do.
    drafts: bool,
    sent: StoredValue<Sent>,
}

impl Typer {
    /// A typer writing to `outbox`: a visitor's (`drafts`) or an agent's in
    /// `conversation`.
    pub fn new(outbox: Outbox, conversation: Option<ConversationId>, drafts: bool) -> Self {
        Self {
            outbox,
            conversation,
            drafts,
            sent: StoredValue::new(Sent::default()),
        }
    }

    /// The composer now holds `text`: "typing" now, or once the pace
    /// allows (with the latest text then); an emptied composer is "stopped".
    pub fn input(&self, text: &str) {
        if text.trim().is_empty() {
            self.stop();
            return;
        }
        let every = f64::from(if self.drafts {
            TYPING_EVERY_MS
        } else {
            NO_DRAFT_EVERY_MS
        });
        let drafts = self.drafts;
        let wait = self.sent.try_update_value(|s| {
            s.text = text.chars().take(MAX_DRAFT_CHARS).collect();
            if s.waiting {
                return None;
            }
            let wait = s.at + every - now_ms();
            // Only a draft needs a later frame: "typing" alone was just said.
            if wait > 0.0 && !drafts {
                return None;
            }
            s.waiting = wait > 0.0;
            Some(wait)
        });
        match wait.flatten() {
            Some(wait) if wait > 0.0 => self.later(wait),
            Some(_) => self.send_now(),
            None => {}
        }
    }

    /// Sends "typing" with the text now held, if there still is one.
    fn send_now(&self) {
        let draft = self.sent.try_update_value(|s| {
            s.waiting = false;
            if s.text.is_empty() {
                return None;
            }
            s.at = now_ms();
            s.shown = true;
            Some(s.text.clone())
        });
        if let Some(Some(draft)) = draft {
            self.outbox.send(ClientMsg::Typing {
                conversation: self.conversation,
                active: true,
                draft: self.drafts.then_some(draft),
            });
        }
    }

    #[cfg(feature = "hydrate")]
    fn later(&self, wait: f64) {
        let this = *self;
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(wait.ceil() as u32).await;
            this.send_now();
        });
    }

    #[cfg(not(feature = "hydrate"))]
    fn later(&self, _wait: f64) {}

    /// Sent, or emptied: "stopped", if the other side was told "typing".
    pub fn stop(&self) {
        let shown = self.sent.try_update_value(|s| {
            s.text.clear();
            std::mem::take(&mut s.shown)
        });
        if shown == Some(true) {
            self.outbox.send(ClientMsg::Typing {
                conversation: self.conversation,
                active: false,
                draft: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::LinkStatus;

    #[test]
    fn typing_then_stopping_sends_one_frame_each_and_no_draft_for_agents() {
        let owner = Owner::new();
        owner.set();
        let outbox = Outbox::new();
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        outbox.attach(tx);
        outbox.status.set(LinkStatus::Online);
        let visitor = Typer::new(outbox, None, true);
        visitor.input("he");
        visitor.input("hel");
        visitor.stop();
        visitor.stop();
        let agent = Typer::new(outbox, Some(ConversationId(4)), false);
        agent.input("   ");
        agent.input("hi");
        let frames: Vec<ClientMsg> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            frames,
            [
                ClientMsg::Typing {
                    conversation: None,
                    active: true,
                    draft: Some("he".into())
                },
                ClientMsg::Typing {
                    conversation: None,
                    active: false,
                    draft: None
                },
                ClientMsg::Typing {
                    conversation: Some(ConversationId(4)),
                    active: true,
                    draft: None
                },
            ]
        );
    }
}
