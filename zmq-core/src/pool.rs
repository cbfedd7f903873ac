//! Recycled blocks for message contents up to 1 MiB.
//!
//! A message is typically allocated by one thread (the application's
//! `zmq_msg_init_size`, or an I/O thread decoding) and freed by another
//! (the I/O thread once it is written, the application once it is read).
//! glibc's per-thread caches do not survive that pattern: every such
//! message cost a trip through the arena (about 300 instructions to malloc
//! and free a 64-byte body, measured with callgrind). Here a thread keeps
//! the blocks it frees on a list of its own, served first to its own
//! allocations; past [`LOCAL_BYTES`] of a class it gives the whole list to
//! a lock-free stack of that class, shared by all threads, in one push. An
//! allocating thread whose lists run dry takes that whole stack at once, in
//! one swap. Pushing a list and taking them all are the only operations on
//! the shared stack, so it has no ABA problem; taking a block from a
//! thread's own lists is a pointer chase, with no atomic operation.
//!
//! What is kept is bounded: the shared stacks together take at most
//! [`KEEP_BYTES`] worth of blocks (more go back to the allocator), and a
//! thread's lists are what it freed (up to [`LOCAL_BYTES`] a class) and
//! what it last took from there (freed when the thread ends). A steady
//! stream of messages therefore reuses the same blocks.
//!
//! The large classes (4 KiB to 1 MiB bodies, sized for the content header
//! in front) matter as much as the small ones: glibc serves a large block
//! freed by another thread through that thread's arena lock, and trims and
//! refaults the heap top as the queue between the threads grows and
//! shrinks. 64 KiB inproc messages ran at 0.5-1.2M/s against libzmq's
//! 1.9M/s, with a third of the time in page faults and lock waits; 1 MiB
//! ones spent 14% of their time waking each other on that lock
//! (`__lll_lock_wake_private`) before they had classes of their own.

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Block sizes (header and body together), smallest first. From 4 KiB
/// on, a power of two of body and 64 bytes for the header, up to 1 MiB.
const CLASSES: [usize; 14] = [
    128, 256, 512, 1024, 2048, 4160, 8256, 16448, 32832, 65600, 131136, 262208, 524352,
    1048640,
];
const ALIGN: usize = 16;
/// The most bytes of blocks the shared stacks keep, all classes together:
/// as much as one pipe holds at the default HWM of 1,000 in 64 KiB
/// messages. 64 KiB inproc messages, whose pipe holds up to 2,000 of them
/// between the two threads, ran at 1.0-2.1M msg/s with a bound of 4 MiB a
/// class (most blocks went through glibc) and 6.4-9.8M with this one.
const KEEP_BYTES: usize = 64 << 20;

/// About how many bytes of blocks the shared stacks hold.
static KEPT_BYTES: AtomicUsize = AtomicUsize::new(0);

/// A freed block, linked through its first word.
struct Free {
    next: *mut Free,
}

/// Freed blocks of each class, from any thread.
static RETURNED: [AtomicPtr<Free>; CLASSES.len()] =
    [const { AtomicPtr::new(ptr::null_mut()) }; CLASSES.len()];

/// About how many blocks each stack holds (reset when a thread takes them
/// all; a push racing with that take may be counted on the wrong side of
/// it, which only loosens the bound by the number of racing threads).
static RETURNED_LEN: [AtomicUsize; CLASSES.len()] =
    [const { AtomicUsize::new(0) }; CLASSES.len()];

/// The blocks a thread frees of one class before it gives them to the
/// shared stack, in one push: as many as fit in this many bytes (at least
/// two). A thread that frees what it allocates (a sender copying small
/// bodies into a pipe, an application closing what it received) then never
/// touches a shared line, and one that only frees touches it once a batch.
const LOCAL_BYTES: usize = 64 << 10;

const LOCAL_MAX: [usize; CLASSES.len()] = {
    let mut max = [0; CLASSES.len()];
    let mut class = 0;
    while class < CLASSES.len() {
        let n = LOCAL_BYTES / CLASSES[class];
        max[class] = if n < 2 { 2 } else { n };
        class += 1;
    }
    max
};

