//! What the live gate *tells*, end to end on the emulator: hostile text from ECS, CloudWatch and a
//! webhook never becomes a runner command or an escape sequence in any output, and a webhook's secrets
//! (path, query, userinfo) are never printed — whatever the webhook answers (issue 15).

mod common;

use std::time::Duration;

use common::emulator::*;

const LIMIT: Duration = Duration::from_secs(60);

/// Each would be a GitHub runner command (`::…` at the start of a trimmed line, `##[` anywhere) or a
/// terminal escape if printed as received.
const HOSTILE: &str = "::error file=a,line=1::forged ##[stop-commands]forged \x1b[31mred\n::warning::forged again";

/// Every line a runner would read: nothing from foreign text may be a command.
fn assert_no_forged_command(label: &str, text: &str) {
    for line in text.lines() {
        let t = line.trim_start();
        let ours = t.starts_with("::error title=ecsgate") || t.starts_with("::warning title=ecsgate");
        assert!(!t.starts_with("::") || ours, "{label}: a runner command from foreign text: {line:?}");
        assert!(!line.contains("##["), "{label}: ##[ survived: {line:?}");
        assert!(!line.contains('\x1b'), "{label}: an escape sequence survived: {line:?}");
    }
}

#[tokio::test]
async fn hostile_ecs_and_log_text_through_the_live_gate_never_forges_a_command() {
    let Some(emu) = emulator("e2e_hostile").await else { return };
    let svc = emu.service("e2e-hostile").await;
    let dir = std::env::temp_dir().join(format!("ecsgate-e2e-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (summary, output) = (dir.join("summary.md"), dir.join("output"));
    let group = "/ecs/e2e-hostile";
    let mut cmd = emu.wait_command(&svc, &[]);
    cmd.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary).env("GITHUB_OUTPUT", &output);
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&svc).await;
    for _ in 0..3 {
        let reason = format!("Essential container in task exited {HOSTILE}");
        let arn = emu.stopped_task(&svc, &svc.deployment, "EssentialContainerExited", &reason, Some(1), Some(HOSTILE));
        let id = arn.rsplit('/').next().unwrap().to_string();
        emu.log_lines(group, &format!("ecs/app/{id}"), &[HOSTILE, "##[group]forged", "  ::add-mask::forged"]).await;
        emu.task_event(
            &svc,
            &arn,
            &svc.deployment,
            "STOPPED",
            5,
            Some(("EssentialContainerExited", &reason, Some(1), Some(HOSTILE))),
        )
        .await;
    }
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    // The hostile text is shown (made safe), so the test cannot pass by dropping it.
    assert!(d.stdout.contains("forged"), "{}", d.stdout);
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    let output = std::fs::read_to_string(&output).unwrap_or_default();
    assert!(summary.contains("forged"), "{summary}");
    for (label, text) in [("stdout", &d.stdout), ("stderr", &d.stderr), ("summary", &summary), ("outputs", &output)] {
        assert_no_forged_command(label, text);
    }
    assert_eq!(d.stdout.lines().filter(|l| l.starts_with("::error title=ecsgate")).count(), 1, "{}", d.stdout);
    std::fs::remove_dir_all(&dir).ok();
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_webhook_secret_is_never_printed_and_userinfo_is_sent_as_basic_auth() {
    let Some(emu) = emulator("e2e_secrets").await else { return };
    let svc = emu.service("e2e-secrets").await;
    // A relay that refuses with an answer echoing the secret path, and one that redirects.
    // The refusal echoes the request line, as a misconfigured relay does.
    let (refusing, refusing_heads) =
        http_server(|r| Some(("500 Internal Server Error", String::new(), format!("no route for {}", r.line))));
    let (redirecting, _) = http_server(|_| {
        Some(("302 Found", "location: https://elsewhere.example/services/T0/B0/movedsecret\r\n".into(), String::new()))
    });
    let host = refusing.trim_start_matches("http://");
    let with_userinfo =
        format!("http://hookuser:hookPASSWORD@{host}/services/T0AAA/B0BBB/pathsecret?token=querysecret");
    let child = emu.start_wait(&svc, &["--notify", &with_userinfo, "--notify", &format!("{redirecting}/hook")]).await;
    emu.breaker_failed(&svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "a notification never changes the exit code: {}", d.stderr);
    let all = format!("{}\n{}", d.stdout, d.stderr);
    for secret in ["hookPASSWORD", "hookuser", "pathsecret", "querysecret", "T0AAA", "movedsecret"] {
        assert!(!all.contains(secret), "{secret} printed:\n{all}");
    }
    assert!(d.stderr.contains(&format!("notification to http://{host}/… failed: HTTP 500")), "{}", d.stderr);
    assert!(d.stderr.contains("redirect (HTTP 302) to https://elsewhere.example/… not followed"), "{}", d.stderr);
    // Sent as Basic auth (twice: the refused attempt is retried once), never in the request line.
    let heads: Vec<Request> = refusing_heads.lock().unwrap().clone();
    assert!(!heads.is_empty());
    for h in &heads {
        // base64("hookuser:hookPASSWORD")
        assert_eq!(h.header("authorization"), Some("Basic aG9va3VzZXI6aG9va1BBU1NXT1JE"), "{h:?}");
        assert!(!h.line.contains("hookPASSWORD"), "{h:?}");
    }
    emu.assert_nothing_left(&svc).await;
}

#[test]
fn help_and_completions_never_show_a_webhook_url_from_the_environment() {
    let secret = "https://hooks.slack.com/services/T0HELP/B0HELP/helpsecret";
    let mut outputs = Vec::new();
    for args in [
        vec!["wait", "--help"],
        vec!["deploy", "--help"],
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["man"],
    ] {
        let out = common::command().args(&args).env("ECSGATE_NOTIFY", secret).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!text.is_empty(), "{args:?} printed nothing");
        outputs.push((args, text));
    }
    for (args, text) in outputs {
        for part in ["helpsecret", "T0HELP"] {
            assert!(!text.contains(part), "{args:?} shows {part}");
        }
    }
}

