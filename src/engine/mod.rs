//! The pure engine: ECS events and API snapshots in, deployment state, timeline notes and a verdict out.
//!
//! Architecture invariant: nothing here imports tokio or an AWS SDK crate, and nothing here prints.
//! `replay` and the live `wait` feed the very same [`Engine`], so a recorded deployment replays to the
//! verdict it had live.
//!
//! The rules (../shared/ecs-events/SEMANTICS.md §a–d) in one place:
//! - success: only SERVICE_DEPLOYMENT_COMPLETED or rolloutState COMPLETED of *our* deployment id;
//! - failure: SERVICE_DEPLOYMENT_FAILED / rolloutState FAILED of our id; a rollback (an IN_PROGRESS whose
//!   reason says "rolling back to deploymentId", our deployment replaced by an older one) even when the
//!   FAILED event never came; or `max_task_failures` failed tasks started by our deployment;
//! - superseded: a newer deployment that is not a rollback replaced ours;
//! - monotonic: the first decision is final; later inputs only add to the timeline and the diagnosis.

mod alarms;
pub mod classify;
pub mod codedeploy;
mod deployments;
pub mod diagnose;
pub mod event;
mod express;
pub mod hints;
pub mod infer;
mod modern;
pub mod oneoff;
mod service;
pub mod snapshot;
mod tasks;
pub mod time;
pub mod verdict;

use serde::Serialize;

pub use event::{EcsEvent, TaskRecord};
pub use hints::StopClass;
pub use modern::Pace;
pub use snapshot::{DeploymentSnapshot, ServiceSnapshot, TaskDefinitionInfo};
pub use verdict::{Outcome, Verdict};

use classify::classify_stop;
use event::{DeploymentEvent, ServiceActionEvent};
use time::format_rfc3339_millis;

/// Where "deployed" is (`--until`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Until {
    /// SERVICE_DEPLOYMENT_COMPLETED / rolloutState COMPLETED / service deployment SUCCESSFUL: bake time
    /// and clean-up included.
    #[default]
    Completed,
    /// Production traffic is fully on the new revision: success when our service deployment reaches
    /// BAKE_TIME (or CLEAN_UP). Deployments without lifecycle stages (ROLLING) wait for completion.
    TrafficShifted,
    /// Completed, and every task of the older deployments has stopped.
    Drained,
}

/// Where `--detach-at` stops waiting without a verdict (the deployment goes on; `ecsgate resume` picks
/// the gate up): once production traffic is on ours, or at a lifecycle hook awaiting action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetachAt {
    TrafficShifted,
    Paused,
}

/// Which deployment of which service we judge. Names or ARNs are both accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Target {
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub deployment_id: Option<String>,
    /// Where "deployed" is, when not `completed`: part of what is judged, so a recording replays to the
    /// verdict it had live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Until>,
    /// Set when `deployment_id` is the rollback ecsgate started: the deployment it rolls back (still
    /// "ours" in the timeline), so the rollback is labelled as ecsgate's and never as ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
}

/// One input to the engine.
#[derive(Debug, Clone)]
pub enum Input {
    Event(EcsEvent),
    /// A DescribeServices result.
    Service(ServiceSnapshot),
    /// A DescribeTasks result: same rules as a task event.
    Task(TaskRecord),
    /// Essential flags and log settings, for the diagnosis.
    TaskDefinition(TaskDefinitionInfo),
    /// A target group's health check and targets, for tasks the load balancer failed.
    TargetHealth(snapshot::TargetHealthInfo),
    /// A DescribeServiceDeployments answer.
    ServiceDeployment(snapshot::ServiceDeploymentSnapshot),
}

/// What the live gate reads after a verdict to explain it (logs, alarms). Not an [`Input`]: it belongs
/// to one service by position, not by what it says, and never changes a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Diagnosis {
    /// The culprit container's last log lines.
    LogTail(verdict::LogTail),
    /// A failed Lambda hook's last log lines.
    HookLog(verdict::LogTail),
    /// The triggered alarms' states and reasons.
    Alarms(Vec<verdict::AlarmState>),
    /// The rollback ecsgate performed after the verdict (`--rollback-on-failure`) and how it ended:
    /// recorded like any diagnosis, so a recording replays to the verdict it had live.
    Rollback(verdict::Rollback),
    /// What ECS Express Mode manages for our revision: endpoint, alarms, log groups.
    Managed(snapshot::ManagedResources),
}

