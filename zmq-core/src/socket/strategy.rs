//! The strategies socket types are built from.
//!
//! libzmq: src/fq.cpp (fair queueing: read round-robin from the pipes that
//! have messages) and src/lb.cpp (load balancing: write round-robin to the
//! pipes that have room). Both keep whole multipart messages on one pipe.

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::Pipe;
use crate::socket::Pipes;

/// The pipes taking turns, and whose turn it is. Pipes that went asleep (or
/// away) leave the rotation and rejoin when activated.
#[derive(Debug, Default)]
struct Rotation {
    active: Vec<usize>,
    current: usize,
}

impl Rotation {
    fn attach(&mut self, key: usize) {
        if !self.active.contains(&key) {
            self.active.push(key);
        }
    }

    /// Removes a pipe; returns whether it was the current one.
    fn remove(&mut self, key: usize) -> bool {
        let Some(i) = self.active.iter().position(|&k| k == key) else {
            return false;
        };
        self.active.remove(i);
        let was_current = i == self.current;
        if i < self.current {
            self.current -= 1;
        }
        if self.current >= self.active.len() {
            self.current = 0;
        }
        was_current
    }

    /// The current pipe, if any.
    fn current(&self) -> Option<usize> {
        self.active.get(self.current).copied()
    }

    /// Passes the turn to the next pipe.
    fn advance(&mut self) {
        // A compare, not a division: this runs once per message.
        self.current += 1;
        if self.current >= self.active.len() {
            self.current = 0;
        }
    }

    /// Takes the current pipe out (it went asleep or away).
    fn drop_current(&mut self) {
        self.active.swap_remove(self.current);
        if self.current >= self.active.len() {
            self.current = 0;
        }
    }

    /// Whether some pipe is `ready`, dropping those that are not on the way.
    fn any_ready(&mut self, mut ready: impl FnMut(usize) -> bool) -> bool {
        while let Some(key) = self.current() {
            if ready(key) {
                return true;
            }
            self.drop_current();
        }
        false
    }
}

/// Fair queueing over the pipes that have something to read.
#[derive(Debug, Default)]
pub struct Fq {
    rotation: Rotation,
    /// In the middle of a multipart message from the current pipe.
    more: bool,
}

impl Fq {
    pub fn attach(&mut self, key: usize) {
        self.rotation.attach(key);
    }

    pub fn activated(&mut self, key: usize) {
        self.rotation.attach(key);
    }

    pub fn terminated(&mut self, key: usize) {
        if self.rotation.remove(key) {
            self.more = false;
        }
    }

    /// Reads the next frame; returns the pipe it came from.
    pub fn recv_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        while let Some(key) = self.rotation.current() {
            // A small frame is built in `msg` itself; others are moved in.
            let more = pipes[key].read_small_into(msg).or_else(|| {
                let frame = pipes[key].read()?;
                *msg = frame;
                Some(msg.more())
            });
            if let Some(more) = more {
                self.more = more;
                if !more {
                    self.rotation.advance();
                }
                return Ok(key);
            }
            // Empty (now asleep) or closed: drop it from the rotation. A pipe
            // never runs dry in the middle of a message.
            debug_assert!(!self.more);
            self.rotation.drop_current();
        }
        Err(Error::Again)
    }

    pub fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.recv_pipe(pipes, msg).map(|_| ())
    }

    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.more || self.rotation.any_ready(|key| pipes[key].check_read())
    }
}

/// Load balancing over the pipes that have room.
#[derive(Debug, Default)]
pub struct Lb {
    rotation: Rotation,
    /// In the middle of a multipart message to the current pipe.
    more: bool,
    /// The pipe of the current message went away: drop its remaining frames.
    dropping: bool,
}

impl Lb {
    pub fn attach(&mut self, key: usize) {
        self.rotation.attach(key);
    }

    pub fn activated(&mut self, key: usize) {
        self.rotation.attach(key);
    }

    pub fn terminated(&mut self, key: usize) {
        if self.rotation.remove(key) && self.more {
            self.dropping = true;
        }
    }

