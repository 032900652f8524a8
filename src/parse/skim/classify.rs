//! Classifiers: one bit per byte of a 64-byte block for each class the pass needs, and the
//! prefix XOR. Each x86 classifier is only ever run inside a function compiled with its target
//! features (see `super::x86`), which the `# Safety` contracts below ask of the caller.

/// One bit per byte of a block (bit `i` is byte `i`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// `{` `}` `[` `]` `:` `,`
    pub op: u64,
    /// space, tab, line feed, carriage return
    pub whitespace: u64,
    /// below 0x20
    pub control: u64,
}

pub(super) trait Classify {
    /// # Safety
    /// The CPU supports the implementation's target features.
    unsafe fn classify(block: &[u8; 64]) -> Masks;
}

pub(super) trait PrefixXor {
    /// Bit `i` of the result is the XOR of bits `0..=i` of `x`.
    ///
    /// # Safety
    /// The CPU supports the implementation's target features.
    unsafe fn prefix_xor(x: u64) -> u64;
}

/// The prefix XOR by doubling shifts: six shift-XOR steps.
pub(super) struct ShiftXor;

impl PrefixXor for ShiftXor {
    #[inline(always)]
    unsafe fn prefix_xor(mut x: u64) -> u64 {
        for shift in [1, 2, 4, 8, 16, 32] {
            x ^= x << shift;
        }
        x
    }
}

/// The prefix XOR as a carry-less multiply by all ones (PCLMULQDQ).
#[cfg(target_arch = "x86_64")]
pub(super) struct Clmul;

#[cfg(target_arch = "x86_64")]
impl PrefixXor for Clmul {
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x};
        // SAFETY: the caller guarantees PCLMULQDQ; SSE2 is baseline. Bit i of the low half of
        // x * 0b11..1 (carry-less) is the XOR of bits 0..=i of x.
        unsafe {
            let product =
                _mm_clmulepi64_si128::<0>(_mm_set_epi64x(0, x as i64), _mm_set_epi64x(0, -1));
            _mm_cvtsi128_si64(product) as u64
        }
    }
}

const QUOTE: u8 = 1;
const BACKSLASH: u8 = 2;
const OP: u8 = 4;
const WHITESPACE: u8 = 8;
const CONTROL: u8 = 16;

/// The class bits of every byte value.
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = CONTROL;
        i += 1;
    }
    t[b'"' as usize] = QUOTE;
    t[b'\\' as usize] = BACKSLASH;
    let ops = *b"{}[]:,";
    let mut k = 0;
    while k < ops.len() {
        t[ops[k] as usize] = OP;
        k += 1;
    }
    t[b' ' as usize] = WHITESPACE;
    t[b'\t' as usize] = WHITESPACE | CONTROL;
    t[b'\n' as usize] = WHITESPACE | CONTROL;
    t[b'\r' as usize] = WHITESPACE | CONTROL;
    t
};

/// Portable: one table lookup per byte.
pub(super) struct ScalarBytes;

impl Classify for ScalarBytes {
    #[inline(always)]
    unsafe fn classify(block: &[u8; 64]) -> Masks {
        let mut m = Masks::default();
        for (i, &b) in block.iter().enumerate() {
            let c = CLASSES[usize::from(b)];
            let bit = |class: u8| u64::from(c & class != 0) << i;
            m.quote |= bit(QUOTE);
            m.backslash |= bit(BACKSLASH);
            m.op |= bit(OP);
            m.whitespace |= bit(WHITESPACE);
            m.control |= bit(CONTROL);
        }
        m
    }
}

/// Baseline x86_64: 16-byte compares.
#[cfg(target_arch = "x86_64")]
pub(super) struct Sse2;

#[cfg(target_arch = "x86_64")]
impl Classify for Sse2 {
    #[inline(always)]
    unsafe fn classify(block: &[u8; 64]) -> Masks {
        let mut m = Masks::default();
        for (k, chunk) in block.chunks_exact(16).enumerate() {
            let chunk: &[u8; 16] = chunk.try_into().expect("chunks of 16");
            // SAFETY: SSE2 is baseline on x86_64.
            let part = unsafe { sse2_classify(chunk) };
            let at = 16 * k;
            m.quote |= part.quote << at;
            m.backslash |= part.backslash << at;
            m.op |= part.op << at;
            m.whitespace |= part.whitespace << at;
            m.control |= part.control << at;
        }
        m
    }
}

