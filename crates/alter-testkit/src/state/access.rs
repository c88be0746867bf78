//! Who may use which grant, and what a grant's state answers (PROTOCOL.md §4.2–4.4, §8.5).

use super::grants::{GrantRecord, Holder};
use super::{Caller, Store, now, stamp};
use crate::errors::{self, Failure};
use crate::spec::{GrantStatus, ScopeMismatch};

/// What a token or proxy call names: a grant, or a provider to resolve.
#[derive(Clone, Debug)]
pub(crate) enum Lookup<'a> {
    /// `grant_id` mode.
    Grant(&'a str),
    /// `provider_id` mode, with the optional account and end user.
    Provider {
        provider_id: &'a str,
        account: Option<&'a str>,
        app_user_id: Option<&'a str>,
    },
}

impl Store {
    /// Finds the grant a token or proxy call may use and checks its state (§4.2–4.4, §8.5).
    ///
    /// `user` is the subject of the request's user token, if it sent one.
    pub(crate) fn usable_grant(
        &mut self,
        caller: &Caller,
        lookup: &Lookup<'_>,
        user: Option<&str>,
    ) -> Result<String, Failure> {
        let id = match lookup {
            Lookup::Grant(id) => self.visible_grant(caller, id, user)?,
            Lookup::Provider {
                provider_id,
                account,
                app_user_id,
            } => self.resolve_provider(caller, provider_id, *account, user.or(*app_user_id))?,
        };
        self.check_grant_state(&id)?;

        if let Some(grant) = self.grant_mut(&id) {
            grant.last_used_at = Some(now());
        }
        Ok(id)
    }

    fn visible_grant(
        &self,
        caller: &Caller,
        id: &str,
        user: Option<&str>,
    ) -> Result<String, Failure> {
        let grant = self
            .grant(id)
            .ok_or_else(|| errors::grant_not_found(Some(id), None))?;

        if let Some(agent) = caller.acting_agent {
            if !grant.reachable_by(agent) {
                return Err(match &grant.holder {
                    Holder::OAuth { provider_id, .. } => {
                        errors::no_delegated_grant(Some(provider_id), &agent.to_string())
                    }
                    Holder::ManagedSecret { .. } => errors::grant_not_found(Some(id), None),
                });
            }
        }
        if let Some(user) = user {
            if grant.app_user_id() != Some(user) {
                return Err(errors::grant_not_found(Some(id), None));
            }
        }
        Ok(grant.id.clone())
    }

    fn resolve_provider(
        &self,
        caller: &Caller,
        provider: &str,
        account: Option<&str>,
        user: Option<&str>,
    ) -> Result<String, Failure> {
        let candidates: Vec<&GrantRecord> = self
            .grants
            .iter()
            .filter(|grant| {
                matches!(&grant.holder, Holder::OAuth { provider_id, .. } if provider_id == provider)
                    && !matches!(grant.status, GrantStatus::Deleted | GrantStatus::Revoked)
                    && caller.acting_agent.is_none_or(|agent| grant.reachable_by(agent))
                    && user.is_none_or(|user| grant.app_user_id() == Some(user))
                    && account.is_none_or(|account| account_of(grant) == Some(account))
            })
            .collect();

        match candidates.as_slice() {
            [] => Err(match caller.acting_agent {
                Some(agent) => errors::no_delegated_grant(Some(provider), &agent.to_string()),
                None => errors::grant_not_found(None, Some(provider)),
            }),
            [only] => Ok(only.id.clone()),
            many => Err(errors::ambiguous_grant(
                provider,
                many.iter()
                    .filter_map(|g| account_of(g).map(str::to_owned))
                    .collect(),
                account.is_some(),
                many.iter()
                    .filter_map(|g| g.app_user_id().map(str::to_owned))
                    .collect(),
                many.iter().map(|g| g.id.clone()).collect(),
            )),
        }
    }

    /// The error a grant's state gives, if any; a pending refresh is used up by the check.
    fn check_grant_state(&mut self, id: &str) -> Result<(), Failure> {
        let provider_id = self.grant(id).and_then(|grant| grant.provider_id(self));
        let Some(grant) = self.grant_mut(id) else {
            return Err(errors::grant_not_found(Some(id), None));
        };

        let app_user_id = grant.app_user_id().map(str::to_owned);
        match grant.status {
            GrantStatus::Active => {}
            GrantStatus::Deleted => return Err(errors::grant_deleted(id)),
            GrantStatus::Revoked => return Err(errors::grant_revoked(id)),
            GrantStatus::Expired => {
                return Err(errors::grant_expired(id, Some(&stamp(grant.created_at))));
            }
            GrantStatus::CredentialRevoked => {
                return Err(errors::credential_revoked(
                    id,
                    provider_id.as_deref(),
                    app_user_id.as_deref(),
                ));
            }
        }
        if let Some(code) = &grant.policy_error {
            return Err(errors::policy(
                code,
                "the grant's policy refuses this call",
                Some(id),
            ));
        }
        if grant.scope_mismatch == ScopeMismatch::Refuse {
            return Err(errors::scope_mismatch(id, provider_id.as_deref()));
        }
        if grant.refresh_in_progress > 0 {
            grant.refresh_in_progress -= 1;
            return Err(errors::token_refresh_in_progress(id));
        }
        Ok(())
    }
}

