//! What each sink prints, as snapshots (insta; `src/report/snapshots/`): recorded deployments (built
//! from real samples: `examples/`, `tests/fixtures/verdicts/`) replayed through `ecsgate replay`'s own
//! code path (`replay::run_with`) into every sink at once — terminal/CI text, JSON Lines, GitHub
//! annotations, outputs and summary, Slack Block Kit and the webhook JSON — over the same scenarios.
//! Review a change with `cargo insta review` (or `INSTA_UPDATE=always cargo test` and `git diff`).
//!
//! Beside the snapshots: every section of the one verdict view shows in every sink (or this fails),
//! Slack payloads stay within Block Kit's limits, and hostile text in every field of ECS's answers
//! never becomes a runner command in any sink.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use serde_json::Value;

use super::view::{Kind, view};
use super::{Reporter, Sink, github::Github, human::Human, json::Json};
use crate::cli::NotifyOn;

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

const SLACK_URL: &str = "https://hooks.slack.com/services/T0SECRET/B0SECRET/slacksecret";
const WEBHOOK_URL: &str = "https://relay.example/hook/webhooksecret";

struct Printed {
    exit: u8,
    human: String,
    human_err: String,
    json: String,
    annotations: String,
    summary: String,
    outputs: String,
    slack: Value,
    webhook: Value,
    /// The JUnit report (its `timestamp`, the wall-clock time of the run, is scrubbed in snapshots).
    junit: String,
}

impl Printed {
    /// Everything a person or a runner could read.
    fn all_text(&self) -> String {
        [&self.human, &self.human_err, &self.json, &self.annotations, &self.summary, &self.outputs]
            .iter()
            .map(|s| s.as_str())
            .chain([self.slack.to_string().as_str(), self.webhook.to_string().as_str()])
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The scenario's input: a file of the repository, optionally only its first `keep` lines.
fn input(path: &str, keep: usize) -> std::path::PathBuf {
    // Relative to the package root (cargo runs unit tests there): no clone's path gets into a snapshot.
    let src = path.to_string();
    if keep == usize::MAX {
        return src.into();
    }
    let text: String = std::fs::read_to_string(&src).unwrap().lines().take(keep).map(|l| format!("{l}\n")).collect();
    // Tests run in parallel threads of one process: each call writes its own copy.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!(
        "ecsgate-input-{}-{keep}-{n}-{}",
        path.replace('/', "_"),
        std::process::id()
    ));
    std::fs::write(&p, text).unwrap();
    p
}

/// Replays `path` as `ecsgate replay` does, into every sink.
fn print(path: &str, keep: usize) -> Printed {
    let file = input(path, keep);
    printed_by(path, |reporter| {
        let cli =
            <crate::cli::Cli as clap::Parser>::try_parse_from(["ecsgate", "replay", file.to_str().unwrap()]).unwrap();
        let crate::cli::Command::Replay(args) = cli.command else { unreachable!() };
        crate::replay::run_with(&args, reporter)
    })
}

/// What every sink printed while `f` reported (its exit code beside).
fn printed_by(name: &str, f: impl FnOnce(&mut Reporter) -> u8) -> Printed {
    let path = name;
    let (human, human_err, json, ann) = (Buf::default(), Buf::default(), Buf::default(), Buf::default());
    // Tests run in parallel threads of one process: each call gets its own directory.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ecsgate-snap-{}-{n}-{}", path.replace('/', "_"), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (summary, output, junit) = (dir.join("summary.md"), dir.join("output"), dir.join("junit.xml"));
    let sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(Human::new(Box::new(human.clone()), Box::new(human_err.clone()), false, false, false)),
        Box::new(Json::new(Box::new(json.clone()), false)),
        Box::new(Github::new(Box::new(ann.clone()), Some(summary.clone()), Some(output.clone()))),
        Box::new(super::junit::Junit::new(junit.clone())),
    ];
    let mut reporter = Reporter::with_sinks(sinks);
    reporter.notify_to(&[SLACK_URL.to_string(), WEBHOOK_URL.to_string()], NotifyOn::Always);
    let exit = f(&mut reporter);
    let posted = reporter.take_outbox();
    let body = |url: &str| {
        posted.iter().find(|o| o.url == url).map(|o| serde_json::from_str(&o.body).unwrap()).unwrap_or(Value::Null)
    };
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let printed = Printed {
        exit,
        human: human.text(),
        human_err: human_err.text(),
        json: json.text(),
        annotations: ann.text(),
        summary: read(&summary),
        outputs: read(&output),
        slack: body(SLACK_URL),
        webhook: body(WEBHOOK_URL),
        junit: read(&junit),
    };
    std::fs::remove_dir_all(&dir).ok();
    printed
}

