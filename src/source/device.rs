//! Which audit device wrote each input.
//!
//! Every enabled audit device writes every event, each with its own HMAC salt, so two devices'
//! files hold the same events (same `request.id`) under different HMACs. Rotated siblings of one
//! file (`audit.log`, `audit.log.1`, `audit.log-20261101.gz`) are one device: they share a
//! [`family`](super::family_of). Different families are different devices; the scan then counts
//! each event once, from the first device in name order, and the lineage learns the devices'
//! forms of one token from the copies (`lineage::identity`). Where file names cannot tell (two
//! devices rotating into one directory under names without a common stem, or one device's files
//! renamed by hand), `--device NAME=PATH_GLOB` says it: an input whose path matches the glob
//! belongs to `NAME`, the first matching rule wins.

use std::collections::BTreeMap;

use super::Input;

/// A `NAME=PATH_GLOB` rule.
#[derive(Clone, Debug)]
pub struct DeviceRule {
    /// The device's name.
    pub name: String,
    /// Inputs whose path (as given) matches belong to it.
    pub pattern: glob::Pattern,
}

/// A `--device` value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceRuleError {
    /// No `=`, or nothing before or after it.
    #[error("`{0}` is not NAME=PATH_GLOB")]
    Shape(String),
    /// The glob does not parse.
    #[error("`{glob}`: {message}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// The glob parser's message.
        message: String,
    },
}

impl std::str::FromStr for DeviceRule {
    type Err = DeviceRuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((name, glob)) = s.split_once('=') else {
            return Err(DeviceRuleError::Shape(s.to_string()));
        };
        let name = name.trim();
        if name.is_empty() || glob.is_empty() {
            return Err(DeviceRuleError::Shape(s.to_string()));
        }
        let pattern = glob::Pattern::new(glob).map_err(|e| DeviceRuleError::Glob {
            glob: glob.to_string(),
            message: e.to_string(),
        })?;
        Ok(DeviceRule {
            name: name.to_string(),
            pattern,
        })
    }
}

/// The name of a family as a device: its file name (`audit.log` for `/var/log/vault/audit.log`).
pub fn family_name(family: &str) -> &str {
    match family.rsplit_once('/') {
        Some((_, name)) if !name.is_empty() => name,
        _ => family,
    }
}

/// One device of a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Its name: a `--device` rule's, or its family's file name (the whole family path when two
    /// families share a file name).
    pub name: String,
    /// Where the name came from.
    pub assigned: Assignment,
    /// Its inputs' indices, ascending.
    pub inputs: Vec<u32>,
}

/// How an input was put on its device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    /// A `--device` rule.
    Rule,
    /// Its file family (rotated siblings are one device).
    Family,
}

/// The devices of a scan, in name order, and the device of each input.
#[derive(Clone, Debug, Default)]
pub struct DeviceMap {
    /// Devices by name.
    pub devices: Vec<Device>,
    /// Per input index, its position in `devices`.
    pub of_input: Vec<u32>,
}

impl DeviceMap {
    /// Puts every input on a device: the first matching rule, else its family.
    pub fn assign(inputs: &[Input], rules: &[DeviceRule]) -> DeviceMap {
        let mut by_family: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for i in inputs {
            let names = by_family.entry(family_name(&i.family)).or_default();
            if !names.contains(&i.family.as_str()) {
                names.push(&i.family);
            }
        }
        let named = |i: &Input| -> (String, Assignment) {
            if let Some(r) = rules.iter().find(|r| r.pattern.matches(&i.display)) {
                return (r.name.clone(), Assignment::Rule);
            }
            let short = family_name(&i.family);
            let unique = by_family.get(short).is_some_and(|f| f.len() == 1);
            let name = if unique { short } else { i.family.as_str() };
            (name.to_string(), Assignment::Family)
        };
        let mut devices: BTreeMap<String, Device> = BTreeMap::new();
        for i in inputs {
            let (name, assigned) = named(i);
            let d = devices.entry(name.clone()).or_insert_with(|| Device {
                name,
                assigned,
                inputs: Vec::new(),
            });
            d.inputs.push(i.index);
        }
        let width = inputs
            .iter()
            .map(|i| i.index as usize + 1)
            .max()
            .unwrap_or(0);
        let mut of_input = vec![0; width];
        let mut devices: Vec<Device> = devices.into_values().collect();
        for (n, d) in devices.iter_mut().enumerate() {
            d.inputs.sort_unstable();
            for i in &d.inputs {
                of_input[*i as usize] = n as u32;
            }
        }
        DeviceMap { devices, of_input }
    }

    /// The device of an input.
    pub fn of(&self, input: u32) -> Option<&Device> {
        let n = *self.of_input.get(input as usize)?;
        self.devices.get(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{InputPath, Resume, family_of};

    fn input(index: u32, display: &str) -> Input {
        Input {
            index,
            display: display.to_string(),
            path: InputPath::File(display.into()),
            family: family_of(display),
            resume: Resume::default(),
        }
    }

    fn names(m: &DeviceMap) -> Vec<(&str, Vec<u32>)> {
        m.devices
            .iter()
            .map(|d| (d.name.as_str(), d.inputs.clone()))
            .collect()
    }

    #[test]
    fn rotated_siblings_are_one_device_and_other_files_are_others() {
        let inputs = [
            input(0, "/var/log/vault/primary.log.1"),
            input(1, "/var/log/vault/clear.log"),
            input(2, "/var/log/vault/primary.log"),
            input(3, "/var/log/vault/primary.log-20261101.gz"),
        ];
        let m = DeviceMap::assign(&inputs, &[]);
        assert_eq!(
            names(&m),
            [("clear.log", vec![1]), ("primary.log", vec![0, 2, 3])]
        );
        assert_eq!(m.of(3).unwrap().name, "primary.log");
        assert_eq!(m.of(1).unwrap().assigned, Assignment::Family);
    }

    #[test]
    fn families_sharing_a_file_name_keep_their_directories() {
        let inputs = [input(0, "/a/audit.log"), input(1, "/b/audit.log.1")];
        let m = DeviceMap::assign(&inputs, &[]);
        assert_eq!(
            names(&m),
            [("/a/audit.log", vec![0]), ("/b/audit.log", vec![1])]
        );
    }

    #[test]
    fn rules_win_over_families_first_match_first() {
        let rules: Vec<DeviceRule> = ["east=*/east-*", "all=*"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let inputs = [
            input(0, "/logs/east-2026-11-01.json"),
            input(1, "/logs/east-2026-11-02.json"),
            input(2, "/logs/west.json"),
        ];
        let m = DeviceMap::assign(&inputs, &rules);
        assert_eq!(names(&m), [("all", vec![2]), ("east", vec![0, 1])]);
        assert_eq!(m.of(0).unwrap().assigned, Assignment::Rule);
    }

    #[test]
    fn bad_rules_say_why() {
        assert!(matches!(
            "noequals".parse::<DeviceRule>(),
            Err(DeviceRuleError::Shape(_))
        ));
        assert!(matches!(
            "=*.log".parse::<DeviceRule>(),
            Err(DeviceRuleError::Shape(_))
        ));
        let e = "a=[".parse::<DeviceRule>().unwrap_err();
        assert!(e.to_string().starts_with("`[`:"), "{e}");
    }
}
