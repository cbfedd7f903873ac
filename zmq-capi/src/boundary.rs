//! The shape every export shares: a panic boundary, and errno set last.
//!
//! Each `extern "C"` function body is one call to [`boundary`] with a closure
//! returning `Result<T, Error>`. A panic inside is caught (it must never
//! unwind into C) and reported as a failure; an `Err` becomes the return
//! type's failure value with errno set as the very last act, so nothing can
//! clobber it afterwards. `tests::every_export_has_the_boundary` keeps this
//! shape universal.

use std::ffi::{c_int, c_long, c_ulong};
use std::panic::{catch_unwind, AssertUnwindSafe};

use zmq_core::Error;

use crate::abi;

/// What an export returns when it fails.
pub(crate) trait Failure {
    fn failure() -> Self;
}

impl Failure for c_int {
    fn failure() -> Self {
        -1
    }
}

impl Failure for c_long {
    fn failure() -> Self {
        -1
    }
}

impl Failure for c_ulong {
    fn failure() -> Self {
        0
    }
}

impl Failure for usize {
    fn failure() -> Self {
        0
    }
}

impl Failure for u32 {
    fn failure() -> Self {
        0
    }
}

impl Failure for () {
    fn failure() -> Self {}
}

impl<T> Failure for *mut T {
    fn failure() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> Failure for *const T {
    fn failure() -> Self {
        std::ptr::null()
    }
}

/// The errno value libzmq reports for `e`.
pub(crate) fn errno_of(e: Error) -> c_int {
    match e {
        Error::Fsm => abi::EFSM,
        Error::NoCompatProto => abi::ENOCOMPATPROTO,
        Error::Term => abi::ETERM,
        Error::MThread => abi::EMTHREAD,
        other => other.os_errno().unwrap_or(libc::EINVAL),
    }
}

/// Sets the calling thread's errno.
pub(crate) fn set_errno(value: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() = value }
}

/// The calling thread's errno.
pub(crate) fn errno() -> c_int {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() }
}

/// Runs an export's body: catches panics, maps errors to failure + errno.
///
/// A panic is a bug of ours; the caller sees a failure with `EFAULT` rather
/// than an abort, and the panic message goes to stderr.
#[inline(always)]
pub(crate) fn boundary<T: Failure>(body: impl FnOnce() -> Result<T, Error>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => {
            let failure = T::failure();
            set_errno(errno_of(e));
            failure
        }
        Err(_) => {
            let failure = T::failure();
            set_errno(libc::EFAULT);
            failure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_set_errno_last() {
        let r: c_int = boundary(|| Err(Error::Term));
        assert_eq!((r, errno()), (-1, abi::ETERM));
        let r: *mut u8 = boundary(|| Err(Error::Invalid));
        assert!(r.is_null());
        assert_eq!(errno(), libc::EINVAL);
    }

    #[test]
    fn panics_are_caught() {
        let r: c_int = boundary(|| panic!("bug"));
        assert_eq!((r, errno()), (-1, libc::EFAULT));
    }

    #[test]
    fn success_leaves_errno_alone() {
        set_errno(1234);
        let r: c_int = boundary(|| Ok(7));
        assert_eq!((r, errno()), (7, 1234));
    }

    /// Every `extern "C"` definition in this crate's sources starts its body
    /// with `boundary(`.
    #[test]
    fn every_export_has_the_boundary() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut exports = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() == "abi.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("extern \"C\" fn zmq_") {
                let def = &rest[at..];
                let open = def.find('{').unwrap();
                let name: String = def["extern \"C\" fn ".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let body = def[open + 1..].trim_start();
                assert!(
                    body.starts_with("boundary("),
                    "{} in {} lacks the panic boundary",
                    name,
                    path.display()
                );
                exports += 1;
                rest = &def[open..];
            }
        }
        assert!(exports >= 95, "found only {exports} exports");
    }
}
