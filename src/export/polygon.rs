//! Outer contours of a mask as polygons, simplified with Douglas–Peucker.
//!
//! Contours follow pixel edges (vertices on pixel corners, pixel `(x, y)`
//! spans `[x, x+1] × [y, y+1]`), one ring per 4-connected region, clockwise on
//! screen. Unsimplified, a ring filled by the even-odd rule at pixel centres
//! gives back its region with the holes filled; that is also how COCO's
//! tools rasterise polygons.

use crate::mask::{Connectivity, Mask};

/// A closed ring of `[x, y]` vertices; the last vertex joins the first.
pub type Ring = Vec<[f64; 2]>;

/// Default Douglas–Peucker tolerance in pixels.
pub const DEFAULT_TOLERANCE: f64 = 1.0;

/// The exact outer boundary of every 4-connected region, largest region first.
pub fn outer_contours(mask: &Mask) -> Vec<Ring> {
    let components = mask.components(Connectivity::Four);
    let width = mask.width() as usize;
    let mut starts = vec![None; components.count()];
    for (i, &label) in components.labels.iter().enumerate() {
        if label != 0 && starts[label as usize - 1].is_none() {
            starts[label as usize - 1] = Some(((i % width) as i64, (i / width) as i64));
        }
    }
    let mut order: Vec<usize> = (0..components.count()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(components.areas[i]));
    order
        .into_iter()
        .filter_map(|i| {
            let start = starts[i]?;
            let label = i as u32 + 1;
            let inside = |x: i64, y: i64| {
                x >= 0
                    && y >= 0
                    && x < mask.width() as i64
                    && y < mask.height() as i64
                    && components.labels[y as usize * width + x as usize] == label
            };
            Some(trace(start, inside))
        })
        .collect()
}

/// Follows pixel edges with the region on the right, from the top-left
/// corner of its first pixel in scan order (a corner the ring passes once).
fn trace(start: (i64, i64), inside: impl Fn(i64, i64) -> bool) -> Ring {
    let mut ring = vec![[start.0 as f64, start.1 as f64]];
    let (mut x, mut y) = start;
    let (mut dx, mut dy) = (1i64, 0i64);
    loop {
        x += dx;
        y += dy;
        if (x, y) == start {
            break;
        }
        let (ahead_left, ahead_right) = ahead_pixels(x, y, dx, dy);
        let turned = if !inside(ahead_right.0, ahead_right.1) {
            (-dy, dx)
        } else if inside(ahead_left.0, ahead_left.1) {
            (dy, -dx)
        } else {
            (dx, dy)
        };
        if turned != (dx, dy) {
            ring.push([x as f64, y as f64]);
            (dx, dy) = turned;
        }
    }
    ring
}

/// The pixels ahead-left and ahead-right of corner `(x, y)` when moving along `(dx, dy)`.
fn ahead_pixels(x: i64, y: i64, dx: i64, dy: i64) -> ((i64, i64), (i64, i64)) {
    match (dx, dy) {
        (1, 0) => ((x, y - 1), (x, y)),
        (0, 1) => ((x, y), (x - 1, y)),
        (-1, 0) => ((x - 1, y), (x - 1, y - 1)),
        _ => ((x - 1, y - 1), (x, y - 1)),
    }
}

/// Douglas–Peucker simplification of a closed ring: drops vertices closer
/// than `tolerance` to the simplified outline. A ring that would collapse
/// below three vertices is returned unchanged.
pub fn simplify(ring: &[[f64; 2]], tolerance: f64) -> Ring {
    if ring.len() <= 3 {
        return ring.to_vec();
    }
    let far = (1..ring.len())
        .max_by(|&a, &b| distance(ring[0], ring[a]).total_cmp(&distance(ring[0], ring[b])))
        .unwrap_or(1);
    let mut keep = vec![false; ring.len()];
    keep[0] = true;
    keep[far] = true;
    mark_kept(&ring[..=far], tolerance, &mut keep[..=far]);
    let mut closing: Vec<[f64; 2]> = ring[far..].to_vec();
    closing.push(ring[0]);
    let mut keep_closing = vec![false; closing.len()];
    mark_kept(&closing, tolerance, &mut keep_closing);
    for (k, &kept) in keep_closing[..closing.len() - 1].iter().enumerate() {
        keep[far + k] |= kept;
    }
    let simplified: Ring = ring
        .iter()
        .zip(&keep)
        .filter(|(_, &kept)| kept)
        .map(|(&p, _)| p)
        .collect();
    if simplified.len() < 3 {
        ring.to_vec()
    } else {
        simplified
    }
}

/// Marks the vertices of an open chain that Douglas–Peucker keeps (both ends always).
fn mark_kept(chain: &[[f64; 2]], tolerance: f64, keep: &mut [bool]) {
    let last = chain.len() - 1;
    keep[0] = true;
    keep[last] = true;
    let mut spans = vec![(0usize, last)];
    while let Some((a, b)) = spans.pop() {
        if b <= a + 1 {
            continue;
        }
        let (worst, offset) = (a + 1..b)
            .map(|i| (i, segment_distance(chain[i], chain[a], chain[b])))
            .max_by(|p, q| p.1.total_cmp(&q.1))
            .unwrap_or((a, 0.0));
        if offset > tolerance {
            keep[worst] = true;
            spans.push((a, worst));
            spans.push((worst, b));
        }
    }
}

