//! Parsing a question into a [`Query`]: words become senses, the question
//! splits into the answer phrase, relation phrases and exclusions, and each
//! phrase's words become kinds, conditions and picks.

use super::lexicon::{self, Rel, Sense, Side};
use super::query::{Cmp, Condition, Measure, Number, Phrase, Pick, Query, Test};
use super::words::{self, Degree, Lemma};

/// One word of the question with its meaning (`None`: unknown word).
#[derive(Clone, Debug)]
pub struct Token {
    /// The word as written (lower-cased).
    pub word: String,
    /// Its lemma.
    pub lemma: Lemma,
    /// Its meaning.
    pub sense: Option<Sense>,
}

impl Token {
    fn is(&self, sense: &Sense) -> bool {
        self.sense.as_ref() == Some(sense)
    }

    fn is_filler(&self) -> bool {
        matches!(self.sense, Some(Sense::Filler))
    }

    fn degree(&self) -> Degree {
        self.lemma.degree
    }
}

/// Parses a question.
pub fn parse(text: &str) -> Query {
    let tokens = tokens(text);
    let mut groups = split_exclusions(&tokens).into_iter();
    let head_tokens = groups.next().unwrap_or_default();
    let counting = tokens.iter().any(|t| t.is(&Sense::Count));
    let mut head = phrase(&head_tokens);
    if counting {
        head.number = Number::Many;
    }
    Query {
        head,
        excluded: groups.map(|g| phrase(&g)).collect(),
        counting,
    }
}

/// Splits and lemmatises a question and gives every word its sense,
/// reading fixed phrases ("next to", "other than") as one sense.
pub fn tokens(text: &str) -> Vec<Token> {
    let lemmas: Vec<(String, Lemma)> = words::split(text)
        .into_iter()
        .map(|w| (w.clone(), words::lemmatise(&w)))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lemmas.len() {
        let bases: Vec<&str> = lemmas[i..].iter().map(|(_, l)| l.base.as_str()).collect();
        if let Some((len, sense)) = fixed_phrase(&bases) {
            let (word, lemma) = &lemmas[i];
            out.push(Token {
                word: word.clone(),
                lemma: lemma.clone(),
                sense: Some(sense),
            });
            i += len;
            continue;
        }
        let (word, lemma) = &lemmas[i];
        let sense = lexicon::lookup(&lemma.base);
        out.push(Token {
            word: word.clone(),
            lemma: lemma.clone(),
            sense,
        });
        i += 1;
    }
    drop_imperative_verb(&mut out);
    drop_intensifiers(&mut out);
    out
}

/// "right next to", "right above": "right" before a relation only stresses it.
fn drop_intensifiers(tokens: &mut [Token]) {
    for i in 1..tokens.len() {
        let relation_follows = matches!(tokens[i].sense, Some(Sense::Rel(_) | Sense::Near));
        let previous = &mut tokens[i - 1];
        if relation_follows
            && previous.is(&Sense::Side(Side::Right))
            && previous.degree() == Degree::Positive
        {
            previous.sense = Some(Sense::Filler);
        }
    }
}

fn fixed_phrase(bases: &[&str]) -> Option<(usize, Sense)> {
    let table: &[(&[&str], Sense)] = &[
        (&["next", "to"], Sense::Rel(Rel::Near)),
        (&["on", "top", "of"], Sense::Rel(Rel::Above)),
        (&["other", "than"], Sense::Except),
        (&["apart", "from"], Sense::Except),
        (&["aside", "from"], Sense::Except),
        (&["rather", "than"], Sense::Except),
        (&["as", "well", "as"], Sense::And),
        (&["along", "with"], Sense::And),
        (&["how", "many"], Sense::Count),
        (&["in", "between"], Sense::Rel(Rel::Between)),
        (&["straight", "edge"], Sense::Cornered),
        (&["straight", "side"], Sense::Cornered),
        (&["straight", "line"], Sense::Cornered),
        (&["night", "sky"], Sense::ColourThing("black")),
        (&["rain", "cloud"], Sense::ColourThing("grey")),
        (&["storm", "cloud"], Sense::ColourThing("grey")),
        (&["tree", "trunk"], Sense::ColourThing("brown")),
        (&["fire", "engine"], Sense::ColourThing("red")),
        (&["fire", "truck"], Sense::ColourThing("red")),
        (&["bubble", "gum"], Sense::ColourThing("pink")),
        (&["tropical", "lagoon"], Sense::ColourThing("cyan")),
        (&["turquoise", "stone"], Sense::ColourThing("cyan")),
        (&["clear", "sky"], Sense::ColourThing("blue")),
        (&["egg", "yolk"], Sense::ColourThing("yellow")),
        (&["more", "than", "once"], Sense::Rel(Rel::SameShape)),
        (&["in", "the", "middle"], Sense::Side(Side::Center)),
        (&["in", "the", "center"], Sense::Side(Side::Center)),
        (&["take", "up"], Sense::Filler),
        (&["all", "of"], Sense::All),
    ];
    table
        .iter()
        .find(|(pattern, _)| bases.len() >= pattern.len() && bases[..pattern.len()] == **pattern)
        .map(|(pattern, sense)| (pattern.len(), sense.clone()))
}

