//! Engine rules, exercised on the real event samples in tests/fixtures/events (SEMANTICS.md §a–d).
//! The samples are adapted only where a rule needs it (our deployment id as `startedBy`, our service as
//! `group`), never in shape.

use serde_json::{Value, json};

use super::event::{EcsEvent, parse_envelope};
use super::snapshot::{ContainerDefinitionInfo, DeploymentSnapshot, ServiceSnapshot, TaskDefinitionInfo};
use super::*;

const OURS: &str = "ecs-svc/1111111111111111111";
const OLD: &str = "ecs-svc/2222222222222222222";
const NEWER: &str = "ecs-svc/3333333333333333333";
const SERVICE_ARN: &str = "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest";
const CLUSTER_ARN: &str = "arn:aws:ecs:us-west-2:111122223333:cluster/default";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn event(v: &Value) -> Input {
    Input::Event(parse_envelope(v).expect("parses"))
}

fn engine() -> Engine {
    Engine::new(
        Target {
            cluster: Some("default".into()),
            service: Some("servicetest".into()),
            deployment_id: Some(OURS.into()),
            until: None,
            rollback_of: None,
        },
        3,
    )
}

fn feed(e: &mut Engine, inputs: impl IntoIterator<Item = Input>) -> Vec<Note> {
    let mut out = Vec::new();
    for i in inputs {
        e.apply(i, &mut out);
    }
    out
}

/// A deployment event from the docs sample of that kind, with our ids and times.
fn deployment(name: &str, id: &str, reason: &str, updated_at: &str) -> Input {
    let file = match name {
        "SERVICE_DEPLOYMENT_COMPLETED" => "deployment__completed-docs.json",
        "SERVICE_DEPLOYMENT_FAILED" => "deployment__failed-circuit-breaker-docs.json",
        _ => "deployment__in-progress-docs.json",
    };
    let mut v = fixture(file);
    v["detail"]["deploymentId"] = json!(id);
    v["detail"]["reason"] = json!(reason);
    v["detail"]["updatedAt"] = json!(updated_at);
    v["resources"] = json!([SERVICE_ARN]);
    event(&v)
}

/// A task event from a real sample, moved into our service and given a deployment.
fn task(file: &str, arn_suffix: &str, started_by: &str, version: i64) -> Value {
    let mut v = fixture(file);
    let arn = format!("arn:aws:ecs:us-west-2:111122223333:task/default/{arn_suffix}");
    v["detail"]["taskArn"] = json!(arn);
    v["detail"]["startedBy"] = json!(started_by);
    v["detail"]["group"] = json!("service:servicetest");
    v["detail"]["clusterArn"] = json!(CLUSTER_ARN);
    v["detail"]["version"] = json!(version);
    v
}

fn snapshot(deployments: Vec<DeploymentSnapshot>) -> Input {
    Input::Service(ServiceSnapshot {
        service_arn: SERVICE_ARN.into(),
        cluster_arn: Some(CLUSTER_ARN.into()),
        service_name: Some("servicetest".into()),
        at_ms: None,
        deployments,
        current_service_deployment: None,
        deployment_configuration: None,
        events: Vec::new(),
        health_check_grace_seconds: None,
        target_groups: Vec::new(),
        resource_management_type: None,
        deployment_controller: None,
        task_sets: Vec::new(),
    })
}

fn dep(id: &str, status: &str, rollout: Option<&str>, reason: Option<&str>, created: i64) -> DeploymentSnapshot {
    DeploymentSnapshot {
        id: id.into(),
        status: status.into(),
        rollout_state: rollout.map(str::to_string),
        rollout_state_reason: reason.map(str::to_string),
        desired_count: 2,
        created_at_ms: Some(created),
        ..Default::default()
    }
}

fn outcome(e: &Engine) -> Option<Outcome> {
    e.verdict().map(|v| v.outcome)
}

// ---------------------------------------------------------------- parsing

#[test]
fn every_sample_parses_and_only_the_container_instance_event_is_set_aside() {
    let dir = format!("{}/tests/fixtures/events", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let parsed = parse_envelope(&v);
        if name.starts_with("container_instance") {
            assert!(matches!(parsed, Err(event::Skip::NotEcs(_))), "{name}");
        } else {
            let e = parsed.unwrap_or_else(|s| panic!("{name}: {s:?}"));
            let kind = match e {
                EcsEvent::Deployment(_) => "deployment",
                EcsEvent::Task(_) => "task",
                EcsEvent::ServiceAction(_) => "service_action",
                EcsEvent::Hook(_) => "hook",
            };
            assert!(name.starts_with(kind), "{name} parsed as {kind}");
        }
        n += 1;
    }
    assert_eq!(n, 33);
}

#[test]
fn type_drift_in_real_events_is_absorbed() {
    // 2025 sample: enableExecuteCommand "false", GuardDuty sidecar cpu "null".
    let v = fixture("task__running-fargate-guardduty-sidecar-capacityprovider-2025.json");
    let EcsEvent::Task(t) = parse_envelope(&v).unwrap() else { panic!() };
    assert_eq!(t.last_status.as_deref(), Some("RUNNING"));
    assert!(t.containers.iter().any(|c| c.name.starts_with("aws-guardduty-agent")));

    // Numbers as strings, exitCode null or absent, no account, 9 fraction digits.
    let mut v = fixture("task__stopped-essential-exit1-defra.json");
    v.as_object_mut().unwrap().remove("account");
    v["detail"]["version"] = json!("7");
    v["detail"]["containers"][0]["exitCode"] = json!("1");
    v["detail"]["containers"][1]["exitCode"] = Value::Null;
    v["detail"]["containers"][2].as_object_mut().unwrap().remove("exitCode");
    v["detail"]["stoppedAt"] = json!("2025-02-13T14:48:24.435123456Z");
    let EcsEvent::Task(t) = parse_envelope(&v).unwrap() else { panic!() };
    assert_eq!(t.version, Some(7));
    assert_eq!(t.containers[0].exit_code, Some(1));
    assert_eq!(t.containers[1].exit_code, None);
    assert_eq!(t.containers[2].exit_code, None);
    assert_eq!(t.stopped_at_ms.map(time::format_rfc3339_millis).as_deref(), Some("2025-02-13T14:48:24.435Z"));
}

#[test]
fn unknown_stop_code_is_kept_as_text() {
    let mut v = task("task__stopped-essential-exit1-defra.json", "t1", OURS, 7);
    v["detail"]["stopCode"] = json!("SomethingNew");
    let EcsEvent::Task(t) = parse_envelope(&v).unwrap() else { panic!() };
    assert_eq!(t.stop_code.as_deref(), Some("SomethingNew"));
}

#[test]
fn deployment_event_names_are_accepted_under_service_action_detail_type() {
    let mut v = fixture("deployment__completed-real-id-2022.json");
    v["detail-type"] = json!("ECS Service Action");
    assert!(matches!(parse_envelope(&v), Ok(EcsEvent::Deployment(_))));
}

// ---------------------------------------------------------------- success

#[test]
fn completed_of_our_deployment_succeeds() {
    let mut e = engine();
    feed(&mut e, [deployment("SERVICE_DEPLOYMENT_COMPLETED", OURS, "done", "2024-01-01T00:10:00Z")]);
    let v = e.verdict().unwrap();
    assert_eq!((v.outcome, v.exit_code), (Outcome::Succeeded, 0));
}

#[test]
fn completed_of_another_deployment_is_never_success() {
    let mut e = engine();
    feed(&mut e, [deployment("SERVICE_DEPLOYMENT_COMPLETED", OLD, "done", "2024-01-01T00:10:00Z")]);
    assert_eq!(outcome(&e), None);
}

#[test]
fn steady_state_is_not_success() {
    let mut e = engine();
    let mut v = fixture("service_action__steady-state-docs.json");
    v["resources"] = json!([SERVICE_ARN]);
    feed(&mut e, [event(&v), event(&v)]);
    assert_eq!(outcome(&e), None);
}

#[test]
fn rollout_completed_in_describe_services_succeeds() {
    let mut e = engine();
    feed(&mut e, [snapshot(vec![dep(OURS, "PRIMARY", Some("COMPLETED"), Some("ECS deployment completed."), 10)])]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));
}

#[test]
fn service_without_rollout_state_succeeds_when_sole_and_all_running() {
    let mut e = engine();
    let mut d = dep(OURS, "PRIMARY", None, None, 10);
    d.running_count = 1;
    feed(&mut e, [snapshot(vec![d.clone(), dep(OLD, "ACTIVE", None, None, 5)])]);
    assert_eq!(outcome(&e), None, "old deployment still draining");
    d.running_count = 2;
    feed(&mut e, [snapshot(vec![d])]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));
}

// ---------------------------------------------------------------- failure

