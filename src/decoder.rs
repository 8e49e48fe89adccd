//! The SAM prompt decoder: an image embedding plus prompts (points, a box, a
//! previous mask) in original pixels → low-resolution mask logits and
//! predicted IoU scores, and the helpers that turn those logits into a
//! [`Mask`] in the original frame.
//!
//! tract specifics handled at load time (see `docs/model-contract.md`):
//! only `iou_predictions` and `low_res_masks` are computed (the in-graph
//! upscaling to `orig_im_size` is slow in tract and makes the plan depend on
//! the image size, so the low-res masks are upscaled here instead), and a
//! `DequantizeLinear` whose scale is computed at run time (what
//! `quantize_dynamic` leaves in the upstream int8 decoder, and tract refuses)
//! is rewritten into the equivalent `Cast`, `Sub`, `Mul`.
//!
//! tract runs a plan optimised for fixed sizes up to three times faster than one
//! built for a symbolic batch and point count, so the decoder keeps the
//! checked typed model and builds a plan for each (prompts, points) shape it
//! meets, keeping the last few ([`PLANS_KEPT`]). Batches are padded up to a
//! power of two, so everything mode needs at most five batch shapes. Each
//! plan has its short softmaxes (over the prompt tokens) unrolled into
//! whole-tensor operations first ([`unroll_short_softmax`]), and a
//! single-prompt plan is cut into an image part and a prompt part
//! ([`SplitPlan`]): the image part's values are kept with the embedding, so
//! later prompts on that image run only the prompt part.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde::{Deserialize, Serialize};
use tract_onnx::pb;
use tract_onnx::prelude::*;

use crate::encoder::{Embedding, EMBED_CHANNELS, EMBED_SIDE};
use crate::mask::Mask;
use crate::model::{
    dequantize_weights, guard_tract, input_index, optimised, parse_proto, to_f32_vec, tract_model,
    unroll_short_softmax, Declared, Dim, ModelError, Role, Signature, SplitPlan,
};
use crate::prepare::{Frame, LOW_RES};

/// Prompts per decoder run for decoders with a dynamic batch dimension (a
/// power of two: partial batches are padded to one).
pub const MAX_BATCH: usize = 16;
/// Prompts the everything mode hands at once to a decoder whose batch is
/// fixed at 1: enough single-prompt runs to keep a few threads busy, few
/// enough that the grid points they skip as covered stay nearly as many as
/// one prompt at a time would.
pub const PROMPTS_SIDE_BY_SIDE: usize = 4;
/// Shape-specific plans kept at once; each holds its own packed weights.
pub const PLANS_KEPT: usize = 6;
const CELLS: usize = (LOW_RES * LOW_RES) as usize;
const INPUTS: [&str; 5] = [
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
];
const ORIG_IM_SIZE: &str = "orig_im_size";
const IOU: &str = "iou_predictions";
const LOW_RES_MASKS: &str = "low_res_masks";

/// One prompt point in original image pixels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointPrompt {
    /// Horizontal position in original pixels.
    pub x: f32,
    /// Vertical position in original pixels.
    pub y: f32,
    /// `true`: the object is here; `false`: it is not.
    pub positive: bool,
}

/// What the person (or the proposal grid) asks the decoder, in original pixels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// Positive and negative points.
    pub points: Vec<PointPrompt>,
    /// A box `[x0, y0, x1, y1]` around the object.
    pub bbox: Option<[f32; 4]>,
    /// A previous low-res mask to refine.
    pub mask_input: Option<LowResMask>,
}

impl Prompt {
    /// A prompt of one positive point.
    pub fn point(x: f32, y: f32) -> Self {
        Self {
            points: vec![PointPrompt {
                x,
                y,
                positive: true,
            }],
            ..Self::default()
        }
    }

    /// A prompt of one box.
    pub fn boxed(bbox: [f32; 4]) -> Self {
        Self {
            bbox: Some(bbox),
            ..Self::default()
        }
    }
}

/// Mask logits on the decoder's 256×256 grid, which covers the padded
/// 1024×1024 model frame (the image occupies the top-left part, see
/// [`Frame::low_res_extent`]). Positive logits mean "in the mask".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct LowResMask {
    logits: Vec<f32>,
}

impl TryFrom<Vec<f32>> for LowResMask {
    type Error = String;

    fn try_from(logits: Vec<f32>) -> Result<Self, Self::Error> {
        Self::from_logits(logits).ok_or_else(|| format!("a low-res mask has {CELLS} logits"))
    }
}

impl From<LowResMask> for Vec<f32> {
    fn from(mask: LowResMask) -> Self {
        mask.logits
    }
}

impl LowResMask {
    /// Wraps 256×256 row-major logits; `None` for any other length.
    pub fn from_logits(logits: Vec<f32>) -> Option<Self> {
        (logits.len() == CELLS).then_some(Self { logits })
    }

    /// The row-major 256×256 logits.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// The binary mask in the original image: the image part of the grid,
    /// bilinearly upsampled to the original size (as SAM's
    /// `postprocess_masks`), then `logit > threshold` (SAM uses 0).
    pub fn to_mask(&self, frame: &Frame, threshold: f32) -> Mask {
        let xs: Vec<Tap> = (0..frame.orig_w).map(|x| Tap::new(x, frame.sx())).collect();
        let ys: Vec<Tap> = (0..frame.orig_h).map(|y| Tap::new(y, frame.sy())).collect();
        Mask::from_fn(frame.orig_w, frame.orig_h, |x, y| {
            self.sample(xs[x as usize], ys[y as usize]) > threshold
        })
    }

    /// The logit at a point of the 1024 model frame, interpolated as
    /// [`LowResMask::to_mask`] does, so whether the upsampled mask holds a
    /// point is known to sub-cell precision.
    pub fn logit_at(&self, (x, y): (f32, f32)) -> f32 {
        self.sample(Tap::at(x), Tap::at(y))
    }