/// "circle the red square": a leading "circle" followed by a determiner is the verb.
fn drop_imperative_verb(tokens: &mut [Token]) {
    let leads_with_verb = tokens.len() > 1
        && tokens[0].word == "circle"
        && matches!(
            tokens[1].word.as_str(),
            "the" | "a" | "an" | "all" | "every" | "each" | "any" | "everything"
        );
    if leads_with_verb {
        tokens[0].sense = Some(Sense::Filler);
    }
}

fn split_exclusions(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut groups = vec![Vec::new()];
    for (i, token) in tokens.iter().enumerate() {
        let next_is_not = tokens.get(i + 1).is_some_and(|t| t.is(&Sense::Not));
        if token.is(&Sense::Except) && !next_is_not {
            groups.push(Vec::new());
        } else if !token.is(&Sense::Except) {
            if let Some(group) = groups.last_mut() {
                group.push(token.clone());
            }
        }
    }
    if groups.len() > 1 && groups[0].iter().all(|t| t.is_filler()) {
        groups[0].push(everything_token());
    }
    groups
}

fn everything_token() -> Token {
    Token {
        word: "everything".into(),
        lemma: Lemma {
            base: "everything".into(),
            degree: Degree::Positive,
            plural: false,
        },
        sense: Some(Sense::Everything),
    }
}

/// A relation found in a phrase: where it starts, how many tokens it uses, and what it is.
struct RelationStart {
    at: usize,
    len: usize,
    rel: RelWord,
}

enum RelWord {
    Plain(Rel),
    Nearest { far: bool, degree: Degree },
}

fn phrase(tokens: &[Token]) -> Phrase {
    let starts = relation_starts(tokens);
    let head_end = starts.first().map_or(tokens.len(), |s| s.at);
    let mut head_tokens = tokens[..head_end].to_vec();
    let mut negated = strip_trailing_not(&mut head_tokens);
    let mut head = attributes(&head_tokens);
    for (k, start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(tokens.len(), |s| s.at);
        let mut reference_tokens = tokens[start.at + start.len..end].to_vec();
        let negated_next = strip_trailing_not(&mut reference_tokens);
        if k == 0
            && reference_tokens
                .iter()
                .all(|t| t.is_filler() || t.is(&Sense::Of))
        {
            if let (Some(subject), RelWord::Plain(rel)) =
                (inverted_subject(&head_tokens), &start.rel)
            {
                let mut answer = Phrase {
                    has_noun: true,
                    ..Phrase::default()
                };
                let test = Test::Relation(converse(*rel), vec![subject]);
                answer.conditions.push(Condition { test, negated });
                head = answer;
                negated = negated_next;
                continue;
            }
        }
        if k == 0 && holds_inside(start, &reference_tokens) {
            if let Some(with) = head_tokens.iter().rposition(|t| t.is(&Sense::With)) {
                let held = attributes(&head_tokens[with + 1..]);
                if held.has_noun {
                    head = attributes(&head_tokens[..with]);
                    let test = Test::Relation(Rel::Contains, vec![held]);
                    head.conditions.push(Condition { test, negated });
                    negated = negated_next;
                    continue;
                }
            }
        }
        attach_relation(&mut head, start, &reference_tokens, negated);
        negated = negated_next;
    }
    head
}

