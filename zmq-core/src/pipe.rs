//! Pipes: the bidirectional message channel between a socket and a session
//! (or between two sockets, for inproc).
//!
//! libzmq: src/pipe.cpp, src/ypipe.hpp. Each direction is a lock-free
//! single-producer single-consumer queue ([`YPipe`]) written by one end and
//! read by the other. The writer batches messages locally and publishes only
//! complete (multipart) messages; the reader takes what is published into a
//! local cache. Both ends fall asleep explicitly: a reader that finds the
//! queue empty, or a writer that finds it full (HWM), raises its flag, and
//! the other end wakes it with a [`PipeEvent`]. Each side publishes first,
//! then, after a SeqCst fence, looks at the other's flag: one of them always
//! sees the other, so no wake-up is lost, and the common case (nobody asleep)
//! costs one fence. Notifications (and the eventfd writes behind them) happen
//! only on those transitions, never per message.
//!
//! Closing: an end that is done writes a delimiter after its last message; the
//! reader sees it in order, after everything sent before. A hard close
//! (linger 0) instead discards what the peer has not read yet.

use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::msg::{flags, Metadata, Msg};
use crate::ypipe::{Small, YPipe, COMPACT_MAX};

/// What the owner of a pipe end is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeEventKind {
    /// Messages (or the delimiter) arrived in a queue the end had found empty.
    ActivateRead,
    /// The peer read from a queue the end had found full, or went away.
    ActivateWrite,
}

/// A notification for the owner of the pipe end `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeEvent {
    pub end: u64,
    pub kind: PipeEventKind,
}

/// How the owner of a pipe end is woken (a socket's mailbox, an I/O thread).
pub trait PipeWaker: Send + Sync {
    fn wake(&self, event: PipeEvent);
}

/// A way past the queue: the reader's owner (a session) writes whole
/// messages straight to its transport for the writer, when the queue is
/// empty and the owner has nothing of its own to write. This saves the
/// wake-up of the reader's thread on a message that only had to go out
/// (a reply), at the price of a system call on the writer's thread.
pub trait DirectOut: Send + Sync {
    /// Writes the frames of one message, `frames` then `last`, if the owner
    /// is idle and `queue_idle` (the reader found the queue empty and
    /// nothing was published since) holds. Returns `false`, having written
    /// nothing, when the message must go through the queue.
    fn try_write(&self, frames: &[Msg], last: &Msg, queue_idle: &AtomicBool) -> bool;
}

/// One direction: the items, and the flags and counters of both ends.
#[derive(Default)]
struct Queue {
    items: YPipe,
    reader_asleep: AtomicBool,
    writer_asleep: AtomicBool,
    /// Complete messages the reader has taken (for the writer's HWM).
    msgs_read: AtomicU64,
    /// The reader closed without draining: nothing written is wanted.
    reader_gone: AtomicBool,
    /// The writer closed hard (linger 0): the reader drops what is left.
    hard_closed: AtomicBool,
    /// The writer has closed (its delimiter is queued, or it closed hard).
    writer_closed: AtomicBool,
    /// `ZMQ_CONFLATE`: only the newest message is kept, in `slot` (the
    /// queue carries the delimiter only), and there is no HWM.
    conflate: AtomicBool,
    slot: Mutex<Option<Msg>>,
}

/// After publishing: clears `flag` and reports whether it was raised. The
/// fence orders our publication before the look at the other side's flag.
fn take_flag(flag: &AtomicBool) -> bool {
    fence(Ordering::SeqCst);
    flag.load(Ordering::Relaxed) && flag.swap(false, Ordering::SeqCst)
}

/// State shared by the two ends: queue `s` is written by end `s`.
struct Shared {
    queues: [Queue; 2],
    wakers: [Mutex<Option<Arc<dyn PipeWaker>>>; 2],
    ids: [u64; 2],
    linger: [AtomicI32; 2],
    /// The high-water mark of queue `s` (0: unlimited); shared so that an
    /// inproc binder can set both directions of a pipe made before it bound.
    hwm: [AtomicU64; 2],
    /// For inproc: the reader's receive HWM, added to the writer's send HWM
    /// of queue `s` (libzmq's "boost"); -1 for pipes to a session.
    boost: [AtomicI64; 2],
    /// The way past queue `s`, set by its reader (see [`DirectOut`]).
    direct: [OnceLock<Arc<dyn DirectOut>>; 2],
}

