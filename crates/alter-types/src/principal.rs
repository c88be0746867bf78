//! [`Principal`]: who a managed-secret grant is created for (PROTOCOL §8.1).

use serde::{Deserialize, Serialize};

use crate::validation::check_length;
use crate::{PrincipalType, Secret, ValidationError};

/// Longest accepted user token, in characters.
const MAX_USER_TOKEN: usize = 8192;
/// Longest accepted label or group identifier, in characters.
const MAX_LABEL: usize = 255;

/// The holder of a new managed-secret grant, sent as the `principal` object of
/// `POST /sdk/managed-secrets/{id}/grants`.
///
/// Serialization produces exactly the bytes of PROTOCOL §8.1: the `type` tag first, then the
/// fields in declaration order; `system` and `agent` always send `label`, as `null` when absent.
/// Build values with the validating constructors ([`Principal::user`] and friends) so the length
/// limits hold; deserialization applies the same limits and refuses unknown fields.
///
/// ```
/// use alter_types::Principal;
///
/// let principal = Principal::system(Some("nightly-billing-cron".into()))?;
/// assert_eq!(
///     serde_json::to_string(&principal)?,
///     r#"{"type":"system","label":"nightly-billing-cron"}"#
/// );
///
/// let agent = Principal::agent(None)?;
/// assert_eq!(serde_json::to_string(&agent)?, r#"{"type":"agent","label":null}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "PrincipalWire")]
pub enum Principal {
    /// An end user, identified by a token from the app's identity provider.
    User {
        /// The user's JWT (1 to 8192 characters).
        user_token: Secret,
        /// Human-readable label of the grant (1 to 255 characters).
        label: String,
    },
    /// A group of the app's identity provider.
    Group {
        /// Group id in the identity provider (1 to 255 characters).
        external_group_id: String,
        /// Id of the identity provider (1 to 255 characters).
        idp_id: String,
        /// Human-readable label of the grant (1 to 255 characters).
        label: String,
    },
    /// The app itself, for unattended jobs.
    System {
        /// Optional label (at most 255 characters); sent as `null` when absent.
        label: Option<String>,
    },
    /// The calling agent. No agent id travels: the backend binds the agent it resolves from the
    /// API key that signed the request.
    Agent {
        /// Optional label (at most 255 characters); sent as `null` when absent.
        label: Option<String>,
    },
}

impl Principal {
    /// A user principal.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] when `user_token` is empty or longer than 8192 characters, or `label`
    /// is empty or longer than 255 characters.
    pub fn user(
        user_token: impl Into<Secret>,
        label: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        let principal = Self::User {
            user_token: user_token.into(),
            label: label.into(),
        };
        principal.validate()?;
        Ok(principal)
    }

    /// A group principal.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] when any of the three fields is empty or longer than 255 characters.
    pub fn group(
        external_group_id: impl Into<String>,
        idp_id: impl Into<String>,
        label: impl Into<String>,
    ) -> Result<Self, ValidationError> {
        let principal = Self::Group {
            external_group_id: external_group_id.into(),
            idp_id: idp_id.into(),
            label: label.into(),
        };
        principal.validate()?;
        Ok(principal)
    }

    /// A system principal.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] when `label` is longer than 255 characters.
    pub fn system(label: Option<String>) -> Result<Self, ValidationError> {
        let principal = Self::System { label };
        principal.validate()?;
        Ok(principal)
    }

    /// An agent principal (the calling agent).
    ///
    /// # Errors
    ///
    /// [`ValidationError`] when `label` is longer than 255 characters.
    pub fn agent(label: Option<String>) -> Result<Self, ValidationError> {
        let principal = Self::Agent { label };
        principal.validate()?;
        Ok(principal)
    }

    /// The `type` this principal is sent with.
    pub fn principal_type(&self) -> PrincipalType {
        match self {
            Self::User { .. } => PrincipalType::User,
            Self::Group { .. } => PrincipalType::Group,
            Self::System { .. } => PrincipalType::System,
            Self::Agent { .. } => PrincipalType::Agent,
        }
    }

    /// Checks the PROTOCOL §8.1 limits; useful for a value built with a variant literal.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] naming the first field that breaks its limit.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Self::User { user_token, label } => {
                check_length("user_token", user_token.expose_secret(), 1, MAX_USER_TOKEN)?;
                check_length("label", label, 1, MAX_LABEL)
            }
            Self::Group {
                external_group_id,
                idp_id,
                label,
            } => {
                check_length("external_group_id", external_group_id, 1, MAX_LABEL)?;
                check_length("idp_id", idp_id, 1, MAX_LABEL)?;
                check_length("label", label, 1, MAX_LABEL)
            }
            Self::System { label } | Self::Agent { label } => match label {
                Some(label) => check_length("label", label, 0, MAX_LABEL),
                None => Ok(()),
            },
        }
    }
}

