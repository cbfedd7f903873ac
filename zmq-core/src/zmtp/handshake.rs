//! The ZMTP 3 handshake: greeting, then the NULL, PLAIN or CURVE security
//! mechanism, with the ZAP handler consulted where libzmq consults it.
//!
//! libzmq: src/zmtp_engine.cpp (`handshake`), src/null_mechanism.cpp,
//! plain_client.cpp, plain_server.cpp (CURVE: [`super::curve`]). The
//! greeting goes out in libzmq's order so that old peers can be recognised:
//! first the 10-byte signature, then the major version once the peer's
//! signature has arrived, then the rest once the peer's version is known.
//!
//! Sans-IO: bytes in with [`Handshake::handle_input`], bytes out with
//! [`Handshake::take_output`].

use crate::msg::Msg;
use crate::socket::SocketType;
use crate::zmtp::codec::{encode_frame, DecodeError, Decoder};
use crate::zmtp::command::{
    command_data, encode_command, encode_properties, parse_properties, Command,
};
use crate::zmtp::curve::{self, Cipher};
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
    pub security: Security,
    /// NULL asks the ZAP handler too (libzmq: when `ZMQ_ZAP_DOMAIN` is set).
    pub null_zap: bool,
}

/// The security mechanism and this side's part in it.
#[derive(Clone, Debug)]
pub enum Security {
    Null,
    Plain {
        server: bool,
        username: Vec<u8>,
        password: Vec<u8>,
    },
    Curve {
        server: bool,
        public: [u8; 32],
        secret: [u8; 32],
        /// The server's public key (clients).
        server_key: [u8; 32],
    },
}

impl Security {
    fn name(&self) -> &'static [u8] {
        match self {
            Security::Null => b"NULL",
            Security::Plain { .. } => b"PLAIN",
            Security::Curve { .. } => b"CURVE",
        }
    }
}

/// What the ZAP handler is to be asked (RFC 27): the session adds the
/// domain, the peer's address and the routing id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZapRequest {
    pub mechanism: &'static [u8],
    pub credentials: Vec<Vec<u8>>,
}

/// The ZAP handler's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZapReply {
    /// "200", "300", "400" or "500".
    pub status: [u8; 3],
    pub user_id: Vec<u8>,
    pub metadata: Vec<(String, Vec<u8>)>,
}

/// What the peer told us.
#[derive(Debug)]
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
    /// CURVE's encryption of every frame from now on.
    pub cipher: Option<Cipher>,
}

/// Why a handshake failed; the libzmq protocol error code goes to monitors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeError {
    /// The peer's greeting names another security mechanism.
    MechanismMismatch,
    /// A malformed command, or a frame that is not one.
    Malformed,
    /// Bytes that do not decode as frames: the connection closes with no
    /// handshake event (libzmq's decoder error).
    Framing,
    /// A command that has no place here.
    UnexpectedCommand,
    /// The peer's metadata is unacceptable (an incompatible socket type).
    InvalidMetadata,
    /// The peer sent ERROR (with no ZAP status code in it).
    PeerError(Vec<u8>),
    /// A nonce that did not rise.
    InvalidSequence,
    /// A CURVE vouch that does not match the connection.
    KeyExchange,
    MalformedHello,
    MalformedWelcome,
    MalformedInitiate,
    MalformedReady,
    /// A box that does not open.
    Crypto,
    /// Authentication refused, with the ZAP status code (ours, or the
    /// peer's in its ERROR): a HANDSHAKE_FAILED_AUTH event, not a protocol
    /// error.
    Auth(u32),
    /// A ZAP reply that breaks RFC 27, with libzmq's
    /// `ZMQ_PROTOCOL_ERROR_ZAP_*` code.
    Zap(u32),
    /// A ZAP handler is required and there is none (libzmq: EFAULT, a
    /// HANDSHAKE_FAILED_NO_DETAIL event).
    NoZapHandler,
    /// NULL's handshake stops without closing, until the handshake timer
    /// ends it: ZAP said 300 (a HANDSHAKE_FAILED_AUTH event), or a required
    /// handler is missing (`None`: HANDSHAKE_FAILED_NO_DETAIL, EFAULT).
    Stalled { auth: Option<u32> },
}

