//! Loading a SAM encoder/decoder pair: from a path, bytes or a URL; checking
//! it against the SAM ONNX contract; and the built-in test model.
//!
//! Any export that keeps the contract of `docs/model-contract.md` loads
//! without code changes; one that does not gets an error naming the input or
//! output that does not fit. The ONNX protobuf is read once, checked, patched
//! where tract needs it (see [`crate::decoder`]) and handed to tract.

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use image::RgbImage;
use tract_onnx::pb;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as DimValue;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::prelude::*;

use crate::decoder::{Decoder, Prediction, Prompt};
use crate::encoder::{Embedding, Encoder};
use crate::prepare::PreparedImage;

mod dequantize;
#[cfg(all(feature = "download", not(target_arch = "wasm32")))]
mod download;
mod prompt_split;
#[cfg(not(target_arch = "wasm32"))]
mod row_softmax;
mod short_softmax;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
mod wasm_matmul;

pub(crate) use dequantize::dequantize_weights;
pub(crate) use prompt_split::SplitPlan;
pub(crate) use short_softmax::unroll_short_softmax;

const BUILTIN_ENCODER: &[u8] = include_bytes!("../models/twinseg_test_encoder.onnx");
const BUILTIN_DECODER: &[u8] = include_bytes!("../models/twinseg_test_decoder.onnx");

/// Where a model's ONNX bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// A file on disk (CLI).
    Path(PathBuf),
    /// Bytes already in memory (a file the person picked, a fetch in the browser).
    Bytes(Vec<u8>),
    /// An `http(s)://` address, downloaded natively with the `download` feature.
    Url(String),
}

impl ModelSource {
    /// Reads a command-line value: `http://` and `https://` are URLs, anything else a path.
    pub fn parse(value: &str) -> Self {
        if value.starts_with("http://") || value.starts_with("https://") {
            Self::Url(value.to_string())
        } else {
            Self::Path(PathBuf::from(value))
        }
    }

    /// Fetches the bytes: reads the file, downloads the URL, or hands the bytes over.
    pub fn into_bytes(self, role: Role) -> Result<Vec<u8>, ModelError> {
        match self {
            Self::Bytes(bytes) => Ok(bytes),
            Self::Path(path) => std::fs::read(&path).map_err(|e| ModelError::Read {
                role,
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Self::Url(url) => download(role, &url),
        }
    }
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(f, "{}", path.display()),
            Self::Bytes(bytes) => write!(f, "{} bytes in memory", bytes.len()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

#[cfg(all(feature = "download", not(target_arch = "wasm32")))]
fn download(role: Role, url: &str) -> Result<Vec<u8>, ModelError> {
    download::fetch(url, download::Patience::default()).map_err(|reason| ModelError::Download {
        role,
        url: url.to_string(),
        reason,
    })
}

#[cfg(not(all(feature = "download", not(target_arch = "wasm32"))))]
fn download(_role: Role, url: &str) -> Result<Vec<u8>, ModelError> {
    Err(ModelError::NoDownload {
        url: url.to_string(),
    })
}

/// Which half of the SAM pair a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The image encoder.
    Encoder,
    /// The prompt/mask decoder.
    Decoder,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Encoder => "encoder",
            Self::Decoder => "decoder",
        })
    }
}

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model file could not be read.
    #[error("could not read the {role} model file {path}: {message}")]
    Read {
        /// Encoder or decoder.
        role: Role,
        /// The path given.
        path: String,
        /// The operating system's reason.
        message: String,
    },
    /// The download failed.
    #[error("could not download the {role} model from {url}: {reason}")]
    Download {
        /// Encoder or decoder.
        role: Role,
        /// The address given.
        url: String,
        /// Why, by the download rules of [`crate::transfer`].
        reason: crate::transfer::TransferError,
    },
    /// This build has no HTTP client (wasm, or without the `download` feature).
    #[error(
        "this build cannot download models ({url}); download the file and pass its path or bytes"
    )]
    NoDownload {
        /// The address given.
        url: String,
    },
    /// The bytes are not a (complete) ONNX model.
    #[error("the {role} model is not a valid ONNX file ({message}); is the file complete?")]
    NotOnnx {
        /// Encoder or decoder.
        role: Role,
        /// What the protobuf reader said.
        message: String,
    },
    /// The model is ONNX but its inputs or outputs do not fit the SAM contract.
    #[error("the {role} model does not fit the SAM contract: {problem}")]
    Contract {
        /// Encoder or decoder.
        role: Role,
        /// Which input or output is wrong, and what was expected.
        problem: String,
    },
    /// tract could not type or optimise the model (an unsupported operator, say).
    #[error("tract could not prepare the {role} model: {message}")]
    Build {
        /// Encoder or decoder.
        role: Role,
        /// tract's explanation.
        message: String,
    },
    /// tract stopped on an internal check while reading the model, which
    /// damaged files reach (tract asserts some of what a valid graph
    /// guarantees instead of returning an error).
    #[error("the {role} model is damaged: tract could not read it ({message})")]
    Damaged {
        /// Encoder or decoder.
        role: Role,
        /// tract's failed check.
        message: String,
    },
    /// Running the model failed.
    #[error("running the {role} model failed: {message}")]
    Run {
        /// Encoder or decoder.
        role: Role,
        /// tract's explanation.
        message: String,
    },
    /// A prompt cannot be given to the decoder.
    #[error("invalid prompt: {0}")]
    Prompt(String),
    /// The thread pool for the models could not be started.
    #[error("could not start {threads} threads for the models: {message}")]
    Threads {
        /// How many were asked for.
        threads: usize,
        /// The operating system's reason.
        message: String,
    },
}

