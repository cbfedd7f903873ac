//! ZMTP 3 framing (RFC 23 / RFC 37, "Framing").
//!
//! "A frame consists of a flags field (1 octet), followed by a size field
//! (one octet or eight octets) and a frame body of size octets." Bit 0 of the
//! flags is MORE, bit 1 LONG (8-octet size), bit 2 COMMAND.
//!
//! The decoder never trusts a declared size: it is checked against the
//! maximum message size, and a body buffer above 4 MiB grows only as bytes
//! arrive, so a 9-byte header claiming an exabyte costs 4 MiB of address
//! space, untouched.

use crate::msg::{flags, Msg, INLINE_CAPACITY};

const FLAG_MORE: u8 = 0x01;
const FLAG_LONG: u8 = 0x02;
const FLAG_COMMAND: u8 = 0x04;

/// A body of up to this many bytes is allocated whole when its header
/// arrives (as libzmq does for every size): one allocation, no regrowth
/// copies. A larger declared size is only believed as its bytes arrive, so a
/// peer's header alone never commits more than this much.
const BODY_UPFRONT: usize = 4 * 1024 * 1024;

/// Why the peer's bytes are not acceptable; the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A frame larger than `ZMQ_MAXMSGSIZE` (or than this platform can hold).
    TooLarge,
}

enum State {
    Flags,
    Size {
        flags: u8,
        have: usize,
        bytes: [u8; 8],
    },
    Body {
        flags: u8,
        size: usize,
        /// A read buffer ([`Msg::read_buffer`]) of at most `size` bytes,
        /// the first `filled` of them written: once whole, it is the frame.
        body: Msg,
        filled: usize,
    },
}

/// Turns the peer's byte stream into frames.
pub struct Decoder {
    state: State,
    /// `ZMQ_MAXMSGSIZE`; negative means unlimited.
    max_size: i64,
}

impl Decoder {
    /// A decoder refusing frames larger than `max_size` (negative: no limit).
    pub fn new(max_size: i64) -> Decoder {
        Decoder {
            state: State::Flags,
            max_size,
        }
    }

    /// Decodes at most one frame from `data`. Returns the bytes consumed and
    /// the frame, if one was completed (commands have `flags::COMMAND`).
    pub fn decode(&mut self, data: &[u8]) -> Result<(usize, Option<Msg>), DecodeError> {
        self.decode_in(data, None)
    }

    /// As [`Decoder::decode`] for the written bytes `start..end` of a read
    /// buffer ([`Msg::read_buffer`]): a frame found whole in them is sliced
    /// out of the buffer, sharing it, instead of copied.
    pub fn decode_shared(
        &mut self,
        buf: &Msg,
        start: usize,
        end: usize,
    ) -> Result<(usize, Option<Msg>), DecodeError> {
        self.decode_in(&buf.filled(end)[start..], Some((buf, start)))
    }

    /// The message flags and length of the short data frame (at most
    /// `max_len` bytes, no command) that `data` starts with, if the decoder
    /// is at a frame boundary and `data` holds it whole. The caller takes
    /// its `2 + len` bytes from `data` itself; the decoder stays at a frame
    /// boundary. `None` means: use [`Decoder::decode`].
    #[inline]
    pub fn short_frame(&self, data: &[u8], max_len: usize) -> Option<(u8, usize)> {
        let (State::Flags, [f, size, rest @ ..]) = (&self.state, data) else {
            return None;
        };
        let size = *size as usize;
        if f & (FLAG_LONG | FLAG_COMMAND) != 0
            || size > max_len
            || rest.len() < size
            || (self.max_size >= 0 && size as u64 > self.max_size as u64)
        {
            return None;
        }
        let msg_flags = if f & FLAG_MORE != 0 { flags::MORE } else { 0 };
        Some((msg_flags, size))
    }

