//! What each lemma means to the reasoner: colour names and the things known
//! for their colour, shape words, sizes, positions, relations, quantities,
//! negation, and the filler of question forms. Synonyms map to one sense.

/// A direction or region of the picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Towards x = 0.
    Left,
    /// Towards x = 1000.
    Right,
    /// Towards y = 0.
    Top,
    /// Towards y = 1000.
    Bottom,
    /// Towards the middle of the picture.
    Center,
}

/// A relation between an object and reference objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    /// Entirely or mostly left of the reference.
    LeftOf,
    /// Right of the reference.
    RightOf,
    /// Above the reference.
    Above,
    /// Below the reference.
    Below,
    /// Inside (part of, enclosed by) the reference.
    Inside,
    /// Holds the reference inside.
    Contains,
    /// Touches the reference.
    Touching,
    /// Close to the reference.
    Near,
    /// Between two references.
    Between,
    /// Larger than the reference.
    LargerThan,
    /// Smaller than the reference.
    SmallerThan,
    /// Shares a colour with the reference.
    SameColour,
    /// Has the same shape as the reference.
    SameShape,
}

/// The meaning of one lemma (or fixed phrase).
#[derive(Clone, Debug, PartialEq)]
pub enum Sense {
    /// A colour name or synonym: the palette names it covers.
    Colour(&'static [&'static str]),
    /// A colour family ("warm", "pale"); dropped when a colour name follows.
    Shade(&'static [&'static str]),
    /// A thing known for its colour ("banana" → yellow).
    ColourThing(&'static str),
    /// A shape word: the canonical shape names it covers.
    Shape(&'static [&'static str]),
    /// A noun that names no kind ("object", "thing", "one").
    Generic,
    /// "everything", "anything": all objects.
    Everything,
    /// The picture itself ("image", "frame").
    Scene,
    /// Size: true for big, false for small. Gradable.
    Size(bool),
    /// "space", "room", "area": a size noun ("takes the most space").
    Space,
    /// A side or the centre of the picture. Gradable.
    Side(Side),
    /// "corner": a place in the picture, or a vertex when counted.
    Corner,
    /// "edge", "border": the picture's border, or a polygon side when counted.
    Edge,
    /// "side": a polygon side when counted, else part of "left side".
    SideNoun,
    /// "vertex", "point", "tip": counted corners.
    Vertex,
    /// "near", "close". Gradable.
    Near,
    /// "far". Gradable.
    Far,
    /// "round", "curved", "would roll". Gradable.
    Round,
    /// "pointy", "sharp", "spiky". Gradable.
    Pointy,
    /// "long", "thin", "elongated". Gradable.
    Long,
    /// "dark". Gradable (darkest).
    Dark,
    /// "light", "bright", "pale". Gradable (lightest).
    Light,
    /// "inner", "nested". Gradable (innermost).
    Inner,
    /// "outer". Gradable (outermost).
    Outer,
    /// A relation word.
    Rel(Rel),
    /// "of".
    Of,
    /// "from".
    From,
    /// "than".
    Than,
    /// "with", "having", "has".
    With,
    /// "without", "lacking".
    Without,
    /// "same".
    Same,
    /// "not", "no", "non".
    Not,
    /// "like": a simile follows ("like a banana", "roll like a wheel").
    Like,
    /// "straight edges": having corners.
    Cornered,
    /// "except", "but", "other than": starts an exclusion.
    Except,
    /// "and", "plus".
    And,
    /// "or".
    Or,
    /// "all", "every", "each", "both".
    All,
    /// "most".
    Most,
    /// "least", "fewest".
    Least,
    /// "more".
    More,
    /// "less", "fewer".
    Less,
    /// "how many": a counting question.
    Count,
    /// "first", "second", ...
    Ordinal(u32),
    /// "last".
    Last,
    /// A cardinal number.
    Number(u32),
    /// "to", used in "next to", "close to".
    To,
    /// "by", used in passives ("surrounded by").
    By,
    /// Words that carry no constraint ("the", "which", "show", "please").
    Filler,
}

impl Sense {
    /// Whether the sense has comparative and superlative forms.
    pub fn is_gradable(&self) -> bool {
        matches!(
            self,
            Sense::Size(_)
                | Sense::Side(_)
                | Sense::Near
                | Sense::Far
                | Sense::Round
                | Sense::Pointy
                | Sense::Long
                | Sense::Dark
                | Sense::Light
                | Sense::Inner
                | Sense::Outer
        )
    }
}

