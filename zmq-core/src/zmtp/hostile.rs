//! Hostile input: random and mutated byte streams through the handshake and
//! both frame decoders must end in a clean error or more frames, never a
//! panic, and never an allocation beyond what arrived.

#[cfg(test)]
mod tests {
    use crate::socket::SocketType;
    use crate::zmtp::codec::Decoder;
    use crate::zmtp::handshake::{Config, Handshake, Security};
    use crate::zmtp::v1::V1Decoder;

    /// xorshift64*: deterministic, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    fn valid_peer_bytes() -> Vec<u8> {
        let mut peer = Handshake::new(Config {
            socket_type: SocketType::Dealer,
            identity: b"peer".to_vec(),
            metadata: vec![("X-Key".into(), b"value".to_vec())],
            security: Security::Null,
            null_zap: false,
        });
        let mut me = Handshake::new(Config {
            socket_type: SocketType::Router,
            identity: Vec::new(),
            metadata: Vec::new(),
            security: Security::Null,
            null_zap: false,
        });
        let mut wire = Vec::new();
        for _ in 0..4 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            peer.take_output(&mut a);
            me.take_output(&mut b);
            wire.extend_from_slice(&a);
            let _ = me.handle_input(&a);
            let _ = peer.handle_input(&b);
        }
        wire.extend_from_slice(b"\x01\x02id\x00\x05hello");
        wire
    }

    /// Feeds `data` in random-sized pieces; returns when input runs out or an
    /// error is reported.
    fn feed_handshake(data: &[u8], rng: &mut Rng) {
        let mut hs = Handshake::new(Config {
            socket_type: SocketType::Router,
            identity: Vec::new(),
            metadata: Vec::new(),
            security: Security::Null,
            null_zap: false,
        });
        let mut rest = data;
        while !rest.is_empty() {
            let n = (rng.next() as usize % 17 + 1).min(rest.len());
            match hs.handle_input(&rest[..n]) {
                Ok(used) => {
                    if hs.peer().is_some() {
                        feed_decoders(&rest[used..], rng);
                        return;
                    }
                    rest = &rest[used.max(n)..];
                }
                Err(_) => return,
            }
            let mut out = Vec::new();
            hs.take_output(&mut out);
        }
    }

    fn feed_decoders(data: &[u8], rng: &mut Rng) {
        let max = if rng.next() % 2 == 0 { -1 } else { 1000 };
        let mut v3 = Decoder::new(max);
        let mut v1 = V1Decoder::new(max);
        for decoder in 0..2 {
            let mut rest = data;
            while !rest.is_empty() {
                let n = (rng.next() as usize % 64 + 1).min(rest.len());
                let result = if decoder == 0 {
                    v3.decode(&rest[..n])
                } else {
                    v1.decode(&rest[..n])
                };
                match result {
                    Ok((used, frame)) => {
                        if let Some(f) = frame {
                            // Never larger than the limit, when there is one.
                            assert!(max < 0 || f.size() as i64 <= max);
                        }
                        if used == 0 {
                            break;
                        }
                        rest = &rest[used..];
                    }
                    Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x5EED_1234_ABCD_0001);
        for _ in 0..3000 {
            let len = rng.next() as usize % 300;
            let data = rng.bytes(len);
            feed_handshake(&data, &mut rng);
            feed_decoders(&data, &mut rng);
        }
    }

    #[test]
    fn mutated_handshakes_never_panic() {
        let valid = valid_peer_bytes();
        let mut rng = Rng(0xBAD_C0FFEE);
        for _ in 0..3000 {
            let mut data = valid.clone();
            for _ in 0..(rng.next() % 4 + 1) {
                let at = rng.next() as usize % data.len();
                data[at] = rng.next() as u8;
            }
            if rng.next() % 3 == 0 {
                data.truncate(rng.next() as usize % data.len());
            }
            feed_handshake(&data, &mut rng);
        }
    }

    #[test]
    fn the_valid_stream_completes() {
        let valid = valid_peer_bytes();
        let mut hs = Handshake::new(Config {
            socket_type: SocketType::Router,
            identity: Vec::new(),
            metadata: Vec::new(),
            security: Security::Null,
            null_zap: false,
        });
        let used = hs.handle_input(&valid).unwrap();
        let peer = hs.peer().expect("handshake completes");
        assert_eq!(peer.identity, b"peer");
        assert!(peer
            .properties
            .iter()
            .any(|(k, v)| k == "X-Key" && v == b"value"));
        assert_eq!(&valid[used..], b"\x01\x02id\x00\x05hello");
    }
}
