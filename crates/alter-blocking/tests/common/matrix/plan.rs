//! The fault matrix's plan, the same for both frontends: the faults (columns), the
//! operations (rows), and the rules every cell must keep.

use std::time::Duration;

use alter_core::Error;
use alter_core::retry::RetryConfig;
use alter_testkit::FaultAction;

/// How many requests a fault hits: fewer than the three attempts of `fast_retry()`, so a
/// retried read meets a healthy server on its last attempt.
pub(crate) const ARMED: u32 = 2;

/// The exchange timeout of the clients under test, except in the `slow` column.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// The exchange timeout in the `slow` column.
pub(crate) const SLOW_TIMEOUT: Duration = Duration::from_millis(300);

/// How long a `slow` answer takes: well past [`SLOW_TIMEOUT`].
pub(crate) const DELAY: Duration = Duration::from_millis(1500);

/// How long the waiting flows (`await_approval`, `connect`, `authenticate`) may wait.
pub(crate) const WAIT: Duration = Duration::from_secs(2);

/// The poll interval of the waiting flows that take one.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Slack on top of each cell's computed budget: generous, because CI machines are loaded and
/// the bound only has to tell a hang from a slow cell.
const SLACK: Duration = Duration::from_secs(10);

/// The provider path the proxied and retrieve-mode rows call.
pub(crate) const PROVIDER_PATH: &str = "/echo/matrix";

/// The provider route those rows count: the provider call must run at most once.
pub(crate) const PROVIDER_ROUTE: &str = "POST /echo/matrix";

/// One column: a way for an exchange to go wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Nobody listens: the client's connection is refused.
    Refused,
    /// The connection closes before the route runs.
    Reset,
    /// The route runs, then the connection closes without an answer.
    ResetAfter,
    /// 502 instead of running the route.
    BadGateway,
    /// 503 instead of running the route.
    Unavailable,
    /// 504 instead of running the route.
    GatewayTimeout,
    /// The route runs, then 502 replaces its answer.
    BadGatewayAfter,
    /// 429 with `Retry-After: 1`.
    LimitedRetryAfter,
    /// 429 without `Retry-After`.
    Limited,
    /// The answer comes after [`DELAY`], past the client's [`SLOW_TIMEOUT`].
    Slow,
    /// The route runs; the answer stops halfway through its declared body.
    Truncated,
    /// A 200 whose body is not JSON; the route does not run.
    Malformed,
}

impl Fault {
    /// Every column, in table order.
    pub(crate) const ALL: [Self; 12] = [
        Self::Refused,
        Self::Reset,
        Self::ResetAfter,
        Self::BadGateway,
        Self::Unavailable,
        Self::GatewayTimeout,
        Self::BadGatewayAfter,
        Self::LimitedRetryAfter,
        Self::Limited,
        Self::Slow,
        Self::Truncated,
        Self::Malformed,
    ];

    /// The column header.
    pub(crate) fn header(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Reset => "reset",
            Self::ResetAfter => "reset after exec",
            Self::BadGateway => "502",
            Self::Unavailable => "503",
            Self::GatewayTimeout => "504",
            Self::BadGatewayAfter => "exec+502",
            Self::LimitedRetryAfter => "429+Retry-After",
            Self::Limited => "429",
            Self::Slow => "slow",
            Self::Truncated => "truncated",
            Self::Malformed => "malformed",
        }
    }

    /// The testkit fault to arm; `None` for a refused connection, which needs no fake.
    pub(crate) fn action(self) -> Option<FaultAction> {
        Some(match self {
            Self::Refused => return None,
            Self::Reset => FaultAction::Drop,
            Self::ResetAfter => FaultAction::ExecuteThenDrop,
            Self::BadGateway => FaultAction::status(502),
            Self::Unavailable => FaultAction::status(503),
            Self::GatewayTimeout => FaultAction::status(504),
            Self::BadGatewayAfter => FaultAction::ExecuteThenStatus {
                status: 502,
                body: None,
            },
            Self::LimitedRetryAfter => FaultAction::status(429).retry_after("1"),
            Self::Limited => FaultAction::status(429),
            Self::Slow => FaultAction::Delay {
                ms: u64::try_from(DELAY.as_millis()).unwrap_or(u64::MAX),
            },
            Self::Truncated => FaultAction::Truncate,
            Self::Malformed => FaultAction::Malformed { status: 200 },
        })
    }

    /// Whether a read that tries again finds a healthy server: every armed fault is used
    /// up by then. A refused connection lasts; a malformed success is an answer, not a
    /// failure to retry.
    pub(crate) fn is_transient(self) -> bool {
        !matches!(self, Self::Refused | Self::Malformed)
    }

    /// Whether the route ran (its effects happened) although the caller got no answer.
    fn executes(self) -> bool {
        matches!(
            self,
            Self::ResetAfter | Self::BadGatewayAfter | Self::Truncated
        )
    }

    /// The exchange timeout of the clients under test in this column.
    pub(crate) fn client_timeout(self) -> Duration {
        match self {
            Self::Slow => SLOW_TIMEOUT,
            _ => TIMEOUT,
        }
    }
}

