//! The fake provider: a second listener that stands in for third-party APIs.
//!
//! | Path | Answer |
//! |---|---|
//! | `/echo/<anything>` | 200, JSON `{"method", "path", "query", "headers", "body_b64"}` describing the request |
//! | `/status/<code>` | that status; 401 and 403 carry a `WWW-Authenticate: Bearer` challenge (403: `insufficient_scope` with `scope` from the `scope` query parameter), 3xx a `Location` on this host, or on the backend with `?to=backend` |
//! | `/protected/<anything>` | 200 only when exactly one grant's credential arrived, in exactly the places its injection rules say (AWS SigV4 is verified in full), and no Alter API key came along; else 401 with the reason |
//! | `/drop` | closes the connection without answering |

use std::time::{SystemTime, UNIX_EPOCH};

use alter_core::encoding::form_decode;
use alter_core::retrieve::injection::{Credential, is_sigv4, plan_injection};
use alter_core::retrieve::sigv4::{SigV4Credentials, SigV4Request, sign_sigv4};
use alter_core::signing::content_sha256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::NaiveDateTime;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::state::Store;

/// What the provider does with a request.
#[derive(Debug)]
pub(crate) enum ProviderReply {
    /// Answer with status, headers and a JSON body.
    Answer {
        route: &'static str,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection.
    Drop,
}

/// Answers one provider request.
pub(crate) fn handle(
    state: &AppState,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> ProviderReply {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    match (segments.next(), segments.next()) {
        (Some("echo"), _) => answer(
            "* /echo/**",
            200,
            Vec::new(),
            &echo(method, path, query, headers, body),
        ),
        (Some("status"), Some(code)) => status(state, code, query),
        (Some("protected"), _) => {
            let verdict = check_credential(&state.store.lock(), method, target, headers, body);
            match verdict {
                Ok(found) => answer("* /protected/**", 200, Vec::new(), &found),
                Err(reason) => answer(
                    "* /protected/**",
                    401,
                    vec![(
                        "WWW-Authenticate".into(),
                        "Bearer error=\"invalid_token\"".into(),
                    )],
                    &json!({"ok": false, "reason": reason}),
                ),
            }
        }
        (Some("drop"), None) => ProviderReply::Drop,
        _ => answer(
            "",
            404,
            Vec::new(),
            &json!({"error": "not_found", "path": path}),
        ),
    }
}

fn answer(
    route: &'static str,
    status: u16,
    headers: Vec<(String, String)>,
    body: &Value,
) -> ProviderReply {
    let mut headers = headers;
    headers.push(("Content-Type".into(), "application/json".into()));
    ProviderReply::Answer {
        route,
        status,
        headers,
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

/// The echo body: what arrived, headers lower-case with repeats joined by `, `.
fn echo(method: &str, path: &str, query: &str, headers: &HeaderMap, body: &Bytes) -> Value {
    json!({
        "method": method,
        "path": path,
        "query": query,
        "query_params": Value::Object(query_object(query)),
        "headers": Value::Object(header_object(headers)),
        "body_b64": STANDARD.encode(body),
    })
}

fn status(state: &AppState, code: &str, query: &str) -> ProviderReply {
    let route = "* /status/{code}";
    let Some(code) = code.parse::<u16>().ok().filter(|c| (200..=599).contains(c)) else {
        return answer(route, 400, Vec::new(), &json!({"error": "bad_status"}));
    };
    let params = query_object(query);
    let param = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_owned);

    let headers = match code {
        401 => vec![(
            "WWW-Authenticate".into(),
            "Bearer error=\"invalid_token\"".into(),
        )],
        403 => {
            let scope = param("scope").unwrap_or_else(|| "read:all write:all".to_owned());
            vec![(
                "WWW-Authenticate".into(),
                format!(
                    "Bearer realm=\"testkit\", error=\"insufficient_scope\", scope=\"{scope}\""
                ),
            )]
        }
        300..=399 => {
            let location = match param("to").as_deref() {
                Some("backend") => format!("{}{}", state.base_url, crate::control::REDIRECT_TARGET),
                _ => format!("{}/echo/redirected", state.provider_base_url),
            };
            vec![("Location".into(), location)]
        }
        _ => Vec::new(),
    };
    answer(route, code, headers, &json!({"status": code}))
}

/// Decides whether exactly the right credential arrived in exactly the right places.
///
/// # Errors
///
/// Why the request is refused, in words.
fn check_credential(
    store: &Store,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, String> {
    let all_values: Vec<String> = headers
        .iter()
        .map(|(_, value)| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    if store
        .keys
        .iter()
        .any(|key| all_values.iter().any(|value| value.contains(&key.secret)))
    {
        return Err("an Alter API key reached the provider".to_owned());
    }

    let (_, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query_pairs(query);
    let body_text = String::from_utf8_lossy(body);
    let arrived = |token: &str| {
        all_values.iter().any(|value| value.contains(token))
            || pairs.iter().any(|(_, value)| value.contains(token))
            || body_text.contains(token)
    };

    let mut found: Vec<(&str, &Credential)> = Vec::new();
    for grant in &store.grants {
        let credential = &grant.credential;
        let present = if is_sigv4(credential) {
            all_values
                .iter()
                .any(|value| value.contains(&format!("Credential={}/", credential.access_token)))
        } else {
            arrived(&credential.access_token)
        };
        if present
            && !found
                .iter()
                .any(|(_, seen)| seen.access_token == credential.access_token)
        {
            found.push((&grant.id, credential));
        }
    }
    let (grant_id, credential) = match found.as_slice() {
        [] => return Err("no credential of any grant arrived".to_owned()),
        [one] => *one,
        _ => return Err("credentials of several grants arrived".to_owned()),
    };

    let placements = if is_sigv4(credential) {
        verify_sigv4(credential, method, target, headers, body)?
    } else {
        verify_placements(credential, headers, &pairs, body_text.as_ref())?
    };
    Ok(json!({"ok": true, "grant_id": grant_id, "placements": placements}))
}

/// Non-SigV4: every injection the core's planner makes is there, verbatim and once, and the
/// token is nowhere else.
fn verify_placements(
    credential: &Credential,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    body: &str,
) -> Result<Vec<String>, String> {
    let plan = plan_injection(credential, &[], "")
        .map_err(|error| format!("cannot plan the injection: {error}"))?;
    let token = &credential.access_token;
    let mut placements = Vec::new();

    for name in &plan.credential_headers {
        let expected = plan
            .headers
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        let received: Vec<&[u8]> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        if received != [expected.as_bytes()] {
            return Err(format!(
                "header {name} does not carry exactly the expected credential"
            ));
        }
        placements.push(format!("header:{}", name.to_ascii_lowercase()));
    }
    for (name, expected) in &plan.query_params {
        let received: Vec<&str> = pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        if received != [expected.as_str()] {
            return Err(format!(
                "query parameter {name} does not carry exactly the expected credential"
            ));
        }
        placements.push(format!("query:{name}"));
    }

    let expected_headers: Vec<String> = plan
        .credential_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for (name, value) in headers {
        if value
            .as_bytes()
            .windows(token.len().max(1))
            .any(|w| w == token.as_bytes())
            && !expected_headers.contains(&name.as_str().to_owned())
        {
            return Err(format!("the token also arrived in header {name}"));
        }
    }
    for (name, value) in pairs {
        if value.contains(token.as_str()) && !plan.query_params.iter().any(|(n, _)| n == name) {
            return Err(format!("the token also arrived in query parameter {name}"));
        }
    }
    if body.contains(token.as_str()) {
        return Err("the token also arrived in the body".to_owned());
    }
    Ok(placements)
}

/// SigV4: recompute the signature with the core's signer and compare.
fn verify_sigv4(
    credential: &Credential,
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<String>, String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("host").ok_or("no Host header")?;
    let amz_date = header("x-amz-date").ok_or("no x-amz-date header")?;
    let authorization = header("authorization").ok_or("no Authorization header")?;
    if header("x-amz-content-sha256") != Some(content_sha256(body).as_str()) {
        return Err("x-amz-content-sha256 does not match the body".to_owned());
    }

    let at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| "x-amz-date is not YYYYMMDDTHHMMSSZ".to_owned())?
        .and_utc()
        .timestamp();
    let at = UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(at).unwrap_or(0));
    let secret = lookup(credential, "secret_key").ok_or("the grant has no secret key")?;
    let url = format!("http://{host}{target}");
    let signed_headers = [("host".to_owned(), host.to_owned())];
    let expected = sign_sigv4(
        &SigV4Request {
            method,
            url: &url,
            headers: &signed_headers,
            body,
        },
        &SigV4Credentials {
            access_key_id: &credential.access_token,
            secret_access_key: secret,
            fallback_region: lookup(credential, "region"),
            fallback_service: lookup(credential, "service"),
        },
        at,
    )
    .map_err(|error| format!("cannot recompute the signature: {error}"))?;

    if expected.authorization != authorization {
        return Err("the SigV4 signature does not verify".to_owned());
    }
    let skew = SystemTime::now()
        .duration_since(at)
        .unwrap_or_else(|error| error.duration());
    if skew.as_secs() > 900 {
        return Err("x-amz-date is more than 15 minutes off".to_owned());
    }
    Ok(vec!["header:authorization".to_owned()])
}

fn lookup<'a>(credential: &'a Credential, name: &str) -> Option<&'a str> {
    credential
        .additional_credentials
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Decoded query pairs, in order.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (lossy(form_decode(name)), lossy(form_decode(value)))
        })
        .collect()
}

