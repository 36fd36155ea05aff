//! `ecsgate wait`: the live gate over one or several services. Wiring only — it executes the plans of
//! [`super::plan`] (which deployment, which service deployments, subscribe or fall back, what to read
//! for a diagnosis), runs the loop, and ends with the report beside the teardown. Decisions are the
//! engine's (what happened to a deployment), the handler's (what to do next in the loop) and the
//! planners'; every await that may stall goes through [`super::race::race`].
//!
//! The loop (nextest's dispatcher shape): a race turns a signal, the deadline, queue messages or a due
//! reconcile into one [`LoopEvent`]; API calls the handler asks for run under the same race, so a
//! signal or the deadline is served while they are in flight.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::drive::Driver;
use super::handler::{Action, ApiFailure, Handler, LoopEvent};
use super::plan::{self, NotJudgeable, Read, SetupFailure};
use super::race::{Raced, race};
use super::settings::WaitSettings;
use super::source::{Received, Source};
use crate::aws::ecs::Lookup;
use crate::aws::subscription::{self, Leftovers, Watched};
use crate::aws::{self, Clients, Kind, fatal};
use crate::cli::WaitArgs;
use crate::engine::{Diagnosis, Input, ServiceSnapshot, Target, arn_name};
use crate::error::AppError;
use crate::exit::{ErrorKind, Signal};
use crate::record::Recorder;
use crate::report::{Reporter, format_elapsed};

pub fn run(args: WaitArgs) -> u8 {
    let o = &args.gate.output;
    let mut reporter = Reporter::new(o.output, o.quiet, true, o.github);
    let settings = match WaitSettings::from_args(args) {
        Ok(s) => s,
        Err(e) => {
            reporter.error(&e);
            return e.exit_code();
        }
    };
    reporter.notify_to(&settings.notify, settings.notify_on);
    reporter.junit_to(settings.junit.as_deref());
    reporter.otlp_to(settings.otlp.as_deref());
    super::block_on(&mut reporter, async |r| wait(&settings, r).await)
}

/// `ecsgate status HANDLE`: the services read once (DescribeServices, their service deployments, the
/// stopped tasks for a failure's diagnosis), the verdict of each that ended, the rest detached still.
pub fn status(args: WaitArgs, handle: String) -> u8 {
    let o = &args.gate.output;
    // One read, no wait: the verdict so far is the answer (no "waiting for" line, no timeline).
    let mut reporter = Reporter::new(o.output, true, false, o.github);
    let settings = match WaitSettings::from_args(args) {
        Ok(s) => s,
        Err(e) => {
            reporter.error(&e);
            return e.exit_code();
        }
    };
    super::block_on(&mut reporter, async |r| {
        let mut g = Gate::open(&settings).await?;
        let clients = g.clients.clone();
        let (svcs, snaps) = g.before_setup("describing the services", resolve(&clients, &settings, r)).await?;
        let mut driver = start_driver(&settings, g.timeout, &svcs, &snaps, r)?;
        let found = g
            .before_setup("describing the service deployments", async {
                Ok(service_deployments(&clients, &snaps, Vec::new()).await)
            })
            .await?;
        for sd in found {
            driver.feed(Input::ServiceDeployment(sd), r);
        }
        find_service_deployments(&mut g, &svcs, &snaps, &mut driver, r).await?;
        driver.finish_undecided(crate::engine::Outcome::Detached, |e| {
            format!("still in progress: {}", crate::report::view::format_state(&e.progress()))
        });
        // Bounded, and raced like every read: Ctrl-C ends `status` at once (it created nothing).
        let diagnosis = tokio::time::timeout(super::lite::DIAGNOSIS_BUDGET, diagnose(&clients, &svcs, &mut driver, r));
        g.before_setup("reading what explains the failure", async {
            let _ = diagnosis.await;
            Ok(())
        })
        .await?;
        driver.set_handle(handle);
        Ok(driver.conclude(r).exit_code)
    })
}

/// One gated service, as DescribeServices described it at the start.
#[derive(Debug, Clone)]
pub(crate) struct Svc {
    /// Cluster name, as DescribeServices is asked for it.
    pub cluster: String,
    /// What DescribeServices is asked for (name or ARN, as given).
    pub describe_as: String,
    pub name: String,
    pub service_arn: String,
    pub cluster_arn: String,
    pub deployment_id: String,
}

impl Svc {
    /// What the engine judges for this service: the cluster by ARN (task events then match account
    /// and region too, not just the name) and the deployment `deployment_id`.
    pub fn target(&self, deployment_id: &str) -> Target {
        Target {
            cluster: Some(if self.cluster_arn.is_empty() { self.cluster.clone() } else { self.cluster_arn.clone() }),
            service: Some(self.name.clone()),
            deployment_id: Some(deployment_id.to_string()),
            until: None,
            rollback_of: None,
        }
    }

    pub fn watched(&self) -> Watched {
        Watched {
            service_arn: self.service_arn.clone(),
            cluster_arn: self.cluster_arn.clone(),
            name: self.name.clone(),
            deployment_id: self.deployment_id.clone(),
        }
    }
}

