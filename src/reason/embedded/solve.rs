//! Answering a parsed [`Query`] over a Digital Twin: narrow by kind, then by
//! attributes, then by relations, then pick by rank, writing one short step
//! per narrowing (the paper's chain of DT filtering steps).

use super::lexicon::{Rel, Side};
use super::query::{Cmp, Condition, Measure, Number, Phrase, Pick, Query, Test};
use crate::reason::Answer;
use crate::twin::{DigitalTwin, RelationKind, ShapeWord, TwinObject, FRAME};

/// Boxes this close (frame units) still count as wholly on one side.
const SIDE_TOLERANCE: f64 = 8.0;
/// Boxes this close (frame units) count as near each other.
const NEAR_GAP: f64 = 120.0;
/// Colours covering at least this share of an object's own pixels count as its colours.
const SECOND_COLOUR_PCT: u8 = 35;
/// Long over short side from which an object counts as long.
const LONG_ASPECT: f32 = 1.5;

/// Answers `query` (the parsed form of `text`) over `twin`.
pub fn solve(twin: &DigitalTwin, query: &Query, text: &str) -> Answer {
    let longest = f64::from(twin.image.width.max(twin.image.height).max(1));
    let scale = [
        f64::from(twin.image.width.max(1)) / longest,
        f64::from(twin.image.height.max(1)) / longest,
    ];
    let mut solver = Solver {
        twin,
        steps: Vec::new(),
        scale,
    };
    match solver.answer(query, text) {
        Ok(ids) => Answer {
            ids,
            steps: solver.steps,
            none_reason: None,
        },
        Err(reason) => {
            solver.steps.push(format!("No answer: {reason}"));
            Answer {
                ids: Vec::new(),
                steps: solver.steps,
                none_reason: Some(reason),
            }
        }
    }
}

struct Solver<'a> {
    twin: &'a DigitalTwin,
    steps: Vec<String>,
    /// Frame units to image-proportional units per axis, so distances follow the picture's aspect.
    scale: [f64; 2],
}

type Ids = Vec<u32>;

/// Shape words that name a special case of another: a square is a rectangle
/// with equal sides, a circle an ellipse with equal axes.
const SPECIAL_CASES: &[(&str, &str)] = &[("rectangle", "square"), ("ellipse", "circle")];

/// The phrase with each shape word also covering its special cases, or
/// `None` when that adds nothing.
fn widened(phrase: &Phrase) -> Option<Phrase> {
    let mut wider = phrase.clone();
    for &(general, special) in SPECIAL_CASES {
        if wider.kinds.contains(&general) && !wider.kinds.contains(&special) {
            wider.kinds.push(special);
        }
    }
    (wider.kinds.len() > phrase.kinds.len()).then_some(wider)
}

