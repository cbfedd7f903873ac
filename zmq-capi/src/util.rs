//! Utility exports: version, errors, capabilities, Z85, CURVE keys, atomic
//! counters, stopwatches, sleeping, threads and timers.

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use zmq_core::timers::Timers;
use zmq_core::{curve, z85, Error, Result};

use crate::abi::{self, zmq_thread_fn, zmq_timer_fn};
use crate::boundary::{boundary, errno};

/// The version this library implements (the header's macros stay those of
/// the libzmq it replaces, so programs compiled against either agree).
const VERSION: (c_int, c_int, c_int) = (4, 3, 5);

/// Reports the library's version. NULL out-pointers are skipped.
///
/// # Safety
/// Each non-NULL pointer must be writable.
#[no_mangle]
pub unsafe extern "C" fn zmq_version(major_: *mut c_int, minor_: *mut c_int, patch_: *mut c_int) {
    boundary(|| {
        for (out, value) in [
            (major_, VERSION.0),
            (minor_, VERSION.1),
            (patch_, VERSION.2),
        ] {
            if !out.is_null() {
                // SAFETY: per this function's contract.
                unsafe { *out = value };
            }
        }
        Ok(())
    })
}

/// The calling thread's errno.
#[no_mangle]
pub extern "C" fn zmq_errno() -> c_int {
    boundary(|| Ok(errno()))
}

/// A description of an errno value, with libzmq's texts for its own codes.
#[no_mangle]
pub extern "C" fn zmq_strerror(errnum_: c_int) -> *const c_char {
    boundary(|| {
        Ok(match errnum_ {
            abi::EFSM => c"Operation cannot be accomplished in current state".as_ptr(),
            abi::ENOCOMPATPROTO => c"The protocol is not compatible with the socket type".as_ptr(),
            abi::ETERM => c"Context was terminated".as_ptr(),
            abi::EMTHREAD => c"No thread available".as_ptr(),
            // libzmq replaces the system's text for this one too.
            libc::EHOSTUNREACH => c"Host unreachable".as_ptr(),
            // SAFETY: strerror returns a pointer to a static or thread-local
            // string, as libzmq hands it back.
            other => unsafe { libc::strerror(other) },
        })
    })
}

/// Capabilities this build really has; nothing is claimed before it works
/// (libzmq's names: ipc, pgm, tipc, norm, curve, gssapi, draft).
const CAPABILITIES: &[&str] = &["ipc", "curve"];

/// 1 if the library supports `capability_` ("ipc", "curve", ...), else 0.
///
/// # Safety
/// `capability_` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_has(capability_: *const c_char) -> c_int {
    boundary(|| {
        if capability_.is_null() {
            return Ok(0);
        }
        // SAFETY: per this function's contract.
        let name = unsafe { CStr::from_ptr(capability_) }.to_bytes();
        Ok(CAPABILITIES.iter().any(|c| c.as_bytes() == name) as c_int)
    })
}

/// Encodes `size_` bytes (a multiple of 4) as Z85 into `dest_`, which must
/// hold `size_ * 5 / 4 + 1` bytes; returns `dest_`.
///
/// Errors: `EINVAL` (size not a multiple of 4).
///
/// # Safety
/// `data_` readable for `size_` bytes; `dest_` writable as above.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_encode(
    dest_: *mut c_char,
    data_: *const u8,
    size_: usize,
) -> *mut c_char {
    boundary(|| {
        if size_ % 4 != 0 || dest_.is_null() || (data_.is_null() && size_ != 0) {
            return Err(Error::Invalid);
        }
        let len = z85::encoded_len(size_);
        // SAFETY: per this function's contract.
        let (data, out) = unsafe {
            (
                bytes(data_, size_),
                std::slice::from_raw_parts_mut(dest_ as *mut u8, len + 1),
            )
        };
        z85::encode_into(data, &mut out[..len])?;
        out[len] = 0;
        Ok(dest_)
    })
}

