//! Scripted misbehaviour: answer a route with an error, late, half, or not at all, a given
//! number of times, then normally again.
//!
//! ```
//! use alter_testkit::{FaultAction, FaultSpec};
//!
//! let fault = FaultSpec::new("GET /sdk/approvals/*", FaultAction::status(503).retry_after("1")).times(2);
//! assert_eq!(fault.method, "GET");
//!
//! let from_json: FaultSpec = serde_json::from_str(
//!     r#"{"route": "POST /sdk/proxy", "action": {"kind": "execute_then_drop"}}"#,
//! )?;
//! assert_eq!(from_json.times, 1);
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::record::Listener;

/// What an injected fault does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer this status without running the route.
    Status {
        /// The status code.
        status: u16,
        /// The body; defaults to a JSON error object naming the status.
        #[serde(default)]
        body: Option<String>,
        /// A `Retry-After` header value.
        #[serde(default)]
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Close the connection without answering; the route does not run.
    Drop,
    /// Answer a body that is not valid JSON, with this status (default 200); the route does
    /// not run.
    Malformed {
        /// The status code.
        #[serde(default = "ok_status")]
        status: u16,
    },
    /// Run the route, then send its headers and only half of its body.
    Truncate,
    /// Run the route (its effects happen), then close the connection without answering.
    ExecuteThenDrop,
    /// Run the route (its effects happen), then answer this status instead.
    ExecuteThenStatus {
        /// The status code (e.g. 502).
        status: u16,
        /// The body; defaults to a JSON error object naming the status.
        #[serde(default)]
        body: Option<String>,
    },
}

