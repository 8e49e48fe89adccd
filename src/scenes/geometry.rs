//! Exact shape geometry for the scene generator: each shape is a circle, an
//! axis-aligned ellipse or a polygon, rasterised by the pixel-centre rule so
//! that ground-truth masks are exact.

use serde::{Deserialize, Serialize};

use crate::dataset::raster::polygon_mask;
use crate::mask::Mask;

use super::ShapeKind;

/// The exact outline of one scene object, in image pixel coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Outline {
    /// A disc.
    Circle {
        /// Centre `[x, y]`.
        centre: [f64; 2],
        /// Radius in pixels.
        radius: f64,
    },
    /// An axis-aligned ellipse.
    Ellipse {
        /// Centre `[x, y]`.
        centre: [f64; 2],
        /// Half-width and half-height.
        radii: [f64; 2],
    },
    /// A simple polygon (vertices in order).
    Polygon {
        /// Vertices `[x, y]`.
        points: Vec<[f64; 2]>,
    },
}

impl Outline {
    /// Builds the outline of `kind` with circumscribed radius `radius` around
    /// `centre`. `rotation` (radians) turns polygons; `aspect` (>= 1) sets how
    /// elongated rectangles and ellipses are, and `upright` whether they stand
    /// vertically. Squares, rectangles and ellipses stay axis-aligned.
    pub fn new(
        kind: ShapeKind,
        centre: [f64; 2],
        radius: f64,
        rotation: f64,
        aspect: f64,
        upright: bool,
    ) -> Self {
        let [cx, cy] = centre;
        match kind {
            ShapeKind::Circle => Outline::Circle { centre, radius },
            ShapeKind::Ellipse => {
                let (long, short) = (radius, radius / aspect);
                let radii = if upright {
                    [short, long]
                } else {
                    [long, short]
                };
                Outline::Ellipse { centre, radii }
            }
            ShapeKind::Square => axis_box(cx, cy, radius / 2f64.sqrt(), radius / 2f64.sqrt()),
            ShapeKind::Rectangle => {
                let angle = (1.0 / aspect).atan();
                let (long, short) = (radius * angle.cos(), radius * angle.sin());
                if upright {
                    axis_box(cx, cy, short, long)
                } else {
                    axis_box(cx, cy, long, short)
                }
            }
            ShapeKind::Triangle => regular(cx, cy, &[radius], 3, rotation),
            ShapeKind::Hexagon => regular(cx, cy, &[radius], 6, rotation),
            ShapeKind::Star => regular(cx, cy, &[radius, radius * STAR_INNER_RATIO], 5, rotation),
        }
    }

    /// Whether the point `(x, y)` lies inside the outline.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        match self {
            Outline::Circle { centre, radius } => {
                let (dx, dy) = (x - centre[0], y - centre[1]);
                dx * dx + dy * dy <= radius * radius
            }
            Outline::Ellipse { centre, radii } => {
                let (dx, dy) = ((x - centre[0]) / radii[0], (y - centre[1]) / radii[1]);
                dx * dx + dy * dy <= 1.0
            }
            Outline::Polygon { points } => polygon_contains(points, x, y),
        }
    }

    /// The pixels of a `width` x `height` image whose centres lie inside.
    pub fn to_mask(&self, width: u32, height: u32) -> Mask {
        match self {
            Outline::Polygon { points } => polygon_mask(width, height, points),
            _ => Mask::from_fn(width, height, |x, y| {
                self.contains(f64::from(x) + 0.5, f64::from(y) + 0.5)
            }),
        }
    }

    /// The outline as polygon vertices: exact for polygons, sampled every
    /// ~1.5 px (at least 64 vertices) for circles and ellipses.
    pub fn polygon(&self) -> Vec<[f64; 2]> {
        match self {
            Outline::Circle { centre, radius } => sample_ellipse(*centre, [*radius, *radius]),
            Outline::Ellipse { centre, radii } => sample_ellipse(*centre, *radii),
            Outline::Polygon { points } => points.clone(),
        }
    }
}

/// Inner-to-outer radius ratio of the five-pointed star.
pub const STAR_INNER_RATIO: f64 = 0.45;