/// Decodes a Z85 string into `dest_`, which must hold `strlen * 4 / 5`
/// bytes; returns `dest_`.
///
/// Errors: `EINVAL` (length not a multiple of 5, bad character, overflow).
///
/// # Safety
/// `string_` NUL-terminated; `dest_` writable as above.
#[no_mangle]
pub unsafe extern "C" fn zmq_z85_decode(dest_: *mut u8, string_: *const c_char) -> *mut u8 {
    boundary(|| {
        if dest_.is_null() || string_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let text = unsafe { CStr::from_ptr(string_) }.to_bytes();
        let len = z85::decoded_len(text.len());
        // SAFETY: per this function's contract.
        let out = unsafe { std::slice::from_raw_parts_mut(dest_, len) };
        z85::decode_into(text, out)?;
        Ok(dest_)
    })
}

/// `slice::from_raw_parts` that accepts NULL for an empty slice.
unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `len` readable bytes at `data`.
        unsafe { std::slice::from_raw_parts(data, len) }
    }
}

/// Writes `key` as 40 Z85 characters and a NUL at `out`.
unsafe fn put_z85_key(out: *mut c_char, key: &[u8; curve::KEY_LEN]) -> Result<()> {
    // SAFETY: the caller guarantees 41 writable bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(out as *mut u8, 41) };
    z85::encode_into(key, &mut out[..40])?;
    out[40] = 0;
    Ok(())
}

/// Generates a CURVE key pair, each written as 40 Z85 characters + NUL.
///
/// # Safety
/// Both buffers must be writable for 41 bytes.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key_: *mut c_char,
    z85_secret_key_: *mut c_char,
) -> c_int {
    boundary(|| {
        if z85_public_key_.is_null() || z85_secret_key_.is_null() {
            return Err(Error::Invalid);
        }
        let (public, secret) = curve::keypair()?;
        // SAFETY: per this function's contract.
        unsafe {
            put_z85_key(z85_public_key_, &public)?;
            put_z85_key(z85_secret_key_, &secret)?;
        }
        Ok(0)
    })
}

/// Derives the Z85 public key of a Z85 secret key.
///
/// Errors: `EINVAL` (the secret key is not 40 valid Z85 characters).
///
/// # Safety
/// `z85_public_key_` writable for 41 bytes; `z85_secret_key_` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key_: *mut c_char,
    z85_secret_key_: *const c_char,
) -> c_int {
    boundary(|| {
        if z85_public_key_.is_null() || z85_secret_key_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let text = unsafe { CStr::from_ptr(z85_secret_key_) }.to_bytes();
        let mut secret = [0u8; curve::KEY_LEN];
        if text.len() != 40 {
            return Err(Error::Invalid);
        }
        z85::decode_into(text, &mut secret)?;
        // SAFETY: per this function's contract.
        unsafe { put_z85_key(z85_public_key_, &curve::public_key(&secret))? };
        Ok(0)
    })
}

/// The counter behind a handle (never NULL-checked by libzmq; we refuse NULL).
fn counter<'a>(counter: *mut c_void) -> Result<&'a AtomicI32> {
    // SAFETY: a non-NULL handle comes from zmq_atomic_counter_new.
    unsafe { (counter as *const AtomicI32).as_ref() }.ok_or(Error::Fault)
}

/// A new atomic counter, initially 0.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    boundary(|| Ok(Box::into_raw(Box::new(AtomicI32::new(0))) as *mut c_void))
}

/// Sets the counter.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_set(counter_: *mut c_void, value_: c_int) {
    boundary(|| {
        counter(counter_)?.store(value_, Ordering::SeqCst);
        Ok(())
    })
}

/// Increments the counter; returns the value before.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_inc(counter_: *mut c_void) -> c_int {
    boundary(|| Ok(counter(counter_)?.fetch_add(1, Ordering::SeqCst)))
}

/// Decrements the counter; returns 1 if the new value is non-zero, else 0.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_dec(counter_: *mut c_void) -> c_int {
    boundary(|| Ok((counter(counter_)?.fetch_sub(1, Ordering::SeqCst) != 1) as c_int))
}

