//! The running fake backend, as its ready line describes it.

use std::path::Path;

use serde::Deserialize;

/// The parts of alter-testkit's ready line the runs need.
#[derive(Clone, Deserialize)]
pub(crate) struct Backend {
    /// The backend's base URL.
    pub(crate) base_url: String,
    /// The fake provider's base URL (proxied calls go to its `/echo/…`).
    pub(crate) provider_base_url: String,
    /// The app key.
    pub(crate) app_key: String,
    /// The seeded grants.
    pub(crate) grants: Grants,
}

/// The seeded grants the runs use.
#[derive(Clone, Deserialize)]
pub(crate) struct Grants {
    /// A system grant executed at once by the proxy.
    pub(crate) api_key_header: String,
    /// A grant whose proxied calls wait for a human's approval.
    pub(crate) hitl: String,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The app key stays out of any output.
        f.debug_struct("Backend")
            .field("base_url", &self.base_url)
            .field("provider_base_url", &self.provider_base_url)
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// Reads the ready line saved at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|error| format!("{} is not a ready line: {error}", path.display()))
    }

    /// The provider URL every proxied call targets.
    pub(crate) fn echo_url(&self) -> String {
        format!("{}/echo/bench", self.provider_base_url)
    }
}