/// SIGINT and SIGTERM become messages; once we handle them the default action is gone, so every path
/// must exit by itself with 130/143 after teardown.
pub(crate) fn signals() -> mpsc::UnboundedReceiver<Signal> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            return;
        };
        loop {
            let s = tokio::select! {
                _ = int.recv() => Signal::Int,
                _ = term.recv() => Signal::Term,
            };
            if tx.send(s).is_err() {
                return;
            }
        }
    });
    rx
}

/// How long teardown may take before ecsgate gives up and prints what is left (with the commands that
/// delete it). A second signal makes it one attempt per resource; a third exits at once.
const TEARDOWN_BUDGET: Duration = Duration::from_secs(10);

/// What a gate holds from its start to its end, for `wait` and `deploy` alike.
pub(crate) struct Gate<'s> {
    pub s: &'s WaitSettings,
    pub clients: Clients,
    pub sigs: mpsc::UnboundedReceiver<Signal>,
    pub deadline: tokio::time::Instant,
    pub started: Instant,
    /// `--timeout`, or what `--timeout auto` settled on once the services were described.
    pub timeout: Duration,
}

impl<'s> Gate<'s> {
    /// Signals are handled from here on; `--timeout` counts from here.
    pub async fn open(s: &'s WaitSettings) -> Result<Self, AppError> {
        let started = Instant::now();
        let sigs = signals();
        let deadline = tokio::time::Instant::now() + s.timeout;
        let clients = aws::load(s.region.clone(), s.profile.clone()).await?;
        Ok(Gate { s, clients, sigs, deadline, started, timeout: s.timeout })
    }

    /// Once the services are described: `--timeout auto` becomes a deadline from their configuration
    /// (said before waiting); a fixed `--timeout` too short for a configured bake is warned of.
    pub async fn settle_timeout(&mut self, snaps: &[ServiceSnapshot], reporter: &mut Reporter) -> Result<(), AppError> {
        if !self.s.timeout_auto {
            warn_short_timeout(self.s, snaps, reporter);
            return Ok(());
        }
        // The target groups' deregistration delay (one read each); unreadable = not counted, said.
        let clients = self.clients.clone();
        let mut delays = Vec::new();
        for x in snaps {
            let read = async { Ok(aws::elb::deregistration_delay(&clients, &x.target_groups).await) };
            delays.push(match self.before_setup("reading the target groups' deregistration delay", read).await? {
                Ok(d) => d,
                Err(e) => {
                    reporter.info(&format!(
                        "ecsgate: --timeout auto: deregistration delay of {} not read ({e}); not counted",
                        arn_name(&x.service_arn)
                    ));
                    None
                }
            });
        }
        let inputs: Vec<super::settings::AutoInput<'_>> = snaps
            .iter()
            .zip(&delays)
            .map(|(x, d)| super::settings::AutoInput {
                name: arn_name(&x.service_arn),
                cfg: x.deployment_configuration.as_ref(),
                grace_seconds: x.health_check_grace_seconds,
                deregistration_seconds: *d,
            })
            .collect();
        let (d, why) = super::settings::auto_timeout(&inputs, self.s.until);
        self.timeout = d;
        self.deadline = tokio::time::Instant::now() + d;
        // Said when the configuration set it; a rolling deployment keeps the 30m it always had.
        if d != super::settings::ROLLING_TIMEOUT {
            reporter.info(&format!("ecsgate: --timeout auto: {} ({why})", format_elapsed(d)));
        }
        Ok(())
    }

    /// Runs `call` unless a signal or the deadline comes first (then: the error for that). For the
    /// steps before anything exists to tear down.
    pub async fn before_setup<T>(
        &mut self,
        what: &str,
        call: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        match race(&mut self.sigs, self.deadline, call).await {
            Raced::Done(r) => r,
            Raced::Signal(sig) => Err(AppError {
                kind: ErrorKind::Interrupted(sig),
                message: format!("interrupted by {} while {what}", sig.name()),
                hint: None,
            }),
            Raced::OutOfTime => Err(AppError {
                kind: ErrorKind::TimedOut,
                message: format!("timed out after {} while {what} (the AWS API did not answer)", format_elapsed(self.timeout)),
                hint: Some("the ECS API did not answer in time; check the network path to it (proxy, VPC endpoint, AWS_ENDPOINT_URL)".into()),
            }),
        }
    }
}

/// How long one API call after the loop (starting a rollback) may take.
pub(crate) const AFTER_LOOP_CALL_BUDGET: Duration = Duration::from_secs(30);

impl Gate<'_> {
    /// An API call after the loop ended (starting a rollback): a signal abandons it, and it may take at
    /// most `budget`, so neither waits for a stalled endpoint.
    pub async fn after_loop<T>(&mut self, budget: Duration, call: impl std::future::Future<Output = T>) -> Raced<T> {
        race(&mut self.sigs, tokio::time::Instant::now() + budget, call).await
    }
}

