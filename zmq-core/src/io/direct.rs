//! Direct writes: an application thread writes a message to a session's
//! socket itself, when the session's I/O thread has nothing to write.
//!
//! A message normally reaches the wire in two hops: the application thread
//! puts it in the pipe and wakes the I/O thread, which encodes and writes
//! it. When the I/O thread is asleep, that wake-up costs more than the
//! write (tens of microseconds on a busy or virtual machine, against a few
//! for the system call), and a request/reply round trip pays it twice. So
//! when the session is idle (its output buffer empty and its pipe drained)
//! a reply-like message (see `Socket::send`) is encoded and sent by the
//! application thread under the session's [`DirectGate`], and the I/O
//! thread never wakes.
//!
//! The gate keeps the byte stream whole:
//! - The application writes only while the gate is idle, under its lock,
//!   and only if the pipe is empty (its reader fell asleep and nothing was
//!   published since), so nothing it has queued before can be overtaken.
//! - Before the I/O thread writes, it marks the gate busy under the same
//!   lock (waiting out a direct write in progress) and takes over what a
//!   short direct write left unsent, to write it first; the kernel's next
//!   writable edge drives that write when the socket was full.
//! - The I/O thread marks the gate idle again once it has written
//!   everything and found the pipe empty.
//! - The gate closes (under the lock) before the engine's socket does, so
//!   a stale descriptor is never written to.
//!
//! Only plain connections take direct writes: CURVE boxes every frame
//! with the engine's nonces, and a raw (STREAM) connection has no framing.

use std::cell::Cell;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::io::thread::encode_header_wire;
use crate::msg::{flags, Msg};
use crate::pipe::DirectOut;
use crate::zmtp::handshake::Wire;

/// The most frames a message written directly may have (more go through
/// the pipe).
const MAX_FRAMES: usize = 8;

thread_local! {
    /// The connection this thread last wrote a message to directly (-1:
    /// none since it last looked), for `take_last_fd`.
    static LAST_FD: Cell<RawFd> = const { Cell::new(-1) };
}

/// The connection the calling thread last wrote to directly, if it did
/// since the last call. A socket that has just written a request (or a
/// reply) this way may watch that connection for the answer: the answer
/// then wakes the application thread together with the I/O thread, rather
/// than after it. The descriptor is only ever polled, never read or written
/// (it may have been closed since, and its number reused).
pub fn take_last_fd() -> RawFd {
    LAST_FD.with(|c| c.replace(-1))
}

/// The largest message written directly (frame bodies, in bytes).
const MAX_DIRECT: usize = 64 * 1024;

/// The gate of one session (shared with the application's pipe end).
#[derive(Debug)]
pub(crate) struct DirectGate {
    state: Mutex<GateState>,
}

#[derive(Debug)]
struct GateState {
    /// The connection's socket; -1 while there is none, or it takes no
    /// direct writes.
    fd: RawFd,
    wire: Wire,
    /// The I/O thread has written everything and found the pipe empty.
    idle: bool,
    /// The frame headers of a message being written directly; after a
    /// short write, what it left for the I/O thread (empty otherwise).
    buf: Vec<u8>,
}