/// "what is the red circle inside of?": the named subject of a question whose relation has no object.
fn inverted_subject(head_tokens: &[Token]) -> Option<Phrase> {
    let asks = head_tokens
        .first()
        .is_some_and(|t| matches!(t.word.as_str(), "what" | "which" | "where"));
    let verb = head_tokens
        .get(1)
        .is_some_and(|t| matches!(t.word.as_str(), "is" | "are" | "does" | "do"));
    let subject = head_tokens
        .get(2)
        .is_some_and(|t| matches!(t.word.as_str(), "the" | "that" | "this"));
    if !(asks && verb && subject) {
        return None;
    }
    let phrase = attributes(&head_tokens[2..]);
    (phrase.has_noun || phrase.label.is_some()).then_some(phrase)
}

fn converse(rel: Rel) -> Rel {
    match rel {
        Rel::LeftOf => Rel::RightOf,
        Rel::RightOf => Rel::LeftOf,
        Rel::Above => Rel::Below,
        Rel::Below => Rel::Above,
        Rel::Inside => Rel::Contains,
        Rel::Contains => Rel::Inside,
        Rel::LargerThan => Rel::SmallerThan,
        Rel::SmallerThan => Rel::LargerThan,
        other => other,
    }
}

/// "with a circle inside (it)": "inside" closing a phrase with nothing after it.
fn holds_inside(start: &RelationStart, reference: &[Token]) -> bool {
    matches!(start.rel, RelWord::Plain(Rel::Inside))
        && reference.iter().all(|t| t.is_filler() || t.is(&Sense::Of))
}

fn strip_trailing_not(tokens: &mut Vec<Token>) -> bool {
    let last_content = tokens.iter().rposition(|t| !t.is_filler());
    match last_content {
        Some(i) if tokens[i].is(&Sense::Not) => {
            tokens.remove(i);
            true
        }
        _ => false,
    }
}

fn attach_relation(head: &mut Phrase, start: &RelationStart, reference: &[Token], negated: bool) {
    match start.rel {
        RelWord::Nearest { far, degree } => {
            let target = attributes(reference);
            if degree == Degree::Positive {
                let test = Test::Relation(Rel::Near, vec![target]);
                head.conditions.push(Condition {
                    test,
                    negated: negated != far,
                });
            } else {
                let (rank, count) = pick_rank(head);
                let measure = Measure::DistanceTo(Box::new(target));
                head.pick = Some(Pick {
                    measure,
                    descending: far,
                    rank,
                    count,
                });
            }
        }
        RelWord::Plain(rel) => {
            let reference_phrase = attributes(reference);
            if !reference_phrase.has_noun
                && reference_phrase.label.is_none()
                && !reference_phrase.is_empty()
            {
                merge_into(head, reference_phrase, negated);
                return;
            }
            let references = if rel == Rel::Between {
                split_between(reference)
            } else {
                vec![reference_phrase]
            };
            head.conditions.push(Condition {
                test: Test::Relation(rel, references),
                negated,
            });
        }
    }
}

fn pick_rank(head: &Phrase) -> (u32, u32) {
    match head.number {
        Number::Exactly(n) => (1, n),
        _ => (1, 1),
    }
}

/// "the circle in the top left": a relation to no object is a place or attribute of the head.
fn merge_into(head: &mut Phrase, other: Phrase, negated: bool) {
    for mut condition in other.conditions {
        condition.negated ^= negated;
        head.conditions.push(condition);
    }
    if head.pick.is_none() {
        head.pick = other.pick;
    }
}

fn split_between(tokens: &[Token]) -> Vec<Phrase> {
    match tokens.iter().position(|t| t.is(&Sense::And)) {
        Some(and) => vec![attributes(&tokens[..and]), attributes(&tokens[and + 1..])],
        None => {
            let both = attributes(tokens);
            vec![both.clone(), both]
        }
    }
}

fn relation_starts(tokens: &[Token]) -> Vec<RelationStart> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match relation_at(tokens, i) {
            Some(start) => {
                i = start.at + start.len;
                starts.push(start);
            }
            None => i += 1,
        }
    }
    starts
}

fn next_content(tokens: &[Token], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&j| !tokens[j].is_filler() && !tokens[j].is(&Sense::To))
}

