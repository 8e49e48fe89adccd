//! Shape descriptors of a mask's outline and the shape word they imply.
//!
//! The outline is the largest 8-connected component of the mask with its holes
//! filled, so a ring-shaped host is described by its outer shape. The measures
//! work on that region's pixels, its convex hull (through pixel corners), the
//! smallest rotated box around the hull, and a simplified traced contour.

use super::{ShapeDescriptors, ShapeWord};
use crate::mask::Mask;

type Point = [f64; 2];

/// The raw measures of an outline, before rounding and naming.
#[derive(Clone, Debug, PartialEq)]
pub struct Measures {
    /// Pixel count of the filled outline.
    pub area: f64,
    /// `4π·area / perimeter²` of the smoothed contour.
    pub circularity: f64,
    /// Pixel area over the convex hull's area.
    pub solidity: f64,
    /// Pixel area over the smallest rotated box's area.
    pub fill: f64,
    /// Long over short side of the smallest rotated box.
    pub aspect: f64,
    /// Angle of the box's long side, degrees `0..180`, clockwise on screen.
    pub orientation: f64,
    /// Shortest over longest distance from the centroid to the hull (1 for a disc).
    pub roundness: f64,
    /// Vertex count of the simplified contour.
    pub corners: usize,
}

/// Describes a mask's outline; an empty mask gets zero measures and no word.
pub fn describe(mask: &Mask) -> ShapeDescriptors {
    match measure(mask) {
        Some(m) => {
            let word = classify(&m);
            let corners = word.map_or(m.corners, corner_count);
            ShapeDescriptors {
                word,
                circularity: round2(m.circularity.min(1.0)),
                solidity: round2(m.solidity.min(1.0)),
                aspect: round2(m.aspect),
                orientation: (m.orientation.round() as u16) % 180,
                corners: u16::try_from(corners).unwrap_or(u16::MAX),
            }
        }
        None => ShapeDescriptors {
            word: None,
            circularity: 0.0,
            solidity: 0.0,
            aspect: 1.0,
            orientation: 0,
            corners: 0,
        },
    }
}

/// The corner count a shape word stands for (0 for round shapes).
pub fn corner_count(word: ShapeWord) -> usize {
    match word {
        ShapeWord::Circle | ShapeWord::Ellipse => 0,
        ShapeWord::Triangle => 3,
        ShapeWord::Square | ShapeWord::Rectangle => 4,
        ShapeWord::Hexagon => 6,
        ShapeWord::Star => 10,
    }
}

fn round2(v: f64) -> f32 {
    ((v * 100.0).round() / 100.0) as f32
}

/// The shape word the measures clearly imply, or `None`.
pub fn classify(m: &Measures) -> Option<ShapeWord> {
    if m.area < 30.0 {
        return None;
    }
    if m.solidity < 0.8 {
        return (m.corners >= 8).then_some(ShapeWord::Star);
    }
    if m.solidity < 0.85 {
        return None;
    }
    if m.fill < 0.62 {
        return (m.corners <= 5).then_some(ShapeWord::Triangle);
    }
    if m.fill > 0.88 {
        return Some(if m.aspect < 1.2 {
            ShapeWord::Square
        } else {
            ShapeWord::Rectangle
        });
    }
    if m.roundness > 0.92 {
        return Some(ShapeWord::Circle);
    }
    if m.aspect < 1.3 && (0.8..=0.92).contains(&m.roundness) && m.circularity < 0.95 {
        return Some(ShapeWord::Hexagon);
    }
    (m.fill > 0.72 && (m.roundness * m.aspect - 1.0).abs() < 0.2).then_some(ShapeWord::Ellipse)
}