/// The counter's value.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_value(counter_: *mut c_void) -> c_int {
    boundary(|| Ok(counter(counter_)?.load(Ordering::SeqCst)))
}

/// Destroys the counter and sets `*counter_p_` to NULL.
///
/// # Safety
/// `counter_p_` must point to a counter handle (or NULL).
#[no_mangle]
pub unsafe extern "C" fn zmq_atomic_counter_destroy(counter_p_: *mut *mut c_void) {
    boundary(|| {
        if counter_p_.is_null() {
            return Ok(());
        }
        // SAFETY: per this function's contract; the box came from _new.
        unsafe {
            let p = std::mem::replace(&mut *counter_p_, std::ptr::null_mut());
            if !p.is_null() {
                drop(Box::from_raw(p as *mut AtomicI32));
            }
        }
        Ok(())
    })
}

/// Microseconds since `start`.
fn micros_since(start: Instant) -> c_ulong {
    start.elapsed().as_micros().min(c_ulong::MAX as u128) as c_ulong
}

/// Starts a stopwatch.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    boundary(|| Ok(Box::into_raw(Box::new(Instant::now())) as *mut c_void))
}

/// Microseconds since the stopwatch started.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_intermediate(watch_: *mut c_void) -> c_ulong {
    boundary(|| {
        // SAFETY: a non-NULL watch comes from zmq_stopwatch_start.
        let start = unsafe { (watch_ as *const Instant).as_ref() }.ok_or(Error::Fault)?;
        Ok(micros_since(*start))
    })
}

/// Microseconds since the stopwatch started; frees the stopwatch.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_stop(watch_: *mut c_void) -> c_ulong {
    boundary(|| {
        if watch_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: the watch comes from zmq_stopwatch_start and is consumed.
        let start = unsafe { Box::from_raw(watch_ as *mut Instant) };
        Ok(micros_since(*start))
    })
}

/// Sleeps for `seconds_` seconds.
#[no_mangle]
pub extern "C" fn zmq_sleep(seconds_: c_int) {
    boundary(|| {
        std::thread::sleep(Duration::from_secs(seconds_.max(0) as u64));
        Ok(())
    })
}

/// Raw pointers crossing into the new thread.
struct ThreadStart(zmq_thread_fn, *mut c_void);
// SAFETY: the caller hands `arg` to the thread, as with pthread_create.
unsafe impl Send for ThreadStart {}

/// Starts a thread running `func_(arg_)`; returns a handle for
/// `zmq_threadclose`.
#[no_mangle]
pub extern "C" fn zmq_threadstart(
    func_: Option<unsafe extern "C" fn(arg_: *mut c_void)>,
    arg_: *mut c_void,
) -> *mut c_void {
    boundary(|| {
        let start = ThreadStart(func_.ok_or(Error::Invalid)?, arg_);
        let handle = std::thread::Builder::new()
            .spawn(move || {
                let start = start;
                // SAFETY: calling the caller's thread function with its argument.
                unsafe { (start.0)(start.1) }
            })
            .map_err(Error::from)?;
        Ok(Box::into_raw(Box::new(handle)) as *mut c_void)
    })
}

/// Waits for the thread to finish and frees its handle.
#[no_mangle]
pub extern "C" fn zmq_threadclose(thread_: *mut c_void) {
    boundary(|| {
        if thread_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: the handle comes from zmq_threadstart and is consumed.
        let handle = unsafe { Box::from_raw(thread_ as *mut std::thread::JoinHandle<()>) };
        // A panic cannot cross the C thread function; join only waits.
        let _ = handle.join();
        Ok(())
    })
}

/// The timer set behind a handle; tagged so that foreign pointers are refused.
#[repr(C)]
struct TimersHandle {
    tag: u32,
    timers: Timers<(zmq_timer_fn, usize)>,
}

const TIMERS_TAG: u32 = 0xcafe_babe;

/// Milliseconds on the monotonic clock shared by all timer sets.
fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