    /// Sends a frame; reports the pipe used.
    pub fn send_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<Option<usize>> {
        if self.dropping {
            self.more = msg.more();
            self.dropping = self.more;
            *msg = Msg::new();
            return Ok(None);
        }
        while let Some(key) = self.rotation.current() {
            let pipe = &mut pipes[key];
            if self.more || pipe.check_write() {
                let more = msg.more();
                // A small single frame goes as bytes from where it lies;
                // others are moved in.
                let written = pipe.write_small(msg) || write_moved(pipe, msg);
                if written {
                    self.more = more;
                    if !more {
                        pipe.flush();
                        self.rotation.advance();
                    }
                    return Ok(Some(key));
                }
                if self.more {
                    // The pipe died mid-message: drop the rest.
                    pipe.rollback();
                    self.more = false;
                }
            }
            self.rotation.drop_current();
        }
        Err(Error::Again)
    }

    pub fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.send_pipe(pipes, msg).map(|_| ())
    }

    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.more || self.rotation.any_ready(|key| pipes[key].check_write())
    }
}

/// Moves `msg` into `pipe` ([`Pipe::write`]); on failure it stays in `msg`.
/// Out of line: small single frames take [`Pipe::write_small`] instead.
#[inline(never)]
fn write_moved(pipe: &mut Pipe, msg: &mut Msg) -> bool {
    match pipe.write(std::mem::take(msg)) {
        Ok(()) => true,
        Err(back) => {
            *msg = back;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_turns_across_removal() {
        let mut r = Rotation::default();
        for k in [1, 2, 3] {
            r.attach(k);
        }
        r.advance();
        assert_eq!(r.current(), Some(2));
        assert!(!r.remove(1));
        assert_eq!(r.current(), Some(2));
        assert!(r.remove(2));
        assert_eq!(r.current(), Some(3));
        assert!(r.any_ready(|k| k == 3));
        assert!(!r.any_ready(|_| false));
        assert_eq!(r.current(), None);
    }
}

/// Distribution to a set of pipes (libzmq: src/dist.cpp). A pipe without
/// room at the start of a message loses the whole message; the sender never
/// blocks. The pipes taking a message are fixed at its first frame.
#[derive(Debug, Default)]
pub struct Dist {
    pipes: Vec<usize>,
    /// The pipes taking the message in progress.
    current: Vec<usize>,
    more: bool,
}

impl Dist {
    pub fn attach(&mut self, key: usize) {
        if !self.pipes.contains(&key) {
            self.pipes.push(key);
        }
    }

    pub fn terminated(&mut self, key: usize) {
        self.pipes.retain(|&k| k != key);
        self.current.retain(|&k| k != key);
    }

    /// Whether `key` is one of the pipes.
    pub fn has_pipe(&self, key: usize) -> bool {
        self.pipes.contains(&key)
    }

    /// All the pipes.
    pub fn pipes(&self) -> &[usize] {
        &self.pipes
    }

    /// Sends a frame; at the first frame of a message, `select` puts the
    /// pipes that should take it into the vector it is given (repeats are
    /// fine) and those with room are kept for the whole message.
    pub fn send(
        &mut self,
        pipes: &mut Pipes,
        msg: &mut Msg,
        select: impl FnOnce(&[usize], &mut Vec<usize>),
    ) {
        if !self.more {
            self.current.clear();
            select(&self.pipes, &mut self.current);
            self.current.sort_unstable();
            self.current.dedup();
            self.current.retain(|&key| pipes[key].check_write());
        }
        let more = msg.more();
        let msg = std::mem::take(msg);
        let n = self.current.len();
        let mut msg = Some(msg);
        for (i, &key) in self.current.iter().enumerate() {
            let frame = if i + 1 == n {
                msg.take().expect("last pipe takes the original")
            } else {
                msg.as_mut().expect("kept until the last").share()
            };
            if pipes[key].write(frame).is_ok() && !more {
                pipes[key].flush();
            }
        }
        self.more = more;
    }

    /// Sends a frame to every pipe.
    pub fn send_to_all(&mut self, pipes: &mut Pipes, msg: &mut Msg) {
        self.send(pipes, msg, |all, out| out.extend_from_slice(all));
    }
}