/// Sets how many threads every model of this process runs its matrix
/// products and convolutions on (1: the calling thread only, the default),
/// and the pool that decoder batches run their prompts side by side on
/// ([`prompts_on_thread_pool`]).
///
/// The encoder's convolutions dominate an image's cost and split well across
/// cores; results are the same for any number of threads. Native builds
/// only: in the browser, threads are Web Workers that the page's worker
/// starts itself and lends to the encoder with [`on_thread_pool`].
#[cfg(not(target_arch = "wasm32"))]
pub fn use_threads(threads: usize) -> Result<(), ModelError> {
    use tract_linalg::multithread::{set_default_executor, Executor};
    let pool = if threads <= 1 {
        None
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("twinseg-model-{i}"))
            .num_threads(threads)
            .build()
            .map_err(|e| ModelError::Threads {
                threads,
                message: e.to_string(),
            })?;
        Some(Arc::new(pool))
    };
    set_default_executor(
        pool.clone()
            .map_or(Executor::SingleThread, Executor::MultiThread),
    );
    *DEFAULT_PROMPT_POOL
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = pool;
    Ok(())
}

/// The pool [`use_threads`] made, which decoder batches spread their runs
/// over unless [`prompts_on_thread_pool`] names another.
static DEFAULT_PROMPT_POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);

thread_local! {
    /// The pool that [`prompts_on_thread_pool`] set for this thread's work.
    static PROMPT_POOL: RefCell<Option<Arc<rayon::ThreadPool>>> = const { RefCell::new(None) };
}

/// Runs `work` with every decoder batch in it spreading its runs over
/// `pool`, one run per thread at a time, each run on a single thread.
///
/// A decoder run's matrix products are too small to gain from being split
/// across threads, but separate prompts are independent: run side by side
/// they answer a batch (the everything mode's grid) up to as many times
/// faster as the pool has threads, with the same masks as on one thread.
pub fn prompts_on_thread_pool<R>(pool: &Arc<rayon::ThreadPool>, work: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<rayon::ThreadPool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PROMPT_POOL.set(self.0.take());
        }
    }
    let _restore = Restore(PROMPT_POOL.replace(Some(pool.clone())));
    work()
}

