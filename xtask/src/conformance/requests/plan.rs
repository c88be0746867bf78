//! Which call an entry makes: the entry's `call` turned into typed arguments of the public
//! API, independent of how the call is then executed or answered.

use std::time::Duration;

use alter_core::api::{
    ConnectSessionParams, CreateAgent, DeriveKey, ListAgents, ListGrants,
    ManagedSecretConnectParams, ProxyRequest, UpdateAgent,
};
use alter_core::poll::{DEFAULT_POLL_INTERVAL, DEFAULT_POLL_TIMEOUT, duration_from_secs};
use alter_types::{AgentType, GrantPolicyInput, Principal, Secret};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::fixture::{CallSpec, Object};

/// The reference default of `keys.rotate(overlap_days=…)`.
const DEFAULT_OVERLAP_DAYS: u32 = 7;

/// One call of the public API with typed arguments.
#[derive(Debug)]
pub(crate) enum PlannedCall {
    /// `agents.create`.
    AgentsCreate(CreateAgent),
    /// `agents.list`.
    AgentsList(ListAgents),
    /// `agents.get(id)`.
    AgentsGet(String),
    /// `agents.get_by_name(name)`.
    AgentsGetByName(String),
    /// `agents.update(id, …)`.
    AgentsUpdate(String, UpdateAgent),
    /// `agents.delete(id)`.
    AgentsDelete(String),
    /// `agents.mint_key(id)`.
    AgentsMintKey(String),
    /// `agents.list_keys(id)`.
    AgentsListKeys(String),
    /// `agents.deprecate_key(id, key_id)`.
    AgentsDeprecateKey(String, String),
    /// `agents.undeprecate_key(id, key_id)`.
    AgentsUndeprecateKey(String, String),
    /// `agents.revoke_key(id, key_id, force=…)`.
    AgentsRevokeKey(String, String, bool),
    /// `keys.derive`.
    KeysDerive(DeriveKey),
    /// `keys.rotate(key_id, overlap_days=…)`.
    KeysRotate(String, u32),
    /// `keys.revoke(key_id, force=…)`.
    KeysRevoke(String, bool),
    /// `scopes.list()`.
    ScopesList,
    /// `Agent.me()`.
    Me,
    /// `list_grants(…)`.
    ListGrants(ListGrants),
    /// `revoke_grant(grant_id, reason=…)`.
    RevokeGrant(String, Option<String>),
    /// `revoke_delegation(grant_id[, agent_id])`.
    RevokeDelegation(String, Option<String>),
    /// `create_managed_secret_grant(id, principal=…, grant_policy=…)`.
    CreateManagedSecretGrant(String, Principal, Option<GrantPolicyInput>),
    /// `create_connect_session(…)`.
    CreateConnectSession(ConnectSessionParams),
    /// `create_managed_secret_connect_session(…)`.
    CreateManagedSecretConnectSession(ManagedSecretConnectParams),
    /// `connect(…)`: a session, then polling until the user is done.
    Connect(Connect),
    /// `authenticate(timeout=…)`: an auth session, then polling until the user signed in.
    Authenticate(Duration),
    /// `verify_user_token(token)`.
    VerifyUserToken(String),
    /// `proxy_request(method, url, …)`.
    ProxyRequest(ProxyRequest),
    /// `get_approval_status(id)`.
    GetApprovalStatus(String),
    /// `await_approval(id, timeout=…, poll_interval=…)`.
    AwaitApproval(String, Duration, Duration),
    /// `request(method, url, …)`: retrieve mode.
    Request(Box<RetrieveArgs>),
}

/// The arguments of `connect(…)`.
#[derive(Debug)]
pub(crate) struct Connect {
    /// The session the flow opens.
    pub(crate) session: ConnectSessionParams,
    /// How long to wait for the user.
    pub(crate) timeout: Duration,
    /// How often to poll.
    pub(crate) interval: Duration,
    /// Whether the connect URL is opened in a browser.
    pub(crate) open_browser: bool,
}

