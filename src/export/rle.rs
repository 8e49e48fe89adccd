//! COCO run-length encoding of masks, in both of COCO's forms.
//!
//! COCO scans a mask column by column (column-major, "Fortran order"), and
//! the run lengths alternate between unset and set pixels, always starting
//! with an unset run (which is 0 when the first pixel is set). The
//! compressed form packs those counts into a printable string, exactly as
//! pycocotools' `rleToString` / `rleFrString` do: each count after the second
//! is stored as the difference to the count two places before it, then
//! written as little-endian groups of 5 bits, 6 bits per character with bit 5
//! meaning "more groups follow", offset by 48 (`'0'`).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::image_io::MAX_PIXELS;
use crate::mask::Mask;

/// A mask as COCO run lengths: `size` is `[height, width]` as in COCO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rle {
    /// `[height, width]`, COCO's order.
    pub size: [u32; 2],
    /// Alternating unset/set run lengths over the column-major pixels.
    pub counts: Vec<u32>,
}

/// A mask in COCO's compressed RLE form: `counts` is the packed string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompressedRle {
    /// `[height, width]`, COCO's order.
    pub size: [u32; 2],
    /// The counts packed as by pycocotools' `rleToString`.
    pub counts: String,
}

/// Why an RLE could not be turned back into a mask.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RleError {
    /// The run lengths do not add up to `height * width`.
    #[error("RLE counts add up to {sum} pixels, but the size {height}x{width} has {expected}")]
    LengthMismatch {
        /// Sum of all runs.
        sum: u64,
        /// Pixels the size calls for.
        expected: u64,
        /// Height from `size`.
        height: u32,
        /// Width from `size`.
        width: u32,
    },
    /// A character outside COCO's alphabet (`'0'` to `'o'`).
    #[error("compressed RLE has an invalid character {found:?} at byte {at}; expected '0'..='o'")]
    BadCharacter {
        /// The offending character.
        found: char,
        /// Its byte offset in the string.
        at: usize,
    },
    /// The size asks for a larger mask than any accepted image.
    #[error(
        "the RLE is for a {height}x{width} mask, more than the {max} pixels of the largest accepted image"
    )]
    TooLarge {
        /// Height from `size`.
        height: u32,
        /// Width from `size`.
        width: u32,
        /// The largest pixel count accepted.
        max: u64,
    },
    /// The string ends in the middle of a count.
    #[error("compressed RLE ends in the middle of a count")]
    Truncated,
    /// A count does not fit in 32 bits or becomes negative once the deltas are undone.
    #[error("compressed RLE count number {index} is out of range ({value})")]
    CountOutOfRange {
        /// Position of the count.
        index: usize,
        /// The decoded value.
        value: i64,
    },
}

impl Rle {
    /// Encodes a mask, column-major, starting with an unset run.
    pub fn encode(mask: &Mask) -> Self {
        let (width, height) = (mask.width(), mask.height());
        let mut counts = Vec::new();
        let mut current = false;
        let mut run = 0u32;
        for x in 0..width {
            for y in 0..height {
                let on = mask.get(x, y);
                if on != current {
                    counts.push(run);
                    run = 0;
                    current = on;
                }
                run += 1;
            }
        }
        counts.push(run);
        Self {
            size: [height, width],
            counts,
        }
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.size[0]
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.size[1]
    }

