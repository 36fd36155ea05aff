//! The verdict of one service: success, the ways a deployment fails, and what the gate names as the cause.

use super::*;

#[tokio::test]
async fn success_when_our_deployment_completes() {
    let (emu, svc) = scenario!("e2e_success");
    let child = emu.start_wait(&svc, &[]).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "in progress").await;
    // The old deployment's COMPLETED (or anyone else's) must not end the wait.
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.old_deployment, "old completed").await;
    let task = emu.ctl("/_ecsgate/task", json!({"cluster": svc.cluster, "service": "api", "started_by": svc.deployment, "lastStatus": "RUNNING", "containers": [{"name":"app","lastStatus":"RUNNING"}]}))["taskArn"].as_str().unwrap().to_string();
    emu.task_event(&svc, &task, &svc.deployment, "RUNNING", 2, None).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains(&format!(
            "verdict: SUCCEEDED  deployment {} of service api (cluster e2e-success)",
            svc.deployment
        ))
    );
    assert!(d.stdout.contains("RUNNING"), "task transitions are streamed: {}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn circuit_breaker_rollback_exits_1_naming_ecs_rollback_to_the_previous_deployment() {
    let (emu, svc) = scenario!("e2e_breaker");
    let child = emu.start_wait(&svc, &[]).await;
    breaker_rolls_back(&emu, &svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: FAILED"));
    // The reason quotes ECS (its wording around it is the report's).
    assert!(
        d.stdout.lines().any(|l| l.contains("reason:") && l.contains("ECS deployment circuit breaker")),
        "{}",
        d.stdout
    );
    // The rollback is ECS's, to the deployment that ran before ours (not to the rollback's own id).
    let rollback = d.stdout.lines().find(|l| l.trim_start().starts_with("rollback:")).unwrap_or_else(|| {
        panic!("the verdict names the rollback:\n{}", d.stdout);
    });
    assert!(rollback.contains("rollback: ECS") && rollback.contains(&svc.old_deployment), "{rollback}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn crash_loop_without_breaker_fails_with_culprit_exit_code_and_log_tail() {
    let (emu, svc) = scenario!("e2e_crashloop");
    // The app's log lines, where awslogs would have put them.
    let logs = emu.logs();
    logs.create_log_group().log_group_name("/ecs/e2e-crashloop").send().await.unwrap();
    let child = emu.start_wait(&svc, &[]).await;
    for i in 0..3 {
        let arn = emu.stopped_task(
            &svc,
            &svc.deployment,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            None,
        );
        let id = arn.rsplit('/').next().unwrap().to_string();
        let stream = format!("ecs/app/{id}");
        logs.create_log_stream().log_group_name("/ecs/e2e-crashloop").log_stream_name(&stream).send().await.unwrap();
        let ev = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(ecsgate::engine::time::now_millis())
            .message(format!("panic: DATABASE_URL is not set (attempt {i})"))
            .build()
            .unwrap();
        logs.put_log_events()
            .log_group_name("/ecs/e2e-crashloop")
            .log_stream_name(&stream)
            .log_events(ev)
            .send()
            .await
            .unwrap();
        emu.task_event(
            &svc,
            &arn,
            &svc.deployment,
            "STOPPED",
            5,
            Some(("EssentialContainerExited", "Essential container in task exited", Some(1), None)),
        )
        .await;
    }
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("failed (threshold 3)"), "{}", d.stdout);
    assert!(d.stdout.contains("culprit:  container app, exit code 1"));
    assert!(d.stdout.contains("hint:     app exited 1: Generic application error."));
    assert!(d.stdout.contains("| panic: DATABASE_URL is not set"), "log tail: {}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn failure_before_ecsgate_started_is_found_by_reconciliation() {
    let (emu, svc) = scenario!("e2e_before");
    let pull = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 1.dkr.ecr.us-east-1.amazonaws.com/app:2: not found";
    for _ in 0..3 {
        emu.stopped_task(&svc, &svc.deployment, "TaskFailedToStart", pull, None, None);
    }
    // A benign stop of an old task is not counted.
    emu.stopped_task(
        &svc,
        &svc.old_deployment,
        "ServiceSchedulerInitiated",
        "Scaling activity initiated by (deployment x)",
        Some(137),
        None,
    );
    let d = finish(emu.spawn_wait(&svc, &["--output", "json"]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let v: serde_json::Value = serde_json::from_str(d.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["outcome"], "failed");
    assert_eq!(v["failed_tasks"].as_array().unwrap().len(), 3);
    assert!(v["hint"].as_str().unwrap().contains("image or tag does not exist"), "{v}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn timeout_exits_3_with_the_last_known_state() {
    let (emu, svc) = scenario!("e2e_timeout");
    let d = finish(emu.spawn_wait(&svc, &["--timeout", "2s"]), LIMIT).await;
    assert_eq!(d.code, 3, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: TIMED OUT"));
    assert!(d.stdout.contains("timed out after 2s; last state: IN_PROGRESS"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn unknown_service_or_cluster_exits_2_with_one_line() {
    let (emu, svc) = scenario!("e2e_unknown");
    let mut cmd = common::command();
    cmd.args(["wait", "--cluster", "e2e-unknown", "--service", "nope"]);
    emu.env(&mut cmd);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: service nope not found in cluster e2e-unknown"), "{err}");
    let mut cmd = common::command();
    cmd.args(["wait", "--cluster", "no-such-cluster", "--service", "api"]);
    emu.env(&mut cmd);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cluster no-such-cluster not found"));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn superseded_by_a_newer_deployment_exits_4() {
    let (emu, svc) = scenario!("e2e_superseded");
    let child = emu.start_wait(&svc, &[]).await;
    let newer = emu
        .ecs()
        .update_service()
        .cluster(&svc.cluster)
        .service("api")
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let newer = primary_id(newer.service().unwrap());
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &newer, "in progress").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 4, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains(&format!("reason:   superseded by deployment {newer}")), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn already_completed_deployment_needs_no_subscription() {
    let (emu, svc) = scenario!("e2e_already");
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED"}));
    let d = finish(emu.spawn_wait(&svc, &[]), LIMIT).await;
    assert_eq!(d.code, 0, "{}", d.stderr);
    let calls = emu.get(&format!("/_ecsgate/calls?key={}", emu.key));
    assert!(calls.get("sqs.CreateQueue").is_none(), "{calls}");
}

#[tokio::test]
async fn started_after_the_rollback_began_judges_the_failed_deployment_not_the_rollback() {
    let (emu, svc) = scenario!("e2e_late");
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {}.", svc.old_deployment);
    emu.ctl(
        "/_ecsgate/deployment",
        json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "status": "ACTIVE", "rollout_state": "FAILED",
               "reason": "ECS deployment circuit breaker: tasks failed to start.", "new_primary": {"reason": reason}}),
    );
    let d = finish(emu.spawn_wait(&svc, &[]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains(&format!("judging the deployment it replaced, {}", svc.deployment)), "{}", d.stderr);
    assert!(d.stdout.contains("reason:   ECS deployment circuit breaker: tasks failed to start."));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_deployment_failed_before_the_gate_started_still_names_its_culprit() {
    let (emu, svc) = scenario!("e2e_prefailed");
    for _ in 0..2 {
        emu.stopped_task(
            &svc,
            &svc.deployment,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(137),
            Some("OutOfMemoryError: Container killed due to memory usage"),
        );
    }
    emu.ctl(
        "/_ecsgate/deployment",
        json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "FAILED",
               "reason": "ECS deployment circuit breaker: tasks failed to start."}),
    );
    let d = finish(emu.spawn_wait(&svc, &[]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("reason:   ECS deployment circuit breaker: tasks failed to start."), "{}", d.stdout);
    assert!(d.stdout.contains("culprit:  container app, exit code 137"), "{}", d.stdout);
    assert!(d.stdout.contains("OutOfMemoryError: Container killed due to memory usage"));
    assert!(d.stdout.contains("hint:     The container hit its hard memory limit"), "{}", d.stdout);
    assert!(emu.calls().get("sqs.CreateQueue").is_none(), "decided at start: no subscription");
}

#[tokio::test]
async fn ci_logs_get_a_heartbeat_while_nothing_happens() {
    let (emu, svc) = scenario!("e2e_heartbeat");
    let d = finish(emu.spawn_wait(&svc, &["--heartbeat", "1s", "--timeout", "3500ms"]), LIMIT).await;
    assert_eq!(d.code, 3, "{}", d.stderr);
    let beats: Vec<&str> = d.stderr.lines().filter(|l| l.contains("ecsgate: still waiting after ")).collect();
    assert!(beats.len() >= 2, "{}", d.stderr);
    assert!(beats[0].contains("IN_PROGRESS · running"), "state and counts: {}", beats[0]);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_failure_whose_tasks_ecs_forgot_is_explained_by_the_service_event_log() {
    let (emu, svc) = scenario!("e2e_forgotten");
    // No stopped task is left (ECS keeps them about an hour); the service's event log remains.
    emu.ctl(
        "/_ecsgate/deployment",
        json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "FAILED",
               "reason": "ECS deployment circuit breaker: tasks failed to start.",
               "service_events": ["(service api) has started 1 tasks: (task 5f2c).", "(service api) (task 5f2c) failed container health checks."]}),
    );
    let d = finish(emu.spawn_wait(&svc, &[]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains("service event: (service api) (task 5f2c) failed container health checks."),
        "timeline: {}",
        d.stdout
    );
    assert!(d.stdout.contains("  evidence: the service's event log"), "{}", d.stdout);
    assert!(d.stdout.contains("    | (service api) (task 5f2c) failed container health checks."), "{}", d.stdout);
    assert!(d.stdout.contains("hint:     The container healthCheck command kept failing"), "{}", d.stdout);
}

#[tokio::test]
async fn an_elb_health_check_failure_names_the_reason_code_and_the_check() {
    let (emu, svc) = scenario!("e2e_elbhealth");
    let tg = emu.ctl(
        "/_ecsgate/target_group",
        json!({"name": "e2e-elbhealth-api", "path": "/healthz", "port": 8080, "matcher": "200"}),
    )["arn"]
        .as_str()
        .unwrap()
        .to_string();
    emu.ctl(
        "/_ecsgate/target_health",
        json!({"target_group_arn": tg, "targets": [
            {"id": "10.0.1.17", "port": 8080, "state": "draining", "reason": "Target.DeregistrationInProgress", "description": "Target deregistration is in progress"},
            {"id": "10.0.1.23", "port": 8080, "state": "unhealthy", "reason": "Target.ResponseCodeMismatch", "description": "Health checks failed with these codes: [502]"}]}),
    );
    let child = emu.start_wait(&svc, &[]).await;
    let reason = format!("Task failed ELB health checks in (target-group {tg})");
    for _ in 0..3 {
        let arn = emu.stopped_task(&svc, &svc.deployment, "ServiceSchedulerInitiated", &reason, Some(143), None);
        emu.task_event(
            &svc,
            &arn,
            &svc.deployment,
            "STOPPED",
            5,
            Some(("ServiceSchedulerInitiated", &reason, Some(143), None)),
        )
        .await;
    }
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains("health check: HTTP GET /healthz on port 8080, expecting 200 — Target.ResponseCodeMismatch: Health checks failed with these codes: [502]"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("make /healthz return 200 without redirects"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn until_drained_waits_for_the_old_tasks_after_completion() {
    let (emu, svc) = scenario!("e2e_drained");
    let old = |running: i64| json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.old_deployment, "running": running, "pending": 0});
    emu.ctl("/_ecsgate/deployment", old(2));
    let gate = watch(emu.start_wait(&svc, &["--until", "drained"]).await);
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    gate.until("waiting for the old tasks to stop (--until drained)", WITHIN).await;
    emu.ctl("/_ecsgate/deployment", old(0));
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("waiting for the old tasks to stop (--until drained)"), "{}", d.stdout);
    assert!(d.stdout.contains("every task of the older deployments has stopped"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn spot_interruptions_during_a_rolling_deployment_are_shown_but_never_counted_as_failures() {
    let (emu, svc) = scenario!("e2e_spot");
    let child = emu.start_wait(&svc, &[]).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "in progress").await;
    // Three reclaimed tasks — as many as the failure threshold — and the deployment still completes:
    // Fargate Spot taking its capacity back is not the application failing (issue 17 item 6).
    for _ in 0..3 {
        let reason = "Your Spot Task was interrupted.";
        let arn = emu.stopped_task(&svc, &svc.deployment, "SpotInterruption", reason, Some(143), None);
        emu.task_event(&svc, &arn, &svc.deployment, "STOPPED", 5, Some(("SpotInterruption", reason, Some(143), None)))
            .await;
    }
    let task = emu.ctl("/_ecsgate/task", json!({"cluster": svc.cluster, "service": "api", "started_by": svc.deployment, "lastStatus": "RUNNING", "containers": [{"name":"app","lastStatus":"RUNNING"}]}))["taskArn"].as_str().unwrap().to_string();
    emu.task_event(&svc, &task, &svc.deployment, "RUNNING", 2, None).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: SUCCEEDED"), "{}", d.stdout);
    // Each stop is shown, with what it was…
    assert_eq!(d.stdout.matches("SpotInterruption: Your Spot Task was interrupted.").count(), 3, "{}", d.stdout);
    assert_eq!(d.stdout.matches("— infrastructure, not counted").count(), 3, "{}", d.stdout);
    // …and none is counted toward --max-task-failures.
    assert!(!d.stdout.contains("(threshold 3)"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}
