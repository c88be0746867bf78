//! AWS Signature Version 4 for provider requests (PROTOCOL §6.5, §16 D1-D3).
//!
//! The signature covers exactly three headers, `host;x-amz-content-sha256;x-amz-date`, the
//! method, the canonical path and query, and the SHA-256 of the body. Where the reference
//! client departs from AWS's rules this module follows AWS, checked against the `aws-sigv4`
//! crate in the tests:
//!
//! - D1: the signed `host` drops a port only when it is the scheme's default.
//! - D2: for S3 the path is signed as sent; for every other service it is normalised and
//!   encoded once more, so an escape such as `%20` signs as `%2520`.
//! - D3: the query is taken from the URL, which must already include every query parameter;
//!   a `+` in it means a space (form encoding), and the URL to send comes back with the query
//!   re-encoded so that what is sent and what is signed agree byte for byte.
//!
//! # Limitations
//!
//! The host must be plain ASCII (an internationalised name is refused, not converted), and
//! a URL with user information is refused. For S3, a key with a `.` or `..` segment is
//! signed as written, but HTTP clients built on WHATWG URL parsing remove such segments
//! before sending, so the request fails.

mod canonical;
mod region;

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::json;

/// The headers SigV4 signs, in canonical order.
pub const SIGNED_HEADERS: &str = "host;x-amz-content-sha256;x-amz-date";

/// The request to sign.
#[derive(Clone, Copy)]
pub struct SigV4Request<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// Absolute `http(s)` URL with every query parameter already in it.
    pub url: &'a str,
    /// The headers that will be sent; only a `Host` header among them matters here.
    pub headers: &'a [(String, String)],
    /// The exact body bytes that will be sent.
    pub body: &'a [u8],
}

impl fmt::Debug for SigV4Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SigV4Request")
            .field("method", &self.method)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The AWS credentials and the fallback scope.
#[derive(Clone, Copy)]
pub struct SigV4Credentials<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Region used when the host does not name one.
    pub fallback_region: Option<&'a str>,
    /// Service used when the host does not name one.
    pub fallback_service: Option<&'a str>,
}

impl fmt::Debug for SigV4Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("fallback_region", &self.fallback_region)
            .field("fallback_service", &self.fallback_service)
            .finish()
    }
}

/// What signing produced: the URL to send and the three headers to add.
#[derive(Clone, PartialEq, Eq)]
pub struct SigV4Headers {
    /// The URL to send: scheme and host lower-case, default port dropped, path and query in
    /// the encoded form that was signed, no fragment.
    pub url: String,
    /// `Authorization` value.
    pub authorization: String,
    /// `x-amz-date` value (`YYYYMMDDTHHMMSSZ`).
    pub amz_date: String,
    /// `x-amz-content-sha256` value (hex SHA-256 of the body).
    pub content_sha256: String,
}

impl fmt::Debug for SigV4Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Headers")
            .field("authorization", &"<redacted>")
            .field("amz_date", &self.amz_date)
            .field("content_sha256", &self.content_sha256)
            .finish_non_exhaustive()
    }
}

