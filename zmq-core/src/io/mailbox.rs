//! A command queue with a pollable signal (libzmq: src/mailbox.cpp).
//!
//! Any thread may send; one thread receives. The signaler is raised only when
//! a command lands in an empty queue and lowered when the receiver finds the
//! queue empty, so its descriptor is edge-triggered in libzmq's sense: it
//! stops being readable once the receiver has drained everything.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::io::signaler::{Signaler, Wait};

/// Many senders, one receiver.
#[derive(Debug)]
pub struct Mailbox<C> {
    queue: Mutex<VecDeque<C>>,
    /// A lock-free hint that commands are waiting, so the receiver's fast
    /// path can skip the lock (a stale `false` only delays, never loses).
    pending: AtomicBool,
    signaler: Signaler,
}

impl<C> Mailbox<C> {
    /// An empty mailbox.
    pub fn new() -> io::Result<Mailbox<C>> {
        Ok(Mailbox {
            queue: Mutex::new(VecDeque::new()),
            pending: AtomicBool::new(false),
            signaler: Signaler::new()?,
        })
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<C>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor that is readable while commands are pending.
    pub fn fd(&self) -> RawFd {
        self.signaler.fd()
    }

    /// Posts a command.
    pub fn send(&self, cmd: C) {
        let mut q = self.queue();
        let was_empty = q.is_empty();
        q.push_back(cmd);
        self.pending.store(true, Ordering::Release);
        drop(q);
        if was_empty {
            self.signaler.signal();
        }
    }

    /// Whether commands may be waiting (cheap; see [`Mailbox::drain_into`]).
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes every pending command (in order) into `out`; lowers the signal.
    pub fn drain_into(&self, out: &mut VecDeque<C>) {
        let mut q = self.queue();
        self.pending.store(false, Ordering::Relaxed);
        if q.is_empty() {
            // Lower the flag under the lock: a sender that posts next will
            // find the queue empty and raise it again.
            self.signaler.reset();
            return;
        }
        self.signaler.reset();
        out.append(&mut q);
    }

    /// Waits for a command until `deadline` (`None`: forever).
    pub fn wait(&self, deadline: Option<Instant>) -> Wait {
        self.signaler.wait(deadline)
    }

    /// As [`Mailbox::wait`], also ending when `other` becomes readable
    /// (see [`Signaler::wait_or`]).
    pub fn wait_or(&self, other: RawFd, deadline: Option<Instant>) -> (Wait, bool) {
        self.signaler.wait_or(other, deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn edge_triggered() {
        let m = Mailbox::new().unwrap();
        let mut out = VecDeque::new();
        assert_eq!(m.wait(Some(Instant::now())), Wait::TimedOut);
        m.send(1);
        m.send(2);
        assert_eq!(m.wait(Some(Instant::now())), Wait::Signalled);
        m.drain_into(&mut out);
        assert_eq!(out, [1, 2]);
        // Drained: the descriptor is no longer readable.
        assert_eq!(m.wait(Some(Instant::now())), Wait::TimedOut);
        m.send(3);
        assert_eq!(m.wait(Some(Instant::now())), Wait::Signalled);
    }

    #[test]
    fn many_senders() {
        let m = Arc::new(Mailbox::new().unwrap());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || (0..1000).for_each(|i| m.send(t * 1000 + i)))
            })
            .collect();
        let mut got = VecDeque::new();
        while got.len() < 4000 {
            m.wait(None);
            m.drain_into(&mut got);
        }
        threads.into_iter().for_each(|t| t.join().unwrap());
        let mut v: Vec<i32> = got.into();
        v.sort();
        assert_eq!(v, (0..4000).collect::<Vec<_>>());
    }
}
