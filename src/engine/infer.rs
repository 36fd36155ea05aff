//! Inferring which deployment a recording is about, when `replay` is not told (README "Replay").
//!
//! Rules, first that applies:
//! 1. flags win; a recording's own `start` line (written by `wait --record`) comes next;
//! 2. the earliest (by `updatedAt`, then file order) SERVICE_DEPLOYMENT_IN_PROGRESS that is not a
//!    rollback ("rolling back to deploymentId" in its reason): a rollback is a consequence of the
//!    deployment being judged, not the deployment itself;
//! 3. else the first SERVICE_DEPLOYMENT_FAILED, else the first SERVICE_DEPLOYMENT_COMPLETED;
//! 4. else the PRIMARY deployment of the first DescribeServices snapshot;
//! 5. else the `startedBy` (`ecs-svc/…`) most task events carry.
//!
//! The service (and cluster) come from the chosen deployment's event or task when not given.

use super::event::EcsEvent;
use super::{Input, Target, arn_name, cluster_of_service_arn, rollback_target};

pub fn infer_target(inputs: &[Input], given: &Target) -> Target {
    let mut t = given.clone();
    let service_ok = |arn: Option<&str>| match (&given.service, arn) {
        (None, _) => true,
        (Some(w), Some(a)) => arn_name(w) == arn_name(a),
        (Some(_), None) => false,
    };
    if t.deployment_id.is_none() {
        let deployments = inputs.iter().enumerate().filter_map(|(i, x)| match x {
            Input::Event(EcsEvent::Deployment(d))
                if service_ok(d.service_arn.as_deref()) && d.deployment_id.is_some() =>
            {
                Some((i, d))
            }
            _ => None,
        });
        let mut in_progress: Vec<_> = deployments
            .clone()
            .filter(|(_, d)| {
                d.event_name == "SERVICE_DEPLOYMENT_IN_PROGRESS"
                    && d.reason.as_deref().and_then(rollback_target).is_none()
            })
            .collect();
        in_progress.sort_by_key(|(i, d)| (d.at_ms().unwrap_or(i64::MAX), *i));
        let chosen = in_progress
            .first()
            .copied()
            .or_else(|| deployments.clone().find(|(_, d)| d.event_name == "SERVICE_DEPLOYMENT_FAILED"))
            .or_else(|| deployments.clone().find(|(_, d)| d.event_name == "SERVICE_DEPLOYMENT_COMPLETED"));
        if let Some((_, d)) = chosen {
            t.deployment_id = d.deployment_id.clone();
            if t.service.is_none() {
                t.service = d.service_arn.as_deref().map(|a| arn_name(a).to_string());
            }
            if t.cluster.is_none() {
                t.cluster = d
                    .cluster_arn
                    .as_deref()
                    .map(arn_name)
                    .or_else(|| d.service_arn.as_deref().and_then(cluster_of_service_arn))
                    .map(str::to_string);
            }
        }
    }
    if t.deployment_id.is_none() {
        let snap = inputs.iter().find_map(|x| match x {
            Input::Service(s) if service_ok(Some(&s.service_arn)) => Some(s),
            _ => None,
        });
        if let Some(s) = snap
            && let Some(p) = s.deployments.iter().find(|d| d.status == "PRIMARY")
        {
            t.deployment_id = Some(p.id.clone());
            if t.service.is_none() {
                t.service = Some(arn_name(&s.service_arn).to_string());
            }
        }
    }
    if t.deployment_id.is_none() {
        struct Seen {
            started_by: String,
            service: Option<String>,
            count: usize,
            first: usize,
            cluster: Option<String>,
        }
        let mut counts: Vec<Seen> = Vec::new();
        for (i, x) in inputs.iter().enumerate() {
            let task = match x {
                Input::Event(EcsEvent::Task(t)) | Input::Task(t) => t,
                _ => continue,
            };
            let svc = task.group.as_deref().and_then(|g| g.strip_prefix("service:")).map(str::to_string);
            if given.service.as_deref().is_some_and(|w| svc.as_deref() != Some(arn_name(w))) {
                continue;
            }
            let Some(sb) = task.started_by.as_deref().filter(|s| s.starts_with("ecs-svc/")) else {
                continue;
            };
            match counts.iter_mut().find(|c| c.started_by == sb) {
                Some(c) => c.count += 1,
                None => counts.push(Seen {
                    started_by: sb.to_string(),
                    service: svc,
                    count: 1,
                    first: i,
                    cluster: task.cluster_arn.as_deref().map(|c| arn_name(c).to_string()),
                }),
            }
        }
        if let Some(best) = counts.iter().max_by_key(|c| (c.count, std::cmp::Reverse(c.first))) {
            t.deployment_id = Some(best.started_by.clone());
            if t.service.is_none() {
                t.service = best.service.clone();
            }
            if t.cluster.is_none() {
                t.cluster = best.cluster.clone();
            }
        }
    }
    // With a deployment id given but no service, take the service from its events.
    if t.service.is_none()
        && let Some(id) = &t.deployment_id
    {
        t.service = inputs.iter().find_map(|x| match x {
            Input::Event(EcsEvent::Deployment(d)) if d.deployment_id.as_ref() == Some(id) => {
                d.service_arn.as_deref().map(|a| arn_name(a).to_string())
            }
            Input::Event(EcsEvent::Task(tk)) if tk.started_by.as_ref() == Some(id) => {
                tk.group.as_deref().and_then(|g| g.strip_prefix("service:")).map(str::to_string)
            }
            _ => None,
        });
    }
    t
}
