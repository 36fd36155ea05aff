//! `ecsgate run`: one-off tasks (a migration, a smoke test) judged by their exit codes. The same shape as
//! the gate (deploy-kinds/README §3.5): subscribe first — a rule on the task events of a `startedBy`
//! token unique to this run — then RunTask, then fold every event (and a DescribeTasks reconcile, the
//! safety net for lost events) into [`OneOff`], and report its verdict through the one reporter while
//! the subscription is torn down. Signals and the deadline end the wait, never the tasks.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::handler::LoopEvent;
use super::lite::Tick;
use super::race::{Raced, race};
use super::source::{Received, Source};
use super::wait::{signals, subscribe_with};
use crate::aws::run::{RunFrom, RunRequest};
use crate::aws::{self, Clients, Kind, fatal};
use crate::cli::{NotifyOn, RunArgs};
use crate::engine::event::parse_envelope_str;
use crate::engine::oneoff::OneOff;
use crate::engine::snapshot::TaskDefinitionInfo;
use crate::engine::{Input, Outcome, arn_name};
use crate::error::AppError;
use crate::exit::{ErrorKind, Signal};
use crate::report::{Reporter, Who, format_elapsed};

/// The flags of `ecsgate run`, checked.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub request: RunRequest,
    pub service: Option<String>,
    pub task_definition: Option<String>,
    pub timeout: Duration,
    pub poll: bool,
    /// The loop's periods and budgets, as `wait` takes them.
    pub timing: super::settings::Timing,
    pub notify: Vec<String>,
    pub notify_on: NotifyOn,
    pub junit: Option<std::path::PathBuf>,
    pub region: Option<String>,
    pub profile: Option<String>,
}

impl RunSettings {
    pub fn from_args(a: RunArgs) -> Result<Self, AppError> {
        let mut env = Vec::new();
        for e in &a.env {
            match e.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => env.push((k.trim().to_string(), v.to_string())),
                _ => {
                    return Err(AppError::usage(format!("--env {e:?} is not NAME=VALUE"))
                        .with_hint("give each variable as --env NAME=VALUE (the value may be empty: --env NAME=)"));
                }
            }
        }
        if a.timeout.is_zero() {
            return Err(AppError::usage("--timeout must be longer than 0s").with_hint("e.g. --timeout 30m"));
        }
        let launch_type = a.launch_type.clone().or_else(|| a.service.is_none().then(|| "FARGATE".to_string()));
        Ok(RunSettings {
            request: RunRequest {
                cluster: a.cluster,
                // Letters, digits, `-` and `_` only (RunTask's rule for startedBy), unique to this run:
                // the rule and the verdict select our tasks by it alone.
                started_by: format!(
                    "ecsgate-run-{}",
                    (0..12).map(|_| fastrand::alphanumeric().to_ascii_lowercase()).collect::<String>()
                ),
                count: a.count,
                container: a.container,
                command: a.command,
                env,
                subnets: a.subnets,
                security_groups: a.security_groups,
                public_ip: a.assign_public_ip,
                launch_type,
            },
            service: a.service,
            task_definition: a.task_definition,
            timeout: a.timeout,
            poll: a.poll,
            timing: super::settings::Timing::from(&a.timing),
            notify: a.notify,
            notify_on: a.notify_on,
            junit: a.junit,
            region: a.aws.region,
            profile: a.aws.profile,
        })
    }
}

pub fn run(args: RunArgs) -> u8 {
    let o = &args.output;
    let mut reporter = Reporter::new(o.output, o.quiet, true, o.github);
    let settings = match RunSettings::from_args(args) {
        Ok(s) => s,
        Err(e) => {
            reporter.error(&e);
            return e.exit_code();
        }
    };
    reporter.notify_to(&settings.notify, settings.notify_on);
    reporter.junit_to(settings.junit.as_deref());
    super::block_on(&mut reporter, async |r| one_off(&settings, r).await)
}

/// A step before anything exists to tear down: a signal or the deadline ends the command with its error.
async fn before_setup<T>(
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    deadline: tokio::time::Instant,
    what: &str,
    call: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    match race(sigs, deadline, call).await {
        Raced::Done(r) => r,
        Raced::Signal(sig) => Err(AppError {
            kind: ErrorKind::Interrupted(sig),
            message: format!("interrupted by {} while {what}", sig.name()),
            hint: None,
        }),
        Raced::OutOfTime => Err(AppError {
            kind: ErrorKind::TimedOut,
            message: format!("timed out while {what} (the AWS API did not answer)"),
            hint: Some("check the network path to the ECS API (proxy, VPC endpoint, AWS_ENDPOINT_URL)".into()),
        }),
    }
}

