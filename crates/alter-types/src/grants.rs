//! Grant records and the results of the grant endpoints (PROTOCOL §5.7, §5.8, §5.10, §10).
//!
//! Grant timestamps are `ts-str` in the protocol, so they stay `String` here.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::serde_util::{null_as_default, required_option};
use crate::{GrantKind, PrincipalType};

/// An OAuth grant in the legacy list shape (no `grant_kind`).
///
/// No 0.15 endpoint produces this shape on purpose; a unified list item without `grant_kind`
/// is read as one (see [`GrantItem::Legacy`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantInfo {
    /// Grant id.
    pub grant_id: String,
    /// Provider id (for example `google`).
    pub provider_id: String,
    /// Granted scopes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// Account at the provider (for example an email address).
    #[serde(default)]
    pub account_identifier: Option<String>,
    /// Display name of that account.
    #[serde(default)]
    pub account_display_name: Option<String>,
    /// Grant status (for example `active`).
    pub status: String,
    /// Whether the backend saw the provider refuse a scope the grant should have.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scope_mismatch: bool,
    /// Expiry (timestamp text), if any.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Creation time (timestamp text).
    pub created_at: String,
    /// Last use (timestamp text), if any.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// Who owns the grant.
    pub principal_type: PrincipalType,
}

/// Page of legacy grants: `{grants, total, limit, offset, has_more}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantListResult {
    /// The grants on this page.
    pub grants: Vec<GrantInfo>,
    /// Number of grants across all pages.
    pub total: u64,
    /// Page size used.
    pub limit: u64,
    /// Offset of this page.
    pub offset: u64,
    /// Whether another page follows.
    pub has_more: bool,
}

/// A user-authorized OAuth grant in the unified list (`grant_kind: "oauth"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthGrantItem {
    /// Grant id.
    pub grant_id: String,
    /// Provider id (for example `google`).
    pub provider_id: String,
    /// Granted scopes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// Account at the provider.
    #[serde(default)]
    pub account_identifier: Option<String>,
    /// Display name of that account.
    #[serde(default)]
    pub account_display_name: Option<String>,
    /// Grant status (for example `active`).
    pub status: String,
    /// Whether the backend saw the provider refuse a scope the grant should have.
    #[serde(default, deserialize_with = "null_as_default")]
    pub scope_mismatch: bool,
    /// Expiry (timestamp text), if any.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Creation time (timestamp text).
    pub created_at: String,
    /// Last use (timestamp text), if any.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// Who owns the grant: `user` or `system`.
    pub principal_type: PrincipalType,
    /// When the grant was delegated to the calling agent (agent view only).
    #[serde(default)]
    pub delegated_at: Option<String>,
    /// Agents the grant is delegated to (operator view only).
    #[serde(default, deserialize_with = "null_as_default")]
    pub delegated_agent_ids: Vec<String>,
}

/// An operator-provisioned managed-secret grant in the unified list
/// (`grant_kind: "managed_secret"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedSecretGrantItem {
    /// Grant id.
    pub grant_id: String,
    /// Id of the managed secret.
    pub managed_secret_id: String,
    /// Slug of the managed secret.
    pub managed_secret_slug: String,
    /// Display name of the managed secret.
    pub managed_secret_name: String,
    /// Agent that holds the grant.
    pub agent_id: String,
    /// Label of the grant, if any.
    #[serde(default)]
    pub label: Option<String>,
    /// Grant status (for example `active`).
    pub status: String,
    /// Policy object as sent by the backend, if any.
    #[serde(default)]
    pub grant_policy: Option<Map<String, Value>>,
    /// Creation time (timestamp text).
    pub created_at: String,
    /// Last use (timestamp text), if any.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// Who owns the grant; `agent` when the backend omits it.
    #[serde(default = "agent_principal")]
    pub principal_type: PrincipalType,
}

fn agent_principal() -> PrincipalType {
    PrincipalType::Agent
}

/// One entry of the unified grant list, dispatched on its `grant_kind`.
///
/// Serialization writes the item back with its `grant_kind` first; [`GrantItem::Legacy`] has no
/// `grant_kind`, and [`GrantItem::Unknown`] is written exactly as it was read.
///
/// ```
/// use alter_types::GrantItem;
///
/// let item: GrantItem = serde_json::from_value(serde_json::json!({
///     "grant_kind": "vault_lease", "grant_id": "g-1"
/// }))?;
/// assert!(matches!(item, GrantItem::Unknown(_)));
/// assert_eq!(item.grant_id(), Some("g-1"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantItem {
    /// `grant_kind: "oauth"`.
    OAuth(OAuthGrantItem),
    /// `grant_kind: "managed_secret"`.
    ManagedSecret(ManagedSecretGrantItem),
    /// An item without `grant_kind` (or with `null`), read in the legacy shape (PROTOCOL §14.10).
    Legacy(GrantInfo),
    /// Any other `grant_kind`: the raw object, kept whole so nothing is lost.
    Unknown(Value),
}