/// How an operation may react to a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A read the call retries itself: it must recover from a transient fault.
    Read,
    /// A call that acts: it reaches the server at most once, whatever fails.
    Once,
    /// A poll loop that waits out transient failures until its deadline.
    Poll,
    /// A poll that ends at its first failure (PROTOCOL.md §9): at most one request.
    PollOnce,
}

impl Kind {
    /// The label in the table's `kind` column.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Once => "once",
            Self::Poll => "poll",
            Self::PollOnce => "poll-once",
        }
    }
}

/// One row: an operation of `App` or `Agent` that talks to the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    CreateAgent,
    CreateAgentIdempotent,
    ListAgents,
    GetAgentInfo,
    GetAgentByName,
    UpdateAgent,
    DeleteAgent,
    MintAgentKey,
    ListAgentKeys,
    DeprecateAgentKey,
    UndeprecateAgentKey,
    RevokeAgentKey,
    DeriveKey,
    RotateKey,
    RevokeKey,
    ListScopes,
    ListGrants,
    AgentListGrants,
    RevokeGrant,
    RevokeDelegation,
    AgentRevokeDelegation,
    CreateManagedSecretGrant,
    CreateConnectSession,
    CreateManagedSecretConnectSession,
    GetApprovalStatus,
    AwaitApproval,
    VerifyUserToken,
    Me,
    ProxyRequest,
    RequestToken,
    RequestProvider,
    ConnectSession,
    ConnectPoll,
    AuthenticateSession,
}

/// A row of the matrix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    /// The operation.
    pub(crate) op: Op,
    /// The label in the table.
    pub(crate) name: &'static str,
    /// The route the fault is armed on and whose hits are counted.
    pub(crate) route: &'static str,
    /// Whether `route` is on the fake provider rather than the backend.
    pub(crate) on_provider: bool,
    /// How the operation may react.
    pub(crate) kind: Kind,
    /// Another route that must be reached at most once (the provider behind a call).
    pub(crate) once_more: Option<&'static str>,
    /// Exchanges the operation makes before it can end (for the time budget).
    pub(crate) exchanges: u32,
    /// The route answers 204 with no body: a "truncated" answer is whole, so a read
    /// succeeds at once.
    pub(crate) empty_answer: bool,
    /// The protocol makes every failed answer an `AlterSDKError` (PROTOCOL.md §5.14).
    pub(crate) sdk_errors: bool,
}

const fn row(op: Op, name: &'static str, route: &'static str, kind: Kind) -> Row {
    Row {
        op,
        name,
        route,
        on_provider: false,
        kind,
        once_more: None,
        exchanges: 1,
        empty_answer: false,
        sdk_errors: false,
    }
}

