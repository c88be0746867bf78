//! What a test can ask the fake to create: grants and their credentials.
//!
//! Both types deserialize from the JSON the control API accepts (`POST /_testkit/grants`), so
//! a suite in any language can create the same grants a Rust test builds with the methods
//! below. Every field is optional on the wire.
//!
//! ```
//! use alter_testkit::{CredentialSpec, GrantSpec, GrantStatus};
//!
//! let spec = GrantSpec::oauth("google")
//!     .account("bob@example.com")
//!     .user("user-bob")
//!     .credential(CredentialSpec::api_key_header("X-Api-Key"))
//!     .status(GrantStatus::Expired);
//! assert_eq!(spec.provider_id, "google");
//!
//! let from_json: GrantSpec = serde_json::from_str(
//!     r#"{"provider_id": "google", "credential": {"style": "query_param"}, "requires_approval": true}"#,
//! )?;
//! assert!(from_json.requires_approval);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use alter_core::retrieve::injection::{Credential, InjectionRule, SIGV4_FORMAT_PREFIX};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The injection styles of PROTOCOL.md §6.4 and §6.5, as shorthands for [`CredentialSpec`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InjectionStyle {
    /// `Authorization: Bearer <token>`.
    #[default]
    Bearer,
    /// `X-Api-Key: <token>` (a custom header with format `{token}`).
    ApiKeyHeader,
    /// `X-Api-Key: <token>` plus the query parameter `api_key=<token>`.
    QueryParam,
    /// `Authorization: Bearer <token>` plus `X-Account-Id` from an additional credential.
    MultiHeader,
    /// AWS Signature V4 with an access key id, `secret_key`, `region` and `service`.
    AwsSigv4,
}

/// The credential a grant hands out and how the SDK must inject it.
///
/// Unset fields take the defaults of [`Self::style`]; the access token is generated when
/// not given. Its `Debug` output hides the token and the additional credential values.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CredentialSpec {
    /// Which style the other fields default from.
    pub style: InjectionStyle,
    /// The access token (for SigV4: the access key id).
    pub access_token: Option<String>,
    /// The header carrying the credential.
    pub injection_header: Option<String>,
    /// The header value format, with a `{token}` placeholder.
    pub injection_format: Option<String>,
    /// Extra named secrets (`secret_key`, `region`, `account_id`, …).
    pub additional_credentials: Option<IndexMap<String, String>>,
    /// Extra injections: `{"target", "key", "value_source"}`.
    pub additional_injections: Option<Vec<InjectionSpec>>,
}

/// One entry of `additional_injections` (PROTOCOL.md §5.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectionSpec {
    /// `header` or `query_param`.
    pub target: String,
    /// Header or query parameter name.
    pub key: String,
    /// `token` or `additional_credentials.<field>`.
    pub value_source: String,
}