const WARM: &[&str] = &["red", "orange", "yellow", "pink", "brown"];
const COOL: &[&str] = &["green", "cyan", "blue", "purple"];
const DARK: &[&str] = &["black", "brown", "blue", "purple"];
const LIGHT: &[&str] = &["white", "yellow", "pink", "cyan"];
const NEUTRAL: &[&str] = &["black", "grey", "white"];
const VIVID: &[&str] = &[
    "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink",
];
const PRIMARY: &[&str] = &["red", "yellow", "blue"];
const SECONDARY: &[&str] = &["orange", "green", "purple"];

/// The canonical shape names, for naming shapes the DT reports in other words.
pub const SHAPES: &[&str] = &[
    "circle",
    "ellipse",
    "square",
    "rectangle",
    "triangle",
    "star",
    "diamond",
    "pentagon",
    "hexagon",
    "octagon",
    "cross",
    "heart",
    "ring",
];

/// Looks a lemma up. `None` means the word is unknown.
pub fn lookup(base: &str) -> Option<Sense> {
    colour(base)
        .or_else(|| colour_thing(base).map(Sense::ColourThing))
        .or_else(|| shape(base))
        .or_else(|| grading(base))
        .or_else(|| relation(base))
        .or_else(|| quantity(base))
        .or_else(|| structure(base))
}

/// Whether the lexicon knows the lemma.
pub fn is_known(base: &str) -> bool {
    lookup(base).is_some()
}

/// Whether the lemma is a gradable adjective ("big" in "biggest").
pub fn is_gradable(base: &str) -> bool {
    lookup(base).is_some_and(|s| s.is_gradable())
}

/// Names a palette colour for a thing known for it ("sky" → "blue").
pub fn colour_thing(base: &str) -> Option<&'static str> {
    Some(match base {
        "sky" | "sea" | "ocean" | "sapphire" | "blueberry" | "denim" | "water" | "lake"
        | "jeans" => "blue",
        "banana" | "lemon" | "sun" | "butter" | "corn" | "sunflower" | "canary" | "yolk"
        | "mustard" => "yellow",
        "grass" | "leaf" | "frog" | "lime" | "emerald" | "forest" | "pea" | "cucumber"
        | "broccoli" | "lettuce" | "clover" | "moss" => "green",
        "blood" | "tomato" | "cherry" | "strawberry" | "ruby" | "rose" | "fire" | "apple"
        | "lipstick" => "red",
        "carrot" | "pumpkin" | "tangerine" | "mandarin" | "apricot" | "flame" | "rust" => "orange",
        "snow" | "milk" | "cloud" | "paper" | "chalk" | "ivory" | "cream" | "pearl" | "swan"
        | "sugar" | "salt" | "ghost" => "white",
        "coal" | "night" | "crow" | "ink" | "tar" | "soot" | "raven" | "charcoal" | "ebony"
        | "licorice" => "black",
        "chocolate" | "coffee" | "wood" | "soil" | "dirt" | "mud" | "bark" | "bear"
        | "cinnamon" | "chestnut" | "walnut" | "caramel" | "trunk" => "brown",
        "elephant" | "ash" | "stone" | "rock" | "concrete" | "smoke" | "mouse" | "silver"
        | "steel" | "slate" | "pebble" | "cement" => "grey",
        "flamingo" | "pig" | "bubblegum" | "salmon" | "piglet" | "blossom" => "pink",
        "grape" | "plum" | "lavender" | "eggplant" | "aubergine" | "amethyst" | "lilac" => "purple",
        "turquoise" | "teal" | "aqua" | "aquamarine" | "pool" | "lagoon" => "cyan",
        _ => return None,
    })
}

