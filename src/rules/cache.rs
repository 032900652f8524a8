//! The values of the fields one event is tested on, each found once per event.
//!
//! Many rules test the same fields (`request.path`, `error`, `auth.accessor` ...). At load time
//! every distinct field name of a rule set gets a [`FieldId`]; while the rules run on an event,
//! the first test of a field walked on the tape finds its value and the later tests read it
//! from here. Typed members (`request.path`, `error` ...) are read directly every time: a load
//! from the entry costs less than the cache's bookkeeping. Nothing is allocated: the cache
//! lives on the stack of [`super::RuleSet::observe`] for one event.

use std::collections::HashMap;

use super::field::{Field, Slot};
use crate::model::Entry;

/// How many distinct tape fields are cached (the built-in pack tests about fifteen); fields
/// numbered beyond are found on every use.
pub(crate) const CACHED_FIELDS: usize = 32;

/// The number of a distinct field name in a rule set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldId(u16);

impl FieldId {
    /// Not numbered yet: never cached.
    pub(crate) const NONE: FieldId = FieldId(u16::MAX);
}

/// Numbers field names in the order they are first seen.
#[derive(Default)]
pub(crate) struct FieldIds {
    by_name: HashMap<Box<str>, FieldId>,
}

impl FieldIds {
    /// The number of `name`, assigning the next one when it is new.
    pub(crate) fn of(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = u16::try_from(self.by_name.len()).map_or(FieldId::NONE, FieldId);
        self.by_name.insert(name.into(), id);
        id
    }
}

/// The event under evaluation and the fields found so far.
pub(crate) struct FieldCache<'e, 'a> {
    ev: &'e Entry<'a>,
    /// Bit `i` is set once `slots[i]` holds field `i`.
    known: u64,
    slots: [Slot<'a>; CACHED_FIELDS],
}

impl<'e, 'a> FieldCache<'e, 'a> {
    /// An empty cache for `ev`.
    #[inline]
    pub(crate) fn new(ev: &'e Entry<'a>) -> FieldCache<'e, 'a> {
        FieldCache {
            ev,
            known: 0,
            slots: [Slot::Absent; CACHED_FIELDS],
        }
    }

    /// The event.
    #[inline]
    pub(crate) fn event(&self) -> &'e Entry<'a> {
        self.ev
    }

    /// Where `field` (numbered `id`) holds its values in this event.
    #[inline]
    pub(crate) fn get(&mut self, id: FieldId, field: &Field) -> Slot<'a> {
        if let Some(slot) = field.typed_slot(self.ev) {
            return slot;
        }
        let i = usize::from(id.0);
        if i >= CACHED_FIELDS {
            return field.tape_slot(self.ev);
        }
        let bit = 1u64 << i;
        if self.known & bit != 0 {
            return self.slots[i];
        }
        let slot = field.tape_slot(self.ev);
        self.slots[i] = slot;
        self.known |= bit;
        slot
    }
}
