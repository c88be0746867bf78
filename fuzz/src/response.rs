//! The `parse_response` target: every operation's response parser, reached the way a
//! frontend reaches it (start, send, answer, until done).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use alter_core::api::{
    ConnectSessionParams, CreateAgent, DeriveKey, ListAgents, ListGrants,
    ManagedSecretConnectParams, ProviderResponse, ProxyOutcome, ProxyRequest, RetrieveRequest,
    UpdateAgent,
};
use alter_core::poll::{AwaitApproval, AwaitConnect, AwaitSignIn};
use alter_core::{Engine, Error, HttpRequest, HttpResponse, Operation, Target};
use alter_types::{Principal, Secret, TokenResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::drive::{Clock, drive, engine};
use crate::input::{Input, push_short_piece};

const AGENT: &str = "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c";
const KEY: &str = "7a1e2b3c-4d5f-4a6b-8c9d-0e1f2a3b4c5d";
const GRANT: &str = "0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e";
const APPROVAL: &str = "c0ffee00-1234-4567-89ab-cdef01234567";
const ACTOR: &str = "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e";

/// The provider credential the canned token answer hands out; it must never surface in an
/// error the provider's answer did not put there.
const ACCESS_TOKEN: &str = "ya29.fuzz-access-token-0001";

/// How long the pollers wait: long enough for twenty polls, short enough to stay cheap.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// Flags of the header byte.
pub(crate) const HEADER_JSON: u8 = 1;
/// `Retry-After` carries the header piece.
pub(crate) const HEADER_RETRY_AFTER: u8 = 2;
/// `X-Alter-Actor-ID` carries a valid actor id.
pub(crate) const HEADER_ACTOR: u8 = 4;
/// `WWW-Authenticate` carries the header piece.
pub(crate) const HEADER_CHALLENGE: u8 = 8;

/// Every operation whose answer the target parses; the first input byte picks one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "each variant is the engine method of the same name"
)]
pub enum Op {
    AgentsCreate,
    AgentsList,
    AgentsGet,
    AgentsGetByName,
    AgentsUpdate,
    AgentsDelete,
    AgentsMintKey,
    AgentsListKeys,
    AgentsDeprecateKey,
    AgentsUndeprecateKey,
    AgentsRevokeKey,
    AgentsMe,
    CreateAuthSession,
    PollAuthSessionOnce,
    VerifyUserToken,
    CreateConnectSession,
    PollConnectSessionOnce,
    CreateManagedSecretConnectSession,
    ListGrants,
    RevokeGrant,
    RevokeDelegation,
    CreateManagedSecretGrant,
    KeysDerive,
    KeysRotate,
    KeysRevoke,
    ScopesList,
    ProxyRequest,
    GetApprovalStatus,
    GetApprovalResult,
    /// Retrieve mode, the answer being the token call's.
    RetrieveToken,
    /// Retrieve mode, the answer being the provider's (the token call succeeds).
    RetrieveProvider,
    /// `await_approval`, the answer being every status poll's.
    AwaitApprovalStatus,
    /// `await_approval`, the answer being the result fetch's (the status says executed).
    AwaitApprovalResult,
    AwaitConnect,
    AwaitSignIn,
}

impl Op {
    /// Every operation, in input-byte order.
    pub const ALL: [Self; 35] = [
        Self::AgentsCreate,
        Self::AgentsList,
        Self::AgentsGet,
        Self::AgentsGetByName,
        Self::AgentsUpdate,
        Self::AgentsDelete,
        Self::AgentsMintKey,
        Self::AgentsListKeys,
        Self::AgentsDeprecateKey,
        Self::AgentsUndeprecateKey,
        Self::AgentsRevokeKey,
        Self::AgentsMe,
        Self::CreateAuthSession,
        Self::PollAuthSessionOnce,
        Self::VerifyUserToken,
        Self::CreateConnectSession,
        Self::PollConnectSessionOnce,
        Self::CreateManagedSecretConnectSession,
        Self::ListGrants,
        Self::RevokeGrant,
        Self::RevokeDelegation,
        Self::CreateManagedSecretGrant,
        Self::KeysDerive,
        Self::KeysRotate,
        Self::KeysRevoke,
        Self::ScopesList,
        Self::ProxyRequest,
        Self::GetApprovalStatus,
        Self::GetApprovalResult,
        Self::RetrieveToken,
        Self::RetrieveProvider,
        Self::AwaitApprovalStatus,
        Self::AwaitApprovalResult,
        Self::AwaitConnect,
        Self::AwaitSignIn,
    ];

