//! The SOCKS5 client handshake (RFC 1928, RFC 1929), sans-IO.
//!
//! libzmq: src/socks_connecter.cpp, src/socks.cpp. With `ZMQ_SOCKS_PROXY` a
//! tcp connect goes to the proxy, which is asked to CONNECT to the endpoint's
//! host and port (an IP literal as an address, anything else as a domain
//! name, resolved by the proxy); ZMTP starts once the proxy says yes.
#![forbid(unsafe_code)]

/// Why the proxy handshake failed (the connection is dropped and retried).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocksError {
    /// The proxy's bytes are not SOCKS5.
    Protocol,
    /// The proxy accepts none of our methods, or refused our username and
    /// password.
    AuthRefused,
    /// The proxy refused the CONNECT, with its reply code.
    Refused(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the method the proxy chose.
    Choice,
    /// Waiting for the answer to our username and password.
    Auth,
    /// Waiting for the answer to CONNECT.
    Response,
    Done,
}

/// One proxy handshake.
pub struct SocksClient {
    state: State,
    out: Vec<u8>,
    /// The proxy's bytes of the reply being read.
    reply: Vec<u8>,
    host: String,
    port: u16,
    username: Vec<u8>,
    password: Vec<u8>,
}

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const BASIC_AUTH: u8 = 2;

impl SocksClient {
    /// Starts a handshake for CONNECT to `host:port`; the greeting is ready
    /// to send. With a username the only method offered is username and
    /// password, else only "no authentication" (libzmq).
    pub fn new(host: &str, port: u16, username: &[u8], password: &[u8]) -> SocksClient {
        let method = if username.is_empty() {
            NO_AUTH
        } else {
            BASIC_AUTH
        };
        SocksClient {
            state: State::Choice,
            out: vec![VERSION, 1, method],
            reply: Vec::new(),
            host: host.to_owned(),
            port,
            username: username.to_vec(),
            password: password.to_vec(),
        }
    }

    /// Moves the bytes to send into `buf`.
    pub fn take_output(&mut self, buf: &mut Vec<u8>) {
        buf.append(&mut self.out);
    }