#[test]
fn deployment_failed_event_fails_with_its_reason() {
    let mut e = engine();
    feed(
        &mut e,
        [deployment(
            "SERVICE_DEPLOYMENT_FAILED",
            OURS,
            "ECS deployment circuit breaker: tasks failed to start.",
            "2024-01-01T00:10:00Z",
        )],
    );
    let v = e.verdict().unwrap();
    assert_eq!((v.outcome, v.exit_code), (Outcome::Failed, 1));
    assert_eq!(v.reason.as_deref(), Some("ECS deployment circuit breaker: tasks failed to start."));
    assert!(v.hint.unwrap().contains("circuit breaker"));
}

#[test]
fn rollback_without_failed_event_fails() {
    let mut e = engine();
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    feed(
        &mut e,
        [
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OURS, "in progress", "2024-01-01T00:00:00Z"),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEWER, &reason, "2024-01-01T00:05:00Z"),
            // The rollback completing must not turn the verdict into success.
            deployment("SERVICE_DEPLOYMENT_COMPLETED", NEWER, "completed", "2024-01-01T00:07:00Z"),
        ],
    );
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.rollback_to.as_deref(), Some(OLD));
    assert!(v.reason.unwrap().starts_with("rolled back"));
}

#[test]
fn rollback_reusing_the_old_id_is_a_failure_not_a_success() {
    let mut e = engine();
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    feed(
        &mut e,
        [
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OURS, "in progress", "2024-01-01T00:00:00Z"),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, &reason, "2024-01-01T00:05:00Z"),
            deployment("SERVICE_DEPLOYMENT_COMPLETED", OLD, "completed", "2024-01-01T00:07:00Z"),
        ],
    );
    assert_eq!(outcome(&e), Some(Outcome::Failed));
}

#[test]
fn another_deployments_completed_event_decides_nothing_until_the_api_shows_the_rollback() {
    let mut e = engine();
    feed(
        &mut e,
        [
            snapshot(vec![
                dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, 1_000),
                dep(OLD, "ACTIVE", Some("COMPLETED"), None, 500),
            ]),
            deployment("SERVICE_DEPLOYMENT_COMPLETED", OLD, "completed", "1970-01-01T00:00:05Z"),
        ],
    );
    assert_eq!(outcome(&e), None, "neither success nor, by itself, failure");
    // The rollback reused the old id: the old deployment is PRIMARY again, ours is not.
    feed(
        &mut e,
        [snapshot(vec![
            dep(OLD, "PRIMARY", Some("COMPLETED"), None, 500),
            dep(OURS, "ACTIVE", Some("IN_PROGRESS"), None, 1_000),
        ])],
    );
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.rollback_to.as_deref(), Some(OLD));
}

#[test]
fn docs_samples_in_progress_then_rolling_back_on_the_same_id_fail() {
    // The docs' samples all carry ecs-svc/123: ours in progress, then "rolling back" on that very id.
    let mut e = Engine::new(Target { deployment_id: Some("ecs-svc/123".into()), ..Default::default() }, 3);
    feed(
        &mut e,
        [
            event(&fixture("deployment__in-progress-docs.json")),
            event(&fixture("deployment__in-progress-rollback-docs.json")),
        ],
    );
    assert_eq!(outcome(&e), Some(Outcome::Failed));
}

#[test]
fn waiting_on_a_rollback_deployment_itself_is_judged_by_its_own_outcome() {
    let mut e = Engine::new(Target { deployment_id: Some("ecs-svc/123".into()), ..Default::default() }, 3);
    feed(&mut e, [event(&fixture("deployment__in-progress-rollback-docs.json"))]);
    assert_eq!(outcome(&e), None);
    feed(&mut e, [event(&fixture("deployment__completed-docs.json"))]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));
}

#[test]
fn a_rollback_that_reuses_the_old_id_is_not_taken_for_a_duplicate() {
    let mut e = engine();
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    feed(
        &mut e,
        [
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, "ECS deployment in progress.", "2023-12-31T00:00:00Z"),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OURS, "in progress", "2024-01-01T00:00:00Z"),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, &reason, "2024-01-01T00:05:00Z"),
        ],
    );
    assert_eq!(outcome(&e), Some(Outcome::Failed));
}

#[test]
fn describe_services_showing_ours_failed_and_a_rollback_primary_fails() {
    let mut e = engine();
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    feed(
        &mut e,
        [snapshot(vec![
            dep(NEWER, "PRIMARY", Some("IN_PROGRESS"), Some(&reason), 2_000),
            dep(OURS, "ACTIVE", Some("FAILED"), Some("ECS deployment circuit breaker: tasks failed to start."), 1_000),
        ])],
    );
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.reason.as_deref(), Some("ECS deployment circuit breaker: tasks failed to start."));
    assert_eq!(v.rollback_to.as_deref(), Some(OLD));
}

#[test]
fn ours_no_longer_primary_behind_a_rollback_primary_fails_even_without_failed_state() {
    let mut e = engine();
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    feed(
        &mut e,
        [snapshot(vec![
            dep(OLD, "PRIMARY", Some("IN_PROGRESS"), Some(&reason), 2_000),
            dep(OURS, "ACTIVE", Some("IN_PROGRESS"), None, 1_000),
        ])],
    );
    assert_eq!(outcome(&e), Some(Outcome::Failed));
}

#[test]
fn a_newer_deployment_that_is_not_a_rollback_supersedes_ours() {
    let mut e = engine();
    feed(
        &mut e,
        [
            snapshot(vec![dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, 1_000)]),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEWER, "ECS deployment in progress.", "1970-01-01T00:00:05Z"),
        ],
    );
    let v = e.verdict().unwrap();
    assert_eq!((v.outcome, v.exit_code), (Outcome::Superseded, 4));
    assert_eq!(v.superseded_by.as_deref(), Some(NEWER));
}

#[test]
fn superseded_from_describe_services() {
    let mut e = engine();
    feed(
        &mut e,
        [snapshot(vec![
            dep(NEWER, "PRIMARY", Some("IN_PROGRESS"), None, 2_000),
            dep(OURS, "ACTIVE", Some("IN_PROGRESS"), None, 1_000),
        ])],
    );
    assert_eq!(outcome(&e), Some(Outcome::Superseded));
}

#[test]
fn an_old_deployments_late_in_progress_does_not_supersede() {
    let mut e = engine();
    feed(
        &mut e,
        [
            snapshot(vec![dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, 10_000)]),
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, "ECS deployment in progress.", "1970-01-01T00:00:05Z"),
        ],
    );
    assert_eq!(outcome(&e), None);
}

#[test]
fn the_first_decision_is_final() {
    let mut e = engine();
    feed(
        &mut e,
        [
            deployment("SERVICE_DEPLOYMENT_FAILED", OURS, "breaker", "2024-01-01T00:10:00Z"),
            deployment("SERVICE_DEPLOYMENT_COMPLETED", OURS, "done", "2024-01-01T00:11:00Z"),
            snapshot(vec![dep(OURS, "PRIMARY", Some("COMPLETED"), None, 1)]),
        ],
    );
    assert_eq!(outcome(&e), Some(Outcome::Failed));
}

// ---------------------------------------------------------------- tasks

#[test]
fn crash_loop_without_a_breaker_fails_at_the_threshold() {
    let mut e = engine();
    let t = |s: &str| event(&task("task__stopped-essential-exit1-defra.json", s, OURS, 6));
    feed(&mut e, [t("a"), t("b")]);
    assert_eq!(outcome(&e), None, "two of three");
    let notes = feed(&mut e, [t("c")]);
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.failed_tasks.len(), 3);
    assert!(v.reason.as_deref().unwrap().contains("3 tasks of deployment"), "{:?}", v.reason);
    assert!(notes.iter().any(|n| matches!(n, Note::Decision { outcome: Outcome::Failed, .. })));
    let c = v.culprit.unwrap();
    assert_eq!(c.exit_code, Some(1));
}

#[test]
fn duplicate_and_older_task_events_change_nothing() {
    let mut e = engine();
    let stopped = event(&task("task__stopped-essential-exit1-defra.json", "a", OURS, 6));
    let mut running = task("task__running-fargate-multicontainer-defra.json", "a", OURS, 2);
    running["detail"]["lastStatus"] = json!("RUNNING");
    feed(&mut e, [stopped.clone(), stopped.clone(), event(&running), stopped]);
    assert_eq!(e.progress().failed_tasks, 1);
    assert_eq!(e.stats().duplicates, 3);
    assert_eq!(outcome(&e), None);
}

