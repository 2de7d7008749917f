//! The diagnostics `config` (and `plan::build`) hand back: one [`ConfigError`] per failed load,
//! carrying the file's text and every [`Problem`] found in it, so that miette can draw each
//! mistake in place with its label and its help line.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

use super::secrets::Secrets;

/// Why a config file (or a command-line value that stands in for one) could not be used.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(slagate::config::io), help("{help}"))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        help: String,
    },

    /// The file (or flag value) was read, and these are all the mistakes in it.
    #[error("{summary}")]
    #[diagnostic(code(slagate::config::invalid))]
    Invalid {
        summary: String,
        #[source_code]
        src: NamedSource<String>,
        #[related]
        problems: Vec<Problem>,
    },

    /// `--profile NAME` names no file in the profiles directory.
    #[error("no profile named `{name}` in {}", dir.display())]
    #[diagnostic(code(slagate::config::unknown_profile), help("{help}"))]
    UnknownProfile {
        name: String,
        dir: PathBuf,
        available: Vec<String>,
        help: String,
    },

    /// Values that are each valid but do not fit together (e.g. a ramp-up longer than the run),
    /// where no single place in one file is to blame.
    #[error("{message}")]
    #[diagnostic(code(slagate::plan::inconsistent), help("{help}"))]
    Inconsistent { message: String, help: String },
}

impl ConfigError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ConfigError {
        let help = match source.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path; `--sla FILE` and `--profile PATH` choose other files".to_string()
            }
            std::io::ErrorKind::PermissionDenied => "make the file readable".to_string(),
            _ => "check that the path names a readable file".to_string(),
        };
        ConfigError::Io {
            path: path.to_path_buf(),
            source,
            help,
        }
    }

    /// A bad command-line value, drawn as if the flag's value were a one-line file named after
    /// the flag, so it renders like every other config mistake.
    pub(crate) fn flag(flag: &str, value: &str, problem: Problem) -> ConfigError {
        ConfigError::Invalid {
            summary: format!("invalid value for {flag}"),
            src: NamedSource::new(flag, value.to_string()),
            problems: vec![problem],
        }
    }

    /// The problems, if this is a [`ConfigError::Invalid`] (empty otherwise).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// What kind of mistake a [`Problem`] is; also its diagnostic code
/// (`slagate::config::unknown_key`), so users can search for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    Syntax,
    NotUtf8,
    Empty,
    UnknownKey,
    WrongType,
    MissingKey,
    InvalidDuration,
    InvalidPercentage,
    OutOfRange,
    InvalidBudgetKey,
    BudgetOrder,
    InvalidUrl,
    InvalidMethod,
    InvalidHeader,
    InvalidPath,
    InvalidStatus,
    DuplicateEndpoint,
    DuplicateKey,
    Conflict,
    UnknownLevel,
    /// `${NAME}` names a variable that is unset, empty or not UTF-8.
    UnsetVariable,
    /// A `${` that is not a well-formed `${NAME}`.
    InvalidVariable,
    /// `http = "…"` is not one of "1.1", "2", "auto".
    InvalidHttpVersion,
    /// `tls.server_name` is neither a DNS name nor an IP address.
    InvalidServerName,
    /// A file named by a value (a PEM file of `tls`, `--cacert`…) cannot be read.
    UnreadableFile,
    /// A PEM file that is malformed or lacks what it is named for (a certificate, a key).
    InvalidPem,
    /// A private key that is not the key of its certificate.
    KeyMismatch,
    /// A `{{…}}` that is not a well-formed reference, or a capture name that is not a name.
    InvalidTemplate,
    /// A capture's JSONPath, regex or header name that cannot be used.
    InvalidCapture,
    /// A flow step that names no endpoint.
    UnknownStep,
    /// A `{{name}}` that no earlier step of the flow captures.
    UncapturedReference,
}

impl ProblemKind {
    fn code(self) -> &'static str {
        match self {
            ProblemKind::Syntax => "syntax",
            ProblemKind::NotUtf8 => "not_utf8",
            ProblemKind::Empty => "empty",
            ProblemKind::UnknownKey => "unknown_key",
            ProblemKind::WrongType => "wrong_type",
            ProblemKind::MissingKey => "missing_key",
            ProblemKind::InvalidDuration => "invalid_duration",
            ProblemKind::InvalidPercentage => "invalid_percentage",
            ProblemKind::OutOfRange => "out_of_range",
            ProblemKind::InvalidBudgetKey => "invalid_budget_key",
            ProblemKind::BudgetOrder => "budget_order",
            ProblemKind::InvalidUrl => "invalid_url",
            ProblemKind::InvalidMethod => "invalid_method",
            ProblemKind::InvalidHeader => "invalid_header",
            ProblemKind::InvalidPath => "invalid_path",
            ProblemKind::InvalidStatus => "invalid_status",
            ProblemKind::DuplicateEndpoint => "duplicate_endpoint",
            ProblemKind::DuplicateKey => "duplicate_key",
            ProblemKind::Conflict => "conflict",
            ProblemKind::UnknownLevel => "unknown_level",
            ProblemKind::UnsetVariable => "unset_variable",
            ProblemKind::InvalidVariable => "invalid_variable",
            ProblemKind::InvalidHttpVersion => "invalid_http_version",
            ProblemKind::InvalidServerName => "invalid_server_name",
            ProblemKind::UnreadableFile => "unreadable_file",
            ProblemKind::InvalidPem => "invalid_pem",
            ProblemKind::KeyMismatch => "key_mismatch",
            ProblemKind::InvalidTemplate => "invalid_template",
            ProblemKind::InvalidCapture => "invalid_capture",
            ProblemKind::UnknownStep => "unknown_step",
            ProblemKind::UncapturedReference => "uncaptured_reference",
        }
    }
}