async fn wait(s: &WaitSettings, reporter: &mut Reporter) -> Result<u8, AppError> {
    let mut g = Gate::open(s).await?;
    let clients = g.clients.clone();
    let (svcs, snaps) = g.before_setup("describing the services", resolve(&clients, s, reporter)).await?;
    if let Some(i) = snaps.iter().position(is_code_deploy) {
        if svcs.len() > 1 {
            return Err(AppError::usage(format!(
                "service {} is deployed by CodeDeploy (CODE_DEPLOY controller): gate it on its own",
                svcs[i].name
            ))
            .with_hint("run one ecsgate wait for the CODE_DEPLOY service and one for the others"));
        }
        return super::codedeploy::gate(g, &svcs[0], &snaps[0], reporter).await;
    }
    g.settle_timeout(&snaps, reporter).await?;
    let mut driver = start_driver(s, g.timeout, &svcs, &snaps, reporter)?;
    // A service deployment ECS already ended (rolled back, stopped, successful) decides at once.
    let found = g
        .before_setup("describing the service deployments", async {
            Ok(service_deployments(&clients, &snaps, Vec::new()).await)
        })
        .await?;
    for sd in found {
        driver.feed(Input::ServiceDeployment(sd), reporter);
    }
    find_service_deployments(&mut g, &svcs, &snaps, &mut driver, reporter).await?;
    let mut source = Source::polling(&g.clients);
    let mut first = None;
    // Services the API already decided (COMPLETED or FAILED) need no subscription.
    let setup_started = Instant::now();
    if let Some(units) = plan::subscribe_for(s.poll, &driver) {
        let watched: Vec<Watched> = units.into_iter().map(|i| svcs[i].watched()).collect();
        first = subscribe(&mut g, &mut source, &watched, hub_since(&svcs, &snaps), reporter).await?;
    }
    let setup = setup_started.elapsed();
    run_gate(g, svcs, snaps, driver, source, first, setup, reporter).await
}

/// The drive for these services, recording if asked, with the starting snapshots fed.
pub(crate) fn start_driver(
    s: &WaitSettings,
    timeout: Duration,
    svcs: &[Svc],
    snaps: &[ServiceSnapshot],
    reporter: &mut Reporter,
) -> Result<Driver, AppError> {
    let targets: Vec<Target> = svcs.iter().map(|v| v.target(&v.deployment_id)).collect();
    let detach_at = match s.detach {
        Some(crate::cli::DetachArg::At(at)) => Some(at),
        _ => None,
    };
    let mut driver = Driver::new(targets, s.max_task_failures).with_until(s.until).with_detach(detach_at);
    driver.begin(reporter);
    if let Some(p) = &s.record {
        let rec = Recorder::create(p, s.force).map_err(|e| {
            AppError::usage(format!("cannot write {}: {e}", p.display()))
                .with_hint("--record needs a writable path; its directory must exist")
        })?;
        driver.record_to(rec, reporter);
    }
    let timeout = format_elapsed(timeout);
    match svcs {
        [v] => reporter.info(&format!(
            "ecsgate: waiting for deployment {} of service {} (cluster {}), timeout {timeout}",
            v.deployment_id, v.name, v.cluster
        )),
        many => {
            let list: Vec<String> =
                many.iter().map(|v| format!("{}/{} {}", v.cluster, v.name, v.deployment_id)).collect();
            reporter.info(&format!(
                "ecsgate: waiting for {} services ({}), timeout {timeout}",
                many.len(),
                list.join(", ")
            ))
        }
    }
    for snap in snaps {
        driver.feed(Input::Service(snap.clone()), reporter);
    }
    Ok(driver)
}

/// Creates the queue, rule and target, raced against signals and the deadline (what it registered is
/// torn down later either way). Returns the event that cut it short, if one did. AccessDenied falls
/// back to polling; any other failure tears down and ends the command.
pub(crate) async fn subscribe(
    g: &mut Gate<'_>,
    source: &mut Source,
    watched: &[Watched],
    since_ms: i64,
    reporter: &mut Reporter,
) -> Result<Option<LoopEvent>, AppError> {
    if let Some(spec) = g.s.hub.clone() {
        let keys: Vec<String> =
            watched.iter().flat_map(|w| crate::aws::hub::keys_for(&w.service_arn, arn_name(&w.cluster_arn))).collect();
        match use_hub(g, &spec, &keys, reporter).await {
            Ok(Some(table)) => {
                reporter.info(&format!(
                    "ecsgate: reading the hub's table {table} from {} (no queue, no rule created)",
                    crate::engine::time::format_rfc3339_secs(since_ms)
                ));
                *source = Source::hub(&g.clients, table, keys, since_ms);
                return Ok(None);
            }
            Ok(None) => {}
            Err(cut_short) => return Ok(Some(cut_short)),
        }
    }
    let plan = subscription::plan(watched);
    let t = g.s.timing;
    subscribe_with(&mut g.sigs, g.deadline, &g.clients, (t.wait_seconds, t.poll_interval), source, &plan, reporter)
        .await
}