#[test]
fn the_same_task_seen_running_then_stopped_counts_once() {
    let mut e = engine();
    let running = event(&task("task__running-fargate-execcmd-arkime-2023.json", "a", OURS, 3));
    let mut stopped = task("task__stopped-essential-exit1-defra.json", "a", OURS, 6);
    stopped["detail"]["stoppedAt"] = json!("2025-02-13T14:48:24Z");
    let notes = feed(&mut e, [running.clone(), event(&stopped), running]);
    assert_eq!(e.progress().failed_tasks, 1);
    let statuses: Vec<_> = notes
        .iter()
        .filter_map(|n| match n {
            Note::Task { status, .. } => Some(status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["RUNNING", "STOPPED"]);
}

#[test]
fn benign_stops_are_reported_not_counted() {
    let mut e = engine();
    let files = [
        "task__stopped-user-initiated-ec2-bridge-sdi-aws-samples.json",
        "task__stopped-user-initiated-fargate-execcmd-2024.json",
        "task__stopped-scaling-activity-scheduler-exit137-arkime-2023.json",
    ];
    let mut inputs: Vec<Input> =
        files.iter().enumerate().map(|(i, f)| event(&task(f, &format!("t{i}"), OURS, 9))).collect();
    let mut spot = task("task__spot-interruption-running-docs-snippet.json", "spot", OURS, 9);
    spot["detail"]["lastStatus"] = json!("STOPPED");
    inputs.push(event(&spot));
    let notes = feed(&mut e, inputs);
    assert_eq!(e.progress().failed_tasks, 0);
    assert_eq!(outcome(&e), None);
    let stops = notes.iter().filter(|n| matches!(n, Note::Task { stop: Some(_), .. })).count();
    assert_eq!(stops, 4, "every stop is still on the timeline");
}

#[test]
fn tasks_of_other_deployments_are_forgotten_past_the_cap_and_ours_are_kept() {
    let mut e = engine();
    let mut out = Vec::new();
    // Ours: one failed task before the flood, which the verdict must still name afterwards.
    e.apply(event(&task("task__stopped-essential-exit1-defra.json", "ours-1", OURS, 6)), &mut out);
    let template = task("task__running-fargate-docs.json", "x", OLD, 2);
    for i in 0..(tasks::OTHER_TASKS_CAP + 5_000) {
        let mut v = template.clone();
        v["detail"]["taskArn"] = json!(format!("arn:aws:ecs:us-west-2:111122223333:task/default/old-{i}"));
        e.apply(event(&v), &mut out);
        out.clear();
    }
    assert!(e.tasks.by_arn.len() <= tasks::OTHER_TASKS_CAP, "held {} tasks", e.tasks.by_arn.len());
    assert!(e.tasks.by_arn.contains_key("arn:aws:ecs:us-west-2:111122223333:task/default/ours-1"));
    // The newest others are the ones kept.
    let newest = format!("arn:aws:ecs:us-west-2:111122223333:task/default/old-{}", tasks::OTHER_TASKS_CAP + 4_999);
    assert!(e.tasks.by_arn.contains_key(&newest));
    assert!(!e.tasks.by_arn.contains_key("arn:aws:ecs:us-west-2:111122223333:task/default/old-0"));
    e.apply(event(&task("task__stopped-essential-exit1-defra.json", "ours-2", OURS, 6)), &mut out);
    e.apply(event(&task("task__stopped-essential-exit1-defra.json", "ours-3", OURS, 6)), &mut out);
    assert_eq!(outcome(&e), Some(Outcome::Failed));
    assert_eq!(e.verdict().unwrap().culprit.unwrap().exit_code, Some(1));
}

#[test]
fn failed_tasks_of_other_deployments_are_not_counted() {
    let mut e = engine();
    let inputs: Vec<Input> =
        (0..5).map(|i| event(&task("task__stopped-essential-exit1-defra.json", &format!("t{i}"), OLD, 6))).collect();
    feed(&mut e, inputs);
    assert_eq!(e.progress().failed_tasks, 0);
    assert_eq!(outcome(&e), None);
}

#[test]
fn tasks_of_other_services_are_ignored() {
    let mut e = engine();
    let inputs: Vec<Input> = (0..5)
        .map(|i| {
            let mut v = task("task__stopped-essential-exit1-defra.json", &format!("t{i}"), OURS, 6);
            v["detail"]["group"] = json!("service:other");
            event(&v)
        })
        .collect();
    feed(&mut e, inputs);
    assert_eq!(e.stats().other_services, 5);
    assert_eq!(outcome(&e), None);
}

#[test]
fn elb_health_check_kills_count_and_get_the_elb_hint() {
    let mut e = engine();
    let inputs: Vec<Input> = (0..3)
        .map(|i| event(&task("task__stopped-elb-healthcheck-scheduler-fargate-2022.json", &format!("t{i}"), OURS, 6)))
        .collect();
    feed(&mut e, inputs);
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.hint.unwrap().contains("health-check path"));
}

#[test]
fn sidecar_exiting_1_is_blamed_over_the_app_that_got_143() {
    let mut e = engine();
    let inputs: Vec<Input> = (0..3)
        .map(|i| event(&task("task__stopped-essential-sidecar-exit1-main-143-defra.json", &format!("t{i}"), OURS, 7)))
        .collect();
    feed(&mut e, inputs);
    let c = e.verdict().unwrap().culprit.unwrap();
    assert_eq!(c.container.as_deref(), Some("forms-perf-test-timeout"));
    assert_eq!(c.exit_code, Some(1));
}

#[test]
fn essential_flags_from_the_task_definition_decide_the_culprit() {
    let mut e = engine();
    let v = task("task__stopped-essential-sidecar-exit1-main-143-defra.json", "t0", OURS, 7);
    let td_arn = v["detail"]["taskDefinitionArn"].as_str().unwrap().to_string();
    let containers = v["detail"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            ContainerDefinitionInfo { essential: name == "forms-perf-test", name, awslogs: None }
        })
        .collect();
    feed(&mut e, [Input::TaskDefinition(TaskDefinitionInfo { arn: td_arn, containers })]);
    feed(
        &mut e,
        (0..3).map(|i| {
            event(&task("task__stopped-essential-sidecar-exit1-main-143-defra.json", &format!("t{i}"), OURS, 7))
        }),
    );
    let v = e.verdict().unwrap();
    assert_eq!(v.culprit.unwrap().container.as_deref(), Some("forms-perf-test"));
    assert!(v.failed_tasks[0].containers.iter().any(|c| c.essential == Some(true)));
}

#[test]
fn oom_is_diagnosed_from_the_container_reason_even_with_exit_1() {
    let mut e = engine();
    feed(
        &mut e,
        (0..3).map(|i| event(&task("task__stopped-essential-oom-reason-exit1-defra.json", &format!("t{i}"), OURS, 7))),
    );
    let v = e.verdict().unwrap();
    let c = v.culprit.unwrap();
    assert_eq!(c.reason.as_deref(), Some("OutOfMemoryError: Container killed due to memory usage"));
    assert!(v.hint.unwrap().contains("memory limit"));
}

#[test]
fn secrets_failure_gets_the_json_key_hint() {
    let mut e = engine();
    feed(
        &mut e,
        (0..3).map(|i| {
            event(&task(
                "task__stopped-taskfailedtostart-resourceinit-secret-json-key-defra.json",
                &format!("t{i}"),
                OURS,
                7,
            ))
        }),
    );
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.hint.unwrap().contains("valueFrom"), "secret json key hint");
    assert_eq!(v.culprit.unwrap().exit_code, None);
}

#[test]
fn a_threshold_of_one_fails_on_the_first_failed_task() {
    let mut e = Engine::new(
        Target {
            deployment_id: Some(OURS.into()),
            service: Some("servicetest".into()),
            cluster: None,
            until: None,
            rollback_of: None,
        },
        1,
    );
    feed(&mut e, [event(&task("task__stopped-essential-exit0-success-defra.json", "a", OURS, 6))]);
    assert_eq!(outcome(&e), Some(Outcome::Failed), "a service container exiting 0 is a failure");
}

#[test]
fn failed_tasks_reconciled_from_describe_tasks_count_like_events() {
    let mut e = engine();
    let v = task("task__stopped-essential-exit1-defra.json", "a", OURS, 6);
    let t = event::parse_task_detail(&v["detail"]).unwrap();
    feed(&mut e, [Input::Task(t.clone()), Input::Task(t)]);
    assert_eq!(e.progress().failed_tasks, 1);
}

// ---------------------------------------------------------------- warnings and finishing