/// One mistake at one place in a file: a message, a labelled span, optionally more labelled
/// spans it conflicts with, and a help line saying how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    kind: ProblemKind,
    message: String,
    span: Range<usize>,
    label: String,
    help: Option<String>,
    /// Other places involved (the first of two duplicates, the budget this one conflicts with).
    others: Vec<(Range<usize>, String)>,
}

impl Problem {
    pub(crate) fn new(
        kind: ProblemKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            kind,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            others: Vec::new(),
        }
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Problem {
        self.label = label.into();
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn also(mut self, span: Range<usize>, label: impl Into<String>) -> Problem {
        self.others.push((span, label.into()));
        self
    }

    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// Hides every secret in what the problem says (a message may quote a value that came
    /// from the environment).
    pub(crate) fn redact(&mut self, secrets: &Secrets) {
        // `walk::describe` quotes at most 40 characters of a string, cut with `…`.
        let redact = |text: &mut String| *text = secrets.redact_ellipsized(text);
        redact(&mut self.message);
        redact(&mut self.label);
        if let Some(help) = &mut self.help {
            redact(help);
        }
        for (_, label) in &mut self.others {
            redact(label);
        }
    }

    /// Byte range of the offending text in the file.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("slagate::config::{}", self.kind.code())))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = |text: &str| (!text.is_empty()).then(|| text.to_string());
        let primary = LabeledSpan::new_primary_with_span(label(&self.label), to_span(&self.span));
        let others = self
            .others
            .iter()
            .map(move |(span, text)| LabeledSpan::new_with_span(label(text), to_span(span)));
        Some(Box::new(std::iter::once(primary).chain(others)))
    }
}

fn to_span(range: &Range<usize>) -> SourceSpan {
    SourceSpan::from(range.start..range.end.max(range.start))
}

/// Collects the problems of one file while it is walked.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
    /// Spans of values read from a failed expansion.
    unreliable: Vec<Range<usize>>,
}

impl Problems {
    pub(crate) fn push(&mut self, problem: Problem) {
        self.list.push(problem);
    }

    /// How many problems so far: a reader compares before and after to know if it added one.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Hides every secret in every problem so far.
    pub(crate) fn redact(&mut self, secrets: &Secrets) {
        if !secrets.is_empty() {
            self.list.iter_mut().for_each(|p| p.redact(secrets));
        }
    }

    /// Marks a string value whose `${NAME}` could not be expanded: it is read with the
    /// reference expanded to nothing, so any other complaint about that value is noise.
    pub(crate) fn unreliable(&mut self, span: Range<usize>) {
        self.unreliable.push(span);
    }

    /// The error for a file with problems, or `None` if there are none. Syntax errors come first
    /// from a parser that recovers by guessing, so a check that fails on a guessed value, or a
    /// key reported missing because its line did not parse, would be noise: those are dropped.
    /// So is a complaint about a value marked [`Problems::unreliable`].
    pub(crate) fn into_error(self, what: &str, path: &Path, text: &str) -> Option<ConfigError> {
        let syntax: Vec<Range<usize>> = self
            .list
            .iter()
            .filter(|p| p.kind == ProblemKind::Syntax)
            .map(|p| p.span.clone())
            .collect();
        let unreliable = self.unreliable;
        let mut problems: Vec<Problem> = if syntax.is_empty() {
            self.list
        } else {
            self.list
                .into_iter()
                .filter(|p| match p.kind {
                    ProblemKind::Syntax => true,
                    ProblemKind::MissingKey | ProblemKind::Empty => false,
                    _ => !syntax.iter().any(|s| overlaps(s, &p.span)),
                })
                .collect()
        };
        problems.retain(|p| {
            matches!(
                p.kind,
                ProblemKind::UnsetVariable | ProblemKind::InvalidVariable
            ) || !unreliable
                .iter()
                .any(|u| u.start <= p.span.start && p.span.end <= u.end)
        });
        if problems.is_empty() {
            return None;
        }
        // Clamp every span into the text: miette refuses to draw a span past the end, and a
        // problem that cannot be drawn is a problem the user cannot find.
        for problem in &mut problems {
            problem.span = clamp(&problem.span, text);
            for (span, _) in &mut problem.others {
                *span = clamp(span, text);
            }
        }
        problems.sort_by_key(|p| (p.span.start, p.span.end));
        let n = problems.len();
        let summary = format!(
            "{} is not a valid {what}: {n} {}",
            path.display(),
            if n == 1 { "problem" } else { "problems" }
        );
        Some(ConfigError::Invalid {
            summary,
            src: NamedSource::new(path.display().to_string(), text.to_string()),
            problems,
        })
    }
}

fn overlaps(syntax: &Range<usize>, span: &Range<usize>) -> bool {
    // A syntax error's span may be empty (a missing value); treat it as touching its offset.
    let s_end = syntax.end.max(syntax.start + 1);
    let end = span.end.max(span.start + 1);
    syntax.start < end && span.start < s_end
}

fn clamp(span: &Range<usize>, text: &str) -> Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start);
    let end = floor(span.end).max(start);
    start..end
}