/// Every row, in table order.
pub(crate) const ROWS: &[Row] = &[
    row(
        Op::CreateAgent,
        "create_agent",
        "POST /sdk/agents",
        Kind::Once,
    ),
    row(
        Op::CreateAgentIdempotent,
        "create_agent (idempotency key)",
        "POST /sdk/agents",
        Kind::Read,
    ),
    row(Op::ListAgents, "list_agents", "GET /sdk/agents", Kind::Read),
    row(
        Op::GetAgentInfo,
        "get_agent_info",
        "GET /sdk/agents/*",
        Kind::Read,
    ),
    row(
        Op::GetAgentByName,
        "get_agent_by_name",
        "GET /sdk/agents",
        Kind::Read,
    ),
    row(
        Op::UpdateAgent,
        "update_agent",
        "PATCH /sdk/agents/*",
        Kind::Once,
    ),
    row(
        Op::DeleteAgent,
        "delete_agent",
        "DELETE /sdk/agents/*",
        Kind::Once,
    ),
    row(
        Op::MintAgentKey,
        "mint_agent_key",
        "POST /sdk/agents/*/keys",
        Kind::Once,
    ),
    row(
        Op::ListAgentKeys,
        "list_agent_keys",
        "GET /sdk/agents/*/keys",
        Kind::Read,
    ),
    row(
        Op::DeprecateAgentKey,
        "deprecate_agent_key",
        "PATCH /sdk/agents/*/keys/*/deprecate",
        Kind::Once,
    ),
    row(
        Op::UndeprecateAgentKey,
        "undeprecate_agent_key",
        "PATCH /sdk/agents/*/keys/*/undeprecate",
        Kind::Once,
    ),
    row(
        Op::RevokeAgentKey,
        "revoke_agent_key",
        "DELETE /sdk/agents/*/keys/*",
        Kind::Once,
    ),
    row(
        Op::DeriveKey,
        "derive_key",
        "POST /sdk/keys/derive",
        Kind::Once,
    ),
    row(
        Op::RotateKey,
        "rotate_key",
        "POST /sdk/keys/*/rotate",
        Kind::Once,
    ),
    row(
        Op::RevokeKey,
        "revoke_key",
        "DELETE /sdk/keys/*",
        Kind::Once,
    ),
    row(Op::ListScopes, "list_scopes", "GET /sdk/scopes", Kind::Read),
    row(
        Op::ListGrants,
        "list_grants (app)",
        "POST /sdk/grants/list",
        Kind::Read,
    ),
    row(
        Op::AgentListGrants,
        "list_grants (agent)",
        "POST /sdk/grants/list",
        Kind::Read,
    ),
    row(
        Op::RevokeGrant,
        "revoke_grant",
        "POST /sdk/oauth/grants/*/revoke",
        Kind::Once,
    ),
    Row {
        empty_answer: true,
        ..row(
            Op::RevokeDelegation,
            "revoke_delegation (app)",
            "DELETE /sdk/grants/*/delegations/*",
            Kind::Read,
        )
    },
    Row {
        empty_answer: true,
        ..row(
            Op::AgentRevokeDelegation,
            "revoke_delegation (agent)",
            "DELETE /sdk/grants/*/delegations/me",
            Kind::Read,
        )
    },
    row(
        Op::CreateManagedSecretGrant,
        "create_managed_secret_grant",
        "POST /sdk/managed-secrets/*/grants",
        Kind::Once,
    ),
    row(
        Op::CreateConnectSession,
        "create_connect_session",
        "POST /sdk/oauth/connect/session",
        Kind::Once,
    ),
    row(
        Op::CreateManagedSecretConnectSession,
        "create_managed_secret_connect_session",
        "POST /sdk/managed-secrets/connect/session",
        Kind::Once,
    ),
    row(
        Op::GetApprovalStatus,
        "get_approval_status",
        "GET /sdk/approvals/*",
        Kind::Read,
    ),
    Row {
        exchanges: 2,
        ..row(
            Op::AwaitApproval,
            "await_approval",
            "GET /sdk/approvals/*",
            Kind::Poll,
        )
    },
    row(
        Op::VerifyUserToken,
        "verify_user_token",
        "POST /sdk/auth/verify-token",
        Kind::Read,
    ),
    row(Op::Me, "me (agent)", "GET /sdk/agents/me", Kind::Read),
    Row {
        once_more: Some(PROVIDER_ROUTE),
        ..row(
            Op::ProxyRequest,
            "proxy_request",
            "POST /sdk/proxy",
            Kind::Once,
        )
    },
    Row {
        once_more: Some(PROVIDER_ROUTE),
        exchanges: 2,
        ..row(
            Op::RequestToken,
            "request (token)",
            "POST /sdk/token",
            Kind::Read,
        )
    },
    Row {
        on_provider: true,
        exchanges: 2,
        ..row(
            Op::RequestProvider,
            "request (provider)",
            PROVIDER_ROUTE,
            Kind::Once,
        )
    },
    Row {
        exchanges: 2,
        ..row(
            Op::ConnectSession,
            "connect (session)",
            "POST /sdk/oauth/connect/session",
            Kind::Once,
        )
    },
    Row {
        exchanges: 2,
        ..row(
            Op::ConnectPoll,
            "connect (poll)",
            "POST /sdk/oauth/connect/session/poll",
            Kind::PollOnce,
        )
    },
    Row {
        exchanges: 2,
        sdk_errors: true,
        ..row(
            Op::AuthenticateSession,
            "authenticate (session)",
            "POST /sdk/auth/session",
            Kind::Once,
        )
    },
];

