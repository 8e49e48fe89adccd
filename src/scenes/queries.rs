//! Questions about a generated scene whose answers are known from its ground
//! truth. A query is emitted only when its answer is unambiguous in that scene
//! (clear size ratios and position margins, unique references).
//!
//! Conventions the answers follow:
//! - An object's mask includes the shapes nested in it, so a target host
//!   brings its nested shape's pixels along.
//! - Position extremes ("left-most") and ordinals ("second from the left")
//!   rank top-level objects only: a nested shape shares its host's place.
//! - Sizes compare mask areas over all objects, nested ones included.
//! - Extremes and superlatives within a group ("the left-most red object",
//!   "the biggest circle") rank that group's members the same way; group
//!   extremes are only asked when no member is nested.
//! - Directional relations ("left of X") take every object, nested or not,
//!   that lies wholly on that side of X's box; other objects must be clearly
//!   not on that side (box overlapping X's extent and centroid beyond X's).
//! - "Nearest" answers (nearest X, the centre, a corner) are top-level
//!   objects whose centroid is clearly (1.3x) closer than every other object's,
//!   nested ones included; "between X and Y" is the one object whose centroid
//!   lies near the middle part of the segment joining X's and Y's centroids
//!   while every other object is clearly off it.
//! - Colour words: "turquoise"/"teal" name cyan, "violet" purple, "gray"
//!   grey; warm colours are red, orange and yellow, cool ones blue, cyan and
//!   green (family queries are only asked when every object is one or the
//!   other). Things known for their colour name one palette colour each.
//! - Shape properties: circles and ellipses are round (no corners), the rest
//!   have corners; triangles have three sides, squares and rectangles four,
//!   hexagons six; stars have five points; only circles roll (asked only when
//!   no ellipse is present); rectangles and ellipses are elongated.
//! - Negation ("everything that is not red") targets every object of another
//!   colour; it is only asked when no excluded object sits inside a target,
//!   so the answer never contains excluded pixels.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Scene, SceneObject, ShapeKind};
use crate::mask::PixelBox;

/// What a query asks about; datasets store it so scores can be broken down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// The one object of a colour ("the red object").
    Colour,
    /// The one object of a shape ("the star").
    Shape,
    /// The one object of a colour and shape ("the red circle").
    ColourShape,
    /// Size extremes over all objects ("the biggest object").
    Superlative,
    /// The smaller or larger of a pair ("the smaller of the two red objects").
    Comparative,
    /// Position extremes over top-level objects ("the left-most object",
    /// "the object nearest the top-left corner", "the most central object").
    Extreme,
    /// Rank along an axis ("the second object from the left").
    Ordinal,
    /// Relation to named objects ("the object left of the red circle",
    /// "the shape nearest the blue star", "the object between A and B").
    Relation,
    /// Nesting ("the shape inside the blue square", "the object that contains another").
    Containment,
    /// Every object of a colour or shape ("all the red objects").
    Plural,
    /// Everything except a colour or shape ("everything that is not red").
    Negation,
    /// Groups named by their count ("the two circles", "the objects that share a colour").
    Counting,
}

impl QueryKind {
    /// Every kind, in a stable order.
    pub const ALL: [QueryKind; 12] = [
        QueryKind::Colour,
        QueryKind::Shape,
        QueryKind::ColourShape,
        QueryKind::Superlative,
        QueryKind::Comparative,
        QueryKind::Extreme,
        QueryKind::Ordinal,
        QueryKind::Relation,
        QueryKind::Containment,
        QueryKind::Plural,
        QueryKind::Negation,
        QueryKind::Counting,
    ];

    /// The snake_case name, as serialised ("colour_shape").
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::Colour => "colour",
            QueryKind::Shape => "shape",
            QueryKind::ColourShape => "colour_shape",
            QueryKind::Superlative => "superlative",
            QueryKind::Comparative => "comparative",
            QueryKind::Extreme => "extreme",
            QueryKind::Ordinal => "ordinal",
            QueryKind::Relation => "relation",
            QueryKind::Containment => "containment",
            QueryKind::Plural => "plural",
            QueryKind::Negation => "negation",
            QueryKind::Counting => "counting",
        }
    }

    /// Parses a [`QueryKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether queries of this kind count as sentences (ReasonSeg's
    /// `is_sentence`): the ones that need relating or excluding objects.
    pub fn is_sentence(self) -> bool {
        matches!(
            self,
            QueryKind::Comparative
                | QueryKind::Relation
                | QueryKind::Containment
                | QueryKind::Negation
        )
    }
}

impl fmt::Display for QueryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One question with a known answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SceneQuery {
    /// Paraphrases of the same question.
    pub text: Vec<String>,
    /// Ids of the objects that answer it; the answer mask is their union.
    pub targets: Vec<usize>,
    /// What the question asks about.
    pub kind: QueryKind,
}

