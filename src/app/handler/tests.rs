//! The loop's decisions, step by step: no AWS, no tokio, a clock and signals of the test's own.

use super::*;
use crate::engine::{DeploymentSnapshot, Target};
use crate::exit;

const TIMING: Timing = Timing {
    reconcile_interval: Duration::from_secs(15),
    poll_interval: Duration::from_secs(5),
    api_error_budget: Duration::from_secs(60),
    wait_seconds: 20,
    heartbeat: Duration::from_secs(60),
};

fn dep(service: &str) -> String {
    match service {
        "api" => "ecs-svc/1111111111111111111".into(),
        "worker" => "ecs-svc/2222222222222222222".into(),
        _ => "ecs-svc/3333333333333333333".into(),
    }
}

fn driver(services: &[&str]) -> Driver {
    let targets = services
        .iter()
        .map(|s| Target {
            cluster: Some("shop".into()),
            service: Some((*s).into()),
            deployment_id: Some(dep(s)),
            until: None,
            rollback_of: None,
        })
        .collect();
    Driver::new(targets, 3)
}

fn snapshot(service: &str, rollout: &str, running: i64) -> ServiceSnapshot {
    ServiceSnapshot {
        service_arn: format!("arn:aws:ecs:us-east-1:123456789012:service/shop/{service}"),
        cluster_arn: Some("arn:aws:ecs:us-east-1:123456789012:cluster/shop".into()),
        service_name: Some(service.into()),
        at_ms: None,
        deployments: vec![DeploymentSnapshot {
            id: dep(service),
            status: "PRIMARY".into(),
            rollout_state: Some(rollout.into()),
            desired_count: 2,
            running_count: running,
            ..Default::default()
        }],
        current_service_deployment: None,
        deployment_configuration: None,
        events: Vec::new(),
        health_check_grace_seconds: None,
        target_groups: Vec::new(),
        resource_management_type: None,
        deployment_controller: None,
        task_sets: Vec::new(),
    }
}

/// A real-shaped deployment event (the docs' sample, identity fields changed).
fn deployment_event(service: &str, name: &str) -> String {
    let path = format!("{}/tests/fixtures/events/deployment__in-progress-docs.json", env!("CARGO_MANIFEST_DIR"));
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["resources"] = serde_json::json!([format!("arn:aws:ecs:us-east-1:123456789012:service/shop/{service}")]);
    v["detail"]["eventName"] = serde_json::json!(name);
    v["detail"]["deploymentId"] = serde_json::json!(dep(service));
    v["detail"]["reason"] = serde_json::json!("ECS deployment circuit breaker: tasks failed to start.");
    v.to_string()
}

fn quiet() -> Reporter {
    Reporter::with_sinks(Vec::new())
}

fn exit_codes(d: &Driver) -> Vec<u8> {
    d.engines().map(|(_, e)| e.verdict().map_or(255, |v| v.exit_code)).collect()
}

