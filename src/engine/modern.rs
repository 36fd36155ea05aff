//! Our service deployment (the ServiceDeployment API) and its lifecycle hooks: status, stage, strategy,
//! traffic share, bake time, the circuit breaker as ECS counts it, and the hook that failed ours.

use std::collections::HashSet;

use super::*;

/// How often a service's deployment needs reading from the API (see `Engine::pace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pace {
    /// Events tell everything that decides it (rolling, or nothing of ours to read).
    Events,
    /// A modern deployment in a bake with more than a minute left.
    Baking,
    /// A modern deployment of ours between stages: its next transition has no event.
    Moving,
}

#[derive(Default)]
pub(super) struct ServiceDeploymentState {
    /// Our deployment's service-deployment ARN, once a snapshot named it.
    pub(super) ours: Option<String>,
    /// Hook events already applied (id, eventName): duplicates repeat both.
    pub(super) seen_hooks: HashSet<(String, String)>,
    /// The hook that failed our deployment.
    pub(super) failed_hook: Option<verdict::Hook>,
    /// The latest lifecycle stage a hook event named for our deployment (shown in progress).
    pub(super) stage: Option<String>,
    /// ECS's circuit breaker for our service deployment, as the API counts it.
    pub(super) breaker: Option<verdict::Breaker>,
    /// The deployment strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY), as the API names it.
    pub(super) strategy: Option<String>,
    /// Production traffic requested for our revision during a shift (percent).
    pub(super) production_weight: Option<f64>,
    /// BAKE_TIME: (configured minutes, when the stage began, the newest snapshot's time), epoch ms.
    pub(super) bake: Option<(i32, i64, i64)>,
    /// The configured lifecycle hooks (DescribeServices): which Lambda a hook at a stage calls.
    pub(super) hook_config: Vec<snapshot::HookConfig>,
    /// The last ServiceDeployment status and stage shown in the timeline.
    pub(super) last_state: Option<String>,
    /// The service's `earlySuccessCriteria`, when enabled: a success may come with old tasks still
    /// running, and after it ECS no longer rolls back.
    pub(super) early_success: Option<snapshot::EarlySuccess>,
    /// The service revision our service deployment installs.
    pub(super) target_revision: Option<String>,
}

