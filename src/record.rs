//! The `--record` format, defined once: what `wait` writes and what `replay` reads back.
//!
//! A recording is JSON Lines. An ECS event is written as received — the raw EventBridge envelope, one
//! line — so a recording is also plain EventBridge JSON Lines for other tools. Everything else is a
//! [`Record`], tagged by `type`:
//!
//! | `type` | fields | what it is |
//! |---|---|---|
//! | `start` | `version`, `cluster`, `service`, `deployment_id`, `until`, `services[]`, `ecsgate`, `at` | the first line: what was judged (`until` only when not `completed`) |
//! | `service_snapshot` | `data` | a DescribeServices answer ([`ServiceSnapshot`]) |
//! | `task_snapshot` | `data` | a DescribeTasks task, in the task event's `detail` shape |
//! | `task_definition` | `data` | essential flags and awslogs settings ([`TaskDefinitionInfo`]) |
//! | `target_health` | `data` | a failing target group's health check and targets (format 2) |
//! | `service_deployment` | `data` | a DescribeServiceDeployments answer (format 2) |
//! | `log_tail` | `service`, `data` | the culprit container's last log lines ([`LogTail`]) |
//! | `hook_log` | `service`, `data` | a failed Lambda hook's last log lines ([`LogTail`]) |
//! | `alarms` | `service`, `data` | the triggered alarms' states and reasons ([`AlarmState`]) |
//! | `rollback` | `service`, `data` | the rollback ecsgate started and how it ended ([`Rollback`]) |
//!
//! `version` is [`FORMAT_VERSION`]; a start line without one is format 1 (one service, no `services`).
//! A reader refuses a recording whose format is newer than it knows, rather than judge it half-read.

use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::snapshot::{ServiceSnapshot, TaskDefinitionInfo};
use crate::engine::verdict::{AlarmState, LogTail, Rollback};
use crate::engine::{Diagnosis, Target, TaskRecord};

/// 1: one service per recording. 2: `services[]` on the start line (a gate over several services)
/// and `service` on log tails.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Start(Start),
    ServiceSnapshot {
        data: ServiceSnapshot,
    },
    TaskSnapshot {
        data: Value,
    },
    TaskDefinition {
        data: TaskDefinitionInfo,
    },
    TargetHealth {
        data: crate::engine::snapshot::TargetHealthInfo,
    },
    ServiceDeployment {
        data: crate::engine::snapshot::ServiceDeploymentSnapshot,
    },
    LogTail {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        data: LogTail,
    },
    HookLog {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        data: LogTail,
    },
    Alarms {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        data: Vec<AlarmState>,
    },
    Rollback {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        data: Rollback,
    },
    ManagedResources {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        data: crate::engine::snapshot::ManagedResources,
    },
}

impl Record {
    /// A diagnosis of one service (named in a gate over several), as a record line.
    pub fn diagnosis(service: Option<String>, d: &Diagnosis) -> Record {
        match d.clone() {
            Diagnosis::LogTail(data) => Record::LogTail { service, data },
            Diagnosis::HookLog(data) => Record::HookLog { service, data },
            Diagnosis::Alarms(data) => Record::Alarms { service, data },
            Diagnosis::Rollback(data) => Record::Rollback { service, data },
            Diagnosis::Managed(data) => Record::ManagedResources { service, data },
        }
    }
}