fn account_of(grant: &GrantRecord) -> Option<&str> {
    match &grant.holder {
        Holder::OAuth {
            account_identifier, ..
        } => account_identifier.as_deref(),
        Holder::ManagedSecret { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::GrantSpec;
    use crate::state::test_support::{agent, app, class, store};

    #[test]
    fn grant_states_give_their_typed_errors() {
        let mut store = store();
        let rows = [
            (
                GrantSpec::oauth("x").status(GrantStatus::Revoked),
                "GrantRevokedError",
            ),
            (
                GrantSpec::oauth("x").status(GrantStatus::Expired),
                "GrantExpiredError",
            ),
            (
                GrantSpec::oauth("x").status(GrantStatus::Deleted),
                "GrantDeletedError",
            ),
            (
                GrantSpec::oauth("x").status(GrantStatus::CredentialRevoked),
                "CredentialRevokedError",
            ),
            (
                GrantSpec::oauth("x").policy_error("outside_business_hours"),
                "PolicyViolationError",
            ),
            (
                GrantSpec::oauth("x").scope_mismatch(ScopeMismatch::Refuse),
                "ScopeReauthRequiredError",
            ),
            (
                GrantSpec::oauth("x").refresh_in_progress(1),
                "TokenRefreshInProgressError",
            ),
        ];
        for (spec, expected) in rows {
            let id = store.create_grant(&spec).unwrap();
            let failure = store
                .usable_grant(&app(), &Lookup::Grant(&id), None)
                .unwrap_err();
            assert_eq!(class(&failure), expected, "{:?}", spec.status);
        }
        assert_eq!(
            class(
                &store
                    .usable_grant(&app(), &Lookup::Grant("nope"), None)
                    .unwrap_err()
            ),
            "GrantNotFoundError"
        );
    }

    #[test]
    fn a_refresh_in_progress_clears_after_its_count() {
        let mut store = store();
        let id = store
            .create_grant(&GrantSpec::oauth("x").refresh_in_progress(2))
            .unwrap();
        for _ in 0..2 {
            assert!(
                store
                    .usable_grant(&app(), &Lookup::Grant(&id), None)
                    .is_err()
            );
        }
        assert_eq!(
            store
                .usable_grant(&app(), &Lookup::Grant(&id), None)
                .unwrap(),
            id
        );
    }

    #[test]
    fn agents_reach_only_delegated_and_owned_grants() {
        let mut store = store();
        let seeded = store.seeded.clone().unwrap();
        let me = agent(seeded.agent_id);

        assert!(
            store
                .usable_grant(&me, &Lookup::Grant(&seeded.grants.agent_delegated), None)
                .is_ok()
        );
        assert!(
            store
                .usable_grant(
                    &me,
                    &Lookup::Grant(&seeded.grants.managed_secret_agent),
                    None
                )
                .is_ok()
        );
        let refused = store
            .usable_grant(&me, &Lookup::Grant(&seeded.grants.oauth_bearer), None)
            .unwrap_err();
        assert_eq!(class(&refused), "NoDelegatedGrantError");

        let by_provider = Lookup::Provider {
            provider_id: "github",
            account: None,
            app_user_id: None,
        };
        assert_eq!(
            store.usable_grant(&me, &by_provider, None).unwrap(),
            seeded.grants.agent_delegated
        );

        store
            .revoke_delegation(&seeded.grants.agent_delegated, Some(seeded.agent_id))
            .unwrap();
        let gone = store.usable_grant(&me, &by_provider, None).unwrap_err();
        assert_eq!(class(&gone), "NoDelegatedGrantError");
        // Idempotent.
        store
            .revoke_delegation(&seeded.grants.agent_delegated, Some(seeded.agent_id))
            .unwrap();
    }

    #[test]
    fn provider_mode_resolves_one_or_reports_ambiguity() {
        let mut store = store();
        let by_google = Lookup::Provider {
            provider_id: "google",
            account: None,
            app_user_id: None,
        };
        let seeded = store.seeded.clone().unwrap();
        assert_eq!(
            store.usable_grant(&app(), &by_google, None).unwrap(),
            seeded.grants.oauth_bearer
        );

        let second = store
            .create_grant(
                &GrantSpec::oauth("google")
                    .account("bob@example.com")
                    .user("user-bob"),
            )
            .unwrap();
        let failure = store.usable_grant(&app(), &by_google, None).unwrap_err();
        assert_eq!(class(&failure), "AmbiguousGrantError");
        assert_eq!(failure.object["grant_ids"].as_array().unwrap().len(), 2);

        let bob = Lookup::Provider {
            provider_id: "google",
            account: Some("bob@example.com"),
            app_user_id: None,
        };
        assert_eq!(store.usable_grant(&app(), &bob, None).unwrap(), second);
        assert_eq!(
            store
                .usable_grant(&app(), &by_google, Some("user-bob"))
                .unwrap(),
            second
        );

        let none = Lookup::Provider {
            provider_id: "notion",
            account: None,
            app_user_id: None,
        };
        assert_eq!(
            class(&store.usable_grant(&app(), &none, None).unwrap_err()),
            "GrantNotFoundError"
        );
    }
}