fn relation_at(tokens: &[Token], i: usize) -> Option<RelationStart> {
    let token = &tokens[i];
    let plain = |len, rel| {
        Some(RelationStart {
            at: i,
            len,
            rel: RelWord::Plain(rel),
        })
    };
    match token.sense.as_ref()? {
        Sense::Rel(Rel::Contains) => {
            let next = tokens.get(i + 1);
            let passive = next.is_some_and(|t| t.is(&Sense::By) || t.is(&Sense::Rel(Rel::Inside)));
            if passive {
                plain(2, Rel::Inside)
            } else {
                plain(1, Rel::Contains)
            }
        }
        Sense::Rel(rel) => plain(1, *rel),
        Sense::By => plain(1, Rel::Near),
        Sense::Same => {
            let next = next_content(tokens, i + 1);
            let names_shape = next.is_some_and(|j| {
                matches!(
                    tokens[j].lemma.base.as_str(),
                    "shape" | "kind" | "type" | "form" | "outline"
                )
            });
            match (names_shape, next) {
                (true, Some(j)) => plain(j + 1 - i, Rel::SameShape),
                _ => plain(1, Rel::SameColour),
            }
        }
        Sense::Side(side) => side_relation(tokens, i, *side),
        Sense::Size(big) if token.degree() == Degree::Comparative => {
            let than = next_content(tokens, i + 1).filter(|&j| tokens[j].is(&Sense::Than))?;
            let rel = if *big {
                Rel::LargerThan
            } else {
                Rel::SmallerThan
            };
            Some(RelationStart {
                at: i,
                len: than + 1 - i,
                rel: RelWord::Plain(rel),
            })
        }
        Sense::More | Sense::Less => {
            let j = next_content(tokens, i + 1)?;
            let than = next_content(tokens, j + 1).filter(|&k| tokens[k].is(&Sense::Than))?;
            let big = match tokens[j].sense {
                Some(Sense::Size(big)) => big == token.is(&Sense::More),
                Some(Sense::Space) => token.is(&Sense::More),
                _ => return None,
            };
            let rel = if big {
                Rel::LargerThan
            } else {
                Rel::SmallerThan
            };
            Some(RelationStart {
                at: i,
                len: than + 1 - i,
                rel: RelWord::Plain(rel),
            })
        }
        Sense::Near | Sense::Far => {
            let far = token.is(&Sense::Far);
            let j = next_content(tokens, i + 1)?;
            let start = if tokens[j].is(&Sense::From) {
                next_content(tokens, j + 1)?
            } else {
                j
            };
            if is_place(&tokens[start]) {
                return None;
            }
            Some(RelationStart {
                at: i,
                len: start - i,
                rel: RelWord::Nearest {
                    far,
                    degree: token.degree(),
                },
            })
        }
        _ => None,
    }
}

fn is_place(token: &Token) -> bool {
    matches!(
        token.sense,
        Some(Sense::Side(_) | Sense::Corner | Sense::Edge | Sense::Scene | Sense::SideNoun)
    )
}

/// "left of the square", "to the right side of", "higher than": a side word used as a relation.
fn side_relation(tokens: &[Token], i: usize, side: Side) -> Option<RelationStart> {
    let mut j = i + 1;
    while j < tokens.len()
        && matches!(
            tokens[j].sense,
            Some(Sense::SideNoun | Sense::Edge | Sense::Filler)
        )
    {
        j += 1;
    }
    let link = tokens.get(j)?;
    let is_link = link.is(&Sense::Of) || link.is(&Sense::Than);
    if !is_link {
        return None;
    }
    let target = next_content(tokens, j + 1)?;
    if tokens[target].is(&Sense::Scene) {
        return None;
    }
    let rel = match side {
        Side::Left => Rel::LeftOf,
        Side::Right => Rel::RightOf,
        Side::Top => Rel::Above,
        Side::Bottom => Rel::Below,
        Side::Center => Rel::Inside,
    };
    Some(RelationStart {
        at: i,
        len: j + 1 - i,
        rel: RelWord::Plain(rel),
    })
}

/// Reading state while collecting a phrase's attributes.
#[derive(Default)]
struct Reader {
    phrase: Phrase,
    negate: bool,
    counting_context: bool,
    ordinal: Option<(u32, bool)>,
    number: Option<u32>,
    most: Option<bool>,
    count_cmp: Option<Cmp>,
    inclusive: bool,
    comparative: bool,
    simile: bool,
    previous_word: String,
    towards: Option<(bool, Degree)>,
    places: Vec<Side>,
    places_negated: bool,
    corner: bool,
    edge: bool,
}