    /// The bilinear mix of the four logits around one sampling position.
    fn sample(&self, tx: Tap, ty: Tap) -> f32 {
        let n = LOW_RES as usize;
        let at = |row: usize, col: usize| self.logits[row * n + col];
        let top = at(ty.i0, tx.i0) * (1.0 - tx.f) + at(ty.i0, tx.i1) * tx.f;
        let bottom = at(ty.i1, tx.i0) * (1.0 - tx.f) + at(ty.i1, tx.i1) * tx.f;
        top * (1.0 - ty.f) + bottom * ty.f
    }

    /// SAM's stability score: the IoU between the mask thresholded at
    /// `threshold + offset` and at `threshold - offset` (SAM: 0 and 1.0),
    /// over the whole grid. A mask that is empty at the low threshold scores 0.
    pub fn stability_score(&self, threshold: f32, offset: f32) -> f32 {
        let high = self
            .logits
            .iter()
            .filter(|&&v| v > threshold + offset)
            .count();
        let low = self
            .logits
            .iter()
            .filter(|&&v| v > threshold - offset)
            .count();
        if low == 0 {
            0.0
        } else {
            high as f32 / low as f32
        }
    }
}

/// One bilinear sampling position along an axis of the low-res grid.
#[derive(Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    f: f32,
}

impl Tap {
    /// The grid position of original pixel `p`'s centre, `factor` = frame px per original px.
    fn new(p: u32, factor: f32) -> Self {
        Self::at((p as f32 + 0.5) * factor)
    }

    /// The grid position of a coordinate of the 1024 model frame.
    fn at(model: f32) -> Self {
        let cell = 1024.0 / LOW_RES as f32;
        let last = (LOW_RES - 1) as f32;
        let u = (model / cell - 0.5).clamp(0.0, last);
        let i0 = u.floor() as usize;
        Self {
            i0,
            i1: (i0 + 1).min(LOW_RES as usize - 1),
            f: u - i0 as f32,
        }
    }
}

/// The decoder's answer to one prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The masks: one, or four (0 = the single-mask output, 1..=3 the
    /// multimask granularities sub-part, part, whole).
    pub masks: Vec<LowResMask>,
    /// The predicted IoU of each mask.
    pub iou: Vec<f32>,
}

impl Prediction {
    /// Index of the mask with the highest predicted IoU (the first one on ties).
    pub fn best_index(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, &score) in self.iou.iter().enumerate().take(self.masks.len()) {
            if best.is_none_or(|b| score > self.iou[b]) {
                best = Some(i);
            }
        }
        best
    }

    /// The mask with the highest predicted IoU.
    pub fn best(&self) -> Option<&LowResMask> {
        self.best_index().map(|i| &self.masks[i])
    }
}

/// A prompt in the model frame, as the decoder's point inputs.
#[derive(Clone, Debug, PartialEq)]
struct Encoded {
    coords: Vec<[f32; 2]>,
    labels: Vec<f32>,
}

/// A loaded, checked and optimised SAM decoder.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// The checked model, its batch and point counts still symbols.
    model: Arc<TypedModel>,
    /// The batch and point-count symbols (no batch symbol: batch fixed at 1).
    symbols: (Option<Symbol>, Symbol),
    /// Plans for the shapes met most recently, the newest first.
    plans: Arc<Mutex<KeptPlans>>,
    /// Position in the plan's inputs of each name in [`INPUTS`].
    order: [usize; 5],
    batched: bool,
    mask_batched: bool,
    masks_per_prompt: usize,
}

