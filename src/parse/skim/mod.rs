//! The structural pass of the skimming reader: where a JSON entry's tokens start, found 64 bytes
//! at a time without reading the entry byte by byte (the idea of simdjson's stage 1).
//!
//! For each 64-byte block the classifier (`classify`) gives one bit per byte for quotes,
//! backslashes, the operators `{}[]:,`, whitespace and control bytes (below 0x20). From those
//! masks, with three bits of state carried from block to block:
//!
//! - escaped bytes: the byte after an odd-length run of backslashes (a run may continue from the
//!   previous block); a quote that is escaped does not open or close a string;
//! - the in-string mask: the prefix XOR of the unescaped quotes (a carry-less multiply by all
//!   ones where PCLMULQDQ exists, shifts otherwise), inverted when the previous block ended
//!   inside a string. It covers a string's opening quote and content, not its closing quote;
//! - token starts: every operator outside strings, every opening quote, and the first byte of
//!   each run of other bytes outside strings (a literal, a number or garbage), as byte offsets in
//!   a reused `Vec<u32>`;
//! - faults: a control byte inside a string, a string still open at the end.
//!
//! What the pass does not check (the grammar walk over the positions does, see
//! `grammar`): that tokens follow each other in a JSON order, what a literal or number spells,
//! which escapes a string holds. UTF-8 is checked separately (simdutf8).
//!
//! The classifier is chosen once per process ([`Implementation::best`]): AVX2 with PCLMULQDQ,
//! SSE2 with or without PCLMULQDQ, or portable scalar code, so one binary runs everywhere.

mod classify;
pub(crate) mod grammar;
pub mod tape;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use classify::{Classify, Masks, PrefixXor, ScalarBytes, ShiftXor};

/// One way of running the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// 32-byte AVX2 compares and lookups, PCLMULQDQ for the prefix XOR (and BMI1's `tzcnt`).
    Avx2,
    /// 16-byte SSE2 compares, PCLMULQDQ for the prefix XOR.
    Sse2Clmul,
    /// 16-byte SSE2 compares (the x86_64 baseline), shifts for the prefix XOR.
    Sse2,
    /// Portable code: a byte table and shifts.
    Scalar,
}

impl Implementation {
    /// Every implementation, fastest first.
    pub const ALL: [Implementation; 4] = [
        Implementation::Avx2,
        Implementation::Sse2Clmul,
        Implementation::Sse2,
        Implementation::Scalar,
    ];

    /// True when this CPU can run it.
    pub fn supported(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            let clmul = std::is_x86_feature_detected!("pclmulqdq");
            match self {
                Implementation::Avx2 => {
                    std::is_x86_feature_detected!("avx2")
                        && std::is_x86_feature_detected!("bmi1")
                        && clmul
                }
                Implementation::Sse2Clmul => clmul,
                Implementation::Sse2 | Implementation::Scalar => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Implementation::Scalar
        }
    }

    /// The fastest implementation this CPU runs, detected once.
    pub fn best() -> Implementation {
        static BEST: OnceLock<Implementation> = OnceLock::new();
        *BEST.get_or_init(|| {
            Implementation::ALL
                .into_iter()
                .find(|i| i.supported())
                .unwrap_or(Implementation::Scalar)
        })
    }

    /// The implementations this CPU runs.
    pub fn available() -> impl Iterator<Item = Implementation> {
        Implementation::ALL.into_iter().filter(|i| i.supported())
    }
}

/// What makes an entry invalid JSON whatever its grammar, found by the pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Offset of the first byte below 0x20 inside a string.
    pub control_in_string: Option<u32>,
    /// The entry ends inside a string.
    pub unclosed_string: bool,
    /// The entry is longer than `u32::MAX` bytes; nothing was indexed.
    pub too_long: bool,
}

impl Faults {
    /// No fault.
    pub fn is_clean(&self) -> bool {
        *self == Faults::default()
    }
}

/// The token starts of one entry, and its faults; the buffer is reused from entry to entry.
#[derive(Clone, Debug)]
pub struct Structurals {
    implementation: Implementation,
    positions: Vec<u32>,
    faults: Faults,
    traits: Traits,
}

/// What the pass saw besides faults: what keeps an entry from the simplest walks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Traits {
    /// A backslash anywhere.
    backslash: bool,
    /// Whitespace outside strings: without it, every token ends where the next one starts.
    spaced: bool,
}