    /// `backing`: the buffer `data` lies in and its offset there.
    fn decode_in(
        &mut self,
        data: &[u8],
        backing: Option<(&Msg, usize)>,
    ) -> Result<(usize, Option<Msg>), DecodeError> {
        // Fast path: a short frame wholly in `data`, at a frame boundary.
        if let (State::Flags, [f, size, rest @ ..]) = (&self.state, data) {
            let size = *size as usize;
            if f & FLAG_LONG == 0 && rest.len() >= size {
                if self.max_size >= 0 && size as u64 > self.max_size as u64 {
                    return Err(DecodeError::TooLarge);
                }
                let frame = match backing {
                    Some((buf, base)) if size > INLINE_CAPACITY => {
                        let mut frame = buf.slice(base + 2, size);
                        apply_flags(&mut frame, *f);
                        frame
                    }
                    _ => make_frame(*f, &rest[..size]),
                };
                return Ok((2 + size, Some(frame)));
            }
        }
        let mut used = 0;
        loop {
            match &mut self.state {
                State::Flags => {
                    let Some(&f) = data.get(used) else {
                        return Ok((used, None));
                    };
                    used += 1;
                    self.state = State::Size {
                        flags: f,
                        have: 0,
                        bytes: [0; 8],
                    };
                }
                State::Size { flags, have, bytes } => {
                    let need = if *flags & FLAG_LONG != 0 { 8 } else { 1 };
                    let take = (need - *have).min(data.len() - used);
                    bytes[*have..*have + take].copy_from_slice(&data[used..used + take]);
                    *have += take;
                    used += take;
                    if *have < need {
                        return Ok((used, None));
                    }
                    let size = if need == 8 {
                        u64::from_be_bytes(*bytes)
                    } else {
                        u64::from(bytes[0])
                    };
                    if (self.max_size >= 0 && size > self.max_size as u64)
                        || size > isize::MAX as u64
                    {
                        return Err(DecodeError::TooLarge);
                    }
                    let size = size as usize;
                    let flags = *flags;
                    // Small bodies complete straight from the input when they
                    // are all there: no intermediate buffer.
                    if data.len() - used >= size {
                        let frame = match backing {
                            Some((buf, base)) if size > INLINE_CAPACITY => {
                                let mut frame = buf.slice(base + used, size);
                                apply_flags(&mut frame, flags);
                                frame
                            }
                            _ => make_frame(flags, &data[used..used + size]),
                        };
                        used += size;
                        self.state = State::Flags;
                        return Ok((used, Some(frame)));
                    }
                    let first = if size <= BODY_UPFRONT {
                        size
                    } else {
                        BODY_UPFRONT.max(data.len() - used).min(size)
                    };
                    self.state = State::Body {
                        flags,
                        size,
                        body: body_buffer(first)?,
                        filled: 0,
                    };
                }
                State::Body {
                    size, body, filled, ..
                } => {
                    let take = (*size - *filled).min(data.len() - used);
                    if body.size() - *filled < take {
                        grow(body, *filled, *filled + take, *size)?;
                    }
                    body.fill(*filled, &data[used..used + take]);
                    *filled += take;
                    used += take;
                    if let Some(frame) = self.finish_body() {
                        return Ok((used, Some(frame)));
                    }
                    return Ok((used, None));
                }
            }
        }
    }

    /// The frame, if the body being read is whole (the decoder then waits
    /// for the next frame).
    fn finish_body(&mut self) -> Option<Msg> {
        let State::Body {
            flags,
            size,
            filled,
            ..
        } = self.state
        else {
            return None;
        };
        if filled < size {
            return None;
        }
        let State::Body { body, .. } = std::mem::replace(&mut self.state, State::Flags) else {
            unreachable!("checked above");
        };
        debug_assert_eq!(body.size(), size, "a whole body fills its buffer");
        let mut frame = if size <= INLINE_CAPACITY {
            Msg::from_slice(body.filled(size)).expect("inline")
        } else {
            body
        };
        apply_flags(&mut frame, flags);
        Some(frame)
    }
}

/// A read buffer of `size` bytes for a body (a failed allocation closes
/// the connection, as an oversized frame does).
fn body_buffer(size: usize) -> Result<Msg, DecodeError> {
    Msg::read_buffer(size).map_err(|_| DecodeError::TooLarge)
}