impl Decoder {
    /// Loads a decoder from ONNX bytes, checks it against the contract and
    /// builds the plan for a one-point prompt (the most common shape, and
    /// proof at load time that the model runs in tract).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let role = Role::Decoder;
        let mut proto = parse_proto(bytes, role)?;
        let graph = proto
            .graph
            .as_mut()
            .ok_or_else(|| ModelError::contract(role, "no graph"))?;
        let sig = Signature::of(graph);
        check_signature(&sig)?;
        let coords = sig
            .input("point_coords")
            .and_then(|d| d.dims.clone())
            .unwrap_or_default();
        let batched = !matches!(coords.first(), Some(Dim::Fixed(1)));
        let mask_dims = sig
            .input("mask_input")
            .and_then(|d| d.dims.clone())
            .unwrap_or_default();
        let mask_batched = batched && !matches!(mask_dims.first(), Some(Dim::Fixed(1)));
        select_low_res_outputs(graph);
        dequantize_weights(graph);
        rewrite_runtime_dequantize(graph);
        freeze_orig_im_size(graph);
        guard_tract(role, || Self::build(&proto, batched, mask_batched))
    }

    fn build(
        proto: &pb::ModelProto,
        batched: bool,
        mask_batched: bool,
    ) -> Result<Self, ModelError> {
        let role = Role::Decoder;
        let mut model = tract_model(proto, role)?;
        let batch_symbol = batched.then(|| model.symbols.sym("B"));
        let points_symbol = model.symbols.sym("N");
        let b: TDim = batch_symbol.clone().map_or(1.into(), TDim::from);
        let n: TDim = points_symbol.clone().into();
        let mb: TDim = if mask_batched { b.clone() } else { 1.into() };
        let (side, grid) = (EMBED_SIDE, LOW_RES as usize);
        let facts: [TypedFact; 5] = [
            f32::fact([1, EMBED_CHANNELS, side, side]),
            f32::fact(&[b.clone(), n.clone(), 2.into()]),
            f32::fact(&[b.clone(), n]),
            f32::fact(&[mb.clone(), 1.into(), grid.into(), grid.into()]),
            f32::fact(&[mb]),
        ];
        let mut order = [0usize; 5];
        for ((name, fact), slot) in INPUTS.iter().zip(facts).zip(order.iter_mut()) {
            *slot = input_index(&model, name, role)?;
            model = model
                .with_input_fact(*slot, fact.into())
                .map_err(|e| ModelError::build(role, e))?;
        }
        let typed = model
            .into_typed()
            .and_then(|m| m.into_decluttered())
            .map_err(|e| ModelError::build(role, e))?;
        let masks_per_prompt = check_output_facts(&typed)?;
        let decoder = Self {
            model: Arc::new(typed),
            symbols: (batch_symbol, points_symbol),
            plans: Arc::default(),
            order,
            batched,
            mask_batched,
            masks_per_prompt,
        };
        decoder.plan_for(Shape {
            prompts: 1,
            points: 2,
        })?;
        Ok(decoder)
    }

    /// The plan for `shape`: a kept one, or one built now (dropping the
    /// least recently used when [`PLANS_KEPT`] are kept; a panic inside tract
    /// while building it is an error, as at load time).
    fn plan_for(&self, shape: Shape) -> Result<Arc<SplitPlan>, ModelError> {
        let mut plans = self.plans.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = plans.iter().position(|(kept, _)| *kept == shape) {
            let entry = plans.remove(at);
            let plan = entry.1.clone();
            plans.insert(0, entry);
            return Ok(plan);
        }
        let plan = guard_tract(Role::Decoder, || self.build_plan(shape))?;
        plans.insert(0, (shape, plan.clone()));
        plans.truncate(PLANS_KEPT);
        Ok(plan)
    }

    fn build_plan(&self, shape: Shape) -> Result<Arc<SplitPlan>, ModelError> {
        let role = Role::Decoder;
        let as_dim = |count: usize| TDim::Val(i64::try_from(count).unwrap_or(i64::MAX));
        let (batch_symbol, points_symbol) = &self.symbols;
        let mut values = std::collections::HashMap::new();
        values.insert(points_symbol.clone(), as_dim(shape.points));
        if let Some(batch_symbol) = batch_symbol {
            values.insert(batch_symbol.clone(), as_dim(shape.prompts));
        }
        self.model
            .set_symbols(&values)
            .and_then(|mut m| unroll_short_softmax(&mut m).map(|_| m))
            .and_then(optimised)
            .and_then(|m| {
                let inputs = m.input_outlets()?;
                let input = |slot: usize| {
                    inputs.get(slot).copied().ok_or_else(|| {
                        TractError::msg(format!("input {slot} is not among the plan's inputs"))
                    })
                };
                let points = [input(self.order[1])?, input(self.order[2])?];
                if shape.prompts == 1 {
                    SplitPlan::new(m, &points)
                } else {
                    SplitPlan::whole(m)
                }
            })
            .map(Arc::new)
            .map_err(|e| ModelError::build(role, e))
    }

    /// Whether one run answers several prompts (the batch dimension is dynamic).
    pub fn is_batched(&self) -> bool {
        self.batched
    }

    /// Masks returned per prompt: 1 (single best mask) or 4 (single + 3 granularities).
    pub fn masks_per_prompt(&self) -> usize {
        self.masks_per_prompt
    }

    /// How many prompts one run takes.
    pub fn max_batch(&self) -> usize {
        if self.batched {
            MAX_BATCH
        } else {
            1
        }
    }

    /// Answers one prompt.
    pub fn predict(
        &self,
        embedding: &Embedding,
        prompt: &Prompt,
    ) -> Result<Prediction, ModelError> {
        let encoded = encode_prompt(prompt, embedding.frame())?;
        let mut out = self.run(embedding, &[encoded], prompt.mask_input.as_ref())?;
        out.pop()
            .ok_or_else(|| ModelError::run(Role::Decoder, "no prediction returned"))
    }

    /// Answers many prompts, batching those without a mask input when the
    /// decoder's batch dimension is dynamic; the result is in prompt order.
    ///
    /// With a prompt pool ([`crate::model::prompts_on_thread_pool`]), the
    /// runs go side by side on its threads (a batched decoder's batch split
    /// into one run per thread); every prompt's answer is the same as alone.
    pub fn predict_batch(
        &self,
        embedding: &Embedding,
        prompts: &[Prompt],
    ) -> Result<Vec<Prediction>, ModelError> {
        let pool = crate::model::prompt_pool();
        let per_run = match &pool {
            Some(pool) => (self.max_batch() / pool.current_num_threads().max(1)).max(1),
            None => self.max_batch(),
        };
        let runs = self.group_into_runs(embedding, prompts, per_run)?;
        let answers: Vec<Result<Vec<Prediction>, ModelError>> = match pool {
            Some(pool) if runs.len() > 1 => pool.install(|| {
                use rayon::prelude::*;
                runs.par_iter()
                    .map(|run| {
                        crate::model::single_threaded(|| {
                            self.run(embedding, &run.prompts, run.mask)
                        })
                    })
                    .collect()
            }),
            _ => runs
                .iter()
                .map(|run| self.run(embedding, &run.prompts, run.mask))
                .collect(),
        };
        let mut out = Vec::with_capacity(prompts.len());
        for answer in answers {
            out.extend(answer?);
        }
        Ok(out)
    }

    /// How many prompts the everything mode hands to [`Self::predict_batch`]
    /// at once: a whole run's worth for a batched decoder, and
    /// [`PROMPTS_SIDE_BY_SIDE`] single-prompt runs otherwise, which a prompt
    /// pool answers side by side. The count never depends on the threads, so
    /// the grid points skipped as covered, and so the masks found, do not
    /// either.
    pub fn prompts_per_batch(&self) -> usize {
        if self.batched {
            MAX_BATCH
        } else {
            PROMPTS_SIDE_BY_SIDE
        }
    }

    /// The decoder runs that answer `prompts` in order: up to `per_run`
    /// prompts without a mask input share a run; a prompt with one runs alone.
    fn group_into_runs<'p>(
        &self,
        embedding: &Embedding,
        prompts: &'p [Prompt],
        per_run: usize,
    ) -> Result<Vec<Run<'p>>, ModelError> {
        let mut runs: Vec<Run<'p>> = Vec::new();
        for prompt in prompts {
            let encoded = encode_prompt(prompt, embedding.frame())?;
            match (prompt.mask_input.as_ref(), runs.last_mut()) {
                (None, Some(last)) if last.mask.is_none() && last.prompts.len() < per_run => {
                    last.prompts.push(encoded);
                }
                (mask, _) => runs.push(Run {
                    prompts: vec![encoded],
                    mask,
                }),
            }
        }
        Ok(runs)
    }

    fn run(
        &self,
        embedding: &Embedding,
        prompts: &[Encoded],
        mask: Option<&LowResMask>,
    ) -> Result<Vec<Prediction>, ModelError> {
        let role = Role::Decoder;
        let asked = prompts.len();
        let b = padded_batch(asked);
        let n = prompts.iter().map(|p| p.labels.len()).max().unwrap_or(1);
        let mut coords = Vec::with_capacity(b * n * 2);
        let mut labels = Vec::with_capacity(b * n);
        let last = prompts.last().into_iter().cycle().take(b - asked);
        for p in prompts.iter().chain(last) {
            for i in 0..n {
                let ([x, y], label) = match p.labels.get(i) {
                    Some(&label) => (p.coords[i], label),
                    None => ([0.0, 0.0], -1.0),
                };
                coords.extend([x, y]);
                labels.push(label);
            }
        }
        let mb = if self.mask_batched { b } else { 1 };
        let (mask_values, has_mask) = match mask {
            Some(m) => (m.logits.repeat(mb), vec![1.0f32; mb]),
            None => (vec![0.0f32; mb * CELLS], vec![0.0f32; mb]),
        };
        let grid = LOW_RES as usize;
        let tensor = |shape: &[usize], data: &[f32]| {
            Tensor::from_shape(shape, data).map_err(|e| ModelError::run(role, e))
        };
        let values: [TValue; 5] = [
            TValue::from_const(embedding.tensor()),
            tensor(&[b, n, 2], &coords)?.into(),
            tensor(&[b, n], &labels)?.into(),
            tensor(&[mb, 1, grid, grid], &mask_values)?.into(),
            tensor(&[mb], &has_mask)?.into(),
        ];
        let inputs = self.in_plan_order(values);
        let shape = Shape {
            prompts: b,
            points: n,
        };
        let plan = self.plan_for(shape)?;
        let image_values = match mask {
            Some(_) => plan.image_values(&inputs),
            None => image_values(&plan, embedding, &inputs),
        }
        .map_err(|e| ModelError::run(role, e))?;
        let outputs = plan
            .run(inputs, &image_values)
            .map_err(|e| ModelError::run(role, e))?;
        let [iou, low_res] = outputs.as_slice() else {
            return Err(ModelError::run(
                role,
                format!("expected 2 outputs, got {}", outputs.len()),
            ));
        };
        let mut predictions = split_predictions(
            &to_f32_vec(iou, role)?,
            &to_f32_vec(low_res, role)?,
            b,
            self.masks_per_prompt,
        )?;
        predictions.truncate(asked);
        Ok(predictions)
    }

    /// The values of [`INPUTS`], in that order, as the plan takes its inputs.
    fn in_plan_order(&self, values: [TValue; 5]) -> TVec<TValue> {
        let mut inputs: Vec<Option<TValue>> = vec![None; 5];
        for (value, &slot) in values.into_iter().zip(&self.order) {
            inputs[slot] = Some(value);
        }
        inputs.into_iter().flatten().collect()
    }
}