impl GrantItem {
    /// The item's kind; `None` for a legacy item (or an unknown item whose kind is not a string).
    pub fn grant_kind(&self) -> Option<GrantKind> {
        match self {
            Self::OAuth(_) => Some(GrantKind::OAuth),
            Self::ManagedSecret(_) => Some(GrantKind::ManagedSecret),
            Self::Legacy(_) => None,
            Self::Unknown(raw) => raw
                .get("grant_kind")
                .and_then(Value::as_str)
                .map(GrantKind::from),
        }
    }

    /// The grant id, whatever the kind (for an unknown item, when it has a string `grant_id`).
    pub fn grant_id(&self) -> Option<&str> {
        match self {
            Self::OAuth(item) => Some(&item.grant_id),
            Self::ManagedSecret(item) => Some(&item.grant_id),
            Self::Legacy(item) => Some(&item.grant_id),
            Self::Unknown(raw) => raw.get("grant_id").and_then(Value::as_str),
        }
    }
}

impl<'de> Deserialize<'de> for GrantItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        let Value::Object(object) = &raw else {
            return Err(D::Error::custom("grant item must be a JSON object"));
        };

        match object.get("grant_kind") {
            None | Some(Value::Null) => GrantInfo::deserialize(raw)
                .map(Self::Legacy)
                .map_err(D::Error::custom),
            Some(Value::String(kind)) if kind == GrantKind::OAuth.as_str() => {
                OAuthGrantItem::deserialize(raw)
                    .map(Self::OAuth)
                    .map_err(D::Error::custom)
            }
            Some(Value::String(kind)) if kind == GrantKind::ManagedSecret.as_str() => {
                ManagedSecretGrantItem::deserialize(raw)
                    .map(Self::ManagedSecret)
                    .map_err(D::Error::custom)
            }
            Some(_) => Ok(Self::Unknown(raw)),
        }
    }
}

impl Serialize for GrantItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::OAuth(item) => Tagged {
                grant_kind: GrantKind::OAuth.as_str(),
                item,
            }
            .serialize(serializer),
            Self::ManagedSecret(item) => Tagged {
                grant_kind: GrantKind::ManagedSecret.as_str(),
                item,
            }
            .serialize(serializer),
            Self::Legacy(item) => item.serialize(serializer),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

/// A grant item with its discriminator written first.
#[derive(Serialize)]
struct Tagged<'a, T> {
    grant_kind: &'a str,
    #[serde(flatten)]
    item: &'a T,
}

/// Page of the unified grant list (`POST /sdk/grants/list`).
///
/// No automatic paging: to read everything, repeat the call with `offset += limit` while
/// `has_more` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnifiedGrantListResult {
    /// The items on this page.
    pub grants: Vec<GrantItem>,
    /// Number of grants across all pages.
    pub total: u64,
    /// Page size used.
    pub limit: u64,
    /// Offset of this page.
    pub offset: u64,
    /// Whether another page follows.
    pub has_more: bool,
}

/// Result of creating a managed-secret grant (`POST /sdk/managed-secrets/{id}/grants`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGrantResult {
    /// Id of the new grant.
    pub grant_id: String,
    /// Kind of principal the grant was created for.
    pub principal_type: PrincipalType,
    /// Label of the grant; the key is always present, the value may be `null`.
    #[serde(deserialize_with = "required_option")]
    pub label: Option<String>,
    /// Creation time (timestamp text).
    pub created_at: String,
}

