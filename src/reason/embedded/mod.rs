//! The embedded reasoner: offline, deterministic language understanding over
//! the Digital Twin. A question is split into words and lemmas ([`words`]),
//! given meanings with synonyms ([`lexicon`]), parsed into a [`query::Query`]
//! ([`parse`]) and answered by narrowing the twin's objects step by step
//! ([`solve`]).

pub mod lexicon;
pub mod parse;
pub mod query;
pub mod solve;
pub mod words;

use super::{Answer, ReasonError, Reasoner};
use crate::twin::DigitalTwin;

/// The default reasoner: no network, no model, runs in wasm.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbeddedReasoner;

impl EmbeddedReasoner {
    /// Answers `query` over `twin`. Never fails: when the question cannot be
    /// understood or nothing fits, the answer has no ids and says why.
    pub fn answer(&self, twin: &DigitalTwin, query: &str) -> Answer {
        let parsed = parse::parse(query);
        solve::solve(twin, &parsed, query)
    }
}

impl Reasoner for EmbeddedReasoner {
    fn reason(&self, twin: &DigitalTwin, query: &str) -> Result<Answer, ReasonError> {
        Ok(self.answer(twin, query))
    }
}