/// The `type` values of [`Record`]: a line with another `type` (ecsgate's own JSON output, say) is not
/// a record.
pub const TAGS: [&str; 11] = [
    "start",
    "service_snapshot",
    "task_snapshot",
    "task_definition",
    "target_health",
    "service_deployment",
    "log_tail",
    "hook_log",
    "alarms",
    "rollback",
    "managed_resources",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Start {
    #[serde(default = "format_1")]
    pub version: u32,
    /// The first (or only) target, at the top level as in format 1.
    #[serde(flatten)]
    pub target: Target,
    /// Every target of a gate over several services (format 2; empty for one service).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Target>,
    #[serde(default)]
    pub ecsgate: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
    /// When the change being deployed was committed (`ECSGATE_COMMIT_TIME`), for `ecsgate report`'s
    /// lead time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_at: Option<String>,
}

fn format_1() -> u32 {
    1
}

impl Start {
    pub fn new(targets: &[Target]) -> Self {
        Start {
            version: FORMAT_VERSION,
            target: targets.first().cloned().unwrap_or_default(),
            services: if targets.len() > 1 { targets.to_vec() } else { Vec::new() },
            ecsgate: Some(env!("CARGO_PKG_VERSION").to_string()),
            at: Some(crate::engine::time::format_rfc3339_millis(crate::engine::time::now_millis())),
            // Checked by the settings before anything is created (`commit_time`).
            commit_at: std::env::var("ECSGATE_COMMIT_TIME").ok().filter(|v| !v.trim().is_empty()),
        }
    }

    /// What the recording judged: every service of a multi-service gate, or the one target.
    pub fn targets(&self) -> Vec<Target> {
        if self.services.is_empty() { vec![self.first()] } else { self.services.clone() }
    }

    pub fn first(&self) -> Target {
        self.target.clone()
    }
}

/// Writes `--record` lines, flushed one by one: a recording must survive a killed process (its reason
/// to exist).
pub struct Recorder {
    out: std::io::BufWriter<std::fs::File>,
}

impl Recorder {
    /// A new recording at `path`: an existing file is refused unless `force` (the settings said why
    /// already); with `force` a symlink is removed first, never written through.
    pub fn create(path: &std::path::Path, force: bool) -> std::io::Result<Self> {
        if force && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(path)?;
        }
        let file = if force {
            std::fs::File::create(path)?
        } else {
            std::fs::OpenOptions::new().write(true).create_new(true).open(path)?
        };
        Ok(Recorder { out: std::io::BufWriter::new(file) })
    }

    pub fn write(&mut self, r: &Record) -> std::io::Result<()> {
        let s = serde_json::to_string(r).map_err(std::io::Error::other)?;
        self.line(&s)
    }

    /// An event as received, compacted so that one event stays one line.
    pub fn event(&mut self, body: &str) -> std::io::Result<()> {
        match serde_json::from_str::<Value>(body) {
            Ok(v) => self.line(&v.to_string()),
            Err(_) => Ok(()),
        }
    }

    /// Lines already in the recording format (`explain --record`: what it judged), written as they are.
    pub fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    pub fn task(&mut self, t: &TaskRecord) -> std::io::Result<()> {
        self.write(&Record::TaskSnapshot { data: t.to_detail_json() })
    }

    fn line(&mut self, s: &str) -> std::io::Result<()> {
        self.out.write_all(s.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::verdict::{RollbackBy, RollbackOutcome};

    #[test]
    fn every_record_kind_is_known_to_the_reader_by_its_tag() {
        // A tag missing from TAGS makes replay skip those lines silently: every kind must be listed.
        let tail = LogTail { log_group: "g".into(), log_stream: "s".into(), lines: vec![], note: None };
        let records = [
            Record::Start(Start::new(&[Target::default()])),
            Record::ServiceSnapshot { data: Default::default() },
            Record::TaskSnapshot { data: serde_json::json!({}) },
            Record::TaskDefinition { data: Default::default() },
            Record::TargetHealth { data: Default::default() },
            Record::ServiceDeployment { data: Default::default() },
            Record::LogTail { service: None, data: tail.clone() },
            Record::HookLog { service: None, data: tail },
            Record::Alarms { service: None, data: vec![] },
            Record::Rollback {
                service: None,
                data: Rollback {
                    by: RollbackBy::Ecsgate,
                    to: Some("td:1".into()),
                    deployment_id: None,
                    outcome: Some(RollbackOutcome::Failed),
                },
            },
            Record::ManagedResources { service: None, data: Default::default() },
        ];
        assert_eq!(records.len(), TAGS.len());
        for r in records {
            let v = serde_json::to_value(&r).unwrap();
            let tag = v["type"].as_str().unwrap().to_string();
            assert!(TAGS.contains(&tag.as_str()), "{tag} is not in TAGS");
            assert_eq!(serde_json::from_value::<Record>(v).unwrap(), r);
        }
    }

    #[test]
    fn a_format_1_start_line_reads_as_one_target() {
        let v: Record =
            serde_json::from_str(r#"{"type":"start","cluster":"shop","service":"api","deployment_id":"ecs-svc/1"}"#)
                .unwrap();
        let Record::Start(s) = v else { panic!("{v:?}") };
        assert_eq!(s.version, 1);
        assert_eq!(s.targets().len(), 1);
        assert_eq!(s.targets()[0].service.as_deref(), Some("api"));
    }

    #[test]
    fn a_start_line_for_several_services_round_trips() {
        let t = |s: &str| Target {
            cluster: Some("shop".into()),
            service: Some(s.into()),
            deployment_id: None,
            until: None,
            rollback_of: None,
        };
        let start = Start::new(&[t("api"), t("worker")]);
        let line = serde_json::to_string(&Record::Start(start.clone())).unwrap();
        assert!(line.starts_with(r#"{"type":"start","version":2,"cluster":"shop","service":"api""#), "{line}");
        let back: Record = serde_json::from_str(&line).unwrap();
        assert_eq!(back, Record::Start(start));
    }
}
