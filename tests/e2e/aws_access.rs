//! What AWS lets the gate do: falling back to polling, API errors, missing permissions and credentials, the subscription it creates.

use super::*;

#[tokio::test]
async fn queue_deleted_mid_wait_falls_back_to_polling() {
    let (emu, svc) = scenario!("e2e_queuegone");
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
    let (emu, svc) = scenario!("e2e_flaky");
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
    emu.breaker_failed(&svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn api_failing_past_the_budget_exits_5_with_nothing_left() {
    let (emu, svc) = scenario!("e2e_apidown");
    let child = emu.start_wait(&svc, &["--api-error-budget", "2s"]).await;
    emu.fault(json!({"service": "ecs", "code": "InternalError", "status": 500, "seconds": 120}));
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 5, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("kept failing"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn access_denied_on_setup_falls_back_to_polling() {
    let (emu, svc) = scenario!("e2e_denied");
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
    // ECS started rolling back when the gate decided; the gate does not wait for ECS's rollback.
    assert!(d.stdout.contains(&format!("rollback: ECS is rolling back to {}", svc.old_deployment)), "{}", d.stdout);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_full_default_event_bus_falls_back_to_polling_with_the_reason_and_leaves_nothing() {
    // Issue 18 item 5: the bus's rule quota is shared by the whole account; a full bus must not end the
    // gate, and the queue created beside the refused rule must not stay behind.
    let (emu, svc) = scenario!("e2e_fullbus");
    emu.fault(json!({"service": "events", "action": "PutRule", "code": "LimitExceededException", "status": 400,
                     "message": "The requested resource exceeds the maximum number allowed.", "seconds": 120}));
    let gate = watch(emu.spawn_wait(&svc, &[]));
    gate.until("falling back to polling", WITHIN).await;
    emu.ctl(
        "/_ecsgate/deployment",
        json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED"}),
    );
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("the default event bus holds its maximum number of rules"), "{}", d.stderr);
    assert!(d.stderr.contains("events:PutRule"), "{}", d.stderr);
    assert!(d.stderr.contains("ecsgate gc"), "{}", d.stderr);
    assert!(d.stdout.contains("SUCCEEDED"), "{}", d.stdout);
    assert!(emu.calls()["events.PutRule"].as_u64().unwrap_or(0) >= 1, "the fault was hit: {}", emu.calls());
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn throttled_rule_calls_are_retried_and_the_gate_goes_on() {
    // Issue 18 item 5: the rule calls share 50 calls/s per account; five throttled PutRule in a row
    // (past the SDK's default three attempts) must not end the gate.
    let (emu, svc) = scenario!("e2e_throttled");
    emu.fault(
        json!({"service": "events", "action": "PutRule", "code": "ThrottlingException", "status": 400, "count": 5}),
    );
    let gate = watch(emu.start_wait(&svc, &[]).await);
    emu.ctl(
        "/_ecsgate/deployment",
        json!({"cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "rollout_state": "COMPLETED"}),
    );
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(!d.stderr.contains("polling"), "the queue was used: {}", d.stderr);
    assert_eq!(emu.calls()["events.PutRule"], 6, "five throttled, the sixth went through: {}", emu.calls());
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn access_denied_on_an_ecs_read_exits_5_naming_the_permission() {
    let (emu, svc) = scenario!("e2e_ecsdenied");
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
async fn an_explicit_profile_beats_keys_in_the_environment_and_an_unknown_one_is_named() {
    let (emu, svc) = scenario!("e2e_profile");
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

/// `--poll` creates nothing (no queue, rule or target: the minimal policy's promise) and still reaches
/// the verdict from the API alone.
#[tokio::test]
async fn poll_creates_no_subscription_and_judges_from_the_api() {
    let (emu, svc) = scenario!("e2e_poll");
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
    let (emu, svc) = scenario!("e2e_policy");
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

/// `ecsgate doctor` against the emulator, signing with the scenario's key; (exit code, stdout, stderr).
fn doctor(emu: &Emu, svc: &Svc, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = common::command();
    cmd.args(["doctor", "--cluster", &svc.cluster, "--service", &svc.name]).args(extra);
    emu.env(&mut cmd);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// What a doctor probe may never leave: a rule or queue of its own name.
async fn assert_no_probe_left(emu: &Emu) {
    let rules = emu.events().list_rules().name_prefix("ecsgate-doctor").send().await.unwrap();
    assert!(rules.rules().is_empty(), "{:?}", rules.rules());
    let queues = emu.sqs().list_queues().queue_name_prefix("ecsgate-doctor").send().await.unwrap();
    assert!(queues.queue_urls().is_empty(), "{:?}", queues.queue_urls());
}

#[tokio::test]
async fn doctor_passes_a_role_with_every_permission_and_creates_nothing() {
    let (emu, svc) = scenario!("e2e_doctor_ok");
    let (code, out, err) = doctor(&emu, &svc, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    for line in [
        "ok    ecs:ListTasks",
        "ok    ecs:DescribeServices",
        "ok    ecs:DescribeTaskDefinition",
        "ok    events:PutRule",
        "ok    events:PutTargets",
        "ok    sqs:CreateQueue",
    ] {
        assert!(out.contains(line), "{line} missing:\n{out}");
    }
    assert!(out.contains("ok    clock "), "{out}");
    assert!(out.contains("rules of 300 by default"), "{out}");
    assert!(out.contains(" 0 failed"), "{out}");
    // The probes reached AWS (they are not skipped), and left nothing.
    let calls = emu.calls();
    for c in ["events.PutRule", "events.PutTargets", "sqs.CreateQueue", "events.ListRules"] {
        assert!(calls[c].as_u64().unwrap_or(0) >= 1, "{c}: {calls}");
    }
    assert_no_probe_left(&emu).await;
    // A service the gates could not find is a failed check, not a pass.
    let mut cmd = common::command();
    cmd.args(["doctor", "--cluster", &svc.cluster, "--service", "nosuch"]);
    emu.env(&mut cmd);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("FAIL  ecs:DescribeServices: service nosuch not found in cluster {}", svc.cluster)),
        "{stdout}"
    );
}

#[tokio::test]
async fn doctor_on_a_role_lacking_one_permission_names_it_and_exits_1() {
    let (emu, svc) = scenario!("e2e_doctor_denied");
    emu.fault(json!({"service": "events", "action": "PutTargets", "code": "AccessDeniedException", "status": 400, "seconds": 120}));
    let (code, out, err) = doctor(&emu, &svc, &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("FAIL  events:PutTargets not granted"), "{out}");
    assert!(out.contains("ok    events:PutRule"), "only the missing one fails:\n{out}");
    assert!(out.contains(", 1 failed"), "{out}");
    // --poll needs neither: the same role passes for polling.
    let (code, out, _) = doctor(&emu, &svc, &["--poll"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("events:PutTargets"), "{out}");
    assert_no_probe_left(&emu).await;
}
