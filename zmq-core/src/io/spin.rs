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

/// Looks (with a pause between) before [`spin_until`] starts yielding:
/// about 1.6 µs of 25 ns pauses on this project's benchmark machine, in
/// which an inproc peer on another CPU usually answers.
const PAUSES_FIRST: u32 = 64;

/// Spins until `ready()` holds or `limit` (or `deadline`) passes; returns
/// whether `ready()` held. Does not spin on a single CPU.
///
/// It pauses only briefly, then yields the CPU between looks: the thread
/// that will make `ready()` hold (the I/O thread decoding our reply, the
/// sender filling our pipe) may be queued on this very CPU, and a thread
/// that pauses in place holds it up for the whole spin. When no other
/// thread wants the CPU, a yield returns at once.
fn spin_until(limit: Duration, deadline: Option<Instant>, ready: impl Fn() -> bool) -> bool {
    if !multi_cpu() {
        return ready();
    }
    for _ in 0..PAUSES_FIRST {
        spin_loop();
        if ready() {
            return true;
        }
    }
    yield_until(limit, deadline, ready)
}

/// As [`spin_until`] without its first pauses: yielding the CPU between
/// looks from the start, for waits on a thread that may need this very CPU
/// to make progress (on a busy machine the thread woken alongside us may be
/// queued behind us). `ready` may do work of its own (an I/O thread polls).
pub fn yield_until(
    limit: Duration,
    deadline: Option<Instant>,
    mut ready: impl FnMut() -> bool,
) -> bool {
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

/// Credit a spin that ends with work earns (up to [`CREDIT_MAX`]).
const CREDIT_WIN: i32 = 1;
/// Credit a spin that ends empty costs.
const CREDIT_LOSS: i32 = 4;
/// The most credit kept: after a long run of useful spins, two empty ones
/// in a row still pause spinning.
const CREDIT_MAX: i32 = 8;

/// Adaptive spin policy for an I/O thread ([`Spinner`]'s is for an
/// application thread): it spins while spins mostly end with work, and
/// pauses once they cost more than they save.
///
/// An I/O thread's turns often come in pairs where only the second tells:
/// it writes a request, and the spin after it ends at once with the bytes
/// looped back (or the peer's quick reply); the spin after delivering them
/// then waits for the application's next message. When that gap is longer
/// than the spin, counting failures only in a row would never pause, and
/// each spin would end just before the next message, with the CPU then
/// going idle all the same. So an empty spin costs four useful ones.
#[derive(Debug)]
pub struct IoSpinner {
    credit: i32,
    /// Sleeps left without spinning.
    paused: u32,
}

impl Default for IoSpinner {
    fn default() -> Self {
        IoSpinner {
            credit: CREDIT_LOSS,
            paused: 0,
        }
    }
}

impl IoSpinner {
    /// Runs `wait` (a bounded wait that returns whether work came) unless
    /// spinning is paused or there is one CPU; whether work came.
    pub fn spin(&mut self, wait: impl FnOnce() -> bool) -> bool {
        if !multi_cpu() {
            return false;
        }
        if self.paused > 0 {
            self.paused -= 1;
            return false;
        }
        if wait() {
            self.credit = (self.credit + CREDIT_WIN).min(CREDIT_MAX);
            return true;
        }
        self.credit -= CREDIT_LOSS;
        if self.credit <= 0 {
            self.credit = CREDIT_LOSS;
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
    fn io_spinner_pauses_when_empty_spins_outweigh_useful_ones() {
        if !multi_cpu() {
            return;
        }
        let mut s = IoSpinner::default();
        // Useful and empty spins in turn: paused after the second empty.
        let mut waits = 0;
        for ok in [true, false, true, false] {
            s.spin(|| {
                waits += 1;
                ok
            });
        }
        assert_eq!((waits, s.paused), (4, PAUSE_WAITS));
        for _ in 0..PAUSE_WAITS {
            assert!(!s.spin(|| unreachable!("paused")));
        }
        // Mostly useful spins keep it going.
        for _ in 0..20 {
            assert!(s.spin(|| true));
        }
        assert!(!s.spin(|| false));
        assert!(s.spin(|| true));
        assert_eq!(s.paused, 0);
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