impl Engine {
    /// ECS's own account of our service deployment decides like the classic rolloutState does: SUCCESSFUL
    /// is success; a rollback or a stop (requested or done) is failure, with ECS's reason and the alarms
    /// that triggered it. Other statuses (PENDING, IN_PROGRESS, values added later) only show progress.
    pub(super) fn on_service_deployment(&mut self, sd: snapshot::ServiceDeploymentSnapshot, out: &mut Vec<Note>) {
        // Not pinned by a snapshot (ours was no longer PRIMARY): a service deployment whose target
        // revision carries our ecs-svc number is ours. The mapping is terraform-provider-aws's
        // (findPrimaryDeploymentARN), not documented: only an exact match pins.
        if self.sd.ours.is_none()
            && let (Some(ours), Some(rev)) = (self.ours(), sd.target_revision_arn.as_deref())
            && ours.strip_prefix("ecs-svc/").is_some_and(|n| !n.is_empty() && rev.rsplit('/').next() == Some(n))
        {
            self.sd.ours = Some(sd.arn.clone());
        }
        if self.sd.ours.as_deref() != Some(sd.arn.as_str()) {
            self.stats.other_services += 1;
            return;
        }
        if sd.target_revision_arn.is_some() {
            self.sd.target_revision = sd.target_revision_arn.clone();
        }
        if sd.strategy.is_some() {
            self.sd.strategy = sd.strategy.clone();
        }
        if let Some(stage) = &sd.lifecycle_stage {
            self.sd.stage = Some(stage.clone());
        }
        self.sd.production_weight = sd.production_weight;
        self.sd.bake = match (sd.lifecycle_stage.as_deref(), sd.bake_time_minutes, sd.at_ms) {
            // The stage's start: the deployment's updatedAt if it says, else the first snapshot in it.
            (Some("BAKE_TIME"), Some(m), Some(now)) => {
                let began = self.sd.bake.map(|(_, b, _)| b).or(sd.updated_at_ms).unwrap_or(now).min(now);
                Some((m, began, now))
            }
            _ => None,
        };
        self.sd.breaker = sd.circuit_breaker.as_ref().map(|(status, n, t)| verdict::Breaker {
            status: status.clone(),
            failure_count: *n,
            threshold: *t,
        });
        // A new line when the status, the stage or the traffic share changes (not the bake countdown).
        let key = format!("{} {} {:?}", sd.status, sd.lifecycle_stage.as_deref().unwrap_or(""), sd.production_weight);
        if self.sd.last_state.as_deref() != Some(key.as_str()) {
            self.sd.last_state = Some(key);
            out.push(Note::Deployment {
                at: sd.at_ms,
                deployment_id: sd.arn.rsplit('/').next().unwrap_or(&sd.arn).to_string(),
                state: format!(
                    "service deployment {}{}",
                    sd.status,
                    self.stage_text()
                        .filter(|_| sd.lifecycle_stage.is_some())
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default()
                ),
                reason: sd.status_reason.clone(),
                role: self.our_role(),
                source: Source::Api,
                stage: sd.lifecycle_stage.clone(),
            });
        }
        // The hooks of the current stage: the API's account, for when their events are late, lost, or
        // (Lambda hooks) not documented to exist.
        for h in &sd.hooks {
            self.on_hook_detail(&sd, h, out);
        }
        let shifted = matches!(sd.lifecycle_stage.as_deref(), Some("BAKE_TIME" | "CLEAN_UP"));
        if self.detach == Some(DetachAt::TrafficShifted) && shifted && sd.status == "IN_PROGRESS" {
            let id = self.ours().unwrap_or_default().to_string();
            let stage = sd.lifecycle_stage.clone().unwrap_or_default();
            let reason =
                format!("detached once production traffic was on deployment {id} ({stage}); the deployment goes on");
            self.decide(Outcome::Detached, reason, out);
            return;
        }
        if self.until == Until::TrafficShifted && shifted && sd.status == "IN_PROGRESS" {
            let id = self.ours().unwrap_or_default().to_string();
            let stage = sd.lifecycle_stage.clone().unwrap_or_default();
            self.decide(
                Outcome::Succeeded,
                format!("production traffic is on deployment {id} ({stage}); --until traffic-shifted does not wait for the bake"),
                out,
            );
            return;
        }
        match sd.status.as_str() {
            "SUCCESSFUL" => {
                let id = self.ours().unwrap_or_default().to_string();
                self.decide(
                    Outcome::Succeeded,
                    format!("deployment {id} completed (service deployment SUCCESSFUL)"),
                    out,
                );
            }
            status if is_failed_sd_status(status) => {
                let mut reason = sd
                    .status_reason
                    .clone()
                    .or(sd.rollback_reason.clone())
                    .unwrap_or_else(|| format!("service deployment {}", sd.status));
                if !sd.triggered_alarms.is_empty() {
                    reason.push_str(&format!(" (alarms in ALARM: {})", sd.triggered_alarms.join(", ")));
                }
                self.alarms.triggered = sd.triggered_alarms.clone();
                // ECS names a failed hook in its reason ("… because PRE_SCALE_UP lifecycle hook(s)
                // failed. Lifecycle hook target arn:aws:lambda:… returned FAILED status."): the hook is
                // the culprit even when no hook event or hook detail said so.
                if self.sd.failed_hook.is_none()
                    && let Some(mut h) = sd.status_reason.as_deref().and_then(diagnose::hook_from_reason)
                {
                    h.service_deployment_arn = Some(sd.arn.clone());
                    self.sd.failed_hook = Some(h);
                }
                if sd.status.starts_with("ROLLBACK") {
                    self.dep.ecs_rollback.state = Some(match sd.status.as_str() {
                        "ROLLBACK_SUCCESSFUL" => "COMPLETED".into(),
                        "ROLLBACK_FAILED" => "FAILED".into(),
                        _ => "IN_PROGRESS".into(),
                    });
                    let decided =
                        self.decide_full(Outcome::Failed, reason, Some("the previous revision".into()), None, out);
                    if !decided
                        && let Some(d) = &mut self.decision
                        && d.outcome == Outcome::Failed
                        && d.rollback_to.is_none()
                    {
                        d.rollback_to = Some("the previous revision".into());
                    }
                } else {
                    self.decide(Outcome::Failed, reason, out);
                }
            }
            _ => {}
        }
    }

