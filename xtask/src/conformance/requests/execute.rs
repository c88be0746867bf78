//! Executes planned calls on the core: each [`PlannedCall`] becomes the engine's operation,
//! driven to its end by a [`Driver`]. Where the answers come from is the driver's business.

use std::sync::Arc;

use alter_core::api::RetrieveRequest;
use alter_core::poll::{AwaitApproval, AwaitConnect, AwaitSignIn};
use alter_core::retrieve::context::{ParentAgent, TraceScope, build_trace_context};
use alter_core::{Engine, Error, Operation};
use alter_types::Secret;
use serde_json::Value;

use super::driver::{Driver, Runaway};
use super::plan::{Connect, PlannedCall, RetrieveArgs, Trace};

/// Which public class the reference client used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientClass {
    /// `App`: the operator's client.
    App,
    /// `Agent`: an agent's client (also `App.get_agent(...)`).
    Agent,
}

/// One client and the state its calls share.
#[derive(Debug)]
pub(crate) struct Session {
    /// The engine every call goes through.
    pub(crate) engine: Arc<Engine>,
    /// App or Agent.
    pub(crate) class: ClientClass,
    /// What the client's user-token getter answers; `authenticate` installs its token here.
    pub(crate) getter_token: Option<Secret>,
    /// The agent name `Agent.trace` records: the client's caller.
    pub(crate) trace_agent: Option<String>,
    /// Every URL the client opened in a browser.
    pub(crate) browser_opened: Vec<String>,
}

/// How one call ended, or the driver's own failure.
type Ended = Result<Result<(), Error>, Runaway>;

impl Session {
    /// Executes `call` to its end.
    pub(crate) fn execute(&mut self, call: PlannedCall, driver: &mut Driver<'_>) -> Ended {
        let engine = Arc::clone(&self.engine);
        match call {
            PlannedCall::AgentsCreate(params) => drive(driver, engine.agents_create(params)),
            PlannedCall::AgentsList(params) => drive(driver, engine.agents_list(params)),
            PlannedCall::AgentsGet(id) => drive(driver, engine.agents_get(&id)),
            PlannedCall::AgentsGetByName(name) => drive(driver, engine.agents_get_by_name(&name)),
            PlannedCall::AgentsUpdate(id, params) => {
                drive(driver, engine.agents_update(&id, params))
            }
            PlannedCall::AgentsDelete(id) => drive(driver, engine.agents_delete(&id)),
            PlannedCall::AgentsMintKey(id) => drive(driver, engine.agents_mint_key(&id)),
            PlannedCall::AgentsListKeys(id) => drive(driver, engine.agents_list_keys(&id)),
            PlannedCall::AgentsDeprecateKey(id, key) => {
                drive(driver, engine.agents_deprecate_key(&id, &key))
            }
            PlannedCall::AgentsUndeprecateKey(id, key) => {
                drive(driver, engine.agents_undeprecate_key(&id, &key))
            }
            PlannedCall::AgentsRevokeKey(id, key, force) => {
                drive(driver, engine.agents_revoke_key(&id, &key, force))
            }
            PlannedCall::KeysDerive(params) => drive(driver, engine.keys_derive(params)),
            PlannedCall::KeysRotate(id, overlap) => drive(driver, engine.keys_rotate(&id, overlap)),
            PlannedCall::KeysRevoke(id, force) => drive(driver, engine.keys_revoke(&id, force)),
            PlannedCall::ScopesList => drive(driver, Ok(engine.scopes_list())),
            PlannedCall::Me => drive(driver, Ok(engine.agents_me())),
            PlannedCall::ListGrants(params) => {
                // Agents never send the end user's token with a grant list.
                let token = match self.class {
                    ClientClass::App => self.getter_token.as_ref(),
                    ClientClass::Agent => None,
                };
                drive(driver, engine.list_grants(params, token))
            }
            PlannedCall::RevokeGrant(id, reason) => drive(
                driver,
                engine.revoke_grant(&id, reason.as_deref(), self.getter_token.as_ref()),
            ),
            PlannedCall::RevokeDelegation(id, agent) => {
                drive(driver, engine.revoke_delegation(&id, agent.as_deref()))
            }
            PlannedCall::CreateManagedSecretGrant(id, principal, policy) => drive(
                driver,
                engine.create_managed_secret_grant(&id, &principal, policy.as_ref()),
            ),
            PlannedCall::CreateConnectSession(params) => drive(
                driver,
                engine.create_connect_session(params, self.getter_token.as_ref()),
            ),
            PlannedCall::CreateManagedSecretConnectSession(params) => {
                drive(driver, engine.create_managed_secret_connect_session(params))
            }
            PlannedCall::Connect(connect) => self.connect(connect, driver),
            PlannedCall::Authenticate(timeout) => self.authenticate(timeout, driver),
            PlannedCall::VerifyUserToken(token) => match engine.verify_user_token(&token) {
                Some(operation) => done(driver.run(operation)),
                None => Ok(Ok(())),
            },
            PlannedCall::ProxyRequest(request) => drive(driver, engine.proxy_request(request)),
            PlannedCall::GetApprovalStatus(id) => drive(driver, engine.get_approval_status(&id)),
            PlannedCall::AwaitApproval(id, timeout, interval) => {
                drive(driver, AwaitApproval::new(&engine, &id, timeout, interval))
            }
            PlannedCall::Request(args) => match self.retrieve_request(*args) {
                Ok(request) => drive(driver, engine.request(request, self.getter_token.as_ref())),
                Err(error) => Ok(Err(error)),
            },
        }
    }

