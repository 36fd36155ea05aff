//! `ecsgate wait` end to end: the real binary and the real SDK against the emulator (moto 5.2.5 and our
//! ECS layer). Every test creates its own cluster and service, starts a deployment, runs the gate, plays
//! ECS's part (events via PutEvents, tasks and deployment states via the layer), and asserts the exit
//! code, what the user sees, and that no ecsgate rule or queue is left.

mod common;

use std::time::Duration;

use common::emulator::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);
/// How long a test waits for something the gate should say or do within a second or two: generous, so a
/// loaded machine only makes the suite slower, never red. Reaching it is a failure, not a timing.
const WITHIN: Duration = Duration::from_secs(20);

/// The emulator for one test (its own access key); fails the test when the emulator is missing.
macro_rules! emu {
    ($name:expr) => {
        emulator($name).await.expect("the emulator")
    };
}

#[tokio::test]
async fn success_when_our_deployment_completes() {
    let emu = emu!("e2e_success");
    let svc = emu.service("e2e-success").await;
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
    let emu = emu!("e2e_breaker");
    let svc = emu.service("e2e-breaker").await;
    let child = emu.start_wait(&svc, &[]).await;
    breaker_rolls_back(&emu, &svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: FAILED"));
    assert!(d.stdout.contains("reason:   rolled back: ECS deployment circuit breaker"), "{}", d.stdout);
    // The rollback is ECS's, to the deployment that ran before ours (not to the rollback's own id).
    let rollback = d.stdout.lines().find(|l| l.trim_start().starts_with("rollback:")).unwrap_or_else(|| {
        panic!("the verdict names the rollback:\n{}", d.stdout);
    });
    assert!(rollback.contains("rollback: ECS") && rollback.contains(&svc.old_deployment), "{rollback}");
    emu.assert_nothing_left(&svc).await;
}

/// What ECS says on the bus when the circuit breaker trips: a deployment rolling back to the previous
/// one, which decides by itself (ECS's FAILED of ours comes at the same moment, in no set order, and may
/// find the gate's queue already gone, so it is not sent).
async fn breaker_rolls_back(emu: &Emu, svc: &Svc) {
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {}.", svc.old_deployment);
    emu.deployment_event(svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/9999999999999999999", &reason).await;
}

/// `--rollback-on-failure` stays out when ECS decided the failure and rolls back itself: a second
/// rollback on top of ECS's would race it (issue 20: double rollback).
#[tokio::test]
async fn rollback_on_failure_stays_out_when_the_circuit_breaker_already_rolls_back() {
    let emu = emu!("e2e_nodouble");
    let svc = emu.service("e2e-nodouble").await;
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
async fn crash_loop_without_breaker_fails_with_culprit_exit_code_and_log_tail() {
    let emu = emu!("e2e_crashloop");
    let svc = emu.service("e2e-crashloop").await;
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
    let emu = emu!("e2e_before");
    let svc = emu.service("e2e-before").await;
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

async fn interrupted(name: &str, sig: &str, code: i32) {
    let emu = emu!(name);
    let svc = emu.service(&name.replace('_', "-")).await;
    let child = emu.start_wait(&svc, &[]).await;
    signal(&child, sig);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, code, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: INTERRUPTED"), "{}", d.stdout);
    assert!(d.stderr.contains(&format!("SIG{sig}; cleaning up")));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn sigint_cleans_up_and_exits_130() {
    interrupted("e2e_sigint", "INT", 130).await;
}

#[tokio::test]
async fn sigterm_cleans_up_and_exits_143() {
    interrupted("e2e_sigterm", "TERM", 143).await;
}

#[tokio::test]
async fn timeout_exits_3_with_the_last_known_state() {
    let emu = emu!("e2e_timeout");
    let svc = emu.service("e2e-timeout").await;
    let d = finish(emu.spawn_wait(&svc, &["--timeout", "2s"]), LIMIT).await;
    assert_eq!(d.code, 3, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: TIMED OUT"));
    assert!(d.stdout.contains("timed out after 2s; last state: IN_PROGRESS"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn unknown_service_or_cluster_exits_2_with_one_line() {
    let emu = emu!("e2e_unknown");
    let svc = emu.service("e2e-unknown").await;
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
async fn queue_deleted_mid_wait_falls_back_to_polling() {
    let emu = emu!("e2e_queuegone");
    let svc = emu.service("e2e-queuegone").await;
    let gate = watch(emu.start_wait(&svc, &[]).await);
    for url in emu.queues_for(&svc).await {
        emu.sqs().delete_queue().queue_url(url).send().await.unwrap();
    }
    // Completed only once the gate said it polls: the verdict must come from polling, not the queue.
    gate.until("the event queue is gone", WITHIN).await;
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED", "reason": "completed"}));
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("the event queue is gone"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn api_errors_for_a_while_still_reach_the_right_verdict() {
    let emu = emu!("e2e_flaky");
    let svc = emu.service("e2e-flaky").await;
    let child = emu.start_wait(&svc, &[]).await;
    let seen = |action: &str| emu.log(&emu.key).iter().filter(|c| c.as_str() == action).count();
    let (receives, describes) = (seen("sqs.ReceiveMessage"), seen("ecs.DescribeServices"));
    emu.fault(
        json!({"service": "sqs", "action": "ReceiveMessage", "code": "InternalError", "status": 500, "seconds": 3}),
    );
    emu.fault(json!({"service": "ecs", "action": "DescribeServices", "code": "ThrottlingException", "status": 400, "count": 6}));
    // The verdict must come after the faults were hit: every one of the 6 throttled DescribeServices and
    // at least one failed ReceiveMessage, or this would test nothing but a quiet API.
    until_call(&emu, &emu.key, "ecs.DescribeServices", describes + 6, LIMIT).await;
    until_call(&emu, &emu.key, "sqs.ReceiveMessage", receives, WITHIN).await;
    emu.deployment_event(
        &svc,
        "SERVICE_DEPLOYMENT_FAILED",
        &svc.deployment,
        "ECS deployment circuit breaker: tasks failed to start.",
    )
    .await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn api_failing_past_the_budget_exits_5_with_nothing_left() {
    let emu = emu!("e2e_apidown");
    let svc = emu.service("e2e-apidown").await;
    let child = emu.start_wait(&svc, &["--api-error-budget", "2s"]).await;
    emu.fault(json!({"service": "ecs", "code": "InternalError", "status": 500, "seconds": 120}));
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 5, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("kept failing"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn access_denied_on_setup_falls_back_to_polling() {
    let emu = emu!("e2e_denied");
    let svc = emu.service("e2e-denied").await;
    emu.fault(
        json!({"service": "sqs", "action": "CreateQueue", "code": "AccessDenied", "status": 400, "seconds": 120}),
    );
    let gate = watch(emu.spawn_wait(&svc, &[]));
    gate.until("falling back to polling", WITHIN).await;
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {}.", svc.old_deployment);
    emu.ctl(
        "/_ecsgate/deployment",
        json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "FAILED",
               "reason": "ECS deployment circuit breaker: tasks failed to start.", "new_primary": {"reason": reason}}),
    );
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("not authorized to call sqs:CreateQueue"), "{}", d.stderr);
    assert!(d.stderr.contains("falling back to polling"));
    assert!(d.stdout.contains(&format!("rollback: ECS rolled back to {}", svc.old_deployment)), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn access_denied_on_an_ecs_read_exits_5_naming_the_permission() {
    let emu = emu!("e2e_ecsdenied");
    let svc = emu.service("e2e-ecsdenied").await;
    emu.fault(json!({"service": "ecs", "action": "DescribeServices", "code": "AccessDeniedException", "status": 400, "seconds": 120}));
    let d = finish(emu.spawn_wait(&svc, &[]), LIMIT).await;
    assert_eq!(d.code, 5, "{}", d.stderr);
    assert!(d.stderr.contains("not authorized to call ecs:DescribeServices"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn no_credentials_exits_5() {
    let emu = emu!("e2e_nocreds");
    let mut cmd = common::command();
    cmd.args(["wait", "--service", "api"]);
    emu.env(&mut cmd);
    cmd.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no AWS credentials"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn superseded_by_a_newer_deployment_exits_4() {
    let emu = emu!("e2e_superseded");
    let svc = emu.service("e2e-superseded").await;
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
    assert!(d.stdout.contains(&format!("replaced by: {newer}")));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn already_completed_deployment_needs_no_subscription() {
    let emu = emu!("e2e_already");
    let svc = emu.service("e2e-already").await;
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED"}));
    let d = finish(emu.spawn_wait(&svc, &[]), LIMIT).await;
    assert_eq!(d.code, 0, "{}", d.stderr);
    let calls = emu.get(&format!("/_ecsgate/calls?key={}", emu.key));
    assert!(calls.get("sqs.CreateQueue").is_none(), "{calls}");
}

#[tokio::test]
async fn recording_replays_to_the_same_verdict() {
    let emu = emu!("e2e_record");
    let svc = emu.service("e2e-record").await;
    let file = std::env::temp_dir().join(format!("ecsgate-record-{}.jsonl", std::process::id()));
    let child = emu.start_wait(&svc, &["--record", file.to_str().unwrap(), "--output", "json"]).await;
    for _ in 0..3 {
        let arn = emu.stopped_task(
            &svc,
            &svc.deployment,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(137),
            Some("OutOfMemoryError: Container killed due to memory usage"),
        );
        emu.task_event(
            &svc,
            &arn,
            &svc.deployment,
            "STOPPED",
            5,
            Some((
                "EssentialContainerExited",
                "Essential container in task exited",
                Some(137),
                Some("OutOfMemoryError: Container killed due to memory usage"),
            )),
        )
        .await;
    }
    let live = finish(child, LIMIT).await;
    assert_eq!(live.code, 1, "{}", live.stderr);
    let r = common::ecsgate(&["replay", file.to_str().unwrap(), "--output", "json"], None, &[]);
    std::fs::remove_file(&file).ok();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.last_json();
    // The same verdict as the live gate gave, field by field (what the user and a pipeline act on).
    let live_v: serde_json::Value = serde_json::from_str(
        live.stdout.lines().rev().find(|l| !l.trim().is_empty()).expect("the live gate's JSON verdict"),
    )
    .unwrap();
    for field in ["outcome", "exit_code", "service", "cluster", "deployment_id", "reason", "culprit", "hint"] {
        assert_eq!(v[field], live_v[field], "{field}: replay {} vs live {}", v[field], live_v[field]);
    }
    assert_eq!(v["failed_tasks"].as_array().map(Vec::len), live_v["failed_tasks"].as_array().map(Vec::len));
    assert_eq!(v["deployment_id"], svc.deployment.as_str());
    assert_eq!(v["culprit"]["reason"], "OutOfMemoryError: Container killed due to memory usage");
    assert_eq!(v["failed_tasks"][0]["containers"][0]["essential"], true, "the task definition was recorded too");
    emu.assert_nothing_left(&svc).await;
}

/// gc works on a whole account and region: this test has a region of its own (eu-west-3), so nothing it
/// deletes can be another test's, and nothing another test creates can change what it sees.
#[tokio::test]
async fn gc_keeps_young_and_undatable_leftovers_and_deletes_what_a_killed_ecsgate_left() {
    use aws_sdk_eventbridge::types::Tag;
    let emu = emu!("e2e_gc").in_region("eu-west-3");
    let gc = |args: &[&str]| {
        let mut cmd = common::command();
        cmd.arg("gc").args(args);
        emu.env(&mut cmd);
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // An undatable rule (tagged by ecsgate, no date in its name or tags) is kept unless --force.
    let undated = format!("ecsgate-undated{}", std::process::id());
    let ev = emu.events();
    let tag = Tag::builder().key("creator").value("ecsgate").build().unwrap();
    ev.put_rule().name(&undated).event_pattern(r#"{"source":["aws.ecs"]}"#).tags(tag).send().await.unwrap();
    let (code, err) = gc(&["--older-than", "1h"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(&format!("kept rule {undated}: its age is unknown")), "{err}");
    assert!(ev.describe_rule().name(&undated).send().await.is_ok(), "an undatable rule is kept");
    let (code, err) = gc(&["--older-than", "1h", "--force"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(&format!("deleted rule {undated} (unknown age)")), "{err}");
    assert!(ev.describe_rule().name(&undated).send().await.is_err(), "--force deletes it");

    // What a killed ecsgate left: a dated rule and queue, seconds old.
    let svc = emu.service("e2e-gc").await;
    let child = emu.start_wait(&svc, &[]).await;
    signal(&child, "KILL");
    let _ = finish(child, LIMIT).await;
    assert_eq!(emu.rules_for(&svc).await.len(), 1, "SIGKILL cannot clean up: that is what gc is for");
    assert_eq!(emu.queues_for(&svc).await.len(), 1);
    // gc's main promise: a young one may be a gate still running elsewhere, so it survives --older-than 1h.
    let (code, err) = gc(&["--older-than", "1h"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(emu.rules_for(&svc).await.len(), 1, "a young dated rule survives: {err}");
    assert_eq!(emu.queues_for(&svc).await.len(), 1, "a young dated queue survives: {err}");
    let (code, err) = gc(&["--older-than", "0s", "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("would delete rule ecsgate-"), "{err}");
    assert_eq!(emu.rules_for(&svc).await.len(), 1, "dry run deletes nothing");
    // Safe here only: this region is this test's alone.
    let (code, err) = gc(&["--older-than", "0s"]);
    assert_eq!(code, Some(0), "{err}");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn started_after_the_rollback_began_judges_the_failed_deployment_not_the_rollback() {
    let emu = emu!("e2e_late");
    let svc = emu.service("e2e-late").await;
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

// ------------------------------------------------------------------ several services in one gate

#[tokio::test]
async fn several_services_one_crash_looping_exit_1_with_a_verdict_each_over_one_subscription() {
    let emu = emu!("e2e_multi");
    let api = emu.service_named("e2e-multi", "api").await;
    let worker = emu.service_named("e2e-multi", "worker").await;
    let cron = emu.service_named("e2e-multi", "cron").await;
    let file = std::env::temp_dir().join(format!("ecsgate-multi-{}.jsonl", std::process::id()));
    let record = file.to_str().unwrap();
    let child =
        emu.spawn_gate(&["--cluster", "e2e-multi", "--service", "api,worker", "--service", "cron", "--record", record]);
    emu.wait_for_rule(&api).await;
    assert_eq!(emu.rules_for(&api).await.len(), 1, "one rule for all three services");
    emu.deployment_event(&api, "SERVICE_DEPLOYMENT_COMPLETED", &api.deployment, "ECS deployment completed.").await;
    emu.crash_loop(&worker).await;
    emu.deployment_event(&cron, "SERVICE_DEPLOYMENT_COMPLETED", &cron.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let calls = emu.calls();
    assert_eq!(calls["sqs.CreateQueue"], 1, "{calls}");
    assert_eq!(calls["events.PutRule"], 1, "{calls}");
    // A line per service in the table, then the failure's full block, then the gate.
    let table: Vec<&str> = d
        .stdout
        .lines()
        .filter(|l| l.starts_with("  api ") || l.starts_with("  worker ") || l.starts_with("  cron "))
        .collect();
    assert_eq!(table.len(), 3, "{}", d.stdout);
    assert!(
        table.iter().any(|l| l.contains("worker") && l.contains("FAILED") && l.contains("container app, exit code 1")),
        "{table:?}"
    );
    assert!(
        d.stdout.contains(&format!(
            "verdict: FAILED  deployment {} of service worker (cluster e2e-multi)",
            worker.deployment
        ))
    );
    assert!(d.stdout.contains("hint:     app exited 1"), "{}", d.stdout);
    assert!(d.stdout.trim_end().ends_with("gate: FAILED  3 services · exit code 1"), "{}", d.stdout);
    assert!(d.stdout.contains("[worker] task "), "timeline lines name their service: {}", d.stdout);
    // The recording replays to the same verdicts, table and gate line.
    let r = common::ecsgate(&["replay", record], None, &[]);
    std::fs::remove_file(&file).ok();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let tail = |s: &str| s[s.find("\nservices: ").expect("a table")..].to_string();
    assert_eq!(tail(&r.stdout), tail(&d.stdout));
    for s in [&api, &worker, &cron] {
        emu.assert_nothing_left(s).await;
    }
}

#[tokio::test]
async fn several_services_across_clusters_in_json_and_github_outputs() {
    let emu = emu!("e2e_multijson");
    let api = emu.service_named("e2e-multijson-a", "api").await;
    let worker = emu.service_named("e2e-multijson-b", "worker").await;
    let dir = std::env::temp_dir().join(format!("ecsgate-multigh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (summary, output) = (dir.join("summary.md"), dir.join("output"));
    let mut cmd = common::command();
    cmd.args(["wait", "--reconcile-interval", "1s", "--wait-seconds", "2", "--output", "json", "--github"]);
    cmd.args(["--cluster", "e2e-multijson-a", "--service", "api", "--service", &worker.service_arn]);
    emu.env(&mut cmd);
    cmd.env("GITHUB_STEP_SUMMARY", &summary).env("GITHUB_OUTPUT", &output);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&api).await;
    emu.deployment_event(&api, "SERVICE_DEPLOYMENT_COMPLETED", &api.deployment, "ECS deployment completed.").await;
    emu.deployment_event(
        &worker,
        "SERVICE_DEPLOYMENT_FAILED",
        &worker.deployment,
        "ECS deployment circuit breaker: tasks failed to start.",
    )
    .await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let lines: Vec<serde_json::Value> = d.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let verdicts: Vec<&serde_json::Value> = lines.iter().filter(|v| v["type"] == "verdict").collect();
    assert_eq!(verdicts.len(), 2, "{}", d.stdout);
    assert!(
        verdicts
            .iter()
            .any(|v| v["service"] == "worker" && v["cluster"] == "e2e-multijson-b" && v["outcome"] == "failed")
    );
    let summary_line = lines.last().unwrap();
    assert_eq!(summary_line["type"], "summary");
    assert_eq!((summary_line["outcome"].as_str(), summary_line["exit_code"].as_i64()), (Some("failed"), Some(1)));
    assert!(
        lines.iter().filter(|v| v["type"] == "deployment").all(|v| v["service"].is_string()),
        "every entry names its service"
    );
    let out = std::fs::read_to_string(&output).unwrap();
    assert!(out.contains("outcome<<ECSGATE_EOF\nfailed\n"), "{out}");
    assert!(out.contains("verdicts<<ECSGATE_EOF\n[{"), "{out}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| service | cluster | outcome | exit code | culprit | reason |"), "{md}");
    assert!(md.contains("| `worker` | `e2e-multijson-b` | ❌ failed | 1 |"), "{md}");
    assert!(
        d.stdout.contains("::error title=ecsgate%3A deployment") && d.stdout.contains("of worker failed"),
        "{}",
        d.stdout
    );
    std::fs::remove_dir_all(&dir).ok();
    emu.assert_nothing_left(&api).await;
    emu.assert_nothing_left(&worker).await;
}

#[tokio::test]
async fn fail_fast_ends_the_gate_at_the_first_failure() {
    let emu = emu!("e2e_failfast");
    let api = emu.service_named("e2e-failfast", "api").await;
    let worker = emu.service_named("e2e-failfast", "worker").await;
    let child = emu.spawn_gate(&["--cluster", "e2e-failfast", "--service", "api,worker", "--fail-fast"]);
    emu.wait_for_rule(&api).await;
    emu.deployment_event(
        &worker,
        "SERVICE_DEPLOYMENT_FAILED",
        &worker.deployment,
        "ECS deployment circuit breaker: tasks failed to start.",
    )
    .await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains(&format!("verdict: IN PROGRESS  deployment {} of service api", api.deployment)),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("still in progress when --fail-fast ended the gate"), "{}", d.stdout);
    emu.assert_nothing_left(&api).await;
}

#[tokio::test]
async fn sigterm_with_several_services_cleans_up_and_exits_143() {
    let emu = emu!("e2e_multiterm");
    let api = emu.service_named("e2e-multiterm", "api").await;
    let worker = emu.service_named("e2e-multiterm", "worker").await;
    let gate =
        watch(emu.spawn_gate(&["--cluster", "e2e-multiterm", "--service", "api", "--service", "e2e-multiterm/worker"]));
    emu.wait_for_rule(&api).await;
    emu.deployment_event(&api, "SERVICE_DEPLOYMENT_COMPLETED", &api.deployment, "ECS deployment completed.").await;
    // TERM once the gate has judged api, so the summary must keep api's verdict beside worker's interruption.
    gate.until(&format!("[api] deployment {} (ours) COMPLETED", api.deployment), WITHIN).await;
    signal(gate.child(), "TERM");
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 143, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("gate: INTERRUPTED  2 services · exit code 143"), "{}", d.stdout);
    assert!(
        d.stdout.lines().any(|l| l.starts_with("  api ") && l.contains("SUCCEEDED")),
        "a decided service keeps its verdict: {}",
        d.stdout
    );
    emu.assert_nothing_left(&api).await;
    emu.assert_nothing_left(&worker).await;
}

// ------------------------------------------------------------------ a gate nothing can wedge

#[tokio::test]
async fn a_hung_api_cannot_hold_back_the_timeout() {
    let emu = emu!("e2e_hungtimeout");
    let svc = emu.service("e2e-hungtimeout").await;
    let started = std::time::Instant::now();
    let child = emu.start_wait(&svc, &["--timeout", "4s"]).await;
    // From now on every ECS call and every long poll is held for 30 s.
    emu.fault(json!({"service": "ecs", "hang": 30, "seconds": 60}));
    emu.fault(json!({"service": "sqs", "action": "ReceiveMessage", "hang": 30, "seconds": 60}));
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 3, "{}\n{}", d.stdout, d.stderr);
    assert!(started.elapsed() < Duration::from_secs(4 + 6), "took {:?}", started.elapsed());
    assert!(d.stdout.contains("reason:   timed out after 4s; last state: IN_PROGRESS"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

async fn signal_while_hung(name: &str, sig: &str, code: i32) {
    let emu = emu!(name);
    let svc = emu.service(&name.replace('_', "-")).await;
    let child = emu.start_wait(&svc, &[]).await;
    let before = emu.log(&emu.key).iter().filter(|c| *c == "ecs.DescribeServices").count();
    emu.fault(json!({"service": "ecs", "hang": 30, "seconds": 60}));
    // Signal only once the next reconcile is stuck in DescribeServices (the emulator saw the call).
    until_call(&emu, &emu.key, "ecs.DescribeServices", before, WITHIN).await;
    let sent = std::time::Instant::now();
    signal(&child, sig);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, code, "{}\n{}", d.stdout, d.stderr);
    assert!(sent.elapsed() < Duration::from_secs(4), "exited {:?} after the signal", sent.elapsed());
    assert!(d.stdout.contains("verdict: INTERRUPTED"), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn sigint_is_served_while_an_api_call_hangs() {
    signal_while_hung("e2e_hungint", "INT", 130).await;
}

#[tokio::test]
async fn sigterm_is_served_while_an_api_call_hangs() {
    signal_while_hung("e2e_hungterm", "TERM", 143).await;
}

#[tokio::test]
async fn teardown_against_a_hung_endpoint_is_bounded_and_names_what_is_left() {
    let emu = emu!("e2e_hungteardown");
    let svc = emu.service("e2e-hungteardown").await;
    let gate_key = format!("{}GATE", emu.key);
    let child = emu.spawn_gate_as(&gate_key, &["--cluster", "e2e-hungteardown", "--service", "api"]);
    emu.wait_for_rule(&svc).await;
    for (service, action) in [("events", "RemoveTargets"), ("events", "DeleteRule"), ("sqs", "DeleteQueue")] {
        emu.ctl(
            "/_ecsgate/fault",
            json!({"key": gate_key, "service": service, "action": action, "hang": 25, "code": "InternalError", "status": 500, "seconds": 60}),
        );
    }
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let started = std::time::Instant::now();
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "the verdict's exit code stands: {}\n{}", d.stdout, d.stderr);
    assert!(started.elapsed() < Duration::from_secs(15), "teardown took {:?}", started.elapsed());
    assert!(d.stderr.contains("left behind: EventBridge rule ecsgate-"), "{}", d.stderr);
    assert!(d.stderr.contains("teardown did not finish within 10s"), "{}", d.stderr);
    assert!(d.stderr.contains("aws events delete-rule --region us-east-1"), "{}", d.stderr);
    assert!(d.stderr.contains("left behind: SQS queue ecsgate-") && d.stderr.contains("ecsgate gc --region us-east-1"));
    emu.clean_up(&svc).await;
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_deployment_failed_before_the_gate_started_still_names_its_culprit() {
    let emu = emu!("e2e_prefailed");
    let svc = emu.service("e2e-prefailed").await;
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
async fn an_explicit_profile_beats_keys_in_the_environment_and_an_unknown_one_is_named() {
    let emu = emu!("e2e_profile");
    let svc = emu.service("e2e-profile").await;
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED"}));
    let dir = std::env::temp_dir().join(format!("ecsgate-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (config, creds) = (dir.join("config"), dir.join("credentials"));
    let profile_key = format!("{}PROF", emu.key);
    let env_key = format!("{}ENV", emu.key);
    std::fs::write(&config, "[profile gate]\nregion = us-east-1\n").unwrap();
    std::fs::write(&creds, format!("[gate]\naws_access_key_id = {profile_key}\naws_secret_access_key = secret\n"))
        .unwrap();
    let run = |profile: &str| {
        let mut cmd = common::command();
        cmd.args(["wait", "--cluster", "e2e-profile", "--service", "api", "--profile", profile]);
        emu.env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", &env_key)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds);
        cmd.output().unwrap()
    };
    let out = run("gate");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let calls = |k: &str| emu.get(&format!("/_ecsgate/calls?key={k}"));
    assert!(calls(&profile_key)["ecs.DescribeServices"].as_u64().unwrap_or(0) >= 1, "signed with the profile's key");
    assert_eq!(calls(&env_key), json!({}), "the environment's key was not used");
    let out = run("nope");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: AWS profile nope not found in "), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn ci_logs_get_a_heartbeat_while_nothing_happens() {
    let emu = emu!("e2e_heartbeat");
    let svc = emu.service("e2e-heartbeat").await;
    let d = finish(emu.spawn_wait(&svc, &["--heartbeat", "1s", "--timeout", "3500ms"]), LIMIT).await;
    assert_eq!(d.code, 3, "{}", d.stderr);
    let beats: Vec<&str> = d.stderr.lines().filter(|l| l.contains("ecsgate: still waiting after ")).collect();
    assert!(beats.len() >= 2, "{}", d.stderr);
    assert!(beats[0].contains("IN_PROGRESS · running"), "state and counts: {}", beats[0]);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_panic_inside_the_wait_still_tears_down() {
    let emu = emu!("e2e_panic");
    let svc = emu.service("e2e-panic").await;
    let mut cmd = common::command();
    cmd.args(["wait", "--cluster", "e2e-panic", "--service", "api", "--wait-seconds", "2", "--timeout", "40s"]);
    emu.env(&mut cmd);
    cmd.env("ECSGATE_TEST_PANIC_ON_MESSAGE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&svc).await;
    // The rule exists; its target may be a moment behind: say it a few times (the first one delivered panics).
    for _ in 0..5 {
        emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "in progress").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 5, "{}", d.stderr);
    assert!(d.stderr.contains("error: ecsgate panicked while waiting"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_failure_whose_tasks_ecs_forgot_is_explained_by_the_service_event_log() {
    let emu = emu!("e2e_forgotten");
    let svc = emu.service("e2e-forgotten").await;
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
async fn a_third_signal_during_a_stuck_teardown_exits_at_once_naming_what_is_left() {
    let emu = emu!("e2e_thirdsig");
    let svc = emu.service("e2e-thirdsig").await;
    let gate_key = format!("{}GATE", emu.key);
    let child = emu.spawn_gate_as(&gate_key, &["--cluster", "e2e-thirdsig", "--service", "api"]);
    emu.wait_for_rule(&svc).await;
    for (service, action) in [("events", "RemoveTargets"), ("events", "DeleteRule"), ("sqs", "DeleteQueue")] {
        emu.ctl(
            "/_ecsgate/fault",
            json!({"key": gate_key, "service": service, "action": action, "hang": 25, "code": "InternalError", "status": 500, "seconds": 60}),
        );
    }
    signal(&child, "TERM");
    tokio::time::sleep(Duration::from_millis(700)).await;
    signal(&child, "TERM");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let third = std::time::Instant::now();
    signal(&child, "TERM");
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 143, "{}\n{}", d.stdout, d.stderr);
    assert!(third.elapsed() < Duration::from_secs(2), "exited {:?} after the third signal", third.elapsed());
    assert!(d.stderr.contains("a third signal ended ecsgate at once"), "{}", d.stderr);
    assert!(
        d.stderr.contains("left behind: EventBridge rule ecsgate-")
            && d.stderr.contains("ecsgate gc --region us-east-1")
    );
    emu.clean_up(&svc).await;
    emu.assert_nothing_left(&svc).await;
}

// ------------------------------------------------------------------ deploy, rollback, notify

#[tokio::test]
async fn deploy_with_an_image_subscribes_first_changes_only_that_image_and_succeeds() {
    let emu = emu!("e2e_deploy");
    let svc = emu.service("e2e-deploy").await;
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
    let emu = emu!("e2e_deploynope");
    let svc = emu.service("e2e-deploynope").await;
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
    let emu = emu!("e2e_deployrb");
    let svc = emu.service("e2e-deployrb").await;
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
    let emu = emu!("e2e_timeoutrb");
    let svc = emu.service("e2e-timeoutrb").await;
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

/// `--notify-on failure` (the default) posts nothing when the deployment succeeds; `--notify-on always`
/// posts the success too.
#[tokio::test]
async fn notify_on_failure_stays_silent_on_success_and_always_posts_it() {
    let emu = emu!("e2e_notifyon");
    for (mode, posts) in [(None, 0), (Some("failure"), 0), (Some("always"), 1)] {
        let svc = emu.service(&format!("e2e-notifyon-{}", mode.unwrap_or("default"))).await;
        let (url, bodies) = common::emulator::http_sink(false);
        let hook = format!("{url}/hook");
        let mut args = vec!["--notify", hook.as_str()];
        if let Some(m) = mode {
            args.extend(["--notify-on", m]);
        }
        let child = emu.start_wait(&svc, &args).await;
        emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
        let d = finish(child, LIMIT).await;
        assert_eq!(d.code, 0, "{mode:?}: {}\n{}", d.stdout, d.stderr);
        // The gate posts before it exits: what the sink holds now is all it will get.
        let got = bodies.lock().unwrap().clone();
        assert_eq!(got.len(), posts, "--notify-on {mode:?} on success: {got:?}\n{}", d.stderr);
        if posts == 1 {
            let v: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
            assert_eq!(v["outcome"], "succeeded", "{v}");
        }
        emu.assert_nothing_left(&svc).await;
    }
}

/// `--poll` creates nothing (no queue, rule or target: the minimal policy's promise) and still reaches
/// the verdict from the API alone.
#[tokio::test]
async fn poll_creates_no_subscription_and_judges_from_the_api() {
    let emu = emu!("e2e_poll");
    let svc = emu.service("e2e-poll").await;
    let key = format!("{}GATE", emu.key);
    let gate = watch(emu.spawn_gate_as(&key, &["--cluster", &svc.cluster, "--service", "api", "--poll"]));
    until_call(&emu, &key, "ecs.DescribeServices", 0, WITHIN).await;
    emu.ctl("/_ecsgate/deployment", json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED", "reason": "completed"}));
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    let calls = emu.log(&key);
    assert!(!calls.iter().any(|c| c.starts_with("sqs.") || c.starts_with("events.")), "{calls:?}");
    assert!(calls.iter().filter(|c| *c == "ecs.DescribeServices").count() >= 2, "polled: {calls:?}");
}

/// The queue admits messages from our rule only: its policy allows sqs:SendMessage to EventBridge on
/// condition that aws:SourceArn is the rule ecsgate created (README "Permissions"), nothing wider.
#[tokio::test]
async fn the_queue_policy_admits_only_our_rule() {
    use aws_sdk_sqs::types::QueueAttributeName;
    let emu = emu!("e2e_policy");
    let svc = emu.service("e2e-policy").await;
    let child = emu.start_wait(&svc, &[]).await;
    let rule = emu.wait_for_rule(&svc).await;
    let rule_arn = emu.events().describe_rule().name(&rule).send().await.unwrap().arn().unwrap().to_string();
    let queues = emu.queues_for(&svc).await;
    assert_eq!(queues.len(), 1, "{queues:?}");
    let attrs = emu
        .sqs()
        .get_queue_attributes()
        .queue_url(&queues[0])
        .attribute_names(QueueAttributeName::Policy)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    let policy: serde_json::Value = serde_json::from_str(&attrs[&QueueAttributeName::Policy]).unwrap();
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 1, "{policy}");
    let st = &statements[0];
    assert_eq!(st["Effect"], "Allow", "{policy}");
    assert_eq!(st["Principal"], json!({"Service": "events.amazonaws.com"}), "{policy}");
    assert_eq!(st["Action"], "sqs:SendMessage", "{policy}");
    assert_eq!(st["Resource"], attrs[&QueueAttributeName::QueueArn].as_str(), "{policy}");
    assert_eq!(st["Condition"], json!({"ArnEquals": {"aws:SourceArn": rule_arn}}), "{policy}");
    signal(&child, "INT");
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 130, "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn notify_posts_slack_and_json_and_a_hanging_hook_is_only_a_warning() {
    let emu = emu!("e2e_notify");
    let svc = emu.service("e2e-notify").await;
    let (slack, slack_bodies) = common::emulator::http_sink(false);
    let (plain, plain_bodies) = common::emulator::http_sink(false);
    let (hang, _) = common::emulator::http_sink(true);
    let slack_url = format!("{slack}/services/T000/B000/secret");
    let child = emu
        .start_wait(
            &svc,
            &["--notify", &slack_url, "--notify", &format!("{plain}/hook"), "--notify", &format!("{hang}/hook")],
        )
        .await;
    emu.deployment_event(
        &svc,
        "SERVICE_DEPLOYMENT_FAILED",
        &svc.deployment,
        "ECS deployment circuit breaker: tasks failed to start.",
    )
    .await;
    let started = std::time::Instant::now();
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "a notification never changes the exit code: {}", d.stderr);
    assert!(started.elapsed() < Duration::from_secs(20), "bounded: {:?}", started.elapsed());
    assert!(d.stderr.contains("warning: notification to http://127.0.0.1"), "{}", d.stderr);
    assert!(!d.stderr.contains("secret"), "the webhook URL is a secret: {}", d.stderr);
    let slack: serde_json::Value = serde_json::from_str(&slack_bodies.lock().unwrap()[0]).unwrap();
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert!(slack["text"].as_str().unwrap().contains("ecsgate: api failed"), "{slack}");
    let text = slack.to_string();
    assert!(text.contains("ECS deployment circuit breaker: tasks failed to start."), "{text}");
    let plain: serde_json::Value = serde_json::from_str(&plain_bodies.lock().unwrap()[0]).unwrap();
    assert_eq!((plain["type"].as_str(), plain["outcome"].as_str()), (Some("verdict"), Some("failed")));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn an_elb_health_check_failure_names_the_reason_code_and_the_check() {
    let emu = emu!("e2e_elbhealth");
    let svc = emu.service("e2e-elbhealth").await;
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
async fn deploy_of_a_rendered_task_definition_file_registers_it_as_written() {
    let emu = emu!("e2e_deployfile");
    let svc = emu.service("e2e-deployfile").await;
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
    let emu = emu!("e2e_stopsd");
    let svc = emu.service("e2e-stopsd").await;
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

// ------------------------------------------------------------------ modern deployments: lifecycle hooks

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
    let emu = emu!("e2e_hookpause");
    let svc = emu.service("e2e-hookpause").await;
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
    let emu = emu!("e2e_hookfail");
    let svc = emu.service("e2e-hookfail").await;
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
    let emu = emu!("e2e_sdrollback");
    let svc = emu.service("e2e-sdrollback").await;
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

#[tokio::test]
async fn until_drained_waits_for_the_old_tasks_after_completion() {
    let emu = emu!("e2e_drained");
    let svc = emu.service("e2e-drained").await;
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

// ---------------------------------------------------------------- modern deployments (issue 10)

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
    let emu = emu!("e2e_bluegreen");
    let svc = emu.service("e2e-bluegreen").await;
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
    // A 60-minute bake cannot finish within the default 30m: said before the wait begins.
    assert!(
        d.stderr.contains("BLUE_GREEN waits at least 60m by its configuration") && d.stderr.contains("--timeout 30m"),
        "{}",
        d.stderr
    );
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_failed_lambda_hook_fails_the_gate_naming_the_function_and_its_log_lines() {
    let emu = emu!("e2e_lambdahook");
    let svc = emu.service("e2e-lambdahook").await;
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
    let emu = emu!("e2e_continue");
    let svc = emu.service("e2e-continue").await;
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
    let wrong = ecs.continue_service_deployment().service_deployment_arn(&sd).hook_id("ecs-pause-nope").send().await;
    assert!(wrong.is_err(), "only a hook awaiting action can be continued");
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
    let emu = emu!("e2e_alarm");
    let svc = emu.service("e2e-alarm").await;
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
    let emu = emu!("e2e_linear");
    let svc = emu.service("e2e-linear").await;
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
    let emu = emu!("e2e_nohistory");
    let svc = emu.service("e2e-nohistory").await;
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
    let emu = emu!("e2e_listsd");
    let svc = emu.service("e2e-listsd").await;
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
    let emu = emu!("e2e_egcontinue");
    let svc = emu.service("e2e-egcontinue").await;
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
