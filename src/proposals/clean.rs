//! Removal of small disconnected regions and small holes, as SAM's
//! `remove_small_regions` does (8-connected, holes first, then islands).

use crate::mask::{Connectivity, Mask};

/// Fills holes and removes islands smaller than `min_area` pixels. When every
/// island is small, the largest one stays so the mask never vanishes.
pub fn remove_small_regions(mask: &Mask, min_area: u64) -> Mask {
    if min_area == 0 {
        return mask.clone();
    }
    let filled = fill_small_holes(mask, min_area);
    remove_small_islands(&filled, min_area)
}

fn fill_small_holes(mask: &Mask, min_area: u64) -> Mask {
    let gaps = mask.inverted();
    let comps = gaps.components(Connectivity::Eight);
    if comps.areas.iter().all(|&a| a >= min_area) {
        return mask.clone();
    }
    let bits = comps
        .labels
        .iter()
        .map(|&label| u8::from(label == 0 || comps.areas[label as usize - 1] < min_area))
        .collect();
    Mask::from_bits(mask.width(), mask.height(), bits).unwrap_or_else(|| mask.clone())
}

fn remove_small_islands(mask: &Mask, min_area: u64) -> Mask {
    let comps = mask.components(Connectivity::Eight);
    if comps.areas.iter().all(|&a| a >= min_area) {
        return mask.clone();
    }
    let fallback = if comps.areas.iter().any(|&a| a >= min_area) {
        None
    } else {
        comps
            .areas
            .iter()
            .enumerate()
            .max_by_key(|&(i, &a)| (a, std::cmp::Reverse(i)))
            .map(|(i, _)| i as u32 + 1)
    };
    let bits = comps
        .labels
        .iter()
        .map(|&label| {
            let keep = label != 0
                && (comps.areas[label as usize - 1] >= min_area || Some(label) == fallback);
            u8::from(keep)
        })
        .collect();
    Mask::from_bits(mask.width(), mask.height(), bits).unwrap_or_else(|| mask.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob_with_speck_and_pinhole() -> Mask {
        Mask::from_fn(30, 30, |x, y| {
            let blob = (5..20).contains(&x) && (5..20).contains(&y) && !(x == 10 && y == 10);
            let speck = (25..27).contains(&x) && (25..27).contains(&y);
            blob || speck
        })
    }

    #[test]
    fn small_holes_fill_and_small_islands_go() {
        let cleaned = remove_small_regions(&blob_with_speck_and_pinhole(), 10);
        let expected = Mask::from_fn(30, 30, |x, y| (5..20).contains(&x) && (5..20).contains(&y));
        assert_eq!(cleaned, expected);
    }

    #[test]
    fn zero_min_area_leaves_the_mask_alone() {
        let m = blob_with_speck_and_pinhole();
        assert_eq!(remove_small_regions(&m, 0), m);
    }

    #[test]
    fn the_largest_island_survives_when_all_are_small() {
        let m = Mask::from_fn(20, 20, |x, y| (x < 3 && y < 3) || (x == 10 && y == 10));
        let cleaned = remove_small_regions(&m, 100);
        assert_eq!(cleaned.area(), 9);
        assert!(cleaned.get(1, 1) && !cleaned.get(10, 10));
    }
}
