//! The loop's decisions, synchronous and free of I/O (nextest's dispatcher shape): the async loop in
//! [`super::wait`] turns whatever `select!` yields — a signal, the deadline, queue messages, a due
//! reconcile, the answer of an API call — into one [`LoopEvent`], and [`Handler::handle`] says what to
//! do next as an [`Action`]. Tests drive it step by step with their own clock and signals.

use std::time::{Duration, Instant};

use crate::app::drive::Driver;
use crate::app::settings::Timing;
use crate::app::source::Reader;
use crate::aws::{ErrInfo, Kind, fatal};
use crate::engine::{Input, Outcome, Pace, ServiceSnapshot, TaskRecord};
use crate::error::AppError;
use crate::exit::Signal;
use crate::report::{Reporter, format_elapsed, format_state};

#[derive(Debug)]
pub enum LoopEvent {
    Signal(Signal),
    Deadline,
    /// Event bodies off the queue (already acknowledged by the loop).
    Messages(Vec<String>),
    /// ReceiveMessage failed.
    ReceiveFailed(ErrInfo, Reader),
    /// The queue is gone (deleted by someone else).
    QueueGone(ErrInfo, Reader),
    ReconcileDue,
    /// Time for a sign of life in a log nobody watches live.
    Heartbeat,
    /// DescribeServices answered (see [`Described`]).
    Described(Result<Described, ApiFailure>),
    /// ListTasks(STOPPED) + DescribeTasks answered with tasks not seen stopped before.
    Stopped(Result<Vec<TaskRecord>, ApiFailure>),
}

/// What a reconcile read: service snapshots, the units whose service no longer exists, and the service
/// deployments the snapshots named (DescribeServiceDeployments).
pub type Described = (Vec<ServiceSnapshot>, Vec<usize>, Vec<crate::engine::snapshot::ServiceDeploymentSnapshot>);

/// A failed API call, with what the user needs to know to fix a permission.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub op: &'static str,
    pub permission: &'static str,
    pub err: ErrInfo,
}

#[derive(Debug, PartialEq)]
pub enum Action {
    /// Wait for the next event.
    Continue,
    /// DescribeServices of these units (batched by the caller).
    Describe(Vec<usize>),
    /// ListTasks(startedBy = the unit's deployment, STOPPED) and DescribeTasks of the new ones.
    ListStopped(Vec<usize>),
    /// The queue is unusable: stop receiving, keep judging from the API.
    FallBackToPolling,
    /// Every service is decided (or the gate was ended): tear down and report.
    Stop,
    /// The gate cannot go on (a permission missing on a read, the API failing past the budget).
    Fail(AppErrorBox),
}

/// `AppError` is not `PartialEq`; actions compare by message in tests.
#[derive(Debug)]
pub struct AppErrorBox(pub AppError);

impl PartialEq for AppErrorBox {
    fn eq(&self, other: &Self) -> bool {
        self.0.message == other.0.message
    }
}

pub struct Handler {
    timing: Timing,
    timeout: Duration,
    fail_fast: bool,
    /// No queue: the API is the only source.
    polling: bool,
    /// Since when the API has been failing without a success in between.
    failing_since: Option<Instant>,
    /// Whether the queue delivered anything yet: until it has, the subscription is unproven (a new rule
    /// takes a moment to match), so reconciliation runs often; after, rarely.
    got_message: bool,
    next_reconcile: Instant,
    started: Instant,
    next_heartbeat: Instant,
    /// Per unit: the state of our deployment when its stopped tasks were last listed. Listing again is
    /// worth a call only when that changed (a task started or stopped shows in the counts).
    listed: Vec<Option<DeploymentKey>>,
    /// `--detach-at DURATION`.
    detach_after: Option<Duration>,
}

/// What of our deployment's snapshot tells that its tasks changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DeploymentKey {
    status: String,
    rollout_state: Option<String>,
    running: i64,
    pending: i64,
    failed: i64,
    updated_at: Option<i64>,
}

impl Handler {
    pub fn new(timing: Timing, timeout: Duration, fail_fast: bool, polling: bool, units: usize, now: Instant) -> Self {
        Handler {
            timing,
            timeout,
            fail_fast,
            polling,
            failing_since: None,
            got_message: false,
            next_reconcile: now,
            started: now,
            next_heartbeat: now + timing.heartbeat,
            listed: vec![None; units],
            detach_after: None,
        }
    }

    /// `--detach-at DURATION`: the loop's deadline is then the earlier of it and `--timeout`.
    pub fn with_detach_after(mut self, after: Option<Duration>) -> Self {
        self.detach_after = after;
        self
    }

