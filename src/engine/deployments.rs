//! Our deployment and the service's other deployments, as deployment events and the API told them:
//! which is ours, which is ECS's rollback, and when ours began.

use super::*;

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default)]
pub(super) struct DeploymentInfo {
    pub(super) created_ms: Option<i64>,
    pub(super) status: Option<String>,
    pub(super) rollout_state: Option<String>,
    pub(super) is_rollback: bool,
}

/// ECS's own rollback of our deployment, as far as the inputs told.
#[derive(Debug, Clone, Default)]
pub(super) struct EcsRollback {
    pub(super) id: Option<String>,
    pub(super) state: Option<String>,
}

#[derive(Default)]
pub(super) struct Deployments {
    pub(super) infos: HashMap<String, DeploymentInfo>,
    /// Deployment events already applied, keyed by (deployment id, eventName, reason): they have no
    /// version, and duplicates repeat all three. The reason is part of the key because a rollback that
    /// reuses an old id emits a second IN_PROGRESS for that id with a different reason.
    pub(super) seen: HashSet<(String, String, String)>,
    /// Ours was seen as an ordinary (not rolling-back) deployment: a later "rolling back" on our own id
    /// then means ours is being rolled back, not that ours is a rollback.
    pub(super) ours_seen_normal: bool,
    /// ECS's own rollback of ours: its deployment (when an event named it) and the last state it
    /// reached (COMPLETED, FAILED, IN_PROGRESS).
    pub(super) ecs_rollback: EcsRollback,
    /// With `--until drained`: the success that waits for the old tasks to stop.
    pub(super) pending_success: Option<String>,
}

impl Engine {
    pub(super) fn on_deployment_event(&mut self, e: DeploymentEvent, out: &mut Vec<Note>) {
        // Given a deployment id alone (a replay streamed with --deployment-id), the service is the one
        // whose event names it: from then on, other services' deployments are not ours to weigh.
        if self.target.service.is_none()
            && e.deployment_id.is_some()
            && e.deployment_id.as_deref() == self.ours()
            && let Some(arn) = &e.service_arn
        {
            self.target.service = Some(arn_name(arn).to_string());
            if self.target.cluster.is_none() {
                self.target.cluster = e.cluster_arn.clone().or_else(|| cluster_of_service_arn(arn).map(str::to_string));
            }
        }
        if !self.service_matches(e.service_arn.as_deref(), e.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        let Some(id) = e.deployment_id.clone() else {
            return;
        };
        let key = (id.clone(), e.event_name.clone(), e.reason.clone().unwrap_or_default());
        if !self.dep.seen.insert(key) {
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
            let info = self.dep.infos.entry(id.clone()).or_default();
            if state == "IN_PROGRESS" && info.created_ms.is_none() {
                info.created_ms = at;
            }
            info.rollout_state = Some(state.clone());
            if rollback_to.is_some() && !is_ours {
                info.is_rollback = true;
            }
        }
        if self.role_of(&id) == Role::EcsRollback {
            self.dep.ecs_rollback = EcsRollback { id: Some(id.clone()), state: Some(state.clone()) };
        }
        out.push(Note::Deployment {
            at,
            deployment_id: id.clone(),
            state: state.clone(),
            reason: e.reason.clone(),
            role: self.role_of(&id),
            source: Source::Event,
            stage: None,
        });
        let Some(ours) = ours else { return };
        match (state.as_str(), is_ours) {
            ("IN_PROGRESS", true) if rollback_to.is_none() => self.dep.ours_seen_normal = true,
            // "Rolling back" on our own id after it ran normally: ours is being rolled back. (If ours *is*
            // the rollback deployment the user waits on, it is judged like any other.)
            ("IN_PROGRESS", true) if self.dep.ours_seen_normal => {
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

    pub(super) fn role_of(&self, id: &str) -> Role {
        if Some(id) == self.ours() {
            self.our_role()
        } else if self.target.rollback_of.as_deref() == Some(id) {
            // The engine judging ecsgate's rollback still names the deployment that failed as ours.
            Role::Ours
        } else if self.dep.infos.get(id).is_some_and(|d| d.is_rollback) {
            Role::EcsRollback
        } else {
            Role::Other
        }
    }

    pub(super) fn our_created(&self) -> Option<i64> {
        self.ours().and_then(|id| self.dep.infos.get(id)).and_then(|d| d.created_ms)
    }

    /// Whether a deployment that appeared at `at` is newer than ours. When ours has no known creation
    /// time, `unknown` answers: a rollback is strong evidence either way (true), a mere other deployment
    /// is not (false) — it may be a late event of the previous one.
    pub(super) fn is_newer(&self, at: Option<i64>, unknown: bool) -> bool {
        match (at, self.our_created()) {
            (Some(a), Some(o)) => a > o,
            (None, Some(_)) => true,
            (_, None) => unknown,
        }
    }
}