impl Solver<'_> {
    fn answer(&mut self, query: &Query, text: &str) -> Result<Ids, String> {
        let all: Ids = self.twin.objects.iter().map(|o| o.id).collect();
        self.steps.push(format!("Objects: {}.", all.len()));
        if all.is_empty() {
            return Err("the picture has no objects I could find".into());
        }
        let head = &query.head;
        if head.is_empty() && !head.has_noun && query.excluded.is_empty() {
            return Err(not_understood(text, &head.unknown));
        }
        if !head.unknown.is_empty() && head.label.is_none() {
            self.steps.push(format!(
                "Ignored words I do not know: {}.",
                head.unknown.join(", ")
            ));
        }
        let ids = self.or_wider_shapes(head, |solver, head| {
            solver.named_by_head(head, &query.excluded, all.clone())
        })?;
        if query.counting {
            self.steps.push(format!("Count: {}.", ids.len()));
        }
        self.step("Answer", &ids);
        Ok(ids)
    }

    /// The objects the head phrase names among `all`, without the excluded ones.
    fn named_by_head(
        &mut self,
        head: &Phrase,
        excluded: &[Phrase],
        all: Ids,
    ) -> Result<Ids, String> {
        let mut candidates = self.filter(head, all)?;
        for excluded in excluded {
            let out = self.resolve(excluded, candidates.clone())?;
            candidates.retain(|id| !out.contains(id));
            self.step("Leaving out", &out);
            self.step("Left", &candidates);
            if candidates.is_empty() {
                return Err("nothing is left once those are left out".into());
            }
        }
        self.choose(head, candidates)
    }

    /// The objects of `universe` a phrase names, with its pick applied.
    fn resolve(&mut self, phrase: &Phrase, universe: Ids) -> Result<Ids, String> {
        self.or_wider_shapes(phrase, |solver, phrase| {
            let filtered = solver.filter(phrase, universe.clone())?;
            solver.choose(phrase, filtered)
        })
    }

    /// Runs `attempt` on the phrase; when nothing fits its exact shape word,
    /// runs it again with the shapes that word also covers ("the blue
    /// rectangle" finds a blue square when no rectangle is blue). The first
    /// reason stands when the wider reading fails too.
    fn or_wider_shapes(
        &mut self,
        phrase: &Phrase,
        mut attempt: impl FnMut(&mut Self, &Phrase) -> Result<Ids, String>,
    ) -> Result<Ids, String> {
        let reason = match attempt(self, phrase) {
            Err(reason) => reason,
            found => return found,
        };
        let Some(wider) = widened(phrase) else {
            return Err(reason);
        };
        self.steps.push(format!(
            "Nothing fits as {}; reading it as {}.",
            phrase.kinds.join(" or "),
            wider.kinds.join(" or ")
        ));
        attempt(self, &wider).map_err(|_| reason)
    }

    fn filter(&mut self, phrase: &Phrase, universe: Ids) -> Result<Ids, String> {
        let mut ids = universe;
        if !phrase.kinds.is_empty() {
            ids.retain(|&id| self.kind_in(id, &phrase.kinds));
            self.step(&format!("Kind {}", phrase.kinds.join(" or ")), &ids);
            if ids.is_empty() {
                return Err(format!("there is no {} here", phrase.kinds.join(" or ")));
            }
        }
        if !phrase.not_kinds.is_empty() {
            ids.retain(|&id| !self.kind_in(id, &phrase.not_kinds));
            self.step(&format!("Not {}", phrase.not_kinds.join(" or ")), &ids);
        }
        if let Some(label) = &phrase.label {
            ids.retain(|&id| self.labelled(id, label));
            if ids.is_empty() {
                return Err(format!(
                    "I do not know what \"{label}\" means here: it is not a shape, colour or place I know, and no object is labelled so"
                ));
            }
            self.step(&format!("Label {label}"), &ids);
        }
        let many = phrase.number != Number::One;
        for condition in &phrase.conditions {
            let nearest_one = matches!(condition.test, Test::Relation(Rel::Near, _)) && !many;
            if (condition.test.is_soft() || nearest_one) && !condition.negated && !many {
                continue;
            }
            let before = ids.clone();
            ids = self.apply(condition, ids)?;
            self.step(&describe(condition), &ids);
            if ids.is_empty() {
                return Err(format!(
                    "no {} fits \"{}\"",
                    noun_of(phrase),
                    describe(condition).to_lowercase()
                ) + &format!(" (of {})", list(&before)));
            }
        }
        Ok(ids)
    }

    fn choose(&mut self, phrase: &Phrase, mut ids: Ids) -> Result<Ids, String> {
        if let Some(pick) = &phrase.pick {
            ids = self.pick(pick, ids)?;
        }
        if phrase.number == Number::One && ids.len() > 1 {
            ids = self.break_tie(phrase, ids)?;
        }
        Ok(ids)
    }

    fn break_tie(&mut self, phrase: &Phrase, ids: Ids) -> Result<Ids, String> {
        let soft = phrase
            .conditions
            .iter()
            .rev()
            .find(|c| c.test.is_soft() && !c.negated);
        if let Some(condition) = soft {
            let measure = soft_measure(&condition.test);
            let pick = Pick {
                measure,
                descending: matches!(condition.test, Test::Size(true)),
                rank: 1,
                count: 1,
            };
            return self.pick(&pick, ids);
        }
        let relation = phrase.conditions.iter().rev().find_map(|c| match &c.test {
            Test::Relation(
                Rel::Near | Rel::LeftOf | Rel::RightOf | Rel::Above | Rel::Below,
                refs,
            ) if !c.negated => refs.first(),
            _ => None,
        });
        if let Some(reference) = relation {
            let pick = Pick {
                measure: Measure::DistanceTo(Box::new(reference.clone())),
                descending: false,
                rank: 1,
                count: 1,
            };
            return self.pick(&pick, ids);
        }
        self.steps.push(format!(
            "{} objects fit the question, which names one; showing all of them.",
            ids.len()
        ));
        Ok(ids)
    }

    fn pick(&mut self, pick: &Pick, ids: Ids) -> Result<Ids, String> {
        let mut ranked = if is_positional(&pick.measure) {
            self.outermost(&ids)
        } else {
            ids
        };
        let references = match &pick.measure {
            Measure::DistanceTo(phrase) => self.reference(phrase)?,
            _ => Vec::new(),
        };
        let mut values: Vec<(u32, f64)> = ranked
            .iter()
            .map(|&id| (id, self.measure(&pick.measure, id, &references)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        values.sort_by(|a, b| {
            if pick.descending {
                b.1.total_cmp(&a.1)
            } else {
                a.1.total_cmp(&b.1)
            }
        });
        ranked = values.iter().map(|(id, _)| *id).collect();
        let start = pick.rank.saturating_sub(1) as usize;
        let end = start + pick.count.max(1) as usize;
        if ranked.len() < end {
            return Err(format!(
                "the question asks for number {} by {}, but only {} object(s) can be ranked",
                end,
                measure_name(&pick.measure, pick.descending),
                ranked.len()
            ));
        }
        let chosen: Ids = ranked[start..end].to_vec();
        let title = match pick.rank {
            1 => capitalise(&measure_name(&pick.measure, pick.descending)),
            n => format!(
                "Number {n} by {}",
                measure_name(&pick.measure, pick.descending)
            ),
        };
        self.step(&title, &chosen);
        Ok(chosen)
    }

    /// Drops objects that lie inside another of `ids`: a nested shape shares its host's place.
    fn outermost(&self, ids: &[u32]) -> Ids {
        ids.iter()
            .copied()
            .filter(|&id| !ids.iter().any(|&other| self.is_ancestor(other, id)))
            .collect()
    }

    fn apply(&mut self, condition: &Condition, ids: Ids) -> Result<Ids, String> {
        let keep: Vec<bool> = match &condition.test {
            Test::Relation(rel, refs) => {
                let references = refs
                    .iter()
                    .map(|r| self.reference(r))
                    .collect::<Result<Vec<Ids>, String>>()?;
                ids.iter()
                    .map(|&id| self.related(id, *rel, &references))
                    .collect()
            }
            test => ids.iter().map(|&id| self.holds(test, id)).collect(),
        };
        Ok(ids
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k != condition.negated)
            .map(|(id, _)| id)
            .collect())
    }

    fn reference(&mut self, phrase: &Phrase) -> Result<Ids, String> {
        let all: Ids = self.twin.objects.iter().map(|o| o.id).collect();
        if phrase.is_empty() {
            return Ok(all);
        }
        let ids = self
            .resolve(phrase, all)
            .map_err(|e| format!("I could not find what the question relates to: {e}"))?;
        Ok(ids)
    }

    fn holds(&self, test: &Test, id: u32) -> bool {
        let Some(o) = self.twin.object(id) else {
            return false;
        };
        let [cx, cy] = centroid(o);
        match test {
            Test::Colour(names) => colours_of(o).any(|c| names.contains(&c)),
            Test::Region(sides) => sides.iter().all(|side| match side {
                Side::Left => cx < 400.0,
                Side::Right => cx > 600.0,
                Side::Top => cy < 400.0,
                Side::Bottom => cy > 600.0,
                Side::Center => {
                    sides.len() > 1 || ((cx - 500.0).abs() < 200.0 && (cy - 500.0).abs() < 200.0)
                }
            }),
            Test::Corner => !(333.0..=667.0).contains(&cx) && !(333.0..=667.0).contains(&cy),
            Test::Edge => self.edge_distance(o) < 100.0,
            Test::Size(big) => (f64::from(o.area_pct) >= self.mean_area()) == *big,
            Test::Round => o.shape.corners == 0,
            Test::Pointy => {
                matches!(o.shape.word, Some(ShapeWord::Triangle | ShapeWord::Star))
                    || (o.shape.corners > 0 && o.shape.solidity < 0.85)
            }
            Test::Long => o.shape.aspect >= LONG_ASPECT,
            Test::Corners(cmp, n) => {
                let corners = corner_count(o);
                match cmp {
                    Cmp::Eq => corners == *n,
                    Cmp::AtLeast => corners >= *n,
                    Cmp::AtMost => corners <= *n,
                }
            }
            Test::Inner => o.parent.is_some(),
            Test::Outer => o.parent.is_none(),
            Test::Relation(..) => false,
        }
    }

    fn related(&self, id: u32, rel: Rel, references: &[Ids]) -> bool {
        let Some(x) = self.twin.object(id) else {
            return false;
        };
        let first = references.first().map(Vec::as_slice).unwrap_or(&[]);
        if rel == Rel::Between {
            let second = references.get(1).map(Vec::as_slice).unwrap_or(first);
            return first.iter().any(|&a| {
                second.iter().any(|&b| {
                    a != b && !self.kin(id, a) && !self.kin(id, b) && self.between(x, a, b)
                })
            });
        }
        first.iter().any(|&r| {
            r != id
                && self
                    .twin
                    .object(r)
                    .is_some_and(|ro| self.relates(x, rel, ro))
        })
    }

    fn relates(&self, x: &TwinObject, rel: Rel, r: &TwinObject) -> bool {
        let kin = self.kin(x.id, r.id);
        let [ax0, ay0, ax1, ay1] = bbox(x);
        let [bx0, by0, bx1, by1] = bbox(r);
        match rel {
            Rel::LeftOf => !kin && ax1 <= bx0 + SIDE_TOLERANCE,
            Rel::RightOf => !kin && ax0 + SIDE_TOLERANCE >= bx1,
            Rel::Above => !kin && ay1 <= by0 + SIDE_TOLERANCE,
            Rel::Below => !kin && ay0 + SIDE_TOLERANCE >= by1,
            Rel::Inside => self.is_ancestor(r.id, x.id),
            Rel::Contains => self.is_ancestor(x.id, r.id),
            Rel::Touching => self.touching(x.id, r.id),
            Rel::Near => !kin && (self.touching(x.id, r.id) || self.box_gap(x, r) <= NEAR_GAP),
            Rel::LargerThan => x.area_pct > r.area_pct * 1.1,
            Rel::SmallerThan => x.area_pct * 1.1 < r.area_pct,
            Rel::SameColour => main_colour(x).is_some() && main_colour(x) == main_colour(r),
            Rel::SameShape => x.shape.word.is_some() && x.shape.word == r.shape.word,
            Rel::Between => false,
        }
    }

    fn between(&self, x: &TwinObject, a: u32, b: u32) -> bool {
        let (Some(a), Some(b)) = (self.twin.object(a), self.twin.object(b)) else {
            return false;
        };
        let ([px, py], [ax, ay], [bx, by]) = (self.point(x), self.point(a), self.point(b));
        let (dx, dy) = (bx - ax, by - ay);
        let length_sq = dx * dx + dy * dy;
        if length_sq <= f64::EPSILON {
            return false;
        }
        let t = ((px - ax) * dx + (py - ay) * dy) / length_sq;
        let off_axis = ((px - ax) * dy - (py - ay) * dx).abs() / length_sq.sqrt();
        (0.15..=0.85).contains(&t) && off_axis <= 0.35 * length_sq.sqrt()
    }

    fn measure(&self, measure: &Measure, id: u32, references: &[u32]) -> f64 {
        let Some(o) = self.twin.object(id) else {
            return f64::NAN;
        };
        let [cx, cy] = self.point(o);
        let [fw, fh] = self.frame();
        match measure {
            Measure::Area => f64::from(o.area_pct),
            Measure::Towards(sides) => towards(sides, [cx, cy], [fw, fh]),
            Measure::CornerDistance => {
                let corners = [(0.0, 0.0), (fw, 0.0), (0.0, fh), (fw, fh)];
                corners
                    .iter()
                    .map(|(x, y)| (cx - x).hypot(cy - y))
                    .fold(f64::INFINITY, f64::min)
            }
            Measure::EdgeDistance => self.edge_distance(o),
            Measure::Corners => f64::from(corner_count(o)),
            Measure::Roundness => f64::from(o.shape.circularity),
            Measure::Pointiness => 1.0 - f64::from(o.shape.circularity),
            Measure::Elongation => f64::from(o.shape.aspect),
            Measure::Lightness => f64::from(o.lab[0]),
            Measure::Depth => self.depth(id) as f64,
            Measure::DistanceTo(_) => references
                .iter()
                .filter(|&&r| !self.kin(id, r))
                .filter_map(|&r| self.twin.object(r))
                .map(|r| {
                    let [rx, ry] = self.point(r);
                    (cx - rx).hypot(cy - ry) + 0.001 * self.box_gap(o, r)
                })
                .fold(f64::INFINITY, f64::min),
        }
    }

    fn point(&self, o: &TwinObject) -> [f64; 2] {
        let [x, y] = centroid(o);
        [x * self.scale[0], y * self.scale[1]]
    }

    fn rect(&self, o: &TwinObject) -> [f64; 4] {
        let [x0, y0, x1, y1] = bbox(o);
        [
            x0 * self.scale[0],
            y0 * self.scale[1],
            x1 * self.scale[0],
            y1 * self.scale[1],
        ]
    }

    fn frame(&self) -> [f64; 2] {
        let frame = f64::from(FRAME);
        [frame * self.scale[0], frame * self.scale[1]]
    }

    fn box_gap(&self, a: &TwinObject, b: &TwinObject) -> f64 {
        let [ax0, ay0, ax1, ay1] = self.rect(a);
        let [bx0, by0, bx1, by1] = self.rect(b);
        let dx = (bx0 - ax1).max(ax0 - bx1).max(0.0);
        let dy = (by0 - ay1).max(ay0 - by1).max(0.0);
        dx.hypot(dy)
    }

    fn edge_distance(&self, o: &TwinObject) -> f64 {
        let [x0, y0, x1, y1] = self.rect(o);
        let [fw, fh] = self.frame();
        x0.min(y0).min(fw - x1).min(fh - y1)
    }

    fn kind_in(&self, id: u32, kinds: &[&str]) -> bool {
        self.twin
            .object(id)
            .and_then(|o| o.shape.word)
            .is_some_and(|w| kinds.contains(&w.word()))
    }

    fn labelled(&self, id: u32, label: &str) -> bool {
        self.twin
            .object(id)
            .and_then(|o| o.label.as_deref())
            .is_some_and(|l| {
                l.to_lowercase()
                    .split_whitespace()
                    .any(|w| w == label || w.trim_end_matches('s') == label)
            })
    }

    fn is_ancestor(&self, ancestor: u32, id: u32) -> bool {
        let mut current = self.twin.object(id).and_then(|o| o.parent);
        let mut guard = 0;
        while let Some(p) = current {
            if p == ancestor {
                return true;
            }
            guard += 1;
            if guard > self.twin.objects.len() {
                return false;
            }
            current = self.twin.object(p).and_then(|o| o.parent);
        }
        false
    }

    fn kin(&self, a: u32, b: u32) -> bool {
        a == b || self.is_ancestor(a, b) || self.is_ancestor(b, a)
    }

    fn depth(&self, id: u32) -> usize {
        (0..self.twin.objects.len())
            .scan(self.twin.object(id).and_then(|o| o.parent), |current, _| {
                let p = (*current)?;
                *current = self.twin.object(p).and_then(|o| o.parent);
                Some(())
            })
            .count()
    }

    fn touching(&self, a: u32, b: u32) -> bool {
        self.twin.relations.iter().any(|r| {
            r.kind == RelationKind::Touching && ((r.a == a && r.b == b) || (r.a == b && r.b == a))
        })
    }

    fn mean_area(&self) -> f64 {
        let total: f64 = self
            .twin
            .objects
            .iter()
            .map(|o| f64::from(o.area_pct))
            .sum();
        total / self.twin.objects.len().max(1) as f64
    }

    fn step(&mut self, what: &str, ids: &[u32]) {
        self.steps.push(format!("{what}: {}.", list(ids)));
    }
}

