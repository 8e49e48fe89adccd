//! tract's f32 matrix products in the page, on a 4 × 8 tile kernel.
//!
//! Why: tract-linalg's wasm GEMM kernel keeps an 8 × 8 tile, 16 vector
//! accumulators, and broadcasts A with shuffles. On x86-64 V8 has 16 vector
//! registers for those accumulators and every operand, so it spills on every
//! step of k. A 4 × 8 tile keeps 8 accumulators, two B vectors and one
//! broadcast A value in registers, and broadcasts A straight from memory
//! (`v128.load32_splat`, one instruction on x86-64). In headless Chromium it
//! runs a product 1.6–1.7 times as fast as the 8 × 8 kernel with plain SIMD
//! and 1.8–1.9 times with relaxed SIMD (docs/benchmarks.md).
//!
//! The kernel reads the same operation list as every tract kernel
//! ([`FusedKerSpec`]), so tract's fused bias, activations and stores run in
//! it too. Its lane type is wasm's `v128` in the page and four plain floats
//! elsewhere, so the host's unit tests run the same code against tract's own
//! generic kernel. In wasm with SIMD the module registers the kernel with
//! tract and a dispatch tier that picks it for every f32 product of more than
//! one column; matrix-vector products stay on tract's own kernels.

use tract_linalg::isa::{Arch, IsaSet};
use tract_linalg::mmm::{DynKernel, FusedKerSpec, OutputStoreKer, Query, Suitable};
use tract_linalg::mmm_tiers::MmmTier;
use tract_linalg::pack::Packing;
use tract_linalg::Scaler;
use tract_onnx::prelude::DatumType;

use lanes::F4;

/// Rows of the tile: lanes of A broadcast per step of k.
const MR: usize = 4;
/// Vectors of four columns in a row of the tile.
const VECTORS: usize = 2;
/// Columns of the tile.
const NR: usize = 4 * VECTORS;

/// The name tract's dispatch and logs know the kernel by.
pub(crate) const KERNEL_NAME: &str = "twinseg_wasm_f32_4x8";

type Tile = [[F4; VECTORS]; MR];

/// The kernel, described for tract: its tile and packed layouts.
pub(crate) fn kernel() -> DynKernel<MR, NR, f32> {
    DynKernel::new(KERNEL_NAME, run_ops, f32::packing(MR), f32::packing(NR))
}

/// Runs one tile's operation list; 0 when every operation was understood.
///
/// With the `relaxed-simd` feature the whole kernel is compiled for relaxed
/// SIMD, so its multiply-adds fuse; everything it calls is inlined into it.
///
/// # Safety
/// Every pointer in `ops` must be valid for the tile it describes, as tract
/// guarantees for the lists it builds.
#[cfg_attr(
    all(target_arch = "wasm32", feature = "relaxed-simd"),
    target_feature(enable = "relaxed-simd")
)]
unsafe fn run_ops(ops: &[FusedKerSpec<f32>]) -> isize {
    let mut tile: Tile = [[F4::splat(0.0); VECTORS]; MR];
    for op in ops {
        // SAFETY: forwarded from the caller, see above.
        let understood = unsafe { apply(&mut tile, op) };
        match understood {
            Step::Next => {}
            Step::Done => return 0,
            Step::Unsupported => return 1,
        }
    }
    0
}

enum Step {
    Next,
    Done,
    Unsupported,
}