fn distance(p: [f64; 2], q: [f64; 2]) -> f64 {
    (p[0] - q[0]).hypot(p[1] - q[1])
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (ux, uy) = (b[0] - a[0], b[1] - a[1]);
    let length2 = ux * ux + uy * uy;
    if length2 == 0.0 {
        return distance(p, a);
    }
    let t = (((p[0] - a[0]) * ux + (p[1] - a[1]) * uy) / length2).clamp(0.0, 1.0);
    distance(p, [a[0] + t * ux, a[1] + t * uy])
}

/// Outer contours of every region, simplified with `tolerance` pixels.
pub fn polygons(mask: &Mask, tolerance: f64) -> Vec<Ring> {
    outer_contours(mask)
        .iter()
        .map(|ring| simplify(ring, tolerance))
        .collect()
}

/// Rings in COCO's flat form `[x1, y1, x2, y2, ...]`.
pub fn to_coco(rings: &[Ring]) -> Vec<Vec<f64>> {
    rings
        .iter()
        .map(|ring| ring.iter().flat_map(|&[x, y]| [x, y]).collect())
        .collect()
}

/// Fills rings at pixel centres with the even-odd rule, each ring on its own
/// and the results unioned (COCO's reading of several polygons).
pub fn rasterize(rings: &[Ring], width: u32, height: u32) -> Mask {
    let mut out = Mask::empty(width, height);
    for ring in rings {
        out.union_with(&Mask::from_fn(width, height, |x, y| {
            contains(ring, x as f64 + 0.5, y as f64 + 0.5)
        }));
    }
    out
}

fn contains(ring: &[[f64; 2]], px: f64, py: f64) -> bool {
    let mut inside = false;
    for (i, &[x1, y1]) in ring.iter().enumerate() {
        let [x2, y2] = ring[(i + 1) % ring.len()];
        if (y1 > py) != (y2 > py) && px < x1 + (py - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fill_holes(region: &Mask) -> Mask {
        let outside = region.inverted();
        let comps = outside.components(Connectivity::Eight);
        let (w, h) = (region.width(), region.height());
        let mut border_labels = std::collections::HashSet::new();
        for x in 0..w {
            for y in [0, h.saturating_sub(1)] {
                border_labels.insert(comps.labels[(y * w + x) as usize]);
            }
        }
        for y in 0..h {
            for x in [0, w.saturating_sub(1)] {
                border_labels.insert(comps.labels[(y * w + x) as usize]);
            }
        }
        Mask::from_fn(w, h, |x, y| {
            let label = comps.labels[(y * w + x) as usize];
            label == 0 || !border_labels.contains(&label)
        })
    }

    #[test]
    fn a_single_pixel_is_a_unit_square() {
        let m = Mask::from_fn(3, 3, |x, y| x == 1 && y == 2);
        assert_eq!(
            outer_contours(&m),
            vec![vec![[1.0, 2.0], [2.0, 2.0], [2.0, 3.0], [1.0, 3.0]]]
        );
    }

    #[test]
    fn a_ring_shaped_region_has_one_outer_contour_around_its_hole() {
        let m = Mask::from_fn(8, 8, |x, y| {
            (1..7).contains(&x)
                && (1..7).contains(&y)
                && !((3..5).contains(&x) && (3..5).contains(&y))
        });
        let rings = outer_contours(&m);
        assert_eq!(
            rings,
            vec![vec![[1.0, 1.0], [7.0, 1.0], [7.0, 7.0], [1.0, 7.0]]]
        );
        assert_eq!(rasterize(&rings, 8, 8), fill_holes(&m));
    }

    #[test]
    fn simplification_removes_staircase_steps_within_tolerance() {
        let disc = Mask::from_fn(64, 64, |x, y| {
            let (dx, dy) = (x as f64 - 31.5, y as f64 - 31.5);
            dx * dx + dy * dy < 400.0
        });
        let exact = outer_contours(&disc);
        let simple = polygons(&disc, 1.0);
        assert_eq!(exact.len(), 1);
        assert!(
            simple[0].len() * 3 < exact[0].len(),
            "{} vs {}",
            simple[0].len(),
            exact[0].len()
        );
        let back = rasterize(&simple, 64, 64);
        assert!(back.iou(&disc) > 0.95);
        assert_eq!(to_coco(&simple)[0].len(), simple[0].len() * 2);
    }

    fn any_mask() -> impl Strategy<Value = Mask> {
        (1u32..14, 1u32..14).prop_flat_map(|(w, h)| {
            proptest::collection::vec(0u8..2, (w * h) as usize)
                .prop_map(move |bits| Mask::from_bits(w, h, bits).expect("length matches"))
        })
    }

    proptest! {
        #[test]
        fn exact_contours_rasterise_to_the_regions_with_holes_filled(mask in any_mask()) {
            let (w, h) = (mask.width(), mask.height());
            let comps = mask.components(Connectivity::Four);
            let rings = outer_contours(&mask);
            prop_assert_eq!(rings.len(), comps.count());
            let mut expected = Mask::empty(w, h);
            for label in 1..=comps.count() as u32 {
                let region = Mask::from_fn(w, h, |x, y| comps.labels[(y * w + x) as usize] == label);
                expected.union_with(&fill_holes(&region));
            }
            prop_assert_eq!(rasterize(&rings, w, h), expected);
        }
    }
}
