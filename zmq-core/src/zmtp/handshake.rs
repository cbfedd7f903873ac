//! The ZMTP 3 handshake: greeting and the NULL security mechanism.
//!
//! libzmq: src/zmtp_engine.cpp (`handshake`), src/null_mechanism.cpp. The
//! greeting goes out in libzmq's order so that old peers can be recognised:
//! first the 10-byte signature, then the major version once the peer's
//! signature has arrived, then the rest once the peer's version is known.
//!
//! Sans-IO: bytes in with [`Handshake::handle_input`], bytes out with
//! [`Handshake::take_output`].

use crate::socket::SocketType;
use crate::zmtp::codec::{DecodeError, Decoder};
use crate::zmtp::command::Command;

/// Bytes in a ZMTP 3 greeting.
pub const GREETING_LEN: usize = 64;
const SIGNATURE_LEN: usize = 10;
const MECHANISM: std::ops::Range<usize> = 12..32;

/// What we tell the peer about ourselves.
#[derive(Clone, Debug)]
pub struct Config {
    pub socket_type: SocketType,
    /// Our routing id (`ZMQ_ROUTING_ID`), sent as `Identity` by the types
    /// that use it.
    pub identity: Vec<u8>,
    /// Application metadata (`ZMQ_METADATA`, `X-` properties).
    pub metadata: Vec<(String, Vec<u8>)>,
}

/// What the peer told us.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    pub socket_type: SocketType,
    /// The peer's `Identity` property (empty if none).
    pub identity: Vec<u8>,
    /// Every property of the peer's READY, for `zmq_msg_gets`.
    pub properties: Vec<(String, Vec<u8>)>,
    /// The peer's ZMTP minor version (3.0 or 3.1).
    pub minor: u8,
}

/// Why a handshake failed; the libzmq protocol error code goes to monitors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// The peer speaks ZMTP 1.0 or 2.0, which this build does not.
    UnsupportedVersion(u8),
    /// The peer's greeting names another security mechanism.
    MechanismMismatch,
    /// A malformed command, or a frame that is not one.
    Malformed,
    /// A command that has no place here.
    UnexpectedCommand,
    /// The peer's metadata is unacceptable (an incompatible socket type).
    InvalidMetadata,
    /// The peer sent ERROR.
    PeerError(Vec<u8>),
}

impl HandshakeError {
    /// libzmq's `ZMQ_PROTOCOL_ERROR_*` value for monitor events.
    pub fn protocol_error_code(&self) -> u32 {
        match self {
            HandshakeError::UnsupportedVersion(_) => 0x1000_0000,
            HandshakeError::MechanismMismatch => 0x1100_0002,
            HandshakeError::Malformed => 0x1000_0011,
            HandshakeError::UnexpectedCommand => 0x1000_0001,
            HandshakeError::InvalidMetadata => 0x1000_0018,
            HandshakeError::PeerError(_) => 0x1000_0015,
        }
    }
}

enum Phase {
    Greeting,
    /// Greetings exchanged; waiting for the peer's READY.
    Ready(Decoder),
    Done(PeerInfo),
}

/// One side of a handshake.
pub struct Handshake {
    config: Config,
    out: Vec<u8>,
    greeting: [u8; GREETING_LEN],
    received: usize,
    sent_major: bool,
    sent_rest: bool,
    phase: Phase,
}

impl Handshake {
    /// Starts a handshake: the signature is ready to send.
    pub fn new(config: Config) -> Handshake {
        let mut out = Vec::with_capacity(128);
        // "signature = %xFF padding %x7F": libzmq fills the padding with the
        // routing id's length + 1, which a ZMTP 1.0 peer reads as a frame.
        out.push(0xFF);
        out.extend_from_slice(&(config.identity.len() as u64 + 1).to_be_bytes());
        out.push(0x7F);
        Handshake {
            config,
            out,
            greeting: [0; GREETING_LEN],
            received: 0,
            sent_major: false,
            sent_rest: false,
            phase: Phase::Greeting,
        }
    }

