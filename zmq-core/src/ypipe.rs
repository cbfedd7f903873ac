//! A lock-free single-producer single-consumer queue (libzmq: src/yqueue.hpp,
//! src/ypipe.hpp).
//!
//! Items live in chunks of [`CHUNK`] slots linked front to back. The writer
//! fills slots at the tail and makes them visible with one release store of
//! a counter; the reader takes everything up to that count from the head,
//! freeing chunks it has passed (one is kept aside for the writer to reuse,
//! so a steady stream allocates nothing). Publishing many items with one
//! store is what keeps multipart messages atomic: the pipe publishes only up
//! to the end of its last complete message.
//!
//! Safety rests on the SPSC discipline: `push`/`publish` are called by one
//! thread at a time (the writer) and `refresh`/`front`/`pop`/`pop_all` by
//! one other (the reader); the owning pipe ends enforce it by ownership (an
//! end moves between threads only through a synchronising hand-over, such as
//! a mailbox).

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Slots per chunk.
const CHUNK: usize = 256;

struct Chunk<T> {
    slots: [UnsafeCell<MaybeUninit<T>>; CHUNK],
    next: AtomicPtr<Chunk<T>>,
}

impl<T> Chunk<T> {
    fn alloc() -> *mut Chunk<T> {
        Box::into_raw(Box::new(Chunk {
            slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; CHUNK],
            next: AtomicPtr::new(ptr::null_mut()),
        }))
    }
}

struct Writer<T> {
    chunk: *mut Chunk<T>,
    pos: usize,
    /// Items pushed (published or not).
    pushed: u64,
}

struct Reader<T> {
    chunk: *mut Chunk<T>,
    pos: usize,
    /// Items taken.
    popped: u64,
    /// Items known to be published and not yet taken (as of the last
    /// [`YPipe::refresh`]).
    avail: u64,
}

/// Keeps what it holds on cache lines of its own (128 bytes: adjacent-line
/// prefetching pairs 64-byte lines), so that one thread's writes do not
/// invalidate the line another thread is reading (false sharing).
#[repr(align(128))]
struct Own<T>(T);

/// The queue shared by one writer and one reader. The writer's half, the
/// reader's half and the published count each sit on their own cache lines:
/// a push touches only the writer's line, and the reader polls only the
/// published count.
pub struct YPipe<T> {
    writer: Own<UnsafeCell<Writer<T>>>,
    reader: Own<UnsafeCell<Reader<T>>>,
    /// Items the reader may take (release-stored by the writer).
    published: Own<AtomicU64>,
    /// A chunk the reader finished with, for the writer to reuse.
    spare: AtomicPtr<Chunk<T>>,
}

// SAFETY: the writer half is touched only by the writing thread and the
// reader half only by the reading thread (the SPSC contract above); they
// share only atomics. Items move between threads, so T must be Send.
unsafe impl<T: Send> Send for YPipe<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for YPipe<T> {}

impl<T> YPipe<T> {
    pub fn new() -> YPipe<T> {
        let first = Chunk::alloc();
        YPipe {
            writer: Own(UnsafeCell::new(Writer {
                chunk: first,
                pos: 0,
                pushed: 0,
            })),
            reader: Own(UnsafeCell::new(Reader {
                chunk: first,
                pos: 0,
                popped: 0,
                avail: 0,
            })),
            published: Own(AtomicU64::new(0)),
            spare: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Appends an item, not yet visible to the reader.
    ///
    /// # Safety
    /// Only the writer may call this.
    pub unsafe fn push(&self, item: T) {
        // SAFETY: the writer half belongs to the calling (writer) thread.
        let w = unsafe { &mut *self.writer.0.get() };
        // SAFETY: this slot lies beyond what was published, so the reader
        // never looks at it; it is uninitialised.
        unsafe { (*(*w.chunk).slots[w.pos].get()).write(item) };
        w.pos += 1;
        w.pushed += 1;
        if w.pos == CHUNK {
            let spare = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
            let next = if spare.is_null() {
                Chunk::alloc()
            } else {
                // SAFETY: the reader handed this chunk over entirely.
                unsafe { (*spare).next.store(ptr::null_mut(), Ordering::Relaxed) };
                spare
            };
            // SAFETY: the tail chunk lives until the reader passes it, which
            // needs this link (published before any item of `next`).
            unsafe { (*w.chunk).next.store(next, Ordering::Release) };
            w.chunk = next;
            w.pos = 0;
        }
    }

    /// Makes every pushed item visible (a release store; the caller fences
    /// before looking at the reader's sleep flag).
    ///
    /// # Safety
    /// Only the writer may call this.
    pub unsafe fn publish(&self) {
        // SAFETY: the writer half belongs to the calling (writer) thread.
        let pushed = unsafe { (*self.writer.0.get()).pushed };
        self.published.0.store(pushed, Ordering::Release);
    }

    /// Looks again at what the writer has published; whether any item is
    /// available to [`YPipe::front`] and [`YPipe::pop`]. Those two see only
    /// what the last refresh saw, so the shared counter is read once per
    /// batch rather than once per item.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn refresh(&self) -> bool {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &mut *self.reader.0.get() };
        r.avail = self.published.0.load(Ordering::Acquire) - r.popped;
        r.avail > 0
    }

    /// The next available item, left in place.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn front(&self) -> Option<&T> {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &*self.reader.0.get() };
        if r.avail == 0 {
            return None;
        }
        // SAFETY: published (seen by an acquire in `refresh`) and not yet
        // taken, so initialised; only the reader takes it.
        Some(unsafe { (*(*r.chunk).slots[r.pos].get()).assume_init_ref() })
    }