/// Creates the subscription of `plan` (see [`subscribe`]); `wait_seconds` is the long poll's and
/// `poll_every` the fallback's period, said in its warning.
pub(crate) async fn subscribe_with(
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    deadline: tokio::time::Instant,
    clients: &Clients,
    (wait_seconds, poll_every): (i32, Duration),
    source: &mut Source,
    plan: &subscription::Plan,
    reporter: &mut Reporter,
) -> Result<Option<LoopEvent>, AppError> {
    let mut first = None;
    let setup = match race(sigs, deadline, source.subscribe(plan, wait_seconds)).await {
        Raced::Done(r) => r,
        Raced::Signal(sig) => {
            first = Some(LoopEvent::Signal(sig));
            Ok(())
        }
        Raced::OutOfTime => {
            first = Some(LoopEvent::Deadline);
            Ok(())
        }
    };
    match setup {
        Ok(()) if first.is_none() => {
            reporter.info(&format!("ecsgate: listening on queue {} (rule {})", plan.name, plan.name));
        }
        Ok(()) => {}
        Err((op, e)) if plan::on_setup_failure(e.kind) == SetupFailure::FallBackToPolling => {
            source.stop_receiving();
            report_leftovers(reporter, &bounded_teardown(source, sigs).await.0);
            *source = Source::polling(clients);
            let every = format_elapsed(poll_every);
            reporter.warn(&match e.kind {
                Kind::LimitExceeded => format!(
                    "the default event bus holds its maximum number of rules ({op}: {e}); falling back to polling the ECS API every {every}. Hint: `ecsgate gc` deletes ecsgate's own leftover rules; EventBridge's rules-per-bus quota (300 by default) can be raised in Service Quotas"
                ),
                _ => format!("not authorized to call {op} ({e}); falling back to polling the ECS API every {every}"),
            });
        }
        Err((op, e)) => {
            source.stop_receiving();
            report_leftovers(reporter, &bounded_teardown(source, sigs).await.0);
            return Err(fatal(op, op, e));
        }
    }
    Ok(first)
}

/// `--hub auto|TABLE`: the hub's table, proven readable with one read of the first service's events;
/// `Ok(None)`, with a notice, when there is no hub or it cannot be read (the gate then subscribes).
/// A signal or the deadline during these reads is handed back as the loop's first event.
async fn use_hub(
    g: &mut Gate<'_>,
    spec: &str,
    keys: &[String],
    reporter: &mut Reporter,
) -> Result<Option<String>, LoopEvent> {
    use crate::aws::hub;
    let clients = g.clients.clone();
    let table = match race(&mut g.sigs, g.deadline, hub::resolve_table(&clients, spec)).await {
        Raced::Done(Ok(Some(t))) => t,
        Raced::Done(Ok(None)) => {
            reporter.info(&format!(
                "ecsgate: no hub (SSM parameter {} not found); subscribing with a queue and rule",
                hub::PARAMETER
            ));
            return Ok(None);
        }
        Raced::Done(Err(e)) => {
            reporter.warn(&format!(
                "cannot read the hub's SSM parameter {} ({e}); subscribing with a queue and rule",
                hub::PARAMETER
            ));
            return Ok(None);
        }
        Raced::Signal(sig) => return Err(LoopEvent::Signal(sig)),
        Raced::OutOfTime => return Err(LoopEvent::Deadline),
    };
    let Some(key) = keys.first() else { return Ok(None) };
    let now = hub::sort_key_at(crate::engine::time::now_millis());
    let probe = hub::events_since(&clients, &table, key, &now, true);
    match race(&mut g.sigs, g.deadline, probe).await {
        Raced::Done(Ok(_)) => Ok(Some(table)),
        Raced::Done(Err(e)) => {
            reporter.warn(&format!("cannot read the hub's table {table} ({e}); subscribing with a queue and rule"));
            Ok(None)
        }
        Raced::Signal(sig) => Err(LoopEvent::Signal(sig)),
        Raced::OutOfTime => Err(LoopEvent::Deadline),
    }
}

/// Where a gate on the hub starts reading: a minute before the earliest of its deployments was
/// created (events from before the gate began are used: no race), or a quarter of an hour back when
/// no creation time is known.
fn hub_since(svcs: &[Svc], snaps: &[ServiceSnapshot]) -> i64 {
    let created = svcs.iter().filter_map(|v| {
        snaps.iter().flat_map(|s| s.deployments.iter()).find(|d| d.id == v.deployment_id).and_then(|d| d.created_at_ms)
    });
    created.min().unwrap_or_else(|| crate::engine::time::now_millis() - 15 * 60_000) - 60_000
}

