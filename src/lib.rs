//! ecsgate: wait for the real outcome of an Amazon ECS deployment.
//!
//! See ARCHITECTURE.md for the code map and the invariants. The binary (`main.rs`) only calls [`run`].

pub mod app;
pub mod aws;
pub mod cli;
pub mod engine;
pub mod error;
pub mod exit;
pub mod record;
pub mod replay;
pub mod report;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and returns its documented exit code.
pub fn run() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: clap's own text, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `ecsgate` alone: the help is the answer, but nothing ran.
            let _ = e.print();
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            let json = std::env::args().collect::<Vec<_>>().windows(2).any(|w| w[0] == "--output" && w[1] == "json")
                || std::env::args().any(|a| a == "--output=json");
            report::usage_error(&e.to_string(), json);
            return ExitCode::from(exit::USAGE);
        }
    };
    let code = match cli.command {
        cli::Command::Replay(args) => replay::run(args),
        cli::Command::Wait(args) => app::wait::run(args),
        cli::Command::Deploy(args) => app::deploy::run(args),
        cli::Command::Gc(args) => app::gc::run(args),
        cli::Command::Continue(args) => app::hook::run(args),
        cli::Command::Completions { shell } => report::completions(shell),
        cli::Command::Man => report::man_page(),
    };
    ExitCode::from(code)
}
