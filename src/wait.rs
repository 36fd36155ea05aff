//! `ecsgate wait`: the live gate. Wiring only — resolve the deployment, subscribe, feed the engine from
//! the queue and from reconciliation, report, tear down. Decisions are the engine's.
//!
//! Shape (nextest's dispatcher): one `select!` turns queue messages, reconcile ticks, the timeout and
//! signals into inputs; the engine decides synchronously; the loop ends the moment a verdict exists.
//! Invariant: every AWS resource is registered in [`Teardown`] before the call that creates it, and
//! teardown runs on every path out of [`wait`] after setup began.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use tokio::sync::mpsc;

use crate::aws::ecs::DescribeError;
use crate::aws::subscription::{self, Teardown};
use crate::aws::{self, Clients, ErrInfo, Kind, err_info, fatal};
use crate::cli::{GcArgs, WaitArgs};
use crate::engine::event::parse_envelope_str;
use crate::engine::snapshot::TaskDefinitionInfo;
use crate::engine::{Engine, Input, Note, Outcome, Target, arn_name};
use crate::error::AppError;
use crate::exit;
use crate::recording::Recorder;
use crate::report::{Reporter, format_elapsed, format_state};

pub fn run(args: WaitArgs) -> u8 {
    let mut reporter = Reporter::new(args.output.output, args.output.quiet, true, args.output.github);
    block_on(&mut reporter, async |r| wait(&args, r).await)
}