impl Row {
    /// Whether the cell makes sense: the connect poll cannot be refused on its own (the
    /// session before it goes to the same address).
    pub(crate) fn applies(&self, fault: Fault) -> bool {
        !(self.op == Op::ConnectPoll && fault == Fault::Refused)
    }

    /// The longest a cell may take: every exchange uses all its attempts, each up to the
    /// timeout plus the longest wait between attempts, plus the flows' own wait. A bound
    /// against hangs, not a speed test.
    pub(crate) fn budget(&self, fault: Fault, retry: &RetryConfig) -> Duration {
        let wait = retry.max_backoff.max(retry.max_retry_after);
        let exchange = (fault.client_timeout() + wait) * retry.max_attempts;
        let flow = match self.kind {
            Kind::Poll | Kind::PollOnce => WAIT,
            Kind::Read | Kind::Once => Duration::ZERO,
        };
        exchange * self.exchanges + flow + DELAY + SLACK
    }
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It succeeded.
    Ok,
    /// `verify_user_token` answered `None` (it never fails).
    Nothing,
    /// It failed.
    Failed {
        /// The error's short label: class without `Error`, plus the status when there is
        /// one (`Backend503`, `Timeout`, `Malformed200`).
        label: String,
        /// `may_have_reached_server()`.
        reached: bool,
        /// False for the catch-all `AlterSDKError`: a failure with no narrower type.
        typed: bool,
    },
    /// The cell does not apply.
    Skipped,
}

impl Outcome {
    /// The outcome of a call that returns a result.
    pub(crate) fn of<T>(result: Result<T, Error>) -> Self {
        match result {
            Ok(_) => Self::Ok,
            Err(error) => Self::Failed {
                label: label(&error),
                reached: error.may_have_reached_server(),
                typed: !matches!(error, Error::Sdk { .. }),
            },
        }
    }
}

/// `BackendError` 503 → `Backend503`; a malformed success → `Malformed200`.
fn label(error: &Error) -> String {
    let class = error.class_name();
    let class = class.strip_suffix("Error").unwrap_or(class);
    let class = match error {
        Error::MalformedResponse { .. } => "Malformed",
        Error::Sdk { .. } => "SDK",
        _ => class,
    };
    match error.status() {
        Some(status) => format!("{class}{status}"),
        None => class.to_owned(),
    }
}

/// What one cell observed.
#[derive(Clone, Debug)]
pub(crate) struct Observed {
    /// How the call ended.
    pub(crate) outcome: Outcome,
    /// Requests that reached the row's route.
    pub(crate) hits: usize,
    /// Requests that reached the row's `once_more` route.
    pub(crate) more_hits: usize,
    /// How long the call took.
    pub(crate) elapsed: Duration,
    /// How long it was allowed to take.
    pub(crate) budget: Duration,
}

impl Observed {
    /// A cell that does not apply.
    pub(crate) fn skipped() -> Self {
        Self {
            outcome: Outcome::Skipped,
            hits: 0,
            more_hits: 0,
            elapsed: Duration::ZERO,
            budget: Duration::ZERO,
        }
    }

    /// The cell's text: `ok/3`, `Timeout/1`, `Backend503/1`, `-`.
    pub(crate) fn text(&self) -> String {
        let hits = self.hits;
        match &self.outcome {
            Outcome::Ok => format!("ok/{hits}"),
            Outcome::Nothing => format!("none/{hits}"),
            Outcome::Failed { label, .. } => format!("{label}/{hits}"),
            Outcome::Skipped => "-".to_owned(),
        }
    }
}