/// The gate from its loop to its end: the loop, teardown beside the diagnosis, the report.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_gate(
    mut g: Gate<'_>,
    svcs: Vec<Svc>,
    snaps: Vec<ServiceSnapshot>,
    mut driver: Driver,
    mut source: Source,
    first: Option<LoopEvent>,
    setup: Duration,
    reporter: &mut Reporter,
) -> Result<u8, AppError> {
    let s = g.s;
    let clients = g.clients.clone();
    let detach_after = match s.detach {
        Some(crate::cli::DetachArg::After(d)) => Some(d),
        _ => None,
    };
    let mut handler = Handler::new(s.timing, g.timeout, s.fail_fast, !source.is_queue(), svcs.len(), Instant::now())
        .with_detach_after(detach_after);
    if let Some(after) = detach_after {
        g.deadline = g.deadline.min(tokio::time::Instant::from_std(g.started + after));
    }
    // `--github-deployment`: in_progress before the wait (best effort, bounded by its own timeout).
    let github = match &s.github_deployment {
        Some(gd) => super::github_deploy::start(gd, reporter).await.map(|st| (gd, st)),
        None => None,
    };
    let mut io = Io { clients: &clients, svcs: &svcs, sigs: &mut g.sigs, deadline: g.deadline };
    // A bug in the loop must not leave the queue and rule behind: the panic is caught, reported, and
    // teardown runs as on any other path.
    let run = run_loop(&mut io, &mut driver, &mut handler, &mut source, reporter, &snaps, first);
    let result = super::lite::guarded("waiting", run).await;

    if s.rollback_on_failure && result.is_ok() {
        super::rollback::roll_back(&mut g, &svcs, &snaps, &mut driver, &mut source, reporter).await;
    }

    // From here, only the verdict is on the critical path: the diagnosis reads (concurrent, bounded)
    // then the report, while the teardown runs beside them; the notification follows the report, still
    // beside the teardown. Leftovers are reported after the verdict (stderr).
    let ended = Instant::now();
    source.stop_receiving();
    let verdict_path = {
        let (driver, rep, clients, svcs, github) = (&mut driver, &mut *reporter, &clients, &svcs, &github);
        let ok = result.is_ok();
        async move {
            if !ok {
                return None;
            }
            let _ = tokio::time::timeout(super::lite::DIAGNOSIS_BUDGET, diagnose(clients, svcs, driver, rep)).await;
            if driver.any_detached() {
                super::handle::write(s, clients, svcs, driver, rep);
            }
            let report = driver.conclude(rep);
            let printed = ended.elapsed();
            // The notification sink queued its payloads with the report: post them beside the teardown.
            super::notify::deliver(rep).await;
            if let Some((gd, st)) = github {
                super::github_deploy::finish(gd, st, &report, rep).await;
            }
            Some((report, printed))
        }
    };
    let ((left, hurried), concluded) = tokio::join!(bounded_teardown(&source, &mut g.sigs), verdict_path);
    if hurried {
        reporter.info("ecsgate: second signal; teardown hurried");
    }
    report_leftovers(reporter, &left);
    if std::env::var_os("ECSGATE_TIMINGS").is_some() {
        // For the benches: phases as the process itself saw them, from the end of the loop (the
        // decision) to the verdict printed and to the end.
        reporter.info(&format!(
            "timing: setup_ms={} verdict_ms={} end_ms={} total_ms={}",
            setup.as_millis(),
            concluded.as_ref().map_or(0, |(_, p)| p.as_millis()),
            ended.elapsed().as_millis(),
            g.started.elapsed().as_millis()
        ));
    }
    match (result, concluded) {
        (Ok(()), Some((report, _))) => Ok(report.exit_code),
        // Reported (and notified, by the reporter's notification sink) as every error is.
        (Err(e), _) => {
            if let Some((gd, st)) = &github {
                let r = crate::report::GateReport::new(vec![crate::engine::Verdict::error(
                    e.kind,
                    &e.message,
                    e.hint.as_deref(),
                )]);
                super::github_deploy::finish(gd, st, &r, reporter).await;
            }
            Err(e)
        }
        (Ok(()), None) => unreachable!("a gate that ended well is concluded"),
    }
}

/// Everything the loop's I/O needs.
pub(crate) struct Io<'a> {
    pub clients: &'a Clients,
    pub svcs: &'a [Svc],
    pub sigs: &'a mut mpsc::UnboundedReceiver<Signal>,
    pub deadline: tokio::time::Instant,
}

/// The loop: the handler decides, the I/O it asks for runs raced against signals and the deadline.
pub(crate) async fn run_loop(
    io: &mut Io<'_>,
    driver: &mut Driver,
    handler: &mut Handler,
    source: &mut Source,
    reporter: &mut Reporter,
    initial: &[ServiceSnapshot],
    first: Option<LoopEvent>,
) -> Result<(), AppError> {
    let mut action = match first {
        // Setup was cut short by a signal or the deadline.
        Some(ev) => handler.handle(ev, Instant::now(), driver, reporter),
        None => handler.start(driver, reporter, Instant::now(), initial),
    };
    // The receipt handles of the batch being handled: deleted once it is handled, unless it decided the
    // gate — the queue is deleted then anyway, and the call would only compete with the teardown's.
    let mut handles = Vec::new();
    loop {
        let ev = match action {
            Action::Stop => return Ok(()),
            Action::Fail(e) => return Err(e.0),
            Action::FallBackToPolling => {
                source.stop_receiving();
                next_event(io, handler, source, &mut handles).await
            }
            Action::Continue => next_event(io, handler, source, &mut handles).await,
            Action::Describe(units) => {
                // Ours, where it is no longer the service's current service deployment.
                let pinned: Vec<String> =
                    units.iter().filter_map(|&i| driver.engine(i).service_deployment().map(str::to_string)).collect();
                let call = describe(io.clients, io.svcs, &units, pinned);
                guarded(io.sigs, io.deadline, call).await
            }
            Action::ListStopped(units) => {
                let call = list_stopped(io.clients, io.svcs, &units, driver);
                guarded(io.sigs, io.deadline, call).await
            }
        };
        action = handler.handle(ev, Instant::now(), driver, reporter);
        if !handles.is_empty() && action != Action::Stop {
            source.ack(std::mem::take(&mut handles));
        }
    }
}

