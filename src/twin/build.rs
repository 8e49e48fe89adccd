//! Builds a [`DigitalTwin`] from an image and its segments.

use image::RgbImage;

use super::colour::{Lab, Namer};
use super::{
    relations, shape, ColourShare, DigitalTwin, ImageSize, Level, Position, TwinObject, FRAME,
    VERSION,
};
use crate::hierarchy::Segment;
use crate::mask::{Mask, PixelBox};
use crate::palette::PALETTE;

/// One segment handed to [`build`]: its mask in the image frame, the index of
/// the segment it is a part of / lies inside (an index into the same slice),
/// SAM's scores, and an optional label.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinInput {
    /// The segment's mask, same size as the image.
    pub mask: Mask,
    /// Index (into the input slice) of the containing segment, `None` for a top-level one.
    pub parent: Option<usize>,
    /// SAM's predicted IoU for the mask.
    pub predicted_iou: f32,
    /// SAM's stability score for the mask.
    pub stability_score: f32,
    /// Optional name given by a person or a labeller.
    pub label: Option<String>,
}

impl TwinInput {
    /// The inputs for the segments of the object / part tree, parent ids
    /// turned into indices into the same list (an unknown parent id makes the
    /// segment top-level).
    pub fn from_segments(segments: &[Segment]) -> Vec<TwinInput> {
        segments
            .iter()
            .map(|s| TwinInput {
                mask: s.mask.clone(),
                parent: s
                    .parent
                    .and_then(|p| segments.iter().position(|other| other.id == p)),
                predicted_iou: s.predicted_iou,
                stability_score: s.stability_score,
                label: None,
            })
            .collect()
    }
}

/// Colour shares below this percentage are left out of `colours`.
const MIN_COLOUR_PCT: u8 = 15;
/// At most this many colour words per object.
const MAX_COLOURS: usize = 2;

/// Builds the Digital Twin of `image` from its segments.
///
/// Segments whose mask is empty or not the image's size are left out (their
/// children move up to the nearest kept ancestor), as are parent links that
/// point outside the slice or form a cycle. The level of each object is its
/// depth in the resulting tree. Ids are assigned in reading order: parents
/// before children, siblings by centroid top-to-bottom then left-to-right.
pub fn build(image: &RgbImage, segments: &[TwinInput]) -> DigitalTwin {
    let (width, height) = image.dimensions();
    let kept: Vec<bool> = segments
        .iter()
        .map(|s| s.mask.width() == width && s.mask.height() == height && !s.mask.is_empty())
        .collect();
    let parents = resolve_parents(segments, &kept);
    let geometry: Vec<Option<Geometry>> = segments
        .iter()
        .zip(&kept)
        .map(|(s, &k)| k.then(|| Geometry::of(&s.mask, width, height)))
        .collect();
    let order = reading_order(&parents, &geometry);
    let mut ids = vec![0u32; segments.len()];
    for (n, &i) in order.iter().enumerate() {
        ids[i] = n as u32 + 1;
    }
    let colours = PixelColours::of(image);
    let objects: Vec<TwinObject> = order
        .iter()
        .map(|&i| {
            let own = own_pixels(segments, &parents, i);
            let geo = geometry[i].clone().unwrap_or_default();
            let (shares, lab) = colours.describe(&own);
            TwinObject {
                id: ids[i],
                parent: parents[i].map(|p| ids[p]),
                level: Level::from_depth(depth(&parents, i)),
                segment: i as u32,
                bbox: geo.bbox,
                centroid: geo.centroid,
                area_pct: geo.area_pct,
                position: Position::of_point(geo.centroid),
                colours: shares,
                lab,
                shape: shape::describe(&segments[i].mask),
                predicted_iou: round2(segments[i].predicted_iou),
                stability_score: round2(segments[i].stability_score),
                label: segments[i].label.clone(),
            }
        })
        .collect();
    let masks: Vec<&Mask> = order.iter().map(|&i| &segments[i].mask).collect();
    let relations = relations::derive(&objects, &masks);
    DigitalTwin {
        version: VERSION.to_string(),
        image: ImageSize { width, height },
        objects,
        relations,
    }
}