    fn from_byte(byte: u8) -> Self {
        Self::ALL[usize::from(byte) % Self::ALL.len()]
    }

    fn byte(self) -> u8 {
        let at = Self::ALL.iter().position(|op| *op == self).unwrap_or(0);
        u8::try_from(at).unwrap_or(0)
    }

    /// The operations whose answer parser reads the answer to `method path` (path without
    /// the base URL, query included). Used to turn recorded answers into seeds.
    pub fn for_backend_request(method: &str, path: &str) -> &'static [Self] {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();

        match (method, segments.as_slice()) {
            ("POST", ["sdk", "agents"]) => &[Self::AgentsCreate],
            ("GET", ["sdk", "agents"]) if query.contains("name=") => &[Self::AgentsGetByName],
            ("GET", ["sdk", "agents"]) => &[Self::AgentsList],
            ("GET", ["sdk", "agents", "me"]) => &[Self::AgentsMe],
            ("GET", ["sdk", "agents", _]) => &[Self::AgentsGet],
            ("PATCH", ["sdk", "agents", _]) => &[Self::AgentsUpdate],
            ("DELETE", ["sdk", "agents", _]) => &[Self::AgentsDelete],
            ("POST", ["sdk", "agents", _, "keys"]) => &[Self::AgentsMintKey],
            ("GET", ["sdk", "agents", _, "keys"]) => &[Self::AgentsListKeys],
            ("PATCH", ["sdk", "agents", _, "keys", _, "deprecate"]) => &[Self::AgentsDeprecateKey],
            ("PATCH", ["sdk", "agents", _, "keys", _, "undeprecate"]) => {
                &[Self::AgentsUndeprecateKey]
            }
            ("DELETE", ["sdk", "agents", _, "keys", _]) => &[Self::AgentsRevokeKey],
            ("POST", ["sdk", "auth", "session"]) => &[Self::CreateAuthSession],
            ("POST", ["sdk", "auth", "poll"]) => &[Self::PollAuthSessionOnce, Self::AwaitSignIn],
            ("POST", ["sdk", "auth", "verify-token"]) => &[Self::VerifyUserToken],
            ("POST", ["sdk", "oauth", "connect", "session"]) => &[Self::CreateConnectSession],
            ("POST", ["sdk", "oauth", "connect", "session", "poll"]) => {
                &[Self::PollConnectSessionOnce, Self::AwaitConnect]
            }
            ("POST", ["sdk", "managed-secrets", "connect", "session"]) => {
                &[Self::CreateManagedSecretConnectSession]
            }
            ("POST", ["sdk", "grants", "list"]) => &[Self::ListGrants],
            ("POST", ["sdk", "oauth", "grants", _, "revoke"]) => &[Self::RevokeGrant],
            ("DELETE", ["sdk", "grants", _, "delegations", _]) => &[Self::RevokeDelegation],
            ("POST", ["sdk", "managed-secrets", _, "grants"]) => &[Self::CreateManagedSecretGrant],
            ("POST", ["sdk", "keys", "derive"]) => &[Self::KeysDerive],
            ("POST", ["sdk", "keys", _, "rotate"]) => &[Self::KeysRotate],
            ("DELETE", ["sdk", "keys", _]) => &[Self::KeysRevoke],
            ("GET", ["sdk", "scopes"]) => &[Self::ScopesList],
            ("POST", ["sdk", "proxy"]) => &[Self::ProxyRequest],
            ("GET", ["sdk", "approvals", _]) => {
                &[Self::GetApprovalStatus, Self::AwaitApprovalStatus]
            }
            ("GET", ["sdk", "approvals", _, "result"]) => {
                &[Self::GetApprovalResult, Self::AwaitApprovalResult]
            }
            ("POST", ["sdk", "token"]) => &[Self::RetrieveToken],
            _ => &[],
        }
    }
}

/// One answer as a fuzz input for `op`: the inverse of what [`parse_response`] reads.
pub fn encode_answer(op: Op, status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut flags = 0;
    let mut piece = String::new();
    for (name, value) in headers {
        match name.to_ascii_lowercase().as_str() {
            "content-type" if value.starts_with("application/json") => flags |= HEADER_JSON,
            "retry-after" => {
                flags |= HEADER_RETRY_AFTER;
                piece.clone_from(value);
            }
            "x-alter-actor-id" => flags |= HEADER_ACTOR,
            "www-authenticate" => {
                flags |= HEADER_CHALLENGE;
                piece.clone_from(value);
            }
            _ => {}
        }
    }

    let mut out = vec![op.byte()];
    out.extend_from_slice(&status.to_be_bytes());
    out.push(flags);
    push_short_piece(&mut out, piece.as_bytes());
    out.extend_from_slice(body);
    out
}

