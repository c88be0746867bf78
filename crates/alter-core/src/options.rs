//! Client options as users give them (code first, then the environment), resolved into a
//! checked [`ClientConfig`]. Shared by both frontends' builders.

use std::time::Duration;

use alter_types::CallerType;

use crate::config::{ApiKey, BaseUrl, DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL, canonical_uuid};
use crate::engine::ClientConfig;
use crate::error::{Error, Result};
use crate::retry::RetryConfig;

/// The longest timeout a client accepts, for one HTTP exchange or for `close()`.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Which client the options are for: the caller type rules differ (PROTOCOL.md §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// The operator `App`: caller type `service` unless set.
    App,
    /// An `Agent`: caller type pinned to `agent`.
    Agent,
}

/// What a client is built from. Every setter is optional; see [`ClientOptions::resolve`].
#[derive(Clone, Default)]
pub struct ClientOptions {
    api_key: Option<String>,
    base_url: Option<String>,
    caller: Option<String>,
    caller_type: Option<CallerType>,
    timeout: Option<Duration>,
    close_timeout: Option<Duration>,
    retry: Option<RetryConfig>,
    user_agent: Option<String>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("caller", &self.caller)
            .field("caller_type", &self.caller_type)
            .field("timeout", &self.timeout)
            .field("close_timeout", &self.close_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// The API key. Defaults to the `ALTER_API_KEY` environment variable.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The backend's base URL. Defaults to `ALTER_BASE_URL`, else
    /// `https://backend.alterauth.com`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The `X-Alter-Caller` of every backend call: who, behind this key, is calling.
    /// Defaults to none.
    pub fn caller(mut self, caller: impl Into<String>) -> Self {
        self.caller = Some(caller.into());
        self
    }

    /// The caller type (App only; an Agent is always `agent`). Defaults to `service`.
    pub fn caller_type(mut self, caller_type: CallerType) -> Self {
        self.caller_type = Some(caller_type);
        self
    }

    /// The timeout of one HTTP exchange. Defaults to 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long closing the client waits for its queued background uploads (audit rows).
    /// Defaults to 10 s; see [`ClientConfig::close_timeout`].
    pub fn close_timeout(mut self, close_timeout: Duration) -> Self {
        self.close_timeout = Some(close_timeout);
        self
    }

    /// How idempotent reads are retried. Defaults to [`RetryConfig::default`]; values out of
    /// the ranges listed on [`RetryConfig`] fail the build.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The `User-Agent` of both HTTP clients. Defaults to `alter-sdk-rust/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Resolves the options for `role`, taking what was not set in code from `env`
    /// (frontends pass `|name| std::env::var(name).ok()`).
    ///
    /// # Errors
    ///
    /// `Sdk` when no API key is given, the key or base URL is malformed, or the caller is
    /// not 1 to 255 printable ASCII characters; `InvalidInput` for caller type `service` on
    /// an Agent, a timeout or close timeout of zero or over one day, or a retry policy out of
    /// range (see [`RetryConfig::validate`]).
    pub fn resolve(self, role: Role, env: impl Fn(&str) -> Option<String>) -> Result<ClientConfig> {
        let api_key = self
            .api_key
            .or_else(|| env(ENV_API_KEY))
            .ok_or_else(|| Error::sdk(format!("no API key: pass one, or set {ENV_API_KEY}")))?;
        let base_url = self
            .base_url
            .or_else(|| env(ENV_BASE_URL))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());

        let caller_type = match (role, self.caller_type) {
            (Role::Agent, Some(CallerType::Agent) | None) => CallerType::Agent,
            (Role::Agent, Some(_)) => {
                return Err(Error::invalid_input(
                    "an Agent's caller type is always 'agent'",
                ));
            }
            (Role::App, chosen) => chosen.unwrap_or(CallerType::Service),
        };

        let mut config = ClientConfig::new(ApiKey::parse(&api_key)?, BaseUrl::parse(&base_url)?);
        config.caller = self.caller;
        config.caller_type = caller_type;
        if let Some(timeout) = self.timeout {
            config.timeout = bounded("timeout", timeout)?;
        }
        if let Some(close_timeout) = self.close_timeout {
            config.close_timeout = bounded("close timeout", close_timeout)?;
        }
        if let Some(retry) = self.retry {
            config.retry = retry;
        }
        if let Some(user_agent) = self.user_agent {
            crate::engine::check_header_value("user agent", &user_agent)?;
            config.user_agent = user_agent;
        }
        config.validate()?;
        Ok(config)
    }
}

/// `value` when it lies in (0, [`MAX_TIMEOUT`]].
fn bounded(what: &str, value: Duration) -> Result<Duration> {
    if value.is_zero() || value > MAX_TIMEOUT {
        return Err(Error::invalid_input(format!(
            "{what} must be above zero and at most one day"
        )));
    }
    Ok(value)
}