/// The scenarios the issue names, each a recording of the repository.
const SCENARIOS: [(&str, &str, usize); 14] = [
    ("success", "examples/success.jsonl", usize::MAX),
    ("breaker-rollback", "examples/breaker-rollback.jsonl", usize::MAX),
    ("ecsgate-rollback-succeeded", "tests/fixtures/verdicts/ecsgate-rollback-succeeded.jsonl", usize::MAX),
    ("ecsgate-rollback-failed", "tests/fixtures/verdicts/ecsgate-rollback-failed.jsonl", usize::MAX),
    ("ecsgate-rollback-timed-out", "tests/fixtures/verdicts/ecsgate-rollback-timed-out.jsonl", usize::MAX),
    ("lambda-hook-failed", "examples/blue-green-lambda-hook-failed.jsonl", usize::MAX),
    ("pause-hook", "examples/blue-green-pause-hook.jsonl", usize::MAX),
    ("alarm-rollback", "tests/fixtures/verdicts/alarm-rollback.jsonl", usize::MAX),
    ("elb-health", "tests/fixtures/verdicts/elb-health.jsonl", usize::MAX),
    ("several", "examples/three-services.jsonl", usize::MAX),
    ("superseded", "tests/fixtures/verdicts/superseded.jsonl", usize::MAX),
    // The stream ends after the first task started: no verdict.
    ("timeout", "examples/success.jsonl", 4),
    ("error", "tests/fixtures/verdicts/no-such-recording.jsonl", usize::MAX),
    ("hostile", "tests/fixtures/verdicts/hostile-crash-loop.jsonl", usize::MAX),
];

fn check(name: &str) {
    let (_, path, keep) = SCENARIOS.iter().find(|s| s.0 == name).copied().unwrap();
    let p = print(path, keep);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
    insta::assert_snapshot!(
        name,
        format!(
            "exit {}\n--- human (stdout) ---\n{}\n--- human (stderr) ---\n{}\n--- json ---\n{}\n--- github annotations ---\n{}\n--- github outputs ---\n{}\n--- github summary ---\n{}\n--- slack ---\n{}\n--- webhook ---\n{}\n--- junit ---\n{}\n",
            p.exit,
            p.human,
            p.human_err,
            p.json,
            p.annotations,
            p.outputs,
            p.summary,
            pretty(&p.slack),
            pretty(&p.webhook),
            scrub_timestamp(&p.junit)
        )
    );
}

/// The JUnit report's `timestamp` attribute is when the run happened: the rest is the golden part.
fn scrub_timestamp(xml: &str) -> String {
    match xml.find(" timestamp=\"") {
        Some(i) => {
            let end = xml[i + 12..].find('"').map(|j| i + 12 + j + 1).unwrap_or(xml.len());
            format!("{} timestamp=\"[run time]\"{}", &xml[..i], &xml[end..])
        }
        None => xml.to_string(),
    }
}

#[test]
fn success_in_every_sink() {
    check("success");
}

#[test]
fn breaker_failure_with_ecs_rollback_in_every_sink() {
    check("breaker-rollback");
}

#[test]
fn own_threshold_failure_with_ecsgate_rollback_completed_in_every_sink() {
    check("ecsgate-rollback-succeeded");
}

#[test]
fn own_threshold_failure_with_ecsgate_rollback_failed_in_every_sink() {
    check("ecsgate-rollback-failed");
}

#[test]
fn own_threshold_failure_with_ecsgate_rollback_unfinished_in_every_sink() {
    check("ecsgate-rollback-timed-out");
}

