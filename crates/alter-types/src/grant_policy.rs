//! Per-grant policy: [`GrantPolicyInput`] (what a caller asks for, PROTOCOL §8.2) and
//! [`GrantPolicy`] (what the backend reports back, PROTOCOL §10).

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Policy attached to a grant, as reported in a connect result.
///
/// All three fields are optional; timestamps are kept as the backend wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantPolicy {
    /// When the grant stops working (timestamp text), if it expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Who set the policy: `developer` or `end_user`.
    #[serde(default)]
    pub created_by: Option<String>,
    /// When the policy was set (timestamp text).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// Policy requested when creating a grant or a connect session (`grant_policy` in request
/// bodies).
///
/// The TTL values must be greater than zero; the constructors check this, so every value of this
/// type is valid. Serialization writes only the keys that are set, in the order `expires_at`,
/// `max_ttl_seconds`, `default_ttl_seconds`; an empty policy is `{}`.
///
/// ```
/// use alter_types::GrantPolicyInput;
///
/// let policy = GrantPolicyInput::new().with_max_ttl_seconds(86_400)?.with_default_ttl_seconds(3_600)?;
/// assert_eq!(
///     serde_json::to_string(&policy)?,
///     r#"{"max_ttl_seconds":86400,"default_ttl_seconds":3600}"#
/// );
/// assert_eq!(serde_json::to_string(&GrantPolicyInput::new())?, "{}");
/// assert!(GrantPolicyInput::new().with_max_ttl_seconds(0).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "GrantPolicyInputWire")]
pub struct GrantPolicyInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ttl_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_ttl_seconds: Option<u64>,
}

impl GrantPolicyInput {
    /// An empty policy (serializes to `{}`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy from all three optional parts at once.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NotPositive`] when a TTL is zero.
    pub fn try_new(
        expires_at: Option<String>,
        max_ttl_seconds: Option<u64>,
        default_ttl_seconds: Option<u64>,
    ) -> Result<Self, ValidationError> {
        let policy = Self {
            expires_at,
            max_ttl_seconds,
            default_ttl_seconds,
        };
        check_positive("max_ttl_seconds", policy.max_ttl_seconds)?;
        check_positive("default_ttl_seconds", policy.default_ttl_seconds)?;
        Ok(policy)
    }

    /// Sets the absolute expiry, a timestamp string passed through unchanged.
    pub fn with_expires_at(mut self, expires_at: impl Into<String>) -> Self {
        self.expires_at = Some(expires_at.into());
        self
    }

    /// Sets the longest lifetime, in seconds, a credential minted from the grant may have.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NotPositive`] when `seconds` is zero.
    pub fn with_max_ttl_seconds(mut self, seconds: u64) -> Result<Self, ValidationError> {
        check_positive("max_ttl_seconds", Some(seconds))?;
        self.max_ttl_seconds = Some(seconds);
        Ok(self)
    }

    /// Sets the lifetime, in seconds, used when a request does not ask for one.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NotPositive`] when `seconds` is zero.
    pub fn with_default_ttl_seconds(mut self, seconds: u64) -> Result<Self, ValidationError> {
        check_positive("default_ttl_seconds", Some(seconds))?;
        self.default_ttl_seconds = Some(seconds);
        Ok(self)
    }

    /// The requested absolute expiry, if set.
    pub fn expires_at(&self) -> Option<&str> {
        self.expires_at.as_deref()
    }

    /// The requested maximum lifetime in seconds, if set.
    pub fn max_ttl_seconds(&self) -> Option<u64> {
        self.max_ttl_seconds
    }

    /// The requested default lifetime in seconds, if set.
    pub fn default_ttl_seconds(&self) -> Option<u64> {
        self.default_ttl_seconds
    }

    /// Whether nothing is set (the policy serializes to `{}`).
    pub fn is_empty(&self) -> bool {
        self.expires_at.is_none()
            && self.max_ttl_seconds.is_none()
            && self.default_ttl_seconds.is_none()
    }
}