/// Signs a request with AWS Signature Version 4 at time `at`.
///
/// The signed `host` is the request's `Host` header if it has one (whitespace trimmed and
/// collapsed), else the URL's host plus `:port` unless the port is the scheme's default. The
/// region and service come from the host name (`<service>.<region>.amazonaws.com`,
/// `<bucket>.s3.<region>.amazonaws.com`, `vpce-<id>.<service>.<region>.vpce.amazonaws.com`),
/// else from the fallbacks. Send the returned URL, not the input one.
///
/// # Errors
///
/// [`Error::InvalidInput`] for a URL that is not absolute `http(s)` with a plain ASCII host, a
/// `Host` header with CR, LF or NUL, or a time before 1970 or after 9999; a backend error
/// ([`Error::MalformedResponse`], status 200) when region or service cannot be determined,
/// or when the credentials are empty or contain CR, LF or NUL.
///
/// # Example
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
///
/// use alter_core::retrieve::sigv4::{sign_sigv4, SigV4Credentials, SigV4Request};
///
/// let request = SigV4Request {
///     method: "GET",
///     url: "https://s3.us-east-1.amazonaws.com/my-bucket/a b.txt",
///     headers: &[],
///     body: b"",
/// };
/// let creds = SigV4Credentials {
///     access_key_id: "AKIDEXAMPLE",
///     secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
///     fallback_region: None,
///     fallback_service: None,
/// };
/// let signed = sign_sigv4(&request, &creds, UNIX_EPOCH + Duration::from_secs(1_704_164_645))?;
/// assert_eq!(signed.url, "https://s3.us-east-1.amazonaws.com/my-bucket/a%20b.txt");
/// assert_eq!(signed.amz_date, "20240102T030405Z");
/// assert!(signed.authorization.starts_with(
///     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/s3/aws4_request, "
/// ));
/// # Ok::<(), alter_core::Error>(())
/// ```
pub fn sign_sigv4(
    req: &SigV4Request<'_>,
    creds: &SigV4Credentials<'_>,
    at: SystemTime,
) -> Result<SigV4Headers> {
    check_credentials(creds)?;
    let (amz_date, date) = amz_dates(at)?;
    let parts = canonical::split_url(req.url)?;
    let (region, service) = scope_names(&parts.host, creds)?;

    let host = match header_value(req.headers, "host") {
        Some(value) if value.contains(['\r', '\n', '\0']) => {
            return Err(Error::invalid_input("Host header contains CR, LF or NUL"));
        }
        Some(value) => trim_all(value),
        None => parts.authority(),
    };
    let is_s3 = service == "s3";
    let mut wire_path = canonical::wire_path(parts.path);
    if !is_s3 {
        wire_path = canonical::normalize_path(&wire_path);
    }
    let query = canonical::query_pairs(parts.query);
    let content_sha256 = hex(&Sha256::digest(req.body));

    let canonical_request = [
        req.method,
        &canonical::canonical_uri(&wire_path, is_s3),
        &canonical::canonical_query(&query),
        &format!("host:{host}"),
        &format!("x-amz-content-sha256:{content_sha256}"),
        &format!("x-amz-date:{amz_date}"),
        "",
        SIGNED_HEADERS,
        &content_sha256,
    ]
    .join("\n");

    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    )?;
    for part in [region.as_str(), service.as_str(), "aws4_request"] {
        key = hmac(&key, part.as_bytes())?;
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes())?);

    let mut url = format!("{}://{}{wire_path}", parts.scheme, parts.authority());
    if !query.is_empty() {
        url.push('?');
        url.push_str(&canonical::join_pairs(&query));
    }
    Ok(SigV4Headers {
        url,
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, \
             Signature={signature}",
            creds.access_key_id
        ),
        amz_date,
        content_sha256,
    })
}

/// The body bytes the reference client hashes and sends for a JSON body under SigV4: its
/// default JSON layout, `", "` between items and `": "` after keys, keys in insertion order,
/// every non-ASCII character escaped as `\uXXXX`.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::sigv4::json_body_for_sigv4;
/// use serde_json::json;
///
/// let body = json_body_for_sigv4(&json!({"name": "widget", "qty": 2, "é": [1.0, null]}));
/// assert_eq!(body, br#"{"name": "widget", "qty": 2, "\u00e9": [1.0, null]}"#);
/// ```
pub fn json_body_for_sigv4(value: &serde_json::Value) -> Vec<u8> {
    json::to_spaced(value)
}

fn check_credentials(creds: &SigV4Credentials<'_>) -> Result<()> {
    if creds.access_key_id.is_empty() || creds.secret_access_key.is_empty() {
        return Err(Error::malformed(200, "SigV4 credentials are empty"));
    }
    let values = [creds.access_key_id, creds.secret_access_key]
        .into_iter()
        .chain(creds.fallback_region)
        .chain(creds.fallback_service);
    for value in values {
        if value.contains(['\r', '\n', '\0']) {
            return Err(Error::malformed(
                200,
                "SigV4 credentials contain CR, LF or NUL",
            ));
        }
    }
    Ok(())
}

/// `(YYYYMMDDTHHMMSSZ, YYYYMMDD)` for `at`, in UTC.
fn amz_dates(at: SystemTime) -> Result<(String, String)> {
    let out_of_range = || Error::invalid_input("signing time outside the years 1970 to 9999");
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| out_of_range())?
        .as_secs();
    let time: DateTime<Utc> = i64::try_from(seconds)
        .ok()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .filter(|time| time.year() <= 9999)
        .ok_or_else(out_of_range)?;
    Ok((
        time.format("%Y%m%dT%H%M%SZ").to_string(),
        time.format("%Y%m%d").to_string(),
    ))
}

/// Region and service: read from the host when it names them, else the fallbacks.
fn scope_names(host: &str, creds: &SigV4Credentials<'_>) -> Result<(String, String)> {
    let (region, service) = region::detect(host);
    let fallback = |value: Option<&str>| value.filter(|v| !v.is_empty()).map(str::to_owned);

    let region = region
        .or_else(|| fallback(creds.fallback_region))
        .ok_or_else(|| {
            Error::malformed(
                200,
                format!("cannot determine the AWS region for host {host}"),
            )
        })?;
    let service = service
        .or_else(|| fallback(creds.fallback_service))
        .ok_or_else(|| {
            Error::malformed(
                200,
                format!("cannot determine the AWS service for host {host}"),
            )
        })?;
    Ok((region, service))
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Trims the value and collapses each run of spaces into one, as AWS canonical headers do.
fn trim_all(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Error::sdk("HMAC-SHA256 rejected its key"))?;
    mac.update(message);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod oracle_tests;
