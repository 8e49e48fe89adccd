//! Polygon rasterisation shared by the dataset reader and the scene generator,
//! so that a polygon written to a dataset reads back as exactly the pixels the
//! generator painted.
//!
//! A pixel belongs to a polygon when its centre `(x + 0.5, y + 0.5)` lies
//! inside it by the even-odd rule.

use crate::mask::Mask;

/// Sets (or clears, with `value = false`) every pixel of `mask` whose centre
/// lies inside the polygon `points`. Edges with non-finite coordinates are
/// skipped and pixels outside the mask are ignored, so any input is safe.
pub fn fill_polygon(mask: &mut Mask, points: &[[f64; 2]], value: bool) {
    for_each_span(mask.width(), mask.height(), points, |row, xs| {
        for x in xs {
            mask.set(x, row, value);
        }
    });
}

/// How many pixels of a `width` x `height` image the polygon covers.
pub fn polygon_pixel_count(width: u32, height: u32, points: &[[f64; 2]]) -> u64 {
    let mut count = 0;
    for_each_span(width, height, points, |_, xs| {
        count += u64::from(xs.end - xs.start)
    });
    count
}

/// Calls `span(row, columns)` for every run of covered pixels inside the image.
fn for_each_span(
    width: u32,
    height: u32,
    points: &[[f64; 2]],
    mut span: impl FnMut(u32, std::ops::Range<u32>),
) {
    if points.len() < 3 || width == 0 {
        return;
    }
    let Some((y_min, y_max)) = vertical_extent(points) else {
        return;
    };
    let first_row = (y_min - 0.5).ceil().max(0.0);
    let last_row = (y_max - 0.5).floor().min(f64::from(height) - 1.0);
    if first_row > last_row {
        return;
    }
    let mut crossings = Vec::new();
    for row in first_row as u32..=last_row as u32 {
        row_crossings(points, f64::from(row) + 0.5, &mut crossings);
        for pair in crossings.chunks_exact(2) {
            let first = (pair[0] - 0.5).ceil().max(0.0);
            let end = (pair[1] - 0.5).ceil().min(f64::from(width));
            if first < end {
                span(row, first as u32..end as u32);
            }
        }
    }
}

/// A mask of the given size with the polygon's pixels set.
pub fn polygon_mask(width: u32, height: u32, points: &[[f64; 2]]) -> Mask {
    let mut mask = Mask::empty(width, height);
    fill_polygon(&mut mask, points, true);
    mask
}

fn vertical_extent(points: &[[f64; 2]]) -> Option<(f64, f64)> {
    let ys = points.iter().map(|p| p[1]).filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    (lo <= hi).then_some((lo, hi))
}

fn row_crossings(points: &[[f64; 2]], yc: f64, out: &mut Vec<f64>) {
    out.clear();
    for (i, a) in points.iter().enumerate() {
        let b = &points[(i + 1) % points.len()];
        if !(a.iter().chain(b.iter()).all(|v| v.is_finite())) {
            continue;
        }
        if (a[1] <= yc) != (b[1] <= yc) {
            let t = (yc - a[1]) / (b[1] - a[1]);
            out.push(a[0] + t * (b[0] - a[0]));
        }
    }
    out.sort_by(f64::total_cmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside_by_brute_force(points: &[[f64; 2]], px: f64, py: f64) -> bool {
        let mut inside = false;
        for (i, a) in points.iter().enumerate() {
            let b = points[(i + 1) % points.len()];
            if (a[1] <= py) != (b[1] <= py) {
                let x = a[0] + (py - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                if px < x {
                    inside = !inside;
                }
            }
        }
        inside
    }

    #[test]
    fn axis_aligned_rectangle_covers_the_pixels_whose_centres_it_holds() {
        let m = polygon_mask(10, 10, &[[2.0, 3.0], [6.0, 3.0], [6.0, 5.0], [2.0, 5.0]]);
        assert_eq!(m.area(), 8);
        assert!(m.get(2, 3) && m.get(5, 4));
        assert!(!m.get(6, 3) && !m.get(2, 5) && !m.get(1, 3));
    }

    #[test]
    fn triangle_matches_a_point_in_polygon_test_everywhere() {
        let tri = [[1.3, 1.1], [17.8, 4.2], [6.6, 15.9]];
        let m = polygon_mask(20, 20, &tri);
        for y in 0..20 {
            for x in 0..20 {
                let expected = inside_by_brute_force(&tri, f64::from(x) + 0.5, f64::from(y) + 0.5);
                assert_eq!(m.get(x, y), expected, "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn pixel_count_matches_the_filled_mask() {
        let star = [
            [10.0, 1.0],
            [12.5, 8.0],
            [19.0, 8.0],
            [13.5, 12.0],
            [16.0, 19.0],
            [10.0, 14.5],
            [4.0, 19.0],
            [6.5, 12.0],
            [1.0, 8.0],
            [7.5, 8.0],
        ];
        assert_eq!(
            polygon_pixel_count(20, 20, &star),
            polygon_mask(20, 20, &star).area()
        );
        assert_eq!(
            polygon_pixel_count(15, 12, &star),
            polygon_mask(15, 12, &star).area()
        );
    }

    #[test]
    fn polygon_outside_or_degenerate_sets_nothing() {
        assert!(polygon_mask(8, 8, &[[20.0, 20.0], [30.0, 20.0], [30.0, 30.0]]).is_empty());
        assert!(polygon_mask(8, 8, &[[1.0, 1.0], [5.0, 5.0]]).is_empty());
        assert!(
            polygon_mask(8, 8, &[[f64::NAN, 1.0], [5.0, f64::INFINITY], [3.0, 3.0]]).is_empty()
        );
    }

    #[test]
    fn polygon_larger_than_the_image_is_clipped() {
        let m = polygon_mask(
            4,
            3,
            &[[-10.0, -10.0], [50.0, -10.0], [50.0, 50.0], [-10.0, 50.0]],
        );
        assert_eq!(m.area(), 12);
    }

    #[test]
    fn clearing_with_a_smaller_polygon_punches_a_hole() {
        let mut m = polygon_mask(
            10,
            10,
            &[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]],
        );
        fill_polygon(
            &mut m,
            &[[2.0, 2.0], [4.0, 2.0], [4.0, 4.0], [2.0, 4.0]],
            false,
        );
        assert_eq!(m.area(), 96);
        assert!(!m.get(3, 3));
    }
}