fn check_positive(field: &'static str, value: Option<u64>) -> Result<(), ValidationError> {
    match value {
        Some(0) => Err(ValidationError::NotPositive { field }),
        _ => Ok(()),
    }
}

/// Input shape of [`GrantPolicyInput`]: unknown keys are refused, as PROTOCOL §8.2 requires.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantPolicyInputWire {
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    max_ttl_seconds: Option<u64>,
    #[serde(default)]
    default_ttl_seconds: Option<u64>,
}

impl TryFrom<GrantPolicyInputWire> for GrantPolicyInput {
    type Error = ValidationError;

    fn try_from(wire: GrantPolicyInputWire) -> Result<Self, Self::Error> {
        Self::try_new(
            wire.expires_at,
            wire.max_ttl_seconds,
            wire.default_ttl_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_written_in_protocol_order_and_only_when_set() {
        // Set in reverse order on purpose: the output order must not depend on it.
        let policy = GrantPolicyInput::new()
            .with_default_ttl_seconds(3600)
            .unwrap()
            .with_max_ttl_seconds(86400)
            .unwrap()
            .with_expires_at("2026-06-30T23:59:59Z");
        assert_eq!(
            serde_json::to_string(&policy).unwrap(),
            r#"{"expires_at":"2026-06-30T23:59:59Z","max_ttl_seconds":86400,"default_ttl_seconds":3600}"#
        );

        let only_expiry = GrantPolicyInput::new().with_expires_at("2026-06-30T23:59:59Z");
        assert_eq!(
            serde_json::to_string(&only_expiry).unwrap(),
            r#"{"expires_at":"2026-06-30T23:59:59Z"}"#
        );
        assert_eq!(
            serde_json::to_string(&GrantPolicyInput::new()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn zero_ttls_are_refused() {
        assert_eq!(
            GrantPolicyInput::new().with_max_ttl_seconds(0),
            Err(ValidationError::NotPositive {
                field: "max_ttl_seconds"
            })
        );
        assert_eq!(
            GrantPolicyInput::new().with_default_ttl_seconds(0),
            Err(ValidationError::NotPositive {
                field: "default_ttl_seconds"
            })
        );
        assert_eq!(
            GrantPolicyInput::try_new(None, Some(1), Some(0)),
            Err(ValidationError::NotPositive {
                field: "default_ttl_seconds"
            })
        );
        assert!(GrantPolicyInput::try_new(Some("x".into()), Some(1), Some(1)).is_ok());
    }

    #[test]
    fn accessors_and_emptiness() {
        let policy = GrantPolicyInput::try_new(Some("t".into()), Some(10), None).unwrap();
        assert_eq!(policy.expires_at(), Some("t"));
        assert_eq!(policy.max_ttl_seconds(), Some(10));
        assert_eq!(policy.default_ttl_seconds(), None);
        assert!(!policy.is_empty());
        assert!(GrantPolicyInput::new().is_empty());
    }

    #[test]
    fn deserialization_validates_and_refuses_unknown_keys() {
        let policy: GrantPolicyInput =
            serde_json::from_value(json!({"max_ttl_seconds": 60, "default_ttl_seconds": null}))
                .unwrap();
        assert_eq!(
            policy,
            GrantPolicyInput::new().with_max_ttl_seconds(60).unwrap()
        );

        for bad in [
            json!({"max_ttl_seconds": 0}),
            json!({"default_ttl_seconds": -5}),
            json!({"max_ttl_seconds": "60"}),
            json!({"ttl": 60}),
        ] {
            assert!(
                serde_json::from_value::<GrantPolicyInput>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn read_side_policy_tolerates_missing_and_extra_fields() {
        let policy: GrantPolicy = serde_json::from_value(json!({
            "expires_at": "2026-01-01T01:00:00Z",
            "created_by": "developer",
            "something_new": true
        }))
        .unwrap();
        assert_eq!(policy.expires_at.as_deref(), Some("2026-01-01T01:00:00Z"));
        assert_eq!(policy.created_by.as_deref(), Some("developer"));
        assert_eq!(policy.created_at, None);
    }
}
