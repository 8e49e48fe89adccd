//! `--encoder` / `--decoder`: the model flags every command that runs SAM
//! shares. Without them the built-in test model is used.

use clap::Args;
use twinseg::model::{ModelSource, SamModel};

/// Which SAM-contract model pair to run.
#[derive(Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// Image encoder ONNX: a path or an http(s) URL (default: the built-in test model).
    #[arg(long, value_name = "PATH|URL", requires = "decoder")]
    pub encoder: Option<String>,
    /// Prompt decoder ONNX: a path or an http(s) URL (default: the built-in test model).
    #[arg(long, value_name = "PATH|URL", requires = "encoder")]
    pub decoder: Option<String>,
}

impl ModelArgs {
    /// Loads and checks the chosen model pair; the error is one sentence.
    pub fn load(&self) -> Result<SamModel, String> {
        let loaded = match (&self.encoder, &self.decoder) {
            (Some(encoder), Some(decoder)) => {
                SamModel::load(ModelSource::parse(encoder), ModelSource::parse(decoder))
            }
            _ => SamModel::builtin(),
        };
        loaded.map_err(|e| e.to_string())
    }
}