impl Shared {
    fn waker(&self, side: usize) -> Option<Arc<dyn PipeWaker>> {
        self.wakers[side]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn wake(&self, side: usize, kind: PipeEventKind) {
        if let Some(w) = self.waker(side) {
            w.wake(PipeEvent {
                end: self.ids[side],
                kind,
            });
        }
    }
}

static NEXT_PIPE_ID: AtomicU64 = AtomicU64::new(1);

/// One end of a pipe.
pub struct Pipe {
    shared: Arc<Shared>,
    side: usize,
    // Writing (queue `side`).
    /// The frames so far of a message not yet complete; a message goes into
    /// the queue when its last frame is written.
    partial: Vec<Msg>,
    /// Complete messages are in the queue but not yet published.
    unpublished: bool,
    /// `ZMQ_CONFLATE`: the newest complete message, for `flush` to put in
    /// the slot.
    newest: Option<Msg>,
    msgs_written: u64,
    peer_msgs_read: u64,
    /// The connection metadata that frames written without their own carry
    /// (see [`Pipe::set_write_metadata`]).
    write_metadata: Option<Arc<Metadata>>,
    out_active: bool,
    out_closed: bool,
    // Reading (queue `1 - side`): messages are read in place from the
    // queue; `cache` holds only what comes from elsewhere, to be read
    // first (a conflated message, or the delimiter of a hard close).
    cache: VecDeque<Msg>,
    msgs_read: u64,
    read_since_publish: u64,
    lwm: u64,
    in_active: bool,
    /// The peer's delimiter (or hard close) was read: it will send no more.
    in_closed: bool,
    /// The peer is reading no more.
    peer_gone: bool,
    /// The peer's routing id (ROUTER) or other owner data.
    pub routing_id: Vec<u8>,
    /// The end was attached by the socket's own connect (vs. an accepted peer).
    pub locally_initiated: bool,
}

/// The low-water mark for a high-water mark (libzmq: `compute_lwm`).
fn lwm_for(hwm: u64) -> u64 {
    if hwm == 0 {
        // Unlimited: report progress in reasonable batches.
        return 512;
    }
    hwm.div_ceil(2).max(1)
}

impl Pipe {
    /// A new pipe. `hwms[s]` bounds the messages end `s` may have in flight
    /// towards the other end (0: unlimited).
    pub fn pair(hwms: [u64; 2]) -> (Pipe, Pipe) {
        let base = NEXT_PIPE_ID.fetch_add(2, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            queues: [Queue::default(), Queue::default()],
            wakers: [Mutex::new(None), Mutex::new(None)],
            ids: [base, base + 1],
            linger: [AtomicI32::new(-1), AtomicI32::new(-1)],
            hwm: [AtomicU64::new(hwms[0]), AtomicU64::new(hwms[1])],
            boost: [AtomicI64::new(-1), AtomicI64::new(-1)],
            direct: [OnceLock::new(), OnceLock::new()],
        });
        let end = |side: usize| Pipe {
            shared: shared.clone(),
            side,
            partial: Vec::new(),
            unpublished: false,
            newest: None,
            msgs_written: 0,
            peer_msgs_read: 0,
            write_metadata: None,
            out_active: true,
            out_closed: false,
            cache: VecDeque::new(),
            msgs_read: 0,
            read_since_publish: 0,
            lwm: lwm_for(hwms[1 - side]),
            in_active: true,
            in_closed: false,
            peer_gone: false,
            routing_id: Vec::new(),
            locally_initiated: false,
        };
        (end(0), end(1))
    }

    /// This end's id (what its [`PipeEvent`]s carry).
    pub fn id(&self) -> u64 {
        self.shared.ids[self.side]
    }

    /// The other end's id.
    pub fn peer_id(&self) -> u64 {
        self.shared.ids[1 - self.side]
    }

    /// Sets who is woken for this end. Until set, events for it are lost, so
    /// the new owner must then check the pipe itself (as attaching does).
    pub fn set_waker(&self, waker: Arc<dyn PipeWaker>) {
        *self.shared.wakers[self.side]
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(waker);
    }

    /// Offers the peer a way past the queue it writes to us, for messages
    /// that ask for it ([`flags::DIRECT`]). Set once.
    pub fn set_direct(&self, direct: Arc<dyn DirectOut>) {
        let _ = self.shared.direct[1 - self.side].set(direct);
    }

    /// Sets the outbound HWM from the socket's `ZMQ_SNDHWM`, with the boost
    /// (libzmq: `pipe_t::set_hwms`): non-positive values or a zero boost
    /// mean unlimited.
    pub fn set_sndhwm(&self, sndhwm: i32) {
        let boost = self.shared.boost[self.side].load(Ordering::Relaxed);
        let hwm = if sndhwm <= 0 || boost == 0 {
            0
        } else {
            sndhwm as u64 + boost.max(0) as u64
        };
        self.set_hwm(hwm);
    }