    /// The first action once the subscription exists: list what already stopped, since nothing from
    /// before the rule existed will arrive as an event.
    /// `initial` are the DescribeServices answers the gate started from (already fed).
    pub fn start(&mut self, d: &mut Driver, r: &mut Reporter, now: Instant, initial: &[ServiceSnapshot]) -> Action {
        self.next_reconcile = now + self.period(d);
        if let Some(end) = self.end(d, r) {
            return end;
        }
        for s in initial {
            if let Some((i, key)) = deployment_key(d, s) {
                self.listed[i] = key;
            }
        }
        Action::ListStopped(undecided(d))
    }

    /// When the next reconcile is due.
    pub fn next_reconcile(&self) -> Instant {
        self.next_reconcile
    }

    /// When the next heartbeat is due.
    pub fn next_heartbeat(&self) -> Instant {
        self.next_heartbeat
    }

    pub fn polling(&self) -> bool {
        self.polling
    }

    /// Frequent while the queue has not proven itself, rare while events flow — except while a
    /// modern deployment moves, whose stage and status changes have no event: then every
    /// `MOVING_PERIOD` (one DescribeServiceDeployments for all services), and no rarer than the
    /// first-event period during a bake.
    fn period(&self, d: &Driver) -> Duration {
        let base = if self.polling {
            self.timing.poll_interval
        } else if self.got_message {
            self.timing.reconcile_interval * 4
        } else {
            self.timing.reconcile_interval
        };
        let pace = d.undecided().into_iter().map(|i| d.engine(i).pace()).max().unwrap_or(Pace::Events);
        match pace {
            Pace::Moving => base.min(MOVING_PERIOD),
            Pace::Baking => base.min(self.timing.reconcile_interval),
            Pace::Events => base,
        }
    }

    /// After new state: a reconcile due later than the pace now asks for is brought forward.
    fn keep_pace(&mut self, d: &Driver, now: Instant) {
        self.next_reconcile = self.next_reconcile.min(now + self.period(d));
    }

    pub fn handle(&mut self, ev: LoopEvent, now: Instant, d: &mut Driver, r: &mut Reporter) -> Action {
        match ev {
            LoopEvent::Signal(sig) => {
                r.info(&format!("ecsgate: {}; cleaning up", sig.name()));
                d.finish_undecided(Outcome::Interrupted(sig), |_| format!("interrupted by {}", sig.name()));
                Action::Stop
            }
            LoopEvent::Deadline if self.detach_after.is_some_and(|d| d < self.timeout) => {
                // `--detach-at DURATION` came before `--timeout`: not judged, the deployment goes on.
                let after = format_elapsed(self.detach_after.unwrap_or_default());
                d.finish_undecided(Outcome::Detached, |e| {
                    format!(
                        "detached after {after}; the deployment goes on; last state: {}",
                        format_state(&e.progress())
                    )
                });
                Action::Stop
            }
            LoopEvent::Deadline => {
                let after = format_elapsed(self.timeout);
                d.finish_undecided(Outcome::TimedOut, |e| {
                    format!("timed out after {after}; last state: {}", format_state(&e.progress()))
                });
                Action::Stop
            }
            LoopEvent::Messages(bodies) => {
                // The e2e test of teardown after a panic needs a panic to happen; debug builds only.
                #[cfg(debug_assertions)]
                if std::env::var_os("ECSGATE_TEST_PANIC_ON_MESSAGE").is_some() {
                    panic!("test-only panic (ECSGATE_TEST_PANIC_ON_MESSAGE)");
                }
                self.api_ok();
                if !self.got_message {
                    self.got_message = true;
                    self.next_reconcile = now + self.period(d);
                }
                for b in &bodies {
                    d.feed_raw(b, r);
                }
                self.keep_pace(d, now);
                self.end(d, r).unwrap_or(Action::Continue)
            }
            LoopEvent::ReceiveFailed(e, from) => self.api_error(from.permission, from.permission, e, now, r),
            LoopEvent::QueueGone(e, from) => {
                r.warn(&format!(
                    "{} is gone ({e}); falling back to polling the ECS API every {}",
                    from.what,
                    format_elapsed(self.timing.poll_interval)
                ));
                self.polling = true;
                self.next_reconcile = now;
                Action::FallBackToPolling
            }
            LoopEvent::Heartbeat => {
                self.next_heartbeat = now + self.timing.heartbeat;
                let several = d.len() > 1;
                let states: Vec<String> = d
                    .undecided()
                    .into_iter()
                    .map(|i| {
                        let state = format_state(&d.engine(i).progress());
                        if several { format!("{}: {state}", d.who(i).label()) } else { state }
                    })
                    .collect();
                super::lite::still_waiting(r, now.saturating_duration_since(self.started), &states.join("; "));
                Action::Continue
            }
            LoopEvent::ReconcileDue => {
                self.next_reconcile = now + self.period(d);
                match self.end(d, r) {
                    Some(end) => end,
                    None => Action::Describe(undecided(d)),
                }
            }
            LoopEvent::Described(Ok((snaps, missing, deployments))) => {
                self.api_ok();
                for i in missing {
                    if i < d.len() {
                        let name = d.who(i).label().to_string();
                        d.finish(
                            i,
                            Outcome::Error(crate::exit::ErrorKind::Usage),
                            format!(
                                "service {name} disappeared while ecsgate waited (deleted?); nothing is left to judge"
                            ),
                        );
                    }
                }
                let mut list = Vec::new();
                for s in snaps {
                    if let Some((i, key)) = deployment_key(d, &s)
                        && key.is_some()
                        && self.listed.get(i).is_some_and(|l| *l != key)
                    {
                        list.push((i, key));
                    }
                    d.feed(Input::Service(s), r);
                }
                for sd in deployments {
                    d.feed(Input::ServiceDeployment(sd), r);
                }
                if let Some(end) = self.end(d, r) {
                    return end;
                }
                self.keep_pace(d, now);
                let list: Vec<usize> = list
                    .into_iter()
                    .filter(|(i, _)| !d.engine(*i).is_decided())
                    .map(|(i, key)| {
                        self.listed[i] = key;
                        i
                    })
                    .collect();
                if list.is_empty() { Action::Continue } else { Action::ListStopped(list) }
            }
            LoopEvent::Described(Err(f)) | LoopEvent::Stopped(Err(f)) => {
                self.api_error(f.op, f.permission, f.err, now, r)
            }
            LoopEvent::Stopped(Ok(tasks)) => {
                self.api_ok();
                for t in tasks {
                    d.feed(Input::Task(t), r);
                }
                self.end(d, r).unwrap_or(Action::Continue)
            }
        }
    }