/// Prompts that share one decoder run, and the mask input they all take.
struct Run<'p> {
    prompts: Vec<Encoded>,
    mask: Option<&'p LowResMask>,
}

/// Plans by the shape they were built for, the most recently used first.
type KeptPlans = Vec<(Shape, Arc<SplitPlan>)>;

/// Where an [`Embedding`] keeps the decoder's image part computed from it.
pub(crate) type ImagePartSlot = Mutex<Option<ImagePart>>;

/// The values a plan's image part handed over for one embedding, and the
/// plan they are for (weakly: a kept part does not keep a dropped plan).
#[derive(Debug)]
pub(crate) struct ImagePart {
    plan: Weak<SplitPlan>,
    values: TVec<TValue>,
}

/// The image part's values for `embedding` with no mask input: the ones kept
/// with the embedding if `plan` made them, else computed and kept in their
/// place (a plan run whole hands nothing over and leaves the kept ones, so a
/// click's survive a batched search).
fn image_values(
    plan: &Arc<SplitPlan>,
    embedding: &Embedding,
    inputs: &TVec<TValue>,
) -> TractResult<TVec<TValue>> {
    let slot = embedding.image_part();
    if let Some(part) = slot.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        if Weak::ptr_eq(&part.plan, &Arc::downgrade(plan)) {
            return Ok(part.values.clone());
        }
    }
    let values = plan.image_values(inputs)?;
    if !values.is_empty() {
        let part = ImagePart {
            plan: Arc::downgrade(plan),
            values: values.clone(),
        };
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(part);
    }
    Ok(values)
}

/// The size of one decoder run's inputs, which a plan is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    prompts: usize,
    points: usize,
}

/// The batch size a run of `prompts` prompts is padded to: the next power of
/// two, so partial batches reuse a few plans instead of needing one each.
fn padded_batch(prompts: usize) -> usize {
    prompts.max(1).next_power_of_two()
}

fn split_predictions(
    iou: &[f32],
    low_res: &[f32],
    b: usize,
    m: usize,
) -> Result<Vec<Prediction>, ModelError> {
    if iou.len() != b * m || low_res.len() != b * m * CELLS {
        return Err(ModelError::run(
            Role::Decoder,
            format!(
                "outputs hold {} scores and {} logits, expected {} and {}",
                iou.len(),
                low_res.len(),
                b * m,
                b * m * CELLS
            ),
        ));
    }
    Ok((0..b)
        .map(|i| Prediction {
            masks: low_res[i * m * CELLS..(i + 1) * m * CELLS]
                .chunks_exact(CELLS)
                .map(|c| LowResMask { logits: c.to_vec() })
                .collect(),
            iou: iou[i * m..(i + 1) * m].to_vec(),
        })
        .collect())
}

