//! Credential injection into the provider request (PROTOCOL §6.3, §6.4, §6.5, §16 D5).
//!
//! The token response says how the credential goes on the wire: a header built from a
//! format (`Bearer {token}`, `{token}`, `Basic {token}`...), optional extra headers and query
//! parameters from `additional_injections`, or an AWS Signature V4. This module checks every
//! credential value first, then builds the outgoing header set; the credential never passes
//! through a header unchecked.

use std::fmt;
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::retrieve::ProviderBody;
use crate::retrieve::sigv4::{self, SigV4Credentials, SigV4Request};

/// Header used when the token response names none.
pub const DEFAULT_INJECTION_HEADER: &str = "Authorization";
/// Format used when the token response gives none; `{token}` stands for the access token.
pub const DEFAULT_INJECTION_FORMAT: &str = "Bearer {token}";
/// Prefix of `injection_format` that selects AWS Signature V4.
pub const SIGV4_FORMAT_PREFIX: &str = "AWS4-HMAC-SHA256";
/// Header names a SigV4 injection adds, lower-cased (the audit row strips them).
pub const SIGV4_CREDENTIAL_HEADERS: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
];

/// The credential part of a token response.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access token (for SigV4: the access key id).
    pub access_token: String,
    /// Header that carries the credential; `None` means [`DEFAULT_INJECTION_HEADER`].
    pub injection_header: Option<String>,
    /// Header value format; `None` means [`DEFAULT_INJECTION_FORMAT`].
    pub injection_format: Option<String>,
    /// Extra named secrets (`secret_key`, `region`, `account_id`...), in response order.
    pub additional_credentials: Vec<(String, String)>,
    /// Extra places to inject a credential, in order.
    pub additional_injections: Vec<InjectionRule>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token and the additional credentials are secrets: names only.
        let names: Vec<&str> = self
            .additional_credentials
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        f.debug_struct("Credential")
            .field("access_token", &"<redacted>")
            .field("injection_header", &self.injection_header)
            .field("injection_format", &self.injection_format)
            .field("additional_credentials", &names)
            .field("additional_injections", &self.additional_injections)
            .finish()
    }
}

/// One entry of `additional_injections`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InjectionRule {
    /// `header` or `query_param`; other targets are ignored.
    pub target: String,
    /// Header or query parameter name.
    pub key: String,
    /// `token` or `additional_credentials.<field>`.
    pub value_source: String,
}

/// The provider request's headers and extra query parameters, credential included.
#[derive(Clone, PartialEq, Eq)]
pub struct InjectionPlan {
    /// Every header to send, in order.
    pub headers: Vec<(String, String)>,
    /// Query parameters injected from `additional_injections`, in order; merge them into the
    /// caller's with [`crate::retrieve::query::with_injected_params`].
    pub query_params: Vec<(String, String)>,
    /// Names of the headers that carry a credential, as injected; the audit row leaves them
    /// out.
    pub credential_headers: Vec<String>,
}

impl fmt::Debug for InjectionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InjectionPlan")
            .field("header_names", &names(&self.headers))
            .field("query_param_names", &names(&self.query_params))
            .field("credential_headers", &self.credential_headers)
            .finish()
    }
}

/// A SigV4-signed provider request, ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct SigV4Plan {
    /// The URL to send: the request URL with its path and query in the encoded form that
    /// was signed. Send exactly this.
    pub url: String,
    /// Every header to send, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes that were hashed; send exactly these.
    pub body: Vec<u8>,
    /// Names of the headers the audit row leaves out ([`SIGV4_CREDENTIAL_HEADERS`]).
    pub credential_headers: Vec<String>,
}

impl fmt::Debug for SigV4Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Plan")
            .field("header_names", &names(&self.headers))
            .field("body_len", &self.body.len())
            .field("credential_headers", &self.credential_headers)
            .finish_non_exhaustive()
    }
}

/// The provider call a SigV4 plan signs.
#[derive(Clone, Copy, Debug)]
pub struct SigV4Call<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// The templated URL with every query parameter already appended (§16 D3).
    pub url: &'a str,
    /// The caller's body.
    pub body: ProviderBody<'a>,
}