/// The next thing to happen while nothing is in flight; a batch's receipt handles go to `handles`.
async fn next_event(io: &mut Io<'_>, handler: &Handler, source: &mut Source, handles: &mut Vec<String>) -> LoopEvent {
    let due = tokio::time::Instant::from_std(handler.next_reconcile());
    let beat = tokio::time::Instant::from_std(handler.next_heartbeat());
    enum Got {
        Ev(LoopEvent),
        Rx(Received),
    }
    let gather = async {
        tokio::select! {
            biased;
            r = source.next() => Got::Rx(r),
            _ = tokio::time::sleep_until(due) => Got::Ev(LoopEvent::ReconcileDue),
            _ = tokio::time::sleep_until(beat) => Got::Ev(LoopEvent::Heartbeat),
        }
    };
    let got = match race(io.sigs, io.deadline, gather).await {
        Raced::Done(got) => got,
        Raced::Signal(sig) => Got::Ev(LoopEvent::Signal(sig)),
        Raced::OutOfTime => Got::Ev(LoopEvent::Deadline),
    };
    match got {
        Got::Ev(e) => e,
        Got::Rx(Received::Batch(batch)) => {
            let (bodies, hs): (Vec<String>, Vec<String>) = batch.into_iter().unzip();
            *handles = hs;
            LoopEvent::Messages(bodies)
        }
        Got::Rx(Received::Error(e)) if e.kind == Kind::NotFound => LoopEvent::QueueGone(e, source.reader()),
        Got::Rx(Received::Error(e)) => LoopEvent::ReceiveFailed(e, source.reader()),
    }
}

/// An API call the handler asked for, raced against signals and the deadline: a hung call never holds
/// either back (the call is dropped).
async fn guarded(
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    deadline: tokio::time::Instant,
    call: impl std::future::Future<Output = LoopEvent>,
) -> LoopEvent {
    match race(sigs, deadline, call).await {
        Raced::Done(ev) => ev,
        Raced::Signal(sig) => LoopEvent::Signal(sig),
        Raced::OutOfTime => LoopEvent::Deadline,
    }
}

/// DescribeServices of the given units: one call per cluster and ten services.
async fn describe(c: &Clients, svcs: &[Svc], units: &[usize], pinned: Vec<String>) -> LoopEvent {
    let wanted: Vec<aws::ecs::Wanted> = units
        .iter()
        .map(|&i| aws::ecs::Wanted {
            cluster: &svcs[i].cluster,
            describe_as: &svcs[i].describe_as,
            name: &svcs[i].name,
        })
        .collect();
    let looked = match aws::ecs::describe_many(c, &wanted).await {
        Ok(l) => l,
        Err(err) => {
            return LoopEvent::Described(Err(ApiFailure {
                op: "DescribeServices",
                permission: "ecs:DescribeServices",
                err,
            }));
        }
    };
    let mut snaps = Vec::new();
    let mut missing = Vec::new();
    for (&i, l) in units.iter().zip(looked) {
        match l {
            Lookup::Found(s, status) if status == "ACTIVE" => snaps.push(*s),
            _ => missing.push(i),
        }
    }
    let deployments = service_deployments(c, &snaps, pinned).await;
    LoopEvent::Described(Ok((snaps, missing, deployments)))
}

/// ECS's own account of each service's current service deployment and of the `pinned` ones (ours,
/// where the service no longer names it), in one call. Optional: a role without
/// ecs:DescribeServiceDeployments, or an API that does not know the deployment, leaves the classic
/// rolloutState and the events to decide.
async fn service_deployments(
    c: &Clients,
    snaps: &[ServiceSnapshot],
    pinned: Vec<String>,
) -> Vec<crate::engine::snapshot::ServiceDeploymentSnapshot> {
    let arns = plan::service_deployments_to_describe(snaps, pinned);
    if arns.is_empty() {
        return Vec::new();
    }
    aws::ecs::describe_service_deployments(c, &arns).await.unwrap_or_default()
}

/// Stopped tasks of each unit's deployment that its engine has not seen stopped yet.
async fn list_stopped(c: &Clients, svcs: &[Svc], units: &[usize], driver: &Driver) -> LoopEvent {
    let mut tasks = Vec::new();
    for &i in units {
        let v = &svcs[i];
        let arns = match aws::ecs::list_stopped_tasks(c, &v.cluster, &v.deployment_id).await {
            Ok(a) => a,
            Err(err) => {
                return LoopEvent::Stopped(Err(ApiFailure { op: "ListTasks", permission: "ecs:ListTasks", err }));
            }
        };
        let new: Vec<String> = arns.into_iter().filter(|a| !driver.engine(i).has_stopped_task(a)).collect();
        if new.is_empty() {
            continue;
        }
        match aws::ecs::describe_tasks(c, &v.cluster, &new).await {
            Ok(t) => tasks.extend(t),
            Err(err) => {
                return LoopEvent::Stopped(Err(ApiFailure {
                    op: "DescribeTasks",
                    permission: "ecs:DescribeTasks",
                    err,
                }));
            }
        }
    }
    LoopEvent::Stopped(Ok(tasks))
}

