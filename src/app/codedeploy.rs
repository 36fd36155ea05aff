//! `ecsgate wait` on a CODE_DEPLOY service (deploy-kinds/README §1.11): find its CodeDeploy deployment,
//! subscribe to CodeDeploy's deployment events of its application and group and to the service's task
//! events, then fold them and a reconcile (GetDeployment, GetDeploymentTarget, DescribeServices for the
//! task sets) into [`CodeDeployGate`]; the diagnosis (the culprit's and the hook's logs, the rollback's
//! outcome) and the report run beside the teardown, as in every gate.

use std::time::{Duration, Instant};

use super::lite::{DIAGNOSIS_BUDGET, Tick, conclude, failing, next_tick};

/// When AWS kept failing: CodeDeploy's deployment is not ours to stop.
const GOES_ON: &str = "the CodeDeploy deployment goes on; wait for it again with `ecsgate wait`";
use super::race::{Raced, race};
use super::source::{Received, Source};
use super::wait::{Gate, Svc, subscribe_with};
use crate::aws::{self, Clients, Kind, fatal};
use crate::engine::codedeploy::{CdInput, CodeDeployGate, parse_event};
use crate::engine::event::parse_envelope_str;
use crate::engine::{EcsEvent, Outcome, ServiceSnapshot};
use crate::error::AppError;
use crate::report::{Reporter, Who, format_elapsed};

/// What `--timeout auto` adds to the deployment group's own waits (ready wait, blue termination).
const AUTO_SLACK: Duration = Duration::from_secs(30 * 60);

pub(crate) async fn gate(
    mut g: Gate<'_>,
    svc: &Svc,
    snap: &ServiceSnapshot,
    reporter: &mut Reporter,
) -> Result<u8, AppError> {
    let s = g.s;
    let clients = g.clients.clone();
    // What the CodeDeploy gate does not do (yet): said, not silently dropped.
    for (set, flag) in [
        (s.rollback_on_failure, "--rollback-on-failure (CodeDeploy rolls back by its own configuration)"),
        (s.record.is_some(), "--record"),
        (s.github_deployment.is_some(), "--github-deployment"),
        (s.detach.is_some(), "--detach-at"),
    ] {
        if set {
            reporter.warn(&format!("{flag} is not supported for CODE_DEPLOY services; ignored"));
        }
    }
    let id = match s.deployment_id.as_deref().filter(|d| d.starts_with("d-")) {
        Some(d) => d.to_string(),
        None => {
            let find = async {
                aws::codedeploy::find(&clients, &svc.cluster, &svc.name, &snap.task_sets)
                    .await
                    .map_err(|e| fatal("ListDeployments", "codedeploy:ListDeployments", e))
            };
            g.before_setup("finding the CodeDeploy deployment", find).await?.ok_or_else(|| {
                AppError::usage(format!(
                    "no CodeDeploy deployment found for service {} (no task set names one, and application AppECS-{}-{} has none in flight)",
                    svc.name, svc.cluster, svc.name
                ))
                .with_hint("pass --deployment-id d-… (the id create-deployment printed)")
            })?
        }
    };
    let read = async {
        aws::codedeploy::get_deployment(&clients, &id).await.map_err(|e| match e.code.as_deref() {
            Some("DeploymentDoesNotExistException" | "InvalidDeploymentIdException") => {
                AppError::usage(format!("CodeDeploy deployment {id} not found ({e})"))
                    .with_hint("check --deployment-id and --region")
            }
            _ => fatal("GetDeployment", "codedeploy:GetDeployment", e),
        })
    };
    let first = g.before_setup("reading the CodeDeploy deployment", read).await?;
    let (app, group) = (first.application.clone().unwrap_or_default(), first.group.clone().unwrap_or_default());
    let source = Source::polling(&clients);
    judge(g, svc, snap, first, source, Some((app, group)), reporter).await
}