/// Every unambiguous query the scene supports, in a stable order.
pub fn queries(scene: &Scene) -> Vec<SceneQuery> {
    let facts = Facts::new(scene);
    let mut out = Vec::new();
    colour_queries(&facts, &mut out);
    colour_word_queries(&facts, &mut out);
    shape_queries(&facts, &mut out);
    shape_property_queries(&facts, &mut out);
    colour_shape_queries(&facts, &mut out);
    superlative_queries(&facts, &mut out);
    group_superlative_queries(&facts, &mut out);
    comparative_queries(&facts, &mut out);
    extreme_queries(&facts, &mut out);
    group_extreme_queries(&facts, &mut out);
    centre_and_corner_queries(&facts, &mut out);
    ordinal_queries(&facts, &mut out);
    relation_queries(&facts, &mut out);
    nearest_queries(&facts, &mut out);
    between_queries(&facts, &mut out);
    containment_queries(&facts, &mut out);
    plural_queries(&facts, &mut out);
    negation_queries(&facts, &mut out);
    counting_queries(&facts, &mut out);
    out
}

/// Size ratio two objects need before one is called bigger.
const SIZE_RATIO: f64 = 1.3;
/// Centroid margin, in pixels, before one object is called further along an axis.
const POSITION_MARGIN: f64 = 30.0;
/// Distance ratio before one object is called nearer than another.
const NEAREST_RATIO: f64 = 1.3;

fn query(kind: QueryKind, targets: Vec<usize>, text: Vec<String>) -> SceneQuery {
    SceneQuery {
        text,
        targets,
        kind,
    }
}

/// Measurements of the scene's objects the query builders share.
struct Facts<'a> {
    width: f64,
    height: f64,
    objects: &'a [SceneObject],
    areas: Vec<u64>,
    boxes: Vec<PixelBox>,
    by_colour: BTreeMap<&'a str, Vec<usize>>,
    by_shape: BTreeMap<ShapeKind, Vec<usize>>,
}

impl<'a> Facts<'a> {
    fn new(scene: &'a Scene) -> Self {
        let objects = scene.objects.as_slice();
        let mut by_colour: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut by_shape: BTreeMap<ShapeKind, Vec<usize>> = BTreeMap::new();
        for o in objects {
            by_colour.entry(o.colour.as_str()).or_default().push(o.id);
            by_shape.entry(o.shape).or_default().push(o.id);
        }
        Self {
            width: f64::from(scene.image.width()),
            height: f64::from(scene.image.height()),
            objects,
            areas: objects.iter().map(SceneObject::area).collect(),
            boxes: objects.iter().map(SceneObject::bbox).collect(),
            by_colour,
            by_shape,
        }
    }

    fn top_level(&self) -> Vec<usize> {
        self.objects
            .iter()
            .filter(|o| o.parent.is_none())
            .map(|o| o.id)
            .collect()
    }

    /// "the red circle" when no other object is a red circle.
    fn unique_name(&self, id: usize) -> Option<String> {
        let o = &self.objects[id];
        let same = self
            .objects
            .iter()
            .filter(|p| p.colour == o.colour && p.shape == o.shape)
            .count();
        (same == 1).then(|| format!("the {} {}", o.colour, o.shape))
    }

    fn is_ancestor(&self, ancestor: usize, id: usize) -> bool {
        let mut current = self.objects[id].parent;
        while let Some(p) = current {
            if p == ancestor {
                return true;
            }
            current = self.objects.get(p).and_then(|o| o.parent);
        }
        false
    }

    fn centre(&self, id: usize) -> [f64; 2] {
        let (x, y) = self.objects[id].centre;
        [f64::from(x), f64::from(y)]
    }

    /// The top-level object clearly nearest to `point` (centroid distance),
    /// among the objects `eligible` admits: every other eligible object, nested
    /// ones included but the winner's own nested shapes excepted, must be at
    /// least [`NEAREST_RATIO`] times as far.
    fn nearest_to(&self, point: [f64; 2], eligible: impl Fn(usize) -> bool) -> Option<usize> {
        let distance = |id: usize| {
            let c = self.centre(id);
            (c[0] - point[0]).hypot(c[1] - point[1])
        };
        let winner = self
            .top_level()
            .into_iter()
            .filter(|&id| eligible(id))
            .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))?;
        let limit = distance(winner) * NEAREST_RATIO + 10.0;
        let clear = (0..self.objects.len())
            .filter(|&id| eligible(id) && id != winner && !self.is_ancestor(winner, id))
            .all(|id| distance(id) >= limit);
        clear.then_some(winner)
    }

    fn related(&self, a: usize, b: usize) -> bool {
        a == b || self.is_ancestor(a, b) || self.is_ancestor(b, a)
    }

    /// Position of an object projected on a direction: its box's near edge,
    /// far edge and centroid, growing towards the far side.
    fn project(&self, id: usize, dir: Direction) -> Projection {
        let b = self.boxes[id];
        let (cx, cy) = self.objects[id].centre;
        let (lo, hi, c) = match dir {
            Direction::Left => (f64::from(b.x0), f64::from(b.x1), f64::from(cx)),
            Direction::Right => (-f64::from(b.x1), -f64::from(b.x0), -f64::from(cx)),
            Direction::Top => (f64::from(b.y0), f64::from(b.y1), f64::from(cy)),
            Direction::Bottom => (-f64::from(b.y1), -f64::from(b.y0), -f64::from(cy)),
        };
        Projection { lo, hi, c }
    }
}

