//! The verdict object: the stable, documented result of every command (README "Verdict object").
//! `--output json` prints it as the last JSON line; the GitHub integration derives its outputs from it.

use serde::Serialize;

use super::Progress;
use crate::exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    TimedOut,
    Superseded,
    Interrupted,
    Error,
}

impl Outcome {
    /// Exhaustive on purpose: a new outcome does not compile without its exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Succeeded => exit::SUCCEEDED,
            Outcome::Failed => exit::FAILED,
            Outcome::TimedOut => exit::TIMED_OUT,
            Outcome::Superseded => exit::SUPERSEDED,
            Outcome::Interrupted => exit::SIGINT,
            Outcome::Error => exit::AWS_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Superseded => "superseded",
            Outcome::Interrupted => "interrupted",
            Outcome::Error => "error",
        }
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

#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogTail {
    pub log_group: String,
    pub log_stream: String,
    pub lines: Vec<String>,
    pub note: Option<String>,
}
