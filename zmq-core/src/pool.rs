//! Recycled blocks for small message contents.
//!
//! A message is typically allocated by one thread (the application's
//! `zmq_msg_init_size`, or an I/O thread decoding) and freed by another
//! (the I/O thread once it is written, the application once it is read).
//! glibc's per-thread caches do not survive that pattern: every such
//! message cost a trip through the arena (about 300 instructions to malloc
//! and free a 64-byte body, measured with callgrind). Here a freed block goes
//! onto a lock-free stack of its size class, shared by all threads, and an
//! allocating thread takes the whole stack at once into a cache of its own
//! when that cache runs dry. Pushing one block and taking them all are the
//! only operations on the shared stack, so it has no ABA problem.
//!
//! What is kept is bounded: a thread's cache holds at most [`CACHE_MAX`]
//! blocks per class; blocks beyond that go back to the allocator when the
//! cache is refilled, and a thread's cache is freed when the thread ends.

use std::alloc::{self, Layout};
use std::cell::RefCell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Block sizes (header and body together), smallest first.
const CLASSES: [usize; 5] = [128, 256, 512, 1024, 2048];
const ALIGN: usize = 16;
/// The most blocks of one class a thread keeps.
const CACHE_MAX: usize = 1024;

/// A freed block, linked through its first word.
struct Free {
    next: *mut Free,
}

/// Freed blocks of each class, from any thread.
static RETURNED: [AtomicPtr<Free>; CLASSES.len()] =
    [const { AtomicPtr::new(ptr::null_mut()) }; CLASSES.len()];

struct Cache {
    blocks: [Vec<NonNull<u8>>; CLASSES.len()],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for (class, list) in self.blocks.iter_mut().enumerate() {
            for block in list.drain(..) {
                // SAFETY: every cached block was allocated with this layout.
                unsafe { alloc::dealloc(block.as_ptr(), layout(class)) };
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache { blocks: [const { Vec::new() }; CLASSES.len()] })
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
            let mut cache = cache.borrow_mut();
            let list = &mut cache.blocks[class];
            if list.is_empty() {
                take_all(&RETURNED[class], class, list);
            }
            list.pop()
        })
        .ok()
        .flatten();
    if cached.is_some() {
        return cached;
    }
    // SAFETY: the layout is non-zero-sized.
    NonNull::new(unsafe { alloc::alloc(layout(class)) })
}

/// Takes every block given back to `stack` into `list`, keeping at most
/// CACHE_MAX and freeing the rest.
fn take_all(stack: &AtomicPtr<Free>, class: usize, list: &mut Vec<NonNull<u8>>) {
    let mut head = stack.swap(ptr::null_mut(), Ordering::Acquire);
    while let Some(block) = NonNull::new(head) {
        // SAFETY: blocks on the stack are freed blocks whose first word
        // links the next; the swap made this list ours alone.
        head = unsafe { (*block.as_ptr()).next };
        if list.len() < CACHE_MAX {
            list.push(block.cast());
        } else {
            // SAFETY: allocated with this class's layout.
            unsafe { alloc::dealloc(block.as_ptr().cast(), layout(class)) };
        }
    }
}

/// Gives a block back.
///
/// # Safety
/// `block` came from [`alloc`] with the same `class` and is no longer used.
pub unsafe fn free(block: NonNull<u8>, class: usize) {
    // SAFETY: per this function's contract.
    unsafe { push(&RETURNED[class], block) }
}

/// Pushes a freed block onto `stack`.
///
/// # Safety
/// `block` is a pool block no longer used.
unsafe fn push(stack: &AtomicPtr<Free>, block: NonNull<u8>) {
    let node = block.as_ptr().cast::<Free>();
    let mut head = stack.load(Ordering::Relaxed);
    loop {
        // SAFETY: the block is ours and at least one word long and aligned.
        unsafe { ptr::write(node, Free { next: head }) };
        match stack.compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return,
            Err(current) => head = current,
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
        assert_eq!(class_for(2049, 8), None);
        assert_eq!(class_for(8, 32), None);
    }

    /// Blocks pushed by one thread are all taken by another; beyond the
    /// cache bound they are freed.
    #[test]
    fn blocks_come_back_across_threads() {
        static STACK: AtomicPtr<Free> = AtomicPtr::new(ptr::null_mut());
        let n = CACHE_MAX + 10;
        let blocks: Vec<usize> = (0..n).map(|_| alloc(2).unwrap().as_ptr() as usize).collect();
        let pushed = blocks.clone();
        std::thread::spawn(move || {
            for b in pushed {
                // SAFETY: allocated above with class 2, unused.
                unsafe { push(&STACK, NonNull::new(b as *mut u8).unwrap()) };
            }
        })
        .join()
        .unwrap();
        let mut list = Vec::new();
        take_all(&STACK, 2, &mut list);
        assert_eq!(list.len(), CACHE_MAX);
        assert!(list.iter().all(|b| blocks.contains(&(b.as_ptr() as usize))));
        assert!(STACK.load(Ordering::Relaxed).is_null());
        for b in list {
            // SAFETY: as above.
            unsafe { free(b, 2) };
        }
    }
}
