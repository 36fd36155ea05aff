//! Gates on the hub (`--hub auto|TABLE`): the emulator writes every ECS event put on the bus into the
//! hub's table with the template's own ingestion code, as the hub's rule and function would; a gate on
//! the hub creates no rule and no queue, and reads events from before it started.
//! Hub tests live in a region of their own, where the hub is installed once (its SSM parameter would
//! otherwise make every test's events ingested).

use super::*;

const HUB_REGION: &str = "ca-central-1";
const TABLE: &str = "ecsgate-hub";

/// The hub as the template installs it: the table (key, at; TTL on expires) and the SSM parameter.
async fn install_hub(emu: &Emu) -> Emu {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    let hub = emu.in_region(HUB_REGION);
    let ddb = aws_sdk_dynamodb::Client::new(&hub.cfg);
    let attr = |n: &str| {
        AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().unwrap()
    };
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
    // Tests share the hub: the second CreateTable finds it (ResourceInUseException).
    let _ = ddb
        .create_table()
        .table_name(TABLE)
        .attribute_definitions(attr("key"))
        .attribute_definitions(attr("at"))
        .key_schema(key("key", KeyType::Hash))
        .key_schema(key("at", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    let ssm = aws_sdk_ssm::Client::new(&hub.cfg);
    ssm.put_parameter()
        .name("/ecsgate/hub/table")
        .value(TABLE)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();
    hub
}

fn hub_gate(emu: &Emu, key: &str, args: &[&str]) -> std::process::Child {
    let mut all = vec!["--hub", "auto"];
    all.extend_from_slice(args);
    emu.spawn_gate_as(key, &all)
}

fn created_nothing(emu: &Emu, key: &str) {
    let log = emu.log(key);
    for op in ["events.PutRule", "events.PutTargets", "sqs.CreateQueue"] {
        assert!(!log.iter().any(|c| c == op), "{op} in hub mode: {log:?}");
    }
    assert!(log.iter().any(|c| c == "dynamodb.Query"), "the hub was read: {log:?}");
}

#[tokio::test]
async fn a_crash_loop_is_judged_from_the_hub_with_no_rule_or_queue_created() {
    let hub = install_hub(&emu!("e2e_hub_crash")).await;
    let svc = hub.service("e2e-hub-crash").await;
    let key = "AKIDHUBCRASHGATE";
    let gate = watch(hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]));
    gate.until("reading the hub's table ecsgate-hub", WITHIN).await;
    hub.crash_loop(&svc).await;
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("3 tasks of deployment"), "{}", d.stdout);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn a_failure_from_before_the_gate_started_is_read_from_the_hub() {
    let hub = install_hub(&emu!("e2e_hub_before")).await;
    let svc = hub.service("e2e-hub-before").await;
    // ECS said FAILED before any gate existed: a per-run rule would never see it.
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {}.", svc.old_deployment);
    hub.deployment_event(&svc, "SERVICE_DEPLOYMENT_FAILED", &svc.deployment, &reason).await;
    let key = "AKIDHUBBEFOREGATE";
    let d = finish(hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("circuit breaker"), "{}", d.stdout);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn several_services_succeed_from_the_hub() {
    let hub = install_hub(&emu!("e2e_hub_several")).await;
    let a = hub.service_named("e2e-hub-several", "api").await;
    let b = hub.service_named("e2e-hub-several", "web").await;
    let key = "AKIDHUBSEVERALGATE";
    let gate = watch(hub_gate(&hub, key, &["--cluster", &a.cluster, "--service", "api,web"]));
    gate.until("reading the hub's table", WITHIN).await;
    for s in [&a, &b] {
        hub.deployment_event(s, "SERVICE_DEPLOYMENT_COMPLETED", &s.deployment, "ECS deployment completed.").await;
    }
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn without_a_hub_the_gate_subscribes_as_usual_with_a_notice() {
    // us-east-1 has no hub parameter (hub tests keep to their own region).
    let (emu, svc) = scenario!("e2e_hub_none");
    let child = emu.spawn_gate(&["--hub", "auto", "--cluster", &svc.cluster, "--service", "api"]);
    emu.wait_for_rule(&svc).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("no hub (SSM parameter /ecsgate/hub/table not found)"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_canary_paused_at_a_hook_then_successful_is_judged_on_the_hub() {
    let hub = install_hub(&emu!("e2e_hub_modern")).await;
    let svc = hub.service("e2e-hub-modern").await;
    hub.service_config(
        &svc,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 0,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1}}),
    );
    let sd = format!("arn:aws:ecs:{HUB_REGION}:123456789012:service-deployment/{}/api/hubModern000000001", svc.cluster);
    hub.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"}),
        None,
    );
    let key = "AKIDHUBMODERNGATE";
    let gate = watch(hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]));
    gate.until("reading the hub's table", WITHIN).await;
    // The pause hook's event reaches the gate through the hub.
    let hook = json!({"eventName": "HOOK_AWAITING_ACTION", "hookId": "ecs-pause-hub1", "hookType": "PAUSE", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"});
    hub.service_deployment(&svc, &sd, json!({"status": "IN_PROGRESS"}), Some(hook));
    gate.until("ACTION NEEDED", WITHIN).await;
    hub.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"}), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("service deployment SUCCESSFUL"), "{}", d.stdout);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn a_hub_the_role_may_not_read_falls_back_to_the_usual_subscription_with_a_warning() {
    let hub = install_hub(&emu!("e2e_hub_denied")).await;
    let svc = hub.service("e2e-hub-denied").await;
    let key = "AKIDHUBDENIEDGATE";
    hub.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "ssm", "action": "GetParameter", "code": "AccessDeniedException", "status": 400, "count": 5}),
    );
    let child = hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]);
    hub.wait_for_rule(&svc).await;
    hub.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("cannot read the hub's SSM parameter /ecsgate/hub/table"), "{}", d.stderr);
    assert!(d.stderr.contains("subscribing with a queue and rule"), "{}", d.stderr);
    hub.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn doctor_checks_the_hub_and_names_a_query_the_role_may_not_make() {
    let hub = install_hub(&emu!("e2e_hub_doctor")).await;
    hub.ecs().create_cluster().cluster_name("e2e-hub-doctor").send().await.unwrap();
    let run = |key: &str| {
        let mut cmd = common::command();
        cmd.args(["doctor", "--hub", "auto", "--poll", "--cluster", "e2e-hub-doctor"]);
        hub.env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", key);
        cmd.output().unwrap()
    };
    let out = run("AKIDHUBDOCTOROK");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("ok    ssm:GetParameter: /ecsgate/hub/table names the hub's table ecsgate-hub"), "{said}");
    assert!(said.contains("ok    dynamodb:Query on the hub's table ecsgate-hub"), "{said}");
    let key = "AKIDHUBDOCTORDENIED";
    hub.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "dynamodb", "action": "Query", "code": "AccessDeniedException", "status": 400}),
    );
    let out = run(key);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("FAIL  dynamodb:Query not granted"), "{said}");
}
