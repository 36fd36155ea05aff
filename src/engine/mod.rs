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

pub mod classify;
pub mod diagnose;
pub mod event;
pub mod hints;
pub mod infer;
pub mod snapshot;
pub mod time;
pub mod verdict;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

pub use event::{EcsEvent, TaskRecord};
pub use hints::StopClass;
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

#[derive(Debug, Clone, Default)]
struct DeploymentInfo {
    created_ms: Option<i64>,
    status: Option<String>,
    rollout_state: Option<String>,
    is_rollback: bool,
}

/// What we keep per task: enough for the counts, the dedupe rule and the failure report.
#[derive(Debug, Clone)]
struct TaskState {
    record: TaskRecord,
    rank: u8,
    /// Arrival order, to break ties among tasks with no stoppedAt.
    seq: u64,
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

/// ECS's own rollback of our deployment, as far as the inputs told.
#[derive(Debug, Clone, Default)]
struct EcsRollback {
    id: Option<String>,
    state: Option<String>,
}

#[derive(Debug, Clone)]
struct Decision {
    outcome: Outcome,
    reason: String,
    superseded_by: Option<String>,
    rollback_to: Option<String>,
    /// Decided by `max_task_failures`, not by ECS: ECS may not roll back by itself.
    by_threshold: bool,
}

pub struct Engine {
    target: Target,
    max_task_failures: u32,
    deployments: HashMap<String, DeploymentInfo>,
    /// Deployment events already applied, keyed by (deployment id, eventName, reason): they have no
    /// version, and duplicates repeat all three. The reason is part of the key because a rollback that
    /// reuses an old id emits a second IN_PROGRESS for that id with a different reason.
    seen_deployment_events: HashSet<(String, String, String)>,
    /// Ours was seen as an ordinary (not rolling-back) deployment: a later "rolling back" on our own id
    /// then means ours is being rolled back, not that ours is a rollback.
    ours_seen_normal: bool,
    seen_warnings: HashSet<(String, String)>,
    counts: Option<(i64, i64, i64, i64)>,
    /// Boxed: a hash table's bucket array grows in powers of two, and with ~400-byte states inline a
    /// table just past a power of two would be mostly empty buckets of that size.
    tasks: HashMap<String, Box<TaskState>>,
    /// Our deployment's tasks by phase, kept up to date on every task change: the progress display asks
    /// for them on every event, so they must not cost a walk over all tasks.
    ours_running: i64,
    ours_pending: i64,
    ours_seen: bool,
    failed: Vec<String>,
    warnings: Vec<(String, Option<String>)>,
    task_defs: HashMap<String, TaskDefinitionInfo>,
    decision: Option<Decision>,
    last_service_event: Option<String>,
    seq: u64,
    stats: Stats,
    log_tail: Option<verdict::LogTail>,
    /// Ids of service event messages already in the timeline.
    seen_service_events: HashSet<String>,
    /// Service event messages that tell of a failure, oldest first (the evidence when no task is left).
    evidence: Vec<String>,
    /// ECS's own rollback of ours: its deployment (when an event named it) and the last state it
    /// reached (COMPLETED, FAILED, IN_PROGRESS).
    ecs_rollback: EcsRollback,
    /// A rollback ecsgate performed (`--rollback-on-failure`) and how it ended.
    ecsgate_rollback: Option<verdict::Rollback>,
    /// The failing target group's health check and targets (read by the live gate on an ELB failure).
    target_health: Option<snapshot::TargetHealthInfo>,
    /// Our deployment's service-deployment ARN (the ServiceDeployment API), once a snapshot named it.
    our_service_deployment: Option<String>,
    /// Hook events already applied (id, eventName): duplicates repeat both.
    seen_hooks: HashSet<(String, String)>,
    /// The hook that failed our deployment.
    failed_hook: Option<verdict::Hook>,
    /// The latest lifecycle stage a hook event named for our deployment (shown in progress).
    stage: Option<String>,
    /// ECS's circuit breaker for our service deployment, as the API counts it.
    breaker: Option<verdict::Breaker>,
    /// Alarms ECS named when it rolled our service deployment back.
    triggered_alarms: Vec<String>,
    /// What DescribeAlarms said of them (read by the live gate after the verdict).
    alarm_states: Vec<verdict::AlarmState>,
    /// The deployment strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY), as the API names it.
    strategy: Option<String>,
    /// Production traffic requested for our revision during a shift (percent).
    production_weight: Option<f64>,
    /// BAKE_TIME: (configured minutes, when the stage began, the newest snapshot's time), epoch ms.
    bake: Option<(i32, i64, i64)>,
    /// The configured lifecycle hooks (DescribeServices): which Lambda a hook at a stage calls.
    hook_config: Vec<snapshot::HookConfig>,
    /// The last ServiceDeployment status and stage shown in the timeline.
    last_sd_state: Option<String>,
    until: Until,
    /// With `--until drained`: the success that waits for the old tasks to stop.
    pending_success: Option<String>,
    /// Running and pending tasks of the other deployments, as the last snapshot counted them.
    others_active: Option<i64>,
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

fn status_rank(s: Option<&str>) -> u8 {
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
            deployments: HashMap::new(),
            seen_deployment_events: HashSet::new(),
            ours_seen_normal: false,
            seen_warnings: HashSet::new(),
            counts: None,
            tasks: HashMap::new(),
            ours_running: 0,
            ours_pending: 0,
            ours_seen: false,
            failed: Vec::new(),
            warnings: Vec::new(),
            task_defs: HashMap::new(),
            decision: None,
            last_service_event: None,
            seq: 0,
            stats: Stats::default(),
            log_tail: None,
            seen_service_events: HashSet::new(),
            evidence: Vec::new(),
            ecs_rollback: EcsRollback::default(),
            ecsgate_rollback: None,
            target_health: None,
            our_service_deployment: None,
            seen_hooks: HashSet::new(),
            failed_hook: None,
            stage: None,
            breaker: None,
            triggered_alarms: Vec::new(),
            alarm_states: Vec::new(),
            strategy: None,
            production_weight: None,
            bake: None,
            hook_config: Vec::new(),
            last_sd_state: None,
            until,
            pending_success: None,
            others_active: None,
        }
    }