struct Projection {
    lo: f64,
    hi: f64,
    c: f64,
}

#[derive(Clone, Copy)]
enum Direction {
    Left,
    Right,
    Top,
    Bottom,
}

impl Direction {
    const ALL: [Direction; 4] = [
        Direction::Left,
        Direction::Right,
        Direction::Top,
        Direction::Bottom,
    ];
}

fn colour_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (colour, ids) in &f.by_colour {
        if let [id] = ids.as_slice() {
            let text = vec![
                format!("the {colour} object"),
                format!("the {colour} shape"),
                format!("the only {colour} thing"),
                format!("which object is {colour}?"),
                format!("segment the {colour} one"),
            ];
            out.push(query(QueryKind::Colour, vec![*id], text));
        }
    }
}

fn shape_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (shape, ids) in &f.by_shape {
        if let [id] = ids.as_slice() {
            let text = vec![
                format!("the {shape}"),
                format!("the {shape} shape"),
                format!("find the {shape}"),
                format!("which object is {} {shape}?", article(shape.name())),
                format!("show me the only {shape}"),
            ];
            out.push(query(QueryKind::Shape, vec![*id], text));
        }
    }
}

fn colour_shape_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for o in f.objects {
        let colour_shared = f.by_colour[o.colour.as_str()].len() > 1;
        let shape_shared = f.by_shape[&o.shape].len() > 1;
        if let Some(name) = f
            .unique_name(o.id)
            .filter(|_| colour_shared || shape_shared)
        {
            let (colour, shape) = (&o.colour, o.shape);
            let text = vec![
                name.clone(),
                format!("the {shape} that is {colour}"),
                format!("find the {colour} {shape}"),
                format!("segment {name}"),
            ];
            out.push(query(QueryKind::ColourShape, vec![o.id], text));
        }
    }
}

fn superlative_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    let mut by_area: Vec<usize> = (0..f.objects.len()).collect();
    by_area.sort_by_key(|&i| std::cmp::Reverse(f.areas[i]));
    if let [first, second, ..] = by_area.as_slice() {
        if clearly_bigger(f.areas[*first], f.areas[*second]) {
            let text = vec![
                "the biggest object".to_string(),
                "the largest shape".to_string(),
                "the object that takes up the most space".to_string(),
                "the biggest one".to_string(),
            ];
            out.push(query(QueryKind::Superlative, vec![*first], text));
        }
    }
    if let [.., second_last, last] = by_area.as_slice() {
        if clearly_bigger(f.areas[*second_last], f.areas[*last]) {
            let text = vec![
                "the smallest object".to_string(),
                "the tiniest shape".to_string(),
                "the object that takes up the least space".to_string(),
                "the smallest one".to_string(),
            ];
            out.push(query(QueryKind::Superlative, vec![*last], text));
        }
    }
}

fn clearly_bigger(big: u64, small: u64) -> bool {
    big as f64 >= small as f64 * SIZE_RATIO
}

fn comparative_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    let colour_pairs = f
        .by_colour
        .iter()
        .map(|(c, ids)| (format!("{c} objects"), format!("{c} object"), ids));
    let shape_pairs = f
        .by_shape
        .iter()
        .map(|(s, ids)| (s.plural(), s.name().to_string(), ids));
    for (plural, singular, ids) in colour_pairs.chain(shape_pairs) {
        let [a, b] = ids.as_slice() else { continue };
        let (big, small) = if f.areas[*a] >= f.areas[*b] {
            (*a, *b)
        } else {
            (*b, *a)
        };
        if !clearly_bigger(f.areas[big], f.areas[small]) {
            continue;
        }
        let smaller = vec![
            format!("the smaller of the two {plural}"),
            format!("the smaller {singular}"),
            format!("the {singular} that is smaller"),
        ];
        out.push(query(QueryKind::Comparative, vec![small], smaller));
        let larger = vec![
            format!("the larger of the two {plural}"),
            format!("the bigger {singular}"),
            format!("the {singular} that is larger"),
        ];
        out.push(query(QueryKind::Comparative, vec![big], larger));
    }
}