/// Converts a prompt to model-frame points and SAM labels (1 positive,
/// 0 negative, 2/3 box corners, -1 padding), checking it first.
fn encode_prompt(prompt: &Prompt, frame: &Frame) -> Result<Encoded, ModelError> {
    let (w, h) = (frame.orig_w as f32, frame.orig_h as f32);
    if prompt.points.is_empty() && prompt.bbox.is_none() {
        return Err(ModelError::Prompt(
            "a prompt needs at least one point or a box".into(),
        ));
    }
    let mut coords = Vec::new();
    let mut labels = Vec::new();
    for p in &prompt.points {
        if !(p.x.is_finite() && p.y.is_finite()) || p.x < 0.0 || p.y < 0.0 || p.x > w || p.y > h {
            return Err(ModelError::Prompt(format!(
                "point ({}, {}) lies outside the {}x{} image",
                p.x, p.y, frame.orig_w, frame.orig_h
            )));
        }
        let (x, y) = frame.to_model(p.x, p.y);
        coords.push([x, y]);
        labels.push(if p.positive { 1.0 } else { 0.0 });
    }
    match prompt.bbox {
        Some([x0, y0, x1, y1]) => {
            if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) || x1 <= x0 || y1 <= y0 {
                return Err(ModelError::Prompt(format!(
                    "box ({x0}, {y0}, {x1}, {y1}) must have x0 < x1 and y0 < y1"
                )));
            }
            let (a, b) = (
                frame.to_model(x0.clamp(0.0, w), y0.clamp(0.0, h)),
                frame.to_model(x1.clamp(0.0, w), y1.clamp(0.0, h)),
            );
            coords.extend([[a.0, a.1], [b.0, b.1]]);
            labels.extend([2.0, 3.0]);
        }
        None => {
            coords.push([0.0, 0.0]);
            labels.push(-1.0);
        }
    }
    if let Some(mask) = &prompt.mask_input {
        if mask.logits.len() != CELLS {
            return Err(ModelError::Prompt(format!(
                "the mask input has {} logits, expected {CELLS}",
                mask.logits.len()
            )));
        }
    }
    Ok(Encoded { coords, labels })
}

fn check_signature(sig: &Signature) -> Result<(), ModelError> {
    let role = Role::Decoder;
    let known: HashSet<&str> = INPUTS.iter().copied().chain([ORIG_IM_SIZE]).collect();
    if let Some(extra) = sig.inputs.iter().find(|d| !known.contains(d.name.as_str())) {
        return Err(ModelError::contract(
            role,
            format!(
                "unexpected input `{}` (a SAM decoder takes image_embeddings, point_coords, point_labels, \
                 mask_input, has_mask_input and optionally orig_im_size; this one takes {})",
                extra.name,
                sig.input_names()
            ),
        ));
    }
    let grid = Some(i64::from(LOW_RES));
    let expected: [(&str, Vec<Option<i64>>); 5] = [
        (
            "image_embeddings",
            vec![
                Some(1),
                Some(EMBED_CHANNELS as i64),
                Some(EMBED_SIDE as i64),
                Some(EMBED_SIDE as i64),
            ],
        ),
        ("point_coords", vec![None, None, Some(2)]),
        ("point_labels", vec![None, None]),
        ("mask_input", vec![None, Some(1), grid, grid]),
        ("has_mask_input", vec![None]),
    ];
    for (name, dims) in &expected {
        let declared = sig.input(name).ok_or_else(|| {
            ModelError::contract(
                role,
                format!(
                    "missing input `{name}` (the decoder takes {})",
                    sig.input_names()
                ),
            )
        })?;
        declared.check(role, "input", dims)?;
    }
    if let Some(size) = sig.input(ORIG_IM_SIZE) {
        size.check(role, "input", &[Some(2)])?;
    }
    check_declared_output(sig, IOU, &[None, None])?;
    check_declared_output(sig, LOW_RES_MASKS, &[None, None, grid, grid])
}

fn check_declared_output(
    sig: &Signature,
    name: &str,
    dims: &[Option<i64>],
) -> Result<(), ModelError> {
    let role = Role::Decoder;
    let declared: &Declared = sig.output(name).ok_or_else(|| {
        ModelError::contract(
            role,
            format!(
                "missing output `{name}` (the decoder returns {})",
                sig.output_names()
            ),
        )
    })?;
    declared.check(role, "output", dims)
}

/// Checks the typed output shapes; returns the number of masks per prompt.
fn check_output_facts(model: &TypedModel) -> Result<usize, ModelError> {
    let role = Role::Decoder;
    let dims = |i: usize| -> Result<TVec<TDim>, ModelError> {
        Ok(model
            .output_fact(i)
            .map_err(|e| ModelError::build(role, e))?
            .shape
            .dims()
            .into())
    };
    let (iou, low) = (dims(0)?, dims(1)?);
    let grid = TDim::from(LOW_RES as usize);
    let masks = match low.get(1) {
        Some(TDim::Val(m)) => usize::try_from(*m).ok(),
        _ => None,
    };
    match masks {
        Some(m) if m > 0 && low.len() == 4 && low[2] == grid && low[3] == grid && iou.len() == 2 => Ok(m),
        _ => Err(ModelError::contract(
            role,
            format!("outputs `{IOU}` {iou:?} and `{LOW_RES_MASKS}` {low:?} do not have the shapes [B, M] and [B, M, 256, 256]"),
        )),
    }
}

/// Keeps only `iou_predictions` and `low_res_masks`, in that order.
fn select_low_res_outputs(graph: &mut pb::GraphProto) {
    let mut outputs = std::mem::take(&mut graph.output);
    outputs.retain(|o| o.name == IOU || o.name == LOW_RES_MASKS);
    outputs.sort_by_key(|o| o.name != IOU);
    graph.output = outputs;
}