#[test]
fn lambda_hook_failure_with_log_lines_in_every_sink() {
    check("lambda-hook-failed");
}

#[test]
fn pause_notice_in_every_sink() {
    check("pause-hook");
}

#[test]
fn alarm_rollback_in_every_sink() {
    check("alarm-rollback");
}

#[test]
fn elb_health_failure_in_every_sink() {
    check("elb-health");
}

#[test]
fn three_services_one_failed_in_every_sink() {
    check("several");
}

#[test]
fn superseded_in_every_sink() {
    check("superseded");
}

#[test]
fn timeout_in_every_sink() {
    check("timeout");
}

#[test]
fn error_verdict_in_every_sink() {
    check("error");
}

#[test]
fn every_section_of_the_view_shows_in_every_sink() {
    for (name, path, keep) in SCENARIOS {
        let p = print(path, keep);
        let verdicts: Vec<Value> = p
            .json
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "verdict")
            .collect();
        assert!(!verdicts.is_empty(), "{name}: no verdict object");
        for j in &verdicts {
            let v: crate::engine::Verdict = verdict_from_json(j);
            let view = view(&v);
            // Several services: the human and GitHub views show in full only those that did not succeed.
            let full = verdicts.len() == 1 || v.outcome != crate::engine::Outcome::Succeeded;
            for sec in &view.sections {
                let k = sec.kind;
                let field = &j[sec.field];
                assert!(
                    !(field.is_null() || field == &Value::Array(vec![])),
                    "{name}: section {k:?} has no `{}` in the JSON verdict",
                    sec.field
                );
                assert!(p.slack.to_string().contains(&format!("*{}:*", k.title())), "{name}: {k:?} not in Slack");
                if v.exit_code != 0 {
                    assert!(p.junit.contains(&format!("{}: ", k.label())), "{name}: {k:?} not in the JUnit report");
                }
                // An error (exit 2, 5) is told to people as `error:` and `hint:` lines and one annotation.
                if !full || matches!(v.outcome, crate::engine::Outcome::Error(_)) {
                    continue;
                }
                assert!(p.human.contains(&format!("  {}:", k.label())), "{name}: {k:?} not in the human text");
                assert!(p.summary.contains(k.title()), "{name}: {k:?} not in the GitHub summary");
                if v.exit_code != 0 && !matches!(v.outcome, crate::engine::Outcome::Interrupted(_)) {
                    assert!(p.annotations.contains(&format!("{}: ", k.label())), "{name}: {k:?} not in the annotation");
                }
                assert!(p.slack.to_string().contains(&format!("*{}:*", k.title())), "{name}: {k:?} not in Slack");
            }
        }
    }
}