fn not_understood(text: &str, unknown: &[String]) -> String {
    if unknown.is_empty() {
        format!(
            "I could not find anything to look for in \"{}\"",
            text.trim()
        )
    } else {
        format!(
            "I could not understand \"{}\": I do not know the word(s) {}",
            text.trim(),
            unknown
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn list(ids: &[u32]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn noun_of(phrase: &Phrase) -> String {
    if phrase.kinds.is_empty() {
        "object".into()
    } else {
        phrase.kinds.join(" or ")
    }
}

fn describe(condition: &Condition) -> String {
    let text = match &condition.test {
        Test::Colour(names) => format!("Colour {}", names.join(" or ")),
        Test::Region(sides) => format!(
            "In the {}",
            sides
                .iter()
                .map(|s| side_word(*s))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Test::Corner => "In a corner".into(),
        Test::Edge => "At the edge".into(),
        Test::Size(true) => "Big".into(),
        Test::Size(false) => "Small".into(),
        Test::Round => "Round (no corners)".into(),
        Test::Pointy => "Pointy".into(),
        Test::Long => "Long".into(),
        Test::Corners(Cmp::Eq, n) => format!("{n} corners"),
        Test::Corners(Cmp::AtLeast, n) => format!("At least {n} corners"),
        Test::Corners(Cmp::AtMost, n) => format!("At most {n} corners"),
        Test::Inner => "Inside another object".into(),
        Test::Outer => "Inside no other object".into(),
        Test::Relation(rel, _) => capitalise(rel_word(*rel)),
    };
    if condition.negated {
        format!("Not {}", text.to_lowercase())
    } else {
        text
    }
}

fn rel_word(rel: Rel) -> &'static str {
    match rel {
        Rel::LeftOf => "left of the reference",
        Rel::RightOf => "right of the reference",
        Rel::Above => "above the reference",
        Rel::Below => "below the reference",
        Rel::Inside => "inside the reference",
        Rel::Contains => "holding the reference inside",
        Rel::Touching => "touching the reference",
        Rel::Near => "near the reference",
        Rel::Between => "between the references",
        Rel::LargerThan => "larger than the reference",
        Rel::SmallerThan => "smaller than the reference",
        Rel::SameColour => "same colour as another",
        Rel::SameShape => "same shape as another",
    }
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
        Side::Top => "top",
        Side::Bottom => "bottom",
        Side::Center => "center",
    }
}

fn measure_name(measure: &Measure, descending: bool) -> String {
    let (up, down) = match measure {
        Measure::Area => ("largest", "smallest"),
        Measure::Towards(sides) => {
            let place = sides
                .iter()
                .map(|s| side_word(*s))
                .collect::<Vec<_>>()
                .join(" ");
            return if descending {
                format!("farthest from the {place}")
            } else {
                format!("nearest the {place}")
            };
        }
        Measure::CornerDistance => ("farthest from a corner", "nearest a corner"),
        Measure::EdgeDistance => ("farthest from the edge", "nearest the edge"),
        Measure::Corners => ("most corners", "fewest corners"),
        Measure::Roundness => ("roundest", "least round"),
        Measure::Pointiness => ("pointiest", "least pointy"),
        Measure::Elongation => ("longest", "least elongated"),
        Measure::Lightness => ("lightest", "darkest"),
        Measure::Depth => ("innermost", "outermost"),
        Measure::DistanceTo(_) => ("farthest from the reference", "nearest the reference"),
    };
    if descending { up } else { down }.to_string()
}

fn soft_measure(test: &Test) -> Measure {
    match test {
        Test::Region(sides) => Measure::Towards(sides.clone()),
        Test::Corner => Measure::CornerDistance,
        Test::Edge => Measure::EdgeDistance,
        _ => Measure::Area,
    }
}

fn is_positional(measure: &Measure) -> bool {
    matches!(
        measure,
        Measure::Towards(_)
            | Measure::CornerDistance
            | Measure::EdgeDistance
            | Measure::DistanceTo(_)
    )
}

fn towards(sides: &[Side], [cx, cy]: [f64; 2], [fw, fh]: [f64; 2]) -> f64 {
    let mut target_x = None;
    let mut target_y = None;
    for side in sides {
        match side {
            Side::Left => target_x = Some(0.0),
            Side::Right => target_x = Some(fw),
            Side::Top => target_y = Some(0.0),
            Side::Bottom => target_y = Some(fh),
            Side::Center => {}
        }
    }
    if sides.contains(&Side::Center) {
        target_x = target_x.or(Some(fw / 2.0));
        target_y = target_y.or(Some(fh / 2.0));
    }
    let dx = target_x.map_or(0.0, |t| cx - t);
    let dy = target_y.map_or(0.0, |t| cy - t);
    dx.hypot(dy)
}

fn centroid(o: &TwinObject) -> [f64; 2] {
    [f64::from(o.centroid[0]), f64::from(o.centroid[1])]
}

fn bbox(o: &TwinObject) -> [f64; 4] {
    o.bbox.map(f64::from)
}

fn colours_of(o: &TwinObject) -> impl Iterator<Item = &str> {
    o.colours
        .iter()
        .enumerate()
        .filter(|(i, c)| *i == 0 || c.pct >= SECOND_COLOUR_PCT)
        .map(|(_, c)| c.name.as_str())
}

fn main_colour(o: &TwinObject) -> Option<&str> {
    o.colours.first().map(|c| c.name.as_str())
}

/// Corners as a person counts them: a star's five points, not its ten outline corners.
fn corner_count(o: &TwinObject) -> u32 {
    match o.shape.word {
        Some(ShapeWord::Star) => 5,
        _ => u32::from(o.shape.corners),
    }
}
