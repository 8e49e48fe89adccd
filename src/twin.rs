//! The Digital Twin (DT): a compact, versioned description of the objects in
//! one image — geometry, colour, shape, hierarchy and relations — that a
//! reasoner reads instead of pixels.
//!
//! [`build`] turns the image and its segments (masks with parent links and
//! SAM scores) into a [`DigitalTwin`]. Coordinates are in a fixed integer
//! frame of `0..=1000` on each axis ([`FRAME`]), so the text is short and does
//! not depend on the image size. [`DigitalTwin::to_json`] is the full form for
//! tools; [`DigitalTwin::compact`] is the table-like form sent to language
//! models (mapping documented in `docs/digital-twin.md`). The JSON Schema in
//! `schema/digital-twin.v1.schema.json` is generated from these types by
//! [`schema_json`].

mod build;
pub mod colour;
pub mod relations;
pub mod render;
pub mod shape;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use build::{build, TwinInput};
pub use render::estimate_tokens;

/// The DT format version written into every twin and accepted by [`DigitalTwin::from_json`].
pub const VERSION: &str = "1";

/// Size of the integer coordinate frame: `0` is the left/top image edge, `FRAME` the right/bottom edge.
pub const FRAME: u16 = 1000;

/// A Digital Twin of one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigitalTwin {
    /// Format version, always [`VERSION`] for this crate.
    #[schemars(regex(pattern = r"^1$"))]
    pub version: String,
    /// Size of the original image in pixels.
    pub image: ImageSize,
    /// Every segment, parents before their children; ids are `1..=objects.len()`.
    pub objects: Vec<TwinObject>,
    /// Pairwise relations that are not already carried by the objects' fields (see [`Relation`]).
    pub relations: Vec<Relation>,
}

/// Width and height of the original image in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// One segment of the image: a whole object, a part of one, or a part of a part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TwinObject {
    /// Short stable id, `1..=n`, assigned in reading order (parents first, siblings top-to-bottom, left-to-right).
    pub id: u32,
    /// Id of the object this one is a part of / lies inside; `None` for top-level objects.
    pub parent: Option<u32>,
    /// Depth in the hierarchy.
    pub level: Level,
    /// Index of the segment in the input list the twin was built from, so an answer id maps back to its mask.
    pub segment: u32,
    /// Tight box `[x0, y0, x1, y1]` in the `0..=1000` frame (x0,y0 inclusive, x1,y1 exclusive edges).
    #[schemars(inner(range(max = 1000)))]
    pub bbox: [u16; 4],
    /// Centre of mass `[x, y]` of the segment's pixels in the `0..=1000` frame.
    #[schemars(inner(range(max = 1000)))]
    pub centroid: [u16; 2],
    /// Share of the image covered by the segment's mask, in percent, two decimals.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub area_pct: f32,
    /// Coarse position of the centroid in a 3x3 grid of the image.
    pub position: Position,
    /// Colour names of the segment's own pixels (children excluded), most frequent first.
    pub colours: Vec<ColourShare>,
    /// Mean CIELAB colour `[L, a, b]` (D65) of the segment's own pixels, rounded.
    pub lab: [i16; 3],
    /// Shape descriptors of the segment's outline (holes filled).
    pub shape: ShapeDescriptors,
    /// SAM's predicted IoU for the mask, `0..1`, two decimals.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub predicted_iou: f32,
    /// SAM's stability score for the mask, `0..1`, two decimals.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub stability_score: f32,
    /// Optional name given by a person or a labeller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Depth of a segment in the object / part / sub-part hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// A whole object (no parent).
    Object,
    /// A part of (or a thing inside) an object.
    Part,
    /// A part of a part, or anything deeper.
    Subpart,
}

impl Level {
    /// The level of a segment at `depth` in the containment tree (0 = top level).
    pub fn from_depth(depth: usize) -> Self {
        match depth {
            0 => Level::Object,
            1 => Level::Part,
            _ => Level::Subpart,
        }
    }
}

/// Cell of a 3x3 grid over the image that holds a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    /// Top third, left third.
    TopLeft,
    /// Top third, middle third.
    Top,
    /// Top third, right third.
    TopRight,
    /// Middle third, left third.
    Left,
    /// Middle of the image.
    Center,
    /// Middle third, right third.
    Right,
    /// Bottom third, left third.
    BottomLeft,
    /// Bottom third, middle third.
    Bottom,
    /// Bottom third, right third.
    BottomRight,
}

