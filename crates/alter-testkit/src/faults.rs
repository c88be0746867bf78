//! Scripted misbehaviour: answer a route with an error, late, half, or not at all, a given
//! number of times, then normally again.
//!
//! Faults never touch the control API under `/_testkit/` (its `redirected` target aside),
//! so a test can always inspect the fake and disarm what it armed. A fault is checked
//! before it is armed ([`FaultSpec::validate`]): a status outside `100..=599`, a delay over
//! [`FaultAction::MAX_DELAY_MS`] or a path pattern not starting with `/` is refused.
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

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::record::Listener;

/// The statuses a fault may answer: what HTTP/1.1 can carry and a client can classify.
const STATUSES: RangeInclusive<u16> = 100..=599;

/// Why a fault cannot be armed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultError {
    /// The status is outside `100..=599`.
    Status(u16),
    /// The delay is longer than [`FaultAction::MAX_DELAY_MS`].
    Delay(u64),
    /// The path pattern does not start with `/`.
    Pattern(String),
    /// The JSON form could not be read (only from the control API); the message says why.
    Json(String),
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(
                f,
                "fault status {status} is outside {}..={}",
                STATUSES.start(),
                STATUSES.end()
            ),
            Self::Delay(ms) => write!(
                f,
                "fault delay {ms} ms is longer than the {} ms limit",
                FaultAction::MAX_DELAY_MS
            ),
            Self::Pattern(path) => {
                write!(f, "fault path pattern {path:?} does not start with '/'")
            }
            Self::Json(why) => write!(f, "unreadable fault: {why}"),
        }
    }
}

