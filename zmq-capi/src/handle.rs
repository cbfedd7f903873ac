//! C handles for contexts and sockets, and their checks.
//!
//! A handle is a pointer to a *shell*: a tag (libzmq's `0xabadcafe` for a
//! context, `0xbaddecaf` for a socket) followed by the object. Shells are
//! never returned to the allocator: a closed socket's or terminated context's
//! shell keeps a dead tag and waits on a free list for reuse. So a stale handle
//! reads a dead tag and gets `ENOTSOCK`/`EFAULT`, where libzmq would read freed
//! memory; a foreign pointer (anything else) fails the tag check the same way.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use zmq_core::{Ctx, Error, Result, Socket};

const CTX_TAG: u32 = 0xabad_cafe;
const SOCKET_TAG: u32 = 0xbadd_ecaf;
const DEAD_TAG: u32 = 0xdead_beef;

#[repr(C)]
pub(crate) struct Shell<T> {
    tag: AtomicU32,
    value: UnsafeCell<Option<T>>,
}

/// A free list of dead shells of one kind (addresses, to be `Send`).
struct Pool(Mutex<Vec<usize>>);

static CTX_POOL: Pool = Pool(Mutex::new(Vec::new()));
static SOCKET_POOL: Pool = Pool(Mutex::new(Vec::new()));

impl Pool {
    fn take<T>(&self) -> *mut Shell<T> {
        let reused = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match reused {
            Some(addr) => addr as *mut Shell<T>,
            None => Box::into_raw(Box::new(Shell {
                tag: AtomicU32::new(DEAD_TAG),
                value: UnsafeCell::new(None),
            })),
        }
    }

    fn give<T>(&self, shell: *mut Shell<T>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(shell as usize);
    }
}

fn install<T>(pool: &Pool, tag: u32, value: T) -> *mut c_void {
    let shell = pool.take::<T>();
    // SAFETY: a shell from the pool is dead, so no other thread uses its value.
    unsafe {
        *(*shell).value.get() = Some(value);
        (*shell).tag.store(tag, Ordering::Release);
    }
    shell.cast()
}

/// # Safety
/// `handle` is null or points to readable memory of at least a tag's size.
unsafe fn live<'a, T>(handle: *mut c_void, tag: u32) -> Option<&'a mut T> {
    if handle.is_null() || handle as usize % std::mem::align_of::<Shell<T>>() != 0 {
        return None;
    }
    let shell = handle as *mut Shell<T>;
    // SAFETY: readable per the contract; the tag says whether it is our shell.
    if unsafe { (*shell).tag.load(Ordering::Acquire) } != tag {
        return None;
    }
    // SAFETY: a live tag means the value is installed; objects are used by one
    // thread at a time (the libzmq contract for sockets; contexts are
    // internally synchronised and only read through `&`).
    unsafe { (*(*shell).value.get()).as_mut() }
}

fn kill<T>(pool: &Pool, handle: *mut c_void) -> Option<T> {
    let shell = handle as *mut Shell<T>;
    // SAFETY: called with a handle that passed `live`.
    let value = unsafe {
        (*shell).tag.store(DEAD_TAG, Ordering::Release);
        (*(*shell).value.get()).take()
    };
    pool.give(shell);
    value
}

/// A new context handle.
pub(crate) fn new_ctx(ctx: Ctx) -> *mut c_void {
    install(&CTX_POOL, CTX_TAG, ctx)
}

/// The context behind a handle, or `EFAULT`.
pub(crate) fn ctx<'a>(handle: *mut c_void) -> Result<&'a Ctx> {
    // SAFETY: handles come from the application; see `live`.
    unsafe { live::<Ctx>(handle, CTX_TAG) }
        .map(|c| &*c)
        .ok_or(Error::Fault)
}

/// Ends a context handle (after termination); the handle becomes stale.
pub(crate) fn drop_ctx(handle: *mut c_void) {
    drop(kill::<Ctx>(&CTX_POOL, handle));
}

/// A new socket handle.
pub(crate) fn new_socket(socket: Socket) -> *mut c_void {
    install(&SOCKET_POOL, SOCKET_TAG, socket)
}

/// The socket behind a handle, or `ENOTSOCK`.
pub(crate) fn socket<'a>(handle: *mut c_void) -> Result<&'a mut Socket> {
    // SAFETY: handles come from the application; see `live`.
    unsafe { live::<Socket>(handle, SOCKET_TAG) }.ok_or(Error::NotSocket)
}

/// Ends a socket handle, returning the socket; the handle becomes stale.
pub(crate) fn take_socket(handle: *mut c_void) -> Result<Socket> {
    socket(handle)?;
    kill::<Socket>(&SOCKET_POOL, handle).ok_or(Error::NotSocket)
}
