//! Contexts: the container of sockets, options and (with the engine) I/O
//! threads.
//!
//! libzmq: src/ctx.cpp. A context is shared by every socket created from it;
//! [`Ctx::terminate`] waits until all of them are closed.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::io::thread::{IoShared, IoThread};
use crate::pipe::Pipe;
use crate::socket::{Command, Socket, SocketMailbox, SocketType};

/// Context options (`zmq_ctx_set(3)`, `zmq_ctx_get(3)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxOption {
    IoThreads,
    MaxSockets,
    SocketLimit,
    Ipv6,
    Blocky,
    MaxMsgSz,
    MsgTSize,
    ThreadPriority,
    ThreadSchedPolicy,
    ThreadAffinityCpuAdd,
    ThreadAffinityCpuRemove,
    ThreadNamePrefix,
    ZeroCopyRecv,
}

/// Default `ZMQ_IO_THREADS`.
pub const IO_THREADS_DFLT: i32 = 1;
/// Default `ZMQ_MAX_SOCKETS`.
pub const MAX_SOCKETS_DFLT: i32 = 1023;
/// `ZMQ_SOCKET_LIMIT`: the largest `ZMQ_MAX_SOCKETS` accepted (epoll has no
/// descriptor ceiling of its own, so libzmq reports its nominal 65535).
pub const SOCKET_LIMIT: i32 = 65535;
/// Size of `zmq_msg_t` (`ZMQ_MSG_T_SIZE`).
pub const MSG_T_SIZE: i32 = 64;

/// Context-wide settings.
#[derive(Clone, Debug)]
pub struct CtxOptions {
    pub io_threads: i32,
    pub max_sockets: i32,
    pub ipv6: bool,
    pub blocky: bool,
    pub max_msgsz: i32,
    pub zero_copy_recv: bool,
    pub thread_priority: i32,
    pub thread_sched_policy: i32,
    pub thread_affinity_cpus: Vec<i32>,
    pub thread_name_prefix: Vec<u8>,
}

impl Default for CtxOptions {
    fn default() -> Self {
        CtxOptions {
            io_threads: IO_THREADS_DFLT,
            max_sockets: MAX_SOCKETS_DFLT,
            ipv6: false,
            blocky: true,
            max_msgsz: i32::MAX,
            zero_copy_recv: true,
            thread_priority: -1,
            thread_sched_policy: -1,
            thread_affinity_cpus: Vec::new(),
            thread_name_prefix: Vec::new(),
        }
    }
}

/// A bound inproc endpoint: the binder and the options a connection needs.
#[derive(Clone)]
pub(crate) struct InprocBinding {
    pub socket_id: u64,
    pub mailbox: Arc<SocketMailbox>,
    pub socket_type: SocketType,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub routing_id: Vec<u8>,
}

/// A connect to an inproc name nobody has bound yet: the connector's
/// options and the end of the pipe the binder will take.
pub(crate) struct PendingConnect {
    pub connector: InprocBinding,
    pub pipe: Pipe,
}

struct CtxState {
    options: CtxOptions,
    /// Set by shutdown/terminate: no new sockets, blocking calls end in ETERM.
    terminating: bool,
    /// The socket ceiling, fixed when the first socket is created.
    slots: Option<i32>,
    /// Live sockets, by id, so that termination can stop them.
    sockets: HashMap<u64, Arc<SocketMailbox>>,
    next_socket_id: u64,
    inproc: HashMap<String, InprocBinding>,
    pending: HashMap<String, Vec<PendingConnect>>,
    /// I/O threads, started on first use by a tcp or ipc endpoint.
    io: Vec<IoThread>,
    next_io: usize,
}

impl std::fmt::Debug for CtxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtxState")
            .field("terminating", &self.terminating)
            .field("sockets", &self.sockets.len())
            .finish()
    }
}

#[derive(Debug)]
struct CtxShared {
    state: Mutex<CtxState>,
    sockets_closed: Condvar,
}

/// A context seen from its I/O threads: see [`Ctx::downgrade`].
#[derive(Clone, Debug)]
pub(crate) struct WeakCtx(std::sync::Weak<CtxShared>);

