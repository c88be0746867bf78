//! Request authentication exactly as PROTOCOL.md §3.7 describes the backend's: key lookup,
//! body hash, timestamp window, signature over the canonical target (compared in constant
//! time by the core's [`SigningKey::verify`]), nonce replay, then scope constraints and the
//! caller headers.

use alter_core::config::is_valid_key;
use alter_core::encoding::canonical_path_and_query;
use alter_core::signing::{
    HEADER_CONTENT_SHA256, HEADER_NONCE, HEADER_SCOPE_CONSTRAINTS, HEADER_SIGNATURE,
    HEADER_TIMESTAMP, SigningInput, SigningKey, content_sha256,
};
use alter_types::AgentStatus;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue};
use uuid::Uuid;

use crate::app::{AppState, RawBody, RawTarget};
use crate::errors::{Failure, constraint_not_narrowing, unauthorized};
use crate::state::keys::{KeyRecord, Owner};
use crate::state::{Caller, Store, now, parse_uuid};

/// Header naming the caller on whose behalf a request is made.
const HEADER_CALLER: &str = "x-alter-caller";
/// Header naming the caller's type (`agent` or `service`).
const HEADER_CALLER_TYPE: &str = "x-alter-caller-type";
/// Header carrying the actor id the backend assigns to a caller.
pub(crate) const HEADER_ACTOR_ID: &str = "x-alter-actor-id";
/// Header marking answers to a deprecated key.
pub(crate) const HEADER_KEY_DEPRECATED: &str = "x-alter-key-deprecated";

/// The parts of a request authentication looks at.
#[derive(Debug)]
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a str,
    /// Path and query as received, mount prefix removed.
    pub(crate) target: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    /// The fake's clock, Unix seconds.
    pub(crate) now: u64,
}

/// Middleware for every `/sdk/…` route: authenticates, hands the [`Caller`] to the route,
/// and marks the answer with the actor id and key deprecation.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let target = request
        .extensions()
        .get::<RawTarget>()
        .map(|raw| raw.0.clone())
        .unwrap_or_else(|| request.uri().to_string());
    let body = request
        .extensions()
        .get::<RawBody>()
        .map(|raw| raw.0.clone())
        .unwrap_or_default();
    let incoming = Incoming {
        method: request.method().as_str(),
        target: &target,
        headers: request.headers(),
        body: &body,
        now: unix_now(),
    };

    let verified = verify(&mut state.store.lock(), &incoming);
    let caller = match verified {
        Ok(caller) => caller,
        Err(failure) => return failure.into_response(),
    };

    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    if let Some(actor_id) = caller.actor_id {
        if let Ok(value) = HeaderValue::from_str(&actor_id.to_string()) {
            response.headers_mut().insert(HEADER_ACTOR_ID, value);
        }
    }
    if caller.deprecated {
        response
            .headers_mut()
            .insert(HEADER_KEY_DEPRECATED, HeaderValue::from_static("true"));
    }
    response
}

