//! A registered socket's reader: frames decoded and acted on, `send`s
//! pipelined (queued for storage while the next frame is read) and
//! acknowledged in the order sent.

use futures::stream::FuturesOrdered;
use futures::StreamExt;
use tokio::sync::oneshot;

use super::guards::{End, Ended, Pace};
use super::{decode, read_error, Frames, IDLE_TIMEOUT, MAX_IN_FLIGHT};
use crate::profile::{clean_email, clean_profile_name};
use crate::protocol::{
    check_text, ClientMsg, ConversationId, ErrorCode, MessageId, ServerMsg, TextProblem,
    MAX_DRAFT_CHARS, MAX_MESSAGE_ID_LEN,
};
use crate::server::edge::visits::check_page_view;
use crate::server::hub::{Conn, Hub, Peer, Submitted};
use crate::server::site::Site;
use crate::server::storage::NewMessage;

/// Checks a `send`'s id and text: the error for the sender, if any. An id
/// holding a NUL character is refused: no database text column (PostgreSQL's
/// least of all) keeps one.
fn check_send(id: &MessageId, text: &str) -> Option<ServerMsg> {
    let code = if id.0.is_empty() || id.0.len() > MAX_MESSAGE_ID_LEN || id.0.contains('\0') {
        ErrorCode::BadMessageId
    } else {
        match check_text(text) {
            Ok(()) => return None,
            Err(TextProblem::Blank) => ErrorCode::EmptyText,
            Err(TextProblem::TooLong) => ErrorCode::TextTooLong,
        }
    };
    Some(ServerMsg::error(code, Some(id.clone())))
}

/// A text as stored: NUL characters, which no database text column keeps
/// (and no one types), are left out.
fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

/// A transfer's note for the receiver: a blank one is left out, an
/// over-long one refuses the transfer.
fn check_transfer_note(note: Option<String>) -> Result<Option<String>, ErrorCode> {
    match note {
        Some(text) => match check_text(&text) {
            Ok(()) => Ok(Some(text)),
            Err(TextProblem::Blank) => Ok(None),
            Err(TextProblem::TooLong) => Err(ErrorCode::TextTooLong),
        },
        None => Ok(None),
    }
}

/// A field of a `profile` as stored: `None` unchanged, `Some(None)` cleared.
type ProfileField = Option<Option<String>>;

/// Checks a `profile`'s name, then its email (the first refusal's code).
fn check_profile(
    name: Option<String>,
    email: Option<String>,
) -> Result<(ProfileField, ProfileField), ErrorCode> {
    let name = name.as_deref().map(clean_profile_name).transpose()?;
    let email = email.as_deref().map(clean_email).transpose()?;
    Ok((name, email))
}

/// The reader loop after `hello`. Messages (`send`) are pipelined: each is
/// queued for storage and the next frame is read at once, with up to
/// [`MAX_IN_FLIGHT`] waiting for their commit. The writer's announcer
/// delivers and acknowledges them in the order they were queued; whatever
/// else this socket is told about a `send` (a refusal) and every other
/// frame first waits until the messages before it were answered. Whatever
/// ends the loop, messages already queued are still delivered.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve<S: Frames>(
    stream: &mut S,
    conn: &Conn,
    hub: &Hub,
    site: &Site,
    peer: &Peer,
    mut ended: Ended<'_>,
    pace: &mut Pace,
) -> End {
    let mut in_flight = InFlight::new();
    let end = read_loop(
        stream,
        conn,
        hub,
        site,
        peer,
        &mut ended,
        pace,
        &mut in_flight,
    )
    .await;
    drain(&mut in_flight).await;
    end
}

/// Messages queued for storage, each resolving once it was answered.
/// They are answered in the order queued: this only counts them and waits.
type InFlight = FuturesOrdered<oneshot::Receiver<()>>;

/// Waits until every message queued before was answered.
async fn drain(in_flight: &mut InFlight) {
    while in_flight.next().await.is_some() {}
}

