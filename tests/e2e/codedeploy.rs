//! CodeDeploy blue/green on ECS: a CODE_DEPLOY service whose deployment (`d-…`) the emulator's layer plays
//! — GetDeployment, the ECS deployment target with its lifecycle events, ContinueDeployment — and whose
//! state changes it emits as `aws.codedeploy` events, as CodeDeploy would.

use super::*;

/// A CODE_DEPLOY service `api` in `cluster` with the green task set of deployment `id` being installed,
/// and that deployment InProgress in CodeDeploy (its group waits up to 30 min in Ready, 5 min for the
/// blue set's termination).
async fn code_deploy_service(emu: &Emu, cluster: &str, id: &str) -> Svc {
    use aws_sdk_ecs::types::{ContainerDefinition, DeploymentController, DeploymentControllerType};
    let ecs = emu.ecs();
    ecs.create_cluster().cluster_name(cluster).send().await.unwrap();
    let register = async |image: &str| {
        let c = ContainerDefinition::builder().name("app").image(image).memory(128).essential(true).build();
        let out = ecs.register_task_definition().family(cluster).container_definitions(c).send().await.unwrap();
        out.task_definition().unwrap().task_definition_arn().unwrap().to_string()
    };
    let blue = register("app:1").await;
    let green = register("app:2").await;
    let created = ecs
        .create_service()
        .cluster(cluster)
        .service_name("api")
        .task_definition(&blue)
        .desired_count(2)
        .deployment_controller(
            DeploymentController::builder().r#type(DeploymentControllerType::CodeDeploy).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    let s = created.service().unwrap();
    ecs.create_task_set().cluster(cluster).service("api").task_definition(&green).external_id(id).send().await.unwrap();
    emu.ctl(
        "/_ecsgate/codedeploy",
        json!({"deployment": {"deploymentId": id, "applicationName": format!("AppECS-{cluster}-api"),
               "deploymentGroupName": format!("DgpECS-{cluster}-api"), "status": "InProgress",
               "blueGreenDeploymentConfiguration": {
                   "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
                   "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 30}}},
               "target": target(&["Succeeded", "InProgress"])}),
    );
    Svc {
        cluster: cluster.into(),
        name: "api".into(),
        service_arn: s.service_arn().unwrap().to_string(),
        cluster_arn: s.cluster_arn().unwrap().to_string(),
        deployment: id.into(),
        old_deployment: String::new(),
        task_definition: green,
    }
}

/// A load-balanced CODE_DEPLOY service `api` in `cluster` (revision app:1), with the console's
/// application and deployment group, ready for `ecsgate deploy`; and its task definition.
async fn deployable_code_deploy_service(emu: &Emu, cluster: &str) -> (Svc, String) {
    use aws_sdk_ecs::types::{ContainerDefinition, DeploymentController, DeploymentControllerType, LoadBalancer};
    let ecs = emu.ecs();
    ecs.create_cluster().cluster_name(cluster).send().await.unwrap();
    let c = ContainerDefinition::builder().name("app").image("app:1").memory(128).essential(true).build();
    let td = ecs.register_task_definition().family(cluster).container_definitions(c).send().await.unwrap();
    let td = td.task_definition().unwrap().task_definition_arn().unwrap().to_string();
    let tg = emu.ctl("/_ecsgate/target_group", json!({"name": &format!("{cluster}-blue"), "port": 8080}))["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let created = ecs
        .create_service()
        .cluster(cluster)
        .service_name("api")
        .task_definition(&td)
        .desired_count(2)
        .load_balancers(
            LoadBalancer::builder().target_group_arn(&tg).container_name("app").container_port(8080).build(),
        )
        .deployment_controller(
            DeploymentController::builder().r#type(DeploymentControllerType::CodeDeploy).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    let s = created.service().unwrap();
    let svc = Svc {
        cluster: cluster.into(),
        name: "api".into(),
        service_arn: s.service_arn().unwrap().to_string(),
        cluster_arn: s.cluster_arn().unwrap().to_string(),
        deployment: String::new(),
        old_deployment: String::new(),
        task_definition: td.clone(),
    };
    emu.ctl(
        "/_ecsgate/codedeploy",
        json!({"group": {"applicationName": format!("AppECS-{cluster}-api"), "deploymentGroupName": format!("DgpECS-{cluster}-api"),
               "deployment": {"blueGreenDeploymentConfiguration": {"terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 0}}},
               "target": target(&["InProgress"])}}),
    );
    (svc, td)
}

/// An ECS target whose lifecycle events, in CodeDeploy's order, have these statuses (the rest Pending).
fn target(statuses: &[&str]) -> serde_json::Value {
    let names = [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ];
    let events: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"lifecycleEventName": n, "status": statuses.get(i).copied().unwrap_or("Pending")}))
        .collect();
    json!({"status": "InProgress", "lifecycleEvents": events, "taskSetsInfo": [
        {"identifer": "ecs-svc/1111111111111111111", "desiredCount": 2, "pendingCount": 0, "runningCount": 2, "status": "PRIMARY", "trafficWeight": 100.0, "taskSetLabel": "Blue"},
        {"identifer": "ecs-svc/2222222222222222222", "desiredCount": 2, "pendingCount": 0, "runningCount": 2, "status": "ACTIVE", "trafficWeight": 0.0, "taskSetLabel": "Green"}]})
}

fn gate(emu: &Emu, svc: &Svc) -> std::process::Child {
    emu.spawn_gate(&["--cluster", &svc.cluster, "--service", "api"])
}

#[tokio::test]
async fn a_codedeploy_deployment_that_succeeds_exits_0_found_by_its_task_set() {
    let emu = emu!("e2e_cd_ok");
    let svc = code_deploy_service(&emu, "e2e-cd-ok", "d-E2ECDOK01").await;
    let child = gate(&emu, &svc);
    emu.wait_for_rule(&svc).await;
    emu.ctl(
        "/_ecsgate/codedeploy",
        json!({"deployment": {"deploymentId": "d-E2ECDOK01", "status": "Succeeded"}, "target": target(&["Succeeded"; 8]), "emit": "SUCCESS"}),
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: SUCCEEDED  deployment d-E2ECDOK01 of service api"), "{}", d.stdout);
    assert!(d.stdout.contains("reason:   CodeDeploy deployment d-E2ECDOK01 succeeded"), "{}", d.stdout);
    assert!(d.stdout.contains("CodeDeploy SUCCESS"), "the event is in the timeline: {}", d.stdout);
    // --timeout auto: the group's 30 min ready wait and 5 min termination, plus 30 min.
    assert!(d.stderr.contains("--timeout auto: 65m00s"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_failed_after_allow_test_traffic_hook_exits_1_naming_the_hook_with_its_log_tail_and_the_rollback() {
    let emu = emu!("e2e_cd_hook");
    let svc = code_deploy_service(&emu, "e2e-cd-hook", "d-E2ECDHOOK1").await;
    let child = gate(&emu, &svc);
    emu.wait_for_rule(&svc).await;
    let mut t = target(&["Succeeded", "Succeeded", "Succeeded", "Succeeded", "Failed"]);
    t["status"] = json!("Failed");
    t["lifecycleEvents"][4]["diagnostics"] = json!({"errorCode": "ScriptFailed", "scriptName": "CodeDeployHook_e2e_smoke",
        "message": "smoke test against the test listener failed", "logTail": "GET /health -> 503\nexpected 200, got 503\n"});
    emu.ctl("/_ecsgate/codedeploy", json!({"deployment": {"deploymentId": "d-E2ECDROLL1", "status": "InProgress",
        "applicationName": "AppECS-e2e-cd-hook-api", "deploymentGroupName": "DgpECS-e2e-cd-hook-api", "creator": "codeDeployRollback",
        "rollbackInfo": {"rollbackTriggeringDeploymentId": "d-E2ECDHOOK1"}}}));
    emu.ctl(
        "/_ecsgate/codedeploy",
        json!({"deployment": {"deploymentId": "d-E2ECDHOOK1", "status": "Failed",
               "errorInformation": {"code": "HOOK_EXECUTION_FAILURE", "message": "The deployment failed because a lifecycle hook reported Failed."},
               "rollbackInfo": {"rollbackDeploymentId": "d-E2ECDROLL1"}},
               "target": t, "emit": "FAILURE"}),
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("HOOK_EXECUTION_FAILURE"), "{}", d.stdout);
    assert!(
        d.stdout.contains("lifecycle event AfterAllowTestTraffic failed: smoke test against the test listener failed"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("culprit:  lifecycle hook CodeDeploy CodeDeployHook_e2e_smoke"), "{}", d.stdout);
    assert!(d.stdout.contains("| expected 200, got 503"), "the hook's log tail: {}", d.stdout);
    assert!(
        d.stdout.contains("CodeDeploy is rolling back to the original task set (rollback deployment d-E2ECDROLL1)"),
        "{}",
        d.stdout
    );
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_deployment_ready_for_the_reroute_is_announced_and_ecsgate_continue_lets_it_succeed() {
    let emu = emu!("e2e_cd_ready");
    let svc = code_deploy_service(&emu, "e2e-cd-ready", "d-E2ECDREADY").await;
    let gate = watch(gate(&emu, &svc));
    emu.wait_for_rule(&svc).await;
    emu.ctl(
        "/_ecsgate/codedeploy",
        json!({"deployment": {"deploymentId": "d-E2ECDREADY", "status": "Ready"}, "target": target(&["Succeeded", "Succeeded", "Succeeded"]),
               "emit": "READY",
               "on_continue": {"deployment": {"status": "Succeeded"}, "target": target(&["Succeeded"; 8]), "emit": "SUCCESS"}}),
    );
    gate.until("ACTION NEEDED", WITHIN).await;
    let mut cont = common::command();
    cont.args(["continue", "--cluster", &svc.cluster, "--service", "api"]);
    emu.env(&mut cont);
    let out = cont.output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("continued CodeDeploy deployment d-E2ECDREADY"), "{said}");
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("warning CODEDEPLOY_READY"), "{}", d.stdout);
    assert!(d.stdout.contains("ecsgate continue --cluster e2e-cd-ready --service api"), "{}", d.stdout);
    assert_eq!(emu.calls()["codedeploy.ContinueDeployment"], 1, "{}", emu.calls());
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_on_a_codedeploy_service_registers_the_revision_creates_the_deployment_with_an_appspec_and_judges_it() {
    let emu = emu!("e2e_cd_deploy");
    let cluster = "e2e-cd-deploy";
    let ecs = emu.ecs();
    let (svc, td) = deployable_code_deploy_service(&emu, cluster).await;
    let args = ["deploy", "--cluster", cluster, "--service", "api", "--image", "app=registry/app:9"];
    let gate = watch(emu.spawn_as("AKIDCODEDEPLOYDEPLOYGATE", &args));
    gate.until("CodeDeploy deployment d-", WITHIN).await;
    let id = gate.stderr().split("CodeDeploy deployment ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    emu.ctl("/_ecsgate/codedeploy", json!({"deployment": {"deploymentId": id, "status": "Succeeded"}, "target": target(&["Succeeded"; 8]), "emit": "SUCCESS"}));
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains(&format!("verdict: SUCCEEDED  deployment {id} of service api")), "{}", d.stdout);
    // The AppSpec names the new revision and the service's load balancer container and port.
    let cd = aws_sdk_codedeploy::Client::new(&emu.cfg);
    let got = cd.get_deployment().deployment_id(&id).send().await.unwrap();
    let content =
        got.deployment_info().unwrap().revision().unwrap().app_spec_content().unwrap().content().unwrap().to_string();
    let spec: serde_json::Value = serde_json::from_str(&content).unwrap();
    let props = &spec["Resources"][0]["TargetService"]["Properties"];
    assert_eq!(props["LoadBalancerInfo"], json!({"ContainerName": "app", "ContainerPort": 8080}), "{spec}");
    let new_td = props["TaskDefinition"].as_str().unwrap();
    assert_ne!(new_td, td);
    let described = ecs.describe_task_definition().task_definition(new_td).send().await.unwrap();
    assert_eq!(described.task_definition().unwrap().container_definitions()[0].image(), Some("registry/app:9"));
    // Subscribed before the deployment existed; the service itself was never updated.
    let log = emu.log("AKIDCODEDEPLOYDEPLOYGATE");
    let put_targets = log.iter().position(|c| c == "events.PutTargets").expect("a rule target");
    let create = log.iter().position(|c| c == "codedeploy.CreateDeployment").expect("CreateDeployment");
    assert!(put_targets < create, "{log:?}");
    assert!(!log.iter().any(|c| c == "ecs.UpdateService"), "{log:?}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn sigint_while_create_deployment_is_answering_names_the_created_deployment_and_leaves_nothing() {
    let emu = emu!("e2e_cd_deploy_int");
    let cluster = "e2e-cd-deploy-int";
    let (svc, _) = deployable_code_deploy_service(&emu, cluster).await;
    let key = "AKIDCODEDEPLOYINTGATE";
    emu.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "codedeploy", "action": "CreateDeployment", "hang": 2, "seconds": 60}),
    );
    let child =
        emu.spawn_as(key, &["deploy", "--cluster", cluster, "--service", "api", "--image", "app=registry/app:9"]);
    until_call(&emu, key, "codedeploy.CreateDeployment", 0, WITHIN).await;
    signal(&child, "INT");
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 130, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stderr.contains("interrupted by SIGINT while CreateDeployment answered: CodeDeploy deployment d-"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains(&format!("ecsgate wait --cluster {cluster} --service api --deployment-id d-")),
        "{}",
        d.stderr
    );
    let log = emu.log(key);
    assert!(!log.iter().any(|c| c == "ecs.DeregisterTaskDefinition"), "the deployed revision stays: {log:?}");
    emu.assert_nothing_left(&svc).await;
}
