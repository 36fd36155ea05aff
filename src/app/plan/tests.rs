//! The lifecycle's planners on plain snapshots and engines fed real-shaped inputs: no AWS, no tokio.

use super::*;
use crate::engine::event::ContainerRecord;
use crate::engine::snapshot::{ContainerDefinitionInfo, TaskDefinitionInfo};
use crate::engine::{DeploymentSnapshot, Input, Outcome, Target, TaskRecord};
use crate::report::Reporter;

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/shop";

fn dep(id: &str, status: &str, at: i64, reason: Option<&str>) -> DeploymentSnapshot {
    DeploymentSnapshot {
        id: id.into(),
        status: status.into(),
        created_at_ms: Some(at),
        rollout_state_reason: reason.map(str::to_string),
        ..Default::default()
    }
}

fn snap(service: &str, current_sd: Option<&str>, deployments: Vec<DeploymentSnapshot>) -> ServiceSnapshot {
    ServiceSnapshot {
        service_arn: format!("arn:aws:ecs:us-east-1:123456789012:service/shop/{service}"),
        current_service_deployment: current_sd.map(str::to_string),
        deployments,
        ..Default::default()
    }
}

fn driver(services: &[&str]) -> Driver {
    let targets = services
        .iter()
        .map(|s| Target {
            cluster: Some(CLUSTER.into()),
            service: Some((*s).into()),
            deployment_id: Some(format!("ecs-svc/{s}")),
            until: None,
            rollback_of: None,
        })
        .collect();
    Driver::new(targets, 3)
}

#[test]
fn the_named_deployment_is_judged_when_the_service_lists_it_and_refused_naming_those_it_lists() {
    let s = snap("api", None, vec![dep("ecs-svc/new", "PRIMARY", 2, None), dep("ecs-svc/old", "ACTIVE", 1, None)]);
    assert_eq!(deployment_to_judge(&s, Some("ecs-svc/old")), Ok(Judged { id: "ecs-svc/old".into(), warning: None }));
    assert_eq!(
        deployment_to_judge(&s, Some("ecs-svc/gone")),
        Err(NotJudgeable::NotAmong(vec!["ecs-svc/new".into(), "ecs-svc/old".into()]))
    );
}

#[test]
fn the_primary_is_judged_unless_it_is_a_rollback_then_the_newest_deployment_it_replaced_is() {
    let plain = snap("api", None, vec![dep("ecs-svc/new", "PRIMARY", 2, None), dep("ecs-svc/old", "ACTIVE", 1, None)]);
    assert_eq!(deployment_to_judge(&plain, None).unwrap(), Judged { id: "ecs-svc/new".into(), warning: None });
    let rolled = snap(
        "api",
        None,
        vec![
            dep(
                "ecs-svc/rb",
                "PRIMARY",
                3,
                Some("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/old."),
            ),
            dep("ecs-svc/old", "ACTIVE", 1, None),
            dep("ecs-svc/ours", "ACTIVE", 2, None),
        ],
    );
    let j = deployment_to_judge(&rolled, None).unwrap();
    assert_eq!(j.id, "ecs-svc/ours");
    assert!(j.warning.unwrap().contains("the PRIMARY deployment ecs-svc/rb is a rollback"));
    let none = snap("api", None, vec![dep("ecs-svc/x", "ACTIVE", 1, None)]);
    assert_eq!(deployment_to_judge(&none, None), Err(NotJudgeable::NoPrimary));
}

#[test]
fn service_deployments_are_listed_only_where_the_current_one_may_not_be_ours_and_something_is_left_to_learn() {
    let sd = "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/api/abc";
    let snaps = [snap("api", Some(sd), Vec::new()), snap("worker", None, Vec::new())];
    let d = driver(&["api", "worker"]);
    assert_eq!(service_deployments_to_list(&d, &snaps), [0], "worker names none: the API does not know it");

    let mut succeeded = driver(&["api", "worker"]);
    succeeded.finish(0, Outcome::Succeeded, "done".into());
    assert!(service_deployments_to_list(&succeeded, &snaps).is_empty(), "nothing left to learn");

    let mut failed = driver(&["api", "worker"]);
    failed.finish(0, Outcome::Failed, "failed".into());
    assert_eq!(service_deployments_to_list(&failed, &snaps), [0], "a failure is still worth explaining");

    assert_eq!(not_yet_described(vec![sd.into(), "arn:other".into()], &snaps), ["arn:other"]);
}

