//! Fuzz harness of alter-rs: one function per target, each taking the raw fuzz input.
//!
//! The functions hold all the logic, so that the same code runs under libFuzzer
//! (`cargo +nightly fuzz run --features libfuzzer <target>`, one thin binary per target in
//! `fuzz_targets/`) and in the stable tests of this crate, which replay the seeds derived
//! from the conformance fixtures ([`seeds::seeds`]). A target reports a bug by panicking.
//!
//! | Target | Covers |
//! |---|---|
//! | [`classify_error`] | every error-body mapper of `alter_core::classify` |
//! | [`parse_response`] | every operation's response parser, driven through its state machine |
//! | [`bearer_challenge`] | the `WWW-Authenticate` bearer-challenge parser |
//! | [`base64_body`] | base64 provider bodies of proxy and approval results |
//! | [`signing`] | HMAC request signing, seeded with the conformance vectors |
//!
//! ```
//! // Any bytes are a valid input; a run that returns found nothing wrong.
//! alter_fuzz::Target::Signing.run(b"alter_rk_x\0GET\0/sdk/scopes\01767225600\0n\0\0");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
mod challenge;
mod classify;
mod drive;
pub mod fixtures;
mod input;
mod response;
pub mod seeds;
mod sign;

pub use body::base64_body;
pub use challenge::bearer_challenge;
pub use classify::classify_error;
pub use response::{Op, encode_answer, parse_response};
pub use sign::signing;

/// A fuzz target, by the name of its `fuzz_targets/` binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// [`classify_error`].
    ClassifyError,
    /// [`parse_response`].
    ParseResponse,
    /// [`bearer_challenge`].
    BearerChallenge,
    /// [`base64_body`].
    Base64Body,
    /// [`signing`].
    Signing,
}

impl Target {
    /// Every target, in the order `cargo xtask fuzz` runs them.
    pub const ALL: [Self; 5] = [
        Self::ClassifyError,
        Self::ParseResponse,
        Self::BearerChallenge,
        Self::Base64Body,
        Self::Signing,
    ];

    /// The binary's name, as `cargo fuzz run` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::ClassifyError => "classify_error",
            Self::ParseResponse => "parse_response",
            Self::BearerChallenge => "bearer_challenge",
            Self::Base64Body => "base64_body",
            Self::Signing => "signing",
        }
    }

    /// The target of this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|target| target.name() == name)
    }

    /// Runs the target on one input.
    pub fn run(self, data: &[u8]) {
        match self {
            Self::ClassifyError => classify_error(data),
            Self::ParseResponse => parse_response(data),
            Self::BearerChallenge => bearer_challenge(data),
            Self::Base64Body => base64_body(data),
            Self::Signing => signing(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for target in Target::ALL {
            assert_eq!(Target::from_name(target.name()), Some(target));
        }
        assert_eq!(Target::from_name("nope"), None);
    }

    #[test]
    fn every_target_has_a_libfuzzer_binary() {
        let manifest = include_str!("../Cargo.toml");
        for target in Target::ALL {
            let path = format!("path = \"fuzz_targets/{}.rs\"", target.name());
            assert!(manifest.contains(&path), "{} has no [[bin]]", target.name());
        }
    }

    #[test]
    fn tiny_and_empty_inputs_are_fine_everywhere() {
        for target in Target::ALL {
            for data in [
                &b""[..],
                b"\0",
                b"\xff\xff\xff\xff",
                b"\x1d\x01\x93\x0f\x05hello{}",
            ] {
                target.run(data);
            }
        }
    }
}