/// The pool decoder batches spread their runs over on this thread, if any.
pub(crate) fn prompt_pool() -> Option<Arc<rayon::ThreadPool>> {
    PROMPT_POOL.with_borrow(Clone::clone).or_else(|| {
        DEFAULT_PROMPT_POOL
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    })
}

/// Runs `work` with tract's products on the calling thread alone: for work
/// that is itself one of several running side by side on a pool.
pub(crate) fn single_threaded<R>(work: impl FnOnce() -> R) -> R {
    use tract_linalg::multithread::{multithread_tract_scope, Executor};
    multithread_tract_scope(Executor::SingleThread, work)
}

/// Runs `work` with the models on `pool`, whatever the process default:
/// for callers that split only some steps across threads (the page's
/// worker threads the encoder, whose large convolutions gain from them, but
/// not the decoder, whose small products lose more to the hand-offs).
pub fn on_thread_pool<R>(pool: &Arc<rayon::ThreadPool>, work: impl FnOnce() -> R) -> R {
    use tract_linalg::multithread::{multithread_tract_scope, Executor};
    multithread_tract_scope(Executor::MultiThread(pool.clone()), work)
}

/// Runs `read` (tract reading and preparing a model), turning a panic inside
/// tract into [`ModelError::Damaged`]: tract unwraps some graph properties
/// that only a damaged file breaks. Natively the panic is caught; in wasm,
/// where panics abort, the page restarts its worker instead.
pub(crate) fn guard_tract<T>(
    role: Role,
    read: impl FnOnce() -> Result<T, ModelError>,
) -> Result<T, ModelError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("an internal check failed");
        Err(ModelError::Damaged {
            role,
            message: message.to_string(),
        })
    })
}

impl ModelError {
    pub(crate) fn contract(role: Role, problem: impl Into<String>) -> Self {
        Self::Contract {
            role,
            problem: problem.into(),
        }
    }

    pub(crate) fn build(role: Role, error: impl fmt::Display) -> Self {
        Self::Build {
            role,
            message: format!("{error:#}"),
        }
    }

    pub(crate) fn run(role: Role, error: impl fmt::Display) -> Self {
        Self::Run {
            role,
            message: format!("{error:#}"),
        }
    }
}

/// A SAM encoder and decoder ready to run: embed an image once, then answer
/// any number of prompts against the embedding.
#[derive(Clone, Debug)]
pub struct SamModel {
    encoder: Encoder,
    decoder: Decoder,
}

impl SamModel {
    /// Loads, checks and optimises an encoder/decoder pair.
    pub fn load(encoder: ModelSource, decoder: ModelSource) -> Result<Self, ModelError> {
        let encoder = Encoder::from_bytes(&encoder.into_bytes(Role::Encoder)?)?;
        let decoder = Decoder::from_bytes(&decoder.into_bytes(Role::Decoder)?)?;
        Ok(Self { encoder, decoder })
    }

    /// The project's own small test model (`models/`), built into the library.
    /// It keeps the SAM contract and segments flat-coloured shapes by colour;
    /// it is not SAM.
    pub fn builtin() -> Result<Self, ModelError> {
        Ok(Self {
            encoder: Encoder::from_bytes(BUILTIN_ENCODER)?,
            decoder: Decoder::from_bytes(BUILTIN_DECODER)?,
        })
    }

    /// The ONNX bytes of the built-in encoder and decoder.
    pub fn builtin_bytes() -> (&'static [u8], &'static [u8]) {
        (BUILTIN_ENCODER, BUILTIN_DECODER)
    }

    /// Runs the encoder on an image (once per image; the embedding is reused by every prompt).
    pub fn embed(&self, image: &RgbImage) -> Result<Embedding, ModelError> {
        self.encoder.embed(image)
    }