/// Measures the outline of `mask`; `None` when the mask is empty.
pub fn measure(mask: &Mask) -> Option<Measures> {
    let region = filled_largest_component(&crop_to_content(mask)?)?;
    let pixels: Vec<(u32, u32)> = set_pixels(&region).collect();
    let area = pixels.len() as f64;
    let centroid = pixels.iter().fold([0.0, 0.0], |acc, &(x, y)| {
        [acc[0] + f64::from(x) + 0.5, acc[1] + f64::from(y) + 0.5]
    });
    let centroid = [centroid[0] / area, centroid[1] / area];
    let hull = convex_hull(boundary_corners(&region));
    let hull_area = polygon_area(&hull).max(area);
    let rect = min_area_rect(&hull);
    let contour = smooth_contour(&region);
    let perimeter = polygon_perimeter(&contour);
    let contour_area = polygon_area(&contour);
    let circularity = if perimeter > 0.0 {
        4.0 * std::f64::consts::PI * contour_area / (perimeter * perimeter)
    } else {
        0.0
    };
    let r_out = hull
        .iter()
        .map(|&p| dist(p, centroid))
        .fold(0.0_f64, f64::max);
    let r_in = hull_edges(&hull)
        .map(|(a, b)| dist_to_line(centroid, a, b))
        .fold(f64::INFINITY, f64::min);
    let epsilon = (0.08 * r_out).max(1.5);
    let corners = simplify_closed(&trace_contour(&region), epsilon).len();
    Some(Measures {
        area,
        circularity,
        solidity: area / hull_area,
        fill: area / rect.area.max(area),
        aspect: rect.long / rect.short.max(1.0),
        orientation: rect.angle,
        roundness: if r_out > 0.0 && r_in.is_finite() {
            r_in / r_out
        } else {
            0.0
        },
        corners,
    })
}

/// The mask cut down to its box plus a one-pixel empty border (all measures
/// are translation-invariant, and this keeps them proportional to the object).
pub fn crop_to_content(mask: &Mask) -> Option<Mask> {
    let b = mask.bbox()?;
    let (w, h) = (b.width() + 2, b.height() + 2);
    Some(Mask::from_fn(w, h, |x, y| {
        x > 0 && y > 0 && mask.get(b.x0 + x - 1, b.y0 + y - 1)
    }))
}

fn set_pixels(mask: &Mask) -> impl Iterator<Item = (u32, u32)> + '_ {
    let w = mask.width();
    mask.bits()
        .iter()
        .enumerate()
        .filter(|(_, &b)| b != 0)
        .map(move |(i, _)| ((i as u32) % w, (i as u32) / w))
}

/// The largest 8-connected component of `mask`, with every hole filled.
pub fn filled_largest_component(mask: &Mask) -> Option<Mask> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let bits = mask.bits();
    let mut label = vec![0u32; w * h];
    let mut best = (0usize, 0u32);
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..w * h {
        if bits[start] == 0 || label[start] != 0 {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let mut size = 0usize;
        while let Some(i) = stack.pop() {
            size += 1;
            for j in neighbours(i, w, h, true) {
                if bits[j] != 0 && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            }
        }
        if size > best.0 {
            best = (size, next);
        }
    }
    if best.0 == 0 {
        return None;
    }
    let component: Vec<u8> = label.iter().map(|&l| u8::from(l == best.1)).collect();
    Some(fill_holes(&component, w, h, mask.width(), mask.height()))
}

fn fill_holes(component: &[u8], w: usize, h: usize, width: u32, height: u32) -> Mask {
    let mut outside = vec![false; w * h];
    let mut stack: Vec<usize> = (0..w * h)
        .filter(|&i| {
            let (x, y) = (i % w, i / w);
            (x == 0 || y == 0 || x == w - 1 || y == h - 1) && component[i] == 0
        })
        .collect();
    for &i in &stack {
        outside[i] = true;
    }
    while let Some(i) = stack.pop() {
        for j in neighbours(i, w, h, false) {
            if component[j] == 0 && !outside[j] {
                outside[j] = true;
                stack.push(j);
            }
        }
    }
    let bits = outside.iter().map(|&o| u8::from(!o)).collect();
    Mask::from_bits(width, height, bits).unwrap_or_else(|| Mask::empty(width, height))
}

fn neighbours(i: usize, w: usize, h: usize, diagonal: bool) -> impl Iterator<Item = usize> {
    let (x, y) = ((i % w) as isize, (i / w) as isize);
    const STEPS: [(isize, isize); 8] = [
        (1, 0),
        (-1, 0),
        (0, 1),
        (0, -1),
        (1, 1),
        (1, -1),
        (-1, 1),
        (-1, -1),
    ];
    let count = if diagonal { 8 } else { 4 };
    STEPS[..count].iter().filter_map(move |&(dx, dy)| {
        let (nx, ny) = (x + dx, y + dy);
        (nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h)
            .then(|| ny as usize * w + nx as usize)
    })
}

