//! Bounded, adaptive spinning before a thread goes to sleep.
//!
//! Waking a sleeping thread costs tens of microseconds on a busy or
//! virtualised machine; a peer that answers within a few microseconds (an
//! inproc REP, a receiver that has just drained its pipe while the sender is
//! still writing) is better waited for on the CPU. A [`Spinner`] watches a
//! cheap readiness check for at most [`SPIN_LIMIT`] before its owner blocks,
//! and stops spinning when spins keep failing, so a thread whose waits are
//! long (an idle server, a peer across a slow network) only pays a sampled
//! spin now and then, never one per wait.
//!
//! Spinning is off on a single-CPU machine, where the spinner would only
//! delay the very thread it waits for.

use std::hint::spin_loop;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest a thread spins before it sleeps.
pub const SPIN_LIMIT: Duration = Duration::from_micros(20);

/// Failed spins in a row after which spinning pauses.
const FAILS_TO_PAUSE: u32 = 4;

/// Waits that go straight to sleep while spinning is paused.
const PAUSE_WAITS: u32 = 64;

/// Whether more than one CPU is available to this process.
fn multi_cpu() -> bool {
    static MULTI: OnceLock<bool> = OnceLock::new();
    *MULTI.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// When a wait of at most `limit` that starts now ends, given `deadline`.
fn wait_end(limit: Duration, deadline: Option<Instant>) -> Instant {
    let end = Instant::now() + limit;
    deadline.map_or(end, |d| d.min(end))
}

/// Spins until `ready()` holds or `limit` (or `deadline`) passes; returns
/// whether `ready()` held. Does not spin on a single CPU.
fn spin_until(limit: Duration, deadline: Option<Instant>, ready: impl Fn() -> bool) -> bool {
    if !multi_cpu() {
        return ready();
    }
    let end = wait_end(limit, deadline);
    loop {
        for _ in 0..64 {
            spin_loop();
            if ready() {
                return true;
            }
        }
        if Instant::now() >= end {
            return false;
        }
    }
}

/// As [`spin_until`], but yielding the CPU between looks: for waits on a
/// thread that may need this very CPU to make progress (on a busy machine
/// the thread woken alongside us may be queued behind us).
pub fn yield_until(limit: Duration, deadline: Option<Instant>, ready: impl Fn() -> bool) -> bool {
    let end = wait_end(limit, deadline);
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::yield_now();
    }
}

/// Adaptive spin state: one per waiting thread's object (a socket).
#[derive(Debug, Default)]
pub struct Spinner {
    /// Consecutive spins that ended without the event.
    fails: u32,
    /// Waits left to sleep without spinning.
    paused: u32,
}

impl Spinner {
    /// Spins until `ready()` holds, `SPIN_LIMIT` or `deadline` passes, or
    /// the spinner is paused. Returns whether `ready()` held.
    #[inline]
    pub fn spin(&mut self, deadline: Option<Instant>, ready: impl Fn() -> bool) -> bool {
        if ready() {
            return true;
        }
        if self.paused > 0 {
            self.paused -= 1;
            return false;
        }
        if spin_until(SPIN_LIMIT, deadline, &ready) {
            self.fails = 0;
            return true;
        }
        if !multi_cpu() {
            return false;
        }
        self.fails += 1;
        if self.fails >= FAILS_TO_PAUSE {
            self.fails = 0;
            self.paused = PAUSE_WAITS;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn ready_at_once_is_no_spin() {
        let mut s = Spinner::default();
        assert!(s.spin(None, || true));
    }

    #[test]
    fn failures_pause_spinning_then_it_resumes() {
        let mut s = Spinner::default();
        for _ in 0..FAILS_TO_PAUSE {
            let t = Instant::now();
            assert!(!s.spin(None, || false));
            if multi_cpu() {
                assert!(t.elapsed() >= SPIN_LIMIT);
            }
        }
        if !multi_cpu() {
            return;
        }
        assert_eq!(s.paused, PAUSE_WAITS);
        for _ in 0..PAUSE_WAITS {
            let t = Instant::now();
            assert!(!s.spin(None, || false));
            assert!(t.elapsed() < SPIN_LIMIT, "paused: no spin");
        }
        let t = Instant::now();
        assert!(!s.spin(None, || false));
        assert!(t.elapsed() >= SPIN_LIMIT, "spinning resumed");
    }

    #[test]
    fn a_past_deadline_bounds_the_spin() {
        let mut s = Spinner::default();
        assert!(!s.spin(Some(Instant::now()), || false));
    }

    #[test]
    fn sees_another_threads_event() {
        if !multi_cpu() {
            return;
        }
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = flag.clone();
        let mut s = Spinner::default();
        // Bounded: the spin either sees the flag or gives up after the limit.
        let t = std::thread::spawn(move || f2.store(true, Ordering::Release));
        let mut seen = false;
        for _ in 0..10_000 {
            if s.spin(None, || flag.load(Ordering::Acquire)) {
                seen = true;
                break;
            }
        }
        t.join().unwrap();
        assert!(seen);
    }
}
