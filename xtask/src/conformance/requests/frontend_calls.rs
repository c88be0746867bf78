//! The planned calls on a real frontend's `App` and `Agent`, written once for both
//! frontends: [`define_calls!`] expands to the same client construction, call mapping and
//! closing in `alter-blocking` (no keywords) and `alter-async` (`async` / `.await`), as the
//! frontends' own surface is expanded from one macro.
//!
//! The invoking module provides, next to the expansion:
//!
//! - `token_getter(token: String)`: the builder's user-token getter answering `token`;
//! - `request_in_trace(agent, request, trace) -> Result<(), Error>` (`async` in the async
//!   frontend): `agent.request(request)`, inside `Agent::trace` when `trace` is set.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use alter_core::Error;
use alter_core::retry::RetryConfig;
use alter_core::surface::{AwaitOptions, ConnectOptions, TraceOptions};
use alter_types::RetryInfo;

use super::fixture::ClientSetup;
use super::plan::{Connect, PlannedCall, Trace};

/// How the entry's client is built.
#[derive(Debug)]
pub(crate) struct Setup<'a> {
    /// The entry's `client_config`.
    pub(crate) config: &'a ClientSetup,
    /// The replay server's origin.
    pub(crate) base_url: &'a str,
    /// The reference client's User-Agent (audit rows list it).
    pub(crate) user_agent: &'a str,
}

/// What a run of an entry's calls on a real client ended with.
#[derive(Debug)]
pub(crate) struct ClientRun {
    /// How the last call made ended.
    pub(crate) outcome: Result<(), Error>,
    /// `actor_id()` of the client the calls went to, after the calls.
    pub(crate) actor_id: Option<String>,
    /// `last_retry_info()` of that client.
    pub(crate) last_retry_info: Option<RetryInfo>,
}

/// One attempt in all: the fixtures record no retry, so one would be a difference.
pub(crate) fn no_retries() -> RetryConfig {
    RetryConfig {
        max_attempts: 1,
        ..RetryConfig::default()
    }
}

/// `await_approval`'s options.
pub(crate) fn await_options(timeout: Duration, interval: Duration) -> AwaitOptions {
    AwaitOptions::default()
        .timeout(timeout)
        .poll_interval(interval)
}

/// `connect`'s options; whether the URL is opened is the URL log's business.
pub(crate) fn connect_options(connect: Connect) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.session = connect.session;
    options.wait = await_options(connect.timeout, connect.interval);
    options
}

/// `Agent::trace`'s options; the parent agent is inherited, as in the reference client.
pub(crate) fn trace_options(trace: Trace) -> TraceOptions {
    let mut options = TraceOptions::default();
    options.run_id = trace.run_id;
    options.thread_id = trace.thread_id;
    options.metadata = trace.metadata;
    options
}

/// Keeps only whether a call succeeded.
pub(crate) fn done<T>(result: Result<T, Error>) -> Result<(), Error> {
    result.map(|_| ())
}

/// The reason a call cannot be made on a client of `class`.
pub(crate) fn unavailable(call: &PlannedCall, class: &str) -> String {
    format!("{class} has no counterpart of {}", target_name(call))
}

