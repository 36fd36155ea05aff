//! The verdict object: the stable, documented result of every command (README "Verdict object").
//! `--output json` prints it as the last JSON line; the GitHub integration derives its outputs from it.

use serde::Serialize;

use super::Progress;
use crate::exit::{self, ErrorKind, Signal};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    TimedOut,
    Superseded,
    /// Not decided when the gate stopped waiting for this service (`--fail-fast` ended it because
    /// another service failed).
    InProgress,
    Interrupted(Signal),
    Error(ErrorKind),
    /// The gate stopped waiting where `--detach-at` asked (traffic shifted, a paused hook, a time): not
    /// judged yet, and the deployment goes on.
    Detached,
}

impl Outcome {
    /// Exhaustive on purpose: a new outcome does not compile without its exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Succeeded => exit::SUCCEEDED,
            Outcome::Failed => exit::FAILED,
            Outcome::TimedOut | Outcome::InProgress => exit::TIMED_OUT,
            Outcome::Superseded => exit::SUPERSEDED,
            Outcome::Interrupted(s) => s.exit_code(),
            Outcome::Error(k) => k.exit_code(),
            Outcome::Detached => exit::DETACHED,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Superseded => "superseded",
            Outcome::InProgress => "in_progress",
            Outcome::Interrupted(_) => "interrupted",
            Outcome::Error(_) => "error",
            Outcome::Detached => "detached",
        }
    }
}

/// The verdict object's `outcome` is the plain word; the signal and the error kind live in `exit_code`.
impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub outcome: Outcome,
    pub exit_code: u8,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub deployment_id: Option<String>,
    pub reason: Option<String>,
    pub failed_tasks: Vec<FailedTask>,
    pub culprit: Option<Culprit>,
    pub hint: Option<String>,
    /// The deployment ECS rolled back to, when it did.
    pub rollback_to: Option<String>,
    pub superseded_by: Option<String>,
    pub warnings: Vec<WarningOut>,
    /// Last known state (what a timeout reports).
    pub progress: Progress,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<LogTail>,
    /// Failure messages of the service's own event log, when no stopped task is left to explain a
    /// failure (ECS forgets stopped tasks after about an hour).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// For tasks the load balancer failed: which health check, and what the target group says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// The lifecycle hook that failed our deployment (HOOK_FAILED, HOOK_TIMED_OUT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<Hook>,
    /// ECS's circuit breaker for our service deployment (the ServiceDeployment API's own count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<Breaker>,
    /// The CloudWatch alarms that rolled our deployment back, with their state reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<AlarmState>,
    /// A rollback of our deployment: by ECS (its circuit breaker or alarms) or by ecsgate
    /// (`--rollback-on-failure`), where to, and how it ended when that is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// One-off tasks (`ecsgate run`): what was run and how every task ended. Absent for deployments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunOut>,
    /// An Express Mode service: what ECS manages for our revision (endpoint, alarms, log groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub express: Option<super::snapshot::ManagedResources>,
    /// A detached gate's handle file (`--detach-at`): what `ecsgate resume` and `ecsgate status` take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
}

/// What `ecsgate run` started and how each task ended (the verdict of a run, beside its reason).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunOut {
    /// The task definition run (`family:revision`).
    pub task_definition: Option<String>,
    /// The `startedBy` token ecsgate gave RunTask: `aws ecs list-tasks --started-by` finds the tasks.
    pub started_by: String,
    /// How many tasks were asked for.
    pub count: usize,
    /// Every task RunTask placed, in order, with its last known state and its containers' exit codes.
    pub tasks: Vec<RunTaskOut>,
    /// RunTask's `failures[]`: tasks that were never placed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub launch_failures: Vec<LaunchFailureOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunTaskOut {
    pub task_arn: String,
    pub last_status: String,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<ContainerOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LaunchFailureOut {
    /// `RESOURCE:MEMORY`, `AGENT`, …
    pub reason: String,
    pub detail: Option<String>,
    /// The container instance it was refused on, when given.
    pub arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hook {
    pub hook_id: Option<String>,
    /// PAUSE, AWS_LAMBDA, …
    pub hook_type: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// FAILED or TIMED_OUT.
    pub status: String,
    pub service_deployment_arn: Option<String>,
    /// The Lambda function a hook called (unset for a pause hook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// The Lambda function's last log lines (`/aws/lambda/<name>`), read by the live gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<LogTail>,
}

/// The circuit breaker as ECS reports it: never a formula of ecsgate's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breaker {
    /// TRIGGERED, MONITORING, MONITORING_COMPLETE, DISABLED.
    pub status: String,
    pub failure_count: i32,
    pub threshold: i32,
}

