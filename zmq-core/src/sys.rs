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

/// `N` bytes from the kernel's CSPRNG, for seeds, nonces and keys whose
/// failure is not worth an error path: `getrandom(2)` does not fail once the
/// system has booted, and a failure would leave zeros, which weakens but
/// never breaks what uses them.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    let _ = fill_random(&mut b);
    b
}

/// poll(2) over `fds`; returns how many are ready. `timeout_ms` -1 waits
/// forever. Errors: `Interrupted` when a signal handler runs.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    let n = syscall!(poll(
        fds.as_mut_ptr(),
        fds.len() as libc::nfds_t,
        timeout_ms
    ))?;
    Ok(n as usize)
}

/// The address of the network interface `name` (e.g. "lo", "eth0"): IPv4
/// first, IPv6 if allowed (libzmq: `tcp_address_t::resolve_interface`).
pub fn interface_addr(name: &str, ipv6: bool) -> Option<std::net::IpAddr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    syscall!(getifaddrs(&mut list)).ok()?;
    let mut found: Option<std::net::IpAddr> = None;
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` walks the list getifaddrs returned, until NULL.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: a NUL-terminated interface name.
        let ifname = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        if ifname.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr of the family it states.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        let ip = match family {
            libc::AF_INET => {
                // SAFETY: an AF_INET sockaddr is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                std::net::IpAddr::from(u32::from_be(sin.sin_addr.s_addr).to_be_bytes())
            }
            libc::AF_INET6 if ipv6 => {
                // SAFETY: an AF_INET6 sockaddr is a sockaddr_in6.
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                std::net::IpAddr::from(sin6.sin6_addr.s6_addr)
            }
            _ => continue,
        };
        if found.is_none() || (found.is_some_and(|f| f.is_ipv6()) && ip.is_ipv4()) {
            found = Some(ip);
        }
    }
    // SAFETY: the list came from getifaddrs.
    unsafe { libc::freeifaddrs(list) };
    found
}

/// Per-connection tcp settings from socket options (-1/0/empty: leave the
/// system default).
#[derive(Clone, Debug, Default)]
pub struct TcpTuning {
    pub keepalive: i32,
    pub keepalive_cnt: i32,
    pub keepalive_idle: i32,
    pub keepalive_intvl: i32,
    pub tos: i32,
    pub sndbuf: i32,
    pub rcvbuf: i32,
    pub maxrt: i32,
    pub device: Vec<u8>,
}

fn set_int_opt(fd: i32, level: i32, name: i32, value: i32) {
    let _ = syscall!(setsockopt(
        fd,
        level,
        name,
        (&value as *const i32).cast(),
        std::mem::size_of::<i32>() as libc::socklen_t
    ));
}

/// Applies `ZMQ_TCP_KEEPALIVE*`, `ZMQ_TOS`, `ZMQ_SNDBUF`/`ZMQ_RCVBUF`,
/// `ZMQ_TCP_MAXRT` and `ZMQ_BINDTODEVICE` to a tcp stream (libzmq:
/// src/tcp.cpp). Failures are ignored, as libzmq ignores them.
pub fn tune_tcp(stream: &impl std::os::fd::AsRawFd, t: &TcpTuning) {
    let fd = stream.as_raw_fd();
    if t.keepalive != -1 {
        set_int_opt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, t.keepalive);
        if t.keepalive == 1 {
            if t.keepalive_cnt != -1 {
                set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, t.keepalive_cnt);
            }
            if t.keepalive_idle != -1 {
                set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, t.keepalive_idle);
            }
            if t.keepalive_intvl != -1 {
                set_int_opt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_KEEPINTVL,
                    t.keepalive_intvl,
                );
            }
        }
    }
    if t.tos != 0 {
        set_int_opt(fd, libc::IPPROTO_IP, libc::IP_TOS, t.tos);
    }
    if t.sndbuf >= 0 {
        set_int_opt(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, t.sndbuf);
    }
    if t.rcvbuf >= 0 {
        set_int_opt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, t.rcvbuf);
    }
    if t.maxrt > 0 {
        set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, t.maxrt);
    }
    if !t.device.is_empty() {
        let _ = syscall!(setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            t.device.as_ptr().cast(),
            t.device.len() as libc::socklen_t
        ));
    }
}

/// Sets a listening socket's accept backlog (`ZMQ_BACKLOG`).
pub fn set_backlog(listener: &impl std::os::fd::AsRawFd, backlog: i32) -> io::Result<()> {
    syscall!(listen(listener.as_raw_fd(), backlog))?;
    Ok(())
}

/// Creates a fresh private directory "tmpXXXXXX" for `ipc://*`, as libzmq
/// does: under `$TMPDIR`, `$TEMPDIR` or `$TMP`, else in the current
/// directory.
pub fn make_temp_dir() -> io::Result<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let base = ["TMPDIR", "TEMPDIR", "TMP"]
        .iter()
        .find_map(std::env::var_os)
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let mut template = base.join("tmpXXXXXX").into_os_string().into_vec();
    template.push(0);
    // SAFETY: a writable NUL-terminated template, as mkdtemp requires.
    let p = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    if p.is_null() {
        return Err(io::Error::last_os_error());
    }
    template.pop();
    Ok(std::ffi::OsString::from_vec(template).into())
}

