//! Softmax over the last axis of a native plan's f32 tensors, all rows in
//! one pass.
//!
//! Why: natively, tract runs a softmax row by row, three kernel calls per
//! row, each through its kernels' alignment scratch. MobileSAM's encoder
//! takes softmaxes over 40 million attention numbers in rows of 49 and 196;
//! on one thread of this project's x86-64 machine they took 302 ms of its
//! 4 s, about 7.5 ns a number. [`RowSoftmax`] runs the same arithmetic in
//! plain loops over lanes of eight, which the compiler vectorises, with an
//! exponential accurate to a few parts in ten million and the same guard
//! against overflow (each row shifted by its largest value first): 72 ms.
//! Rows are shared across threads as tract shares them.
//!
//! Native builds only: in wasm, tract's row kernels (and its whole-buffer
//! kernel for rows of a multiple of four) ran these softmaxes in 190 ms,
//! and this op in 280–360 ms (the same encoder's plan, wasm32 with simd128,
//! in Node's V8).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};

/// Numbers handled together, in lanes the compiler can vectorise.
const LANES: usize = 8;

/// Below it `exp` is under f32's smallest normal number; inputs are clamped
/// there so that the power of two built from the exponent stays normal.
const SMALLEST_EXPONENT: f32 = -87.0;

/// Softmax over the last axis of an f32 tensor whose rows are contiguous,
/// the [`Softmax`] it replaced kept for anything else.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct RowSoftmax {
    replaced: Softmax,
}

impl Op for RowSoftmax {
    fn name(&self) -> StaticName {
        "RowSoftmax".into()
    }

    op_as_typed_op!();
}

impl EvalOp for RowSoftmax {
    op_out_of_plan!();

    fn eval(&self, ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        if inputs.len() != 1 || !self.takes(&inputs[0]) {
            return self.replaced.eval(ctx, inputs);
        }
        let input = args_1!(inputs);
        let row_len = input.shape().last().copied().unwrap_or(1);
        let mut output = input.into_tensor();
        softmax_rows(output.try_as_plain_ram_mut()?.as_slice_mut()?, row_len)?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl RowSoftmax {
    /// Whether the rows of `input` are this op's: f32, laid out row after
    /// row, non-empty, along the one axis the softmax is over.
    fn takes(&self, input: &TValue) -> bool {
        let shape = input.shape();
        input.datum_type() == f32::datum_type()
            && shape.last().is_some_and(|&len| len > 0)
            && self.replaced.axes.as_slice() == [shape.len() - 1]
            && input.strides() == &*Tensor::natural_strides(shape)
    }
}

impl TypedOp for RowSoftmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        self.replaced.output_facts(inputs)
    }

    as_op!();
}

/// Replaces every plain f32 softmax over a last axis in an optimised model
/// with [`RowSoftmax`]. Log-softmaxes, quantized ones and softmaxes over
/// other axes stay tract's.
pub(crate) fn softmax_by_rows(mut model: TypedModel) -> TractResult<TypedModel> {
    for id in model.eval_order()? {
        let node = model.node(id);
        let Some(softmax) = node.op_as::<Softmax>() else {
            continue;
        };
        let fact = model.outlet_fact(node.inputs[0])?;
        let last_axis = fact.rank().checked_sub(1);
        let plain = softmax.kind == SoftmaxKind::Softmax
            && softmax.quant_output_dt.is_none()
            && fact.datum_type == f32::datum_type()
            && last_axis.is_some_and(|axis| softmax.axes.as_slice() == [axis]);
        if plain {
            let op = RowSoftmax {
                replaced: softmax.clone(),
            };
            let name = node.name.clone();
            let patch = TypedModelPatch::replace_single_op(&model, node, &node.inputs, op)?
                .with_context(format!("row softmax for {name}"));
            patch.apply(&mut model)?;
        }
    }
    Ok(model)
}

/// Softmax of every row of `data`, the rows shared across tract's threads.
fn softmax_rows(data: &mut [f32], row_len: usize) -> TractResult<()> {
    let total = data.len();
    tract_linalg::multithread::par_chunks_mut(data, row_len, total, |_, rows| {
        rows.chunks_exact_mut(row_len).for_each(softmax_in_place);
        Ok(())
    })
}

/// Softmax of one row: shifted by its largest value, exponentiated, summed
/// and scaled, each step over lanes of [`LANES`].
fn softmax_in_place(row: &mut [f32]) {
    let largest = largest_of(row);
    let mut sums = [0.0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (value, sum) in chunk.iter_mut().zip(&mut sums) {
            *value = exp(*value - largest);
            *sum += *value;
        }
    }
    let mut total: f32 = sums.iter().sum();
    for value in chunks.into_remainder() {
        *value = exp(*value - largest);
        total += *value;
    }
    let scale = total.recip();
    row.iter_mut().for_each(|value| *value *= scale);
}