/// The arguments of `request(…)`, as the reference client's keyword arguments.
#[derive(Debug, Default)]
pub(crate) struct RetrieveArgs {
    /// HTTP method.
    pub(crate) method: String,
    /// Provider URL, possibly with `{placeholders}`.
    pub(crate) url: String,
    /// Grant mode.
    pub(crate) grant_id: Option<String>,
    /// Provider mode.
    pub(crate) provider: Option<String>,
    /// Provider mode: which account of the user.
    pub(crate) account: Option<String>,
    /// Provider mode: which end user.
    pub(crate) app_user_id: Option<String>,
    /// JSON body.
    pub(crate) json: Option<Value>,
    /// Raw body bytes.
    pub(crate) body: Option<Vec<u8>>,
    /// Extra provider headers, in order.
    pub(crate) extra_headers: Vec<(String, String)>,
    /// Query parameters, in order.
    pub(crate) query_params: Option<Vec<(String, Value)>>,
    /// Values of the URL's placeholders.
    pub(crate) path_params: Vec<(String, Value)>,
    /// Why the call is made.
    pub(crate) reason: Option<String>,
    /// Explicit `X-Alter-Context` map.
    pub(crate) context: Option<Vec<(String, String)>>,
    /// Per-call caller override.
    pub(crate) caller: Option<String>,
    /// Per-call end-user token.
    pub(crate) user_token: Option<Secret>,
    /// The `Agent.trace(...)` the call ran inside.
    pub(crate) trace: Option<Trace>,
}

/// The arguments of `Agent.trace(run_id=…, thread_id=…, **metadata)`.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Run id.
    pub(crate) run_id: Option<String>,
    /// Thread id.
    pub(crate) thread_id: Option<String>,
    /// Further metadata, in order.
    pub(crate) metadata: Vec<(String, String)>,
}

/// Why an entry's call could not be planned.
pub(crate) enum Unplanned {
    /// The call has no counterpart in this SDK; the entry is skipped with this reason.
    NoCounterpart(String),
    /// The entry is malformed.
    Malformed(String),
}

/// The calls of an entry, in order: one, or each of its `steps`.
pub(crate) fn plan(spec: &CallSpec) -> Result<Vec<PlannedCall>, Unplanned> {
    match &spec.steps {
        Some(steps) => steps.iter().map(plan_one).collect(),
        None => plan_one(spec).map(|call| vec![call]),
    }
}

fn plan_one(spec: &CallSpec) -> Result<PlannedCall, Unplanned> {
    let target = spec
        .target
        .as_deref()
        .ok_or_else(|| Unplanned::Malformed("call has neither target nor steps".into()))?;
    if target == "boto3_client" {
        return Err(Unplanned::NoCounterpart(
            "boto3_client bridges to Python's boto3; alter-rs has no counterpart".into(),
        ));
    }

    let args = Args {
        target,
        positional: &spec.args,
        keywords: spec.kwargs.as_ref(),
    };
    args.plan(spec.trace.as_ref()).map_err(Unplanned::Malformed)
}

/// Positional and keyword arguments of one call, read by name.
struct Args<'a> {
    target: &'a str,
    positional: &'a [Value],
    keywords: Option<&'a Object>,
}