fn colour(base: &str) -> Option<Sense> {
    let names: &'static [&'static str] = match base {
        "red" | "crimson" | "scarlet" | "maroon" | "vermilion" | "reddish" => &["red"],
        "orange" | "amber" | "orangey" | "orangish" => &["orange"],
        "yellow" | "gold" | "golden" | "yellowish" | "lemony" => &["yellow"],
        "green" | "olive" | "jade" | "greenish" => &["green"],
        "cyan" | "cerulean" | "cyanish" => &["cyan"],
        "blue" | "navy" | "azure" | "cobalt" | "indigo" | "bluish" | "blueish" => &["blue"],
        "purple" | "violet" | "mauve" | "magenta" | "purplish" => &["purple"],
        "pink" | "fuchsia" | "pinkish" | "rosy" => &["pink"],
        "brown" | "tan" | "beige" | "bronze" | "brownish" => &["brown"],
        "black" | "jet" | "blackish" => &["black"],
        "grey" | "greyish" | "silvery" => &["grey"],
        "white" | "whitish" | "snowy" => &["white"],
        _ => return shade(base),
    };
    Some(Sense::Colour(names))
}

fn shade(base: &str) -> Option<Sense> {
    let names: &'static [&'static str] = match base {
        "warm" | "hot" | "fiery" => WARM,
        "cool" | "cold" | "icy" => COOL,
        "neutral" | "colourless" | "achromatic" | "monochrome" | "greyscale" | "dull" => NEUTRAL,
        "vivid" | "colourful" | "saturated" | "chromatic" | "vibrant" | "bold" => VIVID,
        "primary" => PRIMARY,
        "secondary" => SECONDARY,
        "pastel" => LIGHT,
        _ => return None,
    };
    Some(Sense::Shade(names))
}

/// The palette names of a colour family word used as a plain adjective.
pub fn family(sense: &Sense) -> Option<&'static [&'static str]> {
    match sense {
        Sense::Dark => Some(DARK),
        Sense::Light => Some(LIGHT),
        _ => None,
    }
}

fn shape(base: &str) -> Option<Sense> {
    let names: &'static [&'static str] = match base {
        "circle" | "disc" | "disk" | "dot" | "ball" | "sphere" | "orb" | "coin" | "wheel"
        | "blob" => &["circle"],
        "ellipse" | "oval" | "egg" | "ellipsoid" => &["ellipse"],
        "square" | "cube" => &["square"],
        "rectangle" | "oblong" | "bar" | "strip" | "brick" | "slab" | "plank" | "stripe" => {
            &["rectangle"]
        }
        "box" | "block" | "quadrilateral" | "quad" | "tile" => &["square", "rectangle"],
        "triangle" | "wedge" | "pyramid" => &["triangle"],
        "star" => &["star"],
        "diamond" | "rhombus" | "lozenge" => &["diamond"],
        "pentagon" => &["pentagon"],
        "hexagon" => &["hexagon"],
        "octagon" => &["octagon"],
        "cross" | "plus" => &["cross"],
        "heart" => &["heart"],
        "ring" | "donut" | "doughnut" | "annulus" => &["ring"],
        _ => return None,
    };
    Some(Sense::Shape(names))
}

fn grading(base: &str) -> Option<Sense> {
    Some(match base {
        "big" | "large" | "huge" | "giant" | "gigantic" | "enormous" | "massive" | "vast"
        | "great" | "sizeable" | "hefty" => Sense::Size(true),
        "small" | "little" | "tiny" | "mini" | "teeny" | "wee" | "miniature" | "petite"
        | "minuscule" | "puny" => Sense::Size(false),
        "space" | "room" | "area" | "surface" | "size" | "pixel" => Sense::Space,
        "left" | "west" | "lefthand" => Sense::Side(Side::Left),
        "right" | "east" | "righthand" => Sense::Side(Side::Right),
        "top" | "upper" | "high" | "north" => Sense::Side(Side::Top),
        "bottom" | "lower" | "low" | "south" => Sense::Side(Side::Bottom),
        "center" | "middle" | "central" | "mid" | "centered" => Sense::Side(Side::Center),
        "near" | "close" | "nearby" => Sense::Near,
        "far" | "distant" | "remote" => Sense::Far,
        "round" | "circular" | "curved" | "curvy" | "rounded" | "roll" | "smooth" | "roly" => {
            Sense::Round
        }
        "pointy" | "pointed" | "sharp" | "spiky" | "spiked" | "angular" | "jagged" | "prickly" => {
            Sense::Pointy
        }
        "long" | "elongated" | "stretched" | "thin" | "skinny" | "narrow" | "slim" | "slender"
        | "lanky" => Sense::Long,
        "dark" | "deep" | "dim" | "shadowy" => Sense::Dark,
        "light" | "bright" | "pale" | "brilliant" | "luminous" => Sense::Light,
        "inner" | "nested" | "interior" => Sense::Inner,
        "outer" | "exterior" | "outside" => Sense::Outer,
        _ => return None,
    })
}

