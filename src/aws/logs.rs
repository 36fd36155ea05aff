//! The culprit container's last CloudWatch Logs lines (awslogs driver).

use super::{Clients, Kind, err_info};
use crate::engine::event::short_task_id;
use crate::engine::snapshot::AwsLogsConfig;
use crate::engine::verdict::LogTail;

/// awslogs names streams `<prefix>/<container>/<task id>`; without a prefix the stream is named after
/// the container id, which the task events do not carry.
pub async fn tail(c: &Clients, cfg: &AwsLogsConfig, container: &str, task_arn: &str, lines: i32) -> LogTail {
    let Some(prefix) = &cfg.stream_prefix else {
        return unread(&cfg.group, "no awslogs-stream-prefix: the stream name cannot be derived".into());
    };
    let stream = format!("{prefix}/{container}/{}", short_task_id(task_arn));
    read_stream(c, &cfg.group, stream, lines).await
}

/// No lines, and why.
fn unread(group: &str, note: String) -> LogTail {
    LogTail { log_group: group.to_string(), log_stream: String::new(), lines: Vec::new(), note: Some(note) }
}

/// Why a logs call gave nothing: the permission it needs, or what is missing.
fn skipped(info: &super::ErrInfo, permission: &str, missing: &str) -> String {
    match info.kind {
        Kind::AccessDenied => format!("skipped: not permitted ({permission})"),
        Kind::NotFound => format!("skipped: {missing}"),
        _ => format!("skipped: {info}"),
    }
}

/// The last `lines` lines of one stream, or why they could not be read.
async fn read_stream(c: &Clients, group: &str, stream: String, lines: i32) -> LogTail {
    let res = c
        .logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .limit(lines)
        .start_from_head(false)
        .send()
        .await;
    let (lines, note) = match res {
        Ok(out) => (out.events().iter().filter_map(|e| e.message().map(|m| m.trim_end().to_string())).collect(), None),
        Err(e) => {
            let missing = "the log stream does not exist (the container may never have started)";
            (Vec::new(), Some(skipped(&err_info(&e), "logs:GetLogEvents", missing)))
        }
    };
    LogTail { log_group: group.to_string(), log_stream: stream, lines, note }
}

/// A Lambda function's last log lines: the newest stream of `/aws/lambda/<name>` (Lambda writes one
/// stream per execution environment, named by date and instance, so the newest is found by listing).
pub async fn lambda_tail(c: &Clients, function: &str, lines: i32) -> LogTail {
    let group = format!("/aws/lambda/{function}");
    let streams = c
        .logs
        .describe_log_streams()
        .log_group_name(&group)
        .order_by(aws_sdk_cloudwatchlogs::types::OrderBy::LastEventTime)
        .descending(true)
        .limit(1)
        .send()
        .await;
    let stream = match streams {
        Ok(out) => match out.log_streams().first().and_then(|s| s.log_stream_name()) {
            Some(s) => s.to_string(),
            None => return unread(&group, "no log stream: the function may never have run".into()),
        },
        Err(e) => {
            let missing = "the log group does not exist (the function may never have run)";
            return unread(&group, skipped(&err_info(&e), "logs:DescribeLogStreams", missing));
        }
    };
    read_stream(c, &group, stream, lines).await
}