    /// Whether the gate is over: every service decided, or — with `--fail-fast` — one did not succeed
    /// (the others are then ended as still in progress).
    fn end(&self, d: &mut Driver, r: &mut Reporter) -> Option<Action> {
        if d.all_decided() {
            return Some(Action::Stop);
        }
        if self.fail_fast && d.any_unsuccessful() {
            r.info("ecsgate: --fail-fast: a service did not succeed; not waiting for the others");
            d.finish_undecided(Outcome::InProgress, |e| {
                format!(
                    "still in progress when --fail-fast ended the gate; last state: {}",
                    format_state(&e.progress())
                )
            });
            return Some(Action::Stop);
        }
        None
    }

    fn api_ok(&mut self) {
        self.failing_since = None;
    }

    /// A transient API failure is tolerated until it has lasted the error budget; a missing permission
    /// or missing credentials end the gate at once.
    fn api_error(&mut self, op: &str, permission: &str, e: ErrInfo, now: Instant, r: &mut Reporter) -> Action {
        if matches!(e.kind, Kind::AccessDenied | Kind::Credentials) {
            return Action::Fail(AppErrorBox(fatal(op, permission, e)));
        }
        let since = *self.failing_since.get_or_insert(now);
        let lasted = now.saturating_duration_since(since);
        if lasted >= self.timing.api_error_budget {
            return Action::Fail(AppErrorBox(
                AppError::aws(format!("{op} kept failing for {}: {e}", format_elapsed(lasted)))
                    .with_hint("AWS is failing or throttling; retry the wait later (the deployment itself goes on)"),
            ));
        }
        r.info(&format!("{op} failed, will retry: {e}"));
        Action::Continue
    }
}

/// The unit a snapshot is about, and the state of that unit's deployment in it.
fn deployment_key(d: &Driver, s: &ServiceSnapshot) -> Option<(usize, Option<DeploymentKey>)> {
    let i = d.unit_of_snapshot(s)?;
    let key =
        d.engine(i).target().deployment_id.as_deref().and_then(|id| s.deployments.iter().find(|x| x.id == id)).map(
            |x| DeploymentKey {
                status: x.status.clone(),
                rollout_state: x.rollout_state.clone(),
                running: x.running_count,
                pending: x.pending_count,
                failed: x.failed_tasks,
                updated_at: x.updated_at_ms,
            },
        );
    Some((i, key))
}

fn undecided(d: &Driver) -> Vec<usize> {
    d.undecided()
}

/// A moving modern deployment is read this often, so a transition that has no event decides within
/// about 5 s (issue 17 item 5).
const MOVING_PERIOD: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests;