#[test]
fn placement_failures_and_start_impaired_are_warnings_with_hints() {
    let mut e = engine();
    let mut inputs = Vec::new();
    for f in [
        "service_action__placement-failure-ec2-resource-cpu-docs.json",
        "service_action__placement-failure-info-noreason-2023.json",
        "service_action__task-start-impaired-docs.json",
    ] {
        let mut v = fixture(f);
        v["resources"] = json!([SERVICE_ARN]);
        v["detail"]["clusterArn"] = json!(CLUSTER_ARN);
        inputs.push(event(&v));
    }
    let notes = feed(&mut e, inputs);
    let warnings: Vec<_> = notes.iter().filter(|n| matches!(n, Note::Warning { .. })).collect();
    assert_eq!(warnings.len(), 3);
    assert!(matches!(warnings[0], Note::Warning { hint: Some(h), .. } if h.contains("CPU or memory")));
    assert_eq!(outcome(&e), None, "warnings alone decide nothing");
    e.finish(Outcome::TimedOut, "timed out".into());
    let v = e.verdict().unwrap();
    assert_eq!((v.outcome, v.exit_code), (Outcome::TimedOut, 3));
    assert!(v.hint.is_some(), "a timeout still explains what was seen");
}

#[test]
fn interrupted_keeps_the_signal_exit_code() {
    let mut e = engine();
    e.finish(Outcome::Interrupted(crate::exit::Signal::Term), "SIGTERM".into());
    assert_eq!(e.verdict().unwrap().exit_code, 143);
}

#[test]
fn rollback_target_is_read_from_both_wordings() {
    assert_eq!(
        rollback_target("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123."),
        Some("ecs-svc/123".into())
    );
    assert_eq!(rollback_target("rolling back to deploymentId ecs-svc/9"), Some("ecs-svc/9".into()));
    assert_eq!(rollback_target("ECS deployment ecs-svc/1 in progress."), None);
}

// ---------------------------------------------------------------- inference

#[test]
fn inference_picks_the_first_non_rollback_deployment() {
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    let inputs = vec![
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", NEWER, &reason, "2024-01-01T00:05:00Z"),
        deployment("SERVICE_DEPLOYMENT_FAILED", OURS, "breaker", "2024-01-01T00:04:00Z"),
        deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OURS, "in progress", "2024-01-01T00:00:00Z"),
    ];
    let t = infer::infer_target(&inputs, &Target::default());
    assert_eq!(t.deployment_id.as_deref(), Some(OURS));
    assert_eq!(t.service.as_deref(), Some("servicetest"));
}

#[test]
fn inference_falls_back_to_the_most_common_started_by() {
    let inputs = vec![
        event(&task("task__stopped-essential-exit1-defra.json", "a", OLD, 6)),
        event(&task("task__stopped-essential-exit1-defra.json", "b", OURS, 6)),
        event(&task("task__stopped-essential-exit1-defra.json", "c", OURS, 6)),
    ];
    let t = infer::infer_target(&inputs, &Target::default());
    assert_eq!(t.deployment_id.as_deref(), Some(OURS));
    assert_eq!(t.service.as_deref(), Some("servicetest"));
}

#[test]
fn progress_counts_follow_our_tasks_through_their_lifecycle() {
    let mut e = engine();
    let mut pending = task("task__running-fargate-execcmd-arkime-2023.json", "a", OURS, 1);
    pending["detail"]["lastStatus"] = json!("PENDING");
    let running = task("task__running-fargate-execcmd-arkime-2023.json", "a", OURS, 3);
    let other = task("task__running-fargate-execcmd-arkime-2023.json", "b", OLD, 3);
    feed(&mut e, [event(&pending), event(&other)]);
    assert_eq!((e.progress().running, e.progress().pending), (0, 1));
    feed(&mut e, [event(&running), event(&running), event(&pending)]);
    assert_eq!((e.progress().running, e.progress().pending), (1, 0), "duplicates and older versions change nothing");
    feed(&mut e, [event(&task("task__stopped-essential-exit1-defra.json", "a", OURS, 6))]);
    assert_eq!((e.progress().running, e.progress().pending, e.progress().failed_tasks), (0, 0, 1));
}

#[test]
fn a_cluster_of_the_same_name_in_another_account_or_region_is_not_ours() {
    let mut e = Engine::new(
        Target {
            cluster: Some(CLUSTER_ARN.into()),
            service: Some("servicetest".into()),
            deployment_id: Some(OURS.into()),
            until: None,
            rollback_of: None,
        },
        1,
    );
    let mut elsewhere = task("task__stopped-essential-exit1-defra.json", "x1", OURS, 5);
    elsewhere["detail"]["clusterArn"] = json!(CLUSTER_ARN.replace("us-west-2", "eu-west-1"));
    let mut other_account = task("task__stopped-essential-exit1-defra.json", "x2", OURS, 5);
    other_account["detail"]["clusterArn"] = json!(CLUSTER_ARN.replace("111122223333", "999999999999"));
    feed(&mut e, [event(&elsewhere), event(&other_account)]);
    assert_eq!(outcome(&e), None, "neither failed task is ours");
    assert_eq!(e.stats().other_services, 2);
    feed(&mut e, [event(&task("task__stopped-essential-exit1-defra.json", "x3", OURS, 5))]);
    assert_eq!(outcome(&e), Some(Outcome::Failed), "the same task in our cluster is");
    assert_eq!(e.verdict().unwrap().cluster.as_deref(), Some("default"), "the verdict names the cluster");
}

/// One message of the service's event log (DescribeServices `events[]`).
fn service_event(id: &str, at: i64, message: &str) -> crate::engine::snapshot::ServiceEventMsg {
    crate::engine::snapshot::ServiceEventMsg { id: id.into(), created_at_ms: Some(at), message: message.into() }
}

#[test]
fn with_no_stopped_task_left_the_service_event_log_is_the_evidence() {
    let mut e = engine();
    let created = 1_700_000_000_000;
    let ev = service_event;
    let mut snap = ServiceSnapshot {
        service_arn: SERVICE_ARN.into(),
        cluster_arn: Some(CLUSTER_ARN.into()),
        service_name: Some("servicetest".into()),
        deployments: vec![dep(
            OURS,
            "PRIMARY",
            Some("FAILED"),
            Some("ECS deployment circuit breaker: tasks failed to start."),
            created,
        )],
        // Newest first, as the API lists them; the oldest is from before our deployment.
        events: vec![
            ev("3", created + 90_000, "(service servicetest) (task 5f2c) failed container health checks."),
            ev("2", created + 30_000, "(service servicetest) has started 1 tasks: (task 5f2c)."),
            ev("1", created - 60_000, "(service servicetest) was unable to place a task. Reason: an old story."),
        ],
        ..Default::default()
    };
    let notes = feed(&mut e, [Input::Service(snap.clone())]);
    let timeline: Vec<String> = notes
        .iter()
        .filter_map(|n| match n {
            Note::ServiceEvent { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(timeline.len(), 2, "only messages since our deployment began, oldest first: {timeline:?}");
    assert!(timeline[0].contains("has started 1 tasks"));
    snap.at_ms = Some(created + 100_000);
    assert!(feed(&mut e, [Input::Service(snap)]).iter().all(|n| !matches!(n, Note::ServiceEvent { .. })), "once each");
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.evidence, vec!["(service servicetest) (task 5f2c) failed container health checks.".to_string()]);
    assert!(v.hint.as_deref().unwrap_or_default().contains("healthCheck command kept failing"), "{:?}", v.hint);
}

fn modern(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/modern/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// The docs' hook event, moved into our service, with the given state.
fn hook(name: &str, sd: &str) -> Input {
    let mut v = modern("hook__awaiting-action-docs.json");
    v["detail"]["eventName"] = json!(name);
    v["detail"]["serviceArn"] = json!(SERVICE_ARN);
    v["detail"]["clusterArn"] = json!(CLUSTER_ARN);
    v["detail"]["serviceDeploymentArn"] = json!(sd);
    v["resources"] = json!([sd]);
    event(&v)
}

const SD: &str = "arn:aws:ecs:us-west-2:111122223333:service-deployment/default/servicetest/0EYSiB0qap8xf0N76FsbE";

fn with_service_deployment(e: &mut Engine, sd: &str) {
    let Input::Service(mut s) = snapshot(vec![dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, 1_700_000_000_000)])
    else {
        unreachable!()
    };
    s.current_service_deployment = Some(sd.into());
    feed(e, [Input::Service(s)]);
}

#[test]
fn the_real_hook_event_parses_with_its_service_deployment_and_stage() {
    let Input::Event(EcsEvent::Hook(h)) = event(&modern("hook__awaiting-action-docs.json")) else { panic!() };
    assert_eq!(h.event_name, "HOOK_AWAITING_ACTION");
    assert_eq!(h.lifecycle_stage.as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
    assert_eq!(h.service_arn.as_deref(), Some("arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service"));
    assert!(h.service_deployment_arn.unwrap().contains(":service-deployment/my-cluster/my-service/"));
    assert_eq!(h.expires_at.as_deref(), Some("2026-03-05T16:04:41Z"));
}

#[test]
fn a_hook_awaiting_action_is_a_notice_with_the_commands_not_a_verdict() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let notes = feed(&mut e, [hook("HOOK_AWAITING_ACTION", SD)]);
    assert_eq!(outcome(&e), None, "the gate keeps waiting");
    let line = notes.iter().find_map(crate::report::format_note).unwrap();
    assert!(
        line.contains("AWAITING_ACTION at POST_TEST_TRAFFIC_SHIFT — ACTION NEEDED before 2026-03-05T16:04:41Z"),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "aws ecs continue-service-deployment --service-deployment-arn {SD} --hook-id ecs-pause-"
        )),
        "{line}"
    );
    assert_eq!(
        e.progress().rollout_state.as_deref(),
        Some("IN_PROGRESS POST_TEST_TRAFFIC_SHIFT"),
        "progress shows the stage"
    );
}

