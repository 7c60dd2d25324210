//! What can end a socket besides its peer (shutdown, a revoked or expired
//! agent session) and the pace its messages are allowed.

use std::net::IpAddr;
use std::time::Instant;

use tokio::sync::broadcast;

use super::{Ctx, SESSION_CHECK};
use crate::protocol::{AgentId, ClientMsg};
use crate::server::edge::auth;
use crate::server::edge::limits::{KeyedBuckets, TokenBucket};
use crate::server::edge::security::{ClientAddr, Revoked, SecurityState};
use crate::server::shutdown::Shutdown;

/// Why a socket's reader loop ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The peer went away (or went silent).
    Gone,
    /// The server is restarting.
    Shutdown,
    /// Its outbox overflowed.
    Overflow,
    /// The agent's session ended (signed out, expired, disabled).
    Revoked,
    /// A text frame was not UTF-8 (closed with 1007, as RFC 6455 says).
    InvalidText,
}

/// An agent socket's tie to its session.
pub(super) struct Revocation<'a> {
    pub(super) rx: broadcast::Receiver<Revoked>,
    pub(super) agent: AgentId,
    pub(super) session: Vec<u8>,
    pub(super) ctx: &'a Ctx,
    /// Kept across frames, so the periodic check runs however busy the socket is.
    pub(super) check: tokio::time::Interval,
    /// When a message last marked the session used.
    pub(super) last_use: Instant,
    /// A periodic check is due (survives this future being dropped).
    pub(super) check_due: bool,
}

impl Revocation<'_> {
    /// Resolves when this socket's session ends: revoked, or found invalid
    /// by the periodic check (idle or absolute expiry).
    pub(super) async fn ended(&mut self) {
        loop {
            // A check interrupted by a frame (this future is dropped then) is
            // redone first, not lost with its tick.
            if self.check_due {
                if !self.still_valid().await {
                    return;
                }
                self.check_due = false;
            }
            tokio::select! {
                r = self.rx.recv() => match r {
                    Ok(Revoked::Session(s)) if s == self.session => return,
                    Ok(Revoked::Agent(a)) if a == self.agent => return,
                    Ok(Revoked::OtherSessions { agent, keep })
                        if agent == self.agent && keep != self.session => return,
                    Ok(_) => {}
                    // Missed revocations: look at the session instead.
                    Err(broadcast::error::RecvError::Lagged(_)) => self.check_due = true,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                },
                _ = self.check.tick() => self.check_due = true,
            }
        }
    }

    /// The agent acted (sent a message): the session counts as used, at most
    /// once a minute.
    pub(super) async fn used(&mut self) {
        if self.last_use.elapsed() >= SESSION_CHECK {
            self.last_use = Instant::now();
            let limits = &self.ctx.security.config.limits;
            let _ = auth::session_agent(&self.ctx.storage, &self.session, limits).await;
        }
    }

    pub(super) async fn still_valid(&self) -> bool {
        let limits = &self.ctx.security.config.limits;
        // A storage hiccup is not a reason to throw the agent out.
        !matches!(
            auth::check_session(&self.ctx.storage, &self.session, limits, false).await,
            Ok(None)
        )
    }
}

/// What can end a socket besides its peer.
pub(super) struct Ended<'a> {
    pub(super) shutdown: &'a Shutdown,
    /// Boxed: visitors' sockets have none, and should not carry its room.
    pub(super) revoked: Option<Box<Revocation<'a>>>,
}

/// Page views a socket may send at once…
const PAGE_VIEW_BURST: u32 = 5;
/// …and then per second (a visitor clicking through a site stays well
/// within; the widget sends at most one a second).
const PAGE_VIEW_RATE: f64 = 1.0;
/// `typing` frames one socket may send at once, beyond which they are
/// dropped unread (the hub then forwards at most 2 a second per side).
const TYPING_BURST: u32 = 8;
/// `typing` frames one socket may send per second, on average.
const TYPING_RATE: f64 = 4.0;

/// Rate limits on what a socket sends (token buckets; see docs/SECURITY.md).
pub(super) struct Pace {
    pub(super) own: TokenBucket,
    /// `page_view` frames, apart from messages: a busy site visit must not
    /// cost the visitor their messages, nor a flood of page views the server.
    pub(super) pages: TokenBucket,
    /// `typing` frames, apart from messages: typing never costs a message.
    pub(super) typing: TokenBucket,
    pub(super) addr: Option<(KeyedBuckets<IpAddr>, IpAddr)>,
    pub(super) visitor: bool,
}

impl Pace {
    pub(super) fn new(security: &SecurityState, addr: ClientAddr, visitor: bool) -> Self {
        let l = &security.config.limits;
        Self {
            own: TokenBucket::new(l.msg_burst, l.msg_rate),
            pages: TokenBucket::new(PAGE_VIEW_BURST, PAGE_VIEW_RATE),
            typing: TokenBucket::new(TYPING_BURST, TYPING_RATE),
            addr: visitor.then(|| (security.addr_messages.clone(), addr.0)),
            visitor,
        }
    }

    /// Whether a `typing` frame may be acted on now (else it is dropped).
    pub(super) fn allow_typing(&mut self) -> bool {
        self.typing.try_take(Instant::now())
    }

    /// Whether this frame may be acted on now. Sends always count; visitors'
    /// other frames count too (pings never do; page views are counted
    /// apart, once checked: see [`Pace::page_view`]).
    pub(super) fn allow(&mut self, msg: &ClientMsg) -> bool {
        let counted = match msg {
            ClientMsg::Ping | ClientMsg::PageView { .. } => false,
            // Each is stored: paced alike.
            ClientMsg::Send { .. } | ClientMsg::Note { .. } => true,
            _ => self.visitor,
        };
        !counted
            || (self.own.try_take(Instant::now())
                && self.addr.as_ref().is_none_or(|(b, ip)| b.try_take(ip)))
    }

    /// Whether a (well-formed) page view may be stored and shown now.
    pub(super) fn page_view(&mut self) -> bool {
        self.pages.try_take(Instant::now())
    }
}