impl Args<'_> {
    fn plan(&self, trace: Option<&Object>) -> Result<PlannedCall, String> {
        Ok(match self.target {
            "agents.create" => PlannedCall::AgentsCreate(self.create_agent()?),
            "agents.list" => {
                let mut params = ListAgents::default();
                if let Some(include) = self.bool("include_revoked")? {
                    params.include_revoked = include;
                }
                if let Some(limit) = self.u64("limit")? {
                    params.limit = narrow(limit, "limit")?;
                }
                if let Some(offset) = self.u64("offset")? {
                    params.offset = offset;
                }
                PlannedCall::AgentsList(params)
            }
            "agents.get" => PlannedCall::AgentsGet(self.arg(0, "agent_id")?),
            "agents.get_by_name" => PlannedCall::AgentsGetByName(self.arg(0, "name")?),
            "agents.update" => {
                PlannedCall::AgentsUpdate(self.arg(0, "agent_id")?, self.update_agent()?)
            }
            "agents.delete" => PlannedCall::AgentsDelete(self.arg(0, "agent_id")?),
            "agents.mint_key" => PlannedCall::AgentsMintKey(self.arg(0, "agent_id")?),
            "agents.list_keys" => PlannedCall::AgentsListKeys(self.arg(0, "agent_id")?),
            "agents.deprecate_key" => {
                PlannedCall::AgentsDeprecateKey(self.arg(0, "agent_id")?, self.arg(1, "key_id")?)
            }
            "agents.undeprecate_key" => {
                PlannedCall::AgentsUndeprecateKey(self.arg(0, "agent_id")?, self.arg(1, "key_id")?)
            }
            "agents.revoke_key" => PlannedCall::AgentsRevokeKey(
                self.arg(0, "agent_id")?,
                self.arg(1, "key_id")?,
                self.bool("force")?.unwrap_or(false),
            ),
            "keys.derive" => PlannedCall::KeysDerive(self.derive_key()?),
            "keys.rotate" => {
                let overlap = match self.u64("overlap_days")? {
                    Some(days) => narrow(days, "overlap_days")?,
                    None => DEFAULT_OVERLAP_DAYS,
                };
                PlannedCall::KeysRotate(self.arg(0, "key_id")?, overlap)
            }
            "keys.revoke" => PlannedCall::KeysRevoke(
                self.arg(0, "key_id")?,
                self.bool("force")?.unwrap_or(false),
            ),
            "scopes.list" => PlannedCall::ScopesList,
            "me" => PlannedCall::Me,
            "list_grants" => {
                let mut params = ListGrants::default();
                params.provider_id = self.string("provider_id")?;
                if let Some(limit) = self.u64("limit")? {
                    params.limit = narrow(limit, "limit")?;
                }
                if let Some(offset) = self.u64("offset")? {
                    params.offset = offset;
                }
                PlannedCall::ListGrants(params)
            }
            "revoke_grant" => {
                PlannedCall::RevokeGrant(self.arg(0, "grant_id")?, self.string("reason")?)
            }
            "revoke_delegation" => PlannedCall::RevokeDelegation(
                self.arg(0, "grant_id")?,
                self.optional_arg(1, "agent_id")?,
            ),
            "create_managed_secret_grant" => PlannedCall::CreateManagedSecretGrant(
                self.arg(0, "managed_secret_id")?,
                self.principal()?,
                self.grant_policy()?,
            ),
            "create_connect_session" => PlannedCall::CreateConnectSession(self.connect_session()?),
            "create_managed_secret_connect_session" => {
                PlannedCall::CreateManagedSecretConnectSession(self.managed_secret_connect()?)
            }
            "connect" => PlannedCall::Connect(self.connect()?),
            "authenticate" => {
                PlannedCall::Authenticate(self.seconds("timeout", DEFAULT_POLL_TIMEOUT)?)
            }
            "verify_user_token" => PlannedCall::VerifyUserToken(self.arg(0, "token")?),
            "proxy_request" => PlannedCall::ProxyRequest(self.proxy_request()?),
            "get_approval_status" => PlannedCall::GetApprovalStatus(self.arg(0, "approval_id")?),
            "await_approval" => PlannedCall::AwaitApproval(
                self.arg(0, "approval_id")?,
                self.seconds("timeout", DEFAULT_POLL_TIMEOUT)?,
                self.seconds("poll_interval", DEFAULT_POLL_INTERVAL)?,
            ),
            "request" => PlannedCall::Request(Box::new(self.retrieve(trace)?)),
            other => return Err(format!("unknown call target {other:?}")),
        })
    }

    fn create_agent(&self) -> Result<CreateAgent, String> {
        let mut params = CreateAgent::new(self.arg(0, "name")?);
        params.display_name = self.string("display_name")?;
        params.agent_type = self
            .string("type")?
            .map(|kind| AgentType::from(kind.as_str()));
        params.scopes = self.value("scopes");
        params.metadata = self.value("metadata");
        params.policy = self.value("policy");
        params.idempotency_key = self.string("idempotency_key")?;
        Ok(params)
    }

    fn update_agent(&self) -> Result<UpdateAgent, String> {
        let mut params = UpdateAgent::default();
        params.display_name = self.string("display_name")?;
        params.metadata = self.value("metadata");
        params.scopes = self.value("scopes");
        params.policy = self.value("policy");
        Ok(params)
    }

    fn derive_key(&self) -> Result<DeriveKey, String> {
        let scopes = self.strings("scopes")?.unwrap_or_default();
        let expires_in = self
            .u64("expires_in")?
            .ok_or("keys.derive needs expires_in")?;

        let mut params = DeriveKey::new(scopes, expires_in);
        params.cidr_allowlist = self.strings("cidr_allowlist")?;
        params.name = self.string("name")?;
        params.metadata = self.value("metadata");
        Ok(params)
    }

    fn principal(&self) -> Result<Principal, String> {
        let value = self
            .value("principal")
            .ok_or("create_managed_secret_grant needs a principal")?;
        let object = value.as_object().ok_or("principal is not an object")?;
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let needed = |key: &str| text(key).ok_or_else(|| format!("principal needs {key}"));

        let principal = match text("type").as_deref() {
            Some("user") => Principal::user(needed("user_token")?, needed("label")?),
            Some("group") => Principal::group(
                needed("external_group_id")?,
                needed("idp_id")?,
                needed("label")?,
            ),
            Some("system") => Principal::system(text("label")),
            Some("agent") => Principal::agent(text("label")),
            other => return Err(format!("unknown principal type {other:?}")),
        };
        principal.map_err(|err| format!("principal: {err}"))
    }

    fn grant_policy(&self) -> Result<Option<GrantPolicyInput>, String> {
        self.value("grant_policy")
            .filter(|value| !value.is_null())
            .map(|value| {
                serde_json::from_value(value).map_err(|err| format!("grant_policy: {err}"))
            })
            .transpose()
    }

    fn connect_session(&self) -> Result<ConnectSessionParams, String> {
        let mut params = ConnectSessionParams::default();
        params.allowed_providers = self.strings("allowed_providers")?;
        params.return_url = self.string("return_url")?;
        params.allowed_origin = self.string("allowed_origin")?;
        params.metadata = self.value("metadata");
        params.grant_policy = self.grant_policy()?;
        params.required_scopes = self.value("required_scopes");
        params.agent = self.string("agent")?;
        params.user_token = self.string("user_token")?.map(Secret::from);
        Ok(params)
    }

    fn managed_secret_connect(&self) -> Result<ManagedSecretConnectParams, String> {
        let mut params = ManagedSecretConnectParams::new(
            self.arg(0, "template_slug")?,
            self.arg(1, "delegated_agent_id")?,
            self.arg(2, "user_token")?,
        );
        params.requested_ttl_seconds = self.u64("requested_ttl_seconds")?;
        params.delegated_agent_name = self.string("delegated_agent_name")?;
        params.allowed_origin = self.string("allowed_origin")?;
        params.return_url = self.string("return_url")?;
        Ok(params)
    }

    fn connect(&self) -> Result<Connect, String> {
        let mut session = ConnectSessionParams::default();
        session.allowed_providers = self.strings("providers")?;
        session.grant_policy = self.grant_policy()?;

        Ok(Connect {
            session,
            timeout: self.seconds("timeout", DEFAULT_POLL_TIMEOUT)?,
            interval: self.seconds("poll_interval", DEFAULT_POLL_INTERVAL)?,
            open_browser: self.bool("open_browser")?.unwrap_or(true),
        })
    }

    fn proxy_request(&self) -> Result<ProxyRequest, String> {
        let method = self.arg(0, "method")?;
        let mut request = ProxyRequest::new(
            method.as_str(),
            self.arg(1, "url")?,
            self.arg(2, "grant_id")?,
        );
        request.json_body = self.value("json_body");
        request.headers = self.string_pairs("headers")?.unwrap_or_default();
        request.query_params = self.pairs("query_params").unwrap_or_default();
        request.reason = self.string("reason")?;
        Ok(request)
    }

    fn retrieve(&self, trace: Option<&Object>) -> Result<RetrieveArgs, String> {
        Ok(RetrieveArgs {
            method: self.arg(0, "method")?,
            url: self.arg(1, "url")?,
            grant_id: self.string("grant_id")?,
            provider: self.string("provider")?,
            account: self.string("account")?,
            app_user_id: self.string("app_user_id")?,
            json: self.value("json"),
            body: self.bytes("body")?,
            extra_headers: self.string_pairs("extra_headers")?.unwrap_or_default(),
            query_params: self.pairs("query_params"),
            path_params: self.pairs("path_params").unwrap_or_default(),
            reason: self.string("reason")?,
            context: self.string_pairs("context")?,
            caller: self.string("caller")?,
            user_token: self.string("user_token")?.map(Secret::from),
            trace: trace.map(read_trace).transpose()?,
        })
    }

    /// A required argument, positional or by keyword.
    fn arg(&self, index: usize, name: &str) -> Result<String, String> {
        self.optional_arg(index, name)?
            .ok_or_else(|| format!("{} needs {name}", self.target))
    }

    fn optional_arg(&self, index: usize, name: &str) -> Result<Option<String>, String> {
        match self.positional.get(index) {
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(format!("{name} is not a string: {other}")),
            None => self.string(name),
        }
    }

    fn value(&self, name: &str) -> Option<Value> {
        self.keywords
            .and_then(|keywords| keywords.get(name))
            .cloned()
    }

    fn string(&self, name: &str) -> Result<Option<String>, String> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(format!("{name} is not a string: {other}")),
        }
    }

    fn strings(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|err| format!("{name} is not a list of strings: {err}")),
        }
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, String> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(flag)),
            Some(other) => Err(format!("{name} is not a bool: {other}")),
        }
    }

    fn u64(&self, name: &str) -> Result<Option<u64>, String> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("{name} is not a non-negative integer: {value}")),
        }
    }

    fn seconds(&self, name: &str, default: Duration) -> Result<Duration, String> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => {
                let seconds = value
                    .as_f64()
                    .ok_or_else(|| format!("{name} is not a number"))?;
                duration_from_secs(name, seconds).map_err(|err| err.to_string())
            }
        }
    }

    /// The (key, value) pairs of an object argument, in order.
    fn pairs(&self, name: &str) -> Option<Vec<(String, Value)>> {
        match self.value(name) {
            Some(Value::Object(object)) => Some(object.into_iter().collect()),
            _ => None,
        }
    }

    fn string_pairs(&self, name: &str) -> Result<Option<Vec<(String, String)>>, String> {
        self.pairs(name)
            .map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(key, value)| match value {
                        Value::String(text) => Ok((key, text)),
                        other => Err(format!("{name}.{key} is not a string: {other}")),
                    })
                    .collect()
            })
            .transpose()
    }

    /// A `bytes` argument, written `{"$bytes_b64": "..."}` in the file.
    fn bytes(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self.value(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => {
                let encoded = object
                    .get("$bytes_b64")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{name} is an object without $bytes_b64"))?;
                STANDARD
                    .decode(encoded)
                    .map(Some)
                    .map_err(|err| format!("{name}: {err}"))
            }
            Some(Value::String(text)) => Ok(Some(text.into_bytes())),
            Some(other) => Err(format!("{name} is not bytes: {other}")),
        }
    }
}

