//! Pairwise relations between the objects of a twin.
//!
//! Containment is the `parent` field and is not repeated here. Touching is
//! measured on the masks, between objects neither of which contains the other (it cannot be read from boxes). Left-of and above
//! are listed only between siblings (same parent) whose boxes are apart by a
//! clear margin, so every listed relation holds without doubt.

use super::{Relation, RelationKind, TwinObject};
use crate::mask::{Mask, PixelBox};

/// Masks whose pixels come this close (Chebyshev distance; 1 = adjacent, 2 = one pixel apart) touch.
pub const TOUCH_PIXELS: u32 = 2;
/// Gap, in frame units (‰ of the image side), two boxes need for left-of / above.
pub const CLEAR_MARGIN: u16 = 20;

/// Derives the relations of `objects`, whose masks are `masks` (same order).
pub fn derive(objects: &[TwinObject], masks: &[&Mask]) -> Vec<Relation> {
    let boxes: Vec<Option<PixelBox>> = masks.iter().map(|m| m.bbox()).collect();
    let mut relations = Vec::new();
    for i in 0..objects.len() {
        for j in i + 1..objects.len() {
            let (a, b) = (&objects[i], &objects[j]);
            let close = || match (boxes[i], boxes[j]) {
                (Some(ba), Some(bb)) => touching_within(masks[i], ba, masks[j], bb),
                _ => false,
            };
            if !related_by_tree(objects, a, b) && close() {
                relations.push(relation(a.id, RelationKind::Touching, b.id));
            }
            if a.parent == b.parent {
                relations.extend(side_relations(a, b));
            }
        }
    }
    relations
}

fn relation(a: u32, kind: RelationKind, b: u32) -> Relation {
    Relation { a, kind, b }
}

/// Left-of / above between two boxes with a clear gap, in either order.
pub fn side_relations(a: &TwinObject, b: &TwinObject) -> Vec<Relation> {
    let mut out = Vec::new();
    let [ax0, ay0, ax1, ay1] = a.bbox;
    let [bx0, by0, bx1, by1] = b.bbox;
    if ax1.saturating_add(CLEAR_MARGIN) <= bx0 {
        out.push(relation(a.id, RelationKind::LeftOf, b.id));
    } else if bx1.saturating_add(CLEAR_MARGIN) <= ax0 {
        out.push(relation(b.id, RelationKind::LeftOf, a.id));
    }
    if ay1.saturating_add(CLEAR_MARGIN) <= by0 {
        out.push(relation(a.id, RelationKind::Above, b.id));
    } else if by1.saturating_add(CLEAR_MARGIN) <= ay0 {
        out.push(relation(b.id, RelationKind::Above, a.id));
    }
    out
}

fn related_by_tree(objects: &[TwinObject], a: &TwinObject, b: &TwinObject) -> bool {
    is_ancestor(objects, a.id, b) || is_ancestor(objects, b.id, a)
}

fn is_ancestor(objects: &[TwinObject], ancestor: u32, of: &TwinObject) -> bool {
    let mut current = of.parent;
    for _ in 0..objects.len() {
        match current {
            Some(p) if p == ancestor => return true,
            Some(p) => current = objects.iter().find(|o| o.id == p).and_then(|o| o.parent),
            None => return false,
        }
    }
    false
}

/// Whether some pixel of `a` lies within [`TOUCH_PIXELS`] (Chebyshev) of a pixel of `b`.
pub fn touching(a: &Mask, b: &Mask) -> bool {
    match (a.bbox(), b.bbox()) {
        (Some(ba), Some(bb)) => touching_within(a, ba, b, bb),
        _ => false,
    }
}

/// [`touching`] with the masks' boxes already known.
fn touching_within(a: &Mask, ba: PixelBox, b: &Mask, bb: PixelBox) -> bool {
    let d = TOUCH_PIXELS;
    let x0 = ba.x0.max(bb.x0.saturating_sub(d));
    let y0 = ba.y0.max(bb.y0.saturating_sub(d));
    let x1 = ba.x1.min(bb.x1 + d);
    let y1 = ba.y1.min(bb.y1 + d);
    for y in y0..y1 {
        for x in x0..x1 {
            if a.get(x, y) && near(b, x, y, d) {
                return true;
            }
        }
    }
    false
}

fn near(mask: &Mask, x: u32, y: u32, d: u32) -> bool {
    (y.saturating_sub(d)..=y + d).any(|ny| (x.saturating_sub(d)..=x + d).any(|nx| mask.get(nx, ny)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x0: u32, x1: u32, y0: u32, y1: u32) -> Mask {
        Mask::from_fn(100, 100, |x, y| {
            (x0..x1).contains(&x) && (y0..y1).contains(&y)
        })
    }

    #[test]
    fn touching_allows_a_gap_of_at_most_one_pixel() {
        let a = rect(10, 20, 10, 20);
        assert!(touching(&a, &rect(20, 30, 10, 20)));
        assert!(touching(&a, &rect(21, 30, 15, 40)));
        assert!(!touching(&a, &rect(22, 30, 10, 20)));
        assert!(touching(&a, &rect(21, 30, 21, 40)));
        assert!(!touching(&a, &rect(21, 30, 22, 40)));
        assert!(touching(&a, &rect(15, 16, 15, 16)));
    }
}
