//! The CURVE security mechanism (RFC 26), sans-IO.
//!
//! libzmq: src/curve_client.cpp, curve_server.cpp, curve_client_tools.hpp,
//! curve_mechanism_base.cpp. Boxes are NaCl's `crypto_box` (X25519,
//! XSalsa20, Poly1305) laid out as libzmq puts them on the wire: the 16-byte
//! tag, then the ciphertext. Short nonces count up from 1 on each side; a
//! peer's must rise strictly, so replayed or reordered frames are refused.

use crypto_box::aead::generic_array::GenericArray;
use crypto_box::aead::AeadInPlace;
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use crypto_secretbox::{KeyInit, XSalsa20Poly1305};

use crate::msg::{flags, Msg, INLINE_CAPACITY};
use crate::sys::random_bytes as random;
use crate::zmtp::codec::encode_header;
use crate::zmtp::command::{command_data, encode_command, encode_properties, parse_properties};
use crate::zmtp::handshake::HandshakeError;

pub const KEY_LEN: usize = 32;
type Key = [u8; KEY_LEN];

const HELLO_PREFIX: &[u8; 16] = b"CurveZMQHELLO---";
const WELCOME_PREFIX: &[u8; 8] = b"WELCOME-";
const COOKIE_PREFIX: &[u8; 8] = b"COOKIE--";
const INITIATE_PREFIX: &[u8; 16] = b"CurveZMQINITIATE";
const VOUCH_PREFIX: &[u8; 8] = b"VOUCH---";
const READY_PREFIX: &[u8; 16] = b"CurveZMQREADY---";
const MESSAGE_CLIENT: &[u8; 16] = b"CurveZMQMESSAGEC";
const MESSAGE_SERVER: &[u8; 16] = b"CurveZMQMESSAGES";
/// Poly1305's tag, in front of every box.
const TAG: usize = 16;

/// The sizes of libzmq's commands.
const HELLO_LEN: usize = 200;
const WELCOME_LEN: usize = 168;
const COOKIE_LEN: usize = 96;
const INITIATE_MIN: usize = 257;
const READY_MIN: usize = 30;
const MESSAGE_MIN: usize = 33;

fn nonce(prefix: &[u8], tail: &[u8]) -> [u8; 24] {
    let mut n = [0u8; 24];
    n[..prefix.len()].copy_from_slice(prefix);
    n[prefix.len()..].copy_from_slice(tail);
    n
}

/// Appends `tag || ciphertext` of the plaintext `parts` (concatenated) to
/// `out`, encrypting in place.
fn seal(cipher: &impl AeadInPlace, nonce: &[u8; 24], parts: &[&[u8]], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; TAG]);
    for p in parts {
        out.extend_from_slice(p);
    }
    let tag = cipher
        .encrypt_in_place_detached(GenericArray::from_slice(nonce), b"", &mut out[start + TAG..])
        .expect("XSalsa20 takes any length a frame can have");
    out[start..start + TAG].copy_from_slice(&tag);
}

/// Opens a `tag || ciphertext` box.
fn open(
    cipher: &impl AeadInPlace,
    nonce: &[u8; 24],
    boxed: &[u8],
) -> Result<Vec<u8>, HandshakeError> {
    if boxed.len() < TAG {
        return Err(HandshakeError::Crypto);
    }
    let mut plain = boxed[TAG..].to_vec();
    cipher
        .decrypt_in_place_detached(
            GenericArray::from_slice(nonce),
            b"",
            &mut plain,
            GenericArray::from_slice(&boxed[..TAG]),
        )
        .map_err(|_| HandshakeError::Crypto)?;
    Ok(plain)
}

fn salsa_box(public: &Key, secret: &Key) -> SalsaBox {
    SalsaBox::new(&PublicKey::from(*public), &SecretKey::from(*secret))
}

/// libzmq's `check_basic_command_structure`: a name length byte and more
/// bytes than it announces.
pub fn well_formed(body: &[u8]) -> bool {
    body.len() > 1 && body.len() > body[0] as usize
}

/// The encryption of an established CURVE connection: every frame travels
/// as a MESSAGE command boxed with the short-term keys.
pub struct Cipher {
    boxer: SalsaBox,
    send_prefix: &'static [u8; 16],
    recv_prefix: &'static [u8; 16],
    send_nonce: u64,
    recv_nonce: u64,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("send_nonce", &self.send_nonce)
            .finish()
    }
}