/// A CloudWatch alarm that rolled our deployment back, with what DescribeAlarms says of it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AlarmState {
    pub name: String,
    /// ALARM, OK, INSUFFICIENT_DATA; `None` when the alarm could not be read.
    #[serde(default)]
    pub state: Option<String>,
    /// "Threshold Crossed: 1 datapoint [12.0 (03/12/26 10:01:00)] was greater than the threshold (5.0)."
    #[serde(default)]
    pub reason: Option<String>,
    /// Why it could not be read (not permitted, not found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheck {
    pub target_group: String,
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub path: Option<String>,
    pub matcher: Option<String>,
    /// The failing target's reason code (`Target.ResponseCodeMismatch`, `Target.Timeout`, …).
    pub reason_code: Option<String>,
    pub description: Option<String>,
}

/// Who rolled our deployment back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackBy {
    /// ECS itself: its circuit breaker, its alarms, a failed lifecycle hook.
    Ecs,
    /// ecsgate, for `--rollback-on-failure`.
    Ecsgate,
    /// CodeDeploy's automatic rollback of a CODE_DEPLOY service's deployment (a deployment of its own).
    #[serde(rename = "codedeploy")]
    CodeDeploy,
}

/// How a rollback ended, as far as the gate saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackOutcome {
    InProgress,
    Succeeded,
    Failed,
    /// ecsgate stopped waiting for it (its `--timeout`, or a signal).
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Rollback {
    pub by: RollbackBy,
    /// The deployment (ECS) or task definition (ecsgate) rolled back to; `None` when ECS names none
    /// (the ServiceDeployment API says only "the previous revision").
    pub to: Option<String>,
    /// The rollback's own deployment: ECS's rollback deployment, or the one ecsgate started.
    pub deployment_id: Option<String>,
    /// Absent when unknown.
    pub outcome: Option<RollbackOutcome>,
}

impl Verdict {
    /// The verdict object of a command that ended in an error (exit 2 or 5) before any deployment was
    /// judged: `--output json` consumers always get a verdict.
    pub fn error(kind: ErrorKind, message: &str, hint: Option<&str>) -> Self {
        let outcome = match kind {
            ErrorKind::TimedOut => Outcome::TimedOut,
            ErrorKind::Interrupted(s) => Outcome::Interrupted(s),
            ErrorKind::Usage | ErrorKind::Aws | ErrorKind::Bug => Outcome::Error(kind),
        };
        Verdict {
            kind: "verdict",
            outcome,
            exit_code: outcome.exit_code(),
            cluster: None,
            service: None,
            deployment_id: None,
            reason: Some(message.to_string()),
            failed_tasks: Vec::new(),
            culprit: None,
            hint: hint.map(str::to_string),
            rollback_to: None,
            superseded_by: None,
            warnings: Vec::new(),
            progress: Progress::default(),
            log_tail: None,
            evidence: Vec::new(),
            health_check: None,
            hook: None,
            circuit_breaker: None,
            alarms: Vec::new(),
            rollback: None,
            run: None,
            express: None,
            handle: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedTask {
    pub task_arn: String,
    pub task_definition: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub stopped_at: Option<String>,
    pub containers: Vec<ContainerOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ContainerOut {
    pub name: String,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    /// From the task definition; `null` when it was not known.
    pub essential: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Culprit {
    pub task_arn: String,
    pub container: Option<String>,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarningOut {
    pub event_name: String,
    pub reason: Option<String>,
}

/// The culprit container's last CloudWatch Logs lines, or why they are missing.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LogTail {
    pub log_group: String,
    pub log_stream: String,
    #[serde(default)]
    pub lines: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}
