//! Data model of the Alter Vault SDK.
#![deny(missing_docs)]