    /// Whether the proxy has connected us.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes the proxy's bytes up to the end of the handshake; returns
    /// how many it used (what follows is the peer's).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<usize, SocksError> {
        let mut used = 0;
        while self.state != State::Done && used < data.len() {
            // Never read past the reply: the peer's bytes may follow it.
            let want = self.reply_len().saturating_sub(self.reply.len()).max(1);
            let take = want.min(data.len() - used);
            self.reply.extend_from_slice(&data[used..used + take]);
            used += take;
            if self.reply.len() == self.reply_len() {
                self.complete()?;
                self.reply.clear();
            }
        }
        Ok(used)
    }

    /// The length of the reply being read, as far as its bytes so far tell.
    fn reply_len(&self) -> usize {
        match self.state {
            State::Choice | State::Auth => 2,
            State::Response => match self.reply.get(3) {
                None => 4,
                Some(1) => 4 + 4 + 2,
                Some(4) => 4 + 16 + 2,
                Some(3) => match self.reply.get(4) {
                    None => 5,
                    Some(&n) => 5 + n as usize + 2,
                },
                // An unknown address type: complete() refuses it.
                Some(_) => 4,
            },
            State::Done => 0,
        }
    }

    fn complete(&mut self) -> Result<(), SocksError> {
        let r = &self.reply;
        match self.state {
            State::Choice => {
                if r[0] != VERSION {
                    return Err(SocksError::Protocol);
                }
                // The proxy's pick is followed even if not offered (libzmq).
                match r[1] {
                    NO_AUTH => self.send_request(),
                    BASIC_AUTH => {
                        // RFC 1929: version 1, then both as length + bytes.
                        let user = &self.username[..self.username.len().min(255)];
                        let pass = &self.password[..self.password.len().min(255)];
                        self.out.push(1);
                        self.out.push(user.len() as u8);
                        self.out.extend_from_slice(user);
                        self.out.push(pass.len() as u8);
                        self.out.extend_from_slice(pass);
                        self.state = State::Auth;
                    }
                    _ => return Err(SocksError::AuthRefused),
                }
            }
            State::Auth => {
                if r[0] != 1 {
                    return Err(SocksError::Protocol);
                }
                if r[1] != 0 {
                    return Err(SocksError::AuthRefused);
                }
                self.send_request();
            }
            State::Response => {
                if r[0] != VERSION || r[2] != 0 || !matches!(r[3], 1 | 3 | 4) {
                    return Err(SocksError::Protocol);
                }
                if r[1] != 0 {
                    return Err(SocksError::Refused(r[1]));
                }
                self.state = State::Done;
            }
            State::Done => {}
        }
        Ok(())
    }

    /// CONNECT to the endpoint's host and port.
    fn send_request(&mut self) {
        self.out.extend_from_slice(&[VERSION, 1, 0]);
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => {
                self.out.push(1);
                self.out.extend_from_slice(&ip.octets());
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                self.out.push(4);
                self.out.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let name = &host.as_bytes()[..host.len().min(255)];
                self.out.push(3);
                self.out.push(name.len() as u8);
                self.out.extend_from_slice(name);
            }
        }
        self.out.extend_from_slice(&self.port.to_be_bytes());
        self.state = State::Response;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(c: &mut SocksClient) -> Vec<u8> {
        let mut v = Vec::new();
        c.take_output(&mut v);
        v
    }

    #[test]
    fn ipv4_connect_and_leftover() {
        let mut c = SocksClient::new("127.0.0.1", 5555, b"", b"");
        assert_eq!(out(&mut c), [5, 1, 0]);
        assert_eq!(c.handle_input(&[5, 0]), Ok(2));
        assert_eq!(out(&mut c), [5, 1, 0, 1, 127, 0, 0, 1, 0x15, 0xb3]);
        // The reply arrives byte by byte, then the peer's greeting follows.
        let mut reply = vec![5, 0, 0, 1, 10, 0, 0, 1, 0, 80, 0xFF, 0];
        assert_eq!(c.handle_input(&reply[..3]), Ok(3));
        reply.drain(..3);
        assert_eq!(c.handle_input(&reply), Ok(7));
        assert!(c.is_done());
    }

    #[test]
    fn domain_names_go_to_the_proxy() {
        let mut c = SocksClient::new("example.org", 1, b"", b"");
        out(&mut c);
        c.handle_input(&[5, 0]).unwrap();
        let mut want = vec![5, 1, 0, 3, 11];
        want.extend_from_slice(b"example.org");
        want.extend_from_slice(&[0, 1]);
        assert_eq!(out(&mut c), want);
        let mut reply = vec![5, 0, 0, 3, 3];
        reply.extend_from_slice(b"abc\x00\x01");
        assert_eq!(c.handle_input(&reply), Ok(reply.len()));
        assert!(c.is_done());
    }

    #[test]
    fn basic_auth() {
        let mut c = SocksClient::new("::1", 2, b"me", b"pw");
        assert_eq!(out(&mut c), [5, 1, 2]);
        c.handle_input(&[5, 2]).unwrap();
        assert_eq!(out(&mut c), [1, 2, b'm', b'e', 2, b'p', b'w']);
        assert_eq!(c.handle_input(&[1, 1]), Err(SocksError::AuthRefused));
    }

    #[test]
    fn refusals() {
        let mut c = SocksClient::new("1.2.3.4", 2, b"", b"");
        assert_eq!(c.handle_input(&[5, 0xFF]), Err(SocksError::AuthRefused));
        // A method not offered is followed: empty credentials.
        let mut c = SocksClient::new("1.2.3.4", 2, b"", b"");
        c.take_output(&mut Vec::new());
        c.handle_input(&[5, 2]).unwrap();
        assert_eq!(out(&mut c), [1, 0, 0]);
        let mut c = SocksClient::new("1.2.3.4", 2, b"", b"");
        assert_eq!(c.handle_input(&[4, 0]), Err(SocksError::Protocol));
        let mut c = SocksClient::new("1.2.3.4", 2, b"", b"");
        c.handle_input(&[5, 0]).unwrap();
        assert_eq!(
            c.handle_input(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
            Err(SocksError::Refused(5))
        );
        let mut c = SocksClient::new("1.2.3.4", 2, b"", b"");
        c.handle_input(&[5, 0]).unwrap();
        assert_eq!(c.handle_input(&[5, 0, 0, 9]), Err(SocksError::Protocol));
    }
}
