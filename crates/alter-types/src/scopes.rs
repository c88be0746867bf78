//! The scope catalog (`GET /sdk/scopes`, PROTOCOL §5.19).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::serde_util::null_as_default;

/// The scope vocabulary of the backend (`GET /sdk/scopes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCatalog {
    /// Version of this catalog.
    pub scope_version: u64,
    /// Resources by name, in the order sent, each with its verbs.
    pub resources: IndexMap<String, ScopeResource>,
    /// Verbs that name actions rather than resources.
    pub action_verbs: Vec<String>,
    /// Scopes that still work but should no longer be requested.
    #[serde(default, deserialize_with = "null_as_default")]
    pub deprecated: Vec<String>,
}

/// One resource of the [`ScopeCatalog`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeResource {
    /// Verbs that combine with the resource (`<resource>:<verb>`).
    pub verbs: Vec<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scope_catalog_keeps_resource_order_and_defaults_deprecated() {
        let catalog: ScopeCatalog = serde_json::from_value(json!({
            "scope_version": 3,
            "resources": {"tokens": {"verbs": ["retrieve"]}, "agents": {"verbs": ["read"]}},
            "action_verbs": ["proxy"]
        }))
        .unwrap();
        let names: Vec<&str> = catalog.resources.keys().map(String::as_str).collect();
        assert_eq!(names, ["tokens", "agents"]);
        assert!(catalog.deprecated.is_empty());
        assert_eq!(catalog.resources["tokens"].verbs, ["retrieve"]);
    }
}