    /// Sets the boosts of an inproc pipe: the receive HWMs of the reader of
    /// each direction (ours for the peer's writes, the peer's for ours).
    pub fn set_boosts(&self, peer_rcvhwm: i32, our_rcvhwm: i32) {
        self.shared.boost[self.side].store(i64::from(peer_rcvhwm), Ordering::Relaxed);
        self.shared.boost[1 - self.side].store(i64::from(our_rcvhwm), Ordering::Relaxed);
    }

    /// Makes this end's outbound (`out`) and inbound (`inbound`) directions
    /// keep only their newest message (`ZMQ_CONFLATE`); they lose their HWM.
    /// Set before the pipe is used.
    pub fn set_conflate(&self, out: bool, inbound: bool) {
        for (side, on) in [(self.side, out), (1 - self.side, inbound)] {
            if on {
                self.shared.queues[side]
                    .conflate
                    .store(true, Ordering::Release);
                self.shared.hwm[side].store(0, Ordering::Relaxed);
            }
        }
    }

    /// Changes the outbound high-water mark (0: unlimited).
    pub fn set_hwm(&self, hwm: u64) {
        self.store_hwm(self.side, hwm);
    }

    /// Changes the peer's outbound high-water mark (0: unlimited).
    pub fn set_peer_hwm(&self, hwm: u64) {
        self.store_hwm(1 - self.side, hwm);
    }

    /// A conflating direction keeps no HWM.
    fn store_hwm(&self, side: usize, hwm: u64) {
        let conflating = self.shared.queues[side].conflate.load(Ordering::Relaxed);
        let hwm = if conflating { 0 } else { hwm };
        self.shared.hwm[side].store(hwm, Ordering::Relaxed);
    }

    // ---- writing -------------------------------------------------------

    /// Whether a message can be written now (libzmq: `check_write`). When the
    /// pipe is full, the end falls asleep until an `ActivateWrite`.
    #[inline]
    pub fn check_write(&mut self) -> bool {
        if !self.out_active || self.out_closed || self.peer_gone {
            return false;
        }
        let hwm = self.shared.hwm[self.side].load(Ordering::Relaxed);
        if hwm == 0 || self.msgs_written - self.peer_msgs_read < hwm {
            return true;
        }
        self.check_write_full(hwm)
    }

    /// `check_write` at the HWM as last known: looks at the reader's
    /// progress, and falls asleep if there is still no room.
    #[inline(never)]
    fn check_write_full(&mut self, hwm: u64) -> bool {
        let q = &self.shared.queues[self.side];
        self.peer_msgs_read = q.msgs_read.load(Ordering::Acquire);
        if q.reader_gone.load(Ordering::Acquire) {
            self.mark_peer_gone();
            return false;
        }
        if self.msgs_written - self.peer_msgs_read < hwm {
            return true;
        }
        // Full: fall asleep, then look again, so a reader that published
        // progress in between either sees our flag or is seen here.
        q.writer_asleep.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.peer_msgs_read = q.msgs_read.load(Ordering::Acquire);
        if self.msgs_written - self.peer_msgs_read < hwm {
            q.writer_asleep.store(false, Ordering::Relaxed);
            return true;
        }
        self.out_active = false;
        false
    }

    /// Queues a message frame; it is published by [`Pipe::flush`] once its
    /// message is complete. Returns `false` (and gives the message back) when
    /// the pipe cannot take it.
    #[inline]
    pub fn write(&mut self, mut msg: Msg) -> Result<(), Msg> {
        if self.out_closed || self.peer_gone {
            return Err(msg);
        }
        let frame_flags = msg.flags();
        if frame_flags & flags::MORE != 0 {
            self.partial.push(msg);
            return Ok(());
        }
        let q = &self.shared.queues[self.side];
        if frame_flags & flags::DIRECT != 0 {
            msg.reset_flags(flags::DIRECT);
            if !self.unpublished && self.newest.is_none() {
                if let Some(direct) = self.shared.direct[self.side].get() {
                    if direct.try_write(&self.partial, &msg, &q.reader_asleep) {
                        self.partial.clear();
                        return Ok(());
                    }
                }
            }
        }
        // Routing-id frames do not count against the HWM (libzmq).
        self.msgs_written += (frame_flags & flags::ROUTING_ID == 0) as u64;
        if q.conflate.load(Ordering::Relaxed) {
            // Only the newest frame survives (libzmq's conflating pipe).
            self.partial.clear();
            msg.inherit_metadata(self.write_metadata.as_ref());
            self.newest = Some(msg);
            return Ok(());
        }
        if !self.partial.is_empty() {
            for frame in self.partial.drain(..) {
                // SAFETY: this end is the queue's only writer.
                unsafe { q.items.push(frame, self.write_metadata.as_ref()) };
            }
        }
        // SAFETY: this end is the queue's only writer.
        unsafe { q.items.push(msg, self.write_metadata.as_ref()) };
        self.unpublished = true;
        Ok(())
    }

