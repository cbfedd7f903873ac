//! The lock-free single-producer single-consumer queue of message frames
//! under a pipe (libzmq: src/yqueue.hpp, src/ypipe.hpp).
//!
//! The queue is a chain of chunks of 16-byte cells. An entry takes one or
//! more cells of one chunk, and its first byte says what it is:
//! - a whole [`Msg`] (four cells): its first byte is its [`Kind`];
//! - a small frame as bytes: a header of eight bytes (tag, flags, length,
//!   routing id) then the body, in as few cells as they take. Frames of up
//!   to [`COMPACT_MAX`] bytes with no group travel so; the reader rebuilds
//!   the `Msg`. A 1-byte frame takes a quarter of a cache line instead of a
//!   whole one, and a 64-byte one travels with its bytes instead of as a
//!   `Msg` plus a separate body: every line the writer fills has to move to
//!   the reader's core, and those moves are what a stream of small messages
//!   between two threads costs;
//! - the connection metadata that the small frames after it carry (one
//!   reference for them all, rather than a reference count touched by both
//!   threads on every frame);
//! - the end of a chunk, where the next entry did not fit.
//!
//! An entry's first byte is zero until the entry may be read. The writer
//! fills cells at the tail, and a batch of entries (a whole message, or
//! many) becomes visible with one release store: the first byte of the
//! batch's first entry, written last; the entries after it carry theirs
//! already, and the reader reaches them only through it. That keeps
//! multipart messages atomic (the pipe publishes at the end of a complete
//! message), and it leaves the reader nothing to poll but the line it reads
//! next anyway. A shared count of published cells, stored by the writer
//! for every message and read by the reader for every look, moved its
//! cache line between the two cores about once a message: inproc 64 B ran
//! at 8.6M msg/s with it, 12.3M without.
//!
//! So the cell where the reader looks next must read "not yet written",
//! whatever the cells held before:
//! - the reader clears the first byte of every cell it takes;
//! - the first time the writer fills a chunk's cells, it clears the cell
//!   after each entry (and a new chunk's first cell): a chunk's memory is
//!   not zeroed, so that a pipe's pages become resident only as it fills
//!   them.
//!
//! The reader takes entries from the head and hands the chunks it has
//! passed back to the writer (a few are kept, so a stream that ran a few
//! chunks deep allocates nothing once it flows again).
//!
//! Safety rests on the SPSC discipline: `push`/`publish` are called by one
//! thread at a time (the writer) and `refresh`/`front_is_delimiter`/`pop`/
//! `pop_frame`/`pop_all` by one other (the reader); the owning pipe ends
//! enforce it by ownership (an end moves between threads only through a
//! synchronising hand-over, such as a mailbox).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::mem::{self, MaybeUninit};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};
use std::sync::Arc;

use crate::msg::{Kind, Metadata, Msg};

/// Bytes per cell.
const CELL: usize = 16;
/// Cells per chunk (16 KiB).
const CELLS: usize = 1024;
/// Finished chunks kept for reuse (see `YPipe::spares`).
const SPARES: usize = 4;
/// Cells a whole `Msg` takes.
const MSG_CELLS: usize = mem::size_of::<Msg>() / CELL;
/// Bytes of a small frame's header: tag, flags, length (u16), routing id
/// (u32).
const HEADER: usize = 8;
/// The longest body that travels as bytes (an entry of eight cells, two
/// cache lines). Up to [`crate::msg::INLINE_CAPACITY`] bytes the reader rebuilds the
/// message inline; a longer body gets an allocation (or refills the
/// receiver's own, see `Msg::assign_small`).
pub const COMPACT_MAX: usize = 8 * CELL - HEADER;

const _: () = assert!(mem::size_of::<Msg>() == MSG_CELLS * CELL);
const _: () = assert!(mem::align_of::<Msg>() <= CELL);

/// Entry tags besides the [`Kind`] bytes (101 to 107) of a whole `Msg`.
const TAG_SMALL: u8 = 0xC0;
/// A small frame that carries the metadata last set.
const TAG_SMALL_MD: u8 = 0xC1;
/// Sets the metadata of the small frames after it: a strong reference
/// (`Arc::into_raw`) in the entry's second word.
const TAG_METADATA: u8 = 0xCD;
/// The rest of this chunk is unused: go on at the next one.
const TAG_SKIP: u8 = 0xCF;

#[repr(C, align(16))]
struct Cell(UnsafeCell<MaybeUninit<[u8; CELL]>>);