/// Top-level objects ordered along `dir`, when the order is unambiguous at
/// `rank` (clear centroid gaps, and the box edges put the same object there).
fn ranked_at(f: &Facts, dir: Direction, rank: usize) -> Option<usize> {
    ranked_among(f, f.top_level(), dir, rank)
}

/// [`ranked_at`] over the given candidates only.
fn ranked_among(f: &Facts, candidates: Vec<usize>, dir: Direction, rank: usize) -> Option<usize> {
    let mut by_centre = candidates;
    by_centre.sort_by(|&a, &b| f.project(a, dir).c.total_cmp(&f.project(b, dir).c));
    let mut by_edge = by_centre.clone();
    by_edge.sort_by(|&a, &b| f.project(a, dir).lo.total_cmp(&f.project(b, dir).lo));
    let chosen = *by_centre.get(rank)?;
    let c = f.project(chosen, dir).c;
    let before_clear = rank == 0 || c - f.project(by_centre[rank - 1], dir).c >= POSITION_MARGIN;
    let after_clear = by_centre
        .get(rank + 1)
        .is_none_or(|&n| f.project(n, dir).c - c >= POSITION_MARGIN);
    (before_clear && after_clear && by_edge[rank] == chosen && by_centre.len() > rank + 1)
        .then_some(chosen)
}

fn extreme_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for dir in Direction::ALL {
        let Some(id) = ranked_at(f, dir, 0) else {
            continue;
        };
        let text: Vec<String> = match dir {
            Direction::Left => [
                "the left-most object",
                "the object furthest to the left",
                "the shape closest to the left edge",
                "the object on the far left",
            ],
            Direction::Right => [
                "the right-most object",
                "the object furthest to the right",
                "the shape closest to the right edge",
                "the object on the far right",
            ],
            Direction::Top => [
                "the top-most object",
                "the highest object",
                "the shape closest to the top edge",
                "the object nearest the top",
            ],
            Direction::Bottom => [
                "the bottom-most object",
                "the lowest object",
                "the shape closest to the bottom edge",
                "the object nearest the bottom",
            ],
        }
        .map(String::from)
        .to_vec();
        out.push(query(QueryKind::Extreme, vec![id], text));
    }
}

fn ordinal_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for dir in Direction::ALL {
        let side = match dir {
            Direction::Left => "left",
            Direction::Right => "right",
            Direction::Top => "top",
            Direction::Bottom => "bottom",
        };
        for (rank, word, short) in [(1, "second", "2nd"), (2, "third", "3rd")] {
            if f.top_level().len() < rank + 2 {
                continue;
            }
            let Some(id) = ranked_at(f, dir, rank) else {
                continue;
            };
            let text = vec![
                format!("the {word} object from the {side}"),
                format!("the {word} shape counting from the {side}"),
                format!("the {short} object from the {side}"),
            ];
            out.push(query(QueryKind::Ordinal, vec![id], text));
        }
    }
}

fn relation_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for reference in 0..f.objects.len() {
        let Some(name) = f.unique_name(reference) else {
            continue;
        };
        for dir in Direction::ALL {
            if let Some(targets) = objects_beyond(f, reference, dir) {
                out.push(query(
                    QueryKind::Relation,
                    targets.clone(),
                    relation_text(dir, &name, targets.len()),
                ));
            }
        }
    }
}

/// The objects wholly on the `dir` side of `reference` ("left of" for
/// [`Direction::Left`]), when every other object is clearly not there.
fn objects_beyond(f: &Facts, reference: usize, dir: Direction) -> Option<Vec<usize>> {
    let r = f.project(reference, dir);
    let mut targets = Vec::new();
    for id in (0..f.objects.len()).filter(|&id| !f.related(id, reference)) {
        let p = f.project(id, dir);
        if p.hi + 4.0 <= r.lo {
            targets.push(id);
        } else if !(p.hi >= r.lo + 16.0 && p.c >= r.c + 16.0) {
            return None;
        }
    }
    (!targets.is_empty()).then_some(targets)
}

fn relation_text(dir: Direction, name: &str, count: usize) -> Vec<String> {
    let (a, b, c) = match dir {
        Direction::Left => ("to the left of", "left of", "on the left side of"),
        Direction::Right => ("to the right of", "right of", "on the right side of"),
        Direction::Top => ("above", "over", "higher up than"),
        Direction::Bottom => ("below", "under", "lower down than"),
    };
    if count == 1 {
        vec![
            format!("the object {a} {name}"),
            format!("the shape {b} {name}"),
            format!("what is {c} {name}?"),
        ]
    } else {
        vec![
            format!("everything {a} {name}"),
            format!("all the objects {b} {name}"),
            format!("the shapes {c} {name}"),
        ]
    }
}

