//! Reasoning over the Digital Twin: a [`Reasoner`] takes the twin and a
//! question and answers with the ids of the objects meant, plus the steps
//! that led there. [`embedded`] is the offline default; [`remote`] asks any
//! OpenAI-compatible chat endpoint.

pub mod embedded;
pub mod remote;

use serde::{Deserialize, Serialize};

use crate::twin::DigitalTwin;

pub use embedded::EmbeddedReasoner;

/// A reasoner's answer: the object ids meant (their masks compose into the
/// answer mask) and the reasoning steps as short sentences. No ids means
/// "none of them", and `none_reason` says why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Ids of the selected twin objects, in the order chosen.
    pub ids: Vec<u32>,
    /// The reasoning steps, e.g. `"Colour red: 2, 4."`.
    pub steps: Vec<String>,
    /// Why nothing was selected, when `ids` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none_reason: Option<String>,
}

/// Why a reasoner could not answer at all (as opposed to answering "none").
#[derive(Debug, thiserror::Error)]
pub enum ReasonError {
    /// The remote reasoner failed.
    #[error(transparent)]
    Remote(#[from] remote::RemoteError),
}

/// Answers questions over a Digital Twin.
pub trait Reasoner {
    /// Selects the objects of `twin` that `query` asks for.
    fn reason(&self, twin: &DigitalTwin, query: &str) -> Result<Answer, ReasonError>;
}
