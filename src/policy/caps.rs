//! Capabilities as a bit set, with Vault's names and the order `sys/capabilities` lists them in.

use std::fmt;

/// A set of path capabilities (`read`, `list`, `deny` ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capabilities(u16);

/// One capability, by the name policies use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// `deny`: overrides every other capability on the same path.
    Deny,
    /// `create`.
    Create,
    /// `read`.
    Read,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
    /// `list`: key names only, never values.
    List,
    /// `sudo`: root-protected paths.
    Sudo,
    /// `patch`.
    Patch,
    /// `scan` (OpenBao: recursive listing).
    Scan,
}

impl Capability {
    /// Every capability, in the order `sys/capabilities` reports them before sorting.
    pub const ALL: [Capability; 9] = [
        Capability::Sudo,
        Capability::Read,
        Capability::List,
        Capability::Update,
        Capability::Delete,
        Capability::Create,
        Capability::Patch,
        Capability::Scan,
        Capability::Deny,
    ];

    /// The policy name (`read`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Deny => "deny",
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
            Capability::Patch => "patch",
            Capability::Scan => "scan",
        }
    }

    /// The capability of a policy name, if it is one.
    pub fn from_name(s: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl Capabilities {
    /// No capability at all (what `sys/capabilities` reports as `deny`).
    pub const NONE: Capabilities = Capabilities(0);

    /// Only `deny`.
    pub fn deny() -> Capabilities {
        Capabilities::NONE.with(Capability::Deny)
    }

    /// This set plus `c`.
    pub fn with(self, c: Capability) -> Capabilities {
        Capabilities(self.0 | c.bit())
    }

    /// The union of two sets.
    pub fn union(self, o: Capabilities) -> Capabilities {
        Capabilities(self.0 | o.0)
    }

    /// True when `c` is in the set.
    pub fn has(self, c: Capability) -> bool {
        self.0 & c.bit() != 0
    }

    /// True when `deny` is in the set: it overrides everything else.
    pub fn is_deny(self) -> bool {
        self.has(Capability::Deny)
    }

    /// True when the set grants `c` (present and not overridden by `deny`).
    pub fn grants(self, c: Capability) -> bool {
        !self.is_deny() && self.has(c)
    }

    /// The names `sys/capabilities` answers with: sorted, and `["deny"]` when the set is empty
    /// or denied.
    pub fn names(self) -> Vec<&'static str> {
        if self.is_deny() || self.0 == 0 {
            return vec![Capability::Deny.name()];
        }
        let mut v: Vec<&'static str> = Capability::ALL
            .into_iter()
            .filter(|c| self.has(*c))
            .map(Capability::name)
            .collect();
        v.sort_unstable();
        v
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_empty_is_deny() {
        let c = Capabilities::NONE
            .with(Capability::Update)
            .with(Capability::Read)
            .with(Capability::List);
        assert_eq!(c.names(), ["list", "read", "update"]);
        assert_eq!(Capabilities::NONE.names(), ["deny"]);
        assert_eq!(c.with(Capability::Deny).names(), ["deny"]);
        assert!(!c.with(Capability::Deny).grants(Capability::Read));
        assert_eq!(Capability::from_name("sudo"), Some(Capability::Sudo));
        assert_eq!(Capability::from_name("root"), None);
    }
}