fn containment_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    let nested: Vec<usize> = f
        .objects
        .iter()
        .filter(|o| o.parent.is_some())
        .map(|o| o.id)
        .collect();
    let hosts: Vec<usize> = f
        .objects
        .iter()
        .filter(|h| nested.iter().any(|&c| f.objects[c].parent == Some(h.id)))
        .map(|h| h.id)
        .collect();
    for &host in &hosts {
        let children: Vec<usize> = nested
            .iter()
            .copied()
            .filter(|&c| f.objects[c].parent == Some(host))
            .collect();
        if let Some(name) = f.unique_name(host) {
            let text = vec![
                format!("the object inside {name}"),
                format!("what is inside {name}?"),
                format!("the shape within {name}"),
            ];
            out.push(query(QueryKind::Containment, children.clone(), text));
        }
        if let [child] = children.as_slice() {
            if let Some(name) = f.unique_name(*child) {
                let text = vec![
                    format!("the object around {name}"),
                    format!("the shape that contains {name}"),
                    format!("what is {name} inside of?"),
                ];
                out.push(query(QueryKind::Containment, vec![host], text));
            }
        }
    }
    if let [host] = hosts.as_slice() {
        let text = vec![
            "the object that contains another shape".to_string(),
            "the shape with something inside it".to_string(),
            "which object has another object in it?".to_string(),
        ];
        out.push(query(QueryKind::Containment, vec![*host], text));
    }
    if nested.len() == 1 {
        let text = vec![
            "the shape that sits inside another shape".to_string(),
            "the object nested inside another object".to_string(),
            "which shape is inside another one?".to_string(),
        ];
        out.push(query(QueryKind::Containment, nested, text));
    }
}

fn plural_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (colour, ids) in f.by_colour.iter().filter(|(_, ids)| ids.len() >= 2) {
        let text = vec![
            format!("all the {colour} objects"),
            format!("every {colour} shape"),
            format!("all {colour} things"),
        ];
        out.push(query(QueryKind::Plural, ids.clone(), text));
    }
    for (shape, ids) in f.by_shape.iter().filter(|(_, ids)| ids.len() >= 2) {
        let plural = shape.plural();
        let text = vec![
            format!("all the {plural}"),
            format!("every {shape}"),
            format!("all of the {plural}"),
        ];
        out.push(query(QueryKind::Plural, ids.clone(), text));
    }
}

fn negation_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (colour, excluded) in &f.by_colour {
        let one = excluded.len() == 1;
        let what = if one {
            format!("the {colour} object")
        } else {
            format!("the {colour} objects")
        };
        let text = vec![
            format!("everything that is not {colour}"),
            format!("everything except {what}"),
            format!("all objects apart from {what}"),
        ];
        push_negation(f, excluded, text, out);
    }
    for (shape, excluded) in &f.by_shape {
        let one = excluded.len() == 1;
        let what = if one {
            format!("the {shape}")
        } else {
            format!("the {}", shape.plural())
        };
        let text = vec![
            format!("everything that is not {} {shape}", article(shape.name())),
            format!("everything except {what}"),
            format!("all objects apart from {what}"),
        ];
        push_negation(f, excluded, text, out);
    }
}

fn push_negation(f: &Facts, excluded: &[usize], text: Vec<String>, out: &mut Vec<SceneQuery>) {
    let targets: Vec<usize> = (0..f.objects.len())
        .filter(|id| !excluded.contains(id))
        .collect();
    let excluded_inside_target = excluded
        .iter()
        .any(|&e| targets.iter().any(|&t| f.is_ancestor(t, e)));
    if !targets.is_empty() && !excluded_inside_target {
        out.push(query(QueryKind::Negation, targets, text));
    }
}

fn counting_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (colour, ids) in &f.by_colour {
        if let Some(number) = number_word(ids.len()) {
            let mut text = vec![
                format!("the {number} {colour} objects"),
                format!("the {number} {colour} shapes"),
            ];
            if ids.len() == 2 {
                text.push(format!("both {colour} objects"));
            }
            out.push(query(QueryKind::Counting, ids.clone(), text));
        }
    }
    for (shape, ids) in &f.by_shape {
        if let Some(number) = number_word(ids.len()) {
            let plural = shape.plural();
            let mut text = vec![
                format!("the {number} {plural}"),
                format!("the group of {number} {plural}"),
            ];
            if ids.len() == 2 {
                text.push(format!("both {plural}"));
            }
            out.push(query(QueryKind::Counting, ids.clone(), text));
        }
    }
    let shared_colours: Vec<&Vec<usize>> =
        f.by_colour.values().filter(|ids| ids.len() >= 2).collect();
    if let [ids] = shared_colours.as_slice() {
        let text = vec![
            "the objects that share a colour".to_string(),
            "the shapes that have the same colour".to_string(),
        ];
        out.push(query(QueryKind::Counting, (*ids).clone(), text));
    }
    let shared_shapes: Vec<&Vec<usize>> =
        f.by_shape.values().filter(|ids| ids.len() >= 2).collect();
    if let [ids] = shared_shapes.as_slice() {
        let text = vec![
            "the objects that have the same shape".to_string(),
            "the shapes that appear more than once".to_string(),
        ];
        out.push(query(QueryKind::Counting, (*ids).clone(), text));
    }
}