    /// Where "deployed" is (`--until`); the default is completed.
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
                self.our_service_deployment.as_deref() == Some(sd.arn.as_str())
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

    /// Task definitions of our failed tasks that the diagnosis has not seen yet (essential flags and
    /// log settings are fetched only once something failed: the happy path needs none).
    pub fn missing_task_definitions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .failed_records()
            .iter()
            .filter_map(|t| t.task_definition_arn.clone())
            .filter(|a| !self.task_defs.contains_key(a))
            .collect();
        v.dedup();
        v
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn is_decided(&self) -> bool {
        self.decision.is_some()
    }

    /// Task ARNs the engine already holds as STOPPED: reconciliation describes only the others.
    pub fn has_stopped_task(&self, arn: &str) -> bool {
        self.tasks.get(arn).is_some_and(|t| t.record.is_stopped())
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
                self.task_defs.insert(td.arn.clone(), td);
            }
            Input::TargetHealth(th) => self.target_health = Some(th),
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
            || self.deployments.values().any(|d| d.is_rollback)
    }

    /// Whether the decision came from ecsgate's own rule (`max_task_failures`) rather than from ECS.
    pub fn decided_by_threshold(&self) -> bool {
        self.decision.as_ref().is_some_and(|d| d.by_threshold)
    }

    /// Attach the culprit container's last log lines (fetched by the live gate).
    pub fn progress(&self) -> Progress {
        let ours = self.target.deployment_id.as_deref();
        let (mut running, mut pending, seen) = (self.ours_running, self.ours_pending, self.ours_seen);
        let (mut desired, mut rollout) = (None, None);
        if let Some((r, p, d, _)) = self.counts {
            desired = Some(d);
            if !seen {
                running = r;
                pending = p;
            }
        }
        if let Some(id) = ours
            && let Some(info) = self.deployments.get(id)
        {
            rollout = info.rollout_state.clone();
        }
        if let Some(stage) = self.stage_text() {
            rollout = Some(format!("{} {stage}", rollout.as_deref().unwrap_or("IN_PROGRESS")));
        }
        if let Some(verdict::Breaker { failure_count: n, threshold: t, .. }) = &self.breaker {
            // ECS's own count and threshold, as the API gives them (never a formula of ours).
            rollout = Some(format!("{} · breaker {n}/{t}", rollout.as_deref().unwrap_or("IN_PROGRESS")));
        }
        Progress {
            rollout_state: rollout,
            running,
            pending,
            desired,
            failed_tasks: self.failed.len() as u32,
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

    /// "BLUE_GREEN PRODUCTION_TRAFFIC_SHIFT 40%", "LINEAR BAKE_TIME ~12 m left": the strategy (when not
    /// a plain rolling update), the lifecycle stage, the production traffic share during a shift, and
    /// the bake time left as of the newest snapshot.
    fn stage_text(&self) -> Option<String> {
        let stage = self.stage.as_deref()?;
        let mut s = match self.strategy.as_deref() {
            Some(st) if st != "ROLLING" => format!("{st} {stage}"),
            _ => stage.to_string(),
        };
        if stage.contains("PRODUCTION_TRAFFIC_SHIFT")
            && let Some(w) = self.production_weight
        {
            s.push_str(&format!(" {w}%"));
        }
        if stage == "BAKE_TIME"
            && let Some((minutes, began, now)) = self.bake
        {
            let left = (i64::from(minutes) * 60_000 - (now - began).max(0)).max(0);
            s.push_str(&format!(" ~{} m left", (left + 59_999) / 60_000));
        }
        Some(s)
    }

    fn our_created(&self) -> Option<i64> {
        self.ours().and_then(|id| self.deployments.get(id)).and_then(|d| d.created_ms)
    }

    /// Whether a deployment that appeared at `at` is newer than ours. When ours has no known creation
    /// time, `unknown` answers: a rollback is strong evidence either way (true), a mere other deployment
    /// is not (false) — it may be a late event of the previous one.
    fn is_newer(&self, at: Option<i64>, unknown: bool) -> bool {
        match (at, self.our_created()) {
            (Some(a), Some(o)) => a > o,
            (None, Some(_)) => true,
            (_, None) => unknown,
        }
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
        if outcome == Outcome::Succeeded && self.until == Until::Drained && self.others_active != Some(0) {
            // Deployed, not yet drained: the success waits for a snapshot without old tasks.
            if self.pending_success.is_none() {
                out.push(Note::Service {
                    at: None,
                    event_name: "COMPLETED; waiting for the old tasks to stop (--until drained)".into(),
                });
            }
            self.pending_success = Some(reason);
            return false;
        }
        out.push(Note::Decision { outcome, reason: reason.clone() });
        self.decision = Some(Decision { outcome, reason, superseded_by, rollback_to, by_threshold: false });
        true
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

    fn task_matches(&self, t: &TaskRecord) -> bool {
        if let Some(want) = &self.target.service {
            match t.group.as_deref().and_then(|g| g.strip_prefix("service:")) {
                Some(name) if name == arn_name(want) => {}
                _ => return false,
            }
        }
        if let (Some(want), Some(have)) = (&self.target.cluster, &t.cluster_arn)
            && !same_cluster(want, have)
        {
            return false;
        }
        true
    }

    fn role_of(&self, id: &str) -> Role {
        if Some(id) == self.ours() {
            self.our_role()
        } else if self.target.rollback_of.as_deref() == Some(id) {
            // The engine judging ecsgate's rollback still names the deployment that failed as ours.
            Role::Ours
        } else if self.deployments.get(id).is_some_and(|d| d.is_rollback) {
            Role::EcsRollback
        } else {
            Role::Other
        }
    }

    fn on_deployment_event(&mut self, e: DeploymentEvent, out: &mut Vec<Note>) {
        if !self.service_matches(e.service_arn.as_deref(), e.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        let Some(id) = e.deployment_id.clone() else {
            return;
        };
        let key = (id.clone(), e.event_name.clone(), e.reason.clone().unwrap_or_default());
        if !self.seen_deployment_events.insert(key) {
            self.stats.duplicates += 1;
            return;
        }
        let at = e.at_ms();
        let reason = e.reason.clone().unwrap_or_default();
        let state = e.event_name.trim_start_matches("SERVICE_DEPLOYMENT_").to_string();
        let rollback_to = rollback_target(&reason);
        let ours = self.ours().map(str::to_string);
        let is_ours = ours.as_deref() == Some(id.as_str());
        {
            let info = self.deployments.entry(id.clone()).or_default();
            if state == "IN_PROGRESS" && info.created_ms.is_none() {
                info.created_ms = at;
            }
            info.rollout_state = Some(state.clone());
            if rollback_to.is_some() && !is_ours {
                info.is_rollback = true;
            }
        }
        if self.role_of(&id) == Role::EcsRollback {
            self.ecs_rollback = EcsRollback { id: Some(id.clone()), state: Some(state.clone()) };
        }
        out.push(Note::Deployment {
            at,
            deployment_id: id.clone(),
            state: state.clone(),
            reason: e.reason.clone(),
            role: self.role_of(&id),
            source: Source::Event,
        });
        let Some(ours) = ours else { return };
        match (state.as_str(), is_ours) {
            ("IN_PROGRESS", true) if rollback_to.is_none() => self.ours_seen_normal = true,
            // "Rolling back" on our own id after it ran normally: ours is being rolled back. (If ours *is*
            // the rollback deployment the user waits on, it is judged like any other.)
            ("IN_PROGRESS", true) if self.ours_seen_normal => {
                let reason = format!("rolled back: {reason}");
                self.decide_full(Outcome::Failed, reason, rollback_to, None, out);
            }
            ("COMPLETED", true) => {
                self.decide(Outcome::Succeeded, format!("deployment {id} completed"), out);
            }
            ("FAILED", true) => {
                let r = if reason.is_empty() { format!("deployment {id} failed") } else { reason };
                self.decide(Outcome::Failed, r, out);
            }
            ("IN_PROGRESS", false) => {
                if let Some(to) = rollback_to {
                    // After our failure was decided, the rollback is still worth reporting.
                    if let Some(d) = &mut self.decision
                        && d.outcome == Outcome::Failed
                        && d.rollback_to.is_none()
                    {
                        d.rollback_to = Some(to.clone());
                    }
                    // A rollback after ours was created means ours failed, FAILED event or not.
                    if to != ours && self.is_newer(at, true) {
                        self.decide_full(Outcome::Failed, format!("rolled back: {reason}"), Some(to), None, out);
                    }
                } else if self.is_newer(at, false) {
                    self.decide_full(
                        Outcome::Superseded,
                        format!("superseded by deployment {id}"),
                        None,
                        Some(id),
                        out,
                    );
                }
            }
            // COMPLETED of another id is never our success, and not our failure either: a late event of
            // the previous deployment looks the same as a rollback that reused its id. DescribeServices
            // (ours no longer PRIMARY) settles it at the next reconcile.
            _ => {}
        }
    }

    fn on_service_action(&mut self, e: ServiceActionEvent, out: &mut Vec<Note>) {
        if !self.service_matches(e.service_arn.as_deref(), e.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        let at = e.created_at_ms.or(e.meta.time_ms);
        match e.event_name.as_str() {
            // Informational, and "reported periodically": shown once per run of repeats, never a verdict.
            "SERVICE_STEADY_STATE"
            | "TASKSET_STEADY_STATE"
            | "CAPACITY_PROVIDER_STEADY_STATE"
            | "SERVICE_DESIRED_COUNT_UPDATED"
            | "TASKS_STOPPED" => {
                if self.last_service_event.as_deref() != Some(e.event_name.as_str()) {
                    self.last_service_event = Some(e.event_name.clone());
                    out.push(Note::Service { at, event_name: e.event_name });
                } else {
                    self.stats.duplicates += 1;
                }
            }
            _ => {
                let key = (e.event_name.clone(), e.reason.clone().unwrap_or_default());
                if !self.seen_warnings.insert(key) {
                    self.stats.duplicates += 1;
                    return;
                }
                self.last_service_event = None;
                let hint = e.reason.as_deref().and_then(hints::match_text).map(hints::render).or_else(|| {
                    (e.event_name == "SERVICE_TASK_START_IMPAIRED")
                        .then(|| {
                            hints::match_text("unable to consistently start tasks successfully").map(hints::render)
                        })
                        .flatten()
                });
                self.warnings.push((e.event_name.clone(), e.reason.clone()));
                out.push(Note::Warning { at, event_name: e.event_name, reason: e.reason, hint });
            }
        }
    }

    fn on_task(&mut self, t: TaskRecord, out: &mut Vec<Note>) {
        if !self.task_matches(&t) {
            self.stats.other_services += 1;
            return;
        }
        let rank = status_rank(t.last_status.as_deref());
        let prev = self.tasks.get(&t.task_arn);
        if let Some(p) = prev {
            // Highest detail.version wins; duplicates carry the same version. Without versions on both
            // sides (trimmed captures, some API answers) the lifecycle order decides.
            let newer = match (p.record.version, t.version) {
                (Some(a), Some(b)) => b > a,
                _ => rank > p.rank,
            };
            if !newer || p.rank >= 8 && rank < 8 {
                self.stats.duplicates += 1;
                return;
            }
        }
        let prev_rank = prev.map(|p| p.rank);
        let status_changed = prev.is_none_or(|p| p.rank != rank);
        let newly_stopped = rank >= 8 && prev.is_none_or(|p| p.rank < 8);
        self.seq += 1;
        let ours = self.ours().is_some() && t.started_by.as_deref() == self.ours();
        let role = if ours {
            self.our_role()
        } else {
            t.started_by.as_deref().map(|d| self.role_of(d)).unwrap_or(Role::Other)
        };
        if ours && self.deployments.get(self.ours().unwrap_or_default()).is_none_or(|d| d.created_ms.is_none()) {
            // The first task of ours bounds our deployment's creation time from above.
            if let Some(c) = t.created_at_ms {
                let id = self.ours().unwrap_or_default().to_string();
                let info = self.deployments.entry(id).or_default();
                info.created_ms = Some(info.created_ms.map_or(c, |x| x.min(c)));
            }
        }
        let mut stop = None;
        if newly_stopped {
            let class = classify_stop(t.stop_code.as_deref(), t.stopped_reason.as_deref());
            let mut counted = None;
            if ours && class == StopClass::Failure {
                self.failed.push(t.task_arn.clone());
                counted = Some((self.failed.len() as u32, self.max_task_failures));
            }
            stop = Some(StopNote {
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
            });
        } else if t.stop_code.as_deref().is_some_and(|c| c == "SpotInterruption" || c == "TerminationNotice")
            && prev.is_none_or(|p| p.record.stop_code != t.stop_code)
        {
            // A Spot notice arrives on a still-RUNNING task: worth a line before the stop.
            out.push(Note::Warning {
                at: t.updated_at_ms.or(t.meta.time_ms),
                event_name: t.stop_code.clone().unwrap_or_default(),
                reason: t.stopped_reason.clone(),
                hint: hints::match_text(t.stopped_reason.as_deref().unwrap_or("")).map(hints::render),
            });
        }
        if status_changed {
            out.push(Note::Task {
                at: t.stopped_at_ms.filter(|_| newly_stopped).or(t.updated_at_ms).or(t.meta.time_ms),
                task_id: t.short_id().to_string(),
                task_arn: t.task_arn.clone(),
                started_by: t.started_by.clone(),
                role,
                status: t.last_status.clone().unwrap_or_else(|| "UNKNOWN".into()),
                stop,
            });
        }
        if ours {
            let phase = |r: u8| match r {
                4 => (1, 0),
                r if r < 4 => (0, 1),
                _ => (0, 0),
            };
            let (new_run, new_pend) = phase(rank);
            let (old_run, old_pend) = prev_rank.map_or((0, 0), phase);
            self.ours_running += new_run - old_run;
            self.ours_pending += new_pend - old_pend;
            self.ours_seen = true;
        }
        let seq = self.seq;
        let state = TaskState { record: t, rank, seq };
        match self.tasks.get_mut(&state.record.task_arn) {
            Some(s) => **s = state,
            None => {
                self.tasks.insert(state.record.task_arn.clone(), Box::new(state));
            }
        }
        let n = self.failed.len() as u32;
        if ours && newly_stopped && n >= self.max_task_failures && !self.is_decided() {
            let id = self.ours().unwrap_or_default().to_string();
            let first = self.first_failed_reason();
            let decided = self.decide(
                Outcome::Failed,
                format!("{n} tasks of deployment {id} failed (threshold {}): {first}", self.max_task_failures),
                out,
            );
            if decided && let Some(d) = &mut self.decision {
                d.by_threshold = true;
            }
        }
    }

    fn first_failed_reason(&self) -> String {
        self.failed_records().first().and_then(|t| t.stopped_reason.clone()).unwrap_or_else(|| "tasks stopped".into())
    }

    /// Our counted failed tasks, first to stop first.
    fn failed_records(&self) -> Vec<&TaskRecord> {
        let mut v: Vec<&TaskState> = self.failed.iter().filter_map(|a| self.tasks.get(a).map(|b| &**b)).collect();
        v.sort_by_key(|t| (t.record.stopped_at_ms.unwrap_or(i64::MAX), t.seq));
        v.into_iter().map(|t| &t.record).collect()
    }

    fn on_service_snapshot(&mut self, s: ServiceSnapshot, out: &mut Vec<Note>) {
        if !self.service_matches(Some(&s.service_arn), s.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        for d in &s.deployments {
            let known = self.deployments.contains_key(&d.id);
            let info = self.deployments.entry(d.id.clone()).or_default();
            let changed = info.rollout_state != d.rollout_state || info.status.as_deref() != Some(d.status.as_str());
            info.created_ms = d.created_at_ms.or(info.created_ms);
            info.status = Some(d.status.clone());
            info.rollout_state = d.rollout_state.clone().or(info.rollout_state.take());
            if d.status == "PRIMARY" && d.rollout_state_reason.as_deref().and_then(rollback_target).is_some() {
                info.is_rollback = Some(d.id.as_str()) != self.target.deployment_id.as_deref();
            }
            if changed || !known {
                out.push(Note::Deployment {
                    at: d.updated_at_ms.or(s.at_ms),
                    deployment_id: d.id.clone(),
                    state: format!("{} {}", d.status, d.rollout_state.as_deref().unwrap_or("-")),
                    reason: d.rollout_state_reason.clone(),
                    role: self.role_of(&d.id),
                    source: Source::Api,
                });
            }
        }
        self.service_events(&s, out);
        let Some(ours) = self.ours().map(str::to_string) else {
            return;
        };
        self.others_active =
            Some(s.deployments.iter().filter(|d| d.id != ours).map(|d| d.running_count + d.pending_count).sum());
        if self.others_active == Some(0)
            && let Some(reason) = self.pending_success.take()
        {
            self.decide(Outcome::Succeeded, format!("{reason}; every task of the older deployments has stopped"), out);
        }
        if let Some(c) = &s.deployment_configuration {
            if self.strategy.is_none() {
                self.strategy = c.strategy.clone();
            }
            self.hook_config = c.hooks.clone();
        }
        // While ours is PRIMARY, the service's current service deployment is ours.
        if self.our_service_deployment.is_none()
            && s.deployments.iter().any(|d| d.id == ours && d.status == "PRIMARY")
            && let Some(sd) = &s.current_service_deployment
        {
            self.our_service_deployment = Some(sd.clone());
        }
        let primary = s.deployments.iter().find(|d| d.status == "PRIMARY");
        let mine = s.deployments.iter().find(|d| d.id == ours);
        if let Some(m) = mine {
            if m.rollout_state_reason.as_deref().and_then(rollback_target).is_none() {
                self.ours_seen_normal = true;
            }
            let c = (m.running_count, m.pending_count, m.desired_count, m.failed_tasks);
            if self.counts != Some(c) {
                self.counts = Some(c);
                out.push(Note::Counts { running: c.0, pending: c.1, desired: c.2, failed_tasks: c.3 });
            }
        }
        if self.is_decided() {
            return;
        }
        let rolled_back = primary.and_then(|p| {
            (p.id != ours).then(|| p.rollout_state_reason.as_deref().and_then(rollback_target)).flatten()
        });
        match mine {
            Some(m) if m.rollout_state.as_deref() == Some("COMPLETED") => {
                self.decide(Outcome::Succeeded, format!("deployment {ours} completed"), out);
            }
            Some(m) if m.rollout_state.as_deref() == Some("FAILED") => {
                let r = m.rollout_state_reason.clone().unwrap_or_else(|| format!("deployment {ours} failed"));
                self.decide_full(Outcome::Failed, r, rolled_back, None, out);
            }
            Some(m)
                if m.status == "PRIMARY"
                    && self.ours_seen_normal
                    && m.rollout_state_reason.as_deref().and_then(rollback_target).is_some() =>
            {
                let reason = format!("rolled back: {}", m.rollout_state_reason.as_deref().unwrap_or_default());
                let to = m.rollout_state_reason.as_deref().and_then(rollback_target);
                self.decide_full(Outcome::Failed, reason, to, None, out);
            }
            Some(m) if m.status == "PRIMARY" => {
                // Services behind a Classic Load Balancer have no rolloutState: there, the only
                // completion signal is the one the CLI waiter uses — sole deployment, all running.
                if m.rollout_state.is_none()
                    && s.deployments.len() == 1
                    && m.running_count == m.desired_count
                    && m.pending_count == 0
                {
                    self.decide(
                        Outcome::Succeeded,
                        format!(
                            "deployment {ours} is the only one and all {} tasks run (no rolloutState)",
                            m.desired_count
                        ),
                        out,
                    );
                }
            }
            _ => {
                // Ours is ACTIVE/INACTIVE or gone: something replaced it.
                let Some(p) = primary else { return };
                if let Some(to) = rolled_back {
                    let reason = format!("rolled back: {}", p.rollout_state_reason.as_deref().unwrap_or_default());
                    self.decide_full(Outcome::Failed, reason, Some(to), None, out);
                } else if self.is_newer(p.created_at_ms, true) {
                    let reason = format!("superseded by deployment {}", p.id);
                    self.decide_full(Outcome::Superseded, reason, None, Some(p.id.clone()), out);
                } else {
                    let reason = format!("rolled back: ECS made the older deployment {} primary again", p.id);
                    self.decide_full(Outcome::Failed, reason, Some(p.id.clone()), None, out);
                }
            }
        }
    }

    /// ECS's own account of our service deployment decides like the classic rolloutState does: SUCCESSFUL
    /// is success; a rollback or a stop (requested or done) is failure, with ECS's reason and the alarms
    /// that triggered it. Other statuses (PENDING, IN_PROGRESS, values added later) only show progress.
    fn on_service_deployment(&mut self, sd: snapshot::ServiceDeploymentSnapshot, out: &mut Vec<Note>) {
        // Not pinned by a snapshot (ours was no longer PRIMARY): a service deployment whose target
        // revision carries our ecs-svc number is ours. The mapping is terraform-provider-aws's
        // (findPrimaryDeploymentARN), not documented: only an exact match pins.
        if self.our_service_deployment.is_none()
            && let (Some(ours), Some(rev)) = (self.ours(), sd.target_revision_arn.as_deref())
            && ours.strip_prefix("ecs-svc/").is_some_and(|n| !n.is_empty() && rev.rsplit('/').next() == Some(n))
        {
            self.our_service_deployment = Some(sd.arn.clone());
        }
        if self.our_service_deployment.as_deref() != Some(sd.arn.as_str()) {
            self.stats.other_services += 1;
            return;
        }
        if sd.strategy.is_some() {
            self.strategy = sd.strategy.clone();
        }
        if let Some(stage) = &sd.lifecycle_stage {
            self.stage = Some(stage.clone());
        }
        self.production_weight = sd.production_weight;
        self.bake = match (sd.lifecycle_stage.as_deref(), sd.bake_time_minutes, sd.at_ms) {
            // The stage's start: the deployment's updatedAt if it says, else the first snapshot in it.
            (Some("BAKE_TIME"), Some(m), Some(now)) => {
                let began = self.bake.map(|(_, b, _)| b).or(sd.updated_at_ms).unwrap_or(now).min(now);
                Some((m, began, now))
            }
            _ => None,
        };
        self.breaker = sd.circuit_breaker.as_ref().map(|(status, n, t)| verdict::Breaker {
            status: status.clone(),
            failure_count: *n,
            threshold: *t,
        });
        // A new line when the status, the stage or the traffic share changes (not the bake countdown).
        let key = format!("{} {} {:?}", sd.status, sd.lifecycle_stage.as_deref().unwrap_or(""), sd.production_weight);
        if self.last_sd_state.as_deref() != Some(key.as_str()) {
            self.last_sd_state = Some(key);
            out.push(Note::Deployment {
                at: sd.at_ms,
                deployment_id: sd.arn.rsplit('/').next().unwrap_or(&sd.arn).to_string(),
                state: format!(
                    "service deployment {}{}",
                    sd.status,
                    self.stage_text()
                        .filter(|_| sd.lifecycle_stage.is_some())
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default()
                ),
                reason: sd.status_reason.clone(),
                role: self.our_role(),
                source: Source::Api,
            });
        }
        // The hooks of the current stage: the API's account, for when their events are late, lost, or
        // (Lambda hooks) not documented to exist.
        for h in &sd.hooks {
            self.on_hook_detail(&sd, h, out);
        }
        let shifted = matches!(sd.lifecycle_stage.as_deref(), Some("BAKE_TIME" | "CLEAN_UP"));
        if self.until == Until::TrafficShifted && shifted && sd.status == "IN_PROGRESS" {
            let id = self.ours().unwrap_or_default().to_string();
            let stage = sd.lifecycle_stage.clone().unwrap_or_default();
            self.decide(
                Outcome::Succeeded,
                format!("production traffic is on deployment {id} ({stage}); --until traffic-shifted does not wait for the bake"),
                out,
            );
            return;
        }
        match sd.status.as_str() {
            "SUCCESSFUL" => {
                let id = self.ours().unwrap_or_default().to_string();
                self.decide(
                    Outcome::Succeeded,
                    format!("deployment {id} completed (service deployment SUCCESSFUL)"),
                    out,
                );
            }
            status if is_failed_sd_status(status) => {
                let mut reason = sd
                    .status_reason
                    .clone()
                    .or(sd.rollback_reason.clone())
                    .unwrap_or_else(|| format!("service deployment {}", sd.status));
                if !sd.triggered_alarms.is_empty() {
                    reason.push_str(&format!(" (alarms in ALARM: {})", sd.triggered_alarms.join(", ")));
                }
                self.triggered_alarms = sd.triggered_alarms.clone();
                // ECS names a failed hook in its reason ("… because PRE_SCALE_UP lifecycle hook(s)
                // failed. Lifecycle hook target arn:aws:lambda:… returned FAILED status."): the hook is
                // the culprit even when no hook event or hook detail said so.
                if self.failed_hook.is_none()
                    && let Some(mut h) = sd.status_reason.as_deref().and_then(diagnose::hook_from_reason)
                {
                    h.service_deployment_arn = Some(sd.arn.clone());
                    self.failed_hook = Some(h);
                }
                if sd.status.starts_with("ROLLBACK") {
                    self.ecs_rollback.state = Some(match sd.status.as_str() {
                        "ROLLBACK_SUCCESSFUL" => "COMPLETED".into(),
                        "ROLLBACK_FAILED" => "FAILED".into(),
                        _ => "IN_PROGRESS".into(),
                    });
                    let decided =
                        self.decide_full(Outcome::Failed, reason, Some("the previous revision".into()), None, out);
                    if !decided
                        && let Some(d) = &mut self.decision
                        && d.outcome == Outcome::Failed
                        && d.rollback_to.is_none()
                    {
                        d.rollback_to = Some("the previous revision".into());
                    }
                } else {
                    self.decide(Outcome::Failed, reason, out);
                }
            }
            _ => {}
        }
    }

    /// A lifecycle hook event. Ours when its service deployment is ours (or, before a snapshot named ours,
    /// when nothing says otherwise). A hook that failed or timed out fails our deployment — ECS rolls it
    /// back. Hooks re-run during that rollback are timeline only: the first decision stands.
    fn on_hook(&mut self, h: event::HookEvent, out: &mut Vec<Note>) {
        if !self.service_matches(h.service_arn.as_deref(), h.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        let key = (h.hook_id.clone().unwrap_or_default(), h.event_name.clone());
        if !self.seen_hooks.insert(key) {
            self.stats.duplicates += 1;
            return;
        }
        let ours = match (&self.our_service_deployment, &h.service_deployment_arn) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => self.ours().is_some(),
        };
        // Once ours failed, ECS's rollback re-runs hooks (traffic shifts, weights reversed): those are
        // the rollback's, never progress of ours.
        let role = match (ours, self.is_decided()) {
            (false, _) => Role::Other,
            (true, true) => Role::EcsRollback,
            (true, false) => self.our_role(),
        };
        if role == self.our_role() {
            self.stage = h.lifecycle_stage.clone().or(self.stage.take());
        }
        let at = h.updated_at_ms.or(h.meta.time_ms);
        out.push(Note::Hook {
            at,
            event_name: h.event_name.clone(),
            hook_id: h.hook_id.clone(),
            hook_type: h.hook_type.clone(),
            lifecycle_stage: h.lifecycle_stage.clone(),
            expires_at: h.expires_at.clone(),
            service_deployment_arn: h.service_deployment_arn.clone(),
            role,
        });
        if !matches!(h.event_name.as_str(), "HOOK_FAILED" | "HOOK_TIMED_OUT") || !ours || self.is_decided() {
            return;
        }
        let hook = verdict::Hook {
            hook_id: h.hook_id.clone(),
            hook_type: h.hook_type.clone(),
            lifecycle_stage: h.lifecycle_stage.clone(),
            status: h.event_name.trim_start_matches("HOOK_").to_string(),
            service_deployment_arn: h.service_deployment_arn.clone(),
            target_arn: self.configured_hook_target(h.hook_type.as_deref(), h.lifecycle_stage.as_deref()),
            log_tail: None,
        };
        self.fail_by_hook(hook, true, out);
    }

    /// A hook of ours failed or timed out: it is the culprit, and (unless ECS's own status already
    /// decides, with its statusReason) the reason: ECS rolls the deployment back.
    fn fail_by_hook(&mut self, hook: verdict::Hook, decide: bool, out: &mut Vec<Note>) {
        let reason = format!(
            "lifecycle hook {} ({}{}) {} at {}; ECS rolls the deployment back",
            hook.hook_id.as_deref().unwrap_or("?"),
            hook.hook_type.as_deref().unwrap_or("hook"),
            hook.target_arn.as_deref().map(|a| format!(" {}", diagnose::lambda_function_name(a))).unwrap_or_default(),
            if hook.status == "TIMED_OUT" { "timed out" } else { "failed" },
            hook.lifecycle_stage.as_deref().unwrap_or("an unknown stage"),
        );
        self.failed_hook = Some(hook);
        if decide {
            self.decide(Outcome::Failed, reason, out);
        }
    }

    /// One `lifecycleHookDetails` entry of our service deployment: into the timeline when its state is
    /// new (an event may have said it already: same key), and a failure or time-out fails the gate.
    fn on_hook_detail(
        &mut self,
        sd: &snapshot::ServiceDeploymentSnapshot,
        h: &snapshot::HookDetail,
        out: &mut Vec<Note>,
    ) {
        let Some(status) = h.status.as_deref() else { return };
        let event_name = format!("HOOK_{status}");
        if !self.seen_hooks.insert((h.hook_id.clone().unwrap_or_default(), event_name.clone())) {
            return;
        }
        // A hook that fails before ours is decided is the cause, even in a snapshot that already shows
        // the rollback; hooks after the decision are the rollback's own (ECS re-runs traffic shifts).
        let rolling_back = self.is_decided();
        out.push(Note::Hook {
            at: sd.at_ms,
            event_name: event_name.clone(),
            hook_id: h.hook_id.clone(),
            hook_type: h.target_type.clone(),
            lifecycle_stage: sd.lifecycle_stage.clone(),
            expires_at: h.expires_at_ms.map(time::format_rfc3339_secs),
            service_deployment_arn: Some(sd.arn.clone()),
            // Hooks ECS re-runs while rolling back are about the rollback, not our progress.
            role: if rolling_back { Role::EcsRollback } else { self.our_role() },
        });
        if !matches!(status, "FAILED" | "TIMED_OUT") || rolling_back {
            return;
        }
        let hook = verdict::Hook {
            hook_id: h.hook_id.clone(),
            hook_type: h.target_type.clone(),
            lifecycle_stage: sd.lifecycle_stage.clone(),
            status: status.to_string(),
            service_deployment_arn: Some(sd.arn.clone()),
            target_arn: h
                .target_arn
                .clone()
                .or_else(|| self.configured_hook_target(h.target_type.as_deref(), sd.lifecycle_stage.as_deref())),
            log_tail: None,
        };
        // When ECS already ended the deployment, its own statusReason decides (in the caller).
        self.fail_by_hook(hook, !is_failed_sd_status(&sd.status), out);
    }

    /// The Lambda function configured for a hook at `stage`, when exactly one is (pause hooks have none).
    fn configured_hook_target(&self, hook_type: Option<&str>, stage: Option<&str>) -> Option<String> {
        if hook_type == Some("PAUSE") {
            return None;
        }
        let stage = stage?;
        let mut it = self
            .hook_config
            .iter()
            .filter(|c| c.target_type.as_deref() != Some("PAUSE") && c.stages.iter().any(|s| s == stage))
            .filter_map(|c| c.target_arn.clone());
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    /// What the live gate read to explain the verdict.
    pub fn diagnosed(&mut self, d: Diagnosis) {
        match d {
            Diagnosis::LogTail(t) => self.log_tail = Some(t),
            Diagnosis::HookLog(t) => {
                if let Some(h) = &mut self.failed_hook {
                    h.log_tail = Some(t);
                }
            }
            Diagnosis::Alarms(a) => self.alarm_states = a,
            Diagnosis::Rollback(r) => self.ecsgate_rollback = Some(r),
        }
    }

    /// The Lambda function of a failed hook, whose log group the live gate reads.
    pub fn failed_lambda_hook(&self) -> Option<String> {
        self.failed_hook.as_ref().and_then(|h| h.target_arn.clone()).filter(|a| a.contains(":lambda:"))
    }

    /// Our service deployment's ARN, once known.
    pub fn service_deployment(&self) -> Option<&str> {
        self.our_service_deployment.as_deref()
    }

    /// Alarms that rolled our deployment back.
    pub fn triggered_alarms(&self) -> &[String] {
        &self.triggered_alarms
    }

    /// The service's event messages since our deployment began, into the timeline once each; failures
    /// among them are kept as evidence. Before our deployment's start is known, none are taken: older
    /// messages are about older deployments.
    fn service_events(&mut self, s: &ServiceSnapshot, out: &mut Vec<Note>) {
        let Some(since) = self.our_created() else { return };
        // Newest first in the API: the timeline wants them oldest first.
        for e in s.events.iter().rev() {
            if e.created_at_ms.is_some_and(|t| t < since) || e.message.is_empty() {
                continue;
            }
            let key = if e.id.is_empty() { e.message.clone() } else { e.id.clone() };
            if !self.seen_service_events.insert(key) {
                continue;
            }
            if is_failure_message(&e.message) {
                if self.evidence.len() >= EVIDENCE_CAP {
                    self.evidence.remove(0);
                }
                self.evidence.push(e.message.clone());
            }
            out.push(Note::ServiceEvent { at: e.created_at_ms, message: e.message.clone() });
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
                (!self.triggered_alarms.is_empty() && d.outcome == Outcome::Failed && failed.is_empty())
                    .then(|| diagnose::alarm_hint(&self.triggered_alarms, &self.alarm_states))
            }
            HintSource::Hook => self.failed_hook.as_ref().map(|h| diagnose::hook_hint(h, Some(d.reason.as_str()))),
            HintSource::FailedTask => match (d.outcome, failed.first()) {
                (Outcome::Succeeded | Outcome::Superseded, _) | (_, None) => None,
                (_, Some(first)) => diagnose::hint_for(first, culprit),
            },
            // No failed task to explain it: the service-level warnings (placement, start impaired), the
            // service's own event log, or the rollout reason are the evidence.
            HintSource::ServiceWarning => self
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
            .map(|t| diagnose::failed_task(t, self.task_defs.get(t.task_definition_arn.as_deref().unwrap_or(""))))
            .collect();
        let culprit = match (d.outcome, failed.first()) {
            (Outcome::Succeeded | Outcome::Superseded, _) => None,
            (_, Some(first)) => {
                diagnose::culprit(first, self.task_defs.get(first.task_definition_arn.as_deref().unwrap_or("")))
            }
            (_, None) => None,
        };
        let health_check = self.target_health.as_ref().and_then(diagnose::health_check);
        let hint = HINT_PRECEDENCE
            .iter()
            .find_map(|src| self.hint_from(*src, d, &failed, culprit.as_ref(), health_check.as_ref()));
        // The service's messages explain a failure no task is left to explain.
        let evidence =
            if d.outcome == Outcome::Failed && failed_tasks.is_empty() { self.evidence.clone() } else { Vec::new() };
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
                .warnings
                .iter()
                .map(|(n, r)| verdict::WarningOut { event_name: n.clone(), reason: r.clone() })
                .collect(),
            progress: self.progress(),
            log_tail: self.log_tail.clone(),
            evidence,
            health_check,
            hook: self.failed_hook.clone(),
            circuit_breaker: self.breaker.clone(),
            alarms: if self.alarm_states.is_empty() {
                // Named, if not (yet) read: the names are ECS's own words.
                self.triggered_alarms
                    .iter()
                    .map(|n| verdict::AlarmState { name: n.clone(), state: None, reason: None, note: None })
                    .collect()
            } else {
                self.alarm_states.clone()
            },
            rollback: self.ecsgate_rollback.clone().or_else(|| {
                d.rollback_to.as_ref().map(|to| verdict::Rollback {
                    by: verdict::RollbackBy::Ecs,
                    // The ServiceDeployment API names no deployment: "the previous revision" is prose.
                    to: to.starts_with("ecs-svc/").then(|| to.clone()),
                    deployment_id: self.ecs_rollback.id.clone(),
                    outcome: self.ecs_rollback.state.as_deref().map(|s| match s {
                        "COMPLETED" => verdict::RollbackOutcome::Succeeded,
                        "FAILED" => verdict::RollbackOutcome::Failed,
                        _ => verdict::RollbackOutcome::InProgress,
                    }),
                })
            }),
        })
    }

    /// Essential flags and awslogs settings of the culprit's task definition, if known.
    pub fn task_definition(&self, arn: &str) -> Option<&TaskDefinitionInfo> {
        self.task_defs.get(arn)
    }
}

#[cfg(test)]
mod tests;