impl Cipher {
    /// Appends `msg` as one MESSAGE frame: `\x07MESSAGE`, the short nonce,
    /// then the box of a flags byte (MORE 1, COMMAND 2) and the body.
    pub fn encrypt(&mut self, msg: &Msg, out: &mut Vec<u8>) {
        let mut inner_flags = 0u8;
        if msg.more() {
            inner_flags |= 1;
        }
        if msg.flags() & flags::COMMAND != 0 {
            inner_flags |= 2;
        }
        let n = self.send_nonce.to_be_bytes();
        self.send_nonce += 1;
        // A data frame (libzmq never sets MORE or COMMAND outside the box).
        encode_header(out, 8 + 8 + TAG + 1 + msg.size(), false, false);
        out.extend_from_slice(b"\x07MESSAGE");
        out.extend_from_slice(&n);
        let nonce = nonce(self.send_prefix, &n);
        seal(&self.boxer, &nonce, &[&[inner_flags], msg.data()], out);
    }

    /// Opens a MESSAGE frame into the message it carries (with MORE and
    /// COMMAND restored). A frame that is not a MESSAGE, a nonce that does
    /// not rise, or a box that does not open is an error.
    pub fn decrypt(&mut self, frame: &Msg) -> Result<Msg, HandshakeError> {
        if !well_formed(frame.data()) {
            return Err(HandshakeError::Malformed);
        }
        let body = command_data(frame.data(), b"MESSAGE").ok_or(HandshakeError::UnexpectedCommand)?;
        if frame.size() < MESSAGE_MIN {
            return Err(HandshakeError::Malformed);
        }
        let n = u64::from_be_bytes(body[..8].try_into().expect("8 bytes"));
        if n <= self.recv_nonce {
            return Err(HandshakeError::InvalidSequence);
        }
        let mut plain = open(&self.boxer, &nonce(self.recv_prefix, &body[..8]), &body[8..])?;
        self.recv_nonce = n;
        let inner_flags = plain[0];
        let mut msg = if plain.len() > 1 + INLINE_CAPACITY {
            // The body is a view past the flags byte: no memmove of it.
            let len = plain.len() - 1;
            Msg::from_vec(plain).slice(1, len)
        } else {
            plain.remove(0);
            Msg::from_vec(plain)
        };
        let mut f = 0;
        if inner_flags & 1 != 0 {
            f |= flags::MORE;
        }
        if inner_flags & 2 != 0 {
            f |= flags::COMMAND;
        }
        msg.set_flags(f);
        Ok(msg)
    }
}

/// What a finished CURVE handshake leaves.
pub struct Established {
    pub properties: Vec<(String, Vec<u8>)>,
    pub cipher: Cipher,
}

// ---- client ---------------------------------------------------------------

enum ClientState {
    ExpectWelcome,
    ExpectReady,
}

/// The client side: HELLO, then INITIATE once WELCOME arrives, done at READY.
pub struct Client {
    public: Key,
    secret: Key,
    server: Key,
    /// Our short-term key pair (C', c').
    cn_public: Key,
    cn_secret: Key,
    /// The box between c' and S', then between c' and s'.
    state: ClientState,
    nonce: u64,
    server_short: Option<SalsaBox>,
}

impl Client {
    /// A client with its long-term keys and the server's public key; the
    /// HELLO command goes into `out`.
    pub fn start(public: Key, secret: Key, server: Key, out: &mut Vec<u8>) -> Client {
        let cn_secret: Key = random();
        let cn_public = crate::curve::public_key(&cn_secret);
        let mut c = Client {
            public,
            secret,
            server,
            cn_public,
            cn_secret,
            state: ClientState::ExpectWelcome,
            nonce: 1,
            server_short: None,
        };
        c.hello(out);
        c
    }

    fn next_nonce(&mut self) -> [u8; 8] {
        let n = self.nonce;
        self.nonce += 1;
        n.to_be_bytes()
    }

    fn hello(&mut self, out: &mut Vec<u8>) {
        let short = self.next_nonce();
        let mut boxed = Vec::with_capacity(80);
        let to_server = salsa_box(&self.server, &self.cn_secret);
        seal(&to_server, &nonce(HELLO_PREFIX, &short), &[&[0u8; 64]], &mut boxed);
        let version = [1u8, 0];
        encode_command(
            out,
            b"HELLO",
            &[&version, &[0u8; 72], &self.cn_public, &short, &boxed],
        );
    }

