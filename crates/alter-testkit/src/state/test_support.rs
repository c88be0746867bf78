//! Shared fixtures of the state modules' unit tests.

use alter_core::classify::classify_generic;
use uuid::Uuid;

use crate::errors::Failure;
use crate::state::keys::Owner;
use crate::state::seed::seed;
use crate::state::{Caller, Settings, Store, ids::Rng};

/// A seeded store with a fixed random sequence.
pub(crate) fn store() -> Store {
    let mut store = Store::new(Settings::default(), Rng::seeded(11));
    seed(&mut store).unwrap();
    store
}

/// A caller holding the app key.
pub(crate) fn app() -> Caller {
    Caller {
        key_id: Uuid::nil(),
        owner: Owner::App,
        acting_agent: None,
        scopes: Vec::new(),
        deprecated: false,
        actor_id: None,
    }
}

/// A caller holding the key of agent `id`.
pub(crate) fn agent(id: Uuid) -> Caller {
    Caller {
        owner: Owner::Agent(id),
        acting_agent: Some(id),
        ..app()
    }
}

/// The class the core gives a failure's answer.
pub(crate) fn class(failure: &Failure) -> &'static str {
    classify_generic(failure.status, &failure.body()).class_name()
}