    /// `connect`: open a session, show its URL when asked, poll until the user is done.
    fn connect(&mut self, connect: Connect, driver: &mut Driver<'_>) -> Ended {
        let engine = Arc::clone(&self.engine);
        let opened =
            match engine.create_connect_session(connect.session, self.getter_token.as_ref()) {
                Ok(call) => driver.run(call)?,
                Err(error) => Err(error),
            };
        let session = match opened {
            Ok(session) => session,
            Err(error) => return Ok(Err(error)),
        };

        if connect.open_browser {
            self.browser_opened.push(session.connect_url.clone());
        }
        let wait = AwaitConnect::new(
            &engine,
            session.session_token,
            connect.timeout,
            connect.interval,
        );
        done(driver.run(wait))
    }

    /// `authenticate`: open an auth session, show its URL, poll until the user signed in,
    /// then answer later calls' token requests with the new user token.
    fn authenticate(&mut self, timeout: std::time::Duration, driver: &mut Driver<'_>) -> Ended {
        let engine = Arc::clone(&self.engine);
        let session = match driver.run(engine.create_auth_session())? {
            Ok(session) => session,
            Err(error) => return Ok(Err(error)),
        };

        self.browser_opened.push(session.auth_url.clone());
        match driver.run(AwaitSignIn::new(&engine, session.session_token, timeout))? {
            Ok(result) => {
                self.getter_token = Some(result.user_token);
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    /// The core's request for `request(...)`; inside `Agent.trace(...)` the trace's context
    /// is the call's context.
    fn retrieve_request(&self, args: RetrieveArgs) -> Result<RetrieveRequest, Error> {
        let (mut request, trace) = retrieve_parts(args)?;
        if let (None, Some(trace)) = (&request.context, trace) {
            // A trace without a caller names the agent per instance; no vector records one.
            let agent = self.trace_agent.as_deref().unwrap_or("agent-local");
            request.context = Some(build_trace_context(&TraceScope {
                enclosing: None,
                agent,
                parent: ParentAgent::Inherit,
                run_id: trace.run_id.as_deref(),
                thread_id: trace.thread_id.as_deref(),
                metadata: &trace.metadata,
            })?);
        }
        Ok(request)
    }
}

/// The core's request for `request(...)` with only its explicit context, and the
/// `Agent.trace(...)` the call ran inside: how a trace becomes the context is the caller's
/// business (the core runner builds it, a real frontend makes it ambient).
pub(crate) fn retrieve_parts(
    args: RetrieveArgs,
) -> Result<(RetrieveRequest, Option<Trace>), Error> {
    let mut request = match (args.grant_id, args.provider) {
        (Some(grant_id), None) => RetrieveRequest::grant(args.method.as_str(), args.url, grant_id),
        (None, Some(provider)) => {
            let mut request = RetrieveRequest::provider(args.method.as_str(), args.url, provider);
            if let alter_core::api::GrantTarget::Provider {
                account,
                app_user_id,
                ..
            } = &mut request.target
            {
                *account = args.account;
                *app_user_id = args.app_user_id;
            }
            request
        }
        _ => return Err(Error::sdk("give exactly one of grant_id and provider")),
    };

    request.json = args.json;
    request.body = args.body;
    request.extra_headers = args.extra_headers;
    request.query_params = args.query_params.unwrap_or_default();
    request.path_params = args
        .path_params
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => (name, text),
            other => (name, other.to_string()),
        })
        .collect();
    request.reason = args.reason;
    request.caller = args.caller;
    request.user_token = args.user_token;
    request.context = args.context;
    Ok((request, args.trace))
}

/// Drives an operation built by a constructor that may refuse its input before any IO.
fn drive<O: Operation>(driver: &mut Driver<'_>, built: Result<O, Error>) -> Ended {
    match built {
        Ok(operation) => done(driver.run(operation)),
        Err(error) => Ok(Err(error)),
    }
}

/// Keeps only whether the call succeeded.
fn done<T>(ended: Result<Result<T, Error>, Runaway>) -> Ended {
    ended.map(|result| result.map(|_| ()))
}
