//! The strategies socket types are built from.
//!
//! libzmq: src/fq.cpp (fair queueing: read round-robin from the pipes that
//! have messages) and src/lb.cpp (load balancing: write round-robin to the
//! pipes that have room). Both keep whole multipart messages on one pipe.

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::Pipes;

/// Takes the current pipe out of a rotation (it went asleep or away).
fn drop_current(active: &mut Vec<usize>, current: &mut usize) {
    active.swap_remove(*current);
    if *current >= active.len() {
        *current = 0;
    }
}

/// Fair queueing over the pipes that have something to read.
#[derive(Debug, Default)]
pub struct Fq {
    /// Pipes that are (believed) readable; asleep ones are removed.
    active: Vec<usize>,
    current: usize,
    /// In the middle of a multipart message from `active[current]`.
    more: bool,
}

impl Fq {
    pub fn attach(&mut self, key: usize) {
        if !self.active.contains(&key) {
            self.active.push(key);
        }
    }

    pub fn activated(&mut self, key: usize) {
        self.attach(key);
    }

    pub fn terminated(&mut self, key: usize) {
        if let Some(i) = self.active.iter().position(|&k| k == key) {
            self.active.remove(i);
            if i < self.current {
                self.current -= 1;
            } else if i == self.current {
                self.more = false;
            }
            if self.current >= self.active.len() {
                self.current = 0;
            }
        }
    }

    /// Reads the next frame, from the pipe in `*from`.
    pub fn recv_pipe(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<usize> {
        while !self.active.is_empty() {
            let key = self.active[self.current];
            if let Some(frame) = pipes[key].read() {
                self.more = frame.more();
                if !self.more {
                    self.current = (self.current + 1) % self.active.len();
                }
                *msg = frame;
                return Ok(key);
            }
            // Empty (now asleep) or closed: drop it from the rotation. A pipe
            // never runs dry in the middle of a message.
            debug_assert!(!self.more);
            drop_current(&mut self.active, &mut self.current);
        }
        Err(Error::Again)
    }

    pub fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.recv_pipe(pipes, msg).map(|_| ())
    }

    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while !self.active.is_empty() {
            let key = self.active[self.current];
            if pipes[key].check_read() {
                return true;
            }
            drop_current(&mut self.active, &mut self.current);
        }
        false
    }
}

/// Load balancing over the pipes that have room.
#[derive(Debug, Default)]
pub struct Lb {
    active: Vec<usize>,
    current: usize,
    /// In the middle of a multipart message to `active[current]`.
    more: bool,
    /// The pipe of the current message went away: drop its remaining frames.
    dropping: bool,
}

impl Lb {
    pub fn attach(&mut self, key: usize) {
        if !self.active.contains(&key) {
            self.active.push(key);
        }
    }

    pub fn activated(&mut self, key: usize) {
        self.attach(key);
    }

    pub fn terminated(&mut self, key: usize) {
        if let Some(i) = self.active.iter().position(|&k| k == key) {
            if i == self.current && self.more {
                self.dropping = true;
            }
            self.active.remove(i);
            if i < self.current {
                self.current -= 1;
            }
            if self.current >= self.active.len() {
                self.current = 0;
            }
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
        while !self.active.is_empty() {
            let key = self.active[self.current];
            if self.more || pipes[key].check_write() {
                let more = msg.more();
                match pipes[key].write(std::mem::take(msg)) {
                    Ok(()) => {
                        self.more = more;
                        if !more {
                            pipes[key].flush();
                            self.current = (self.current + 1) % self.active.len();
                        }
                        return Ok(Some(key));
                    }
                    Err(back) => {
                        *msg = back;
                        if self.more {
                            // The pipe died mid-message: drop the rest.
                            pipes[key].rollback();
                            self.more = false;
                        }
                    }
                }
            }
            drop_current(&mut self.active, &mut self.current);
        }
        Err(Error::Again)
    }

    pub fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.send_pipe(pipes, msg).map(|_| ())
    }

    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.more {
            return true;
        }
        while !self.active.is_empty() {
            let key = self.active[self.current];
            if pipes[key].check_write() {
                return true;
            }
            drop_current(&mut self.active, &mut self.current);
        }
        false
    }
}
