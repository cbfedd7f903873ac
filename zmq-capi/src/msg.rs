//! Message exports: `zmq_msg_*`.
//!
//! A `zmq_msg_t` is caller memory holding a [`Msg`]. Its first byte is the
//! message kind, so a buffer that was never initialised (or was closed) is
//! refused with `EFAULT`, as libzmq's `msg_t::check` does, instead of being
//! interpreted.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use zmq_core::msg::FreeFn;
use zmq_core::{Error, Msg, Result};

use crate::abi::{self, zmq_msg_t};
use crate::boundary::boundary;

/// The live message in `msg`, or `EFAULT`.
pub(crate) fn msg_mut<'a>(msg: *mut zmq_msg_t) -> Result<&'a mut Msg> {
    if msg.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: a zmq_msg_t is 64 readable bytes; the kind byte says whether
    // they hold a live message (all Msg layouts start with a valid kind).
    unsafe {
        Msg::kind_at(msg as *const u8).ok_or(Error::Fault)?;
        Ok(&mut *(msg as *mut Msg))
    }
}

fn msg_ref<'a>(msg: *const zmq_msg_t) -> Result<&'a Msg> {
    msg_mut(msg as *mut zmq_msg_t).map(|m| &*m)
}

/// The storage of `msg` for a new message (as `zmq_msg_init*`), or `EFAULT`.
/// The caller hands us 64 writable, pointer-aligned bytes; whatever they
/// hold is to be overwritten without being read, as libzmq does.
fn storage(msg: *mut zmq_msg_t) -> Result<*mut Msg> {
    if msg.is_null() {
        return Err(Error::Fault);
    }
    Ok(msg as *mut Msg)
}

/// Writes a new message into `msg`, whatever it held (as `zmq_msg_init*`).
pub(crate) fn put(msg: *mut zmq_msg_t, value: Msg) -> Result<c_int> {
    // SAFETY: see `storage`.
    unsafe { ptr::write(storage(msg)?, value) };
    Ok(0)
}

/// Takes the message out of `msg`, leaving the storage marked closed.
pub(crate) fn take(msg: *mut zmq_msg_t) -> Result<Msg> {
    msg_mut(msg)?;
    // SAFETY: checked live above; after the read the bytes are marked closed
    // so the message cannot be released twice.
    unsafe {
        let value = ptr::read(msg as *const Msg);
        Msg::mark_closed(msg as *mut u8);
        Ok(value)
    }
}

/// Initialises an empty message.
#[no_mangle]
pub extern "C" fn zmq_msg_init(msg_: *mut zmq_msg_t) -> c_int {
    boundary(|| put(msg_, Msg::new()))
}

/// Initialises a message of `size_` bytes.
///
/// Errors: `ENOMEM`.
#[no_mangle]
pub extern "C" fn zmq_msg_init_size(msg_: *mut zmq_msg_t, size_: usize) -> c_int {
    boundary(|| {
        // SAFETY: see `storage`.
        unsafe { Msg::write_for_caller(storage(msg_)?, size_)? };
        Ok(0)
    })
}

/// Initialises a message over the caller's buffer, without copying. `ffn_`
/// (if any) is called once with `data_` and `hint_` when the last copy of the
/// message is closed.
///
/// Errors: `EINVAL` (NULL data with a non-zero size).
///
/// # Safety
/// `data_` must stay valid for `size_` bytes until `ffn_` is called (or, with
/// no `ffn_`, for the lifetime of every copy of the message).
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_data(
    msg_: *mut zmq_msg_t,
    data_: *mut c_void,
    size_: usize,
    ffn_: Option<unsafe extern "C" fn(data_: *mut c_void, hint_: *mut c_void)>,
    hint_: *mut c_void,
) -> c_int {
    boundary(|| {
        if data_.is_null() && size_ != 0 {
            return Err(Error::Invalid);
        }
        let free: Option<FreeFn> = ffn_;
        // SAFETY: per this function's contract.
        put(msg_, unsafe {
            Msg::from_raw_parts(data_ as *mut u8, size_, free, hint_)
        })
    })
}

/// Initialises a message with a copy of `size_` bytes at `buf_` (draft).
///
/// Errors: `EINVAL` (NULL buffer with a non-zero size), `ENOMEM`.
///
/// # Safety
/// `buf_` must be readable for `size_` bytes.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_init_buffer(
    msg_: *mut zmq_msg_t,
    buf_: *const c_void,
    size_: usize,
) -> c_int {
    boundary(|| {
        if size_ == 0 {
            return put(msg_, Msg::new());
        }
        if buf_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let bytes = unsafe { std::slice::from_raw_parts(buf_ as *const u8, size_) };
        put(msg_, Msg::from_slice(bytes)?)
    })
}

/// Releases a message.
///
/// Errors: `EFAULT` (not an initialised message).
#[no_mangle]
pub extern "C" fn zmq_msg_close(msg_: *mut zmq_msg_t) -> c_int {
    boundary(|| {
        drop(take(msg_)?);
        Ok(0)
    })
}

