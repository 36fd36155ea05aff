//! Exit codes: the contract of every ecsgate command (README "Exit codes", `--help`).
//!
//! They are constants rather than ad-hoc numbers so that every path that ends the process names one,
//! and [`crate::engine::Outcome::exit_code`] maps each outcome exhaustively: a new outcome cannot compile
//! without its code.

/// The deployment completed (rolloutState COMPLETED / SERVICE_DEPLOYMENT_COMPLETED of *our* id).
pub const SUCCEEDED: u8 = 0;
/// The deployment failed: SERVICE_DEPLOYMENT_FAILED, a rollback, or repeated task failures.
pub const FAILED: u8 = 1;
/// Usage error or bad input (flags, unreadable or non-JSON file, unknown cluster/service/deployment).
pub const USAGE: u8 = 2;
/// Timed out, or the event stream ended without a verdict.
pub const TIMED_OUT: u8 = 3;
/// Another deployment (not a rollback) replaced ours before it finished.
pub const SUPERSEDED: u8 = 4;
/// An AWS error: no credentials, a permission missing on an ECS read, the API failing persistently.
pub const AWS_ERROR: u8 = 5;
/// Interrupted by SIGINT (Ctrl-C), after teardown.
pub const SIGINT: u8 = 130;
/// Interrupted by SIGTERM, after teardown.
pub const SIGTERM: u8 = 143;

/// One line per code, for `--help` and the README.
pub const TABLE: &str = "Exit codes:
  0    the deployment succeeded
  1    the deployment failed (circuit breaker, rollback, or repeated task failures)
  2    usage error or bad input
  3    timed out, or the event stream ended with no verdict
  4    superseded by another deployment
  5    AWS error (credentials, permissions, API failures)
  130  interrupted by SIGINT (after cleanup)
  143  terminated by SIGTERM (after cleanup)";