/// Aligned to a cache line, so that entries share lines only as their sizes
/// make them.
#[repr(C, align(64))]
struct Chunk {
    cells: [Cell; CELLS],
    next: AtomicPtr<Chunk>,
    /// The writer's: the cells before this one have been written (or
    /// cleared) at least once, so they read "not yet written" when they
    /// hold nothing unread; the others hold what the allocator left.
    cleared: usize,
}

impl Chunk {
    /// A new chunk, its first cell "not yet written" (the writer clears
    /// each cell after its entries the first time it gets there: zeroing
    /// the chunk would make every pipe's 16 KiB resident at once).
    fn alloc() -> *mut Chunk {
        let chunk = Box::into_raw(Box::new(Chunk {
            cells: [const { Cell(UnsafeCell::new(MaybeUninit::uninit())) }; CELLS],
            next: AtomicPtr::new(ptr::null_mut()),
            cleared: 1,
        }));
        // SAFETY: the chunk is ours alone.
        unsafe { Chunk::clear(chunk, 0) };
        chunk
    }

    /// Marks cell `pos` "not yet written" (its first byte zero).
    ///
    /// # Safety
    /// `chunk` is live, `pos < CELLS`, and the cell has been read.
    #[inline]
    unsafe fn clear(chunk: *mut Chunk, pos: usize) {
        // SAFETY: per this function's contract.
        unsafe { (*Chunk::at(chunk, pos).cast::<AtomicU8>()).store(0, Ordering::Relaxed) };
    }

    /// The first byte of cell `pos` (which may be `CELLS`, one past the end,
    /// only to be compared).
    ///
    /// # Safety
    /// `chunk` is live and `pos <= CELLS`.
    unsafe fn at(chunk: *mut Chunk, pos: usize) -> *mut u8 {
        // SAFETY: in bounds or one past the end of the cells.
        unsafe { (*chunk).cells.as_ptr().add(pos).cast::<u8>().cast_mut() }
    }
}

/// Cells a small frame of `len` bytes takes.
#[inline]
fn small_cells(len: usize) -> usize {
    (HEADER + len).div_ceil(CELL)
}

/// Copies the `region` bytes after a small frame's header (its body and
/// the padding to the end of its last cell, all written): with a constant
/// length for the common sizes, so that no `memcpy` call is made for a few
/// bytes.
///
/// # Safety
/// `src` is readable and `dst` writable for `region` bytes; they do not
/// overlap.
#[inline(always)]
pub(crate) unsafe fn copy_region(src: *const u8, dst: *mut u8, region: usize) {
    // SAFETY: per this function's contract.
    unsafe {
        match region {
            8 => ptr::copy_nonoverlapping(src, dst, 8),
            24 => ptr::copy_nonoverlapping(src, dst, 24),
            40 => ptr::copy_nonoverlapping(src, dst, 40),
            56 => ptr::copy_nonoverlapping(src, dst, 56),
            72 => ptr::copy_nonoverlapping(src, dst, 72),
            88 => ptr::copy_nonoverlapping(src, dst, 88),
            104 => ptr::copy_nonoverlapping(src, dst, 104),
            n => ptr::copy_nonoverlapping(src, dst, n),
        }
    }
}

/// A small frame in the queue, as [`YPipe::pop_small`] shows it.
pub struct Small<'a> {
    /// The frame's message flags.
    pub flags: u8,
    pub routing_id: u32,
    pub metadata: Option<&'a Arc<Metadata>>,
    /// Its bytes.
    pub body: &'a [u8],
    /// `padded.len()` bytes from the body's start may be read (the body,
    /// then padding): for [`copy_region`].
    pub padded: usize,
}

struct Writer {
    chunk: *mut Chunk,
    pos: usize,
    /// The metadata the reader will give small frames tagged with it.
    metadata: Option<Arc<Metadata>>,
    /// The first entry pushed since the last publish (null: none), whose
    /// first byte stays zero until [`YPipe::publish`] stores `pending_tag`
    /// there: the entries after it are seen only through it.
    pending: *mut u8,
    pending_tag: u8,
    /// `Chunk::cleared` of the writer's chunk.
    cleared: usize,
}

struct Reader {
    chunk: *mut Chunk,
    pos: usize,
    /// Entries may be taken: set by [`YPipe::refresh`], cleared when the
    /// next entry is found unpublished. Until the next refresh the reader
    /// sees nothing new, so that its owner can look at what comes out of
    /// band first (a conflated message, a hard close) when the queue has
    /// run dry.
    open: bool,
    /// The metadata of small frames tagged with it.
    metadata: Option<Arc<Metadata>>,
}

/// Keeps what it holds on cache lines of its own (128 bytes: adjacent-line
/// prefetching pairs 64-byte lines), so that one thread's writes do not
/// invalidate the line another thread is reading (false sharing).
#[repr(align(128))]
struct Own<T>(T);