/// Whether the credential asks for AWS Signature V4: its format starts with
/// `AWS4-HMAC-SHA256` and it has additional credentials.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::injection::{is_sigv4, Credential};
///
/// let mut credential = Credential {
///     access_token: "AKID".into(),
///     injection_header: None,
///     injection_format: Some("AWS4-HMAC-SHA256".into()),
///     additional_credentials: vec![],
///     additional_injections: vec![],
/// };
/// assert!(!is_sigv4(&credential));
/// credential.additional_credentials.push(("secret_key".into(), "s".into()));
/// assert!(is_sigv4(&credential));
/// ```
pub fn is_sigv4(credential: &Credential) -> bool {
    credential
        .injection_format
        .as_deref()
        .is_some_and(|f| f.starts_with(SIGV4_FORMAT_PREFIX))
        && !credential.additional_credentials.is_empty()
}

/// Headers the HTTP stack owns: a value from a caller or a token response could truncate or
/// corrupt the body (framing), send the credential to another virtual host than the URL
/// names (`Host`), or change the connection (hop-by-hop headers). Compared without case.
pub const STACK_OWNED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Whether `name` is one of the [`STACK_OWNED_HEADERS`], in any case.
///
/// ```
/// use alter_core::retrieve::injection::is_stack_owned_header;
///
/// assert!(is_stack_owned_header("Content-Length"));
/// assert!(!is_stack_owned_header("Authorization"));
/// ```
pub fn is_stack_owned_header(name: &str) -> bool {
    STACK_OWNED_HEADERS
        .iter()
        .any(|owned| name.eq_ignore_ascii_case(owned))
}

/// Checks a credential before any header is built from it.
///
/// # Errors
///
/// A backend error ([`Error::MalformedResponse`], status 200) when the injection header is
/// not a plain token (`^[A-Za-z][A-Za-z0-9-]*$`), when it or an additional injection's
/// header is one the HTTP stack owns ([`STACK_OWNED_HEADERS`]: a credential must not pick
/// the virtual host or the body's length), or when the access token, the format or any
/// additional credential contains CR, LF or NUL (§16 D5).
pub fn validate_credential(credential: &Credential) -> Result<()> {
    let header = injection_header(credential);
    if !is_token(header, false) {
        return Err(Error::malformed(
            200,
            "token response has an invalid injection_header",
        ));
    }
    let owned_target = credential
        .additional_injections
        .iter()
        .any(|rule| rule.target == "header" && is_stack_owned_header(&rule.key));
    if is_stack_owned_header(header) || owned_target {
        return Err(Error::malformed(
            200,
            "token response injects into a header the HTTP stack owns",
        ));
    }

    if has_control(&credential.access_token) {
        return Err(Error::malformed(
            200,
            "token response access_token contains CR, LF or NUL",
        ));
    }
    if has_control(injection_format(credential)) {
        return Err(Error::malformed(
            200,
            "token response injection_format contains CR, LF or NUL",
        ));
    }
    if let Some((name, _)) = credential
        .additional_credentials
        .iter()
        .find(|(_, v)| has_control(v))
    {
        return Err(Error::malformed(
            200,
            format!("token response additional credential {name:?} contains CR, LF or NUL"),
        ));
    }
    Ok(())
}