#[test]
fn a_reconcile_describes_current_and_pinned_service_deployments_once_each() {
    let snaps = [snap("api", Some("arn:b"), Vec::new()), snap("worker", Some("arn:a"), Vec::new())];
    assert_eq!(
        service_deployments_to_describe(&snaps, vec!["arn:b".into(), "arn:c".into()]),
        ["arn:a", "arn:b", "arn:c"]
    );
    assert!(service_deployments_to_describe(&[snap("api", None, Vec::new())], Vec::new()).is_empty());
}

#[test]
fn the_gate_subscribes_for_the_undecided_services_unless_polling_and_falls_back_only_when_denied() {
    let mut d = driver(&["api", "worker"]);
    d.finish(0, Outcome::Succeeded, "done".into());
    assert_eq!(subscribe_for(false, &d), Some(vec![1]));
    assert_eq!(subscribe_for(true, &d), None, "--poll");
    d.finish(1, Outcome::Failed, "failed".into());
    assert_eq!(subscribe_for(false, &d), None, "every service decided already");

    assert_eq!(on_setup_failure(Kind::AccessDenied), SetupFailure::FallBackToPolling);
    assert_eq!(on_setup_failure(Kind::LimitExceeded), SetupFailure::FallBackToPolling);
    for k in [Kind::Throttled, Kind::Transient, Kind::Credentials, Kind::NotFound, Kind::Other] {
        assert_eq!(on_setup_failure(k), SetupFailure::Fatal, "{k:?}");
    }
}

fn crashed(n: usize) -> Input {
    Input::Task(TaskRecord {
        task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/shop/t{n}"),
        cluster_arn: Some(CLUSTER.into()),
        group: Some("service:api".into()),
        last_status: Some("STOPPED".into()),
        desired_status: Some("STOPPED".into()),
        stop_code: Some("EssentialContainerExited".into()),
        stopped_reason: Some("Essential container in task exited".into()),
        started_by: Some("ecs-svc/api".into()),
        task_definition_arn: Some("arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2".into()),
        version: Some(5),
        containers: vec![ContainerRecord {
            name: "app".into(),
            last_status: Some("STOPPED".into()),
            exit_code: Some(1),
            ..Default::default()
        }],
        ..Default::default()
    })
}

#[test]
fn a_failure_is_explained_stage_by_stage_from_its_tasks_to_their_definition_to_the_culprits_logs() {
    let mut r = Reporter::with_sinks(Vec::new());
    // Decided before any task was seen: its stopped tasks are read first.
    let mut early = driver(&["api"]);
    early.finish(0, Outcome::Failed, "ECS deployment circuit breaker: tasks failed to start.".into());
    assert_eq!(diagnosis(&early, 0), [Read::StoppedTasks(0)]);

    let mut d = driver(&["api"]);
    for n in 0..3 {
        d.feed(crashed(n), &mut r);
    }
    assert_eq!(d.engine(0).verdict().unwrap().outcome, Outcome::Failed);
    assert!(diagnosis(&d, 0).is_empty(), "the failed tasks are known");
    let td = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2";
    assert_eq!(diagnosis(&d, 1), [Read::TaskDefinition(td.into())], "one read for the three tasks");
    assert!(diagnosis(&d, 2).is_empty(), "where the logs are is not known yet");
    let cfg = AwsLogsConfig { group: "/ecs/shop".into(), region: None, stream_prefix: Some("ecs".into()) };
    d.feed(
        Input::TaskDefinition(TaskDefinitionInfo {
            arn: td.into(),
            containers: vec![ContainerDefinitionInfo {
                name: "app".into(),
                essential: true,
                awslogs: Some(cfg.clone()),
            }],
        }),
        &mut r,
    );
    assert!(diagnosis(&d, 1).is_empty());
    match diagnosis(&d, 2).as_slice() {
        [Read::LogTail { unit: 0, cfg: c, container, task }] => {
            assert_eq!((c, container.as_str()), (&cfg, "app"));
            assert!(task.starts_with("arn:aws:ecs:us-east-1:123456789012:task/shop/t"), "{task}");
        }
        other => panic!("{other:?}"),
    }
    assert!(diagnosis(&d, DIAGNOSIS_STAGES).is_empty());
}

#[test]
fn a_success_needs_no_diagnosis() {
    let mut d = driver(&["api"]);
    d.finish(0, Outcome::Succeeded, "done".into());
    assert!((0..DIAGNOSIS_STAGES).all(|s| diagnosis(&d, s).is_empty()));
}