/// The queue shared by one writer and one reader. The writer's half and the
/// reader's half each sit on their own cache lines: a push touches only the
/// writer's line and the cells, and the reader polls only the cell it reads
/// next.
pub struct YPipe {
    writer: Own<UnsafeCell<Writer>>,
    reader: Own<UnsafeCell<Reader>>,
    /// Chunks the reader finished with, for the writer to reuse: a few, so
    /// that a queue that ran a few chunks deep allocates no more once it
    /// flows again.
    spares: [AtomicPtr<Chunk>; SPARES],
}

// SAFETY: the writer half is touched only by the writing thread and the
// reader half only by the reading thread (the SPSC contract above); they
// share only atomics. Messages and metadata move between threads; both are
// Send (Metadata is immutable and shared by Arc).
unsafe impl Send for YPipe {}
// SAFETY: as above.
unsafe impl Sync for YPipe {}

impl YPipe {
    pub fn new() -> YPipe {
        let first = Chunk::alloc();
        YPipe {
            writer: Own(UnsafeCell::new(Writer {
                chunk: first,
                pos: 0,
                metadata: None,
                pending: ptr::null_mut(),
                pending_tag: 0,
                cleared: 1,
            })),
            reader: Own(UnsafeCell::new(Reader {
                chunk: first,
                pos: 0,
                open: false,
                metadata: None,
            })),
            spares: [const { AtomicPtr::new(ptr::null_mut()) }; SPARES],
        }
    }

    /// Appends a frame, not yet visible to the reader; it carries
    /// `metadata` if it has none of its own.
    ///
    /// # Safety
    /// Only the writer may call this.
    pub unsafe fn push(&self, mut msg: Msg, metadata: Option<&Arc<Metadata>>) {
        if let Some(len) = msg.compact_len(COMPACT_MAX) {
            // SAFETY: per this function's contract.
            return unsafe { self.push_msg_bytes(&msg, len, metadata) };
        }
        msg.inherit_metadata(metadata);
        // SAFETY: the writer half belongs to the calling (writer) thread.
        let w = unsafe { &mut *self.writer.0.get() };
        let p = self.reserve(w, MSG_CELLS);
        // The entry's first byte (the Msg's kind) goes last, by `tag`: the
        // reader may be looking at it.
        // Not dropped here: it moves into the cells.
        let msg = MaybeUninit::new(msg);
        let src = msg.as_ptr().cast::<u8>();
        // SAFETY: four unpublished cells of our own take the Msg's bytes
        // (an untyped copy: a Msg may have padding); the kind, its first
        // byte, is always initialised.
        unsafe {
            ptr::copy_nonoverlapping(src.add(1), p.add(1), MSG_CELLS * CELL - 1);
            self.tag(w, p, src.read());
        }
    }

    /// Sets the first byte of the entry at `p`, whose other bytes are
    /// written: at once, or at the next publish for the first entry since
    /// the last one.
    ///
    /// # Safety
    /// `p` is an unpublished entry of the writer's, not yet tagged.
    #[inline]
    unsafe fn tag(&self, w: &mut Writer, p: *mut u8, tag: u8) {
        if w.pending.is_null() {
            w.pending = p;
            w.pending_tag = tag;
        } else {
            // SAFETY: per this function's contract; the reader reads it
            // only after the pending entry's release store.
            unsafe { (*p.cast::<AtomicU8>()).store(tag, Ordering::Relaxed) };
        }
    }

    /// Appends the small frame `msg` (whose body is `len` bytes, at most
    /// [`COMPACT_MAX`]: `Msg::compact_len`) as bytes, copied from where it
    /// lies; it carries `metadata` if it has none of its own. The caller
    /// drops the message.
    ///
    /// # Safety
    /// Only the writer may call this.
    pub unsafe fn push_msg_bytes(&self, msg: &Msg, len: usize, metadata: Option<&Arc<Metadata>>) {
        let md = msg.metadata().or(metadata);
        // SAFETY: per this function's contract.
        unsafe {
            match msg.inline_area() {
                // The whole area (initialised) pads the body.
                Some(area) => self.push_bytes(msg.flags(), msg.routing_id(), area, len, md),
                None => self.push_bytes(msg.flags(), msg.routing_id(), msg.data(), len, md),
            }
        }
    }

