//! Gates that outlive their CI job: `--detach-at` ends the wait with exit 6 and a handle; `ecsgate status`
//! reads the verdict so far; `ecsgate resume` waits for the rest in another process.

use super::*;

fn sd_arn(cluster: &str, id: &str) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/{cluster}/api/{id}")
}

/// `ecsgate` with the emulator's environment and test-speed periods where the command takes them.
fn run(emu: &Emu, args: &[&str]) -> std::process::Command {
    let mut cmd = common::command();
    cmd.args(args);
    emu.env(&mut cmd);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).stdin(std::process::Stdio::null());
    cmd
}

#[tokio::test]
async fn detached_at_traffic_shifted_then_status_then_resumed_in_another_process_to_success() {
    let (emu, svc) = scenario!("e2e_detach");
    emu.service_config(
        &svc,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 60,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}}),
    );
    let sd = sd_arn(&svc.cluster, "detachShifted0000001");
    let stage = |stage: &str| json!({"status": "IN_PROGRESS", "lifecycleStage": stage, "deploymentConfiguration": {"strategy": "CANARY"}});
    emu.service_deployment(&svc, &sd, stage("PRODUCTION_TRAFFIC_SHIFT"), None);
    let handle = std::env::temp_dir().join(format!("ecsgate-handle-{}.json", std::process::id()));
    let h = handle.to_str().unwrap();
    let gate = watch(emu.start_wait(&svc, &["--detach-at", "traffic-shifted", "--handle", h]).await);
    emu.service_deployment(&svc, &sd, stage("BAKE_TIME"), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 6, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: DETACHED"), "{}", d.stdout);
    assert!(d.stdout.contains("detached once production traffic was on deployment"), "{}", d.stdout);
    assert!(d.stdout.contains(&format!("ecsgate resume {h}")), "{}", d.stdout);
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&handle).unwrap()).unwrap();
    assert_eq!(written["services"][0]["deployment_id"], svc.deployment, "{written}");
    emu.assert_nothing_left(&svc).await;

    // The verdict so far, in one read: still baking → 6, and nothing created.
    let out = run(&emu, &["status", h]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{said}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("still in progress"), "{said}");
    emu.assert_nothing_left(&svc).await;

    // A later job picks the gate up and sees the bake end.
    let mut resume =
        run(&emu, &["resume", h, "--reconcile-interval", "1s", "--poll-interval", "500ms", "--wait-seconds", "2"]);
    let gate = watch(resume.spawn().unwrap());
    emu.wait_for_rule(&svc).await;
    emu.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"}), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stdout.contains(&format!("verdict: SUCCEEDED  deployment {} of service api", svc.deployment)),
        "{}",
        d.stdout
    );
    emu.assert_nothing_left(&svc).await;
    let out = run(&emu, &["status", h]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    std::fs::remove_file(&handle).ok();
}

#[tokio::test]
async fn detach_after_a_duration_exits_6_before_the_timeout_and_a_bad_handle_is_a_usage_error() {
    let (emu, svc) = scenario!("e2e_detach_after");
    let handle = std::env::temp_dir().join(format!("ecsgate-handle-after-{}.json", std::process::id()));
    let h = handle.to_str().unwrap();
    let child = emu.start_wait(&svc, &["--detach-at", "2s", "--handle", h]).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 6, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("detached after 2s; the deployment goes on"), "{}", d.stdout);
    assert!(handle.exists());
    emu.assert_nothing_left(&svc).await;
    std::fs::write(&handle, "{}").unwrap();
    let out = run(&emu, &["resume", h]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an ecsgate handle"));
    std::fs::remove_file(&handle).ok();
}