#[allow(clippy::too_many_arguments)]
async fn read_loop<S: Frames>(
    stream: &mut S,
    conn: &Conn,
    hub: &Hub,
    site: &Site,
    peer: &Peer,
    ended: &mut Ended<'_>,
    pace: &mut Pace,
    in_flight: &mut InFlight,
) -> End {
    let mut deadline = tokio::time::Instant::now() + IDLE_TIMEOUT;
    loop {
        let revoked = async {
            match ended.revoked.as_mut() {
                Some(r) => Box::pin(r.ended()).await,
                None => std::future::pending().await,
            }
        };
        let frame = tokio::select! {
            biased;
            Some(_) = in_flight.next(), if !in_flight.is_empty() => continue,
            frame = tokio::time::timeout_at(deadline, stream.next()),
                if in_flight.len() < MAX_IN_FLIGHT => match frame {
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(e))) => return read_error(&e),
                _ => return End::Gone,
            },
            _ = ended.shutdown.wait_begun() => return End::Shutdown,
            _ = conn.overflowed() => {
                tracing::debug!("closing a socket that could not keep up");
                return End::Overflow;
            }
            _ = revoked => return End::Revoked,
        };
        deadline = tokio::time::Instant::now() + IDLE_TIMEOUT;
        let msg = match decode(frame, conn) {
            Ok(Some(msg)) => msg,
            Ok(None) => continue,
            Err(()) => return End::Gone,
        };
        // Typing is never stored and waits for nothing: passed on at once
        // (or dropped over its pace), beside the messages in flight.
        if let ClientMsg::Typing {
            conversation,
            active,
            draft,
        } = msg
        {
            typing(conn, hub, site, peer, pace, conversation, active, draft);
            continue;
        }
        if !pace.allow(&msg) {
            let id = match msg {
                ClientMsg::Send { id, .. } => Some(id),
                _ => None,
            };
            drain(in_flight).await;
            conn.reply(&ServerMsg::error(ErrorCode::SlowDown, id));
            continue;
        }
        Box::pin(handle(msg, conn, hub, peer, ended, pace, in_flight)).await;
    }
}

/// Acts on one frame. A `send` is pipelined: queued for storage, its
/// answer awaited in `in_flight` (or, refused, answered once the sends
/// before it were). Every other frame first waits until the sends before
/// it were answered.
async fn handle(
    msg: ClientMsg,
    conn: &Conn,
    hub: &Hub,
    peer: &Peer,
    ended: &mut Ended<'_>,
    pace: &mut Pace,
    in_flight: &mut InFlight,
) {
    if !matches!(msg, ClientMsg::Send { .. }) {
        drain(in_flight).await;
    }
    let wrong_role = || ServerMsg::error(ErrorCode::WrongRole, None);
    match (msg, peer) {
        (
            ClientMsg::Send {
                id,
                conversation,
                text,
                resend,
            },
            _,
        ) => {
            if let Some(r) = ended.revoked.as_mut() {
                Box::pin(r.used()).await;
            }
            match Box::pin(submit(conn, hub, peer, id, text, resend, conversation)).await {
                Submitted::Queued(answered) => in_flight.push_back(answered),
                Submitted::Refused(error) => {
                    drain(in_flight).await;
                    conn.send(&error).await;
                }
                Submitted::NeedsConversation(visitor, msg) => {
                    drain(in_flight).await;
                    Box::pin(hub.open_and_post(visitor, conn, msg)).await;
                }
            }
        }
        (ClientMsg::Ping, _) => conn.send(&ServerMsg::Pong).await,
        (ClientMsg::Hello { .. }, _) => {
            conn.send(&ServerMsg::error(ErrorCode::BadFrame, None))
                .await
        }
        (ClientMsg::Start, Peer::Visitor(v)) => hub.visitor_start(*v, conn).await,
        (ClientMsg::Read { conversation, seq }, Peer::Agent(a)) => {
            hub.read(a, conversation, seq).await
        }
        (ClientMsg::Read { conversation, seq }, Peer::Visitor(v)) => {
            hub.visitor_read(*v, conversation, seq).await
        }
        // Handled in the reader loop, without waiting.
        (ClientMsg::Typing { .. }, _) => {}
        (ClientMsg::Close { conversation }, Peer::Agent(a)) => {
            hub.close(a, conversation, conn).await
        }
        (ClientMsg::Profile { name, email }, Peer::Visitor(v)) => {
            match check_profile(name, email) {
                Ok((name, email)) => hub.set_profile(*v, name, email, conn).await,
                Err(code) => conn.send(&ServerMsg::error(code, None)).await,
            }
        }
        (
            ClientMsg::PageView {
                url,
                title,
                referrer,
                time_zone,
                utc_offset,
            },
            Peer::Visitor(v),
        ) => match check_page_view(url, title, referrer, time_zone, utc_offset) {
            Ok(view) if pace.page_view() => hub.page_view(*v, view, conn).await,
            // Over their own limit, page views are dropped unanswered: a
            // flood gets no flood of refusals back.
            Ok(_) => {}
            Err(code) => conn.send(&ServerMsg::error(code, None)).await,
        },
        (
            ClientMsg::Note {
                id,
                conversation,
                text,
                ..
            },
            Peer::Agent(a),
        ) => {
            let text = without_nul(text);
            match check_send(&id, &text) {
                Some(error) => conn.send(&error).await,
                None => hub.note(a, conn, conversation, id, text).await,
            }
        }
        (
            ClientMsg::Transfer {
                conversation,
                to,
                note,
            },
            Peer::Agent(a),
        ) => match check_transfer_note(note) {
            Ok(note) => hub.transfer(a, conversation, to, note, conn).await,
            Err(code) => conn.send(&ServerMsg::error(code, None)).await,
        },
        (
            ClientMsg::Rate {
                conversation,
                score,
                comment,
            },
            Peer::Visitor(v),
        ) => hub.rate(*v, conversation, score, comment, conn).await,
        (ClientMsg::Start, Peer::Agent(_))
        | (ClientMsg::Rate { .. }, Peer::Agent(_))
        | (ClientMsg::PageView { .. }, Peer::Agent(_))
        | (ClientMsg::Profile { .. }, Peer::Agent(_))
        | (ClientMsg::Note { .. }, Peer::Visitor(_))
        | (ClientMsg::Transfer { .. }, Peer::Visitor(_))
        | (ClientMsg::Close { .. }, Peer::Visitor(_)) => conn.send(&wrong_role()).await,
    }
}

