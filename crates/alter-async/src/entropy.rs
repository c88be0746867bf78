//! The operating system's CSPRNG as the engine's source of nonces.

use alter_core::Entropy;

/// Draws from the operating system's random generator.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OsEntropy;

impl Entropy for OsEntropy {
    fn random_16(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        // A failing OS generator is not recoverable: a nonce must never repeat, so a
        // predictable fallback would be worse than stopping.
        if let Err(error) = getrandom::fill(&mut bytes) {
            panic!("the operating system's random generator failed: {error}");
        }
        bytes
    }
}

/// Sixteen bytes from the operating system's random generator.
pub(crate) fn random_16() -> [u8; 16] {
    OsEntropy.random_16()
}
