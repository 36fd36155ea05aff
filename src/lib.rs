//! ecsgate: wait for the real outcome of an Amazon ECS deployment.
//!
//! See ARCHITECTURE.md for the code map and the invariants. The binary (`main.rs`) only calls [`run`].

pub mod app;
pub mod aws;
pub mod cli;
pub mod dora;
pub mod engine;
pub mod error;
pub mod exit;
pub mod record;
pub mod replay;
pub mod report;

use std::process::ExitCode;

use clap::Parser;

/// A bad value that came from an `ECSGATE_*` variable, not from the command line: the message names the
/// variable the user set, not a flag they never typed.
fn name_the_variable(e: &clap::Error, argv: &[String]) -> Option<String> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else { return None };
    let long = arg.split_whitespace().next()?.strip_prefix("--")?;
    let on_command_line = argv.iter().any(|a| a == &format!("--{long}") || a.starts_with(&format!("--{long}=")));
    if on_command_line {
        return None;
    }
    let cmd = cli::Cli::command();
    let sub = argv.get(1).and_then(|name| cmd.find_subcommand(name))?;
    let env = sub.get_arguments().find(|a| a.get_long() == Some(long))?.get_env()?.to_string_lossy().into_owned();
    std::env::var_os(&env)?;
    Some(e.to_string().replacen(arg.as_str(), &env, 1))
}

/// Parses the command line, runs the command, and returns its documented exit code.
pub fn run() -> ExitCode {
    // An empty ECSGATE_* variable is unset, as for flags never given (clap would parse the empty value:
    // `ECSGATE_QUIET=` would be "not a boolean").
    for (k, v) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ECSGATE_") && v.is_empty() {
            // SAFETY: the first thing the process does, before any other thread exists (the async
            // runtime starts later), so no concurrent reader of the environment can be racing this.
            unsafe { std::env::remove_var(&k) };
        }
    }
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
            let argv: Vec<String> = std::env::args().collect();
            // `ECSGATE_OUTPUT=json` is `--output json`, usage errors included.
            let json = cli::wants_json(&argv);
            let text = name_the_variable(&e, &argv).unwrap_or_else(|| e.to_string());
            report::usage_error(&text, json);
            return ExitCode::from(exit::USAGE);
        }
    };
    let code = match cli.command {
        cli::Command::Replay(args) => replay::run(args),
        cli::Command::History(args) => app::history::history(args),
        cli::Command::Explain(args) => app::history::explain(args),
        cli::Command::Wait(args) => app::wait::run(args),
        cli::Command::Deploy(args) => app::deploy::run(args),
        cli::Command::Run(args) => app::run::run(args),
        cli::Command::Resume(args) => app::handle::resume(args),
        cli::Command::Status(args) => app::handle::status(args),
        cli::Command::Gc(args) => app::gc::run(args),
        cli::Command::Doctor(args) => app::doctor::run(args),
        cli::Command::Hub(cli::HubCommand::Template) => report::hub_template(),
        cli::Command::Continue(args) => app::hook::run(args),
        cli::Command::Report(args) => app::report::run(args),
        cli::Command::Completions { shell } => report::completions(shell),
        cli::Command::Man => report::man_page(),
    };
    ExitCode::from(code)
}
