//! `zmq_proxy` and `zmq_proxy_steerable` (libzmq: src/proxy.cpp).
//!
//! Whole multipart messages move in each direction; with a capture socket,
//! every frame is also copied there (sharing its body). A control socket
//! steers the proxy: `PAUSE` stops forwarding (messages stay queued),
//! `RESUME` restarts it, `TERMINATE` ends it, `STATISTICS` answers with
//! eight 64-bit counters. Without `TERMINATE` the proxy runs until the
//! context terminates (`Term`) or a signal interrupts its wait.

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::{events, send_flags, Socket};

/// Messages and bytes through one side, as libzmq 4.3 counts them: a
/// multipart message is one message, its bytes the sum of its parts.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    msgs_in: u64,
    bytes_in: u64,
    msgs_out: u64,
    bytes_out: u64,
}

/// The sockets a proxy runs between.
pub struct Sockets<'a> {
    pub frontend: &'a mut Socket,
    /// `None`: the frontend is also the backend (messages go back where
    /// they came from).
    pub backend: Option<&'a mut Socket>,
    pub capture: Option<&'a mut Socket>,
    pub control: Option<&'a mut Socket>,
}

/// Sends one frame to the capture socket, if any.
fn capture_frame(capture: &mut Option<&mut Socket>, msg: &mut Msg, more: bool) -> Result<()> {
    if let Some(c) = capture.as_deref_mut() {
        let mut copy = msg.share();
        c.send(&mut copy, if more { send_flags::SNDMORE } else { 0 })?;
    }
    Ok(())
}

/// The most messages moved one way before the other side gets its turn
/// (libzmq's `proxy_burst_size`).
const BURST: usize = 1000;

/// Moves a burst of whole messages from the frontend (`backwards`: the
/// backend) to the other side, counting them.
fn forward(s: &mut Sockets<'_>, backwards: bool, stats: &mut [Counters; 2]) -> Result<()> {
    let (src, dst) = match (backwards, s.backend.is_some()) {
        (false, true) => (0, 1),
        (false, false) => (0, 0),
        (true, _) => (1, 0),
    };
    for _ in 0..BURST {
        let mut bytes = 0;
        loop {
            let mut msg = Msg::new();
            let from: &mut Socket = match (&mut s.backend, backwards) {
                (Some(b), true) => b,
                _ => s.frontend,
            };
            match from.recv(&mut msg, send_flags::DONTWAIT) {
                Err(Error::Again) if bytes == 0 && !msg.more() => return Ok(()),
                other => other?,
            }
            let more = msg.more();
            bytes += msg.size() as u64;
            capture_frame(&mut s.capture, &mut msg, more)?;
            let to: &mut Socket = match (&mut s.backend, backwards) {
                (Some(b), false) => b,
                _ => s.frontend,
            };
            to.send(&mut msg, if more { send_flags::SNDMORE } else { 0 })?;
            if !more {
                break;
            }
        }
        stats[src].msgs_in += 1;
        stats[src].bytes_in += bytes;
        stats[dst].msgs_out += 1;
        stats[dst].bytes_out += bytes;
    }
    Ok(())
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

/// What a control command asks.
enum Steer {
    Continue,
    Terminate,
}

/// Reads and obeys one control command (copied to the capture socket, as
/// libzmq does). Unknown commands are ignored.
fn control(s: &mut Sockets<'_>, paused: &mut bool, stats: &[Counters; 2]) -> Result<Steer> {
    let Some(ctl) = s.control.as_deref_mut() else {
        return Ok(Steer::Continue);
    };
    let mut cmd = Msg::new();
    ctl.recv(&mut cmd, send_flags::DONTWAIT)?;
    let mut more = cmd.more();
    let command = cmd.data().to_vec();
    capture_frame(&mut s.capture, &mut cmd, more)?;
    // Only the first frame counts; the rest of a multipart command goes.
    while more {
        let mut rest = Msg::new();
        ctl.recv(&mut rest, 0)?;
        more = rest.more();
        capture_frame(&mut s.capture, &mut rest, more)?;
    }
    match command.as_slice() {
        b"PAUSE" => *paused = true,
        b"RESUME" => *paused = false,
        b"TERMINATE" => return Ok(Steer::Terminate),
        b"STATISTICS" => {
            let values = stats
                .iter()
                .flat_map(|c| [c.msgs_in, c.bytes_in, c.msgs_out, c.bytes_out]);
            let values: Vec<u64> = values.collect();
            for (i, v) in values.iter().enumerate() {
                let mut frame = Msg::from_slice(&v.to_ne_bytes())?;
                let flags = if i + 1 < values.len() {
                    send_flags::SNDMORE
                } else {
                    0
                };
                ctl.send(&mut frame, flags)?;
            }
        }
        _ => {}
    }
    Ok(Steer::Continue)
}

/// Runs a proxy. Returns `Ok` only when told `TERMINATE`.
pub fn run(mut s: Sockets<'_>) -> Result<()> {
    let mut paused = false;
    // [frontend, backend]
    let mut stats = [Counters::default(); 2];
    loop {
        // Data readiness first, control second: a command sent before some
        // data is then always seen no later than that data.
        let mut front = false;
        let mut back = false;
        if !paused {
            front = s.frontend.ready_events()? & events::POLLIN != 0;
            if let Some(b) = s.backend.as_deref_mut() {
                back = b.ready_events()? & events::POLLIN != 0;
            }
        }
        let mut moved = false;
        if let Some(ctl) = s.control.as_deref_mut() {
            if ctl.ready_events()? & events::POLLIN != 0 {
                if let Steer::Terminate = control(&mut s, &mut paused, &stats)? {
                    return Ok(());
                }
                moved = true;
            }
        }
        if !paused {
            if front {
                forward(&mut s, false, &mut stats)?;
                moved = true;
            }
            if back {
                forward(&mut s, true, &mut stats)?;
                moved = true;
            }
        }
        if !moved {
            let mut fds = Vec::with_capacity(3);
            if !paused {
                fds.push(s.frontend.fd());
                if let Some(b) = s.backend.as_deref() {
                    fds.push(b.fd());
                }
            }
            if let Some(c) = s.control.as_deref() {
                fds.push(c.fd());
            }
            wait(&fds)?;
        }
    }
}