impl HandshakeError {
    /// libzmq's `ZMQ_PROTOCOL_ERROR_*` value for monitor events.
    pub fn protocol_error_code(&self) -> u32 {
        match self {
            HandshakeError::MechanismMismatch => 0x1100_0002,
            HandshakeError::Crypto => 0x1100_0001,
            HandshakeError::Malformed | HandshakeError::Framing => 0x1000_0011,
            HandshakeError::UnexpectedCommand => 0x1000_0001,
            HandshakeError::InvalidSequence => 0x1000_0002,
            HandshakeError::KeyExchange => 0x1000_0003,
            HandshakeError::MalformedHello => 0x1000_0013,
            HandshakeError::MalformedInitiate => 0x1000_0014,
            HandshakeError::PeerError(_) => 0x1000_0015,
            HandshakeError::MalformedReady => 0x1000_0016,
            HandshakeError::MalformedWelcome => 0x1000_0017,
            HandshakeError::InvalidMetadata => 0x1000_0018,
            HandshakeError::Zap(code) | HandshakeError::Auth(code) => *code,
            HandshakeError::NoZapHandler | HandshakeError::Stalled { .. } => 0,
        }
    }
}

/// Where the security mechanism is.
enum Mech {
    /// NULL: READY both ways (ours after ZAP, if asked).
    Null {
        ready_sent: bool,
        peer_ready: Option<Vec<(String, Vec<u8>)>>,
    },
    PlainClient {
        welcomed: bool,
    },
    PlainServer {
        step: PlainServerStep,
    },
    CurveClient(Box<curve::Client>),
    CurveServer(Box<curve::Server>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PlainServerStep {
    Hello,
    Zap,
    Initiate,
}

/// The handshake's dealings with the ZAP handler.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ZapState {
    Idle,
    /// A request for the session to send.
    Asking(ZapRequest),
    /// Sent; input waits for the reply.
    Waiting,
    Answered,
    /// NULL held by ZAP for good: input waits until the connection ends.
    /// `refused`: by a 300 reply (libzmq then counts the handshake as
    /// failed, not as still going).
    Stalled { refused: bool },
}

enum Phase {
    Greeting,
    /// Greetings exchanged; the mechanism's commands.
    Commands(Decoder),
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
    mech: Option<Mech>,
    zap: ZapState,
    /// The User-Id and metadata the ZAP handler gave.
    zap_properties: Vec<(String, Vec<u8>)>,
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
            mech: None,
            zap: ZapState::Idle,
            zap_properties: Vec::new(),
        }
    }

    /// A request for the ZAP handler, once the mechanism needs one: the
    /// session sends it and answers with [`Handshake::zap_reply`] or, with
    /// no handler, [`Handshake::zap_unavailable`]. Input waits meanwhile.
    pub fn take_zap_request(&mut self) -> Option<ZapRequest> {
        if !matches!(self.zap, ZapState::Asking(_)) {
            return None;
        }
        match std::mem::replace(&mut self.zap, ZapState::Waiting) {
            ZapState::Asking(req) => Some(req),
            _ => None,
        }
    }

    /// Whether input must wait for the ZAP handler.
    pub fn waiting_for_zap(&self) -> bool {
        matches!(
            self.zap,
            ZapState::Asking(_) | ZapState::Waiting | ZapState::Stalled { .. }
        )
    }

    /// Whether ZAP refused the peer with a temporary failure and the
    /// connection is only waiting to be closed.
    pub fn refused(&self) -> bool {
        self.zap == ZapState::Stalled { refused: true }
    }

    /// There is no ZAP handler: CURVE and NULL go on without one unless
    /// `enforce` (`ZMQ_ZAP_ENFORCE_DOMAIN`); PLAIN cannot (libzmq).
    pub fn zap_unavailable(&mut self, enforce: bool) -> Result<(), HandshakeError> {
        self.zap = ZapState::Answered;
        let null = matches!(self.mech, Some(Mech::Null { .. }));
        if enforce && null {
            self.zap = ZapState::Stalled { refused: false };
            return Err(HandshakeError::Stalled { auth: None });
        }
        if enforce || matches!(self.mech, Some(Mech::PlainServer { .. })) {
            return Err(HandshakeError::NoZapHandler);
        }
        self.zap_allowed()
    }

    /// The ZAP handler answered: 200 lets the peer in, with its user id
    /// and metadata; anything else sends ERROR with the status code and
    /// fails.
    pub fn zap_reply(&mut self, reply: ZapReply) -> Result<(), HandshakeError> {
        self.zap = ZapState::Answered;
        if &reply.status != b"200" {
            let code = (reply.status[0] - b'0') as u32 * 100;
            if code == 300 {
                // A temporary failure sends no ERROR: NULL holds the
                // connection, PLAIN and CURVE drop it (libzmq).
                if matches!(self.mech, Some(Mech::Null { .. })) {
                    self.zap = ZapState::Stalled { refused: true };
                    return Err(HandshakeError::Stalled { auth: Some(300) });
                }
            } else {
                Command::Error(reply.status.to_vec()).encode(&mut self.out);
            }
            return Err(HandshakeError::Auth(code));
        }
        // Even an empty user id is a property (libzmq).
        self.zap_properties
            .push(("User-Id".to_owned(), reply.user_id));
        self.zap_properties.extend(reply.metadata);
        self.zap_allowed()
    }

    /// The peer may in: the step the mechanism held back for ZAP.
    fn zap_allowed(&mut self) -> Result<(), HandshakeError> {
        match self.mech.as_mut() {
            Some(Mech::Null { ready_sent, .. }) => {
                *ready_sent = true;
                Command::Ready(our_properties(&self.config)).encode(&mut self.out);
                self.maybe_finish_null()
            }
            Some(Mech::PlainServer { step }) => {
                *step = PlainServerStep::Initiate;
                encode_command(&mut self.out, b"WELCOME", &[]);
                Ok(())
            }
            Some(Mech::CurveServer(server)) => {
                let cipher = server.ready(&our_properties(&self.config), &mut self.out);
                let peer_props = std::mem::take(&mut server.properties);
                self.finish(peer_props, Some(cipher))
            }
            _ => Ok(()),
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
            if matches!(self.phase, Phase::Commands(_)) && self.waiting_for_zap() {
                return Ok(used);
            }
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
                    if self.greeting[MECHANISM] != mechanism_field(self.config.security.name()) {
                        return Err(HandshakeError::MechanismMismatch);
                    }
                    self.phase = Phase::Commands(Decoder::new(64 * 1024));
                    self.start_mechanism();
                }
                Phase::Legacy(wire, decoder) => {
                    let wire = *wire;
                    let (n, frame) = decoder
                        .decode(&data[used..])
                        .map_err(|DecodeError::TooLarge| HandshakeError::Framing)?;
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
                        cipher: None,
                    });
                }
                Phase::Commands(decoder) => {
                    let (n, frame) = decoder
                        .decode(&data[used..])
                        .map_err(|DecodeError::TooLarge| HandshakeError::Framing)?;
                    used += n;
                    let Some(frame) = frame else {
                        return Ok(used);
                    };
                    // The frame's COMMAND flag is not checked: libzmq's
                    // mechanisms look at the bytes only.
                    self.process_command(frame.data())?;
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
            if !self.legacy_allowed() {
                return Err(HandshakeError::MechanismMismatch);
            }
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
                    cipher: None,
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
                if !self.legacy_allowed() {
                    return Err(HandshakeError::MechanismMismatch);
                }
                // ZMTP 1.0 (revision 0) or 2.0 (revision 1): our socket
                // type completes a 12-byte greeting.
                self.out.push(self.config.socket_type as i32 as u8);
                self.greeting_len = 12;
            } else {
                self.out.push(1); // ZMTP 3.1
                let security = &self.config.security;
                self.out
                    .extend_from_slice(&mechanism_field(security.name()));
                // as-server: libzmq 4.3 always sends 0 and never reads it.
                self.out.push(0);
                self.out.extend_from_slice(&[0u8; 31]);
            }
            self.sent_rest = true;
        }
        Ok(None)
    }

    /// ZMTP 1.0 and 2.0 peers have no security: libzmq refuses them when a
    /// mechanism or ZAP is in use.
    fn legacy_allowed(&self) -> bool {
        matches!(self.config.security, Security::Null) && !self.config.null_zap
    }

    /// Sends our routing id as the first frame, in the peer's framing.
    fn send_identity_frame(&mut self, wire: Wire) {
        let identity = Msg::from_vec(self.config.identity.clone());
        match wire {
            Wire::V1 => v1::encode_frame(&mut self.out, &identity),
            _ => encode_frame(&mut self.out, &identity),
        }
    }

    /// Greetings are exchanged: the mechanism's first move.
    fn start_mechanism(&mut self) {
        let mech = match self.config.security.clone() {
            Security::Null => {
                if self.config.null_zap {
                    self.zap = ZapState::Asking(ZapRequest {
                        mechanism: b"NULL",
                        credentials: Vec::new(),
                    });
                } else {
                    Command::Ready(our_properties(&self.config)).encode(&mut self.out);
                }
                Mech::Null {
                    ready_sent: !self.config.null_zap,
                    peer_ready: None,
                }
            }
            Security::Plain {
                server: false,
                username,
                password,
            } => {
                // HELLO: the username and password, each after its length.
                encode_command(
                    &mut self.out,
                    b"HELLO",
                    &[
                        &[username.len() as u8],
                        &username,
                        &[password.len() as u8],
                        &password,
                    ],
                );
                Mech::PlainClient { welcomed: false }
            }
            Security::Plain { server: true, .. } => Mech::PlainServer {
                step: PlainServerStep::Hello,
            },
            Security::Curve {
                server: false,
                public,
                secret,
                server_key,
            } => Mech::CurveClient(Box::new(curve::Client::start(
                public,
                secret,
                server_key,
                &mut self.out,
            ))),
            Security::Curve {
                server: true,
                secret,
                ..
            } => Mech::CurveServer(Box::new(curve::Server::new(secret))),
        };
        self.mech = Some(mech);
    }

    /// One command from the peer during the handshake.
    fn process_command(&mut self, body: &[u8]) -> Result<(), HandshakeError> {
        if let Ok(Command::Error(reason)) = Command::load(body) {
            return Err(error_reason(reason));
        }
        match self.mech.as_mut().expect("started after the greeting") {
            Mech::Null {
                peer_ready: peer @ None,
                ..
            } => match Command::load(body).map_err(|_| HandshakeError::Malformed)? {
                Command::Ready(p) => {
                    *peer = Some(p);
                    self.maybe_finish_null()
                }
                _ => Err(HandshakeError::UnexpectedCommand),
            },
            Mech::Null { .. } => Err(HandshakeError::UnexpectedCommand),
            Mech::PlainClient { welcomed } => {
                if !*welcomed {
                    match command_data(body, b"WELCOME") {
                        Some([]) => {}
                        Some(_) => return Err(HandshakeError::MalformedWelcome),
                        None => return Err(HandshakeError::UnexpectedCommand),
                    }
                    *welcomed = true;
                    // INITIATE: our metadata.
                    let mut props = Vec::new();
                    encode_properties(&our_properties(&self.config), &mut props);
                    encode_command(&mut self.out, b"INITIATE", &[&props]);
                    return Ok(());
                }
                match Command::load(body).map_err(|_| HandshakeError::MalformedReady)? {
                    Command::Ready(p) => self.finish(p, None),
                    _ => Err(HandshakeError::UnexpectedCommand),
                }
            }
            Mech::PlainServer { step } => match *step {
                PlainServerStep::Hello => {
                    let hello =
                        command_data(body, b"HELLO").ok_or(HandshakeError::UnexpectedCommand)?;
                    let (username, rest) =
                        length_prefixed(hello).ok_or(HandshakeError::MalformedHello)?;
                    let (password, rest) =
                        length_prefixed(rest).ok_or(HandshakeError::MalformedHello)?;
                    if !rest.is_empty() {
                        return Err(HandshakeError::MalformedHello);
                    }
                    *step = PlainServerStep::Zap;
                    self.zap = ZapState::Asking(ZapRequest {
                        mechanism: b"PLAIN",
                        credentials: vec![username.to_vec(), password.to_vec()],
                    });
                    Ok(())
                }
                PlainServerStep::Zap => Err(HandshakeError::UnexpectedCommand),
                PlainServerStep::Initiate => {
                    let initiate = command_data(body, b"INITIATE")
                        .ok_or(HandshakeError::UnexpectedCommand)?;
                    let p = parse_properties(initiate)
                        .map_err(|_| HandshakeError::MalformedInitiate)?;
                    Command::Ready(our_properties(&self.config)).encode(&mut self.out);
                    self.finish(p, None)
                }
            },
            Mech::CurveClient(_) | Mech::CurveServer(_) if !curve::well_formed(body) => {
                Err(HandshakeError::Malformed)
            }
            Mech::CurveClient(client) => match client.process(
                body,
                &our_properties(&self.config),
                &mut self.out,
            )? {
                Some(done) => self.finish(done.properties, Some(done.cipher)),
                None => Ok(()),
            },
            Mech::CurveServer(server) => {
                if server.process(body, &mut self.out)? {
                    self.zap = ZapState::Asking(ZapRequest {
                        mechanism: b"CURVE",
                        credentials: vec![server.client_key.to_vec()],
                    });
                }
                Ok(())
            }
        }
    }

    /// NULL is done once our READY is out and the peer's is in.
    fn maybe_finish_null(&mut self) -> Result<(), HandshakeError> {
        if let Some(Mech::Null {
            ready_sent: true,
            peer_ready,
        }) = self.mech.as_mut()
        {
            if let Some(p) = peer_ready.take() {
                return self.finish(p, None);
            }
        }
        Ok(())
    }

    /// The handshake is over: checks the peer's metadata.
    fn finish(
        &mut self,
        mut props: Vec<(String, Vec<u8>)>,
        cipher: Option<Cipher>,
    ) -> Result<(), HandshakeError> {
        let ty = props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Socket-Type"))
            .and_then(|(_, v)| SocketType::from_name(v))
            .ok_or(HandshakeError::InvalidMetadata)?;
        if !self.config.socket_type.compatible_with(ty) {
            return Err(HandshakeError::InvalidMetadata);
        }
        let identity = props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Identity"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        props.append(&mut self.zap_properties);
        self.mech = None;
        self.phase = Phase::Done(PeerInfo {
            socket_type: Some(ty),
            identity,
            properties: props,
            minor: self.greeting[11],
            wire: Wire::V3,
            cipher,
        });
        Ok(())
    }

    /// The peer, once the handshake is complete, taken out of it.
    pub fn take_peer(&mut self) -> Option<PeerInfo> {
        match std::mem::replace(&mut self.phase, Phase::Greeting) {
            Phase::Done(peer) => Some(peer),
            other => {
                self.phase = other;
                None
            }
        }
    }
}

