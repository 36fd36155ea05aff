//! `--rollback-on-failure`: which services ecsgate rolls back and how (pure planners, unit-tested),
//! and the one function that executes that plan — start each rollback, then wait for it through the
//! same loop and queue, judged with the `--until` the gate was given, under a fresh `--timeout`. Its
//! outcome goes into the verdict; the exit code stays that of the failure.
//!
//! ecsgate never rolls back what ECS decided or is already rolling back (a circuit breaker, alarms, a
//! hook, a rollback in progress): a second rollback on top of ECS's would fight it.

use std::time::Instant;

use super::drive::Driver;
use super::handler::Handler;
use super::race::Raced;
use super::source::Source;
use super::wait::{AFTER_LOOP_CALL_BUDGET, Gate, Io, Svc, run_loop};
use crate::aws;
use crate::engine::verdict::{Rollback, RollbackBy, RollbackOutcome};
use crate::engine::{Diagnosis, Engine, Input, Outcome, ServiceSnapshot, Target, arn_name};
use crate::exit::Signal;
use crate::report::{Reporter, format_elapsed};

/// Whether ecsgate rolls this service back: our deployment failed by ecsgate's own rule
/// (`--max-task-failures`) or timed out, and ECS neither decided the failure nor is rolling back.
pub fn wants_rollback(e: &Engine) -> bool {
    let Some(v) = e.verdict() else { return false };
    let ours_failed = (v.outcome == Outcome::Failed && e.decided_by_threshold()) || v.outcome == Outcome::TimedOut;
    ours_failed && !e.ecs_rolls_back()
}

/// The units to roll back, in gate order.
pub fn to_roll_back(d: &Driver) -> Vec<usize> {
    d.engines().filter(|(_, e)| wants_rollback(e)).map(|(i, _)| i).collect()
}

/// How a service is rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// StopServiceDeployment(ROLLBACK) of the service's current service deployment: ECS rolls back.
    StopServiceDeployment(String),
    /// UpdateService to the task definition of the deployment ours replaced.
    UpdateService(String),
    /// Nothing known to roll back to.
    Nowhere,
}

impl How {
    /// What the verdict says it rolled back to.
    fn to(&self) -> Option<String> {
        match self {
            // ECS rolls back to the previous revision; the service deployment is what it stops.
            How::StopServiceDeployment(_) | How::Nowhere => None,
            How::UpdateService(td) => Some(td.clone()),
        }
    }

    fn describe(&self) -> String {
        match self {
            How::StopServiceDeployment(a) => format!("StopServiceDeployment ROLLBACK of {a}"),
            How::UpdateService(td) => format!("UpdateService to {td}"),
            How::Nowhere => "no previous revision known".into(),
        }
    }
}

/// How to roll back, from the service as it now is: through its service deployment where ECS names
/// one, otherwise to the revision before ours.
pub fn how(snap: Option<&ServiceSnapshot>, ours: &str) -> How {
    let Some(snap) = snap else { return How::Nowhere };
    if let Some(arn) = &snap.current_service_deployment {
        return How::StopServiceDeployment(arn.clone());
    }
    match previous_task_definition(snap, ours) {
        Some(td) => How::UpdateService(td),
        None => How::Nowhere,
    }
}

/// The task definition of the deployment ours replaced: the newest other one in the snapshot.
fn previous_task_definition(snap: &ServiceSnapshot, ours: &str) -> Option<String> {
    snap.deployments
        .iter()
        .filter(|d| d.id != ours && d.task_definition.is_some())
        .max_by_key(|d| d.created_at_ms.unwrap_or(i64::MIN))
        .and_then(|d| d.task_definition.clone())
}

/// The one place the rollback's Target is built: the service's, with the rollback's deployment —
/// labelled as ecsgate's rollback of ours (never "ours"), and judged with the gate's `--until`.
pub(crate) fn rollback_target(v: &Svc, rollback_id: &str, until: crate::engine::Until) -> Target {
    let mut t = v.target(rollback_id);
    t.rollback_of = Some(v.deployment_id.clone());
    t.until = (until != crate::engine::Until::Completed).then_some(until);
    t
}