impl std::error::Error for FaultError {}

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
    /// The longest [`FaultAction::Delay`]: ten minutes. Longer waits outlast any test and
    /// would only pin connections open.
    pub const MAX_DELAY_MS: u64 = 10 * 60 * 1000;

    /// Answer `status` instead of running the route.
    ///
    /// The status is checked when the fault is armed (or by [`FaultAction::validate`]);
    /// [`FaultAction::try_status`] checks it here.
    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            body: None,
            retry_after: None,
        }
    }

    /// Answer `status` instead of running the route, once `status` is known to be valid.
    ///
    /// ```
    /// use alter_testkit::{FaultAction, FaultError};
    ///
    /// assert_eq!(FaultAction::try_status(503), Ok(FaultAction::status(503)));
    /// assert_eq!(FaultAction::try_status(0), Err(FaultError::Status(0)));
    /// ```
    ///
    /// # Errors
    ///
    /// [`FaultError::Status`] outside `100..=599`.
    pub fn try_status(status: u16) -> Result<Self, FaultError> {
        let action = Self::status(status);
        action.validate()?;
        Ok(action)
    }

    /// Checks the action's numbers: every status in `100..=599`, a delay of at most
    /// [`FaultAction::MAX_DELAY_MS`].
    ///
    /// # Errors
    ///
    /// [`FaultError::Status`] or [`FaultError::Delay`].
    pub fn validate(&self) -> Result<(), FaultError> {
        match self {
            Self::Status { status, .. }
            | Self::Malformed { status }
            | Self::ExecuteThenStatus { status, .. }
                if !STATUSES.contains(status) =>
            {
                Err(FaultError::Status(*status))
            }
            Self::Delay { ms } if *ms > Self::MAX_DELAY_MS => Err(FaultError::Delay(*ms)),
            _ => Ok(()),
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
    ///
    /// Nothing is checked yet: arming checks the fault ([`FaultSpec::validate`]), and
    /// [`FaultSpec::try_new`] checks it here.
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

    /// A fault on `route`, like [`FaultSpec::new`], checked at once.
    ///
    /// ```
    /// use alter_testkit::{FaultAction, FaultError, FaultSpec};
    ///
    /// assert!(FaultSpec::try_new("GET /sdk/scopes", FaultAction::status(503)).is_ok());
    /// assert_eq!(
    ///     FaultSpec::try_new("GET /sdk/scopes", FaultAction::Delay { ms: u64::MAX }),
    ///     Err(FaultError::Delay(u64::MAX))
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// As [`FaultSpec::validate`].
    pub fn try_new(route: &str, action: FaultAction) -> Result<Self, FaultError> {
        let spec = Self::new(route, action);
        spec.validate()?;
        Ok(spec)
    }

    /// Checks that the fault can be armed: its path pattern starts with `/` and its action
    /// passes [`FaultAction::validate`]. Arming checks this too.
    ///
    /// # Errors
    ///
    /// [`FaultError::Pattern`], [`FaultError::Status`] or [`FaultError::Delay`].
    pub fn validate(&self) -> Result<(), FaultError> {
        if !self.path.starts_with('/') {
            return Err(FaultError::Pattern(self.path.clone()));
        }
        self.action.validate()
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
    type Error = FaultError;

    fn try_from(wire: FaultWire) -> Result<Self, Self::Error> {
        let (method, path) = match (wire.route, wire.path) {
            (Some(route), None) => split_route(&route),
            (None, Some(path)) => (wire.method.unwrap_or_else(|| "*".to_owned()), path),
            _ => return Err(FaultError::Json("give either `route` or `path`".to_owned())),
        };

        let spec = Self {
            listener: wire.listener,
            method: method.to_ascii_uppercase(),
            path,
            times: wire.times,
            action: wire.action,
        };
        spec.validate()?;
        Ok(spec)
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
    fn statuses_outside_100_to_599_are_refused() {
        for status in [0, 99, 600, u16::MAX] {
            assert_eq!(
                FaultAction::try_status(status),
                Err(FaultError::Status(status))
            );
            for action in [
                FaultAction::Malformed { status },
                FaultAction::ExecuteThenStatus { status, body: None },
            ] {
                assert_eq!(action.validate(), Err(FaultError::Status(status)));
            }
        }
        for status in [100, 200, 429, 599] {
            assert!(FaultAction::try_status(status).is_ok());
        }
        assert!(FaultAction::Drop.validate().is_ok());
    }

    #[test]
    fn delays_are_capped_at_ten_minutes() {
        let longest = FaultAction::Delay {
            ms: FaultAction::MAX_DELAY_MS,
        };
        assert_eq!(longest.validate(), Ok(()));
        let over = FaultAction::Delay {
            ms: FaultAction::MAX_DELAY_MS + 1,
        };
        assert_eq!(
            over.validate(),
            Err(FaultError::Delay(FaultAction::MAX_DELAY_MS + 1))
        );
        assert!(
            FaultError::Delay(u64::MAX)
                .to_string()
                .contains("600000 ms")
        );
    }

    #[test]
    fn checked_specs_refuse_bad_patterns_and_actions() {
        assert_eq!(
            FaultSpec::try_new("GET sdk/scopes", FaultAction::Drop),
            Err(FaultError::Pattern("sdk/scopes".to_owned()))
        );
        assert_eq!(
            FaultSpec::try_new("* /**", FaultAction::status(0)),
            Err(FaultError::Status(0))
        );
        let unchecked = FaultSpec::new("* /**", FaultAction::Delay { ms: u64::MAX });
        assert_eq!(unchecked.validate(), Err(FaultError::Delay(u64::MAX)));
    }

    #[test]
    fn the_json_form_is_checked_while_reading() {
        let read = |json: &str| serde_json::from_str::<FaultSpec>(json).map_err(|e| e.to_string());

        let error = read(r#"{"route": "/sdk/scopes", "action": {"kind": "status", "status": 0}}"#)
            .unwrap_err();
        assert!(
            error.contains("fault status 0 is outside 100..=599"),
            "{error}"
        );
        let error =
            read(r#"{"route": "/x", "action": {"kind": "malformed", "status": 600}}"#).unwrap_err();
        assert!(error.contains("status 600"), "{error}");
        let error =
            read(r#"{"route": "/x", "action": {"kind": "delay", "ms": 18446744073709551615}}"#)
                .unwrap_err();
        assert!(error.contains("longer than the 600000 ms limit"), "{error}");
        assert!(read(r#"{"route": "/x", "action": {"kind": "delay", "ms": 600000}}"#).is_ok());
    }

    #[test]
    fn labels() {
        assert_eq!(FaultAction::status(503).label(), "status 503");
        assert_eq!(FaultAction::Delay { ms: 5 }.label(), "delay 5ms");
        assert_eq!(FaultAction::Drop.retry_after("1"), FaultAction::Drop);
    }
}
