//! The ZMTP 3 handshake: greeting and the NULL security mechanism.
//!
//! libzmq: src/zmtp_engine.cpp (`handshake`), src/null_mechanism.cpp. The
//! greeting goes out in libzmq's order so that old peers can be recognised:
//! first the 10-byte signature, then the major version once the peer's
//! signature has arrived, then the rest once the peer's version is known.
//!
//! Sans-IO: bytes in with [`Handshake::handle_input`], bytes out with
//! [`Handshake::take_output`].

use crate::msg::Msg;
use crate::socket::SocketType;
use crate::zmtp::codec::{encode_frame, DecodeError, Decoder};
use crate::zmtp::command::Command;
use crate::zmtp::v1::{self, V1Decoder};

/// The framing a connection uses once the handshake is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// ZMTP 1.0 (RFC 13): length-prefixed frames, no greeting.
    V1,
    /// ZMTP 2.0 (RFC 15): ZMTP 3 data frames, no commands.
    V2,
    /// ZMTP 3.0/3.1.
    V3,
    /// No ZMTP at all: a STREAM socket's raw bytes.
    Raw,
}

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
    /// The peer's type (unknown for ZMTP 1.0 peers).
    pub socket_type: Option<SocketType>,
    /// The peer's `Identity` property (empty if none).
    pub identity: Vec<u8>,
    /// Every property of the peer's READY, for `zmq_msg_gets`.
    pub properties: Vec<(String, Vec<u8>)>,
    /// The peer's ZMTP minor version (3.0 or 3.1).
    pub minor: u8,
    /// The framing to use from now on.
    pub wire: Wire,
}

/// Why a handshake failed; the libzmq protocol error code goes to monitors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeError {
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
    /// A ZMTP 1.0/2.0 peer: waiting for its identity, its first frame.
    Legacy(Wire, LegacyDecoder),
    Done(PeerInfo),
}

enum LegacyDecoder {
    V1(V1Decoder),
    V2(Decoder),
}

impl LegacyDecoder {
    fn decode(&mut self, data: &[u8]) -> Result<(usize, Option<Msg>), DecodeError> {
        match self {
            LegacyDecoder::V1(d) => d.decode(data),
            LegacyDecoder::V2(d) => d.decode(data),
        }
    }
}

/// One side of a handshake.
pub struct Handshake {
    config: Config,
    out: Vec<u8>,
    greeting: [u8; GREETING_LEN],
    received: usize,
    sent_major: bool,
    sent_rest: bool,
    /// Bytes in the peer's greeting, once its revision is known.
    greeting_len: usize,
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
            greeting_len: GREETING_LEN,
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
                    // Byte by byte up to the revision (it decides how long
                    // the greeting is), then the rest in one go.
                    let target = if self.received <= SIGNATURE_LEN {
                        self.received + 1
                    } else {
                        self.greeting_len
                    };
                    let take = (target - self.received).min(data.len() - used);
                    self.greeting[self.received..self.received + take]
                        .copy_from_slice(&data[used..used + take]);
                    self.received += take;
                    used += take;
                    if let Some(legacy) = self.advance_greeting()? {
                        self.phase = legacy;
                        continue;
                    }
                    if self.received < self.greeting_len || take == 0 {
                        if take == 0 {
                            return Ok(used);
                        }
                        continue;
                    }
                    if self.greeting_len < GREETING_LEN {
                        // ZMTP 1.0/2.0 with a versioned greeting: identities
                        // are exchanged as first frames.
                        let wire = if self.greeting[10] == 0 {
                            Wire::V1
                        } else {
                            Wire::V2
                        };
                        self.send_identity_frame(wire);
                        self.phase = Phase::Legacy(wire, legacy_decoder(wire));
                        continue;
                    }
                    if self.greeting[MECHANISM] != *mechanism_field(b"NULL") {
                        return Err(HandshakeError::MechanismMismatch);
                    }
                    self.send_ready();
                    self.phase = Phase::Ready(Decoder::new(64 * 1024));
                }
                Phase::Legacy(wire, decoder) => {
                    let wire = *wire;
                    let (n, frame) = decoder
                        .decode(&data[used..])
                        .map_err(|DecodeError::TooLarge| HandshakeError::Malformed)?;
                    used += n;
                    let Some(identity) = frame else {
                        return Ok(used);
                    };
                    let socket_type = if self.received >= 12 && self.greeting[0] == 0xFF {
                        SocketType::from_raw(i32::from(self.greeting[11]))
                    } else {
                        None
                    };
                    self.phase = Phase::Done(PeerInfo {
                        socket_type,
                        identity: identity.data().to_vec(),
                        properties: Vec::new(),
                        minor: 0,
                        wire,
                    });
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

    /// Sends the parts of our greeting that the peer's bytes so far allow;
    /// returns the legacy phase when the peer turns out to be unversioned.
    fn advance_greeting(&mut self) -> Result<Option<Phase>, HandshakeError> {
        // "An unversioned peer" (libzmq): its first byte is not 0xFF, or the
        // tenth has bit 0 clear. Its bytes so far are its identity frame,
        // and our signature reads to it as the header of ours.
        let unversioned = (self.received >= 1 && self.greeting[0] != 0xFF)
            || (self.received >= SIGNATURE_LEN && self.greeting[9] & 0x01 == 0);
        if unversioned {
            self.out.extend_from_slice(&self.config.identity);
            let mut decoder = V1Decoder::new(64 * 1024);
            let (_, frame) = decoder
                .decode(&self.greeting[..self.received])
                .map_err(|_| HandshakeError::Malformed)?;
            let phase = match frame {
                Some(identity) => Phase::Done(PeerInfo {
                    socket_type: None,
                    identity: identity.data().to_vec(),
                    properties: Vec::new(),
                    minor: 0,
                    wire: Wire::V1,
                }),
                None => Phase::Legacy(Wire::V1, LegacyDecoder::V1(decoder)),
            };
            return Ok(Some(phase));
        }
        if self.received >= SIGNATURE_LEN && !self.sent_major {
            self.out.push(3);
            self.sent_major = true;
        }
        if self.received > SIGNATURE_LEN && !self.sent_rest {
            let revision = self.greeting[10];
            if revision < 3 {
                // ZMTP 1.0 (revision 0) or 2.0 (revision 1): our socket
                // type completes a 12-byte greeting.
                self.out.push(self.config.socket_type as i32 as u8);
                self.greeting_len = 12;
            } else {
                self.out.push(1); // ZMTP 3.1
                self.out.extend_from_slice(mechanism_field(b"NULL"));
                self.out.push(0); // as-server: not with NULL
                self.out.extend_from_slice(&[0u8; 31]);
            }
            self.sent_rest = true;
        }
        Ok(None)
    }

    /// Sends our routing id as the first frame, in the peer's framing.
    fn send_identity_frame(&mut self, wire: Wire) {
        let identity = Msg::from_vec(self.config.identity.clone());
        match wire {
            Wire::V1 => v1::encode_frame(&mut self.out, &identity),
            _ => encode_frame(&mut self.out, &identity),
        }
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
                    socket_type: Some(ty),
                    identity,
                    properties: props,
                    minor: self.greeting[11],
                    wire: Wire::V3,
                })
            }
            Command::Error(reason) => Err(HandshakeError::PeerError(reason)),
            _ => Err(HandshakeError::UnexpectedCommand),
        }
    }
}

