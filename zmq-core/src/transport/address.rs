//! tcp and ipc addresses (libzmq: src/tcp_address.cpp, src/ipc_address.cpp).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// A tcp endpoint as written: host (or `*`) and port (0 for `*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSpec {
    pub host: String,
    pub port: u16,
}

/// Splits `host:port`; `[v6]` brackets are removed. Errors: `Invalid`.
pub fn parse_tcp(address: &str) -> Result<TcpSpec> {
    let (host, port) = address.rsplit_once(':').ok_or(Error::Invalid)?;
    let port = match port {
        "*" | "0" => 0,
        p => p.parse::<u16>().map_err(|_| Error::Invalid)?,
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(Error::Invalid);
    }
    Ok(TcpSpec {
        host: host.to_owned(),
        port,
    })
}

/// The local address to bind a tcp endpoint to. `*` is every interface
/// (`::` with `ZMQ_IPV6`, which also takes IPv4). Errors: `Invalid`
/// (unusable address), `NoDevice` (a name that does not resolve).
pub fn resolve_bind(spec: &TcpSpec, ipv6: bool) -> Result<SocketAddr> {
    if spec.host == "*" {
        let ip = if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok(SocketAddr::new(ip, spec.port));
    }
    // A literal address or an interface name; libzmq does not look up host
    // names for bind.
    let ip = match spec.host.parse::<IpAddr>() {
        Ok(ip) if ip.is_ipv6() && !ipv6 => return Err(Error::NoDevice),
        Ok(ip) => ip,
        Err(_) => crate::sys::interface_addr(&spec.host, ipv6).ok_or(Error::NoDevice)?,
    };
    // With ZMQ_IPV6 an IPv4 address is bound as its IPv4-mapped IPv6 form,
    // as libzmq does (an AF_INET6 socket).
    let ip = match ip {
        IpAddr::V4(v4) if ipv6 => IpAddr::V6(v4.to_ipv6_mapped()),
        other => other,
    };
    Ok(SocketAddr::new(ip, spec.port))
}

/// Resolves a host (literal or name) for `port`, preferring IPv4 unless
/// `ipv6` allows IPv6.
pub fn resolve_host(host: &str, port: u16, ipv6: bool) -> Option<SocketAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        if ip.is_ipv6() && !ipv6 {
            return None;
        }
        return Some(SocketAddr::new(ip, port));
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.iter().find(|a| ipv6 && a.is_ipv6()))
        .copied()
}

/// A connect target: optional source address, then the destination.
#[derive(Clone, Debug)]
pub struct TcpConnect {
    pub source: Option<TcpSpec>,
    pub dest: TcpSpec,
}

/// Parses a connect address, `[src;]host:port`. The port must be given.
pub fn parse_tcp_connect(address: &str) -> Result<TcpConnect> {
    let (source, dest) = match address.split_once(';') {
        Some((src, dst)) => (Some(parse_tcp(src)?), dst),
        None => (None, address),
    };
    let dest = parse_tcp(dest)?;
    if dest.port == 0 || dest.host == "*" {
        return Err(Error::Invalid);
    }
    Ok(TcpConnect { source, dest })
}

/// How an address is written back in `ZMQ_LAST_ENDPOINT`.
pub fn tcp_endpoint_string(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

/// An ipc address: a filesystem path or a Linux abstract name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpcAddr {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

/// Parses an ipc address; `*` is answered by [`IpcAddr`] chosen at bind.
pub fn parse_ipc(address: &str) -> Result<IpcAddr> {
    if address.is_empty() {
        return Err(Error::Invalid);
    }
    // sun_path holds 107 bytes and a NUL.
    if address.len() > 107 {
        return Err(Error::NameTooLong);
    }
    Ok(match address.strip_prefix('@') {
        Some(name) => IpcAddr::Abstract(name.as_bytes().to_vec()),
        None => IpcAddr::Path(PathBuf::from(address)),
    })
}

/// How an ipc address is written back in `ZMQ_LAST_ENDPOINT`.
pub fn ipc_endpoint_string(addr: &IpcAddr) -> String {
    match addr {
        IpcAddr::Path(p) => format!("ipc://{}", p.display()),
        IpcAddr::Abstract(n) => format!("ipc://@{}", String::from_utf8_lossy(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_forms() {
        assert_eq!(
            parse_tcp("127.0.0.1:*").unwrap(),
            TcpSpec {
                host: "127.0.0.1".into(),
                port: 0
            }
        );
        assert_eq!(parse_tcp("[::1]:5").unwrap().host, "::1");
        assert_eq!(parse_tcp("*:*").unwrap().host, "*");
        assert!(parse_tcp("nohost").is_err());
        assert!(parse_tcp("h:port").is_err());
        assert!(parse_tcp(":5").is_err());
        assert!(parse_tcp("h:70000").is_err());
    }

    #[test]
    fn binds() {
        let any = resolve_bind(&parse_tcp("*:0").unwrap(), false).unwrap();
        assert_eq!(any.ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let any6 = resolve_bind(&parse_tcp("*:0").unwrap(), true).unwrap();
        assert!(any6.is_ipv6());
        assert!(resolve_bind(&parse_tcp("[::1]:0").unwrap(), false).is_err());
        assert_eq!(
            resolve_bind(&parse_tcp("lo:0").unwrap(), false)
                .unwrap()
                .ip(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            resolve_bind(&parse_tcp("localhost:1").unwrap(), false),
            Err(Error::NoDevice)
        );
    }

    #[test]
    fn connects() {
        let c = parse_tcp_connect("127.0.0.1:0;127.0.0.1:5555").unwrap();
        assert_eq!(c.source.unwrap().port, 0);
        assert_eq!(c.dest.port, 5555);
        assert!(parse_tcp_connect("127.0.0.1:*").is_err());
        assert!(parse_tcp_connect("*:5").is_err());
    }

    #[test]
    fn ipc_forms() {
        assert_eq!(parse_ipc("@x").unwrap(), IpcAddr::Abstract(b"x".to_vec()));
        assert_eq!(parse_ipc("/tmp/s").unwrap(), IpcAddr::Path("/tmp/s".into()));
        assert!(parse_ipc("").is_err());
        assert_eq!(parse_ipc(&"a".repeat(200)), Err(Error::NameTooLong));
    }
}
