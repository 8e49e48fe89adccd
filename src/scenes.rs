//! Deterministic synthetic scenes with exact ground truth: flat-coloured
//! shapes on a light background, sometimes one nested inside another, plus
//! questions about them with known answers ([`queries`]).
//!
//! The same seed always gives the same scene (ChaCha8 with explicit seeding
//! and our own sampling arithmetic, never a dependency's), so datasets, tests
//! and benchmarks can name scenes by seed. Across platforms only the last bit
//! of a sine or cosine may differ, which matters only for a pixel centre lying
//! exactly on an edge.

mod geometry;
mod queries;

use std::fmt;

use image::{Rgb, RgbImage};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::mask::{Mask, PixelBox};
use crate::palette::{NamedColour, PALETTE};

pub use geometry::{Outline, STAR_INNER_RATIO};
pub use queries::{queries, QueryKind, SceneQuery};

/// The kinds of shape a scene contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeKind {
    /// A disc.
    Circle,
    /// An axis-aligned square.
    Square,
    /// An axis-aligned rectangle, about twice as long as wide.
    Rectangle,
    /// An equilateral triangle.
    Triangle,
    /// A five-pointed star.
    Star,
    /// An axis-aligned ellipse, about twice as long as wide.
    Ellipse,
    /// A regular hexagon.
    Hexagon,
}

impl ShapeKind {
    /// Every kind, in a stable order.
    pub const ALL: [ShapeKind; 7] = [
        ShapeKind::Circle,
        ShapeKind::Square,
        ShapeKind::Rectangle,
        ShapeKind::Triangle,
        ShapeKind::Star,
        ShapeKind::Ellipse,
        ShapeKind::Hexagon,
    ];

    /// The kinds that can host a nested shape: convex with a large inscribed circle.
    const HOSTS: [ShapeKind; 3] = [ShapeKind::Circle, ShapeKind::Square, ShapeKind::Hexagon];

    /// The lowercase word for the kind ("circle").
    pub fn name(self) -> &'static str {
        match self {
            ShapeKind::Circle => "circle",
            ShapeKind::Square => "square",
            ShapeKind::Rectangle => "rectangle",
            ShapeKind::Triangle => "triangle",
            ShapeKind::Star => "star",
            ShapeKind::Ellipse => "ellipse",
            ShapeKind::Hexagon => "hexagon",
        }
    }

    /// The plural word ("circles").
    pub fn plural(self) -> String {
        format!("{}s", self.name())
    }

    /// Radius of the largest centred circle inside the shape, as a fraction of
    /// its circumscribed radius (for the host kinds).
    fn inscribed_ratio(self) -> f64 {
        match self {
            ShapeKind::Circle => 1.0,
            ShapeKind::Square => std::f64::consts::FRAC_1_SQRT_2,
            ShapeKind::Hexagon => (std::f64::consts::PI / 6.0).cos(),
            _ => 0.0,
        }
    }
}

impl fmt::Display for ShapeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One object of a scene with its exact ground truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneObject {
    /// Index of the object in [`Scene::objects`].
    pub id: usize,
    /// What shape it is.
    pub shape: ShapeKind,
    /// Its colour: a name from [`PALETTE`] (never "white").
    pub colour: String,
    /// The id of the object it is nested in, if any.
    pub parent: Option<usize>,
    /// Every pixel of the shape, including the area of any shape nested inside it.
    pub mask: Mask,
    /// Centroid of [`SceneObject::mask`] in pixels (`x`, `y`).
    pub centre: (f32, f32),
    /// Nominal size: the diameter of the shape's circumscribed circle, in pixels.
    pub size: f32,
    /// The exact geometry the mask was rasterised from.
    pub outline: Outline,
}

impl SceneObject {
    /// Pixel count of the object's mask.
    pub fn area(&self) -> u64 {
        self.mask.area()
    }

    /// Tight pixel box of the object's mask.
    pub fn bbox(&self) -> PixelBox {
        self.mask.bbox().unwrap_or(PixelBox {
            x0: 0,
            y0: 0,
            x1: 0,
            y1: 0,
        })
    }
}

/// A generated scene: the picture and the objects in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The rendered picture.
    pub image: RgbImage,
    /// The background's base colour (pixels vary by up to ±[`NOISE`] around it).
    pub background: [u8; 3],
    /// The objects; hosts come before the shapes nested in them.
    pub objects: Vec<SceneObject>,
}

impl Scene {
    /// The ids of the objects nested directly inside `id`.
    pub fn children(&self, id: usize) -> Vec<usize> {
        self.objects
            .iter()
            .filter(|o| o.parent == Some(id))
            .map(|o| o.id)
            .collect()
    }