/// The verdict object read back (the fields the view uses; the engine's type is not `Deserialize`).
fn verdict_from_json(j: &Value) -> crate::engine::Verdict {
    use crate::engine::verdict::*;
    let s = |v: &Value| v.as_str().map(str::to_string);
    let outcome = match j["outcome"].as_str().unwrap_or_default() {
        "succeeded" => crate::engine::Outcome::Succeeded,
        "failed" => crate::engine::Outcome::Failed,
        "timed_out" => crate::engine::Outcome::TimedOut,
        "superseded" => crate::engine::Outcome::Superseded,
        "in_progress" => crate::engine::Outcome::InProgress,
        _ => crate::engine::Outcome::Error(crate::exit::ErrorKind::Usage),
    };
    let mut v = Verdict::error(crate::exit::ErrorKind::Usage, "", None);
    v.outcome = outcome;
    v.exit_code = j["exit_code"].as_u64().unwrap_or(0) as u8;
    v.reason = s(&j["reason"]);
    v.hint = s(&j["hint"]);
    v.service = s(&j["service"]);
    v.deployment_id = s(&j["deployment_id"]);
    v.rollback = serde_json::from_value(j["rollback"].clone()).ok();
    v.rollback_to = s(&j["rollback_to"]);
    v.log_tail = serde_json::from_value(j["log_tail"].clone()).ok();
    v.alarms = serde_json::from_value(j["alarms"].clone()).unwrap_or_default();
    v.evidence = serde_json::from_value(j["evidence"].clone()).unwrap_or_default();
    v.run = serde_json::from_value(j["run"].clone()).ok();
    v.express = serde_json::from_value(j["express"].clone()).ok();
    let c = &j["culprit"];
    if c.is_object() {
        v.culprit = Some(Culprit {
            task_arn: c["task_arn"].as_str().unwrap_or_default().into(),
            container: s(&c["container"]),
            exit_code: c["exit_code"].as_i64(),
            reason: s(&c["reason"]),
        });
    }
    let h = &j["hook"];
    if h.is_object() {
        v.hook = Some(Hook {
            hook_id: s(&h["hook_id"]),
            hook_type: s(&h["hook_type"]),
            lifecycle_stage: s(&h["lifecycle_stage"]),
            status: h["status"].as_str().unwrap_or_default().into(),
            service_deployment_arn: None,
            target_arn: s(&h["target_arn"]),
            log_tail: serde_json::from_value(h["log_tail"].clone()).ok(),
        });
    }
    let b = &j["circuit_breaker"];
    if b.is_object() {
        v.circuit_breaker = Some(Breaker {
            status: b["status"].as_str().unwrap_or_default().into(),
            failure_count: b["failure_count"].as_i64().unwrap_or(0) as i32,
            threshold: b["threshold"].as_i64().unwrap_or(0) as i32,
        });
    }
    let h = &j["health_check"];
    if h.is_object() {
        v.health_check = Some(HealthCheck {
            target_group: h["target_group"].as_str().unwrap_or_default().into(),
            protocol: s(&h["protocol"]),
            port: s(&h["port"]),
            path: s(&h["path"]),
            matcher: s(&h["matcher"]),
            reason_code: s(&h["reason_code"]),
            description: s(&h["description"]),
        });
    }
    for t in j["failed_tasks"].as_array().into_iter().flatten() {
        v.failed_tasks.push(FailedTask {
            task_arn: t["task_arn"].as_str().unwrap_or_default().into(),
            task_definition: s(&t["task_definition"]),
            stop_code: s(&t["stop_code"]),
            stopped_reason: s(&t["stopped_reason"]),
            stopped_at: s(&t["stopped_at"]),
            containers: t["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| ContainerOut {
                    name: c["name"].as_str().unwrap_or_default().into(),
                    exit_code: c["exit_code"].as_i64(),
                    reason: s(&c["reason"]),
                    essential: c["essential"].as_bool(),
                })
                .collect(),
        });
    }
    for w in j["warnings"].as_array().into_iter().flatten() {
        v.warnings.push(WarningOut {
            event_name: w["event_name"].as_str().unwrap_or_default().into(),
            reason: s(&w["reason"]),
        });
    }
    if let Ok(p) = serde_json::from_value::<Value>(j["progress"].clone()) {
        v.progress.rollout_state = s(&p["rollout_state"]);
        v.progress.running = p["running"].as_i64().unwrap_or(0);
        v.progress.pending = p["pending"].as_i64().unwrap_or(0);
        v.progress.desired = p["desired"].as_i64();
        v.progress.failed_tasks = p["failed_tasks"].as_u64().unwrap_or(0) as u32;
        v.progress.max_task_failures = p["max_task_failures"].as_u64().unwrap_or(0) as u32;
    }
    v
}