fn attributes(tokens: &[Token]) -> Phrase {
    let mut reader = Reader::default();
    for (i, token) in tokens.iter().enumerate() {
        let next = next_content(tokens, i + 1).map(|j| &tokens[j]);
        reader.read(token, next);
    }
    reader.finish()
}

impl Reader {
    fn read(&mut self, token: &Token, next: Option<&Token>) {
        self.read_sense(token, next);
        self.previous_word.clone_from(&token.word);
    }

    fn read_sense(&mut self, token: &Token, next: Option<&Token>) {
        let Some(sense) = token.sense.clone() else {
            self.phrase.unknown.push(token.lemma.base.clone());
            return;
        };
        if !is_place_sense(&sense) {
            self.flush_places();
        }
        if self.simile && sense != Sense::Filler {
            self.simile = false;
            if matches!(sense, Sense::Shape(_) | Sense::Generic) {
                return;
            }
        }
        match sense {
            Sense::Filler
            | Sense::To
            | Sense::Of
            | Sense::By
            | Sense::Scene
            | Sense::And
            | Sense::Or => {}
            Sense::From | Sense::Than | Sense::Same | Sense::Rel(_) | Sense::Except => {}
            Sense::Not => self.negate = true,
            Sense::Like => self.simile = self.previous_word != "shaped",
            Sense::Cornered => self.condition(Test::Corners(Cmp::AtLeast, 1)),
            Sense::Pointy if self.number.is_some() && token.word.starts_with("point") => {
                self.counted_noun(&Sense::Vertex, token)
            }
            Sense::With => self.counting_context = true,
            Sense::Without => {
                self.counting_context = true;
                self.negate = true;
            }
            Sense::Colour(names) | Sense::Shade(names) => {
                let modifies_next = matches!(sense, Sense::Shade(_)) && next.is_some_and(is_colour);
                if !modifies_next {
                    self.colour(names);
                }
            }
            Sense::ColourThing(name) => self.colour(&[name]),
            Sense::Shape(kinds) => self.kind(kinds, token),
            Sense::Generic => self.noun(token),
            Sense::Everything => {
                self.phrase.has_noun = true;
                self.phrase.number = Number::Many;
            }
            Sense::All => self.phrase.number = Number::Many,
            Sense::Count => self.phrase.number = Number::Many,
            Sense::Space => self.space(token),
            Sense::Size(big) => self.size(big, token.degree()),
            Sense::Side(side) => self.side(side, token.degree()),
            Sense::Corner => self.corner(token),
            Sense::Edge | Sense::SideNoun | Sense::Vertex => self.counted_noun(&sense, token),
            Sense::Near => self.towards = Some((true, token.degree())),
            Sense::Far => {
                self.towards = Some((!next.is_some_and(|t| t.is(&Sense::From)), token.degree()))
            }
            Sense::Round => self.graded(Test::Round, Measure::Roundness, token.degree()),
            Sense::Pointy => self.graded(Test::Pointy, Measure::Pointiness, token.degree()),
            Sense::Long => self.graded(Test::Long, Measure::Elongation, token.degree()),
            Sense::Inner => self.graded(Test::Inner, Measure::Depth, token.degree()),
            Sense::Outer => self.depth_outer(token.degree()),
            Sense::Dark | Sense::Light => self.lightness(&sense, token.degree(), next),
            Sense::Ordinal(n) => self.ordinal = Some((n, false)),
            Sense::Last => self.ordinal = Some((self.ordinal.map_or(1, |(n, _)| n), true)),
            Sense::Number(n) => self.number(n, next),
            Sense::Most | Sense::Least => self.most_least(sense == Sense::Most, next),
            Sense::More | Sense::Less => {
                if next.is_some_and(|t| t.is(&Sense::Than)) {
                    self.count_cmp = Some(if sense == Sense::More {
                        Cmp::AtLeast
                    } else {
                        Cmp::AtMost
                    });
                }
            }
        }
    }

    fn take_negation(&mut self) -> bool {
        std::mem::take(&mut self.negate)
    }

    fn condition(&mut self, test: Test) {
        let negated = self.take_negation();
        self.phrase.conditions.push(Condition { test, negated });
    }

