//! The string-valued enums of the protocol (PROTOCOL §11) and two derived statuses.
//!
//! Wire enums keep strings they do not know (see the `wire_enum!` notes in each type). The two
//! derived statuses, [`AgentKeyStatus`] and [`ApiKeyStatus`], are never sent by the backend:
//! they are computed from timestamps.

use serde::{Deserialize, Serialize};

wire_enum! {
    /// HTTP method of a provider request.
    ///
    /// Parsing upper-cases its input, as the reference client does, so `"get"` is
    /// [`HttpMethod::Get`] and `"purge"` is `HttpMethod::Other("PURGE")`.
    ///
    /// ```
    /// use alter_types::HttpMethod;
    ///
    /// assert_eq!("patch".parse::<HttpMethod>(), Ok(HttpMethod::Patch));
    /// assert_eq!(HttpMethod::from("purge").as_str(), "PURGE");
    /// ```
    pub enum HttpMethod {
        Get => "GET",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Head => "HEAD",
        Options => "OPTIONS",
    }
    other:
        /// Any other method, stored upper-cased when it comes from parsing.
        Other,
    normalize: crate::wire_enum::upper_case,
}

wire_enum! {
    /// Kind of caller announced in `X-Alter-Caller-Type`.
    ///
    /// The default is [`CallerType::Agent`] (the internal client's default). Note that the
    /// reference `App` uses `service` unless told otherwise (PROTOCOL §14.9).
    #[derive(Default)]
    pub enum CallerType {
        #[default]
        Agent => "agent",
        Service => "service",
    }
    other:
        /// A caller type this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// State of a human-in-the-loop approval (PROTOCOL §7.2).
    ///
    /// `pending`, `approved` and `executing` are transitional; the others are final, see
    /// [`ApprovalStatusValue::is_terminal`].
    pub enum ApprovalStatusValue {
        Pending => "pending",
        Approved => "approved",
        Executing => "executing",
        Denied => "denied",
        Expired => "expired",
        Executed => "executed",
        Failed => "failed",
    }
    other:
        /// A status this crate does not know; treated as not terminal, so pollers keep waiting.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

impl ApprovalStatusValue {
    /// Whether the approval can no longer change: `denied`, `expired`, `executed` or `failed`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Denied | Self::Expired | Self::Executed | Self::Failed
        )
    }
}

wire_enum! {
    /// The `type` of an agent record.
    pub enum AgentType {
        Agent => "agent",
        Service => "service",
    }
    other:
        /// An agent type this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// The `status` of an agent record.
    pub enum AgentStatus {
        Active => "active",
        Inactive => "inactive",
        Revoked => "revoked",
    }
    other:
        /// An agent status this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// The kind of an API key, also the second segment of a scoped key (`alter_rk_…`).
    pub enum KeyType {
        /// Root (app) key.
        Rk => "rk",
        /// Agent key.
        Ak => "ak",
        /// Derived key (minted by `keys.derive`).
        Dk => "dk",
        /// A key kind the protocol lists without describing it.
        Pk => "pk",
    }
    other:
        /// A key type this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// Discriminator of a unified grant list item.
    pub enum GrantKind {
        /// A user-authorized OAuth grant.
        OAuth => "oauth",
        /// An operator-provisioned managed secret grant.
        ManagedSecret => "managed_secret",
    }
    other:
        /// A grant kind this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// Who a grant belongs to.
    pub enum PrincipalType {
        User => "user",
        Group => "group",
        System => "system",
        Agent => "agent",
    }
    other:
        /// A principal type this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// `status` of a connect-session poll (PROTOCOL §8.3).
    pub enum ConnectPollStatus {
        Pending => "pending",
        Completed => "completed",
        Error => "error",
        Expired => "expired",
    }
    other:
        /// A status this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// `status` of an end-user sign-in poll (PROTOCOL §8.4).
    pub enum AuthPollStatus {
        Pending => "pending",
        Completed => "completed",
        Error => "error",
        Expired => "expired",
    }
    other:
        /// A status this crate does not know.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

wire_enum! {
    /// Where an additional credential injection goes (PROTOCOL §6.4).
    pub enum InjectionTarget {
        Header => "header",
        QueryParam => "query_param",
    }
    other:
        /// A target this crate does not know; the request path skips such injections.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

/// Lifecycle of an agent key, derived from its timestamps (see [`AgentKey::status`]).
///
/// [`AgentKey::status`]: crate::AgentKey::status
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AgentKeyStatus {
    /// Neither deprecated nor revoked.
    Active,
    /// Deprecated: still authenticates, but the backend flags its use.
    Deprecated,
    /// Revoked: no longer authenticates.
    Revoked,
}

impl AgentKeyStatus {
    /// Lower-case name (`active`, `deprecated`, `revoked`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deprecated => "deprecated",
            Self::Revoked => "revoked",
        }
    }
}

impl std::fmt::Display for AgentKeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle of an API key, derived from its timestamps (see [`ApiKeyInfo::status`]).
///
/// [`ApiKeyInfo::status`]: crate::ApiKeyInfo::status
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ApiKeyStatus {
    /// Neither rotated nor revoked.
    Active,
    /// Replaced by a rotation (its `deprecated_at` is set); works until the overlap ends.
    Rotated,
    /// Revoked: no longer authenticates.
    Revoked,
}