/// Makes `body`, whose first `filled` bytes are written, at least `need`
/// bytes long, keeping those bytes: it at least doubles, never past the
/// frame's `size`, so a body that arrives a little at a time moves to a
/// larger buffer only a logarithmic number of times.
fn grow(body: &mut Msg, filled: usize, need: usize, size: usize) -> Result<(), DecodeError> {
    if body.size() < need {
        let want = need.max(body.size() * 2).min(size);
        body.grow_read_buffer(want, filled)
            .map_err(|_| DecodeError::TooLarge)?;
    }
    Ok(())
}

fn make_frame(wire_flags: u8, body: &[u8]) -> Msg {
    // Inline, or one allocation; a failed allocation aborts, as Vec's would.
    let mut frame = Msg::from_slice(body).expect("allocation");
    apply_flags(&mut frame, wire_flags);
    frame
}

fn apply_flags(frame: &mut Msg, wire_flags: u8) {
    if wire_flags & FLAG_COMMAND != 0 {
        // "A command frame SHALL NOT have MORE set" — ignore it if it has.
        frame.set_flags(flags::COMMAND);
    } else if wire_flags & FLAG_MORE != 0 {
        frame.set_flags(flags::MORE);
    }
}

impl Decoder {
    /// When in the middle of a body with at least `min` bytes still to come,
    /// makes room after the body's bytes for up to `max` more (or as many
    /// as it already holds, or `min`, whichever is most; never beyond the
    /// frame's size) and returns the body's buffer, where its unwritten
    /// part starts, and that room's length, so that the caller can read the
    /// peer's bytes straight into the buffer (then
    /// [`Decoder::commit_body`]). A declared size above [`BODY_UPFRONT`] is
    /// thus never allocated far ahead of the bytes that arrive.
    ///
    /// A buffer that must grow does so as [`grow`] says.
    pub(crate) fn body_space(&mut self, min: usize, max: usize) -> Option<(&mut Msg, usize, usize)> {
        let State::Body {
            size, body, filled, ..
        } = &mut self.state
        else {
            return None;
        };
        let remaining = *size - *filled;
        if remaining < min {
            return None;
        }
        let chunk = remaining.min(max.max(*filled).max(min));
        if body.size() - *filled < min {
            grow(body, *filled, *filled + chunk, *size).ok()?;
        }
        let room = (body.size() - *filled).min(chunk);
        Some((body, *filled, room))
    }

    /// After [`Decoder::body_space`] and a write of `n` bytes (at most the
    /// room it gave) into the buffer where it said: the frame if its body is
    /// now complete.
    pub(crate) fn commit_body(&mut self, n: usize) -> Option<Msg> {
        if let State::Body { body, filled, .. } = &mut self.state {
            assert!(*filled + n <= body.size(), "body grown past its buffer");
            *filled += n;
        }
        self.finish_body()
    }
}

/// Appends the header of a frame of `size` bytes to `out`.
pub fn encode_header(out: &mut Vec<u8>, size: usize, more: bool, command: bool) {
    let f = if more { FLAG_MORE } else { 0 } | if command { FLAG_COMMAND } else { 0 };
    let (header, len) = header_bytes(size, f);
    out.extend_from_slice(&header[..len]);
}

/// A frame header with flags octet `f` (LONG added here when `size` needs
/// it): the bytes and how many of them are used (2, or 9 for a long frame).
/// Built on the stack so that a frame is appended with one reservation and
/// two copies rather than a capacity check per byte.
fn header_bytes(size: usize, f: u8) -> ([u8; 9], usize) {
    let mut header = [0u8; 9];
    if size > 255 {
        header[0] = f | FLAG_LONG;
        header[1..].copy_from_slice(&(size as u64).to_be_bytes());
        (header, 9)
    } else {
        header[0] = f;
        header[1] = size as u8;
        (header, 2)
    }
}