/// Starts a non-blocking tcp connect to `dest` from the local address
/// `source` (libzmq's `tcp://src;dst`).
pub fn tcp_connect_from(
    source: std::net::SocketAddr,
    dest: std::net::SocketAddr,
) -> io::Result<mio::net::TcpStream> {
    use std::os::fd::FromRawFd;

    fn raw(addr: &std::net::SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
        // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let len = match addr {
            std::net::SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is large and aligned enough.
                unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
                std::mem::size_of::<libc::sockaddr_in>()
            }
            std::net::SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: as above.
                unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        };
        (storage, len as libc::socklen_t)
    }

    let family = if dest.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    let fd = syscall!(socket(
        family,
        libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        0
    ))?;
    // SAFETY: a fresh descriptor we own from here on.
    let stream = unsafe { mio::net::TcpStream::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    syscall!(setsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_REUSEADDR,
        (&one as *const libc::c_int).cast(),
        std::mem::size_of::<libc::c_int>() as libc::socklen_t
    ))?;
    let (src, src_len) = raw(&source);
    syscall!(bind(
        fd,
        (&src as *const libc::sockaddr_storage).cast(),
        src_len
    ))?;
    let (dst, dst_len) = raw(&dest);
    match syscall!(connect(
        fd,
        (&dst as *const libc::sockaddr_storage).cast(),
        dst_len
    )) {
        Ok(_) => Ok(stream),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(stream),
        Err(e) => Err(e),
    }
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

/// The credentials of a unix-socket peer (`SO_PEERCRED`): (pid, uid, gid).
pub fn peer_cred(fd: &impl std::os::fd::AsRawFd) -> io::Result<(i32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    syscall!(getsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_PEERCRED,
        (&mut cred as *mut libc::ucred).cast(),
        &mut len
    ))?;
    Ok((cred.pid, cred.uid, cred.gid))
}

/// Whether the user `uid` is listed as a member of group `gid` in the group
/// database (`getpwuid_r`, `getgrgid_r`); a user's primary group is not
/// counted, as in libzmq.
pub fn user_in_group(uid: u32, gid: u32) -> bool {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; all-zero is a valid value to fill.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut pw_out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives its use.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut pw_out) };
    if rc != 0 || pw_out.is_null() || pw.pw_name.is_null() {
        return false;
    }
    // SAFETY: getpwuid_r succeeded: pw_name is a NUL-terminated string in buf.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) }.to_bytes().to_vec();
    let mut gbuf = vec![0 as libc::c_char; 64 * 1024];
    // SAFETY: as for passwd.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut gr_out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { libc::getgrgid_r(gid, &mut gr, gbuf.as_mut_ptr(), gbuf.len(), &mut gr_out) };
    if rc != 0 || gr_out.is_null() || gr.gr_mem.is_null() {
        return false;
    }
    let mut member = gr.gr_mem;
    // SAFETY: gr_mem is a NULL-terminated array of NUL-terminated strings
    // in gbuf, which is still alive.
    unsafe {
        while !(*member).is_null() {
            if std::ffi::CStr::from_ptr(*member).to_bytes() == name.as_slice() {
                return true;
            }
            member = member.add(1);
        }
    }
    false
}

/// Takes over a listening socket the application made (`ZMQ_USE_FD`); `-1`
/// means none. The first listener made from `fd` owns it and closes it, as
/// in libzmq; later ones (`taken`) get a duplicate, so that no descriptor is
/// ever closed twice. A descriptor that is not a listening socket is refused
/// (`ENOTSOCK`, `EBADF`, `EINVAL`) and left alone.
pub fn listening_fd(fd: i32, taken: bool) -> io::Result<Option<std::os::fd::OwnedFd>> {
    use std::os::fd::FromRawFd;
    if fd == -1 {
        return Ok(None);
    }
    let mut listening: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    syscall!(getsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ACCEPTCONN,
        (&mut listening as *mut libc::c_int).cast(),
        &mut len
    ))?;
    if listening == 0 {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    if taken {
        let dup = syscall!(fcntl(fd, libc::F_DUPFD_CLOEXEC, 0))?;
        // SAFETY: `dup` is a new descriptor that nothing else owns.
        return Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(dup) }));
    }
    // SAFETY: `fd` is an open listening socket, which ZMQ_USE_FD hands over
    // to the library: it is closed with the listener, as libzmq does.
    Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
}

/// read(2) into `len` bytes at `buf`, which may be unwritten memory: no
/// Rust reference to it is made.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
pub unsafe fn read_raw(fd: i32, buf: *mut u8, len: usize) -> io::Result<usize> {
    let n = syscall!(read(fd, buf.cast(), len))?;
    Ok(n as usize)
}

/// sendmsg(2) of `parts`, gathered, without blocking and without SIGPIPE
/// (a peer that went away is an `EPIPE`, not a signal to the application's
/// thread). Returns how many bytes went.
pub fn send_parts_nonblocking(fd: i32, parts: &[&[u8]]) -> io::Result<usize> {
    let mut iov: Vec<libc::iovec> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        })
        .collect();
    // SAFETY: an all-zero msghdr is valid (no name, no control data).
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = iov.as_mut_ptr();
    hdr.msg_iovlen = iov.len();
    let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
    // SAFETY: every iovec points into a slice of `parts`, alive for the
    // call; the kernel only reads them.
    let n = syscall!(sendmsg(fd, &hdr, flags))?;
    Ok(n as usize)
}