/// Runs one operation against one fuzzed answer.
///
/// Input: one byte picking the [`Op`], a big-endian `u16` status, a byte of header flags
/// (`HEADER_*`), a length-prefixed header value used for `Retry-After` and
/// `WWW-Authenticate`, then the body. Every request of the operation gets this answer,
/// except where an [`Op`] says otherwise.
///
/// Checked, besides "no panic": every operation finishes within a bounded number of steps;
/// every value parsed from the answer serializes and deserializes back to itself; a
/// proxied body decodes; a provider error answer is an error unless `raw`; the canned
/// provider credential appears in no error unless the answer itself carried it.
pub fn parse_response(data: &[u8]) {
    let mut input = Input::new(data);
    let op = Op::from_byte(input.byte());
    let status = input.u16();
    let flags = input.byte();
    let piece = String::from_utf8_lossy(input.short_piece()).into_owned();
    let body = input.rest();

    let mut headers = Vec::new();
    if flags & HEADER_JSON != 0 {
        headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    }
    if flags & HEADER_RETRY_AFTER != 0 {
        headers.push(("Retry-After".to_owned(), piece.clone()));
    }
    if flags & HEADER_ACTOR != 0 {
        headers.push(("X-Alter-Actor-ID".to_owned(), ACTOR.to_owned()));
    }
    if flags & HEADER_CHALLENGE != 0 {
        headers.push(("WWW-Authenticate".to_owned(), piece));
    }
    let answer = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };

    let Some(engine) = engine() else {
        panic!("the fuzz engine configuration is invalid");
    };
    let leak_possible = contains(data, ACCESS_TOKEN.as_bytes());
    match run(op, &engine, &answer) {
        Ok(()) => {}
        Err(error) => check_error(&error, leak_possible),
    }
}

