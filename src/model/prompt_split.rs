//! A decoder plan cut in two: the part that does not depend on the prompt,
//! run once per image, and the part that does, run for every prompt.
//!
//! Why: SAM's decoder starts from the image embedding and its positional
//! encoding. Before the first attention that mixes in the prompt tokens, it
//! projects all 4096 image tokens into queries, keys and values and
//! downsamples the mask input; none of that depends on the points. In
//! MobileSAM's decoder it is about a sixth of a run (timed natively, one
//! thread: 21 of 139 ms). A prompt part that reads those values as inputs
//! skips them for every prompt after the first on the same image.
//!
//! The decoder cuts only its single-prompt plans (`Decoder::build_plan`). A
//! batch's image part holds the image repeated for every prompt in it, and
//! handing those copies over cost more than computing them again: the built-in decoder's runs of 16 prompts took
//! 307–349 ms whole and 360–398 ms cut (natively, one thread, two runs each).
//!
//! The cut is found on the optimised plan: every node that the point inputs
//! do not reach and that a node they reach reads is a value the image part
//! hands over. Constants are not cut (both parts hold them), and neither
//! are tract's packed operands: the nodes that pack them are computed again
//! in the prompt part.

use std::collections::HashSet;
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::konst::Const;

/// The two runnable parts of one plan.
#[derive(Debug)]
pub(crate) struct SplitPlan {
    /// Computes the values the prompt part reads; `None` when it reads none.
    image: Option<Arc<TypedRunnableModel>>,
    /// The plan's own inputs, then the image part's values, to the plan's
    /// outputs.
    prompt: Arc<TypedRunnableModel>,
}

impl SplitPlan {
    /// The whole optimised model as the prompt part, with no image part.
    pub(crate) fn whole(model: TypedModel) -> TractResult<Self> {
        Ok(Self {
            image: None,
            prompt: model.into_runnable()?,
        })
    }

    /// Cuts an optimised model at the edges from what `prompt_inputs` do
    /// not reach to what they reach.
    pub(crate) fn new(model: TypedModel, prompt_inputs: &[OutletId]) -> TractResult<Self> {
        let (handed_over, reached) = handed_over(&model, reached_from(&model, prompt_inputs)?)?;
        if handed_over.is_empty() {
            return Self::whole(model);
        }
        let image = model
            .clone()
            .with_output_outlets(&handed_over)?
            .into_compact()?
            .into_runnable()?;
        let prompt = reading_handed_over(model, &handed_over, &reached)?
            .into_compact()?
            .into_runnable()?;
        Ok(Self {
            image: Some(image),
            prompt,
        })
    }

    /// The values the image part hands over, for the plan's inputs (only
    /// the image and mask inputs are read).
    pub(crate) fn image_values(&self, inputs: &TVec<TValue>) -> TractResult<TVec<TValue>> {
        match &self.image {
            Some(image) => image.run(inputs.clone()),
            None => Ok(tvec![]),
        }
    }

    /// Runs the prompt part on the plan's inputs and the image part's
    /// values for the same image and mask input.
    pub(crate) fn run(
        &self,
        mut inputs: TVec<TValue>,
        image_values: &[TValue],
    ) -> TractResult<TVec<TValue>> {
        inputs.extend(image_values.iter().cloned());
        self.prompt.run(inputs)
    }
}

/// Nodes whose value depends on the `from` outlets.
fn reached_from(model: &TypedModel, from: &[OutletId]) -> TractResult<HashSet<usize>> {
    let mut reached: HashSet<usize> = from.iter().map(|outlet| outlet.node).collect();
    for id in model.eval_order()? {
        if model
            .node(id)
            .inputs
            .iter()
            .any(|i| reached.contains(&i.node))
        {
            reached.insert(id);
        }
    }
    Ok(reached)
}

/// The outlets of unreached nodes that reached nodes read, constants left
/// out, and the reached nodes. A packed operand's producer joins the
/// reached nodes (its own inputs are handed over instead), until no packed
/// value crosses.
fn handed_over(
    model: &TypedModel,
    mut reached: HashSet<usize>,
) -> TractResult<(Vec<OutletId>, HashSet<usize>)> {
    loop {
        let mut crossing: Vec<OutletId> = Vec::new();
        for &id in &reached {
            for input in &model.node(id).inputs {
                let producer = model.node(input.node);
                if !reached.contains(&input.node)
                    && !producer.op_is::<Const>()
                    && !crossing.contains(input)
                {
                    crossing.push(*input);
                }
            }
        }
        let packed: Vec<usize> = crossing
            .iter()
            .filter(|outlet| model.outlet_fact(**outlet).is_ok_and(is_packed))
            .map(|outlet| outlet.node)
            .collect();
        if packed.is_empty() {
            crossing.sort();
            return Ok((crossing, reached));
        }
        reached.extend(packed);
    }
}