fn timers<'a>(timers: *mut c_void) -> Result<&'a mut TimersHandle> {
    // SAFETY: a non-NULL handle is read only as far as its tag, which decides.
    let handle = unsafe { (timers as *mut TimersHandle).as_mut() }.ok_or(Error::Fault)?;
    if handle.tag != TIMERS_TAG {
        return Err(Error::Fault);
    }
    Ok(handle)
}

/// A new, empty timer set.
#[no_mangle]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    boundary(|| {
        let handle = TimersHandle {
            tag: TIMERS_TAG,
            timers: Timers::new(),
        };
        Ok(Box::into_raw(Box::new(handle)) as *mut c_void)
    })
}

/// Destroys a timer set and sets `*timers_p` to NULL.
///
/// Errors: `EFAULT` (not a timer set).
///
/// # Safety
/// `timers_p` must be NULL or point to a handle.
#[no_mangle]
pub unsafe extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    boundary(|| {
        // SAFETY: per this function's contract.
        let slot = unsafe { timers_p.as_mut() }.ok_or(Error::Fault)?;
        let handle = timers(*slot)?;
        handle.tag = 0;
        // SAFETY: the handle came from zmq_timers_new and passed its check.
        drop(unsafe { Box::from_raw(handle as *mut TimersHandle) });
        *slot = std::ptr::null_mut();
        Ok(0)
    })
}

/// Adds a timer calling `handler(id, arg)` every `interval` ms; returns its id.
///
/// Errors: `EFAULT` (not a timer set, or no handler).
#[no_mangle]
pub extern "C" fn zmq_timers_add(
    timers_: *mut c_void,
    interval: usize,
    handler: Option<unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void)>,
    arg: *mut c_void,
) -> c_int {
    boundary(|| {
        let t = timers(timers_)?;
        let handler = handler.ok_or(Error::Fault)?;
        Ok(t.timers
            .add(interval as u64, (handler, arg as usize), now_ms()))
    })
}

/// Cancels a timer.
///
/// Errors: `EFAULT` (not a timer set), `EINVAL` (unknown timer).
#[no_mangle]
pub extern "C" fn zmq_timers_cancel(timers_: *mut c_void, timer_id: c_int) -> c_int {
    boundary(|| {
        timers(timers_)?.timers.cancel(timer_id)?;
        Ok(0)
    })
}

/// Changes a timer's interval, restarting it.
///
/// Errors: `EFAULT` (not a timer set), `EINVAL` (unknown timer).
#[no_mangle]
pub extern "C" fn zmq_timers_set_interval(
    timers_: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    boundary(|| {
        let t = timers(timers_)?;
        t.timers.set_interval(timer_id, interval as u64, now_ms())?;
        Ok(0)
    })
}

/// Restarts a timer.
///
/// Errors: `EFAULT` (not a timer set), `EINVAL` (unknown timer).
#[no_mangle]
pub extern "C" fn zmq_timers_reset(timers_: *mut c_void, timer_id: c_int) -> c_int {
    boundary(|| {
        timers(timers_)?.timers.reset(timer_id, now_ms())?;
        Ok(0)
    })
}

/// Milliseconds until the next timer fires, or -1 when there is none.
///
/// Errors: `EFAULT` (not a timer set).
#[no_mangle]
pub extern "C" fn zmq_timers_timeout(timers_: *mut c_void) -> c_long {
    boundary(|| Ok(timers(timers_)?.timers.timeout(now_ms()) as c_long))
}

/// Runs the handlers of every due timer.
///
/// Errors: `EFAULT` (not a timer set).
#[no_mangle]
pub extern "C" fn zmq_timers_execute(timers_: *mut c_void) -> c_int {
    boundary(|| {
        let due = timers(timers_)?.timers.take_due(now_ms());
        for (id, (handler, arg)) in due {
            // A handler may use the timer set (even cancel timers due in this
            // same round), so no borrow is held across the call.
            if timers(timers_)?.timers.is_cancelled(id) {
                continue;
            }
            // SAFETY: the caller's handler with the caller's argument.
            unsafe { handler(id, arg as *mut c_void) };
        }
        Ok(0)
    })
}