/// The largest value of a row.
fn largest_of(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (value, lane) in chunk.iter().zip(&mut lanes) {
            *lane = if *value > *lane { *value } else { *lane };
        }
    }
    chunks
        .remainder()
        .iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

/// `e^x` for `x ≤ 0` (a softmax's shifted logits): `x = n ln 2 + r` with
/// `|r| ≤ ln 2 / 2`, `e^r` from its Taylor polynomial to the sixth power,
/// `2^n` written straight into the exponent bits (`n` read from the bits
/// of the rounded sum, no float-to-integer conversion), `n ln 2` subtracted in two
/// parts so that `r` keeps its precision. Relative error below 3e-7; no
/// branches, so loops over it vectorise.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const ROUNDING: f32 = 12_582_912.0;
    const LN_2_HIGH: f32 = 0.693_359_4;
    const LN_2_LOW: f32 = -2.121_944_4e-4;
    let x = x.max(SMALLEST_EXPONENT);
    let rounded = x * std::f32::consts::LOG2_E + ROUNDING;
    let n = rounded - ROUNDING;
    let r = (x - n * LN_2_HIGH) - n * LN_2_LOW;
    let p = 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    let exponent = rounded.to_bits().wrapping_sub(ROUNDING.to_bits());
    let power = f32::from_bits(exponent.wrapping_add(127) << 23);
    p * power
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_values::{largest_difference, logits};
    use crate::model::{to_f32_vec, Role};

    fn softmax_model(shape: &[usize], axes: &[usize], kind: SoftmaxKind) -> TypedModel {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact(shape)).unwrap();
        let op = Softmax {
            axes: axes.into(),
            quant_output_dt: None,
            kind,
        };
        let y = model.wire_node("softmax", op, &[x]).unwrap();
        model.select_output_outlets(&y).unwrap();
        model.into_optimized().unwrap()
    }

    fn run(model: TypedModel, input: &Tensor) -> Vec<f32> {
        let plan = model.into_runnable().unwrap();
        let out = plan.run(tvec![input.clone().into_tvalue()]).unwrap();
        to_f32_vec(&out[0], Role::Encoder).unwrap()
    }

    fn count<O: Op>(model: &TypedModel) -> usize {
        model.nodes().iter().filter(|n| n.op_is::<O>()).count()
    }

    #[test]
    fn rows_of_every_length_answer_as_tracts_softmax() {
        for shape in [[3, 4, 49], [2, 5, 196], [7, 3, 8], [4, 2, 5], [1, 1, 1]] {
            let model = softmax_model(&shape, &[2], SoftmaxKind::Softmax);
            let input = logits(&shape, 12.0);
            let reference = run(model.clone(), &input);
            let rows = softmax_by_rows(model).unwrap();
            assert_eq!(count::<Softmax>(&rows), 0, "{shape:?}");
            assert_eq!(count::<RowSoftmax>(&rows), 1);
            let found = run(rows, &input);
            let worst = largest_difference(&reference, &found);
            assert!(worst < 1e-6, "{shape:?}: largest difference {worst}");
            for row in found.chunks(shape[2]) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{shape:?}");
            }
        }
    }

    #[test]
    fn huge_and_tiny_logits_stay_finite_and_normalised() {
        let shape = [6, 49];
        let model = softmax_by_rows(softmax_model(&shape, &[1], SoftmaxKind::Softmax)).unwrap();
        let found = run(model, &logits(&shape, 3000.0));
        assert!(found.iter().all(|p| (0.0..=1.0).contains(p)));
        for row in found.chunks(49) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn the_exponential_is_accurate_over_a_softmaxs_range() {
        let relative_error = |x: f32| {
            let exact = f64::from(x.max(SMALLEST_EXPONENT)).exp();
            ((f64::from(exp(x)) - exact) / exact).abs()
        };
        let worst = (0..=200_000)
            .map(|i| -(i as f32) / 2000.0)
            .map(relative_error)
            .fold(0.0f64, f64::max);
        assert!(worst < 3e-7, "largest relative error {worst}");
        assert!(relative_error(-1000.0) < 3e-7);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn other_axes_and_log_softmax_stay_tracts() {
        let inner = softmax_model(&[4, 7, 3], &[1], SoftmaxKind::Softmax);
        let log = softmax_model(&[4, 49], &[1], SoftmaxKind::LogSoftmax);
        for model in [inner, log] {
            let model = softmax_by_rows(model).unwrap();
            assert_eq!(count::<Softmax>(&model), 1);
            assert_eq!(count::<RowSoftmax>(&model), 0);
        }
    }
}
