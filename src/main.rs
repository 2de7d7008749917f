use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = slagate::cli::Cli::parse();
    ExitCode::from(slagate::app::run(cli).code())
}