    /// Number of set pixels.
    pub fn area(&self) -> u64 {
        self.counts
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&c| u64::from(c))
            .sum()
    }

    /// Decodes back to a mask; the counts must cover exactly `height * width` pixels.
    pub fn to_mask(&self) -> Result<Mask, RleError> {
        let (height, width) = (self.height(), self.width());
        let expected = u64::from(height) * u64::from(width);
        if expected > MAX_PIXELS {
            return Err(RleError::TooLarge {
                height,
                width,
                max: MAX_PIXELS,
            });
        }
        let sum: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        if sum != expected {
            return Err(RleError::LengthMismatch {
                sum,
                expected,
                height,
                width,
            });
        }
        let mut bits = vec![0u8; expected as usize];
        let mut index = 0usize;
        for (i, &count) in self.counts.iter().enumerate() {
            let on = i % 2 == 1;
            for _ in 0..count {
                if on {
                    let (x, y) = (index / height as usize, index % height as usize);
                    bits[y * width as usize + x] = 1;
                }
                index += 1;
            }
        }
        Mask::from_bits(width, height, bits).ok_or(RleError::LengthMismatch {
            sum,
            expected,
            height,
            width,
        })
    }

    /// Packs the counts into COCO's compressed string form.
    pub fn compress(&self) -> CompressedRle {
        let mut out = String::new();
        for (i, &count) in self.counts.iter().enumerate() {
            let mut x = i64::from(count);
            if i > 2 {
                x -= i64::from(self.counts[i - 2]);
            }
            loop {
                let mut c = (x & 0x1f) as u8;
                x >>= 5;
                let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
                if more {
                    c |= 0x20;
                }
                out.push(char::from(c + 48));
                if !more {
                    break;
                }
            }
        }
        CompressedRle {
            size: self.size,
            counts: out,
        }
    }
}

impl CompressedRle {
    /// Unpacks COCO's string form into run lengths; never panics on bad input.
    pub fn decompress(&self) -> Result<Rle, RleError> {
        let mut counts: Vec<u32> = Vec::new();
        let mut bytes = self.counts.bytes().enumerate().peekable();
        while bytes.peek().is_some() {
            let mut x: i64 = 0;
            let mut shift = 0u32;
            loop {
                let (at, byte) = bytes.next().ok_or(RleError::Truncated)?;
                let c = byte.wrapping_sub(48);
                if c > 63 {
                    return Err(RleError::BadCharacter {
                        found: self
                            .counts
                            .get(at..)
                            .and_then(|rest| rest.chars().next())
                            .unwrap_or('\u{fffd}'),
                        at,
                    });
                }
                if shift > 35 {
                    return Err(RleError::CountOutOfRange {
                        index: counts.len(),
                        value: x,
                    });
                }
                x |= i64::from(c & 0x1f) << shift;
                shift += 5;
                if c & 0x20 == 0 {
                    if c & 0x10 != 0 {
                        x |= -1i64 << shift;
                    }
                    break;
                }
            }
            let index = counts.len();
            if index > 2 {
                x += i64::from(counts[index - 2]);
            }
            let count =
                u32::try_from(x).map_err(|_| RleError::CountOutOfRange { index, value: x })?;
            counts.push(count);
        }
        Ok(Rle {
            size: self.size,
            counts,
        })
    }