    /// Appends a small frame given as bytes: the first `len` bytes (at most
    /// [`COMPACT_MAX`]) of `src`, whose bytes after them, if enough, pad the
    /// frame's last cell (else zeros do), so that reading it back copies
    /// whole cells. Not yet visible to the reader.
    ///
    /// # Safety
    /// Only the writer may call this.
    pub unsafe fn push_bytes(
        &self,
        flags: u8,
        routing_id: u32,
        src: &[u8],
        len: usize,
        metadata: Option<&Arc<Metadata>>,
    ) {
        assert!(len <= COMPACT_MAX && len <= src.len());
        // SAFETY: the writer half belongs to the calling (writer) thread.
        let w = unsafe { &mut *self.writer.0.get() };
        let tag = match metadata {
            None => TAG_SMALL,
            Some(md) => {
                if !w.metadata.as_ref().is_some_and(|m| Arc::ptr_eq(m, md)) {
                    let p = self.reserve(w, 1);
                    // SAFETY: one unpublished cell of our own; the reference
                    // it holds is the reader's to take (or Drop's).
                    unsafe {
                        p.add(8).cast::<*const Metadata>().write(Arc::into_raw(md.clone()));
                        self.tag(w, p, TAG_METADATA);
                    }
                    w.metadata = Some(md.clone());
                }
                TAG_SMALL_MD
            }
        };
        let cells = small_cells(len);
        let p = self.reserve(w, cells);
        let region = cells * CELL - HEADER;
        let rid = routing_id.to_le_bytes();
        let len16 = (len as u16).to_le_bytes();
        let header = [tag, flags, len16[0], len16[1], rid[0], rid[1], rid[2], rid[3]];
        // SAFETY: `cells` unpublished cells of our own hold the header and
        // the region; `src` holds `len` bytes, and the region's if it is
        // that long.
        unsafe {
            let dst = p.add(HEADER);
            if src.len() >= region {
                copy_region(src.as_ptr(), dst, region);
            } else {
                // The region is written whole, for the reader's
                // fixed-size copies: its last cell zeroed (but for the
                // entry's first byte, which `tag` sets: the reader may be
                // looking at it), then the body.
                if cells == 1 {
                    ptr::write_bytes(p.add(1), 0, CELL - 1);
                } else {
                    p.add((cells - 1) * CELL).cast::<[u8; CELL]>().write([0; CELL]);
                }
                ptr::copy_nonoverlapping(src.as_ptr(), dst, len);
            }
            // All but the first byte, which `tag` sets.
            ptr::copy_nonoverlapping(header.as_ptr().add(1), p.add(1), HEADER - 1);
            self.tag(w, p, tag);
        }
    }

    /// Claims `n` cells (at most a chunk) at the tail, in one chunk: the
    /// rest of a chunk too short for them is marked skipped.
    #[inline(always)]
    fn reserve(&self, w: &mut Writer, n: usize) -> *mut u8 {
        if w.pos + n > CELLS {
            self.next_write_chunk(w);
        }
        // SAFETY: `w.pos + n <= CELLS`.
        let p = unsafe { Chunk::at(w.chunk, w.pos) };
        w.pos += n;
        if w.pos >= w.cleared {
            // The first time here in this chunk: where the reader looks
            // after this entry must read "not yet written" (published with
            // the entry). Afterwards the reader clears what it takes.
            if w.pos < CELLS {
                // SAFETY: a cell of our own, past everything published.
                unsafe { Chunk::clear(w.chunk, w.pos) };
            }
            w.cleared = (w.pos + 1).min(CELLS);
        }
        p
    }

    /// For [`YPipe::reserve`]: skips the rest of the writer's chunk and
    /// moves to the next, a spare one if the reader left one.
    #[cold]
    #[inline(never)]
    fn next_write_chunk(&self, w: &mut Writer) {
        if w.pos < CELLS {
            // SAFETY: an unpublished cell of our own.
            unsafe { self.tag(w, Chunk::at(w.chunk, w.pos), TAG_SKIP) };
        }
        let spare = self
            .spares
            .iter()
            .find(|s| !s.load(Ordering::Relaxed).is_null())
            .map_or(ptr::null_mut(), |s| s.swap(ptr::null_mut(), Ordering::Acquire));
        let next = if spare.is_null() {
            Chunk::alloc()
        } else {
            // SAFETY: the reader handed this chunk over entirely, having
            // cleared every cell it took.
            unsafe { (*spare).next.store(ptr::null_mut(), Ordering::Relaxed) };
            spare
        };
        // SAFETY: the tail chunk lives until the reader passes it, which
        // needs this link (published before any cell of `next`); the
        // `cleared` fields are the writer's.
        unsafe {
            (*w.chunk).cleared = w.cleared;
            (*w.chunk).next.store(next, Ordering::Release);
            w.cleared = (*next).cleared;
        }
        w.chunk = next;
        w.pos = 0;
    }