#[inline(always)]
unsafe fn apply(tile: &mut Tile, op: &FusedKerSpec<f32>) -> Step {
    use FusedKerSpec as Op;
    unsafe {
        match *op {
            Op::Done => return Step::Done,
            Op::Clear => *tile = [[F4::splat(0.0); VECTORS]; MR],
            Op::LoadTile(_col_major, row_major) => load_row_major(tile, row_major),
            Op::ScalarMin(s) => each(tile, |a| F4::splat(s).min(a)),
            Op::ScalarMax(s) => each(tile, |a| F4::splat(s).max(a)),
            Op::ScalarAdd(s) => each(tile, |a| F4::splat(s).add(a)),
            Op::ScalarMul(s) => scale(tile, s),
            Op::ScalarSub(s) => each(tile, |a| F4::splat(s).sub(a)),
            Op::ScalarSubF(s) => each(tile, |a| a.sub(F4::splat(s))),
            Op::LeakyRelu(alpha) => each(tile, |a| a.leaky_relu(alpha)),
            Op::PerRowMin(rows) => per_row(tile, rows, F4::min),
            Op::PerRowMax(rows) => per_row(tile, rows, F4::max),
            Op::PerRowAdd(rows) => per_row(tile, rows, F4::add),
            Op::PerRowMul(rows) => per_row(tile, rows, F4::mul),
            Op::PerRowSub(rows) => per_row(tile, rows, F4::sub),
            Op::PerRowSubF(rows) => per_row(tile, rows, |s, a| a.sub(s)),
            Op::PerColMin(cols) => per_col(tile, cols, F4::min),
            Op::PerColMax(cols) => per_col(tile, cols, F4::max),
            Op::PerColAdd(cols) => per_col(tile, cols, F4::add),
            Op::PerColMul(cols) => per_col(tile, cols, F4::mul),
            Op::PerColSub(cols) => per_col(tile, cols, F4::sub),
            Op::PerColSubF(cols) => per_col(tile, cols, |s, a| a.sub(s)),
            Op::QScale(shift, policy, mult) => {
                scale(tile, Scaler::from_fuse_params(shift, policy, mult).scale)
            }
            Op::RoundingShiftRight(shift, _) => scale(tile, 2f32.powi(-(shift as i32))),
            Op::ShiftLeft(shift) => scale(tile, 2f32.powi(shift as i32)),
            Op::AddUnicast(other) if other.item_size == 4 => add_unicast(tile, &other),
            Op::AddUnicast(_) => return Step::Unsupported,
            Op::AddRowColProducts(rows, cols) => add_row_col_products(tile, rows, cols),
            Op::Store(out) if out.item_size == 4 => store(tile, &out),
            Op::Store(_) => return Step::Unsupported,
            Op::AddMatMul { k, pa, pb, .. } => add_mat_mul(tile, k, pa as _, pb as _),
        }
    }
    Step::Next
}

#[inline(always)]
fn each(tile: &mut Tile, f: impl Fn(F4) -> F4) {
    for row in tile.iter_mut() {
        for v in row.iter_mut() {
            *v = f(*v);
        }
    }
}

#[inline(always)]
fn scale(tile: &mut Tile, factor: f32) {
    each(tile, |a| F4::splat(factor).mul(a))
}

#[inline(always)]
unsafe fn per_row(tile: &mut Tile, rows: *const f32, f: impl Fn(F4, F4) -> F4) {
    for (r, row) in tile.iter_mut().enumerate() {
        let s = unsafe { F4::splat(*rows.add(r)) };
        for v in row.iter_mut() {
            *v = f(s, *v);
        }
    }
}

#[inline(always)]
unsafe fn per_col(tile: &mut Tile, cols: *const f32, f: impl Fn(F4, F4) -> F4) {
    let cols = unsafe { row_of_vectors(cols) };
    for row in tile.iter_mut() {
        for (v, c) in row.iter_mut().zip(cols) {
            *v = f(c, *v);
        }
    }
}

/// [`NR`] consecutive values, as the vectors of one tile row.
#[inline(always)]
unsafe fn row_of_vectors(values: *const f32) -> [F4; VECTORS] {
    std::array::from_fn(|v| unsafe { F4::load(values.add(4 * v)) })
}

#[inline(always)]
unsafe fn load_row_major(tile: &mut Tile, values: *const f32) {
    for (r, row) in tile.iter_mut().enumerate() {
        *row = unsafe { row_of_vectors(values.add(r * NR)) };
    }
}

#[inline(always)]
unsafe fn add_row_col_products(tile: &mut Tile, rows: *const f32, cols: *const f32) {
    let cols = unsafe { row_of_vectors(cols) };
    for (r, row) in tile.iter_mut().enumerate() {
        let s = unsafe { F4::splat(*rows.add(r)) };
        for (v, c) in row.iter_mut().zip(cols) {
            *v = v.madd(s, c);
        }
    }
}

/// The product itself: A packed as k groups of [`MR`] values, B as k groups
/// of [`NR`] values.
#[inline(always)]
unsafe fn add_mat_mul(tile: &mut Tile, k: usize, pa: *const f32, pb: *const f32) {
    let mut acc = *tile;
    for step in 0..k {
        let b = unsafe { row_of_vectors(pb.add(step * NR)) };
        for (r, row) in acc.iter_mut().enumerate() {
            let a = unsafe { F4::load_splat(pa.add(step * MR + r)) };
            for (v, lanes) in row.iter_mut().enumerate() {
                *lanes = lanes.madd(a, b[v]);
            }
        }
    }
    *tile = acc;
}

