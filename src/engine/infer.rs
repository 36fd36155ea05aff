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
//!
//! [`Inference`] applies these rules incrementally, one input at a time, keeping only a few candidates
//! and one entry per deployment id: replay can then infer from a pass over a file without holding the
//! file's events (memory grows with deployments, not with events).

use std::collections::HashMap;

use super::event::EcsEvent;
use super::{Input, Target, arn_name, cluster_of_service_arn, rollback_target};

/// The inference rules over a whole slice of inputs.
pub fn infer_target(inputs: &[Input], given: &Target) -> Target {
    let mut inf = Inference::new(given.clone());
    for x in inputs {
        inf.see(x);
    }
    inf.finish()
}

/// What identifies a candidate deployment: its id, service and cluster.
#[derive(Debug, Clone)]
struct Candidate {
    deployment_id: String,
    service: Option<String>,
    cluster: Option<String>,
}

/// A task `startedBy` seen on task events (rule 5).
#[derive(Debug)]
struct Seen {
    count: usize,
    first: usize,
    service: Option<String>,
    cluster: Option<String>,
}

/// The inference rules, fed one input at a time in file order.
#[derive(Debug)]
pub struct Inference {
    given: Target,
    index: usize,
    /// Rule 2: the earliest non-rollback IN_PROGRESS, keyed by (time, file order).
    in_progress: Option<((i64, usize), Candidate)>,
    /// Rule 3.
    failed: Option<Candidate>,
    completed: Option<Candidate>,
    /// Rule 4: the first matching DescribeServices snapshot's PRIMARY (`Some(None)`: it had none).
    snapshot: Option<Option<(String, String)>>,
    /// Rule 5, by `startedBy`.
    started_by: HashMap<String, Seen>,
    /// The first service named by each deployment id's events or tasks, for a deployment id given alone.
    service_of: HashMap<String, String>,
}

impl Inference {
    pub fn new(given: Target) -> Self {
        Inference {
            given,
            index: 0,
            in_progress: None,
            failed: None,
            completed: None,
            snapshot: None,
            started_by: HashMap::new(),
            service_of: HashMap::new(),
        }
    }

    fn service_ok(&self, arn: Option<&str>) -> bool {
        match (&self.given.service, arn) {
            (None, _) => true,
            (Some(w), Some(a)) => arn_name(w) == arn_name(a),
            (Some(_), None) => false,
        }
    }