async fn one_off(s: &RunSettings, reporter: &mut Reporter) -> Result<u8, AppError> {
    let mut sigs = signals();
    let deadline = tokio::time::Instant::now() + s.timeout;
    let clients = aws::load(s.region.clone(), s.profile.clone()).await?;
    let (from, td) = before_setup(&mut sigs, deadline, "describing what to run", resolve(&clients, s)).await?;
    let mut request = s.request.clone();
    request.container = pick_container(&td, &request)?;
    if !from.has_network(&request) && s.service.is_none() && request.launch_type.as_deref() == Some("FARGATE") {
        return Err(AppError::usage("a Fargate task needs subnets: give --subnet (and --security-group), or --service to borrow its network configuration")
            .with_hint("e.g. ecsgate run --task-definition migrate --subnet subnet-0abc --security-group sg-0abc -- ./migrate"));
    }
    let td_name = arn_name(&td.arn).to_string();
    let mut engine = OneOff::new(Some(request.cluster.clone()), request.started_by.clone(), request.count as usize)
        .describing(Some(td.arn.clone()), from.service.clone());
    let who = Who { index: 0, service: Some(td_name.clone()), cluster: Some(request.cluster.clone()) };
    reporter.begin(std::slice::from_ref(&who));
    engine.apply(Input::TaskDefinition(td.clone()), &mut Vec::new());

    // Subscribe first: a task can go PENDING → STOPPED in seconds, before any poller sees it.
    let mut source = Source::polling(&clients);
    let mut first = None;
    if !s.poll {
        let plan = crate::aws::subscription::plan_run(&td.arn, &request.started_by);
        let periods = (s.timing.wait_seconds, s.timing.poll_interval);
        first = subscribe_with(&mut sigs, deadline, &clients, periods, &mut source, &plan, reporter).await?;
    }
    let mut lp = Loop { clients: &clients, s, sigs: &mut sigs, deadline, who, engine };
    let result = match first {
        Some(LoopEvent::Signal(sig)) => {
            lp.engine.finish(Outcome::Interrupted(sig), format!("interrupted by {} before RunTask", sig.name()));
            Ok(())
        }
        Some(_) => {
            lp.engine.finish(Outcome::TimedOut, "timed out before RunTask".into());
            Ok(())
        }
        None => {
            let run = async {
                lp.start(&from, &request, reporter).await?;
                lp.wait(&mut source, reporter).await
            };
            super::lite::guarded("running the tasks", run).await
        }
    };
    let Loop { engine, sigs, .. } = lp;
    let mut engine = engine;
    let verdict = async |_: &mut Reporter| {
        let _ = tokio::time::timeout(super::lite::DIAGNOSIS_BUDGET, diagnose(&clients, &td, &mut engine)).await;
        engine.verdict()
    };
    super::lite::conclude(sigs, &mut source, result, verdict, reporter).await
}

/// The service (when given) and the task definition, read before anything is created: a wrong name is
/// a usage error that leaves nothing behind.
async fn resolve(c: &Clients, s: &RunSettings) -> Result<(RunFrom, TaskDefinitionInfo), AppError> {
    let cluster = &s.request.cluster;
    let mut from = match &s.service {
        Some(svc) => match aws::run::from_service(c, cluster, svc).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(AppError::usage(format!("service {svc} not found in cluster {cluster}"))
                    .with_hint("check --service, --cluster and --region"));
            }
            Err(e) if e.kind == Kind::NotFound => {
                return Err(
                    AppError::usage(format!("cluster {cluster} not found")).with_hint("check --cluster and --region")
                );
            }
            Err(e) => return Err(fatal("DescribeServices", "ecs:DescribeServices", e)),
        },
        None => RunFrom::default(),
    };
    if let Some(td) = &s.task_definition {
        from.task_definition = Some(td.clone());
    }
    let Some(td_ref) = from.task_definition.clone() else {
        return Err(
            AppError::usage("nothing to run: the service names no task definition").with_hint("give --task-definition")
        );
    };
    let td = match aws::ecs::describe_task_definition(c, &td_ref).await {
        Ok(td) => td,
        // ECS answers ClientException for a task definition it does not know.
        Err(e) if e.code.as_deref() == Some("ClientException") || e.kind == Kind::NotFound => {
            return Err(AppError::usage(format!("task definition {td_ref} not found ({e})"))
                .with_hint("check --task-definition (family, family:revision or ARN) and --region"));
        }
        Err(e) => return Err(fatal("DescribeTaskDefinition", "ecs:DescribeTaskDefinition", e)),
    };
    from.task_definition = Some(td.arn.clone());
    Ok((from, td))
}