    /// Moves the bytes to send into `buf`.
    pub fn take_output(&mut self, buf: &mut Vec<u8>) {
        buf.append(&mut self.out);
    }

    /// Whether there are bytes to send.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The peer, once the handshake is complete.
    pub fn peer(&self) -> Option<&PeerInfo> {
        match &self.phase {
            Phase::Done(peer) => Some(peer),
            _ => None,
        }
    }

    /// Consumes the peer's bytes; stops at the end of the handshake and
    /// returns how many bytes it used (the rest are messages).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        let mut used = 0;
        loop {
            match &mut self.phase {
                Phase::Done(_) => return Ok(used),
                Phase::Greeting => {
                    let take = (GREETING_LEN - self.received).min(data.len() - used);
                    self.greeting[self.received..self.received + take]
                        .copy_from_slice(&data[used..used + take]);
                    self.received += take;
                    used += take;
                    self.advance_greeting()?;
                    if self.received < GREETING_LEN {
                        return Ok(used);
                    }
                    if self.greeting[MECHANISM] != *mechanism_field(b"NULL") {
                        return Err(HandshakeError::MechanismMismatch);
                    }
                    self.send_ready();
                    self.phase = Phase::Ready(Decoder::new(64 * 1024));
                }
                Phase::Ready(decoder) => {
                    let (n, frame) = decoder
                        .decode(&data[used..])
                        .map_err(|DecodeError::TooLarge| HandshakeError::Malformed)?;
                    used += n;
                    let Some(frame) = frame else {
                        return Ok(used);
                    };
                    if frame.flags() & crate::msg::flags::COMMAND == 0 {
                        return Err(HandshakeError::UnexpectedCommand);
                    }
                    let peer = self.process_command(frame.data())?;
                    self.phase = Phase::Done(peer);
                }
            }
        }
    }

    /// Sends the parts of our greeting that the peer's bytes so far allow.
    fn advance_greeting(&mut self) -> Result<(), HandshakeError> {
        if self.received >= 1 && self.greeting[0] != 0xFF {
            return Err(HandshakeError::UnsupportedVersion(1));
        }
        if self.received >= SIGNATURE_LEN {
            if self.greeting[9] & 0x01 == 0 {
                return Err(HandshakeError::UnsupportedVersion(1));
            }
            if !self.sent_major {
                self.out.push(3);
                self.sent_major = true;
            }
        }
        if self.received > SIGNATURE_LEN && !self.sent_rest {
            let major = self.greeting[10];
            if major < 3 {
                return Err(HandshakeError::UnsupportedVersion(major));
            }
            self.out.push(1); // ZMTP 3.1
            self.out.extend_from_slice(mechanism_field(b"NULL"));
            self.out.push(0); // as-server: not with NULL
            self.out.extend_from_slice(&[0u8; 31]);
            self.sent_rest = true;
        }
        Ok(())
    }

    fn send_ready(&mut self) {
        let mut props = vec![(
            "Socket-Type".to_owned(),
            self.config.socket_type.name().as_bytes().to_vec(),
        )];
        if matches!(
            self.config.socket_type,
            SocketType::Req | SocketType::Dealer | SocketType::Router
        ) {
            props.push(("Identity".to_owned(), self.config.identity.clone()));
        }
        props.extend(self.config.metadata.iter().cloned());
        Command::Ready(props).encode(&mut self.out);
    }

    fn process_command(&mut self, body: &[u8]) -> Result<PeerInfo, HandshakeError> {
        match Command::load(body).map_err(|_| HandshakeError::Malformed)? {
            Command::Ready(props) => {
                let ty = props
                    .iter()
                    .find(|(k, _)| k == "Socket-Type")
                    .and_then(|(_, v)| SocketType::from_name(v))
                    .ok_or(HandshakeError::InvalidMetadata)?;
                if !self.config.socket_type.compatible_with(ty) {
                    return Err(HandshakeError::InvalidMetadata);
                }
                let identity = props
                    .iter()
                    .find(|(k, _)| k == "Identity")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                Ok(PeerInfo {
                    socket_type: ty,
                    identity,
                    properties: props,
                    minor: self.greeting[11],
                })
            }
            Command::Error(reason) => Err(HandshakeError::PeerError(reason)),
            _ => Err(HandshakeError::UnexpectedCommand),
        }
    }
}

