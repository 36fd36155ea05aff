//! What the gates with a loop of their own share — `ecsgate run` (one-off tasks) and the CodeDeploy gate:
//! one subject, no Driver, no handler. The next thing to happen (a batch, a due reconcile, a heartbeat,
//! a signal, the deadline), the error budget of their API calls, and the end: the verdict reported
//! beside the teardown, the leftovers after it.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::race::{Raced, race};
use super::source::{Received, Source};
use super::wait::{bounded_teardown, report_leftovers};
use crate::aws::{self, Kind, fatal};
use crate::error::AppError;
use crate::exit::Signal;
use crate::report::{GateReport, Reporter};

/// A gate's loop, with a bug in it caught: the panic becomes the error of a bug, so the caller's
/// teardown still deletes the queue and rule (a panic would otherwise unwind past it).
pub(crate) async fn guarded(
    what: &str,
    run: impl std::future::Future<Output = Result<(), AppError>>,
) -> Result<(), AppError> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(run).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(AppError::bug(what)
            .with_hint("the queue and rule it created are deleted now; the deployment itself is not affected")),
    }
}

/// A subject's notes to the reporter, then its progress (only computed for a live display).
pub(crate) fn tell(
    reporter: &mut Reporter,
    who: &crate::report::Who,
    notes: &[crate::engine::Note],
    progress: impl FnOnce() -> crate::engine::Progress,
) {
    for n in notes {
        reporter.note(who, n);
    }
    if reporter.wants_progress() {
        reporter.progress(who, &progress());
    }
}

/// How long the diagnosis reads may take beside the teardown.
pub(crate) const DIAGNOSIS_BUDGET: Duration = Duration::from_secs(10);

/// What happened next.
pub(crate) enum Tick {
    Rx(Received),
    Reconcile,
    Beat,
    Signal(Signal),
    OutOfTime,
}

/// Waits for the next batch, the reconcile due at `reconcile`, the heartbeat due at `beat`, a signal
/// or the deadline, whichever comes first.
pub(crate) async fn next_tick(
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    deadline: tokio::time::Instant,
    source: &mut Source,
    reconcile: tokio::time::Instant,
    beat: tokio::time::Instant,
) -> Tick {
    let gather = async {
        tokio::select! {
            biased;
            r = source.next() => Tick::Rx(r),
            _ = tokio::time::sleep_until(reconcile) => Tick::Reconcile,
            _ = tokio::time::sleep_until(beat) => Tick::Beat,
        }
    };
    match race(sigs, deadline, gather).await {
        Raced::Done(t) => t,
        Raced::Signal(sig) => Tick::Signal(sig),
        Raced::OutOfTime => Tick::OutOfTime,
    }
}

/// The sign of life every gate gives a CI log that a live display does not reach: how long it has
/// waited, and the state of what it waits for.
pub(crate) fn still_waiting(reporter: &mut Reporter, elapsed: Duration, state: &str) {
    let elapsed = crate::report::format_elapsed(elapsed);
    reporter.heartbeat(&format!("ecsgate: still waiting after {elapsed} — {state}"));
}

/// A failed call: denied (or no credentials) ends the gate at once; anything else is retried until it
/// has failed for `budget`. `since` is when the calls began failing (reset by a success). `goes_on`:
/// what the user should know of what the gate started, when AWS kept failing (`fatal`'s hint speaks
/// of `wait`).
pub(crate) fn failing(
    since: &mut Option<Instant>,
    budget: Duration,
    (op, permission, e): (&'static str, &'static str, aws::ErrInfo),
    goes_on: &str,
) -> Result<(), AppError> {
    let first = *since.get_or_insert_with(Instant::now);
    let denied = matches!(e.kind, Kind::AccessDenied | Kind::Credentials);
    if denied || first.elapsed() >= budget {
        let err = fatal(op, permission, e);
        return Err(if denied {
            err
        } else {
            err.with_hint(format!("AWS kept failing for {}; {goes_on}", crate::report::format_elapsed(budget)))
        });
    }
    Ok(())
}

/// The end of a gate: the verdict (when the loop ended well; `verdict` reads what explains it first,
/// bounded) reported and notified beside the teardown, then the leftovers; the exit code, or the error.
pub(crate) async fn conclude(
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    source: &mut Source,
    result: Result<(), AppError>,
    verdict: impl AsyncFnOnce(&mut Reporter) -> Option<crate::engine::Verdict>,
    reporter: &mut Reporter,
) -> Result<u8, AppError> {
    source.stop_receiving();
    let ok = result.is_ok();
    // Beside the teardown, and guarded as the loop is: a bug while explaining or reporting must not
    // unwind through the join and drop the teardown half-way.
    let verdict_path = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
        if !ok {
            return None;
        }
        let v = verdict(&mut *reporter).await?;
        let report = GateReport::new(vec![v]);
        reporter.report(&report);
        super::notify::deliver(reporter).await;
        Some(report.exit_code)
    }));
    let ((left, hurried), code) = tokio::join!(bounded_teardown(source, sigs), verdict_path);
    let Ok(code) = code else {
        report_leftovers(reporter, &left);
        return Err(AppError::bug("reporting the verdict").with_hint(
            "the queue and rule it created were deleted (or are named above); the deployment or tasks go on",
        ));
    };
    if hurried {
        reporter.info("ecsgate: second signal; teardown hurried");
    }
    report_leftovers(reporter, &left);
    match (result, code) {
        (Ok(()), Some(code)) => Ok(code),
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::bug("ending the gate")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: Kind, code: &str) -> aws::ErrInfo {
        aws::ErrInfo { kind, code: Some(code.into()), message: "m".into(), request_id: None }
    }

    #[test]
    fn a_failing_call_past_the_budget_says_what_goes_on_and_a_denied_one_names_the_permission() {
        let mut since = None;
        let call = ("DescribeTasks", "ecs:DescribeTasks", err(Kind::Transient, "InternalFailure"));
        assert!(failing(&mut since, Duration::from_secs(60), call.clone(), "the tasks go on").is_ok(), "within budget");
        let e = failing(&mut since, Duration::ZERO, call, "the tasks go on").unwrap_err();
        assert!(
            e.hint.as_deref().is_some_and(|h| h.contains("the tasks go on") && !h.contains("retry the wait")),
            "{e:?}"
        );
        let denied = ("DescribeTasks", "ecs:DescribeTasks", err(Kind::AccessDenied, "AccessDeniedException"));
        let e = failing(&mut None, Duration::from_secs(60), denied, "the tasks go on").unwrap_err();
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("grant ecs:DescribeTasks")), "{e:?}");
    }
}