/// Runs an async command on a single-threaded runtime (I/O-bound; one thread is plenty) and maps its
/// error to the user's message and exit code.
fn block_on(reporter: &mut Reporter, f: impl AsyncFnOnce(&mut Reporter) -> Result<u8, AppError>) -> u8 {
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
        match f(reporter).await {
            Ok(code) => code,
            Err(e) => {
                reporter.error(&e);
                e.exit_code
            }
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Int,
    Term,
}

impl Signal {
    fn exit_code(self) -> u8 {
        match self {
            Signal::Int => exit::SIGINT,
            Signal::Term => exit::SIGTERM,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

/// SIGINT and SIGTERM become messages; once we handle them the default action is gone, so every path
/// must exit by itself with 130/143 after teardown.
fn signals() -> mpsc::UnboundedReceiver<Signal> {
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

/// Messages from the long-poll task. A separate task owns the in-flight ReceiveMessage, so the main loop
/// can react to anything without cancelling a poll whose messages SQS already handed out.
enum Received {
    Batch(Vec<(String, String)>),
    Error(ErrInfo),
}

struct QueueRx {
    rx: mpsc::Receiver<Received>,
    task: tokio::task::JoinHandle<()>,
    url: String,
}

fn spawn_receiver(c: Clients, url: String, wait_seconds: i32) -> QueueRx {
    let (tx, rx) = mpsc::channel(16);
    let queue_url = url.clone();
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            let res = c
                .sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait_seconds)
                .visibility_timeout(60)
                .send()
                .await;
            let msg = match res {
                Ok(out) => {
                    backoff = Duration::from_millis(250);
                    let batch: Vec<(String, String)> = out
                        .messages()
                        .iter()
                        .filter_map(|m| Some((m.body()?.to_string(), m.receipt_handle()?.to_string())))
                        .collect();
                    if batch.is_empty() {
                        continue;
                    }
                    Received::Batch(batch)
                }
                Err(e) => Received::Error(err_info(&e)),
            };
            let failed = matches!(msg, Received::Error(_));
            if tx.send(msg).await.is_err() {
                return;
            }
            if failed {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    });
    QueueRx { rx, task, url: queue_url }
}

struct Live<'a> {
    clients: Clients,
    cluster: String,
    engine: Engine,
    reporter: &'a mut Reporter,
    recorder: Option<Recorder>,
    notes: Vec<Note>,
    task_defs: HashMap<String, Option<TaskDefinitionInfo>>,
    /// Since when the API has been failing without a success in between.
    failing_since: Option<Instant>,
    /// How long that may last (`--api-error-budget`).
    error_budget: Duration,
}

impl Live<'_> {
    fn apply(&mut self, input: Input) {
        self.engine.apply(input, &mut self.notes);
        for n in self.notes.drain(..) {
            self.reporter.note(&n);
        }
        self.reporter.progress(&self.engine.progress());
    }

    fn record<F: FnOnce(&mut Recorder) -> std::io::Result<()>>(&mut self, f: F) {
        if let Some(r) = &mut self.recorder
            && let Err(e) = f(r)
        {
            self.recorder = None;
            self.reporter.warn(&format!("stopped recording: {e}"));
        }
    }

    fn on_message(&mut self, body: &str) {
        self.record(|r| r.event(body));
        match parse_envelope_str(body) {
            Ok(e) => self.apply(Input::Event(e)),
            Err(e) => self.reporter.warn(&format!("ignored a message that is not an ECS event ({e:?})")),
        }
    }

    /// A transient API failure is tolerated until it has lasted `--api-error-budget`.
    fn api_error(&mut self, op: &str, permission: &str, e: ErrInfo) -> Result<(), AppError> {
        if matches!(e.kind, Kind::AccessDenied | Kind::Credentials) {
            return Err(fatal(op, permission, e));
        }
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= self.error_budget {
            return Err(AppError::aws(format!("{op} kept failing for {}: {e}", format_elapsed(since.elapsed())))
                .with_hint("AWS is failing or throttling; retry the wait later (the deployment itself goes on)"));
        }
        self.reporter.info(&format!("{op} failed, will retry: {e}"));
        Ok(())
    }

    fn interrupted(&mut self, sig: Signal) {
        self.reporter.info(&format!("ecsgate: {}; cleaning up", sig.name()));
        self.engine.finish(Outcome::Interrupted, format!("interrupted by {}", sig.name()), Some(sig.exit_code()));
    }

    fn api_ok(&mut self) {
        self.failing_since = None;
    }

    async fn task_definition(&mut self, arn: &str) {
        if self.task_defs.contains_key(arn) {
            return;
        }
        let td = aws::ecs::describe_task_definition(&self.clients, arn).await.ok();
        if let Some(td) = &td {
            self.record(|r| r.task_definition(td));
            self.engine.apply(Input::TaskDefinition(td.clone()), &mut self.notes);
        }
        self.task_defs.insert(arn.to_string(), td);
    }

    /// Reads the truth from the API and feeds it through the same rules as events: catches what happened
    /// before the rule existed and events that were lost.
    async fn reconcile(&mut self, service: &str, deployment_id: &str) -> Result<(), AppError> {
        match aws::ecs::describe_service(&self.clients, &self.cluster, service).await {
            Ok((snap, _)) => {
                self.api_ok();
                self.record(|r| r.service(&snap));
                self.apply(Input::Service(snap));
            }
            Err(DescribeError::Aws(e)) => return self.api_error("DescribeServices", "ecs:DescribeServices", e),
            Err(DescribeError::ClusterNotFound | DescribeError::ServiceNotFound(_)) => {
                return Err(AppError::usage(format!("service {service} disappeared from cluster {}", self.cluster))
                    .with_hint("the service was deleted while ecsgate waited; nothing is left to judge"));
            }
        }
        if self.engine.is_decided() {
            return Ok(());
        }
        let arns = match aws::ecs::list_stopped_tasks(&self.clients, &self.cluster, deployment_id).await {
            Ok(a) => a,
            Err(e) => return self.api_error("ListTasks", "ecs:ListTasks", e),
        };
        let new: Vec<String> = arns.into_iter().filter(|a| !self.engine.has_stopped_task(a)).collect();
        if new.is_empty() {
            return Ok(());
        }
        match aws::ecs::describe_tasks(&self.clients, &self.cluster, &new).await {
            Ok(tasks) => {
                self.api_ok();
                for t in tasks {
                    self.record(|r| r.task(&t));
                    self.apply(Input::Task(t));
                }
                Ok(())
            }
            Err(e) => self.api_error("DescribeTasks", "ecs:DescribeTasks", e),
        }
    }
}

async fn wait(args: &WaitArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let started = Instant::now();
    let clients = aws::load(args.aws.region.clone(), args.aws.profile.clone()).await?;
    let cluster = args.cluster.clone();
    let (snap, status) = match aws::ecs::describe_service(&clients, &cluster, &args.service).await {
        Ok(x) => x,
        Err(DescribeError::ClusterNotFound) => {
            return Err(
                AppError::usage(format!("cluster {cluster} not found")).with_hint("check --cluster and --region")
            );
        }
        Err(DescribeError::ServiceNotFound(reason)) => {
            return Err(AppError::usage(format!("service {} not found in cluster {cluster} ({reason})", args.service))
                .with_hint("check --service, --cluster and --region"));
        }
        Err(DescribeError::Aws(e)) => return Err(fatal("DescribeServices", "ecs:DescribeServices", e)),
    };
    if status != "ACTIVE" {
        return Err(AppError::usage(format!("service {} is {status}, not ACTIVE", args.service))
            .with_hint("a deleted or draining service has no deployment to wait for; check --service and --cluster"));
    }
    let deployment_id = match &args.deployment_id {
        Some(id) => id.clone(),
        None => default_deployment(&snap, reporter)
            .ok_or_else(|| {
                AppError::usage(format!("service {} has no PRIMARY deployment", args.service))
                    .with_hint("services with the CODE_DEPLOY or EXTERNAL controller have none; ecsgate gates rolling (ECS) deployments")
            })?,
    };
    let Some(ours) = snap.deployments.iter().find(|d| d.id == deployment_id).cloned() else {
        let known: Vec<&str> = snap.deployments.iter().map(|d| d.id.as_str()).collect();
        return Err(AppError::usage(format!(
            "deployment {deployment_id} is not among service {}'s deployments ({})",
            args.service,
            known.join(", ")
        ))
        .with_hint("finished deployments leave the list; omit --deployment-id to wait for the PRIMARY one"));
    };
    let service_name = snap.service_name.clone().unwrap_or_else(|| arn_name(&args.service).to_string());
    let service_arn = snap.service_arn.clone();
    let cluster_arn = snap.cluster_arn.clone().unwrap_or_default();
    let target = Target {
        cluster: Some(arn_name(&cluster).to_string()),
        service: Some(service_name.clone()),
        deployment_id: Some(deployment_id.clone()),
    };
    let mut recorder = match &args.record {
        Some(p) => Some(Recorder::create(p).map_err(|e| {
            AppError::usage(format!("cannot write {}: {e}", p.display()))
                .with_hint("--record needs a writable path; its directory must exist")
        })?),
        None => None,
    };
    if let Some(r) = &mut recorder
        && let Err(e) = r.start(&target)
    {
        reporter.warn(&format!("recording disabled: cannot write the record file: {e}"));
        recorder = None;
    }
    reporter.info(&format!(
        "ecsgate: waiting for deployment {deployment_id} of service {service_name} (cluster {}), timeout {}",
        arn_name(&cluster),
        format_elapsed(args.timeout)
    ));
    let mut live = Live {
        clients: clients.clone(),
        cluster: cluster.clone(),
        engine: Engine::new(target, args.max_task_failures),
        reporter,
        recorder,
        notes: Vec::new(),
        task_defs: HashMap::new(),
        failing_since: None,
        error_budget: args.api_error_budget,
    };
    live.record(|r| r.service(&snap));
    live.apply(Input::Service(snap));
    if let Some(td) = &ours.task_definition {
        live.task_definition(td).await;
    }
    let mut sigs = signals();
    let deadline = tokio::time::Instant::now() + args.timeout;

    // Already decided by the API (COMPLETED or FAILED): nothing to subscribe to.
    let mut teardown = Teardown::default();
    let mut receiver = None;
    let setup_started = Instant::now();
    if !live.engine.is_decided() && !args.poll {
        let plan = subscription::plan(&service_arn, &cluster_arn, &service_name, &deployment_id);
        match subscription::create(&clients, &plan, &mut teardown).await {
            Ok(sub) => {
                live.reporter.info(&format!("ecsgate: listening on queue {} (rule {})", plan.name, sub.rule_name));
                receiver = Some(spawn_receiver(clients.clone(), sub.queue_url, args.wait_seconds));
            }
            Err((op, e)) if e.kind == Kind::AccessDenied => {
                let left = teardown.run(&clients, false).await;
                report_leftovers(live.reporter, &left);
                teardown = Teardown::default();
                live.reporter.warn(&format!(
                    "not authorized to call {op} ({e}); falling back to polling the ECS API every {}",
                    format_elapsed(args.poll_interval)
                ));
            }
            Err((op, e)) => {
                let left = teardown.run(&clients, false).await;
                report_leftovers(live.reporter, &left);
                return Err(fatal(op, op, e));
            }
        }
    }

    let setup = setup_started.elapsed();
    let result = wait_loop(&mut live, &mut sigs, &mut receiver, deadline, args, &service_name, &deployment_id).await;
    let teardown_started = Instant::now();
    if let Some(q) = receiver.take() {
        q.task.abort();
    }
    // Teardown first, the log tail beside it: neither waits for the other.
    let logs = failure_logs(&mut live);
    // A signal during teardown hurries it: the run in flight is dropped and redone with one attempt per
    // resource and no back-off (deletes are idempotent; "not found" counts as deleted).
    let mut hurried = false;
    let td = async {
        tokio::select! {
            left = teardown.run(&clients, false) => left,
            Some(_) = sigs.recv() => {
                hurried = true;
                teardown.run(&clients, true).await
            }
        }
    };
    let (left, tail) = tokio::join!(td, logs);
    if hurried {
        live.reporter.info("ecsgate: second signal; teardown hurried");
    }
    if std::env::var_os("ECSGATE_TIMINGS").is_some() {
        // For benches/latency.rs: phases as the process itself saw them.
        live.reporter.info(&format!(
            "timing: setup_ms={} teardown_ms={} total_ms={}",
            setup.as_millis(),
            teardown_started.elapsed().as_millis(),
            started.elapsed().as_millis()
        ));
    }
    if let Some(t) = tail {
        live.record(|r| r.log_tail(&t));
        live.engine.set_log_tail(t);
    }
    report_leftovers(live.reporter, &left);
    result?;
    let v = live.engine.verdict().expect("the loop ends only with a decision");
    live.reporter.verdict(&v);
    Ok(v.exit_code)
}

/// The deployment to judge when none is named: the PRIMARY one — unless the PRIMARY is already a
/// circuit-breaker rollback, which means the deployment the pipeline just started has failed before we
/// got here. Judging the rollback would report its success as ours; judge the one it replaced.
fn default_deployment(snap: &crate::engine::ServiceSnapshot, reporter: &mut Reporter) -> Option<String> {
    let primary = snap.deployments.iter().find(|d| d.status == "PRIMARY")?;
    if primary.rollout_state_reason.as_deref().and_then(crate::engine::rollback_target).is_some()
        && let Some(replaced) = snap
            .deployments
            .iter()
            .filter(|d| d.status != "PRIMARY")
            .max_by_key(|d| d.created_at_ms.unwrap_or(i64::MIN))
    {
        reporter.warn(&format!(
            "the PRIMARY deployment {} is a rollback; judging the deployment it replaced, {}",
            primary.id, replaced.id
        ));
        return Some(replaced.id.clone());
    }
    Some(primary.id.clone())
}

fn report_leftovers(reporter: &mut Reporter, left: &subscription::Leftovers) {
    for l in &left.0 {
        reporter.warn(&format!("left behind: {l}"));
    }
}

/// The future that fetches the culprit's log tail, if the verdict is a failure with an awslogs culprit.
fn failure_logs(
    live: &mut Live<'_>,
) -> impl std::future::Future<Output = Option<crate::engine::verdict::LogTail>> + use<> {
    let v = live.engine.verdict();
    let clients = live.clients.clone();
    let target = v.as_ref().filter(|v| v.outcome == Outcome::Failed).and_then(|v| {
        let c = v.culprit.as_ref()?;
        let container = c.container.clone()?;
        let td_arn = v.failed_tasks.first()?.task_definition.clone()?;
        let cfg =
            live.engine.task_definition(&td_arn)?.containers.iter().find(|x| x.name == container)?.awslogs.clone()?;
        Some((cfg, container, c.task_arn.clone()))
    });
    async move {
        let (cfg, container, task) = target?;
        Some(aws::logs::tail(&clients, &cfg, &container, &task, 20).await)
    }
}

async fn wait_loop(
    live: &mut Live<'_>,
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    receiver: &mut Option<QueueRx>,
    deadline: tokio::time::Instant,
    args: &WaitArgs,
    service: &str,
    deployment_id: &str,
) -> Result<(), AppError> {
    let every = if receiver.is_some() { args.reconcile_interval } else { args.poll_interval };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !live.engine.is_decided() {
        // Missing a branch's source (no queue in polling mode) leaves that branch disabled.
        let queue_rx = receiver.as_mut().map(|q| &mut q.rx);
        tokio::select! {
            biased;
            Some(sig) = sigs.recv() => live.interrupted(sig),
            _ = tokio::time::sleep_until(deadline) => {
                let p = format_state(&live.engine.progress());
                live.engine.finish(Outcome::TimedOut, format!("timed out after {}; last state: {p}", format_elapsed(args.timeout)), None);
            }
            Some(msg) = async { match queue_rx { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                match msg {
                    Received::Batch(batch) => {
                        live.api_ok();
                        let handles: Vec<String> = batch.iter().map(|(_, h)| h.clone()).collect();
                        for (body, _) in &batch {
                            live.on_message(body);
                        }
                        if let Some(q) = receiver.as_ref() {
                            delete_batch(&live.clients, q.url.clone(), handles);
                        }
                    }
                    Received::Error(e) if e.kind == Kind::NotFound => {
                        // Someone deleted our queue: keep judging from the API.
                        live.reporter.warn(&format!(
                            "the event queue is gone ({e}); falling back to polling the ECS API every {}",
                            format_elapsed(args.poll_interval)
                        ));
                        if let Some(q) = receiver.take() {
                            q.task.abort();
                        }
                        tick = tokio::time::interval(args.poll_interval);
                    }
                    Received::Error(e) => live.api_error("sqs:ReceiveMessage", "sqs:ReceiveMessage", e)?,
                }
            }
            _ = tick.tick() => {
                // A hung API call must not hold a signal back: the reconcile is dropped if one comes.
                tokio::select! {
                    r = live.reconcile(service, deployment_id) => r?,
                    Some(sig) = sigs.recv() => live.interrupted(sig),
                }
            }
        }
    }
    Ok(())
}

/// Deletes handled messages without holding up the loop (a failed delete only means a redelivery, which
/// the engine absorbs as a duplicate).
fn delete_batch(c: &Clients, url: String, handles: Vec<String>) {
    let entries: Vec<DeleteMessageBatchRequestEntry> = handles
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(h).build().ok())
        .collect();
    let sqs = c.sqs.clone();
    tokio::spawn(async move {
        let _ = sqs.delete_message_batch().queue_url(url).set_entries(Some(entries)).send().await;
    });
}

pub fn run_gc(args: GcArgs) -> u8 {
    let mut reporter = Reporter::new(crate::cli::OutputFormat::Human, false, false, false);
    block_on(&mut reporter, async |r| gc(&args, r).await)
}

async fn gc(args: &GcArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let clients = aws::load(args.aws.region.clone(), args.aws.profile.clone()).await?;
    let found = aws::gc::find(&clients).await.map_err(|(op, e)| fatal(op, op, e))?;
    let mut failed = 0;
    let mut n = 0;
    for f in &found {
        // Unknown age (tag missing or unreadable) counts as old: the name prefix and creator tag matched.
        if f.age.is_some_and(|a| a < args.older_than) {
            continue;
        }
        n += 1;
        let age = f.age.map(format_elapsed).unwrap_or_else(|| "unknown age".into());
        if args.dry_run {
            reporter.info(&format!("would delete {} {} ({age})", f.kind, f.name));
            continue;
        }
        match aws::gc::delete(&clients, f).await {
            Ok(()) => reporter.info(&format!("deleted {} {} ({age})", f.kind, f.name)),
            Err(e) => {
                failed += 1;
                reporter.warn(&format!("could not delete {} {}: {e}", f.kind, f.name));
            }
        }
    }
    reporter.info(&format!(
        "ecsgate gc: {n} leftover resource(s) older than {}{}",
        format_elapsed(args.older_than),
        if args.dry_run { " (dry run: nothing deleted)" } else { "" }
    ));
    Ok(if failed > 0 { exit::AWS_ERROR } else { exit::SUCCEEDED })
}