    pub fn see(&mut self, x: &Input) {
        let i = self.index;
        self.index += 1;
        match x {
            Input::Event(EcsEvent::Deployment(d)) => {
                let Some(id) = d.deployment_id.as_deref() else { return };
                if let Some(svc) = d.service_arn.as_deref()
                    && !self.service_of.contains_key(id)
                {
                    self.service_of.insert(id.to_string(), arn_name(svc).to_string());
                }
                if !self.service_ok(d.service_arn.as_deref()) {
                    return;
                }
                let candidate = || Candidate {
                    deployment_id: id.to_string(),
                    service: d.service_arn.as_deref().map(|a| arn_name(a).to_string()),
                    cluster: d
                        .cluster_arn
                        .as_deref()
                        .map(arn_name)
                        .or_else(|| d.service_arn.as_deref().and_then(cluster_of_service_arn))
                        .map(str::to_string),
                };
                match d.event_name.as_str() {
                    "SERVICE_DEPLOYMENT_IN_PROGRESS" if d.reason.as_deref().and_then(rollback_target).is_none() => {
                        let key = (d.at_ms().unwrap_or(i64::MAX), i);
                        if self.in_progress.as_ref().is_none_or(|(k, _)| key < *k) {
                            self.in_progress = Some((key, candidate()));
                        }
                    }
                    "SERVICE_DEPLOYMENT_FAILED" if self.failed.is_none() => self.failed = Some(candidate()),
                    "SERVICE_DEPLOYMENT_COMPLETED" if self.completed.is_none() => self.completed = Some(candidate()),
                    _ => {}
                }
            }
            Input::Service(s) if self.snapshot.is_none() && self.service_ok(Some(&s.service_arn)) => {
                let primary = s.deployments.iter().find(|d| d.status == "PRIMARY");
                self.snapshot = Some(primary.map(|p| (p.id.clone(), arn_name(&s.service_arn).to_string())));
            }
            Input::Event(EcsEvent::Task(task)) | Input::Task(task) => {
                let Some(sb) = task.started_by.as_deref() else { return };
                let svc = task.group.as_deref().and_then(|g| g.strip_prefix("service:"));
                // Only task *events* name a deployment's service here, as before: a described task
                // counts for rule 5 but does not name the service of a deployment id given alone.
                if matches!(x, Input::Event(_))
                    && let Some(svc) = svc
                    && !self.service_of.contains_key(sb)
                {
                    self.service_of.insert(sb.to_string(), svc.to_string());
                }
                if self.given.service.as_deref().is_some_and(|w| svc != Some(arn_name(w)))
                    || !sb.starts_with("ecs-svc/")
                {
                    return;
                }
                match self.started_by.get_mut(sb) {
                    Some(c) => c.count += 1,
                    None => {
                        let seen = Seen {
                            count: 1,
                            first: i,
                            service: svc.map(str::to_string),
                            cluster: task.cluster_arn.as_deref().map(|c| arn_name(c).to_string()),
                        };
                        self.started_by.insert(sb.to_string(), seen);
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether the rules already decide without task events: a deployment id and a service are known
    /// from the flags, the deployment events or a snapshot. Replay's pre-scan skips task lines and uses
    /// this to know whether it must look at them after all.
    pub fn decided_without_tasks(&self) -> bool {
        let t = self.finish_rules_1_to_4();
        t.deployment_id.is_some() && t.service.is_some()
    }

    fn finish_rules_1_to_4(&self) -> Target {
        let mut t = self.given.clone();
        if t.deployment_id.is_none() {
            let chosen = self.in_progress.as_ref().map(|(_, c)| c).or(self.failed.as_ref()).or(self.completed.as_ref());
            if let Some(c) = chosen {
                t.deployment_id = Some(c.deployment_id.clone());
                t.service = t.service.or(c.service.clone());
                t.cluster = t.cluster.or(c.cluster.clone());
            } else if let Some(Some((id, service))) = &self.snapshot {
                t.deployment_id = Some(id.clone());
                t.service = t.service.or(Some(service.clone()));
            }
        }
        t
    }

    pub fn finish(&self) -> Target {
        let mut t = self.finish_rules_1_to_4();
        if t.deployment_id.is_none()
            && let Some((sb, best)) = self.started_by.iter().max_by_key(|(_, c)| (c.count, std::cmp::Reverse(c.first)))
        {
            t.deployment_id = Some(sb.clone());
            t.service = t.service.or(best.service.clone());
            t.cluster = t.cluster.or(best.cluster.clone());
        }
        // With a deployment id given but no service, take the service from its events.
        if t.service.is_none()
            && let Some(id) = &t.deployment_id
        {
            t.service = self.service_of.get(id).cloned();
        }
        t
    }
}

/// The service an input is about, by name: a deployment or service-action event's service ARN, a
/// DescribeServices snapshot's, a service task's `group` (`service:NAME`). `None` for anything else.
pub fn service_of_input(x: &Input) -> Option<&str> {
    match x {
        Input::Event(EcsEvent::Deployment(d)) => d.service_arn.as_deref().map(arn_name),
        Input::Event(EcsEvent::ServiceAction(e)) => e.service_arn.as_deref().map(arn_name),
        Input::Service(s) => Some(arn_name(&s.service_arn)),
        Input::Event(EcsEvent::Task(t)) | Input::Task(t) => t.group.as_deref().and_then(|g| g.strip_prefix("service:")),
        _ => None,
    }
}

/// The inference rules per service, for input that holds several services and no recording's start
/// line to name them: one [`Inference`] per service, in the order the services first appear, each
/// judging only its own service's inputs — so no service is ever judged against another's deployment.
/// `wanted` (names) limits it to those services; empty means every service seen.
#[derive(Debug)]
pub struct Services {
    given: Target,
    wanted: Vec<String>,
    per: Vec<(String, Inference)>,
    /// Services a deployment event or a snapshot named (not only their tasks).
    named: Vec<String>,
}

impl Services {
    pub fn new(given: Target, wanted: Vec<String>) -> Self {
        Services { given, wanted, per: Vec::new(), named: Vec::new() }
    }

    pub fn see(&mut self, x: &Input) {
        let Some(svc) = service_of_input(x) else { return };
        let names = matches!(x, Input::Event(EcsEvent::Deployment(_)) | Input::Service(_));
        if names && !self.named.iter().any(|n| n == svc) {
            self.named.push(svc.to_string());
        }
        if !self.wanted.is_empty() && !self.wanted.iter().any(|w| w == svc) {
            // Still remembered by name, so an unknown --service can list what the input holds.
            if !self.per.iter().any(|(s, _)| s == svc) {
                let mut g = self.given.clone();
                g.service = Some(svc.to_string());
                self.per.push((svc.to_string(), Inference::new(g)));
            }
            return;
        }
        let i = match self.per.iter().position(|(s, _)| s == svc) {
            Some(i) => i,
            None => {
                let mut g = self.given.clone();
                g.service = Some(svc.to_string());
                self.per.push((svc.to_string(), Inference::new(g)));
                self.per.len() - 1
            }
        };
        self.per[i].1.see(x);
    }

    fn judged(&self) -> impl Iterator<Item = &(String, Inference)> {
        self.per.iter().filter(|(s, _)| self.wanted.is_empty() || self.wanted.contains(s))
    }

    /// Every service judged has a deployment without looking at task events.
    pub fn decided_without_tasks(&self) -> bool {
        let judged = self.judged().filter(|(s, _)| !self.wanted.is_empty() || self.named.contains(s));
        let mut judged = judged.peekable();
        judged.peek().is_some() && judged.all(|(_, i)| i.decided_without_tasks())
    }

    /// Every service the input named, in order of appearance.
    pub fn seen(&self) -> Vec<String> {
        self.per.iter().map(|(s, _)| s.clone()).collect()
    }

    /// The wanted services the input never named.
    pub fn missing(&self) -> Vec<String> {
        self.wanted.iter().filter(|w| !self.per.iter().any(|(s, _)| s == *w)).cloned().collect()
    }

    /// A target per service judged (in the order of `wanted`, else of appearance). Unasked, a service
    /// seen only through its tasks is judged only when no deployment event or snapshot names any
    /// service: a cluster-wide export's steady services must not become timed-out verdicts.
    pub fn finish(&self) -> Vec<Target> {
        if self.wanted.is_empty() {
            let any_named = !self.named.is_empty();
            return self
                .per
                .iter()
                .filter(|(s, _)| !any_named || self.named.contains(s))
                .map(|(_, i)| i.finish())
                .collect();
        }
        self.wanted.iter().filter_map(|w| self.per.iter().find(|(s, _)| s == w)).map(|(_, i)| i.finish()).collect()
    }
}

#[cfg(test)]
mod services_tests {
    use super::*;
    use crate::engine::event::parse_envelope;
    use serde_json::{Value, json};

    fn event(v: Value) -> Input {
        Input::Event(parse_envelope(&v).unwrap())
    }

    fn fixture(name: &str) -> Value {
        let p = format!("{}/tests/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn deployment(service: &str, id: &str) -> Input {
        let mut v = fixture("deployment__in-progress-docs.json");
        v["resources"] = json!([format!("arn:aws:ecs:us-east-1:111122223333:service/default/{service}")]);
        v["detail"]["deploymentId"] = json!(id);
        event(v)
    }

    fn task(service: &str, started_by: &str) -> Input {
        let mut v = fixture("task__running-fargate-docs.json");
        v["detail"]["group"] = json!(format!("service:{service}"));
        v["detail"]["startedBy"] = json!(started_by);
        event(v)
    }

    #[test]
    fn each_service_is_inferred_on_its_own_and_task_only_services_wait_to_be_asked_for() {
        let mut s = Services::new(Target::default(), Vec::new());
        for x in [
            deployment("api", "ecs-svc/1"),
            task("api", "ecs-svc/1"),
            deployment("worker", "ecs-svc/2"),
            task("steady", "ecs-svc/9"),
        ] {
            s.see(&x);
        }
        let got: Vec<(Option<String>, Option<String>)> =
            s.finish().into_iter().map(|t| (t.service, t.deployment_id)).collect();
        assert_eq!(
            got,
            [(Some("api".into()), Some("ecs-svc/1".into())), (Some("worker".into()), Some("ecs-svc/2".into()))],
            "steady, seen only through its tasks, is not judged unasked"
        );
        // Asked for, it is.
        let mut s = Services::new(Target::default(), vec!["steady".into()]);
        for x in [deployment("api", "ecs-svc/1"), task("steady", "ecs-svc/9")] {
            s.see(&x);
        }
        assert_eq!(s.finish()[0].deployment_id.as_deref(), Some("ecs-svc/9"));
        // With no deployment event at all, the tasks settle each service.
        let mut s = Services::new(Target::default(), Vec::new());
        for x in [task("a", "ecs-svc/1"), task("b", "ecs-svc/2")] {
            s.see(&x);
        }
        assert_eq!(s.finish().len(), 2);
    }
}
