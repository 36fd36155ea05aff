//! The service as DescribeServices and service-action events tell it: counts, warnings, and its own
//! event log (the evidence when ECS has forgotten the stopped tasks).

use super::*;

use std::collections::HashSet;

#[derive(Default)]
pub(super) struct ServiceLog {
    /// (running, pending, desired, failed) of our deployment, as the last snapshot counted them.
    pub(super) counts: Option<(i64, i64, i64, i64)>,
    pub(super) warnings: Vec<(String, Option<String>)>,
    pub(super) seen_warnings: HashSet<(String, String)>,
    pub(super) last_event: Option<String>,
    /// Ids of service event messages already in the timeline.
    pub(super) seen_events: HashSet<String>,
    /// Service event messages that tell of a failure, oldest first (the evidence when no task is left).
    pub(super) evidence: Vec<String>,
    /// Running and pending tasks of the other deployments, as the last snapshot counted them.
    pub(super) others_active: Option<i64>,
    /// ECS could not place a task and none of ours has started since: the deployment waits for
    /// capacity, which is not a failure (issue 17 item 6) but is what a stalled deployment is doing.
    pub(super) capacity_wait: bool,
}

impl Engine {
    pub(super) fn on_service_snapshot(&mut self, s: ServiceSnapshot, out: &mut Vec<Note>) {
        if !self.service_matches(Some(&s.service_arn), s.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        self.on_express_snapshot(&s);
        for d in &s.deployments {
            let known = self.dep.infos.contains_key(&d.id);
            let info = self.dep.infos.entry(d.id.clone()).or_default();
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
                    stage: None,
                });
            }
        }
        self.service_events(&s, out);
        let Some(ours) = self.ours().map(str::to_string) else {
            return;
        };
        self.service.others_active =
            Some(s.deployments.iter().filter(|d| d.id != ours).map(|d| d.running_count + d.pending_count).sum());
        if self.service.others_active == Some(0)
            && let Some(reason) = self.dep.pending_success.take()
        {
            self.decide(Outcome::Succeeded, format!("{reason}; every task of the older deployments has stopped"), out);
        }
        if let Some(c) = &s.deployment_configuration {
            if self.sd.strategy.is_none() {
                self.sd.strategy = c.strategy.clone();
            }
            self.sd.hook_config = c.hooks.clone();
            self.sd.early_success = c.early_success.clone();
        }
        // While ours is PRIMARY, the service's current service deployment is ours.
        if self.sd.ours.is_none()
            && s.deployments.iter().any(|d| d.id == ours && d.status == "PRIMARY")
            && let Some(sd) = &s.current_service_deployment
        {
            self.sd.ours = Some(sd.clone());
        }
        let primary = s.deployments.iter().find(|d| d.status == "PRIMARY");
        let mine = s.deployments.iter().find(|d| d.id == ours);
        if let Some(m) = mine {
            if m.rollout_state_reason.as_deref().and_then(rollback_target).is_none() {
                self.dep.ours_seen_normal = true;
            }
            let c = (m.running_count, m.pending_count, m.desired_count, m.failed_tasks);
            if self.service.counts != Some(c) {
                self.service.counts = Some(c);
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
                    && self.dep.ours_seen_normal
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

    pub(super) fn on_service_action(&mut self, e: ServiceActionEvent, out: &mut Vec<Note>) {
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
                if self.service.last_event.as_deref() != Some(e.event_name.as_str()) {
                    self.service.last_event = Some(e.event_name.clone());
                    out.push(Note::Service { at, event_name: e.event_name });
                } else {
                    self.stats.duplicates += 1;
                }
            }
            _ => {
                // Before the de-duplication: ECS repeats the same placement failure while it keeps trying.
                if e.event_name == "SERVICE_TASK_PLACEMENT_FAILURE" {
                    self.service.capacity_wait = true;
                }
                let key = (e.event_name.clone(), e.reason.clone().unwrap_or_default());
                if !self.service.seen_warnings.insert(key) {
                    self.stats.duplicates += 1;
                    return;
                }
                self.service.last_event = None;
                let hint = e.reason.as_deref().and_then(hints::match_text).map(hints::render).or_else(|| {
                    (e.event_name == "SERVICE_TASK_START_IMPAIRED")
                        .then(|| {
                            hints::match_text("unable to consistently start tasks successfully").map(hints::render)
                        })
                        .flatten()
                });
                self.service.warnings.push((e.event_name.clone(), e.reason.clone()));
                out.push(Note::Warning { at, event_name: e.event_name, reason: e.reason, hint });
            }
        }
    }

    /// The service's event messages since our deployment began, into the timeline once each; failures
    /// among them are kept as evidence. Before our deployment's start is known, none are taken: older
    /// messages are about older deployments.
    pub(super) fn service_events(&mut self, s: &ServiceSnapshot, out: &mut Vec<Note>) {
        let Some(since) = self.our_created() else { return };
        // Newest first in the API: the timeline wants them oldest first.
        for e in s.events.iter().rev() {
            if e.created_at_ms.is_some_and(|t| t < since) || e.message.is_empty() {
                continue;
            }
            let key = if e.id.is_empty() { e.message.clone() } else { e.id.clone() };
            if !self.service.seen_events.insert(key) {
                continue;
            }
            if is_failure_message(&e.message) {
                if self.service.evidence.len() >= EVIDENCE_CAP {
                    self.service.evidence.remove(0);
                }
                self.service.evidence.push(e.message.clone());
            }
            out.push(Note::ServiceEvent { at: e.created_at_ms, message: e.message.clone() });
        }
    }
}
