//! Modern deployments: blue/green and linear stages, lifecycle hooks, alarms, `ecsgate continue`.

use super::*;

async fn hook_event(emu: &Emu, svc: &Svc, sd: &str, name: &str, stage: &str) {
    let mut d = common::fixture_modern("hook__awaiting-action-docs.json")["detail"].clone();
    d["eventName"] = json!(name);
    d["lifecycleStage"] = json!(stage);
    d["serviceArn"] = json!(svc.service_arn);
    d["clusterArn"] = json!(svc.cluster_arn);
    d["serviceDeploymentArn"] = json!(sd);
    emu.put_event("ECS Hook State Change", vec![sd.to_string()], d).await;
}

#[tokio::test]
async fn a_pause_hook_awaiting_action_is_announced_with_the_commands_then_the_deployment_completes() {
    let (emu, svc) = scenario!("e2e_hookpause");
    let sd = "arn:aws:ecs:us-east-1:123456789012:service-deployment/e2e-hookpause/api/0EYSiB0qap8xf0N76FsbE";
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "service_deployment_arn": sd}));
    let gate = watch(emu.start_wait(&svc, &[]).await);
    hook_event(&emu, &svc, sd, "HOOK_AWAITING_ACTION", "POST_TEST_TRAFFIC_SHIFT").await;
    gate.until("ACTION NEEDED", WITHIN).await;
    hook_event(&emu, &svc, sd, "HOOK_SUCCEEDED", "POST_TEST_TRAFFIC_SHIFT").await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains("AWAITING_ACTION at POST_TEST_TRAFFIC_SHIFT — ACTION NEEDED before 2026-03-05T16:04:41Z"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    assert!(
        d.stdout.contains(&format!(
            "aws ecs continue-service-deployment --service-deployment-arn {sd} --hook-id ecs-pause-"
        ))
    );
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_failed_lifecycle_hook_fails_the_gate_naming_the_hook() {
    let (emu, svc) = scenario!("e2e_hookfail");
    let sd = "arn:aws:ecs:us-east-1:123456789012:service-deployment/e2e-hookfail/api/J4ZwX3-bQ2aM6ERMvsxuL";
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "service_deployment_arn": sd}));
    let child = emu.start_wait(&svc, &[]).await;
    hook_event(&emu, &svc, sd, "HOOK_FAILED", "PRE_SCALE_UP").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("reason:   lifecycle hook ecs-pause-"), "{}", d.stdout);
    assert!(d.stdout.contains("failed at PRE_SCALE_UP; ECS rolls the deployment back"), "{}", d.stdout);
    assert!(d.stdout.contains("  culprit:  lifecycle hook PAUSE (ecs-pause-"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_service_deployment_ecs_rolled_back_fails_the_gate_with_its_reason_and_alarms() {
    let (emu, svc) = scenario!("e2e_sdrollback");
    let sd = "arn:aws:ecs:us-east-1:123456789012:service-deployment/e2e-sdrollback/api/xyz789ABC123";
    // No deployment event at all: a blue/green rollback that ECS reports only through the API.
    emu.service_deployment(
        &svc,
        sd,
        json!({"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "BAKE_TIME",
               "statusReason": "Service deployment rolled back because of CloudWatch alarms.",
               "alarms": {"status": "TRIGGERED", "alarmNames": ["api-5xx-rate"], "triggeredAlarmNames": ["api-5xx-rate"]},
               "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 0, "threshold": 3}}),
        None,
    );
    let d = finish(emu.spawn_wait(&svc, &["--output", "json"]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let v: serde_json::Value = serde_json::from_str(d.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        v["reason"],
        "Service deployment rolled back because of CloudWatch alarms. (alarms in ALARM: api-5xx-rate)"
    );
    assert!(v["hint"].as_str().unwrap().starts_with("CloudWatch alarm(s) api-5xx-rate went into ALARM"), "{v}");
    assert!(emu.calls().get("sqs.CreateQueue").is_none(), "decided at start");
}

fn sd_arn(cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/{cluster}/api/{id}")
}

fn revision(cluster: &str, weight: f64) -> serde_json::Value {
    json!({"arn": format!("arn:aws:ecs:us-east-1:123456789012:service-revision/{cluster}/api/1234567890123456789"),
           "requestedTaskCount": 2, "runningTaskCount": 2, "pendingTaskCount": 0,
           "requestedProductionTrafficWeight": weight})
}

#[tokio::test]
async fn a_blue_green_deployment_succeeds_through_its_stages_without_deployment_events() {
    let (emu, svc) = scenario!("e2e_bluegreen");
    emu.service_config(
        &svc,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 60, "maximumPercent": 200, "minimumHealthyPercent": 100}),
    );
    let sd = sd_arn(&svc.cluster, "bgSuccess000000000001");
    let stage = |stage: &str, weight: f64| {
        json!({"status": "IN_PROGRESS", "lifecycleStage": stage, "targetServiceRevision": revision(&svc.cluster, weight),
               "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 60}})
    };
    emu.service_deployment(&svc, &sd, stage("SCALE_UP", 0.0), None);
    let gate = watch(emu.start_wait(&svc, &[]).await);
    // ECS documents no deployment event for these strategies: only the API tells the stages. Each stage
    // is set once the gate has told the one before (a reconcile read it).
    for (s, w) in [("TEST_TRAFFIC_SHIFT", 0.0), ("PRODUCTION_TRAFFIC_SHIFT", 100.0), ("BAKE_TIME", 100.0)] {
        emu.service_deployment(&svc, &sd, stage(s, w), None);
        gate.until(&format!("service deployment IN_PROGRESS BLUE_GREEN {s}"), WITHIN).await;
    }
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP", "finishedAt": 1.7e9}),
        None,
    );
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    for want in [
        "service deployment IN_PROGRESS BLUE_GREEN TEST_TRAFFIC_SHIFT",
        "service deployment IN_PROGRESS BLUE_GREEN PRODUCTION_TRAFFIC_SHIFT 100%",
        "service deployment IN_PROGRESS BLUE_GREEN BAKE_TIME ~60 m left",
        "(service deployment SUCCESSFUL)",
    ] {
        assert!(d.stdout.contains(want), "missing {want:?}\n{}", d.stdout);
    }
    // The default --timeout auto covers the 60-minute bake (+ 15m margin), said before the wait begins.
    assert!(d.stderr.contains("ecsgate: --timeout auto: 75m00s ("), "{}", d.stderr);
    assert!(d.stderr.contains("BLUE_GREEN bake 60m + 15m margin)"), "{}", d.stderr);
    assert!(!d.stderr.contains("waits at least"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_fixed_timeout_shorter_than_the_configured_bake_is_warned_of() {
    let (emu, svc) = scenario!("e2e_shorttimeout");
    emu.service_config(&svc, json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 60}));
    let child = emu.start_wait(&svc, &["--timeout", "30m"]).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stderr.contains("BLUE_GREEN waits at least 60m by its configuration") && d.stderr.contains("--timeout 30m"),
        "{}",
        d.stderr
    );
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_failed_lambda_hook_fails_the_gate_naming_the_function_and_its_log_lines() {
    let (emu, svc) = scenario!("e2e_lambdahook");
    let function = "arn:aws:lambda:us-east-1:123456789012:function:e2e-smoke-test";
    emu.service_config(
        &svc,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "lifecycleHooks": [{"targetType": "AWS_LAMBDA",
               "hookTargetArn": function, "roleArn": "arn:aws:iam::123456789012:role/ecs-hooks",
               "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]}),
    );
    emu.log_lines(
        "/aws/lambda/e2e-smoke-test",
        "2026/12/03/[$LATEST]0a1b2c3d",
        &["START RequestId: 7f1e", "smoke test: GET http://test-listener/health -> 503", "returning hookStatus FAILED"],
    )
    .await;
    let sd = sd_arn(&svc.cluster, "lambdaHookFailed00001");
    emu.service_deployment(&svc, &sd, json!({"status": "IN_PROGRESS", "lifecycleStage": "TEST_TRAFFIC_SHIFT"}), None);
    let file = std::env::temp_dir().join(format!("ecsgate-lambdahook-{}.jsonl", std::process::id()));
    let record = file.to_str().unwrap();
    let child = emu.start_wait(&svc, &["--record", record]).await;
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
               "statusReason": format!("Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT lifecycle hook(s) failed. Lifecycle hook target {function} returned FAILED status."),
               "lifecycleHookDetails": [{"hookId": "ecs-lambda-9f8e7d", "targetType": "AWS_LAMBDA", "targetArn": function,
                                         "status": "FAILED", "timeoutAction": "ROLLBACK"}]}),
        None,
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    for want in [
        "culprit:  lifecycle hook AWS_LAMBDA e2e-smoke-test (ecs-lambda-9f8e7d) FAILED at POST_TEST_TRAFFIC_SHIFT",
        &format!("            target {function}"),
        "  hook logs: /aws/lambda/e2e-smoke-test 2026/12/03/[$LATEST]0a1b2c3d",
        "    | smoke test: GET http://test-listener/health -> 503",
        "read its logs in /aws/lambda/e2e-smoke-test",
    ] {
        assert!(d.stdout.contains(want), "missing {want:?}\n{}", d.stdout);
    }
    // The recording (service deployment snapshots, the hook's log lines) replays to the same verdict.
    let r = common::ecsgate(&["replay", record], None, &[]);
    std::fs::remove_file(&file).ok();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let verdict = |out: &str| out[out.find("verdict:").unwrap()..].to_string();
    assert_eq!(verdict(&r.stdout), verdict(&d.stdout));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_pause_hook_continued_through_the_api_lets_the_gate_succeed() {
    let (emu, svc) = scenario!("e2e_continue");
    let sd = sd_arn(&svc.cluster, "pauseContinued0000001");
    let hook_id = "ecs-pause-Xk7rT2mP9sLwQn4vB8fYd3hJ6gA1cE5iO0uR_ZpWq";
    emu.service_deployment(&svc, &sd, json!({"status": "IN_PROGRESS", "lifecycleStage": "TEST_TRAFFIC_SHIFT"}), None);
    let file = std::env::temp_dir().join(format!("ecsgate-continue-{}.jsonl", std::process::id()));
    let record = file.to_str().unwrap();
    let gate = watch(emu.start_wait(&svc, &["--record", record]).await);
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
               "lifecycleHookDetails": [{"hookId": hook_id, "targetType": "PAUSE", "status": "AWAITING_ACTION",
                                         "expiresAt": 1.7e9, "timeoutAction": "ROLLBACK"}]}),
        Some(json!({"eventName": "HOOK_AWAITING_ACTION", "hookId": hook_id, "hookType": "PAUSE",
                    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "expiresAt": "2026-12-03T18:00:00Z"})),
    );
    gate.until("ACTION NEEDED", WITHIN).await;
    // Someone answers the notice: the command it printed, here through the SDK.
    let ecs = emu.ecs();
    ecs.continue_service_deployment().service_deployment_arn(&sd).hook_id(hook_id).send().await.unwrap();
    gate.until(&format!("hook PAUSE {hook_id} (ours) SUCCEEDED"), WITHIN).await;
    emu.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"}), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    let notice = format!(
        "hook PAUSE {hook_id} (ours) AWAITING_ACTION at POST_TEST_TRAFFIC_SHIFT — ACTION NEEDED before 2026-12-03T18:00:00Z: continue with `aws ecs continue-service-deployment --service-deployment-arn {sd} --hook-id {hook_id}`"
    );
    assert!(d.stdout.contains(&notice), "{}", d.stdout);
    assert_eq!(d.stdout.matches("ACTION NEEDED").count(), 1, "the event and the API say it once: {}", d.stdout);
    assert!(
        d.stdout.contains(&format!("hook PAUSE {hook_id} (ours) SUCCEEDED at POST_TEST_TRAFFIC_SHIFT")),
        "{}",
        d.stdout
    );
    // Hook events and service deployment snapshots are recorded, and replay tells the same story.
    let r = common::ecsgate(&["replay", record], None, &[]);
    std::fs::remove_file(&file).ok();
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.matches("ACTION NEEDED").count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("hook PAUSE {hook_id} (ours) SUCCEEDED at POST_TEST_TRAFFIC_SHIFT")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("completed (service deployment SUCCESSFUL)"), "{}", r.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn an_alarm_rollback_fails_the_gate_naming_the_alarm_and_its_state_reason() {
    let (emu, svc) = scenario!("e2e_alarm");
    let reason = "Threshold Crossed: 2 out of the last 2 datapoints [14.0, 9.0] were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).";
    emu.alarm("e2e-alarm-5xx", "ALARM", reason);
    emu.service_config(
        &svc,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 10,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
        "alarms": {"alarmNames": ["e2e-alarm-5xx", "e2e-alarm-p99"], "enable": true, "rollback": true}}),
    );
    let sd = sd_arn(&svc.cluster, "alarmRollback00000001");
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT"}),
        None,
    );
    let child = emu.start_wait(&svc, &["--timeout", "2h"]).await;
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "BAKE_TIME",
               "alarms": {"status": "TRIGGERED", "alarmNames": ["e2e-alarm-5xx", "e2e-alarm-p99"], "triggeredAlarmNames": ["e2e-alarm-5xx"]},
               "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 0, "threshold": 3}}),
        None,
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("culprit:  alarm e2e-alarm-5xx"), "{}", d.stdout);
    assert!(d.stdout.contains(&format!("  alarm:    e2e-alarm-5xx ALARM: {reason}")), "{}", d.stdout);
    assert!(d.stdout.contains("(e2e-alarm-5xx: Threshold Crossed: 2 out of the last 2 datapoints"), "{}", d.stdout);
    assert!(!d.stderr.contains("waits at least"), "--timeout 2h covers 10+5 minutes: {}", d.stderr);
    assert_eq!(emu.calls()["monitoring.DescribeAlarms"], 1, "{}", emu.calls());
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_linear_deployment_with_until_traffic_shifted_succeeds_when_the_bake_begins() {
    let (emu, svc) = scenario!("e2e_linear");
    emu.service_config(
        &svc,
        json!({"strategy": "LINEAR", "bakeTimeInMinutes": 120,
        "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}}),
    );
    let sd = sd_arn(&svc.cluster, "linearShifted00000001");
    let stage = |stage: &str, weight: f64| {
        json!({"status": "IN_PROGRESS", "lifecycleStage": stage, "targetServiceRevision": revision(&svc.cluster, weight),
               "deploymentConfiguration": {"strategy": "LINEAR", "bakeTimeInMinutes": 120}})
    };
    emu.service_deployment(&svc, &sd, stage("PRODUCTION_TRAFFIC_SHIFT", 50.0), None);
    let file = std::env::temp_dir().join(format!("ecsgate-linear-{}.jsonl", std::process::id()));
    let record = file.to_str().unwrap();
    let gate = watch(emu.start_wait(&svc, &["--until", "traffic-shifted", "--record", record]).await);
    emu.service_deployment(&svc, &sd, stage("PRODUCTION_TRAFFIC_SHIFT", 100.0), None);
    gate.until("service deployment IN_PROGRESS LINEAR PRODUCTION_TRAFFIC_SHIFT 100%", WITHIN).await;
    emu.service_deployment(&svc, &sd, stage("BAKE_TIME", 100.0), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("service deployment IN_PROGRESS LINEAR PRODUCTION_TRAFFIC_SHIFT 100%"), "{}", d.stdout);
    assert!(d.stdout.contains("--until traffic-shifted does not wait for the bake"), "{}", d.stdout);
    // 120 minutes of bake do not count against --timeout with --until traffic-shifted.
    assert!(!d.stderr.contains("waits at least"), "{}", d.stderr);
    // The recording keeps where "deployed" was: replay reaches the same success, and --until overrides.
    let r = common::ecsgate(&["replay", record], None, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("--until traffic-shifted does not wait for the bake"), "{}", r.stdout);
    let r = common::ecsgate(&["replay", record, "--until", "completed"], None, &[]);
    std::fs::remove_file(&file).ok();
    assert_eq!(r.code, 3, "the bake never ended in this recording: {}\n{}", r.stdout, r.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_deployment_older_than_the_service_deployment_history_is_judged_by_events() {
    let (emu, svc) = scenario!("e2e_nohistory");
    // The service names a service deployment the API has no record of (before late 2024: MISSING).
    let sd = sd_arn(&svc.cluster, "fromBeforeTheHistory1");
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "service_deployment_arn": sd}));
    let child = emu.start_wait(&svc, &[]).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains(&format!("deployment {} completed", svc.deployment)), "{}", d.stdout);
    assert!(emu.calls()["ecs.DescribeServiceDeployments"].as_u64().unwrap() >= 1, "{}", emu.calls());
    assert!(!d.stderr.contains("MISSING"), "a missing history is no error: {}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_service_deployment_found_by_its_revision_names_the_hook_after_ecs_rolled_back() {
    let (emu, svc) = scenario!("e2e_listsd");
    // The gate starts late: ECS already rolled a canary back (the observed shape: the old deployment is
    // PRIMARY IN_PROGRESS again, ours ACTIVE FAILED), and the service names another service deployment as
    // its current one. ListServiceDeployments finds ours by its target revision, and ECS's statusReason
    // names the hook that failed.
    let number = svc.deployment.trim_start_matches("ecs-svc/");
    let sd = sd_arn(&svc.cluster, "listedRollback0000001");
    let function = "arn:aws:lambda:us-east-1:123456789012:function:e2e-listed-hook";
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "ROLLBACK_IN_PROGRESS",
               "statusReason": format!("Service deployment rolled back because PRODUCTION_TRAFFIC_SHIFT lifecycle hook(s) failed. Lifecycle hook target {function} returned FAILED status."),
               "targetServiceRevision": {"arn": format!("arn:aws:ecs:us-east-1:123456789012:service-revision/{}/api/{number}", svc.cluster)}}),
        None,
    );
    // The service's current service deployment is the rollback's own, targeting the old revision.
    emu.service_deployment(
        &svc,
        &sd_arn(&svc.cluster, "rollbacksOwn000000001"),
        json!({"status": "IN_PROGRESS", "targetServiceRevision": {"arn": format!("arn:aws:ecs:us-east-1:123456789012:service-revision/{}/api/{}", svc.cluster, svc.old_deployment.trim_start_matches("ecs-svc/"))}}),
        None,
    );
    let set = |id: &str, status: &str, rollout: &str| {
        emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": id, "status": status, "rollout_state": rollout}));
    };
    set(&svc.deployment, "ACTIVE", "FAILED");
    set(&svc.old_deployment, "PRIMARY", "IN_PROGRESS");
    // The pipeline knows its deployment (update-service's answer); PRIMARY is the rollback now.
    let d = finish(emu.spawn_wait(&svc, &["--deployment-id", &svc.deployment]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains("culprit:  lifecycle hook AWS_LAMBDA e2e-listed-hook FAILED at PRODUCTION_TRAFFIC_SHIFT"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("read its logs in /aws/lambda/e2e-listed-hook"), "{}", d.stdout);
    assert_eq!(emu.calls()["ecs.ListServiceDeployments"], 1, "{}", emu.calls());
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn ecsgate_continue_rolls_a_paused_deployment_back_and_the_gate_fails_naming_the_hook() {
    let (emu, svc) = scenario!("e2e_egcontinue");
    let sd = sd_arn(&svc.cluster, "pauseRolledBack000001");
    let hook_id = "ecs-pause-Rb7rT2mP9sLwQn4vB8fYd3hJ6gA1cE5iO0uR_ZpWq";
    let continue_ = |extra: &[&str]| {
        let mut args = vec!["continue", "--cluster", svc.cluster.as_str(), "--service", "api"];
        args.extend_from_slice(extra);
        let mut cmd = common::command();
        cmd.args(&args);
        emu.env(&mut cmd);
        let out = cmd.output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    emu.service_deployment(&svc, &sd, json!({"status": "IN_PROGRESS", "lifecycleStage": "TEST_TRAFFIC_SHIFT"}), None);
    // Nothing to answer yet: a one-line usage error, exit 2.
    let (code, err) = continue_(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "no hook is awaiting action (service deployment pauseRolledBack000001 is IN_PROGRESS at TEST_TRAFFIC_SHIFT)"
        ),
        "{err}"
    );
    let gate = watch(emu.start_wait(&svc, &[]).await);
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
               "lifecycleHookDetails": [{"hookId": hook_id, "targetType": "PAUSE", "status": "AWAITING_ACTION", "timeoutAction": "ROLLBACK"}]}),
        Some(json!({"eventName": "HOOK_AWAITING_ACTION", "hookId": hook_id, "hookType": "PAUSE",
                    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "expiresAt": "2026-12-03T18:00:00Z"})),
    );
    gate.until("ACTION NEEDED", WITHIN).await;
    let (code, err) = continue_(&["--rollback"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("rolled back at hook {hook_id} at POST_TEST_TRAFFIC_SHIFT")), "{err}");
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains(&format!(
            "(or: `ecsgate continue --service-deployment-arn {sd} --hook-id {hook_id} [--rollback]`)"
        )),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout.contains(&format!("culprit:  lifecycle hook PAUSE ({hook_id}) FAILED at POST_TEST_TRAFFIC_SHIFT")),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("was answered with ROLLBACK"), "{}", d.stdout);
    assert!(emu.log(&emu.key).contains(&"ecs.ContinueServiceDeployment".to_string()));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_canary_that_succeeds_with_no_event_decides_within_seconds_even_once_events_flow() {
    let (emu, svc) = scenario!("e2e_canaryfast");
    emu.service_config(
        &svc,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 0, "maximumPercent": 200, "minimumHealthyPercent": 100}),
    );
    let sd = sd_arn(&svc.cluster, "canaryFast00000000001");
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT",
               "targetServiceRevision": revision(&svc.cluster, 5.0),
               "deploymentConfiguration": {"strategy": "CANARY", "bakeTimeInMinutes": 0}}),
        None,
    );
    // ecsgate's default periods, not the suite's test speed: events flowing make reconciles rare (60 s).
    let mut cmd = crate::common::command();
    cmd.args(["wait", "--cluster", &svc.cluster, "--service", &svc.name, "--reconcile-interval", "15s"]);
    cmd.args(["--wait-seconds", "2"]);
    emu.env(&mut cmd);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).stdin(std::process::Stdio::null());
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&svc).await;
    let gate = watch(child);
    gate.until("service deployment IN_PROGRESS CANARY PRODUCTION_TRAFFIC_SHIFT 5%", WITHIN).await;
    // An event arrives: the queue has proven itself, and a rolling update would now be reconciled once a
    // minute. The canary's end has no event of its own (issue 17 item 5).
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "canary in progress").await;
    gate.until("canary in progress", WITHIN).await;
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP", "finishedAt": 1.7e9}),
        None,
    );
    let set = std::time::Instant::now();
    let d = gate.finish(LIMIT).await;
    let took = set.elapsed();
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("(service deployment SUCCESSFUL)"), "{}", d.stdout);
    // Read every 3 s while it moves; the bound is generous for a busy machine, and far below the
    // minute a rolling cadence would take.
    assert!(took < Duration::from_secs(20), "decided {took:?} after the API said SUCCESSFUL\n{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}