impl Default for Structurals {
    fn default() -> Self {
        Structurals::new(Implementation::best())
    }
}

impl Structurals {
    /// An empty index run by `implementation`, or by [`Implementation::Scalar`] when this CPU
    /// cannot run it.
    pub fn new(implementation: Implementation) -> Structurals {
        let implementation = if implementation.supported() {
            implementation
        } else {
            Implementation::Scalar
        };
        Structurals {
            implementation,
            positions: Vec::new(),
            faults: Faults::default(),
            traits: Traits::default(),
        }
    }

    /// The implementation that runs the pass.
    pub fn implementation(&self) -> Implementation {
        self.implementation
    }

    /// Indexes `json`, replacing what was indexed before.
    pub fn index(&mut self, json: &[u8]) -> Faults {
        self.positions.clear();
        self.traits = Traits::default();
        if u32::try_from(json.len()).is_err() {
            self.faults = Faults {
                too_long: true,
                ..Faults::default()
            };
            return self.faults;
        }
        let out = &mut self.positions;
        let (faults, traits) = match self.implementation {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `new` keeps an implementation only when `supported()` found AVX2, BMI1
            // and PCLMULQDQ on this CPU.
            Implementation::Avx2 => unsafe { x86::pass_avx2(json, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, `supported()` found PCLMULQDQ; SSE2 is the x86_64 baseline.
            Implementation::Sse2Clmul => unsafe { x86::pass_sse2_clmul(json, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: SSE2 is part of the x86_64 baseline.
            Implementation::Sse2 => unsafe { pass::<classify::Sse2, ShiftXor>(json, out) },
            // SAFETY: the scalar classifier and shifts need no CPU feature.
            _ => unsafe { pass::<ScalarBytes, ShiftXor>(json, out) },
        };
        self.faults = faults;
        self.traits = traits;
        faults
    }

    /// Offsets of the token starts, in order.
    pub fn positions(&self) -> &[u32] {
        &self.positions
    }

    /// The faults of the last entry indexed.
    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// True when the last entry holds a backslash anywhere: only then do its strings need their
    /// escapes checked.
    pub fn has_backslash(&self) -> bool {
        self.traits.backslash
    }

    /// True when the last entry has no whitespace outside its strings: then each token ends
    /// exactly where the next one starts (the last where the entry ends), and a string token's
    /// last byte is its closing quote, unless a fault says the string never closed.
    pub fn is_compact(&self) -> bool {
        !self.traits.spaced
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::classify::{Avx2, Clmul, Sse2};
    use super::{Faults, Traits, pass};

    /// # Safety
    /// The CPU supports AVX2, BMI1 and PCLMULQDQ.
    #[target_feature(enable = "avx2,bmi1,pclmulqdq")]
    pub(super) unsafe fn pass_avx2(json: &[u8], out: &mut Vec<u32>) -> (Faults, Traits) {
        // SAFETY: this function's own contract: AVX2, BMI1 and PCLMULQDQ are present.
        unsafe { pass::<Avx2, Clmul>(json, out) }
    }

    /// # Safety
    /// The CPU supports PCLMULQDQ.
    #[target_feature(enable = "pclmulqdq")]
    pub(super) unsafe fn pass_sse2_clmul(json: &[u8], out: &mut Vec<u32>) -> (Faults, Traits) {
        // SAFETY: this function's own contract: PCLMULQDQ is present, SSE2 is baseline.
        unsafe { pass::<Sse2, Clmul>(json, out) }
    }
}

/// The state carried from one block to the next.
#[derive(Default)]
struct Carry {
    /// 1 when the first byte of the next block is escaped.
    escaped: u64,
    /// All ones when the next block starts inside a string.
    in_string: u64,
    /// 1 when the last byte was part of a literal, number or garbage run.
    scalar: u64,
}

/// The pass over `json`, pushing token starts to `out`; the faults, and whether any backslash
/// and any whitespace outside strings were seen.
///
/// # Safety
/// The CPU supports what `C` and `P` use.
#[inline(always)]
unsafe fn pass<C: Classify, P: PrefixXor>(json: &[u8], out: &mut Vec<u32>) -> (Faults, Traits) {
    let mut carry = Carry::default();
    let mut faults = Faults::default();
    let mut backslash = 0u64;
    let mut spaced = 0u64;
    let mut blocks = json.chunks_exact(64);
    let mut base = 0u32;
    for block in blocks.by_ref() {
        let block: &[u8; 64] = block.try_into().expect("chunks of 64");
        // SAFETY: the caller's contract.
        let m = unsafe { C::classify(block) };
        // SAFETY: the caller's contract.
        spaced |= unsafe { step::<P>(&m, &mut carry, &mut faults, base, out) };
        backslash |= m.backslash;
        base = base.wrapping_add(64);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // Spaces after the end: whitespace starts no token and changes no string.
        let mut last = [b' '; 64];
        last[..rest.len()].copy_from_slice(rest);
        // SAFETY: the caller's contract.
        let m = unsafe { C::classify(&last) };
        // SAFETY: the caller's contract. The padding is not the entry's whitespace.
        spaced |= unsafe { step::<P>(&m, &mut carry, &mut faults, base, out) }
            & ((1u64 << rest.len()) - 1);
        backslash |= m.backslash;
    }
    faults.unclosed_string = carry.in_string != 0;
    let traits = Traits {
        backslash: backslash != 0,
        spaced: spaced != 0,
    };
    (faults, traits)
}

/// One block: masks to token starts; answers the block's whitespace outside strings.
///
/// # Safety
/// The CPU supports what `P` uses.
#[inline(always)]
unsafe fn step<P: PrefixXor>(
    m: &Masks,
    carry: &mut Carry,
    faults: &mut Faults,
    base: u32,
    out: &mut Vec<u32>,
) -> u64 {
    let escaped = escaped_bytes(m.backslash, &mut carry.escaped);
    let quote = m.quote & !escaped;
    // SAFETY: the caller's contract.
    let in_string = unsafe { P::prefix_xor(quote) } ^ carry.in_string;
    carry.in_string = ((in_string as i64) >> 63) as u64;
    // Content and closing quote: no token starts there.
    let string_tail = in_string ^ quote;
    let scalar = !(m.op | m.whitespace);
    let unquoted_scalar = scalar & !quote;
    let follows_scalar = (unquoted_scalar << 1) | carry.scalar;
    carry.scalar = unquoted_scalar >> 63;
    let starts = (m.op | (scalar & !follows_scalar)) & !string_tail;
    let controls = m.control & in_string;
    if controls != 0 {
        control_in_string(faults, base, controls);
    }
    push_bits(out, base, starts);
    m.whitespace & !in_string
}

/// Notes the first control byte inside a string: rare, so kept out of the loop's way.
#[cold]
#[inline(never)]
fn control_in_string(faults: &mut Faults, base: u32, controls: u64) {
    if faults.control_in_string.is_none() {
        faults.control_in_string = Some(base + controls.trailing_zeros());
    }
}

/// Bytes escaped by a backslash: the byte after each odd-length run of backslashes. `carry` is 1
/// when the block starts escaped, and is set for the next block.
#[inline(always)]
fn escaped_bytes(backslash: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let first = *carry;
    if backslash == 0 {
        *carry = 0;
        return first;
    }
    // A backslash escaped from the previous block escapes nothing itself.
    let b = backslash & !first;
    let run_starts = b & !(b << 1);
    // Adding a run's first bit carries through the run to the byte just after it; that byte is
    // escaped when the run has odd length, i.e. when it sits at the other parity from the start.
    let even_ends = b.wrapping_add(run_starts & EVEN) & !b;
    let (odd_sum, overflow) = b.overflowing_add(run_starts & !EVEN);
    let odd_ends = odd_sum & !b;
    // A run started on an odd bit that reaches bit 63 has odd length and escapes the next block.
    *carry = u64::from(overflow);
    (even_ends & !EVEN) | (odd_ends & EVEN) | first
}

/// Appends `base + i` for each set bit `i` of `bits`.
#[inline(always)]
fn push_bits(out: &mut Vec<u32>, base: u32, mut bits: u64) {
    // Room for a whole block, so there is no population count (software without POPCNT) and no
    // capacity check per position.
    out.reserve(64);
    let spare = &mut out.spare_capacity_mut()[..64];
    let mut n = 0;
    while bits != 0 {
        spare[n].write(base + bits.trailing_zeros());
        bits &= bits.wrapping_sub(1);
        n += 1;
    }
    let len = out.len() + n;
    // SAFETY: the `n` slots after the old length were written just above, within the capacity
    // reserved for them.
    unsafe { out.set_len(len) };
}
