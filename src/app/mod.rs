//! The application layer: how the commands are put together from the engine, the AWS plumbing and the
//! reporter.
//!
//! - [`settings`]: flags resolved once into settings.
//! - [`drive`]: what `wait` and `replay` share — inputs in (routed to each service's engine, recorded),
//!   notes to the reporter, verdicts and the exit code out.
//! - [`source`]: where events come from (the SQS subscription, or nothing but the API), with its setup,
//!   receive, acknowledge and teardown.
//! - [`handler`]: the loop's synchronous decisions (nextest's dispatcher shape), unit-tested without AWS.
//! - [`plan`]: the lifecycle's pure planners (which deployment, service deployments, subscribe or fall
//!   back, what to read for a diagnosis), unit-tested; `wait` executes their plans.
//! - [`race`]: the one race of an awaited call against signals and a deadline or budget.
//! - [`rollback`]: `--rollback-on-failure` — which services, how (pure planners), and the rollback's wait.
//! - [`wait`]: the live gate — executes the plans, runs the loop, reports beside the teardown.
//! - [`gc`]: deleting leftovers.
//! - [`hook`]: `ecsgate continue`, answering a lifecycle hook that paused a deployment.
//! - [`run`]: `ecsgate run`, one-off tasks judged by their exit codes (the engine's [`crate::engine::oneoff`]).

pub mod codedeploy;
pub mod deploy;
pub mod doctor;
pub mod drive;
pub mod gc;
pub mod github_deploy;
pub mod handle;
pub mod handler;
pub mod history;
pub mod hook;
pub mod lite;
pub mod notify;
pub mod plan;
pub mod race;
pub mod report;
pub mod rollback;
pub mod run;
pub mod settings;
pub mod source;
pub mod wait;

use crate::error::AppError;
use crate::exit;
use crate::report::Reporter;

/// Runs an async command on a single-threaded runtime (I/O-bound; one thread is plenty) and maps its
/// error to the user's message and exit code.
pub fn block_on(reporter: &mut Reporter, f: impl AsyncFnOnce(&mut Reporter) -> Result<u8, AppError>) -> u8 {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            reporter.error(
                &AppError::aws(format!("cannot start the async runtime: {e}"))
                    .with_hint("the process could not create its I/O driver; check the open-file limit (ulimit -n)"),
            );
            return exit::AWS_ERROR;
        }
    };
    rt.block_on(async {
        let code = match f(reporter).await {
            Ok(code) => code,
            Err(e) => {
                reporter.error(&e);
                e.exit_code()
            }
        };
        // The verdict or the error is reported to every sink first; then `--notify` posts what its sink
        // queued.
        notify::deliver(reporter).await;
        code
    })
}