    /// Writes `msg`, as [`Pipe::write`] would, if it is a small single
    /// frame that crosses the queue as bytes: copied from where it lies,
    /// then dropped (`msg` is left empty), never moved. Returns `false`,
    /// having done nothing, for any other message: then use `write`.
    #[inline]
    pub fn write_small(&mut self, msg: &mut Msg) -> bool {
        if self.out_closed || self.peer_gone {
            return false;
        }
        let Some(len) = msg.compact_len(COMPACT_MAX) else {
            return false;
        };
        if !self.take_single(msg.flags()) {
            return false;
        }
        let q = &self.shared.queues[self.side];
        // SAFETY: this end is the queue's only writer.
        unsafe { q.items.push_msg_bytes(msg, len, self.write_metadata.as_ref()) };
        msg.clear();
        true
    }

    /// Writes a single-frame message given as bytes, as [`Pipe::write`]
    /// would a message of them: the first `len` bytes (at most
    /// [`crate::ypipe::COMPACT_MAX`]) of `src`, with `frame_flags`. A
    /// decoder hands on a short frame from its input this way, with no
    /// message built and dropped on the way. Returns `false`, having done
    /// nothing, for what needs `write`: a frame with more to follow or
    /// after some that had, or a conflating pipe. The caller has checked
    /// the HWM.
    #[inline]
    pub fn write_bytes(&mut self, frame_flags: u8, src: &[u8], len: usize) -> bool {
        if self.out_closed || self.peer_gone {
            return true; // dropped, as `write` would
        }
        if !self.take_single(frame_flags) {
            return false;
        }
        let q = &self.shared.queues[self.side];
        // SAFETY: this end is the queue's only writer.
        unsafe { q.items.push_bytes(frame_flags, 0, src, len, self.write_metadata.as_ref()) };
        true
    }

    /// For [`Pipe::write_small`] and [`Pipe::write_bytes`]: whether a frame
    /// with `frame_flags` is a whole message that may go into the queue as
    /// it is (not a frame of a multipart message, nor one the pipe must
    /// write past its queue or conflate); if so it is counted as written.
    #[inline]
    fn take_single(&mut self, frame_flags: u8) -> bool {
        if frame_flags & (flags::MORE | flags::DIRECT) != 0
            || !self.partial.is_empty()
            || self.shared.queues[self.side].conflate.load(Ordering::Relaxed)
        {
            return false;
        }
        self.msgs_written += (frame_flags & flags::ROUTING_ID == 0) as u64;
        self.unpublished = true;
        true
    }

    /// Sets the connection metadata that frames written from now on carry
    /// when they have none of their own (an engine's, for what it receives).
    /// The queue passes it once for a run of frames, rather than a counted
    /// reference in each: the reference count would move between the
    /// writer's and the reader's cores on every frame.
    #[inline]
    pub fn set_write_metadata(&mut self, metadata: Option<&Arc<Metadata>>) {
        match (&self.write_metadata, metadata) {
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => {}
            (None, None) => {}
            _ => self.write_metadata = metadata.cloned(),
        }
    }

    /// Drops the frames of an incomplete message (libzmq: `rollback`).
    pub fn rollback(&mut self) {
        self.partial.clear();
    }

    /// Publishes the complete messages written so far; wakes the reader if it
    /// was asleep. Returns whether the reader was woken.
    #[inline]
    pub fn flush(&mut self) -> bool {
        let q = &self.shared.queues[self.side];
        if self.unpublished && self.newest.is_none() && !q.reader_gone.load(Ordering::Acquire) {
            self.unpublished = false;
            // SAFETY: this end is the queue's only writer.
            unsafe { q.items.publish() };
            return self.wake_reader();
        }
        self.flush_other()
    }

    /// `flush` for all but frames to publish to a live reader.
    #[inline(never)]
    fn flush_other(&mut self) -> bool {
        if !self.unpublished && self.newest.is_none() {
            return false;
        }
        let q = &self.shared.queues[self.side];
        if q.reader_gone.load(Ordering::Acquire) {
            // Nobody will read them; they go with the queue.
            self.unpublished = false;
            self.newest = None;
            self.mark_peer_gone();
            return false;
        }
        if let Some(newest) = self.newest.take() {
            *q.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(newest);
            return self.wake_reader();
        }
        self.unpublished = false;
        // SAFETY: this end is the queue's only writer.
        unsafe { q.items.publish() };
        self.wake_reader()
    }

