//! zmq-core: the ZeroMQ engine in pure Rust.
//!
//! Contexts, sockets, messages, pipes, the ZMTP protocol and transports. The C
//! API (`libzmq.so.5`) is a thin layer over this crate, in `zmq-capi`; nothing
//! here knows about C errno values, handles or `#[no_mangle]`.

pub mod ctx;
pub mod curve;
pub mod error;
pub mod io;
pub mod monitor;
pub mod msg;
pub mod options;
pub mod pipe;
pub mod proxy;
pub mod socket;
mod pool;
mod sys;
pub mod timers;
pub mod transport;
pub(crate) mod ypipe;
pub mod z85;
pub mod zmtp;

pub use ctx::{Ctx, CtxOption};
pub use error::{Error, Result};
pub use msg::Msg;
pub use options::SockOpt;
pub use socket::{Socket, SocketType};
