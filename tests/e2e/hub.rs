//! Gates on the hub (`--hub auto|TABLE`): the emulator writes every ECS event put on the bus into the
//! hub's table with the template's own ingestion code, as the hub's rule and function would; a gate on
//! the hub creates no rule and no queue, and reads events from before it started.
//! Hub tests live in a region of their own, where the hub is installed once (its SSM parameter would
//! otherwise make every test's events ingested).

use super::*;

const HUB_REGION: &str = "ca-central-1";
const TABLE: &str = "ecsgate-hub";

/// The hub installed in the hub tests' region.
async fn install_hub(emu: &Emu) -> Emu {
    emu.in_region(HUB_REGION).install_hub(TABLE).await
}

fn hub_gate(emu: &Emu, key: &str, args: &[&str]) -> std::process::Child {
    let mut all = vec!["--hub", "auto"];
    all.extend_from_slice(args);
    emu.spawn_gate_as(key, &all)
}

fn created_nothing(emu: &Emu, key: &str) {
    let log = emu.log(key);
    for op in ["events.PutRule", "events.PutTargets", "sqs.CreateQueue"] {
        assert!(!log.iter().any(|c| c == op), "{op} in hub mode: {log:?}");
    }
    assert!(log.iter().any(|c| c == "dynamodb.Query"), "the hub was read: {log:?}");
}

#[tokio::test]
async fn a_crash_loop_is_judged_from_the_hub_with_no_rule_or_queue_created() {
    let hub = install_hub(&emu!("e2e_hub_crash")).await;
    let svc = hub.service("e2e-hub-crash").await;
    let key = "AKIDHUBCRASHGATE";
    let gate = watch(hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]));
    gate.until("reading the hub's table ecsgate-hub", WITHIN).await;
    hub.crash_loop(&svc).await;
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("3 tasks of deployment"), "{}", d.stdout);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn a_failure_from_before_the_gate_started_is_read_from_the_hub() {
    let hub = install_hub(&emu!("e2e_hub_before")).await;
    let svc = hub.service("e2e-hub-before").await;
    // ECS said FAILED before any gate existed: a per-run rule would never see it.
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {}.", svc.old_deployment);
    hub.deployment_event(&svc, "SERVICE_DEPLOYMENT_FAILED", &svc.deployment, &reason).await;
    let key = "AKIDHUBBEFOREGATE";
    let d = finish(hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("circuit breaker"), "{}", d.stdout);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn several_services_succeed_from_the_hub() {
    let hub = install_hub(&emu!("e2e_hub_several")).await;
    let a = hub.service_named("e2e-hub-several", "api").await;
    let b = hub.service_named("e2e-hub-several", "web").await;
    let key = "AKIDHUBSEVERALGATE";
    let gate = watch(hub_gate(&hub, key, &["--cluster", &a.cluster, "--service", "api,web"]));
    gate.until("reading the hub's table", WITHIN).await;
    for s in [&a, &b] {
        hub.deployment_event(s, "SERVICE_DEPLOYMENT_COMPLETED", &s.deployment, "ECS deployment completed.").await;
    }
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn without_a_hub_the_gate_subscribes_as_usual_with_a_notice() {
    // us-east-1 has no hub parameter (hub tests keep to their own region).
    let (emu, svc) = scenario!("e2e_hub_none");
    let child = emu.spawn_gate(&["--hub", "auto", "--cluster", &svc.cluster, "--service", "api"]);
    emu.wait_for_rule(&svc).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("no hub (SSM parameter /ecsgate/hub/table not found)"), "{}", d.stderr);
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn a_canary_paused_at_a_hook_then_successful_is_judged_on_the_hub() {
    let hub = install_hub(&emu!("e2e_hub_modern")).await;
    let svc = hub.service("e2e-hub-modern").await;
    hub.service_config(
        &svc,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 0,
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1}}),
    );
    let sd = format!("arn:aws:ecs:{HUB_REGION}:123456789012:service-deployment/{}/api/hubModern000000001", svc.cluster);
    hub.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"}),
        None,
    );
    let key = "AKIDHUBMODERNGATE";
    let gate = watch(hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]));
    gate.until("reading the hub's table", WITHIN).await;
    // The pause hook's event reaches the gate through the hub.
    let hook = json!({"eventName": "HOOK_AWAITING_ACTION", "hookId": "ecs-pause-hub1", "hookType": "PAUSE", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"});
    hub.service_deployment(&svc, &sd, json!({"status": "IN_PROGRESS"}), Some(hook));
    gate.until("ACTION NEEDED", WITHIN).await;
    hub.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"}), None);
    let d = gate.finish(LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("service deployment SUCCESSFUL"), "{}", d.stdout);
    created_nothing(&hub, key);
}

#[tokio::test]
async fn a_hub_the_role_may_not_read_falls_back_to_the_usual_subscription_with_a_warning() {
    let hub = install_hub(&emu!("e2e_hub_denied")).await;
    let svc = hub.service("e2e-hub-denied").await;
    let key = "AKIDHUBDENIEDGATE";
    hub.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "ssm", "action": "GetParameter", "code": "AccessDeniedException", "status": 400, "count": 5}),
    );
    let child = hub_gate(&hub, key, &["--cluster", &svc.cluster, "--service", "api"]);
    hub.wait_for_rule(&svc).await;
    hub.deployment_event(&svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.").await;
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("cannot read the hub's SSM parameter /ecsgate/hub/table"), "{}", d.stderr);
    assert!(d.stderr.contains("subscribing with a queue and rule"), "{}", d.stderr);
    hub.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn doctor_checks_the_hub_and_names_a_query_the_role_may_not_make() {
    let hub = install_hub(&emu!("e2e_hub_doctor")).await;
    hub.ecs().create_cluster().cluster_name("e2e-hub-doctor").send().await.unwrap();
    let run = |key: &str| {
        let mut cmd = common::command();
        cmd.args(["doctor", "--hub", "auto", "--poll", "--cluster", "e2e-hub-doctor"]);
        hub.env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", key);
        cmd.output().unwrap()
    };
    let out = run("AKIDHUBDOCTOROK");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("ok    ssm:GetParameter: /ecsgate/hub/table names the hub's table ecsgate-hub"), "{said}");
    assert!(said.contains("ok    dynamodb:Query on the hub's table ecsgate-hub"), "{said}");
    let key = "AKIDHUBDOCTORDENIED";
    hub.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "dynamodb", "action": "Query", "code": "AccessDeniedException", "status": 400}),
    );
    let out = run(key);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("FAIL  dynamodb:Query not granted"), "{said}");
}