/// Where a note came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Event,
    Api,
}

/// Whose deployment or task a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The deployment the gate judges, and its tasks.
    Ours,
    /// ECS's own rollback of ours (circuit breaker, alarms, a failed hook). `rollback` in JSON, as
    /// before ecsgate's own rollback had a role of its own.
    #[serde(rename = "rollback")]
    EcsRollback,
    /// The rollback ecsgate started (`--rollback-on-failure`).
    EcsgateRollback,
    /// CodeDeploy's rollback deployment of ours (a CODE_DEPLOY service). `rollback` in JSON too.
    #[serde(rename = "rollback")]
    CodeDeployRollback,
    /// Any other deployment of the service.
    Other,
}

/// A line of the timeline: what the reporters show and what `--output json` streams.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Note {
    Deployment {
        #[serde(serialize_with = "ser_ts")]
        at: Option<i64>,
        deployment_id: String,
        state: String,
        reason: Option<String>,
        role: Role,
        source: Source,
        /// The lifecycle stage of a service deployment (the ServiceDeployment API), when the note is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
    },
    Task {
        #[serde(serialize_with = "ser_ts")]
        at: Option<i64>,
        task_id: String,
        task_arn: String,
        started_by: Option<String>,
        role: Role,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        stop: Option<StopNote>,
    },
    Warning {
        #[serde(serialize_with = "ser_ts")]
        at: Option<i64>,
        event_name: String,
        reason: Option<String>,
        hint: Option<String>,
    },
    Service {
        #[serde(serialize_with = "ser_ts")]
        at: Option<i64>,
        event_name: String,
    },
    /// A lifecycle hook of a service deployment changed state.
    Hook {
        #[serde(serialize_with = "ser_ts")]
        at: Option<i64>,
        event_name: String,
        hook_id: Option<String>,
        hook_type: Option<String>,
        lifecycle_stage: Option<String>,
        expires_at: Option<String>,
        service_deployment_arn: Option<String>,
        role: Role,
    },
    /// A message of the service's own event log (DescribeServices), since our deployment began.
    ServiceEvent {
        #[serde(serialize_with = "ser_ts")]
        at: Option<i64>,
        message: String,
    },
    Counts {
        running: i64,
        pending: i64,
        desired: i64,
        failed_tasks: i64,
    },
    Decision {
        outcome: Outcome,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StopNote {
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub class: StopClass,
    /// For a failure of our deployment: how many have failed so far, and the threshold.
    pub counted: Option<(u32, u32)>,
    /// `name exit N (reason)` of the containers that exited abnormally.
    pub containers: Vec<String>,
}

impl StopNote {
    /// A stopped task's stop, as every subject's timeline tells it: its code and reason, how it counts,
    /// and the containers that exited abnormally (non-zero, or with a reason of their own).
    pub(crate) fn of(t: &TaskRecord, class: StopClass, counted: Option<(u32, u32)>) -> StopNote {
        StopNote {
            stop_code: t.stop_code.clone(),
            stopped_reason: t.stopped_reason.clone(),
            class,
            counted,
            containers: t
                .containers
                .iter()
                .filter(|c| c.exit_code.is_some_and(|x| x != 0) || c.reason.is_some())
                .map(diagnose::describe_container)
                .collect(),
        }
    }
}

fn ser_ts<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(ms) => s.serialize_str(&format_rfc3339_millis(*ms)),
        None => s.serialize_none(),
    }
}

/// What the progress display needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub rollout_state: Option<String>,
    pub running: i64,
    pub pending: i64,
    pub desired: Option<i64>,
    pub failed_tasks: u32,
    pub max_task_failures: u32,
}

/// Counters of what the engine saw and set aside.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub inputs: u64,
    pub duplicates: u64,
    pub other_services: u64,
}

/// Where a verdict's hint can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HintSource {
    /// The load balancer's own reason code for a failed health check.
    HealthCheck,
    /// The CloudWatch alarms that rolled ours back, when no task failed.
    Alarms,
    /// The lifecycle hook that failed ours.
    Hook,
    /// The first failed task: its container's reason, stopped reason, exit code.
    FailedTask,
    /// The newest service-level warning (placement, start impaired).
    ServiceWarning,
    /// The service's own event log.
    Evidence,
    /// The decision's reason text (ECS's rollout reason).
    Reason,
}

