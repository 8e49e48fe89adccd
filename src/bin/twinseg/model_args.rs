//! `--encoder` / `--decoder`: the model flags every command that runs SAM
//! shares. Without them the built-in test model is used.

use clap::Args;
use twinseg::model::{use_threads, ModelSource, SamModel};

/// Which SAM-contract model pair to run.
#[derive(Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// Image encoder ONNX: a path or an http(s) URL (default: the built-in test model).
    #[arg(long, value_name = "PATH|URL", requires = "decoder")]
    pub encoder: Option<String>,
    /// Prompt decoder ONNX: a path or an http(s) URL (default: the built-in test model).
    #[arg(long, value_name = "PATH|URL", requires = "encoder")]
    pub decoder: Option<String>,
    /// Threads the models run on (default: every core of the machine).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
}

impl ModelArgs {
    /// Loads and checks the chosen model pair on the chosen threads; the
    /// error is one sentence.
    pub fn load(&self) -> Result<SamModel, String> {
        use_threads(self.threads()).map_err(|e| e.to_string())?;
        let loaded = match (&self.encoder, &self.decoder) {
            (Some(encoder), Some(decoder)) => {
                SamModel::load(ModelSource::parse(encoder), ModelSource::parse(decoder))
            }
            _ => SamModel::builtin(),
        };
        loaded.map_err(|e| e.to_string())
    }

    /// The `--threads` value, or every core the process may use.
    pub fn threads(&self) -> usize {
        self.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        )
    }
}