    /// Makes every pushed frame visible (a release store; the caller fences
    /// before looking at the reader's sleep flag).
    ///
    /// # Safety
    /// Only the writer may call this.
    pub unsafe fn publish(&self) {
        // SAFETY: the writer half belongs to the calling (writer) thread.
        let w = unsafe { &mut *self.writer.0.get() };
        if !w.pending.is_null() {
            // SAFETY: the first byte of our first unpublished entry.
            unsafe { (*w.pending.cast::<AtomicU8>()).store(w.pending_tag, Ordering::Release) };
            w.pending = ptr::null_mut();
        }
    }

    /// Looks again at what the writer has published; whether any frame is
    /// available to [`YPipe::front_is_delimiter`] and [`YPipe::pop`]. Those
    /// see nothing new after they have found the queue empty, until the
    /// next refresh.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn refresh(&self) -> bool {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        unsafe { (*self.reader.0.get()).open = true };
        // SAFETY: per this function's contract.
        unsafe { self.head().is_some() }
    }

    /// The first byte of the entry at `p`: zero until the writer has
    /// published it (an acquire load, which makes the entry and every entry
    /// published with it visible).
    ///
    /// # Safety
    /// `p` is a cell of a live chunk.
    #[inline]
    unsafe fn tag_at(p: *mut u8) -> u8 {
        // SAFETY: per this function's contract.
        unsafe { (*p.cast::<AtomicU8>()).load(Ordering::Acquire) }
    }

    /// The next available frame's entry, past skips and metadata (which are
    /// taken on the way: the writer publishes them only with the entry they
    /// precede).
    ///
    /// # Safety
    /// Only the reader may call this.
    #[inline]
    unsafe fn head(&self) -> Option<*mut u8> {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &mut *self.reader.0.get() };
        if !r.open {
            return None;
        }
        if r.pos != CELLS {
            // SAFETY: a cell of the reader's chunk.
            let p = unsafe { Chunk::at(r.chunk, r.pos) };
            // SAFETY: as above.
            match unsafe { Self::tag_at(p) } {
                0 => {
                    r.open = false;
                    return None;
                }
                TAG_SKIP | TAG_METADATA => {}
                _ => return Some(p),
            }
        }
        self.head_slow(r)
    }

    /// [`YPipe::head`] at a chunk's end, a skip or metadata.
    #[cold]
    fn head_slow(&self, r: &mut Reader) -> Option<*mut u8> {
        loop {
            if r.pos == CELLS {
                // The writer links the next chunk before it writes there.
                // SAFETY: the chunk is alive; only the reader frees it.
                let next = unsafe { (*r.chunk).next.load(Ordering::Acquire) };
                if next.is_null() {
                    r.open = false;
                    return None;
                }
                self.next_chunk(r, next);
            }
            // SAFETY: a cell of the reader's chunk.
            let p = unsafe { Chunk::at(r.chunk, r.pos) };
            // SAFETY: as above.
            match unsafe { Self::tag_at(p) } {
                0 => {
                    r.open = false;
                    return None;
                }
                TAG_SKIP => {
                    // SAFETY: the skip's cell, read; the cells after it
                    // were not written.
                    unsafe { Chunk::clear(r.chunk, r.pos) };
                    r.pos = CELLS;
                }
                TAG_METADATA => {
                    // SAFETY: the reference the writer put there, taken once.
                    let md = unsafe { Arc::from_raw(p.add(8).cast::<*const Metadata>().read()) };
                    r.metadata = Some(md);
                    self.advance(r, 1);
                }
                _ => return Some(p),
            }
        }
    }

    /// Moves the reader to the next chunk, handing the finished one to the
    /// writer.
    fn next_chunk(&self, r: &mut Reader, next: *mut Chunk) {
        let done = mem::replace(&mut r.chunk, next);
        r.pos = 0;
        let kept = self.spares.iter().any(|s| {
            s.compare_exchange(ptr::null_mut(), done, Ordering::Release, Ordering::Relaxed)
                .is_ok()
        });
        if !kept {
            // SAFETY: a finished chunk belongs to nobody else.
            drop(unsafe { Box::from_raw(done) });
        }
    }

    /// Whether the next available frame is a delimiter; `None` when no frame
    /// is available.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn front_is_delimiter(&self) -> Option<bool> {
        // SAFETY: per this function's contract; the entry's first byte.
        unsafe { self.head().map(|p| *p == Kind::Delimiter as u8) }
    }

    /// Takes the next available frame.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn pop(&self) -> Option<Msg> {
        // SAFETY: per this function's contract.
        let p = unsafe { self.head()? };
        // SAFETY: `head` found a published frame entry at `p`.
        Some(unsafe { self.take(p) })
    }

    /// Takes the next available frame unless it is a delimiter.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn pop_frame(&self) -> Option<Msg> {
        // SAFETY: per this function's contract.
        let p = unsafe { self.head()? };
        // SAFETY: `head` found a published frame entry at `p`.
        unsafe { (*p != Kind::Delimiter as u8).then(|| self.take(p)) }
    }

    /// Takes the next available frame if it travels as bytes and has none
    /// of the `refused` flags, handing it to `f` instead of building a
    /// `Msg`; returns the flags and what `f` returned.
    ///
    /// # Safety
    /// Only the reader may call this.
    #[inline]
    pub unsafe fn pop_small<R>(&self, refused: u8, f: impl FnOnce(Small<'_>) -> R) -> Option<(u8, R)> {
        // SAFETY: per this function's contract.
        let p = unsafe { self.head()? };
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &mut *self.reader.0.get() };
        // SAFETY: `head` found a published frame entry at `p`.
        let small = unsafe {
            if !matches!(*p, TAG_SMALL | TAG_SMALL_MD) || *p.add(1) & refused != 0 {
                return None;
            }
            Self::small_at(p, r)
        };
        let (flags, cells) = (small.flags, small_cells(small.body.len()));
        let out = f(small);
        self.advance(r, cells);
        Some((flags, out))
    }

    /// The small frame whose entry is at `p`.
    ///
    /// # Safety
    /// `p` is a published small frame entry (tag [`TAG_SMALL`] or
    /// [`TAG_SMALL_MD`]), which holds its header and its whole padded
    /// region; `r` is the reader half.
    unsafe fn small_at<'a>(p: *const u8, r: &'a Reader) -> Small<'a> {
        // SAFETY: per this function's contract.
        unsafe {
            let len = u16::from_le(p.add(2).cast::<u16>().read()) as usize;
            Small {
                flags: *p.add(1),
                routing_id: u32::from_le(p.add(4).cast::<u32>().read()),
                metadata: if *p == TAG_SMALL_MD { r.metadata.as_ref() } else { None },
                body: std::slice::from_raw_parts(p.add(HEADER), len),
                padded: small_cells(len) * CELL - HEADER,
            }
        }
    }

    /// Moves every published frame to `out`; returns how many.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn pop_all(&self, out: &mut VecDeque<Msg>) -> u64 {
        let mut n = 0;
        // SAFETY: per this function's contract.
        unsafe {
            self.refresh();
            while let Some(msg) = self.pop() {
                out.push_back(msg);
                n += 1;
            }
        }
        n
    }

    /// Reads the frame entry at `p`, the reader's position, and moves past
    /// it.
    ///
    /// # Safety
    /// `p` is the published frame entry `head` returned; only the reader.
    unsafe fn take(&self, p: *mut u8) -> Msg {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &mut *self.reader.0.get() };
        // SAFETY: a published entry, read exactly once.
        let (msg, cells) = unsafe {
            match *p {
                TAG_SMALL | TAG_SMALL_MD => {
                    let small = Self::small_at(p, r);
                    (Msg::from_small(&small), small_cells(small.body.len()))
                }
                _ => (p.cast::<Msg>().read(), MSG_CELLS),
            }
        };
        self.advance(r, cells);
        msg
    }

    /// Moves the reader past an entry of `cells` cells.
    #[inline]
    fn advance(&self, r: &mut Reader, cells: usize) {
        // SAFETY: the entry's cells, read.
        let mut p = unsafe { Chunk::at(r.chunk, r.pos) };
        let end = p.wrapping_add(cells * CELL);
        while p != end {
            // SAFETY: as above.
            unsafe {
                (*p.cast::<AtomicU8>()).store(0, Ordering::Relaxed);
                p = p.add(CELL);
            }
        }
        r.pos += cells;
    }
}