impl CredentialSpec {
    /// A credential of the given style with every default.
    pub fn style(style: InjectionStyle) -> Self {
        Self {
            style,
            ..Self::default()
        }
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer() -> Self {
        Self::style(InjectionStyle::Bearer)
    }

    /// `<header>: <token>`.
    pub fn api_key_header(header: impl Into<String>) -> Self {
        Self {
            injection_header: Some(header.into()),
            ..Self::style(InjectionStyle::ApiKeyHeader)
        }
    }

    /// `X-Api-Key: <token>` plus the query parameter `<key>=<token>`.
    pub fn query_param(key: impl Into<String>) -> Self {
        Self {
            additional_injections: Some(vec![InjectionSpec {
                target: "query_param".into(),
                key: key.into(),
                value_source: "token".into(),
            }]),
            ..Self::style(InjectionStyle::QueryParam)
        }
    }

    /// `Authorization: Bearer <token>` plus `X-Account-Id: <account_id>`.
    pub fn multi_header() -> Self {
        Self::style(InjectionStyle::MultiHeader)
    }

    /// AWS SigV4 credentials for `region` and `service`.
    pub fn aws_sigv4(region: impl Into<String>, service: impl Into<String>) -> Self {
        let mut extra = IndexMap::new();
        extra.insert("region".to_owned(), region.into());
        extra.insert("service".to_owned(), service.into());
        Self {
            additional_credentials: Some(extra),
            ..Self::style(InjectionStyle::AwsSigv4)
        }
    }

    /// Sets the access token instead of generating one.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Sets the header value format.
    pub fn format(mut self, format: impl Into<String>) -> Self {
        self.injection_format = Some(format.into());
        self
    }

    /// The core's credential, every default filled in; `token` and `secret` are used when
    /// the spec names no access token or AWS secret key.
    pub(crate) fn resolve(&self, token: String, secret: String) -> Credential {
        let access_token = self.access_token.clone().unwrap_or(token);
        let (header, format) = match self.style {
            InjectionStyle::Bearer | InjectionStyle::MultiHeader => {
                ("Authorization", "Bearer {token}")
            }
            InjectionStyle::ApiKeyHeader | InjectionStyle::QueryParam => ("X-Api-Key", "{token}"),
            InjectionStyle::AwsSigv4 => ("Authorization", SIGV4_FORMAT_PREFIX),
        };

        let mut extra = self.additional_credentials.clone().unwrap_or_default();
        let mut injections: Vec<InjectionRule> = Vec::new();
        match self.style {
            InjectionStyle::MultiHeader => {
                extra
                    .entry("account_id".to_owned())
                    .or_insert_with(|| "acct_testkit_0001".to_owned());
                injections.push(rule(
                    "header",
                    "X-Account-Id",
                    "additional_credentials.account_id",
                ));
            }
            InjectionStyle::QueryParam => injections.push(rule("query_param", "api_key", "token")),
            InjectionStyle::AwsSigv4 => {
                extra.entry("secret_key".to_owned()).or_insert(secret);
                extra
                    .entry("region".to_owned())
                    .or_insert_with(|| "us-east-1".to_owned());
                extra
                    .entry("service".to_owned())
                    .or_insert_with(|| "execute-api".to_owned());
            }
            InjectionStyle::Bearer | InjectionStyle::ApiKeyHeader => {}
        }
        if let Some(explicit) = &self.additional_injections {
            injections = explicit
                .iter()
                .map(|spec| rule(&spec.target, &spec.key, &spec.value_source))
                .collect();
        }

        Credential {
            access_token,
            injection_header: Some(
                self.injection_header
                    .clone()
                    .unwrap_or_else(|| header.to_owned()),
            ),
            injection_format: Some(
                self.injection_format
                    .clone()
                    .unwrap_or_else(|| format.to_owned()),
            ),
            additional_credentials: extra.into_iter().collect(),
            additional_injections: injections,
        }
    }
}

impl fmt::Debug for CredentialSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&String> = self
            .additional_credentials
            .iter()
            .flat_map(IndexMap::keys)
            .collect();
        f.debug_struct("CredentialSpec")
            .field("style", &self.style)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("injection_header", &self.injection_header)
            .field("injection_format", &self.injection_format)
            .field("additional_credentials", &names)
            .field("additional_injections", &self.additional_injections)
            .finish()
    }
}

fn rule(target: &str, key: &str, value_source: &str) -> InjectionRule {
    InjectionRule {
        target: target.to_owned(),
        key: key.to_owned(),
        value_source: value_source.to_owned(),
    }
}

/// The life-cycle state of a grant, and the error a token or proxy call gets for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantStatus {
    /// Usable.
    #[default]
    Active,
    /// Revoked: 403 `grant_revoked`.
    Revoked,
    /// Expired: 403 `grant_expired`.
    Expired,
    /// Deleted: 410.
    Deleted,
    /// The credential behind it was revoked: 403 `credential_revoked`.
    CredentialRevoked,
}

impl GrantStatus {
    /// The `status` string of grant list items.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Deleted => "deleted",
            Self::CredentialRevoked => "credential_revoked",
        }
    }
}

/// How the fake reports that a grant's scopes no longer fit (PROTOCOL.md §6.7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScopeMismatch {
    /// Scopes fit.
    #[default]
    None,
    /// Token responses carry `scope_mismatch: true`.
    Flag,
    /// Token and proxy calls answer 403 `scope_mismatch`.
    Refuse,
}

/// A managed-secret grant's owner, when [`GrantSpec::managed_secret`] is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ManagedSecretGrantSpec {
    /// The managed secret; defaults to the seeded one.
    pub managed_secret_id: Option<String>,
    /// The agent that owns the grant; defaults to the seeded agent.
    pub agent_id: Option<Uuid>,
    /// Label of the grant.
    pub label: Option<String>,
}

