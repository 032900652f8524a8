//! The audit devices a report was made from: which inputs each device wrote, how many entries
//! came from it, and whether it logs accessors in clear (`hmac_accessor=false`) or as HMACs.
//! A responder needs this to read a token's forms (one per device) and to know which device's
//! HMAC to ask `sys/audit-hash/<device>` for.

use serde::Serialize;

use crate::lineage::{FormKind, LineageState};
use crate::scan::result::InputRecord;
use crate::source::device::Assignment;
use crate::source::{DeviceMap, Input};

/// How a device logs accessors, as seen in its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessorLogging {
    /// At least one accessor in clear: the device has `hmac_accessor=false`.
    Clear,
    /// Accessors only as `hmac-sha256:` values.
    Hmac,
}

/// One audit device of a report.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceRecord {
    /// Its name: a `--device` rule's, or its file family's.
    pub name: String,
    /// `rule` (a `--device` rule) or `family` (rotated siblings of one file).
    pub assigned: Assignment,
    /// Its inputs, as reported in `inputs[].path`.
    pub inputs: Vec<String>,
    /// Audit entries parsed from its inputs in this run, like `inputs[].events` (copies of events
    /// other devices also hold included).
    pub entries: u64,
    /// How it logs accessors; null when the report did not learn it (one device, or no
    /// accessor of it in the lineage).
    pub accessors: Option<AccessorLogging>,
}

impl DeviceRecord {
    /// `primary.log (2 input(s), 1204 entries, accessors as HMACs)`: plain text, to be escaped
    /// by the renderer (the name comes from a path or a rule).
    pub fn summary(&self) -> String {
        let accessors = match self.accessors {
            Some(AccessorLogging::Clear) => ", accessors in clear",
            Some(AccessorLogging::Hmac) => ", accessors as HMACs",
            None => "",
        };
        format!(
            "{} ({} input(s), {} entries{accessors})",
            self.name,
            self.inputs.len(),
            self.entries
        )
    }
}

/// The devices of `inputs`, in name order, with entry counts from `records` and accessor
/// logging from the forms the lineage learnt (only recorded when there are several devices).
pub fn device_records(
    map: &DeviceMap,
    inputs: &[Input],
    records: &[InputRecord],
    lineage: Option<&LineageState>,
) -> Vec<DeviceRecord> {
    let display = |index: u32| inputs.iter().find(|i| i.index == index).map(|i| &i.display);
    let logging = lineage
        .map(|st| accessor_logging(map, st))
        .unwrap_or_default();
    map.devices
        .iter()
        .enumerate()
        .map(|(n, d)| {
            let names: Vec<String> = d
                .inputs
                .iter()
                .filter_map(|i| display(*i))
                .cloned()
                .collect();
            let entries = records
                .iter()
                .filter(|r| names.contains(&r.path))
                .map(|r| r.entries)
                .sum();
            DeviceRecord {
                name: d.name.clone(),
                assigned: d.assigned,
                inputs: names,
                entries,
                accessors: logging.get(n).copied().flatten(),
            }
        })
        .collect()
}

/// Per device (by position in `map`), how its accessor forms look.
fn accessor_logging(map: &DeviceMap, st: &LineageState) -> Vec<Option<AccessorLogging>> {
    let mut out = vec![None; map.devices.len()];
    for (k, f) in &st.forms {
        if f.kind != FormKind::Accessor {
            continue;
        }
        let Some(&n) = map.of_input.get(f.file as usize) else {
            continue;
        };
        let seen = if st.str(*k).starts_with("hmac-sha256:") {
            AccessorLogging::Hmac
        } else {
            AccessorLogging::Clear
        };
        let slot = &mut out[n as usize];
        // One clear accessor is proof of `hmac_accessor=false`; HMACs alone are the default.
        if *slot != Some(AccessorLogging::Clear) {
            *slot = Some(seen);
        }
    }
    out
}
