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

use std::io::Write;
use std::path::{Path, PathBuf};

pub use model::{EndpointReport, NotRun, ProfileInfo, Provenance, RunOutcome, RunReport};
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

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("could not render the {format} report: {source}")]
    Render {
        format: &'static str,
        source: RenderError,
    },
    #[error("could not write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where a rendered format goes.
pub enum Destination<'a> {
    Stdout,
    File(&'a Path),
}

pub fn write(
    format: &'static str,
    reporter: &dyn Reporter,
    run: &RunReport,
    to: Destination<'_>,
) -> Result<(), WriteError> {
    let bytes = reporter
        .render(run)
        .map_err(|source| WriteError::Render { format, source })?;
    match to {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|_| out.flush())
                .map_err(|source| WriteError::Io {
                    path: PathBuf::from("<stdout>"),
                    source,
                })
        }
        Destination::File(path) => std::fs::write(path, &bytes).map_err(|source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