fn relation(base: &str) -> Option<Sense> {
    Some(Sense::Rel(match base {
        "above" | "over" | "atop" | "overhead" => Rel::Above,
        "below" | "under" | "beneath" | "underneath" => Rel::Below,
        "inside" | "within" | "in" | "into" | "enclose" | "enclosed" => Rel::Inside,
        "contain" | "hold" | "surround" | "around" | "encircle" | "include" | "wrap" | "host" => {
            Rel::Contains
        }
        "touch" | "contact" | "abut" | "meet" => Rel::Touching,
        "beside" | "next" | "adjacent" | "neighbour" | "neighbouring" | "alongside" => Rel::Near,
        "between" | "among" | "amid" | "amidst" => Rel::Between,
        _ => return None,
    }))
}

fn quantity(base: &str) -> Option<Sense> {
    if let Some(n) = number(base) {
        return Some(Sense::Number(n));
    }
    if let Some(n) = ordinal(base) {
        return Some(Sense::Ordinal(n));
    }
    Some(match base {
        "all" | "every" | "each" | "both" | "them" | "they" => Sense::All,
        "most" | "max" | "maximum" | "greatest" => Sense::Most,
        "least" | "fewest" | "min" | "minimum" => Sense::Least,
        "more" => Sense::More,
        "less" | "fewer" => Sense::Less,
        "last" | "final" => Sense::Last,
        _ => return None,
    })
}

fn number(base: &str) -> Option<u32> {
    if let Ok(n) = base.parse::<u32>() {
        return Some(n);
    }
    let words = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    match base {
        "one" => None,
        "pair" | "couple" => Some(2),
        _ => words
            .iter()
            .position(|w| *w == base)
            .and_then(|n| u32::try_from(n).ok()),
    }
}

fn ordinal(base: &str) -> Option<u32> {
    let words = [
        "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
        "ninth", "tenth",
    ];
    if let Some(n) = words.iter().position(|w| *w == base).filter(|n| *n > 0) {
        return u32::try_from(n).ok();
    }
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(n) = base
            .strip_suffix(suffix)
            .and_then(|d| d.parse::<u32>().ok())
        {
            return Some(n).filter(|n| *n > 0);
        }
    }
    None
}

fn structure(base: &str) -> Option<Sense> {
    Some(match base {
        "object" | "thing" | "shape" | "item" | "figure" | "form" | "one" | "region"
        | "element" | "piece" | "segment" | "entity" | "stuff" | "body" | "mark" | "patch"
        | "spot" | "part" | "component" | "bit" | "something" | "someone" | "whatsoever"
        | "outline" | "polygon" | "guy" | "fellow" | "buddy" | "chap" | "specimen" | "instance"
        | "candidate" | "option" | "member" | "glyph" | "symbol" | "sign" | "icon" => {
            Sense::Generic
        }
        "everything" | "anything" | "everyone" | "anyone" | "whatever" => Sense::Everything,
        "image" | "picture" | "photo" | "frame" | "canvas" | "screen" | "scene" | "view"
        | "page" | "photograph" | "drawing" | "pic" | "board" => Sense::Scene,
        "corner" => Sense::Corner,
        "edge" | "border" | "boundary" | "rim" | "margin" => Sense::Edge,
        "side" | "sided" => Sense::SideNoun,
        "vertex" | "vertice" | "point" | "tip" | "apex" | "angle" | "spike" => Sense::Vertex,
        "of" => Sense::Of,
        "from" => Sense::From,
        "than" => Sense::Than,
        "like" | "resembling" => Sense::Like,
        "with" | "having" | "has" | "have" | "had" | "featuring" | "got" => Sense::With,
        "without" | "lacking" | "lack" => Sense::Without,
        "same" | "identical" | "matching" | "share" | "alike" => Sense::Same,
        "not" | "no" | "non" | "never" | "neither" | "nor" | "none" => Sense::Not,
        "except" | "but" | "excluding" | "exclude" | "besides" | "minus" | "ignoring"
        | "ignore" | "save" => Sense::Except,
        "and" | "plus" | "also" => Sense::And,
        "or" | "either" => Sense::Or,
        "to" | "toward" | "towards" => Sense::To,
        "by" => Sense::By,
        _ => return filler(base).then_some(Sense::Filler),
    })
}