/// Replaces the `orig_im_size` input by a constant: its only consumer is the
/// upscaling to the original size, which is not computed.
fn freeze_orig_im_size(graph: &mut pb::GraphProto) {
    if !graph.input.iter().any(|i| i.name == ORIG_IM_SIZE) {
        return;
    }
    graph.input.retain(|i| i.name != ORIG_IM_SIZE);
    graph.initializer.retain(|t| t.name != ORIG_IM_SIZE);
    graph.initializer.push(pb::TensorProto {
        name: ORIG_IM_SIZE.to_string(),
        dims: vec![2],
        data_type: crate::model::ONNX_FLOAT,
        float_data: vec![1024.0, 1024.0],
        ..Default::default()
    });
}

/// Rewrites every `DequantizeLinear` whose scale is not a constant into
/// `Cast(x) - Cast(zero_point)` times the scale. Returns how many were rewritten.
pub(crate) fn rewrite_runtime_dequantize(graph: &mut pb::GraphProto) -> usize {
    let constants: HashSet<String> = graph
        .initializer
        .iter()
        .map(|t| t.name.clone())
        .chain(
            graph
                .node
                .iter()
                .filter(|n| n.op_type == "Constant")
                .flat_map(|n| n.output.clone()),
        )
        .collect();
    let mut rewritten = 0;
    let nodes = std::mem::take(&mut graph.node);
    for node in nodes {
        let runtime_scale = node.op_type == "DequantizeLinear"
            && node.domain.is_empty()
            && node.input.get(1).is_some_and(|s| !constants.contains(s))
            && node.output.len() == 1;
        if !runtime_scale {
            graph.node.push(node);
            continue;
        }
        rewritten += 1;
        graph.node.extend(float_dequantize(&node));
    }
    rewritten
}