impl WeakCtx {
    /// The binder of an inproc name, while the context lives.
    pub(crate) fn find_inproc(&self, name: &str) -> Option<InprocBinding> {
        let shared = self.0.upgrade()?;
        Ctx { shared }.find_inproc(name)
    }
}

/// A context; cheap to clone (all clones are the same context).
#[derive(Clone, Debug)]
pub struct Ctx {
    shared: Arc<CtxShared>,
}

impl Ctx {
    /// A new context with default options (`zmq_ctx_new`).
    pub fn new() -> Ctx {
        Ctx {
            shared: Arc::new(CtxShared {
                state: Mutex::new(CtxState {
                    options: CtxOptions::default(),
                    terminating: false,
                    slots: None,
                    sockets: HashMap::new(),
                    next_socket_id: 1,
                    inproc: HashMap::new(),
                    pending: HashMap::new(),
                    io: Vec::new(),
                    next_io: 0,
                }),
                sockets_closed: Condvar::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, CtxState> {
        // A panic while holding the lock cannot leave the counters torn (each
        // update is a single store), so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A snapshot of the options.
    pub fn options(&self) -> CtxOptions {
        self.state().options.clone()
    }

    /// Sets an integer option, with libzmq's validation (src/ctx.cpp).
    pub fn set(&self, option: CtxOption, value: i32) -> Result<()> {
        let mut st = self.state();
        let o = &mut st.options;
        match option {
            CtxOption::MaxSockets if value >= 1 => o.max_sockets = value,
            CtxOption::IoThreads if value >= 0 => o.io_threads = value,
            CtxOption::Ipv6 if value >= 0 => o.ipv6 = value != 0,
            CtxOption::Blocky if value >= 0 => o.blocky = value != 0,
            CtxOption::MaxMsgSz if value >= 0 => o.max_msgsz = value,
            CtxOption::ZeroCopyRecv if value >= 0 => o.zero_copy_recv = value != 0,
            CtxOption::ThreadSchedPolicy if value >= 0 => o.thread_sched_policy = value,
            CtxOption::ThreadPriority if value >= 0 => o.thread_priority = value,
            CtxOption::ThreadAffinityCpuAdd if value >= 0 => {
                if !o.thread_affinity_cpus.contains(&value) {
                    o.thread_affinity_cpus.push(value);
                }
            }
            CtxOption::ThreadAffinityCpuRemove if value >= 0 => {
                let before = o.thread_affinity_cpus.len();
                o.thread_affinity_cpus.retain(|&c| c != value);
                if o.thread_affinity_cpus.len() == before {
                    return Err(Error::Invalid);
                }
            }
            // An integer prefix is kept in its decimal spelling, as libzmq does.
            CtxOption::ThreadNamePrefix => o.thread_name_prefix = value.to_string().into_bytes(),
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// Sets a non-integer option: only `ZMQ_THREAD_NAME_PREFIX` (1 to 16 bytes).
    pub fn set_bytes(&self, option: CtxOption, value: &[u8]) -> Result<()> {
        match option {
            CtxOption::ThreadNamePrefix if (1..=16).contains(&value.len()) => {
                self.state().options.thread_name_prefix = value.to_vec();
                Ok(())
            }
            _ => Err(Error::Invalid),
        }
    }

    /// Reads an integer option. Write-only options are `Invalid`, as in libzmq.
    pub fn get(&self, option: CtxOption) -> Result<i32> {
        let st = self.state();
        let o = &st.options;
        Ok(match option {
            CtxOption::MaxSockets => o.max_sockets,
            CtxOption::SocketLimit => SOCKET_LIMIT,
            CtxOption::IoThreads => o.io_threads,
            CtxOption::Ipv6 => o.ipv6 as i32,
            CtxOption::Blocky => o.blocky as i32,
            CtxOption::MaxMsgSz => o.max_msgsz,
            CtxOption::MsgTSize => MSG_T_SIZE,
            CtxOption::ZeroCopyRecv => o.zero_copy_recv as i32,
            CtxOption::ThreadSchedPolicy => o.thread_sched_policy,
            // libzmq reads the prefix back with atoi().
            CtxOption::ThreadNamePrefix => atoi(&o.thread_name_prefix),
            CtxOption::ThreadPriority
            | CtxOption::ThreadAffinityCpuAdd
            | CtxOption::ThreadAffinityCpuRemove => return Err(Error::Invalid),
        })
    }

    /// Reads a non-integer option: only `ZMQ_THREAD_NAME_PREFIX`.
    pub fn get_bytes(&self, option: CtxOption) -> Result<Vec<u8>> {
        match option {
            CtxOption::ThreadNamePrefix => Ok(self.state().options.thread_name_prefix.clone()),
            _ => Err(Error::Invalid),
        }
    }

    /// Creates a socket of libzmq's type number `ty` (`zmq_socket`).
    ///
    /// As libzmq, a terminating context (`Term`) and a full one
    /// (`TooManyFiles`) are reported before an unknown type (`Invalid`).
    pub fn socket(&self, ty: i32) -> Result<Socket> {
        let mailbox = Arc::new(SocketMailbox::new().map_err(Error::from)?);
        let mut st = self.state();
        if st.terminating {
            return Err(Error::Term);
        }
        let max_sockets = st.options.max_sockets;
        let limit = *st.slots.get_or_insert(max_sockets);
        if st.sockets.len() >= limit as usize {
            return Err(Error::TooManyFiles);
        }
        let ty = SocketType::from_raw(ty).ok_or(Error::Invalid)?;
        let id = st.next_socket_id;
        st.next_socket_id += 1;
        st.sockets.insert(id, mailbox.clone());
        let options = st.options.clone();
        drop(st);
        Ok(Socket::new(self.clone(), id, ty, &options, mailbox))
    }

    /// Called by a socket when it is closed.
    pub(crate) fn socket_closed(&self, id: u64) {
        let mut st = self.state();
        st.sockets.remove(&id);
        st.inproc.retain(|_, b| b.socket_id != id);
        if st.sockets.is_empty() {
            self.shared.sockets_closed.notify_all();
        }
    }

    /// Registers an inproc name; returns the connects that were waiting for
    /// it. Errors: `AddrInUse`.
    pub(crate) fn bind_inproc(
        &self,
        name: &str,
        binding: InprocBinding,
    ) -> Result<Vec<PendingConnect>> {
        let mut st = self.state();
        if st.inproc.contains_key(name) {
            return Err(Error::AddrInUse);
        }
        st.inproc.insert(name.to_owned(), binding);
        Ok(st.pending.remove(name).unwrap_or_default())
    }

    /// The binder of an inproc name, if bound.
    pub(crate) fn find_inproc(&self, name: &str) -> Option<InprocBinding> {
        self.state().inproc.get(name).cloned()
    }

    /// A handle that does not keep the context alive (for I/O threads,
    /// which the context owns).
    pub(crate) fn downgrade(&self) -> WeakCtx {
        WeakCtx(Arc::downgrade(&self.shared))
    }

    /// Records a connect to a name that is not bound yet.
    pub(crate) fn pend_inproc(&self, name: &str, pending: PendingConnect) {
        self.state()
            .pending
            .entry(name.to_owned())
            .or_default()
            .push(pending);
    }

    /// Removes a binding made by socket `id`. Errors: `NoEntry`.
    pub(crate) fn unbind_inproc(&self, name: &str, id: u64) -> Result<()> {
        let mut st = self.state();
        match st.inproc.get(name) {
            Some(b) if b.socket_id == id => {
                st.inproc.remove(name);
                Ok(())
            }
            _ => Err(Error::NoEntry),
        }
    }

    /// An I/O thread for a new endpoint (round robin). Errors: `MThread`
    /// (`ZMQ_IO_THREADS` is 0), `Term`.
    pub(crate) fn io_thread(&self) -> Result<Arc<IoShared>> {
        let mut st = self.state();
        if st.terminating {
            return Err(Error::Term);
        }
        if st.io.is_empty() {
            let n = st.options.io_threads;
            if n == 0 {
                return Err(Error::MThread);
            }
            let prefix = String::from_utf8_lossy(&st.options.thread_name_prefix).into_owned();
            for i in 0..n {
                let name = if prefix.is_empty() {
                    format!("ZMQbg/IO/{i}")
                } else {
                    format!("{prefix}/ZMQbg/IO/{i}")
                };
                st.io.push(IoThread::start(name).map_err(Error::from)?);
            }
        }
        let i = st.next_io % st.io.len();
        st.next_io = st.next_io.wrapping_add(1);
        Ok(st.io[i].shared.clone())
    }

    /// Stops the context without waiting (`zmq_ctx_shutdown`): new sockets are
    /// refused with `Term`, and blocking calls end with `Term`.
    pub fn shutdown(&self) {
        let mut st = self.state();
        if !st.terminating {
            st.terminating = true;
            for mailbox in st.sockets.values() {
                mailbox.0.send(Command::Stop);
            }
        }
    }

    /// Shuts the context down and waits until every socket has been closed
    /// (`zmq_ctx_term`).
    pub fn terminate(&self) -> Result<()> {
        self.shutdown();
        let mut st = self.state();
        while !st.sockets.is_empty() {
            st = self
                .shared
                .sockets_closed
                .wait(st)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        // Every socket is closed: let the I/O threads deliver what lingers,
        // then stop them.
        let mut io = std::mem::take(&mut st.io);
        drop(st);
        for thread in &mut io {
            thread.stop();
        }
        Ok(())
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

/// C's `atoi`: optional sign and leading digits, 0 when there are none.
fn atoi(bytes: &[u8]) -> i32 {
    let s = std::str::from_utf8(bytes).unwrap_or("").trim_start();
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'-') => (-1i64, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = (value * 10 + i64::from(b - b'0')).min(i64::from(i32::MAX) + 1);
    }
    (sign * value).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let ctx = Ctx::new();
        assert_eq!(ctx.get(CtxOption::IoThreads), Ok(1));
        assert_eq!(ctx.get(CtxOption::MaxSockets), Ok(1023));
        assert_eq!(ctx.get(CtxOption::SocketLimit), Ok(65535));
        assert_eq!(ctx.get(CtxOption::Ipv6), Ok(0));
        assert_eq!(ctx.get(CtxOption::Blocky), Ok(1));
        assert_eq!(ctx.get(CtxOption::MaxMsgSz), Ok(i32::MAX));
        assert_eq!(ctx.get(CtxOption::MsgTSize), Ok(64));
        assert_eq!(ctx.get(CtxOption::ThreadSchedPolicy), Ok(-1));
        assert_eq!(ctx.get(CtxOption::ThreadPriority), Err(Error::Invalid));
    }

    #[test]
    fn validation() {
        let ctx = Ctx::new();
        assert_eq!(ctx.set(CtxOption::MaxSockets, 0), Err(Error::Invalid));
        assert_eq!(ctx.set(CtxOption::IoThreads, -1), Err(Error::Invalid));
        assert_eq!(ctx.set(CtxOption::SocketLimit, 5), Err(Error::Invalid));
        assert_eq!(ctx.set(CtxOption::MsgTSize, 5), Err(Error::Invalid));
        ctx.set(CtxOption::Ipv6, 7).unwrap();
        assert_eq!(ctx.get(CtxOption::Ipv6), Ok(1));
        assert_eq!(
            ctx.set(CtxOption::ThreadAffinityCpuRemove, 3),
            Err(Error::Invalid)
        );
        ctx.set(CtxOption::ThreadAffinityCpuAdd, 3).unwrap();
        ctx.set(CtxOption::ThreadAffinityCpuRemove, 3).unwrap();
        ctx.set(CtxOption::ThreadNamePrefix, 42).unwrap();
        assert_eq!(ctx.get(CtxOption::ThreadNamePrefix), Ok(42));
        assert_eq!(ctx.get_bytes(CtxOption::ThreadNamePrefix).unwrap(), b"42");
        assert_eq!(
            ctx.set_bytes(CtxOption::ThreadNamePrefix, &[b'x'; 17]),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn socket_limit_and_termination() {
        let ctx = Ctx::new();
        ctx.set(CtxOption::MaxSockets, 1).unwrap();
        let s = ctx.socket(SocketType::Pair as i32).unwrap();
        assert_eq!(
            ctx.socket(SocketType::Pair as i32).unwrap_err(),
            Error::TooManyFiles
        );
        let closer = std::thread::spawn(move || s.close());
        ctx.terminate().unwrap();
        closer.join().unwrap();
        assert_eq!(
            ctx.socket(SocketType::Pair as i32).unwrap_err(),
            Error::Term
        );
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"12ab"), 12);
        assert_eq!(atoi(b"-7"), -7);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
    }
}
