//! `zmq_proxy`: forwards messages between two sockets (libzmq: src/proxy.cpp).
//!
//! Whole multipart messages move in each direction; with a capture socket,
//! every frame is also copied there (sharing its body). The proxy runs until
//! the context terminates (`Term`) or a signal interrupts its wait.

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::{events, send_flags, Socket};

/// Moves one whole message from `from` to `to`, copying it to `capture`.
fn forward(from: &mut Socket, to: &mut Socket, capture: &mut Option<&mut Socket>) -> Result<()> {
    loop {
        let mut msg = Msg::new();
        from.recv(&mut msg, send_flags::DONTWAIT)?;
        let more = msg.more();
        let flags = if more { send_flags::SNDMORE } else { 0 };
        if let Some(c) = capture.as_deref_mut() {
            let mut copy = msg.share();
            c.send(&mut copy, flags)?;
        }
        to.send(&mut msg, flags)?;
        if !more {
            return Ok(());
        }
    }
}

/// Waits until one of `fds` is readable. Errors: `Interrupted`.
fn wait(fds: &[i32]) -> Result<()> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    crate::sys::poll(&mut pfds, -1).map_err(Error::from)?;
    Ok(())
}

/// Runs a proxy between `frontend` and `backend`.
pub fn proxy(
    frontend: &mut Socket,
    backend: &mut Socket,
    mut capture: Option<&mut Socket>,
) -> Result<()> {
    loop {
        let mut moved = false;
        if frontend.ready_events()? & events::POLLIN != 0 {
            forward(frontend, backend, &mut capture)?;
            moved = true;
        }
        if backend.ready_events()? & events::POLLIN != 0 {
            forward(backend, frontend, &mut capture)?;
            moved = true;
        }
        if !moved {
            wait(&[frontend.fd(), backend.fd()])?;
        }
    }
}

/// Runs a proxy whose frontend and backend are the same socket (messages
/// are sent back where they came from).
pub fn proxy_self(socket: &mut Socket, mut capture: Option<&mut Socket>) -> Result<()> {
    loop {
        if socket.ready_events()? & events::POLLIN != 0 {
            loop {
                let mut msg = Msg::new();
                socket.recv(&mut msg, send_flags::DONTWAIT)?;
                let more = msg.more();
                let flags = if more { send_flags::SNDMORE } else { 0 };
                if let Some(c) = capture.as_deref_mut() {
                    let mut copy = msg.share();
                    c.send(&mut copy, flags)?;
                }
                socket.send(&mut msg, flags)?;
                if !more {
                    break;
                }
            }
        } else {
            wait(&[socket.fd()])?;
        }
    }
}
