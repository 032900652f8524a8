//! The blast radius of a compromised credential, from what the lineage pass recorded.
//!
//! Pivots (a token's HMAC, an accessor, an entity, a client address, a display name) select seed
//! tokens; lineage adds every token created from them, recursively (unless descendants are
//! excluded). The scope is everything those tokens did, plus, for address pivots, requests made
//! from the address by any other token or by nobody (failed logins).

mod catalogue;
mod command;
mod reach;
mod rotation;
mod rotation_root;
mod runbook;
mod scope;

pub use catalogue::{CatalogueEntry, CatalogueSource, InventoryError, SecretPlace, read_inventory};
pub(crate) use command::sh;
pub use command::{CLI, Refusal};
pub use reach::{
    Grant, MissingPolicy, PolicyCoverage, PolicyVia, Reach, ReachError, ReachOptions,
    ReachableSecret, TokenReach, UnresolvedGrant, add_precautionary, assess, needed,
    options as reach_options,
};
pub use rotation::{
    Action, Exposure, RotationRules, RotationTarget, TierRule, TierRuleConfig, rotation_targets,
};
pub use rotation_root::ConfigWriteRecord;
pub use scope::{
    BlastRadius, DeniedRecord, LeaseRecord, PivotEcho, ReadOutcome, Relation, SecretReadRecord,
    TokenRecord, resolve,
};

use crate::lineage::IpPivot;

/// What responders know about the compromise.
#[derive(Clone, Debug, Default)]
pub struct Pivots {
    /// Token HMACs (`sys/audit-hash/<device>` of the leaked token).
    pub tokens: Vec<String>,
    /// Accessors, as HMACs or in clear (devices with `hmac_accessor=false`).
    pub accessors: Vec<String>,
    /// Identity entity ids.
    pub entities: Vec<String>,
    /// Client addresses or CIDR blocks.
    pub ips: Vec<IpPivot>,
    /// Token display names (`approle`, `userpass-alice`).
    pub display_names: Vec<String>,
}

impl Pivots {
    /// True when nothing was given.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
            && self.accessors.is_empty()
            && self.entities.is_empty()
            && self.ips.is_empty()
            && self.display_names.is_empty()
    }
}

/// Whether tokens created from the pivot tokens are followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Descendants {
    /// Follow children, grandchildren ...
    Follow,
    /// Only the pivot tokens themselves.
    Ignore,
}