fn number_word(n: usize) -> Option<&'static str> {
    match n {
        2 => Some("two"),
        3 => Some("three"),
        4 => Some("four"),
        _ => None,
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn centre_and_corner_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    let middle = [f.width / 2.0, f.height / 2.0];
    if let Some(id) = f.nearest_to(middle, |_| true) {
        let c = f.centre(id);
        let central = (c[0] - middle[0]).hypot(c[1] - middle[1]) <= 0.2 * f.width.min(f.height);
        if central {
            let text = vec![
                "the object in the middle of the image".to_string(),
                "the most central object".to_string(),
                "the shape nearest the centre".to_string(),
            ];
            out.push(query(QueryKind::Extreme, vec![id], text));
        }
    }
    let corners = [
        ("top-left", "upper left", [0.0, 0.0]),
        ("top-right", "upper right", [f.width, 0.0]),
        ("bottom-left", "lower left", [0.0, f.height]),
        ("bottom-right", "lower right", [f.width, f.height]),
    ];
    for (name, other_name, corner) in corners {
        if let Some(id) = f.nearest_to(corner, |_| true) {
            let text = vec![
                format!("the object nearest the {name} corner"),
                format!("the shape closest to the {other_name} corner"),
                format!("which object is nearest to the {name} corner?"),
            ];
            out.push(query(QueryKind::Extreme, vec![id], text));
        }
    }
}

fn nearest_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for reference in f.top_level() {
        let Some(name) = f.unique_name(reference) else {
            continue;
        };
        let eligible = |id: usize| !f.related(id, reference);
        let Some(id) = f.nearest_to(f.centre(reference), eligible) else {
            continue;
        };
        let gap = |other: usize| box_gap(&f.boxes[other], &f.boxes[reference]);
        let gaps_agree = f
            .top_level()
            .into_iter()
            .filter(|&o| eligible(o) && o != id)
            .all(|o| gap(o) > gap(id));
        if gaps_agree {
            let text = vec![
                format!("the object closest to {name}"),
                format!("the shape nearest to {name}"),
                format!("which object is next to {name}?"),
            ];
            out.push(query(QueryKind::Relation, vec![id], text));
        }
    }
}

/// Distance between two boxes (0 when they overlap).
fn box_gap(a: &PixelBox, b: &PixelBox) -> f64 {
    let dx = f64::from(a.x0.saturating_sub(b.x1).max(b.x0.saturating_sub(a.x1)));
    let dy = f64::from(a.y0.saturating_sub(b.y1).max(b.y0.saturating_sub(a.y1)));
    dx.hypot(dy)
}

fn between_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    let named: Vec<(usize, String)> = f
        .top_level()
        .into_iter()
        .filter_map(|id| f.unique_name(id).map(|n| (id, n)))
        .collect();
    for (i, (a, a_name)) in named.iter().enumerate() {
        for (b, b_name) in &named[i + 1..] {
            if let Some(id) = object_between(f, *a, *b) {
                let text = vec![
                    format!("the object between {a_name} and {b_name}"),
                    format!("the shape in between {b_name} and {a_name}"),
                    format!("what lies between {a_name} and {b_name}?"),
                ];
                out.push(query(QueryKind::Relation, vec![id], text));
            }
        }
    }
}

/// The one top-level object whose centroid lies on the middle part of the
/// segment from `a`'s centroid to `b`'s, when every other object is clearly off it.
fn object_between(f: &Facts, a: usize, b: usize) -> Option<usize> {
    let (pa, pb) = (f.centre(a), f.centre(b));
    let d = [pb[0] - pa[0], pb[1] - pa[1]];
    let length = d[0].hypot(d[1]);
    if length < 1.0 {
        return None;
    }
    let place = |id: usize| {
        let c = f.centre(id);
        let v = [c[0] - pa[0], c[1] - pa[1]];
        let t = (v[0] * d[0] + v[1] * d[1]) / (length * length);
        let off = (v[0] * d[1] - v[1] * d[0]).abs() / length;
        (t, off / length)
    };
    let others: Vec<usize> = (0..f.objects.len())
        .filter(|&id| !f.related(id, a) && !f.related(id, b))
        .collect();
    let inside: Vec<usize> = others
        .iter()
        .copied()
        .filter(|&id| f.objects[id].parent.is_none())
        .filter(|&id| {
            let (t, off) = place(id);
            (0.2..=0.8).contains(&t) && off <= 0.25
        })
        .collect();
    let [winner] = inside.as_slice() else {
        return None;
    };
    let clear = others
        .iter()
        .filter(|&&id| id != *winner && !f.is_ancestor(*winner, id))
        .all(|&id| {
            let (t, off) = place(id);
            !(-0.05..=1.05).contains(&t) || off >= 0.5
        });
    clear.then_some(*winner)
}