/// The flags octet (LONG aside) of a frame with these message flags: a
/// command never carries MORE.
#[inline]
pub fn frame_flags(msg_flags: u8) -> u8 {
    if msg_flags & flags::COMMAND != 0 {
        FLAG_COMMAND
    } else if msg_flags & flags::MORE != 0 {
        FLAG_MORE
    } else {
        0
    }
}

/// Appends a whole frame (header and body) to `out`.
pub fn encode_frame(out: &mut Vec<u8>, msg: &Msg) {
    let body = msg.data();
    let (header, len) = header_bytes(body.len(), frame_flags(msg.flags()));
    out.reserve(len + body.len());
    out.extend_from_slice(&header[..len]);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(d: &mut Decoder, mut data: &[u8]) -> Vec<Msg> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let (n, frame) = d.decode(data).unwrap();
            out.extend(frame);
            data = &data[n..];
        }
        out
    }

    #[test]
    fn round_trip_short_and_long() {
        let mut wire = Vec::new();
        let mut a = Msg::from_slice(b"hello").unwrap();
        a.set_flags(flags::MORE);
        encode_frame(&mut wire, &a);
        encode_frame(&mut wire, &Msg::from_vec(vec![7u8; 1000]));
        assert_eq!(&wire[..2], &[FLAG_MORE, 5]);
        let frames = decode_all(&mut Decoder::new(-1), &wire);
        assert_eq!(frames.len(), 2);
        assert!(frames[0].more() && frames[0].data() == b"hello");
        assert!(!frames[1].more() && frames[1].data() == [7u8; 1000]);
    }

    #[test]
    fn byte_at_a_time() {
        let mut wire = Vec::new();
        encode_frame(&mut wire, &Msg::from_vec(vec![1u8; 300]));
        encode_frame(&mut wire, &Msg::from_slice(b"").unwrap());
        let mut d = Decoder::new(-1);
        let mut frames = Vec::new();
        for b in &wire {
            let (n, f) = d.decode(std::slice::from_ref(b)).unwrap();
            assert_eq!(n, 1);
            frames.extend(f);
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].size(), 300);
        assert_eq!(frames[1].size(), 0);
    }

    #[test]
    fn huge_declared_size_allocates_little_up_front() {
        let mut wire = vec![FLAG_LONG];
        wire.extend_from_slice(&(1u64 << 60).to_be_bytes());
        wire.extend_from_slice(b"abc");
        let mut d = Decoder::new(-1);
        let (n, f) = d.decode(&wire).unwrap();
        assert_eq!((n, f.is_none()), (wire.len(), true));
        match &d.state {
            State::Body { body, .. } => assert!(body.size() <= BODY_UPFRONT),
            _ => panic!("expected body state"),
        }
    }

    #[test]
    fn max_size_is_enforced() {
        let mut wire = Vec::new();
        encode_frame(&mut wire, &Msg::from_vec(vec![0u8; 100]));
        assert!(matches!(
            Decoder::new(99).decode(&wire),
            Err(DecodeError::TooLarge)
        ));
        assert!(Decoder::new(100).decode(&wire).is_ok());
        let mut bad = vec![FLAG_LONG];
        bad.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            Decoder::new(-1).decode(&bad),
            Err(DecodeError::TooLarge)
        ));
    }

    #[test]
    fn bodies_read_in_place() {
        let mut wire = Vec::new();
        encode_header(&mut wire, 200_000, false, false);
        let mut d = Decoder::new(-1);
        assert!(d.decode(&wire).unwrap().1.is_none());
        let mut total = 0;
        let frame = loop {
            let (body, at, room) = d.body_space(1024, 65536).expect("in a body");
            let n = room.min(70_000);
            body.fill(at, &vec![5; n]);
            total += n;
            if let Some(f) = d.commit_body(n) {
                break f;
            }
        };
        assert_eq!((total, frame.size()), (200_000, 200_000));
        assert!(frame.data().iter().all(|&b| b == 5));
        assert!(d.body_space(1, 1).is_none());
    }

    /// A body above BODY_UPFRONT is grown as it arrives, through both the
    /// decoder's input and direct reads, keeping every byte in order.
    #[test]
    fn large_bodies_grow_as_they_arrive() {
        let size = BODY_UPFRONT + 100_001;
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut wire = Vec::new();
        encode_header(&mut wire, size, true, false);
        wire.extend_from_slice(&body);
        // Through decode, in pieces.
        let mut d = Decoder::new(-1);
        let mut at = 0;
        let frame = loop {
            let end = (at + 70_000).min(wire.len());
            let (n, f) = d.decode(&wire[at..end]).unwrap();
            at += n;
            if let Some(f) = f {
                break f;
            }
            if let State::Body { body, filled, .. } = &d.state {
                assert!(body.size() <= (*filled * 2).max(BODY_UPFRONT));
            }
        };
        assert_eq!(at, wire.len());
        assert!(frame.more());
        assert_eq!(frame.data(), &body[..]);
        // Through body_space, after a first piece from the input.
        let mut d = Decoder::new(-1);
        let (n, f) = d.decode(&wire[..5000]).unwrap();
        assert!(f.is_none());
        let mut at = n;
        let frame = loop {
            let (buf, offset, room) = d.body_space(1024, 1 << 20).expect("in a body");
            let take = room.min(300_000);
            buf.fill(offset, &wire[at..at + take]);
            at += take;
            if let Some(f) = d.commit_body(take) {
                break f;
            }
        };
        assert_eq!(at, wire.len());
        assert_eq!(frame.data(), &body[..]);
    }

    /// A large body read a little at a time is moved to a larger buffer a
    /// few times, not once a read.
    #[test]
    fn large_bodies_are_not_copied_per_read() {
        let size = BODY_UPFRONT * 6;
        let mut wire = Vec::new();
        encode_header(&mut wire, size, false, false);
        let mut d = Decoder::new(-1);
        assert!(d.decode(&wire).unwrap().1.is_none());
        let (mut moves, mut last, mut total) = (0, std::ptr::null_mut(), 0);
        let piece = vec![7u8; 256 * 1024];
        let frame = loop {
            let (buf, offset, room) = d.body_space(1024, 1 << 22).expect("in a body");
            if buf.data_ptr() != last {
                moves += 1;
                last = buf.data_ptr();
            }
            let n = room.min(piece.len());
            buf.fill(offset, &piece[..n]);
            total += n;
            if let Some(f) = d.commit_body(n) {
                break f;
            }
        };
        assert_eq!((total, frame.size()), (size, size));
        assert!(moves <= 6, "{moves} buffers for 96 reads");
    }

    #[test]
    fn commands_are_marked() {
        let mut wire = Vec::new();
        encode_header(&mut wire, 4, false, true);
        wire.extend_from_slice(b"\x04PING");
        let frames = decode_all(&mut Decoder::new(-1), &wire);
        assert_ne!(frames[0].flags() & flags::COMMAND, 0);
    }

    /// Frames found whole in a read buffer share it; the buffer lives until
    /// the last of them goes.
    #[test]
    fn shared_decoding_slices_the_buffer() {
        let mut wire = Vec::new();
        encode_frame(&mut wire, &Msg::from_vec(vec![7u8; 100]));
        encode_frame(&mut wire, &Msg::from_slice(b"tiny").unwrap());
        let mut buf = Msg::read_buffer(wire.len() + 10).unwrap();
        buf.fill(0, &wire);
        let mut d = Decoder::new(-1);
        let (n, a) = d.decode_shared(&buf, 0, wire.len()).unwrap();
        let a = a.unwrap();
        assert_eq!(a.data(), &[7u8; 100][..]);
        assert!(!buf.is_unique());
        let (m, b) = d.decode_shared(&buf, n, wire.len()).unwrap();
        assert_eq!((n + m, b.unwrap().data()), (wire.len(), &b"tiny"[..]));
        drop(buf);
        assert_eq!(a.data(), &[7u8; 100][..]);
    }
}
