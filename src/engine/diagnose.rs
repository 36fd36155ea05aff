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

/// The target group in a stopped reason: "Task failed ELB health checks in (target-group arn:…)" or
/// "… is unhealthy in (target-group arn:…)".
pub fn target_group_of(reason: &str) -> Option<&str> {
    let i = reason.find("(target-group ")? + "(target-group ".len();
    let rest = &reason[i..];
    let arn = rest.split([')', ' ']).next()?;
    arn.starts_with("arn:").then_some(arn)
}

/// Which target to quote: a failing one with a reason (not merely draining), else any with a reason.
pub fn health_check(th: &crate::engine::snapshot::TargetHealthInfo) -> Option<crate::engine::verdict::HealthCheck> {
    let failing = |t: &&crate::engine::snapshot::TargetHealthEntry| {
        t.state == "unhealthy" && t.reason.as_deref().is_some_and(|r| r != "Target.DeregistrationInProgress")
    };
    let target = th.targets.iter().find(failing).or_else(|| th.targets.iter().find(|t| t.reason.is_some()));
    Some(crate::engine::verdict::HealthCheck {
        target_group: th.target_group_arn.clone(),
        protocol: th.protocol.clone(),
        port: th.port.clone(),
        path: th.path.clone(),
        matcher: th.matcher.clone(),
        reason_code: target.and_then(|t| t.reason.clone()),
        description: target.and_then(|t| t.description.clone()),
    })
}

/// The check in one phrase: `HTTP GET /healthz on port 8080, expecting 200`.
pub fn describe_check(h: &crate::engine::verdict::HealthCheck) -> String {
    let proto = h.protocol.as_deref().unwrap_or("HTTP");
    let port = match h.port.as_deref() {
        None | Some("traffic-port") => "the traffic port".to_string(),
        Some(p) => format!("port {p}"),
    };
    let path = h.path.as_deref().map(|p| format!(" GET {p}")).unwrap_or_default();
    let expect = h.matcher.as_deref().map(|m| format!(", expecting {m}")).unwrap_or_default();
    format!("{proto}{path} on {port}{expect}")
}

/// The hint for a load-balancer failure, from the target group's own reason code.
pub fn health_check_hint(h: &crate::engine::verdict::HealthCheck) -> String {
    let check = describe_check(h);
    let path = h.path.as_deref().unwrap_or("the health check path");
    let matcher = h.matcher.as_deref().unwrap_or("the expected code");
    let said = match (&h.reason_code, &h.description) {
        (Some(r), Some(d)) => format!(" The target group says {r}: {d}."),
        (Some(r), None) => format!(" The target group says {r}."),
        _ => String::new(),
    };
    let advice = match h.reason_code.as_deref() {
        Some("Target.ResponseCodeMismatch") => format!(
            "The app answered, with the wrong status: make {path} return {matcher} without redirects or authentication, or change the target group's path or matcher."
        ),
        Some("Target.Timeout") => "The app did not answer in time: is it listening on that port on 0.0.0.0 (not 127.0.0.1), does the security group admit the load balancer, and does it start within the service's healthCheckGracePeriodSeconds?".to_string(),
        Some("Target.FailedHealthChecks") => "The connection failed: check the container's port mapping, that the app listens on 0.0.0.0, and the security groups between load balancer and task.".to_string(),
        _ => "Check that the app answers the health check on that port and path, and the security groups between load balancer and task.".to_string(),
    };
    format!("The load balancer's health check ({check}) failed.{said} {advice}")
}

