//! Softmax over a short last axis, rewritten as whole-tensor operations.
//!
//! Why: SAM's decoder takes a softmax over the prompt tokens (seven for a
//! click) for each of its 8 × 4096 image-token queries. tract runs a softmax
//! row by row, with three kernel calls per row, so these two nodes took a
//! quarter of MobileSAM's decoder time for a few hundred thousand numbers.
//! Once a plan's shapes are known, such a softmax becomes
//! `exp(x - max) / sum(exp(x - max))`, its max taken as an elementwise `Max`
//! over the axis's slices: a handful of passes over the whole tensor, each
//! vectorised, with the same guard against overflow as tract's own kernel.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::Slice;
use tract_onnx::tract_core::ops::math::{div, exp, max, sub};
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer, Softmax, SoftmaxKind};

/// The longest axis rewritten: past it, tract's per-row kernels amortise
/// their calls and the slices would only add nodes.
const LONGEST_UNROLLED: i64 = 16;

/// Rewrites every f32 softmax over a last axis of known length from 2 to
/// [`LONGEST_UNROLLED`] and returns how many it rewrote. Anything else
/// (other axes, symbolic lengths, log-softmax, quantized types) is left to
/// tract as it is.
pub(crate) fn unroll_short_softmax(model: &mut TypedModel) -> TractResult<usize> {
    let mut rewritten = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(axis) = node.op_as::<Softmax>().and_then(plain_softmax_axis) else {
            continue;
        };
        let input = node.inputs[0];
        let fact = model.outlet_fact(input)?;
        if fact.datum_type != f32::datum_type() || axis + 1 != fact.rank() {
            continue;
        }
        let short = fact.shape[axis]
            .as_i64()
            .filter(|len| (2..=LONGEST_UNROLLED).contains(len));
        if let Some(len) = short {
            let name = node.name.clone();
            replace_with_elementwise(model, id, &name, input, axis, len)?;
            rewritten += 1;
        }
    }
    Ok(rewritten)
}

/// The one axis of a plain softmax (not a log-softmax, not quantized).
fn plain_softmax_axis(op: &Softmax) -> Option<usize> {
    match (op.axes.as_slice(), op.kind, op.quant_output_dt) {
        ([axis], SoftmaxKind::Softmax, None) => Some(*axis),
        _ => None,
    }
}

fn replace_with_elementwise(
    model: &mut TypedModel,
    id: usize,
    name: &str,
    input: OutletId,
    axis: usize,
    len: i64,
) -> TractResult<()> {
    let mut patch = TypedModelPatch::default();
    let x = patch.tap_model(model, input)?;
    let column = |patch: &mut TypedModelPatch, i: i64| -> TractResult<OutletId> {
        let slice = Slice {
            axis,
            start: i.into(),
            end: (i + 1).into(),
        };
        Ok(patch.wire_node(format!("{name}.column{i}"), slice, &[x])?[0])
    };
    let mut largest = column(&mut patch, 0)?;
    for i in 1..len {
        let next = column(&mut patch, i)?;
        largest = patch.wire_node(format!("{name}.max{i}"), max(), &[largest, next])?[0];
    }
    let shifted = patch.wire_node(format!("{name}.shifted"), sub(), &[x, largest])?[0];
    let exps = patch.wire_node(format!("{name}.exp"), exp(), &[shifted])?[0];
    let sum = Reduce {
        axes: tvec![axis],
        reducer: Reducer::Sum,
    };
    let total = patch.wire_node(format!("{name}.sum"), sum, &[exps])?[0];
    let out = patch.wire_node(format!("{name}.normalised"), div(), &[exps, total])?[0];
    patch.shunt_outside(model, OutletId::new(id, 0), out)?;
    patch.apply(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_values::{largest_difference, logits};
    use crate::model::{to_f32_vec, Role};

    fn softmax_model(shape: &[usize], axes: &[usize]) -> TypedModel {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let op = Softmax {
            axes: axes.into(),
            quant_output_dt: None,
            kind: SoftmaxKind::Softmax,
        };
        let y = model.wire_node("softmax", op, &[x]).unwrap();
        model.select_output_outlets(&y).unwrap();
        model
    }

    fn run(model: TypedModel, input: &Tensor) -> Vec<f32> {
        let plan = model.into_optimized().unwrap().into_runnable().unwrap();
        let out = plan.run(tvec![input.clone().into_tvalue()]).unwrap();
        to_f32_vec(&out[0], Role::Decoder).unwrap()
    }

    fn softmaxes(model: &TypedModel) -> usize {
        model
            .nodes()
            .iter()
            .filter(|n| n.op_is::<Softmax>())
            .count()
    }

    #[test]
    fn a_short_last_axis_is_rewritten_and_answers_as_tracts_softmax() {
        let shape = [2, 3, 64, 7];
        let mut model = softmax_model(&shape, &[3]);
        let reference = run(model.clone(), &logits(&shape, 6.0));
        assert_eq!(unroll_short_softmax(&mut model).unwrap(), 1);
        assert_eq!(softmaxes(&model), 0);
        let unrolled = run(model, &logits(&shape, 6.0));
        let worst = largest_difference(&reference, &unrolled);
        assert!(worst < 1e-5, "largest difference {worst}");
        for row in unrolled.chunks(7) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn large_logits_do_not_overflow() {
        let shape = [4, 5];
        let mut model = softmax_model(&shape, &[1]);
        unroll_short_softmax(&mut model).unwrap();
        let out = run(model, &logits(&shape, 500.0));
        assert!(out.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
        for row in out.chunks(5) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn other_axes_and_long_rows_are_left_to_tract() {
        let mut inner = softmax_model(&[4, 7, 3], &[1]);
        let mut long = softmax_model(&[4, 49], &[1]);
        assert_eq!(unroll_short_softmax(&mut inner).unwrap(), 0);
        assert_eq!(unroll_short_softmax(&mut long).unwrap(), 0);
        assert_eq!(softmaxes(&inner) + softmaxes(&long), 2);
    }
}