/// Result of revoking an OAuth grant (`POST /sdk/oauth/grants/{id}/revoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeGrantResult {
    /// Whether the backend revoked the grant.
    pub success: bool,
    /// Human-readable outcome.
    pub message: String,
    /// Id of the revoked grant.
    pub grant_id: String,
    /// Revocation time (timestamp text).
    pub revoked_at: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn oauth_json() -> Value {
        json!({
            "grant_kind": "oauth",
            "grant_id": "0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e",
            "provider_id": "google",
            "scopes": ["openid"],
            "account_identifier": "jane@example.com",
            "account_display_name": null,
            "status": "active",
            "scope_mismatch": false,
            "expires_at": null,
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": null,
            "principal_type": "user",
            "delegated_at": "2025-12-31T12:00:00Z",
            "delegated_agent_ids": []
        })
    }

    fn managed_secret_json() -> Value {
        json!({
            "grant_kind": "managed_secret",
            "grant_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
            "managed_secret_id": "a1b2c3d4-5e6f-4789-8abc-def012345678",
            "managed_secret_slug": "stripe-api-key",
            "managed_secret_name": "Stripe API key",
            "agent_id": "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c",
            "label": "support-stripe",
            "status": "active",
            "grant_policy": {"expires_at": "2026-06-30T00:00:00Z"},
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": null,
            "principal_type": "agent"
        })
    }

    #[test]
    fn oauth_items_dispatch_and_round_trip() {
        let item: GrantItem = serde_json::from_value(oauth_json()).unwrap();
        let GrantItem::OAuth(oauth) = &item else {
            panic!("expected oauth, got {item:?}")
        };
        assert_eq!(oauth.provider_id, "google");
        assert_eq!(oauth.principal_type, PrincipalType::User);
        assert_eq!(item.grant_kind(), Some(GrantKind::OAuth));

        // Same keys, same order, grant_kind first.
        assert_eq!(
            serde_json::to_string(&item).unwrap(),
            oauth_json().to_string()
        );
    }

    #[test]
    fn managed_secret_items_dispatch_and_round_trip() {
        let item: GrantItem = serde_json::from_value(managed_secret_json()).unwrap();
        let GrantItem::ManagedSecret(secret) = &item else {
            panic!("got {item:?}")
        };
        assert_eq!(secret.managed_secret_slug, "stripe-api-key");
        assert_eq!(item.grant_kind(), Some(GrantKind::ManagedSecret));
        assert_eq!(
            serde_json::to_string(&item).unwrap(),
            managed_secret_json().to_string()
        );
    }

    #[test]
    fn managed_secret_principal_type_defaults_to_agent() {
        let mut raw = managed_secret_json();
        raw.as_object_mut().unwrap().remove("principal_type");
        let item: GrantItem = serde_json::from_value(raw).unwrap();
        let GrantItem::ManagedSecret(secret) = item else {
            panic!("wrong kind")
        };
        assert_eq!(secret.principal_type, PrincipalType::Agent);
    }

    #[test]
    fn items_without_a_kind_are_legacy_grants() {
        let mut raw = oauth_json();
        let object = raw.as_object_mut().unwrap();
        object.remove("grant_kind");
        object.remove("delegated_at");
        object.remove("delegated_agent_ids");

        let item: GrantItem = serde_json::from_value(raw.clone()).unwrap();
        let GrantItem::Legacy(info) = &item else {
            panic!("got {item:?}")
        };
        assert_eq!(info.grant_id, "0b6f7c8d-9e0a-4b1c-8d2e-3f4a5b6c7d8e");
        assert_eq!(item.grant_kind(), None);
        assert_eq!(serde_json::to_value(&item).unwrap(), raw);

        object_with_null_kind_is_legacy_too(raw);
    }

    fn object_with_null_kind_is_legacy_too(mut raw: Value) {
        raw.as_object_mut()
            .unwrap()
            .insert("grant_kind".into(), Value::Null);
        let item: GrantItem = serde_json::from_value(raw).unwrap();
        assert!(matches!(item, GrantItem::Legacy(_)));
    }

    #[test]
    fn unknown_kinds_keep_the_raw_object() {
        let raw = json!({"grant_kind": "vault_lease", "grant_id": "g-9", "lease": {"ttl": 5}});
        let item: GrantItem = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(item, GrantItem::Unknown(raw.clone()));
        assert_eq!(
            item.grant_kind(),
            Some(GrantKind::Unknown("vault_lease".into()))
        );
        assert_eq!(item.grant_id(), Some("g-9"));
        assert_eq!(serde_json::to_string(&item).unwrap(), raw.to_string());

        let odd = json!({"grant_kind": 7});
        let item: GrantItem = serde_json::from_value(odd).unwrap();
        assert!(matches!(item, GrantItem::Unknown(_)));
        assert_eq!(item.grant_kind(), None);
    }

    #[test]
    fn malformed_known_kinds_and_non_objects_are_errors() {
        let mut raw = oauth_json();
        raw.as_object_mut().unwrap().remove("principal_type");
        assert!(serde_json::from_value::<GrantItem>(raw).is_err());

        assert!(serde_json::from_value::<GrantItem>(json!(["oauth"])).is_err());
        assert!(serde_json::from_value::<GrantItem>(json!({"grant_id": "only"})).is_err());
    }

    #[test]
    fn unified_list_mixes_kinds() {
        let page: UnifiedGrantListResult = serde_json::from_value(json!({
            "grants": [oauth_json(), managed_secret_json()],
            "total": 2, "limit": 50, "offset": 0, "has_more": false
        }))
        .unwrap();
        assert!(matches!(page.grants[0], GrantItem::OAuth(_)));
        assert!(matches!(page.grants[1], GrantItem::ManagedSecret(_)));
    }

    #[test]
    fn create_grant_result_requires_the_label_key() {
        let with_null: CreateGrantResult = serde_json::from_value(json!({
            "grant_id": "g", "principal_type": "agent", "label": null,
            "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(with_null.label, None);

        let missing = json!({"grant_id": "g", "principal_type": "agent", "created_at": "t"});
        assert!(serde_json::from_value::<CreateGrantResult>(missing).is_err());
    }

    #[test]
    fn defaults_apply_to_missing_and_null_values() {
        let info: GrantInfo = serde_json::from_value(json!({
            "grant_id": "g", "provider_id": "slack", "scopes": null, "status": "active",
            "created_at": "t", "principal_type": "system"
        }))
        .unwrap();
        assert!(info.scopes.is_empty());
        assert!(!info.scope_mismatch);
        assert_eq!(info.account_identifier, None);
    }
}