#[test]
fn a_verdict_with_every_field_has_every_section_in_order() {
    use crate::engine::verdict::*;
    let mut v = verdict_from_json(
        &serde_json::from_str(
            r#"{"outcome":"timed_out","exit_code":3,"reason":"timed out","hint":"h","rollback":{"by":"ecs","to":"ecs-svc/1","deployment_id":"ecs-svc/2","outcome":"failed"},
            "culprit":{"task_arn":"t","container":"app","exit_code":1,"reason":"r"},
            "hook":{"hook_id":"h1","hook_type":"AWS_LAMBDA","lifecycle_stage":"POST_SCALE_UP","status":"FAILED","target_arn":"arn:aws:lambda:r:1:function:f","log_tail":{"log_group":"g","log_stream":"s","lines":["l"]}},
            "alarms":[{"name":"a","state":"ALARM","reason":"x"}],"circuit_breaker":{"status":"TRIGGERED","failure_count":3,"threshold":3},
            "health_check":{"target_group":"tg","reason_code":"Target.Timeout"},"log_tail":{"log_group":"g","log_stream":"s","lines":["l"]},
            "evidence":["e"],"express":{"revision_arn":"r","endpoints":["https://x.ecs.us-east-1.on.aws"]},"failed_tasks":[{"task_arn":"t","containers":[]}],
            "run":{"task_definition":"migrate:3","started_by":"ecsgate-run-x","count":1,"tasks":[{"task_arn":"t","last_status":"STOPPED","stop_code":null,"stopped_reason":null,"containers":[]}]},"warnings":[{"event_name":"SERVICE_TASK_START_IMPAIRED"}],
            "progress":{"running":0,"pending":0,"failed_tasks":0,"max_task_failures":3}}"#,
        )
        .unwrap(),
    );
    v.rollback.as_mut().unwrap().outcome = Some(RollbackOutcome::Failed);
    let kinds: Vec<Kind> = view(&v).sections.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, Kind::ALL.to_vec(), "a new section must be placed in Kind::ALL and rendered by every sink");
    assert!(view(&v).section(Kind::Rollback).unwrap().alert, "THE ROLLBACK FAILED is said loudly");
}

#[test]
fn slack_payloads_stay_within_block_kit_limits() {
    use super::notify::*;
    for (name, path, keep) in SCENARIOS {
        let p = print(path, keep);
        let blocks = p.slack["blocks"].as_array().unwrap_or_else(|| panic!("{name}: no blocks"));
        assert!(blocks.len() <= MAX_BLOCKS, "{name}: {} blocks", blocks.len());
        for b in blocks {
            if b["type"] == "header" {
                assert_eq!(b["text"]["type"], "plain_text");
                assert!(b["text"]["text"].as_str().unwrap().chars().count() <= MAX_HEADER, "{name}");
            }
            if let Some(t) = b["text"]["text"].as_str() {
                assert!(t.chars().count() <= MAX_SECTION_TEXT, "{name}: section of {} chars", t.chars().count());
            }
            if let Some(f) = b["fields"].as_array() {
                assert!(f.len() <= MAX_FIELDS, "{name}");
                for x in f {
                    assert!(x["text"].as_str().unwrap().chars().count() <= MAX_FIELD_TEXT, "{name}");
                }
            }
        }
    }
    // A gate of 30 services, each with a long reason, still fits.
    let many: Vec<crate::engine::Verdict> = (0..30)
        .map(|i| {
            let mut v = crate::engine::Verdict::error(crate::exit::ErrorKind::Aws, &"why ".repeat(2000), Some("hint"));
            v.service = Some(format!("svc-{i}-{}", "x".repeat(300)));
            v
        })
        .collect();
    let payload = payload(Receiver::Slack, &super::GateReport::new(many), Some("https://ci.example/job/1"));
    let blocks = payload["blocks"].as_array().unwrap();
    assert!(blocks.len() <= MAX_BLOCKS, "{} blocks", blocks.len());
    assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= MAX_HEADER);
    for b in blocks {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= MAX_SECTION_TEXT);
        }
    }
}

#[test]
fn hostile_text_in_every_field_never_becomes_a_runner_command() {
    for path in [
        "tests/fixtures/verdicts/hostile-crash-loop.jsonl",
        "tests/fixtures/verdicts/hostile-alarm-rollback.jsonl",
        "tests/fixtures/verdicts/hostile-hook-failed.jsonl",
    ] {
        let p = print(path, usize::MAX);
        assert_eq!(p.exit, 1, "{path}: {}", p.human);
        let text = p.all_text();
        // The payloads are there (escaped), so the test cannot pass by dropping them.
        assert!(text.contains("forged"), "{path}: the hostile text is not shown at all");
        for line in text.lines() {
            let t = line.trim_start();
            let ours = t.starts_with("::error title=ecsgate") || t.starts_with("::warning title=ecsgate");
            assert!(!t.starts_with("::") || ours, "{path}: a runner command from foreign text: {line:?}");
            assert!(!line.contains("##["), "{path}: ##[ survived: {line:?}");
            assert!(!line.contains('\x1b'), "{path}: an escape sequence survived: {line:?}");
        }
        for secret in ["slacksecret", "T0SECRET", "webhooksecret"] {
            assert!(!p.human.contains(secret) && !p.human_err.contains(secret), "{path}: {secret} printed");
        }
    }
}

