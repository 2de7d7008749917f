//! Rendering a finished run. Every format renders from the same `RunReport`; no format reads
//! another's output; `write` alone decides between a file and stdout. Never sees the engine.

pub mod annotations;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
mod model;
pub mod outputs;
pub mod provenance;
pub mod repeat;
pub mod table;
pub mod term;
#[cfg(any(test, feature = "testdata"))]
#[doc(hidden)]
pub mod testdata;

pub use model::{
    Arrivals, EndpointReport, FlowReport, Imported, Merged, MergedShard, NotRun, ProfileInfo,
    Provenance, RunOutcome, RunReport, ShardInfo,
};
pub use outputs::{Format, OutputError, Outputs};

/// Renders a finished document (a run, by default; a comparison). Pure: no I/O, no clock.
pub trait Reporter<T = RunReport> {
    fn render(&self, doc: &T) -> Result<Vec<u8>, RenderError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Format(String),
}