fn axis_box(cx: f64, cy: f64, half_w: f64, half_h: f64) -> Outline {
    Outline::Polygon {
        points: vec![
            [cx - half_w, cy - half_h],
            [cx + half_w, cy - half_h],
            [cx + half_w, cy + half_h],
            [cx - half_w, cy + half_h],
        ],
    }
}

/// A regular polygon (one radius) or star (two alternating radii) with
/// `points` outer vertices.
fn regular(cx: f64, cy: f64, radii: &[f64], points: usize, rotation: f64) -> Outline {
    let count = points * radii.len();
    let step = std::f64::consts::TAU / count as f64;
    let points = (0..count)
        .map(|i| {
            let r = radii[i % radii.len()];
            let a = rotation - std::f64::consts::FRAC_PI_2 + step * i as f64;
            [cx + r * a.cos(), cy + r * a.sin()]
        })
        .collect();
    Outline::Polygon { points }
}

fn sample_ellipse(centre: [f64; 2], radii: [f64; 2]) -> Vec<[f64; 2]> {
    let perimeter = std::f64::consts::TAU * radii[0].max(radii[1]);
    let count = ((perimeter / 1.5).ceil() as usize).max(64);
    // Vertices sit slightly outside the curve so the chords cut as much area
    // off as they add, keeping the polygon's area equal to the ellipse's.
    let half = std::f64::consts::PI / count as f64;
    let scale = (2.0 * half / (2.0 * half).sin()).sqrt();
    (0..count)
        .map(|i| {
            let a = 2.0 * half * i as f64;
            [
                centre[0] + radii[0] * scale * a.cos(),
                centre[1] + radii[1] * scale * a.sin(),
            ]
        })
        .collect()
}

fn polygon_contains(points: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    for (i, a) in points.iter().enumerate() {
        let b = points[(i + 1) % points.len()];
        if (a[1] <= y) != (b[1] <= y) {
            let cross = a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if x < cross {
                inside = !inside;
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_has_ten_vertices_alternating_between_two_radii() {
        let Outline::Polygon { points } =
            Outline::new(ShapeKind::Star, [50.0, 50.0], 40.0, 0.3, 1.0, false)
        else {
            panic!("a star is a polygon");
        };
        assert_eq!(points.len(), 10);
        for (i, p) in points.iter().enumerate() {
            let r = ((p[0] - 50.0).powi(2) + (p[1] - 50.0).powi(2)).sqrt();
            let expected = if i % 2 == 0 {
                40.0
            } else {
                40.0 * STAR_INNER_RATIO
            };
            assert!((r - expected).abs() < 1e-9);
        }
    }

    #[test]
    fn rectangle_has_the_requested_aspect_and_circumscribed_radius() {
        let o = Outline::new(ShapeKind::Rectangle, [100.0, 100.0], 50.0, 0.0, 2.0, false);
        let Outline::Polygon { points } = o else {
            panic!("a rectangle is a polygon")
        };
        let w = points[1][0] - points[0][0];
        let h = points[2][1] - points[1][1];
        assert!((w / h - 2.0).abs() < 1e-9);
        assert!(((w / 2.0).hypot(h / 2.0) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn sampled_circle_polygon_rasterises_like_the_circle() {
        let circle = Outline::new(ShapeKind::Circle, [60.3, 55.7], 21.0, 0.0, 1.0, false);
        let exact = circle.to_mask(120, 120);
        let sampled = polygon_mask(120, 120, &circle.polygon());
        assert!(exact.iou(&sampled) > 0.99, "iou {}", exact.iou(&sampled));
        let area = std::f64::consts::PI * 21.0 * 21.0;
        assert!((exact.area() as f64 - area).abs() / area < 0.03);
    }

    #[test]
    fn polygon_mask_agrees_with_contains() {
        let hex = Outline::new(ShapeKind::Hexagon, [40.0, 40.0], 30.0, 0.2, 1.0, false);
        let m = hex.to_mask(80, 80);
        for y in 0..80 {
            for x in 0..80 {
                assert_eq!(
                    m.get(x, y),
                    hex.contains(f64::from(x) + 0.5, f64::from(y) + 0.5)
                );
            }
        }
    }
}