impl Position {
    /// The grid cell of a point `[x, y]` in the `0..=1000` frame.
    pub fn of_point(point: [u16; 2]) -> Self {
        let third = |v: u16| match v {
            v if v < 333 => 0,
            v if v < 667 => 1,
            _ => 2,
        };
        match (third(point[1]), third(point[0])) {
            (0, 0) => Position::TopLeft,
            (0, 1) => Position::Top,
            (0, _) => Position::TopRight,
            (1, 0) => Position::Left,
            (1, 1) => Position::Center,
            (1, _) => Position::Right,
            (_, 0) => Position::BottomLeft,
            (_, 1) => Position::Bottom,
            _ => Position::BottomRight,
        }
    }

    /// The word used in the JSON and the compact form, e.g. `"top-left"`.
    pub fn word(self) -> &'static str {
        match self {
            Position::TopLeft => "top-left",
            Position::Top => "top",
            Position::TopRight => "top-right",
            Position::Left => "left",
            Position::Center => "center",
            Position::Right => "right",
            Position::BottomLeft => "bottom-left",
            Position::Bottom => "bottom",
            Position::BottomRight => "bottom-right",
        }
    }
}

/// One palette colour and the share of the segment's own pixels that carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColourShare {
    /// Colour word from [`crate::palette::PALETTE`].
    pub name: String,
    /// Percent of the segment's own pixels nearest to this colour in CIELAB, rounded.
    #[schemars(range(max = 100))]
    pub pct: u8,
}

/// Measured shape of a segment's outline, and a shape word when the measures are clear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShapeDescriptors {
    /// Shape word when the outline clearly is one; `None` for irregular outlines.
    pub word: Option<ShapeWord>,
    /// `4π·area / perimeter²` of the outline: 1 for a disc, lower for elongated or spiky outlines.
    pub circularity: f32,
    /// Area over convex-hull area: 1 for convex outlines, lower for stars and notched outlines.
    pub solidity: f32,
    /// Long over short side of the smallest rotated box around the outline (≥ 1).
    pub aspect: f32,
    /// Angle of the long axis in degrees, `0..180`, 0 = horizontal, growing clockwise on screen.
    pub orientation: u16,
    /// Corner count: the shape word's own (0 round, 3, 4, 6, 10 for a star) when there is
    /// a word, otherwise the vertex count of the simplified outline.
    pub corners: u16,
}

/// A shape word for an outline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShapeWord {
    /// A round outline with aspect about 1.
    Circle,
    /// A round outline, elongated.
    Ellipse,
    /// Three corners.
    Triangle,
    /// Four right-angled corners, equal sides.
    Square,
    /// Four right-angled corners, one side clearly longer.
    Rectangle,
    /// Six corners, convex.
    Hexagon,
    /// A spiky, non-convex outline with alternating tips and notches.
    Star,
}

impl ShapeWord {
    /// The word used in the JSON and the compact form, e.g. `"circle"`.
    pub fn word(self) -> &'static str {
        match self {
            ShapeWord::Circle => "circle",
            ShapeWord::Ellipse => "ellipse",
            ShapeWord::Triangle => "triangle",
            ShapeWord::Square => "square",
            ShapeWord::Rectangle => "rectangle",
            ShapeWord::Hexagon => "hexagon",
            ShapeWord::Star => "star",
        }
    }
}

/// A pairwise relation between two objects, read "`a` `kind` `b`".
///
/// Containment is not listed: it is the `parent` field. Relations that follow
/// from the boxes (left of, above) are listed only between objects that share
/// a parent and only with a clear margin; see `docs/digital-twin.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    /// Id of the first object.
    pub a: u32,
    /// How `a` relates to `b`.
    pub kind: RelationKind,
    /// Id of the second object.
    pub b: u32,
}

/// Kind of a [`Relation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// The masks touch or overlap (within a pixel or two), and neither contains the other.
    Touching,
    /// `a` lies entirely left of `b`, with a clear gap.
    LeftOf,
    /// `a` lies entirely above `b`, with a clear gap.
    Above,
}