/// The container the command and environment go to: `--container` (checked), else the only container,
/// else the first essential one. `None` when there is nothing to override.
fn pick_container(td: &TaskDefinitionInfo, r: &RunRequest) -> Result<Option<String>, AppError> {
    let names: Vec<&str> = td.containers.iter().map(|c| c.name.as_str()).collect();
    if let Some(c) = &r.container {
        if !names.contains(&c.as_str()) {
            return Err(AppError::usage(format!(
                "task definition {} has no container {c} (it has: {})",
                arn_name(&td.arn),
                names.join(", ")
            ))
            .with_hint("give --container one of the task definition's containers"));
        }
        return Ok(Some(c.clone()));
    }
    if r.command.is_empty() && r.env.is_empty() {
        return Ok(None);
    }
    match td.containers.as_slice() {
        [one] => Ok(Some(one.name.clone())),
        many => many.iter().find(|c| c.essential).or(many.first()).map(|c| Some(c.name.clone())).ok_or_else(|| {
            AppError::usage(format!("task definition {} has no container", arn_name(&td.arn)))
                .with_hint("register a task definition with a container to run")
        }),
    }
}

/// What the wait holds from RunTask to the verdict.
struct Loop<'a> {
    clients: &'a Clients,
    s: &'a RunSettings,
    sigs: &'a mut mpsc::UnboundedReceiver<Signal>,
    deadline: tokio::time::Instant,
    who: Who,
    engine: OneOff,
}

impl Loop<'_> {
    /// What the user should know when AWS kept failing: the tasks run on, and how to see them (running
    /// the command again would run it twice).
    fn tasks_go_on(&self) -> String {
        format!(
            "the tasks go on — see them before running again: aws ecs list-tasks --cluster {} --started-by {}",
            self.s.request.cluster, self.s.request.started_by
        )
    }

    fn feed(&mut self, input: Input, reporter: &mut Reporter) {
        let mut notes = Vec::new();
        self.engine.apply(input, &mut notes);
        super::lite::tell(reporter, &self.who, &notes, || self.engine.progress());
    }

    /// RunTask, raced against signals and the deadline. Its answer's tasks are ours from now on (the
    /// verdict waits for each); its `failures[]` fail the run at once.
    async fn start(&mut self, from: &RunFrom, r: &RunRequest, reporter: &mut Reporter) -> Result<(), AppError> {
        let call = aws::run::run_task(self.clients, from, r);
        let started = match race(self.sigs, self.deadline, call).await {
            Raced::Done(Ok(st)) => st,
            Raced::Done(Err(e)) => return Err(run_task_error(e)),
            Raced::Signal(sig) => {
                let reason = format!(
                    "interrupted by {} during RunTask; tasks it may have started: aws ecs list-tasks --cluster {} --started-by {}",
                    sig.name(),
                    r.cluster,
                    r.started_by
                );
                self.engine.finish(Outcome::Interrupted(sig), reason);
                return Ok(());
            }
            Raced::OutOfTime => {
                self.engine.finish(Outcome::TimedOut, "timed out during RunTask".into());
                return Ok(());
            }
        };
        reporter.info(&format!(
            "ecsgate: started {} of {} task(s) of {} in cluster {} (startedBy {}), timeout {}",
            started.tasks.len(),
            r.count,
            arn_name(from.task_definition.as_deref().unwrap_or("?")),
            r.cluster,
            r.started_by,
            format_elapsed(self.s.timeout)
        ));
        if !started.failures.is_empty() {
            self.engine.launch_failed(started.failures);
        }
        for t in started.tasks {
            self.feed(Input::Task(t), reporter);
        }
        Ok(())
    }

    /// Until every task stopped (or could not be placed), a signal, or the deadline.
    async fn wait(&mut self, source: &mut Source, reporter: &mut Reporter) -> Result<(), AppError> {
        let started = Instant::now();
        let period = |queue: bool| if queue { self.s.timing.reconcile_interval } else { self.s.timing.poll_interval };
        let mut next_describe = tokio::time::Instant::now() + period(source.is_queue());
        let mut next_beat = tokio::time::Instant::now() + self.s.timing.heartbeat;
        let mut failing_since: Option<Instant> = None;
        while !self.engine.is_decided() {
            let got = super::lite::next_tick(self.sigs, self.deadline, source, next_describe, next_beat).await;
            match got {
                Tick::Signal(sig) => {
                    self.engine.finish(Outcome::Interrupted(sig), format!("interrupted by {}", sig.name()));
                    return Ok(());
                }
                Tick::OutOfTime => {
                    let state = crate::report::view::format_state(&self.engine.progress());
                    self.engine.finish(
                        Outcome::TimedOut,
                        format!("timed out after {} ({state})", format_elapsed(self.s.timeout)),
                    );
                    return Ok(());
                }
                Tick::Rx(Received::Batch(batch)) => {
                    failing_since = None;
                    let mut handles = Vec::new();
                    for (body, handle) in batch {
                        handles.push(handle);
                        match parse_envelope_str(&body) {
                            Ok(e) => self.feed(Input::Event(e), reporter),
                            Err(e) => reporter.warn(&format!("ignored a queue message: {e}")),
                        }
                    }
                    if !self.engine.is_decided() {
                        source.ack(handles);
                    }
                }
                Tick::Rx(Received::Error(e)) if e.kind == Kind::NotFound => {
                    source.stop_receiving();
                    next_describe = tokio::time::Instant::now();
                    reporter.warn(&format!(
                        "the event queue is gone ({e}); polling DescribeTasks every {}",
                        format_elapsed(self.s.timing.poll_interval)
                    ));
                }
                Tick::Rx(Received::Error(e)) => super::lite::failing(
                    &mut failing_since,
                    self.s.timing.api_error_budget,
                    ("ReceiveMessage", "sqs:ReceiveMessage", e),
                    &self.tasks_go_on(),
                )?,
                Tick::Reconcile => {
                    // Stopped tasks do not change again: only the others are described.
                    let arns = self.engine.running_tasks();
                    let call = aws::ecs::describe_tasks(self.clients, &self.s.request.cluster, &arns);
                    match race(self.sigs, self.deadline, call).await {
                        Raced::Done(Ok(tasks)) => {
                            failing_since = None;
                            for t in tasks {
                                self.feed(Input::Task(t), reporter);
                            }
                        }
                        Raced::Done(Err(e)) => super::lite::failing(
                            &mut failing_since,
                            self.s.timing.api_error_budget,
                            ("DescribeTasks", "ecs:DescribeTasks", e),
                            &self.tasks_go_on(),
                        )?,
                        Raced::Signal(sig) => {
                            self.engine.finish(Outcome::Interrupted(sig), format!("interrupted by {}", sig.name()));
                            return Ok(());
                        }
                        Raced::OutOfTime => continue,
                    }
                    next_describe = tokio::time::Instant::now() + period(source.is_queue());
                }
                Tick::Beat => {
                    let state = crate::report::view::format_state(&self.engine.progress());
                    super::lite::still_waiting(reporter, started.elapsed(), &state);
                    next_beat = tokio::time::Instant::now() + self.s.timing.heartbeat;
                }
            }
        }
        Ok(())
    }
}