/// Things known for one palette colour.
const COLOUR_THINGS: [(&str, [&str; 2]); 11] = [
    ("red", ["a tomato", "a fire engine"]),
    ("orange", ["a pumpkin", "a carrot"]),
    ("yellow", ["a banana", "a lemon"]),
    ("green", ["grass", "a leaf"]),
    ("cyan", ["a tropical lagoon", "turquoise stone"]),
    ("blue", ["the sky on a clear day", "a sapphire"]),
    ("purple", ["a grape", "lavender"]),
    ("pink", ["a flamingo", "bubble gum"]),
    ("brown", ["chocolate", "a tree trunk"]),
    ("black", ["coal", "the night sky"]),
    ("grey", ["an elephant", "a rain cloud"]),
];

/// Other words for palette colours.
const COLOUR_SYNONYMS: [(&str, &str); 4] = [
    ("cyan", "turquoise"),
    ("cyan", "teal"),
    ("purple", "violet"),
    ("grey", "gray"),
];

const WARM: [&str; 3] = ["red", "orange", "yellow"];
const COOL: [&str; 3] = ["blue", "cyan", "green"];

/// A query of `single` kind for one target, or a [`QueryKind::Plural`] one.
fn singular_or_plural(
    single: QueryKind,
    targets: Vec<usize>,
    one: Vec<String>,
    many: Vec<String>,
) -> SceneQuery {
    if targets.len() == 1 {
        query(single, targets, one)
    } else {
        query(QueryKind::Plural, targets, many)
    }
}

fn colour_word_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (colour, things) in COLOUR_THINGS {
        let Some(ids) = f.by_colour.get(colour) else {
            continue;
        };
        let [a, b] = things;
        let one = vec![
            format!("the object the colour of {a}"),
            format!("the shape coloured like {b}"),
            format!("which object has the colour of {a}?"),
        ];
        let many = vec![
            format!("all the objects the colour of {a}"),
            format!("every shape coloured like {b}"),
            format!("the things that have the colour of {a}"),
        ];
        out.push(singular_or_plural(
            QueryKind::Colour,
            ids.clone(),
            one,
            many,
        ));
    }
    for (colour, word) in COLOUR_SYNONYMS {
        let Some(ids) = f.by_colour.get(colour) else {
            continue;
        };
        let one = vec![
            format!("the {word} object"),
            format!("the {word} shape"),
            format!("find the {word} one"),
        ];
        let many = vec![
            format!("all the {word} objects"),
            format!("every {word} shape"),
            format!("all {word} things"),
        ];
        out.push(singular_or_plural(
            QueryKind::Colour,
            ids.clone(),
            one,
            many,
        ));
    }
    let all_tempered = f
        .objects
        .iter()
        .all(|o| WARM.contains(&o.colour.as_str()) || COOL.contains(&o.colour.as_str()));
    if !all_tempered {
        return;
    }
    for (family, colours) in [("warm", WARM), ("cool", COOL)] {
        let ids: Vec<usize> = f
            .objects
            .iter()
            .filter(|o| colours.contains(&o.colour.as_str()))
            .map(|o| o.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let one = vec![
            format!("the object with a {family} colour"),
            format!("the {family}-coloured shape"),
            format!("which object is in a {family} colour?"),
        ];
        let many = vec![
            format!("all the {family}-coloured objects"),
            format!("every shape with a {family} colour"),
            format!("the objects in {family} colours"),
        ];
        out.push(singular_or_plural(QueryKind::Colour, ids, one, many));
    }
}

