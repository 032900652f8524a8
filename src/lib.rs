//! # blastradius
//!
//! Forensics for HashiCorp Vault and OpenBao audit logs: what was read, by whom, from where,
//! which tenants are exposed, what to rotate and revoke, and whether the log has holes.
//!
//! ```text
//! source (mmap | read | gzip | stdin) -> parse (simd-json) -> model::Event
//!     -> analyses (detect, tenant, lineage, gaps, scope) -> report (text | json | ndjson | csv ...)
//! ```
#![deny(missing_docs)]

pub mod model;
pub mod parse;
pub mod rules;
pub mod tenant;