/// Moves `src_` into `dest_` (which is closed first); `src_` becomes empty.
///
/// Errors: `EFAULT` (either is not an initialised message).
#[no_mangle]
pub extern "C" fn zmq_msg_move(dest_: *mut zmq_msg_t, src_: *mut zmq_msg_t) -> c_int {
    boundary(|| {
        msg_mut(dest_)?;
        let moved = msg_mut(src_)?.take();
        drop(take(dest_)?);
        put(dest_, moved)
    })
}

/// Makes `dest_` (closed first) a copy of `src_` sharing its body.
///
/// Errors: `EFAULT` (either is not an initialised message).
#[no_mangle]
pub extern "C" fn zmq_msg_copy(dest_: *mut zmq_msg_t, src_: *mut zmq_msg_t) -> c_int {
    boundary(|| {
        msg_mut(dest_)?;
        msg_mut(src_)?;
        if ptr::eq(dest_, src_) {
            return Ok(0);
        }
        drop(take(dest_)?);
        let copy = msg_mut(src_)?.share();
        put(dest_, copy)
    })
}

/// The message body.
#[no_mangle]
pub extern "C" fn zmq_msg_data(msg_: *mut zmq_msg_t) -> *mut c_void {
    boundary(|| Ok(msg_mut(msg_)?.data_ptr() as *mut c_void))
}

/// The body's size in bytes.
#[no_mangle]
pub extern "C" fn zmq_msg_size(msg_: *const zmq_msg_t) -> usize {
    boundary(|| Ok(msg_ref(msg_)?.size()))
}

/// 1 if more frames of the message follow, else 0.
#[no_mangle]
pub extern "C" fn zmq_msg_more(msg_: *const zmq_msg_t) -> c_int {
    boundary(|| Ok(msg_ref(msg_)?.more() as c_int))
}

/// A message property: `ZMQ_MORE`, `ZMQ_SHARED`, `ZMQ_SRCFD`.
///
/// Errors: `EINVAL` (unknown property), `EFAULT` (not a message).
#[no_mangle]
pub extern "C" fn zmq_msg_get(msg_: *const zmq_msg_t, property_: c_int) -> c_int {
    boundary(|| {
        let msg = msg_ref(msg_)?;
        match property_ {
            abi::ZMQ_MORE => Ok(msg.more() as c_int),
            abi::ZMQ_SHARED => Ok(msg.is_shared() as c_int),
            // The descriptor the message arrived on, as libzmq records it in
            // the "__fd" metadata property.
            abi::ZMQ_SRCFD => {
                let fd = msg.property("__fd").ok_or(Error::Invalid)?;
                fd.to_str()
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(Error::Invalid)
            }
            _ => Err(Error::Invalid),
        }
    })
}

/// Sets a message property: none are settable, as in libzmq.
///
/// Errors: `EINVAL`.
#[no_mangle]
pub extern "C" fn zmq_msg_set(msg_: *mut zmq_msg_t, property_: c_int, optval_: c_int) -> c_int {
    boundary(|| {
        let _ = (msg_, property_, optval_);
        Err(Error::Invalid)
    })
}

/// A metadata property of the connection the message came from.
///
/// Errors: `EINVAL` (no such property).
///
/// # Safety
/// `property_` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_gets(
    msg_: *const zmq_msg_t,
    property_: *const c_char,
) -> *const c_char {
    boundary(|| {
        let msg = msg_ref(msg_)?;
        if property_.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        let name = unsafe { CStr::from_ptr(property_) };
        let name = name.to_str().map_err(|_| Error::Invalid)?;
        Ok(msg.property(name).ok_or(Error::Invalid)?.as_ptr())
    })
}

/// Sets the routing id (draft).
///
/// Errors: `EINVAL` (0).
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_msg_set_routing_id(msg: *mut zmq_msg_t, routing_id: u32) -> c_int {
    boundary(|| {
        msg_mut(msg)?.set_routing_id(routing_id)?;
        Ok(0)
    })
}

/// The routing id, 0 if unset (draft).
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_msg_routing_id(msg: *mut zmq_msg_t) -> u32 {
    boundary(|| Ok(msg_mut(msg)?.routing_id()))
}

/// Sets the group, at most `ZMQ_GROUP_MAX_LENGTH` bytes (draft).
///
/// Errors: `EINVAL` (too long).
///
/// # Safety
/// `group` must be a NUL-terminated string.
#[cfg(feature = "draft")]
#[no_mangle]
pub unsafe extern "C" fn zmq_msg_set_group(msg: *mut zmq_msg_t, group: *const c_char) -> c_int {
    boundary(|| {
        let msg = msg_mut(msg)?;
        if group.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: per this function's contract.
        msg.set_group(unsafe { CStr::from_ptr(group) }.to_bytes())?;
        Ok(0)
    })
}

/// The group, "" if unset (draft).
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_msg_group(msg: *mut zmq_msg_t) -> *const c_char {
    boundary(|| Ok(msg_mut(msg)?.group().as_ptr()))
}