fn legacy_decoder(wire: Wire) -> LegacyDecoder {
    match wire {
        Wire::V1 => LegacyDecoder::V1(V1Decoder::new(64 * 1024)),
        _ => LegacyDecoder::V2(Decoder::new(64 * 1024)),
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
        assert_eq!(a.peer().unwrap().socket_type, Some(SocketType::Router));
        let pb = b.peer().unwrap();
        assert_eq!(pb.socket_type, Some(SocketType::Dealer));
        assert_eq!(pb.wire, Wire::V3);
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

    /// A ZMTP 2.0 peer (RFC 15): 12-byte greeting with its socket type, then
    /// its identity as a first frame.
    #[test]
    fn zmtp_2_0_peer() {
        let mut a = Handshake::new(config(SocketType::Dealer, b"me"));
        let mut out = Vec::new();
        a.take_output(&mut out);
        let mut peer = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 0x01, 0x06];
        peer.extend_from_slice(b"\x00\x03bob\x00\x02hi");
        let used = a.handle_input(&peer).unwrap();
        assert_eq!(&peer[used..], b"\x00\x02hi");
        let p = a.peer().unwrap();
        assert_eq!(
            (p.wire, p.socket_type),
            (Wire::V2, Some(SocketType::Router))
        );
        assert_eq!(p.identity, b"bob");
        out.clear();
        a.take_output(&mut out);
        // Major version, our type, then our identity frame.
        assert_eq!(out, b"\x03\x05\x00\x02me");
    }

    /// An unversioned ZMTP 1.0 peer (RFC 13): its identity frame comes first.
    #[test]
    fn zmtp_1_0_peer() {
        let mut a = Handshake::new(config(SocketType::Pair, b"me"));
        let mut out = Vec::new();
        a.take_output(&mut out);
        // Our signature is read by it as a frame header of length 3.
        assert_eq!(out, [0xFF, 0, 0, 0, 0, 0, 0, 0, 3, 0x7F]);
        let used = a.handle_input(b"\x04\x00bob\x03\x00hi").unwrap();
        assert_eq!(used, 5);
        let p = a.peer().unwrap();
        assert_eq!((p.wire, p.identity.as_slice()), (Wire::V1, &b"bob"[..]));
        out.clear();
        a.take_output(&mut out);
        assert_eq!(out, b"me");
    }

    #[test]
    fn foreign_mechanism_fails_cleanly() {
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