/// Builds the headers and extra query parameters of a non-SigV4 provider request.
///
/// Steps: copy `extra_headers`; set the injection header to the format with its first
/// `{token}` replaced by the access token, replacing any caller header of that name whatever
/// its case; add `User-Agent: <user_agent>` unless the caller set one; then apply the
/// additional injections in order. An injection is skipped when its value source is not
/// `token` or `additional_credentials.<field>` of a present field, when the value is empty,
/// or when its key is not `^[A-Za-z][A-Za-z0-9_-]*$`; a `header` target sets a header, a
/// `query_param` target adds a query parameter, any other target is ignored.
///
/// # Errors
///
/// Those of [`validate_credential`]; [`Error::Sdk`] when the credential is SigV4 (use
/// [`plan_sigv4_injection`]).
pub fn plan_injection(
    credential: &Credential,
    extra_headers: &[(String, String)],
    user_agent: &str,
) -> Result<InjectionPlan> {
    validate_credential(credential)?;
    if is_sigv4(credential) {
        return Err(Error::sdk("a SigV4 credential needs plan_sigv4_injection"));
    }

    let header = injection_header(credential);
    let value = injection_format(credential).replacen("{token}", &credential.access_token, 1);
    let mut headers = extra_headers.to_vec();
    set_header(&mut headers, header, value);
    add_user_agent(&mut headers, user_agent);

    let mut credential_headers = vec![header.to_owned()];
    let mut query_params = Vec::new();
    for rule in &credential.additional_injections {
        let Some(value) = resolve(credential, &rule.value_source) else {
            continue;
        };
        if value.is_empty() || !is_token(&rule.key, true) {
            continue;
        }
        match rule.target.as_str() {
            "header" => {
                set_header(&mut headers, &rule.key, value.to_owned());
                credential_headers.push(rule.key.clone());
            }
            "query_param" => query_params.push((rule.key.clone(), value.to_owned())),
            _ => {}
        }
    }

    Ok(InjectionPlan {
        headers,
        query_params,
        credential_headers,
    })
}

/// Builds and signs a SigV4 provider request (§6.5).
///
/// The secret is `additional_credentials.secret_key`; `region` and `service` there are the
/// fallbacks when the host does not name them. The body is the raw body, or the JSON body in
/// the reference client's default layout (see [`sigv4::json_body_for_sigv4`]) with
/// `Content-Type: application/json` added unless the caller set one, or empty. Headers: a
/// copy of `extra_headers`, that `Content-Type`, `Authorization`, `x-amz-date` and
/// `x-amz-content-sha256` (each replacing a caller header of that name, whatever its case),
/// then `User-Agent` unless the caller set one. Additional injections are not applied.
///
/// # Errors
///
/// Those of [`validate_credential`]; a backend error ([`Error::MalformedResponse`]) when the
/// secret key is missing or empty; those of [`sigv4::sign_sigv4`].
pub fn plan_sigv4_injection(
    credential: &Credential,
    extra_headers: &[(String, String)],
    user_agent: &str,
    call: &SigV4Call<'_>,
    at: SystemTime,
) -> Result<SigV4Plan> {
    validate_credential(credential)?;
    let additional = |name: &str| {
        credential
            .additional_credentials
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let secret = additional("secret_key")
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| Error::malformed(200, "SigV4 credential has no secret_key"))?;

    let mut headers = extra_headers.to_vec();
    let body = match call.body {
        ProviderBody::Empty => Vec::new(),
        ProviderBody::Raw(bytes) => bytes.to_vec(),
        ProviderBody::Json(value) => {
            if find_header(&headers, "content-type").is_none() {
                headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            }
            sigv4::json_body_for_sigv4(value)
        }
    };

    let request = SigV4Request {
        method: call.method,
        url: call.url,
        headers: &headers,
        body: &body,
    };
    let creds = SigV4Credentials {
        access_key_id: &credential.access_token,
        secret_access_key: secret,
        fallback_region: additional("region"),
        fallback_service: additional("service"),
    };
    let signed = sigv4::sign_sigv4(&request, &creds, at)?;

    set_header(&mut headers, "Authorization", signed.authorization);
    set_header(&mut headers, "x-amz-date", signed.amz_date);
    set_header(&mut headers, "x-amz-content-sha256", signed.content_sha256);
    add_user_agent(&mut headers, user_agent);

    Ok(SigV4Plan {
        url: signed.url,
        headers,
        body,
        credential_headers: SIGV4_CREDENTIAL_HEADERS
            .iter()
            .map(|&n| n.to_owned())
            .collect(),
    })
}

fn injection_header(credential: &Credential) -> &str {
    credential
        .injection_header
        .as_deref()
        .unwrap_or(DEFAULT_INJECTION_HEADER)
}

fn injection_format(credential: &Credential) -> &str {
    credential
        .injection_format
        .as_deref()
        .unwrap_or(DEFAULT_INJECTION_FORMAT)
}