fn boundary_corners(region: &Mask) -> Vec<Point> {
    let mut corners = Vec::new();
    for (x, y) in set_pixels(region) {
        let inner = region.get(x.wrapping_sub(1), y)
            && region.get(x + 1, y)
            && region.get(x, y.wrapping_sub(1))
            && region.get(x, y + 1);
        if !inner {
            let (fx, fy) = (f64::from(x), f64::from(y));
            corners.extend([
                [fx, fy],
                [fx + 1.0, fy],
                [fx, fy + 1.0],
                [fx + 1.0, fy + 1.0],
            ]);
        }
    }
    corners
}

/// Convex hull (Andrew's monotone chain), counter-clockwise in a y-up sense, no collinear points.
pub fn convex_hull(mut points: Vec<Point>) -> Vec<Point> {
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let mut lower: Vec<Point> = Vec::new();
    for &p in &points {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<Point> = Vec::new();
    for &p in points.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

fn cross(o: Point, a: Point, b: Point) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

fn dist(a: Point, b: Point) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

fn dist_to_line(p: Point, a: Point, b: Point) -> f64 {
    let len = dist(a, b);
    if len == 0.0 {
        dist(p, a)
    } else {
        cross(a, b, p).abs() / len
    }
}

fn hull_edges(hull: &[Point]) -> impl Iterator<Item = (Point, Point)> + '_ {
    (0..hull.len()).map(move |i| (hull[i], hull[(i + 1) % hull.len()]))
}

fn polygon_area(poly: &[Point]) -> f64 {
    if poly.len() < 3 {
        return 0.0;
    }
    hull_edges(poly)
        .map(|(a, b)| a[0] * b[1] - b[0] * a[1])
        .sum::<f64>()
        .abs()
        / 2.0
}

fn polygon_perimeter(poly: &[Point]) -> f64 {
    if poly.len() < 2 {
        return 0.0;
    }
    hull_edges(poly).map(|(a, b)| dist(a, b)).sum()
}

struct RotatedBox {
    area: f64,
    long: f64,
    short: f64,
    angle: f64,
}

/// The smallest-area rotated box around a convex hull (one side lies on a hull edge).
fn min_area_rect(hull: &[Point]) -> RotatedBox {
    let mut best = RotatedBox {
        area: f64::INFINITY,
        long: 0.0,
        short: 0.0,
        angle: 0.0,
    };
    for (a, b) in hull_edges(hull) {
        let len = dist(a, b);
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = ((b[0] - a[0]) / len, (b[1] - a[1]) / len);
        let (mut min_u, mut max_u, mut min_v, mut max_v) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in hull {
            let u = p[0] * ux + p[1] * uy;
            let v = -p[0] * uy + p[1] * ux;
            min_u = min_u.min(u);
            max_u = max_u.max(u);
            min_v = min_v.min(v);
            max_v = max_v.max(v);
        }
        let (du, dv) = (max_u - min_u, max_v - min_v);
        let area = du * dv;
        if area < best.area - 1e-9 {
            let edge_angle = uy.atan2(ux).to_degrees();
            let long_angle = if du >= dv {
                edge_angle
            } else {
                edge_angle + 90.0
            };
            best = RotatedBox {
                area,
                long: du.max(dv),
                short: du.min(dv),
                angle: long_angle.rem_euclid(180.0),
            };
        }
    }
    if best.area.is_infinite() {
        best.area = 1.0;
        best.long = 1.0;
        best.short = 1.0;
    }
    best
}

const DIRECTIONS: [(i64, i64); 8] = [
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
    (-1, -1),
    (0, -1),
    (1, -1),
];

fn direction_of(dx: i64, dy: i64) -> usize {
    DIRECTIONS.iter().position(|&d| d == (dx, dy)).unwrap_or(4)
}

/// The outer boundary of a single 8-connected region, as pixel centres in
/// order (Moore-neighbour tracing; it stops when the start pixel would be
/// left towards the second pixel again).
pub fn trace_contour(region: &Mask) -> Vec<Point> {
    let Some((sx, sy)) = set_pixels(region).next() else {
        return Vec::new();
    };
    let on = |x: i64, y: i64| x >= 0 && y >= 0 && region.get(x as u32, y as u32);
    let start = (i64::from(sx), i64::from(sy));
    let mut contour = vec![[start.0 as f64 + 0.5, start.1 as f64 + 0.5]];
    let (mut p, mut back) = (start, 4);
    let limit = 4 * region.area() as usize + 16;
    for _ in 0..limit {
        let mut next = None;
        for k in 1..=8 {
            let dir = (back + k) % 8;
            let q = (p.0 + DIRECTIONS[dir].0, p.1 + DIRECTIONS[dir].1);
            if on(q.0, q.1) {
                let prev = (back + k - 1) % 8;
                let b = (p.0 + DIRECTIONS[prev].0, p.1 + DIRECTIONS[prev].1);
                next = Some((q, direction_of(b.0 - q.0, b.1 - q.1)));
                break;
            }
        }
        let Some((q, q_back)) = next else {
            break;
        };
        if p == start && contour.len() > 1 && q == second(&contour) {
            break;
        }
        p = q;
        back = q_back;
        contour.push([p.0 as f64 + 0.5, p.1 as f64 + 0.5]);
    }
    if contour.len() > 1 && contour.last() == contour.first() {
        contour.pop();
    }
    contour
}

fn second(contour: &[Point]) -> (i64, i64) {
    (contour[1][0] as i64, contour[1][1] as i64)
}

fn smooth_contour(region: &Mask) -> Vec<Point> {
    simplify_closed(&trace_contour(region), 0.75)
}

/// Douglas–Peucker simplification of a closed polygon.
pub fn simplify_closed(points: &[Point], epsilon: f64) -> Vec<Point> {
    if points.len() < 4 {
        return points.to_vec();
    }
    let far = (1..points.len())
        .max_by(|&i, &j| dist(points[0], points[i]).total_cmp(&dist(points[0], points[j])))
        .unwrap_or(points.len() / 2);
    let mut first: Vec<Point> = points[..=far].to_vec();
    let mut second: Vec<Point> = points[far..].to_vec();
    second.push(points[0]);
    first = simplify_open(&first, epsilon);
    second = simplify_open(&second, epsilon);
    first.pop();
    second.pop();
    first.extend(second);
    first
}

fn simplify_open(points: &[Point], epsilon: f64) -> Vec<Point> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let (a, b) = (points[0], points[points.len() - 1]);
    let (index, max) = points[1..points.len() - 1]
        .iter()
        .enumerate()
        .map(|(i, &p)| (i + 1, dist_to_line(p, a, b)))
        .fold(
            (0, 0.0),
            |best, cur| if cur.1 > best.1 { cur } else { best },
        );
    if max > epsilon {
        let mut left = simplify_open(&points[..=index], epsilon);
        let right = simplify_open(&points[index..], epsilon);
        left.pop();
        left.extend(right);
        left
    } else {
        vec![a, b]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polygon_mask(size: u32, vertices: &[Point]) -> Mask {
        Mask::from_fn(size, size, |x, y| {
            inside(&[f64::from(x) + 0.5, f64::from(y) + 0.5], vertices)
        })
    }

    fn inside(p: &Point, poly: &[Point]) -> bool {
        let mut hit = false;
        for (a, b) in hull_edges(poly) {
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                if p[0] < x {
                    hit = !hit;
                }
            }
        }
        hit
    }

    fn regular(n: usize, cx: f64, cy: f64, r: f64, rot: f64) -> Vec<Point> {
        (0..n)
            .map(|i| {
                let t = rot + i as f64 * std::f64::consts::TAU / n as f64;
                [cx + r * t.cos(), cy + r * t.sin()]
            })
            .collect()
    }

    fn star(cx: f64, cy: f64, r: f64, inner: f64, rot: f64) -> Vec<Point> {
        (0..10)
            .map(|i| {
                let t = rot + i as f64 * std::f64::consts::PI / 5.0;
                let rr = if i % 2 == 0 { r } else { r * inner };
                [cx + rr * t.cos(), cy + rr * t.sin()]
            })
            .collect()
    }

    fn ellipse(size: u32, cx: f64, cy: f64, a: f64, b: f64, rot: f64) -> Mask {
        Mask::from_fn(size, size, |x, y| {
            let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
            let (u, v) = (
                dx * rot.cos() + dy * rot.sin(),
                -dx * rot.sin() + dy * rot.cos(),
            );
            (u / a).powi(2) + (v / b).powi(2) <= 1.0
        })
    }

    fn rect(size: u32, w: f64, h: f64, rot: f64) -> Mask {
        let c = f64::from(size) / 2.0;
        let corners = [[-w, -h], [w, -h], [w, h], [-w, h]].map(|[x, y]| {
            [
                c + (x * rot.cos() - y * rot.sin()) / 2.0,
                c + (x * rot.sin() + y * rot.cos()) / 2.0,
            ]
        });
        polygon_mask(size, &corners)
    }

    fn word(mask: &Mask) -> Option<ShapeWord> {
        describe(mask).word
    }

    #[test]
    fn shapes_of_many_sizes_and_rotations_get_their_words() {
        for (i, r) in [14.0, 20.0, 30.0, 45.0, 70.0].into_iter().enumerate() {
            let rot = 0.37 * i as f64;
            let size = (r * 2.0 + 20.0) as u32;
            let c = f64::from(size) / 2.0;
            assert_eq!(
                word(&ellipse(size, c, c, r, r, 0.0)),
                Some(ShapeWord::Circle),
                "circle r={r}"
            );
            assert_eq!(
                word(&ellipse(size, c, c, r, r * 0.55, rot)),
                Some(ShapeWord::Ellipse),
                "ellipse r={r}"
            );
            assert_eq!(
                word(&polygon_mask(size, &regular(3, c, c, r, rot))),
                Some(ShapeWord::Triangle),
                "triangle r={r}"
            );
            assert_eq!(
                word(&rect(size, r * 1.4, r * 1.4, rot)),
                Some(ShapeWord::Square),
                "square r={r}"
            );
            assert_eq!(
                word(&rect(size, r * 1.8, r * 0.9, rot)),
                Some(ShapeWord::Rectangle),
                "rectangle r={r}"
            );
            assert_eq!(
                word(&polygon_mask(size, &regular(6, c, c, r, rot))),
                Some(ShapeWord::Hexagon),
                "hexagon r={r}"
            );
            assert_eq!(
                word(&polygon_mask(size, &star(c, c, r, 0.45, rot))),
                Some(ShapeWord::Star),
                "star r={r}"
            );
        }
    }

    #[test]
    fn a_triangle_with_blunted_vertices_is_still_a_triangle() {
        let cut = |from: Point, to: Point| {
            [
                from[0] + (to[0] - from[0]) * 0.1,
                from[1] + (to[1] - from[1]) * 0.1,
            ]
        };
        let (tip, left, right) = ([50.0, 8.0], [8.0, 90.0], [92.0, 90.0]);
        let blunted = polygon_mask(
            100,
            &[
                cut(tip, left),
                cut(left, tip),
                cut(left, right),
                right,
                cut(tip, right),
            ],
        );
        let measures = measure(&blunted).expect("a shape");
        assert_eq!(measures.corners, 5, "each cut vertex counts as two corners");
        assert_eq!(classify(&measures), Some(ShapeWord::Triangle));
    }

    #[test]
    fn a_ring_is_described_by_its_outer_outline() {
        let disc = ellipse(100, 50.0, 50.0, 40.0, 40.0, 0.0);
        let mut ring = disc.clone();
        ring.subtract(&ellipse(100, 50.0, 50.0, 20.0, 20.0, 0.0));
        assert_eq!(describe(&ring), describe(&disc));
    }

    #[test]
    fn measures_of_an_axis_aligned_rectangle() {
        let m = measure(&rect(100, 60.0, 20.0, 0.0)).unwrap();
        assert!((m.aspect - 3.0).abs() < 0.1, "{m:?}");
        assert!(m.fill > 0.97 && m.solidity > 0.97, "{m:?}");
        assert_eq!(m.corners, 4);
        assert!(m.orientation < 1.0 || m.orientation > 179.0, "{m:?}");
        let tilted = measure(&rect(100, 60.0, 20.0, 0.5)).unwrap();
        assert!(
            (tilted.orientation - 0.5f64.to_degrees()).abs() < 3.0,
            "{tilted:?}"
        );
    }

    #[test]
    fn contour_of_a_single_pixel_and_of_an_empty_mask() {
        let mut m = Mask::empty(5, 5);
        assert!(trace_contour(&m).is_empty());
        assert!(measure(&m).is_none());
        m.set(2, 2, true);
        assert_eq!(trace_contour(&m), vec![[2.5, 2.5]]);
        assert_eq!(describe(&m).word, None);
    }

    #[test]
    fn contour_of_a_square_visits_each_border_pixel_once() {
        let m = Mask::from_fn(10, 10, |x, y| (2..6).contains(&x) && (3..7).contains(&y));
        let c = trace_contour(&m);
        assert_eq!(c.len(), 12, "{c:?}");
        assert_eq!(simplify_closed(&c, 0.5).len(), 4);
    }
}
