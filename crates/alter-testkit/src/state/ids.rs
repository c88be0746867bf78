//! Identifiers and secrets minted by the fake: UUIDs, API keys, tokens.
//!
//! A small SplitMix64 generator drives them all, so a fixed seed replays the same keys and
//! ids (useful for golden files); without a seed it starts from the process's hash-map
//! randomness.

use std::hash::{BuildHasher, RandomState};

use alter_core::config::key_checksum;
use uuid::Uuid;

/// The alphabet of the random part of API keys (PROTOCOL.md §1.2).
const KEY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// The alphabet of opaque tokens.
const TOKEN_ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The fake's random source.
///
/// # Security
///
/// Not a cryptographic generator: the fake's keys protect nothing but loopback test data.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator that replays the same sequence for the same seed.
    pub(crate) fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator seeded from the process's randomness.
    pub(crate) fn from_entropy() -> Self {
        Self::seeded(RandomState::new().hash_one(0x616c_7465_725f_746b_u64))
    }

    /// The next 64 random bits (SplitMix64).
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random version-4 UUID.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// `len` characters drawn from `alphabet`.
    fn text(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| {
                let index = (self.next_u64() % alphabet.len() as u64) as usize;
                char::from(alphabet[index])
            })
            .collect()
    }

    /// An opaque token: `prefix` followed by 32 alphanumeric characters.
    pub(crate) fn token(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.text(TOKEN_ALPHABET, 32))
    }

    /// A fresh scoped API key `alter_<type>_<22 chars>_<checksum>` that passes the core's
    /// full validator (checked in this module's tests).
    pub(crate) fn api_key(&mut self, key_type: &str) -> String {
        let random = self.text(KEY_ALPHABET, 22);
        format!(
            "alter_{key_type}_{random}_{}",
            key_checksum(key_type, &random)
        )
    }
}

#[cfg(test)]
mod tests {
    use alter_core::config::is_valid_key;

    use super::*;

    #[test]
    fn checksum_matches_the_protocol_vectors() {
        assert_eq!(key_checksum("rk", "abcdefghijklmnopqrstuv"), "iwpykn");
        assert_eq!(key_checksum("ak", "k3j5m7n9p2q4r6s8t0v1w3"), "zarmg5");
    }

    #[test]
    fn minted_keys_pass_the_core_validator() {
        let mut rng = Rng::seeded(7);
        for key_type in ["rk", "ak", "dk"] {
            for _ in 0..50 {
                let key = rng.api_key(key_type);
                assert!(is_valid_key(&key), "{key}");
                assert!(key.starts_with(&format!("alter_{key_type}_")));
            }
        }
    }

    #[test]
    fn a_seed_replays_and_different_seeds_differ() {
        let (mut a, mut b, mut c) = (Rng::seeded(1), Rng::seeded(1), Rng::seeded(2));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.token("t_"), b.token("t_"));
        assert_ne!(Rng::seeded(1).uuid(), c.uuid());
        assert_eq!(a.uuid().get_version_num(), 4);
    }
}
