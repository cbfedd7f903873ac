//! A pollable wake-up flag on an eventfd (libzmq: src/signaler.cpp).
//!
//! The descriptor is what `ZMQ_FD` returns: readable while a signal is
//! pending, not readable once [`Signaler::reset`] has consumed it. Created
//! `EFD_CLOEXEC | EFD_NONBLOCK`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::sys::syscall;

/// An eventfd used as a level flag: signalled or not.
#[derive(Debug)]
pub struct Signaler {
    fd: OwnedFd,
}

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Wait {
    /// The signaler is (or became) signalled.
    Signalled,
    /// The timeout passed.
    TimedOut,
    /// A signal handler ran (`EINTR`).
    Interrupted,
}

impl Signaler {
    /// A new, unsignalled signaler.
    pub fn new() -> io::Result<Signaler> {
        let fd = syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
        // SAFETY: eventfd returned a fresh descriptor that we now own.
        Ok(Signaler {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// The descriptor to poll for `POLLIN`.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Raises the flag.
    pub fn signal(&self) {
        let one: u64 = 1;
        loop {
            let rc = syscall!(write(self.fd(), (&one as *const u64).cast(), 8));
            match rc {
                Ok(_) => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The counter is saturated: it is signalled already.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => panic!("eventfd write failed: {e}"),
            }
        }
    }

    /// Lowers the flag; returns whether it was raised.
    pub fn reset(&self) -> bool {
        let mut value: u64 = 0;
        loop {
            match syscall!(read(self.fd(), (&mut value as *mut u64).cast(), 8)) {
                Ok(_) => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }

    /// Waits until the flag is raised, the deadline passes (`None`: forever) or
    /// a signal handler runs. Does not lower the flag.
    pub fn wait(&self, deadline: Option<Instant>) -> Wait {
        self.wait_or(-1, deadline).0
    }

    /// As [`Signaler::wait`], also ending when `other` (if not negative)
    /// becomes readable or fails; the flag says whether it did.
    pub fn wait_or(&self, other: RawFd, deadline: Option<Instant>) -> (Wait, bool) {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    0
                } else {
                    // Round up so that we never wake before the deadline.
                    (left + Duration::from_nanos(999_999))
                        .as_millis()
                        .min(i32::MAX as u128) as i32
                }
            }
        };
        let mut pfds = [
            libc::pollfd {
                fd: self.fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: other,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let n = if other < 0 { 1 } else { 2 };
        match syscall!(poll(pfds.as_mut_ptr(), n, timeout_ms)) {
            Ok(0) => (Wait::TimedOut, false),
            Ok(_) if pfds[0].revents == 0 => (Wait::TimedOut, true),
            Ok(_) => (Wait::Signalled, pfds[1].revents != 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => (Wait::Interrupted, false),
            Err(e) => panic!("poll on eventfd failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_reset_cycle() {
        let s = Signaler::new().unwrap();
        assert_eq!(s.wait(Some(Instant::now())), Wait::TimedOut);
        s.signal();
        s.signal();
        assert_eq!(s.wait(None), Wait::Signalled);
        assert!(s.reset());
        assert!(!s.reset());
        assert_eq!(
            s.wait(Some(Instant::now() + Duration::from_millis(5))),
            Wait::TimedOut
        );
    }

    #[test]
    fn wait_or_reports_the_other_descriptor() {
        let s = Signaler::new().unwrap();
        let other = Signaler::new().unwrap();
        let soon = || Some(Instant::now() + Duration::from_millis(5));
        assert_eq!(s.wait_or(other.fd(), soon()), (Wait::TimedOut, false));
        other.signal();
        assert_eq!(s.wait_or(other.fd(), None), (Wait::TimedOut, true));
        s.signal();
        assert_eq!(s.wait_or(other.fd(), None), (Wait::Signalled, true));
        other.reset();
        assert_eq!(s.wait_or(other.fd(), None), (Wait::Signalled, false));
        // No other descriptor: as `wait`.
        assert_eq!(s.wait_or(-1, None), (Wait::Signalled, false));
    }

    #[test]
    fn cross_thread_wake() {
        let s = std::sync::Arc::new(Signaler::new().unwrap());
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.signal());
        assert_eq!(s.wait(None), Wait::Signalled);
        t.join().unwrap();
    }
}
