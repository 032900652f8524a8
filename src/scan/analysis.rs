//! What each worker accumulates, merged across threads in any order.

use super::activity::Activity;
pub use super::counts::Stats;
use crate::detect::DetectState;
use crate::gaps::Marker;
use crate::scope::SecretTable;

/// Where a worker records the secrets read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretsTo {
    /// Its own table.
    Own,
    /// The table the workers share (`Context::secrets`): every worker sees nearly every
    /// secret and reader, and a table per worker held them all twice with two workers.
    Shared,
}

/// Everything a worker accumulates that does not depend on entry order.
pub struct Analysis {
    /// Counts.
    pub stats: Stats,
    /// Secrets read.
    pub secrets: SecretTable,
    /// Whether `secrets` is written to, or the shared table until the first merge.
    pub secrets_to: SecretsTo,
    /// Rule state and findings.
    pub detect: DetectState,
    /// Seals, probes and device disables.
    pub markers: Vec<Marker>,
    /// Requests, secret reads and suspicious entries over time.
    pub activity: Activity,
}

impl Analysis {
    /// Merges another thread's analysis.
    pub fn merge(&mut self, o: Analysis) {
        self.stats.merge(&o.stats);
        self.secrets.absorb(o.secrets);
        self.detect.merge(o.detect);
        self.markers.extend(o.markers);
        self.activity.merge(&o.activity);
    }
}
