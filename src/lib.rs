//! # blastradius
//!
//! Forensics for HashiCorp Vault and OpenBao audit logs: what was read, by whom, from where,
//! which tenants are exposed, what to rotate and revoke, and whether the log has holes.
//!
//! ```text
//! source (mmap | read | gzip | stdin) -> parse (simd-json) -> model::Entry
//!     -> analyses (detect, tenant, lineage, gaps, scope) -> report (text | json | ndjson | csv ...)
//! ```
#![deny(missing_docs)]

pub mod blast;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod config;
pub mod detect;
pub mod export;
pub mod gaps;
pub mod lineage;
pub mod model;
pub mod notify;
pub mod packed;
pub mod parse;
pub mod persist;
pub mod policy;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod scope;
pub mod source;
pub mod sql;
pub mod state;
pub mod suspects;
pub mod synth;
pub mod tenant;
pub mod write_target;