    /// Runs the encoder on an image already prepared by [`crate::prepare::prepare`].
    pub fn embed_prepared(&self, prepared: PreparedImage) -> Result<Embedding, ModelError> {
        self.encoder.embed_prepared(prepared)
    }

    /// Answers one prompt.
    pub fn predict(
        &self,
        embedding: &Embedding,
        prompt: &Prompt,
    ) -> Result<Prediction, ModelError> {
        self.decoder.predict(embedding, prompt)
    }

    /// Answers many prompts, in batches of up to [`SamModel::max_batch`] per
    /// decoder run, the runs side by side on the prompt pool if there is one
    /// ([`prompts_on_thread_pool`], [`use_threads`]).
    pub fn predict_batch(
        &self,
        embedding: &Embedding,
        prompts: &[Prompt],
    ) -> Result<Vec<Prediction>, ModelError> {
        self.decoder.predict_batch(embedding, prompts)
    }

    /// How many prompts one decoder run takes (1 for decoders with a fixed batch of 1).
    pub fn max_batch(&self) -> usize {
        self.decoder.max_batch()
    }

    /// How many prompts the everything mode hands the decoder at once (see
    /// [`Decoder::prompts_per_batch`]).
    pub fn prompts_per_batch(&self) -> usize {
        self.decoder.prompts_per_batch()
    }

    /// The encoder half.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The decoder half.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }
}

/// One dimension of a declared input or output shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dim {
    Fixed(i64),
    Symbol(String),
    Unknown,
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(v) => write!(f, "{v}"),
            Self::Symbol(s) => f.write_str(s),
            Self::Unknown => f.write_str("?"),
        }
    }
}

/// A graph input or output as the file declares it.
#[derive(Clone, Debug)]
pub(crate) struct Declared {
    pub name: String,
    pub elem_type: i32,
    pub dims: Option<Vec<Dim>>,
}

pub(crate) const ONNX_FLOAT: i32 = 1;

