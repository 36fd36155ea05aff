//! Exit codes: the contract of every ecsgate command (README "Exit codes", `--help`).
//!
//! They are constants rather than ad-hoc numbers so that every path that ends the process names one,
//! and [`crate::engine::Outcome::exit_code`] maps each outcome exhaustively: a new outcome cannot compile
//! without its code. Which signal interrupted a wait and which kind of error ended it are part of the
//! outcome, so there is no side door past that match.

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
/// Detached (`--detach-at`): the gate stopped waiting at the point asked for and wrote a handle; the
/// deployment goes on, and `ecsgate resume HANDLE` picks the gate up in a later job.
pub const DETACHED: u8 = 6;
/// Interrupted by SIGINT (Ctrl-C), after teardown.
pub const SIGINT: u8 = 130;
/// Interrupted by SIGTERM, after teardown.
pub const SIGTERM: u8 = 143;

/// The signals a wait handles (then exits by itself with 130 / 143 after teardown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => SIGINT,
            Signal::Term => SIGTERM,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

/// What ended a command before any deployment could be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Flags, input files, unknown cluster/service/deployment.
    Usage,
    /// Credentials, permissions, AWS failing past the error budget.
    Aws,
    /// `--timeout` ran out while the services were still being resolved (the API did not answer).
    TimedOut,
    /// A signal arrived while the services were still being resolved.
    Interrupted(Signal),
    /// A bug of ecsgate's (a caught panic): exit 5 like an AWS error, since nothing was judged, but
    /// never reported as one.
    Bug,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => USAGE,
            ErrorKind::Aws | ErrorKind::Bug => AWS_ERROR,
            ErrorKind::TimedOut => TIMED_OUT,
            ErrorKind::Interrupted(s) => s.exit_code(),
        }
    }
}

/// How severe a code is when several services end a gate with different codes: the gate exits with
/// the most severe one. Interrupted beats everything (nothing was judged to the end), then a failed
/// deployment, an AWS error, bad input, a timeout, a superseded deployment, and success last.
pub fn severity(code: u8) -> u8 {
    match code {
        SIGTERM => 8,
        SIGINT => 7,
        FAILED => 6,
        AWS_ERROR => 5,
        USAGE => 4,
        TIMED_OUT => 3,
        SUPERSEDED => 2,
        DETACHED => 1,
        SUCCEEDED => 0,
        _ => 1,
    }
}

/// The gate's exit code for several services' codes (README "Several services").
pub fn combine(codes: impl IntoIterator<Item = u8>) -> u8 {
    codes.into_iter().max_by_key(|c| severity(*c)).unwrap_or(SUCCEEDED)
}

/// One line per code, for `--help` and the README.
pub const TABLE: &str = "Exit codes:
  0    the deployment succeeded (with several services: all of them)
  1    the deployment failed (circuit breaker, rollback, or repeated task failures)
  2    usage error or bad input
  3    timed out, or the event stream ended with no verdict
  4    superseded by another deployment
  5    AWS error (credentials, permissions, API failures)
  6    detached (--detach-at): the deployment goes on; `ecsgate resume HANDLE` waits for the rest
  130  interrupted by SIGINT (after cleanup)
  143  terminated by SIGTERM (after cleanup)
Several services: the most severe code wins, in the order 143, 130, 1, 5, 2, 3, 4, 6, 0.";

/// `ecsgate replay`'s exit codes (no AWS, no signals to clean up after).
pub const REPLAY_TABLE: &str = "Exit codes:
  0    the recorded deployment succeeded (with several services: all of them)
  1    it failed (circuit breaker, rollback, or repeated task failures)
  2    usage error or unreadable input (no JSON, no ECS event, a newer recording format)
  3    the recording ended with no verdict
  4    superseded by another deployment
Several services: the most severe code wins, in the order 1, 2, 3, 4, 0.";

/// `ecsgate history`'s exit codes.
pub const HISTORY_TABLE: &str = "Exit codes:
  0    the deployments were listed (whatever their verdicts; none is a listing too)
  2    usage error, no hub (install it: ecsgate hub template), or a service ECS does not know by name
  5    AWS error (credentials, permissions, API failures)";

/// `ecsgate explain`'s exit codes: the deployment's verdict, as `replay` gives it.
pub const EXPLAIN_TABLE: &str = "Exit codes:
  0    the deployment succeeded
  1    it failed (circuit breaker, rollback, or repeated task failures)
  2    usage error, no hub, or the hub holds no event of that deployment
  3    no verdict in the hub: still in progress, or its end is older than --since
  4    superseded by another deployment
  5    AWS error (credentials, permissions, API failures)";

/// `ecsgate run`'s exit codes.
pub const RUN_TABLE: &str = "Exit codes:
  0    every task ran and every essential container exited 0
  1    a task failed: an essential container exited non-zero, the task failed to start or was stopped,
       or RunTask could not place it
  2    usage error or bad input (flags, unknown cluster, service, task definition or container)
  3    timed out before every task stopped (the tasks go on; the stop-task command is printed)
  5    AWS error (credentials, permissions, API failures)
  130  interrupted by SIGINT (after cleanup; the tasks go on)
  143  terminated by SIGTERM (after cleanup; the tasks go on)";

/// `ecsgate report`'s exit codes.
pub const REPORT_TABLE: &str = "Exit codes:
  0    the figures were printed
  2    usage error, or a file that cannot be replayed";

/// `ecsgate continue`'s exit codes.
pub const CONTINUE_TABLE: &str = "Exit codes:
  0    the hook was answered (continue, or --rollback)
  2    usage error: nothing awaits action, several hooks do (give --hook-id), or the deployment is unknown
  5    AWS error (credentials, permissions, API failures)
  130  interrupted by SIGINT
  143  terminated by SIGTERM";

/// `ecsgate gc`'s exit codes.
pub const DOCTOR_TABLE: &str = "Exit codes:
  0    every check passed (warnings are printed, not failed)
  1    a check failed: a permission not granted, the clock 5 minutes off, a full event bus (each named with its fix)
  2    usage error (or no region)
  5    no answer from AWS (credentials, network, endpoint)";

pub const GC_TABLE: &str = "Exit codes:
  0    every leftover older than --older-than was deleted (or, with --dry-run, listed)
  2    usage error
  5    AWS error, or a leftover could not be deleted (it is named, with the command that deletes it)
  130  interrupted by SIGINT
  143  terminated by SIGTERM";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_services_exit_with_the_most_severe_code() {
        assert_eq!(combine([SUCCEEDED, FAILED, TIMED_OUT]), FAILED);
        assert_eq!(combine([SUCCEEDED, SUPERSEDED, TIMED_OUT]), TIMED_OUT);
        assert_eq!(combine([AWS_ERROR, FAILED]), FAILED);
        assert_eq!(combine([TIMED_OUT, AWS_ERROR]), AWS_ERROR);
        assert_eq!(combine([SIGTERM, FAILED]), SIGTERM);
        assert_eq!(combine([SUCCEEDED, SUCCEEDED]), SUCCEEDED);
        assert_eq!(combine([]), SUCCEEDED);
    }
}