/// The hint precedence, most specific evidence first: the first source that applies gives the hint. An
/// explicit table, not the order of assignments in `verdict()` (tested in `tests.rs`).
const HINT_PRECEDENCE: [HintSource; 7] = [
    HintSource::HealthCheck,
    HintSource::Alarms,
    HintSource::Hook,
    HintSource::FailedTask,
    HintSource::ServiceWarning,
    HintSource::Evidence,
    HintSource::Reason,
];

#[derive(Debug, Clone)]
struct Decision {
    outcome: Outcome,
    reason: String,
    superseded_by: Option<String>,
    rollback_to: Option<String>,
    /// Decided by `max_task_failures`, not by ECS: ECS may not roll back by itself.
    by_threshold: bool,
}

/// The verdict rules for one service, grown by subject: each tracker holds what the inputs told about
/// one thing (our deployment, the tasks, the service's own log, the service deployment and its hooks,
/// the alarms, what the live gate read to explain a verdict) and lives in its own file with the input
/// handlers that fill it. The decision and the verdict are this file's.
pub struct Engine {
    target: Target,
    max_task_failures: u32,
    until: Until,
    /// `--detach-at` traffic-shifted or paused.
    detach: Option<DetachAt>,
    decision: Option<Decision>,
    stats: Stats,
    dep: deployments::Deployments,
    tasks: tasks::Tasks,
    service: service::ServiceLog,
    sd: modern::ServiceDeploymentState,
    alarms: alarms::Alarms,
    express: express::Express,
    diag: Diagnosed,
}

/// What the live gate read after the verdict to explain it, and ecsgate's own rollback.
#[derive(Default)]
struct Diagnosed {
    log_tail: Option<verdict::LogTail>,
    /// A rollback ecsgate performed (`--rollback-on-failure`) and how it ended.
    ecsgate_rollback: Option<verdict::Rollback>,
    /// The failing target group's health check and targets (read by the live gate on an ELB failure).
    target_health: Option<snapshot::TargetHealthInfo>,
}

/// ServiceDeployment statuses that end ours unsuccessfully: a rollback or a stop, requested or done.
fn is_failed_sd_status(s: &str) -> bool {
    matches!(
        s,
        "ROLLBACK_REQUESTED"
            | "ROLLBACK_IN_PROGRESS"
            | "ROLLBACK_SUCCESSFUL"
            | "ROLLBACK_FAILED"
            | "STOP_REQUESTED"
            | "STOPPED"
    )
}

/// How many failure messages of the service's event log a verdict keeps.
const EVIDENCE_CAP: usize = 5;

/// Whether a service event message tells of a failure ("failed container health checks", "was unable to
/// place a task", "is unhealthy in target-group", …) rather than progress ("has started 1 tasks").
fn is_failure_message(m: &str) -> bool {
    let m = m.to_ascii_lowercase();
    ["fail", "unable", "unhealthy", "error"].iter().any(|w| m.contains(w))
}

/// "rolling back to deploymentId ecs-svc/123" → `ecs-svc/123` (also the docs' placeholder wording).
pub fn rollback_target(reason: &str) -> Option<String> {
    let i = reason.find("rolling back to deploymentId")?;
    let rest = reason[i + "rolling back to deploymentId".len()..].trim_start();
    let id: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    let id = id.trim_end_matches(['.', ',', ')']).to_string();
    Some(id)
}

pub(crate) fn status_rank(s: Option<&str>) -> u8 {
    match s {
        Some("PROVISIONING") => 1,
        Some("PENDING") => 2,
        Some("ACTIVATING") => 3,
        Some("RUNNING") => 4,
        Some("DEACTIVATING") => 5,
        Some("STOPPING") => 6,
        Some("DEPROVISIONING") => 7,
        Some("STOPPED") => 8,
        Some("DELETED") => 9,
        _ => 0,
    }
}

/// Whether task state `t` replaces `prev` of the same task — the one rule for every subject (events are
/// at-least-once and unordered, SEMANTICS.md): the higher `detail.version` wins and an equal one is a
/// duplicate; without versions on both sides (trimmed captures, some API answers) the lifecycle order
/// decides; a stopped task never comes back.
pub(crate) fn replaces(prev: &TaskRecord, t: &TaskRecord) -> bool {
    let (rp, rt) = (status_rank(prev.last_status.as_deref()), status_rank(t.last_status.as_deref()));
    let newer = match (prev.version, t.version) {
        (Some(a), Some(b)) => b > a,
        _ => rt > rp,
    };
    newer && !(rp >= 8 && rt < 8)
}