/// Authenticates one request; on success the nonce is spent and the key marked used.
pub(crate) fn verify(store: &mut Store, incoming: &Incoming<'_>) -> Result<Caller, Failure> {
    let secret = header(incoming.headers, "x-api-key")
        .ok_or_else(|| unauthorized("missing_api_key", "the x-api-key header is missing"))?;
    let key = store
        .keys
        .iter()
        .find(|key| key.secret == secret && is_valid_key(secret))
        .cloned()
        .ok_or_else(|| unauthorized("invalid_key", "the API key is not valid"))?;
    check_key_state(store, &key)?;

    let timestamp = header(incoming.headers, HEADER_TIMESTAMP);
    let nonce = header(incoming.headers, HEADER_NONCE);
    let claimed_hash = header(incoming.headers, HEADER_CONTENT_SHA256);
    let signature = header(incoming.headers, HEADER_SIGNATURE);
    let (Some(timestamp), Some(nonce), Some(claimed_hash), Some(signature)) =
        (timestamp, nonce, claimed_hash, signature)
    else {
        return Err(unauthorized(
            "missing_signature",
            "the request is not signed",
        ));
    };

    if !claimed_hash.eq_ignore_ascii_case(&content_sha256(incoming.body)) {
        return Err(unauthorized(
            "content_hash_mismatch",
            "the body does not match X-Alter-Content-SHA256",
        ));
    }
    let window = store.settings.timestamp_window.as_secs();
    let timestamp: u64 = timestamp
        .parse()
        .map_err(|_| unauthorized("invalid_timestamp", "X-Alter-Timestamp is not a Unix time"))?;
    if timestamp.abs_diff(incoming.now) > window {
        return Err(unauthorized(
            "timestamp_out_of_window",
            "the request timestamp is too far from the server clock",
        ));
    }

    let constraints = header(incoming.headers, HEADER_SCOPE_CONSTRAINTS).unwrap_or_default();
    let canonical = canonical_path_and_query(incoming.target);
    let input = SigningInput {
        method: incoming.method,
        path_with_query: &canonical,
        timestamp,
        nonce,
        body: incoming.body,
        scope_constraints: constraints,
    };
    if !SigningKey::derive(&key.secret).verify(&input, signature) {
        return Err(unauthorized(
            "invalid_signature",
            "the request signature does not verify",
        ));
    }

    // Pruning walks every nonce of the window, so it runs once per server second: the
    // window is whole seconds and every stored nonce passed it, so a second prune within
    // the same second would remove nothing.
    if store.nonces_pruned_at != Some(incoming.now) {
        store
            .nonces
            .retain(|_, seen| seen.abs_diff(incoming.now) <= window);
        store.nonces_pruned_at = Some(incoming.now);
    }
    if store.nonces.insert(nonce.to_owned(), timestamp).is_some() {
        return Err(unauthorized("nonce_reused", "this nonce was already used"));
    }

    let scopes = narrowed_scopes(&key.scopes, constraints)?;
    let (acting_agent, actor_id) = caller_identity(store, &key, incoming.headers);
    mark_used(store, key.id, key.owner);

    Ok(Caller {
        key_id: key.id,
        owner: key.owner,
        acting_agent,
        scopes,
        deprecated: key.deprecated_at.is_some(),
        actor_id,
    })
}

/// Revoked, expired or orphaned keys fail (§4.5 codes, §15.2 `key_expired`).
fn check_key_state(store: &Store, key: &KeyRecord) -> Result<(), Failure> {
    if key.revoked_at.is_some() {
        return Err(unauthorized("key_revoked", "the API key was revoked"));
    }
    if key.is_expired(now()) {
        return Err(unauthorized("key_expired", "the API key has expired"));
    }
    if let Some(parent) = key.parent_key_id.and_then(|id| store.key(id)) {
        if parent.revoked_at.is_some() {
            return Err(unauthorized(
                "key_revoked",
                "the key this one was derived from was revoked",
            ));
        }
    }
    if let Owner::Agent(agent_id) = key.owner {
        match store.agent(agent_id).map(|agent| &agent.status) {
            Some(AgentStatus::Active) => {}
            Some(AgentStatus::Inactive) => {
                return Err(unauthorized(
                    "agent_inactive",
                    "the key's agent is inactive",
                ));
            }
            _ => return Err(unauthorized("agent_revoked", "the key's agent was revoked")),
        }
    }
    Ok(())
}

/// The key's scopes, narrowed by the constraint header; asking for more is refused (§3.4).
fn narrowed_scopes(held: &[String], constraints: &str) -> Result<Vec<String>, Failure> {
    if constraints.is_empty() {
        return Ok(held.to_vec());
    }

    let wanted: Vec<String> = constraints.split(',').map(str::to_owned).collect();
    let broader: Vec<String> = wanted
        .iter()
        .filter(|scope| !held.contains(scope))
        .cloned()
        .collect();
    if !broader.is_empty() {
        return Err(constraint_not_narrowing(&broader));
    }
    Ok(wanted)
}

/// Which agent the request acts as, and the actor id to answer with (§2.2, §3.7, §8.5).
///
/// An app key naming one of its agents as an `agent` caller impersonates that agent. Any
/// other caller gets an actor id that is stable per key, caller and caller type.
fn caller_identity(
    store: &mut Store,
    key: &KeyRecord,
    headers: &HeaderMap,
) -> (Option<Uuid>, Option<Uuid>) {
    let own_agent = match key.owner {
        Owner::Agent(agent) => Some(agent),
        Owner::App => None,
    };
    let Some(caller) = header(headers, HEADER_CALLER) else {
        return (own_agent, None);
    };
    let caller_type = header(headers, HEADER_CALLER_TYPE).unwrap_or("agent");

    let named_agent = parse_uuid(caller)
        .filter(|id| store.agent(*id).is_some_and(|agent| !agent.is_revoked()))
        .filter(|_| caller_type == "agent");
    if let Some(agent) = named_agent {
        return (own_agent.or(Some(agent)), None);
    }

    let identity = (key.id, caller.to_owned(), caller_type.to_owned());
    let actor = match store.actor_ids.get(&identity) {
        Some(actor) => *actor,
        None => {
            let actor = store.rng.uuid();
            store.actor_ids.insert(identity, actor);
            actor
        }
    };
    (own_agent, Some(actor))
}