#[tokio::test]
async fn hostile_alarm_and_rollback_reasons_through_the_live_gate_never_forge_a_command() {
    let Some(emu) = emulator("e2e_hostile_alarm").await else { return };
    let svc = emu.service("e2e-hostile-alarm").await;
    emu.alarm("e2e-hostile-5xx", "ALARM", &format!("Threshold Crossed: {HOSTILE}"));
    emu.service_config(
        &svc,
        serde_json::json!({"strategy": "CANARY", "bakeTimeInMinutes": 10,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
        "alarms": {"alarmNames": ["e2e-hostile-5xx"], "enable": true, "rollback": true}}),
    );
    let sd = format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/{}/api/hostileAlarm000001", svc.cluster);
    emu.service_deployment(
        &svc,
        &sd,
        serde_json::json!({"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT"}),
        None,
    );
    let dir = std::env::temp_dir().join(format!("ecsgate-e2e-hostile-alarm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let summary = dir.join("summary.md");
    let mut cmd = emu.wait_command(&svc, &["--timeout", "2h"]);
    cmd.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary).env_remove("GITHUB_OUTPUT");
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&svc).await;
    emu.service_deployment(
        &svc,
        &sd,
        serde_json::json!({"status": "ROLLBACK_IN_PROGRESS", "lifecycleStage": "BAKE_TIME",
               "statusReason": format!("Service deployment rolled back because alarm(s) detected. {HOSTILE}"),
               "alarms": {"status": "TRIGGERED", "alarmNames": ["e2e-hostile-5xx"], "triggeredAlarmNames": ["e2e-hostile-5xx"]}}),
        None,
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("alarm:    e2e-hostile-5xx ALARM: Threshold Crossed:"), "{}", d.stdout);
    assert!(d.stdout.contains("forged"), "{}", d.stdout);
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    for (label, text) in [("stdout", &d.stdout), ("stderr", &d.stderr), ("summary", &summary)] {
        assert_no_forged_command(label, text);
    }
    std::fs::remove_dir_all(&dir).ok();
    emu.assert_nothing_left(&svc).await;
}

/// A stand-in for the GitHub API (and an OTLP collector: it answers 2xx): a deployment's creation
/// gets id 42, a status 201.
fn github_api() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Request>>>) {
    http_server(|r| {
        let body = if r.line.contains("/statuses") { r#"{"id":7}"# } else { r#"{"id":42}"# };
        Some(("201 Created", "content-type: application/json\r\n".into(), body.into()))
    })
}

#[tokio::test]
async fn the_gate_is_recorded_as_a_github_deployment_of_the_commit() {
    let Some(emu) = emulator("e2e_ghdeploy").await else { return };
    let svc = emu.service("e2e-ghdeploy").await;
    let (api, seen) = github_api();
    let mut cmd = emu.wait_command(&svc, &["--github-deployment", "production"]);
    cmd.env("GITHUB_API_URL", &api)
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_SHA", "0123abcd")
        .env("GITHUB_TOKEN", "ghs_secrettoken")
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_RUN_ID", "99")
        .env_remove("ECSGATE_GITHUB_DEPLOYMENT_ID");
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&svc).await;
    emu.breaker_failed(&svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let seen = seen.lock().unwrap().clone();
    let lines: Vec<&str> = seen.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "POST /repos/acme/shop/deployments HTTP/1.1",
            "POST /repos/acme/shop/deployments/42/statuses HTTP/1.1",
            "POST /repos/acme/shop/deployments/42/statuses HTTP/1.1"
        ],
        "{}",
        d.stderr
    );
    assert!(seen.iter().all(|r| r.header("authorization") == Some("Bearer ghs_secrettoken")));
    let create: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!((create["ref"].as_str(), create["environment"].as_str()), (Some("0123abcd"), Some("production")));
    let first: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(first["state"], "in_progress");
    let last: serde_json::Value = serde_json::from_str(&seen[2].body).unwrap();
    assert_eq!(last["state"], "failure");
    assert_eq!(last["description"], "ECS deployment circuit breaker: tasks failed to start.");
    assert_eq!(last["log_url"], "https://github.example/acme/shop/actions/runs/99");
    assert!(!d.stdout.contains("ghs_secrettoken") && !d.stderr.contains("ghs_secrettoken"));
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn the_live_gate_exports_one_trace_parented_on_the_ci() {
    let Some(emu) = emulator("e2e_otlp").await else { return };
    let svc = emu.service("e2e-otlp").await;
    // The stand-in records bodies and answers 2xx: a collector as far as ecsgate can tell.
    let (collector, seen) = github_api();
    let mut cmd = emu.wait_command(&svc, &[]);
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
        .env("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let child = cmd.spawn().unwrap();
    emu.wait_for_rule(&svc).await;
    emu.breaker_failed(&svc).await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{}", d.stderr);
    assert_eq!(seen[0].line, "POST /v1/traces HTTP/1.1");
    let doc: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    let spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap();
    assert_eq!(spans[0]["parentSpanId"], "00f067aa0ba902b7");
    let dep = spans.iter().find(|s| s["name"] == format!("deployment {}", svc.name)).unwrap();
    assert_eq!(dep["status"]["code"], 2);
    assert!(d.stderr.contains("ecsgate: exported the trace to http://127.0.0.1:"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}