fn round2(v: f32) -> f32 {
    if v.is_finite() {
        (v.clamp(0.0, 1.0) * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// Each kept segment's nearest kept ancestor, cutting links that leave the slice or loop.
fn resolve_parents(segments: &[TwinInput], kept: &[bool]) -> Vec<Option<usize>> {
    (0..segments.len())
        .map(|i| {
            if !kept[i] {
                return None;
            }
            let mut current = segments[i].parent;
            let mut steps = 0;
            while let Some(p) = current {
                if p >= segments.len() || p == i || steps > segments.len() {
                    return None;
                }
                if kept[p] {
                    return (!leads_to(segments, p, i)).then_some(p);
                }
                current = segments[p].parent;
                steps += 1;
            }
            None
        })
        .collect()
}

fn leads_to(segments: &[TwinInput], from: usize, target: usize) -> bool {
    let mut current = Some(from);
    for _ in 0..=segments.len() {
        match current {
            Some(c) if c == target => return true,
            Some(c) if c < segments.len() => current = segments[c].parent,
            _ => return false,
        }
    }
    true
}

fn depth(parents: &[Option<usize>], i: usize) -> usize {
    let mut d = 0;
    let mut current = parents[i];
    while let Some(p) = current {
        d += 1;
        current = parents[p];
        if d > parents.len() {
            break;
        }
    }
    d
}

fn reading_order(parents: &[Option<usize>], geometry: &[Option<Geometry>]) -> Vec<usize> {
    let key = |&i: &usize| {
        let c = geometry[i].as_ref().map_or([0, 0], |g| g.centroid);
        (c[1], c[0], i)
    };
    let children_of = |p: Option<usize>| {
        let mut c: Vec<usize> = (0..parents.len())
            .filter(|&i| geometry[i].is_some() && parents[i] == p)
            .collect();
        c.sort_by_key(key);
        c
    };
    let mut order = Vec::new();
    let mut stack: Vec<usize> = children_of(None).into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        order.push(i);
        stack.extend(children_of(Some(i)).into_iter().rev());
    }
    order
}

/// The pixels of segment `i` that belong to none of its direct children.
fn own_pixels(segments: &[TwinInput], parents: &[Option<usize>], i: usize) -> Mask {
    let mut own = segments[i].mask.clone();
    for (c, p) in parents.iter().enumerate() {
        if *p == Some(i) {
            own.subtract(&segments[c].mask);
        }
    }
    own
}

#[derive(Clone, Debug, Default)]
struct Geometry {
    bbox: [u16; 4],
    centroid: [u16; 2],
    area_pct: f32,
}

impl Geometry {
    fn of(mask: &Mask, width: u32, height: u32) -> Self {
        let bbox = mask.bbox().unwrap_or(PixelBox {
            x0: 0,
            y0: 0,
            x1: 0,
            y1: 0,
        });
        let (mut sx, mut sy, mut n) = (0.0_f64, 0.0_f64, 0u64);
        for y in bbox.y0..bbox.y1 {
            for x in bbox.x0..bbox.x1 {
                if mask.get(x, y) {
                    sx += f64::from(x) + 0.5;
                    sy += f64::from(y) + 0.5;
                    n += 1;
                }
            }
        }
        let n_f = n.max(1) as f64;
        let total = (u64::from(width) * u64::from(height)).max(1) as f64;
        Geometry {
            bbox: [
                to_frame(f64::from(bbox.x0), width),
                to_frame(f64::from(bbox.y0), height),
                to_frame(f64::from(bbox.x1), width),
                to_frame(f64::from(bbox.y1), height),
            ],
            centroid: [to_frame(sx / n_f, width), to_frame(sy / n_f, height)],
            area_pct: ((n as f64 / total * 10_000.0).round() / 100.0) as f32,
        }
    }
}

/// A pixel coordinate (or edge) in the `0..=FRAME` frame.
pub(crate) fn to_frame(v: f64, extent: u32) -> u16 {
    let scaled = (v / f64::from(extent.max(1)) * f64::from(FRAME)).round();
    scaled.clamp(0.0, f64::from(FRAME)) as u16
}

/// Every pixel's CIELAB value and nearest palette colour, computed once per image.
struct PixelColours {
    lab: Vec<Lab>,
    nearest: Vec<u8>,
}

impl PixelColours {
    fn of(image: &RgbImage) -> Self {
        let mut namer = Namer::new();
        let (lab, nearest) = image.pixels().map(|p| namer.lookup(p.0)).unzip();
        Self { lab, nearest }
    }

    /// Colour shares and mean CIELAB of the mask's pixels, measured on its
    /// interior (one pixel in from the edge) when enough of it remains, so
    /// blended edge pixels do not count.
    fn describe(&self, own: &Mask) -> (Vec<ColourShare>, [i16; 3]) {
        let Some(b) = own.bbox() else {
            return (Vec::new(), [0, 0, 0]);
        };
        let mut interior = Tally::new();
        let mut all = Tally::new();
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                if !own.get(x, y) {
                    continue;
                }
                let i = y as usize * own.width() as usize + x as usize;
                let (nearest, lab) = (usize::from(self.nearest[i]), self.lab[i]);
                all.add(nearest, lab);
                if is_interior(own, x, y) {
                    interior.add(nearest, lab);
                }
            }
        }
        let tally = if interior.n > 0 && interior.n * 3 >= all.n {
            interior
        } else {
            all
        };
        tally.summary()
    }
}