    /// The union of the masks of `ids` (unknown ids are skipped): the answer
    /// mask of a query.
    pub fn union_mask(&self, ids: &[usize]) -> Mask {
        let mut mask = Mask::empty(self.image.width(), self.image.height());
        for o in ids.iter().filter_map(|&id| self.objects.get(id)) {
            mask.union_with(&o.mask);
        }
        mask
    }
}

/// Knobs of the generator. The defaults are what `generate` uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneConfig {
    /// Smallest image side in pixels.
    pub min_side: u32,
    /// Largest image side in pixels.
    pub max_side: u32,
    /// Fewest top-level objects.
    pub min_objects: usize,
    /// Most top-level objects (fewer are placed when no room is left for them).
    pub max_objects: usize,
    /// Chance that one shape is nested inside a larger host.
    pub nested_probability: f64,
    /// Chance that two top-level objects share a colour.
    pub same_colour_probability: f64,
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            min_side: 320,
            max_side: 800,
            min_objects: 2,
            max_objects: 6,
            nested_probability: 0.3,
            same_colour_probability: 0.35,
        }
    }
}

/// Pixel noise amplitude on every colour channel (background and objects).
pub const NOISE: i16 = 6;
/// Distance kept between every object and the image border, in pixels.
pub const BORDER_MARGIN: f64 = 18.0;
/// Smallest gap between two separate objects' circumscribed circles, in pixels.
pub const OBJECT_GAP: f64 = 26.0;
/// Smallest distance between a nested shape's circumscribed circle and its
/// host's inscribed circle, in pixels.
pub const NESTING_MARGIN: f64 = 14.0;
/// Smallest object diameter (circumscribed circle), in pixels.
pub const MIN_DIAMETER: f64 = 40.0;

/// The light, flat background tints a scene is painted on.
pub const BACKGROUNDS: [[u8; 3]; 6] = [
    [242, 242, 236],
    [228, 228, 228],
    [234, 241, 250],
    [247, 239, 226],
    [234, 246, 234],
    [248, 236, 240],
];

/// The scene for `seed` with the default configuration.
pub fn generate(seed: u64) -> Scene {
    generate_with(seed, &SceneConfig::default())
}

