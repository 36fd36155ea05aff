//! Diagnosis of a failed task: the culprit container and the hint (HINTS.md §0).

use super::event::{ContainerRecord, TaskRecord};
use super::hints::{self, render};
use super::snapshot::TaskDefinitionInfo;
use super::time::format_rfc3339_millis;
use super::verdict::{ContainerOut, Culprit, FailedTask};

/// Containers that are sidecars by convention; used only when the task definition's essential flags are
/// unknown, and then only to demote, never to exclude.
fn looks_like_sidecar(name: &str) -> bool {
    name.starts_with("aws-guardduty-agent")
        || name.contains("log_router")
        || name.contains("log-router")
        || name.contains("xray")
        || name.starts_with("aws-otel")
        || name.starts_with("ecs-service-connect")
}

fn essential(td: Option<&TaskDefinitionInfo>, name: &str) -> Option<bool> {
    td?.containers.iter().find(|c| c.name == name).map(|c| c.essential)
}

/// `name exit N (reason)`.
pub fn describe_container(c: &ContainerRecord) -> String {
    let mut s = c.name.clone();
    match c.exit_code {
        Some(x) => s.push_str(&format!(" exit {x}")),
        None => s.push_str(" (no exit code)"),
    }
    if let Some(r) = &c.reason {
        s.push_str(&format!(": {r}"));
    }
    s
}

pub fn failed_task(t: &TaskRecord, td: Option<&TaskDefinitionInfo>) -> FailedTask {
    FailedTask {
        task_arn: t.task_arn.clone(),
        task_definition: t.task_definition_arn.clone(),
        stop_code: t.stop_code.clone(),
        stopped_reason: t.stopped_reason.clone(),
        stopped_at: t.stopped_at_ms.map(format_rfc3339_millis),
        containers: t
            .containers
            .iter()
            .map(|c| ContainerOut {
                name: c.name.clone(),
                exit_code: c.exit_code,
                reason: c.reason.clone(),
                essential: essential(td, &c.name),
            })
            .collect(),
    }
}

/// The container to blame: the essential container that failed first.
///
/// Events carry no per-container stop time and no essential flag, so the order is a documented
/// heuristic. Essential containers (task definition) come first; with flags unknown, conventional
/// sidecars (GuardDuty agent, FireLens log router, X-Ray, OTel) come last. Among those, the first of:
/// a container with a `reason` (OOM, start errors), a non-zero exit other than 137/143 (it crashed on its
/// own), 137 (killed), 0 (a service's process ended), no exit code, and last 143 — the SIGTERM ECS sends
/// to the other containers after an essential one died. Ties go to definition order.
pub fn culprit(t: &TaskRecord, td: Option<&TaskDefinitionInfo>) -> Option<Culprit> {
    let rank = |c: &ContainerRecord| {
        let group = match essential(td, &c.name) {
            Some(true) => 0,
            None if looks_like_sidecar(&c.name) => 1,
            None => 0,
            Some(false) => 2,
        };
        let severity = match (c.reason.is_some(), c.exit_code) {
            (true, _) => 0,
            (false, Some(x)) if x != 0 && x != 137 && x != 143 => 1,
            (false, Some(137)) => 2,
            (false, Some(0)) => 3,
            (false, None) => 4,
            (false, Some(_)) => 5,
        };
        (group, severity)
    };
    let c = t.containers.iter().enumerate().min_by_key(|(i, c)| (rank(c), *i)).map(|(_, c)| c);
    Some(Culprit {
        task_arn: t.task_arn.clone(),
        container: c.map(|c| c.name.clone()),
        exit_code: c.and_then(|c| c.exit_code),
        reason: c.and_then(|c| c.reason.clone()).or_else(|| t.stopped_reason.clone()),
    })
}

/// The hint for a failed task: the most specific evidence wins (HINTS.md §0 order of evidence).
/// Container reason, then task reason (both only when specific), then the exit code, then the generic
/// text rows, then the stop code.
pub fn hint_for(t: &TaskRecord, c: Option<&Culprit>) -> Option<String> {
    let container_reason = c.and_then(|c| {
        t.containers.iter().find(|x| Some(&x.name) == c.container.as_ref()).and_then(|x| x.reason.as_deref())
    });
    let texts = [container_reason, t.stopped_reason.as_deref()];
    let matched: Vec<_> = texts.iter().flatten().filter_map(|s| hints::match_text(s)).collect();
    if let Some(row) = matched.iter().find(|r| !r.generic) {
        return Some(render(row));
    }
    if let Some(c) = c
        && c.container.is_some()
        && let Some(row) = hints::match_exit_code(c.exit_code)
    {
        let prefix = c.exit_code.map(|x| format!("{} exited {x}: ", c.container.as_deref().unwrap_or("container")));
        return Some(format!("{}{}", prefix.unwrap_or_default(), render(row)));
    }
    if let Some(row) = matched.first() {
        return Some(render(row));
    }
    Some(render(hints::match_stop_code(t.stop_code.as_deref())))
}

/// Failed tasks grouped by what stopped them, most frequent first: `(count, label)`.
pub fn group_by_reason(tasks: &[FailedTask]) -> Vec<(usize, String)> {
    let mut groups: Vec<(usize, String)> = Vec::new();
    for t in tasks {
        let label = format!(
            "{}: {}",
            t.stop_code.as_deref().unwrap_or("no stop code"),
            t.stopped_reason.as_deref().unwrap_or("no reason given")
        );
        match groups.iter_mut().find(|g| g.1 == label) {
            Some(g) => g.0 += 1,
            None => groups.push((1, label)),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    groups
}