impl Default for YPipe {
    fn default() -> Self {
        YPipe::new()
    }
}

impl Drop for YPipe {
    fn drop(&mut self) {
        // Exclusive access: drop what was pushed and never taken (messages
        // and metadata references), then free the chain from the reader's
        // chunk to the writer's, and the spares.
        let w = self.writer.0.get_mut();
        let (tail, tail_pos) = (w.chunk, w.pos);
        if !w.pending.is_null() {
            // SAFETY: exclusive access; the entry's first byte, as
            // `publish` would have set it.
            unsafe { *w.pending = w.pending_tag };
        }
        let r = self.reader.0.get_mut();
        let (mut chunk, mut pos) = (r.chunk, r.pos);
        while (chunk, pos) != (tail, tail_pos) {
            if pos == CELLS {
                // SAFETY: exclusive access; the writer linked the next chunk.
                let next = unsafe { (*chunk).next.load(Ordering::Relaxed) };
                // SAFETY: no cell of this chunk is in use any more.
                drop(unsafe { Box::from_raw(chunk) });
                chunk = next;
                pos = 0;
                continue;
            }
            // SAFETY: cells between the reader and the writer hold entries.
            let p = unsafe { Chunk::at(chunk, pos) };
            // SAFETY: as above; each entry is dropped once.
            let cells = unsafe {
                match *p {
                    TAG_SKIP => CELLS - pos,
                    TAG_METADATA => {
                        drop(Arc::from_raw(p.add(8).cast::<*const Metadata>().read()));
                        1
                    }
                    TAG_SMALL | TAG_SMALL_MD => small_cells(u16::from_le(p.add(2).cast::<u16>().read()) as usize),
                    _ => {
                        ptr::drop_in_place(p.cast::<Msg>());
                        MSG_CELLS
                    }
                }
            };
            pos += cells;
        }
        // SAFETY: the writer's chunk holds no live entries now.
        drop(unsafe { Box::from_raw(chunk) });
        for spare in &mut self.spares {
            let spare = *spare.get_mut();
            if !spare.is_null() {
                // SAFETY: a spare belongs to nobody else.
                drop(unsafe { Box::from_raw(spare) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::flags;
    use std::sync::Arc;

    fn frame(i: usize) -> Msg {
        // Sizes 0 to 199 cross the small/whole boundary and the inline one.
        let len = i % 200;
        let bytes: Vec<u8> = (0..len).map(|k| (i + k) as u8).collect();
        let mut m = Msg::from_slice(&bytes).unwrap();
        if i % 3 == 0 {
            m.set_flags(flags::MORE);
        }
        m
    }

    fn check(m: &Msg, i: usize) {
        let len = i % 200;
        assert_eq!(m.size(), len, "frame {i}");
        assert!(m.data().iter().enumerate().all(|(k, &b)| b == (i + k) as u8));
        assert_eq!(m.more(), i % 3 == 0);
    }

    #[test]
    fn items_appear_only_when_published() {
        let q = YPipe::new();
        let mut out = VecDeque::new();
        // SAFETY: single-threaded test: this thread is both ends.
        unsafe {
            q.push(frame(1), None);
            q.push(frame(2), None);
            assert_eq!(q.pop_all(&mut out), 0);
            q.publish();
            assert_eq!(q.pop_all(&mut out), 2);
            assert_eq!(q.pop_all(&mut out), 0);
        }
        check(&out[0], 1);
        check(&out[1], 2);
    }

    #[test]
    fn crosses_chunks_and_drops_leftovers() {
        let q = YPipe::new();
        let mut out = VecDeque::new();
        let md = Arc::new(Metadata::new());
        // SAFETY: single-threaded test.
        unsafe {
            for i in 0..700 {
                q.push(frame(i), None);
            }
            q.publish();
            assert_eq!(q.pop_all(&mut out), 700);
            for i in 700..1300 {
                let mut m = frame(i);
                m.set_metadata(md.clone());
                q.push(m, None);
            }
            q.publish();
            for i in 1300..1400 {
                q.push(frame(i), None);
            }
            q.push(Msg::delimiter(), None);
        }
        out.iter().enumerate().for_each(|(i, m)| check(m, i));
        // 600 published and 101 unpublished frames, and the metadata's
        // references, are freed by Drop (valgrind flags a leak or a double
        // free).
        drop(q);
        assert_eq!(Arc::strong_count(&md), 1);
    }

    #[test]
    fn metadata_and_routing_ids_survive() {
        let q = YPipe::new();
        let a = Arc::new(Metadata::new());
        let b = Arc::new(Metadata::new());
        // SAFETY: single-threaded test.
        unsafe {
            for i in 0..10 {
                let mut m = Msg::from_slice(&[i as u8; 5]).unwrap();
                if i % 4 != 3 {
                    m.set_metadata(if i < 5 { a.clone() } else { b.clone() });
                }
                m.set_routing_id(i + 1).unwrap();
                // Frame 7 has none of its own and gets the queue's.
                q.push(m, (i == 7).then_some(&a));
            }
            q.push(Msg::delimiter(), None);
            q.publish();
            q.refresh();
            for i in 0..10 {
                assert_eq!(q.front_is_delimiter(), Some(false));
                let m = q.pop_frame().unwrap();
                assert_eq!(m.data(), [i as u8; 5]);
                assert_eq!(m.routing_id(), i + 1);
                match m.metadata() {
                    None => assert!(i == 3),
                    Some(md) => assert!(Arc::ptr_eq(md, if i < 5 || i == 7 { &a } else { &b })),
                }
            }
            assert_eq!(q.front_is_delimiter(), Some(true));
            assert!(q.pop_frame().is_none());
            assert!(q.pop().unwrap().is_delimiter());
            assert_eq!(q.front_is_delimiter(), None);
        }
        drop(q);
        assert_eq!(Arc::strong_count(&a), 1);
        assert_eq!(Arc::strong_count(&b), 1);
    }

    /// Frames given as bytes, with and without bytes after them to pad
    /// their last cell, of every small length.
    #[test]
    fn bytes_round_trip_padded_or_not() {
        let q = YPipe::new();
        let src: Vec<u8> = (0..=COMPACT_MAX as u8 + 16).map(|b| b ^ 0x5a).collect();
        // SAFETY: single-threaded test.
        unsafe {
            for len in 0..=COMPACT_MAX {
                q.push_bytes(flags::MORE, len as u32, &src[..len], len, None);
                q.push_bytes(0, 7, &src, len, None);
            }
            q.publish();
            q.refresh();
            for len in 0..=COMPACT_MAX {
                for (more, rid) in [(true, len as u32), (false, 7)] {
                    let m = q.pop().unwrap();
                    assert_eq!(m.data(), &src[..len], "length {len}");
                    assert_eq!((m.more(), m.routing_id()), (more, rid));
                }
            }
            assert!(q.pop().is_none());
        }
    }

    /// A receiver's message is refilled in place when its body is its own,
    /// and replaced when it is shared.
    #[test]
    fn small_frames_refill_an_unshared_body() {
        let q = YPipe::new();
        let frames: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 64]).collect();
        let md = Arc::new(Metadata::new());
        // SAFETY: single-threaded test.
        unsafe {
            for f in &frames {
                q.push_bytes(0, 0, f, f.len(), Some(&md));
            }
            q.publish();
            q.refresh();
        }
        let mut msg = Msg::new();
        // SAFETY: single-threaded test.
        let next = |msg: &mut Msg| unsafe { q.pop_small(0, |s| msg.assign_small(&s)).unwrap() };
        next(&mut msg);
        assert_eq!(msg.data(), &frames[0][..]);
        let body = msg.data().as_ptr();
        next(&mut msg);
        assert_eq!((msg.data(), msg.data().as_ptr()), (&frames[1][..], body));
        assert!(Arc::ptr_eq(msg.metadata().unwrap(), &md));
        let copy = msg.share();
        next(&mut msg);
        assert_eq!(msg.data(), &frames[2][..]);
        assert_ne!(msg.data().as_ptr(), body);
        assert_eq!(copy.data(), &frames[1][..]);
        drop(copy);
        next(&mut msg);
        assert_eq!(msg.data(), &frames[3][..]);
        drop(msg);
        drop(q);
        assert_eq!(Arc::strong_count(&md), 1);
    }

    /// Nothing is readable before it is published, however the cells were
    /// used before: chunks go round many times, with entries of every size
    /// starting where earlier laps put bodies, skips and whole messages.
    #[test]
    fn recycled_cells_read_unwritten_until_published() {
        let q = YPipe::new();
        let mut next = 0;
        let mut out = VecDeque::new();
        for round in 0..400 {
            let batch = 1 + round % 37;
            // SAFETY: single-threaded test: this thread is both ends.
            unsafe {
                for i in next..next + batch {
                    q.push(frame(i * 7 + round), None);
                }
                assert!(!q.refresh(), "round {round}: seen before publish");
                assert!(q.pop().is_none());
                q.publish();
                assert_eq!(q.pop_all(&mut out), batch as u64, "round {round}");
                assert!(!q.refresh());
            }
            for (k, m) in out.drain(..).enumerate() {
                check(&m, (next + k) * 7 + round);
            }
            next += batch;
        }
    }

    #[test]
    fn two_threads_in_order() {
        let q = Arc::new(YPipe::new());
        let w = q.clone();
        const N: usize = 1_000_000;
        let writer = std::thread::spawn(move || {
            for i in 0..N {
                // SAFETY: this thread is the only writer.
                unsafe { w.push(frame(i), None) };
                if i % 100 == 99 {
                    // SAFETY: as above.
                    unsafe { w.publish() };
                }
            }
            // SAFETY: as above.
            unsafe { w.publish() };
        });
        let mut out = VecDeque::new();
        let mut expect = 0;
        while expect < N {
            // SAFETY: this thread is the only reader.
            if unsafe { q.pop_all(&mut out) } == 0 {
                std::hint::spin_loop();
            }
            while let Some(m) = out.pop_front() {
                check(&m, expect);
                expect += 1;
            }
        }
        writer.join().unwrap();
    }
}
