//! `ecsgate replay` end to end: the real binary, real-shaped events, asserted on exit codes and on what
//! the user sees.

mod common;

use common::*;
use serde_json::{Value, json};

const NEW: &str = "ecs-svc/2757582648257641111";
const OLD: &str = "ecs-svc/4231880795355584839";
const RB: &str = "ecs-svc/8646900195280463695";

fn replay(input: &str, extra: &[&str]) -> Run {
    let mut args = vec!["replay", "-"];
    args.extend_from_slice(extra);
    ecsgate(&args, Some(input), &[])
}

fn in_progress() -> Value {
    deployment_event(
        &IDS,
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        NEW,
        &format!("ECS deployment {NEW} in progress."),
        "2025-02-13T14:00:00.100Z",
    )
}

fn stopped(sample: &str, id: &str, mutate: impl Fn(&mut Value)) -> Value {
    let mut v = task_event(&IDS, sample, id, NEW, 7);
    mutate(&mut v);
    v
}

#[test]
fn bundled_success_example_exits_0() {
    let r = ecsgate(&["replay", concat!(env!("CARGO_MANIFEST_DIR"), "/examples/success.jsonl")], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("verdict: SUCCEEDED  deployment ecs-svc/2757582648257641111 of service api (cluster shop)")
    );
    assert!(r.stdout.contains("Scaling activity initiated by"), "old tasks' stops are on the timeline");
    assert!(r.stdout.contains("— benign"));
}

#[test]
fn bundled_lambda_hook_example_fails_naming_the_function_and_its_logs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/blue-green-lambda-hook-failed.jsonl");
    let r = ecsgate(&["replay", path], None, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for want in [
        "service deployment IN_PROGRESS BLUE_GREEN TEST_TRAFFIC_SHIFT",
        "culprit:  lifecycle hook AWS_LAMBDA e2e-smoke-test (ecs-lambda-9f8e7d) FAILED at POST_TEST_TRAFFIC_SHIFT",
        "    | smoke test: GET http://test-listener/health -> 503",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?}\n{}", r.stdout);
    }
    let j = ecsgate(&["replay", path, "--output", "json"], None, &[]).last_json();
    assert_eq!(j["hook"]["target_arn"], "arn:aws:lambda:us-east-1:123456789012:function:e2e-smoke-test");
    assert_eq!(j["hook"]["log_tail"]["log_group"], "/aws/lambda/e2e-smoke-test");
}

#[test]
fn bundled_pause_hook_example_announces_the_pause_then_succeeds() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/blue-green-pause-hook.jsonl");
    let r = ecsgate(&["replay", path], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("ACTION NEEDED before 2026-12-03T18:00:00Z").count(), 1, "{}", r.stdout);
    assert!(r.stdout.contains("(ours) SUCCEEDED at POST_TEST_TRAFFIC_SHIFT"), "{}", r.stdout);
    assert!(r.stdout.contains("completed (service deployment SUCCESSFUL)"), "{}", r.stdout);
}

#[test]
fn breaker_failure_with_rollback_exits_1_and_names_the_rollback() {
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}.");
    let events = [
        in_progress(),
        deployment_event(
            &IDS,
            "SERVICE_DEPLOYMENT_FAILED",
            NEW,
            "ECS deployment circuit breaker: tasks failed to start.",
            "2025-02-13T14:05:00Z",
        ),
        deployment_event(&IDS, "SERVICE_DEPLOYMENT_IN_PROGRESS", RB, &reason, "2025-02-13T14:05:01Z"),
        deployment_event(&IDS, "SERVICE_DEPLOYMENT_COMPLETED", RB, "ECS deployment completed.", "2025-02-13T14:07:00Z"),
    ];
    let r = replay(&jsonl(&events), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("verdict: FAILED"));
    assert!(r.stdout.contains("reason:   ECS deployment circuit breaker: tasks failed to start."));
    // The verdict itself says how the rollback ended, with the rollback's own deployment (not an echo of
    // the input event: the timeline line alone would pass without it).
    assert!(
        r.stdout.contains(&format!(
            "rollback: ECS rolled back to {OLD} (rollback deployment {RB}); the rollback completed"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("deployment {RB} (ECS's rollback) COMPLETED")), "{}", r.stdout);
}