fn shape_property_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    use ShapeKind::{Circle, Ellipse, Hexagon, Rectangle, Square, Star, Triangle};
    let has_ellipse = f.by_shape.contains_key(&Ellipse);
    let properties: [(&[ShapeKind], [&str; 3], [&str; 3]); 8] = [
        (
            &[Circle, Ellipse],
            [
                "the round object",
                "the shape with no corners",
                "the object with a curved outline",
            ],
            [
                "all the round objects",
                "the shapes with no corners",
                "every object with a curved outline",
            ],
        ),
        (
            &[Square, Rectangle, Triangle, Star, Hexagon],
            [
                "the object with corners",
                "the shape that has corners",
                "the one with straight edges",
            ],
            [
                "all the objects with corners",
                "every shape that has corners",
                "the objects with straight edges",
            ],
        ),
        (
            &[Triangle],
            [
                "the shape with three sides",
                "the three-cornered object",
                "the object with three corners",
            ],
            [
                "all the shapes with three sides",
                "every three-cornered object",
                "the objects with three corners",
            ],
        ),
        (
            &[Square, Rectangle],
            [
                "the shape with four sides",
                "the four-cornered object",
                "the object with four corners",
            ],
            [
                "all the shapes with four sides",
                "every four-cornered object",
                "the objects with four corners",
            ],
        ),
        (
            &[Hexagon],
            [
                "the shape with six sides",
                "the six-cornered object",
                "the object with six corners",
            ],
            [
                "all the shapes with six sides",
                "every six-cornered object",
                "the objects with six corners",
            ],
        ),
        (
            &[Star],
            [
                "the five-pointed shape",
                "the object with five points",
                "the pointy shape with five tips",
            ],
            [
                "all the five-pointed shapes",
                "every object with five points",
                "the shapes with five tips",
            ],
        ),
        (
            if has_ellipse { &[] } else { &[Circle] },
            [
                "the object that would roll",
                "the shape that could roll like a wheel",
                "which object would roll away?",
            ],
            [
                "all the objects that would roll",
                "every shape that could roll like a wheel",
                "the objects that would roll away",
            ],
        ),
        (
            &[Rectangle, Ellipse],
            [
                "the elongated object",
                "the shape that is longer than it is wide",
                "the stretched-out one",
            ],
            [
                "all the elongated objects",
                "every shape that is longer than it is wide",
                "the stretched-out ones",
            ],
        ),
    ];
    for (shapes, one, many) in properties {
        let ids: Vec<usize> = f
            .objects
            .iter()
            .filter(|o| shapes.contains(&o.shape))
            .map(|o| o.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        out.push(singular_or_plural(
            QueryKind::Shape,
            ids,
            one.map(String::from).to_vec(),
            many.map(String::from).to_vec(),
        ));
    }
}

/// The colour groups ("red object", "red objects") and shape groups
/// ("circle", "circles") with at least `min` members.
fn groups<'f>(f: &'f Facts, min: usize) -> Vec<(String, String, &'f Vec<usize>)> {
    let colours = f
        .by_colour
        .iter()
        .map(|(c, ids)| (format!("{c} object"), format!("{c} objects"), ids));
    let shapes = f
        .by_shape
        .iter()
        .map(|(s, ids)| (s.name().to_string(), s.plural(), ids));
    colours
        .chain(shapes)
        .filter(|(_, _, ids)| ids.len() >= min)
        .collect()
}

fn group_extreme_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (singular, plural, ids) in groups(f, 2) {
        if ids.iter().any(|&id| f.objects[id].parent.is_some()) {
            continue;
        }
        for dir in Direction::ALL {
            let Some(id) = ranked_among(f, ids.clone(), dir, 0) else {
                continue;
            };
            let (most, side) = match dir {
                Direction::Left => ("left-most", "the left"),
                Direction::Right => ("right-most", "the right"),
                Direction::Top => ("top-most", "the top"),
                Direction::Bottom => ("bottom-most", "the bottom"),
            };
            let text = vec![
                format!("the {most} {singular}"),
                format!("the {singular} furthest to {side}"),
                format!("of the {plural}, the one nearest {side}"),
            ];
            out.push(query(QueryKind::Extreme, vec![id], text));
        }
    }
}

fn group_superlative_queries(f: &Facts, out: &mut Vec<SceneQuery>) {
    for (singular, plural, ids) in groups(f, 3) {
        let mut by_area = ids.clone();
        by_area.sort_by_key(|&i| std::cmp::Reverse(f.areas[i]));
        if let [first, second, ..] = by_area.as_slice() {
            if clearly_bigger(f.areas[*first], f.areas[*second]) {
                let text = vec![
                    format!("the biggest {singular}"),
                    format!("the largest of the {plural}"),
                    format!("of all the {plural}, the one that takes up the most space"),
                ];
                out.push(query(QueryKind::Superlative, vec![*first], text));
            }
        }
        if let [.., second_last, last] = by_area.as_slice() {
            if clearly_bigger(f.areas[*second_last], f.areas[*last]) {
                let text = vec![
                    format!("the smallest {singular}"),
                    format!("the tiniest of the {plural}"),
                    format!("of all the {plural}, the one that takes up the least space"),
                ];
                out.push(query(QueryKind::Superlative, vec![*last], text));
            }
        }
    }
}
