//! slagate: a declarative SLA gatekeeper for HTTP services.
//!
//! One pipeline, one folder per stage; data flows one way:
//!
//! ```text
//! config::load_* → plan::build → engine::run → stats::Summary → verdict::judge → report::Outputs
//!   SlaFile,         Plan          Recording      Summary          Verdict          RunReport:
//!   ProfileFile                                                                   files, terminal
//!                                                                                     │
//!                                  beside it: compare::compare(base RunReport, head RunReport)
//!                                               Comparison → terminal, JSON, Markdown, HTML
//! ```
//!
//! `app` is the only module that calls every stage (`app.rs` is its table of contents, the
//! commands live in `app/`); `fixture` is the embedded Resource Agent simulator that
//! `slagate demo` and the tests load. Shared rooms: `units` writes every number and owns the
//! `Exit` codes; `report::outputs` owns every report file (checked up front, written
//! atomically, replaced by a not-run document when a run cannot be made); `report::term` is
//! the one terminal writer (a closed pipe stops the printing, never the run);
//! `engine::signals` counts Ctrl-C and SIGTERM from the start of a command.
//!
//! Who may import whom (`use crate::…`): `config`, `stats`, `fixture` and `units` nothing of
//! ours (anyone may import `units`); `plan` config; `engine` and `verdict` plan and stats;
//! `report` plan, stats, verdict and units; `compare` plan, stats, verdict, report and units;
//! `cli` units; `locust` (reading a Locust run for `slagate judge`, an input stage beside
//! `config` that produces the `Summary`) stats and plan; `app` everything; `main` cli and app.

pub mod app;
pub mod cli;
pub mod compare;
pub mod config;
pub mod engine;
pub mod fixture;
pub mod locust;
pub mod plan;
pub mod report;
pub mod stats;
pub mod units;
pub mod verdict;
