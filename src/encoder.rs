//! The SAM image encoder: prepared image tensor → image embedding, computed
//! once per image and reused by every prompt.

use std::sync::Arc;

use image::RgbImage;
use tract_onnx::pb;
use tract_onnx::prelude::*;

use crate::decoder::ImagePartSlot;
use crate::model::{
    dequantize_weights, guard_tract, parse_proto, runnable_plan, tract_model, ModelError, Role,
    Signature,
};
use crate::prepare::{prepare, Frame, PreparedImage, SIDE};

/// Channels of the image embedding.
pub const EMBED_CHANNELS: usize = 256;
/// Side of the image embedding grid.
pub const EMBED_SIDE: usize = 64;
/// The output name of the SAM contract; a sole output of another name is accepted too.
const OUTPUT: &str = "image_embeddings";

/// The encoder's result for one image: the `1×256×64×64` embedding and how
/// the image maps into the model frame. Clones share the embedding and what
/// the decoder computed from it once.
#[derive(Clone, Debug)]
pub struct Embedding {
    frame: Frame,
    tensor: Arc<Tensor>,
    /// The decoder's image part for this embedding, kept with it so that it
    /// is freed with it, not held over into the next image's encoding.
    image_part: Arc<ImagePartSlot>,
}

impl Embedding {
    /// Wraps a `1×256×64×64` embedding computed elsewhere (e.g. cached).
    pub fn from_values(frame: Frame, values: &[f32]) -> Result<Self, ModelError> {
        let shape = [1, EMBED_CHANNELS, EMBED_SIDE, EMBED_SIDE];
        let tensor = Tensor::from_shape(&shape, values).map_err(|e| {
            ModelError::contract(
                Role::Encoder,
                format!(
                    "an embedding needs {} values: {e}",
                    shape.iter().product::<usize>()
                ),
            )
        })?;
        Ok(Self::new(frame, tensor))
    }

    fn new(frame: Frame, tensor: Tensor) -> Self {
        Self {
            frame,
            tensor: Arc::new(tensor),
            image_part: Arc::default(),
        }
    }

    /// How the original image maps into the model frame.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The embedding values, channel-major (`256 × 64 × 64`).
    pub fn values(&self) -> Result<Vec<f32>, ModelError> {
        crate::model::to_f32_vec(&self.tensor, Role::Encoder)
    }

    pub(crate) fn tensor(&self) -> Arc<Tensor> {
        Arc::clone(&self.tensor)
    }

    pub(crate) fn image_part(&self) -> &ImagePartSlot {
        &self.image_part
    }
}

/// A loaded, checked and optimised image encoder.
#[derive(Clone, Debug)]
pub struct Encoder {
    plan: Arc<TypedRunnableModel>,
}

impl Encoder {
    /// Loads an encoder from ONNX bytes and checks it against the contract:
    /// one float input `[1, 3, 1024, 1024]`, output `image_embeddings`
    /// `[1, 256, 64, 64]`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut proto = parse_proto(bytes, Role::Encoder)?;
        let output = check_signature(&proto)?;
        if let Some(graph) = proto.graph.as_mut() {
            graph.output.retain(|o| o.name == output);
            dequantize_weights(graph);
        }
        guard_tract(Role::Encoder, || Self::build(&proto))
    }

    fn build(proto: &pb::ModelProto) -> Result<Self, ModelError> {
        let role = Role::Encoder;
        let side = SIDE as usize;
        let model = tract_model(proto, role)?
            .with_input_fact(0, f32::fact([1, 3, side, side]).into())
            .map_err(|e| ModelError::build(role, e))?;
        let typed = model.into_typed().map_err(|e| ModelError::build(role, e))?;
        let fact = typed
            .output_fact(0)
            .map_err(|e| ModelError::build(role, e))?;
        let expected: TVec<TDim> = [1, EMBED_CHANNELS, EMBED_SIDE, EMBED_SIDE]
            .iter()
            .map(|&d| d.into())
            .collect();
        if fact.shape.dims() != &*expected {
            return Err(ModelError::contract(
                role,
                format!(
                    "output `{OUTPUT}` has shape {:?}, expected [1, 256, 64, 64]",
                    fact.shape.dims()
                ),
            ));
        }
        let plan = runnable_plan(typed).map_err(|e| ModelError::build(role, e))?;
        Ok(Self { plan })
    }

    /// Prepares the image (resize, normalise, pad) and computes its embedding.
    pub fn embed(&self, image: &RgbImage) -> Result<Embedding, ModelError> {
        self.embed_prepared(prepare(image))
    }

    /// Computes the embedding of an image already prepared (so a caller can
    /// time preparation and the encoder apart).
    pub fn embed_prepared(&self, prepared: PreparedImage) -> Result<Embedding, ModelError> {
        let input = Tensor::from_shape(&prepared.shape(), &prepared.data)
            .map_err(|e| ModelError::run(Role::Encoder, e))?;
        let mut outputs = self
            .plan
            .run(tvec!(input.into()))
            .map_err(|e| ModelError::run(Role::Encoder, e))?;
        let tensor = outputs
            .remove(0)
            .into_tensor()
            .cast_to::<f32>()
            .map_err(|e| ModelError::run(Role::Encoder, e))?
            .into_owned();
        Ok(Embedding::new(prepared.frame, tensor))
    }
}

/// Checks the declared signature; returns the name of the embedding output.
fn check_signature(proto: &pb::ModelProto) -> Result<String, ModelError> {
    let role = Role::Encoder;
    let Some(graph) = proto.graph.as_ref() else {
        return Err(ModelError::contract(role, "no graph"));
    };
    let sig = Signature::of(graph);
    let [input] = sig.inputs.as_slice() else {
        return Err(ModelError::contract(
            role,
            format!(
                "expected one input (the image, float32 [1, 3, 1024, 1024]), found {}",
                sig.input_names()
            ),
        ));
    };
    input.check(
        role,
        "input",
        &[Some(1), Some(3), Some(SIDE as i64), Some(SIDE as i64)],
    )?;
    let output = match (sig.output(OUTPUT), sig.outputs.as_slice()) {
        (Some(o), _) => o,
        (None, [only]) => only,
        _ => {
            return Err(ModelError::contract(
                role,
                format!("no output named `{OUTPUT}` among {}", sig.output_names()),
            ))
        }
    };
    output.check(
        role,
        "output",
        &[
            Some(1),
            Some(EMBED_CHANNELS as i64),
            Some(EMBED_SIDE as i64),
            Some(EMBED_SIDE as i64),
        ],
    )?;
    Ok(output.name.clone())
}
