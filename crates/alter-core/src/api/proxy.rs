//! Proxy mode and approvals: `/sdk/proxy`, `/sdk/approvals/{id}` and its `/result`
//! (PROTOCOL.md §5.4–5.6, §7.1).

use std::sync::Arc;

use alter_types::{ApprovalResult, ApprovalStatus, HttpMethod, PendingApproval};
use serde_json::Value;

use super::{Object, body, decode, require, require_id};
use crate::call::Call;
use crate::classify::{classify_approval_result, classify_approval_status, classify_proxy};
use crate::engine::{Actor, ApiPath, BackendCall, Engine, check_header, check_method};
use crate::error::{Error, Result};
use crate::retrieve::template;
use crate::retry::Idempotency;

/// Headers a proxied request may not carry: the backend injects credentials itself.
pub const FORBIDDEN_PROXY_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "authentication",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-amz-security-token",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-goog-authorization",
    "x-goog-iam-authorization-token",
    "x-stripe-account",
    "x-shopify-access-token",
];

/// A provider call the backend makes on the caller's behalf.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProxyRequest {
    /// HTTP method of the provider call.
    pub method: HttpMethod,
    /// Provider URL.
    pub url: String,
    /// The grant whose credential the backend injects.
    pub grant_id: String,
    /// JSON body (any JSON value but `null`).
    pub json_body: Option<Value>,
    /// Extra headers; credential headers are refused (see [`FORBIDDEN_PROXY_HEADERS`]).
    pub headers: Vec<(String, String)>,
    /// Query parameters, in order.
    pub query_params: Vec<(String, Value)>,
    /// Why the call is made, for the audit trail and approvers.
    pub reason: Option<String>,
}

impl ProxyRequest {
    /// A proxied `method url` call through `grant_id`.
    pub fn new(
        method: impl Into<HttpMethod>,
        url: impl Into<String>,
        grant_id: impl Into<String>,
    ) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            grant_id: grant_id.into(),
            json_body: None,
            headers: Vec::new(),
            query_params: Vec::new(),
            reason: None,
        }
    }
}

/// What `proxy_request` returns.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ProxyOutcome {
    /// The backend executed the call (200): the provider's answer.
    Completed(ApprovalResult),
    /// The grant requires a human's approval first (202): poll it with `await_approval`.
    Pending(PendingApproval),
}

impl Engine {
    /// `proxy_request`: `POST /sdk/proxy`. Never retried once it may have reached the
    /// backend: the provider call may have been executed.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty or oversized grant id, a URL that is empty, not
    /// `http(s)`, longer than 8 KiB or without a plain `host[:port]`, a JSON `null` body, a
    /// forbidden header name, or a header with CR, LF or NUL.
    pub fn proxy_request(self: &Arc<Self>, request: ProxyRequest) -> Result<Call<ProxyOutcome>> {
        require_id("grant_id", &request.grant_id)?;
        require("url", &request.url)?;
        if !template::has_http_scheme(&request.url) {
            return Err(Error::invalid_input(template::NOT_HTTP));
        }
        template::check_provider_url(&request.url)?;
        template::check_provider_authority(&request.url)?;
        check_method(request.method.as_str())?;
        if request.json_body == Some(Value::Null) {
            return Err(Error::invalid_input("json_body cannot be JSON null"));
        }
        for (name, value) in &request.headers {
            let lower = name.to_ascii_lowercase();
            if FORBIDDEN_PROXY_HEADERS.contains(&lower.as_str()) {
                return Err(Error::invalid_input(format!(
                    "header '{name}' is not allowed on proxied requests: the vault injects credentials"
                )));
            }
            check_header(name, value)?;
        }

        let mut object = Object::new();
        object.insert("grant_id".into(), request.grant_id.into());
        object.insert("method".into(), request.method.as_str().into());
        object.insert("url".into(), request.url.into());
        if let Some(json_body) = request.json_body {
            object.insert("body".into(), json_body);
        }
        if !request.headers.is_empty() {
            let headers: Object = request
                .headers
                .into_iter()
                .map(|(name, value)| (name, value.into()))
                .collect();
            object.insert("headers".into(), Value::Object(headers));
        }
        if !request.query_params.is_empty() {
            let query: Object = request.query_params.into_iter().collect();
            object.insert("query_params".into(), Value::Object(query));
        }
        if let Some(reason) = request.reason {
            object.insert("reason".into(), reason.into());
        }

        let call = BackendCall::new("POST", ApiPath::new("/sdk/proxy"))
            .json(body(object))
            .actor(Actor::None);
        let interpret = Box::new(|response: crate::io::HttpResponse| match response.status {
            200 => decode(200, &response.body).map(ProxyOutcome::Completed),
            202 => decode(202, &response.body).map(ProxyOutcome::Pending),
            status => Err(classify_proxy(status, &response.body)),
        });
        Ok(
            Call::new(Arc::clone(self), call, Idempotency::Unsafe, interpret)
                .without_actor_caching(),
        )
    }

    /// `get_approval_status`: `GET /sdk/approvals/{id}`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty approval id.
    pub fn get_approval_status(
        self: &Arc<Self>,
        approval_id: &str,
    ) -> Result<Call<ApprovalStatus>> {
        require_id("approval_id", approval_id)?;

        let path = ApiPath::new("/sdk/approvals").param(approval_id);
        let route = path.wire().to_owned();
        let call = BackendCall::new("GET", path).actor(Actor::None);
        let interpret = Box::new(move |response: crate::io::HttpResponse| {
            if response.status != 200 {
                return Err(classify_approval_status(
                    response.status,
                    &route,
                    &response.body,
                ));
            }
            decode(200, &response.body)
        });
        Ok(Call::new(Arc::clone(self), call, Idempotency::Safe, interpret).without_actor_caching())
    }

    /// `GET /sdk/approvals/{id}/result`: the provider's answer of an executed approval.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty approval id.
    pub fn get_approval_result(
        self: &Arc<Self>,
        approval_id: &str,
    ) -> Result<Call<ApprovalResult>> {
        require_id("approval_id", approval_id)?;

        let path = ApiPath::new("/sdk/approvals")
            .param(approval_id)
            .then("/result");
        let route = path.wire().to_owned();
        let call = BackendCall::new("GET", path).actor(Actor::None);
        let interpret = Box::new(move |response: crate::io::HttpResponse| {
            if response.status != 200 {
                return Err(classify_approval_result(
                    response.status,
                    &route,
                    &response.body,
                ));
            }
            decode(200, &response.body)
        });
        Ok(Call::new(Arc::clone(self), call, Idempotency::Safe, interpret).without_actor_caching())
    }
}