/// The value an injection rule points at, if it resolves.
fn resolve<'a>(credential: &'a Credential, source: &str) -> Option<&'a str> {
    if source == "token" {
        return Some(&credential.access_token);
    }
    let field = source.strip_prefix("additional_credentials.")?;
    credential
        .additional_credentials
        .iter()
        .find(|(k, _)| k == field)
        .map(|(_, v)| v.as_str())
}

/// Sets `name` to `value`, replacing every header of that name whatever its case (the first
/// one in place, so the caller's order is kept).
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    let Some(first) = headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(name))
    else {
        headers.push((name.to_owned(), value));
        return;
    };

    // Only names are logged: the caller's value may itself be a secret.
    tracing::warn!(
        header = name,
        "injected credential replaces a caller-supplied header"
    );
    headers[first] = (name.to_owned(), value);
    let mut index = 0;
    headers.retain(|(n, _)| {
        let keep = index <= first || !n.eq_ignore_ascii_case(name);
        index += 1;
        keep
    });
}

fn add_user_agent(headers: &mut Vec<(String, String)>, user_agent: &str) {
    if find_header(headers, "user-agent").is_none() {
        headers.push(("User-Agent".to_owned(), user_agent.to_owned()));
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether `text` is a letter followed by letters, digits, `-` (and `_` when allowed).
fn is_token(text: &str, allow_underscore: bool) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || (allow_underscore && b == b'_'))
}

fn has_control(text: &str) -> bool {
    text.contains(['\r', '\n', '\0'])
}