    /// Takes the next available item.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn pop(&self) -> Option<T> {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &mut *self.reader.0.get() };
        if r.avail == 0 {
            return None;
        }
        r.avail -= 1;
        // SAFETY: as in `front`; read exactly once, then passed.
        Some(unsafe { self.take(r) })
    }

    /// Takes the next available item if `wanted` says so.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn pop_if(&self, wanted: impl FnOnce(&T) -> bool) -> Option<T> {
        // SAFETY: as in `front` and `pop`.
        unsafe {
            if !wanted(self.front()?) {
                return None;
            }
            self.pop()
        }
    }

    /// Moves every published item to `out`; returns how many.
    ///
    /// # Safety
    /// Only the reader may call this.
    pub unsafe fn pop_all(&self, out: &mut VecDeque<T>) -> u64 {
        // SAFETY: the reader half belongs to the calling (reader) thread.
        let r = unsafe { &mut *self.reader.0.get() };
        let n = self.published.0.load(Ordering::Acquire) - r.popped;
        for _ in 0..n {
            // SAFETY: published (the acquire above pairs with the writer's
            // release), initialised, and read exactly once.
            out.push_back(unsafe { self.take(r) });
        }
        r.avail = 0;
        n
    }

    /// Reads the item at the reader's position and moves past it, handing a
    /// finished chunk to the writer.
    ///
    /// # Safety
    /// The item is published and not yet taken; `r` is the reader half.
    unsafe fn take(&self, r: &mut Reader<T>) -> T {
        // SAFETY: per this function's contract.
        let item = unsafe { (*(*r.chunk).slots[r.pos].get()).assume_init_read() };
        r.popped += 1;
        r.pos += 1;
        if r.pos == CHUNK {
            // The writer linked the next chunk before publishing past
            // this one, and we saw that publish.
            // SAFETY: the chunk is alive; only the reader frees it.
            let next = unsafe { (*r.chunk).next.load(Ordering::Acquire) };
            let done = std::mem::replace(&mut r.chunk, next);
            r.pos = 0;
            let old = self.spare.swap(done, Ordering::AcqRel);
            if !old.is_null() {
                // SAFETY: a spare chunk belongs to nobody else.
                drop(unsafe { Box::from_raw(old) });
            }
        }
        item
    }
}

impl<T> Default for YPipe<T> {
    fn default() -> Self {
        YPipe::new()
    }
}

impl<T> Drop for YPipe<T> {
    fn drop(&mut self) {
        // Exclusive access: drop what was pushed and never taken, then free
        // the chain from the reader's chunk to the writer's, and the spare.
        let pushed = self.writer.0.get_mut().pushed;
        let r = self.reader.0.get_mut();
        let (mut chunk, mut pos, mut left) = (r.chunk, r.pos, pushed - r.popped);
        while left > 0 {
            // SAFETY: slots between the reader and the writer are initialised.
            unsafe { (*(*chunk).slots[pos].get()).assume_init_drop() };
            left -= 1;
            pos += 1;
            if pos == CHUNK {
                // SAFETY: exclusive access; the writer linked the next chunk.
                let next = unsafe { (*chunk).next.load(Ordering::Relaxed) };
                // SAFETY: no slot of this chunk is in use any more.
                drop(unsafe { Box::from_raw(chunk) });
                chunk = next;
                pos = 0;
            }
        }
        // SAFETY: the writer's chunk holds no live items now.
        drop(unsafe { Box::from_raw(chunk) });
        let spare = *self.spare.get_mut();
        if !spare.is_null() {
            // SAFETY: the spare belongs to nobody else.
            drop(unsafe { Box::from_raw(spare) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn items_appear_only_when_published() {
        let q = YPipe::new();
        let mut out = VecDeque::new();
        // SAFETY: single-threaded test: this thread is both ends.
        unsafe {
            q.push(1);
            q.push(2);
            assert_eq!(q.pop_all(&mut out), 0);
            q.publish();
            assert_eq!(q.pop_all(&mut out), 2);
            assert_eq!(q.pop_all(&mut out), 0);
        }
        assert_eq!(out, [1, 2]);
    }

    #[test]
    fn crosses_chunks_and_drops_leftovers() {
        let q = YPipe::new();
        let mut out = VecDeque::new();
        // SAFETY: single-threaded test.
        unsafe {
            for i in 0..700 {
                q.push(Box::new(i));
            }
            q.publish();
            assert_eq!(q.pop_all(&mut out), 700);
            for i in 700..1300 {
                q.push(Box::new(i));
            }
            q.publish();
            for i in 1300..1400 {
                q.push(Box::new(i));
            }
        }
        assert!(out.iter().enumerate().all(|(i, b)| **b == i));
        // 600 published and 100 unpublished boxes are freed by Drop
        // (valgrind flags a leak or a double free).
        drop(q);
    }

    #[test]
    fn two_threads_in_order() {
        let q = Arc::new(YPipe::new());
        let w = q.clone();
        const N: u64 = 2_000_000;
        let writer = std::thread::spawn(move || {
            for i in 0..N {
                // SAFETY: this thread is the only writer.
                unsafe { w.push(i) };
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
            while let Some(v) = out.pop_front() {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
        writer.join().unwrap();
    }
}
