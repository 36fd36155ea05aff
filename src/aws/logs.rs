//! The culprit container's last CloudWatch Logs lines (awslogs driver).

use super::{Clients, Kind, err_info};
use crate::engine::event::short_task_id;
use crate::engine::snapshot::AwsLogsConfig;
use crate::engine::verdict::LogTail;

/// awslogs names streams `<prefix>/<container>/<task id>`; without a prefix the stream is named after
/// the container id, which the task events do not carry.
pub async fn tail(c: &Clients, cfg: &AwsLogsConfig, container: &str, task_arn: &str, lines: i32) -> LogTail {
    let Some(prefix) = &cfg.stream_prefix else {
        return LogTail {
            log_group: cfg.group.clone(),
            log_stream: String::new(),
            lines: Vec::new(),
            note: Some("no awslogs-stream-prefix: the stream name cannot be derived".into()),
        };
    };
    let stream = format!("{prefix}/{container}/{}", short_task_id(task_arn));
    let res = c
        .logs
        .get_log_events()
        .log_group_name(&cfg.group)
        .log_stream_name(&stream)
        .limit(lines)
        .start_from_head(false)
        .send()
        .await;
    let (lines, note) = match res {
        Ok(out) => (out.events().iter().filter_map(|e| e.message().map(|m| m.trim_end().to_string())).collect(), None),
        Err(e) => {
            let info = err_info(&e);
            let note = match info.kind {
                Kind::AccessDenied => "skipped: not permitted (logs:GetLogEvents)".to_string(),
                Kind::NotFound => {
                    "skipped: the log stream does not exist (the container may never have started)".to_string()
                }
                _ => format!("skipped: {info}"),
            };
            (Vec::new(), Some(note))
        }
    };
    LogTail { log_group: cfg.group.clone(), log_stream: stream, lines, note }
}