#[inline(always)]
unsafe fn add_unicast(tile: &mut Tile, other: &OutputStoreKer) {
    for (r, row) in tile.iter_mut().enumerate() {
        let line = unsafe { other.ptr.offset(other.row_byte_stride * r as isize) };
        for (v, lanes) in row.iter_mut().enumerate() {
            let first = unsafe { line.offset(other.col_byte_stride * 4 * v as isize) };
            *lanes = lanes.add(unsafe { F4::gather(first, other.col_byte_stride) });
        }
    }
}

#[inline(always)]
unsafe fn store(tile: &Tile, out: &OutputStoreKer) {
    for (r, row) in tile.iter().enumerate() {
        let line = unsafe { out.ptr.offset(out.row_byte_stride * r as isize) };
        for (v, lanes) in row.iter().enumerate() {
            let first = unsafe { line.offset(out.col_byte_stride * 4 * v as isize) };
            unsafe { lanes.scatter(first, out.col_byte_stride) };
        }
    }
}

/// Four f32 lanes as wasm SIMD: the page's build.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use std::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub(super) struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub(super) fn splat(x: f32) -> Self {
            Self(f32x4_splat(x))
        }
        #[inline(always)]
        pub(super) unsafe fn load(p: *const f32) -> Self {
            Self(unsafe { v128_load(p as *const v128) })
        }
        #[inline(always)]
        pub(super) unsafe fn load_splat(p: *const f32) -> Self {
            Self(unsafe { v128_load32_splat(p as *const u32) })
        }
        #[inline(always)]
        pub(super) unsafe fn gather(p: *const u8, stride: isize) -> Self {
            if stride == 4 {
                return Self(unsafe { v128_load(p as *const v128) });
            }
            let lane = |i: isize| unsafe { *(p.offset(stride * i) as *const f32) };
            Self(f32x4(lane(0), lane(1), lane(2), lane(3)))
        }
        #[inline(always)]
        pub(super) unsafe fn scatter(self, p: *mut u8, stride: isize) {
            unsafe {
                if stride == 4 {
                    v128_store(p as *mut v128, self.0);
                    return;
                }
                *(p as *mut f32) = f32x4_extract_lane::<0>(self.0);
                *(p.offset(stride) as *mut f32) = f32x4_extract_lane::<1>(self.0);
                *(p.offset(stride * 2) as *mut f32) = f32x4_extract_lane::<2>(self.0);
                *(p.offset(stride * 3) as *mut f32) = f32x4_extract_lane::<3>(self.0);
            }
        }
        #[inline(always)]
        pub(super) fn add(self, other: Self) -> Self {
            Self(f32x4_add(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn sub(self, other: Self) -> Self {
            Self(f32x4_sub(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn mul(self, other: Self) -> Self {
            Self(f32x4_mul(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn min(self, other: Self) -> Self {
            Self(f32x4_min(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn max(self, other: Self) -> Self {
            Self(f32x4_max(self.0, other.0))
        }
        #[inline(always)]
        pub(super) fn leaky_relu(self, alpha: f32) -> Self {
            let positive = f32x4_gt(self.0, f32x4_splat(0.0));
            let scaled = f32x4_mul(f32x4_splat(alpha), self.0);
            Self(v128_bitselect(self.0, scaled, positive))
        }
        /// `self + a × b`, fused in the relaxed-SIMD build.
        #[inline(always)]
        pub(super) fn madd(self, a: Self, b: Self) -> Self {
            #[cfg(feature = "relaxed-simd")]
            return Self(f32x4_relaxed_madd(a.0, b.0, self.0));
            #[cfg(not(feature = "relaxed-simd"))]
            return Self(f32x4_add(self.0, f32x4_mul(a.0, b.0)));
        }
    }
}

/// Four f32 lanes as plain floats: the same kernel on the host, for tests.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    #[derive(Clone, Copy)]
    pub(super) struct F4([f32; 4]);

    impl F4 {
        pub(super) fn splat(x: f32) -> Self {
            Self([x; 4])
        }
        pub(super) unsafe fn load(p: *const f32) -> Self {
            Self(std::array::from_fn(|i| unsafe { *p.add(i) }))
        }
        pub(super) unsafe fn load_splat(p: *const f32) -> Self {
            Self([unsafe { *p }; 4])
        }
        pub(super) unsafe fn gather(p: *const u8, stride: isize) -> Self {
            Self(std::array::from_fn(|i| unsafe {
                *(p.offset(stride * i as isize) as *const f32)
            }))
        }
        pub(super) unsafe fn scatter(self, p: *mut u8, stride: isize) {
            for (i, x) in self.0.into_iter().enumerate() {
                unsafe { *(p.offset(stride * i as isize) as *mut f32) = x };
            }
        }
        fn zip(self, other: Self, f: impl Fn(f32, f32) -> f32) -> Self {
            Self(std::array::from_fn(|i| f(self.0[i], other.0[i])))
        }
        pub(super) fn add(self, other: Self) -> Self {
            self.zip(other, |a, b| a + b)
        }
        pub(super) fn sub(self, other: Self) -> Self {
            self.zip(other, |a, b| a - b)
        }
        pub(super) fn mul(self, other: Self) -> Self {
            self.zip(other, |a, b| a * b)
        }
        pub(super) fn min(self, other: Self) -> Self {
            self.zip(other, f32::min)
        }
        pub(super) fn max(self, other: Self) -> Self {
            self.zip(other, f32::max)
        }
        pub(super) fn leaky_relu(self, alpha: f32) -> Self {
            Self(self.0.map(|x| if x > 0.0 { x } else { alpha * x }))
        }
        pub(super) fn madd(self, a: Self, b: Self) -> Self {
            self.add(a.mul(b))
        }
    }
}

/// The dispatch rule tract asks before its own wasm tier: this kernel for
/// every f32 product of more than one column. A matrix-vector product
/// (n = 1) and integer products are left to tract's own tier and kernels.
pub(crate) const TIER: MmmTier = MmmTier {
    arch: Some(Arch::Wasm32Simd128),
    precedence: 2,
    name: "twinseg-wasm-4x8",
    applies: |_| true,
    preferred: kernel_for_products,
};

fn kernel_for_products(
    _: &IsaSet,
    accumulator: DatumType,
    query: &Query,
    _: &[Suitable],
) -> Option<&'static str> {
    (accumulator == DatumType::F32 && query.n != Some(1)).then_some(KERNEL_NAME)
}

/// Hands the kernel and its dispatch rule to tract's registries.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod registration {
    use std::sync::LazyLock;

    use tract_linalg::isa::Arch;
    use tract_linalg::mmm::{DynKernel, MatMatMul};
    use tract_linalg::mmm_routines::MmmRoutine;

    use super::{kernel, MR, NR, TIER};

    static KERNEL: LazyLock<DynKernel<MR, NR, f32>> = LazyLock::new(|| {
        let mut described = kernel();
        described.arch = Some(Arch::Wasm32Simd128);
        described
    });

    fn make() -> Box<dyn MatMatMul> {
        KERNEL.mmm()
    }

    inventory::submit! { MmmRoutine { make } }

    inventory::submit! { TIER }
}

#[cfg(test)]
mod tests {
    use tract_linalg::generic::mmm::generic_f32_4x4;
    use tract_linalg::isa::{Arch, Isa, IsaSet};
    use tract_linalg::mmm::{AsInputValue, FusedSpec, MatMatMul, Query, Suitable};
    use tract_linalg::mmm_tiers::preferred;
    use tract_linalg::BinOp;
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::internal::Approximation;

    use super::{kernel, TIER};

    #[test]
    fn dispatch_picks_the_kernel_for_products_and_leaves_the_rest_to_tract() {
        let isa = IsaSet::of_arch(Arch::Wasm32Simd128).with(Isa::Wasm32Simd128);
        let suitable: Vec<Suitable> =
            vec![(generic_f32_4x4.mmm(), 0, None), (kernel().mmm(), 0, None)];
        let pick = |accumulator, n| {
            let query = Query::plain(accumulator, Some(64), Some(32), n);
            preferred(&isa, &[&TIER], accumulator, &query, &suitable)
        };
        assert_eq!(pick(DatumType::F32, Some(64)), Some(1));
        assert_eq!(pick(DatumType::F32, Some(2)), Some(1));
        assert_eq!(pick(DatumType::F32, None), Some(1));
        assert_eq!(pick(DatumType::F32, Some(1)), None);
        assert_eq!(pick(DatumType::I32, Some(64)), None);
        assert!((TIER.applies)(&isa));
    }

    /// Deterministic values with both signs and no two alike in a row.
    fn matrix(rows: usize, cols: usize, seed: usize) -> Tensor {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919 + seed * 104_729) % 1009) as f32 / 250.0 - 2.0)
            .collect();
        tensor1(&values).into_shape(&[rows, cols]).unwrap()
    }

    /// Runs `A × B` followed by `fused` on one kernel and returns C.
    fn product(
        mmm: &dyn MatMatMul,
        (m, k, n): (usize, usize, usize),
        fused: impl Fn(&dyn MatMatMul) -> Vec<FusedSpec<'static>>,
    ) -> Tensor {
        let (pack_a, pack_b) = &mmm.packings()[0];
        let a = pack_a.prepare_one(&matrix(m, k, 1), 1, 0).unwrap();
        let b = pack_b.prepare_one(&matrix(k, n, 2), 0, 1).unwrap();
        let mut c = Tensor::zero::<f32>(&[m, n]).unwrap();
        let mut ops = vec![FusedSpec::AddMatMul {
            a: AsInputValue::Borrowed(&*a),
            b: AsInputValue::Borrowed(&*b),
            packing: 0,
        }];
        ops.extend(fused(mmm));
        unsafe {
            let store = mmm.c_view(Some(0), Some(1)).wrap(&c.view_mut());
            ops.push(FusedSpec::Store(store));
            mmm.run(m, n, &ops).unwrap();
        }
        c
    }

    /// Checks the kernel against tract's generic kernel on the same ops.
    fn agrees_with_tract(
        shape: (usize, usize, usize),
        fused: impl Fn(&dyn MatMatMul) -> Vec<FusedSpec<'static>>,
    ) {
        let ours = product(&*kernel().mmm(), shape, &fused);
        let reference = product(&*generic_f32_4x4.mmm(), shape, &fused);
        ours.close_enough(&reference, Approximation::Close)
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
    }

    #[test]
    fn products_match_tract_on_whole_and_partial_tiles() {
        for shape in [(4, 1, 8), (8, 16, 16), (7, 5, 13), (33, 64, 17), (1, 3, 30)] {
            agrees_with_tract(shape, |_| vec![]);
        }
    }

    #[test]
    fn a_wrong_product_would_be_caught() {
        let ours = product(&*kernel().mmm(), (7, 5, 13), |_| vec![]);
        let shifted = product(&*generic_f32_4x4.mmm(), (7, 5, 13), |_| {
            vec![FusedSpec::BinScalar(
                Box::leak(Box::new(tensor0(0.01f32))),
                BinOp::Add,
            )]
        });
        assert!(ours.close_enough(&shifted, Approximation::Close).is_err());
    }

    fn leak(t: Tensor) -> &'static Tensor {
        Box::leak(Box::new(t))
    }

    #[test]
    fn fused_scalar_row_and_column_operations_match_tract() {
        let ops = [
            BinOp::Min,
            BinOp::Max,
            BinOp::Add,
            BinOp::Mul,
            BinOp::Sub,
            BinOp::SubF,
        ];
        for op in ops {
            agrees_with_tract((9, 6, 11), |_| {
                vec![FusedSpec::BinScalar(leak(tensor0(0.5f32)), op)]
            });
            agrees_with_tract((9, 6, 11), |_| {
                let rows = leak(matrix(1, 9, 3).into_shape(&[9]).unwrap());
                vec![FusedSpec::BinPerRow(rows.view(), op)]
            });
            agrees_with_tract((9, 6, 11), |_| {
                let cols = leak(matrix(1, 11, 4).into_shape(&[11]).unwrap());
                vec![FusedSpec::BinPerCol(cols.view(), op)]
            });
        }
    }

    #[test]
    fn fused_leaky_relu_row_col_products_and_unicast_match_tract() {
        agrees_with_tract((6, 4, 10), |_| {
            vec![FusedSpec::LeakyRelu(leak(tensor0(0.1f32)))]
        });
        agrees_with_tract((6, 4, 10), |_| {
            let rows = leak(matrix(1, 6, 5).into_shape(&[6]).unwrap());
            let cols = leak(matrix(1, 10, 6).into_shape(&[10]).unwrap());
            vec![FusedSpec::AddRowColProducts(rows, cols)]
        });
        agrees_with_tract((6, 4, 10), |mmm| {
            let other = leak(matrix(6, 10, 7));
            let store = unsafe { mmm.c_view(Some(0), Some(1)).wrap(&other.view()) };
            vec![FusedSpec::AddUnicast(store)]
        });
    }
}
