//! Micro benchmarks of the sans-IO core: what every call pays before and after the network.
//!
//! Run with `cargo bench -p alter-bench --bench core`; `cargo xtask bench` runs them and
//! puts their medians in its report.

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use alter_core::api::ProxyRequest;
use alter_core::classify::classify_proxy;
use alter_core::config::{ApiKey, BaseUrl};
use alter_core::poll::AwaitApproval;
use alter_core::signing::{SigningInput, SigningKey};
use alter_core::types::ApprovalResult;
use alter_core::{ClientConfig, Engine, Entropy, HttpResponse, Now, Operation, Step};
use criterion::{BatchSize, Criterion};

const API_KEY: &str = "alter_key_benchmark0000000000000000";
const GRANT: &str = "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c";
const APPROVAL: &str = "7d1e4c2b-9a8f-4e6d-b5c4-3a2f1e0d9c8b";
const PROXY_BODY: &[u8] = br#"{"grant_id":"3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c","method":"GET","url":"http://127.0.0.1:4011/echo/bench"}"#;

/// A fixed nonce source: the benches measure the core, not the OS generator.
#[derive(Debug)]
struct FixedEntropy;

impl Entropy for FixedEntropy {
    fn random_16(&self) -> [u8; 16] {
        [0x5a; 16]
    }
}

fn engine() -> Arc<Engine> {
    let config = ClientConfig::new(
        ApiKey::parse(API_KEY).expect("a valid key"),
        BaseUrl::parse("http://127.0.0.1:4010").expect("a valid base URL"),
    );
    Engine::new(config, Arc::new(FixedEntropy)).expect("a valid configuration")
}

fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

fn signing(c: &mut Criterion) {
    let input = SigningInput {
        method: "POST",
        path_with_query: "/sdk/proxy",
        timestamp: 1_700_000_000,
        nonce: "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        body: PROXY_BODY,
        scope_constraints: "",
    };
    let key = SigningKey::derive(API_KEY);

    let mut group = c.benchmark_group("sign");
    group.bench_function("derive_and_sign", |b| {
        b.iter(|| SigningKey::derive(black_box(API_KEY)).sign(black_box(&input)))
    });
    group.bench_function("sign", |b| b.iter(|| key.sign(black_box(&input))));
    group.finish();
}

fn building(c: &mut Criterion) {
    let engine = engine();
    let url = "http://127.0.0.1:4011/echo/bench";
    let now = now();

    let mut group = c.benchmark_group("build");
    group.bench_function("proxy_request", |b| {
        b.iter(|| {
            let mut call = engine
                .proxy_request(ProxyRequest::new("GET", black_box(url), GRANT))
                .expect("a valid request");
            match call.start(now) {
                Step::Send(request) => request,
                _ => unreachable!("a call starts by sending"),
            }
        })
    });
    group.finish();
}

/// An `ApprovalResult` body whose provider body is `body_len` pseudo-random bytes.
fn approval_result(body_len: usize) -> Vec<u8> {
    use base64::Engine as _;

    let mut state = 0x2545_f491_4f6c_dd1du64;
    let body: Vec<u8> = (0..body_len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(body);
    format!(
        r#"{{"approval_id":"{APPROVAL}","status_code":200,"headers":{{"content-type":"application/octet-stream","x-request-id":"req-1"}},"body_b64":"{b64}","body_truncated":false}}"#
    )
    .into_bytes()
}

fn parsing(c: &mut Criterion) {
    let engine = engine();
    // 768 KiB of provider body is 1 MiB of base64: the whole answer is just over 1 MiB.
    for (name, body, size) in [
        ("small", approval_result(16), BatchSize::SmallInput),
        ("1mib", approval_result(768 * 1024), BatchSize::LargeInput),
    ] {
        let mut group = c.benchmark_group(format!("parse_{name}"));
        group.bench_function("ours", |b| {
            b.iter_batched(
                || {
                    let mut call = engine.get_approval_result(APPROVAL).expect("a valid id");
                    let _ = call.start(now());
                    let response = HttpResponse {
                        status: 200,
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: body.clone(),
                    };
                    (call, response)
                },
                |(mut call, response)| match call.on_response(response, now()) {
                    Step::Done(Ok(result)) => result,
                    _ => unreachable!("a 200 answer parses"),
                },
                size,
            )
        });
        group.bench_function("typed_serde", |b| {
            b.iter(|| {
                serde_json::from_slice::<ApprovalResult>(black_box(&body)).expect("valid JSON")
            })
        });
        group.bench_function("raw_serde", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Value>(black_box(&body)).expect("valid JSON")
            })
        });
        group.finish();
    }
}

fn classifying(c: &mut Criterion) {
    let body = br#"{"detail":{"error":"policy_violation","message":"The grant's policy does not allow this call","details":{"policy":"business_hours","grant_id":"3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c"}}}"#;

    let mut group = c.benchmark_group("classify");
    group.bench_function("proxy_error", |b| {
        b.iter(|| classify_proxy(black_box(403), black_box(body)))
    });
    group.finish();
}

fn polling(c: &mut Criterion) {
    let engine = engine();
    let pending = HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: format!(
            r#"{{"approval_id":"{APPROVAL}","status":"pending","expires_at":"2030-01-01T00:00:00Z","decided_at":null,"decision_reason":null,"executed_at":null,"has_result":false}}"#
        )
        .into_bytes(),
    };
    let mut poller = AwaitApproval::new(
        &engine,
        APPROVAL,
        Duration::from_secs(365 * 24 * 3600),
        Duration::from_secs(2),
    )
    .expect("a valid id");
    let now = now();
    let Step::Send(_) = poller.start(now) else {
        unreachable!("the first poll is immediate")
    };

    // One step: a pending answer comes in, the poller decides to wait, wakes, and signs
    // the next poll.
    let mut group = c.benchmark_group("poll");
    group.bench_function("approval_step", |b| {
        b.iter_batched(
            || pending.clone(),
            |response| {
                let Step::WaitUntil(_) = poller.on_response(response, now) else {
                    unreachable!("a pending approval is polled again")
                };
                match poller.on_wake(now) {
                    Step::Send(request) => request,
                    _ => unreachable!("waking up sends the next poll"),
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    signing(&mut criterion);
    building(&mut criterion);
    parsing(&mut criterion);
    classifying(&mut criterion);
    polling(&mut criterion);
    criterion.final_summary();
}