/// Executes the plan: for each unit [`to_roll_back`] names, start the rollback [`how`] says, and wait
/// for it. Every call races signals and a budget; a signal abandons the remaining rollbacks.
pub(crate) async fn roll_back(
    g: &mut Gate<'_>,
    svcs: &[Svc],
    snaps: &[ServiceSnapshot],
    driver: &mut Driver,
    source: &mut Source,
    reporter: &mut Reporter,
) {
    for i in to_roll_back(driver) {
        let v = &svcs[i];
        // The service as it is now (its current service deployment may be known only now); the
        // snapshot the gate started from when it cannot be read.
        let clients = g.clients.clone();
        let fresh = match g
            .after_loop(AFTER_LOOP_CALL_BUDGET, aws::ecs::describe_service(&clients, &v.cluster, &v.describe_as))
            .await
        {
            Raced::Done(r) => r.ok().map(|(s, _)| s),
            Raced::Signal(sig) => return abandon_rollbacks(sig, reporter),
            Raced::OutOfTime => None,
        };
        let snap = fresh.as_ref().or_else(|| snaps.iter().find(|x| arn_name(&x.service_arn) == v.name));
        let how = how(snap, &v.deployment_id);
        reporter.info(&format!("ecsgate: rolling back service {} ({})", v.name, how.describe()));
        let start = async {
            match &how {
                How::StopServiceDeployment(arn) => {
                    aws::deploy::stop_service_deployment(&clients, arn).await.map(|()| None)
                }
                How::UpdateService(td) => {
                    aws::deploy::update_service(&clients, &v.cluster, &v.describe_as, Some(td), None, false)
                        .await
                        .map(Some)
                }
                How::Nowhere => Err(aws::ErrInfo::other("the service has no previous deployment to roll back to")),
            }
        };
        let started = match g.after_loop(AFTER_LOOP_CALL_BUDGET, start).await {
            Raced::Done(r) => r,
            Raced::Signal(sig) => return abandon_rollbacks(sig, reporter),
            Raced::OutOfTime => Err(aws::ErrInfo::other(format!(
                "no answer within {} (it may still have started: check the service)",
                format_elapsed(AFTER_LOOP_CALL_BUDGET)
            ))),
        };
        let updated = match started {
            Ok(u) => u,
            Err(err) => {
                reporter.warn(&format!("ROLLBACK FAILED to start for service {}: {err}", v.name));
                let rb = Rollback {
                    by: RollbackBy::Ecsgate,
                    to: how.to(),
                    deployment_id: None,
                    outcome: Some(RollbackOutcome::Failed),
                };
                driver.diagnosed(i, Diagnosis::Rollback(rb), reporter);
                continue;
            }
        };
        let after = match updated {
            Some(u) => Some(u.snapshot),
            None => match g
                .after_loop(AFTER_LOOP_CALL_BUDGET, aws::ecs::describe_service(&clients, &v.cluster, &v.describe_as))
                .await
            {
                Raced::Done(r) => r.ok().map(|(s, _)| s),
                Raced::Signal(sig) => return abandon_rollbacks(sig, reporter),
                Raced::OutOfTime => None,
            },
        };
        let rollback_id =
            after.as_ref().and_then(|s| s.deployments.iter().find(|d| d.status == "PRIMARY")).map(|d| d.id.clone());
        let (deployment_id, outcome) = match (rollback_id, after) {
            (Some(id), Some(snap)) if id != v.deployment_id => {
                let (outcome, reason) = watch_rollback(g, v, &id, snap, source, reporter).await;
                if outcome != RollbackOutcome::Succeeded {
                    reporter.warn(&format!("ROLLBACK of service {} did not complete: {reason}", v.name));
                }
                (Some(id), outcome)
            }
            _ => (None, RollbackOutcome::InProgress),
        };
        // Recorded like any diagnosis: a recording replays to the verdict it had live.
        let rb = Rollback { by: RollbackBy::Ecsgate, to: how.to(), deployment_id, outcome: Some(outcome) };
        driver.diagnosed(i, Diagnosis::Rollback(rb), reporter);
    }
}

/// A signal while a rollback was being started: no more rollbacks; teardown comes next.
fn abandon_rollbacks(sig: Signal, reporter: &mut Reporter) {
    reporter.warn(&format!("{}: not starting (or waiting for) the rollback; check the service", sig.name()));
}

/// Waits for the rollback deployment through the same loop (and the same queue): its own engine,
/// judged with the gate's `--until`, a fresh `--timeout`. Returns its outcome word and reason.
async fn watch_rollback(
    g: &mut Gate<'_>,
    v: &Svc,
    rollback_id: &str,
    snap: ServiceSnapshot,
    source: &mut Source,
    reporter: &mut Reporter,
) -> (RollbackOutcome, String) {
    let mut rb = v.clone();
    rb.deployment_id = rollback_id.to_string();
    let mut driver =
        Driver::new(vec![rollback_target(v, rollback_id, g.s.until)], g.s.max_task_failures).with_until(g.s.until);
    reporter.info(&format!("ecsgate: waiting for rollback deployment {rollback_id} of service {}", v.name));
    driver.feed(Input::Service(snap.clone()), reporter);
    let svcs = [rb];
    let clients = g.clients.clone();
    let mut handler = Handler::new(g.s.timing, g.timeout, false, !source.is_queue(), 1, Instant::now());
    let deadline = tokio::time::Instant::now() + g.timeout;
    let mut io = Io { clients: &clients, svcs: &svcs, sigs: &mut g.sigs, deadline };
    let res = run_loop(&mut io, &mut driver, &mut handler, source, reporter, &[snap], None).await;
    match (res, driver.engine(0).verdict()) {
        (Ok(()), Some(verdict)) => {
            let outcome = match verdict.outcome {
                Outcome::Succeeded => RollbackOutcome::Succeeded,
                Outcome::Failed => RollbackOutcome::Failed,
                Outcome::TimedOut | Outcome::Interrupted(_) => RollbackOutcome::TimedOut,
                _ => RollbackOutcome::InProgress,
            };
            (outcome, verdict.reason.unwrap_or_default())
        }
        (Err(e), _) => (RollbackOutcome::Failed, e.message),
        (Ok(()), None) => (RollbackOutcome::InProgress, String::new()),
    }
}

#[cfg(test)]
mod tests;