fn read_trace(object: &Object) -> Result<Trace, String> {
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                other => Err(format!("trace metadata {key} is not a string: {other}")),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("trace metadata is not an object: {other}")),
    };
    Ok(Trace {
        run_id: text("run_id"),
        thread_id: text("thread_id"),
        metadata,
    })
}

fn narrow(value: u64, name: &str) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("{name} {value} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> CallSpec {
        serde_json::from_str(json).unwrap()
    }

    fn planned(json: &str) -> Vec<PlannedCall> {
        match plan(&spec(json)) {
            Ok(calls) => calls,
            Err(Unplanned::NoCounterpart(reason) | Unplanned::Malformed(reason)) => {
                panic!("{reason}")
            }
        }
    }

    #[test]
    fn keys_rotate_defaults_to_a_week_of_overlap() {
        let calls = planned(r#"{"target":"keys.rotate","kwargs":{"key_id":"k"}}"#);

        assert!(matches!(&calls[..], [PlannedCall::KeysRotate(id, 7)] if id == "k"));
    }

    #[test]
    fn steps_plan_in_order() {
        let calls = planned(
            r#"{"steps":[{"target":"authenticate","kwargs":{"timeout":60}},{"target":"list_grants"}]}"#,
        );

        assert!(matches!(
            &calls[..],
            [PlannedCall::Authenticate(timeout), PlannedCall::ListGrants(_)] if *timeout == Duration::from_secs(60)
        ));
    }

    #[test]
    fn raw_bytes_arguments_are_decoded() {
        let calls = planned(
            r#"{"target":"request","args":["PUT","http://h/x"],"kwargs":{"grant_id":"g","body":{"$bytes_b64":"AAE="}}}"#,
        );

        let [PlannedCall::Request(args)] = &calls[..] else {
            panic!("not a request")
        };
        assert_eq!(args.body.as_deref(), Some(&[0u8, 1][..]));
        assert_eq!(args.grant_id.as_deref(), Some("g"));
    }

    #[test]
    fn boto3_is_a_call_without_counterpart() {
        let result = plan(&spec(r#"{"target":"boto3_client","args":["dynamodb"]}"#));

        assert!(matches!(result, Err(Unplanned::NoCounterpart(_))));
    }

    #[test]
    fn unknown_targets_are_malformed() {
        assert!(matches!(
            plan(&spec(r#"{"target":"nope"}"#)),
            Err(Unplanned::Malformed(_))
        ));
    }
}
