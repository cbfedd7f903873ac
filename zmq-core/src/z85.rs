//! Z85, the printable encoding of binary keys (RFC 32/Z85).
//!
//! libzmq: src/zmq_utils.cpp (`zmq_z85_encode`, `zmq_z85_decode`).

use crate::error::{Error, Result};

const ENCODER: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Maps a character (minus 32) to its digit; 0xFF marks characters outside
/// the alphabet.
const DECODER: [u8; 96] = {
    let mut table = [0xFFu8; 96];
    let mut i = 0;
    while i < 85 {
        table[(ENCODER[i] - 32) as usize] = i as u8;
        i += 1;
    }
    table
};

/// Length of the encoding of `len` bytes (without a terminating NUL).
pub fn encoded_len(len: usize) -> usize {
    len / 4 * 5
}

/// Encodes `data` into `out`, which must hold [`encoded_len`] bytes.
///
/// "The binary frame SHALL have a length that is divisible by 4 with no
/// remainder" (RFC 32): other lengths are `Invalid`.
pub fn encode_into(data: &[u8], out: &mut [u8]) -> Result<()> {
    if data.len() % 4 != 0 || out.len() < encoded_len(data.len()) {
        return Err(Error::Invalid);
    }
    for (chunk, dst) in data.chunks_exact(4).zip(out.chunks_exact_mut(5)) {
        let mut value = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        for slot in dst.iter_mut().rev() {
            *slot = ENCODER[(value % 85) as usize];
            value /= 85;
        }
    }
    Ok(())
}

/// Encodes `data` as a Z85 string.
pub fn encode(data: &[u8]) -> Result<String> {
    let mut out = vec![0u8; encoded_len(data.len())];
    encode_into(data, &mut out)?;
    Ok(String::from_utf8(out).expect("the Z85 alphabet is ASCII"))
}

/// Length of the decoding of `len` characters.
pub fn decoded_len(len: usize) -> usize {
    len / 5 * 4
}

/// Decodes `text` into `out`, which must hold [`decoded_len`] bytes.
///
/// "The string frame SHALL have a length that is divisible by 5 with no
/// remainder" (RFC 32); as libzmq, an empty string, characters outside the
/// alphabet and groups whose value exceeds 2^32 - 1 are `Invalid`.
pub fn decode_into(text: &[u8], out: &mut [u8]) -> Result<()> {
    if text.len() < 5 || text.len() % 5 != 0 || out.len() < decoded_len(text.len()) {
        return Err(Error::Invalid);
    }
    for (group, dst) in text.chunks_exact(5).zip(out.chunks_exact_mut(4)) {
        let mut value: u32 = 0;
        for &c in group {
            let digit = c
                .checked_sub(32)
                .and_then(|i| DECODER.get(i as usize))
                .copied()
                .filter(|&d| d != 0xFF)
                .ok_or(Error::Invalid)?;
            value = value
                .checked_mul(85)
                .and_then(|v| v.checked_add(u32::from(digit)))
                .ok_or(Error::Invalid)?;
        }
        dst.copy_from_slice(&value.to_be_bytes());
    }
    Ok(())
}

/// Decodes a Z85 string.
pub fn decode(text: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; decoded_len(text.len())];
    decode_into(text, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: [u8; 8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];

    #[test]
    fn rfc32_test_vector() {
        assert_eq!(encode(&VECTOR).unwrap(), "HelloWorld");
        assert_eq!(decode(b"HelloWorld").unwrap(), VECTOR);
    }

    #[test]
    fn round_trip_all_byte_values() {
        let data: Vec<u8> = (0..=255u8).collect();
        assert_eq!(decode(encode(&data).unwrap().as_bytes()).unwrap(), data);
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(encode(&[1, 2, 3]), Err(Error::Invalid));
        assert_eq!(decode(b"Hello1"), Err(Error::Invalid));
        assert_eq!(decode(b""), Err(Error::Invalid));
    }

    #[test]
    fn bad_characters_and_overflow() {
        assert_eq!(decode(b"Hell\""), Err(Error::Invalid));
        assert_eq!(decode(b"Hell\x7f"), Err(Error::Invalid));
        assert_eq!(decode(b"Hell\x10"), Err(Error::Invalid));
        assert_eq!(decode("Hell\u{e9}".as_bytes()), Err(Error::Invalid));
        // "%nSc0" is 0xFFFFFFFF; one more overflows.
        assert_eq!(decode(b"%nSc0").unwrap(), [0xFF; 4]);
        assert_eq!(decode(b"%nSc1"), Err(Error::Invalid));
        assert_eq!(decode(b"#####"), Err(Error::Invalid));
    }
}