impl DirectGate {
    pub fn new() -> DirectGate {
        DirectGate {
            state: Mutex::new(GateState {
                fd: -1,
                wire: Wire::V3,
                idle: false,
                buf: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// I/O thread: a connection past its handshake, writing in `wire`
    /// framing, may take direct writes once the gate is idle.
    pub fn open(&self, fd: RawFd, wire: Wire) {
        let mut st = self.lock();
        st.fd = fd;
        st.wire = wire;
        st.idle = false;
        st.buf.clear();
    }

    /// I/O thread: the connection is going. Called before its socket
    /// closes; what a short direct write left goes with the connection, as
    /// the engine's own unsent output does.
    pub fn close(&self) {
        let mut st = self.lock();
        st.fd = -1;
        st.idle = false;
        st.buf = Vec::new();
    }

    /// I/O thread, before it writes: no direct writes from now until
    /// [`DirectGate::idle`]; the unsent rest of a short direct write goes
    /// to the front of `out` (from `out_pos`).
    pub fn busy(&self, out: &mut Vec<u8>, out_pos: &mut usize) {
        let mut st = self.lock();
        st.idle = false;
        if st.buf.is_empty() {
            return;
        }
        let rest = std::mem::take(&mut st.buf);
        if *out_pos < out.len() {
            // Our own output (a PONG, say) goes after it.
            let mut joined = rest;
            joined.extend_from_slice(&out[*out_pos..]);
            *out = joined;
        } else {
            *out = rest;
        }
        *out_pos = 0;
    }

    /// I/O thread: everything is written and the pipe is drained.
    pub fn idle(&self) {
        let mut st = self.lock();
        st.idle = st.fd >= 0;
    }
}

impl DirectOut for DirectGate {
    fn try_write(&self, frames: &[Msg], last: &Msg, queue_idle: &AtomicBool) -> bool {
        // What the message allows, before the lock. A large message could
        // leave a large rest to copy under the lock the I/O thread waits
        // on: it goes through the pipe, whose engine writes big bodies from
        // the message itself. Subscriptions and commands are the engine's
        // to translate.
        if frames.len() >= MAX_FRAMES {
            return false;
        }
        let special = flags::SUBSCRIPTION | flags::COMMAND;
        let mut size = 0;
        for m in frames.iter().chain(std::iter::once(last)) {
            if m.flags() & special != 0 || m.is_delimiter() {
                return false;
            }
            size += m.size();
        }
        if size > MAX_DIRECT {
            return false;
        }
        // The I/O thread holds the lock only briefly, and never while it
        // waits for us: if it is there, it is busy, and the queue will do.
        let Ok(mut st) = self.state.try_lock() else {
            return false;
        };
        if st.fd < 0 || !st.idle || !st.buf.is_empty() {
            return false;
        }
        // The gate's lock orders this after the reader's fall asleep.
        if !queue_idle.load(Ordering::Acquire) {
            return false;
        }
        let st = &mut *st;
        // One direct write per idle spell: the next message goes through
        // the pipe unless the I/O thread has looked again (as it does when
        // input arrives, a reply's request say). A stream of messages
        // thus still reaches the I/O thread, which writes many per system
        // call, rather than costing the application one call each.
        st.idle = false;
        // The headers side by side in `buf`; the bodies are sent from the
        // messages themselves, gathered with the headers by one sendmsg.
        st.buf.clear();
        let mut header_ends = [0usize; MAX_FRAMES];
        for (i, frame) in frames.iter().chain(std::iter::once(last)).enumerate() {
            encode_header_wire(st.wire, &mut st.buf, frame);
            header_ends[i] = st.buf.len();
        }
        let mut parts: [&[u8]; 2 * MAX_FRAMES] = [&[]; 2 * MAX_FRAMES];
        let mut start = 0;
        for (i, frame) in frames.iter().chain(std::iter::once(last)).enumerate() {
            parts[2 * i] = &st.buf[start..header_ends[i]];
            parts[2 * i + 1] = frame.data();
            start = header_ends[i];
        }
        let parts = &parts[..2 * (frames.len() + 1)];
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let sent = match crate::sys::send_parts_nonblocking(st.fd, parts) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            // EPIPE, ECONNRESET, EINTR...: nothing was written; the
            // message goes through the queue and the I/O thread deals with
            // the connection.
            Err(_) => {
                st.buf.clear();
                st.idle = true;
                return false;
            }
        };
        LAST_FD.with(|c| c.set(st.fd));
        if sent < total {
            // Short: the rest waits in the gate for the I/O thread, which
            // the kernel wakes with a writable edge when there is room.
            let mut rest = Vec::with_capacity(total - sent);
            let mut skip = sent;
            for part in parts {
                let from = skip.min(part.len());
                skip -= from;
                rest.extend_from_slice(&part[from..]);
            }
            st.buf = rest;
        } else {
            st.buf.clear();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::from_slice(data).unwrap();
        if more {
            m.set_flags(flags::MORE);
        }
        m
    }

    fn wire_of(frames: &[&Msg]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            encode_header_wire(Wire::V3, &mut out, f);
            out.extend_from_slice(f.data());
        }
        out
    }

    /// Reads what is there (the writer side is done).
    fn read_available(r: &mut UnixStream) -> Vec<u8> {
        r.set_nonblocking(true).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        got
    }

    #[test]
    fn writes_only_when_open_idle_and_drained_once_per_spell() {
        let (w, mut r) = UnixStream::pair().unwrap();
        let gate = DirectGate::new();
        let drained = AtomicBool::new(true);
        let head = frame(b"", true);
        let body = frame(b"reply", false);
        // Closed, then open but busy: the pipe must be used.
        assert!(!gate.try_write(&[], &body, &drained));
        gate.open(w.as_raw_fd(), Wire::V3);
        assert!(!gate.try_write(&[], &body, &drained));
        gate.idle();
        // Idle, but the pipe holds something: still the pipe.
        drained.store(false, Ordering::Relaxed);
        assert!(!gate.try_write(&[], &body, &drained));
        drained.store(true, Ordering::Relaxed);
        // Subscriptions are the engine's to translate.
        let mut sub = Msg::subscription(true, b"t");
        sub.set_flags(flags::SUBSCRIPTION);
        assert!(!gate.try_write(&[], &sub, &drained));
        assert!(gate.try_write(std::slice::from_ref(&head), &body, &drained));
        assert_eq!(read_available(&mut r), wire_of(&[&head, &body]));
        // One write per idle spell.
        assert!(!gate.try_write(&[], &body, &drained));
        let (mut out, mut pos) = (Vec::new(), 0);
        gate.busy(&mut out, &mut pos);
        assert!(out.is_empty());
        gate.idle();
        assert!(gate.try_write(&[], &body, &drained));
        assert_eq!(read_available(&mut r), wire_of(&[&body]));
        // Closed: never again, idle or not.
        gate.close();
        gate.idle();
        assert!(!gate.try_write(&[], &body, &drained));
    }

    #[test]
    fn a_short_write_leaves_the_rest_ahead_of_the_io_threads_output() {
        let (w, mut r) = UnixStream::pair().unwrap();
        // A small send buffer, so that a 64 KiB message does not fit.
        let small: libc::c_int = 4096;
        // SAFETY: a valid descriptor and option value.
        let rc = unsafe {
            libc::setsockopt(
                w.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&small as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
        let gate = DirectGate::new();
        let drained = AtomicBool::new(true);
        gate.open(w.as_raw_fd(), Wire::V3);
        gate.idle();
        let big: Vec<u8> = (0..MAX_DIRECT).map(|i| (i * 7 + (i >> 12)) as u8).collect();
        // Too large to go directly: the pipe's engine writes it.
        assert!(!gate.try_write(&[], &frame(&[big.clone(), vec![1]].concat(), false), &drained));
        let msg = frame(&big, false);
        assert!(gate.try_write(&[], &msg, &drained));
        // The rest is held: no direct write until the I/O thread took it.
        gate.idle();
        assert!(!gate.try_write(&[], &frame(b"x", false), &drained));
        let sent = read_available(&mut r);
        let whole = wire_of(&[&msg]);
        assert!(sent.len() < whole.len(), "64 KiB fit a 4 KiB socket buffer");
        // The I/O thread had a PONG of its own queued (after 3 bytes out).
        let mut out = b"abcPONG".to_vec();
        let mut pos = 3;
        gate.busy(&mut out, &mut pos);
        assert_eq!(pos, 0);
        let mut expect = whole[sent.len()..].to_vec();
        expect.extend_from_slice(b"PONG");
        assert_eq!(out, expect);
        assert_eq!([&sent[..], &whole[sent.len()..]].concat(), whole);
    }
}
