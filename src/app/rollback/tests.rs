//! Which services `--rollback-on-failure` rolls back, and how: on engines fed real-shaped inputs, no AWS.

use super::*;
use crate::engine::event::parse_envelope_str;
use crate::engine::{DeploymentSnapshot, TaskRecord};
use crate::exit;

const OURS: &str = "ecs-svc/1111111111111111111";
const OLD: &str = "ecs-svc/0000000000000000000";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/shop";
const SERVICE: &str = "arn:aws:ecs:us-east-1:123456789012:service/shop/api";

fn driver() -> Driver {
    let target = Target {
        cluster: Some(CLUSTER.into()),
        service: Some("api".into()),
        deployment_id: Some(OURS.into()),
        until: None,
        rollback_of: None,
    };
    Driver::new(vec![target], 3)
}

fn quiet() -> Reporter {
    Reporter::with_sinks(Vec::new())
}

/// A real-shaped deployment event (the docs' sample, identity fields changed).
fn deployment_event(name: &str, id: &str, reason: &str) -> Input {
    let path = format!("{}/tests/fixtures/events/deployment__in-progress-docs.json", env!("CARGO_MANIFEST_DIR"));
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["resources"] = serde_json::json!([SERVICE]);
    v["detail"]["clusterArn"] = serde_json::json!(CLUSTER);
    v["detail"]["eventName"] = serde_json::json!(name);
    v["detail"]["deploymentId"] = serde_json::json!(id);
    v["detail"]["reason"] = serde_json::json!(reason);
    Input::Event(parse_envelope_str(&v.to_string()).unwrap())
}

fn failed_task(n: usize) -> Input {
    Input::Task(TaskRecord {
        task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/shop/t{n}"),
        cluster_arn: Some(CLUSTER.into()),
        group: Some("service:api".into()),
        last_status: Some("STOPPED".into()),
        desired_status: Some("STOPPED".into()),
        stop_code: Some("TaskFailedToStart".into()),
        stopped_reason: Some("CannotPullContainerError: not found".into()),
        started_by: Some(OURS.into()),
        version: Some(3),
        ..Default::default()
    })
}

fn feed(d: &mut Driver, inputs: impl IntoIterator<Item = Input>) {
    let mut r = quiet();
    for i in inputs {
        d.feed(i, &mut r);
    }
}

#[test]
fn a_failure_decided_by_ecsgates_own_threshold_is_rolled_back() {
    let mut d = driver();
    feed(&mut d, (0..3).map(failed_task));
    assert_eq!(d.engine(0).verdict().unwrap().exit_code, exit::FAILED);
    assert_eq!(to_roll_back(&d), [0]);
}

#[test]
fn a_failure_ecs_decided_is_never_rolled_back_again() {
    let mut d = driver();
    feed(
        &mut d,
        [deployment_event("SERVICE_DEPLOYMENT_FAILED", OURS, "ECS deployment circuit breaker: tasks failed to start.")],
    );
    assert_eq!(d.engine(0).verdict().unwrap().exit_code, exit::FAILED);
    assert!(to_roll_back(&d).is_empty(), "ECS's circuit breaker decided: a rollback of ours would be a second one");
}

#[test]
fn a_threshold_failure_while_ecs_is_already_rolling_back_is_not_rolled_back_again() {
    let mut d = driver();
    feed(
        &mut d,
        [deployment_event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "ecs-svc/9999999999999999999",
            &format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}."),
        )],
    );
    feed(&mut d, (0..3).map(failed_task));
    assert!(d.engine(0).ecs_rolls_back());
    assert!(to_roll_back(&d).is_empty());
}

#[test]
fn a_timeout_is_rolled_back_unless_ecs_is_rolling_back() {
    let mut d = driver();
    d.finish(0, Outcome::TimedOut, "timed out".into());
    assert_eq!(to_roll_back(&d), [0]);

    let mut rolling = driver();
    feed(
        &mut rolling,
        [deployment_event(
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "ecs-svc/9999999999999999999",
            &format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}."),
        )],
    );
    rolling.finish(0, Outcome::TimedOut, "timed out".into());
    assert!(to_roll_back(&rolling).is_empty());
}

#[test]
fn success_supersession_interruption_and_undecided_are_never_rolled_back() {
    for outcome in [Outcome::Succeeded, Outcome::Superseded, Outcome::Interrupted(crate::exit::Signal::Int)] {
        let mut d = driver();
        d.finish(0, outcome, "x".into());
        assert!(to_roll_back(&d).is_empty(), "{outcome:?}");
    }
    assert!(to_roll_back(&driver()).is_empty());
}

fn snapshot(current_sd: Option<&str>, deployments: &[(&str, Option<&str>, i64)]) -> ServiceSnapshot {
    ServiceSnapshot {
        service_arn: SERVICE.into(),
        current_service_deployment: current_sd.map(str::to_string),
        deployments: deployments
            .iter()
            .map(|(id, td, at)| DeploymentSnapshot {
                id: (*id).into(),
                status: if *id == OURS { "PRIMARY".into() } else { "ACTIVE".into() },
                task_definition: td.map(str::to_string),
                created_at_ms: Some(*at),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn a_service_deployment_is_rolled_back_by_ecs_otherwise_to_the_newest_revision_before_ours() {
    let sd = "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/abc";
    let both = snapshot(Some(sd), &[(OURS, Some("app:3"), 30), (OLD, Some("app:2"), 20)]);
    assert_eq!(how(Some(&both), OURS), How::StopServiceDeployment(sd.into()));
    let older =
        snapshot(None, &[(OURS, Some("app:3"), 30), ("ecs-svc/1", Some("app:1"), 10), (OLD, Some("app:2"), 20)]);
    assert_eq!(how(Some(&older), OURS), How::UpdateService("app:2".into()));
    assert_eq!(how(Some(&snapshot(None, &[(OURS, Some("app:3"), 30)])), OURS), How::Nowhere);
    assert_eq!(how(None, OURS), How::Nowhere);
}
