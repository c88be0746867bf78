//! Seed inputs of every target, derived from the conformance fixtures.
//!
//! `cargo xtask fuzz` writes them to `target/fuzz/seeds/<target>/` before fuzzing, and the
//! crate's tests replay them through the harness on stable, so a seed that breaks an
//! invariant fails `cargo test` before it ever reaches libFuzzer.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::body::Mode;
use crate::fixtures::{RecordedAnswer, recorded_answers, signing_cases};
use crate::response::{Op, encode_answer};
use crate::sign::encode_case;
use crate::{Target, classify};

/// Challenges the fixtures hold too few of: the grammar's corners, written out.
const EXTRA_CHALLENGES: &[&str] = &[
    r#"Bearer error="insufficient_scope", scope="calendar.readonly calendar.events""#,
    r#"Bearer realm=x,error=invalid_token, Basic realm="y", error="insufficient_scope""#,
    r#"Bearer realm="a\"b", ERROR=insufficient_scope, scope="""#,
    "Basic realm=x",
];

/// The seed inputs of `target`, distinct and in a stable order.
pub fn seeds(target: Target) -> Vec<Vec<u8>> {
    let answers = recorded_answers();
    let seeds: BTreeSet<Vec<u8>> = match target {
        Target::ClassifyError => answers
            .iter()
            .filter(|answer| answer.method.is_some())
            .map(classify_seed)
            .chain([classify_input(502, false, b"<html>Bad Gateway</html>")])
            .collect(),
        Target::ParseResponse => answers.iter().flat_map(response_seeds).collect(),
        Target::BearerChallenge => answers
            .iter()
            .flat_map(|answer| &answer.headers)
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, value)| value.as_str())
            .chain(EXTRA_CHALLENGES.iter().copied())
            .map(|value| value.as_bytes().to_vec())
            .collect(),
        Target::Base64Body => answers
            .iter()
            .flat_map(body_seeds)
            .chain(signing_bodies())
            .collect(),
        Target::Signing => signing_cases().iter().map(encode_case).collect(),
    };
    seeds.into_iter().collect()
}

fn classify_input(status: u16, json: bool, body: &[u8]) -> Vec<u8> {
    // Index 0 of the content-type table is `application/json`, index 1 no header.
    let content_type = if json { 0 } else { 1 };
    debug_assert_eq!(classify::CONTENT_TYPES[0], Some("application/json"));

    let mut data = status.to_be_bytes().to_vec();
    data.push(content_type);
    data.extend_from_slice(body);
    data
}

fn classify_seed(answer: &RecordedAnswer) -> Vec<u8> {
    let json = answer
        .headers
        .iter()
        .any(|(name, value)| name.eq_ignore_ascii_case("content-type") && value.contains("json"));
    classify_input(answer.status, json, &answer.body)
}

fn response_seeds(answer: &RecordedAnswer) -> Vec<Vec<u8>> {
    let ops: &[Op] = match (&answer.method, &answer.path) {
        (Some(method), Some(path)) => Op::for_backend_request(method, path),
        _ => &[Op::RetrieveProvider],
    };
    ops.iter()
        .map(|op| encode_answer(*op, answer.status, &answer.headers, &answer.body))
        .collect()
}

/// Proxy and approval results (whole, and their `body_b64`), and provider bodies.
fn body_seeds(answer: &RecordedAnswer) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let with_mode = |mode: Mode, rest: &[u8]| {
        let mut data = vec![mode as u8];
        data.extend_from_slice(rest);
        data
    };

    if answer.method.is_none() {
        seeds.push(with_mode(Mode::Bytes, &answer.body));
    }
    if let Ok(value) = serde_json::from_slice::<Value>(&answer.body) {
        if let Some(text) = value.get("body_b64").and_then(Value::as_str) {
            seeds.push(with_mode(Mode::Text, text.as_bytes()));
            seeds.push(with_mode(Mode::Document, &answer.body));
        }
    }
    seeds
}

/// The signing vectors' bodies: the binary, multi-line and 64 KiB ones among them.
fn signing_bodies() -> impl Iterator<Item = Vec<u8>> {
    signing_cases().iter().map(|case| {
        let mut data = vec![Mode::Bytes as u8];
        data.extend_from_slice(&case.body);
        data
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_seeds_from_the_fixtures() {
        for target in Target::ALL {
            let seeds = seeds(target);
            assert!(seeds.len() >= 3, "{}: {} seeds", target.name(), seeds.len());
        }
    }

    #[test]
    fn every_seed_replays_through_its_target() {
        for target in Target::ALL {
            for seed in seeds(target) {
                target.run(&seed);
            }
        }
    }

    #[test]
    fn response_seeds_reach_most_parsers() {
        let reached: BTreeSet<u8> = seeds(Target::ParseResponse).iter().map(|s| s[0]).collect();

        assert!(reached.len() >= Op::ALL.len() - 3, "{reached:?}");
    }

    #[test]
    fn base64_seeds_hold_real_results() {
        let seeds = seeds(Target::Base64Body);

        assert!(
            seeds
                .iter()
                .any(|s| s[0] == Mode::Text as u8 && s.len() > 1)
        );
        assert!(seeds.iter().any(|s| s[0] == Mode::Document as u8));
    }
}
