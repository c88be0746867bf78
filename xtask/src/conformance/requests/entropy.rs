//! Scripted randomness: the nonces and correlation ids the reference client drew, handed
//! out in the same order.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use alter_core::Entropy;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// An [`Entropy`] that replays a fixed list of 16-byte values.
///
/// The trait cannot fail, so a draw past the end yields zeros and is counted; the runner
/// reports over-draws and unused values as differences.
#[derive(Debug)]
pub(crate) struct ScriptedEntropy {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<[u8; 16]>,
    overdrawn: usize,
}

impl ScriptedEntropy {
    /// Decodes each issued value: 32 hex digits (a nonce) or 22 base64url characters (a
    /// `token_urlsafe(16)` correlation id); both carry 16 bytes.
    pub(crate) fn from_issued(issued: &[String]) -> Result<Self, String> {
        let queue = issued
            .iter()
            .map(|value| decode(value))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            state: Mutex::new(State {
                queue,
                overdrawn: 0,
            }),
        })
    }

    /// What went wrong with the draws so far: values left over or draws past the end.
    pub(crate) fn problems(&self) -> Vec<String> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut problems = Vec::new();
        if !state.queue.is_empty() {
            problems.push(format!(
                "entropy: {} scripted value(s) never drawn",
                state.queue.len()
            ));
        }
        if state.overdrawn > 0 {
            problems.push(format!(
                "entropy: drew {} value(s) more than the reference client",
                state.overdrawn
            ));
        }
        problems
    }
}

impl Entropy for ScriptedEntropy {
    fn random_16(&self) -> [u8; 16] {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.queue.pop_front() {
            Some(bytes) => bytes,
            None => {
                state.overdrawn += 1;
                [0; 16]
            }
        }
    }
}

fn decode(value: &str) -> Result<[u8; 16], String> {
    let bytes = if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        decode_hex(value)
    } else {
        URL_SAFE_NO_PAD.decode(value).ok()
    };

    bytes
        .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
        .ok_or_else(|| {
            format!("issued value {value:?} is neither 16 hex bytes nor 16 base64url bytes")
        })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_hex_and_base64url_values_in_order() {
        let entropy = ScriptedEntropy::from_issued(&[
            "000102030405060708090a0b0c0d0eff".to_owned(),
            "g1Ovej05L4Fr6KsYNO185Q".to_owned(),
        ])
        .unwrap();

        let first = entropy.random_16();
        let second = entropy.random_16();

        assert_eq!(first[0], 0);
        assert_eq!(first[15], 0xff);
        assert_eq!(URL_SAFE_NO_PAD.encode(second), "g1Ovej05L4Fr6KsYNO185Q");
        assert!(entropy.problems().is_empty());
    }

    #[test]
    fn reports_unused_and_overdrawn_values() {
        let unused = ScriptedEntropy::from_issued(&["00".repeat(16)]).unwrap();
        let overdrawn = ScriptedEntropy::from_issued(&[]).unwrap();

        overdrawn.random_16();

        assert_eq!(unused.problems().len(), 1);
        assert!(overdrawn.problems()[0].contains("more than"));
    }

    #[test]
    fn rejects_values_that_are_not_sixteen_bytes() {
        assert!(ScriptedEntropy::from_issued(&["abcd".to_owned()]).is_err());
    }
}