/// A grant to create (see [`crate::FakeAlter::add_grant`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GrantSpec {
    /// Provider of an OAuth grant. Defaults to `google`.
    pub provider_id: String,
    /// Connected account, e.g. an e-mail address.
    pub account_identifier: Option<String>,
    /// Display name of the account.
    pub account_display_name: Option<String>,
    /// The end user (user-token subject) who owns it; `None` makes a system grant.
    pub app_user_id: Option<String>,
    /// Provider scopes held by the grant.
    pub scopes: Vec<String>,
    /// The credential and its injection.
    pub credential: CredentialSpec,
    /// Proxy calls wait for a human approval (202 `PendingApproval`).
    pub requires_approval: bool,
    /// Agents the grant is delegated to.
    pub delegated_to: Vec<Uuid>,
    /// Life-cycle state.
    pub status: GrantStatus,
    /// A policy code that refuses every use with 403 (`PolicyViolationError`).
    pub policy_error: Option<String>,
    /// Scope-mismatch behaviour.
    pub scope_mismatch: ScopeMismatch,
    /// How many token calls answer 409 `token_refresh_in_progress` before one succeeds.
    pub refresh_in_progress: u32,
    /// A `retry_info` object returned with every token.
    pub retry_info: Option<Value>,
    /// Makes this a managed-secret grant owned by an agent instead of an OAuth grant.
    pub managed_secret: Option<ManagedSecretGrantSpec>,
}

impl Default for GrantSpec {
    fn default() -> Self {
        Self {
            provider_id: "google".to_owned(),
            account_identifier: None,
            account_display_name: None,
            app_user_id: None,
            scopes: Vec::new(),
            credential: CredentialSpec::default(),
            requires_approval: false,
            delegated_to: Vec::new(),
            status: GrantStatus::Active,
            policy_error: None,
            scope_mismatch: ScopeMismatch::None,
            refresh_in_progress: 0,
            retry_info: None,
            managed_secret: None,
        }
    }
}

impl GrantSpec {
    /// An active OAuth grant for `provider_id` with a bearer token.
    pub fn oauth(provider_id: impl Into<String>) -> Self {
        Self {
            provider_id: provider_id.into(),
            ..Self::default()
        }
    }

    /// A managed-secret grant of the seeded managed secret, owned by `agent_id`.
    pub fn managed_secret_for_agent(agent_id: Uuid) -> Self {
        Self {
            managed_secret: Some(ManagedSecretGrantSpec {
                agent_id: Some(agent_id),
                ..ManagedSecretGrantSpec::default()
            }),
            ..Self::default()
        }
    }

    /// Sets the connected account.
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account_identifier = Some(account.into());
        self
    }

    /// Sets the owning end user (the subject of their user token).
    pub fn user(mut self, app_user_id: impl Into<String>) -> Self {
        self.app_user_id = Some(app_user_id.into());
        self
    }

    /// Sets the provider scopes.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the credential.
    pub fn credential(mut self, credential: CredentialSpec) -> Self {
        self.credential = credential;
        self
    }

    /// Proxy calls need a human approval.
    pub fn requires_approval(mut self) -> Self {
        self.requires_approval = true;
        self
    }

    /// Delegates the grant to an agent.
    pub fn delegate_to(mut self, agent_id: Uuid) -> Self {
        self.delegated_to.push(agent_id);
        self
    }

    /// Sets the life-cycle state.
    pub fn status(mut self, status: GrantStatus) -> Self {
        self.status = status;
        self
    }

    /// Refuses every use with 403 and this policy code.
    pub fn policy_error(mut self, code: impl Into<String>) -> Self {
        self.policy_error = Some(code.into());
        self
    }

    /// Sets the scope-mismatch behaviour.
    pub fn scope_mismatch(mut self, mode: ScopeMismatch) -> Self {
        self.scope_mismatch = mode;
        self
    }

    /// The first `times` token calls answer 409 `token_refresh_in_progress`.
    pub fn refresh_in_progress(mut self, times: u32) -> Self {
        self.refresh_in_progress = times;
        self
    }

    /// Returns this `retry_info` with every token.
    pub fn retry_info(mut self, retry_info: Value) -> Self {
        self.retry_info = Some(retry_info);
        self
    }
}

/// How a pending connect or auth session ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionOutcome {
    /// The user finished the flow.
    #[default]
    Completed,
    /// The flow failed (`status: "error"`).
    Error,
    /// The session ran out (`status: "expired"`).
    Expired,
}

/// How a test completes a connect session (see [`crate::FakeAlter::complete_connect_with`]).
///
/// On completion an OAuth session creates a grant for the provider, owned by the session's
/// end user and delegated to its agent; a managed-secret session creates a grant for its
/// agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ConnectCompletion {
    /// How the session ends.
    pub outcome: SessionOutcome,
    /// The provider connected; defaults to the session's first allowed provider, else
    /// `google`.
    pub provider_id: Option<String>,
    /// The connected account; defaults to a generated address.
    pub account_identifier: Option<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// Error code for [`SessionOutcome::Error`]; defaults to `connect_denied`.
    pub error_code: Option<String>,
    /// Error message for [`SessionOutcome::Error`].
    pub error_message: Option<String>,
}