/// Runs an ecsgate command (history, explain, replay) against the emulator, signing with `key`.
fn ecsgate(emu: &Emu, key: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = common::command();
    cmd.args(args);
    emu.env(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", key);
    let out = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn history_and_explain_judge_a_crash_loop_after_ecs_forgot_its_tasks() {
    let hub = install_hub(&emu!("e2e_hub_history")).await;
    let svc = hub.service("e2e-hub-history").await;
    // No gate ran: the hub alone saw the deployment start and its tasks crash.
    hub.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "ECS deployment in progress.").await;
    hub.crash_loop(&svc).await;
    // CloudWatch Logs keeps what the containers said (its retention, not ECS's hour).
    let stopped = hub
        .ecs()
        .list_tasks()
        .cluster(&svc.cluster)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    for arn in stopped.task_arns() {
        let stream = format!("ecs/app/{}", arn.rsplit('/').next().unwrap());
        hub.log_lines(&format!("/ecs/{}", svc.cluster), &stream, &["starting", "FATAL: DATABASE_URL is not set"]).await;
    }
    // An hour later ECS knows none of those tasks.
    let forgot = hub.ctl("/_ecsgate/forget_tasks", json!({"region": HUB_REGION, "cluster": svc.cluster}));
    assert_eq!(forgot["forgotten"], 3, "{forgot}");
    let service = format!("{}/api", svc.cluster);
    let key = "AKIDHUBHISTORYREAD";

    let (code, out, err) = ecsgate(&hub, key, &["history", "--service", &service, "--since", "1d"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("{service}: 1 deployment(s) in the hub's table ecsgate-hub")), "{out}");
    let line = out.lines().find(|l| l.contains(&svc.deployment)).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("FAILED") && line.contains("container app, exit code 1"), "{line}");
    assert!(out.contains(&format!("ecsgate explain --service {service} --deployment-id {}", svc.deployment)), "{out}");

    let (code, json_out, err) = ecsgate(&hub, key, &["history", "--service", &service, "--output", "json"]);
    assert_eq!(code, 0, "{err}");
    let entry: serde_json::Value = serde_json::from_str(json_out.lines().next().unwrap()).unwrap();
    assert_eq!(entry["verdict"]["outcome"], "failed", "{entry}");
    assert_eq!(entry["verdict"]["culprit"]["exit_code"], 1, "{entry}");

    let rec = std::env::temp_dir().join(format!("ecsgate-explained-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&rec);
    let rec_s = rec.to_str().unwrap();
    let (code, out, err) =
        ecsgate(&hub, key, &["explain", "--service", &service, "--deployment-id", &svc.deployment, "--record", rec_s]);
    assert_eq!(code, 1, "{out}\n{err}");
    for said in [
        "FAILED",
        "container app, exit code 1",
        "Essential container in task exited",
        "FATAL: DATABASE_URL is not set",
        "hint",
    ] {
        assert!(out.contains(said), "explain must say {said:?}:\n{out}");
    }
    // Everything came from the hub: no task read, nothing created.
    let log = hub.log(key);
    for op in ["ecs.DescribeTasks", "ecs.ListTasks", "events.PutRule", "sqs.CreateQueue"] {
        assert!(!log.iter().any(|c| c == op), "{op}: {log:?}");
    }
    assert!(log.iter().any(|c| c == "dynamodb.Query"), "{log:?}");

    // The recording replays to the same verdict with no AWS at all.
    let (code, replayed, err) = ecsgate(&hub, key, &["replay", rec_s]);
    assert_eq!(code, 1, "{replayed}\n{err}");
    assert!(replayed.contains("container app, exit code 1"), "{replayed}");
    std::fs::remove_file(&rec).ok();

    // By ARN (a deleted service's only name): no service or task read, only the task definition that
    // says where the logs are.
    let key = "AKIDHUBHISTORYBYARN";
    let (code, out, err) =
        ecsgate(&hub, key, &["explain", "--service", &svc.service_arn, "--deployment-id", &svc.deployment]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("container app, exit code 1"), "{out}");
    let log = hub.log(key);
    let ecs: Vec<&String> = log.iter().filter(|c| c.starts_with("ecs.")).collect();
    assert!(ecs.iter().all(|c| *c == "ecs.DescribeTaskDefinition"), "{log:?}");
}

#[tokio::test]
async fn explain_of_a_deployment_the_hub_never_saw_exits_2_and_points_to_history() {
    let hub = install_hub(&emu!("e2e_hub_unknown")).await;
    let svc = hub.service("e2e-hub-unknown").await;
    let service = format!("{}/api", svc.cluster);
    let (code, out, err) =
        ecsgate(&hub, "AKIDHUBUNKNOWN", &["explain", "--service", &service, "--deployment-id", "ecs-svc/404"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("holds no event of deployment ecs-svc/404"), "{err}");
    assert!(err.contains(&format!("ecsgate history --service {service}")), "{err}");
}

#[tokio::test]
async fn history_without_a_hub_exits_2_saying_how_to_install_it() {
    // us-east-1 has no hub parameter (hub tests keep to their own region).
    let (emu, svc) = scenario!("e2e_hub_history_none");
    let (code, out, err) = ecsgate(&emu, &emu.key, &["history", "--service", &format!("{}/api", svc.cluster)]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains("no hub in us-east-1"), "{err}");
    assert!(err.contains("ecsgate hub template"), "{err}");
}

/// The event lines of a recording as EventBridge delivers them: every envelope has an `id` and a `time`
/// (some bundled examples are composed without them); other lines (start, snapshots) stay as they are.
fn delivered(file: &str, text: &str) -> Vec<serde_json::Value> {
    let mut last_time = "2025-01-01T00:00:00Z".to_string();
    let mut out = Vec::new();
    for (n, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("detail-type").is_some() {
            if v.get("id").is_none() {
                v["id"] = json!(format!("{file}-{n}"));
            }
            match v.get("time").and_then(|t| t.as_str()) {
                Some(t) => last_time = t.to_string(),
                None => {
                    let d = &v["detail"];
                    let t = d["updatedAt"].as_str().or(d["createdAt"].as_str()).unwrap_or(&last_time).to_string();
                    // EventBridge's `time` has second precision.
                    last_time = format!("{}Z", &t[..19.min(t.len())].trim_end_matches('Z'));
                    v["time"] = json!(last_time);
                }
            }
        }
        out.push(v);
    }
    out
}

/// `ecsgate replay FILE --output json`: the exit code and the verdict lines.
fn verdicts(emu: &Emu, lines: &[serde_json::Value], path: &std::path::Path) -> (i32, Vec<serde_json::Value>) {
    let text: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(path, text.join("\n") + "\n").unwrap();
    let (code, out, err) = ecsgate(emu, &emu.key, &["replay", path.to_str().unwrap(), "--output", "json"]);
    let verdicts = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "verdict")
        .collect::<Vec<_>>();
    assert!(!verdicts.is_empty(), "{}: no verdict\n{out}\n{err}", path.display());
    (code, verdicts)
}

/// The hub path's claim: a gate on the hub feeds the same Driver and engines the same events as the
/// queue, so it reaches the same verdict. For every bundled recording, its events go through the
/// template's own ingestion (`items`, run by the emulator) into a table, come back through the
/// production reader (`aws::hub::events_since`, every key the ingestion wrote, merged in the hub's
/// order), and replace the recording's events; snapshots stay where the live gate took them. Both
/// versions replay to the same verdicts and exit code.
#[tokio::test]
async fn the_hub_and_the_queue_give_the_same_verdict_on_every_bundled_recording() {
    let hub = install_hub(&emu!("e2e_hub_same")).await;
    let ddb = aws_sdk_dynamodb::Client::new(&hub.cfg);
    let clients = ecsgate::aws::Clients::from_conf(&hub.cfg, HUB_REGION.into());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "the bundled recordings: {files:?}");
    let tmp = std::env::temp_dir();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let lines = delivered(&stem, &std::fs::read_to_string(file).unwrap());
        // A table per recording: the examples share service ARNs.
        let table = format!("ecsgate-same-{stem}");
        hub.create_hub_table(&table).await;
        let events: Vec<&serde_json::Value> = lines.iter().filter(|v| v.get("detail-type").is_some()).collect();
        hub.ctl("/_ecsgate/hub_put", json!({"region": HUB_REGION, "table": table, "events": events}));
        // Every service the ingestion wrote events for, read back by the gate's own reader: a gate's keys
        // are service ARNs, so an event filed under anything else is lost to it (and fails the count).
        let scan = ddb.scan().table_name(&table).send().await.unwrap();
        let mut keys: Vec<String> = scan
            .items()
            .iter()
            .filter_map(|i| i.get("key").and_then(|k| k.as_s().ok()).cloned())
            .filter(|k| k.contains(":service/"))
            .collect();
        keys.sort();
        keys.dedup();
        let mut read = Vec::new();
        for k in &keys {
            read.extend(
                ecsgate::aws::hub::events_since(&clients, &table, k, &ecsgate::aws::hub::sort_key_at(0), true)
                    .await
                    .unwrap(),
            );
        }
        read.sort_by(|a, b| a.at.cmp(&b.at));
        assert_eq!(read.len(), events.len(), "{stem}: every event is in the hub once, under its service");
        let mut from_hub = read.into_iter();
        let through_hub: Vec<serde_json::Value> = lines
            .iter()
            .map(|v| match v.get("detail-type") {
                Some(_) => serde_json::from_str(&from_hub.next().unwrap().body).unwrap(),
                None => v.clone(),
            })
            .collect();

        let (queue_code, queue) = verdicts(&hub, &lines, &tmp.join(format!("ecsgate-same-queue-{stem}.jsonl")));
        let (hub_code, hubbed) = verdicts(&hub, &through_hub, &tmp.join(format!("ecsgate-same-hub-{stem}.jsonl")));
        assert_eq!(hub_code, queue_code, "{stem}: exit codes");
        assert_eq!(hubbed, queue, "{stem}: verdicts");
        // And the delivered envelopes judge as the bundled file does.
        let (code, _) = verdicts(
            &hub,
            &serde_json::from_str::<Vec<serde_json::Value>>(&format!(
                "[{}]",
                std::fs::read_to_string(file)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(",")
            ))
            .unwrap(),
            &tmp.join(format!("ecsgate-same-bundled-{stem}.jsonl")),
        );
        assert_eq!(code, queue_code, "{stem}: filling in id and time changes nothing");
    }
}