#[test]
fn bundled_breaker_example_blames_oom() {
    let r = ecsgate(
        &["replay", concat!(env!("CARGO_MANIFEST_DIR"), "/examples/breaker-rollback.jsonl"), "--output", "json"],
        None,
        &[],
    );
    assert_eq!(r.code, 1);
    let v = r.last_json();
    assert_eq!(v["type"], "verdict");
    assert_eq!(v["outcome"], "failed");
    assert_eq!(v["culprit"]["container"], "forms-perf-test");
    assert_eq!(v["culprit"]["reason"], "OutOfMemoryError: Container killed due to memory usage");
    assert_eq!(v["rollback_to"], OLD);
    // Every line before the verdict is a timeline object.
    for line in r.stdout.lines().rev().skip(1) {
        let n: Value = serde_json::from_str(line).unwrap();
        assert!(
            ["deployment", "task", "warning", "service", "counts", "decision"].contains(&n["type"].as_str().unwrap())
        );
    }
}

#[test]
fn crash_loop_without_breaker_fails_on_the_own_threshold() {
    let r =
        ecsgate(&["replay", concat!(env!("CARGO_MANIFEST_DIR"), "/examples/crash-loop-no-breaker.jsonl")], None, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("reason:   3 tasks of deployment ecs-svc/2757582648257641111 failed (threshold 3)"));
    assert!(r.stdout.contains("culprit:  container forms-perf-test-timeout, exit code 1"), "{}", r.stdout);
    assert!(r.stdout.contains("hint:     forms-perf-test-timeout exited 1"));
}

#[test]
fn max_task_failures_flag_moves_the_threshold() {
    let events: Vec<Value> = std::iter::once(in_progress())
        .chain((0..3).map(|i| stopped("task__stopped-essential-exit1-defra.json", &format!("t{i}"), |_| {})))
        .collect();
    let r = replay(&jsonl(&events), &["--max-task-failures", "4"]);
    assert_eq!(r.code, 3, "3 failures under a threshold of 4 is no verdict");
    assert!(r.stdout.contains("TIMED OUT"));
    assert!(r.stdout.contains("the event stream ended with no verdict"));
}

#[test]
fn oom_failure_shows_container_reason_and_memory_hint() {
    let events: Vec<Value> = std::iter::once(in_progress())
        .chain((0..3).map(|i| stopped("task__stopped-essential-oom-reason-exit1-defra.json", &format!("t{i}"), |_| {})))
        .collect();
    let r = replay(&jsonl(&events), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("OutOfMemoryError: Container killed due to memory usage"));
    assert!(r.stdout.contains("hint:     The container hit its hard memory limit"));
}

#[test]
fn image_pull_failure_gets_the_not_found_hint() {
    let pull = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v9: not found";
    let events: Vec<Value> = std::iter::once(in_progress())
        .chain((0..3).map(|i| {
            stopped("task__stopped-taskfailedtostart-resourceinit-secret-json-key-defra.json", &format!("t{i}"), |v| {
                v["detail"]["stoppedReason"] = json!(pull);
            })
        }))
        .collect();
    let r = replay(&jsonl(&events), &["--output", "json"]);
    assert_eq!(r.code, 1);
    let v = r.last_json();
    assert_eq!(v["failed_tasks"][0]["stop_code"], "TaskFailedToStart");
    assert!(v["hint"].as_str().unwrap().contains("image or tag does not exist"), "{}", v["hint"]);
    assert_eq!(v["culprit"]["exit_code"], Value::Null);
}

#[test]
fn secrets_failure_gets_the_json_key_hint() {
    let events: Vec<Value> = std::iter::once(in_progress())
        .chain((0..3).map(|i| {
            stopped("task__stopped-taskfailedtostart-resourceinit-secret-json-key-defra.json", &format!("t{i}"), |_| {})
        }))
        .collect();
    let r = replay(&jsonl(&events), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("3 × TaskFailedToStart: ResourceInitializationError"));
    assert!(r.stdout.contains("valueFrom"), "{}", r.stdout);
}

