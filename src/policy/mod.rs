//! ACL policies: parsing, Vault's path matching and priority rules, and the capabilities a token
//! has on a path. Independent of the scan: [`crate::blast`] feeds it the lineage's tokens and the
//! catalogue of secret paths.

mod acl;
mod caps;
mod parse;
mod store;
mod template;

#[cfg(test)]
mod tests;

pub use acl::{Acl, Decision, RuleRef, Unresolved};
pub use caps::{Capabilities, Capability};
pub use parse::{PathRule, Policy, PolicyError, namespace_prefix, parse_policy};
pub use store::{PolicyId, PolicySet, PolicySource, StoreError, VaultServer};
pub use template::{Filled, Identity, could_match, fill};
