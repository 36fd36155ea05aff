//! `ecsgate deploy` and the rollbacks (--rollback-on-failure, ECS's own).

use super::*;

/// `--rollback-on-failure` stays out when ECS decided the failure and rolls back itself: a second
/// rollback on top of ECS's would race it (issue 20: double rollback).
#[tokio::test]
async fn rollback_on_failure_stays_out_when_the_circuit_breaker_already_rolls_back() {
    let (emu, svc) = scenario!("e2e_nodouble");
    let key = format!("{}GATE", emu.key);
    let child = emu.spawn_gate_as(&key, &["--cluster", &svc.cluster, "--service", "api", "--rollback-on-failure"]);
    emu.wait_for_rule(&svc).await;
    breaker_rolls_back(&emu, &svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let calls = emu.log(&key);
    assert!(calls.iter().any(|c| c == "ecs.DescribeServices"), "the gate's calls are counted: {calls:?}");
    for write in ["ecs.UpdateService", "ecs.StopServiceDeployment", "ecs.CreateService"] {
        assert!(!calls.iter().any(|c| c == write), "ecsgate called {write} on top of ECS's rollback: {calls:?}");
    }
    assert!(d.stdout.contains("rollback: ECS"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_with_an_image_subscribes_first_changes_only_that_image_and_succeeds() {
    let (emu, svc) = scenario!("e2e_deploy");
    let key = format!("{}GATE", emu.key);
    let (before, old_td) = emu.primary(&svc).await;
    let child = emu.spawn_as(&key, &["deploy", "--cluster", "e2e-deploy", "--service", "api", "--image", "app=app:3"]);
    let (ours, new_td) = emu.new_primary(&svc, &before).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &ours, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains(&format!("verdict: SUCCEEDED  deployment {ours} of service api")), "{}", d.stdout);
    // Only the image changed.
    let ecs = emu.ecs();
    let describe = |arn: String| {
        let ecs = ecs.clone();
        async move {
            let out = ecs.describe_task_definition().task_definition(arn).send().await.unwrap();
            out.task_definition().unwrap().clone()
        }
    };
    let (old, new) = (describe(old_td.clone()).await, describe(new_td.clone()).await);
    assert_ne!(old_td, new_td);
    let (oc, nc) = (&old.container_definitions()[0], &new.container_definitions()[0]);
    assert_eq!((oc.image(), nc.image()), (Some("app:2"), Some("app:3")));
    assert_eq!(oc.memory(), nc.memory());
    assert_eq!(oc.log_configuration(), nc.log_configuration());
    assert_eq!(old.family(), new.family());
    // The rule and its target existed before UpdateService.
    let log = emu.log(&key);
    let at = |call: &str| log.iter().position(|c| c == call).unwrap_or_else(|| panic!("no {call} in {log:?}"));
    assert!(at("events.PutTargets") < at("ecs.UpdateService"), "{log:?}");
    assert!(at("sqs.CreateQueue") < at("ecs.RegisterTaskDefinition"), "{log:?}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_of_an_unknown_container_exits_2_and_changes_nothing() {
    let (emu, svc) = scenario!("e2e_deploynope");
    let key = format!("{}GATE", emu.key);
    let (before, td) = emu.primary(&svc).await;
    let d = finish(
        emu.spawn_as(&key, &["deploy", "--cluster", "e2e-deploynope", "--service", "api", "--image", "web=x:1"]),
        LIMIT,
    )
    .await;
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert!(d.stderr.starts_with("error: --image web=…: "), "{}", d.stderr);
    assert!(d.stderr.contains("has no container web (its containers: app)"), "{}", d.stderr);
    assert_eq!(emu.primary(&svc).await, (before, td), "the service is unchanged");
    let log = emu.log(&key);
    for call in ["ecs.RegisterTaskDefinition", "ecs.UpdateService", "sqs.CreateQueue", "events.PutRule"] {
        assert!(!log.contains(&call.to_string()), "{call} in {log:?}");
    }
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_of_a_crash_looping_image_rolls_back_and_reports_it() {
    let (emu, svc) = scenario!("e2e_deployrb");
    let key = format!("{}GATE", emu.key);
    let (before, good_td) = emu.primary(&svc).await;
    let child = emu.spawn_as(
        &key,
        &[
            "deploy",
            "--cluster",
            "e2e-deployrb",
            "--service",
            "api",
            "--image",
            "app=app:bad",
            "--rollback-on-failure",
            "--output",
            "json",
        ],
    );
    let (ours, _) = emu.new_primary(&svc, &before).await;
    let mut ours_svc = svc.clone();
    ours_svc.deployment = ours.clone();
    emu.crash_loop(&ours_svc).await;
    // ecsgate rolls back with UpdateService to the previous revision: that is a new PRIMARY.
    let (rollback, rollback_td) = emu.new_primary(&svc, &ours).await;
    assert_eq!(rollback_td, good_td, "rolled back to the revision before ours");
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &rollback, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "the exit code is our deployment's failure: {}\n{}", d.stdout, d.stderr);
    let v: serde_json::Value = serde_json::from_str(d.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["deployment_id"], ours.as_str());
    assert_eq!(v["rollback"]["by"], "ecsgate");
    assert_eq!(v["rollback"]["to"], good_td.as_str());
    assert_eq!(v["rollback"]["deployment_id"], rollback.as_str());
    assert_eq!(v["rollback"]["outcome"], "succeeded");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_timed_out_wait_with_rollback_rolls_back() {
    let (emu, svc) = scenario!("e2e_timeoutrb");
    let (_, old_td_of_service) = emu.primary(&svc).await;
    let child = emu.start_wait(&svc, &["--timeout", "2s", "--rollback-on-failure"]).await;
    let (rollback, td) = emu.new_primary(&svc, &svc.deployment).await;
    assert_ne!(td, old_td_of_service, "back to the revision before the one being deployed");
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &rollback, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 3, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("rollback: ecsgate rolled back to"), "{}", d.stdout);
    assert!(d.stdout.contains("the rollback completed"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_of_a_rendered_task_definition_file_registers_it_as_written() {
    let (emu, svc) = scenario!("e2e_deployfile");
    let key = format!("{}GATE", emu.key);
    let (before, _) = emu.primary(&svc).await;
    // describe-task-definition output, as pipelines render it: read-only fields included.
    let file = std::env::temp_dir().join(format!("ecsgate-td-{}.json", std::process::id()));
    let td = json!({"taskDefinition": {
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/e2e-deployfile:9", "revision": 9, "status": "ACTIVE",
        "requiresAttributes": [], "compatibilities": ["EC2"], "registeredAt": 1700000000.0,
        "family": "e2e-deployfile",
        "containerDefinitions": [{"name": "app", "image": "app:from-file", "memory": 256, "essential": true,
            "environment": [{"name": "MODE", "value": "blue"}], "cpu": null}]}});
    std::fs::write(&file, td.to_string()).unwrap();
    let child = emu.spawn_as(
        &key,
        &["deploy", "--cluster", "e2e-deployfile", "--service", "api", "--task-definition", file.to_str().unwrap()],
    );
    let (ours, new_td) = emu.new_primary(&svc, &before).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &ours, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    std::fs::remove_file(&file).ok();
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    let out = emu.ecs().describe_task_definition().task_definition(&new_td).send().await.unwrap();
    let c = &out.task_definition().unwrap().container_definitions()[0];
    assert_eq!((c.image(), c.memory()), (Some("app:from-file"), Some(256)));
    assert_eq!(c.environment()[0].value(), Some("blue"), "fields ecsgate does not model are registered too");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn rollback_uses_stop_service_deployment_where_a_service_deployment_exists() {
    let (emu, svc) = scenario!("e2e_stopsd");
    let sd = "arn:aws:ecs:us-east-1:123456789012:service-deployment/e2e-stopsd/api/ejGvqq2ilnbKT9qj0vLJe";
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "service_deployment_arn": sd}));
    let key = format!("{}GATE", emu.key);
    let child = emu.spawn_as(
        &key,
        &["wait", "--cluster", "e2e-stopsd", "--service", "api", "--rollback-on-failure", "--output", "json"],
    );
    emu.wait_for_rule(&svc).await;
    emu.crash_loop(&svc).await;
    let (rollback, _) = emu.new_primary(&svc, &svc.deployment).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &rollback, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let log = emu.log(&key);
    assert!(log.contains(&"ecs.StopServiceDeployment".to_string()), "{log:?}");
    assert!(!log.contains(&"ecs.UpdateService".to_string()), "ECS rolls the service deployment back itself: {log:?}");
    let v: serde_json::Value = serde_json::from_str(d.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        (v["rollback"]["by"].as_str(), v["rollback"]["outcome"].as_str()),
        (Some("ecsgate"), Some("succeeded")),
        "{v}"
    );
    assert_eq!(v["rollback"]["deployment_id"], rollback.as_str());
    emu.assert_nothing_left(&svc).await;
}
