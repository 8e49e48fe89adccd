//! Colour naming: sRGB pixels to CIELAB (D65), and the nearest colour of
//! [`crate::palette::PALETTE`] by Euclidean distance in CIELAB (ΔE*76).

use crate::palette::PALETTE;

/// A CIELAB colour `[L*, a*, b*]`, D65 white point.
pub type Lab = [f32; 3];

/// Converts an sRGB pixel to CIELAB (D65).
pub fn srgb_to_lab(rgb: [u8; 3]) -> Lab {
    let table = LINEAR.get_or_init(|| std::array::from_fn(|c| linear(c as f32 / 255.0)));
    let [r, g, b] = rgb.map(|c| table[usize::from(c)]);
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = 0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b;
    let (fx, fy, fz) = (f(x / 0.950_47), f(y), f(z / 1.088_83));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// sRGB channel byte to linear light, computed once.
static LINEAR: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();

fn linear(c: f32) -> f32 {
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn f(t: f32) -> f32 {
    const DELTA: f32 = 6.0 / 29.0;
    if t > DELTA * DELTA * DELTA {
        t.cbrt()
    } else {
        t / (3.0 * DELTA * DELTA) + 4.0 / 29.0
    }
}

/// Squared ΔE*76 distance between two CIELAB colours.
pub fn distance_sq(a: Lab, b: Lab) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// The palette's anchors in CIELAB, in palette order.
pub fn palette_lab() -> Vec<Lab> {
    PALETTE.iter().map(|c| srgb_to_lab(c.rgb)).collect()
}

/// Index into [`PALETTE`] of the anchor nearest to `lab`.
pub fn nearest(lab: Lab, anchors: &[Lab]) -> usize {
    let mut best = (0, f32::INFINITY);
    for (i, &anchor) in anchors.iter().enumerate() {
        let d = distance_sq(lab, anchor);
        if d < best.1 {
            best = (i, d);
        }
    }
    best.0
}

/// CIELAB values and nearest palette colours of sRGB pixels, each distinct
/// colour converted once (photos and noisy scenes repeat colours a lot).
pub struct Namer {
    anchors: Vec<Lab>,
    seen: std::collections::HashMap<u32, (Lab, u8), PackedRgbHasher>,
}

impl Default for Namer {
    fn default() -> Self {
        Self::new()
    }
}

impl Namer {
    /// A namer over [`PALETTE`].
    pub fn new() -> Self {
        Self {
            anchors: palette_lab(),
            seen: std::collections::HashMap::default(),
        }
    }

    /// The pixel's CIELAB value and the index into [`PALETTE`] of its nearest colour.
    pub fn lookup(&mut self, rgb: [u8; 3]) -> (Lab, u8) {
        let key = u32::from(rgb[0]) << 16 | u32::from(rgb[1]) << 8 | u32::from(rgb[2]);
        let anchors = &self.anchors;
        *self.seen.entry(key).or_insert_with(|| {
            let lab = srgb_to_lab(rgb);
            (lab, nearest(lab, anchors) as u8)
        })
    }
}

/// A cheap hasher for packed 24-bit colours (a multiplicative hash is plenty).
#[derive(Clone, Copy, Default)]
pub struct PackedRgbHasher(u64);

impl std::hash::BuildHasher for PackedRgbHasher {
    type Hasher = PackedRgbHasher;
    fn build_hasher(&self) -> Self::Hasher {
        PackedRgbHasher(0)
    }
}

impl std::hash::Hasher for PackedRgbHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Name of the palette colour nearest to an sRGB pixel.
pub fn name_of(rgb: [u8; 3]) -> &'static str {
    PALETTE[nearest(srgb_to_lab(rgb), &palette_lab())].name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_of_white_black_and_red_matches_reference_values() {
        let white = srgb_to_lab([255, 255, 255]);
        assert!((white[0] - 100.0).abs() < 0.1 && white[1].abs() < 0.1 && white[2].abs() < 0.1);
        let black = srgb_to_lab([0, 0, 0]);
        assert!(black[0].abs() < 0.1);
        let red = srgb_to_lab([255, 0, 0]);
        assert!((red[0] - 53.24).abs() < 0.1, "{red:?}");
        assert!((red[1] - 80.09).abs() < 0.2, "{red:?}");
        assert!((red[2] - 67.20).abs() < 0.2, "{red:?}");
    }

    #[test]
    fn every_anchor_names_itself_and_a_shifted_anchor_keeps_its_name() {
        for c in PALETTE {
            assert_eq!(name_of(c.rgb), c.name);
            let shifted = c.rgb.map(|v| v.saturating_add(12));
            assert_eq!(
                name_of(shifted),
                c.name,
                "{} shifted to {shifted:?}",
                c.name
            );
        }
    }

    #[test]
    fn off_palette_colours_get_the_perceptually_nearest_word() {
        assert_eq!(name_of([0, 0, 128]), "blue");
        assert_eq!(name_of([200, 200, 200]), "white");
        assert_eq!(name_of([90, 90, 90]), "grey");
        assert_eq!(name_of([0, 128, 0]), "green");
    }
}