impl FaultAction {
    /// Answer `status` instead of running the route.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            body: None,
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` header to a [`FaultAction::Status`]; other actions are unchanged.
    pub fn retry_after(self, value: impl Into<String>) -> Self {
        match self {
            Self::Status { status, body, .. } => Self::Status {
                status,
                body,
                retry_after: Some(value.into()),
            },
            other => other,
        }
    }

    /// A short label for recorded requests, e.g. `status 503`.
    pub(crate) fn label(&self) -> String {
        match self {
            Self::Status { status, .. } => format!("status {status}"),
            Self::Delay { ms } => format!("delay {ms}ms"),
            Self::Drop => "drop".to_owned(),
            Self::Malformed { .. } => "malformed".to_owned(),
            Self::Truncate => "truncate".to_owned(),
            Self::ExecuteThenDrop => "execute_then_drop".to_owned(),
            Self::ExecuteThenStatus { status, .. } => format!("execute_then_status {status}"),
        }
    }
}

/// A fault: which requests it hits, how often, and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultWire")]
#[non_exhaustive]
pub struct FaultSpec {
    /// The listener it applies to. Defaults to the backend.
    pub listener: Listener,
    /// HTTP method, or `*` for any.
    pub method: String,
    /// Path pattern (see [`route_matches`]).
    pub path: String,
    /// How many matching requests it hits. Defaults to 1.
    pub times: u32,
    /// What it does.
    pub action: FaultAction,
}

impl FaultSpec {
    /// A fault on `route`, written `METHOD /path/pattern` (or just the pattern, for any
    /// method), hitting one request.
    pub fn new(route: &str, action: FaultAction) -> Self {
        let (method, path) = split_route(route);
        Self {
            listener: Listener::Backend,
            method,
            path,
            times: 1,
            action,
        }
    }

    /// Hits the next `times` matching requests instead of one.
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    /// Applies to the fake provider instead of the backend.
    pub fn on_provider(mut self) -> Self {
        self.listener = Listener::Provider;
        self
    }

    /// Whether the fault applies to this request.
    pub(crate) fn matches(&self, listener: Listener, method: &str, path: &str) -> bool {
        self.listener == listener && route_matches(&self.method, &self.path, method, path)
    }
}

/// The JSON form: either `route` (`"POST /sdk/proxy"`) or `method` and `path`.
#[derive(Deserialize)]
struct FaultWire {
    #[serde(default)]
    listener: Listener,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default = "one")]
    times: u32,
    action: FaultAction,
}

impl TryFrom<FaultWire> for FaultSpec {
    type Error = String;

    fn try_from(wire: FaultWire) -> Result<Self, Self::Error> {
        let (method, path) = match (wire.route, wire.path) {
            (Some(route), None) => split_route(&route),
            (None, Some(path)) => (wire.method.unwrap_or_else(|| "*".to_owned()), path),
            _ => return Err("give either `route` or `path`".to_owned()),
        };
        if !path.starts_with('/') {
            return Err("a fault's path pattern must start with '/'".to_owned());
        }
        Ok(Self {
            listener: wire.listener,
            method: method.to_ascii_uppercase(),
            path,
            times: wire.times,
            action: wire.action,
        })
    }
}

/// Whether a request matches a route pattern.
///
/// The method matches case-insensitively, and `*` matches any method. The pattern's path is
/// compared segment by segment with the request path (query removed): `*` or a `{name}`
/// placeholder matches exactly one segment, a final `**` matches any number of remaining
/// segments, and anything else must be equal.
///
/// ```
/// use alter_testkit::route_matches;
///
/// assert!(route_matches("GET", "/sdk/approvals/*", "GET", "/sdk/approvals/a-1"));
/// assert!(!route_matches("GET", "/sdk/approvals/*", "GET", "/sdk/approvals/a-1/result"));
/// assert!(route_matches("*", "/sdk/approvals/**", "GET", "/sdk/approvals/a-1/result"));
/// assert!(route_matches("POST", "/sdk/grants/{grant_id}/revoke", "POST", "/sdk/grants/g/revoke?x=1"));
/// ```
pub fn route_matches(pattern_method: &str, pattern_path: &str, method: &str, path: &str) -> bool {
    if pattern_method != "*" && !pattern_method.eq_ignore_ascii_case(method) {
        return false;
    }

    let path = path.split('?').next().unwrap_or(path);
    let mut wanted = pattern_path.split('/');
    let mut actual = path.split('/');
    loop {
        match (wanted.next(), actual.next()) {
            (Some("**"), _) => return true,
            (None, None) => return true,
            (Some(pattern), Some(segment)) => {
                let wildcard =
                    pattern == "*" || (pattern.starts_with('{') && pattern.ends_with('}'));
                if !wildcard && pattern != segment {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// `"POST /sdk/proxy"` → (`POST`, `/sdk/proxy`); a bare pattern matches any method.
pub(crate) fn split_route(route: &str) -> (String, String) {
    match route.trim().split_once(' ') {
        Some((method, path)) => (method.to_ascii_uppercase(), path.trim().to_owned()),
        None => ("*".to_owned(), route.trim().to_owned()),
    }
}

/// A fault with its remaining count.
#[derive(Clone, Debug)]
pub(crate) struct ArmedFault {
    pub(crate) spec: FaultSpec,
    pub(crate) remaining: u32,
}

/// Takes one hit of the first armed fault matching the request.
pub(crate) fn take(
    faults: &mut Vec<ArmedFault>,
    listener: Listener,
    method: &str,
    path: &str,
) -> Option<FaultAction> {
    let index = faults
        .iter()
        .position(|fault| fault.remaining > 0 && fault.spec.matches(listener, method, path))?;
    let fault = &mut faults[index];
    fault.remaining -= 1;
    let action = fault.spec.action.clone();
    if fault.remaining == 0 {
        faults.remove(index);
    }
    Some(action)
}

fn one() -> u32 {
    1
}

fn ok_status() -> u16 {
    200
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_segments() {
        assert!(route_matches("POST", "/sdk/proxy", "post", "/sdk/proxy"));
        assert!(!route_matches("POST", "/sdk/proxy", "GET", "/sdk/proxy"));
        assert!(!route_matches("POST", "/sdk/proxy", "POST", "/sdk/proxyx"));
        assert!(route_matches(
            "*",
            "/sdk/agents/*/keys",
            "GET",
            "/sdk/agents/a/keys"
        ));
        assert!(!route_matches(
            "*",
            "/sdk/agents/*/keys",
            "GET",
            "/sdk/agents/a/b/keys"
        ));
        assert!(route_matches("*", "/**", "GET", "/anything/at/all"));
        assert!(!route_matches("*", "/sdk/scopes", "GET", "/sdk"));
    }

    #[test]
    fn a_fault_hits_n_times_then_disarms() {
        let spec = FaultSpec::new("GET /sdk/scopes", FaultAction::status(503)).times(2);
        let mut faults = vec![ArmedFault {
            remaining: spec.times,
            spec,
        }];

        for _ in 0..2 {
            assert!(take(&mut faults, Listener::Backend, "GET", "/sdk/scopes").is_some());
        }
        assert!(take(&mut faults, Listener::Backend, "GET", "/sdk/scopes").is_none());
        assert!(faults.is_empty());
    }

    #[test]
    fn faults_stay_on_their_listener() {
        let spec = FaultSpec::new("/echo/**", FaultAction::Drop).on_provider();
        let mut faults = vec![ArmedFault { remaining: 1, spec }];
        assert!(take(&mut faults, Listener::Backend, "GET", "/echo/x").is_none());
        assert_eq!(
            take(&mut faults, Listener::Provider, "GET", "/echo/x"),
            Some(FaultAction::Drop)
        );
    }

    #[test]
    fn json_forms() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"method": "get", "path": "/sdk/scopes", "times": 3,
                "action": {"kind": "status", "status": 429, "retry_after": "2"}}"#,
        )
        .unwrap();
        assert_eq!(spec.method, "GET");
        assert_eq!(spec.action, FaultAction::status(429).retry_after("2"));

        let spec: FaultSpec =
            serde_json::from_str(r#"{"route": "/sdk/proxy", "action": {"kind": "malformed"}}"#)
                .unwrap();
        assert_eq!(
            (spec.method.as_str(), spec.action),
            ("*", FaultAction::Malformed { status: 200 })
        );

        assert!(serde_json::from_str::<FaultSpec>(r#"{"action": {"kind": "drop"}}"#).is_err());
        assert!(
            serde_json::from_str::<FaultSpec>(r#"{"path": "x", "action": {"kind": "drop"}}"#)
                .is_err()
        );
    }

    #[test]
    fn labels() {
        assert_eq!(FaultAction::status(503).label(), "status 503");
        assert_eq!(FaultAction::Delay { ms: 5 }.label(), "delay 5ms");
        assert_eq!(FaultAction::Drop.retry_after("1"), FaultAction::Drop);
    }
}
