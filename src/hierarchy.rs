//! The object / part tree over the kept proposals: whole, part, sub-part by
//! containment, with near-duplicates merged and stable ids.
//!
//! A mask is a part of another when at least `containment` of its pixels lie
//! inside the other's outline (the other mask with its holes filled, so a
//! sticker on a box is a part of the box even when the box's own mask leaves
//! the sticker out). Its parent is the smallest such container. Ids are
//! 1-based and follow (level, area descending, top, left), so the same masks
//! always get the same ids.
//!
//! A mask that reaches all four image borders and holds other masks in its
//! holes is the backdrop the objects stand on (the background of a scene, a
//! table top filling the frame), not an object: it is left out, so it neither
//! answers questions about objects nor makes every object its part.

use serde::{Deserialize, Serialize};

use crate::mask::{Connectivity, Mask, PixelBox};
use crate::proposals::Proposal;

/// Thresholds of the tree building.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HierarchySettings {
    /// Share of a mask's pixels that must lie inside another's outline for it
    /// to be that one's part (default 0.9).
    pub containment: f64,
    /// Mask IoU at or above which two masks are the same object; the one with
    /// the higher predicted IoU is kept (default 0.9).
    pub duplicate_iou: f64,
}

impl Default for HierarchySettings {
    fn default() -> Self {
        Self {
            containment: 0.9,
            duplicate_iou: 0.9,
        }
    }
}

/// One node of the tree: a mask with its place in the hierarchy and its scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Stable id, from 1.
    pub id: u32,
    /// Id of the smallest segment this one is a part of; `None` for a whole object.
    pub parent: Option<u32>,
    /// Depth in the tree: 0 whole, 1 part, 2 sub-part, and so on.
    pub level: u32,
    /// The mask in the original image frame.
    pub mask: Mask,
    /// Tight box of the mask.
    pub bbox: PixelBox,
    /// Pixel count of the mask.
    pub area: u64,
    /// The decoder's estimate of the mask's IoU.
    pub predicted_iou: f32,
    /// SAM's stability score.
    pub stability_score: f32,
    /// The prompt point that produced it, in original pixel coordinates.
    pub point: [f32; 2],
    /// The crop whose prompt grid produced it.
    pub crop_box: PixelBox,
}

/// Builds the tree: merges near-duplicates, links each mask to its smallest
/// container and numbers the result. Empty masks are dropped.
pub fn build(proposals: Vec<Proposal>, settings: &HierarchySettings) -> Vec<Segment> {
    let nodes = merge_duplicates(proposals, settings.duplicate_iou);
    let outlines: Vec<Mask> = nodes.iter().map(|p| fill_holes(&p.mask, p.bbox)).collect();
    let backdrops = find_backdrops(&nodes, &outlines, settings.containment);
    let (nodes, outlines): (Vec<Proposal>, Vec<Mask>) = nodes
        .into_iter()
        .zip(outlines)
        .enumerate()
        .filter(|(i, _)| !backdrops[*i])
        .map(|(_, pair)| pair)
        .unzip();
    let outline_areas: Vec<u64> = outlines.iter().map(Mask::area).collect();
    let mut by_size: Vec<usize> = (0..nodes.len()).collect();
    by_size.sort_by_key(|&i| (std::cmp::Reverse(outline_areas[i]), nodes[i].index));
    let mut rank = vec![0usize; nodes.len()];
    for (r, &i) in by_size.iter().enumerate() {
        rank[i] = r;
    }
    let parents: Vec<Option<usize>> = (0..nodes.len())
        .map(|i| {
            by_size[..rank[i]].iter().rev().copied().find(|&j| {
                let inside =
                    intersection(&nodes[i].mask, nodes[i].bbox, &outlines[j], nodes[j].bbox);
                inside as f64 >= settings.containment * nodes[i].area as f64
            })
        })
        .collect();
    let levels = depths(&parents, &by_size);
    number(nodes, &parents, &levels)
}

/// The direct parts of segment `id`.
pub fn children(segments: &[Segment], id: u32) -> impl Iterator<Item = &Segment> {
    segments.iter().filter(move |s| s.parent == Some(id))
}

/// The chain of ancestors of segment `id`, nearest first.
pub fn ancestors(segments: &[Segment], id: u32) -> Vec<u32> {
    let mut chain = Vec::new();
    let mut current = segments.iter().find(|s| s.id == id).and_then(|s| s.parent);
    while let Some(parent) = current {
        if chain.contains(&parent) {
            break;
        }
        chain.push(parent);
        current = segments
            .iter()
            .find(|s| s.id == parent)
            .and_then(|s| s.parent);
    }
    chain
}