impl ConnectCompletion {
    /// A completion that expires the session.
    pub fn expired() -> Self {
        Self {
            outcome: SessionOutcome::Expired,
            ..Self::default()
        }
    }

    /// Sets the connected provider.
    pub fn provider(mut self, provider_id: impl Into<String>) -> Self {
        self.provider_id = Some(provider_id.into());
        self
    }

    /// Sets the connected account.
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account_identifier = Some(account.into());
        self
    }

    /// Sets the granted scopes.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A completion that fails with `error_code` (e.g. `connect_denied`).
    pub fn error(error_code: impl Into<String>) -> Self {
        Self {
            outcome: SessionOutcome::Error,
            error_code: Some(error_code.into()),
            ..Self::default()
        }
    }
}

/// How a test completes an end-user sign-in (see [`crate::FakeAlter::complete_auth_with`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AuthCompletion {
    /// How the session ends.
    pub outcome: SessionOutcome,
    /// The user's subject; defaults to a generated `user-…` id.
    pub sub: Option<String>,
    /// The user's e-mail address.
    pub email: Option<String>,
    /// The user's name.
    pub name: Option<String>,
    /// Error message for [`SessionOutcome::Error`].
    pub error_message: Option<String>,
}

impl AuthCompletion {
    /// A completed sign-in of `sub`.
    pub fn user(sub: impl Into<String>) -> Self {
        Self {
            sub: Some(sub.into()),
            ..Self::default()
        }
    }

    /// A failed sign-in with this message.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            outcome: SessionOutcome::Error,
            error_message: Some(message.into()),
            ..Self::default()
        }
    }

    /// Sets the user's e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use alter_core::retrieve::injection::{is_sigv4, plan_injection};

    use super::*;

    fn resolve(spec: &CredentialSpec) -> Credential {
        spec.resolve("tok_1".into(), "secret_1".into())
    }

    #[test]
    fn every_style_resolves_to_a_credential_the_core_accepts() {
        let bearer = resolve(&CredentialSpec::bearer());
        let plan = plan_injection(&bearer, &[], "ua").unwrap();
        assert!(
            plan.headers
                .contains(&("Authorization".into(), "Bearer tok_1".into()))
        );

        let header = resolve(&CredentialSpec::api_key_header("X-Key"));
        let plan = plan_injection(&header, &[], "ua").unwrap();
        assert!(plan.headers.contains(&("X-Key".into(), "tok_1".into())));

        let query = resolve(&CredentialSpec::query_param("key"));
        let plan = plan_injection(&query, &[], "ua").unwrap();
        assert_eq!(plan.query_params, [("key".to_owned(), "tok_1".to_owned())]);

        let multi = resolve(&CredentialSpec::multi_header());
        let plan = plan_injection(&multi, &[], "ua").unwrap();
        assert!(
            plan.headers
                .contains(&("X-Account-Id".into(), "acct_testkit_0001".into()))
        );

        let aws = resolve(&CredentialSpec::aws_sigv4("eu-west-1", "execute-api"));
        assert!(is_sigv4(&aws));
        assert!(
            aws.additional_credentials
                .contains(&("secret_key".into(), "secret_1".into()))
        );
        assert!(
            aws.additional_credentials
                .contains(&("region".into(), "eu-west-1".into()))
        );
    }

    #[test]
    fn explicit_fields_win_over_the_style() {
        let spec = CredentialSpec::bearer()
            .access_token("given")
            .format("Bot {token}");
        let credential = resolve(&spec);
        assert_eq!(credential.access_token, "given");
        assert_eq!(credential.injection_format.as_deref(), Some("Bot {token}"));
    }

    #[test]
    fn json_shorthands_parse() {
        let spec: GrantSpec = serde_json::from_str(
            r#"{"credential": {"style": "aws_sigv4"}, "status": "credential_revoked",
                "scope_mismatch": "refuse", "managed_secret": {"label": "x"}}"#,
        )
        .unwrap();
        assert_eq!(spec.provider_id, "google");
        assert_eq!(spec.credential.style, InjectionStyle::AwsSigv4);
        assert_eq!(spec.status, GrantStatus::CredentialRevoked);
        assert_eq!(spec.scope_mismatch, ScopeMismatch::Refuse);
        assert_eq!(spec.managed_secret.unwrap().label.as_deref(), Some("x"));
    }

    #[test]
    fn debug_hides_tokens() {
        let spec = CredentialSpec::bearer().access_token("very-secret-token");
        assert!(!format!("{spec:?}").contains("very-secret-token"));
    }
}