/// Deletes the subscription within [`TEARDOWN_BUDGET`]. A signal during teardown hurries it (one
/// attempt per resource, no back-off; deletes are idempotent); a third signal exits at once. What could
/// not be deleted in time is returned with the commands that delete it.
pub(crate) async fn bounded_teardown(source: &Source, sigs: &mut mpsc::UnboundedReceiver<Signal>) -> (Leftovers, bool) {
    if !source.created_anything() {
        return (Leftovers::default(), false);
    }
    let out_of_time =
        || source.everything(&format!("teardown did not finish within {}", format_elapsed(TEARDOWN_BUDGET)));
    let budget = tokio::time::Instant::now() + TEARDOWN_BUDGET;
    match race(sigs, budget, source.teardown(false)).await {
        Raced::Done(left) => (left, false),
        Raced::OutOfTime => (out_of_time(), false),
        // A second signal: one attempt per resource, within what is left of the budget.
        Raced::Signal(_) => match race(sigs, budget, source.teardown(true)).await {
            Raced::Done(left) => (left, true),
            Raced::OutOfTime => (out_of_time(), true),
            Raced::Signal(sig) => {
                let left = source.everything("not deleted: a third signal ended ecsgate at once");
                #[allow(clippy::print_stderr)]
                {
                    for l in &left.0 {
                        eprintln!("warning: left behind: {l}");
                    }
                }
                std::process::exit(i32::from(sig.exit_code()));
            }
        },
    }
}

/// Executes the diagnosis plan ([`plan::diagnosis`]): stage by stage, the reads of a stage at once,
/// each answer fed (and recorded) as the stage ends, since the next stage's reads depend on them.
async fn diagnose(c: &Clients, svcs: &[Svc], driver: &mut Driver, reporter: &mut Reporter) {
    diagnose_with(c, svcs, driver, true, reporter).await
}

/// The diagnosis reads, stage by stage. `ecs_remembers: false` (`explain`, days later): only the reads
/// that still describe the failure — the culprit's task definition and its own log stream. ECS has
/// forgotten the stopped tasks (the hub's task events are their record), and a hook's newest log, an
/// alarm's or a target group's state are today's, not the failure's.
pub(crate) async fn diagnose_with(
    c: &Clients,
    svcs: &[Svc],
    driver: &mut Driver,
    ecs_remembers: bool,
    reporter: &mut Reporter,
) {
    for stage in 0..plan::DIAGNOSIS_STAGES {
        let mut reads = plan::diagnosis(driver, stage);
        if !ecs_remembers {
            reads.retain(|r| matches!(r, plan::Read::TaskDefinition(_) | plan::Read::LogTail { .. }));
        }
        if reads.is_empty() {
            continue;
        }
        let got = {
            let d = &*driver;
            futures_util::future::join_all(reads.into_iter().map(|r| read(c, svcs, d, r))).await
        };
        for g in got {
            match g {
                Got::Inputs(inputs) => inputs.into_iter().for_each(|i| driver.feed(i, reporter)),
                Got::Diagnosis(unit, d) => driver.diagnosed(unit, d, reporter),
                Got::Warning(w) => reporter.warn(&w),
                Got::Nothing => {}
            }
        }
    }
}

/// What one diagnosis read brought.
enum Got {
    Inputs(Vec<Input>),
    Diagnosis(usize, Diagnosis),
    Warning(String),
    Nothing,
}

async fn read(c: &Clients, svcs: &[Svc], d: &Driver, r: Read) -> Got {
    match r {
        Read::StoppedTasks(i) => match list_stopped(c, svcs, &[i], d).await {
            LoopEvent::Stopped(Ok(tasks)) => Got::Inputs(tasks.into_iter().map(Input::Task).collect()),
            _ => Got::Nothing,
        },
        Read::TargetHealth(tg) => match aws::elb::target_health(c, &tg).await {
            Ok(th) => Got::Inputs(vec![Input::TargetHealth(th)]),
            Err(e) => Got::Warning(format!("cannot read the health of target group {tg}: {e}")),
        },
        Read::TaskDefinition(arn) => match aws::ecs::describe_task_definition(c, &arn).await {
            Ok(td) => Got::Inputs(vec![Input::TaskDefinition(td)]),
            Err(_) => Got::Nothing,
        },
        Read::LogTail { unit, cfg, container, task } => {
            Got::Diagnosis(unit, Diagnosis::LogTail(aws::logs::tail(c, &cfg, &container, &task, 20).await))
        }
        Read::HookLog { unit, function } => {
            Got::Diagnosis(unit, Diagnosis::HookLog(aws::logs::lambda_tail(c, &function, 20).await))
        }
        Read::Alarms { unit, names } => Got::Diagnosis(unit, Diagnosis::Alarms(aws::alarms::describe(c, &names).await)),
        Read::ManagedResources { unit, revision } => match aws::express::managed_resources(c, &revision).await {
            Ok(Some(m)) => Got::Diagnosis(unit, Diagnosis::Managed(m)),
            Ok(None) => Got::Nothing,
            Err(e) => Got::Warning(format!("cannot read the managed resources of {revision}: {e}")),
        },
    }
}