/// The seed of the `index`-th scene of a set started from `base`: sets with
/// different bases do not share scenes by accident.
pub fn scene_seed(base: u64, index: u64) -> u64 {
    let mut z = base
        ^ index
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The scene for `seed` under `config`. Out-of-range settings are clamped to
/// ones the generator can honour.
pub fn generate_with(seed: u64, config: &SceneConfig) -> Scene {
    let mut rng = Rng::new(seed);
    let min_side = config.min_side.clamp(160, 4096);
    let max_side = config.max_side.clamp(min_side, 4096);
    let width = rng.int(min_side, max_side);
    let height = rng.int(min_side, max_side);
    let max_objects = config.max_objects.clamp(1, 12);
    let min_objects = config.min_objects.clamp(1, max_objects);
    let wanted = rng.int(min_objects as u32, max_objects as u32) as usize;
    let nested = rng.chance(config.nested_probability);

    let placed = place_shapes(&mut rng, width, height, wanted, nested);
    let colours = pick_colours(&mut rng, &placed, config.same_colour_probability);
    let background = pick_background(&mut rng);

    let objects: Vec<SceneObject> = placed
        .iter()
        .zip(&colours)
        .enumerate()
        .map(|(id, (p, colour))| build_object(id, p, colour, width, height))
        .collect();
    let image = paint(&mut rng, width, height, background, &objects, &colours);
    Scene {
        image,
        background,
        objects,
    }
}

/// A shape's placement before colouring and rasterisation.
struct Placed {
    kind: ShapeKind,
    centre: [f64; 2],
    radius: f64,
    rotation: f64,
    aspect: f64,
    upright: bool,
    parent: Option<usize>,
}

impl Placed {
    fn outline(&self) -> Outline {
        Outline::new(
            self.kind,
            self.centre,
            self.radius,
            self.rotation,
            self.aspect,
            self.upright,
        )
    }
}

fn place_shapes(
    rng: &mut Rng,
    width: u32,
    height: u32,
    wanted: usize,
    nested: bool,
) -> Vec<Placed> {
    let (w, h) = (f64::from(width), f64::from(height));
    let room = (w.min(h) - 2.0 * BORDER_MARGIN).max(MIN_DIAMETER);
    let crowd = (w * h / wanted as f64).sqrt() * 0.6;
    let max_diameter = crowd.min(room).clamp(MIN_DIAMETER, 260.0);

    let mut placed: Vec<Placed> = Vec::new();
    let host = if nested {
        place_host(rng, w, h, room)
    } else {
        None
    };
    let host_inscribed = host
        .as_ref()
        .map(|p| (p.centre, p.radius * p.kind.inscribed_ratio()));
    placed.extend(host);
    const ATTEMPTS: u32 = 400;
    while placed.len() < wanted {
        let mut done = false;
        for attempt in 0..ATTEMPTS {
            let shrink = 1.0 - f64::from(attempt) / f64::from(ATTEMPTS);
            let diameter = rng.range(
                MIN_DIAMETER,
                MIN_DIAMETER + (max_diameter - MIN_DIAMETER) * shrink,
            );
            let kind = ShapeKind::ALL[rng.index(ShapeKind::ALL.len())];
            if let Some(p) = try_place(rng, kind, diameter / 2.0, w, h, &placed) {
                placed.push(p);
                done = true;
                break;
            }
        }
        if !done {
            break;
        }
    }
    if let Some((centre, inscribed)) = host_inscribed {
        let child = place_child(rng, centre, inscribed);
        placed.push(child);
    }
    placed
}

fn place_host(rng: &mut Rng, w: f64, h: f64, room: f64) -> Option<Placed> {
    let kind = ShapeKind::HOSTS[rng.index(ShapeKind::HOSTS.len())];
    let needed = (MIN_DIAMETER / 2.0 + NESTING_MARGIN) / kind.inscribed_ratio() * 2.0 + 8.0;
    if room < needed {
        return None;
    }
    let diameter = rng.range(needed, room.min(needed + 140.0));
    try_place(rng, kind, diameter / 2.0, w, h, &[])
}

fn place_child(rng: &mut Rng, host_centre: [f64; 2], inscribed: f64) -> Placed {
    let max_radius = (inscribed - NESTING_MARGIN).max(MIN_DIAMETER / 2.0);
    let radius = rng.range(
        MIN_DIAMETER / 2.0,
        max_radius.min(MIN_DIAMETER / 2.0 + 30.0),
    );
    let slack = (inscribed - NESTING_MARGIN - radius).max(0.0);
    let (angle, offset) = (rng.range(0.0, std::f64::consts::TAU), rng.range(0.0, slack));
    let centre = [
        host_centre[0] + offset * angle.cos(),
        host_centre[1] + offset * angle.sin(),
    ];
    let kind = ShapeKind::ALL[rng.index(ShapeKind::ALL.len())];
    let mut child = shape_at(rng, kind, centre, radius);
    child.parent = Some(0);
    child
}

fn try_place(
    rng: &mut Rng,
    kind: ShapeKind,
    radius: f64,
    w: f64,
    h: f64,
    placed: &[Placed],
) -> Option<Placed> {
    let lo = BORDER_MARGIN + radius;
    let (hi_x, hi_y) = (w - BORDER_MARGIN - radius, h - BORDER_MARGIN - radius);
    if hi_x < lo || hi_y < lo {
        return None;
    }
    let centre = [rng.range(lo, hi_x), rng.range(lo, hi_y)];
    let clear = placed.iter().all(|p| {
        let d = (p.centre[0] - centre[0]).hypot(p.centre[1] - centre[1]);
        d >= p.radius + radius + OBJECT_GAP
    });
    clear.then(|| shape_at(rng, kind, centre, radius))
}

fn shape_at(rng: &mut Rng, kind: ShapeKind, centre: [f64; 2], radius: f64) -> Placed {
    let rotation = match kind {
        ShapeKind::Triangle | ShapeKind::Star | ShapeKind::Hexagon => {
            rng.range(0.0, std::f64::consts::TAU)
        }
        _ => 0.0,
    };
    Placed {
        kind,
        centre,
        radius,
        rotation,
        aspect: rng.range(1.8, 2.3),
        upright: rng.chance(0.4),
        parent: None,
    }
}

fn pick_colours(
    rng: &mut Rng,
    placed: &[Placed],
    same_colour_probability: f64,
) -> Vec<NamedColour> {
    let mut pool: Vec<NamedColour> = PALETTE
        .iter()
        .copied()
        .filter(|c| c.name != "white")
        .collect();
    rng.shuffle(&mut pool);
    let mut colours: Vec<NamedColour> = placed
        .iter()
        .enumerate()
        .map(|(i, _)| pool[i % pool.len()])
        .collect();
    let top_level: Vec<usize> = (0..placed.len())
        .filter(|&i| placed[i].parent.is_none())
        .collect();
    if top_level.len() >= 2 && rng.chance(same_colour_probability) {
        let a = top_level[rng.index(top_level.len())];
        let others: Vec<usize> = top_level.iter().copied().filter(|&i| i != a).collect();
        let b = others[rng.index(others.len())];
        colours[b] = colours[a];
    }
    colours
}

fn pick_background(rng: &mut Rng) -> [u8; 3] {
    let base = BACKGROUNDS[rng.index(BACKGROUNDS.len())];
    base.map(|v| (i16::from(v) + rng.int(0, 8) as i16 - 4).clamp(0, 255) as u8)
}

fn build_object(
    id: usize,
    p: &Placed,
    colour: &NamedColour,
    width: u32,
    height: u32,
) -> SceneObject {
    let outline = p.outline();
    let mask = outline.to_mask(width, height);
    SceneObject {
        id,
        shape: p.kind,
        colour: colour.name.to_string(),
        parent: p.parent,
        centre: centroid(&mask),
        size: (2.0 * p.radius) as f32,
        mask,
        outline,
    }
}

fn centroid(mask: &Mask) -> (f32, f32) {
    let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0u64);
    for y in 0..mask.height() {
        for x in 0..mask.width() {
            if mask.get(x, y) {
                sx += f64::from(x) + 0.5;
                sy += f64::from(y) + 0.5;
                n += 1;
            }
        }
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    ((sx / n as f64) as f32, (sy / n as f64) as f32)
}

fn paint(
    rng: &mut Rng,
    width: u32,
    height: u32,
    background: [u8; 3],
    objects: &[SceneObject],
    colours: &[NamedColour],
) -> RgbImage {
    let mut owner: Vec<Option<usize>> = vec![None; width as usize * height as usize];
    for (i, o) in objects.iter().enumerate() {
        for (slot, &bit) in owner.iter_mut().zip(o.mask.bits()) {
            if bit != 0 {
                *slot = Some(i);
            }
        }
    }
    let mut image = RgbImage::new(width, height);
    for (pixel, slot) in image.pixels_mut().zip(&owner) {
        let base = slot.map_or(background, |i| colours[i].rgb);
        *pixel = Rgb(base.map(|v| (i16::from(v) + rng.noise()).clamp(0, 255) as u8));
    }
    image
}

/// The generator's random source: ChaCha8 plus sampling arithmetic of our
/// own, so that scenes never change with a dependency's sampling code.
struct Rng(ChaCha8Rng);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return lo;
        }
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `lo..=hi`.
    fn int(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        let span = u64::from(hi - lo) + 1;
        lo + (self.0.next_u64() % span) as u32
    }

    fn index(&mut self, len: usize) -> usize {
        self.int(0, len.saturating_sub(1) as u32) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn noise(&mut self) -> i16 {
        (self.0.next_u32() % (2 * NOISE as u32 + 1)) as i16 - NOISE
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_configurations_still_give_valid_scenes() {
        let crowded = SceneConfig {
            min_side: 0,
            max_side: 170,
            min_objects: 50,
            max_objects: 50,
            nested_probability: 1.0,
            same_colour_probability: 1.0,
        };
        for seed in 0..20 {
            let scene = generate_with(seed, &crowded);
            let (w, h) = scene.image.dimensions();
            assert!((160..=170).contains(&w) && (160..=170).contains(&h));
            assert!(!scene.objects.is_empty() && scene.objects.len() <= 13);
            for o in &scene.objects {
                let b = o.bbox();
                assert!(
                    b.x0 >= 16 && b.y0 >= 16 && b.x1 + 16 <= w && b.y1 + 16 <= h,
                    "seed {seed}: {b:?}"
                );
            }
        }
    }

    #[test]
    fn scene_seeds_differ_by_index_and_base() {
        let seeds: std::collections::BTreeSet<u64> = (0..3)
            .flat_map(|base| (0..100).map(move |i| scene_seed(base, i)))
            .collect();
        assert_eq!(seeds.len(), 300);
    }

    #[test]
    fn union_mask_covers_exactly_the_targets() {
        let scene = generate(5);
        let ids = [0, 1];
        let union = scene.union_mask(&ids);
        let expected: u64 = ids.iter().map(|&i| scene.objects[i].area()).sum();
        let nested_overlap: u64 = ids
            .iter()
            .flat_map(|&i| scene.children(i))
            .filter(|c| ids.contains(c))
            .map(|c| scene.objects[c].area())
            .sum();
        assert_eq!(union.area(), expected - nested_overlap);
        assert_eq!(scene.union_mask(&[999]).area(), 0);
    }
}