    /// Takes the server's next command; `metadata` is what INITIATE carries.
    pub fn process(
        &mut self,
        body: &[u8],
        metadata: &[(String, Vec<u8>)],
        out: &mut Vec<u8>,
    ) -> Result<Option<Established>, HandshakeError> {
        match self.state {
            ClientState::ExpectWelcome => {
                let w = command_data(body, b"WELCOME").ok_or(HandshakeError::UnexpectedCommand)?;
                // libzmq's client calls any bad WELCOME a cryptographic error.
                if body.len() != WELCOME_LEN {
                    return Err(HandshakeError::Crypto);
                }
                let from_server = salsa_box(&self.server, &self.cn_secret);
                let plain = open(&from_server, &nonce(WELCOME_PREFIX, &w[..16]), &w[16..])?;
                let server_short: Key = plain[..32].try_into().expect("32 bytes");
                let cookie = &plain[32..32 + COOKIE_LEN];
                let short_box = salsa_box(&server_short, &self.cn_secret);
                // The vouch: our short-term key and the server's long-term
                // one, boxed from our long-term key to its short-term key.
                let vouch_nonce: [u8; 16] = random();
                let mut vouch = Vec::with_capacity(80);
                seal(
                    &salsa_box(&server_short, &self.secret),
                    &nonce(VOUCH_PREFIX, &vouch_nonce),
                    &[&self.cn_public, &self.server],
                    &mut vouch,
                );
                let mut props = Vec::new();
                encode_properties(metadata, &mut props);
                let short = self.next_nonce();
                let mut boxed = Vec::with_capacity(128 + props.len() + TAG);
                seal(
                    &short_box,
                    &nonce(INITIATE_PREFIX, &short),
                    &[&self.public, &vouch_nonce, &vouch, &props],
                    &mut boxed,
                );
                encode_command(out, b"INITIATE", &[cookie, &short, &boxed]);
                self.server_short = Some(short_box);
                self.state = ClientState::ExpectReady;
                Ok(None)
            }
            ClientState::ExpectReady => {
                let r = command_data(body, b"READY").ok_or(HandshakeError::UnexpectedCommand)?;
                if body.len() < READY_MIN {
                    return Err(HandshakeError::MalformedReady);
                }
                let boxer = self.server_short.take().expect("set with INITIATE");
                let plain = open(&boxer, &nonce(READY_PREFIX, &r[..8]), &r[8..])?;
                let properties =
                    parse_properties(&plain).map_err(|_| HandshakeError::InvalidMetadata)?;
                Ok(Some(Established {
                    properties,
                    cipher: Cipher {
                        boxer,
                        send_prefix: MESSAGE_CLIENT,
                        recv_prefix: MESSAGE_SERVER,
                        send_nonce: self.nonce,
                        recv_nonce: u64::from_be_bytes(r[..8].try_into().expect("8 bytes")),
                    },
                }))
            }
        }
    }
}

// ---- server ---------------------------------------------------------------

enum ServerState {
    ExpectHello,
    ExpectInitiate,
    /// INITIATE checked; READY waits for the ZAP handler's answer.
    ExpectZap,
    Done,
}

/// The server side: WELCOME after HELLO; after INITIATE, the ZAP handler is
/// asked (when there is one), then READY.
pub struct Server {
    secret: Key,
    public: Key,
    state: ServerState,
    cn_public: Key,
    cn_secret: Key,
    cookie_key: Key,
    nonce: u64,
    /// The client's short-term key, its box, and its INITIATE nonce.
    client_short: Key,
    boxer: Option<SalsaBox>,
    peer_nonce: u64,
    /// The client's long-term key (for ZAP) and its metadata.
    pub client_key: Key,
    pub properties: Vec<(String, Vec<u8>)>,
}

impl Server {
    /// A server with its long-term secret key. Its public key, which the
    /// client's vouch must name, is derived from the secret: applications
    /// often set only ZMQ_CURVE_SECRETKEY on a server.
    pub fn new(secret: Key) -> Server {
        let cn_secret: Key = random();
        Server {
            public: crate::curve::public_key(&secret),
            secret,
            state: ServerState::ExpectHello,
            cn_public: crate::curve::public_key(&cn_secret),
            cn_secret,
            cookie_key: random(),
            nonce: 1,
            client_short: [0; 32],
            boxer: None,
            peer_nonce: 0,
            client_key: [0; 32],
            properties: Vec::new(),
        }
    }

