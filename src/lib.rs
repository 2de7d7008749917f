//! slagate: a declarative SLA gatekeeper for HTTP services.
//!
//! One pipeline, one folder per stage; data flows one way:
//!
//! ```text
//! config::load_* → plan::build → engine::run → stats::Summary → verdict::judge → report::write
//!   SlaFile,         Plan          Recording      Summary          Verdict          terminal/files
//!   ProfileFile                                                                   RunReport
//!                                                                                     │
//!                                  beside it: compare::compare(base RunReport, head RunReport)
//!                                               Comparison → terminal, JSON, Markdown, HTML
//! ```
//!
//! `app` is the only module that calls every stage; `fixture` is the embedded Resource Agent
//! simulator that `slagate demo` and the tests load.
//!
//! Who may import whom (`use crate::…`): `config`, `stats`, `fixture` and `units` nothing of
//! ours (anyone may import `units`); `plan` config; `engine` and `verdict` plan and stats;
//! `report` plan, stats, verdict and units; `compare` plan, stats, verdict, report and units;
//! `cli` units; `app` everything; `main` cli and app.

pub mod app;
pub mod cli;
pub mod compare;
pub mod config;
pub mod engine;
pub mod fixture;
pub mod plan;
pub mod report;
pub mod stats;
pub mod units;
pub mod verdict;