/// Palette counts and summed CIELAB of a set of pixels.
struct Tally {
    counts: Vec<u64>,
    sum: [f64; 3],
    n: u64,
}

impl Tally {
    fn new() -> Self {
        Self {
            counts: vec![0; PALETTE.len()],
            sum: [0.0; 3],
            n: 0,
        }
    }

    fn add(&mut self, nearest: usize, lab: Lab) {
        self.counts[nearest] += 1;
        for (s, v) in self.sum.iter_mut().zip(lab) {
            *s += f64::from(v);
        }
        self.n += 1;
    }

    fn summary(self) -> (Vec<ColourShare>, [i16; 3]) {
        let Tally { counts, sum, n } = self;
        if n == 0 {
            return (Vec::new(), [0, 0, 0]);
        }
        let mut ranked: Vec<(usize, u64)> = counts.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let shares = ranked
            .into_iter()
            .map(|(c, k)| (c, (k as f64 * 100.0 / n as f64).round() as u8))
            .enumerate()
            .filter(|&(rank, (_, pct))| rank == 0 || pct >= MIN_COLOUR_PCT)
            .take(MAX_COLOURS)
            .map(|(_, (c, pct))| ColourShare {
                name: PALETTE[c].name.to_string(),
                pct,
            })
            .collect();
        let lab = sum.map(|s| (s / n as f64).round() as i16);
        (shares, lab)
    }
}