fn mark_used(store: &mut Store, key_id: Uuid, owner: Owner) {
    let at = now();
    if let Some(key) = store.key_mut(key_id) {
        key.last_used_at = Some(at);
    }
    if let Owner::Agent(agent) = owner {
        if let Some(agent) = store.agent_mut(agent) {
            agent.last_used_at = Some(at);
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The fake's clock in Unix seconds.
pub(crate) fn unix_now() -> u64 {
    u64::try_from(now().timestamp()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use alter_core::signing::SigningKey;
    use http::HeaderName;

    use super::*;
    use crate::state::seed::seed;
    use crate::state::{Settings, ids::Rng};

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn signed(
        key: &str,
        method: &str,
        target: &str,
        body: &[u8],
        ts: u64,
        nonce: &str,
        constraints: &str,
    ) -> HeaderMap {
        let canonical = canonical_path_and_query(target);
        let signature = SigningKey::derive(key).sign(&SigningInput {
            method,
            path_with_query: &canonical,
            timestamp: ts,
            nonce,
            body,
            scope_constraints: constraints,
        });
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_str(key).unwrap());
        for (name, value) in signature.to_headers() {
            headers.insert(
                HeaderName::try_from(name).unwrap(),
                HeaderValue::from_str(&value).unwrap(),
            );
        }
        headers
    }

    fn run(
        store: &mut Store,
        headers: &HeaderMap,
        target: &str,
        body: &[u8],
        now: u64,
    ) -> Result<Caller, Failure> {
        verify(
            store,
            &Incoming {
                method: "POST",
                target,
                headers,
                body,
                now,
            },
        )
    }

    fn setup() -> (Store, crate::state::Seeded) {
        let mut store = Store::new(Settings::default(), Rng::seeded(4));
        let seeded = seed(&mut store).unwrap();
        (store, seeded)
    }

    #[test]
    fn a_correct_request_verifies_once() {
        let (mut store, seeded) = setup();
        let headers = signed(
            &seeded.app_key,
            "POST",
            "/sdk/grants/list",
            b"{}",
            1_000,
            NONCE,
            "",
        );

        let caller = run(&mut store, &headers, "/sdk/grants/list", b"{}", 1_000).unwrap();
        assert_eq!(caller.owner, Owner::App);
        assert!(caller.scopes.contains(&"grants:read".to_owned()));

        let replay = run(&mut store, &headers, "/sdk/grants/list", b"{}", 1_001).unwrap_err();
        assert_eq!(replay.code(), "nonce_reused");
    }

    #[test]
    fn a_nonce_is_forgotten_once_out_of_the_window_and_refused_again_after() {
        let (mut store, seeded) = setup();
        let window = store.settings.timestamp_window.as_secs();
        let at = |ts: u64| signed(&seeded.app_key, "POST", "/sdk/token", b"", ts, NONCE, "");

        run(&mut store, &at(1_000), "/sdk/token", b"", 1_000).unwrap();
        let after = 1_000 + window + 1;
        run(&mut store, &at(after), "/sdk/token", b"", after).unwrap();
        let replay = run(&mut store, &at(after), "/sdk/token", b"", after).unwrap_err();

        assert_eq!(replay.code(), "nonce_reused");
        assert_eq!(store.nonces.len(), 1);
    }

    #[test]
    fn every_tampering_is_a_401() {
        let (mut store, seeded) = setup();
        let good = |nonce: &str| {
            signed(
                &seeded.app_key,
                "POST",
                "/sdk/token",
                b"{}",
                1_000,
                nonce,
                "",
            )
        };

        let wrong_body = run(&mut store, &good("a1"), "/sdk/token", b"{ }", 1_000).unwrap_err();
        assert_eq!(wrong_body.code(), "content_hash_mismatch");

        let late = run(&mut store, &good("a2"), "/sdk/token", b"{}", 1_301).unwrap_err();
        assert_eq!(late.code(), "timestamp_out_of_window");
        assert!(run(&mut store, &good("a3"), "/sdk/token", b"{}", 1_300).is_ok());

        let other_path = run(&mut store, &good("a4"), "/sdk/proxy", b"{}", 1_000).unwrap_err();
        assert_eq!(other_path.code(), "invalid_signature");

        let mut unknown = good("a5");
        unknown.insert(
            "x-api-key",
            HeaderValue::from_static("alter_rk_abcdefghijklmnopqrstuv_iwpykn"),
        );
        assert_eq!(
            run(&mut store, &unknown, "/sdk/token", b"{}", 1_000)
                .unwrap_err()
                .code(),
            "invalid_key"
        );

        let mut unsigned = good("a6");
        unsigned.remove(HEADER_SIGNATURE);
        assert_eq!(
            run(&mut store, &unsigned, "/sdk/token", b"{}", 1_000)
                .unwrap_err()
                .code(),
            "missing_signature"
        );

        for failure in [wrong_body, late, other_path] {
            assert_eq!(failure.status, 401);
        }
    }

    #[test]
    fn the_signature_covers_the_canonical_target() {
        let (mut store, seeded) = setup();
        let target = "/sdk/agents?offset=0&limit=100&include_revoked=false";
        let headers = signed(
            &seeded.app_key,
            "POST",
            "/sdk/agents?include_revoked=false&limit=100&offset=0",
            b"",
            5,
            NONCE,
            "",
        );
        assert!(run(&mut store, &headers, target, b"", 5).is_ok());
    }

    #[test]
    fn revoked_and_expired_keys_fail() {
        let (mut store, seeded) = setup();
        let key_id = store
            .keys
            .iter()
            .find(|k| k.secret == seeded.app_key)
            .unwrap()
            .id;

        store.key_mut(key_id).unwrap().expires_at = chrono::DateTime::from_timestamp(10, 0);
        let headers = signed(&seeded.app_key, "POST", "/sdk/token", b"", 20, "n1", "");
        assert_eq!(
            run(&mut store, &headers, "/sdk/token", b"", 20)
                .unwrap_err()
                .code(),
            "key_expired"
        );

        store.key_mut(key_id).unwrap().revoked_at = Some(now());
        let headers = signed(&seeded.app_key, "POST", "/sdk/token", b"", 20, "n2", "");
        assert_eq!(
            run(&mut store, &headers, "/sdk/token", b"", 20)
                .unwrap_err()
                .code(),
            "key_revoked"
        );
    }

    #[test]
    fn constraints_narrow_and_never_broaden() {
        let (mut store, seeded) = setup();
        let headers = signed(
            &seeded.agent_key,
            "POST",
            "/sdk/token",
            b"",
            9,
            "c1",
            "grants:read",
        );
        let mut with_header = headers;
        with_header.insert(
            HEADER_SCOPE_CONSTRAINTS,
            HeaderValue::from_static("grants:read"),
        );
        let caller = run(&mut store, &with_header, "/sdk/token", b"", 9).unwrap();
        assert_eq!(caller.scopes, ["grants:read"]);
        assert_eq!(caller.acting_agent, Some(seeded.agent_id));

        let broad = signed(
            &seeded.agent_key,
            "POST",
            "/sdk/token",
            b"",
            9,
            "c2",
            "agents:write",
        );
        let mut with_header = broad;
        with_header.insert(
            HEADER_SCOPE_CONSTRAINTS,
            HeaderValue::from_static("agents:write"),
        );
        let failure = run(&mut store, &with_header, "/sdk/token", b"", 9).unwrap_err();
        assert_eq!(
            (failure.status, failure.code()),
            (400, "constraint_not_narrowing")
        );
    }

    #[test]
    fn callers_get_stable_actor_ids_and_agents_are_impersonated() {
        let (mut store, seeded) = setup();
        let mut ids = Vec::new();
        for nonce in ["d1", "d2"] {
            let mut headers = signed(&seeded.app_key, "POST", "/sdk/token", b"", 9, nonce, "");
            headers.insert(HEADER_CALLER, HeaderValue::from_static("billing-bot"));
            headers.insert(HEADER_CALLER_TYPE, HeaderValue::from_static("service"));
            ids.push(
                run(&mut store, &headers, "/sdk/token", b"", 9)
                    .unwrap()
                    .actor_id
                    .unwrap(),
            );
        }
        assert_eq!(ids[0], ids[1]);

        let mut headers = signed(&seeded.app_key, "POST", "/sdk/token", b"", 9, "d3", "");
        headers.insert(
            HEADER_CALLER,
            HeaderValue::from_str(&seeded.agent_id.to_string()).unwrap(),
        );
        headers.insert(HEADER_CALLER_TYPE, HeaderValue::from_static("agent"));
        let caller = run(&mut store, &headers, "/sdk/token", b"", 9).unwrap();
        assert_eq!(
            (caller.owner, caller.acting_agent, caller.actor_id),
            (Owner::App, Some(seeded.agent_id), None)
        );
    }
}
