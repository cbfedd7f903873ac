//! The one error type of the engine.
//!
//! Each variant stands for exactly one errno value that libzmq reports, so the
//! C boundary can translate without losing information. The engine never
//! speaks in raw errno numbers; `zmq-capi` owns that mapping.

use std::fmt;
use std::io;

/// libzmq: the errno values set by `src/*.cpp` (`errno = X; return -1;`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// EINVAL: an argument or option value is not acceptable.
    Invalid,
    /// EFAULT: a handle that is not a live context (or a bad pointer).
    Fault,
    /// ENOTSOCK: a handle that is not a live socket.
    NotSocket,
    /// EAGAIN: the operation would block.
    Again,
    /// EINTR: a blocking call was interrupted by a signal.
    Interrupted,
    /// ENOMEM: an allocation failed.
    NoMemory,
    /// ENOTSUP: the operation is not supported by this socket type or build.
    NotSupported,
    /// EPROTONOSUPPORT: the transport or protocol is not supported.
    ProtocolNotSupported,
    /// ENOCOMPATPROTO: the transport does not fit the socket type.
    NoCompatProto,
    /// EFSM: the operation is not allowed in the socket's current state.
    Fsm,
    /// ETERM: the context was terminated.
    Term,
    /// EMTHREAD: no I/O thread is available.
    MThread,
    /// EMFILE: too many open sockets (ZMQ_MAX_SOCKETS) or files.
    TooManyFiles,
    /// EADDRINUSE
    AddrInUse,
    /// EADDRNOTAVAIL
    AddrNotAvailable,
    /// ENODEV: no such network interface.
    NoDevice,
    /// ENOENT: no such endpoint (unbind/disconnect of something unknown).
    NoEntry,
    /// EHOSTUNREACH: the message cannot be routed.
    HostUnreachable,
    /// ECONNREFUSED
    ConnRefused,
    /// EMSGSIZE
    MsgSize,
    /// ENOBUFS
    NoBuffers,
    /// ETIMEDOUT
    TimedOut,
    /// ENAMETOOLONG: an ipc path longer than a socket address holds.
    NameTooLong,
    /// Any other operating-system error, carried through unchanged.
    Os(i32),
}

/// A result whose error is the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The operating-system errno this error stands for, when it is one.
    ///
    /// libzmq's own codes (EFSM, ENOCOMPATPROTO, ETERM, EMTHREAD) have no OS
    /// value and give `None`; the C boundary supplies their numbers.
    pub fn os_errno(self) -> Option<i32> {
        Some(match self {
            Error::Invalid => libc::EINVAL,
            Error::Fault => libc::EFAULT,
            Error::NotSocket => libc::ENOTSOCK,
            Error::Again => libc::EAGAIN,
            Error::Interrupted => libc::EINTR,
            Error::NoMemory => libc::ENOMEM,
            Error::NotSupported => libc::ENOTSUP,
            Error::ProtocolNotSupported => libc::EPROTONOSUPPORT,
            Error::TooManyFiles => libc::EMFILE,
            Error::AddrInUse => libc::EADDRINUSE,
            Error::AddrNotAvailable => libc::EADDRNOTAVAIL,
            Error::NoDevice => libc::ENODEV,
            Error::NoEntry => libc::ENOENT,
            Error::HostUnreachable => libc::EHOSTUNREACH,
            Error::ConnRefused => libc::ECONNREFUSED,
            Error::MsgSize => libc::EMSGSIZE,
            Error::NoBuffers => libc::ENOBUFS,
            Error::TimedOut => libc::ETIMEDOUT,
            Error::NameTooLong => libc::ENAMETOOLONG,
            Error::Os(e) => e,
            Error::NoCompatProto | Error::Fsm | Error::Term | Error::MThread => return None,
        })
    }

    /// The error for an operating-system errno value.
    pub fn from_os(errno: i32) -> Error {
        match errno {
            libc::EINVAL => Error::Invalid,
            libc::EFAULT => Error::Fault,
            libc::ENOTSOCK => Error::NotSocket,
            libc::EAGAIN => Error::Again,
            libc::EINTR => Error::Interrupted,
            libc::ENOMEM => Error::NoMemory,
            libc::ENOTSUP => Error::NotSupported,
            libc::EPROTONOSUPPORT => Error::ProtocolNotSupported,
            libc::EMFILE => Error::TooManyFiles,
            libc::EADDRINUSE => Error::AddrInUse,
            libc::EADDRNOTAVAIL => Error::AddrNotAvailable,
            libc::ENODEV => Error::NoDevice,
            libc::ENOENT => Error::NoEntry,
            libc::EHOSTUNREACH => Error::HostUnreachable,
            libc::ECONNREFUSED => Error::ConnRefused,
            libc::EMSGSIZE => Error::MsgSize,
            libc::ENOBUFS => Error::NoBuffers,
            libc::ETIMEDOUT => Error::TimedOut,
            libc::ENAMETOOLONG => Error::NameTooLong,
            e => Error::Os(e),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(errno) => Error::from_os(errno),
            None => match e.kind() {
                io::ErrorKind::WouldBlock => Error::Again,
                io::ErrorKind::Interrupted => Error::Interrupted,
                io::ErrorKind::OutOfMemory => Error::NoMemory,
                io::ErrorKind::InvalidInput => Error::Invalid,
                _ => Error::Invalid,
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Fsm => f.write_str("Operation cannot be accomplished in current state"),
            Error::NoCompatProto => {
                f.write_str("The protocol is not compatible with the socket type")
            }
            Error::Term => f.write_str("Context was terminated"),
            Error::MThread => f.write_str("No thread available"),
            other => {
                let errno = other.os_errno().unwrap_or(0);
                write!(f, "{}", io::Error::from_raw_os_error(errno))
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_round_trip() {
        for e in [
            Error::Invalid,
            Error::Fault,
            Error::NotSocket,
            Error::Again,
            Error::Interrupted,
            Error::TooManyFiles,
            Error::HostUnreachable,
            Error::Os(libc::EPIPE),
        ] {
            assert_eq!(Error::from_os(e.os_errno().unwrap()), e);
        }
    }

    #[test]
    fn zmq_specific_errors_have_no_os_value() {
        for e in [
            Error::Fsm,
            Error::NoCompatProto,
            Error::Term,
            Error::MThread,
        ] {
            assert_eq!(e.os_errno(), None);
        }
    }
}