#[test]
fn a_failed_or_timed_out_hook_of_ours_fails_the_deployment_naming_the_hook() {
    for (name, status) in [("HOOK_FAILED", "FAILED"), ("HOOK_TIMED_OUT", "TIMED_OUT")] {
        let mut e = engine();
        with_service_deployment(&mut e, SD);
        feed(&mut e, [hook(name, SD)]);
        let v = e.verdict().expect("decided");
        assert_eq!(v.outcome, Outcome::Failed);
        let h = v.hook.unwrap();
        assert_eq!((h.status.as_str(), h.lifecycle_stage.as_deref()), (status, Some("POST_TEST_TRAFFIC_SHIFT")));
        assert!(v.reason.unwrap().starts_with("lifecycle hook ecs-pause-"), "{name}");
        assert!(v.hint.unwrap().contains("pause hook"), "{name}");
    }
}

#[test]
fn a_hook_of_another_service_deployment_is_not_ours() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    feed(&mut e, [hook("HOOK_FAILED", &SD.replace("0EYSiB0qap8xf0N76FsbE", "older"))]);
    assert_eq!(outcome(&e), None);
}

#[test]
fn hooks_rerun_during_the_rollback_do_not_change_the_verdict() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    feed(&mut e, [hook("HOOK_FAILED", SD)]);
    let first = e.verdict().unwrap();
    // ECS re-invokes traffic-shift hooks while rolling back; they may succeed or fail again.
    let mut again = modern("hook__awaiting-action-docs.json");
    again["detail"]["eventName"] = json!("HOOK_SUCCEEDED");
    again["detail"]["hookId"] = json!("ecs-pause-rollback");
    again["detail"]["serviceArn"] = json!(SERVICE_ARN);
    again["detail"]["serviceDeploymentArn"] = json!(SD);
    feed(&mut e, [event(&again)]);
    assert_eq!(e.verdict().unwrap().outcome, first.outcome);
    assert_eq!(e.verdict().unwrap().reason, first.reason);
}

fn service_deployment(status: &str, reason: Option<&str>) -> Input {
    Input::ServiceDeployment(crate::engine::snapshot::ServiceDeploymentSnapshot {
        arn: SD.into(),
        status: status.into(),
        status_reason: reason.map(str::to_string),
        lifecycle_stage: Some("BAKE_TIME".into()),
        circuit_breaker: Some(("MONITORING".into(), 1, 3)),
        ..Default::default()
    })
}

#[test]
fn the_service_deployment_status_decides_even_without_deployment_events() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    feed(&mut e, [service_deployment("IN_PROGRESS", None)]);
    assert_eq!(outcome(&e), None);
    assert_eq!(
        e.progress().rollout_state.as_deref(),
        Some("IN_PROGRESS BAKE_TIME · breaker 1/3"),
        "stage and ECS's own breaker count"
    );
    feed(&mut e, [service_deployment("SUCCESSFUL", None)]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));

    let reason = "Service deployment rolled back because the circuit breaker threshold was exceeded.";
    for status in [
        "ROLLBACK_REQUESTED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
        "ROLLBACK_FAILED",
        "STOP_REQUESTED",
        "STOPPED",
    ] {
        let mut e = engine();
        with_service_deployment(&mut e, SD);
        feed(&mut e, [service_deployment(status, Some(reason))]);
        let v = e.verdict().unwrap_or_else(|| panic!("{status} decides"));
        assert_eq!((v.outcome, v.reason.as_deref()), (Outcome::Failed, Some(reason)), "{status}");
    }
}

#[test]
fn unknown_service_deployment_statuses_and_other_deployments_never_decide() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    feed(&mut e, [service_deployment("SOMETHING_NEW", None), service_deployment("PENDING", None)]);
    assert_eq!(outcome(&e), None);
    let Input::ServiceDeployment(mut other) = service_deployment("ROLLBACK_IN_PROGRESS", Some("x")) else {
        unreachable!()
    };
    other.arn = SD.replace("0EYSiB0qap8xf0N76FsbE", "previous");
    feed(&mut e, [Input::ServiceDeployment(other)]);
    assert_eq!(outcome(&e), None, "not ours");
}

#[test]
fn an_alarm_rollback_names_the_alarms() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let Input::ServiceDeployment(mut sd) = service_deployment("ROLLBACK_IN_PROGRESS", None) else { unreachable!() };
    sd.triggered_alarms = vec!["api-5xx-rate".into()];
    feed(&mut e, [Input::ServiceDeployment(sd)]);
    let v = e.verdict().unwrap();
    assert!(v.reason.unwrap().contains("(alarms in ALARM: api-5xx-rate)"));
    assert!(v.hint.unwrap().starts_with("CloudWatch alarm(s) api-5xx-rate went into ALARM"));
}

fn two_deployments(old_running: i64, ours_rollout: &str) -> Input {
    snapshot(vec![
        dep(OURS, "PRIMARY", Some(ours_rollout), None, 1_700_000_100_000),
        DeploymentSnapshot {
            running_count: old_running,
            ..dep("ecs-svc/1", "ACTIVE", Some("COMPLETED"), None, 1_700_000_000_000)
        },
    ])
}

#[test]
fn until_drained_holds_the_success_until_the_old_tasks_stopped() {
    let mut e = engine().with_until(Until::Drained);
    feed(
        &mut e,
        [
            two_deployments(2, "IN_PROGRESS"),
            deployment("SERVICE_DEPLOYMENT_COMPLETED", OURS, "done", "2025-01-01T00:00:00Z"),
        ],
    );
    assert_eq!(outcome(&e), None, "completed, but two old tasks still run");
    feed(&mut e, [two_deployments(1, "COMPLETED")]);
    assert_eq!(outcome(&e), None);
    feed(&mut e, [two_deployments(0, "COMPLETED")]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));
    assert!(e.verdict().unwrap().reason.unwrap().ends_with("every task of the older deployments has stopped"));
}

/// The real shape of an enabled `earlySuccessCriteria` (deploy-kinds sample), as aws/ecs.rs maps it.
fn early_success_snapshot(old_running: i64) -> Input {
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/fixtures/deploy-kinds/composed__deployment_configuration__rolling-early-success-deferred.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let e = &v["deploymentConfiguration"]["earlySuccessCriteria"];
    let Input::Service(mut s) = two_deployments(old_running, "IN_PROGRESS") else { unreachable!() };
    s.deployment_configuration = Some(snapshot::DeploymentConfigInfo {
        strategy: v["deploymentConfiguration"]["strategy"].as_str().map(str::to_string),
        early_success: Some(snapshot::EarlySuccess {
            healthy_percent: e["healthyPercent"].as_i64().map(|x| x as i32),
            cleanup: e["sourceServiceRevisionCleanup"].as_str().map(str::to_string),
        }),
        ..Default::default()
    });
    Input::Service(s)
}

#[test]
fn an_early_success_says_so_and_until_drained_still_waits_for_the_old_tasks() {
    let mut e = engine();
    feed(
        &mut e,
        [early_success_snapshot(1), deployment("SERVICE_DEPLOYMENT_COMPLETED", OURS, "done", "2025-01-01T00:00:00Z")],
    );
    let v = e.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Succeeded);
    let reason = v.reason.unwrap();
    assert!(reason.contains("early success: 90% of the desired tasks healthy"), "{reason}");
    assert!(reason.contains("1 task(s) of the previous revision still draining"), "{reason}");
    assert!(reason.contains("ECS no longer rolls back this deployment"), "{reason}");

    let mut e = engine().with_until(Until::Drained);
    feed(
        &mut e,
        [early_success_snapshot(1), deployment("SERVICE_DEPLOYMENT_COMPLETED", OURS, "done", "2025-01-01T00:00:00Z")],
    );
    assert_eq!(outcome(&e), None, "--until drained waits for the old revision's task");
    feed(&mut e, [early_success_snapshot(0)]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));

    // Without early success criteria a success says nothing of them.
    let mut e = engine();
    feed(
        &mut e,
        [
            two_deployments(1, "IN_PROGRESS"),
            deployment("SERVICE_DEPLOYMENT_COMPLETED", OURS, "done", "2025-01-01T00:00:00Z"),
        ],
    );
    assert!(!e.verdict().unwrap().reason.unwrap().contains("early success"));
}

