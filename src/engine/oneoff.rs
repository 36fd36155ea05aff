//! One-off tasks (RunTask: migrations, smoke tests) judged the way deploy-kinds/README §3 says they
//! really behave — the engine's subject for `ecsgate run`:
//!
//! - the tasks are ours by the `startedBy` token the gate passed to RunTask (events carry it verbatim),
//!   never by their task definition alone;
//! - events are at-least-once and unordered: the highest `detail.version` wins, then the lifecycle
//!   order — so a task seen PENDING then STOPPED, with no RUNNING between, is judged by its STOPPED
//!   state like any other;
//! - the verdict waits for every launched task to stop; RunTask's own `failures[]` (placement:
//!   `RESOURCE:MEMORY`, `AGENT`, …) are failures at once;
//! - success is every *essential* container exiting 0 (essential flags from the task definition; when
//!   it is unknown every container is held to it, as the GitHub deploy action does);
//! - a task stopped by the infrastructure (Spot, maintenance, a drained host) or by a user failed to do
//!   its job, and the reason says it was not the application.

use std::collections::HashMap;

use super::classify::classify_stop;
use super::diagnose;
use super::hints::{self, StopClass};
use super::snapshot::TaskDefinitionInfo;
use super::verdict::{LaunchFailureOut, LogTail, Outcome, RunOut, RunTaskOut, Verdict};
use super::{Input, Note, Progress, TaskRecord, arn_name};

/// A task RunTask could not place (`failures[]` of its answer).
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchFailure {
    /// The container instance (EC2) it was refused on, when given.
    pub arn: Option<String>,
    /// `RESOURCE:MEMORY`, `AGENT`, `LOCATION`, `ATTRIBUTE`, …
    pub reason: String,
    pub detail: Option<String>,
}

pub struct OneOff {
    cluster: Option<String>,
    /// The `startedBy` token of our RunTask call.
    started_by: String,
    /// How many tasks RunTask was asked for.
    count: usize,
    tasks: HashMap<String, TaskRecord>,
    /// Task ARNs in the order they were first seen.
    order: Vec<String>,
    defs: HashMap<String, TaskDefinitionInfo>,
    launch_failures: Vec<LaunchFailure>,
    /// Ended without every task stopping (timeout, signal).
    finished: Option<(Outcome, String)>,
    /// The task definition run (`family:revision`), as the gate resolved it.
    task_definition: Option<String>,
    /// The service whose network configuration the run borrowed, if one did.
    service: Option<String>,
    /// The culprit container's last log lines, read by the live gate.
    log_tail: Option<LogTail>,
}

/// Why one stopped task did not do its job, or `None` when it did.
fn task_failure(t: &TaskRecord, td: Option<&TaskDefinitionInfo>) -> Option<String> {
    let code = t.stop_code.as_deref();
    let reason = t.stopped_reason.as_deref().unwrap_or("no reason given");
    match classify_stop(code, t.stopped_reason.as_deref()) {
        StopClass::Infrastructure => {
            return Some(format!("interrupted by the infrastructure, not the application: {reason}"));
        }
        _ if code == Some("UserInitiated") => return Some(format!("stopped by a user before it finished: {reason}")),
        _ if code == Some("TaskFailedToStart") => return Some(format!("failed to start: {reason}")),
        _ => {}
    }
    let bad: Vec<String> = match td {
        // Known essential flags: every essential container must exit 0 (deploy-kinds §3.3).
        Some(d) => t
            .containers
            .iter()
            .filter(|c| d.containers.iter().find(|x| x.name == c.name).is_none_or(|x| x.essential))
            .filter(|c| c.exit_code != Some(0))
            .map(diagnose::describe_container)
            .collect(),
        // Unknown: every container is held to it, except one ECS stopped with the task (137/143 and no
        // reason of its own) after another exited 0 — a sidecar's SIGTERM is not the job's failure.
        None => {
            let one_exited_0 = t.containers.iter().any(|c| c.exit_code == Some(0));
            t.containers
                .iter()
                .filter(|c| c.exit_code != Some(0))
                .filter(|c| !(one_exited_0 && c.reason.is_none() && matches!(c.exit_code, Some(137 | 143))))
                .map(diagnose::describe_container)
                .collect()
        }
    };
    (!bad.is_empty()).then(|| format!("essential container {}", bad.join(", ")))
}

