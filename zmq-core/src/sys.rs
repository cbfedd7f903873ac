//! The one corner of the engine that calls libc directly.
//!
//! Every call goes through [`syscall!`], which turns libc's `-1` into an
//! `io::Error` carrying errno; every `unsafe` block says why it is sound.

use std::io;

/// Calls a libc function and maps a `-1` result to `io::Error::last_os_error()`.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        #[allow(unused_unsafe)]
        // SAFETY: the caller passes arguments valid for this libc call.
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use syscall;

/// Fills `buf` with bytes from the kernel's CSPRNG (`getrandom(2)`).
pub fn fill_random(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        match syscall!(getrandom(rest.as_mut_ptr().cast(), rest.len(), 0)) {
            Ok(n) => filled += n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_differ() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