/// The reference client's name of a call.
fn target_name(call: &PlannedCall) -> &'static str {
    match call {
        PlannedCall::AgentsCreate(_) => "agents.create",
        PlannedCall::AgentsList(_) => "agents.list",
        PlannedCall::AgentsGet(_) => "agents.get",
        PlannedCall::AgentsGetByName(_) => "agents.get_by_name",
        PlannedCall::AgentsUpdate(..) => "agents.update",
        PlannedCall::AgentsDelete(_) => "agents.delete",
        PlannedCall::AgentsMintKey(_) => "agents.mint_key",
        PlannedCall::AgentsListKeys(_) => "agents.list_keys",
        PlannedCall::AgentsDeprecateKey(..) => "agents.deprecate_key",
        PlannedCall::AgentsUndeprecateKey(..) => "agents.undeprecate_key",
        PlannedCall::AgentsRevokeKey(..) => "agents.revoke_key",
        PlannedCall::KeysDerive(_) => "keys.derive",
        PlannedCall::KeysRotate(..) => "keys.rotate",
        PlannedCall::KeysRevoke(..) => "keys.revoke",
        PlannedCall::ScopesList => "scopes.list",
        PlannedCall::Me => "me",
        PlannedCall::ListGrants(_) => "list_grants",
        PlannedCall::RevokeGrant(..) => "revoke_grant",
        PlannedCall::RevokeDelegation(_, Some(_)) => "revoke_delegation(grant_id, agent_id)",
        PlannedCall::RevokeDelegation(_, None) => "revoke_delegation(grant_id)",
        PlannedCall::CreateManagedSecretGrant(..) => "create_managed_secret_grant",
        PlannedCall::CreateConnectSession(_) => "create_connect_session",
        PlannedCall::CreateManagedSecretConnectSession(_) => {
            "create_managed_secret_connect_session"
        }
        PlannedCall::Connect(_) => "connect",
        PlannedCall::Authenticate(_) => "authenticate",
        PlannedCall::VerifyUserToken(_) => "verify_user_token",
        PlannedCall::ProxyRequest(_) => "proxy_request",
        PlannedCall::GetApprovalStatus(_) => "get_approval_status",
        PlannedCall::AwaitApproval(..) => "await_approval",
        PlannedCall::Request(_) => "request",
    }
}

/// Every URL a client handed to its URL handler, and what the reference client did with
/// each: open it in a browser, or only show it (`connect(open_browser=False)`).
#[derive(Clone, Debug, Default)]
pub(crate) struct UrlLog {
    handed: Arc<Mutex<Vec<Handed>>>,
}

#[derive(Debug)]
struct Handed {
    what: String,
    url: String,
    opened: bool,
    label: Option<&'static str>,
}

/// What a call does with the URLs it hands over.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UrlUse {
    opened: bool,
    label: Option<&'static str>,
}

impl UrlUse {
    /// The reference client opened the URLs of `call` unless it was a `connect` told not
    /// to; `connect` labels them `connect`, `authenticate` `sign-in`.
    pub(crate) fn of(call: &PlannedCall) -> Self {
        match call {
            PlannedCall::Connect(connect) => Self {
                opened: connect.open_browser,
                label: Some("connect"),
            },
            PlannedCall::Authenticate(_) => Self {
                opened: true,
                label: Some("sign-in"),
            },
            _ => Self {
                opened: true,
                label: None,
            },
        }
    }
}

