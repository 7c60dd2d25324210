//! Abuse limits: token buckets for message rates, counters for open
//! connections, and the sign-in throttle. All in memory, all bounded.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(burst: u32, rate: f64) -> Self {
        Self {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            rate,
            last: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket is full again (and so can be forgotten).
    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.burst
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One token bucket per key (e.g. per client address), forgotten once full.
#[derive(Debug, Clone)]
pub struct KeyedBuckets<K> {
    burst: u32,
    rate: f64,
    buckets: Arc<Mutex<HashMap<K, TokenBucket>>>,
}

impl<K: Eq + Hash + Clone> KeyedBuckets<K> {
    /// Buckets of `burst` tokens refilled at `rate` per second.
    pub fn new(burst: u32, rate: f64) -> Self {
        Self {
            burst,
            rate,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes a token from `key`'s bucket.
    pub fn try_take(&self, key: &K) -> bool {
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| !b.is_full(now));
        }
        buckets
            .entry(key.clone())
            .or_insert_with(|| TokenBucket::new(self.burst, self.rate))
            .try_take(now)
    }
}

/// Counts open things (connections) per key, up to a maximum.
#[derive(Debug, Clone)]
pub struct Counter<K> {
    max: u32,
    counts: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K: Eq + Hash + Clone> Counter<K> {
    /// At most `max` per key.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            counts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts one more for `key`, unless it is at the maximum; the slot frees when the permit drops.
    pub fn acquire(&self, key: K) -> Option<Permit<K>> {
        let mut counts = lock(&self.counts);
        let n = counts.entry(key.clone()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Permit {
            key,
            counts: self.counts.clone(),
        })
    }
}

/// A slot held in a [`Counter`].
#[derive(Debug)]
pub struct Permit<K: Eq + Hash> {
    key: K,
    counts: Arc<Mutex<HashMap<K, u32>>>,
}

impl<K: Eq + Hash> Drop for Permit<K> {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Failed sign-ins, per account name and per address: after `allowed`
/// failures within the window, each further attempt must wait, twice as
/// long each time (1 s, 2 s, 4 s … up to 15 min).
#[derive(Debug, Clone)]
pub struct SignInThrottle {
    allowed: u32,
    state: Arc<Mutex<HashMap<ThrottleKey, Failures>>>,
}

/// What failed sign-ins are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// An account name (lower-cased).
    Account(String),
    /// A client address.
    Addr(IpAddr),
}

#[derive(Debug, Clone)]
struct Failures {
    count: u32,
    first: Instant,
    locked_until: Instant,
}

/// Failures are forgotten this long after the first one.
const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Longest wait imposed.
const THROTTLE_MAX: Duration = Duration::from_secs(15 * 60);
/// Addresses get this many times the per-account allowance.
const PER_ADDR_FACTOR: u32 = 4;

impl SignInThrottle {
    /// `allowed` failures per account (and 4× per address) before waits start.
    pub fn new(allowed: u32) -> Self {
        Self {
            allowed,
            state: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn allowance(&self, key: &ThrottleKey) -> u32 {
        match key {
            ThrottleKey::Account(_) => self.allowed,
            ThrottleKey::Addr(_) => self.allowed.saturating_mul(PER_ADDR_FACTOR),
        }
    }

    /// How long the caller must still wait before trying, if at all.
    pub fn wait(&self, keys: &[ThrottleKey]) -> Option<Duration> {
        let now = Instant::now();
        let state = lock(&self.state);
        keys.iter()
            .filter_map(|k| state.get(k))
            .filter(|f| now.duration_since(f.first) < THROTTLE_WINDOW)
            .map(|f| f.locked_until.saturating_duration_since(now))
            .filter(|d| !d.is_zero())
            .max()
    }

    /// Records a failed attempt.
    pub fn failed(&self, keys: &[ThrottleKey]) {
        let now = Instant::now();
        let mut state = lock(&self.state);
        if state.len() > 10_000 {
            state.retain(|_, f| now.duration_since(f.first) < THROTTLE_WINDOW);
        }
        for key in keys {
            let allowance = self.allowance(key);
            let f = state.entry(key.clone()).or_insert(Failures {
                count: 0,
                first: now,
                locked_until: now,
            });
            if now.duration_since(f.first) >= THROTTLE_WINDOW {
                *f = Failures {
                    count: 0,
                    first: now,
                    locked_until: now,
                };
            }
            f.count += 1;
            if f.count >= allowance {
                let doublings = (f.count - allowance).min(10);
                let wait = Duration::from_secs(1u64 << doublings).min(THROTTLE_MAX);
                f.locked_until = now + wait;
            }
        }
    }

    /// Clears an account after a successful sign-in.
    pub fn succeeded(&self, account: &ThrottleKey) {
        lock(&self.state).remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(3, 2.0);
        assert!(b.try_take(t0) && b.try_take(t0) && b.try_take(t0));
        assert!(!b.try_take(t0));
        assert!(b.try_take(t0 + Duration::from_millis(500)));
        assert!(!b.try_take(t0 + Duration::from_millis(500)));
    }

    #[test]
    fn counter_frees_slots_when_permits_drop() {
        let c = Counter::new(2);
        let a = c.acquire("x").expect("first");
        let _b = c.acquire("x").expect("second");
        assert!(c.acquire("x").is_none());
        assert!(c.acquire("y").is_some());
        drop(a);
        assert!(c.acquire("x").is_some());
    }

    #[test]
    fn throttle_starts_after_the_allowance_and_grows() {
        let t = SignInThrottle::new(2);
        let keys = [ThrottleKey::Account("ann".into())];
        t.failed(&keys);
        assert!(t.wait(&keys).is_none());
        t.failed(&keys);
        let first = t.wait(&keys).expect("locked after 2 failures");
        t.failed(&keys);
        let second = t.wait(&keys).expect("still locked");
        assert!(second > first);
        t.succeeded(&keys[0]);
        assert!(t.wait(&keys).is_none());
    }
}
