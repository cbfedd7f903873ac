//! ZMTP 1.0 framing (RFC 13), for peers that predate the greeting.
//!
//! "frame = length flags body; length = OCTET / (%xFF 8OCTET); flags = OCTET"
//! where the length counts the flags octet and the body, and bit 0 of the
//! flags is MORE. As in the ZMTP 3 decoder, a declared length is checked
//! against the maximum and never allocated before the bytes arrive.

use crate::msg::{flags, Msg, INLINE_CAPACITY};
use crate::zmtp::codec::DecodeError;

enum State {
    Length {
        have: usize,
        bytes: [u8; 9],
    },
    Flags {
        size: usize,
    },
    Body {
        more: bool,
        size: usize,
        body: Vec<u8>,
    },
}

/// Turns a ZMTP 1.0 byte stream into frames.
pub struct V1Decoder {
    state: State,
    max_size: i64,
}

impl V1Decoder {
    /// A decoder refusing frames larger than `max_size` (negative: no limit).
    pub fn new(max_size: i64) -> V1Decoder {
        V1Decoder {
            state: State::Length {
                have: 0,
                bytes: [0; 9],
            },
            max_size,
        }
    }

    /// Decodes at most one frame from `data`: bytes used and the frame.
    pub fn decode(&mut self, data: &[u8]) -> Result<(usize, Option<Msg>), DecodeError> {
        let mut used = 0;
        loop {
            match &mut self.state {
                State::Length { have, bytes } => {
                    let Some(&b) = data.get(used) else {
                        return Ok((used, None));
                    };
                    let need = if *have == 0 && b != 0xFF || *have > 0 && bytes[0] != 0xFF {
                        1
                    } else {
                        9
                    };
                    bytes[*have] = b;
                    *have += 1;
                    used += 1;
                    if *have < need {
                        continue;
                    }
                    let len = if need == 1 {
                        u64::from(bytes[0])
                    } else {
                        u64::from_be_bytes(bytes[1..9].try_into().expect("8 bytes"))
                    };
                    // The length includes the flags octet.
                    if len == 0 {
                        return Err(DecodeError::TooLarge);
                    }
                    let size = len - 1;
                    if (self.max_size >= 0 && size > self.max_size as u64)
                        || size > isize::MAX as u64
                    {
                        return Err(DecodeError::TooLarge);
                    }
                    self.state = State::Flags {
                        size: size as usize,
                    };
                }
                State::Flags { size } => {
                    let Some(&f) = data.get(used) else {
                        return Ok((used, None));
                    };
                    used += 1;
                    let size = *size;
                    self.state = State::Body {
                        more: f & 0x01 != 0,
                        size,
                        body: Vec::with_capacity(size.min(64 * 1024)),
                    };
                }
                State::Body { more, size, body } => {
                    let take = (*size - body.len()).min(data.len() - used);
                    body.extend_from_slice(&data[used..used + take]);
                    used += take;
                    if body.len() < *size {
                        return Ok((used, None));
                    }
                    let more = *more;
                    let body = std::mem::take(body);
                    self.state = State::Length {
                        have: 0,
                        bytes: [0; 9],
                    };
                    let mut frame = if body.len() <= INLINE_CAPACITY {
                        Msg::from_slice(&body).expect("inline")
                    } else {
                        Msg::from_vec(body)
                    };
                    if more {
                        frame.set_flags(flags::MORE);
                    }
                    return Ok((used, Some(frame)));
                }
            }
        }
    }
}

/// Appends the header (length and flags) of a ZMTP 1.0 frame to `out`.
pub fn encode_header(out: &mut Vec<u8>, size: usize, more: bool) {
    let len = size as u64 + 1;
    if len < 255 {
        out.push(len as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.push(if more { 0x01 } else { 0x00 });
}

/// Appends a whole ZMTP 1.0 frame to `out`.
pub fn encode_frame(out: &mut Vec<u8>, msg: &Msg) {
    encode_header(out, msg.size(), msg.more());
    out.extend_from_slice(msg.data());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut wire = Vec::new();
        let mut a = Msg::from_slice(b"id").unwrap();
        a.set_flags(flags::MORE);
        encode_frame(&mut wire, &a);
        encode_frame(&mut wire, &Msg::from_vec(vec![9u8; 300]));
        // RFC 13: "\x03\x01id" is a 2-byte body with MORE.
        assert_eq!(&wire[..4], b"\x03\x01id");
        let mut d = V1Decoder::new(-1);
        let (n, f) = d.decode(&wire).unwrap();
        let f = f.unwrap();
        assert!(f.more() && f.data() == b"id");
        let (_, g) = d.decode(&wire[n..]).unwrap();
        assert_eq!(g.unwrap().data(), &[9u8; 300][..]);
    }

    #[test]
    fn limits() {
        assert!(matches!(
            V1Decoder::new(-1).decode(b"\x00"),
            Err(DecodeError::TooLarge)
        ));
        let mut huge = vec![0xFF];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            V1Decoder::new(-1).decode(&huge),
            Err(DecodeError::TooLarge)
        ));
        assert!(matches!(
            V1Decoder::new(3).decode(b"\x05\x00abcd"),
            Err(DecodeError::TooLarge)
        ));
    }
}