    /// After publishing: wakes the reader if it fell asleep.
    #[inline]
    fn wake_reader(&self) -> bool {
        let wake = take_flag(&self.shared.queues[self.side].reader_asleep);
        if wake {
            self.shared.wake(1 - self.side, PipeEventKind::ActivateRead);
        }
        wake
    }

    // ---- reading -------------------------------------------------------

    /// Whether a message can be read now (libzmq: `check_read`). When the
    /// pipe is empty, the end falls asleep until an `ActivateRead`.
    pub fn check_read(&mut self) -> bool {
        if !self.in_active || self.in_closed {
            return false;
        }
        if self.cache.is_empty() {
            // SAFETY: this end is the queue's only reader.
            if let Some(delimiter) = unsafe { self.in_items().front_is_delimiter() } {
                return !delimiter;
            }
            self.refill();
        }
        self.next_is_delimiter() == Some(false)
    }

    /// The inbound queue.
    fn in_items(&self) -> &YPipe {
        &self.shared.queues[1 - self.side].items
    }

    /// Whether the next item to read, as last seen, is the delimiter (or a
    /// frame); `None` when there is none.
    fn next_is_delimiter(&self) -> Option<bool> {
        match self.cache.front() {
            Some(msg) => Some(msg.is_delimiter()),
            // SAFETY: this end is the queue's only reader.
            None => unsafe { self.in_items().front_is_delimiter() },
        }
    }

    /// Takes the next item to read, as last seen.
    fn take_next(&mut self) -> Option<Msg> {
        // SAFETY: this end is the queue's only reader.
        self.cache.pop_front().or_else(|| unsafe { self.in_items().pop() })
    }

    /// Looks again at what the peer has published. Progress is published
    /// when the queue is found empty (the writer may be waiting on a HWM
    /// lowered below our LWM) or ends; while frames keep coming,
    /// [`Pipe::count_read`] publishes it every LWM messages, so that a
    /// reader taking a few frames at a time from a writer on another core
    /// does not write the counter and fence on every look.
    fn refill(&mut self) {
        let inq = 1 - self.side;
        if self.shared.queues[inq].hard_closed.load(Ordering::Acquire) {
            self.drain_queue();
            self.cache.clear();
            self.cache.push_back(Msg::delimiter());
        } else if self.take_published() {
            return;
        } else {
            // Empty: fall asleep, then look again, so a writer that
            // published in between either sees our flag or is seen here.
            self.shared.queues[inq]
                .reader_asleep
                .store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if self.take_published() {
                self.shared.queues[inq]
                    .reader_asleep
                    .store(false, Ordering::Relaxed);
            } else {
                self.in_active = false;
            }
        }
        self.publish_read();
    }

    /// Makes what the peer has published readable; whether any came.
    fn take_published(&mut self) -> bool {
        let q = &self.shared.queues[1 - self.side];
        let mut any = false;
        if q.conflate.load(Ordering::Acquire) {
            // The newest message goes before a delimiter published after it.
            let newest = q.slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(msg) = newest {
                self.cache.push_back(msg);
                any = true;
            }
        }
        // SAFETY: this end is the queue's only reader.
        unsafe { q.items.refresh() || any }
    }

    /// Drops everything published to us.
    fn drain_queue(&mut self) {
        let q = &self.shared.queues[1 - self.side];
        drop(q.slot.lock().unwrap_or_else(|p| p.into_inner()).take());
        let mut dropped = VecDeque::new();
        // SAFETY: this end is the queue's only reader.
        unsafe { q.items.pop_all(&mut dropped) };
    }

    /// Reads one frame. `None` when empty (the end is then asleep) or when the
    /// peer's delimiter is reached (see [`Pipe::is_in_closed`]).
    #[inline]
    pub fn read(&mut self) -> Option<Msg> {
        let msg = if self.in_active && !self.in_closed && self.cache.is_empty() {
            // The common case: a frame already seen as published, with
            // nothing out of band before it.
            // SAFETY: this end is the queue's only reader.
            unsafe { self.in_items().pop_frame() }
        } else {
            None
        };
        let msg = match msg {
            Some(msg) => msg,
            None => self.read_slow()?,
        };
        self.count_read(msg.flags());
        Some(msg)
    }

