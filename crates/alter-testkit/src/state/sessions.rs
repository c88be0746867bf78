//! Connect sessions (OAuth and managed-secret) and end-user sign-in sessions
//! (PROTOCOL.md §5.11–5.15, §8.3–8.4).

use alter_types::{
    AuthPollStatus, ConnectPollError, ConnectPollResponse, ConnectPollStatus, ConnectResult,
    GrantPolicy, PrincipalType,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::grants::{GrantRecord, Holder};
use super::{Store, after, now, stamp};
use crate::spec::{
    AuthCompletion, ConnectCompletion, GrantSpec, GrantStatus, ScopeMismatch, SessionOutcome,
};

/// The token alias for the newest pending session: a suite completing `connect()` or
/// `authenticate()`, which open their session internally, does not know its token.
pub(crate) const LATEST: &str = "latest";

/// What a connect session creates when it completes.
#[derive(Clone, Debug)]
pub(crate) enum ConnectKind {
    /// An OAuth connection.
    OAuth {
        allowed_providers: Option<Vec<String>>,
        agent: Option<Uuid>,
        user: Option<String>,
        grant_policy: Option<Map<String, Value>>,
    },
    /// A managed-secret connection for an agent.
    ManagedSecret {
        managed_secret_id: String,
        agent: Uuid,
        user: String,
    },
}

/// One connect session.
#[derive(Clone, Debug)]
pub(crate) struct ConnectSessionRecord {
    pub(crate) token: String,
    pub(crate) kind: ConnectKind,
    pub(crate) status: ConnectPollStatus,
    pub(crate) grants: Vec<ConnectResult>,
    pub(crate) error: Option<ConnectPollError>,
    pub(crate) expires_at: DateTime<Utc>,
}

impl ConnectSessionRecord {
    /// The poll answer.
    pub(crate) fn poll(&self) -> ConnectPollResponse {
        ConnectPollResponse {
            status: self.status.clone(),
            grants: self.grants.clone(),
            error: self.error.clone(),
        }
    }
}

/// One sign-in session.
#[derive(Clone, Debug)]
pub(crate) struct AuthSessionRecord {
    pub(crate) token: String,
    pub(crate) status: AuthPollStatus,
    pub(crate) user_token: Option<String>,
    pub(crate) user_info: Map<String, Value>,
    pub(crate) error_message: Option<String>,
    pub(crate) expires_at: DateTime<Utc>,
}

impl AuthSessionRecord {
    /// The poll answer; only the fields of the current status are present.
    pub(crate) fn poll(&self) -> Value {
        let mut answer = json!({ "status": self.status.as_str() });
        if let Some(token) = &self.user_token {
            answer["user_token"] = token.clone().into();
            answer["user_info"] = Value::Object(self.user_info.clone());
        }
        if let Some(message) = &self.error_message {
            answer["error_message"] = message.clone().into();
        }
        answer
    }
}

impl Store {
    /// Opens a connect session; returns its token.
    pub(crate) fn open_connect_session(&mut self, kind: ConnectKind) -> ConnectSessionRecord {
        let session = ConnectSessionRecord {
            token: self.rng.token("cs_"),
            kind,
            status: ConnectPollStatus::Pending,
            grants: Vec::new(),
            error: None,
            expires_at: after(now(), self.settings.session_ttl),
        };
        self.connect_sessions.push(session.clone());
        session
    }

    /// The connect session with this token, a pending one past its deadline moved to
    /// `expired`.
    pub(crate) fn connect_session_mut(&mut self, token: &str) -> Option<&mut ConnectSessionRecord> {
        let session = self
            .connect_sessions
            .iter_mut()
            .find(|s| s.token == token)?;
        if session.status == ConnectPollStatus::Pending && session.expires_at <= now() {
            session.status = ConnectPollStatus::Expired;
        }
        Some(session)
    }

    /// Ends a pending connect session as `completion` says.
    ///
    /// # Errors
    ///
    /// A message when the session is unknown or no longer pending.
    pub(crate) fn complete_connect(
        &mut self,
        token: &str,
        completion: &ConnectCompletion,
    ) -> Result<ConnectPollResponse, String> {
        let token = self.connect_token(token);
        let token = token.as_str();
        let session = self
            .connect_session_mut(token)
            .ok_or_else(|| "unknown connect session".to_owned())?;
        if session.status != ConnectPollStatus::Pending {
            return Err(format!(
                "connect session is {}, not pending",
                session.status
            ));
        }
        let kind = session.kind.clone();

        let (status, grants, error) = match completion.outcome {
            SessionOutcome::Expired => (ConnectPollStatus::Expired, Vec::new(), None),
            SessionOutcome::Error => {
                let error = ConnectPollError {
                    error_code: Some(
                        completion
                            .error_code
                            .clone()
                            .unwrap_or_else(|| "connect_denied".to_owned()),
                    ),
                    error_message: Some(
                        completion
                            .error_message
                            .clone()
                            .unwrap_or_else(|| "The user denied access".to_owned()),
                    ),
                };
                (ConnectPollStatus::Error, Vec::new(), Some(error))
            }
            SessionOutcome::Completed => {
                let result = self.connect_grant(&kind, completion)?;
                (ConnectPollStatus::Completed, vec![result], None)
            }
        };

        let session = self
            .connect_session_mut(token)
            .ok_or_else(|| "unknown connect session".to_owned())?;
        session.status = status;
        session.grants = grants;
        session.error = error;
        Ok(session.poll())
    }

    /// Creates the grant a completed connect session stands for.
    fn connect_grant(
        &mut self,
        kind: &ConnectKind,
        completion: &ConnectCompletion,
    ) -> Result<ConnectResult, String> {
        let account = completion
            .account_identifier
            .clone()
            .unwrap_or_else(|| format!("connected-{}@example.com", self.grants.len() + 1));
        match kind {
            ConnectKind::OAuth {
                allowed_providers,
                agent,
                user,
                grant_policy,
            } => {
                let provider = completion
                    .provider_id
                    .clone()
                    .or_else(|| allowed_providers.as_ref().and_then(|p| p.first().cloned()))
                    .unwrap_or_else(|| "google".to_owned());
                let mut spec = GrantSpec::oauth(provider.clone())
                    .account(account.clone())
                    .scopes(completion.scopes.clone());
                spec.app_user_id = user.clone();
                spec.delegated_to = agent.iter().copied().collect();
                let id = self.create_grant(&spec)?;

                let policy = grant_policy.as_ref().map(|input| GrantPolicy {
                    expires_at: input
                        .get("expires_at")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    created_by: Some("developer".to_owned()),
                    created_at: Some(stamp(now())),
                });
                Ok(ConnectResult {
                    grant_id: id,
                    provider_id: provider,
                    account_identifier: Some(account),
                    scopes: completion.scopes.clone(),
                    grant_policy: policy,
                })
            }
            ConnectKind::ManagedSecret {
                managed_secret_id,
                agent,
                user,
            } => {
                let secret = self
                    .managed_secret(managed_secret_id)
                    .cloned()
                    .ok_or_else(|| "the session's managed secret is gone".to_owned())?;
                let id = self.rng.uuid().to_string();
                let created_at = now();
                self.grants.push(GrantRecord {
                    id: id.clone(),
                    holder: Holder::ManagedSecret {
                        managed_secret_id: secret.id.clone(),
                        principal_type: PrincipalType::Agent,
                        label: Some(account.clone()),
                        agent_id: Some(*agent),
                        subject: Some(user.clone()),
                    },
                    credential: secret.credential.clone(),
                    scopes: completion.scopes.clone(),
                    status: GrantStatus::Active,
                    requires_approval: false,
                    policy_error: None,
                    scope_mismatch: ScopeMismatch::None,
                    refresh_in_progress: 0,
                    retry_info: None,
                    grant_policy: None,
                    created_at,
                    last_used_at: None,
                    revoked_at: None,
                });
                Ok(ConnectResult {
                    grant_id: id,
                    provider_id: secret.slug,
                    account_identifier: Some(account),
                    scopes: completion.scopes.clone(),
                    grant_policy: None,
                })
            }
        }
    }

    /// Tokens of the connect sessions still pending, oldest first.
    pub(crate) fn pending_connect_tokens(&mut self) -> Vec<String> {
        let now = now();
        self.connect_sessions
            .iter_mut()
            .filter(|session| {
                session.status == ConnectPollStatus::Pending && session.expires_at > now
            })
            .map(|session| session.token.clone())
            .collect()
    }

    /// Tokens of the sign-in sessions still pending, oldest first.
    pub(crate) fn pending_auth_tokens(&mut self) -> Vec<String> {
        let now = now();
        self.auth_sessions
            .iter_mut()
            .filter(|session| session.status == AuthPollStatus::Pending && session.expires_at > now)
            .map(|session| session.token.clone())
            .collect()
    }

    /// `latest` names the newest pending connect session; any other token names itself.
    fn connect_token(&mut self, token: &str) -> String {
        match token {
            LATEST => self.pending_connect_tokens().pop().unwrap_or_default(),
            other => other.to_owned(),
        }
    }

    /// `latest` names the newest pending sign-in session; any other token names itself.
    fn auth_token(&mut self, token: &str) -> String {
        match token {
            LATEST => self.pending_auth_tokens().pop().unwrap_or_default(),
            other => other.to_owned(),
        }
    }

    /// Opens a sign-in session.
    pub(crate) fn open_auth_session(&mut self) -> AuthSessionRecord {
        let session = AuthSessionRecord {
            token: self.rng.token("as_"),
            status: AuthPollStatus::Pending,
            user_token: None,
            user_info: Map::new(),
            error_message: None,
            expires_at: after(now(), self.settings.session_ttl),
        };
        self.auth_sessions.push(session.clone());
        session
    }

    /// The sign-in session with this token, a pending one past its deadline moved to
    /// `expired`.
    pub(crate) fn auth_session_mut(&mut self, token: &str) -> Option<&mut AuthSessionRecord> {
        let session = self.auth_sessions.iter_mut().find(|s| s.token == token)?;
        if session.status == AuthPollStatus::Pending && session.expires_at <= now() {
            session.status = AuthPollStatus::Expired;
        }
        Some(session)
    }

    /// Ends a pending sign-in as `completion` says; a completed one issues a user token.
    ///
    /// # Errors
    ///
    /// A message when the session is unknown or no longer pending.
    pub(crate) fn complete_auth(
        &mut self,
        token: &str,
        completion: &AuthCompletion,
    ) -> Result<Value, String> {
        let token = self.auth_token(token);
        let token = token.as_str();
        let pending = self
            .auth_session_mut(token)
            .map(|session| session.status == AuthPollStatus::Pending)
            .ok_or_else(|| "unknown auth session".to_owned())?;
        if !pending {
            return Err("auth session is no longer pending".to_owned());
        }

        let issued = match completion.outcome {
            SessionOutcome::Completed => {
                let sub = completion
                    .sub
                    .clone()
                    .unwrap_or_else(|| format!("user-{}", self.users.len() + 1));
                let mut info = Map::new();
                if let Some(email) = &completion.email {
                    info.insert("email".into(), email.clone().into());
                }
                if let Some(name) = &completion.name {
                    info.insert("name".into(), name.clone().into());
                }
                let user_token = self.issue_user_token(&sub, info);
                let info = self
                    .user(&user_token)
                    .map(|user| user.info.clone())
                    .unwrap_or_default();
                Some((user_token, info))
            }
            SessionOutcome::Error | SessionOutcome::Expired => None,
        };

        let session = self
            .auth_session_mut(token)
            .ok_or_else(|| "unknown auth session".to_owned())?;
        match (completion.outcome, issued) {
            (SessionOutcome::Completed, Some((user_token, info))) => {
                session.status = AuthPollStatus::Completed;
                session.user_token = Some(user_token);
                session.user_info = info;
            }
            (SessionOutcome::Error, _) => {
                session.status = AuthPollStatus::Error;
                session.error_message = Some(
                    completion
                        .error_message
                        .clone()
                        .unwrap_or_else(|| "Sign-in failed".to_owned()),
                );
            }
            _ => session.status = AuthPollStatus::Expired,
        }
        Ok(session.poll())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::seed::seed;
    use crate::state::{Settings, ids::Rng};

    fn store() -> Store {
        let mut store = Store::new(Settings::default(), Rng::seeded(9));
        seed(&mut store).unwrap();
        store
    }

    #[test]
    fn a_completed_oauth_session_creates_a_delegated_grant() {
        let mut store = store();
        let agent = store.seeded_agent().unwrap();
        let session = store.open_connect_session(ConnectKind::OAuth {
            allowed_providers: Some(vec!["notion".into()]),
            agent: Some(agent),
            user: Some("user-zed".into()),
            grant_policy: None,
        });
        assert_eq!(
            store
                .connect_session_mut(&session.token)
                .unwrap()
                .poll()
                .status,
            ConnectPollStatus::Pending
        );

        let poll = store
            .complete_connect(&session.token, &ConnectCompletion::default())
            .unwrap();
        assert_eq!(poll.status, ConnectPollStatus::Completed);
        let grant = store.grant(&poll.grants[0].grant_id).unwrap();
        assert_eq!(grant.provider_id(&store).as_deref(), Some("notion"));
        assert!(grant.reachable_by(agent));
        assert_eq!(grant.app_user_id(), Some("user-zed"));

        assert!(
            store
                .complete_connect(&session.token, &ConnectCompletion::default())
                .is_err()
        );
    }

    #[test]
    fn error_and_expired_outcomes() {
        let mut store = store();
        let kind = ConnectKind::OAuth {
            allowed_providers: None,
            agent: None,
            user: None,
            grant_policy: None,
        };
        let denied = store.open_connect_session(kind.clone());
        let poll = store
            .complete_connect(&denied.token, &ConnectCompletion::error("connect_denied"))
            .unwrap();
        assert_eq!(
            poll.error.unwrap().error_code.as_deref(),
            Some("connect_denied")
        );

        let expired = store.open_connect_session(kind);
        let completion = ConnectCompletion {
            outcome: SessionOutcome::Expired,
            ..ConnectCompletion::default()
        };
        assert_eq!(
            store
                .complete_connect(&expired.token, &completion)
                .unwrap()
                .status,
            ConnectPollStatus::Expired
        );
        assert!(
            store
                .complete_connect("nope", &ConnectCompletion::default())
                .is_err()
        );
    }

    #[test]
    fn auth_sessions_issue_verifiable_tokens() {
        let mut store = store();
        let session = store.open_auth_session();
        assert_eq!(
            store.auth_session_mut(&session.token).unwrap().poll(),
            json!({"status": "pending"})
        );

        let poll = store
            .complete_auth(&session.token, &AuthCompletion::user("user-kim"))
            .unwrap();
        assert_eq!(poll["status"], "completed");
        assert_eq!(poll["user_info"]["sub"], "user-kim");
        let token = poll["user_token"].as_str().unwrap();
        assert_eq!(store.user(token).unwrap().sub, "user-kim");

        let failed = store.open_auth_session();
        assert_eq!(
            store.pending_auth_tokens(),
            std::slice::from_ref(&failed.token)
        );
        let completion = AuthCompletion {
            outcome: SessionOutcome::Error,
            ..AuthCompletion::default()
        };
        assert_eq!(
            store.complete_auth(&failed.token, &completion).unwrap()["status"],
            "error"
        );
    }
}