impl OneOff {
    pub fn new(cluster: Option<String>, started_by: impl Into<String>, count: usize) -> Self {
        OneOff {
            cluster,
            started_by: started_by.into(),
            count: count.max(1),
            tasks: HashMap::new(),
            order: Vec::new(),
            defs: HashMap::new(),
            launch_failures: Vec::new(),
            finished: None,
            task_definition: None,
            service: None,
            log_tail: None,
        }
    }

    /// What the verdict names: the task definition run and the service it borrowed from, if any.
    pub fn describing(mut self, task_definition: Option<String>, service: Option<String>) -> Self {
        self.task_definition = task_definition.map(|d| arn_name(&d).to_string());
        self.service = service.map(|s| arn_name(&s).to_string());
        self
    }

    /// The culprit's log lines, read once the verdict named it.
    pub fn diagnosed(&mut self, tail: LogTail) {
        self.log_tail = Some(tail);
    }

    /// The task ARNs seen so far (what a reconcile describes).
    pub fn task_arns(&self) -> &[String] {
        &self.order
    }

    /// Whether any task is known not stopped yet (what a timeout leaves running).
    pub fn running_tasks(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|a| self.tasks.get(*a).is_some_and(|t| t.last_status.as_deref() != Some("STOPPED")))
            .cloned()
            .collect()
    }

    /// RunTask's `failures[]`: each is a task that will never run.
    pub fn launch_failed(&mut self, f: Vec<LaunchFailure>) {
        self.launch_failures.extend(f);
    }

    /// Whether a task is one of ours: our `startedBy` token, in our cluster.
    pub fn accepts(&self, t: &TaskRecord) -> bool {
        if t.started_by.as_deref() != Some(self.started_by.as_str()) {
            return false;
        }
        match (&self.cluster, &t.cluster_arn) {
            (Some(want), Some(have)) => arn_name(want) == arn_name(have),
            _ => true,
        }
    }

    pub fn apply(&mut self, input: Input, out: &mut Vec<Note>) {
        let t = match input {
            Input::Event(super::EcsEvent::Task(t)) | Input::Task(t) => t,
            Input::TaskDefinition(d) => {
                self.defs.insert(d.arn.clone(), d);
                return;
            }
            _ => return,
        };
        if !self.accepts(&t) {
            return;
        }
        if self.tasks.get(&t.task_arn).is_some_and(|p| !super::replaces(p, &t)) {
            return;
        }
        // A job's task that did its job stopped benignly, whatever its stop code; one that did not is a
        // failure of the run, counted against how many were run (even when the infrastructure stopped it).
        let def = |x: &TaskRecord| x.task_definition_arn.as_deref().and_then(|a| self.defs.get(a));
        let (class, counted) = if t.last_status.as_deref() != Some("STOPPED") {
            (StopClass::Unknown, None)
        } else if task_failure(&t, def(&t)).is_some() {
            let before =
                self.stopped().filter(|x| x.task_arn != t.task_arn && task_failure(x, def(x)).is_some()).count();
            (
                classify_stop(t.stop_code.as_deref(), t.stopped_reason.as_deref()),
                Some((before as u32 + 1, self.count as u32)),
            )
        } else {
            (StopClass::Benign, None)
        };
        out.push(super::our_task_note(&t, class, counted));
        if !self.tasks.contains_key(&t.task_arn) {
            self.order.push(t.task_arn.clone());
        }
        self.tasks.insert(t.task_arn.clone(), t);
    }

    /// Task definitions the verdict still needs (essential flags of our stopped tasks).
    pub fn missing_task_definitions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .tasks
            .values()
            .filter_map(|t| t.task_definition_arn.clone())
            .filter(|a| !self.defs.contains_key(a))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn stopped(&self) -> impl Iterator<Item = &TaskRecord> {
        self.order.iter().filter_map(|a| self.tasks.get(a)).filter(|t| t.last_status.as_deref() == Some("STOPPED"))
    }

    /// Every task RunTask placed has stopped, or could not be placed.
    pub fn is_decided(&self) -> bool {
        self.finished.is_some()
            || !self.launch_failures.is_empty()
            || (self.stopped().count() + self.launch_failures.len() >= self.count)
    }

    /// Ends the wait before every task stopped (timeout, signal, end of a replay).
    pub fn finish(&mut self, outcome: Outcome, reason: String) {
        if !self.is_decided() {
            self.finished = Some((outcome, reason));
        }
    }

    pub fn progress(&self) -> Progress {
        let running = self.tasks.values().filter(|t| t.last_status.as_deref() == Some("RUNNING")).count() as i64;
        let stopped = self.stopped().count() as i64;
        Progress {
            rollout_state: Some(format!("{stopped}/{} stopped", self.count)),
            running,
            pending: self.tasks.len() as i64 - running - stopped,
            desired: Some(self.count as i64),
            failed_tasks: 0,
            max_task_failures: 0,
        }
    }

    pub fn verdict(&self) -> Option<Verdict> {
        if !self.is_decided() {
            return None;
        }
        let mut v = Verdict::error(crate::exit::ErrorKind::Usage, "", None);
        v.cluster = self.cluster.as_deref().map(|c| arn_name(c).to_string());
        v.deployment_id = Some(self.started_by.clone());
        v.service = self.service.clone();
        let task_definition = self.task_definition.clone().or_else(|| {
            self.order
                .first()
                .and_then(|a| self.tasks.get(a))
                .and_then(|t| t.task_definition_arn.as_deref())
                .map(|d| arn_name(d).to_string())
        });
        v.progress = self.progress();
        v.log_tail = self.log_tail.clone();
        v.run = Some(RunOut {
            task_definition,
            started_by: self.started_by.clone(),
            count: self.count,
            tasks: self
                .order
                .iter()
                .filter_map(|a| self.tasks.get(a))
                .map(|t| {
                    let td = t.task_definition_arn.as_deref().and_then(|a| self.defs.get(a));
                    RunTaskOut {
                        task_arn: t.task_arn.clone(),
                        last_status: t.last_status.clone().unwrap_or_else(|| "?".into()),
                        stop_code: t.stop_code.clone(),
                        stopped_reason: t.stopped_reason.clone(),
                        containers: diagnose::failed_task(t, td).containers,
                    }
                })
                .collect(),
            launch_failures: self
                .launch_failures
                .iter()
                .map(|f| LaunchFailureOut { reason: f.reason.clone(), detail: f.detail.clone(), arn: f.arn.clone() })
                .collect(),
        });
        let failed: Vec<(&TaskRecord, String)> = self
            .stopped()
            .filter_map(|t| {
                task_failure(t, t.task_definition_arn.as_deref().and_then(|a| self.defs.get(a))).map(|why| (t, why))
            })
            .collect();
        let (outcome, reason) = if let Some(first) = self.launch_failures.first() {
            let reasons: Vec<&str> = self.launch_failures.iter().map(|f| f.reason.as_str()).collect();
            v.hint = hints::match_text(&first.reason)
                .or_else(|| hints::match_text(&format!("TaskFailedToStart: {}", first.reason)))
                .map(hints::render);
            (
                Outcome::Failed,
                format!(
                    "RunTask could not place {} of {} task(s): {}",
                    self.launch_failures.len(),
                    self.count,
                    reasons.join(", ")
                ),
            )
        } else if let Some((t, why)) = failed.first() {
            let td = t.task_definition_arn.as_deref().and_then(|a| self.defs.get(a));
            v.culprit = diagnose::culprit(t, td);
            v.hint = diagnose::hint_for(t, v.culprit.as_ref());
            (
                Outcome::Failed,
                format!("{} of {} task(s) failed; task {}: {why}", failed.len(), self.count, t.short_id()),
            )
        } else if let Some((o, r)) = &self.finished {
            // ecsgate never stops a job it stopped waiting for (a migration cut short is worse than
            // one left to finish): it says what goes on and how to stop it.
            let running = self.running_tasks();
            if !running.is_empty() {
                let cluster = self.cluster.as_deref().map(arn_name).unwrap_or("default");
                let ids: Vec<&str> = running.iter().map(|a| super::event::short_task_id(a)).collect();
                v.hint = Some(match ids.as_slice() {
                    [one] => format!(
                        "the task is still running; ecsgate does not stop it. To stop it: aws ecs stop-task --cluster {cluster} --task {one}"
                    ),
                    many => format!(
                        "{} tasks are still running; ecsgate does not stop them. To stop one: aws ecs stop-task --cluster {cluster} --task ID (IDs: {})",
                        many.len(),
                        many.join(", ")
                    ),
                });
            }
            (*o, r.clone())
        } else {
            (Outcome::Succeeded, format!("{} task(s) ran and every essential container exited 0", self.count))
        };
        v.failed_tasks = failed
            .iter()
            .map(|(t, _)| diagnose::failed_task(t, t.task_definition_arn.as_deref().and_then(|a| self.defs.get(a))))
            .collect();
        v.outcome = outcome;
        v.exit_code = outcome.exit_code();
        v.reason = Some(reason);
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::parse_envelope;
    use serde_json::{Value, json};

    const TOKEN: &str = "ecsgate/run/EXAMPLE";

    fn fixture(path: &str) -> Value {
        let p = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    /// A real task event sample, made one of ours: our token, one ARN, a version.
    fn ours(path: &str, id: &str, version: i64) -> Input {
        let mut v = fixture(path);
        v["detail"]["startedBy"] = json!(TOKEN);
        v["detail"]["taskArn"] = json!(format!("arn:aws:ecs:us-east-1:111122223333:task/prod/{id}"));
        v["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:111122223333:cluster/prod");
        v["detail"]["version"] = json!(version);
        match parse_envelope(&v).unwrap() {
            e @ crate::engine::EcsEvent::Task(_) => Input::Event(e),
            other => panic!("{other:?}"),
        }
    }

    fn run(inputs: Vec<Input>, count: usize) -> OneOff {
        let mut o = OneOff::new(Some("prod".into()), TOKEN, count);
        let mut out = Vec::new();
        for i in inputs {
            o.apply(i, &mut out);
        }
        o
    }

    #[test]
    fn a_task_whose_essential_containers_exit_0_succeeds() {
        let o = run(vec![ours("events/task__stopped-essential-exit0-success-defra.json", "a1", 5)], 1);
        let v = o.verdict().unwrap();
        assert_eq!((v.outcome, v.exit_code), (Outcome::Succeeded, 0), "{v:?}");
    }

    #[test]
    fn with_the_task_definition_only_essential_containers_decide() {
        let sample = "events/task__stopped-essential-exit0-success-defra.json";
        let td_arn = fixture(sample)["detail"]["taskDefinitionArn"].as_str().unwrap().to_string();
        let def = |essential: &[&str]| {
            let names = [
                "forms-perf-test-forwarder",
                "forms-perf-test-timeout",
                "forms-perf-test",
                "forms-perf-test-sidecar",
                "forms-perf-test_log_router",
            ];
            Input::TaskDefinition(TaskDefinitionInfo {
                arn: td_arn.clone(),
                containers: names
                    .iter()
                    .map(|n| crate::engine::snapshot::ContainerDefinitionInfo {
                        name: n.to_string(),
                        essential: essential.contains(n),
                        awslogs: None,
                    })
                    .collect(),
            })
        };
        // The job's container exited 0; the 143s are non-essential sidecars stopped with the task.
        let o = run(vec![def(&["forms-perf-test"]), ours(sample, "a1", 5)], 1);
        assert_eq!(o.verdict().unwrap().outcome, Outcome::Succeeded);
        // An essential container that did not exit 0 fails the job, whatever the others did.
        let o = run(vec![def(&["forms-perf-test", "forms-perf-test-timeout"]), ours(sample, "a1", 5)], 1);
        let v = o.verdict().unwrap();
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.unwrap().contains("forms-perf-test-timeout exit 143"));
    }

    #[test]
    fn a_migration_exiting_1_fails_naming_the_container_and_its_exit_code() {
        let o = run(vec![ours("events/task__stopped-essential-exit1-defra.json", "a1", 5)], 1);
        let v = o.verdict().unwrap();
        assert_eq!((v.outcome, v.exit_code), (Outcome::Failed, 1));
        let c = v.culprit.unwrap();
        assert_eq!(c.exit_code, Some(1), "{c:?}");
        assert!(v.reason.unwrap().contains("1 of 1 task(s) failed"));
    }

    #[test]
    fn pending_then_stopped_without_running_is_judged_by_the_stopped_event() {
        // deploy-kinds: the composed PENDING → STOPPED (TaskFailedToStart) sample, events out of order.
        let mut pending =
            fixture("deploy-kinds/composed__task_event__standalone-pending-to-stopped-taskfailedtostart.json");
        pending["detail"]["lastStatus"] = json!("PENDING");
        pending["detail"]["version"] = json!(1);
        for k in ["stopCode", "stoppedReason", "stoppedAt", "stoppingAt"] {
            pending["detail"].as_object_mut().unwrap().remove(k);
        }
        let stopped =
            fixture("deploy-kinds/composed__task_event__standalone-pending-to-stopped-taskfailedtostart.json");
        let ev = |v: &Value| Input::Event(parse_envelope(v).unwrap());
        let o = run(vec![ev(&stopped), ev(&pending)], 1);
        let v = o.verdict().unwrap();
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.as_deref().unwrap().contains("failed to start: CannotPullContainerError"), "{v:?}");
        assert_eq!(v.culprit.unwrap().container.as_deref(), Some("migrate"));
        assert!(v.hint.is_some(), "a pull failure has a hint");
    }

    #[test]
    fn a_placement_failure_of_run_task_fails_at_once_with_its_reason() {
        let r = fixture("deploy-kinds/composed__run_task_response__placement-failure.json");
        let mut o = OneOff::new(Some("prod".into()), TOKEN, 1);
        o.launch_failed(
            r["failures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| LaunchFailure {
                    arn: f["arn"].as_str().map(str::to_string),
                    reason: f["reason"].as_str().unwrap().to_string(),
                    detail: None,
                })
                .collect(),
        );
        let v = o.verdict().unwrap();
        assert_eq!(v.outcome, Outcome::Failed);
        assert_eq!(v.reason.as_deref(), Some("RunTask could not place 1 of 1 task(s): RESOURCE:MEMORY"));
    }

    #[test]
    fn a_spot_interrupted_task_failed_its_job_but_not_by_the_application() {
        let mut v = fixture("events/task__stopped-essential-exit1-defra.json");
        v["detail"]["stopCode"] = json!("SpotInterruption");
        v["detail"]["stoppedReason"] = json!("Your Spot Task was interrupted.");
        v["detail"]["startedBy"] = json!(TOKEN);
        v["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:111122223333:cluster/prod");
        let o = run(vec![Input::Event(parse_envelope(&v).unwrap())], 1);
        let verdict = o.verdict().unwrap();
        assert_eq!(verdict.outcome, Outcome::Failed);
        assert!(verdict.reason.unwrap().contains("interrupted by the infrastructure, not the application"));
    }

    #[test]
    fn the_verdict_waits_for_every_task_and_ignores_other_tasks() {
        let mut other = fixture("events/task__stopped-essential-exit1-defra.json");
        other["detail"]["startedBy"] = json!("someone-else");
        let o = run(
            vec![
                Input::Event(parse_envelope(&other).unwrap()),
                ours("events/task__stopped-essential-exit0-success-defra.json", "a1", 5),
            ],
            2,
        );
        assert!(o.verdict().is_none(), "one of two tasks stopped");
        let mut o = o;
        o.finish(Outcome::TimedOut, "timed out".into());
        assert_eq!(o.verdict().unwrap().outcome, Outcome::TimedOut);
    }

    #[test]
    fn a_timeout_leaves_the_running_task_alone_and_says_how_to_stop_it() {
        let mut running = fixture("events/task__stopped-essential-exit0-success-defra.json");
        running["detail"]["lastStatus"] = json!("RUNNING");
        for k in ["stopCode", "stoppedReason", "stoppedAt"] {
            running["detail"].as_object_mut().unwrap().remove(k);
        }
        running["detail"]["startedBy"] = json!(TOKEN);
        running["detail"]["taskArn"] = json!("arn:aws:ecs:us-east-1:111122223333:task/prod/a1");
        running["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:111122223333:cluster/prod");
        let mut o = run(vec![Input::Event(parse_envelope(&running).unwrap())], 1);
        assert!(o.verdict().is_none(), "a running task decides nothing");
        o.finish(Outcome::TimedOut, "timed out after 30m".into());
        let v = o.verdict().unwrap();
        assert_eq!((v.outcome, v.exit_code), (Outcome::TimedOut, 3));
        assert_eq!(
            v.hint.as_deref(),
            Some(
                "the task is still running; ecsgate does not stop it. To stop it: aws ecs stop-task --cluster prod --task a1"
            )
        );
        assert_eq!(v.run.unwrap().tasks[0].last_status, "RUNNING");
    }

    #[test]
    fn the_timeline_calls_a_job_that_exited_0_benign_and_a_failed_one_a_failure_of_the_run() {
        let mut o = OneOff::new(Some("prod".into()), TOKEN, 2);
        let mut notes = Vec::new();
        o.apply(ours("events/task__stopped-essential-exit0-success-defra.json", "a1", 5), &mut notes);
        o.apply(ours("events/task__stopped-essential-exit1-defra.json", "a2", 5), &mut notes);
        let stops: Vec<(StopClass, Option<(u32, u32)>)> = notes
            .iter()
            .filter_map(|n| match n {
                Note::Task { stop: Some(s), .. } => Some((s.class, s.counted)),
                _ => None,
            })
            .collect();
        // The success sample's sidecars exited 143 with no definition known: still the job's success.
        assert_eq!(stops, vec![(StopClass::Benign, None), (StopClass::Failure, Some((1, 2)))]);
        let v = o.verdict().unwrap();
        assert_eq!(v.outcome, Outcome::Failed);
        assert_eq!(v.run.unwrap().tasks.len(), 2);
    }
}