impl ClientConfig {
    /// The configuration of an Agent that acts as `agent_id` with this App's key
    /// (`App.get_agent`, PROTOCOL.md §1.3): caller = the agent id in canonical form,
    /// caller type `agent`, same key and base URL.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `agent_id` is not a UUID.
    pub fn impersonating(&self, agent_id: &str) -> Result<Self> {
        let agent_id = canonical_uuid(agent_id)
            .ok_or_else(|| Error::invalid_input("agent_id must be a UUID"))?;
        let mut config = self.clone();
        config.caller = Some(agent_id);
        config.caller_type = CallerType::Agent;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "alter_rk_abcdefghijklmnopqrstuv_iwpykn";

    fn env_with(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn code_wins_over_the_environment() {
        let env = env_with(&[
            (ENV_API_KEY, "alter_key_from_env"),
            (ENV_BASE_URL, "https://env.example"),
        ]);

        let config = ClientOptions::default()
            .api_key(KEY)
            .base_url("https://code.example/")
            .resolve(Role::App, env)
            .unwrap();

        assert_eq!(config.api_key.expose_secret(), KEY);
        assert_eq!(config.base_url.as_str(), "https://code.example");
        assert_eq!(config.caller_type, CallerType::Service);
    }

    #[test]
    fn the_environment_fills_what_code_left_out() {
        let env = env_with(&[(ENV_API_KEY, KEY), (ENV_BASE_URL, "http://127.0.0.1:9")]);

        let config = ClientOptions::default().resolve(Role::Agent, env).unwrap();

        assert_eq!(config.base_url.as_str(), "http://127.0.0.1:9");
        assert_eq!(config.caller_type, CallerType::Agent);
    }

    #[test]
    fn missing_key_and_bad_inputs_are_typed_errors() {
        let none = env_with(&[]);
        let missing = ClientOptions::default()
            .resolve(Role::App, &none)
            .unwrap_err();
        assert_eq!(missing.class_name(), "AlterSDKError");

        let insecure = ClientOptions::default()
            .api_key(KEY)
            .base_url("http://backend.example")
            .resolve(Role::App, &none)
            .unwrap_err();
        assert_eq!(insecure.class_name(), "AlterSDKError");

        let service_agent = ClientOptions::default()
            .api_key(KEY)
            .caller_type(CallerType::Service)
            .resolve(Role::Agent, &none)
            .unwrap_err();
        assert_eq!(service_agent.class_name(), "AlterValueError");

        let bad_caller = ClientOptions::default()
            .api_key(KEY)
            .caller("tab\tcaller")
            .resolve(Role::App, &none)
            .unwrap_err();
        assert_eq!(bad_caller.class_name(), "AlterSDKError");
    }

    #[test]
    fn an_out_of_range_retry_policy_fails_the_build() {
        let flood = RetryConfig {
            max_attempts: u32::MAX,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            total_budget: Duration::MAX,
            ..RetryConfig::default()
        };

        let error = ClientOptions::default()
            .api_key(KEY)
            .retry(flood)
            .resolve(Role::App, env_with(&[]))
            .unwrap_err();

        assert_eq!(error.class_name(), "AlterValueError");
        assert!(!error.may_have_reached_server());
    }

    #[test]
    fn the_close_timeout_defaults_to_ten_seconds_and_is_bounded() {
        let with = |close_timeout: Option<Duration>| {
            let options = ClientOptions::default().api_key(KEY);
            let options = match close_timeout {
                Some(limit) => options.close_timeout(limit),
                None => options,
            };
            options.resolve(Role::App, env_with(&[]))
        };

        assert_eq!(
            with(None).unwrap().close_timeout,
            crate::engine::DEFAULT_CLOSE_TIMEOUT
        );
        let short = Duration::from_millis(250);
        assert_eq!(with(Some(short)).unwrap().close_timeout, short);
        for out_of_bounds in [Duration::ZERO, MAX_TIMEOUT + Duration::from_secs(1)] {
            let error = with(Some(out_of_bounds)).unwrap_err();
            assert!(error.is_invalid_input(), "{out_of_bounds:?}");
            assert!(error.to_string().contains("close timeout"));
        }
    }

    #[test]
    fn impersonation_pins_the_canonical_agent_id() {
        let config = ClientOptions::default()
            .api_key(KEY)
            .resolve(Role::App, env_with(&[]))
            .unwrap();

        let agent = config
            .impersonating("3F2B8C1A-5D4E-4F6A-9B7C-8D9E0F1A2B3C")
            .unwrap();

        assert_eq!(
            agent.caller.as_deref(),
            Some("3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c")
        );
        assert_eq!(agent.caller_type, CallerType::Agent);
        assert!(config.impersonating("not-a-uuid").is_err());
    }
}