#[test]
fn until_traffic_shifted_succeeds_at_the_bake_and_completed_waits_for_it() {
    for (until, want) in [(Until::TrafficShifted, Some(Outcome::Succeeded)), (Until::Completed, None)] {
        let mut e = engine().with_until(until);
        with_service_deployment(&mut e, SD);
        feed(&mut e, [service_deployment("IN_PROGRESS", None)]);
        assert_eq!(outcome(&e), want, "{until:?} at BAKE_TIME");
    }
}

/// A DescribeServiceDeployments entry in the API's JSON (a real sample), through the SDK and the
/// production mapping (`aws::ecs::describe_service_deployments`, never a copy of it), moved to our
/// service deployment.
fn sd_from_api(v: &Value) -> Input {
    let mut sd = crate::aws::testing::service_deployment(v);
    sd.arn = SD.into();
    Input::ServiceDeployment(sd)
}

/// `sd_from_api` read at `now`: the mapping stamps when ecsgate read it (the wall clock), a test's
/// clock is its own.
fn sd_from_api_at(v: &Value, now: i64) -> Input {
    let mut input = sd_from_api(v);
    if let Input::ServiceDeployment(sd) = &mut input {
        sd.at_ms = Some(now);
    }
    input
}

fn first_sd(sample: &str) -> Value {
    modern(sample)["serviceDeployments"][0].clone()
}

#[test]
fn a_pause_hook_awaiting_action_in_the_api_is_announced_once_and_decides_nothing() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let sd = first_sd("describe_service_deployments__paused-at-pause-hook-api-docs.json");
    let notes = feed(&mut e, [sd_from_api(&sd)]);
    assert_eq!(outcome(&e), None, "the gate keeps waiting");
    let lines: Vec<String> = notes.iter().filter_map(crate::report::format_note).collect();
    let notice = lines.iter().find(|l| l.contains("ACTION NEEDED")).expect("a notice");
    assert!(notice.contains("before 2026-05-06T16:03:00Z"), "{notice}");
    assert!(
        notice.contains(&format!(
            "--service-deployment-arn {SD} --hook-id ecs-pause-Xk7rT2mP9sLwQn4vB8fYd3hJ6gA1cE5iO0uR_ZpWq"
        )),
        "{notice}"
    );
    // The same state again (the next reconcile), or the hook's own event: no second notice.
    let again = feed(&mut e, [sd_from_api(&sd)]);
    assert!(again.iter().filter_map(crate::report::format_note).all(|l| !l.contains("ACTION NEEDED")));
}

#[test]
fn a_lambda_hook_ecs_names_in_its_status_reason_is_the_culprit() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let sd = first_sd("composed__describe_service_deployments__rollback-successful-lambda-hook-failed.json");
    feed(&mut e, [sd_from_api(&sd)]);
    let v = e.verdict().expect("ROLLBACK_SUCCESSFUL decides");
    assert_eq!(v.outcome, Outcome::Failed);
    let h = v.hook.clone().expect("the hook is the culprit");
    assert_eq!(h.lifecycle_stage.as_deref(), Some("PRE_SCALE_UP"));
    assert_eq!(h.hook_type.as_deref(), Some("AWS_LAMBDA"));
    assert_eq!(h.target_arn.as_deref(), Some("arn:aws:lambda:us-west-2:503947800380:function:scu-dev-signature-hook"));
    assert_eq!(e.failed_lambda_hook().as_deref(), h.target_arn.as_deref(), "the live gate reads its logs");
    assert!(v.hint.unwrap().contains("/aws/lambda/scu-dev-signature-hook"));
    assert_eq!(v.rollback.unwrap().outcome, Some(verdict::RollbackOutcome::Succeeded));
    assert_eq!(
        crate::report::view(&e.verdict().unwrap()).culprit_short.as_deref(),
        Some("lifecycle hook AWS_LAMBDA scu-dev-signature-hook FAILED at PRE_SCALE_UP")
    );
}

#[test]
fn every_rollback_reason_of_the_catalog_names_a_hook_only_when_it_is_one() {
    let catalog = modern("composed__rollback-reason-strings-catalog.json");
    for entry in catalog["serviceDeployment.statusReason"].as_array().unwrap() {
        let Some(text) = entry["text"].as_str() else { continue };
        let hook = diagnose::hook_from_reason(text);
        let names_hook = text.contains("lifecycle hook") || text.contains("pause hook");
        assert_eq!(hook.is_some(), names_hook, "{text}");
        if let Some(h) = hook {
            assert!(
                h.lifecycle_stage.as_deref().is_some_and(|s| s.ends_with("SHIFT") || s.ends_with("SCALE_UP")),
                "{text}"
            );
            if text.contains("pause hook timed out") {
                assert_eq!((h.hook_type.as_deref(), h.status.as_str()), (Some("PAUSE"), "TIMED_OUT"));
            }
            if text.contains("function:") {
                assert!(h.target_arn.as_deref().unwrap().starts_with("arn:aws:lambda:"), "{text}");
                assert!(!h.target_arn.unwrap().ends_with('.'), "{text}");
            }
            let hint = diagnose::hook_hint(&diagnose::hook_from_reason(text).unwrap(), Some(text));
            if text.contains("unable to assume role") {
                assert!(hint.contains("trust policy"), "{hint}");
            }
            if text.contains("HookStatus must not be null") {
                assert!(hint.contains("hookStatus"), "{hint}");
            }
        }
    }
}

#[test]
fn a_failed_lambda_hook_in_the_api_fails_with_its_function_named() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let sd = json!({"status": "IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "deploymentConfiguration": {"strategy": "BLUE_GREEN"},
        "lifecycleHookDetails": [{"hookId": "ecs-lambda-1a2b", "targetType": "AWS_LAMBDA", "status": "FAILED",
            "targetArn": "arn:aws:lambda:us-west-2:111122223333:function:smoke-test:live"}]});
    feed(&mut e, [sd_from_api(&sd)]);
    let v = e.verdict().expect("decided");
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(
        v.reason.as_deref(),
        Some(
            "lifecycle hook ecs-lambda-1a2b (AWS_LAMBDA smoke-test) failed at POST_TEST_TRAFFIC_SHIFT; ECS rolls the deployment back"
        )
    );
    assert!(v.hint.unwrap().contains("/aws/lambda/smoke-test"), "alias stripped for the log group");
    // Its logs, read by the live gate, join the verdict.
    let tail = verdict::LogTail {
        log_group: "/aws/lambda/smoke-test".into(),
        log_stream: "2026/12/03/[$LATEST]abc".into(),
        lines: vec!["smoke test failed: GET /health returned 503".into()],
        note: None,
    };
    e.diagnosed(Diagnosis::HookLog(tail.clone()));
    assert_eq!(e.verdict().unwrap().hook.unwrap().log_tail, Some(tail));
}

#[test]
fn alarm_state_reasons_read_after_the_verdict_go_into_the_hint() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let sd = json!({"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "BAKE_TIME",
        "alarms": {"status": "TRIGGERED", "alarmNames": ["api-5xx", "api-p99"], "triggeredAlarmNames": ["api-5xx"]}});
    feed(&mut e, [sd_from_api(&sd)]);
    assert_eq!(e.triggered_alarms(), ["api-5xx".to_string()]);
    let v = e.verdict().unwrap();
    assert_eq!(v.alarms.len(), 1, "named before they are read");
    assert_eq!(crate::report::view(&v).culprit_short.as_deref(), Some("alarm api-5xx"));
    let reason = "Threshold Crossed: 3 datapoints [12.0, 9.0, 14.0] were greater than the threshold (5.0).";
    e.diagnosed(Diagnosis::Alarms(vec![verdict::AlarmState {
        name: "api-5xx".into(),
        state: Some("ALARM".into()),
        reason: Some(reason.into()),
        note: None,
    }]));
    let v = e.verdict().unwrap();
    assert_eq!(v.alarms[0].reason.as_deref(), Some(reason));
    assert!(v.hint.as_deref().unwrap().contains("api-5xx: Threshold Crossed: 3 datapoints"));
    let block = crate::report::format_verdict(&v, false);
    assert!(block.contains(&format!("  alarm:    api-5xx ALARM: {reason}")), "{block}");
}