/// Marks the masks that span the whole image frame and hold another mask
/// (at least `containment` of it) in their holes rather than on themselves.
fn find_backdrops(nodes: &[Proposal], outlines: &[Mask], containment: f64) -> Vec<bool> {
    nodes
        .iter()
        .zip(outlines)
        .enumerate()
        .map(|(i, (node, outline))| {
            spans_frame(node)
                && nodes.iter().enumerate().any(|(j, other)| {
                    let in_outline = intersection(&other.mask, other.bbox, outline, node.bbox);
                    let on_mask = intersection(&other.mask, other.bbox, &node.mask, node.bbox);
                    j != i && (in_outline - on_mask) as f64 >= containment * other.area as f64
                })
        })
        .collect()
}

/// Whether the mask touches all four borders of its image.
fn spans_frame(node: &Proposal) -> bool {
    let b = node.bbox;
    b.x0 == 0 && b.y0 == 0 && b.x1 == node.mask.width() && b.y1 == node.mask.height()
}

/// Keeps the best of every group of masks with IoU at or above `threshold`.
fn merge_duplicates(mut proposals: Vec<Proposal>, threshold: f64) -> Vec<Proposal> {
    proposals.retain(|p| p.area > 0);
    proposals.sort_by(|a, b| {
        b.predicted_iou
            .total_cmp(&a.predicted_iou)
            .then(b.stability_score.total_cmp(&a.stability_score))
            .then(a.index.cmp(&b.index))
    });
    let mut kept: Vec<Proposal> = Vec::new();
    for p in proposals {
        let duplicate = kept.iter().any(|k| {
            let inter = intersection(&p.mask, p.bbox, &k.mask, k.bbox);
            let union = p.area + k.area - inter;
            union > 0 && inter as f64 >= threshold * union as f64
        });
        if !duplicate {
            kept.push(p);
        }
    }
    kept
}

/// Pixels set in both masks, counted only where their boxes overlap.
fn intersection(a: &Mask, a_box: PixelBox, b: &Mask, b_box: PixelBox) -> u64 {
    let (x0, x1) = (a_box.x0.max(b_box.x0), a_box.x1.min(b_box.x1));
    let (y0, y1) = (a_box.y0.max(b_box.y0), a_box.y1.min(b_box.y1));
    let mut count = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            count += u64::from(a.get(x, y) && b.get(x, y));
        }
    }
    count
}

/// The mask with every hole filled: unset pixels inside `bbox` that cannot
/// reach the box's edge through unset pixels (8-connected, the dual of the
/// mask's 4-connectivity).
fn fill_holes(mask: &Mask, bbox: PixelBox) -> Mask {
    let (w, h) = (bbox.width(), bbox.height());
    let gaps = Mask::from_fn(w, h, |x, y| !mask.get(bbox.x0 + x, bbox.y0 + y));
    let comps = gaps.components(Connectivity::Eight);
    let mut open = vec![false; comps.count() + 1];
    for y in 0..h {
        for x in 0..w {
            if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                open[comps.labels[(y * w + x) as usize] as usize] = true;
            }
        }
    }
    let mut filled = mask.clone();
    for y in 0..h {
        for x in 0..w {
            let label = comps.labels[(y * w + x) as usize];
            if label != 0 && !open[label as usize] {
                filled.set(bbox.x0 + x, bbox.y0 + y, true);
            }
        }
    }
    filled
}

/// Depth of every node, walking `order` (containers before their parts).
fn depths(parents: &[Option<usize>], order: &[usize]) -> Vec<u32> {
    let mut levels = vec![0u32; parents.len()];
    for &i in order {
        levels[i] = parents[i].map_or(0, |p| levels[p] + 1);
    }
    levels
}

