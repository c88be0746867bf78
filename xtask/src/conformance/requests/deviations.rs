//! Deliberate differences from the reference client (PROTOCOL.md §16) that a vector
//! captured: the expectation of such an entry is corrected by an independent oracle before
//! the entry runs, and the correction is reported by name.
//!
//! # D3: SigV4 signs the query parameters
//!
//! The reference client signed `app.request.sigv4` over the URL without its `query_params`
//! and then sent them anyway, so AWS would reject the request. alter-rs merges the query
//! into the URL first. The corrected `authorization` comes from the `aws-sigv4` crate
//! signing the recorded request as sent (query included). As a check on the oracle itself,
//! the same signer run over the URL without the query must reproduce the recorded header.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::Value;

use super::fixture::{Entry, RecordedRequest};

/// A deviation applied to an entry's expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    /// The §16 number, e.g. `D3`.
    pub code: &'static str,
    /// The entry whose expectation was corrected.
    pub entry: String,
    /// What alter-rs does instead, and which oracle says so.
    pub summary: &'static str,
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "deviation {}: {}: {}",
            self.code, self.entry, self.summary
        )
    }
}

/// Corrects the expectation of `entry` when §16 says alter-rs differs there.
///
/// # Errors
///
/// A description when the correction cannot be computed or the oracle does not agree with
/// the recording where it should.
pub(crate) fn apply(entry: &mut Entry) -> Result<Option<Deviation>, String> {
    match entry.id.as_str() {
        "app.request.sigv4" => {
            sigv4_signs_query(entry)?;
            Ok(Some(Deviation {
                code: "D3",
                entry: entry.id.clone(),
                summary: "SigV4 now signs the query params (oracle: aws-sigv4)",
            }))
        }
        _ => Ok(None),
    }
}

/// D3: replaces the recorded provider `authorization` with the oracle's signature over the
/// URL with its query.
fn sigv4_signs_query(entry: &mut Entry) -> Result<(), String> {
    let keys = sigv4_keys(entry)?;
    let time = UNIX_EPOCH + Duration::from_secs(entry.clock.unix_seconds()?);
    let origin = entry.server_origin.clone();

    let [exchange] = entry.provider_requests.as_mut_slice() else {
        return Err("D3: expected exactly one provider request".into());
    };
    let request = &mut exchange.request;
    let recorded = header(request, "authorization")?;
    let body = request.body()?;
    let path_only = request.path.split('?').next().unwrap_or(&request.path);

    let unsigned_query = keys.sign(
        &request.method,
        &format!("{origin}{path_only}"),
        &body,
        time,
    )?;
    if unsigned_query != recorded {
        return Err(
            "D3: the oracle does not reproduce the reference signature without the query".into(),
        );
    }
    let corrected = keys.sign(
        &request.method,
        &format!("{origin}{}", request.path),
        &body,
        time,
    )?;
    if corrected == recorded {
        return Err("D3: the recorded request has no query to sign".into());
    }

    request
        .headers
        .insert("authorization".into(), Value::String(corrected));
    Ok(())
}

/// The AWS credentials and scope the backend's token answer handed out.
pub(crate) struct SigV4Keys {
    access_key: String,
    secret_key: String,
    region: String,
    service: String,
}

impl SigV4Keys {
    /// The `Authorization` value `aws-sigv4` computes for this request, signing exactly
    /// `host`, `x-amz-content-sha256` and `x-amz-date` as the protocol does.
    pub(crate) fn sign(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<String, String> {
        let identity: Identity =
            Credentials::from_keys(&self.access_key, &self.secret_key, None).into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|err| format!("D3 oracle: {err}"))?
            .into();

        let request =
            SignableRequest::new(method, url, std::iter::empty(), SignableBody::Bytes(body))
                .map_err(|err| format!("D3 oracle: {err}"))?;
        let (instructions, _signature) = sign(request, &params)
            .map_err(|err| format!("D3 oracle: {err}"))?
            .into_parts();
        instructions
            .headers()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| "D3 oracle: no authorization header".to_owned())
    }
}

/// Reads the SigV4 keys from the fixture answering `/sdk/token`.
pub(crate) fn sigv4_keys(entry: &Entry) -> Result<SigV4Keys, String> {
    let token_seq = entry
        .requests
        .iter()
        .find(|request| request.path == "/sdk/token")
        .map(|request| request.seq)
        .ok_or("D3: no /sdk/token request")?;
    let answer = entry
        .response_fixtures
        .iter()
        .find(|fixture| fixture.seq == token_seq)
        .and_then(|fixture| fixture.body_json.as_ref())
        .ok_or("D3: no token answer")?;

    let text = |value: Option<&Value>, what: &str| {
        value
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("D3: token answer has no {what}"))
    };
    let extra = answer.get("additional_credentials");
    Ok(SigV4Keys {
        access_key: text(answer.get("access_token"), "access_token")?,
        secret_key: text(extra.and_then(|e| e.get("secret_key")), "secret_key")?,
        region: text(extra.and_then(|e| e.get("region")), "region")?,
        service: text(extra.and_then(|e| e.get("service")), "service")?,
    })
}

fn header(request: &RecordedRequest, name: &str) -> Result<String, String> {
    request
        .headers
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("D3: recorded provider request has no {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(region: &str, service: &str) -> SigV4Keys {
        SigV4Keys {
            access_key: "AKID".into(),
            secret_key: "SECRET".into(),
            region: region.into(),
            service: service.into(),
        }
    }

    #[test]
    fn oracle_reproduces_the_protocol_vector() {
        // PROTOCOL.md §6.5, second vector.
        let time = UNIX_EPOCH + Duration::from_secs(1_704_164_645);

        let authorization = keys("eu-west-1", "execute-api")
            .sign(
                "POST",
                "https://example.internal:8443/api",
                b"{\"a\": 1}",
                time,
            )
            .unwrap();

        assert!(authorization.ends_with(
            "Signature=bf897937722b18aa6be73026b0521be17d917aebdb0afe03ef0402dc5c58dd58"
        ));
        assert!(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
    }

    #[test]
    fn the_query_changes_the_signature() {
        let time = UNIX_EPOCH + Duration::from_secs(1_767_249_142);
        let keys = keys("us-east-1", "execute-api");

        let bare = keys
            .sign("POST", "http://127.0.0.1:1/p", b"", time)
            .unwrap();
        let with_query = keys
            .sign("POST", "http://127.0.0.1:1/p?b=2&a=1", b"", time)
            .unwrap();

        assert_ne!(bare, with_query);
    }
}