#[test]
fn a_run_verdict_is_told_as_a_run_in_every_sink_and_its_hostile_text_is_defused() {
    use crate::engine::verdict::*;
    let hostile = "::error::forged%0A##[error]forged\x1b[31m";
    let mut v = Verdict::error(crate::exit::ErrorKind::Usage, "", None);
    v.outcome = crate::engine::Outcome::Failed;
    v.exit_code = 1;
    v.cluster = Some("prod".into());
    v.deployment_id = Some("ecsgate-run-abc".into());
    v.reason = Some(format!("1 of 1 task(s) failed; task t1: essential container {hostile} exit 3"));
    v.run = Some(RunOut {
        task_definition: Some(format!("migrate:3{hostile}")),
        started_by: "ecsgate-run-abc".into(),
        count: 1,
        tasks: vec![RunTaskOut {
            task_arn: "arn:aws:ecs:us-east-1:1:task/prod/t1".into(),
            last_status: "STOPPED".into(),
            stop_code: Some(hostile.into()),
            stopped_reason: Some(hostile.into()),
            containers: vec![ContainerOut {
                name: hostile.into(),
                exit_code: Some(3),
                reason: None,
                essential: Some(true),
            }],
        }],
        launch_failures: vec![LaunchFailureOut { reason: hostile.into(), detail: Some(hostile.into()), arn: None }],
    });
    // An Express section too: its endpoint through the one URL redaction, the rest escaped.
    v.express = Some(crate::engine::snapshot::ManagedResources {
        revision_arn: hostile.into(),
        endpoints: vec![format!("https://user:secretpw@api.example/{hostile}")],
        log_groups: vec![hostile.into()],
        alarms: vec![crate::engine::snapshot::ManagedAlarm { name: hostile.into(), status: Some(hostile.into()) }],
        failed: vec![hostile.into()],
    });
    let p = printed_by("run", |r| {
        let report = super::GateReport::new(vec![v]);
        r.report(&report);
        report.exit_code
    });
    assert_eq!(p.exit, 1);
    assert!(p.human.contains("verdict: FAILED  run ecsgate-run-abc of migrate:3"), "{}", p.human);
    assert!(
        p.human.contains("tasks:    1 of 1 task(s) stopped, 1 not placed; started by ecsgate-run-abc"),
        "{}",
        p.human
    );
    assert!(
        p.summary.contains("— run `ecsgate-run-abc`") && p.summary.contains("Task definition `migrate:3"),
        "{}",
        p.summary
    );
    assert!(p.slack.to_string().contains("ecsgate: run of migrate:3"), "{}", p.slack);
    assert_eq!(p.webhook["run"]["started_by"], "ecsgate-run-abc");
    assert!(p.human.contains("express:  endpoint https://api.example/…"), "{}", p.human);
    for sink in [&p.human, &p.summary, &p.annotations] {
        assert!(!sink.contains("secretpw"), "an endpoint's userinfo printed: {sink}");
    }
    let text = p.all_text();
    assert!(text.contains("forged"), "the hostile text is not shown at all");
    for line in text.lines() {
        let t = line.trim_start();
        let ours = t.starts_with("::error title=ecsgate") || t.starts_with("::warning title=ecsgate");
        assert!(!t.starts_with("::") || ours, "a runner command from foreign text: {line:?}");
        assert!(!line.contains("##["), "##[ survived: {line:?}");
        assert!(!line.contains('\x1b'), "an escape sequence survived: {line:?}");
    }
}