/// Why a Digital Twin could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// The text is not JSON of the Digital Twin's shape.
    #[error("the Digital Twin JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// The twin was written by a different format version.
    #[error("unsupported Digital Twin version {found:?}; this build reads version {expected:?}")]
    Version {
        /// The version found in the input.
        found: String,
        /// The version this build reads.
        expected: &'static str,
    },
    /// The JSON parses but breaks a rule of the format.
    #[error("invalid Digital Twin: {0}")]
    Invalid(String),
}

impl DigitalTwin {
    /// Object by id, `None` when no object has it.
    pub fn object(&self, id: u32) -> Option<&TwinObject> {
        self.objects.iter().find(|o| o.id == id)
    }

    /// Ids of the direct children of `id`.
    pub fn children(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        self.objects
            .iter()
            .filter(move |o| o.parent == Some(id))
            .map(|o| o.id)
    }

    /// The full JSON form (pretty-printed), for tools and downloads.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a twin from its full JSON form and checks the format's rules
    /// (version, unique ids, parents that exist and come first, coordinates in
    /// the frame, finite measures).
    pub fn from_json(text: &str) -> Result<Self, TwinError> {
        let twin: DigitalTwin = serde_json::from_str(text)?;
        twin.validate()?;
        Ok(twin)
    }

    /// Checks the rules serde cannot: version, ids, parent links, relation ids,
    /// coordinate ranges and finite (f32-representable) measures.
    pub fn validate(&self) -> Result<(), TwinError> {
        if self.version != VERSION {
            return Err(TwinError::Version {
                found: self.version.clone(),
                expected: VERSION,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for o in &self.objects {
            if !seen.insert(o.id) {
                return Err(TwinError::Invalid(format!(
                    "object id {} appears twice",
                    o.id
                )));
            }
            if let Some(p) = o.parent {
                if !seen.contains(&p) || p == o.id {
                    return Err(TwinError::Invalid(format!(
                        "object {} has parent {p}, which is not an earlier object",
                        o.id
                    )));
                }
            }
            let [x0, y0, x1, y1] = o.bbox;
            if x0 > x1 || y0 > y1 || x1 > FRAME || y1 > FRAME {
                return Err(TwinError::Invalid(format!(
                    "object {} has bbox {:?}, expected x0<=x1, y0<=y1, all within 0..={FRAME}",
                    o.id, o.bbox
                )));
            }
            if o.centroid.iter().any(|&c| c > FRAME) {
                return Err(TwinError::Invalid(format!(
                    "object {} has centroid {:?} outside 0..={FRAME}",
                    o.id, o.centroid
                )));
            }
            if !(0.0..=100.0).contains(&o.area_pct) {
                return Err(TwinError::Invalid(format!(
                    "object {} has area_pct {}, expected 0..=100",
                    o.id, o.area_pct
                )));
            }
            // A JSON number beyond the f32 range (e.g. 1e39) reads as infinity,
            // which serde_json writes back as `null`: refuse it here so that
            // every twin that reads also reads back after `to_json`.
            let measures = [
                ("shape.circularity", o.shape.circularity),
                ("shape.solidity", o.shape.solidity),
                ("shape.aspect", o.shape.aspect),
                ("predicted_iou", o.predicted_iou),
                ("stability_score", o.stability_score),
            ];
            if let Some((field, value)) = measures.iter().find(|(_, v)| !v.is_finite()) {
                return Err(TwinError::Invalid(format!(
                    "object {} has {field} {value}, outside the range of a 32-bit float",
                    o.id
                )));
            }
        }
        for r in &self.relations {
            if !seen.contains(&r.a) || !seen.contains(&r.b) {
                return Err(TwinError::Invalid(format!(
                    "relation {} {:?} {} names an unknown object",
                    r.a, r.kind, r.b
                )));
            }
        }
        Ok(())
    }

    /// The compact, table-like text sent to language models (see [`render::compact`]).
    pub fn compact(&self) -> String {
        render::compact(self)
    }
}

/// The JSON Schema of [`DigitalTwin`], pretty-printed with a trailing newline,
/// exactly as committed in `schema/digital-twin.v1.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(DigitalTwin);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