/// The rules `seen` breaks in the cell (`row`, `fault`); empty when it keeps them all.
pub(crate) fn violations(row: &Row, fault: Fault, seen: &Observed, attempts: u32) -> Vec<String> {
    let mut broken = Vec::new();
    if seen.outcome == Outcome::Skipped {
        return broken;
    }

    if seen.elapsed > seen.budget {
        broken.push(format!(
            "took {:?}, past its budget of {:?}",
            seen.elapsed, seen.budget
        ));
    }
    if let Outcome::Failed {
        typed: false,
        label,
        ..
    } = &seen.outcome
    {
        if !row.sdk_errors {
            broken.push(format!("ended with an untyped error ({label})"));
        }
    }
    if seen.more_hits > 1 {
        broken.push(format!("the provider call ran {} times", seen.more_hits));
    }

    let refused = fault == Fault::Refused;
    let recovered = matches!(seen.outcome, Outcome::Ok);
    match row.kind {
        Kind::Read | Kind::Poll if refused => {
            if recovered {
                broken.push("succeeded although nobody listens".to_owned());
            }
        }
        Kind::Read | Kind::Poll if fault.is_transient() => {
            let whole = fault == Fault::Truncated && row.empty_answer;
            let expected = if whole { 1 } else { ARMED as usize + 1 };
            if !recovered || seen.hits != expected {
                broken.push(format!(
                    "a read must recover from a transient fault after {expected} requests"
                ));
            }
        }
        Kind::Read | Kind::Poll => {
            if seen.hits > attempts as usize {
                broken.push(format!(
                    "sent {} times, more than {attempts} attempts",
                    seen.hits
                ));
            }
        }
        Kind::Once | Kind::PollOnce => {
            if seen.hits > 1 {
                broken.push(format!("reached the server {} times", seen.hits));
            }
            if fault.executes() && seen.hits != 1 {
                broken.push("the fault needs the route to run once".to_owned());
            }
        }
    }

    // A refused connection proves nothing was sent; the error must say so.
    let direct = matches!(row.kind, Kind::Read | Kind::Once);
    if let Outcome::Failed { reached: true, .. } = seen.outcome {
        if refused && direct {
            broken.push("a refused connection claims it may have reached the server".to_owned());
        }
    }
    if refused && seen.hits != 0 {
        broken.push("requests counted although nobody listens".to_owned());
    }
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(outcome: Outcome, hits: usize) -> Observed {
        Observed {
            outcome,
            hits,
            more_hits: 0,
            elapsed: Duration::from_millis(10),
            budget: Duration::from_secs(1),
        }
    }

    fn failed(label: &str, reached: bool) -> Outcome {
        Outcome::Failed {
            label: label.to_owned(),
            reached,
            typed: true,
        }
    }

    fn rules(op: Op) -> Row {
        *ROWS.iter().find(|row| row.op == op).unwrap()
    }

    #[test]
    fn a_resent_act_breaks_the_at_most_once_rule() {
        let create = rules(Op::CreateAgent);
        let once = seen(failed("Backend503", true), 1);
        assert!(violations(&create, Fault::Unavailable, &once, 3).is_empty());
        let twice = seen(failed("Backend503", true), 2);
        assert_eq!(violations(&create, Fault::Unavailable, &twice, 3).len(), 1);
    }

    #[test]
    fn a_read_that_gives_up_on_a_transient_fault_is_reported() {
        let scopes = rules(Op::ListScopes);
        assert!(violations(&scopes, Fault::Reset, &seen(Outcome::Ok, 3), 3).is_empty());
        let gave_up = seen(failed("Network", true), 1);
        assert!(!violations(&scopes, Fault::Reset, &gave_up, 3).is_empty());
        let malformed = seen(failed("Malformed200", true), 1);
        assert!(violations(&scopes, Fault::Malformed, &malformed, 3).is_empty());
    }

    #[test]
    fn hangs_untyped_errors_and_refusals_that_claim_a_send_are_reported() {
        let scopes = rules(Op::ListScopes);
        let mut slow = seen(Outcome::Ok, 3);
        slow.elapsed = Duration::from_secs(2);
        assert_eq!(violations(&scopes, Fault::Slow, &slow, 3).len(), 1);

        let untyped = Outcome::Failed {
            label: "SDK".to_owned(),
            reached: true,
            typed: false,
        };
        let create = rules(Op::CreateAgent);
        assert_eq!(
            violations(&create, Fault::Reset, &seen(untyped, 1), 3).len(),
            1
        );

        let claims = seen(failed("Network", true), 0);
        assert_eq!(violations(&scopes, Fault::Refused, &claims, 3).len(), 1);
        let honest = seen(failed("Network", false), 0);
        assert!(violations(&scopes, Fault::Refused, &honest, 3).is_empty());
    }

    #[test]
    fn labels_name_the_class_and_status() {
        use alter_core::error::{ApiError, Details};

        let backend = Error::backend(ApiError::new(503, None, "down", Details::new()));
        assert_eq!(label(&backend), "Backend503");
        assert_eq!(label(&Error::malformed(200, "not JSON")), "Malformed200");
        assert_eq!(label(&Error::timeout("late", Details::new())), "Timeout");
        assert_eq!(label(&Error::sdk("failed")), "SDK");
    }

    #[test]
    fn every_fault_but_a_refusal_is_armed() {
        for fault in Fault::ALL {
            assert_eq!(
                fault.action().is_none(),
                fault == Fault::Refused,
                "{fault:?}"
            );
        }
        assert!(Fault::Slow.client_timeout() < DELAY);
    }
}