/// Passes a `typing` frame to the conversation's other side: an agent's
/// without any draft, a visitor's with theirs only while the site's admins
/// allow draft previews. An over-long draft is refused with
/// `text_too_long`, an agent's frame without a conversation with
/// `bad_frame`; frames over the socket's typing pace are dropped unread.
#[allow(clippy::too_many_arguments)]
fn typing(
    conn: &Conn,
    hub: &Hub,
    site: &Site,
    peer: &Peer,
    pace: &mut Pace,
    conversation: Option<ConversationId>,
    active: bool,
    draft: Option<String>,
) {
    let too_long = draft
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_DRAFT_CHARS);
    match peer {
        Peer::Visitor(_) if too_long => {
            conn.reply(&ServerMsg::error(ErrorCode::TextTooLong, None));
        }
        Peer::Agent(_) if conversation.is_none() => {
            conn.reply(&ServerMsg::error(ErrorCode::BadFrame, None));
        }
        _ if !pace.allow_typing() => {}
        Peer::Visitor(v) => {
            let draft = draft.filter(|_| site.get().draft_preview);
            hub.visitor_typing(*v, active, draft);
        }
        Peer::Agent(a) => {
            if let Some(c) = conversation {
                hub.agent_typing(a.id, c, active);
            }
        }
    }
}

/// Checks a `send` and hands it to the hub as the one [`NewMessage`] it
/// stays until it is stored.
async fn submit(
    conn: &Conn,
    hub: &Hub,
    peer: &Peer,
    id: MessageId,
    text: String,
    resend: bool,
    conversation: Option<ConversationId>,
) -> Submitted {
    let text = without_nul(text);
    // Checks in the order docs/PROTOCOL.md gives: an agent names the
    // conversation, then the id, then the text.
    match peer {
        Peer::Visitor(v) => match check_send(&id, &text) {
            Some(error) => Submitted::Refused(error),
            None => {
                let msg = NewMessage::from_visitor(id, text, resend);
                hub.visitor_submit(*v, conn, msg).await
            }
        },
        Peer::Agent(a) => match (conversation, check_send(&id, &text)) {
            (None, _) => Submitted::Refused(ServerMsg::error(ErrorCode::BadFrame, Some(id))),
            (Some(_), Some(error)) => Submitted::Refused(error),
            (Some(c), None) => {
                let msg = NewMessage::from_agent(a, id, text, resend);
                hub.agent_submit(a, conn, c, msg).await
            }
        },
    }
}