impl ApiKeyStatus {
    /// Lower-case name (`active`, `rotated`, `revoked`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Rotated => "rotated",
            Self::Revoked => "revoked",
        }
    }
}

impl std::fmt::Display for ApiKeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::fmt::Debug;
    use std::str::FromStr;

    use serde::de::DeserializeOwned;
    use serde_json::json;

    use super::*;

    /// Every known value serializes to its wire string and parses back to itself.
    fn assert_round_trips<T>(all: &[T], wires: &[&str])
    where
        T: Serialize + DeserializeOwned + FromStr + PartialEq + Debug + ToString,
        <T as FromStr>::Err: Debug,
    {
        assert_eq!(all.len(), wires.len());
        for (value, wire) in all.iter().zip(wires) {
            assert_eq!(serde_json::to_value(value).unwrap(), json!(wire));
            assert_eq!(&serde_json::from_value::<T>(json!(wire)).unwrap(), value);
            assert_eq!(&wire.parse::<T>().unwrap(), value);
            assert_eq!(value.to_string(), *wire);
        }
    }

    #[test]
    fn wire_strings_round_trip() {
        assert_round_trips(
            HttpMethod::ALL,
            &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        );
        assert_round_trips(CallerType::ALL, &["agent", "service"]);
        assert_round_trips(
            ApprovalStatusValue::ALL,
            &[
                "pending",
                "approved",
                "executing",
                "denied",
                "expired",
                "executed",
                "failed",
            ],
        );
        assert_round_trips(AgentType::ALL, &["agent", "service"]);
        assert_round_trips(AgentStatus::ALL, &["active", "inactive", "revoked"]);
        assert_round_trips(KeyType::ALL, &["rk", "ak", "dk", "pk"]);
        assert_round_trips(GrantKind::ALL, &["oauth", "managed_secret"]);
        assert_round_trips(PrincipalType::ALL, &["user", "group", "system", "agent"]);
        assert_round_trips(
            ConnectPollStatus::ALL,
            &["pending", "completed", "error", "expired"],
        );
        assert_round_trips(
            AuthPollStatus::ALL,
            &["pending", "completed", "error", "expired"],
        );
        assert_round_trips(InjectionTarget::ALL, &["header", "query_param"]);
    }

    #[test]
    fn unknown_strings_round_trip_unchanged() {
        let status: ApprovalStatusValue = serde_json::from_value(json!("escalated")).unwrap();
        assert_eq!(status, ApprovalStatusValue::Unknown("escalated".into()));
        assert!(status.is_unknown());
        assert_eq!(serde_json::to_value(&status).unwrap(), json!("escalated"));

        // Matching is exact: a differently cased value is not the known one.
        let kind = GrantKind::from("OAuth");
        assert!(kind.is_unknown());
        assert_eq!(kind.to_string(), "OAuth");

        let target: InjectionTarget = serde_json::from_value(json!("cookie")).unwrap();
        assert_eq!(target.as_str(), "cookie");
    }

    #[test]
    fn http_methods_are_upper_cased_on_parse() {
        assert_eq!(HttpMethod::from("get"), HttpMethod::Get);
        assert_eq!(HttpMethod::from("Options"), HttpMethod::Options);

        let purge: HttpMethod = serde_json::from_value(json!("purge")).unwrap();
        assert_eq!(purge, HttpMethod::Other("PURGE".into()));
        assert_eq!(serde_json::to_value(&purge).unwrap(), json!("PURGE"));
    }

    #[test]
    fn equality_and_hash_follow_the_wire_string() {
        assert_eq!(CallerType::Unknown("agent".into()), CallerType::Agent);

        let set: HashSet<CallerType> = [CallerType::Agent, CallerType::Unknown("agent".into())]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 1);

        assert!(AgentStatus::Revoked == "revoked");
        assert!(AgentStatus::Revoked != "active");
    }

    #[test]
    fn non_string_values_are_refused() {
        assert!(serde_json::from_value::<KeyType>(json!(1)).is_err());
        assert!(serde_json::from_value::<KeyType>(json!(null)).is_err());
    }

    #[test]
    fn caller_type_defaults_to_agent() {
        assert_eq!(CallerType::default(), CallerType::Agent);
    }

    #[test]
    fn terminal_approval_statuses() {
        let terminal: Vec<&str> = ApprovalStatusValue::ALL
            .iter()
            .filter(|status| status.is_terminal())
            .map(ApprovalStatusValue::as_str)
            .collect();
        assert_eq!(terminal, ["denied", "expired", "executed", "failed"]);
        assert!(!ApprovalStatusValue::Unknown("escalated".into()).is_terminal());
    }

    #[test]
    fn derived_statuses_have_lower_case_names() {
        assert_eq!(AgentKeyStatus::Deprecated.to_string(), "deprecated");
        assert_eq!(ApiKeyStatus::Rotated.as_str(), "rotated");
        assert_eq!(
            serde_json::to_value(ApiKeyStatus::Revoked).unwrap(),
            json!("revoked")
        );
        assert_eq!(
            serde_json::from_value::<AgentKeyStatus>(json!("active")).unwrap(),
            AgentKeyStatus::Active
        );
    }
}