fn is_packed(fact: &TypedFact) -> bool {
    fact.exotic_fact.is_some()
}

/// The model with a new input for each handed-over outlet, read by the
/// reached nodes in its place.
fn reading_handed_over(
    mut model: TypedModel,
    handed_over: &[OutletId],
    reached: &HashSet<usize>,
) -> TractResult<TypedModel> {
    let readers: Vec<(InletId, usize)> = model
        .nodes()
        .iter()
        .filter(|node| reached.contains(&node.id))
        .flat_map(|node| {
            node.inputs
                .iter()
                .enumerate()
                .filter_map(move |(slot, input)| {
                    let at = handed_over.iter().position(|outlet| outlet == input)?;
                    Some((InletId::new(node.id, slot), at))
                })
        })
        .collect();
    let mut sources = Vec::with_capacity(handed_over.len());
    for (i, outlet) in handed_over.iter().enumerate() {
        let fact = model.outlet_fact(*outlet)?.without_value();
        sources.push(model.add_source(format!("twinseg.image_part.{i}"), fact)?);
    }
    for (inlet, at) in readers {
        model.add_edge(sources[at], inlet)?;
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{to_f32_vec, Role};
    use tract_onnx::tract_core::ops::math::{add, mul};

    /// `out = (image × 3 + image) + point`: the first two steps read only
    /// the image, the last one the point.
    fn model() -> (TypedModel, OutletId) {
        let mut model = TypedModel::default();
        let image = model.add_source("image", f32::fact([2, 8])).unwrap();
        let point = model.add_source("point", f32::fact([2, 8])).unwrap();
        let three = model.add_const("three", tensor2(&[[3.0f32]])).unwrap();
        let scaled = model.wire_node("scaled", mul(), &[image, three]).unwrap()[0];
        let image_only = model
            .wire_node("image_only", add(), &[scaled, image])
            .unwrap()[0];
        let out = model.wire_node("out", add(), &[image_only, point]).unwrap();
        model.select_output_outlets(&out).unwrap();
        (model, point)
    }

    fn values(offset: f32) -> TValue {
        let data: Vec<f32> = (0..16).map(|i| i as f32 * 0.5 + offset).collect();
        Tensor::from_shape(&[2, 8], &data).unwrap().into_tvalue()
    }

    #[test]
    fn the_prompt_part_reads_the_image_parts_values_and_answers_as_the_whole() {
        let (model, point) = model();
        let whole = model.clone().into_runnable().unwrap();
        let split = SplitPlan::new(model, &[point]).unwrap();
        let image = values(1.0);
        let image_values = split
            .image_values(&tvec![image.clone(), values(0.0)])
            .unwrap();
        assert_eq!(image_values.len(), 1, "one value crosses the cut");
        let expected: Vec<f32> = (0..16).map(|i| (i as f32 * 0.5 + 1.0) * 4.0).collect();
        assert_eq!(
            to_f32_vec(&image_values[0], Role::Decoder).unwrap(),
            expected
        );
        for offset in [0.0, -2.5, 7.0] {
            let inputs = tvec![image.clone(), values(offset)];
            let found = split.run(inputs.clone(), &image_values).unwrap();
            let reference = whole.run(inputs).unwrap();
            assert_eq!(found[0], reference[0]);
        }
    }

    #[test]
    fn a_model_that_reads_the_point_first_hands_nothing_over() {
        let mut model = TypedModel::default();
        let point = model.add_source("point", f32::fact([2, 8])).unwrap();
        let two = model.add_const("two", tensor2(&[[2.0f32]])).unwrap();
        let out = model.wire_node("out", mul(), &[point, two]).unwrap();
        model.select_output_outlets(&out).unwrap();
        let split = SplitPlan::new(model, &[point]).unwrap();
        let inputs = tvec![values(1.0)];
        assert!(split.image_values(&inputs).unwrap().is_empty());
        let found = split.run(inputs, &[]).unwrap();
        assert_eq!(to_f32_vec(&found[0], Role::Decoder).unwrap()[3], 5.0);
    }
}