impl UrlLog {
    /// The builder's URL handler: writes every URL down.
    pub(crate) fn handler(&self) -> impl Fn(&str, &str) + Send + Sync + 'static {
        let log = self.clone();
        move |what, url| {
            log.lock().push(Handed {
                what: what.to_owned(),
                url: url.to_owned(),
                opened: true,
                label: None,
            });
        }
    }

    /// How many URLs were handed so far.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Marks the URLs handed since `start` with what the call that handed them does.
    pub(crate) fn settle(&self, start: usize, used: UrlUse) {
        for handed in self.lock().iter_mut().skip(start) {
            handed.opened = used.opened;
            handed.label = used.label;
        }
    }

    /// Differences from the URLs the reference client opened in a browser.
    pub(crate) fn differences(&self, expected: &[String]) -> Vec<String> {
        let handed = self.lock();
        let mut differences: Vec<String> = handed
            .iter()
            .filter(|handed| handed.label.is_some_and(|label| label != handed.what))
            .map(|handed| {
                format!(
                    "url handler: got {:?} for a {} URL",
                    handed.what,
                    handed.label.unwrap_or_default()
                )
            })
            .collect();

        let opened: Vec<&String> = handed
            .iter()
            .filter(|handed| handed.opened)
            .map(|handed| &handed.url)
            .collect();
        if opened.iter().copied().ne(expected.iter()) {
            differences.push(format!("browser: expected {expected:?}, opened {opened:?}"));
        }
        differences
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Handed>> {
        self.handed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `$body` with `$c` bound to whichever client `$client` holds (`Client` of
/// [`define_calls!`]).
macro_rules! on_either {
    ($client:expr, $c:ident => $body:expr) => {
        match $client {
            Client::App($c) => $body,
            Client::Agent($c) => $body,
        }
    };
}
pub(crate) use on_either;

/// Expands to a module `calls` whose `drive` builds the entry's client on frontend
/// `$krate`, makes the planned calls, closes the client and reports how it went.
macro_rules! define_calls {
    ($krate:ident, [$($async:tt)*], [$($await:tt)*]) => {
        mod calls {
            use alter_core::Error;
            use alter_types::CallerType;

            use super::{request_in_trace, token_getter};
            use $crate::conformance::requests::describe;
            use $crate::conformance::requests::execute::retrieve_parts;
            use $crate::conformance::requests::frontend_calls::{
                ClientRun, Setup, UrlLog, UrlUse, await_options, connect_options, done,
                no_retries, on_either, unavailable,
            };
            use $crate::conformance::requests::plan::PlannedCall;

            /// The client the calls go to: the frontend's `App` or `Agent`.
            #[derive(Clone)]
            enum Client {
                App($krate::App),
                Agent($krate::Agent),
            }

            impl Client {
                fn class(&self) -> &'static str {
                    match self {
                        Self::App(_) => "App",
                        Self::Agent(_) => "Agent",
                    }
                }
            }

            /// Builds the client, makes `calls` in order until one fails, then closes the
            /// client, which flushes its background uploads.
            pub(crate) $($async)* fn drive(
                setup: &Setup<'_>,
                calls: Vec<PlannedCall>,
                urls: &UrlLog,
            ) -> Result<ClientRun, String> {
                let (root, client) = build(setup, urls)?;

                let mut outcome = Ok(());
                let mut unmapped = None;
                for call in calls {
                    let start = urls.len();
                    let used = UrlUse::of(&call);
                    match call_one(&client, call)$($await)* {
                        Ok(result) => outcome = result,
                        Err(reason) => unmapped = Some(reason),
                    }
                    urls.settle(start, used);
                    // A call that raises ends the entry, as the exception did in the
                    // reference client.
                    if unmapped.is_some() || outcome.is_err() {
                        break;
                    }
                }

                on_either!(&root, c => c.close()$($await)*);
                if let Some(reason) = unmapped {
                    return Err(reason);
                }
                Ok(ClientRun {
                    outcome,
                    actor_id: on_either!(&client, c => c.actor_id()),
                    last_retry_info: on_either!(&client, c => c.last_retry_info()),
                })
            }

            /// The root client as configured, and the one the calls go to: the root, or an
            /// agent it impersonates, possibly constrained.
            fn build(setup: &Setup<'_>, urls: &UrlLog) -> Result<(Client, Client), String> {
                let config = setup.config;
                let built = |error: Error| describe("client", &error);
                let root = match config.class.as_str() {
                    "App" => {
                        let mut builder = $krate::App::builder()
                            .api_key(config.api_key.as_str())
                            .base_url(setup.base_url)
                            .user_agent(setup.user_agent)
                            .retry(no_retries())
                            .url_handler(urls.handler());
                        if let Some(caller) = &config.caller {
                            builder = builder.caller(caller.as_str());
                        }
                        if let Some(kind) = &config.caller_type {
                            builder = builder.caller_type(CallerType::from(kind.as_str()));
                        }
                        if let Some(token) = &config.user_token_getter_returns {
                            builder = builder.user_token_getter(token_getter(token.clone()));
                        }
                        Client::App(builder.build().map_err(built)?)
                    }
                    "Agent" => {
                        let mut builder = $krate::Agent::builder()
                            .api_key(config.api_key.as_str())
                            .base_url(setup.base_url)
                            .user_agent(setup.user_agent)
                            .retry(no_retries())
                            .url_handler(urls.handler());
                        if let Some(caller) = &config.caller {
                            builder = builder.caller(caller.as_str());
                        }
                        if let Some(token) = &config.user_token_getter_returns {
                            builder = builder.user_token_getter(token_getter(token.clone()));
                        }
                        Client::Agent(builder.build().map_err(built)?)
                    }
                    other => return Err(format!("unknown client class {other:?}")),
                };

                let client = match (&config.get_agent, &root) {
                    (Some(agent_id), Client::App(app)) => Client::Agent(
                        app.get_agent(agent_id)
                            .map_err(|error| describe("get_agent", &error))?,
                    ),
                    (Some(_), Client::Agent(_)) => {
                        return Err("get_agent needs an App".to_owned());
                    }
                    (None, _) => root.clone(),
                };
                let Some(scopes) = &config.with_constraints else {
                    return Ok((root, client));
                };
                let constrained = |error: Error| describe("with_constraints", &error);
                let client = match &client {
                    Client::App(app) => {
                        Client::App(app.with_constraints(scopes).map_err(constrained)?)
                    }
                    Client::Agent(agent) => {
                        Client::Agent(agent.with_constraints(scopes).map_err(constrained)?)
                    }
                };
                Ok((root, client))
            }

            /// Makes one call; `Err` when the client's class has no such call.
            $($async)* fn call_one(
                client: &Client,
                call: PlannedCall,
            ) -> Result<Result<(), Error>, String> {
                use PlannedCall as Call;

                Ok(match (call, client) {
                    (Call::AgentsCreate(params), Client::App(app)) => {
                        done(app.create_agent(params)$($await)*)
                    }
                    (Call::AgentsList(params), Client::App(app)) => {
                        done(app.list_agents(params)$($await)*)
                    }
                    (Call::AgentsGet(id), Client::App(app)) => {
                        done(app.get_agent_info(&id)$($await)*)
                    }
                    (Call::AgentsGetByName(name), Client::App(app)) => {
                        done(app.get_agent_by_name(&name)$($await)*)
                    }
                    (Call::AgentsUpdate(id, params), Client::App(app)) => {
                        done(app.update_agent(&id, params)$($await)*)
                    }
                    (Call::AgentsDelete(id), Client::App(app)) => {
                        done(app.delete_agent(&id)$($await)*)
                    }
                    (Call::AgentsMintKey(id), Client::App(app)) => {
                        done(app.mint_agent_key(&id)$($await)*)
                    }
                    (Call::AgentsListKeys(id), Client::App(app)) => {
                        done(app.list_agent_keys(&id)$($await)*)
                    }
                    (Call::AgentsDeprecateKey(id, key), Client::App(app)) => {
                        done(app.deprecate_agent_key(&id, &key)$($await)*)
                    }
                    (Call::AgentsUndeprecateKey(id, key), Client::App(app)) => {
                        done(app.undeprecate_agent_key(&id, &key)$($await)*)
                    }
                    (Call::AgentsRevokeKey(id, key, force), Client::App(app)) => {
                        done(app.revoke_agent_key(&id, &key, force)$($await)*)
                    }
                    (Call::KeysDerive(params), client) => {
                        on_either!(client, c => done(c.derive_key(params)$($await)*))
                    }
                    (Call::KeysRotate(id, overlap), client) => {
                        on_either!(client, c => done(c.rotate_key(&id, overlap)$($await)*))
                    }
                    (Call::KeysRevoke(id, force), client) => {
                        on_either!(client, c => done(c.revoke_key(&id, force)$($await)*))
                    }
                    (Call::ScopesList, client) => {
                        on_either!(client, c => done(c.list_scopes()$($await)*))
                    }
                    (Call::Me, Client::Agent(agent)) => done(agent.me()$($await)*),
                    (Call::ListGrants(params), client) => {
                        on_either!(client, c => done(c.list_grants(params)$($await)*))
                    }
                    (Call::RevokeGrant(id, reason), Client::App(app)) => {
                        done(app.revoke_grant(&id, reason.as_deref())$($await)*)
                    }
                    (Call::RevokeDelegation(id, Some(agent_id)), Client::App(app)) => {
                        done(app.revoke_delegation(&id, &agent_id)$($await)*)
                    }
                    (Call::RevokeDelegation(id, None), Client::Agent(agent)) => {
                        done(agent.revoke_delegation(&id)$($await)*)
                    }
                    (Call::CreateManagedSecretGrant(id, principal, policy), Client::App(app)) => {
                        done(
                            app.create_managed_secret_grant(&id, &principal, policy.as_ref())
                                $($await)*,
                        )
                    }
                    (Call::CreateConnectSession(params), client) => {
                        on_either!(client, c => done(c.create_connect_session(params)$($await)*))
                    }
                    (Call::CreateManagedSecretConnectSession(params), Client::App(app)) => {
                        done(app.create_managed_secret_connect_session(params)$($await)*)
                    }
                    (Call::Connect(connect), client) => {
                        let options = connect_options(connect);
                        on_either!(client, c => done(c.connect(options)$($await)*))
                    }
                    (Call::Authenticate(timeout), Client::App(app)) => {
                        done(app.authenticate(timeout)$($await)*)
                    }
                    (Call::VerifyUserToken(token), Client::App(app)) => {
                        // Never an error: a subject or none.
                        let _subject = app.verify_user_token(&token)$($await)*;
                        Ok(())
                    }
                    (Call::ProxyRequest(request), client) => {
                        on_either!(client, c => done(c.proxy_request(request)$($await)*))
                    }
                    (Call::GetApprovalStatus(id), client) => {
                        on_either!(client, c => done(c.get_approval_status(&id)$($await)*))
                    }
                    (Call::AwaitApproval(id, timeout, interval), client) => {
                        let options = await_options(timeout, interval);
                        on_either!(client, c => done(c.await_approval(&id, options)$($await)*))
                    }
                    (Call::Request(args), client) => {
                        let (request, trace) = match retrieve_parts(*args) {
                            Ok(parts) => parts,
                            Err(error) => return Ok(Err(error)),
                        };
                        match (client, trace) {
                            (Client::Agent(agent), trace) => {
                                request_in_trace(agent, request, trace)$($await)*
                            }
                            (Client::App(app), None) => done(app.request(request)$($await)*),
                            (Client::App(_), Some(_)) => {
                                return Err("Agent.trace needs an Agent".to_owned());
                            }
                        }
                    }
                    (call, client) => return Err(unavailable(&call, client.class())),
                })
            }
        }
    };
}
pub(crate) use define_calls;

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(open_browser: bool) -> PlannedCall {
        PlannedCall::Connect(Connect {
            session: Default::default(),
            timeout: Duration::from_secs(1),
            interval: Duration::from_secs(1),
            open_browser,
        })
    }

    #[test]
    fn urls_shown_without_a_browser_are_not_counted_as_opened() {
        let log = UrlLog::default();
        let handler = log.handler();

        handler("connect", "http://h/shown");
        log.settle(0, UrlUse::of(&connect(false)));
        handler("sign-in", "http://h/opened");
        log.settle(1, UrlUse::of(&PlannedCall::Authenticate(Duration::ZERO)));

        assert!(log.differences(&["http://h/opened".to_owned()]).is_empty());
        assert_eq!(
            log.differences(&[]),
            ["browser: expected [], opened [\"http://h/opened\"]"]
        );
    }

    #[test]
    fn urls_must_carry_the_label_of_their_call() {
        let log = UrlLog::default();

        log.handler()("sign-in", "http://h/c");
        log.settle(0, UrlUse::of(&connect(true)));

        assert_eq!(
            log.differences(&["http://h/c".to_owned()]),
            ["url handler: got \"sign-in\" for a connect URL"]
        );
    }

    #[test]
    fn calls_missing_on_a_class_name_the_reference_method() {
        assert_eq!(
            unavailable(&PlannedCall::Me, "App"),
            "App has no counterpart of me"
        );
    }
}