    /// Decodes straight to a mask.
    pub fn to_mask(&self) -> Result<Mask, RleError> {
        self.decompress()?.to_mask()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The 5x6 (height x width) mask used for the pycocotools reference below:
    /// pixel (0,0), a 3x3 block at rows 1..4 / columns 2..5, and pixel (row 4, column 5).
    fn reference_mask() -> Mask {
        Mask::from_fn(6, 5, |x, y| {
            (x == 0 && y == 0) || ((2..5).contains(&x) && (1..4).contains(&y)) || (x == 5 && y == 4)
        })
    }

    /// Origin: `pycocotools.mask.encode` (pycocotools 2.0.11) on the same
    /// mask as a Fortran-ordered uint8 array gave
    /// `{'size': [5, 6], 'counts': b'01:2H0003N'}`, and the uncompressed counts
    /// accepted by `frPyObjects` for it are `[0, 1, 10, 3, 2, 3, 2, 3, 5, 1]`.
    #[test]
    fn matches_pycocotools_on_a_hand_checked_mask() {
        let rle = Rle::encode(&reference_mask());
        assert_eq!(rle.size, [5, 6]);
        assert_eq!(rle.counts, vec![0, 1, 10, 3, 2, 3, 2, 3, 5, 1]);
        assert_eq!(rle.area(), 11);
        let packed = rle.compress();
        assert_eq!(packed.counts, "01:2H0003N");
        assert_eq!(packed.decompress().unwrap(), rle);
        assert_eq!(packed.to_mask().unwrap(), reference_mask());
    }

    /// Origin: pycocotools 2.0.11, a 40x50 mask with rows 3..37 / columns
    /// 10..45 set and a 10x10 hole at rows 10..20 / columns 20..30; its area
    /// is 1090 and `toBbox` gives [10, 3, 35, 34].
    #[test]
    fn decodes_a_pycocotools_string_with_large_and_negative_deltas() {
        let packed = CompressedRle {
            size: [40, 50],
            counts: "c<R16000000000000000000UO4:LF4:LF4:LF4:LF4:LF4:LF4:LF4:LF4:LF4:La00000000000000000000000000000U6".into(),
        };
        let mask = packed.to_mask().unwrap();
        let expected = Mask::from_fn(50, 40, |x, y| {
            (10..45).contains(&x)
                && (3..37).contains(&y)
                && !((20..30).contains(&x) && (10..20).contains(&y))
        });
        assert_eq!(mask, expected);
        assert_eq!(mask.area(), 1090);
        assert_eq!(Rle::encode(&mask).compress(), packed);
    }

    #[test]
    fn empty_and_full_masks_encode_with_a_leading_unset_run() {
        assert_eq!(Rle::encode(&Mask::empty(3, 2)).counts, vec![6]);
        let full = Mask::from_fn(3, 2, |_, _| true);
        assert_eq!(Rle::encode(&full).counts, vec![0, 6]);
        assert_eq!(Rle::encode(&full).to_mask().unwrap(), full);
    }

    #[test]
    fn wrong_total_is_a_typed_error() {
        let rle = Rle {
            size: [2, 2],
            counts: vec![1, 2],
        };
        assert!(matches!(
            rle.to_mask(),
            Err(RleError::LengthMismatch {
                sum: 3,
                expected: 4,
                ..
            })
        ));
    }

    #[test]
    fn bad_strings_are_typed_errors() {
        let bad = |s: &str| {
            CompressedRle {
                size: [4, 4],
                counts: s.into(),
            }
            .decompress()
        };
        assert!(matches!(
            bad("0 1"),
            Err(RleError::BadCharacter { at: 1, .. })
        ));
        assert_eq!(bad("0P"), Err(RleError::Truncated));
        assert!(matches!(
            bad("PPPPPPPPPP1"),
            Err(RleError::CountOutOfRange { .. })
        ));
        assert!(matches!(bad("000N"), Err(RleError::CountOutOfRange { .. })));
    }

    fn any_mask() -> impl Strategy<Value = Mask> {
        (0u32..24, 0u32..24).prop_flat_map(|(w, h)| {
            proptest::collection::vec(0u8..2, (w * h) as usize)
                .prop_map(move |bits| Mask::from_bits(w, h, bits).expect("length matches"))
        })
    }

    proptest! {
        #[test]
        fn uncompressed_round_trip(mask in any_mask()) {
            let rle = Rle::encode(&mask);
            prop_assert_eq!(rle.area(), mask.area());
            prop_assert_eq!(rle.to_mask().unwrap(), mask);
        }

        #[test]
        fn compressed_round_trip(mask in any_mask()) {
            let packed = Rle::encode(&mask).compress();
            prop_assert_eq!(packed.to_mask().unwrap(), mask);
        }

        #[test]
        fn garbage_never_panics(s in ".{0,40}", h in 0u32..50, w in 0u32..50) {
            let _ = CompressedRle { size: [h, w], counts: s }.to_mask();
        }

        #[test]
        fn garbage_counts_never_panic(counts in proptest::collection::vec(any::<u32>(), 0..8), h in 0u32..20, w in 0u32..20) {
            let _ = Rle { size: [h, w], counts }.to_mask();
        }
    }
}