/// Query pairs as an object; a repeated name maps to a list.
fn query_object(query: &str) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in query_pairs(query) {
        match object.get_mut(&name) {
            Some(Value::Array(items)) => items.push(value.into()),
            Some(first) => *first = Value::Array(vec![first.take(), value.into()]),
            None => {
                object.insert(name, value.into());
            }
        }
    }
    object
}

/// Headers as an object: lower-case names, repeated values joined by `, `.
pub(crate) fn header_object(headers: &HeaderMap) -> Map<String, Value> {
    let mut object = Map::new();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        object.insert(name.as_str().to_owned(), joined.into());
    }
    object
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use alter_core::retrieve::injection::plan_sigv4_injection;
    use http::{HeaderName, HeaderValue};

    use super::*;
    use crate::state::seed::seed;
    use crate::state::{Settings, ids::Rng};

    fn store() -> (Store, crate::state::Seeded) {
        let mut store = Store::new(Settings::default(), Rng::seeded(21));
        let seeded = seed(&mut store).unwrap();
        (store, seeded)
    }

    fn header_map(pairs: &[(String, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::try_from(name.as_str()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn credential(store: &Store, grant: &str) -> Credential {
        store.grant(grant).unwrap().credential.clone()
    }

    #[test]
    fn accepts_each_injection_style_in_its_place() {
        let (store, seeded) = store();
        let g = &seeded.grants;
        for grant in [
            &g.oauth_bearer,
            &g.api_key_header,
            &g.query_param,
            &g.multi_header,
        ] {
            let credential = credential(&store, grant);
            let plan = plan_injection(&credential, &[], "ua").unwrap();
            let query: Vec<String> = plan
                .query_params
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            let target = format!("/protected/x?{}", query.join("&"));

            let verdict =
                check_credential(&store, "GET", &target, &header_map(&plan.headers), b"").unwrap();
            assert_eq!(verdict["grant_id"], grant.as_str());
        }
    }

    #[test]
    fn refuses_misplaced_missing_or_extra_credentials() {
        let (store, seeded) = store();
        let token = credential(&store, &seeded.grants.oauth_bearer).access_token;

        let nothing =
            check_credential(&store, "GET", "/protected/x", &HeaderMap::new(), b"").unwrap_err();
        assert!(nothing.contains("no credential"));

        let in_query = check_credential(
            &store,
            "GET",
            &format!("/protected/x?t={token}"),
            &HeaderMap::new(),
            b"",
        );
        assert!(in_query.is_err());

        let doubled = header_map(&[
            ("Authorization".into(), format!("Bearer {token}")),
            ("X-Other".into(), token.clone()),
        ]);
        assert!(
            check_credential(&store, "GET", "/protected/x", &doubled, b"")
                .unwrap_err()
                .contains("x-other")
        );

        let with_key = header_map(&[
            ("Authorization".into(), format!("Bearer {token}")),
            ("x-api-key".into(), seeded.app_key.clone()),
        ]);
        assert!(
            check_credential(&store, "GET", "/protected/x", &with_key, b"")
                .unwrap_err()
                .contains("API key")
        );

        let query_credential = credential(&store, &seeded.grants.query_param);
        let header_only = header_map(&[("X-Api-Key".into(), query_credential.access_token)]);
        assert!(check_credential(&store, "GET", "/protected/x", &header_only, b"").is_err());
    }

    #[test]
    fn verifies_sigv4_with_the_core_signer() {
        let (store, seeded) = store();
        let credential = credential(&store, &seeded.grants.aws_sigv4);
        let url = "http://127.0.0.1:8080/protected/aws?b=2&a=1";
        let call = alter_core::retrieve::injection::SigV4Call {
            method: "POST",
            url,
            body: alter_core::retrieve::ProviderBody::Raw(b"payload"),
        };
        let plan = plan_sigv4_injection(&credential, &[], "ua", &call, SystemTime::now()).unwrap();
        let mut headers = plan.headers.clone();
        headers.push(("Host".into(), "127.0.0.1:8080".into()));
        let target = plan.url.trim_start_matches("http://127.0.0.1:8080");

        let verdict =
            check_credential(&store, "POST", target, &header_map(&headers), b"payload").unwrap();
        assert_eq!(verdict["grant_id"], seeded.grants.aws_sigv4.as_str());

        let tampered =
            check_credential(&store, "POST", target, &header_map(&headers), b"other").unwrap_err();
        assert!(tampered.contains("x-amz-content-sha256"));
        let wrong_method =
            check_credential(&store, "PUT", target, &header_map(&headers), b"payload").unwrap_err();
        assert!(wrong_method.contains("does not verify"));
    }

    #[test]
    fn query_objects_keep_repeats() {
        let object = query_object("a=1&b=x+y&a=2");
        assert_eq!(Value::Object(object), json!({"a": ["1", "2"], "b": "x y"}));
    }
}