    fn colour(&mut self, names: &[&'static str]) {
        let negated = self.take_negation();
        let merged = !negated
            && self
                .phrase
                .conditions
                .iter_mut()
                .any(|c| match &mut c.test {
                    Test::Colour(existing) if !c.negated => {
                        for name in names {
                            if !existing.contains(name) {
                                existing.push(name);
                            }
                        }
                        true
                    }
                    _ => false,
                });
        if !merged {
            self.phrase.conditions.push(Condition {
                test: Test::Colour(names.to_vec()),
                negated,
            });
        }
    }

    fn kind(&mut self, kinds: &'static [&'static str], token: &Token) {
        let target = if self.take_negation() {
            &mut self.phrase.not_kinds
        } else {
            &mut self.phrase.kinds
        };
        target.extend(kinds.iter().copied());
        self.noun(token);
    }

    fn noun(&mut self, token: &Token) {
        self.phrase.has_noun = true;
        if token.lemma.plural {
            self.phrase.number = Number::Many;
        }
        if let Some(n) = self.number.take() {
            self.phrase.number = if n == 1 {
                Number::One
            } else {
                Number::Exactly(n)
            };
        }
    }

    fn space(&mut self, token: &Token) {
        match self.most.take() {
            Some(most) => self.pick(Measure::Area, most),
            None => self.noun(token),
        }
    }

    fn size(&mut self, big: bool, degree: Degree) {
        match (degree, self.most.take()) {
            (Degree::Superlative, _) => self.pick(Measure::Area, big),
            (_, Some(most)) => self.pick(Measure::Area, big == most),
            (Degree::Comparative, None) => {
                self.comparative = true;
                self.condition(Test::Size(big));
            }
            _ => self.condition(Test::Size(big)),
        }
    }

    fn side(&mut self, side: Side, degree: Degree) {
        let superlative = degree == Degree::Superlative || self.most.take().is_some();
        let ranked = self.ordinal.is_some();
        let nearest = matches!(self.towards, Some((_, Degree::Superlative)));
        if (superlative || ranked) && !nearest {
            self.pick(Measure::Towards(vec![side]), false);
        } else {
            self.places.push(side);
            self.places_negated |= self.take_negation();
        }
    }

    fn corner(&mut self, token: &Token) {
        if self.counting_context || self.number.is_some() || self.most.is_some() {
            self.counted_noun(&Sense::Vertex, token);
        } else {
            self.corner = true;
            self.places_negated |= self.take_negation();
        }
    }

    fn counted_noun(&mut self, sense: &Sense, _token: &Token) {
        let counted = self.counting_context || self.number.is_some() || self.most.is_some();
        if let Some(most) = self.most.take() {
            self.pick(Measure::Corners, most);
        } else if let Some(n) = self.number.take() {
            let cmp = self.count_cmp.take().unwrap_or(Cmp::Eq);
            self.condition(Test::Corners(cmp, n));
        } else if counted && self.negate {
            self.negate = false;
            self.condition(Test::Corners(Cmp::Eq, 0));
        } else if counted {
            self.condition(Test::Corners(Cmp::AtLeast, 1));
        } else if *sense == Sense::Edge {
            self.edge = true;
            self.places_negated |= self.take_negation();
        }
        self.counting_context = false;
    }

    fn number(&mut self, n: u32, next: Option<&Token>) {
        self.number = Some(n);
        let adjusts_cmp = !std::mem::take(&mut self.inclusive) && self.count_cmp.is_some();
        let counts_corners = next.is_some_and(|t| {
            matches!(
                t.sense,
                Some(Sense::Corner | Sense::Edge | Sense::SideNoun | Sense::Vertex)
            ) || t.word.starts_with("point")
        });
        if adjusts_cmp && counts_corners {
            let strict = match self.count_cmp {
                Some(Cmp::AtLeast) => n + 1,
                _ => n.saturating_sub(1),
            };
            self.number = Some(strict);
        }
    }

    fn most_least(&mut self, most: bool, next: Option<&Token>) {
        if next.is_some_and(|t| matches!(t.sense, Some(Sense::Number(_)))) {
            self.count_cmp = Some(if most { Cmp::AtMost } else { Cmp::AtLeast });
            self.inclusive = true;
        } else {
            self.most = Some(most);
        }
    }

