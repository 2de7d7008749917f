//! The comparison's files go through the same `Reporter` trait and `report::Outputs` as a
//! run's: checked before anything is read, written atomically, replaced by a not-run note when
//! the comparison cannot be made.

use std::path::PathBuf;

use super::Comparison;
use crate::report::{Format, Outputs, RenderError, Reporter, RunReport};

/// A comparison with the two runs it was made from (the HTML page charts them).
pub struct ComparisonReport {
    pub comparison: Comparison,
    pub base: RunReport,
    pub head: RunReport,
}

struct Json;
struct Markdown;
struct Html;

impl Reporter<ComparisonReport> for Json {
    fn render(&self, doc: &ComparisonReport) -> Result<Vec<u8>, RenderError> {
        Ok(super::json(&doc.comparison))
    }
}

impl Reporter<ComparisonReport> for Markdown {
    fn render(&self, doc: &ComparisonReport) -> Result<Vec<u8>, RenderError> {
        Ok(super::markdown(&doc.comparison).into_bytes())
    }
}

impl Reporter<ComparisonReport> for Html {
    fn render(&self, doc: &ComparisonReport) -> Result<Vec<u8>, RenderError> {
        super::html(&doc.comparison, &doc.base, &doc.head).map(String::into_bytes)
    }
}

/// The comparison's files: JSON, Markdown and HTML (the formats `slagate compare` offers).
pub fn outputs(wanted: &[(Format, PathBuf)]) -> Outputs<ComparisonReport> {
    Outputs::new(
        wanted
            .iter()
            .filter_map(|(format, path)| {
                let reporter: &'static dyn Reporter<ComparisonReport> = match format {
                    Format::Json => &Json,
                    Format::Markdown => &Markdown,
                    Format::Html => &Html,
                    Format::Csv | Format::Junit => return None,
                };
                Some((*format, path.clone(), reporter))
            })
            .collect(),
    )
}