/// The frames of a ZAP request (RFC 27), after the empty delimiter a REP
/// handler expects: version, request id, domain, the peer's address, our
/// routing id, the mechanism, then its credentials.
pub fn zap_request_frames(
    req: &ZapRequest,
    domain: &[u8],
    address: &str,
    routing_id: &[u8],
) -> Vec<Msg> {
    let mut parts: Vec<&[u8]> = vec![
        b"",
        b"1.0",
        b"1",
        domain,
        address.as_bytes(),
        routing_id,
        req.mechanism,
    ];
    parts.extend(req.credentials.iter().map(Vec::as_slice));
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut m = Msg::from_vec(p.to_vec());
            if i < last {
                m.set_flags(crate::msg::flags::MORE);
            }
            m
        })
        .collect()
}

/// Checks a ZAP reply as libzmq does (`zap_client_t`): seven frames, an
/// empty delimiter, version "1.0", our request id "1", a status code of
/// 200, 300, 400 or 500, the user id and well-formed metadata. Errors carry
/// libzmq's `ZMQ_PROTOCOL_ERROR_ZAP_*` codes.
pub fn parse_zap_reply(frames: &[Msg]) -> Result<ZapReply, HandshakeError> {
    const MALFORMED: u32 = 0x2000_0001;
    if frames.len() != 7 {
        return Err(HandshakeError::Zap(MALFORMED));
    }
    if !frames[0].data().is_empty() {
        return Err(HandshakeError::Zap(0x2000_0000));
    }
    if frames[1].data() != b"1.0" {
        return Err(HandshakeError::Zap(0x2000_0003));
    }
    if frames[2].data() != b"1" {
        return Err(HandshakeError::Zap(0x2000_0002));
    }
    let status: [u8; 3] = match frames[3].data() {
        s @ (b"200" | b"300" | b"400" | b"500") => s.try_into().expect("3 bytes"),
        _ => return Err(HandshakeError::Zap(0x2000_0004)),
    };
    let metadata =
        parse_properties(frames[6].data()).map_err(|_| HandshakeError::Zap(0x2000_0005))?;
    Ok(ZapReply {
        status,
        user_id: frames[5].data().to_vec(),
        metadata,
    })
}