    fn graded(&mut self, test: Test, measure: Measure, degree: Degree) {
        match (degree, self.most.take()) {
            (Degree::Superlative, _) => self.pick(measure, true),
            (_, Some(most)) => self.pick(measure, most),
            _ => self.condition(test),
        }
    }

    fn depth_outer(&mut self, degree: Degree) {
        match (degree, self.most.take()) {
            (Degree::Superlative, _) => self.pick(Measure::Depth, false),
            (_, Some(most)) => self.pick(Measure::Depth, !most),
            _ => self.condition(Test::Outer),
        }
    }

    fn lightness(&mut self, sense: &Sense, degree: Degree, next: Option<&Token>) {
        let light = *sense == Sense::Light;
        match (degree, self.most.take()) {
            (Degree::Superlative, _) => self.pick(Measure::Lightness, light),
            (_, Some(most)) => self.pick(Measure::Lightness, light == most),
            _ if next.is_some_and(is_colour) => {}
            _ => {
                if let Some(names) = lexicon::family(sense) {
                    self.colour(names);
                }
            }
        }
    }

    fn pick(&mut self, measure: Measure, descending: bool) {
        let (rank, from_end) = self.ordinal.take().unwrap_or((1, false));
        let count = self.number.take().unwrap_or(1);
        if count > 1 {
            self.phrase.number = Number::Exactly(count);
        }
        let descending = descending != from_end;
        self.phrase.pick = Some(Pick {
            measure,
            descending,
            rank,
            count,
        });
    }

    fn flush_places(&mut self) {
        if self.places.is_empty() && !self.corner && !self.edge {
            return;
        }
        let places = std::mem::take(&mut self.places);
        let negated = std::mem::take(&mut self.places_negated);
        let corner = std::mem::take(&mut self.corner);
        let edge = std::mem::take(&mut self.edge);
        match self.towards.take() {
            Some((near, Degree::Superlative | Degree::Comparative)) => {
                let measure = place_measure(places, corner, edge);
                self.pick(measure, !near);
            }
            Some((false, Degree::Positive)) => {
                self.push_places(places, corner, edge, !negated);
            }
            _ => self.push_places(places, corner, edge, negated),
        }
    }

    fn push_places(&mut self, places: Vec<Side>, corner: bool, edge: bool, negated: bool) {
        if !places.is_empty() {
            self.phrase.conditions.push(Condition {
                test: Test::Region(places),
                negated,
            });
        }
        if corner {
            self.phrase.conditions.push(Condition {
                test: Test::Corner,
                negated,
            });
        }
        if edge {
            self.phrase.conditions.push(Condition {
                test: Test::Edge,
                negated,
            });
        }
    }

    fn finish(mut self) -> Phrase {
        self.flush_places();
        if let Some((rank, from_end)) = self.ordinal.take() {
            self.ordinal = Some((rank, from_end));
            self.pick(Measure::Towards(vec![Side::Left]), false);
        }
        if let Some(n) = self.number.take() {
            self.phrase.number = if n == 1 {
                Number::One
            } else {
                Number::Exactly(n)
            };
        }
        if self.comparative {
            self.phrase.number = Number::One;
        }
        let nameless = !self.phrase.has_noun && self.phrase.kinds.is_empty();
        if nameless {
            self.phrase.label = self.phrase.unknown.pop();
        }
        self.phrase
    }
}

fn is_place_sense(sense: &Sense) -> bool {
    matches!(
        sense,
        Sense::Side(_)
            | Sense::Corner
            | Sense::Edge
            | Sense::SideNoun
            | Sense::Filler
            | Sense::Scene
            | Sense::Of
    ) || matches!(
        sense,
        Sense::To | Sense::From | Sense::And | Sense::Near | Sense::Far
    )
}

fn place_measure(places: Vec<Side>, corner: bool, edge: bool) -> Measure {
    match (places.is_empty(), corner, edge) {
        (false, _, _) => Measure::Towards(places),
        (true, true, _) => Measure::CornerDistance,
        (true, false, true) => Measure::EdgeDistance,
        (true, false, false) => Measure::Towards(vec![Side::Center]),
    }
}

fn is_colour(token: &Token) -> bool {
    matches!(token.sense, Some(Sense::Colour(_) | Sense::ColourThing(_)))
}