/// The masks of 16 bytes (in the low 16 bits).
///
/// # Safety
/// SSE2 (always on x86_64).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sse2_classify(chunk: &[u8; 16]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is baseline on x86_64; `chunk` holds 16 readable bytes and the load has no
    // alignment requirement.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        // `{`|0x20 == `{` and `[`|0x20 == `{`, the same for `}` and `]`.
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let brackets = _mm_or_si128(
            _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)),
            _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)),
        );
        let op = _mm_or_si128(brackets, _mm_or_si128(eq(b':'), eq(b',')));
        let ws = _mm_or_si128(
            _mm_or_si128(eq(b' '), eq(b'\t')),
            _mm_or_si128(eq(b'\n'), eq(b'\r')),
        );
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16);
        Masks {
            quote: bits(eq(b'"')),
            backslash: bits(eq(b'\\')),
            op: bits(op),
            whitespace: bits(ws),
            control: bits(control),
        }
    }
}

/// AVX2: 32-byte compares, and nibble lookups (`vpshufb`) for operators and whitespace.
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Classify for Avx2 {
    #[inline(always)]
    unsafe fn classify(block: &[u8; 64]) -> Masks {
        let (lo, hi) = block.split_at(32);
        // SAFETY: the caller guarantees AVX2.
        let (lo, hi) = unsafe {
            (
                avx2_classify(lo.try_into().expect("32 bytes")),
                avx2_classify(hi.try_into().expect("32 bytes")),
            )
        };
        Masks {
            quote: lo.quote | hi.quote << 32,
            backslash: lo.backslash | hi.backslash << 32,
            op: lo.op | hi.op << 32,
            whitespace: lo.whitespace | hi.whitespace << 32,
            control: lo.control | hi.control << 32,
        }
    }
}

/// The masks of 32 bytes (in the low 32 bits).
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn avx2_classify(chunk: &[u8; 32]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8, _mm256_setr_epi8, _mm256_shuffle_epi8,
    };
    // SAFETY: the caller guarantees AVX2; `chunk` holds 32 readable bytes and the load has no
    // alignment requirement.
    unsafe {
        let v = _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>());
        // Indexed by the low nibble (a byte with its top bit set looks up 0). Whitespace: the
        // byte itself at its nibble. Operators, compared with the byte | 0x20: `{`/`[` at 0xB,
        // `}`/`]` at 0xD, `:` at 0xA, `,` at 0xC; 0x1A and 0x0C match too and are removed
        // below as control bytes.
        let ws_table = _mm256_setr_epi8(
            0x20, 0, 0, 0, 0, 0, 0, 0, 0, 9, 10, 0, 0, 13, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 9,
            10, 0, 0, 13, 0, 0,
        );
        let op_table = _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3a, 0x7b, 0x2c, 0x7d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0x3a, 0x7b, 0x2c, 0x7d, 0, 0,
        );
        let ws = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(ws_table, v), v);
        let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let op = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(op_table, v), folded);
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        let control = u64::from(_mm256_movemask_epi8(control) as u32);
        Masks {
            quote: u64::from(_mm256_movemask_epi8(quote) as u32),
            backslash: u64::from(_mm256_movemask_epi8(backslash) as u32),
            op: u64::from(_mm256_movemask_epi8(op) as u32) & !control,
            whitespace: u64::from(_mm256_movemask_epi8(ws) as u32),
            control,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_classifier_classifies_every_byte_value_like_the_table() {
        let mut all = [0u8; 256];
        for (i, b) in all.iter_mut().enumerate() {
            *b = i as u8;
        }
        for block in all.chunks_exact(64) {
            let block: &[u8; 64] = block.try_into().unwrap();
            // SAFETY: the scalar classifier needs no CPU feature.
            let want = unsafe { ScalarBytes::classify(block) };
            assert_eq!(want.op.count_ones() + want.quote.count_ones(), {
                block.iter().filter(|b| b"{}[]:,\"".contains(b)).count() as u32
            });
            #[cfg(target_arch = "x86_64")]
            {
                // SAFETY: SSE2 is baseline.
                assert_eq!(unsafe { Sse2::classify(block) }, want);
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 detected just above.
                    assert_eq!(unsafe { Avx2::classify(block) }, want);
                }
            }
        }
    }

    #[test]
    fn prefix_xor_agrees() {
        for x in [
            0u64,
            1,
            0x8000_0000_0000_0000,
            0x0101_0000_1000_0011,
            u64::MAX,
        ] {
            let mut want = 0u64;
            let mut acc = 0u64;
            for i in 0..64 {
                acc ^= (x >> i) & 1;
                want |= acc << i;
            }
            // SAFETY: shifts need no CPU feature.
            assert_eq!(unsafe { ShiftXor::prefix_xor(x) }, want);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("pclmulqdq") {
                // SAFETY: PCLMULQDQ detected just above.
                assert_eq!(unsafe { Clmul::prefix_xor(x) }, want);
            }
        }
    }
}