/// The gate on CodeDeploy deployment `first` (as GetDeployment read it): subscribes unless `source` is a
/// subscription already (`deploy` subscribed before CreateDeployment) or the deployment is decided
/// already, then the loop, the diagnosis and the report beside the teardown.
pub(crate) async fn judge(
    mut g: Gate<'_>,
    svc: &Svc,
    snap: &ServiceSnapshot,
    first: crate::engine::codedeploy::CdDeployment,
    mut source: Source,
    subscribe_to: Option<(String, String)>,
    reporter: &mut Reporter,
) -> Result<u8, AppError> {
    let s = g.s;
    let clients = g.clients.clone();
    let id = first.deployment_id.clone();
    if s.timeout_auto {
        let own = Duration::from_secs(60 * first.configured_wait_minutes.unwrap_or(0).max(0) as u64);
        g.timeout = own + AUTO_SLACK;
        g.deadline = tokio::time::Instant::now() + g.timeout;
        reporter.info(&format!(
            "ecsgate: --timeout auto: {} (the deployment group's ready and termination waits + 30m)",
            format_elapsed(g.timeout)
        ));
    }
    let green = snap.task_sets.iter().find(|t| t.external_id.as_deref() == Some(id.as_str()));
    let mut engine = CodeDeployGate::new(&svc.cluster, &svc.name, &id, s.max_task_failures, s.until);
    if let Some(t) = green {
        engine = engine.with_green(t.id.clone(), t.task_definition.clone());
    }
    let who = Who { index: 0, service: Some(svc.name.clone()), cluster: Some(svc.cluster.clone()) };
    reporter.begin(std::slice::from_ref(&who));
    reporter.info(&format!(
        "ecsgate: waiting for CodeDeploy deployment {id} of service {} (cluster {}), timeout {}",
        svc.name,
        svc.cluster,
        format_elapsed(g.timeout)
    ));
    let mut lp = Loop { who, engine, clients: &clients, svc, started: Instant::now() };
    // The target (and a failure's lifecycle event) before subscribing: raced, as every call that may
    // stall (a signal or the deadline then ends the gate before anything is created), and guarded like
    // the loop — `deploy` comes here already subscribed, and a bug must not skip the teardown.
    let mut cut = None;
    let mut result = super::lite::guarded("reading the CodeDeploy deployment", async {
        lp.feed(CdInput::Deployment(first), reporter);
        cut = match race(&mut g.sigs, g.deadline, lp.reconcile(reporter)).await {
            Raced::Done(_) => None,
            Raced::Signal(sig) => Some(super::handler::LoopEvent::Signal(sig)),
            Raced::OutOfTime => Some(super::handler::LoopEvent::Deadline),
        };
        Ok(())
    })
    .await;
    if result.is_ok() {
        if let Some((app, group)) = subscribe_to.filter(|_| cut.is_none() && !s.poll && !lp.engine.is_decided()) {
            let mut w = svc.watched();
            w.deployment_id = id.clone();
            let plan = aws::subscription::plan_codedeploy(&w, &app, &group);
            let periods = (s.timing.wait_seconds, s.timing.poll_interval);
            cut = subscribe_with(&mut g.sigs, g.deadline, &clients, periods, &mut source, &plan, reporter).await?;
        }
        result = match cut {
            Some(super::handler::LoopEvent::Signal(sig)) => {
                lp.engine.finish(Outcome::Interrupted(sig), format!("interrupted by {}", sig.name()));
                Ok(())
            }
            Some(_) => {
                lp.engine.finish(Outcome::TimedOut, format!("timed out after {}", format_elapsed(g.timeout)));
                Ok(())
            }
            None => {
                super::lite::guarded("waiting for the CodeDeploy deployment", lp.wait(&mut g, &mut source, reporter))
                    .await
            }
        };
    }
    let verdict = async |r: &mut Reporter| {
        let (tail, hook) = tokio::time::timeout(DIAGNOSIS_BUDGET, lp.diagnose(r)).await.unwrap_or((None, None));
        lp.engine.verdict(tail, hook)
    };
    conclude(&mut g.sigs, &mut source, result, verdict, reporter).await
}

struct Loop<'a> {
    who: Who,
    engine: CodeDeployGate,
    clients: &'a Clients,
    svc: &'a Svc,
    started: Instant,
}

