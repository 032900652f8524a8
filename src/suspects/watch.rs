//! The scan pass's side of suspect ranking: token lineage (the same [`Lineage`] extension `blast`
//! uses) plus a few per-actor counters the lineage does not keep (control-plane attempts,
//! enumeration, failed logins by address).
//!
//! The extra work per entry is a couple of prefix checks on the path; hashing and map updates
//! only happen for the rare entries that matter (`sys/...`, listings, failed logins).

use std::collections::HashMap;

use crate::lineage::{
    Failure, Identities, Key, Lineage, LineageState, NO_TOKEN, earlier, failure_of, later,
};
use crate::model::{Entry, Loc, Operation, Timestamp};
use crate::persist::{PersistError, Persisted};
use crate::scan::Extension;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What a control-plane request touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Touched {
    /// `sys/audit*` (enable, disable, list devices), not `sys/audit-hash`.
    AuditDevice,
    /// `sys/policy*`, `sys/policies/*`.
    Policy,
    /// `sys/auth*`: auth methods.
    AuthMethod,
    /// `sys/mounts*`: secrets engines.
    Mount,
    /// `sys/generate-root*`, `sys/rekey*`, recovery-token generation.
    RootGeneration,
    /// `sys/seal`, `sys/step-down`.
    Seal,
    /// `auth/token/accessors` or a listing outside secrets engines.
    Enumeration,
}

/// Every [`Touched`] value, in index order.
pub const TOUCHED: [Touched; 7] = [
    Touched::AuditDevice,
    Touched::Policy,
    Touched::AuthMethod,
    Touched::Mount,
    Touched::RootGeneration,
    Touched::Seal,
    Touched::Enumeration,
];

impl Touched {
    /// What a request to `path` with `op` touched, if anything of interest.
    pub fn of(path: &str, op: Operation) -> Option<Touched> {
        if let Some(rest) = path.strip_prefix("sys/") {
            let t = if rest.starts_with("audit-hash") {
                return None;
            } else if rest.starts_with("audit") {
                Touched::AuditDevice
            } else if rest.starts_with("polic") {
                Touched::Policy
            } else if rest.starts_with("auth") {
                Touched::AuthMethod
            } else if rest.starts_with("mounts") {
                Touched::Mount
            } else if rest.starts_with("generate-root")
                || rest.starts_with("rekey")
                || rest.starts_with("generate-recovery-token")
            {
                Touched::RootGeneration
            } else if rest.starts_with("seal") || rest.starts_with("step-down") {
                Touched::Seal
            } else if op == Operation::List {
                Touched::Enumeration
            } else {
                return None;
            };
            return Some(t);
        }
        if path.starts_with("auth/token/accessors") {
            return Some(Touched::Enumeration);
        }
        None
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Control-plane attempts of one token (own requests only; lineage is resolved later).
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ActorSignals {
    /// Successful requests, by [`Touched`] index.
    pub ok: [u32; 7],
    /// Failed requests (denied or errored), by [`Touched`] index.
    pub failed: [u32; 7],
    /// First such request.
    pub first: Option<Timestamp>,
}

impl ActorSignals {
    /// Successful requests that touched `t`.
    pub fn ok(&self, t: Touched) -> u32 {
        self.ok[t.index()]
    }

    /// Failed requests that touched `t`.
    pub fn failed(&self, t: Touched) -> u32 {
        self.failed[t.index()]
    }

    fn merge(&mut self, o: &ActorSignals) {
        for i in 0..self.ok.len() {
            self.ok[i] += o.ok[i];
            self.failed[i] += o.failed[i];
        }
        self.first = earlier(self.first, o.first);
    }
}

/// Failed logins from one client address.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LoginFailures {
    /// How many.
    pub count: u64,
    /// First.
    pub first: Option<Timestamp>,
    /// Last.
    pub last: Option<Timestamp>,
}

/// What the pass learned beyond lineage.
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// By accessor key ([`NO_TOKEN`] for unauthenticated requests such as generate-root).
    pub actors: Map<Key, ActorSignals>,
    /// Failed logins by client-address key (the lineage's key of the address string).
    pub login_failures: Map<Key, LoginFailures>,
}

impl Signals {
    /// The signals keyed on joined identities ([`Identities`]), as the canonical lineage is.
    pub fn rekeyed(self, ids: &Identities) -> Signals {
        let mut actors: Map<Key, ActorSignals> = Map::default();
        for (k, s) in self.actors {
            let id = if k == NO_TOKEN {
                k
            } else {
                ids.of(k).unwrap_or(k)
            };
            actors.entry(id).or_default().merge(&s);
        }
        Signals {
            actors,
            login_failures: self.login_failures,
        }
    }
}

/// Lineage plus signals: the scan's extension.
pub struct Watch<'a> {
    /// The lineage extension (shared with `blast`).
    pub lineage: Lineage<'a>,
}

/// Per-thread state of [`Watch`].
#[derive(Default)]
pub struct WatchState {
    /// Token lineage.
    pub lineage: LineageState,
    /// Suspect signals.
    pub signals: Signals,
}