#[test]
fn progress_shows_strategy_stage_traffic_share_and_bake_left() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let at = 1_700_000_000_000i64;
    let sd = |stage: &str, weight: Option<f64>, now: i64| {
        let mut v = json!({"status": "IN_PROGRESS", "lifecycleStage": stage,
            "deploymentConfiguration": {"strategy": "LINEAR", "bakeTimeInMinutes": 15},
            "updatedAt": now as f64 / 1000.0});
        if let Some(w) = weight {
            v["targetServiceRevision"] = json!({"requestedProductionTrafficWeight": w});
        }
        sd_from_api_at(&v, now)
    };
    feed(&mut e, [sd("PRODUCTION_TRAFFIC_SHIFT", Some(40.0), at)]);
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS LINEAR PRODUCTION_TRAFFIC_SHIFT 40%"));
    feed(&mut e, [sd("BAKE_TIME", None, at + 60_000)]);
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS LINEAR BAKE_TIME ~15 m left"));
    feed(&mut e, [sd("BAKE_TIME", None, at + 4 * 60_000)]);
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS LINEAR BAKE_TIME ~12 m left"));
    assert_eq!(outcome(&e), None);
}

#[test]
fn an_unknown_lifecycle_stage_is_shown_and_decides_nothing() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    feed(&mut e, [sd_from_api(&json!({"status": "IN_PROGRESS", "lifecycleStage": "PRE_PRODUCTION_TRAFFIC_SHIFT"}))]);
    feed(&mut e, [sd_from_api(&json!({"status": "IN_PROGRESS", "lifecycleStage": "QUANTUM_SHIFT"}))]);
    assert_eq!(outcome(&e), None);
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS QUANTUM_SHIFT"));
}

#[test]
fn a_hook_event_after_the_failure_is_the_rollbacks_and_moves_no_stage() {
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    feed(
        &mut e,
        [sd_from_api(&json!({"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT"}))],
    );
    let notes = feed(&mut e, [hook("HOOK_IN_PROGRESS", SD)]);
    assert!(notes.iter().any(|n| matches!(n, Note::Hook { role: Role::EcsRollback, .. })), "{notes:?}");
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS PRODUCTION_TRAFFIC_SHIFT"));
}

#[test]
fn the_configured_wait_adds_the_bake_to_each_linear_step_or_the_canary() {
    use snapshot::DeploymentConfigInfo as C;
    let bg = C { strategy: Some("BLUE_GREEN".into()), bake_time_minutes: Some(30), ..C::default() };
    assert_eq!(bg.configured_wait_minutes(), 30);
    // 10 % steps: ten shifts, nine bakes between them, then the bake time.
    let linear = C { linear: Some((10.0, 6)), bake_time_minutes: Some(20), ..C::default() };
    assert_eq!(linear.configured_wait_minutes(), 20 + 9 * 6);
    let canary = C { canary: Some((5.0, 10)), bake_time_minutes: Some(5), ..C::default() };
    assert_eq!(canary.configured_wait_minutes(), 15);
    assert_eq!(C::default().configured_wait_minutes(), 0);
}

#[test]
fn a_service_deployment_targeting_our_revision_number_is_ours_when_no_snapshot_pinned_one() {
    // The service names no current service deployment (the API lists new ones with a lag, or ours is
    // no longer the current one).
    let mut e = engine();
    feed(&mut e, [snapshot(vec![dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, 1_700_000_000_000)])]);
    assert_eq!(e.service_deployment(), None);
    let rev = |n: &str| {
        json!({"status": "ROLLBACK_SUCCESSFUL",
        "statusReason": "Service deployment rolled back because the circuit breaker threshold was exceeded.",
        "targetServiceRevision": {"arn": format!("arn:aws:ecs:us-west-2:111122223333:service-revision/default/servicetest/{n}")}})
    };
    // Another revision's (a near miss too): not ours, decides nothing.
    feed(&mut e, [sd_from_api(&rev("2222222222222222222")), sd_from_api(&rev("111111111111111111"))]);
    assert_eq!((e.service_deployment(), outcome(&e)), (None, None));
    feed(&mut e, [sd_from_api(&rev("1111111111111111111"))]);
    assert_eq!(e.service_deployment(), Some(SD));
    let v = e.verdict().expect("ours rolled back");
    assert_eq!(
        v.reason.as_deref(),
        Some("Service deployment rolled back because the circuit breaker threshold was exceeded.")
    );
}

#[test]
fn failures_count_cumulatively_while_a_resetting_breaker_never_trips() {
    // resetOnHealthyTask: each healthy task resets ECS's count, so the breaker shows 1/3 forever while
    // the deployment keeps failing a task now and then. ecsgate's --max-task-failures does not reset.
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let breaker = |n: i64| {
        sd_from_api(&json!({"status": "IN_PROGRESS", "lifecycleStage": "SCALE_UP",
            "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": n, "threshold": 3}}))
    };
    let failed = |s: &str| event(&task("task__stopped-essential-exit1-defra.json", s, OURS, 6));
    let healthy = |s: &str| {
        let mut v = task("task__running-fargate-multicontainer-defra.json", s, OURS, 3);
        v["detail"]["lastStatus"] = json!("RUNNING");
        event(&v)
    };
    for (i, t) in ["a", "b"].into_iter().enumerate() {
        feed(&mut e, [failed(t), breaker(1), healthy(&format!("ok{i}")), breaker(0)]);
    }
    assert_eq!(outcome(&e), None);
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS SCALE_UP · breaker 0/3"), "ECS's own count");
    feed(&mut e, [failed("c"), breaker(1)]);
    let v = e.verdict().expect("the third failure decides");
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.failed_tasks.len(), 3);
    let b = v.circuit_breaker.clone().expect("the breaker is in the verdict");
    assert_eq!((b.status.as_str(), b.failure_count, b.threshold), ("MONITORING", 1, 3), "the latest count ECS gave");
    let block = crate::report::format_verdict(&v, false);
    assert!(block.contains("  breaker:  1/3 failed tasks by ECS's count (MONITORING)"), "{block}");
}

#[test]
fn a_hook_event_without_resources_is_routed_by_its_detail() {
    // One documented example omits `resources`: the service is in detail.serviceArn.
    let mut v = modern("hook__awaiting-action-no-resources-pause-hooks-docs.json");
    assert!(v.get("resources").is_none());
    v["detail"]["serviceArn"] = json!(SERVICE_ARN);
    v["detail"]["clusterArn"] = json!(CLUSTER_ARN);
    v["detail"]["serviceDeploymentArn"] = json!(SD);
    let mut e = engine();
    with_service_deployment(&mut e, SD);
    let input = event(&v);
    assert!(e.accepts(&input));
    let notes = feed(&mut e, [input]);
    assert!(
        notes.iter().any(
            |n| matches!(n, Note::Hook { role: Role::Ours, event_name, .. } if event_name == "HOOK_AWAITING_ACTION")
        ),
        "{notes:?}"
    );
    assert_eq!(outcome(&e), None);
}

#[test]
fn a_canary_alarm_rollback_seen_only_in_the_classic_api_fails_with_the_alarm_hint() {
    // Observed (modern/README §C): after an alarm rollback the old deployment is PRIMARY IN_PROGRESS again
    // and ours ACTIVE FAILED; the service's event log says "deployment failed: alarm detected."
    let mut e = engine();
    let created = 1_700_000_000_000;
    let msg = service_event;
    feed(&mut e, [snapshot(vec![dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, created)])]);
    let snap = ServiceSnapshot {
        service_arn: SERVICE_ARN.into(),
        cluster_arn: Some(CLUSTER_ARN.into()),
        deployments: vec![
            dep(OLD, "PRIMARY", Some("IN_PROGRESS"), None, created - 3_600_000),
            dep(OURS, "ACTIVE", Some("FAILED"), None, created),
        ],
        events: vec![
            msg("2", created + 61_000, &format!("(service servicetest) rolling back to deployment {OLD}")),
            msg(
                "1",
                created + 60_000,
                &format!("(service servicetest) (deployment {OURS}) deployment failed: alarm detected."),
            ),
        ],
        ..Default::default()
    };
    feed(&mut e, [Input::Service(snap)]);
    let v = e.verdict().expect("decided");
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.hint.as_deref().unwrap_or_default().contains("alarms.triggeredAlarmNames"), "{:?}", v.hint);
}