/// Input shape of [`Principal`]: same tag and fields, but strict about unknown keys. Its
/// `label` fields carry no serde default, so `System`/`Agent` accept a missing `label` (a plain
/// `Option`) while `User`/`Group` require theirs.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum PrincipalWire {
    User {
        user_token: Secret,
        label: String,
    },
    Group {
        external_group_id: String,
        idp_id: String,
        label: String,
    },
    System {
        label: Option<String>,
    },
    Agent {
        label: Option<String>,
    },
}

impl TryFrom<PrincipalWire> for Principal {
    type Error = ValidationError;

    fn try_from(wire: PrincipalWire) -> Result<Self, Self::Error> {
        let principal = match wire {
            PrincipalWire::User { user_token, label } => Self::User { user_token, label },
            PrincipalWire::Group {
                external_group_id,
                idp_id,
                label,
            } => Self::Group {
                external_group_id,
                idp_id,
                label,
            },
            PrincipalWire::System { label } => Self::System { label },
            PrincipalWire::Agent { label } => Self::Agent { label },
        };
        principal.validate()?;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_bytes_match_the_protocol_exactly() {
        let cases = [
            (
                Principal::user("jwt.value.sig", "jane-stripe").unwrap(),
                r#"{"type":"user","user_token":"jwt.value.sig","label":"jane-stripe"}"#,
            ),
            (
                Principal::group("okta-eng", "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d", "eng")
                    .unwrap(),
                r#"{"type":"group","external_group_id":"okta-eng","idp_id":"4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d","label":"eng"}"#,
            ),
            (
                Principal::system(None).unwrap(),
                r#"{"type":"system","label":null}"#,
            ),
            (
                Principal::system(Some("cron".into())).unwrap(),
                r#"{"type":"system","label":"cron"}"#,
            ),
            (
                Principal::agent(None).unwrap(),
                r#"{"type":"agent","label":null}"#,
            ),
            (
                Principal::agent(Some("helper".into())).unwrap(),
                r#"{"type":"agent","label":"helper"}"#,
            ),
        ];

        for (principal, expected) in cases {
            assert_eq!(serde_json::to_string(&principal).unwrap(), expected);
            let back: Principal = serde_json::from_str(expected).unwrap();
            assert_eq!(back, principal);
        }
    }

    #[test]
    fn debug_redacts_the_user_token() {
        let principal = Principal::user("jwt-secret-value", "jane").unwrap();
        let shown = format!("{principal:?}");
        assert!(!shown.contains("jwt-secret-value"), "{shown}");
    }

    #[test]
    fn constructors_enforce_length_limits() {
        assert_eq!(
            Principal::user("", "jane"),
            Err(ValidationError::Empty {
                field: "user_token"
            })
        );
        assert_eq!(
            Principal::user("t".repeat(8193), "jane"),
            Err(ValidationError::TooLong {
                field: "user_token",
                max: 8192,
                len: 8193
            })
        );
        assert!(Principal::user("t".repeat(8192), "l".repeat(255)).is_ok());
        assert_eq!(
            Principal::user("t", ""),
            Err(ValidationError::Empty { field: "label" })
        );

        assert_eq!(
            Principal::group("", "idp", "label"),
            Err(ValidationError::Empty {
                field: "external_group_id"
            })
        );
        assert_eq!(
            Principal::group("g", "i".repeat(256), "label"),
            Err(ValidationError::TooLong {
                field: "idp_id",
                max: 255,
                len: 256
            })
        );

        assert!(Principal::system(Some(String::new())).is_ok());
        assert_eq!(
            Principal::agent(Some("a".repeat(256))),
            Err(ValidationError::TooLong {
                field: "label",
                max: 255,
                len: 256
            })
        );
    }

    #[test]
    fn deserialization_refuses_unknown_fields_and_bad_values() {
        let refused = [
            json!({"type": "agent", "label": null, "agent_id": "x"}),
            json!({"type": "user", "user_token": "t", "label": "l", "extra": 1}),
            json!({"type": "user", "user_token": "", "label": "l"}),
            json!({"type": "user", "user_token": "t"}),
            json!({"type": "group", "external_group_id": "g", "label": "l"}),
            json!({"type": "robot"}),
            json!({"label": "no type"}),
            json!("user"),
        ];
        for value in refused {
            assert!(
                serde_json::from_value::<Principal>(value.clone()).is_err(),
                "{value}"
            );
        }
    }

    #[test]
    fn a_missing_optional_label_reads_as_none() {
        let principal: Principal = serde_json::from_value(json!({"type": "system"})).unwrap();
        assert_eq!(principal, Principal::System { label: None });
        assert_eq!(principal.principal_type(), PrincipalType::System);
    }
}