fn filler(base: &str) -> bool {
    const FILLER: &[&str] = &[
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "be",
        "being",
        "been",
        "am",
        "that",
        "which",
        "who",
        "whose",
        "what",
        "where",
        "how",
        "this",
        "these",
        "those",
        "it",
        "its",
        "itself",
        "please",
        "can",
        "could",
        "would",
        "will",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "you",
        "your",
        "me",
        "my",
        "i",
        "we",
        "us",
        "our",
        "show",
        "find",
        "segment",
        "highlight",
        "select",
        "mark",
        "locate",
        "give",
        "want",
        "need",
        "get",
        "pick",
        "identify",
        "tell",
        "see",
        "there",
        "here",
        "let",
        "look",
        "display",
        "isolate",
        "choose",
        "point",
        "out",
        "at",
        "on",
        "for",
        "as",
        "colour",
        "clear",
        "day",
        "sunny",
        "hue",
        "shade",
        "tint",
        "located",
        "place",
        "placed",
        "position",
        "positioned",
        "sit",
        "sitting",
        "lie",
        "lying",
        "situate",
        "situated",
        "appear",
        "seem",
        "do",
        "does",
        "did",
        "any",
        "some",
        "kind",
        "sort",
        "type",
        "exactly",
        "just",
        "only",
        "very",
        "really",
        "quite",
        "count",
        "counting",
        "group",
        "set",
        "collection",
        "rather",
        "slightly",
        "somewhat",
        "much",
        "take",
        "occupy",
        "cover",
        "fill",
        "use",
        "entire",
        "hand",
        "whichever",
        "then",
        "so",
        "too",
        "well",
        "okay",
        "ok",
        "hey",
        "hi",
        "now",
        "currently",
        "visible",
        "shown",
        "drawn",
        "painted",
        "coloured",
        "tinted",
        "single",
        "lone",
        "sole",
        "alone",
        "own",
        "portion",
        "up",
        "down",
        "paint",
        "mask",
        "whole",
        "half",
        "quarter",
        "section",
        "draw",
        "trace",
        "indicate",
        "return",
        "output",
        "spot",
        "detect",
        "extract",
        "cut",
        "grab",
        "fetch",
        "reckon",
        "think",
        "guess",
        "believe",
        "suppose",
        "sure",
        "actually",
        "happen",
        "happens",
        "also",
        "if",
        "possible",
        "thanks",
        "thank",
        "kindly",
        "via",
        "onto",
        "upon",
        "throughout",
        "across",
        "whether",
        "even",
        "still",
        "yet",
        "around",
        "about",
        "approximately",
        "roughly",
        "mostly",
        "pretty",
        "fairly",
        "found",
        "called",
        "named",
        "labelled",
        "known",
        "considered",
        "possibly",
        "probably",
        "maybe",
        "perhaps",
        "such",
        "other",
        "another",
        "else",
        "respectively",
        "clearly",
        "obviously",
        "literally",
        "basically",
        "relatively",
    ];
    FILLER.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_share_a_sense() {
        assert_eq!(lookup("crimson"), lookup("red"));
        assert_eq!(lookup("oval"), lookup("ellipse"));
        assert_eq!(lookup("huge"), Some(Sense::Size(true)));
        assert_eq!(lookup("beneath"), Some(Sense::Rel(Rel::Below)));
    }

    #[test]
    fn knows_things_by_their_colour() {
        assert_eq!(colour_thing("sky"), Some("blue"));
        assert_eq!(colour_thing("banana"), Some("yellow"));
        assert_eq!(colour_thing("grass"), Some("green"));
        assert_eq!(colour_thing("table"), None);
    }

    #[test]
    fn reads_numbers_and_ordinals() {
        assert_eq!(lookup("three"), Some(Sense::Number(3)));
        assert_eq!(lookup("12"), Some(Sense::Number(12)));
        assert_eq!(lookup("second"), Some(Sense::Ordinal(2)));
        assert_eq!(lookup("3rd"), Some(Sense::Ordinal(3)));
        assert_eq!(lookup("one"), Some(Sense::Generic));
    }

    #[test]
    fn unknown_words_stay_unknown() {
        assert_eq!(lookup("dog"), None);
        assert_eq!(lookup("xyzzy"), None);
    }
}