    /// Takes the client's next command. Returns true once INITIATE has been
    /// verified: the client is who it says, and READY may follow (after
    /// ZAP, if asked).
    pub fn process(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<bool, HandshakeError> {
        match self.state {
            ServerState::ExpectHello => {
                let h = command_data(body, b"HELLO").ok_or(HandshakeError::UnexpectedCommand)?;
                if body.len() != HELLO_LEN {
                    return Err(HandshakeError::MalformedHello);
                }
                if h[..2] != [1, 0] {
                    return Err(HandshakeError::MalformedHello);
                }
                let client_short: Key = h[74..106].try_into().expect("32 bytes");
                let short = &h[106..114];
                let from_client = salsa_box(&client_short, &self.secret);
                let plain = open(&from_client, &nonce(HELLO_PREFIX, short), &h[114..])?;
                if plain != [0u8; 64] {
                    return Err(HandshakeError::Crypto);
                }
                self.client_short = client_short;
                // The cookie: the client's and our short-term keys, boxed
                // with a key only we know.
                let cookie_nonce: [u8; 16] = random();
                let mut cookie = Vec::with_capacity(COOKIE_LEN);
                cookie.extend_from_slice(&cookie_nonce);
                seal(
                    &XSalsa20Poly1305::new(GenericArray::from_slice(&self.cookie_key)),
                    &nonce(COOKIE_PREFIX, &cookie_nonce),
                    &[&client_short, &self.cn_secret],
                    &mut cookie,
                );
                let welcome_nonce: [u8; 16] = random();
                let mut boxed = Vec::with_capacity(144);
                seal(
                    &from_client,
                    &nonce(WELCOME_PREFIX, &welcome_nonce),
                    &[&self.cn_public, &cookie],
                    &mut boxed,
                );
                encode_command(out, b"WELCOME", &[&welcome_nonce, &boxed]);
                self.state = ServerState::ExpectInitiate;
                Ok(false)
            }
            ServerState::ExpectInitiate => {
                let i = command_data(body, b"INITIATE").ok_or(HandshakeError::UnexpectedCommand)?;
                if body.len() < INITIATE_MIN {
                    return Err(HandshakeError::MalformedInitiate);
                }
                let cookie = &i[..COOKIE_LEN];
                let keys = open(
                    &XSalsa20Poly1305::new(GenericArray::from_slice(&self.cookie_key)),
                    &nonce(COOKIE_PREFIX, &cookie[..16]),
                    &cookie[16..],
                )?;
                if keys[..32] != self.client_short || keys[32..] != self.cn_secret {
                    return Err(HandshakeError::Crypto);
                }
                let short = &i[COOKIE_LEN..COOKIE_LEN + 8];
                let boxer = salsa_box(&self.client_short, &self.cn_secret);
                let plain = open(&boxer, &nonce(INITIATE_PREFIX, short), &i[COOKIE_LEN + 8..])?;
                if plain.len() < 128 {
                    return Err(HandshakeError::MalformedInitiate);
                }
                let client_key: Key = plain[..32].try_into().expect("32 bytes");
                let vouch = open(
                    &salsa_box(&client_key, &self.cn_secret),
                    &nonce(VOUCH_PREFIX, &plain[32..48]),
                    &plain[48..128],
                )?;
                // The vouch must name the short-term key this connection
                // uses and this server.
                if vouch[..32] != self.client_short || vouch[32..] != self.public {
                    return Err(HandshakeError::KeyExchange);
                }
                self.properties =
                    parse_properties(&plain[128..]).map_err(|_| HandshakeError::InvalidMetadata)?;
                self.client_key = client_key;
                self.peer_nonce = u64::from_be_bytes(short.try_into().expect("8 bytes"));
                self.boxer = Some(boxer);
                self.state = ServerState::ExpectZap;
                Ok(true)
            }
            ServerState::ExpectZap | ServerState::Done => Err(HandshakeError::UnexpectedCommand),
        }
    }

    /// Sends READY with our metadata: the handshake is over.
    pub fn ready(&mut self, metadata: &[(String, Vec<u8>)], out: &mut Vec<u8>) -> Cipher {
        let boxer = self.boxer.take().expect("INITIATE verified");
        let n = self.nonce;
        let mut props = Vec::new();
        encode_properties(metadata, &mut props);
        let mut boxed = Vec::with_capacity(props.len() + TAG);
        seal(&boxer, &nonce(READY_PREFIX, &n.to_be_bytes()), &[&props], &mut boxed);
        encode_command(out, b"READY", &[&n.to_be_bytes(), &boxed]);
        self.state = ServerState::Done;
        Cipher {
            boxer,
            send_prefix: MESSAGE_SERVER,
            recv_prefix: MESSAGE_CLIENT,
            send_nonce: n + 1,
            recv_nonce: self.peer_nonce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::codec::Decoder;

    fn frames(bytes: &[u8]) -> Vec<Msg> {
        let mut d = Decoder::new(-1);
        let mut pos = 0;
        let mut out = Vec::new();
        while pos < bytes.len() {
            let (n, f) = d.decode(&bytes[pos..]).unwrap();
            pos += n;
            out.extend(f);
        }
        out
    }

    fn pair() -> (Client, Server, Cipher, Cipher) {
        let (cp, cs) = crate::curve::keypair().unwrap();
        let (sp, ss) = crate::curve::keypair().unwrap();
        let mut wire = Vec::new();
        let mut client = Client::start(cp, cs, sp, &mut wire);
        let mut server = Server::new(ss);
        let hello = frames(&wire);
        assert_eq!(hello[0].size(), HELLO_LEN);
        wire.clear();
        assert!(!server.process(hello[0].data(), &mut wire).unwrap());
        let welcome = frames(&wire);
        wire.clear();
        let md = vec![("Socket-Type".to_owned(), b"DEALER".to_vec())];
        assert!(client
            .process(welcome[0].data(), &md, &mut wire)
            .unwrap()
            .is_none());
        let initiate = frames(&wire);
        wire.clear();
        assert!(server.process(initiate[0].data(), &mut wire).unwrap());
        assert_eq!(server.client_key, cp);
        assert_eq!(server.properties, md);
        let server_cipher = server.ready(&[("Socket-Type".to_owned(), b"ROUTER".to_vec())], &mut wire);
        let ready = frames(&wire);
        let done = client
            .process(ready[0].data(), &[], &mut Vec::new())
            .unwrap()
            .unwrap();
        assert_eq!(done.properties[0].1, b"ROUTER");
        (client, server, done.cipher, server_cipher)
    }

    #[test]
    fn handshake_and_messages() {
        let (_, _, mut c, mut s) = pair();
        let mut wire = Vec::new();
        let mut m = Msg::from_vec(b"hello".to_vec());
        m.set_flags(flags::MORE);
        c.encrypt(&m, &mut wire);
        c.encrypt(&Msg::from_vec(Vec::new()), &mut wire);
        let f = frames(&wire);
        assert_eq!(f.len(), 2);
        let a = s.decrypt(&f[0]).unwrap();
        assert_eq!((a.data(), a.more()), (&b"hello"[..], true));
        assert!(!s.decrypt(&f[1]).unwrap().more());
        // A replayed frame is refused.
        assert_eq!(s.decrypt(&f[1]).err(), Some(HandshakeError::InvalidSequence));
        wire.clear();
        s.encrypt(&Msg::from_vec(b"back".to_vec()), &mut wire);
        assert_eq!(c.decrypt(&frames(&wire)[0]).unwrap().data(), b"back");
    }

    #[test]
    fn tampering_is_detected() {
        let (_, _, mut c, mut s) = pair();
        let mut wire = Vec::new();
        c.encrypt(&Msg::from_vec(b"hello".to_vec()), &mut wire);
        let last = wire.len() - 1;
        wire[last] ^= 1;
        assert_eq!(s.decrypt(&frames(&wire)[0]).err(), Some(HandshakeError::Crypto));
    }

    #[test]
    fn wrong_server_key_fails_at_hello() {
        let (cp, cs) = crate::curve::keypair().unwrap();
        let (_sp, ss) = crate::curve::keypair().unwrap();
        let (other, _) = crate::curve::keypair().unwrap();
        let mut wire = Vec::new();
        let _client = Client::start(cp, cs, other, &mut wire);
        let mut server = Server::new(ss);
        let hello = frames(&wire);
        assert_eq!(
            server.process(hello[0].data(), &mut Vec::new()),
            Err(HandshakeError::Crypto)
        );
    }
}
