//! Signals, timeouts and a hung API: the gate always exits with the documented code and cleans up.

use super::*;

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
async fn a_hung_api_cannot_hold_back_the_timeout() {
    let (emu, svc) = scenario!("e2e_hungtimeout");
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
    let (emu, svc) = scenario!("e2e_hungteardown");
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
async fn a_panic_inside_the_wait_still_tears_down() {
    let (emu, svc) = scenario!("e2e_panic");
    let mut cmd = common::command();
    cmd.args(["wait", "--cluster", "e2e-panic", "--service", "api", "--wait-seconds", "2", "--timeout", "40s"]);
    emu.env(&mut cmd);
    cmd.env("ECSGATE_TEST_PANIC_ON_MESSAGE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let gate = watch(cmd.spawn().unwrap());
    // wait_for_rule returns once the rule has its target: the one event is delivered, and it panics.
    // (Sending more would race the teardown: PutEvents fails once the queue is gone.)
    emu.wait_for_rule(&svc).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "in progress").await;
    gate.until("ecsgate panicked", WITHIN).await;
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 5, "{}", d.stderr);
    assert!(d.stderr.contains("error: ecsgate panicked while waiting"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_third_signal_during_a_stuck_teardown_exits_at_once_naming_what_is_left() {
    let (emu, svc) = scenario!("e2e_thirdsig");
    let gate_key = format!("{}GATE", emu.key);
    let child = emu.spawn_gate_as(&gate_key, &["--cluster", "e2e-thirdsig", "--service", "api"]);
    emu.wait_for_rule(&svc).await;
    for (service, action) in [("events", "RemoveTargets"), ("events", "DeleteRule"), ("sqs", "DeleteQueue")] {
        emu.ctl(
            "/_ecsgate/fault",
            json!({"key": gate_key, "service": service, "action": action, "hang": 25, "code": "InternalError", "status": 500, "seconds": 60}),
        );
    }
    // Each signal is sent once the gate shows it acted on the one before: the teardown's first
    // RemoveTargets (stuck), then the hurried teardown's own attempt.
    let removes = emu.log(&gate_key).iter().filter(|c| c.as_str() == "events.RemoveTargets").count();
    signal(&child, "TERM");
    until_call(&emu, &gate_key, "events.RemoveTargets", removes, WITHIN).await;
    signal(&child, "TERM");
    until_call(&emu, &gate_key, "events.RemoveTargets", removes + 1, WITHIN).await;
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