/// The properties our READY (or INITIATE) carries.
fn our_properties(config: &Config) -> Vec<(String, Vec<u8>)> {
    let mut props = vec![(
        "Socket-Type".to_owned(),
        config.socket_type.name().as_bytes().to_vec(),
    )];
    if matches!(
        config.socket_type,
        SocketType::Req | SocketType::Dealer | SocketType::Router
    ) {
        props.push(("Identity".to_owned(), config.identity.clone()));
    }
    props.extend(config.metadata.iter().cloned());
    props
}

/// An ERROR's reason: a ZAP status code (300, 400, 500) is an
/// authentication failure, anything else the peer's protocol error
/// (libzmq: `mechanism_base_t::handle_error_reason`).
fn error_reason(reason: Vec<u8>) -> HandshakeError {
    match reason.as_slice() {
        [d @ b'3'..=b'5', b'0', b'0'] => HandshakeError::Auth(u32::from(d - b'0') * 100),
        _ => HandshakeError::PeerError(reason),
    }
}

/// "OCTET *OCTET": a length byte and that many bytes, and the rest.
fn length_prefixed(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&n, rest) = data.split_first()?;
    (rest.len() >= n as usize).then(|| rest.split_at(n as usize))
}

fn legacy_decoder(wire: Wire) -> LegacyDecoder {
    match wire {
        Wire::V1 => LegacyDecoder::V1(V1Decoder::new(64 * 1024)),
        _ => LegacyDecoder::V2(Decoder::new(64 * 1024)),
    }
}

/// A mechanism name as the 20-byte, NUL-padded greeting field.
fn mechanism_field(name: &[u8]) -> [u8; 20] {
    let mut field = [0u8; 20];
    field[..name.len()].copy_from_slice(name);
    field
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ty: SocketType, id: &[u8]) -> Config {
        Config {
            socket_type: ty,
            identity: id.to_vec(),
            metadata: Vec::new(),
            security: Security::Null,
            null_zap: false,
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