/// Sorts by (level, area descending, top, left) and assigns ids from 1.
fn number(nodes: Vec<Proposal>, parents: &[Option<usize>], levels: &[u32]) -> Vec<Segment> {
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by_key(|&i| {
        let n = &nodes[i];
        (
            levels[i],
            std::cmp::Reverse(n.area),
            n.bbox.y0,
            n.bbox.x0,
            n.index,
        )
    });
    let mut ids = vec![0u32; nodes.len()];
    for (k, &i) in order.iter().enumerate() {
        ids[i] = k as u32 + 1;
    }
    let mut slots: Vec<Option<Proposal>> = nodes.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| {
            let p = slots[i].take()?;
            Some(Segment {
                id: ids[i],
                parent: parents[i].map(|j| ids[j]),
                level: levels[i],
                mask: p.mask,
                bbox: p.bbox,
                area: p.area,
                predicted_iou: p.predicted_iou,
                stability_score: p.stability_score,
                point: p.point,
                crop_box: p.crop_box,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: u32 = 40;

    fn proposal(index: usize, iou: f32, f: impl Fn(u32, u32) -> bool) -> Proposal {
        let mask = Mask::from_fn(SIZE, SIZE, f);
        Proposal {
            index,
            bbox: mask.bbox().expect("test masks are not empty"),
            area: mask.area(),
            mask,
            predicted_iou: iou,
            stability_score: 0.97,
            point: [0.0, 0.0],
            granularity: 0,
            crop_box: PixelBox {
                x0: 0,
                y0: 0,
                x1: SIZE,
                y1: SIZE,
            },
        }
    }

    fn rect(x0: u32, y0: u32, x1: u32, y1: u32) -> impl Fn(u32, u32) -> bool {
        move |x, y| (x0..x1).contains(&x) && (y0..y1).contains(&y)
    }

    fn by_area(segments: &[Segment], area: u64) -> &Segment {
        segments
            .iter()
            .find(|s| s.area == area)
            .expect("segment with that area")
    }

    #[test]
    fn nested_rectangles_form_whole_part_sub_part() {
        let segments = build(
            vec![
                proposal(0, 0.9, rect(10, 10, 14, 14)),
                proposal(1, 0.9, rect(0, 0, 30, 30)),
                proposal(2, 0.9, rect(5, 5, 20, 20)),
                proposal(3, 0.9, rect(32, 32, 38, 38)),
            ],
            &HierarchySettings::default(),
        );
        let whole = by_area(&segments, 900);
        let part = by_area(&segments, 225);
        let sub = by_area(&segments, 16);
        let other = by_area(&segments, 36);
        assert_eq!((whole.id, whole.level, whole.parent), (1, 0, None));
        assert_eq!((other.id, other.level, other.parent), (2, 0, None));
        assert_eq!((part.level, part.parent), (1, Some(whole.id)));
        assert_eq!((sub.level, sub.parent), (2, Some(part.id)));
        assert_eq!(ancestors(&segments, sub.id), vec![part.id, whole.id]);
        assert_eq!(children(&segments, whole.id).count(), 1);
    }

    #[test]
    fn a_part_sitting_in_its_hosts_hole_is_still_its_part() {
        let ring = |x: u32, y: u32| rect(5, 5, 35, 35)(x, y) && !rect(15, 15, 25, 25)(x, y);
        let segments = build(
            vec![
                proposal(0, 0.9, ring),
                proposal(1, 0.9, rect(15, 15, 25, 25)),
            ],
            &HierarchySettings::default(),
        );
        let host = by_area(&segments, 800);
        let inner = by_area(&segments, 100);
        assert_eq!(inner.parent, Some(host.id));
    }

    #[test]
    fn a_backdrop_around_the_objects_is_left_out() {
        let backdrop = |x: u32, y: u32| !rect(5, 5, 15, 15)(x, y) && !rect(20, 20, 30, 30)(x, y);
        let segments = build(
            vec![
                proposal(0, 0.9, backdrop),
                proposal(1, 0.9, rect(5, 5, 15, 15)),
                proposal(2, 0.9, rect(20, 20, 30, 30)),
            ],
            &HierarchySettings::default(),
        );
        assert_eq!(segments.len(), 2);
        assert!(segments.iter().all(|s| s.area == 100 && s.parent.is_none()));
    }

    #[test]
    fn an_object_filling_the_frame_stays_with_its_parts() {
        let segments = build(
            vec![
                proposal(0, 0.9, |_, _| true),
                proposal(1, 0.9, rect(5, 5, 15, 15)),
            ],
            &HierarchySettings::default(),
        );
        let whole = by_area(&segments, u64::from(SIZE * SIZE));
        assert_eq!(by_area(&segments, 100).parent, Some(whole.id));
    }

    #[test]
    fn near_duplicates_merge_into_the_best_scored() {
        let segments = build(
            vec![
                proposal(0, 0.85, rect(0, 0, 20, 20)),
                proposal(1, 0.95, rect(0, 0, 20, 19)),
            ],
            &HierarchySettings::default(),
        );
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].predicted_iou, 0.95);
        assert_eq!(segments[0].area, 380);
    }

    #[test]
    fn overlapping_but_not_contained_masks_stay_siblings() {
        let segments = build(
            vec![
                proposal(0, 0.9, rect(0, 0, 20, 20)),
                proposal(1, 0.9, rect(10, 0, 30, 20)),
            ],
            &HierarchySettings::default(),
        );
        assert!(segments.iter().all(|s| s.parent.is_none() && s.level == 0));
    }

    #[test]
    fn ids_do_not_depend_on_input_order() {
        let make = || {
            vec![
                proposal(0, 0.9, rect(10, 10, 14, 14)),
                proposal(1, 0.9, rect(0, 0, 30, 30)),
                proposal(2, 0.9, rect(32, 0, 38, 6)),
            ]
        };
        let forward = build(make(), &HierarchySettings::default());
        let mut reversed_input = make();
        reversed_input.reverse();
        let backward = build(reversed_input, &HierarchySettings::default());
        let key = |s: &[Segment]| {
            s.iter()
                .map(|x| (x.id, x.parent, x.area))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&forward), key(&backward));
    }
}