/// The timeline line of one of our tasks (a one-off task, a green task-set task); when it stopped, its
/// stop as `class` and `counted` say, with the containers that exited abnormally.
pub(crate) fn our_task_note(t: &TaskRecord, class: StopClass, counted: Option<(u32, u32)>) -> Note {
    Note::Task {
        at: t.updated_at_ms.or(t.meta.time_ms),
        task_id: t.short_id().to_string(),
        task_arn: t.task_arn.clone(),
        started_by: t.started_by.clone(),
        role: Role::Ours,
        status: t.last_status.clone().unwrap_or_else(|| "?".into()),
        stop: (t.last_status.as_deref() == Some("STOPPED")).then(|| StopNote::of(t, class, counted)),
    }
}

/// Last path segment of an ARN, or the string itself when it is a plain name.
pub fn arn_name(s: &str) -> &str {
    if s.starts_with("arn:") { s.rsplit('/').next().unwrap_or(s) } else { s }
}

/// Two ARNs must be equal — account and region included: a cluster of the same name in another
/// account or region is another cluster. A plain name (replay given `--cluster shop`) matches by name.
fn same_cluster(want: &str, have: &str) -> bool {
    if want.starts_with("arn:") && have.starts_with("arn:") { want == have } else { arn_name(want) == arn_name(have) }
}

/// The cluster name inside a new-format service ARN (`service/<cluster>/<name>`).
pub(crate) fn cluster_of_service_arn(arn: &str) -> Option<&str> {
    let path = arn.split(':').nth(5)?;
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("service"), Some(cluster), Some(_)) => Some(cluster),
        _ => None,
    }
}

impl Engine {
    pub fn new(target: Target, max_task_failures: u32) -> Self {
        let until = target.until.unwrap_or_default();
        Engine {
            target,
            max_task_failures: max_task_failures.max(1),
            dep: Default::default(),
            tasks: Default::default(),
            service: Default::default(),
            sd: Default::default(),
            alarms: Default::default(),
            express: Default::default(),
            diag: Default::default(),
            decision: None,
            stats: Stats::default(),
            until,
            detach: None,
        }
    }

    /// Where "deployed" is (`--until`); the default is completed.
    /// Detach (Outcome::Detached) at this point rather than wait for it to end.
    pub fn with_detach(mut self, at: Option<DetachAt>) -> Self {
        self.detach = at;
        self
    }