#[tokio::test]
async fn a_gate_detached_on_the_hub_resumes_on_it_and_judges_what_happened_meanwhile() {
    let hub = install_hub(&emu!("e2e_hub_resume")).await;
    let svc = hub.service("e2e-hub-resume").await;
    let handle = std::env::temp_dir().join(format!("ecsgate-hub-handle-{}.json", std::process::id()));
    let h = handle.to_str().unwrap();
    let d = finish(
        hub_gate(
            &hub,
            "AKIDHUBRESUMEFIRST",
            &["--cluster", &svc.cluster, "--service", "api", "--detach-at", "2s", "--handle", h],
        ),
        LIMIT,
    )
    .await;
    assert_eq!(d.code, 6, "{}\n{}", d.stdout, d.stderr);
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&handle).unwrap()).unwrap();
    assert_eq!(written["hub"], "auto", "{written}");

    // Between the jobs the tasks crash, and ECS has forgotten them by the time the next job runs.
    hub.crash_loop(&svc).await;
    hub.ctl("/_ecsgate/forget_tasks", json!({"region": HUB_REGION, "cluster": svc.cluster}));

    let key = "AKIDHUBRESUMESECOND";
    let d = finish(hub.spawn_as(key, &["resume", h]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("reading the hub's table ecsgate-hub"), "{}", d.stderr);
    assert!(d.stdout.contains("container app, exit code 1"), "{}", d.stdout);
    created_nothing(&hub, key);
    std::fs::remove_file(&handle).ok();
}