/// A thread's own free blocks of each class, linked: those it freed itself
/// (`freed_len` of them, the oldest being `freed_tail`) and those it took
/// from the shared stack.
struct Cache {
    freed: [Cell<*mut Free>; CLASSES.len()],
    freed_tail: [Cell<*mut Free>; CLASSES.len()],
    freed_len: [Cell<usize>; CLASSES.len()],
    taken: [Cell<*mut Free>; CLASSES.len()],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for class in 0..CLASSES.len() {
            for list in [&self.freed[class], &self.taken[class]] {
                // SAFETY: the blocks of our lists are ours alone.
                unsafe { dealloc_list(list.replace(ptr::null_mut()), class) };
            }
        }
    }
}

/// Returns a linked list of free blocks of `class` to the allocator.
///
/// # Safety
/// Every block on the list is a free block of this class whose first word
/// links the next, and nobody else holds them.
unsafe fn dealloc_list(mut head: *mut Free, class: usize) {
    while !head.is_null() {
        // SAFETY: per this function's contract.
        unsafe {
            let next = (*head).next;
            alloc::dealloc(head.cast(), layout(class));
            head = next;
        }
    }
}

thread_local! {
    static CACHE: Cache = const {
        Cache {
            freed: [const { Cell::new(ptr::null_mut()) }; CLASSES.len()],
            freed_tail: [const { Cell::new(ptr::null_mut()) }; CLASSES.len()],
            freed_len: [const { Cell::new(0) }; CLASSES.len()],
            taken: [const { Cell::new(ptr::null_mut()) }; CLASSES.len()],
        }
    };
}

fn layout(class: usize) -> Layout {
    Layout::from_size_align(CLASSES[class], ALIGN).expect("valid constant layout")
}

/// The class whose blocks hold `size` bytes aligned to `align`, if any.
pub fn class_for(size: usize, align: usize) -> Option<usize> {
    if align > ALIGN {
        return None;
    }
    CLASSES.iter().position(|&c| size <= c)
}

/// A block of class `class` (uninitialised), or `None` if the allocator
/// has no memory.
pub fn alloc(class: usize) -> Option<NonNull<u8>> {
    let cached = CACHE
        .try_with(|cache| {
            if let Some(block) = pop(&cache.freed[class]) {
                cache.freed_len[class].set(cache.freed_len[class].get() - 1);
                return Some(block);
            }
            let taken = take(&cache.taken[class], &RETURNED[class], &RETURNED_LEN[class]);
            if taken.1 > 0 {
                KEPT_BYTES.fetch_sub(taken.1 * CLASSES[class], Ordering::Relaxed);
            }
            taken.0
        })
        .ok()
        .flatten();
    if cached.is_some() {
        return cached;
    }
    // SAFETY: the layout is non-zero-sized.
    NonNull::new(unsafe { alloc::alloc(layout(class)) })
}

/// Takes a block from `list`, refilled with everything on `stack` when it
/// is empty.
/// Also returns how many blocks a refill took off the stack (as counted).
fn take(
    list: &Cell<*mut Free>,
    stack: &AtomicPtr<Free>,
    len: &AtomicUsize,
) -> (Option<NonNull<u8>>, usize) {
    let mut taken = 0;
    if list.get().is_null() {
        // The stack's blocks are ours from the swap on.
        list.set(stack.swap(ptr::null_mut(), Ordering::Acquire));
        if !list.get().is_null() {
            taken = len.swap(0, Ordering::Relaxed);
        }
    }
    (pop(list), taken)
}

/// Takes the first block of a thread's own `list`.
fn pop(list: &Cell<*mut Free>) -> Option<NonNull<u8>> {
    let block = NonNull::new(list.get())?;
    // SAFETY: a free block of a list of our own; its first word links the
    // next.
    list.set(unsafe { (*block.as_ptr()).next });
    Some(block.cast())
}