/// Runs `op` to its end and checks its value; returns its error.
fn run(op: Op, engine: &Arc<Engine>, answer: &HttpResponse) -> Result<(), Error> {
    let same = |_: &HttpRequest| answer.clone();
    let mut clock = Clock::new();

    match op {
        Op::AgentsCreate => call(engine.agents_create(CreateAgent::new("bot")), same),
        Op::AgentsList => call(engine.agents_list(ListAgents::default()), same),
        Op::AgentsGet => call(engine.agents_get(AGENT), same),
        Op::AgentsGetByName => call(engine.agents_get_by_name("ops bot"), same),
        Op::AgentsUpdate => call(engine.agents_update(AGENT, UpdateAgent::default()), same),
        Op::AgentsDelete => call(engine.agents_delete(AGENT), same),
        Op::AgentsMintKey => call(engine.agents_mint_key(AGENT), same),
        Op::AgentsListKeys => call(engine.agents_list_keys(AGENT), same),
        Op::AgentsDeprecateKey => call(engine.agents_deprecate_key(AGENT, KEY), same),
        Op::AgentsUndeprecateKey => call(engine.agents_undeprecate_key(AGENT, KEY), same),
        Op::AgentsRevokeKey => call(engine.agents_revoke_key(AGENT, KEY, false), same),
        Op::AgentsMe => call(Ok(engine.agents_me()), same),
        Op::CreateAuthSession => call(Ok(engine.create_auth_session()), same),
        Op::PollAuthSessionOnce => {
            call(Ok(engine.poll_auth_session_once(&Secret::new("as"))), same)
        }
        Op::VerifyUserToken => match engine.verify_user_token("jwt") {
            Some(mut op) => {
                let verified = drive(&mut op, &mut clock, same);
                assert!(verified.is_ok(), "verify_user_token never fails");
                verified.map(|subject| round_trip(&subject))
            }
            None => panic!("a non-blank token was refused"),
        },
        Op::CreateConnectSession => call(
            engine.create_connect_session(ConnectSessionParams::default(), None),
            same,
        ),
        Op::PollConnectSessionOnce => call(
            Ok(engine.poll_connect_session_once(&Secret::new("cs"))),
            same,
        ),
        Op::CreateManagedSecretConnectSession => call(
            engine.create_managed_secret_connect_session(ManagedSecretConnectParams::new(
                "vault-template",
                AGENT,
                "jwt",
            )),
            same,
        ),
        Op::ListGrants => call(engine.list_grants(ListGrants::default(), None), same),
        Op::RevokeGrant => call(engine.revoke_grant(GRANT, Some("done"), None), same),
        Op::RevokeDelegation => call(engine.revoke_delegation(GRANT, None), same),
        Op::CreateManagedSecretGrant => call(
            engine.create_managed_secret_grant(
                "a1b2c3d4-5e6f-4789-8abc-def012345678",
                &Principal::System { label: None },
                None,
            ),
            same,
        ),
        Op::KeysDerive => call(
            engine.keys_derive(DeriveKey::new(["grants:read"], 3600)),
            same,
        ),
        Op::KeysRotate => call(engine.keys_rotate(KEY, 1), same),
        Op::KeysRevoke => call(engine.keys_revoke(KEY, false), same),
        Op::ScopesList => call(Ok(engine.scopes_list()), same),
        Op::ProxyRequest => {
            let request = ProxyRequest::new("POST", "https://api.example.com/v1/items", GRANT);
            built(engine.proxy_request(request))
                .and_then(|mut op| drive(&mut op, &mut clock, same))
                .map(|outcome| check_proxy_outcome(&outcome))
        }
        Op::GetApprovalStatus => call(engine.get_approval_status(APPROVAL), same),
        Op::GetApprovalResult => call(engine.get_approval_result(APPROVAL), same),
        Op::RetrieveToken => {
            check_token(&answer.body);
            retrieve(engine, &mut clock, answer, &canned(200, br#"{"ok":true}"#))
        }
        Op::RetrieveProvider => retrieve(
            engine,
            &mut clock,
            &canned(200, token_body().as_bytes()),
            answer,
        ),
        Op::AwaitApprovalStatus | Op::AwaitApprovalResult => {
            let status_is_fuzzed = op == Op::AwaitApprovalStatus;
            let mut poller = built(AwaitApproval::new(
                engine,
                APPROVAL,
                POLL_TIMEOUT,
                Duration::ZERO,
            ))?;
            let result = drive(&mut poller, &mut clock, |request| {
                let is_result = request.path_and_query().ends_with("/result");
                if is_result != status_is_fuzzed {
                    answer.clone()
                } else if is_result {
                    canned(
                        200,
                        br#"{"status_code":200,"headers":{},"body_b64":"e30="}"#,
                    )
                } else {
                    canned(200, executed_status().as_bytes())
                }
            });
            check_deadline(&clock);
            result.map(|value| check_approval_result(&value))
        }
        Op::AwaitConnect => {
            let mut poller =
                AwaitConnect::new(engine, Secret::new("cs"), POLL_TIMEOUT, Duration::ZERO);
            let result = drive(&mut poller, &mut clock, same);
            check_deadline(&clock);
            result.map(|value| round_trip(&value))
        }
        Op::AwaitSignIn => {
            let mut poller = AwaitSignIn::new(engine, Secret::new("as"), POLL_TIMEOUT);
            let result = drive(&mut poller, &mut clock, same);
            check_deadline(&clock);
            result.map(|value| round_trip(&value))
        }
    }
}

/// The constructors are given valid arguments: a refusal is a harness bug.
fn built<T>(result: Result<T, Error>) -> Result<T, Error> {
    match result {
        Ok(value) => Ok(value),
        Err(error) => panic!("a valid call was refused: {error}"),
    }
}

/// Drives one backend call and round-trips its value.
fn call<O>(
    op: Result<O, Error>,
    answer: impl FnMut(&HttpRequest) -> HttpResponse,
) -> Result<(), Error>
where
    O: Operation,
    O::Output: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut op = built(op)?;
    let mut clock = Clock::new();
    drive(&mut op, &mut clock, answer).map(|value| round_trip(&value))
}

/// A retrieve-mode call through [`GRANT`]: the token call gets `token`, the provider call
/// gets `provider`, and the background uploads an empty success.
fn retrieve(
    engine: &Arc<Engine>,
    clock: &mut Clock,
    token: &HttpResponse,
    provider: &HttpResponse,
) -> Result<(), Error> {
    let request = RetrieveRequest::grant("GET", "https://api.example.com/v1/items?a=1", GRANT);
    let mut op = built(engine.request(request, Some(&Secret::new("jwt"))))?;

    let response = drive(&mut op, clock, |request| {
        if request.target == Target::Provider {
            provider.clone()
        } else if request.path_and_query().starts_with("/sdk/token") {
            token.clone()
        } else {
            canned(200, b"{}")
        }
    })?;
    check_provider_response(&response, provider);
    Ok(())
}

/// A parsed value serializes, and what it serializes to parses back to the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let written = match serde_json::to_vec(value) {
        Ok(bytes) => bytes,
        Err(error) => panic!("a parsed value does not serialize: {error}"),
    };
    match serde_json::from_slice::<T>(&written) {
        Ok(back) => assert_eq!(&back, value, "round trip changed the value"),
        Err(error) => panic!(
            "a serialized value does not parse back: {error}: {}",
            String::from_utf8_lossy(&written)
        ),
    }
}

