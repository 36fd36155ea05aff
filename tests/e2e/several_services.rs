//! One gate over several services, across clusters, and --fail-fast.

use super::*;

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
    // stdout stays JSON Lines: the annotation goes to stderr, which the runner reads too.
    assert!(
        d.stderr.contains("::error title=ecsgate%3A deployment") && d.stderr.contains("of worker failed"),
        "{}",
        d.stderr
    );
    assert!(d.stdout.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{}", d.stdout);
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