    /// Reads the next frame, as [`Pipe::read`], if it is at hand and small
    /// and has none of the `refused` flags, handing it to `f` instead of
    /// building a message (an encoder copies them straight
    /// to the wire). `None` (nothing read) otherwise: then, if
    /// [`Pipe::is_dry`], [`Pipe::refill_in_place`] and try again, else use
    /// `read`. (Going straight to `read` when dry would build a message for
    /// the first frame of every look at the queue.)
    #[inline]
    pub fn read_small<R>(&mut self, refused: u8, f: impl FnOnce(Small<'_>) -> R) -> Option<R> {
        if !self.in_active || self.in_closed || !self.cache.is_empty() {
            return None;
        }
        // SAFETY: this end is the queue's only reader.
        let (flags, out) = unsafe { self.in_items().pop_small(refused, f)? };
        self.count_read(flags);
        Some(out)
    }

    /// Whether this end is reading and has nothing at hand: the frames it
    /// last saw published are all read.
    #[inline]
    pub fn is_dry(&self) -> bool {
        self.in_active
            && !self.in_closed
            && self.cache.is_empty()
            // SAFETY: this end is the queue's only reader.
            && unsafe { self.in_items().front_is_delimiter() }.is_none()
    }

    /// Looks at what the peer has published since, without falling asleep
    /// when there is nothing new; whether anything came.
    pub fn look_again(&mut self) -> bool {
        // SAFETY: this end is the queue's only reader.
        self.in_active && unsafe { self.in_items().refresh() }
    }

    /// Looks at the queue again, as `read` does when it runs dry (falling
    /// asleep if it is empty); whether frames may now be read from it in
    /// place, by [`Pipe::read_small`].
    #[inline(never)]
    pub fn refill_in_place(&mut self) -> bool {
        self.refill();
        self.in_active && self.cache.is_empty()
    }

    /// Reads the next frame into `msg`, as [`Pipe::read`] would, if it is
    /// at hand and small, built where it goes (see [`Msg::assign_small`]);
    /// whether more frames follow. `None` (nothing read) otherwise: then
    /// use `read`.
    #[inline]
    pub fn read_small_into(&mut self, msg: &mut Msg) -> Option<bool> {
        if self.read_small(0, |small| msg.assign_small(&small)).is_none() {
            if !self.is_dry() || !self.refill_in_place() {
                return None;
            }
            self.read_small(0, |small| msg.assign_small(&small))?;
        }
        Some(msg.more())
    }

    /// Counts a frame read with `flags` towards the HWM, telling the writer
    /// how far we are every LWM messages.
    #[inline]
    fn count_read(&mut self, frame_flags: u8) {
        if frame_flags & (flags::MORE | flags::ROUTING_ID) == 0 {
            self.msgs_read += 1;
            self.read_since_publish += 1;
            if self.read_since_publish >= self.lwm {
                self.publish_read();
            }
        }
    }

    /// `read` when the next frame is not at hand: looks again at the queue,
    /// and reaches the delimiter.
    fn read_slow(&mut self) -> Option<Msg> {
        if !self.check_read() {
            if self.next_is_delimiter() == Some(true) {
                self.take_next();
                self.in_closed = true;
                // Tell the owner, which may not be the one reading (a
                // strategy), that this pipe has ended.
                self.shared.wake(self.side, PipeEventKind::ActivateRead);
            }
            return None;
        }
        self.take_next()
    }

    /// Tells the writer how far we have read, waking it if it was full.
    fn publish_read(&mut self) {
        let q = &self.shared.queues[1 - self.side];
        q.msgs_read.store(self.msgs_read, Ordering::Release);
        self.read_since_publish = 0;
        if take_flag(&q.writer_asleep) {
            self.shared
                .wake(1 - self.side, PipeEventKind::ActivateWrite);
        }
    }

    /// Handles an activation event from the peer (`ActivateRead` or
    /// `ActivateWrite`) for an owner that just goes on pumping after it.
    pub fn activate(&mut self, kind: PipeEventKind) {
        match kind {
            PipeEventKind::ActivateRead => self.activate_read(),
            PipeEventKind::ActivateWrite => {
                self.activate_write();
            }
        }
    }

    /// Marks the end readable again after an `ActivateRead`.
    pub fn activate_read(&mut self) {
        self.in_active = true;
    }

    /// Marks the end writable again after an `ActivateWrite`; returns whether
    /// a write is now possible.
    pub fn activate_write(&mut self) -> bool {
        self.out_active = true;
        !self.is_peer_gone() && self.check_write()
    }

    /// Whether this end found the inbound queue empty and fell asleep.
    pub fn is_read_asleep(&self) -> bool {
        !self.in_active && self.cache.is_empty()
    }

    /// Whether the peer has finished sending (its delimiter has been read).
    pub fn is_in_closed(&self) -> bool {
        self.in_closed
    }

    /// Whether the peer has closed its side (even if its delimiter has not
    /// been read yet).
    pub fn is_peer_closed(&self) -> bool {
        self.in_closed
            || self.shared.queues[1 - self.side]
                .writer_closed
                .load(Ordering::Acquire)
    }

    /// Whether the peer has stopped reading.
    pub fn is_peer_gone(&mut self) -> bool {
        if !self.peer_gone
            && self.shared.queues[self.side]
                .reader_gone
                .load(Ordering::Acquire)
        {
            self.peer_gone = true;
        }
        self.peer_gone
    }

    /// Records that the peer stopped reading and tells the owner once.
    fn mark_peer_gone(&mut self) {
        if !self.peer_gone {
            self.peer_gone = true;
            self.shared.wake(self.side, PipeEventKind::ActivateWrite);
        }
    }

    /// Asks the peer to give up within `linger` ms (-1: no limit) the
    /// messages it still has to deliver after this end's delimiter.
    pub fn set_close_linger(&mut self, linger: i32) {
        self.shared.linger[self.side].store(linger, Ordering::Relaxed);
    }

    /// The linger the peer asked for when it closed.
    pub fn peer_close_linger(&self) -> i32 {
        self.shared.linger[1 - self.side].load(Ordering::Relaxed)
    }

    // ---- closing -------------------------------------------------------

    /// Ends writing: drops any incomplete message, publishes the rest and a
    /// delimiter after it. The peer reads everything first.
    pub fn close_write(&mut self) {
        if self.out_closed {
            return;
        }
        self.rollback();
        if self.newest.is_some() {
            self.flush();
        }
        self.out_closed = true;
        // Complete messages are in the queue already; the delimiter's
        // publication publishes them too.
        self.unpublished = false;
        let q = &self.shared.queues[self.side];
        q.writer_closed.store(true, Ordering::Release);
        // SAFETY: as above.
        unsafe {
            q.items.push(Msg::delimiter(), None);
            q.items.publish();
        }
        self.wake_reader();
    }

    /// Ends writing at once (linger 0): what the peer has not read is dropped.
    pub fn close_write_hard(&mut self) {
        self.out_closed = true;
        self.partial.clear();
        self.newest = None;
        self.unpublished = false;
        let q = &self.shared.queues[self.side];
        q.hard_closed.store(true, Ordering::Release);
        q.writer_closed.store(true, Ordering::Release);
        // A delimiter wakes a reader that waits for data.
        // SAFETY: this end is the queue's only writer.
        unsafe {
            q.items.push(Msg::delimiter(), None);
            q.items.publish();
        }
        self.wake_reader();
    }

    /// Ends reading: the peer's writes are discarded from now on and a peer
    /// waiting for room is woken to find out.
    pub fn close_read(&mut self) {
        self.in_closed = true;
        self.cache.clear();
        self.drain_queue();
        let q = &self.shared.queues[1 - self.side];
        let was_gone = q.reader_gone.swap(true, Ordering::SeqCst);
        q.writer_asleep.store(false, Ordering::Relaxed);
        // Always tell the writer, asleep or not: its next send must not go
        // into a pipe nobody reads.
        if !was_gone {
            self.shared
                .wake(1 - self.side, PipeEventKind::ActivateWrite);
        }
    }
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipe")
            .field("id", &self.id())
            .field("in_active", &self.in_active)
            .field("out_active", &self.out_active)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[derive(Default)]
    struct Recorder(StdMutex<Vec<PipeEvent>>);

    impl PipeWaker for Recorder {
        fn wake(&self, event: PipeEvent) {
            self.0.lock().unwrap().push(event);
        }
    }

    fn frame(s: &[u8], more: bool) -> Msg {
        let mut m = Msg::from_slice(s).unwrap();
        if more {
            m.set_flags(flags::MORE);
        }
        m
    }

    #[test]
    fn messages_flow_and_reader_is_woken_once() {
        let (mut a, mut b) = Pipe::pair([0, 0]);
        let rec = Arc::new(Recorder::default());
        b.set_waker(rec.clone());
        assert!(b.read().is_none()); // b is now asleep
        a.write(frame(b"1", false)).unwrap();
        a.write(frame(b"2", false)).unwrap();
        assert!(a.flush());
        a.write(frame(b"3", false)).unwrap();
        assert!(!a.flush()); // already awake: no second notification
        assert_eq!(rec.0.lock().unwrap().len(), 1);
        b.activate_read();
        let got: Vec<_> = std::iter::from_fn(|| b.read())
            .map(|m| m.data()[0])
            .collect();
        assert_eq!(got, b"123");
    }

    #[test]
    fn multipart_is_atomic() {
        let (mut a, mut b) = Pipe::pair([0, 0]);
        a.write(frame(b"head", true)).unwrap();
        a.flush();
        assert!(b.read().is_none());
        a.write(frame(b"tail", false)).unwrap();
        a.flush();
        b.activate_read();
        assert!(b.read().unwrap().more());
        assert!(!b.read().unwrap().more());
    }

    #[test]
    fn hwm_blocks_writer_until_reader_drains() {
        let (mut a, mut b) = Pipe::pair([4, 4]);
        let rec = Arc::new(Recorder::default());
        a.set_waker(rec.clone());
        for i in 0..4u8 {
            assert!(a.check_write());
            a.write(frame(&[i], false)).unwrap();
        }
        a.flush();
        assert!(!a.check_write());
        for _ in 0..4 {
            assert!(b.read().is_some());
        }
        // Finding the queue empty publishes progress and wakes the writer.
        assert!(b.read().is_none());
        assert_eq!(
            rec.0.lock().unwrap().last().map(|e| e.kind),
            Some(PipeEventKind::ActivateWrite)
        );
        assert!(a.activate_write());
    }

    #[test]
    fn delimiter_comes_after_everything() {
        let (mut a, mut b) = Pipe::pair([0, 0]);
        a.write(frame(b"x", false)).unwrap();
        a.write(frame(b"half", true)).unwrap();
        a.close_write();
        assert_eq!(b.read().unwrap().data(), b"x");
        assert!(b.read().is_none());
        assert!(b.is_in_closed());
    }

    #[test]
    fn hard_close_drops_unread() {
        let (mut a, mut b) = Pipe::pair([0, 0]);
        a.write(frame(b"x", false)).unwrap();
        a.flush();
        a.close_write_hard();
        assert!(b.read().is_none());
        assert!(b.is_in_closed());
    }

    #[test]
    fn reader_gone_stops_writer() {
        let (mut a, mut b) = Pipe::pair([1, 1]);
        a.write(frame(b"x", false)).unwrap();
        a.flush();
        assert!(!a.check_write());
        b.close_read();
        assert!(a.is_peer_gone());
        assert!(a.write(frame(b"y", false)).is_err());
    }

    #[test]
    fn threads_exchange_a_million() {
        let (mut a, mut b) = Pipe::pair([1000, 1000]);
        struct Flag(StdMutex<bool>, std::sync::Condvar);
        impl PipeWaker for Flag {
            fn wake(&self, _: PipeEvent) {
                *self.0.lock().unwrap() = true;
                self.1.notify_one();
            }
        }
        let wa = Arc::new(Flag(StdMutex::new(false), std::sync::Condvar::new()));
        let wb = Arc::new(Flag(StdMutex::new(false), std::sync::Condvar::new()));
        a.set_waker(wa.clone());
        b.set_waker(wb.clone());
        fn wait(f: &Flag) {
            let mut g = f.0.lock().unwrap();
            while !*g {
                g = f.1.wait(g).unwrap();
            }
            *g = false;
        }
        const N: u64 = 1_000_000;
        let writer = std::thread::spawn(move || {
            let mut i = 0u64;
            while i < N {
                if !a.check_write() {
                    a.flush();
                    wait(&wa);
                    a.activate_write();
                    continue;
                }
                a.write(Msg::from_slice(&i.to_le_bytes()).unwrap()).unwrap();
                i += 1;
                if i % 64 == 0 {
                    a.flush();
                }
            }
            a.close_write();
        });
        let mut expect = 0u64;
        loop {
            match b.read() {
                Some(m) => {
                    assert_eq!(m.data(), expect.to_le_bytes());
                    expect += 1;
                }
                None if b.is_in_closed() => break,
                None => {
                    wait(&wb);
                    b.activate_read();
                }
            }
        }
        writer.join().unwrap();
        assert_eq!(expect, N);
    }

    #[test]
    fn conflate_keeps_the_newest_and_the_delimiter() {
        let (mut a, mut b) = Pipe::pair([1, 1]);
        a.set_conflate(true, false);
        for body in [&b"one"[..], b"two", b"three"] {
            assert!(a.check_write(), "no HWM when conflating");
            a.write(Msg::from_slice(body).unwrap()).unwrap();
            a.flush();
        }
        a.close_write();
        assert_eq!(b.read().unwrap().data(), b"three");
        assert!(b.read().is_none());
        assert!(b.is_in_closed());
    }
}