/// The token answer is parsed on its own too: it is a public type with its own rules.
fn check_token(body: &[u8]) {
    if let Ok(token) = serde_json::from_slice::<TokenResponse>(body) {
        round_trip(&token);
        let _ = (
            token.retry_info(),
            token.injection_header_or_default(),
            token.injection_format_or_default(),
        );
    }
}

fn check_proxy_outcome(outcome: &ProxyOutcome) {
    match outcome {
        ProxyOutcome::Completed(result) => check_approval_result(result),
        ProxyOutcome::Pending(pending) => round_trip(pending),
        // A variant added later has nothing known to check yet.
        _ => {}
    }
}

fn check_approval_result(result: &alter_types::ApprovalResult) {
    round_trip(result);
    assert!(
        result.try_body_bytes().is_ok(),
        "a parsed body does not decode"
    );
}

fn check_provider_response(response: &ProviderResponse, answer: &HttpResponse) {
    assert_eq!(response.status, answer.status);
    assert_eq!(response.body, answer.body);
    assert!(
        response.status < 400,
        "a provider error answer returned as success"
    );
    let _ = (
        response.json::<serde_json::Value>(),
        response.header("content-type"),
    );
}

/// Pollers never run past their timeout (plus the result fetch's own timeout).
fn check_deadline(clock: &Clock) {
    assert!(clock.elapsed() <= POLL_TIMEOUT + Duration::from_secs(30));
}

fn check_error(error: &Error, leak_possible: bool) {
    let shown = error.to_string();
    let debug = format!("{error:?}");
    let _ = (
        error.class_name(),
        error.ancestors(),
        error.details(),
        error.status(),
    );

    if !leak_possible {
        assert!(
            !shown.contains(ACCESS_TOKEN),
            "credential in an error message"
        );
        assert!(
            !debug.contains(ACCESS_TOKEN),
            "credential in an error's Debug"
        );
    }
}

fn canned(status: u16, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
        body: body.to_vec(),
    }
}

fn token_body() -> String {
    serde_json::json!({
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 3600,
        "grant_id": GRANT,
        "provider_id": "google",
        "scopes": ["calendar.readonly"],
        "injection_header": "Authorization",
        "injection_format": "Bearer {token}",
    })
    .to_string()
}

fn executed_status() -> String {
    serde_json::json!({
        "approval_id": APPROVAL,
        "status": "executed",
        "expires_at": "2026-01-01T01:00:00Z",
        "has_result": true,
    })
    .to_string()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_runs_on_error_and_garbage_answers() {
        for op in Op::ALL {
            for (status, body) in [
                (500, &b"oops"[..]),
                (200, b"{}"),
                (404, br#"{"detail":{"error":"grant_not_found"}}"#),
                (429, b""),
            ] {
                parse_response(&encode_answer(op, status, &[], body));
            }
        }
    }

    #[test]
    fn encoding_keeps_the_headers_the_target_understands() {
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("WWW-Authenticate".to_owned(), "Bearer error=x".to_owned()),
        ];

        let data = encode_answer(Op::RetrieveProvider, 403, &headers, b"{}");

        assert_eq!(data[0], Op::RetrieveProvider.byte());
        assert_eq!(&data[1..3], 403u16.to_be_bytes());
        assert_eq!(data[3], HEADER_JSON | HEADER_CHALLENGE);
        assert_eq!(usize::from(data[4]), "Bearer error=x".len());
        assert_eq!(Op::from_byte(data[0]), Op::RetrieveProvider);
    }

    #[test]
    fn backend_routes_map_to_their_parsers() {
        assert_eq!(
            Op::for_backend_request("GET", "/sdk/agents/me"),
            [Op::AgentsMe]
        );
        assert_eq!(
            Op::for_backend_request("GET", "/sdk/agents?name=x"),
            [Op::AgentsGetByName]
        );
        assert_eq!(
            Op::for_backend_request("DELETE", &format!("/sdk/agents/{AGENT}/keys/{KEY}")),
            [Op::AgentsRevokeKey]
        );
        assert!(Op::for_backend_request("POST", "/sdk/oauth/audit/api-call").is_empty());
    }
}
