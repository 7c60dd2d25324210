//! Graceful shutdown: on SIGTERM every socket is told the server is
//! restarting (close code 1012) after the frame it is handling, and the
//! process waits (bounded) for them to finish before it exits.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Debug)]
struct Inner {
    /// Set once, by `begin`.
    down: AtomicBool,
    /// Wakes every `wait_begun` (every idle socket waits on it).
    begun: Notify,
    live: AtomicUsize,
    drained: Notify,
}

/// Tells sockets to wind down and counts those still open.
#[derive(Clone, Debug)]
pub struct Shutdown(Arc<Inner>);

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// Not shutting down, no sockets.
    pub fn new() -> Self {
        Self(Arc::new(Inner {
            down: AtomicBool::new(false),
            begun: Notify::new(),
            live: AtomicUsize::new(0),
            drained: Notify::new(),
        }))
    }

    /// Starts the shutdown: every socket finishes its current frame and closes.
    pub fn begin(&self) {
        self.0.down.store(true, Ordering::Release);
        self.0.begun.notify_waiters();
    }

    /// Whether the shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.0.down.load(Ordering::Acquire)
    }

    /// Resolves once the shutdown has begun.
    pub async fn wait_begun(&self) {
        let begun = self.0.begun.notified();
        tokio::pin!(begun);
        // Registered before the flag is read, so a `begin` in between is not missed.
        begun.as_mut().enable();
        if self.is_shutting_down() {
            return;
        }
        begun.await;
    }

    /// Counts a socket as open until the guard drops.
    pub fn guard(&self) -> SocketGuard {
        self.0.live.fetch_add(1, Ordering::SeqCst);
        SocketGuard(self.clone())
    }

    /// Sockets still open.
    pub fn live(&self) -> usize {
        self.0.live.load(Ordering::SeqCst)
    }

    /// Waits until every socket has closed, at most `max`.
    pub async fn drained(&self, max: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.0.drained.notified();
                if self.live() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(max, wait).await.is_ok()
    }
}

/// Held by each socket task; see [`Shutdown::guard`].
#[derive(Debug)]
pub struct SocketGuard(Shutdown);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if self.0 .0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0 .0.drained.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drained_waits_for_every_guard() {
        let s = Shutdown::new();
        let a = s.guard();
        let b = s.guard();
        assert!(!s.drained(Duration::from_millis(20)).await);
        drop(a);
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.drained(Duration::from_secs(2)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(b);
        assert!(waiter.await.expect("joins"));
        s.begin();
        assert!(s.is_shutting_down());
        s.wait_begun().await;
    }
}