#[test]
fn a_placement_failure_shows_the_deployment_waiting_for_capacity_until_one_of_ours_runs() {
    let mut e = engine();
    feed(&mut e, [deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", OURS, "in progress", "2019-11-19T19:55:00Z")]);
    let mut v = fixture("service_action__placement-failure-ec2-resource-cpu-docs.json");
    v["time"] = json!("2019-11-19T19:55:38Z");
    let notes = feed(&mut e, [event(&v)]);
    // Shown with its hint, never counted as a failed task.
    assert!(notes.iter().any(|n| matches!(n, Note::Warning { hint: Some(_), .. })), "{notes:?}");
    let p = e.progress();
    assert_eq!(p.failed_tasks, 0);
    assert_eq!(p.rollout_state.as_deref(), Some("IN_PROGRESS · waiting for capacity"));
    assert!(!e.is_decided(), "waiting for capacity decides nothing");
    // One of ours starts: it no longer waits for capacity.
    let mut t = fixture("task__running-fargate-docs.json");
    t["detail"]["startedBy"] = json!(OURS);
    t["detail"]["group"] = json!("service:servicetest");
    t["detail"]["clusterArn"] = json!(CLUSTER_ARN);
    feed(&mut e, [event(&t)]);
    assert_eq!(e.progress().rollout_state.as_deref(), Some("IN_PROGRESS"));
}

#[test]
fn a_moving_modern_deployment_asks_for_fast_reads_and_a_long_bake_for_slower_ones() {
    let mut e = engine();
    // Nothing of ours pinned yet, or a rolling update: events tell everything.
    assert_eq!(e.pace(), Pace::Events);
    with_service_deployment(&mut e, SD);
    let at = 1_700_000_000_000i64;
    let sd = |status: &str, stage: &str, now: i64| {
        let v = json!({"status": status, "lifecycleStage": stage,
            "deploymentConfiguration": {"strategy": "CANARY", "bakeTimeInMinutes": 10},
            "updatedAt": now as f64 / 1000.0});
        sd_from_api_at(&v, now)
    };
    feed(&mut e, [sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", at)]);
    assert_eq!(e.pace(), Pace::Moving, "a traffic shift ends with no event");
    feed(&mut e, [sd("IN_PROGRESS", "BAKE_TIME", at + 60_000)]);
    assert_eq!(e.pace(), Pace::Baking, "ten minutes of bake left");
    feed(&mut e, [sd("IN_PROGRESS", "BAKE_TIME", at + 60_000 + 9 * 60_000 + 30_000)]);
    assert_eq!(e.pace(), Pace::Moving, "the bake's last minute: SUCCESSFUL is next");
    feed(&mut e, [sd("SUCCESSFUL", "CLEAN_UP", at + 11 * 60_000)]);
    assert_eq!(outcome(&e), Some(Outcome::Succeeded));
    assert_eq!(e.pace(), Pace::Events, "decided: nothing more to read");

    let mut rolling = engine();
    with_service_deployment(&mut rolling, SD);
    let mut v = json!({"status": "IN_PROGRESS", "deploymentConfiguration": {"strategy": "ROLLING"}});
    v["updatedAt"] = json!(at as f64 / 1000.0);
    feed(&mut rolling, [sd_from_api(&v)]);
    assert_eq!(rolling.pace(), Pace::Events, "a rolling deployment's end has its own event");
}

/// An Express service (resourceManagementType ECS) with our service deployment in progress.
fn express_engine() -> Engine {
    let mut e = engine();
    let Input::Service(mut s) = snapshot(vec![dep(OURS, "PRIMARY", Some("IN_PROGRESS"), None, 1_700_000_000_000)])
    else {
        unreachable!()
    };
    s.current_service_deployment = Some(SD.into());
    s.resource_management_type = Some("ECS".into());
    feed(&mut e, [Input::Service(s)]);
    e
}

fn managed() -> snapshot::ManagedResources {
    snapshot::ManagedResources {
        revision_arn: "arn:aws:ecs:us-east-1:1:service-revision/shop/api/1".into(),
        endpoints: vec!["https://api-1a2b.ecs.us-east-1.on.aws/".into()],
        log_groups: vec!["/aws/ecs/express/api".into()],
        alarms: vec![snapshot::ManagedAlarm { name: "api-express-4xx5xx".into(), status: Some("ACTIVE".into()) }],
        failed: vec![],
    }
}

#[test]
fn an_express_rollback_by_an_alarm_ecs_did_not_name_names_the_managed_alarm() {
    let mut e = express_engine();
    let rev = json!({"status": "ROLLBACK_SUCCESSFUL", "statusReason": "Service deployment rolled back because alarm(s) detected.",
        "deploymentConfiguration": {"strategy": "CANARY"},
        "targetServiceRevision": {"arn": "arn:aws:ecs:us-east-1:1:service-revision/shop/api/1"}});
    feed(&mut e, [sd_from_api(&rev)]);
    assert!(e.is_express() && e.wants_managed_resources(), "decided, resources not read yet");
    assert_eq!(e.target_revision(), Some("arn:aws:ecs:us-east-1:1:service-revision/shop/api/1"));
    assert!(e.triggered_alarms().is_empty(), "ECS named none");
    e.diagnosed(Diagnosis::Managed(managed()));
    assert_eq!(e.triggered_alarms(), ["api-express-4xx5xx".to_string()]);
    let v = e.verdict().unwrap();
    assert_eq!(crate::report::view(&v).culprit_short.as_deref(), Some("alarm api-express-4xx5xx"));
    assert_eq!(v.express.unwrap().endpoints, ["https://api-1a2b.ecs.us-east-1.on.aws/".to_string()]);
    assert_eq!(e.managed_log_group(), Some("/aws/ecs/express/api"));
}

#[test]
fn an_express_rollback_for_another_reason_blames_no_managed_alarm_and_a_success_shows_the_endpoint() {
    let mut e = express_engine();
    let breaker = json!({"status": "ROLLBACK_SUCCESSFUL", "statusReason": "Service deployment rolled back because the circuit breaker threshold was exceeded.",
        "deploymentConfiguration": {"strategy": "CANARY"}});
    feed(&mut e, [sd_from_api(&breaker)]);
    e.diagnosed(Diagnosis::Managed(managed()));
    assert!(e.triggered_alarms().is_empty(), "the breaker, not an alarm: {:?}", e.triggered_alarms());
    let mut ok = express_engine();
    feed(&mut ok, [sd_from_api(&json!({"status": "SUCCESSFUL", "deploymentConfiguration": {"strategy": "CANARY"}}))]);
    ok.diagnosed(Diagnosis::Managed(managed()));
    let v = ok.verdict().unwrap();
    assert_eq!(v.outcome, Outcome::Succeeded);
    let view = crate::report::view(&v);
    let s = view.section(crate::report::view::Kind::Express).expect("the express section");
    assert_eq!(s.text, "endpoint https://api-1a2b.ecs.us-east-1.on.aws");
    assert_eq!(s.details, ["managed alarm api-express-4xx5xx", "managed log group /aws/ecs/express/api"]);
    // A customer-managed service never reads them.
    let mut plain = engine();
    with_service_deployment(&mut plain, SD);
    feed(&mut plain, [sd_from_api(&json!({"status": "SUCCESSFUL"}))]);
    assert!(!plain.wants_managed_resources());
}

#[test]
fn detach_at_paused_detaches_when_our_hook_awaits_action_and_not_for_another_deployments() {
    let mut e = engine().with_detach(Some(DetachAt::Paused));
    with_service_deployment(&mut e, SD);
    let Input::Event(EcsEvent::Hook(mut other)) =
        hook("HOOK_AWAITING_ACTION", "arn:aws:ecs:us-west-2:111122223333:service-deployment/default/servicetest/other")
    else {
        unreachable!()
    };
    other.hook_id = Some("ecs-pause-of-another-deployment".into());
    feed(&mut e, [Input::Event(EcsEvent::Hook(other))]);
    assert!(!e.is_decided(), "another deployment's pause");
    feed(&mut e, [hook("HOOK_AWAITING_ACTION", SD)]);
    let v = e.verdict().expect("detached");
    assert_eq!((v.outcome, v.exit_code), (Outcome::Detached, crate::exit::DETACHED));
    assert!(v.reason.unwrap().starts_with("detached while lifecycle hook ecs-pause-"), "the hook is named");
    // Without --detach-at the same pause only announces itself.
    let mut plain = engine();
    with_service_deployment(&mut plain, SD);
    feed(&mut plain, [hook("HOOK_AWAITING_ACTION", SD)]);
    assert!(!plain.is_decided());
}

#[test]
fn detach_at_traffic_shifted_detaches_when_the_bake_begins_and_a_success_still_succeeds() {
    let mut e = engine().with_detach(Some(DetachAt::TrafficShifted));
    with_service_deployment(&mut e, SD);
    feed(&mut e, [sd_from_api(&json!({"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT"}))]);
    assert!(!e.is_decided());
    feed(&mut e, [sd_from_api(&json!({"status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME"}))]);
    assert_eq!(e.verdict().unwrap().outcome, Outcome::Detached);
    let mut quick = engine().with_detach(Some(DetachAt::TrafficShifted));
    with_service_deployment(&mut quick, SD);
    feed(&mut quick, [sd_from_api(&json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"}))]);
    assert_eq!(
        quick.verdict().unwrap().outcome,
        Outcome::Succeeded,
        "a deployment already done is judged, not detached"
    );
}