fn float_dequantize(node: &pb::NodeProto) -> Vec<pb::NodeProto> {
    let base = if node.name.is_empty() {
        node.output[0].clone()
    } else {
        node.name.clone()
    };
    let make =
        |suffix: &str, op: &str, inputs: Vec<String>, output: String, cast: bool| pb::NodeProto {
            name: format!("{base}/{suffix}"),
            op_type: op.to_string(),
            input: inputs,
            output: vec![output],
            attribute: if cast {
                vec![pb::AttributeProto {
                    name: "to".into(),
                    r#type: 2,
                    i: i64::from(crate::model::ONNX_FLOAT),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
    let x = format!("{base}/x_f32");
    let mut nodes = vec![make(
        "cast_x",
        "Cast",
        vec![node.input[0].clone()],
        x.clone(),
        true,
    )];
    let centred = match node.input.get(2).filter(|z| !z.is_empty()) {
        Some(zero_point) => {
            let zp = format!("{base}/zero_point_f32");
            let centred = format!("{base}/centred");
            nodes.push(make(
                "cast_zero_point",
                "Cast",
                vec![zero_point.clone()],
                zp.clone(),
                true,
            ));
            nodes.push(make(
                "sub_zero_point",
                "Sub",
                vec![x, zp],
                centred.clone(),
                false,
            ));
            centred
        }
        None => x,
    };
    nodes.push(make(
        "mul_scale",
        "Mul",
        vec![centred, node.input[1].clone()],
        node.output[0].clone(),
        false,
    ));
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_mask(f: impl Fn(usize, usize) -> f32) -> LowResMask {
        let n = LOW_RES as usize;
        LowResMask::from_logits((0..CELLS).map(|i| f(i % n, i / n)).collect()).unwrap()
    }

    #[test]
    fn to_mask_maps_the_valid_region_to_the_original_size() {
        // Image 512x256 -> frame 1024x512 -> low-res 256x128 valid cells.
        let frame = Frame::new(512, 256);
        let low = grid_mask(|x, _| if x < 128 { 10.0 } else { -10.0 });
        let mask = low.to_mask(&frame, 0.0);
        assert_eq!((mask.width(), mask.height()), (512, 256));
        // Cell 128 starts at frame x = 512, original x = 256.
        assert!(mask.get(254, 100) && !mask.get(257, 100));
        assert_eq!(mask.area(), 256 * 256);
    }

    #[test]
    fn logit_at_agrees_with_the_upsampled_mask_between_cell_centres() {
        // A ramp over x: logit = cell column - 100, so 0 at the centre of cell 100
        // (frame x = 100 * 4 + 2), positive to its right.
        let ramp = grid_mask(|x, _| x as f32 - 100.0);
        assert!((ramp.logit_at((402.0, 40.0))).abs() < 1e-4);
        assert!((ramp.logit_at((403.0, 40.0)) - 0.25).abs() < 1e-4);
        assert!(ramp.logit_at((401.0, 40.0)) < 0.0);
        let frame = Frame::new(1024, 1024);
        let mask = ramp.to_mask(&frame, 0.0);
        for x in 395..410 {
            let centre = (x as f32 + 0.5, 40.5);
            assert_eq!(mask.get(x, 40), ramp.logit_at(centre) > 0.0, "x = {x}");
        }
    }

    #[test]
    fn stability_is_one_for_sharp_and_lower_for_soft_masks() {
        let sharp = grid_mask(|x, y| if x < 100 && y < 100 { 10.0 } else { -10.0 });
        assert_eq!(sharp.stability_score(0.0, 1.0), 1.0);
        let soft = grid_mask(|x, _| (100.0 - x as f32) * 0.1);
        let s = soft.stability_score(0.0, 1.0);
        assert!(s > 0.7 && s < 1.0, "{s}");
        assert_eq!(grid_mask(|_, _| -5.0).stability_score(0.0, 1.0), 0.0);
    }

    #[test]
    fn prompts_are_encoded_like_sam() {
        let frame = Frame::new(500, 250);
        let enc = encode_prompt(&Prompt::point(100.0, 50.0), &frame).unwrap();
        assert_eq!(enc.labels, vec![1.0, -1.0]);
        assert!((enc.coords[0][0] - 204.8).abs() < 1e-3 && (enc.coords[0][1] - 102.4).abs() < 1e-3);
        let mut boxed = Prompt::boxed([10.0, 20.0, 110.0, 220.0]);
        boxed.points.push(PointPrompt {
            x: 50.0,
            y: 60.0,
            positive: false,
        });
        let enc = encode_prompt(&boxed, &frame).unwrap();
        assert_eq!(enc.labels, vec![0.0, 2.0, 3.0]);
        for bad in [
            Prompt::default(),
            Prompt::point(600.0, 10.0),
            Prompt::point(f32::NAN, 1.0),
            Prompt::boxed([5.0, 5.0, 5.0, 9.0]),
        ] {
            assert!(
                matches!(encode_prompt(&bad, &frame), Err(ModelError::Prompt(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn best_prefers_the_highest_score_then_the_first() {
        let m = grid_mask(|_, _| 0.0);
        let p = Prediction {
            masks: vec![m.clone(), m.clone(), m.clone()],
            iou: vec![0.5, 0.9, 0.9],
        };
        assert_eq!(p.best_index(), Some(1));
        let empty = Prediction {
            masks: vec![],
            iou: vec![],
        };
        assert!(empty.best().is_none());
    }

    #[test]
    fn runtime_scale_dequantize_becomes_float_ops() {
        let node = |op: &str, inputs: &[&str], output: &str| pb::NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: output.into(),
            ..Default::default()
        };
        let mut graph = pb::GraphProto {
            node: vec![
                node("DynamicQuantizeLinear", &["a"], "q"),
                node("DequantizeLinear", &["q", "scale", "zp"], "deq"),
                node("DequantizeLinear", &["w", "const_scale"], "deq_w"),
            ],
            initializer: vec![pb::TensorProto {
                name: "const_scale".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(rewrite_runtime_dequantize(&mut graph), 1);
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(
            ops,
            [
                "DynamicQuantizeLinear",
                "Cast",
                "Cast",
                "Sub",
                "Mul",
                "DequantizeLinear"
            ]
        );
        assert_eq!(graph.node[4].output, vec!["deq".to_string()]);
    }

    /// The built-in decoder's inputs for one point prompt on `embedding`,
    /// in its plan's order.
    fn point_inputs(decoder: &Decoder, embedding: &Embedding, x: f32, y: f32) -> TVec<TValue> {
        let grid = LOW_RES as usize;
        let values: [TValue; 5] = [
            TValue::from_const(embedding.tensor()),
            Tensor::from_shape(&[1, 2, 2], &[x, y, 0.0, 0.0])
                .unwrap()
                .into(),
            Tensor::from_shape(&[1, 2], &[1.0f32, -1.0]).unwrap().into(),
            Tensor::zero::<f32>(&[1, 1, grid, grid]).unwrap().into(),
            Tensor::zero::<f32>(&[1]).unwrap().into(),
        ];
        decoder.in_plan_order(values)
    }

    #[test]
    fn the_split_plan_answers_bit_for_bit_as_the_whole_plan() {
        let model = crate::model::SamModel::builtin().expect("the built-in model loads");
        let scene = crate::scenes::generate(5);
        let embedding = model.embed(&scene.image).expect("the encoder runs");
        let decoder = model.decoder();
        let shape = Shape {
            prompts: 1,
            points: 2,
        };
        let split = decoder.plan_for(shape).unwrap();
        let (batch, points) = &decoder.symbols;
        let mut values = std::collections::HashMap::new();
        values.insert(points.clone(), TDim::Val(2));
        if let Some(batch) = batch {
            values.insert(batch.clone(), TDim::Val(1));
        }
        let mut typed = decoder.model.set_symbols(&values).unwrap();
        unroll_short_softmax(&mut typed).unwrap();
        let whole = crate::model::runnable_plan(typed).unwrap();
        let first = point_inputs(decoder, &embedding, 0.0, 0.0);
        let image_values = split.image_values(&first).unwrap();
        assert!(!image_values.is_empty(), "the image part hands values over");
        for object in &scene.objects {
            let (x, y) = object.centre;
            let inputs = point_inputs(decoder, &embedding, x, y);
            let found = split.run(inputs.clone(), &image_values).unwrap();
            let reference = whole.run(inputs).unwrap();
            assert_eq!(found, reference);
        }
    }

    /// Weak handles on the image part's values kept with `embedding`, if any.
    fn kept_values(embedding: &Embedding) -> Option<Vec<Weak<Tensor>>> {
        let kept = embedding.image_part().lock().unwrap();
        kept.as_ref().map(|part| {
            part.values
                .iter()
                .map(|value| Arc::downgrade(value.as_arc_tensor().unwrap()))
                .collect()
        })
    }

    #[test]
    fn each_image_keeps_its_own_image_part_until_it_is_dropped() {
        let model = crate::model::SamModel::builtin().expect("the built-in model loads");
        let scenes = [crate::scenes::generate(1), crate::scenes::generate(2)];
        let mut embeddings: Vec<Embedding> = scenes
            .iter()
            .map(|scene| model.embed(&scene.image).expect("the encoder runs"))
            .collect();
        let decoder = model.decoder();
        let (x, y) = scenes[0].objects[0].centre;
        let first = decoder
            .predict(&embeddings[0], &Prompt::point(x, y))
            .unwrap();
        let kept = kept_values(&embeddings[0]).expect("the first image keeps its part");
        assert!(!kept.is_empty());
        assert!(
            kept_values(&embeddings[1]).is_none(),
            "nothing kept before a prompt"
        );
        let other = decoder
            .predict(&embeddings[1], &Prompt::point(x, y))
            .unwrap();
        assert!(kept_values(&embeddings[1]).is_some());
        assert_ne!(first, other, "each image answers with its own values");
        let again = decoder
            .predict(&embeddings[0], &Prompt::point(x, y))
            .unwrap();
        assert_eq!(again, first);
        let batch: Vec<Prompt> = scenes[0]
            .objects
            .iter()
            .map(|o| Prompt::point(o.centre.0, o.centre.1))
            .collect();
        assert!(batch.len() > 1 && decoder.is_batched());
        decoder.predict_batch(&embeddings[0], &batch).unwrap();
        let still = kept_values(&embeddings[0]).expect("a batch run whole keeps the click's part");
        assert!(still.iter().zip(&kept).all(|(a, b)| a.ptr_eq(b)));
        let clone = embeddings[0].clone();
        embeddings.remove(0);
        assert!(
            kept.iter().all(|v| v.upgrade().is_some()),
            "a clone shares the part"
        );
        drop(clone);
        assert!(
            kept.iter().all(|v| v.upgrade().is_none()),
            "the part is freed with the embedding"
        );
    }

    #[test]
    fn padded_batches_and_kept_plans_answer_each_prompt_as_alone() {
        let model = crate::model::SamModel::builtin().expect("the built-in model loads");
        let scene = crate::scenes::generate(3);
        let embedding = model.embed(&scene.image).expect("the encoder runs");
        let decoder = model.decoder();
        let mut prompts: Vec<Prompt> = scene
            .objects
            .iter()
            .map(|o| Prompt::point(o.centre.0, o.centre.1))
            .collect();
        let (x0, y0) = scene.objects[0].centre;
        let mut half = 4.0;
        while prompts.len().is_power_of_two() {
            prompts.push(Prompt::boxed([x0 - half, y0 - half, x0 + half, y0 + half]));
            half += 4.0;
        }
        assert_ne!(
            padded_batch(prompts.len()),
            prompts.len(),
            "the batch is padded"
        );
        let alone: Vec<Prediction> = prompts
            .iter()
            .map(|p| decoder.predict(&embedding, p).expect("one prompt runs"))
            .collect();
        let batched = decoder
            .predict_batch(&embedding, &prompts)
            .expect("the batch runs");
        assert_eq!(batched, alone);
        assert!(alone.iter().any(|p| p.iou.iter().any(|&v| v > 0.9)));
        let kept = decoder.plans.lock().expect("plans readable").len();
        assert!((2..=PLANS_KEPT).contains(&kept), "{kept} plans kept");
    }

    #[test]
    fn prompts_side_by_side_on_a_pool_answer_as_alone() {
        let model = crate::model::SamModel::builtin().expect("the built-in model loads");
        let scene = crate::scenes::generate(5);
        let embedding = model.embed(&scene.image).expect("the encoder runs");
        let decoder = model.decoder();
        let (width, height) = scene.image.dimensions();
        let whole = crate::mask::PixelBox {
            x0: 0,
            y0: 0,
            x1: width,
            y1: height,
        };
        let mut prompts: Vec<Prompt> = crate::proposals::point_grid(4, whole)
            .into_iter()
            .map(|[x, y]| Prompt::point(x, y))
            .collect();
        let (x, y) = scene.objects[0].centre;
        let mut refined = Prompt::point(x, y);
        refined.mask_input = decoder
            .predict(&embedding, &refined)
            .expect("one prompt runs")
            .best()
            .cloned();
        prompts.insert(5, refined);
        let alone: Vec<Prediction> = prompts
            .iter()
            .map(|p| decoder.predict(&embedding, p).expect("one prompt runs"))
            .collect();
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("a pool starts"),
        );
        let side_by_side = crate::model::prompts_on_thread_pool(&pool, || {
            decoder.predict_batch(&embedding, &prompts)
        })
        .expect("the batch runs");
        assert_eq!(side_by_side, alone);
        let plans = decoder.plans.lock().expect("plans readable");
        assert!(
            plans
                .iter()
                .any(|(shape, _)| shape.prompts == MAX_BATCH / 2),
            "the maskless prompts shared runs of up to {} prompts: {:?}",
            MAX_BATCH / 2,
            plans.iter().map(|(shape, _)| shape).collect::<Vec<_>>()
        );
        assert!(
            plans
                .iter()
                .all(|(shape, _)| shape.prompts <= MAX_BATCH / 2),
            "no run took more than its share"
        );
    }

    #[test]
    fn runs_keep_prompt_order_and_give_a_mask_input_its_own_run() {
        let model = crate::model::SamModel::builtin().expect("the built-in model loads");
        let scene = crate::scenes::generate(5);
        let embedding = model.embed(&scene.image).expect("the encoder runs");
        let mut prompts: Vec<Prompt> = (0..7)
            .map(|i| Prompt::point(10.0 + i as f32, 20.0))
            .collect();
        prompts[3].mask_input = Some(LowResMask {
            logits: vec![0.0; CELLS],
        });
        let runs = model
            .decoder()
            .group_into_runs(&embedding, &prompts, 2)
            .expect("the prompts are valid");
        let sizes: Vec<(usize, bool)> = runs
            .iter()
            .map(|run| (run.prompts.len(), run.mask.is_some()))
            .collect();
        assert_eq!(
            sizes,
            [(2, false), (1, false), (1, true), (2, false), (1, false)]
        );
    }

    #[test]
    fn no_more_than_plans_kept_are_kept() {
        let model = crate::model::SamModel::builtin().expect("the built-in model loads");
        let decoder = model.decoder();
        for points in 1..=PLANS_KEPT + 2 {
            decoder
                .plan_for(Shape { prompts: 1, points })
                .expect("a plan builds");
        }
        let plans = decoder.plans.lock().expect("plans readable");
        assert_eq!(plans.len(), PLANS_KEPT);
        assert_eq!(
            plans[0].0,
            Shape {
                prompts: 1,
                points: PLANS_KEPT + 2
            }
        );
    }

    #[test]
    fn batches_pad_to_powers_of_two_up_to_the_largest() {
        let padded: Vec<usize> = (0..=MAX_BATCH).map(padded_batch).collect();
        assert_eq!(
            padded,
            [1, 1, 2, 4, 4, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16]
        );
    }
}