/// The hint for a failed or timed-out lifecycle hook. `reason` is ECS's statusReason (or ecsgate's
/// decision), which for a Lambda hook often says exactly what went wrong.
pub fn hook_hint(h: &crate::engine::verdict::Hook, reason: Option<&str>) -> String {
    let stage = h.lifecycle_stage.as_deref().unwrap_or("its lifecycle stage");
    let logs = h
        .target_arn
        .as_deref()
        .map(|a| format!("/aws/lambda/{}", lambda_function_name(a)))
        .unwrap_or_else(|| "/aws/lambda/<function>".into());
    let reason = reason.unwrap_or("");
    if reason.contains("unable to assume role") {
        return format!(
            "ECS could not assume the hook's role (lifecycleHooks[].roleArn) at {stage}: its trust policy must admit ecs.amazonaws.com, and it must allow lambda:InvokeFunction on the hook's function."
        );
    }
    if reason.contains("unable to parse the response") || reason.contains("HookStatus must not be null") {
        return format!(
            "The Lambda hook at {stage} returned no usable answer: it must return {{\"hookStatus\": \"SUCCEEDED\"}} (or FAILED, or IN_PROGRESS with callBackDelay) and not raise; read its logs in {logs}."
        );
    }
    if reason.contains("is not authorized to perform") {
        return format!(
            "A role ECS uses at {stage} lacks a permission (ECS's reason names the action): grant it to that role (for traffic shifts, the infrastructure role's elasticloadbalancing:ModifyListener / ModifyRule)."
        );
    }
    match (h.hook_type.as_deref(), h.status.as_str()) {
        (Some("PAUSE"), "TIMED_OUT") => format!(
            "The pause hook at {stage} was not continued before it expired, and its timeout action rolled the deployment back. Continue it in time: aws ecs continue-service-deployment --service-deployment-arn ARN --hook-id ID (or raise timeoutConfiguration.timeoutInMinutes)."
        ),
        (Some("PAUSE"), _) => format!(
            "The pause hook at {stage} was answered with ROLLBACK (continue-service-deployment --action ROLLBACK)."
        ),
        (_, "TIMED_OUT") => format!(
            "The Lambda hook at {stage} did not answer in time: it must return hookStatus SUCCEEDED or FAILED (IN_PROGRESS makes ECS call again) before the timeout; read its logs in {logs}."
        ),
        _ => format!(
            "The Lambda hook at {stage} returned FAILED (or raised an error, or returned no hookStatus): read its logs in {logs} and the statusReason of the service deployment (aws ecs describe-service-deployments)."
        ),
    }
}

/// `arn:aws:lambda:us-west-2:123456789012:function:myHook[:alias]` → `myHook` (the log group's name is
/// `/aws/lambda/myHook` whatever the version or alias). Anything else is returned as it is.
pub fn lambda_function_name(arn: &str) -> &str {
    match arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => arn,
    }
}

/// The hook ECS names in a service deployment's statusReason:
/// "Service deployment rolled back because PRE_SCALE_UP lifecycle hook(s) failed. Lifecycle hook target
/// arn:aws:lambda:…:function:x returned FAILED status." or "… because POST_TEST_TRAFFIC_SHIFT pause hook
/// timed out." Other reasons (circuit breaker, networking) name no hook: `None`.
pub fn hook_from_reason(reason: &str) -> Option<crate::engine::verdict::Hook> {
    let (before, pause) = if let Some(i) = reason.find(" lifecycle hook") {
        (&reason[..i], false)
    } else if let Some(i) = reason.find(" pause hook") {
        (&reason[..i], true)
    } else {
        return None;
    };
    let stage =
        before.rsplit(' ').next().filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
    let target = reason
        .split_whitespace()
        .find(|w| w.starts_with("arn:") && w.contains(":lambda:"))
        .map(|w| w.trim_end_matches(['.', ',']).to_string());
    let timed_out = reason.contains("timed out");
    Some(crate::engine::verdict::Hook {
        hook_id: None,
        hook_type: Some(if pause { "PAUSE" } else { "AWS_LAMBDA" }.to_string()),
        lifecycle_stage: stage.map(str::to_string),
        status: if timed_out { "TIMED_OUT" } else { "FAILED" }.to_string(),
        service_deployment_arn: None,
        target_arn: target,
        log_tail: None,
    })
}

/// The hint for a rollback CloudWatch alarms triggered: each alarm's own state reason when read.
pub fn alarm_hint(names: &[String], states: &[crate::engine::verdict::AlarmState]) -> String {
    let said: Vec<String> = states
        .iter()
        .filter_map(|a| a.reason.as_deref().map(|r| format!("{}: {}", a.name, r.trim_end_matches('.'))))
        .collect();
    if said.is_empty() {
        format!(
            "CloudWatch alarm(s) {} went into ALARM during the deployment and ECS rolled it back: read each alarm's state reason (aws cloudwatch describe-alarms --alarm-names …) and the metrics it watches for the new revision.",
            names.join(", ")
        )
    } else {
        format!(
            "CloudWatch alarm(s) went into ALARM during the deployment and ECS rolled it back ({}). Look at what the new revision does to the metric each watches; an alarm already in ALARM when a deployment starts is ignored by ECS.",
            said.join("; ")
        )
    }
}
