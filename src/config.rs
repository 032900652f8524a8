//! The `--config` TOML file: the same settings as the command line, for reuse across runs.
//!
//! ```toml
//! tenant_patterns = ['^kv/data/(?P<tenant>[^/]+)/']
//! exclude_tenants = ["test-tenant"]
//! tenant_fallback = "namespace"   # or "segment", "none"
//! tenant_inference = true        # false: like --no-tenant-inference
//! widespread_threshold = 10
//! gap = "5m"
//! rules = ["./rules"]          # relative to this file
//!
//! [[rotation]]                   # tier rules for `blast`, before the built-in ones
//! pattern = '^kv/data/payments/'
//! tier = 1
//! label = "payment processor keys"
//! ```
//! Command-line options win over the file; `exclude_tenants` and `rules` are combined.

use std::path::{Path, PathBuf};

/// The settings a config file may hold.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Like `--tenant-pattern`.
    #[serde(default)]
    pub tenant_patterns: Vec<String>,
    /// Like `--exclude-tenant`.
    #[serde(default)]
    pub exclude_tenants: Vec<String>,
    /// Like `--tenant-fallback` (`namespace`, `segment` or `none`).
    pub tenant_fallback: Option<crate::tenant::TenantFallback>,
    /// `false` is like `--no-tenant-inference`.
    pub tenant_inference: Option<bool>,
    /// Like `--widespread-threshold`.
    pub widespread_threshold: Option<usize>,
    /// Like `--gap`.
    pub gap: Option<String>,
    /// Like `--rules`, relative to the config file.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Rotation tier rules, tried before the built-in ones (`[[rotation]]` tables).
    #[serde(default)]
    pub rotation: Vec<crate::blast::TierRuleConfig>,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading failed.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML or unknown keys; the message gives line and column.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The TOML parser's message.
        message: String,
    },
}

impl Config {
    /// Loads and validates a config file; relative rule directories resolve against its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: display,
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for r in &mut cfg.rules {
            if r.is_relative() {
                *r = base.join(&*r);
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_settings_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "tenant_patterns = ['^kv/data/(?P<tenant>[^/]+)/']\nexclude_tenants=['t']\ngap='2m'\nrules=['r']\n").unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.exclude_tenants, vec!["t"]);
        assert_eq!(c.rules, vec![dir.path().join("r")]);
        std::fs::write(&p, "tenant_pattern = 1\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(
            err.contains("unknown field") && err.contains("line 1"),
            "{err}"
        );
    }
}
