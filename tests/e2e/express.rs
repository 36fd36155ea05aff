//! ECS Express Mode services: ordinary services (`resourceManagementType: ECS`) whose canary rolls back on
//! a managed alarm; the gate names that alarm, prints the endpoint on success, and `deploy --express`
//! judges the deployment UpdateExpressGatewayService started.

use super::*;

fn sd_arn(cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/{cluster}/api/{id}")
}

fn revision_arn(cluster: &str, n: &str) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:service-revision/{cluster}/api/{n}")
}

/// `svc` made an Express service whose revision `rev` has an endpoint, a managed alarm and a log group.
fn express(emu: &Emu, svc: &Svc, rev: &str) {
    let v = emu.ctl(
        "/_ecsgate/express",
        json!({"cluster": svc.cluster, "service": svc.name, "revision_arn": rev,
               "endpoint": format!("https://{}.ecs.us-east-1.on.aws/", svc.cluster),
               "alarms": [format!("{}-api-4xx5xx", svc.cluster)], "log_group": format!("/aws/ecs/express/{}", svc.cluster)}),
    );
    assert_eq!(v["serviceArn"], svc.service_arn, "{v}");
    // The Express default (deploy-kinds/README §2.4): a 5 % canary, 3-minute bakes.
    emu.service_config(
        svc,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 3,
               "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 3}}),
    );
}

#[tokio::test]
async fn an_express_canary_rolled_back_by_its_managed_alarm_exits_1_naming_the_alarm_and_its_reason() {
    let (emu, svc) = scenario!("e2e_express_alarm");
    let rev = revision_arn(&svc.cluster, "1");
    express(&emu, &svc, &rev);
    let alarm = format!("{}-api-4xx5xx", svc.cluster);
    let reason = "Threshold Crossed: 2 datapoints [3.1, 2.4] were greater than the threshold (1.0).";
    emu.alarm(&alarm, "ALARM", reason);
    let sd = sd_arn(&svc.cluster, "expressAlarm000000001");
    let started =
        json!({"status": "IN_PROGRESS", "lifecycleStage": "TEST_TRAFFIC_SHIFT", "targetServiceRevision": {"arn": rev}});
    emu.service_deployment(&svc, &sd, started, None);
    let child = emu.start_wait(&svc, &[]).await;
    // ECS rolls the canary back and, here, names no alarm itself: the managed one is the culprit.
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "ROLLBACK_SUCCESSFUL", "statusReason": "Service deployment rolled back because alarm(s) detected."}),
        None,
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains(&format!("culprit:  alarm {alarm}")), "{}", d.stdout);
    assert!(d.stdout.contains(&format!("  alarm:    {alarm} ALARM: {reason}")), "{}", d.stdout);
    assert!(
        d.stdout.contains(&format!("express:  endpoint https://{}.ecs.us-east-1.on.aws", svc.cluster)),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains(&format!("managed alarm {alarm}\n")), "{}", d.stdout);
    assert!(d.stdout.contains(&format!("managed log group /aws/ecs/express/{}", svc.cluster)), "{}", d.stdout);
    let calls = emu.calls();
    assert_eq!(calls["ecs.DescribeServiceRevisions"], 1, "{calls}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn an_express_deployment_that_succeeds_prints_its_endpoint() {
    let (emu, svc) = scenario!("e2e_express_ok");
    let rev = revision_arn(&svc.cluster, "1");
    express(&emu, &svc, &rev);
    let sd = sd_arn(&svc.cluster, "expressSuccess0000001");
    let started =
        json!({"status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME", "targetServiceRevision": {"arn": rev}});
    emu.service_deployment(&svc, &sd, started, None);
    let child = emu.start_wait(&svc, &["--output", "json"]).await;
    emu.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL"}), None);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    let v: serde_json::Value = serde_json::from_str(d.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["outcome"], "succeeded", "{v}");
    assert_eq!(v["express"]["endpoints"][0], format!("https://{}.ecs.us-east-1.on.aws", svc.cluster), "{v}");
    assert_eq!(v["express"]["revision_arn"], rev);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_express_updates_the_service_and_judges_the_deployment_it_started() {
    let (emu, svc) = scenario!("e2e_express_deploy");
    let rev = revision_arn(&svc.cluster, "1");
    express(&emu, &svc, &rev);
    let args = ["deploy", "--express", "--cluster", &svc.cluster, "--service", "api", "--image", "registry/app:3"];
    // ecsgate signs with a key of its own: the call log is then its calls alone.
    let gate = watch(emu.spawn_as("AKIDEXPRESSDEPLOYGATE", &args));
    gate.until("targets revision", WITHIN).await;
    // ECS's part: the service deployment UpdateExpressGatewayService started succeeds.
    let ecs = emu.ecs();
    let described = ecs.describe_services().cluster(&svc.cluster).services("api").send().await.unwrap();
    let s = &described.services()[0];
    let sd = s.current_service_deployment().unwrap().to_string();
    let primary = primary_id(s);
    assert_ne!(primary, svc.deployment, "a new deployment");
    emu.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL"}), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains(&format!("verdict: SUCCEEDED  deployment {primary} of service api")), "{}", d.stdout);
    assert!(d.stdout.contains("express:  endpoint https://e2e-express-deploy.ecs.us-east-1.on.aws"), "{}", d.stdout);
    // The new revision runs the image, and the service was changed only through the Express API,
    // after the subscription existed.
    let td = s.deployments().iter().find(|x| x.status() == Some("PRIMARY")).unwrap().task_definition().unwrap();
    let td = ecs.describe_task_definition().task_definition(td).send().await.unwrap();
    assert_eq!(td.task_definition().unwrap().container_definitions()[0].image(), Some("registry/app:3"));
    let log = emu.log("AKIDEXPRESSDEPLOYGATE");
    let put_targets = log.iter().position(|c| c == "events.PutTargets").expect("a rule target");
    let update = log.iter().position(|c| c == "ecs.UpdateExpressGatewayService").expect("the Express update");
    assert!(put_targets < update, "{log:?}");
    assert!(!log.iter().any(|c| c == "ecs.UpdateService"), "{log:?}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn deploy_express_on_a_service_that_is_not_express_is_a_usage_error_that_changes_nothing() {
    let (emu, svc) = scenario!("e2e_express_notexpress");
    let args = ["deploy", "--express", "--cluster", &svc.cluster, "--service", "api", "--image", "registry/app:3"];
    let d = finish(emu.spawn_as("AKIDEXPRESSNOTEXPRESSGATE", &args), LIMIT).await;
    assert_eq!(d.code, 2, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("service api is not an ECS Express Mode service"), "{}", d.stderr);
    let log = emu.log("AKIDEXPRESSNOTEXPRESSGATE");
    assert!(!log.iter().any(|c| c.starts_with("ecs.Update") || c == "events.PutRule"), "{log:?}");
}
