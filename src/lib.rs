//! ecsgate: wait for the real outcome of an Amazon ECS deployment.
//!
//! See ARCHITECTURE.md for the code map and the invariants. The binary (`main.rs`) only calls [`run`].

pub mod aws;
pub mod cli;
pub mod engine;
pub mod error;
pub mod exit;
pub mod recording;
pub mod replay;
pub mod report;
pub mod wait;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and returns its documented exit code.
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Replay(args) => replay::run(args),
        cli::Command::Wait(args) => wait::run(args),
        cli::Command::Gc(args) => wait::run_gc(args),
    };
    ExitCode::from(code)
}