fn names(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(name, _)| name.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn bearer(token: &str) -> Credential {
        Credential {
            access_token: token.to_owned(),
            injection_header: None,
            injection_format: None,
            additional_credentials: vec![],
            additional_injections: vec![],
        }
    }

    fn rule(target: &str, key: &str, value_source: &str) -> InjectionRule {
        InjectionRule {
            target: target.to_owned(),
            key: key.to_owned(),
            value_source: value_source.to_owned(),
        }
    }

    #[test]
    fn default_is_a_bearer_authorization_header() {
        let plan = plan_injection(&bearer("tok"), &[], "ua/1").unwrap();
        assert_eq!(
            plan.headers,
            pairs(&[("Authorization", "Bearer tok"), ("User-Agent", "ua/1")])
        );
        assert_eq!(plan.credential_headers, ["Authorization"]);
        assert!(plan.query_params.is_empty());
    }

    #[test]
    fn only_the_first_token_placeholder_is_replaced() {
        let credential = Credential {
            injection_header: Some("X-API-Key".into()),
            injection_format: Some("{token}:{token}".into()),
            ..bearer("k")
        };
        let plan = plan_injection(&credential, &[], "ua").unwrap();
        assert_eq!(
            plan.headers[0],
            ("X-API-Key".to_owned(), "k:{token}".to_owned())
        );
    }

    #[test]
    fn caller_headers_are_kept_and_replaced_case_insensitively() {
        let extra = pairs(&[
            ("Notion-Version", "2022-06-28"),
            ("authorization", "mine"),
            ("X-Request-Id", "req-7"),
            ("AUTHORIZATION", "also mine"),
            ("user-agent", "caller-ua"),
        ]);
        let plan = plan_injection(&bearer("tok"), &extra, "ua").unwrap();
        assert_eq!(
            plan.headers,
            pairs(&[
                ("Notion-Version", "2022-06-28"),
                ("Authorization", "Bearer tok"),
                ("X-Request-Id", "req-7"),
                ("user-agent", "caller-ua"),
            ])
        );
    }

    #[test]
    fn additional_injections_follow_the_conformance_order() {
        // Vector app.request.raw_body_injections.
        let credential = Credential {
            injection_format: Some("Token {token}".into()),
            additional_credentials: pairs(&[("account_id", "acct_778")]),
            additional_injections: vec![
                rule("query_param", "api_key", "token"),
                rule(
                    "header",
                    "X-Account-Id",
                    "additional_credentials.account_id",
                ),
            ],
            ..bearer("files_tok_0004")
        };
        let extra = pairs(&[("Content-Type", "application/octet-stream")]);
        let plan = plan_injection(&credential, &extra, "alter-sdk-python/0.15.0").unwrap();
        assert_eq!(
            plan.headers,
            pairs(&[
                ("Content-Type", "application/octet-stream"),
                ("Authorization", "Token files_tok_0004"),
                ("User-Agent", "alter-sdk-python/0.15.0"),
                ("X-Account-Id", "acct_778"),
            ])
        );
        assert_eq!(plan.query_params, pairs(&[("api_key", "files_tok_0004")]));
        assert_eq!(plan.credential_headers, ["Authorization", "X-Account-Id"]);
    }

    #[test]
    fn unusable_injections_are_skipped() {
        let credential = Credential {
            additional_credentials: pairs(&[("empty", ""), ("ok", "v")]),
            additional_injections: vec![
                rule("header", "X-A", "additional_credentials.missing"),
                rule("header", "X-B", "additional_credentials.empty"),
                rule("header", "X-C", "secret"),
                rule("header", "1bad", "token"),
                rule("header", "bad key", "token"),
                rule("header", "", "token"),
                rule("cookie", "X-D", "token"),
                rule("header", "X_e-1", "additional_credentials.ok"),
            ],
            ..bearer("t")
        };
        let plan = plan_injection(&credential, &[], "ua").unwrap();
        assert_eq!(
            plan.headers,
            pairs(&[
                ("Authorization", "Bearer t"),
                ("User-Agent", "ua"),
                ("X_e-1", "v")
            ])
        );
        assert!(plan.query_params.is_empty());
    }

    #[test]
    fn bad_injection_headers_are_backend_errors() {
        for header in ["", "1abc", "X_Key", "X Key", "X-Key\n", "Ünï"] {
            let credential = Credential {
                injection_header: Some(header.into()),
                ..bearer("t")
            };
            let error = plan_injection(&credential, &[], "ua").unwrap_err();
            assert!(
                matches!(error, Error::MalformedResponse { status: 200, .. }),
                "{header:?}"
            );
        }
    }

    #[test]
    fn a_credential_cannot_pick_the_host_the_framing_or_the_connection() {
        for header in [
            "Content-Length",
            "host",
            "Transfer-Encoding",
            "Connection",
            "TE",
        ] {
            let as_injection_header = Credential {
                injection_header: Some(header.into()),
                ..bearer("0")
            };
            let as_additional = Credential {
                additional_injections: vec![InjectionRule {
                    target: "header".into(),
                    key: header.into(),
                    value_source: "token".into(),
                }],
                ..bearer("t")
            };

            for credential in [as_injection_header, as_additional] {
                let error = plan_injection(&credential, &[], "ua").unwrap_err();
                assert!(
                    matches!(error, Error::MalformedResponse { status: 200, .. }),
                    "{header}: {error:?}"
                );
            }
        }

        // A query parameter of that name is only a name.
        let as_query = Credential {
            additional_injections: vec![InjectionRule {
                target: "query_param".into(),
                key: "host".into(),
                value_source: "token".into(),
            }],
            ..bearer("t")
        };
        assert!(plan_injection(&as_query, &[], "ua").is_ok());
    }

    #[test]
    fn control_characters_in_any_credential_value_are_backend_errors() {
        let cases = [
            bearer("t\r\nX-Evil: 1"),
            Credential {
                injection_format: Some("Bearer {token}\n".into()),
                ..bearer("t")
            },
            Credential {
                additional_credentials: pairs(&[("a", "x\0")]),
                ..bearer("t")
            },
            Credential {
                injection_format: Some("AWS4-HMAC-SHA256".into()),
                additional_credentials: pairs(&[("secret_key", "s\r")]),
                ..bearer("t")
            },
        ];
        for credential in cases {
            let error = validate_credential(&credential).unwrap_err();
            assert!(
                matches!(error, Error::MalformedResponse { status: 200, .. }),
                "{error:?}"
            );
        }
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let credential = Credential {
            additional_credentials: pairs(&[("secret_key", "hunter2")]),
            additional_injections: vec![rule("query_param", "api_key", "token")],
            ..bearer("tok-secret")
        };
        let plan = plan_injection(&credential, &[], "ua").unwrap();
        for shown in [format!("{credential:?}"), format!("{plan:?}")] {
            assert!(
                !shown.contains("tok-secret") && !shown.contains("hunter2"),
                "{shown}"
            );
        }
    }

    fn aws_credential() -> Credential {
        Credential {
            injection_format: Some("AWS4-HMAC-SHA256".into()),
            additional_credentials: pairs(&[
                ("secret_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                ("region", "us-east-1"),
                ("service", "execute-api"),
            ]),
            additional_injections: vec![rule("header", "X-Never", "token")],
            ..bearer("AKIAEXAMPLESHARED001")
        }
    }

    #[test]
    fn sigv4_plan_reproduces_the_conformance_request_without_query() {
        // Vector app.request.sigv4, signed as the reference did: query_params left out (D3).
        let body = json!({"name": "widget", "qty": 2});
        let call = SigV4Call {
            method: "POST",
            url: "http://127.0.0.1:41709/provider/aws/prod/items",
            body: ProviderBody::Json(&body),
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_767_249_142);
        let plan =
            plan_sigv4_injection(&aws_credential(), &[], "alter-sdk-python/0.15.0", &call, at)
                .unwrap();

        assert_eq!(plan.body, br#"{"name": "widget", "qty": 2}"#);
        assert_eq!(plan.url, "http://127.0.0.1:41709/provider/aws/prod/items");
        assert_eq!(
            plan.headers,
            pairs(&[
                ("Content-Type", "application/json"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLESHARED001/20260101/us-east-1/\
                     execute-api/aws4_request, SignedHeaders=host;x-amz-content-sha256;\
                     x-amz-date, Signature=f3d38d4a1a51bc1194b51aa7c7f9af3d20ab7840a00195fe80bf\
                     58dea3fe674a"
                ),
                ("x-amz-date", "20260101T063222Z"),
                (
                    "x-amz-content-sha256",
                    "9d4418135a660c97d3e0ae986f257c5f7a7873199d5663195fd4166064a87ed4"
                ),
                ("User-Agent", "alter-sdk-python/0.15.0"),
            ])
        );
        assert_eq!(plan.credential_headers, SIGV4_CREDENTIAL_HEADERS);
    }

    #[test]
    fn sigv4_plan_keeps_a_caller_content_type_and_raw_body() {
        let extra = pairs(&[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-date", "old"),
        ]);
        let call = SigV4Call {
            method: "POST",
            url: "https://dynamodb.us-east-1.amazonaws.com/",
            body: ProviderBody::Raw(b"{\"Limit\": 5}"),
        };
        let plan =
            plan_sigv4_injection(&aws_credential(), &extra, "ua", &call, UNIX_EPOCH).unwrap();
        let names: Vec<&str> = plan.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "x-amz-date",
                "Authorization",
                "x-amz-content-sha256",
                "User-Agent"
            ]
        );
        assert_eq!(plan.headers[1].1, "19700101T000000Z");
        assert!(
            plan.headers[2]
                .1
                .contains("/us-east-1/dynamodb/aws4_request")
        );
        assert_eq!(plan.body, b"{\"Limit\": 5}");
    }

    #[test]
    fn sigv4_needs_a_secret_key() {
        let credential = Credential {
            additional_credentials: pairs(&[("region", "us-east-1"), ("secret_key", "")]),
            ..aws_credential()
        };
        let call = SigV4Call {
            method: "GET",
            url: "https://s3.us-east-1.amazonaws.com/",
            body: ProviderBody::Empty,
        };
        let error = plan_sigv4_injection(&credential, &[], "ua", &call, UNIX_EPOCH).unwrap_err();
        assert!(
            matches!(error, Error::MalformedResponse { status: 200, .. }),
            "{error:?}"
        );
        assert!(matches!(
            plan_injection(&aws_credential(), &[], "ua"),
            Err(Error::Sdk { .. })
        ));
    }
}
