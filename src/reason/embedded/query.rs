//! The structure a question is parsed into: which kinds of object, which
//! attributes and relations must hold, and which one(s) to pick by rank.

use super::lexicon::{Rel, Side};

/// A whole question: the phrase that names the answer, and phrases whose
/// objects are taken out of it ("except the circle").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// The phrase naming the answer.
    pub head: Phrase,
    /// Phrases naming objects to leave out.
    pub excluded: Vec<Phrase>,
    /// Whether the person asked "how many".
    pub counting: bool,
}

/// A noun phrase: "the second biggest red circle left of the square".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Phrase {
    /// Shape kinds any of which the object must be (empty: any kind).
    pub kinds: Vec<&'static str>,
    /// Shape kinds the object must not be.
    pub not_kinds: Vec<&'static str>,
    /// A noun the lexicon does not know, to be matched against DT labels.
    pub label: Option<String>,
    /// Conditions that must all hold.
    pub conditions: Vec<Condition>,
    /// Picking by rank after filtering (superlatives, ordinals).
    pub pick: Option<Pick>,
    /// Whether the phrase names one object, several, or a number of them.
    pub number: Number,
    /// Whether the phrase has any noun (a kind, "object", "one", ...).
    pub has_noun: bool,
    /// Words that were not understood.
    pub unknown: Vec<String>,
}

impl Phrase {
    /// Whether the phrase constrains anything at all.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
            && self.not_kinds.is_empty()
            && self.label.is_none()
            && self.conditions.is_empty()
            && self.pick.is_none()
    }
}

/// How many objects a phrase names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Number {
    /// "the circle": one object.
    #[default]
    One,
    /// "circles", "all of them": every match.
    Many,
    /// "two circles": that many.
    Exactly(u32),
}

/// One condition on an object, possibly negated.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// What is tested.
    pub test: Test,
    /// Whether the test must fail instead ("not red").
    pub negated: bool,
}

/// Comparison of a count with a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// Equal to.
    Eq,
    /// At least.
    AtLeast,
    /// At most.
    AtMost,
}

/// A test on one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// Has one of these palette colours.
    Colour(Vec<&'static str>),
    /// Lies in this part of the picture (all sides together: "top left").
    /// Relative for one object (the most extreme wins), a region for many.
    Region(Vec<Side>),
    /// Lies in a corner of the picture.
    Corner,
    /// Lies at the picture's border.
    Edge,
    /// Big (true) or small (false): relative like `Region`.
    Size(bool),
    /// Has no corners (circles, ellipses): it would roll.
    Round,
    /// Has sharp corners (triangles, stars, diamonds).
    Pointy,
    /// Clearly longer than wide, or the reverse.
    Long,
    /// Has a number of corners (sides).
    Corners(Cmp, u32),
    /// Lies inside another object.
    Inner,
    /// Lies inside no other object.
    Outer,
    /// Stands in a relation to objects named by the phrases (two for "between").
    Relation(Rel, Vec<Phrase>),
}

impl Test {
    /// Whether the test is relative when one object is asked for.
    pub fn is_soft(&self) -> bool {
        matches!(
            self,
            Test::Region(_) | Test::Corner | Test::Edge | Test::Size(_)
        )
    }
}

/// Ranking objects and taking some by rank.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    /// What objects are ranked by; smaller values first.
    pub measure: Measure,
    /// Whether to rank from the largest value instead.
    pub descending: bool,
    /// 1-based rank of the first object taken ("second largest": 2).
    pub rank: u32,
    /// How many objects are taken ("the two biggest": 2).
    pub count: u32,
}

/// A number measured on each object for ranking.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// Area share.
    Area,
    /// Distance to a side, a corner ("top left") or the centre.
    Towards(Vec<Side>),
    /// Distance to the nearest corner of the picture.
    CornerDistance,
    /// Distance to the nearest border of the picture.
    EdgeDistance,
    /// Number of corners.
    Corners,
    /// Roundness (circularity).
    Roundness,
    /// Pointiness (sharp, few corners).
    Pointiness,
    /// Elongation (long side over short side).
    Elongation,
    /// Lightness of the colour.
    Lightness,
    /// Nesting depth.
    Depth,
    /// Distance to the nearest object named by the phrase.
    DistanceTo(Box<Phrase>),
}