/// Gives a block back.
///
/// # Safety
/// `block` came from [`alloc`] with the same `class` and is no longer used.
pub unsafe fn free(block: NonNull<u8>, class: usize) {
    let node = block.as_ptr().cast::<Free>();
    let kept = CACHE.try_with(|cache| {
        let (freed, len) = (&cache.freed[class], &cache.freed_len[class]);
        // SAFETY: the block is ours, at least one word long and aligned.
        unsafe { ptr::write(node, Free { next: freed.get() }) };
        if len.get() == 0 {
            cache.freed_tail[class].set(node);
        }
        freed.set(node);
        len.set(len.get() + 1);
        if len.get() >= LOCAL_MAX[class] {
            let n = len.replace(0);
            let head = freed.replace(ptr::null_mut());
            // SAFETY: the list we just detached, `n` blocks from `head`
            // to its tail.
            unsafe { give_back(head, cache.freed_tail[class].get(), n, class) };
        }
    });
    if kept.is_ok() {
        return;
    }
    // This thread is ending: straight to the shared stack.
    // SAFETY: per this function's contract.
    unsafe { give_back(node, node, 1, class) }
}

/// Gives `n` linked free blocks, `head` to `tail`, to the shared stack of
/// their class, or to the allocator if the stacks hold enough.
///
/// # Safety
/// The blocks form one list of free blocks of `class`, nobody else's.
unsafe fn give_back(head: *mut Free, tail: *mut Free, n: usize, class: usize) {
    let size = n * CLASSES[class];
    if KEPT_BYTES.fetch_add(size, Ordering::Relaxed) + size > KEEP_BYTES {
        KEPT_BYTES.fetch_sub(size, Ordering::Relaxed);
        // SAFETY: per this function's contract.
        return unsafe { dealloc_list(head, class) };
    }
    RETURNED_LEN[class].fetch_add(n, Ordering::Relaxed);
    // SAFETY: per this function's contract.
    unsafe { push(&RETURNED[class], head, tail) }
}

/// Pushes a list of freed blocks, `head` to `tail`, onto `stack`.
///
/// # Safety
/// The blocks are pool blocks no longer used, linked from `head` to `tail`.
unsafe fn push(stack: &AtomicPtr<Free>, head: *mut Free, tail: *mut Free) {
    let mut top = stack.load(Ordering::Relaxed);
    loop {
        // SAFETY: the tail block is ours and at least one word long.
        unsafe { (*tail).next = top };
        match stack.compare_exchange_weak(top, head, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return,
            Err(current) => top = current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_for(1, 8), Some(0));
        assert_eq!(class_for(128, 8), Some(0));
        assert_eq!(class_for(129, 8), Some(1));
        assert_eq!(class_for(2048, 16), Some(4));
        assert_eq!(class_for(2049, 8), Some(5));
        assert_eq!(class_for(65600, 8), Some(9));
        assert_eq!(class_for(65601, 8), Some(10));
        assert_eq!(class_for(1048640, 8), Some(13));
        assert_eq!(class_for(1048641, 8), None);
        assert_eq!(class_for(8, 32), None);
    }

    /// Blocks pushed by one thread are all taken by another, in one swap,
    /// then one at a time from its own list.
    #[test]
    fn blocks_come_back_across_threads() {
        static STACK: AtomicPtr<Free> = AtomicPtr::new(ptr::null_mut());
        static LEN: AtomicUsize = AtomicUsize::new(100);
        let n = 100;
        let blocks: Vec<usize> = (0..n).map(|_| alloc(2).unwrap().as_ptr() as usize).collect();
        let pushed = blocks.clone();
        std::thread::spawn(move || {
            for b in pushed {
                let node = b as *mut Free;
                // SAFETY: allocated above with class 2, unused.
                unsafe { push(&STACK, node, node) };
            }
        })
        .join()
        .unwrap();
        let list = Cell::new(ptr::null_mut());
        let mut taken: Vec<usize> = std::iter::from_fn(|| take(&list, &STACK, &LEN).0)
            .map(|b| b.as_ptr() as usize)
            .collect();
        assert!(STACK.load(Ordering::Relaxed).is_null());
        assert_eq!(LEN.load(Ordering::Relaxed), 0);
        taken.sort_unstable();
        let mut expected = blocks;
        expected.sort_unstable();
        assert_eq!(taken, expected);
        for b in taken {
            // SAFETY: as above.
            unsafe { free(NonNull::new(b as *mut u8).unwrap(), 2) };
        }
    }
}
