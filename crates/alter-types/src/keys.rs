//! API key records (PROTOCOL §5.18, §10).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::serde_util::{non_empty_secret, timestamp, timestamp_option};
use crate::{ApiKeyStatus, KeyType, Secret};

/// Metadata of an API key (never the key itself).
#[doc(alias = "APIKeyInfo")]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    /// Key id.
    pub id: Uuid,
    /// Key name.
    pub name: String,
    /// First characters of the key, for recognising it.
    pub key_prefix: String,
    /// Kind of key.
    pub key_type: KeyType,
    /// Scopes the key carries.
    pub scopes: Vec<String>,
    /// Version of the scope catalog the scopes refer to.
    pub scope_version: u64,
    /// Networks the key may be used from, if restricted.
    #[serde(default)]
    pub cidr_allowlist: Option<Vec<String>>,
    /// Request rate limit, if one is set.
    #[serde(default)]
    pub rate_limit_rpm: Option<u64>,
    /// Expiry, if any.
    #[serde(default, with = "timestamp_option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key was replaced by a rotation, if it was.
    #[serde(default, with = "timestamp_option")]
    pub deprecated_at: Option<DateTime<Utc>>,
    /// When the key was revoked, if it was.
    #[serde(default, with = "timestamp_option")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Key this one was derived from or rotated out of, if any.
    #[serde(default)]
    pub parent_key_id: Option<Uuid>,
    /// Creation time.
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
    /// Last use, if any.
    #[serde(default, with = "timestamp_option")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyInfo {
    /// Revoked if `revoked_at` is set, else rotated if `deprecated_at` is set, else active.
    pub fn status(&self) -> ApiKeyStatus {
        if self.revoked_at.is_some() {
            ApiKeyStatus::Revoked
        } else if self.deprecated_at.is_some() {
            ApiKeyStatus::Rotated
        } else {
            ApiKeyStatus::Active
        }
    }
}

/// A freshly minted key (`keys.derive`, `keys.rotate`): its metadata plus the key, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedKey {
    /// The key metadata (flattened into the same JSON object).
    #[serde(flatten)]
    pub key: ApiKeyInfo,
    /// The plaintext key (never empty).
    #[serde(deserialize_with = "non_empty_secret")]
    pub api_key: Secret,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn key_json() -> Value {
        json!({
            "id": "f1e2d3c4-b5a6-4978-8877-665544332211",
            "name": "ci-deploy",
            "key_prefix": "alter_dk_fpw",
            "key_type": "dk",
            "scopes": ["tokens:retrieve"],
            "scope_version": 3,
            "cidr_allowlist": ["10.0.0.0/8"],
            "rate_limit_rpm": null,
            "expires_at": "2026-01-01T01:00:00Z",
            "deprecated_at": null,
            "revoked_at": null,
            "parent_key_id": "e5d4c3b2-a190-4876-8543-210fedcba987",
            "created_at": "2026-01-01T00:00:00Z",
            "last_used_at": null
        })
    }

    #[test]
    fn key_info_round_trips_and_derives_status() {
        let mut raw = key_json();
        let key: ApiKeyInfo = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(key.key_type, KeyType::Dk);
        assert_eq!(key.status(), ApiKeyStatus::Active);
        assert_eq!(serde_json::to_value(&key).unwrap(), raw);

        raw["deprecated_at"] = json!("2026-01-02T00:00:00Z");
        let key: ApiKeyInfo = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(key.status(), ApiKeyStatus::Rotated);

        raw["revoked_at"] = json!("2026-01-03T00:00:00Z");
        let key: ApiKeyInfo = serde_json::from_value(raw).unwrap();
        assert_eq!(key.status(), ApiKeyStatus::Revoked);
    }

    #[test]
    fn minted_key_needs_a_non_empty_key_and_hides_it() {
        let mut raw = key_json();
        raw["api_key"] = json!("alter_dk_fpw4dmxt5gxjlrqhnwzr4o_tepcux");
        let minted: MintedKey = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(minted.key.name, "ci-deploy");
        assert!(!format!("{minted:?}").contains("fpw4dmxt"));
        assert_eq!(serde_json::to_value(&minted).unwrap(), raw);

        raw["api_key"] = json!("");
        assert!(serde_json::from_value::<MintedKey>(raw.clone()).is_err());
        raw["api_key"] = Value::Null;
        assert!(serde_json::from_value::<MintedKey>(raw).is_err());
    }
}