    pub fn with_until(mut self, until: Until) -> Self {
        self.until = until;
        self.target.until = (until != Until::Completed).then_some(until);
        self
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Whether an input is about this engine's service: how a gate over several services routes each
    /// input to one engine. Task definitions concern no service in particular (any may use one).
    pub fn accepts(&self, input: &Input) -> bool {
        match input {
            Input::Event(EcsEvent::Deployment(e)) => {
                self.service_matches(e.service_arn.as_deref(), e.cluster_arn.as_deref())
            }
            Input::Event(EcsEvent::ServiceAction(e)) => {
                self.service_matches(e.service_arn.as_deref(), e.cluster_arn.as_deref())
            }
            Input::Event(EcsEvent::Task(t)) | Input::Task(t) => self.task_matches(t),
            Input::Event(EcsEvent::Hook(h)) => self.service_matches(h.service_arn.as_deref(), h.cluster_arn.as_deref()),
            Input::Service(s) => self.accepts_service(s),
            Input::TaskDefinition(_) => true,
            Input::ServiceDeployment(sd) => {
                self.sd.ours.as_deref() == Some(sd.arn.as_str())
                    || sd
                        .arn
                        .contains(&format!("/{}/", self.target.service.as_deref().map(arn_name).unwrap_or("\u{0}")))
            }
            Input::TargetHealth(th) => self.failed_records().iter().any(|t| {
                t.stopped_reason.as_deref().and_then(diagnose::target_group_of) == Some(th.target_group_arn.as_str())
            }),
        }
    }

    /// Target groups named by our failed tasks' stopped reasons ("Task failed ELB health checks in
    /// (target-group arn:…)"), whose health the diagnosis should read.
    pub fn failing_target_groups(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .failed_records()
            .iter()
            .filter_map(|t| t.stopped_reason.as_deref().and_then(diagnose::target_group_of))
            .map(str::to_string)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn accepts_service(&self, s: &ServiceSnapshot) -> bool {
        self.service_matches(Some(&s.service_arn), s.cluster_arn.as_deref())
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn is_decided(&self) -> bool {
        self.decision.is_some()
    }

    /// Feeds one input; timeline notes are appended to `out`.
    pub fn apply(&mut self, input: Input, out: &mut Vec<Note>) {
        self.stats.inputs += 1;
        match input {
            Input::Event(EcsEvent::Deployment(e)) => self.on_deployment_event(e, out),
            Input::Event(EcsEvent::ServiceAction(e)) => self.on_service_action(e, out),
            Input::Event(EcsEvent::Task(t)) => self.on_task(t, out),
            Input::Event(EcsEvent::Hook(h)) => self.on_hook(h, out),
            Input::Task(t) => self.on_task(t, out),
            Input::Service(s) => self.on_service_snapshot(s, out),
            Input::TaskDefinition(td) => {
                self.tasks.defs.insert(td.arn.clone(), td);
            }
            Input::TargetHealth(th) => self.diag.target_health = Some(th),
            Input::ServiceDeployment(sd) => self.on_service_deployment(sd, out),
        }
    }

    /// Ends the wait without a decision from ECS: timeout, end of stream, signal or error.
    /// A decision already taken stands.
    pub fn finish(&mut self, outcome: Outcome, reason: String) {
        if self.decision.is_none() {
            self.decision =
                Some(Decision { outcome, reason, superseded_by: None, rollback_to: None, by_threshold: false });
        }
    }

    /// Whether ECS itself is (or was seen) rolling our deployment back: then ecsgate must not roll back.
    pub fn ecs_rolls_back(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.rollback_to.is_some())
            || self.dep.infos.values().any(|d| d.is_rollback)
    }

    /// Whether the decision came from ecsgate's own rule (`max_task_failures`) rather than from ECS.
    pub fn decided_by_threshold(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.by_threshold)
    }

    /// Attach the culprit container's last log lines (fetched by the live gate).
    pub fn progress(&self) -> Progress {
        let ours = self.target.deployment_id.as_deref();
        let (mut running, mut pending, seen) = (self.tasks.ours_running, self.tasks.ours_pending, self.tasks.ours_seen);
        let (mut desired, mut rollout) = (None, None);
        if let Some((r, p, d, _)) = self.service.counts {
            desired = Some(d);
            if !seen {
                running = r;
                pending = p;
            }
        }
        if let Some(id) = ours
            && let Some(info) = self.dep.infos.get(id)
        {
            rollout = info.rollout_state.clone();
        }
        if let Some(stage) = self.stage_text() {
            rollout = Some(format!("{} {stage}", rollout.as_deref().unwrap_or("IN_PROGRESS")));
        }
        if let Some(verdict::Breaker { failure_count: n, threshold: t, .. }) = &self.sd.breaker {
            // ECS's own count and threshold, as the API gives them (never a formula of ours).
            rollout = Some(format!("{} · breaker {n}/{t}", rollout.as_deref().unwrap_or("IN_PROGRESS")));
        }
        if self.service.capacity_wait && desired.is_none_or(|d| running < d) {
            rollout = Some(format!("{} · waiting for capacity", rollout.as_deref().unwrap_or("IN_PROGRESS")));
        }
        Progress {
            rollout_state: rollout,
            running,
            pending,
            desired,
            failed_tasks: self.tasks.failed.len() as u32,
            max_task_failures: self.max_task_failures,
        }
    }

    fn ours(&self) -> Option<&str> {
        self.target.deployment_id.as_deref()
    }

    /// The role of the deployment this engine judges: ours, or the rollback ecsgate started.
    fn our_role(&self) -> Role {
        if self.target.rollback_of.is_some() { Role::EcsgateRollback } else { Role::Ours }
    }

    fn decide(&mut self, outcome: Outcome, reason: String, out: &mut Vec<Note>) -> bool {
        self.decide_full(outcome, reason, None, None, out)
    }

    fn decide_full(
        &mut self,
        outcome: Outcome,
        reason: String,
        rollback_to: Option<String>,
        superseded_by: Option<String>,
        out: &mut Vec<Note>,
    ) -> bool {
        if self.decision.is_some() {
            return false;
        }
        if outcome == Outcome::Succeeded && self.until == Until::Drained && self.service.others_active != Some(0) {
            // Deployed, not yet drained: the success waits for a snapshot without old tasks.
            if self.dep.pending_success.is_none() {
                out.push(Note::Service {
                    at: None,
                    event_name: "COMPLETED; waiting for the old tasks to stop (--until drained)".into(),
                });
            }
            self.dep.pending_success = Some(reason);
            return false;
        }
        let reason = match (&self.sd.early_success, outcome) {
            (Some(e), Outcome::Succeeded) => format!("{reason}{}", self.early_success_note(e)),
            _ => reason,
        };
        out.push(Note::Decision { outcome, reason: reason.clone() });
        self.decision = Some(Decision { outcome, reason, superseded_by, rollback_to, by_threshold: false });
        true
    }

    /// A success under `earlySuccessCriteria` says so: ECS completed it once a share of the desired
    /// tasks was healthy, the old revision may still be draining, and ECS no longer rolls back.
    fn early_success_note(&self, e: &snapshot::EarlySuccess) -> String {
        let share = e
            .healthy_percent
            .map(|p| format!("{p}% of the desired tasks healthy"))
            .unwrap_or("early success criteria met".into());
        let old = match (self.service.others_active, e.cleanup.as_deref()) {
            (Some(n), _) if n > 0 => format!("; {n} task(s) of the previous revision still draining"),
            (_, Some("DEFERRED")) => "; the previous revision's tasks are removed in the background (DEFERRED)".into(),
            _ => String::new(),
        };
        format!(" (early success: {share}{old}; ECS no longer rolls back this deployment)")
    }

    fn service_matches(&self, service_arn: Option<&str>, cluster_arn: Option<&str>) -> bool {
        if let Some(want) = &self.target.service {
            let Some(arn) = service_arn else { return false };
            if want.starts_with("arn:") {
                if want != arn && arn_name(want) != arn_name(arn) {
                    return false;
                }
            } else if arn_name(arn) != want {
                return false;
            }
        }
        if let Some(want) = &self.target.cluster {
            if let Some(have) = cluster_arn
                && !same_cluster(want, have)
            {
                return false;
            }
            let have = cluster_arn.map(arn_name).or_else(|| service_arn.and_then(cluster_of_service_arn));
            if let Some(have) = have
                && have != arn_name(want)
            {
                return false;
            }
        }
        true
    }

    /// What the live gate read to explain the verdict.
    pub fn diagnosed(&mut self, d: Diagnosis) {
        match d {
            Diagnosis::LogTail(t) => self.diag.log_tail = Some(t),
            Diagnosis::HookLog(t) => {
                if let Some(h) = &mut self.sd.failed_hook {
                    h.log_tail = Some(t);
                }
            }
            Diagnosis::Alarms(a) => self.alarms.states = a,
            Diagnosis::Rollback(r) => self.diag.ecsgate_rollback = Some(r),
            Diagnosis::Managed(m) => self.on_managed(m),
        }
    }

    /// One source of a verdict's hint (see [`HINT_PRECEDENCE`]); `None` when it does not apply.
    fn hint_from(
        &self,
        src: HintSource,
        d: &Decision,
        failed: &[&TaskRecord],
        culprit: Option<&verdict::Culprit>,
        health_check: Option<&verdict::HealthCheck>,
    ) -> Option<String> {
        let failed_or_timed_out = matches!(d.outcome, Outcome::Failed | Outcome::TimedOut);
        match src {
            HintSource::HealthCheck => {
                health_check.filter(|_| d.outcome == Outcome::Failed).map(diagnose::health_check_hint)
            }
            HintSource::Alarms => {
                (!self.alarms.triggered.is_empty() && d.outcome == Outcome::Failed && failed.is_empty())
                    .then(|| diagnose::alarm_hint(&self.alarms.triggered, &self.alarms.states))
            }
            HintSource::Hook => self.sd.failed_hook.as_ref().map(|h| diagnose::hook_hint(h, Some(d.reason.as_str()))),
            HintSource::FailedTask => match (d.outcome, failed.first()) {
                (Outcome::Succeeded | Outcome::Superseded, _) | (_, None) => None,
                (_, Some(first)) => diagnose::hint_for(first, culprit),
            },
            // No failed task to explain it: the service-level warnings (placement, start impaired), the
            // service's own event log, or the rollout reason are the evidence.
            HintSource::ServiceWarning => self
                .service
                .warnings
                .iter()
                .rev()
                .filter(|_| failed_or_timed_out)
                .find_map(|(name, reason)| {
                    reason.as_deref().and_then(hints::match_text).or_else(|| {
                        (name == "SERVICE_TASK_START_IMPAIRED")
                            .then(|| hints::match_text("unable to consistently start tasks successfully"))
                            .flatten()
                    })
                })
                .map(hints::render),
            HintSource::Evidence => self
                .service
                .evidence
                .iter()
                .rev()
                .filter(|_| failed_or_timed_out)
                .find_map(|m| hints::match_text(m))
                .map(hints::render),
            HintSource::Reason => hints::match_text(&d.reason).filter(|_| failed_or_timed_out).map(hints::render),
        }
    }

    /// The verdict, once decided; built from the current state so that inputs arriving after the
    /// decision (task definitions, late task details) still sharpen the diagnosis.
    pub fn verdict(&self) -> Option<Verdict> {
        let d = self.decision.as_ref()?;
        let failed = self.failed_records();
        let failed_tasks: Vec<verdict::FailedTask> = failed
            .iter()
            .map(|t| diagnose::failed_task(t, self.tasks.defs.get(t.task_definition_arn.as_deref().unwrap_or(""))))
            .collect();
        let culprit = match (d.outcome, failed.first()) {
            (Outcome::Succeeded | Outcome::Superseded, _) => None,
            (_, Some(first)) => {
                diagnose::culprit(first, self.tasks.defs.get(first.task_definition_arn.as_deref().unwrap_or("")))
            }
            (_, None) => None,
        };
        let health_check = self.diag.target_health.as_ref().and_then(diagnose::health_check);
        let hint = HINT_PRECEDENCE
            .iter()
            .find_map(|src| self.hint_from(*src, d, &failed, culprit.as_ref(), health_check.as_ref()));
        // The service's messages explain a failure no task is left to explain.
        let evidence = if d.outcome == Outcome::Failed && failed_tasks.is_empty() {
            self.service.evidence.clone()
        } else {
            Vec::new()
        };
        let exit_code = d.outcome.exit_code();
        Some(Verdict {
            kind: "verdict",
            outcome: d.outcome,
            exit_code,
            cluster: self.target.cluster.as_deref().map(|c| arn_name(c).to_string()),
            service: self.target.service.as_deref().map(|c| arn_name(c).to_string()),
            deployment_id: self.target.deployment_id.clone(),
            reason: Some(d.reason.clone()),
            failed_tasks,
            culprit,
            hint,
            rollback_to: d.rollback_to.clone(),
            superseded_by: d.superseded_by.clone(),
            warnings: self
                .service
                .warnings
                .iter()
                .map(|(n, r)| verdict::WarningOut { event_name: n.clone(), reason: r.clone() })
                .collect(),
            progress: self.progress(),
            log_tail: self.diag.log_tail.clone(),
            evidence,
            health_check,
            hook: self.sd.failed_hook.clone(),
            circuit_breaker: self.sd.breaker.clone(),
            alarms: if self.alarms.states.is_empty() {
                // Named, if not (yet) read: the names are ECS's own words.
                self.alarms
                    .triggered
                    .iter()
                    .map(|n| verdict::AlarmState { name: n.clone(), state: None, reason: None, note: None })
                    .collect()
            } else {
                self.alarms.states.clone()
            },
            rollback: self.diag.ecsgate_rollback.clone().or_else(|| {
                d.rollback_to.as_ref().map(|to| verdict::Rollback {
                    by: verdict::RollbackBy::Ecs,
                    // The ServiceDeployment API names no deployment: "the previous revision" is prose.
                    to: to.starts_with("ecs-svc/").then(|| to.clone()),
                    deployment_id: self.dep.ecs_rollback.id.clone(),
                    outcome: self.dep.ecs_rollback.state.as_deref().map(|s| match s {
                        "COMPLETED" => verdict::RollbackOutcome::Succeeded,
                        "FAILED" => verdict::RollbackOutcome::Failed,
                        _ => verdict::RollbackOutcome::InProgress,
                    }),
                })
            }),
            run: None,
            express: self.express_out(),
            handle: None,
        })
    }
}

#[cfg(test)]
mod tests;
