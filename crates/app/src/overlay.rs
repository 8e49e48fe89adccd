//! Painting the overlays as RGBA pixels (pure functions, so they are cheap
//! to test), finding the object under the pointer, and turning pointer
//! gestures into prompts.

use twinseg::protocol::PromptPoint;
use web_sys::{HtmlCanvasElement, PointerEvent};

use crate::flow::Shown;

/// Opacity of an object's fill, and of the hovered object's.
const FILL_ALPHA: u8 = 90;
const HOVER_ALPHA: u8 = 190;
/// Opacity of the answer mask's fill.
const MASK_ALPHA: u8 = 150;
/// The answer mask's colour.
const MASK_COLOUR: [u8; 3] = [255, 0, 200];
/// A drag shorter than this many screen pixels is a click.
const CLICK_SLOP: f64 = 5.0;

/// A distinct colour for each id (golden-ratio hues).
pub fn colour(id: u32) -> [u8; 3] {
    let hue = (f64::from(id) * 0.618_033_988_75).fract() * 6.0;
    let x = 1.0 - (hue % 2.0 - 1.0).abs();
    let (r, g, b) = match hue as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    let scale = |v: f64| (40.0 + v * 200.0) as u8;
    [scale(r), scale(g), scale(b)]
}

/// The objects, largest first so parts stay visible on top of their
/// wholes, each filled in its colour with an opaque outline.
pub fn paint_objects(objects: &[Shown], hover: Option<u32>, width: u32, height: u32) -> Vec<u8> {
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    let mut order: Vec<&Shown> = objects.iter().collect();
    order.sort_by_key(|shown| std::cmp::Reverse(shown.info.area));
    for shown in order {
        let fill = if hover == Some(shown.info.id) {
            HOVER_ALPHA
        } else {
            FILL_ALPHA
        };
        paint_one(&mut rgba, width, height, shown, colour(shown.info.id), fill);
    }
    rgba
}

fn paint_one(rgba: &mut [u8], width: u32, height: u32, shown: &Shown, rgb: [u8; 3], fill: u8) {
    let b = shown.info.bbox;
    for y in b.y0..b.y1.min(height) {
        for x in b.x0..b.x1.min(width) {
            if !shown.contains(x, y) {
                continue;
            }
            let edge = x == 0
                || y == 0
                || !shown.contains(x - 1, y)
                || !shown.contains(x + 1, y)
                || !shown.contains(x, y - 1)
                || !shown.contains(x, y + 1);
            let i = (y as usize * width as usize + x as usize) * 4;
            rgba[i..i + 3].copy_from_slice(&rgb);
            rgba[i + 3] = if edge { u8::MAX } else { fill };
        }
    }
}

/// The mask (0/1 per pixel) filled in the answer colour with an outline;
/// transparent everywhere else.
pub fn paint_mask(bits: Option<&[u8]>, width: u32, height: u32) -> Vec<u8> {
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    let Some(bits) = bits.filter(|bits| bits.len() == width as usize * height as usize) else {
        return rgba;
    };
    let w = width as usize;
    let on = |x: usize, y: usize| bits[y * w + x] != 0;
    for y in 0..height as usize {
        for x in 0..w {
            if !on(x, y) {
                continue;
            }
            let edge = x == 0
                || y == 0
                || x + 1 == w
                || y + 1 == height as usize
                || !on(x - 1, y)
                || !on(x + 1, y)
                || !on(x, y - 1)
                || !on(x, y + 1);
            let i = (y * w + x) * 4;
            rgba[i..i + 3].copy_from_slice(&MASK_COLOUR);
            rgba[i + 3] = if edge { u8::MAX } else { MASK_ALPHA };
        }
    }
    rgba
}

/// The smallest object under image point `at`.
pub fn object_at(objects: &[Shown], at: [f32; 2]) -> Option<u32> {
    let (x, y) = (at[0] as u32, at[1] as u32);
    objects
        .iter()
        .filter(|shown| shown.contains(x, y))
        .min_by_key(|shown| shown.info.area)
        .map(|shown| shown.info.id)
}

