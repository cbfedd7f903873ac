//! Sockets: the application's handle on a messaging pattern.
//!
//! libzmq: src/socket_base.cpp. This is the shell every socket type shares:
//! its type, its options and its place in the context. The engine (pipes,
//! sessions, transports) attaches here.

use crate::ctx::{Ctx, CtxOptions};
use crate::error::Result;
use crate::options::{Options, SockOpt};

/// The socket types of `zmq_socket(3)`, numbered as libzmq numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum SocketType {
    Pair = 0,
    Pub = 1,
    Sub = 2,
    Req = 3,
    Rep = 4,
    Dealer = 5,
    Router = 6,
    Pull = 7,
    Push = 8,
    XPub = 9,
    XSub = 10,
    Stream = 11,
}

impl SocketType {
    /// The type with libzmq's number `n`.
    pub fn from_raw(n: i32) -> Option<SocketType> {
        Some(match n {
            0 => SocketType::Pair,
            1 => SocketType::Pub,
            2 => SocketType::Sub,
            3 => SocketType::Req,
            4 => SocketType::Rep,
            5 => SocketType::Dealer,
            6 => SocketType::Router,
            7 => SocketType::Pull,
            8 => SocketType::Push,
            9 => SocketType::XPub,
            10 => SocketType::XSub,
            11 => SocketType::Stream,
            _ => return None,
        })
    }

    /// The name used in the ZMTP `Socket-Type` property.
    pub fn name(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Pull => "PULL",
            SocketType::Push => "PUSH",
            SocketType::XPub => "XPUB",
            SocketType::XSub => "XSUB",
            SocketType::Stream => "STREAM",
        }
    }
}

/// A socket. Owned by one application thread at a time.
#[derive(Debug)]
pub struct Socket {
    ctx: Ctx,
    ty: SocketType,
    options: Options,
}

impl Socket {
    pub(crate) fn new(ctx: Ctx, ty: SocketType, ctx_options: &CtxOptions) -> Socket {
        Socket {
            ctx,
            ty,
            options: Options::new(ty, ctx_options),
        }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.ty
    }

    /// The context the socket belongs to.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// The socket's options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Sets an option from its raw value bytes (`zmq_setsockopt`).
    pub fn setsockopt(&mut self, option: SockOpt, value: &[u8]) -> Result<()> {
        self.options.set(option, value)
    }

    /// Reads an option into `out`, returning the length of the value
    /// (`zmq_getsockopt`).
    pub fn getsockopt(&self, option: SockOpt, out: &mut [u8]) -> Result<usize> {
        match option {
            SockOpt::Type => crate::options::put_int(out, self.ty as i32),
            _ => self.options.get(option, out),
        }
    }

    /// Closes the socket (`zmq_close`).
    pub fn close(self) {
        self.ctx.socket_closed();
    }
}
