//! CURVE key material: X25519 key pairs in Z85 (`zmq_curve_keypair(3)`).

use crypto_box::{PublicKey, SecretKey};

use crate::error::{Error, Result};
use crate::sys;

/// Bytes in a CURVE public or secret key.
pub const KEY_LEN: usize = 32;

/// A fresh key pair: `(public, secret)`, the public key being the X25519
/// product of the secret with the curve's base point.
pub fn keypair() -> Result<([u8; KEY_LEN], [u8; KEY_LEN])> {
    let mut secret = [0u8; KEY_LEN];
    sys::fill_random(&mut secret).map_err(Error::from)?;
    Ok((public_key(&secret), secret))
}

/// The public key that belongs to `secret`.
pub fn public_key(secret: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    let public: PublicKey = SecretKey::from(*secret).public_key();
    *public.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn rfc7748_alice() {
        let secret = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        assert_eq!(public_key(&secret), public);
    }

    #[test]
    fn keypair_is_consistent() {
        let (public, secret) = keypair().unwrap();
        assert_eq!(public_key(&secret), public);
        assert_ne!(keypair().unwrap().1, secret);
    }
}