    /// A lifecycle hook event. Ours when its service deployment is ours (or, before a snapshot named ours,
    /// when nothing says otherwise). A hook that failed or timed out fails our deployment — ECS rolls it
    /// back. Hooks re-run during that rollback are timeline only: the first decision stands.
    pub(super) fn on_hook(&mut self, h: event::HookEvent, out: &mut Vec<Note>) {
        if !self.service_matches(h.service_arn.as_deref(), h.cluster_arn.as_deref()) {
            self.stats.other_services += 1;
            return;
        }
        let key = (h.hook_id.clone().unwrap_or_default(), h.event_name.clone());
        if !self.sd.seen_hooks.insert(key) {
            self.stats.duplicates += 1;
            return;
        }
        let ours = match (&self.sd.ours, &h.service_deployment_arn) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => self.ours().is_some(),
        };
        // Once ours failed, ECS's rollback re-runs hooks (traffic shifts, weights reversed): those are
        // the rollback's, never progress of ours.
        let role = match (ours, self.is_decided()) {
            (false, _) => Role::Other,
            (true, true) => Role::EcsRollback,
            (true, false) => self.our_role(),
        };
        if role == self.our_role() {
            self.sd.stage = h.lifecycle_stage.clone().or(self.sd.stage.take());
        }
        let at = h.updated_at_ms.or(h.meta.time_ms);
        out.push(Note::Hook {
            at,
            event_name: h.event_name.clone(),
            hook_id: h.hook_id.clone(),
            hook_type: h.hook_type.clone(),
            lifecycle_stage: h.lifecycle_stage.clone(),
            expires_at: h.expires_at.clone(),
            service_deployment_arn: h.service_deployment_arn.clone(),
            role,
        });
        if h.event_name == "HOOK_AWAITING_ACTION" && ours && !self.is_decided() {
            self.detach_at_pause(h.hook_id.as_deref(), h.lifecycle_stage.as_deref(), out);
        }
        if !matches!(h.event_name.as_str(), "HOOK_FAILED" | "HOOK_TIMED_OUT") || !ours || self.is_decided() {
            return;
        }
        let hook = verdict::Hook {
            hook_id: h.hook_id.clone(),
            hook_type: h.hook_type.clone(),
            lifecycle_stage: h.lifecycle_stage.clone(),
            status: h.event_name.trim_start_matches("HOOK_").to_string(),
            service_deployment_arn: h.service_deployment_arn.clone(),
            target_arn: self.configured_hook_target(h.hook_type.as_deref(), h.lifecycle_stage.as_deref()),
            log_tail: None,
        };
        self.fail_by_hook(hook, true, out);
    }

    /// `--detach-at paused`: a hook of ours awaits action, so the gate detaches (the pause can last days).
    fn detach_at_pause(&mut self, hook_id: Option<&str>, stage: Option<&str>, out: &mut Vec<Note>) {
        if self.detach == Some(DetachAt::Paused) {
            let reason = format!(
                "detached while lifecycle hook {} awaits action at {}; the deployment goes on",
                hook_id.unwrap_or("?"),
                stage.unwrap_or("its stage")
            );
            self.decide(Outcome::Detached, reason, out);
        }
    }

    /// A hook of ours failed or timed out: it is the culprit, and (unless ECS's own status already
    /// decides, with its statusReason) the reason: ECS rolls the deployment back.
    pub(super) fn fail_by_hook(&mut self, hook: verdict::Hook, decide: bool, out: &mut Vec<Note>) {
        let reason = format!(
            "lifecycle hook {} ({}{}) {} at {}; ECS rolls the deployment back",
            hook.hook_id.as_deref().unwrap_or("?"),
            hook.hook_type.as_deref().unwrap_or("hook"),
            hook.target_arn.as_deref().map(|a| format!(" {}", diagnose::lambda_function_name(a))).unwrap_or_default(),
            if hook.status == "TIMED_OUT" { "timed out" } else { "failed" },
            hook.lifecycle_stage.as_deref().unwrap_or("an unknown stage"),
        );
        self.sd.failed_hook = Some(hook);
        if decide {
            self.decide(Outcome::Failed, reason, out);
        }
    }

    /// One `lifecycleHookDetails` entry of our service deployment: into the timeline when its state is
    /// new (an event may have said it already: same key), and a failure or time-out fails the gate.
    pub(super) fn on_hook_detail(
        &mut self,
        sd: &snapshot::ServiceDeploymentSnapshot,
        h: &snapshot::HookDetail,
        out: &mut Vec<Note>,
    ) {
        let Some(status) = h.status.as_deref() else { return };
        let event_name = format!("HOOK_{status}");
        if !self.sd.seen_hooks.insert((h.hook_id.clone().unwrap_or_default(), event_name.clone())) {
            return;
        }
        // A hook that fails before ours is decided is the cause, even in a snapshot that already shows
        // the rollback; hooks after the decision are the rollback's own (ECS re-runs traffic shifts).
        let rolling_back = self.is_decided();
        out.push(Note::Hook {
            at: sd.at_ms,
            event_name: event_name.clone(),
            hook_id: h.hook_id.clone(),
            hook_type: h.target_type.clone(),
            lifecycle_stage: sd.lifecycle_stage.clone(),
            expires_at: h.expires_at_ms.map(time::format_rfc3339_secs),
            service_deployment_arn: Some(sd.arn.clone()),
            // Hooks ECS re-runs while rolling back are about the rollback, not our progress.
            role: if rolling_back { Role::EcsRollback } else { self.our_role() },
        });
        if status == "AWAITING_ACTION" && !rolling_back {
            self.detach_at_pause(h.hook_id.as_deref(), sd.lifecycle_stage.as_deref(), out);
        }
        if !matches!(status, "FAILED" | "TIMED_OUT") || rolling_back {
            return;
        }
        let hook = verdict::Hook {
            hook_id: h.hook_id.clone(),
            hook_type: h.target_type.clone(),
            lifecycle_stage: sd.lifecycle_stage.clone(),
            status: status.to_string(),
            service_deployment_arn: Some(sd.arn.clone()),
            target_arn: h
                .target_arn
                .clone()
                .or_else(|| self.configured_hook_target(h.target_type.as_deref(), sd.lifecycle_stage.as_deref())),
            log_tail: None,
        };
        // When ECS already ended the deployment, its own statusReason decides (in the caller).
        self.fail_by_hook(hook, !is_failed_sd_status(&sd.status), out);
    }

    /// The Lambda function configured for a hook at `stage`, when exactly one is (pause hooks have none).
    pub(super) fn configured_hook_target(&self, hook_type: Option<&str>, stage: Option<&str>) -> Option<String> {
        if hook_type == Some("PAUSE") {
            return None;
        }
        let stage = stage?;
        let mut it = self
            .sd
            .hook_config
            .iter()
            .filter(|c| c.target_type.as_deref() != Some("PAUSE") && c.stages.iter().any(|s| s == stage))
            .filter_map(|c| c.target_arn.clone());
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    /// "BLUE_GREEN PRODUCTION_TRAFFIC_SHIFT 40%", "LINEAR BAKE_TIME ~12 m left": the strategy (when not
    /// a plain rolling update), the lifecycle stage, the production traffic share during a shift, and
    /// the bake time left as of the newest snapshot.
    pub(super) fn stage_text(&self) -> Option<String> {
        let stage = self.sd.stage.as_deref()?;
        let mut s = match self.sd.strategy.as_deref() {
            Some(st) if st != "ROLLING" => format!("{st} {stage}"),
            _ => stage.to_string(),
        };
        if stage.contains("PRODUCTION_TRAFFIC_SHIFT")
            && let Some(w) = self.sd.production_weight
        {
            s.push_str(&format!(" {w}%"));
        }
        if stage == "BAKE_TIME"
            && let Some(left) = self.bake_left_ms()
        {
            s.push_str(&format!(" ~{} m left", (left + 59_999) / 60_000));
        }
        Some(s)
    }

    /// The bake time left as of the newest snapshot, in ms (what progress shows and the pace reads).
    fn bake_left_ms(&self) -> Option<i64> {
        let (minutes, began, now) = self.sd.bake?;
        Some((i64::from(minutes) * 60_000 - (now - began).max(0)).max(0))
    }

    /// The Lambda function of a failed hook, whose log group the live gate reads.
    pub fn failed_lambda_hook(&self) -> Option<String> {
        self.sd.failed_hook.as_ref().and_then(|h| h.target_arn.clone()).filter(|a| a.contains(":lambda:"))
    }

    /// How closely the API must be watched for this service. AWS sends no event when a blue/green,
    /// linear or canary deployment changes stage or status (issue 17 item 5), so while ours moves only
    /// a describe sees it succeed or roll back; a long bake is quieter, and its last minute is not.
    pub fn pace(&self) -> Pace {
        let modern = matches!(self.sd.strategy.as_deref(), Some(s) if s != "ROLLING");
        if self.is_decided() || self.sd.ours.is_none() || !modern {
            return Pace::Events;
        }
        match (self.sd.stage.as_deref(), self.bake_left_ms()) {
            (Some("BAKE_TIME"), Some(left)) if left > 60_000 => Pace::Baking,
            _ => Pace::Moving,
        }
    }

    /// Our service deployment's ARN, once known.
    pub fn service_deployment(&self) -> Option<&str> {
        self.sd.ours.as_deref()
    }
}
