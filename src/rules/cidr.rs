//! The `cidr` modifier uses the address-block type shared with `blast --ip` pivots.

pub(crate) use crate::model::cidr::Cidr;