/// RunTask's exceptions: a request ECS refuses (no network configuration for awsvpc, an unknown
/// launch type, a platform mismatch) is bad input; a missing permission names iam:PassRole too, which
/// RunTask needs for the task's roles.
fn run_task_error(e: aws::ErrInfo) -> AppError {
    let bad_input = matches!(
        e.code.as_deref(),
        Some(
            "InvalidParameterException"
                | "ClientException"
                | "PlatformTaskDefinitionIncompatibilityException"
                | "PlatformUnknownException"
                | "UnsupportedFeatureException"
                | "ClusterNotFoundException"
        )
    );
    if bad_input {
        return AppError::usage(format!("ECS refused RunTask: {e}"))
            .with_hint("check --cluster, --subnet/--security-group (awsvpc tasks need them, or --service to borrow its own), --launch-type and --container");
    }
    if e.kind == Kind::AccessDenied {
        return AppError::aws(format!("not authorized to call ecs:RunTask: {e}"))
            .with_hint("grant ecs:RunTask on the task definition, and iam:PassRole for its task and execution roles (README: IAM policy)");
    }
    fatal("RunTask", "ecs:RunTask", e)
}

/// The culprit container's last log lines (its awslogs configuration is in the task definition).
async fn diagnose(c: &Clients, td: &TaskDefinitionInfo, engine: &mut OneOff) {
    let Some(culprit) = engine.verdict().and_then(|v| v.culprit) else { return };
    let Some(container) = culprit.container.clone() else { return };
    let Some(cfg) = td.containers.iter().find(|x| x.name == container).and_then(|x| x.awslogs.clone()) else {
        return;
    };
    let tail = aws::logs::tail(c, &cfg, &container, &culprit.task_arn, 20).await;
    engine.diagnosed(tail);
}