/// A mechanism name as the 20-byte, NUL-padded greeting field.
fn mechanism_field(name: &[u8]) -> &'static [u8; 20] {
    match name {
        b"NULL" => b"NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        _ => unreachable!("only NULL is offered"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ty: SocketType, id: &[u8]) -> Config {
        Config {
            socket_type: ty,
            identity: id.to_vec(),
            metadata: Vec::new(),
        }
    }

    /// Drives two handshakes against each other in memory.
    fn drive(a: &mut Handshake, b: &mut Handshake) -> Result<(), HandshakeError> {
        for _ in 0..10 {
            let (mut ab, mut ba) = (Vec::new(), Vec::new());
            a.take_output(&mut ab);
            b.take_output(&mut ba);
            if ab.is_empty() && ba.is_empty() {
                break;
            }
            b.handle_input(&ab)?;
            a.handle_input(&ba)?;
        }
        Ok(())
    }

    #[test]
    fn dealer_meets_router() {
        let mut a = Handshake::new(config(SocketType::Dealer, b"D1"));
        let mut b = Handshake::new(config(SocketType::Router, b""));
        drive(&mut a, &mut b).unwrap();
        assert_eq!(a.peer().unwrap().socket_type, SocketType::Router);
        let pb = b.peer().unwrap();
        assert_eq!(pb.socket_type, SocketType::Dealer);
        assert_eq!(pb.identity, b"D1");
        assert_eq!(pb.minor, 1);
    }

    #[test]
    fn incompatible_types_are_refused() {
        let mut a = Handshake::new(config(SocketType::Push, b""));
        let mut b = Handshake::new(config(SocketType::Push, b""));
        assert_eq!(drive(&mut a, &mut b), Err(HandshakeError::InvalidMetadata));
    }

    #[test]
    fn greeting_is_sent_in_libzmq_order() {
        let mut a = Handshake::new(config(SocketType::Pair, b""));
        let mut out = Vec::new();
        a.take_output(&mut out);
        assert_eq!(out, [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F]);
        a.handle_input(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F])
            .unwrap();
        out.clear();
        a.take_output(&mut out);
        assert_eq!(out, [3]);
        a.handle_input(&[3]).unwrap();
        out.clear();
        a.take_output(&mut out);
        assert_eq!(out.len(), GREETING_LEN - SIGNATURE_LEN - 1);
        assert_eq!(&out[..5], b"\x01NULL");
    }

    #[test]
    fn messages_after_ready_are_left_over() {
        let mut a = Handshake::new(config(SocketType::Pair, b""));
        let mut b = Handshake::new(config(SocketType::Pair, b""));
        let mut wire = Vec::new();
        a.take_output(&mut wire);
        b.handle_input(&wire).unwrap();
        let mut back = Vec::new();
        b.take_output(&mut back);
        a.handle_input(&back).unwrap();
        wire.clear();
        a.take_output(&mut wire);
        b.handle_input(&wire).unwrap();
        back.clear();
        b.take_output(&mut back);
        back.extend_from_slice(b"\x00\x02hi");
        let used = a.handle_input(&back).unwrap();
        assert_eq!(&back[used..], b"\x00\x02hi");
        assert!(a.peer().is_some());
    }

    #[test]
    fn old_and_foreign_peers_fail_cleanly() {
        let mut a = Handshake::new(config(SocketType::Pair, b""));
        assert_eq!(
            a.handle_input(b"\x01\x00"),
            Err(HandshakeError::UnsupportedVersion(1))
        );
        let mut b = Handshake::new(config(SocketType::Pair, b""));
        let mut greeting = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 0];
        greeting.extend_from_slice(b"PLAIN\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        greeting.extend_from_slice(&[0u8; 32]);
        assert_eq!(
            b.handle_input(&greeting),
            Err(HandshakeError::MechanismMismatch)
        );
    }
}