/// Draws the prompt's points (green: object, red: not) and box.
pub fn draw_prompt(
    canvas: &HtmlCanvasElement,
    points: &[PromptPoint],
    bbox: Option<[f32; 4]>,
    width: u32,
) -> Result<(), String> {
    let context = crate::canvas::context(canvas)?;
    let radius = (f64::from(width) / 150.0).max(3.0);
    context.set_line_width(radius / 2.0);
    if let Some([x0, y0, x1, y1]) = bbox {
        context.set_stroke_style_str("#ffd400");
        context.stroke_rect(
            f64::from(x0),
            f64::from(y0),
            f64::from(x1 - x0),
            f64::from(y1 - y0),
        );
    }
    for point in points {
        context.begin_path();
        let _ = context.arc(
            f64::from(point.x),
            f64::from(point.y),
            radius,
            0.0,
            std::f64::consts::TAU,
        );
        context.set_fill_style_str(if point.positive { "#19c24a" } else { "#e02b2b" });
        context.fill();
        context.set_stroke_style_str("#ffffff");
        context.stroke();
    }
    Ok(())
}

/// A pointer press on the image: where, and with which modifier keys.
#[derive(Debug, Clone, Copy)]
pub struct Drag {
    /// Where it started, in image pixels.
    pub at: [f32; 2],
    screen: [f64; 2],
    negative: bool,
}

impl Drag {
    /// A press at image point `at`.
    pub fn start(at: [f32; 2], event: &PointerEvent) -> Self {
        Self {
            at,
            screen: [f64::from(event.client_x()), f64::from(event.client_y())],
            negative: event.shift_key() || event.alt_key(),
        }
    }

    /// Whether the pointer moved far enough for a box.
    pub fn is_box(&self, _to: [f32; 2], event: &PointerEvent) -> bool {
        let dx = f64::from(event.client_x()) - self.screen[0];
        let dy = f64::from(event.client_y()) - self.screen[1];
        dx.hypot(dy) > CLICK_SLOP
    }

    /// The box from the press to `to`.
    pub fn bbox(&self, to: [f32; 2]) -> [f32; 4] {
        [
            self.at[0].min(to[0]),
            self.at[1].min(to[1]),
            self.at[0].max(to[0]),
            self.at[1].max(to[1]),
        ]
    }

    /// The press as a prompt point.
    pub fn point(&self) -> PromptPoint {
        PromptPoint {
            x: self.at[0],
            y: self.at[1],
            positive: !self.negative,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinseg::mask::PixelBox;
    use twinseg::protocol::MaskInfo;

    fn square(id: u32, x0: u32, y0: u32, side: u32) -> Shown {
        Shown {
            info: MaskInfo {
                id,
                parent: None,
                level: String::new(),
                bbox: PixelBox {
                    x0,
                    y0,
                    x1: x0 + side,
                    y1: y0 + side,
                },
                area: u64::from(side * side),
                predicted_iou: 0.9,
                stability_score: 0.9,
            },
            patch: vec![1; (side * side) as usize],
        }
    }

    #[test]
    fn objects_are_filled_with_outlines_and_nothing_else() {
        let objects = [square(1, 2, 2, 4)];
        let rgba = paint_objects(&objects, None, 10, 10);
        let alpha = |x: usize, y: usize| rgba[(y * 10 + x) * 4 + 3];
        assert_eq!(alpha(0, 0), 0);
        assert_eq!(alpha(2, 2), u8::MAX, "outline");
        assert_eq!(alpha(3, 3), FILL_ALPHA, "inside");
        let hovered = paint_objects(&objects, Some(1), 10, 10);
        assert_eq!(hovered[(3 * 10 + 3) * 4 + 3], HOVER_ALPHA);
    }

    #[test]
    fn the_smallest_object_under_the_pointer_wins() {
        let objects = [square(1, 0, 0, 8), square(2, 2, 2, 2)];
        assert_eq!(object_at(&objects, [2.5, 2.5]), Some(2));
        assert_eq!(object_at(&objects, [6.0, 6.0]), Some(1));
        assert_eq!(object_at(&objects, [9.0, 9.0]), None);
    }

    #[test]
    fn a_mask_of_the_wrong_size_paints_nothing() {
        assert!(paint_mask(Some(&[1, 1]), 3, 3).iter().all(|&b| b == 0));
        let rgba = paint_mask(Some(&[0, 0, 0, 0, 1, 0, 0, 0, 0]), 3, 3);
        assert_eq!(rgba[4 * 4 + 3], u8::MAX);
        assert_eq!(rgba[3], 0);
    }

    #[test]
    fn colours_differ_between_neighbouring_ids() {
        assert_ne!(colour(1), colour(2));
        assert_ne!(colour(2), colour(3));
    }
}