impl Loop<'_> {
    fn feed(&mut self, input: CdInput, reporter: &mut Reporter) {
        let mut notes = Vec::new();
        self.engine.apply(input, &mut notes);
        super::lite::tell(reporter, &self.who, &notes, || self.engine.progress());
    }

    /// GetDeployment (ours, and CodeDeploy's rollback once named), the service's deployment target,
    /// and the task sets (the green set appears once CodeDeploy installs it).
    async fn reconcile(&mut self, reporter: &mut Reporter) -> Result<(), (&'static str, &'static str, aws::ErrInfo)> {
        let c = self.clients;
        let id = self.engine.deployment_id().to_string();
        // The target first: a failure read from the deployment then names its lifecycle event.
        let target = aws::codedeploy::get_target(c, &id, &self.svc.cluster, &self.svc.name)
            .await
            .map_err(|e| ("GetDeploymentTarget", "codedeploy:GetDeploymentTarget", e))?;
        if let Some(t) = target {
            self.feed(CdInput::Target(t), reporter);
        }
        let d = aws::codedeploy::get_deployment(c, &id)
            .await
            .map_err(|e| ("GetDeployment", "codedeploy:GetDeployment", e))?;
        self.feed(CdInput::Deployment(d), reporter);
        if let Some(rb) = self.engine.rollback_id().map(str::to_string)
            && let Ok(d) = aws::codedeploy::get_deployment(c, &rb).await
        {
            self.feed(CdInput::Deployment(d), reporter);
        }
        // Only until the green task set is known: CodeDeploy creates it once, at Install.
        if !self.engine.has_green()
            && let Ok((snap, _)) = aws::ecs::describe_service(c, &self.svc.cluster, &self.svc.describe_as).await
            && let Some(t) = snap.task_sets.iter().find(|t| t.external_id.as_deref() == Some(id.as_str()))
        {
            self.feed(CdInput::Green(t.id.clone(), t.task_definition.clone()), reporter);
        }
        Ok(())
    }

    async fn wait(&mut self, g: &mut Gate<'_>, source: &mut Source, reporter: &mut Reporter) -> Result<(), AppError> {
        let s = g.s;
        let period = |queue: bool| if queue { s.timing.reconcile_interval } else { s.timing.poll_interval };
        let mut next = tokio::time::Instant::now() + period(source.is_queue());
        let mut beat = tokio::time::Instant::now() + s.timing.heartbeat;
        let mut failing_since: Option<Instant> = None;
        while !self.engine.is_decided() {
            let got = next_tick(&mut g.sigs, g.deadline, source, next, beat).await;
            match got {
                Tick::Signal(sig) => {
                    self.engine.finish(Outcome::Interrupted(sig), format!("interrupted by {}", sig.name()));
                    return Ok(());
                }
                Tick::OutOfTime => {
                    let state = crate::report::view::format_state(&self.engine.progress());
                    self.engine
                        .finish(Outcome::TimedOut, format!("timed out after {} ({state})", format_elapsed(g.timeout)));
                    return Ok(());
                }
                Tick::Rx(Received::Batch(batch)) => {
                    failing_since = None;
                    let mut handles = Vec::new();
                    for (body, handle) in batch {
                        handles.push(handle);
                        if let Some(e) = parse_event(&body) {
                            // The event says the state, not why: read the API now.
                            next = tokio::time::Instant::now();
                            self.feed(CdInput::Event(e), reporter);
                        } else if let Ok(EcsEvent::Task(t)) = parse_envelope_str(&body) {
                            self.feed(CdInput::Task(t), reporter);
                        }
                    }
                    if !self.engine.is_decided() {
                        source.ack(handles);
                    }
                }
                Tick::Rx(Received::Error(e)) if e.kind == Kind::NotFound => {
                    source.stop_receiving();
                    next = tokio::time::Instant::now();
                    reporter.warn(&format!(
                        "the event queue is gone ({e}); polling CodeDeploy every {}",
                        format_elapsed(s.timing.poll_interval)
                    ));
                }
                Tick::Rx(Received::Error(e)) => failing(
                    &mut failing_since,
                    s.timing.api_error_budget,
                    ("ReceiveMessage", "sqs:ReceiveMessage", e),
                    GOES_ON,
                )?,
                Tick::Reconcile => {
                    match race(&mut g.sigs, g.deadline, self.reconcile(reporter)).await {
                        Raced::Done(Ok(())) => failing_since = None,
                        Raced::Done(Err(f)) => failing(&mut failing_since, s.timing.api_error_budget, f, GOES_ON)?,
                        Raced::Signal(sig) => {
                            self.engine.finish(Outcome::Interrupted(sig), format!("interrupted by {}", sig.name()));
                            return Ok(());
                        }
                        Raced::OutOfTime => continue,
                    }
                    next = tokio::time::Instant::now() + period(source.is_queue());
                }
                Tick::Beat => {
                    let state = crate::report::view::format_state(&self.engine.progress());
                    super::lite::still_waiting(reporter, self.started.elapsed(), &state);
                    beat = tokio::time::Instant::now() + s.timing.heartbeat;
                }
            }
        }
        Ok(())
    }

    /// What explains the verdict: the green tasks' definitions and the culprit's log lines, the failed
    /// hook function's logs when its diagnostics carry none, and the rollback's latest state.
    async fn diagnose(
        &mut self,
        reporter: &mut Reporter,
    ) -> (Option<crate::engine::verdict::LogTail>, Option<crate::engine::verdict::LogTail>) {
        let c = self.clients;
        if let Some(rb) = self.engine.rollback_id().map(str::to_string)
            && let Ok(d) = aws::codedeploy::get_deployment(c, &rb).await
        {
            self.feed(CdInput::Deployment(d), reporter);
        }
        for arn in self.engine.missing_task_definitions() {
            if let Ok(td) = aws::ecs::describe_task_definition(c, &arn).await {
                self.engine.apply(CdInput::TaskDefinition(td), &mut Vec::new());
            }
        }
        let tail = match self.engine.verdict(None, None) {
            Some(v) => {
                let read = (|| {
                    let culprit = v.culprit.as_ref()?;
                    let container = culprit.container.clone()?;
                    let td = v.failed_tasks.first()?.task_definition.clone()?;
                    let cfg = self
                        .engine
                        .task_definition(&td)?
                        .containers
                        .iter()
                        .find(|x| x.name == container)?
                        .awslogs
                        .clone()?;
                    Some((cfg, container, culprit.task_arn.clone()))
                })();
                match read {
                    Some((cfg, container, task)) => Some(aws::logs::tail(c, &cfg, &container, &task, 20).await),
                    None => None,
                }
            }
            None => None,
        };
        let hook = match self.engine.hook_function() {
            Some(f) => Some(aws::logs::lambda_tail(c, crate::engine::diagnose::lambda_function_name(&f), 20).await),
            None => None,
        };
        (tail, hook)
    }
}