#[test]
fn start_lists_stopped_tasks_of_every_undecided_service() {
    let (mut d, mut r, now) = (driver(&["api", "worker"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 2, now);
    let done = snapshot("worker", "COMPLETED", 2);
    d.feed(Input::Service(done.clone()), &mut r);
    assert_eq!(h.start(&mut d, &mut r, now, &[done]), Action::ListStopped(vec![0]), "worker is already decided");
    assert_eq!(h.next_reconcile(), now + TIMING.reconcile_interval);
}

#[test]
fn a_signal_ends_every_undecided_service_with_that_signals_exit_code() {
    let (mut d, mut r, now) = (driver(&["api", "worker"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 2, now);
    d.feed(Input::Service(snapshot("worker", "COMPLETED", 2)), &mut r);
    assert_eq!(h.handle(LoopEvent::Signal(Signal::Term), now, &mut d, &mut r), Action::Stop);
    assert_eq!(exit_codes(&d), vec![exit::SIGTERM, exit::SUCCEEDED], "a decided service keeps its verdict");
    assert_eq!(crate::exit::combine(exit_codes(&d)), exit::SIGTERM);
}

#[test]
fn the_deadline_times_out_each_undecided_service_with_its_last_state() {
    let (mut d, mut r, now) = (driver(&["api"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(20), false, false, 1, now);
    d.feed(Input::Service(snapshot("api", "IN_PROGRESS", 1)), &mut r);
    assert_eq!(h.handle(LoopEvent::Deadline, now, &mut d, &mut r), Action::Stop);
    let v = d.engine(0).verdict().unwrap();
    assert_eq!(v.exit_code, exit::TIMED_OUT);
    assert_eq!(
        v.reason.as_deref(),
        Some("timed out after 20s; last state: IN_PROGRESS · running 1/2 · pending 0 · failed 0/3")
    );
}

#[test]
fn api_errors_are_tolerated_until_they_have_lasted_the_budget() {
    let (mut d, mut r, t0) = (driver(&["api"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 1, t0);
    let err = || ErrInfo {
        kind: Kind::Transient,
        code: Some("InternalError".into()),
        message: "boom".into(),
        request_id: None,
    };
    assert_eq!(h.handle(LoopEvent::ReceiveFailed(err(), Reader::QUEUE), t0, &mut d, &mut r), Action::Continue);
    assert_eq!(
        h.handle(LoopEvent::ReceiveFailed(err(), Reader::QUEUE), t0 + Duration::from_secs(59), &mut d, &mut r),
        Action::Continue
    );
    // A success in between resets the budget.
    h.handle(LoopEvent::Stopped(Ok(Vec::new())), t0 + Duration::from_secs(59), &mut d, &mut r);
    assert_eq!(
        h.handle(LoopEvent::ReceiveFailed(err(), Reader::QUEUE), t0 + Duration::from_secs(100), &mut d, &mut r),
        Action::Continue
    );
    let spent = h.handle(LoopEvent::ReceiveFailed(err(), Reader::QUEUE), t0 + Duration::from_secs(160), &mut d, &mut r);
    let Action::Fail(e) = spent else { panic!("{spent:?}") };
    assert_eq!(e.0.exit_code(), exit::AWS_ERROR);
    assert!(e.0.message.starts_with("sqs:ReceiveMessage kept failing for 1m00s"), "{}", e.0.message);
}

#[test]
fn a_missing_permission_on_a_read_ends_the_gate_at_once_naming_it() {
    let (mut d, mut r, now) = (driver(&["api"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 1, now);
    let err = ErrInfo {
        kind: Kind::AccessDenied,
        code: Some("AccessDeniedException".into()),
        message: "no".into(),
        request_id: None,
    };
    let f = ApiFailure { op: "ListTasks", permission: "ecs:ListTasks", err: err.clone() };
    let Action::Fail(e) = h.handle(LoopEvent::Stopped(Err(f)), now, &mut d, &mut r) else { panic!() };
    assert!(e.0.message.starts_with("not authorized to call ecs:ListTasks"), "{}", e.0.message);
    // The hub's reader is denied its Query: that permission is named, not SQS's.
    let Action::Fail(e) = h.handle(LoopEvent::ReceiveFailed(err, Reader::HUB), now, &mut d, &mut r) else { panic!() };
    assert!(e.0.message.starts_with("not authorized to call dynamodb:Query"), "{}", e.0.message);
}

#[test]
fn a_deleted_queue_falls_back_to_polling_and_reconciles_at_once() {
    let (mut d, mut r, now) = (driver(&["api"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 1, now);
    let gone = ErrInfo {
        kind: Kind::NotFound,
        code: Some("QueueDoesNotExist".into()),
        message: "gone".into(),
        request_id: None,
    };
    assert_eq!(h.handle(LoopEvent::QueueGone(gone, Reader::QUEUE), now, &mut d, &mut r), Action::FallBackToPolling);
    assert!(h.polling());
    assert_eq!(h.next_reconcile(), now);
    assert_eq!(h.handle(LoopEvent::ReconcileDue, now, &mut d, &mut r), Action::Describe(vec![0]));
    assert_eq!(h.next_reconcile(), now + TIMING.poll_interval);
}

#[test]
fn reconciliation_is_frequent_until_the_queue_delivers_then_rare() {
    let (mut d, mut r, now) = (driver(&["api"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 1, now);
    h.handle(LoopEvent::ReconcileDue, now, &mut d, &mut r);
    assert_eq!(h.next_reconcile(), now + Duration::from_secs(15));
    let later = now + Duration::from_secs(3);
    let body = deployment_event("api", "SERVICE_DEPLOYMENT_IN_PROGRESS");
    assert_eq!(h.handle(LoopEvent::Messages(vec![body]), later, &mut d, &mut r), Action::Continue);
    assert_eq!(h.next_reconcile(), later + Duration::from_secs(60));
}

#[test]
fn stopped_tasks_are_listed_again_only_for_a_deployment_that_changed() {
    let (mut d, mut r, now) = (driver(&["api", "worker"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 2, now);
    let first = [snapshot("api", "IN_PROGRESS", 0), snapshot("worker", "IN_PROGRESS", 0)];
    for s in &first {
        d.feed(Input::Service(s.clone()), &mut r);
    }
    h.start(&mut d, &mut r, now, &first);
    let same = LoopEvent::Described(Ok((first.to_vec(), Vec::new(), Vec::new())));
    assert_eq!(h.handle(same, now, &mut d, &mut r), Action::Continue, "nothing changed: no ListTasks");
    let changed = vec![snapshot("api", "IN_PROGRESS", 0), snapshot("worker", "IN_PROGRESS", 1)];
    assert_eq!(
        h.handle(LoopEvent::Described(Ok((changed, Vec::new(), Vec::new()))), now, &mut d, &mut r),
        Action::ListStopped(vec![1])
    );
}

#[test]
fn the_gate_waits_for_every_service_by_default() {
    let (mut d, mut r, now) = (driver(&["api", "worker"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 2, now);
    let failed = deployment_event("api", "SERVICE_DEPLOYMENT_FAILED");
    assert_eq!(h.handle(LoopEvent::Messages(vec![failed]), now, &mut d, &mut r), Action::Continue);
    let done = LoopEvent::Described(Ok((vec![snapshot("worker", "COMPLETED", 2)], Vec::new(), Vec::new())));
    assert_eq!(h.handle(done, now, &mut d, &mut r), Action::Stop);
    assert_eq!(exit_codes(&d), vec![exit::FAILED, exit::SUCCEEDED]);
}

#[test]
fn fail_fast_ends_the_gate_at_the_first_failure_leaving_the_others_in_progress() {
    let (mut d, mut r, now) = (driver(&["api", "worker"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), true, false, 2, now);
    let failed = deployment_event("api", "SERVICE_DEPLOYMENT_FAILED");
    assert_eq!(h.handle(LoopEvent::Messages(vec![failed]), now, &mut d, &mut r), Action::Stop);
    let worker = d.engine(1).verdict().unwrap();
    assert_eq!(worker.outcome, Outcome::InProgress);
    assert!(worker.reason.unwrap().starts_with("still in progress when --fail-fast ended the gate"));
    assert_eq!(crate::exit::combine(exit_codes(&d)), exit::FAILED);
}

#[test]
fn a_service_that_disappears_is_an_error_for_that_service_alone() {
    let (mut d, mut r, now) = (driver(&["api", "worker"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 2, now);
    let ev = LoopEvent::Described(Ok((vec![snapshot("api", "IN_PROGRESS", 1)], vec![1], Vec::new())));
    assert_eq!(h.handle(ev, now, &mut d, &mut r), Action::ListStopped(vec![0]));
    let worker = d.engine(1).verdict().unwrap();
    assert_eq!(worker.exit_code, exit::USAGE);
    assert!(!d.engine(0).is_decided());
}

#[test]
fn a_moving_modern_deployment_is_read_every_three_seconds_even_while_events_flow() {
    let (mut d, mut r, now) = (driver(&["api"]), quiet(), Instant::now());
    let mut h = Handler::new(TIMING, Duration::from_secs(600), false, false, 1, now);
    let body = deployment_event("api", "SERVICE_DEPLOYMENT_IN_PROGRESS");
    h.handle(LoopEvent::Messages(vec![body]), now, &mut d, &mut r);
    assert_eq!(h.next_reconcile(), now + Duration::from_secs(60), "events flow: rare reconciles");
    // The API shows ours as a canary in its traffic shift: its end will come with no event.
    let mut s = snapshot("api", "IN_PROGRESS", 1);
    let arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/abc".to_string();
    s.current_service_deployment = Some(arn.clone());
    let sd = crate::engine::snapshot::ServiceDeploymentSnapshot {
        arn,
        status: "IN_PROGRESS".into(),
        lifecycle_stage: Some("PRODUCTION_TRAFFIC_SHIFT".into()),
        strategy: Some("CANARY".into()),
        ..Default::default()
    };
    let later = now + Duration::from_secs(1);
    h.handle(LoopEvent::Described(Ok((vec![s], Vec::new(), vec![sd]))), later, &mut d, &mut r);
    assert_eq!(h.next_reconcile(), later + MOVING_PERIOD);
    assert!(MOVING_PERIOD <= Duration::from_secs(3), "a transition is seen within 5 s");
    assert_eq!(h.handle(LoopEvent::ReconcileDue, later + MOVING_PERIOD, &mut d, &mut r), Action::Describe(vec![0]));
    assert_eq!(h.next_reconcile(), later + MOVING_PERIOD * 2);
}
