//! ZMTP commands (RFC 23 "Commands", RFC 37 for PING/PONG, SUBSCRIBE, CANCEL).
//!
//! "A command consists of a name, followed by command data. The name is a
//! short string (1 octet of length, then 1 to 255 octets)." Each command has a
//! `load` from a command frame's body and an `encode` into a frame.

use crate::msg::{flags, Msg};
use crate::zmtp::codec::encode_header;

/// A command the peer sent, or one we send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `READY`: the NULL/PLAIN/CURVE handshake's metadata.
    Ready(Vec<(String, Vec<u8>)>),
    /// `ERROR`: the peer refuses us, with a reason.
    Error(Vec<u8>),
    /// `PING`: TTL in deciseconds and up to 16 bytes of context.
    Ping { ttl: u16, context: Vec<u8> },
    /// `PONG`: the context of the PING it answers.
    Pong(Vec<u8>),
    /// `SUBSCRIBE` (ZMTP 3.1).
    Subscribe(Vec<u8>),
    /// `CANCEL` (ZMTP 3.1).
    Cancel(Vec<u8>),
    /// Any other command; ignored by the NULL mechanism after the handshake.
    Unknown(Vec<u8>),
}

/// A malformed command (the connection is closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

impl Command {
    /// Parses a command frame's body.
    pub fn load(body: &[u8]) -> Result<Command, Malformed> {
        let (&len, rest) = body.split_first().ok_or(Malformed)?;
        let len = len as usize;
        if len == 0 || rest.len() < len {
            return Err(Malformed);
        }
        let (name, data) = rest.split_at(len);
        Ok(match name {
            b"READY" => Command::Ready(parse_properties(data)?),
            b"ERROR" => {
                // "reason = OCTET 0*255VCHAR"
                let (&n, reason) = data.split_first().ok_or(Malformed)?;
                if reason.len() < n as usize {
                    return Err(Malformed);
                }
                Command::Error(reason[..n as usize].to_vec())
            }
            b"PING" => {
                // "ping-ttl = 2OCTET; ping-context = 0*16OCTET"; a longer
                // context is cut to 16 bytes, as libzmq does.
                if data.len() < 2 {
                    return Err(Malformed);
                }
                let context = &data[2..];
                Command::Ping {
                    ttl: u16::from_be_bytes([data[0], data[1]]),
                    context: context[..context.len().min(16)].to_vec(),
                }
            }
            b"PONG" => {
                if data.len() > 16 {
                    return Err(Malformed);
                }
                Command::Pong(data.to_vec())
            }
            b"SUBSCRIBE" => Command::Subscribe(data.to_vec()),
            b"CANCEL" => Command::Cancel(data.to_vec()),
            other => Command::Unknown(other.to_vec()),
        })
    }

    /// The command as a frame (a message with `flags::COMMAND`).
    pub fn to_msg(&self) -> Msg {
        let mut body = Vec::new();
        self.encode_body(&mut body);
        let mut msg = Msg::from_vec(body);
        msg.set_flags(flags::COMMAND);
        msg
    }

    /// Appends the whole command frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        self.encode_body(&mut body);
        encode_header(out, body.len(), false, true);
        out.extend_from_slice(&body);
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        let mut name = |n: &[u8]| {
            out.push(n.len() as u8);
            out.extend_from_slice(n);
        };
        match self {
            Command::Ready(props) => {
                name(b"READY");
                encode_properties(props, out);
            }
            Command::Error(reason) => {
                name(b"ERROR");
                let reason = &reason[..reason.len().min(255)];
                out.push(reason.len() as u8);
                out.extend_from_slice(reason);
            }
            Command::Ping { ttl, context } => {
                name(b"PING");
                out.extend_from_slice(&ttl.to_be_bytes());
                out.extend_from_slice(&context[..context.len().min(16)]);
            }
            Command::Pong(context) => {
                name(b"PONG");
                out.extend_from_slice(&context[..context.len().min(16)]);
            }
            Command::Subscribe(topic) => {
                name(b"SUBSCRIBE");
                out.extend_from_slice(topic);
            }
            Command::Cancel(topic) => {
                name(b"CANCEL");
                out.extend_from_slice(topic);
            }
            Command::Unknown(n) => name(n),
        }
    }
}

/// Appends a command frame named `name` whose data is `parts`, in order
/// (for the security handshakes' commands, which carry raw fields).
pub fn encode_command(out: &mut Vec<u8>, name: &[u8], parts: &[&[u8]]) {
    let len = 1 + name.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    encode_header(out, len, false, true);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// The data of the command frame body `body` if it is named `name`.
pub fn command_data<'a>(body: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let (&len, rest) = body.split_first()?;
    (len as usize == name.len() && rest.starts_with(name)).then(|| &rest[name.len()..])
}

/// Appends `props` in the metadata encoding of [`parse_properties`].
pub fn encode_properties(props: &[(String, Vec<u8>)], out: &mut Vec<u8>) {
    for (k, v) in props {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v);
    }
}

/// "metadata = *property; property = name value; name = OCTET 1*255name-char;
/// value = 4OCTET *OCTET" (RFC 23). Names are case-insensitive ASCII.
pub fn parse_properties(mut data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Malformed> {
    let mut props = Vec::new();
    while !data.is_empty() {
        let (&n, rest) = data.split_first().ok_or(Malformed)?;
        let n = n as usize;
        if n == 0 || rest.len() < n + 4 {
            return Err(Malformed);
        }
        let name = std::str::from_utf8(&rest[..n]).map_err(|_| Malformed)?;
        let vlen = u32::from_be_bytes(rest[n..n + 4].try_into().expect("4 bytes")) as usize;
        let rest = &rest[n + 4..];
        if rest.len() < vlen {
            return Err(Malformed);
        }
        props.push((name.to_owned(), rest[..vlen].to_vec()));
        data = &rest[vlen..];
    }
    Ok(props)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(c: Command) {
        let msg = c.to_msg();
        assert_eq!(Command::load(msg.data()), Ok(c));
    }

    #[test]
    fn commands_round_trip() {
        round_trip(Command::Ready(vec![
            ("Socket-Type".into(), b"DEALER".to_vec()),
            ("Identity".into(), Vec::new()),
        ]));
        round_trip(Command::Error(b"nope".to_vec()));
        round_trip(Command::Ping {
            ttl: 300,
            context: b"ctx".to_vec(),
        });
        round_trip(Command::Pong(b"ctx".to_vec()));
        round_trip(Command::Subscribe(b"topic".to_vec()));
        round_trip(Command::Cancel(Vec::new()));
    }

    #[test]
    fn ready_wire_format() {
        let msg = Command::Ready(vec![("Socket-Type".into(), b"REQ".to_vec())]).to_msg();
        assert_eq!(msg.data(), b"\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ");
    }

    #[test]
    fn malformed_inputs() {
        for bad in [
            &b""[..],
            b"\x00",
            b"\x05REA",
            b"\x05READY\x0bSocket-Type\x00\x00\x00\x09REQ",
            b"\x05READY\x00",
            b"\x04PING\x01",
            b"\x05ERROR\x05ab",
        ] {
            assert_eq!(Command::load(bad), Err(Malformed), "{bad:?}");
        }
    }
}