#[tokio::test]
async fn a_deployment_rolled_back_while_detached_is_judged_from_the_hub_on_resume() {
    let hub = install_hub(&emu!("e2e_hub_resume_gone")).await;
    let svc = hub.service("e2e-hub-resume-gone").await;
    let handle = std::env::temp_dir().join(format!("ecsgate-hub-handle-gone-{}.json", std::process::id()));
    let h = handle.to_str().unwrap();
    let args = ["--cluster", &svc.cluster, "--service", "api", "--detach-at", "2s", "--handle", h];
    let d = finish(hub_gate(&hub, "AKIDHUBGONEFIRST", &args), LIMIT).await;
    assert_eq!(d.code, 6, "{}\n{}", d.stdout, d.stderr);

    // Between the jobs: the tasks crash, the breaker rolls the deployment back, and once the rollback is
    // done ECS lists the deployment no more and has forgotten its tasks.
    hub.crash_loop(&svc).await;
    hub.breaker_failed(&svc).await;
    hub.ctl(
        "/_ecsgate/deployment",
        json!({"region": HUB_REGION, "cluster": svc.cluster, "service": "api", "deployment_id": svc.deployment, "remove": true}),
    );
    hub.ctl("/_ecsgate/forget_tasks", json!({"region": HUB_REGION, "cluster": svc.cluster}));

    // `status` reads the verdict so far in one go: the hub's, since ECS no longer lists the deployment.
    let (code, out, err) = ecsgate(&hub, "AKIDHUBGONESTATUS", &["status", h]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains(&format!("verdict: FAILED  deployment {}", svc.deployment)), "{out}");

    let key = "AKIDHUBGONESECOND";
    let junit = std::env::temp_dir().join(format!("ecsgate-hub-gone-{}.xml", std::process::id()));
    let d = finish(hub.spawn_as(key, &["resume", h, "--junit", junit.to_str().unwrap()]), LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    // The gate's own sinks get the verdict judged from the hub.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure") && xml.contains("exit code 1"), "{xml}");
    std::fs::remove_file(&junit).ok();
    assert!(
        d.stderr.contains("is no longer among service api's deployments: judging it from the hub's events"),
        "{}",
        d.stderr
    );
    assert!(d.stdout.contains(&format!("verdict: FAILED  deployment {}", svc.deployment)), "{}", d.stdout);
    assert!(d.stdout.contains("container app, exit code 1"), "{}", d.stdout);
    let log = hub.log(key);
    for op in ["events.PutRule", "sqs.CreateQueue", "ecs.DescribeTasks"] {
        assert!(!log.iter().any(|c| c == op), "{op}: {log:?}");
    }
    assert_eq!(log.iter().filter(|c| *c == "ecs.DescribeServices").count(), 1, "one look at the service: {log:?}");
    std::fs::remove_file(&handle).ok();
}
