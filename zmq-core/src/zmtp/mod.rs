//! ZMTP, sans-IO: greeting, security handshake, framing and commands.
//!
//! Nothing here touches a socket, a clock or a thread: bytes in, bytes and
//! events out. The engine (`crate::engine`) pumps it over a real stream.
#![forbid(unsafe_code)]

pub mod codec;
pub mod command;
pub mod curve;
pub mod handshake;
mod hostile;
pub mod v1;