/// Whether pixel `(x, y)` and its four neighbours are all set.
fn is_interior(mask: &Mask, x: u32, y: u32) -> bool {
    x > 0
        && y > 0
        && mask.get(x, y)
        && mask.get(x - 1, y)
        && mask.get(x + 1, y)
        && mask.get(x, y - 1)
        && mask.get(x, y + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn disc(w: u32, h: u32, cx: f64, cy: f64, r: f64) -> Mask {
        Mask::from_fn(w, h, |x, y| {
            (f64::from(x) + 0.5 - cx).hypot(f64::from(y) + 0.5 - cy) <= r
        })
    }

    fn input(mask: Mask, parent: Option<usize>) -> TwinInput {
        TwinInput {
            mask,
            parent,
            predicted_iou: 0.912,
            stability_score: 0.951,
            label: None,
        }
    }

    fn paint(image: &mut RgbImage, mask: &Mask, rgb: [u8; 3]) {
        for y in 0..image.height() {
            for x in 0..image.width() {
                if mask.get(x, y) {
                    image.put_pixel(x, y, Rgb(rgb));
                }
            }
        }
    }

    #[test]
    fn host_ring_colour_excludes_its_child_and_ids_follow_the_tree() {
        let (w, h) = (200, 100);
        let mut image = RgbImage::from_pixel(w, h, Rgb([245, 245, 245]));
        let host = disc(w, h, 150.0, 50.0, 40.0);
        let inner = disc(w, h, 150.0, 50.0, 25.0);
        let left = disc(w, h, 40.0, 50.0, 20.0);
        paint(&mut image, &host, [40, 80, 210]);
        paint(&mut image, &inner, [245, 215, 40]);
        paint(&mut image, &left, [220, 40, 40]);
        let twin = build(
            &image,
            &[input(inner, Some(1)), input(host, None), input(left, None)],
        );
        let words: Vec<(u32, Option<u32>, &str, Level)> = twin
            .objects
            .iter()
            .map(|o| (o.id, o.parent, o.colours[0].name.as_str(), o.level))
            .collect();
        assert_eq!(
            words,
            vec![
                (1, None, "red", Level::Object),
                (2, None, "blue", Level::Object),
                (3, Some(2), "yellow", Level::Part),
            ]
        );
        assert_eq!(twin.objects[1].colours[0].pct, 100);
        assert_eq!(twin.objects[2].segment, 0);
        assert_eq!(twin.objects[0].position, Position::Left);
        assert_eq!(twin.objects[1].position, Position::Right);
        assert_eq!(twin.objects[0].predicted_iou, 0.91);
        twin.validate().unwrap();
    }

    #[test]
    fn hierarchy_parent_ids_become_indices() {
        let (w, h) = (40, 40);
        let segment = |id: u32, parent: Option<u32>, r: f64| {
            let mask = disc(w, h, 20.0, 20.0, r);
            let bbox = mask.bbox().unwrap();
            Segment {
                id,
                parent,
                level: u32::from(parent.is_some()),
                area: mask.area(),
                mask,
                bbox,
                predicted_iou: 0.9,
                stability_score: 0.8,
                point: [20.0, 20.0],
                crop_box: PixelBox {
                    x0: 0,
                    y0: 0,
                    x1: w,
                    y1: h,
                },
            }
        };
        let segments = [
            segment(7, Some(3), 5.0),
            segment(3, None, 15.0),
            segment(9, Some(42), 3.0),
        ];
        let inputs = TwinInput::from_segments(&segments);
        let parents: Vec<Option<usize>> = inputs.iter().map(|i| i.parent).collect();
        assert_eq!(parents, vec![Some(1), None, None]);
        assert_eq!(inputs[0].stability_score, 0.8);
        let twin = build(&RgbImage::new(w, h), &inputs);
        assert_eq!(
            twin.objects
                .iter()
                .filter(|o| o.level == Level::Part)
                .count(),
            1
        );
    }

    #[test]
    fn geometry_is_in_the_thousand_frame() {
        let (w, h) = (400, 200);
        let image = RgbImage::new(w, h);
        let m = Mask::from_fn(w, h, |x, y| {
            (100..200).contains(&x) && (50..150).contains(&y)
        });
        let twin = build(&image, &[input(m, None)]);
        let o = &twin.objects[0];
        assert_eq!(o.bbox, [250, 250, 500, 750]);
        assert_eq!(o.centroid, [375, 500]);
        assert_eq!(o.area_pct, 12.5);
        assert_eq!(o.position, Position::Center);
    }

    #[test]
    fn bad_segments_and_parent_cycles_are_dropped_not_fatal() {
        let (w, h) = (50, 50);
        let image = RgbImage::new(w, h);
        let a = disc(w, h, 25.0, 25.0, 20.0);
        let b = disc(w, h, 25.0, 25.0, 10.0);
        let segments = vec![
            input(a.clone(), Some(1)),
            input(b.clone(), Some(0)),
            input(Mask::empty(w, h), None),
            input(Mask::empty(10, 10), None),
            input(b, Some(2)),
            input(a, Some(99)),
        ];
        let twin = build(&image, &segments);
        assert_eq!(twin.objects.len(), 4);
        assert!(twin.objects.iter().all(|o| o.parent.is_none()));
        twin.validate().unwrap();
    }
}