#[test]
fn elb_health_check_kills_fail_with_the_elb_hint() {
    let events: Vec<Value> =
        std::iter::once(in_progress())
            .chain((0..3).map(|i| {
                stopped("task__stopped-elb-healthcheck-scheduler-fargate-2022.json", &format!("t{i}"), |_| {})
            }))
            .collect();
    let r = replay(&jsonl(&events), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("Task failed ELB health checks in (target-group"));
    assert!(r.stdout.contains("health-check path and port"));
}

#[test]
fn benign_stops_and_other_deployments_do_not_fail_the_gate() {
    let mut events = vec![in_progress()];
    events.push(stopped("task__stopped-user-initiated-fargate-execcmd-2024.json", "u1", |_| {}));
    events.push(stopped("task__stopped-scaling-activity-scheduler-exit137-arkime-2023.json", "s1", |_| {}));
    for i in 0..4 {
        events.push(task_event(&IDS, "task__stopped-essential-exit1-defra.json", &format!("old{i}"), OLD, 7));
    }
    events.push(deployment_event(&IDS, "SERVICE_DEPLOYMENT_COMPLETED", NEW, "done", "2025-02-13T14:09:00Z"));
    let r = replay(&jsonl(&events), &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn no_verdict_exits_3_with_the_last_state() {
    let r = replay(&jsonl(&[in_progress()]), &[]);
    assert_eq!(r.code, 3);
    assert!(r.stdout.contains("verdict: TIMED OUT"));
    assert!(r.stdout.contains("last state:"));
}

#[test]
fn superseded_exits_4() {
    let events = [
        in_progress(),
        deployment_event(
            &IDS,
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            RB,
            "ECS deployment in progress.",
            "2025-02-13T14:03:00Z",
        ),
    ];
    let r = replay(&jsonl(&events), &["--deployment-id", NEW]);
    assert_eq!(r.code, 4);
    assert!(r.stdout.contains(&format!("reason:   superseded by deployment {RB}")), "{}", r.stdout);
    assert_eq!(r.stdout.matches(RB).count(), 2, "said once in the timeline and once in the verdict: {}", r.stdout);
}

#[test]
fn malformed_lines_and_foreign_events_are_skipped_and_counted_once() {
    let mut text = String::new();
    text.push_str(&in_progress().to_string());
    text.push_str("\n{not json at all\n");
    text.push_str(&fixture("container_instance__docs-agent-connected-active.json").to_string());
    text.push('\n');
    text.push_str(r#"{"source":"aws.s3","detail-type":"Object Created","detail":{}}"#);
    text.push('\n');
    text.push_str(
        &deployment_event(&IDS, "SERVICE_DEPLOYMENT_COMPLETED", NEW, "done", "2025-02-13T14:09:00Z").to_string(),
    );
    text.push('\n');
    let r = replay(&text, &[]);
    assert_eq!(r.code, 0, "verdict unaffected: {}", r.stdout);
    let warnings: Vec<_> = r.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings, ["warning: standard input: skipped 1 malformed and 2 non-ECS entries"]);
}

#[test]
fn unreadable_file_exits_2_with_one_line_naming_it() {
    let r = ecsgate(&["replay", "/nonexistent/events.jsonl"], None, &[]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: cannot read /nonexistent/events.jsonl"));
    assert!(r.stdout.is_empty());
}

#[test]
fn a_file_with_no_json_exits_2() {
    let dir = std::env::temp_dir().join(format!("ecsgate-nojson-{}", std::process::id()));
    std::fs::write(&dir, "hello\nthis is not json\n").unwrap();
    let r = ecsgate(&["replay", dir.to_str().unwrap()], None, &[]);
    std::fs::remove_file(&dir).ok();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no JSON found"), "{}", r.stderr);
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    // Valid input on stdin: only the flag can be what fails.
    let input = format!("{}\n", in_progress());
    let r = ecsgate(&["replay", "-", "--max-task-failures", "0"], Some(&input), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: invalid value '0' for '--max-task-failures"), "{}", r.stderr);
    let r = ecsgate(&["replay", "-", "--output", "yaml"], Some(&input), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: invalid value 'yaml' for '--output"), "{}", r.stderr);
    // The same input with good flags is not an error: the test above can fail only on the flag.
    assert_eq!(ecsgate(&["replay", "-"], Some(&input), &[]).code, 3);
}

#[test]
fn a_recording_of_a_newer_format_exits_2() {
    let line = r#"{"type":"start","version":99,"cluster":"shop","service":"api","deployment_id":"ecs-svc/1"}"#;
    let r = replay(&format!("{line}\n{}\n", in_progress()), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("recorded by a newer ecsgate (record format 99"), "{}", r.stderr);
}

#[test]
fn several_services_replay_to_a_verdict_each_with_the_same_service_forms_as_wait() {
    let rec = format!("{}/examples/three-services.jsonl", env!("CARGO_MANIFEST_DIR"));
    // worker alone: its own deployment, failed (it was judged against api's id, timed out, before).
    let r = ecsgate(&["replay", &rec, "--service", "worker", "--output", "json"], None, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.last_json();
    assert_eq!(
        (v["service"].as_str(), v["deployment_id"].as_str()),
        (Some("worker"), Some("ecs-svc/5550000000000000001"))
    );
    // Commas, cluster/name and ARNs, as wait takes them.
    for forms in [
        vec!["--service", "worker,cron"],
        vec!["--service", "shop/worker", "--service", "cron"],
        vec!["--service", "arn:aws:ecs:eu-west-2:123456789012:service/shop/worker,shop/cron"],
    ] {
        let mut args = vec!["replay", rec.as_str(), "--output", "json"];
        args.extend(forms.iter().copied());
        let r = ecsgate(&args, None, &[]);
        assert_eq!(r.code, 1, "{forms:?}: {}", r.stderr);
        let summary = r.last_json();
        assert_eq!(summary["type"], "summary", "{forms:?}");
        let names: Vec<&str> =
            summary["services"].as_array().unwrap().iter().map(|s| s["service"].as_str().unwrap()).collect();
        assert_eq!(names, ["worker", "cron"], "{forms:?}");
    }
    let r = ecsgate(&["replay", &rec, "--service", "shop/api"], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ecsgate(&["replay", &rec, "--service", "nosuch"], None, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("holds no service nosuch (it holds: api, worker, cron)"), "{}", r.stderr);
}

#[test]
fn plain_events_of_several_services_get_a_verdict_each() {
    // The bundled recording without its start line: plain EventBridge events, as an export has them.
    let rec = std::fs::read_to_string(format!("{}/examples/three-services.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let plain: String = rec.lines().filter(|l| !l.contains(r#""type":"start""#)).map(|l| format!("{l}\n")).collect();
    let r = replay(&plain, &["--output", "json"]);
    assert_eq!(r.code, 1, "worker failed: {}", r.stderr);
    let verdicts: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "verdict")
        .collect();
    let got: Vec<(&str, &str, &str)> = verdicts
        .iter()
        .map(|v| (v["service"].as_str().unwrap(), v["deployment_id"].as_str().unwrap(), v["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("api", "ecs-svc/2757582648257641111", "succeeded"),
            ("worker", "ecs-svc/5550000000000000001", "failed"),
            ("cron", "ecs-svc/7770000000000000002", "succeeded")
        ]
    );
    let r = replay(&plain, &["--service", "cron", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("deployment ecs-svc/7770000000000000002 of service cron"), "{}", r.stdout);
    let r = replay(&plain, &["--service", "nosuch"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("(it holds: api, worker, cron)"), "{}", r.stderr);
}

#[test]
fn json_array_and_cloudwatch_logs_exports_are_read() {
    let events =
        [in_progress(), deployment_event(&IDS, "SERVICE_DEPLOYMENT_COMPLETED", NEW, "done", "2025-02-13T14:09:00Z")];
    let array = serde_json::to_string_pretty(&json!(events)).unwrap();
    assert_eq!(replay(&array, &[]).code, 0);

    // `aws logs filter-log-events` output: the event is a string in `message`.
    let cw = json!({"events": events.iter().map(|e| json!({"timestamp": 1, "message": e.to_string(), "logStreamName": "s"})).collect::<Vec<_>>()});
    assert_eq!(replay(&cw.to_string(), &[]).code, 0);

    // A CloudWatch Logs text export: "<timestamp> <event>".
    let text: String = events.iter().map(|e| format!("2025-02-13T14:00:00.000Z {e}\n")).collect();
    assert_eq!(replay(&text, &[]).code, 0);

    // Pretty-printed envelopes one after another (the samples' own format).
    let pretty: String = events.iter().map(|e| serde_json::to_string_pretty(e).unwrap() + "\n").collect();
    assert_eq!(replay(&pretty, &[]).code, 0);
}

#[test]
fn help_documents_the_exit_codes() {
    let r = ecsgate(&["replay", "--help"], None, &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Exit codes:"));
    assert!(r.stdout.contains("4    superseded by another deployment"));
}

/// Writes `text` to a temporary file for one test and removes it when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> Self {
        let p = std::env::temp_dir().join(format!("ecsgate-{tag}-{}.jsonl", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        TempFile(p)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

fn crash_loop() -> Vec<Value> {
    let mut events = vec![in_progress()];
    // Tasks of the previous deployment and of another service, interleaved as in a real stream.
    events.push(task_event(&IDS, "task__running-fargate-execcmd-arkime-2023.json", "old1", OLD, 3));
    let mut foreign = task_event(&IDS, "task__stopped-essential-exit1-defra.json", "x1", "ecs-svc/999", 6);
    foreign["detail"]["group"] = json!("service:worker");
    events.push(foreign);
    events.extend((0..3).map(|i| stopped("task__stopped-essential-exit1-defra.json", &format!("t{i}"), |_| {})));
    events
}

#[test]
fn a_file_streams_to_the_same_timeline_and_verdict_as_standard_input() {
    let text = jsonl(&crash_loop());
    let file = TempFile::new("stream", text.as_bytes());
    let from_file = ecsgate(&["replay", file.path()], None, &[]);
    let from_stdin = replay(&text, &[]);
    assert_eq!(from_file.code, 1, "{}", from_file.stderr);
    assert_eq!(from_file.stdout, from_stdin.stdout, "inferred target and every note are the same");
    assert!(from_file.stdout.contains(&format!("3 tasks of deployment {NEW} failed")));
    // And with the target named by flags (one pass, no pre-scan), still the same.
    let named =
        ecsgate(&["replay", file.path(), "--cluster", "shop", "--service", "api", "--deployment-id", NEW], None, &[]);
    assert_eq!(named.stdout, from_file.stdout);
}

#[test]
fn task_events_alone_infer_the_deployment_from_a_file() {
    // No deployment event at all: the pre-scan must look at the task events' startedBy after all.
    let mut events: Vec<Value> =
        (0..3).map(|i| stopped("task__stopped-essential-exit1-defra.json", &format!("t{i}"), |_| {})).collect();
    events.insert(0, task_event(&IDS, "task__running-fargate-execcmd-arkime-2023.json", "old1", OLD, 3));
    let file = TempFile::new("tasks-only", jsonl(&events).as_bytes());
    let r = ecsgate(&["replay", file.path(), "--output", "json"], None, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.last_json();
    assert_eq!(v["deployment_id"], NEW);
    assert_eq!(v["service"], "api");
}

#[test]
fn a_start_line_after_the_first_events_still_names_the_deployment() {
    // Without the start line the earliest IN_PROGRESS (OLD) would be judged, and NEW would supersede it.
    let start = json!({"type": "start", "cluster": "shop", "service": "api", "deployment_id": NEW});
    let events = [
        deployment_event(&IDS, "SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, "old", "2025-02-13T13:00:00Z"),
        in_progress(),
        start,
        deployment_event(&IDS, "SERVICE_DEPLOYMENT_COMPLETED", NEW, "done", "2025-02-13T14:09:00Z"),
    ];
    let file = TempFile::new("late-start", jsonl(&events).as_bytes());
    let r = ecsgate(&["replay", file.path()], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains(&format!("verdict: SUCCEEDED  deployment {NEW}")));
}

#[test]
fn a_compressed_file_exits_2_with_the_decompress_hint() {
    let file = TempFile::new("gz", &[0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, b'\n', b'{']);
    let r = ecsgate(&["replay", file.path()], None, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is compressed or binary, not text"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: decompress exports first"));
    assert!(r.stdout.is_empty());
}

#[test]
fn a_directory_exits_2_with_one_line_naming_it() {
    let dir = std::env::temp_dir();
    let r = ecsgate(&["replay", dir.to_str().unwrap()], None, &[]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with(&format!("error: cannot read {}", dir.display())), "{}", r.stderr);
}

#[test]
fn streamed_lines_and_one_json_document_replay_the_bundled_examples_alike() {
    // The two readers (line streaming with a pre-scan, whole-document parsing) must not disagree.
    for name in ["success", "breaker-rollback", "crash-loop-no-breaker"] {
        let path = format!("{}/examples/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
        let lines: Vec<Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let streamed = ecsgate(&["replay", &path, "--output", "json"], None, &[]);
        let document = replay(&serde_json::to_string_pretty(&json!(lines)).unwrap(), &["--output", "json"]);
        assert_eq!(streamed.code, document.code, "{name}");
        assert_eq!(streamed.stdout, document.stdout, "{name}: same timeline and verdict");
        assert!(streamed.stdout.lines().count() > 3, "{name}: a real timeline");
    }
}

#[test]
fn with_several_start_lines_the_first_names_the_deployment_in_both_readers() {
    let start = |id: &str| json!({"type": "start", "cluster": "shop", "service": "api", "deployment_id": id});
    let events = [
        start(NEW),
        deployment_event(&IDS, "SERVICE_DEPLOYMENT_IN_PROGRESS", OLD, "old", "2025-02-13T13:00:00Z"),
        in_progress(),
        start(OLD),
        deployment_event(&IDS, "SERVICE_DEPLOYMENT_COMPLETED", NEW, "done", "2025-02-13T14:09:00Z"),
    ];
    let lines = replay(&jsonl(&events), &[]);
    let document = replay(&serde_json::to_string_pretty(&json!(events)).unwrap(), &[]);
    assert_eq!(lines.code, 0, "{}", lines.stdout);
    assert!(lines.stdout.contains(&format!("verdict: SUCCEEDED  deployment {NEW}")));
    assert_eq!(document.code, 0, "{}", document.stdout);
    assert_eq!(lines.stdout, document.stdout);
}

// ------------------------------------------------------------------ hostile input is bounded

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn a_line_longer_than_the_cap_is_skipped_and_counted() {
    let mut text = example("success.jsonl");
    text.insert_str(text.find('\n').unwrap() + 1, &format!("{{\"x\":\"{}\"}}\n", "a".repeat(17 * 1024 * 1024)));
    let file = TempFile::new("long-line", text.as_bytes());
    let r = ecsgate(&["replay", file.path(), "-q"], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("skipped 1 line(s) longer than 16 MiB"), "{}", r.stderr);
}

#[test]
fn one_document_larger_than_the_cap_exits_2_with_one_line() {
    let mut text = String::from("[\n");
    text.push_str(&" ".repeat(17 * 1024 * 1024));
    text.push_str("\n]\n");
    let file = TempFile::new("big-doc", text.as_bytes());
    let r = ecsgate(&["replay", file.path()], None, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!("error: {} is one JSON document larger than 16 MiB", file.path())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: convert it to JSON Lines"));
}

#[test]
fn nesting_deeper_than_the_parser_allows_is_a_skipped_line_not_a_crash() {
    let mut text = example("breaker-rollback.jsonl");
    let deep = format!(
        "{}{}\n{}{}\n",
        "[".repeat(200_000),
        "]".repeat(200_000),
        "{\"a\":".repeat(200_000),
        "}".repeat(200_000)
    );
    text.insert_str(text.find('\n').unwrap() + 1, &deep);
    let file = TempFile::new("deep", text.as_bytes());
    let r = ecsgate(&["replay", file.path(), "-q"], None, &[]);
    assert_eq!(r.code, 1, "the verdict is the recording's: {}", r.stderr);
    assert!(r.stderr.contains("skipped 2 malformed"), "{}", r.stderr);
}

#[test]
fn an_invalid_utf8_byte_skips_its_line_not_the_file() {
    let mut bytes = b"{\"note\":\"caf\xe9\"}\n".to_vec();
    bytes.extend_from_slice(example("success.jsonl").as_bytes());
    let file = TempFile::new("latin1", &bytes);
    let r = ecsgate(&["replay", file.path(), "-q"], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("skipped 1 malformed"), "{}", r.stderr);
}

#[test]
fn a_fifo_is_read_once_in_one_pass() {
    let path = std::env::temp_dir().join(format!("ecsgate-fifo-{}", std::process::id()));
    let ok = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(ok.success());
    let text = example("breaker-rollback.jsonl");
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || std::fs::write(writer_path, text));
    // No deployment named: the pre-scan must not open the FIFO a second time (that would block forever).
    let r = ecsgate(&["replay", path.to_str().unwrap(), "--output", "json"], None, &[]);
    writer.join().unwrap().unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.last_json()["deployment_id"], "ecs-svc/2757582648257641111");
}

/// Runs `ecsgate replay - ARGS` fed `input` (written in chunks), and returns its exit code, stderr and
/// peak resident memory (VmHWM, kB) — polled from /proc until the process ends, so the peak of the whole
/// run is seen, spooling, pre-scan and replay included.
fn replay_peak(input: &[u8], args: &[&str]) -> (i32, String, u64) {
    use std::io::Write;
    let mut cmd = common::command();
    cmd.args(["replay", "-"]).args(args);
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let waiting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = {
        let (peak, waiting) = (peak.clone(), waiting.clone());
        std::thread::spawn(move || {
            while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                let Some(kb) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) else { break };
                // Only ecsgate's own figures: between fork and exec the child is a sliver of the test
                // process (a baseline of 4 kB was read there, and failed the test).
                if status.contains("Name:\tecsgate") {
                    let kb: u64 = kb.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0);
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                    if status.contains("State:\tS") {
                        waiting.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                if status.contains("State:\tZ") {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let mut stdin = child.stdin.take().unwrap();
    for chunk in input.chunks(1 << 20) {
        stdin.write_all(chunk).unwrap();
    }
    // The process is alive while its input is open: hold it until the watcher has seen ecsgate
    // asleep on it (started, and what was written so far read), so a run too quick to catch still
    // has a figure (the baseline's).
    let t0 = std::time::Instant::now();
    while !waiting.load(std::sync::atomic::Ordering::Relaxed) && t0.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    drop(stdin);
    // The watcher reads the zombie's status before it is reaped: the peak of the whole run.
    while !std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| s.contains("State:\tZ")) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = child.wait_with_output().unwrap();
    watch.join().unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    assert!(peak > 0, "the watcher never read ecsgate's memory: a figure of 0 would pass any bound");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned(), peak)
}

/// One task's events, `n` times over (duplicates: the same task, the same versions), and the
/// deployment's IN_PROGRESS once: 50,000 events took 125 MB from standard input before (7.6 MB by path).
fn one_task_many_times(n: usize) -> Vec<u8> {
    let mut text = in_progress().to_string();
    text.push('\n');
    let line =
        task_event(&IDS, "task__running-fargate-docs.json", "d1b2c3d4e5f60718293a4b5c6d7e8f93", NEW, 2).to_string();
    for _ in 0..n {
        text.push_str(&line);
        text.push('\n');
    }
    text.into_bytes()
}

#[test]
fn standard_input_is_spooled_not_held_while_the_deployment_is_inferred() {
    let (_, _, baseline) = replay_peak(&one_task_many_times(4), &[]);
    let big = one_task_many_times(50_000);
    let (code, stderr, peak) = replay_peak(&big, &[]);
    assert_eq!(code, 3, "no verdict in it: {stderr}");
    // Before: ~125 MB above the baseline. Parsed events are no longer kept; the input is on disk.
    assert!(
        peak < baseline + 16 * 1024,
        "peak {peak} kB vs {baseline} kB for 4 events ({} MB of input)",
        big.len() >> 20
    );
    assert!(
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with(&format!("ecsgate-replay-{}", std::process::id()))),
        "the spool is removed"
    );
}

#[test]
fn standard_input_with_a_deployment_id_is_streamed_and_never_held() {
    let (_, _, baseline) = replay_peak(&one_task_many_times(4), &["--deployment-id", NEW]);
    let big = one_task_many_times(50_000);
    let (code, stderr, peak) = replay_peak(&big, &["--deployment-id", NEW]);
    assert_eq!(code, 3, "{stderr}");
    assert!(peak < baseline + 16 * 1024, "peak {peak} kB vs {baseline} kB");
}

#[test]
fn standard_input_that_is_not_ecs_exits_2_with_what_was_skipped_and_bounded_memory() {
    let small = "{\"a\":1}\n".repeat(4);
    let (_, _, baseline) = replay_peak(small.as_bytes(), &[]);
    let big = "{\"a\":1}\n".repeat(2 * 1024 * 1024);
    let (code, stderr, peak) = replay_peak(big.as_bytes(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no ECS event found") && stderr.contains("2097152 non-ECS entries"), "{stderr}");
    assert!(peak < baseline + 16 * 1024, "peak {peak} kB vs {baseline} kB after 16 MB of input");
}

#[test]
fn durations_that_overflow_and_a_zero_timeout_exit_2() {
    for t in ["99999999999999999h", "0", "0s"] {
        let r = ecsgate(&["wait", "--service", "api", "--timeout", t], None, &[("AWS_REGION", "us-east-1")]);
        assert_eq!(r.code, 2, "--timeout {t}: {}", r.stderr);
        assert!(r.stderr.contains("--timeout"), "{}", r.stderr);
    }
}

#[test]
fn a_bad_flag_is_one_line_a_hint_and_exit_2_and_a_verdict_object_with_json_output() {
    let r = ecsgate(&["wait", "--service", "api", "--timeout", "soon", "--output", "json"], None, &[]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: invalid value 'soon' for '--timeout <TIMEOUT>'"), "{}", r.stderr);
    let v = r.last_json();
    assert_eq!((v["outcome"].as_str(), v["exit_code"].as_i64()), (Some("error"), Some(2)));
    let r = ecsgate(&["wait"], None, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: the following required arguments were not provided: --service <SERVICE>"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_error_is_still_a_verdict_object_with_json_output() {
    let r = ecsgate(&["replay", "/nonexistent.jsonl", "--output", "json"], None, &[]);
    assert_eq!(r.code, 2);
    let v = r.last_json();
    assert_eq!(
        (v["type"].as_str(), v["outcome"].as_str(), v["exit_code"].as_i64()),
        (Some("verdict"), Some("error"), Some(2))
    );
    assert!(v["reason"].as_str().unwrap().starts_with("cannot read /nonexistent.jsonl"), "{v}");
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
}

#[test]
fn every_flag_reads_an_ecsgate_variable_shown_in_help() {
    let r = ecsgate(&["wait", "--help"], None, &[]);
    for var in
        ["ECSGATE_SERVICE", "ECSGATE_TIMEOUT", "ECSGATE_NOTIFY", "ECSGATE_ROLLBACK_ON_FAILURE", "ECSGATE_FAIL_FAST"]
    {
        assert!(r.stdout.contains(&format!("[env: {var}")), "{var} missing from --help");
    }
    let r = ecsgate(&["wait"], None, &[("ECSGATE_SERVICE", "api"), ("ECSGATE_TIMEOUT", "0s")]);
    assert_eq!(r.code, 2, "the variables were read: {}", r.stderr);
    assert!(r.stderr.starts_with("error: --timeout must be longer than 0s"), "{}", r.stderr);
}

#[test]
fn completions_and_man_page_are_generated_and_the_bash_script_sources_cleanly() {
    let r = ecsgate(&["completions", "bash"], None, &[]);
    assert_eq!(r.code, 0);
    let script = std::env::temp_dir().join(format!("ecsgate-completion-{}.bash", std::process::id()));
    std::fs::write(&script, &r.stdout).unwrap();
    let out = std::process::Command::new("bash")
        .args(["-c", &format!("source {} && complete -p ecsgate", script.display())])
        .output()
        .unwrap();
    std::fs::remove_file(&script).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("-F _ecsgate ecsgate"));
    for shell in ["zsh", "fish"] {
        let r = ecsgate(&["completions", shell], None, &[]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("deploy") && r.stdout.contains("rollback-on-failure"), "{shell}");
    }
    let man = ecsgate(&["man"], None, &[]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.contains(".TH ecsgate 1"), "{}", &man.stdout[..200.min(man.stdout.len())]);
    assert!(man.stdout.contains("deploy"));
}
