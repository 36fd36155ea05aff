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
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Replay(args) => replay::run(args),
        cli::Command::Wait(args) => app::wait::run(args),
        cli::Command::Gc(args) => app::gc::run(args),
    };
    ExitCode::from(code)
}