/// For each service not yet decided, or failed, whose current service deployment is not ours (ours was
/// rolled back, or another deployment began): its recent service deployments (ListServiceDeployments), described, so
/// the engine can find ours by its target revision. A service that names no current service deployment
/// is not asked (the API does not know it: a deployment from before late 2024), so a gate on a service
/// whose current one is ours costs no extra call. Optional: without the permission, the events and
/// rolloutState decide.
async fn find_service_deployments(
    g: &mut Gate<'_>,
    svcs: &[Svc],
    snaps: &[ServiceSnapshot],
    driver: &mut Driver,
    reporter: &mut Reporter,
) -> Result<(), AppError> {
    let clients = g.clients.clone();
    for i in plan::service_deployments_to_list(driver, snaps) {
        let v = &svcs[i];
        let (cluster, service) = (v.cluster.clone(), v.service_arn.clone());
        let found = g
            .before_setup("listing the service deployments", async {
                let listed = match aws::ecs::list_service_deployments(&clients, &cluster, &service, None).await {
                    Ok(a) => a,
                    Err(e) => return Ok(Err(e)),
                };
                let arns = plan::not_yet_described(listed, snaps);
                if arns.is_empty() {
                    return Ok(Ok(Vec::new()));
                }
                Ok(aws::ecs::describe_service_deployments(&clients, &arns).await)
            })
            .await?;
        match found {
            Ok(sds) => {
                for sd in sds {
                    driver.feed(Input::ServiceDeployment(sd), reporter);
                }
            }
            Err(e) => reporter.info(&format!(
                "ecsgate: service deployments of {} not read ({e}); judging by deployment events",
                v.name
            )),
        }
    }
    Ok(())
}

/// Says so when `--timeout` cannot cover a service's configured bake time and steps.
pub(crate) fn warn_short_timeout(s: &WaitSettings, snaps: &[ServiceSnapshot], reporter: &mut Reporter) {
    for snap in snaps {
        if let Some(cfg) = &snap.deployment_configuration
            && let Some(w) = super::settings::timeout_warning(arn_name(&snap.service_arn), cfg, s.timeout, s.until)
        {
            reporter.warn(&w);
        }
    }
}

/// A service whose deployments CodeDeploy makes: no ECS deployment to pin, a CodeDeploy one instead.
fn is_code_deploy(s: &ServiceSnapshot) -> bool {
    s.deployment_controller.as_deref() == Some("CODE_DEPLOY")
}

/// DescribeServices of every service (one call per cluster and ten services): the ARNs the rule
/// needs, and the deployment to judge.
pub(crate) async fn resolve(
    c: &Clients,
    s: &WaitSettings,
    reporter: &mut Reporter,
) -> Result<(Vec<Svc>, Vec<ServiceSnapshot>), AppError> {
    let wanted: Vec<aws::ecs::Wanted> = s
        .services
        .iter()
        .map(|r| aws::ecs::Wanted { cluster: &r.cluster, describe_as: &r.service, name: r.name() })
        .collect();
    let looked =
        aws::ecs::describe_many(c, &wanted).await.map_err(|e| fatal("DescribeServices", "ecs:DescribeServices", e))?;
    let mut found: Vec<Option<ServiceSnapshot>> = Vec::new();
    for (want, l) in s.services.iter().zip(looked) {
        let cluster = &want.cluster;
        match l {
            Lookup::ClusterNotFound => {
                return Err(AppError::usage(format!("cluster {cluster} not found"))
                    .with_hint("check --cluster (or the cluster in --service) and --region"));
            }
            Lookup::Found(_, status) if status != "ACTIVE" => {
                return Err(AppError::usage(format!("service {} is {status}, not ACTIVE", want.name())).with_hint(
                    "a deleted or draining service has no deployment to wait for; check --service and --cluster",
                ));
            }
            Lookup::Found(snap, _) => found.push(Some(*snap)),
            Lookup::Missing(reason) => {
                return Err(AppError::usage(format!(
                    "service {} not found in cluster {cluster} ({reason})",
                    want.name()
                ))
                .with_hint("check --service, --cluster and --region"));
            }
        }
    }
    let mut out = Vec::new();
    let mut snaps = Vec::new();
    for (want, snap) in s.services.iter().zip(found) {
        let Some(snap) = snap else { continue };
        // CodeDeploy's deployment is found by the CodeDeploy gate (`--deployment-id d-…` or its own search).
        let deployment_id = if is_code_deploy(&snap) {
            s.deployment_id.clone().unwrap_or_default()
        } else {
            match plan::deployment_to_judge(&snap, s.deployment_id.as_deref()) {
                Ok(j) => {
                    if let Some(w) = &j.warning {
                        reporter.warn(w);
                    }
                    j.id
                }
                Err(NotJudgeable::NotAmong(known)) => {
                    return Err(AppError::usage(format!(
                        "deployment {} is not among service {}'s deployments ({})",
                        s.deployment_id.as_deref().unwrap_or_default(),
                        want.name(),
                        known.join(", ")
                    ))
                    .with_hint(
                        "a deployment that ended (or was rolled back) leaves the list: with the hub, `ecsgate explain --deployment-id` gives its verdict; omit --deployment-id to wait for the PRIMARY one",
                    ));
                }
                Err(NotJudgeable::NoPrimary) => {
                    return Err(AppError::usage(format!("service {} has no PRIMARY deployment", want.name()))
                    .with_hint("services with the EXTERNAL controller have none; ecsgate gates ECS and CodeDeploy deployments"));
                }
            }
        };
        out.push(Svc {
            cluster: want.cluster.clone(),
            describe_as: want.service.clone(),
            name: snap.service_name.clone().unwrap_or_else(|| want.name().to_string()),
            service_arn: snap.service_arn.clone(),
            cluster_arn: snap.cluster_arn.clone().unwrap_or_default(),
            deployment_id,
        });
        snaps.push(snap);
    }
    Ok((out, snaps))
}

pub(crate) fn report_leftovers(reporter: &mut Reporter, left: &Leftovers) {
    for l in &left.0 {
        reporter.warn(&format!("left behind: {l}"));
    }
}