/// The suspect watch's state as plain data, for incremental runs.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SavedWatch {
    /// The lineage's saved state, as [`Lineage`]'s extension saves it.
    lineage: serde_json::Value,
    /// Signals per actor.
    actors: Vec<(Key, ActorSignals)>,
    /// Failed logins per actor.
    login_failures: Vec<(Key, LoginFailures)>,
}

/// The lineage as its extension saves it, and the signals as they are.
impl Persisted for WatchState {
    type Saved = SavedWatch;
    type With<'a> = &'a Watch<'a>;

    fn save(
        &self,
        watch: &Watch<'_>,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<SavedWatch, PersistError> {
        Ok(SavedWatch {
            lineage: watch.lineage.save(&self.lineage, absolute)?,
            actors: self.signals.actors.iter().map(|(k, v)| (*k, *v)).collect(),
            login_failures: self
                .signals
                .login_failures
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect(),
        })
    }

    fn restore(saved: SavedWatch, watch: &Watch<'_>) -> Result<WatchState, PersistError> {
        let mut st = WatchState {
            lineage: watch.lineage.restore(saved.lineage)?,
            signals: Signals::default(),
        };
        st.signals.actors.extend(saved.actors);
        st.signals.login_failures.extend(saved.login_failures);
        Ok(st)
    }
}

impl Watch<'_> {
    fn signal(&self, st: &mut Signals, ev: &Entry<'_>) {
        let touched = Touched::of(ev.request.path, ev.request.operation);
        let errored = ev.error.is_some() || ev.auth.policy_allowed == Some(false);
        if touched.is_none() && !errored {
            return;
        }
        let failure = failure_of(ev);
        if failure == Some(Failure::LoginFailed)
            && let Some(addr) = ev.request.remote_address
        {
            let f = st.login_failures.entry(self.lineage.key(addr)).or_default();
            f.count += 1;
            f.first = earlier(f.first, ev.time);
            f.last = later(f.last, ev.time);
        }
        let Some(t) = touched else { return };
        let actor = ev
            .auth
            .token
            .accessor
            .or(ev.request.client_token_accessor)
            .map_or(NO_TOKEN, |a| self.lineage.key(a));
        let s = st.actors.entry(actor).or_default();
        if failure.is_some() {
            s.failed[t.index()] += 1;
        } else {
            s.ok[t.index()] += 1;
        }
        s.first = earlier(s.first, ev.time);
    }
}

impl Extension for Watch<'_> {
    type State = WatchState;

    fn new_state(&self) -> WatchState {
        WatchState {
            lineage: self.lineage.new_state(),
            signals: Signals::default(),
        }
    }

    fn logical(
        &self,
        st: &mut WatchState,
        ev: &Entry<'_>,
        access: Option<&crate::model::secret::SecretAccess<'_>>,
        loc: Loc,
    ) {
        self.lineage.logical(&mut st.lineage, ev, access, loc);
        self.signal(&mut st.signals, ev);
    }

    // Forwarded so the lineage is the one `blast` builds: which copy of an event counts, and
    // which goes unanswered, depends on how the log was cut into chunks; the lineage's
    // handling of both makes its result independent of that.
    fn duplicate(&self, st: &mut WatchState, ev: &Entry<'_>, loc: Loc) {
        self.lineage.duplicate(&mut st.lineage, ev, loc);
    }

    fn unanswered(&self, st: &mut WatchState, ev: &Entry<'_>, loc: Loc) {
        self.lineage.unanswered(&mut st.lineage, ev, loc);
    }

    fn merge(&self, into: &mut WatchState, o: WatchState) {
        self.lineage.merge(&mut into.lineage, o.lineage);
        for (k, s) in o.signals.actors {
            into.signals.actors.entry(k).or_default().merge(&s);
        }
        for (k, f) in o.signals.login_failures {
            let m = into.signals.login_failures.entry(k).or_default();
            m.count += f.count;
            m.first = earlier(m.first, f.first);
            m.last = later(m.last, f.last);
        }
    }

    fn save(
        &self,
        st: &WatchState,
        absolute: &dyn Fn(Loc) -> Loc,
    ) -> Result<serde_json::Value, PersistError> {
        crate::persist::to_json("suspects", &st.save(self, absolute)?)
    }

    fn restore(&self, saved: serde_json::Value) -> Result<WatchState, PersistError> {
        if saved.is_null() {
            return Ok(WatchState::default());
        }
        WatchState::restore(crate::persist::from_json("suspects", saved)?, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_plane_paths_are_classified() {
        let t = |p, op| Touched::of(p, op);
        assert_eq!(
            t("sys/audit/file", Operation::Update),
            Some(Touched::AuditDevice)
        );
        assert_eq!(t("sys/audit-hash/file", Operation::Update), None);
        assert_eq!(
            t("sys/policies/acl/", Operation::List),
            Some(Touched::Policy)
        );
        assert_eq!(
            t("sys/generate-root/attempt", Operation::Update),
            Some(Touched::RootGeneration)
        );
        assert_eq!(
            t("auth/token/accessors/", Operation::List),
            Some(Touched::Enumeration)
        );
        assert_eq!(
            t("sys/leases/lookup/", Operation::List),
            Some(Touched::Enumeration)
        );
        assert_eq!(t("sys/leases/lookup", Operation::Update), None);
        assert_eq!(t("kv/data/acme/db", Operation::Read), None);
    }
}