impl Declared {
    fn from_proto(info: &pb::ValueInfoProto) -> Self {
        let tensor = match info.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(TypeValue::TensorType(tensor)) => Some(tensor),
            _ => None,
        };
        let dims = tensor.and_then(|t| t.shape.as_ref()).map(|shape| {
            shape
                .dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimValue::DimValue(v)) => Dim::Fixed(*v),
                    Some(DimValue::DimParam(s)) if !s.is_empty() => Dim::Symbol(s.clone()),
                    _ => Dim::Unknown,
                })
                .collect()
        });
        Self {
            name: info.name.clone(),
            elem_type: tensor.map_or(0, |t| t.elem_type),
            dims,
        }
    }

    pub fn shape_text(&self) -> String {
        match &self.dims {
            Some(dims) => format!(
                "[{}]",
                dims.iter()
                    .map(Dim::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "an undeclared shape".to_string(),
        }
    }

    /// Checks rank and fixed sizes; `None` in `expected` accepts any size, and a
    /// symbolic or undeclared dimension is accepted (tract fixes it from the facts).
    pub fn check(
        &self,
        role: Role,
        kind: &str,
        expected: &[Option<i64>],
    ) -> Result<(), ModelError> {
        let wanted = format!(
            "[{}]",
            expected
                .iter()
                .map(|d| d.map_or("N".to_string(), |v| v.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if self.elem_type != ONNX_FLOAT && self.elem_type != 0 {
            return Err(ModelError::contract(
                role,
                format!(
                    "{kind} `{}` has ONNX element type {}, expected float32 {wanted}",
                    self.name, self.elem_type
                ),
            ));
        }
        let Some(dims) = &self.dims else {
            return Ok(());
        };
        let fits = dims.len() == expected.len()
            && dims.iter().zip(expected).all(|(d, e)| match (d, e) {
                (Dim::Fixed(v), Some(e)) => v == e,
                _ => true,
            });
        if fits {
            Ok(())
        } else {
            Err(ModelError::contract(
                role,
                format!(
                    "{kind} `{}` has shape {}, expected {wanted}",
                    self.name,
                    self.shape_text()
                ),
            ))
        }
    }
}

/// The inputs (without initializers) and outputs a model file declares.
pub(crate) struct Signature {
    pub inputs: Vec<Declared>,
    pub outputs: Vec<Declared>,
}

impl Signature {
    pub fn of(graph: &pb::GraphProto) -> Self {
        let initializers: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        Self {
            inputs: graph
                .input
                .iter()
                .filter(|i| !initializers.contains(i.name.as_str()))
                .map(Declared::from_proto)
                .collect(),
            outputs: graph.output.iter().map(Declared::from_proto).collect(),
        }
    }

    pub fn input(&self, name: &str) -> Option<&Declared> {
        self.inputs.iter().find(|d| d.name == name)
    }

    pub fn output(&self, name: &str) -> Option<&Declared> {
        self.outputs.iter().find(|d| d.name == name)
    }

    pub fn input_names(&self) -> String {
        names(&self.inputs)
    }

    pub fn output_names(&self) -> String {
        names(&self.outputs)
    }
}

fn names(items: &[Declared]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items
        .iter()
        .map(|d| format!("`{}`", d.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses ONNX bytes into the protobuf model, with a clear error for anything
/// that is not a complete ONNX graph.
pub(crate) fn parse_proto(bytes: &[u8], role: Role) -> Result<pb::ModelProto, ModelError> {
    let not_onnx = |message: String| ModelError::NotOnnx { role, message };
    if bytes.is_empty() {
        return Err(not_onnx("the file is empty".to_string()));
    }
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| not_onnx(format!("{e:#}")))?;
    match &proto.graph {
        Some(graph) if !graph.node.is_empty() && !graph.output.is_empty() => Ok(proto),
        _ => Err(not_onnx("it holds no ONNX graph".to_string())),
    }
}

/// Refuses a graph whose declared output nothing produces (no node output,
/// graph input or initializer of that name): tract assumes it exists.
fn check_outputs_produced(graph: &pb::GraphProto, role: Role) -> Result<(), ModelError> {
    let produced = |name: &str| {
        graph
            .node
            .iter()
            .any(|node| node.output.iter().any(|o| o == name))
            || graph.input.iter().any(|input| input.name == name)
            || graph.initializer.iter().any(|tensor| tensor.name == name)
    };
    match graph.output.iter().find(|output| !produced(&output.name)) {
        Some(output) => Err(ModelError::NotOnnx {
            role,
            message: format!("no node produces its output `{}`", output.name),
        }),
        None => Ok(()),
    }
}

/// Turns the protobuf into a tract model. Declared value_info and output shapes
/// are ignored: quantize_dynamic writes ones that contradict the graph, and
/// tract infers them anyway.
pub(crate) fn tract_model(
    proto: &pb::ModelProto,
    role: Role,
) -> Result<InferenceModel, ModelError> {
    if let Some(graph) = proto.graph.as_ref() {
        check_outputs_produced(graph, role)?;
    }
    tract_onnx::onnx()
        .with_ignore_value_info(true)
        .with_ignore_output_shapes(true)
        .model_for_proto_model(proto)
        .map_err(|e| ModelError::build(role, e))
}

/// tract's code-generation settings for this project's plans: the
/// convolutions that tract would run as its direct spatial kernel go to
/// im2col and a matrix product instead. Measured natively on MobileSAM's
/// encoder, whose first stride-2 convolution (32 to 64 channels on a
/// 512 × 512 map) took 404 ms direct and 160 ms through im2col.
/// Wasm builds have no direct spatial kernel, so nothing changes there.
const CODEGEN_KNOBS: [(&str, &str); 1] = [("TRACT_DISABLE_DIRECT_SPATIAL", "true")];

/// Optimises a typed model under [`CODEGEN_KNOBS`]; natively, its
/// softmaxes then run all rows at once ([`row_softmax`]).
pub(crate) fn optimised(model: TypedModel) -> TractResult<TypedModel> {
    let knobs = tract_onnx::tract_core::knobs::KnobScope::new(CODEGEN_KNOBS)?;
    let optimised = knobs.enter(|| model.into_optimized())?;
    #[cfg(not(target_arch = "wasm32"))]
    let optimised = row_softmax::softmax_by_rows(optimised)?;
    Ok(optimised)
}

/// The runnable plan of [`optimised`].
pub(crate) fn runnable_plan(model: TypedModel) -> TractResult<Arc<TypedRunnableModel>> {
    optimised(model)?.into_runnable()
}

/// The index of each named input in a tract model's input list.
pub(crate) fn input_index(
    model: &InferenceModel,
    name: &str,
    role: Role,
) -> Result<usize, ModelError> {
    let outlets = model
        .input_outlets()
        .map_err(|e| ModelError::build(role, e))?;
    outlets
        .iter()
        .position(|o| model.node(o.node).name == name)
        .ok_or_else(|| ModelError::contract(role, format!("input `{name}` not found in the graph")))
}

/// Reads an f32 tensor into a flat vector.
pub(crate) fn to_f32_vec(tensor: &Tensor, role: Role) -> Result<Vec<f32>, ModelError> {
    let cast = tensor
        .cast_to::<f32>()
        .map_err(|e| ModelError::run(role, e))?;
    let view = cast
        .to_plain_array_view::<f32>()
        .map_err(|e| ModelError::run(role, e))?;
    Ok(view.iter().copied().collect())
}

/// Inputs and comparisons the plan tests share.
#[cfg(test)]
pub(crate) mod test_values {
    use tract_onnx::prelude::Tensor;

    /// Logits from -spread to +spread, in an order that puts each row's
    /// largest anywhere along the last axis.
    pub(crate) fn logits(shape: &[usize], spread: f32) -> Tensor {
        let count: usize = shape.iter().product();
        let values: Vec<f32> = (0..count)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 * 2.0 - 1.0) * spread)
            .collect();
        Tensor::from_shape(shape, &values).unwrap()
    }

    /// The largest absolute difference between two runs' outputs.
    pub(crate) fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 × 3, stride-2 convolution over a map wide enough for tract's
    /// direct spatial kernel, with its kernel and bias as constants.
    fn wide_stride_two_convolution() -> TypedModel {
        use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
        use tract_onnx::tract_core::ops::nn::DataFormat;
        let (channels, side) = (8, 300);
        let mut model = TypedModel::default();
        let x = model
            .add_source("x", f32::fact([1, channels, side, side]))
            .unwrap();
        let weights: Vec<f32> = (0..channels * channels * 9)
            .map(|i| (i % 13) as f32 / 13.0 - 0.5)
            .collect();
        let kernel = Tensor::from_shape(&[channels, channels, 3, 3], &weights).unwrap();
        let kernel = model.add_const("kernel", kernel).unwrap();
        let bias = model.add_const("bias", tensor1(&[0.25f32; 8])).unwrap();
        let pool_spec = PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: tvec![3, 3],
            padding: PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]),
            dilations: None,
            strides: Some(tvec![2, 2]),
            input_channels: channels,
            output_channels: channels,
        };
        let conv = Conv::new(pool_spec, KernelFormat::OIHW, 1, None);
        let y = model.wire_node("conv", conv, &[x, kernel, bias]).unwrap();
        model.select_output_outlets(&y).unwrap();
        model
    }

    fn direct_spatial_nodes(plan: &TypedRunnableModel) -> usize {
        use tract_onnx::tract_core::ops::cnn::conv::DirectSpatialConv;
        let nodes = plan.model().nodes();
        nodes
            .iter()
            .filter(|n| n.op_is::<DirectSpatialConv>())
            .count()
    }

    #[test]
    fn plans_run_wide_convolutions_through_a_matrix_product_with_the_same_output() {
        let model = wide_stride_two_convolution();
        let tracts = model
            .clone()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let ours = runnable_plan(model).unwrap();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("fma") {
            assert_eq!(direct_spatial_nodes(&tracts), 1);
        }
        assert_eq!(direct_spatial_nodes(&ours), 0);
        let values: Vec<f32> = (0..8 * 300 * 300)
            .map(|i| (i % 29) as f32 / 7.0 - 2.0)
            .collect();
        let input = Tensor::from_shape(&[1, 8, 300, 300], &values).unwrap();
        let run = |plan: &Arc<TypedRunnableModel>| {
            let out = plan.run(tvec![input.clone().into_tvalue()]).unwrap();
            to_f32_vec(&out[0], Role::Encoder).unwrap()
        };
        let (expected, found) = (run(&tracts), run(&ours));
        assert_eq!(found.len(), 8 * 150 * 150);
        let worst = test_values::largest_difference(&expected, &found);
        assert!(worst < 1e-3, "largest difference {worst}");
    }

    #[test]
    fn parse_tells_urls_from_paths() {
        assert_eq!(
            ModelSource::parse("https://x.org/m.onnx"),
            ModelSource::Url("https://x.org/m.onnx".into())
        );
        assert_eq!(
            ModelSource::parse("models/m.onnx"),
            ModelSource::Path("models/m.onnx".into())
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = ModelSource::Path("/nonexistent/enc.onnx".into())
            .into_bytes(Role::Encoder)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/enc.onnx") && text.contains("encoder"),
            "{text}"
        );
    }

    #[test]
    fn non_onnx_and_truncated_bytes_are_refused() {
        for bytes in [
            &b""[..],
            b"this is certainly not a protobuf model",
            &BUILTIN_DECODER[..BUILTIN_DECODER.len() / 3],
        ] {
            match parse_proto(bytes, Role::Decoder) {
                Err(ModelError::NotOnnx {
                    role: Role::Decoder,
                    ..
                }) => {}
                other => panic!("expected NotOnnx, got {:?}", other.map(|_| "a model")),
            }
        }
    }

    #[test]
    fn builtin_signature_is_the_sam_contract() {
        let proto = parse_proto(BUILTIN_DECODER, Role::Decoder).unwrap();
        let sig = Signature::of(proto.graph.as_ref().unwrap());
        for name in [
            "image_embeddings",
            "point_coords",
            "point_labels",
            "mask_input",
            "has_mask_input",
            "orig_im_size",
        ] {
            assert!(sig.input(name).is_some(), "{name}");
        }
        for name in ["masks", "iou_predictions", "low_res_masks"] {
            assert!(sig.output(name).is_some(), "{name}");
        }
        let coords = sig.input("point_coords").unwrap();
        assert!(coords
            .check(Role::Decoder, "input", &[None, None, Some(2)])
            .is_ok());
        let err = coords
            .check(Role::Decoder, "input", &[None, Some(2)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`point_coords`") && err.contains("[batch, num_points, 2]"),
            "{err}"
        );
    }

    #[test]
    fn more_threads_give_the_same_embedding_and_masks() {
        let model = SamModel::builtin().expect("the built-in model loads");
        let scene = crate::scenes::generate(3);
        let image = scene.image;
        let prompts: Vec<Prompt> = scene
            .objects
            .iter()
            .map(|o| Prompt::point(o.centre.0, o.centre.1))
            .collect();
        let run = |threads| {
            use_threads(threads).expect("a thread pool starts");
            let embedding = model.embed(&image).expect("the encoder runs");
            let predictions = model
                .predict_batch(&embedding, &prompts)
                .expect("the decoder runs");
            (
                embedding.values().expect("the embedding reads"),
                predictions,
            )
        };
        let (two_threads, one_thread) = (run(2), run(1));
        assert!(two_threads.1.iter().any(|p| p.iou.iter().any(|&v| v > 0.9)));
        assert_eq!(two_threads, one_thread);
    }
}
