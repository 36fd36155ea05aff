//! What the gate leaves for later: recordings replayed, notifications, and gc of leftovers.

use super::*;

#[tokio::test]
async fn recording_replays_to_the_same_verdict() {
    let (emu, svc) = scenario!("e2e_record");
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
        let got: Vec<String> = bodies.lock().unwrap().iter().map(|r| r.body.clone()).collect();
        assert_eq!(got.len(), posts, "--notify-on {mode:?} on success: {got:?}\n{}", d.stderr);
        if posts == 1 {
            let v: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
            assert_eq!(v["outcome"], "succeeded", "{v}");
        }
        emu.assert_nothing_left(&svc).await;
    }
}

#[tokio::test]
async fn notify_posts_slack_and_json_and_a_hanging_hook_is_only_a_warning() {
    let (emu, svc) = scenario!("e2e_notify");
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
    emu.breaker_failed(&svc).await;
    let started = std::time::Instant::now();
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "a notification never changes the exit code: {}", d.stderr);
    assert!(started.elapsed() < Duration::from_secs(20), "bounded: {:?}", started.elapsed());
    assert!(d.stderr.contains("warning: notification to http://127.0.0.1"), "{}", d.stderr);
    assert!(!d.stderr.contains("secret"), "the webhook URL is a secret: {}", d.stderr);
    let slack: serde_json::Value = serde_json::from_str(&slack_bodies.lock().unwrap()[0].body).unwrap();
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert!(slack["text"].as_str().unwrap().contains("ecsgate: api failed"), "{slack}");
    let text = slack.to_string();
    assert!(text.contains("ECS deployment circuit breaker: tasks failed to start."), "{text}");
    let plain: serde_json::Value = serde_json::from_str(&plain_bodies.lock().unwrap()[0].body).unwrap();
    assert_eq!((plain["type"].as_str(), plain["outcome"].as_str()), (Some("verdict"), Some("failed")));
    emu.assert_nothing_left(&svc).await;
}
