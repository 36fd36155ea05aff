//! `ecsgate run` end to end: one-off tasks (migrations) run with RunTask against the emulator, whose
//! layer plays each placed task through its lifecycle (state in DescribeTasks, then its event on the
//! bus) or answers RunTask with `failures[]`, as a test sets with /_ecsgate/run_outcome.

use super::*;

/// A Fargate service `api` in `cluster` whose task definition has an essential `migrate` container
/// (awslogs, stream prefix `ecs`) and a non-essential `sidecar`.
async fn fargate_service(emu: &Emu, cluster: &str) -> String {
    use aws_sdk_ecs::types::{ContainerDefinition, LaunchType, LogConfiguration, LogDriver};
    let ecs = emu.ecs();
    ecs.create_cluster().cluster_name(cluster).send().await.unwrap();
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", format!("/ecs/{cluster}"))
        .options("awslogs-region", "us-east-1")
        .options("awslogs-stream-prefix", "ecs")
        .build()
        .unwrap();
    let td = ecs
        .register_task_definition()
        .family(format!("{cluster}-migrate"))
        .container_definitions(
            ContainerDefinition::builder()
                .name("migrate")
                .image("app:2")
                .memory(128)
                .essential(true)
                .log_configuration(logs)
                .build(),
        )
        .container_definitions(
            ContainerDefinition::builder().name("sidecar").image("envoy:1").memory(64).essential(false).build(),
        )
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap().task_definition_arn().unwrap().to_string();
    let created = ecs
        .create_service()
        .cluster(cluster)
        .service_name("api")
        .task_definition(&td)
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .send()
        .await
        .unwrap();
    created.service().unwrap().service_arn().unwrap().to_string()
}

/// `ecsgate run` at test speed, JSON out (the verdict is the last line; progress lines before it).
fn spawn_run(emu: &Emu, cluster: &str, extra: &[&str]) -> std::process::Child {
    let mut cmd = common::command();
    cmd.args(["run", "--cluster", cluster, "--reconcile-interval", "1s", "--poll-interval", "500ms"]);
    cmd.args(["--wait-seconds", "1"]);
    cmd.args(extra);
    emu.env(&mut cmd);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).stdin(std::process::Stdio::null());
    cmd.spawn().unwrap()
}

fn verdict(d: &Done) -> serde_json::Value {
    let last = d.stdout.lines().rev().find(|l| l.contains("\"type\":\"verdict\"")).unwrap_or_else(|| {
        panic!("no verdict line:\n{}\n{}", d.stdout, d.stderr);
    });
    serde_json::from_str(last).unwrap()
}

/// The run's startedBy token, as the gate announced it (on stderr, beside the progress).
fn token_of(d: &Done) -> String {
    let said = d.stderr.split("startedBy ").nth(1).and_then(|s| s.split(')').next());
    said.unwrap_or_else(|| panic!("no startedBy announced:\n{}\n{}", d.stdout, d.stderr)).to_string()
}

/// No rule or queue tagged with this run's token is left.
async fn assert_run_left_nothing(emu: &Emu, token: &str) {
    let ev = emu.events();
    let rules = ev.list_rules().name_prefix("ecsgate-").send().await.unwrap();
    for r in rules.rules() {
        let tags = ev.list_tags_for_resource().resource_arn(r.arn().unwrap()).send().await.unwrap();
        assert!(!tags.tags().iter().any(|t| t.key() == "ecsgate:run" && t.value() == token), "rule {r:?} left");
    }
    let sqs = emu.sqs();
    let q = sqs.list_queues().queue_name_prefix("ecsgate-").send().await.unwrap();
    for url in q.queue_urls() {
        let Ok(tags) = sqs.list_queue_tags().queue_url(url).send().await else { continue };
        assert_ne!(tags.tags().and_then(|t| t.get("ecsgate:run")).map(String::as_str), Some(token), "queue {url} left");
    }
}

#[tokio::test]
async fn a_migration_whose_essential_container_exits_0_succeeds_with_its_command_and_leaves_nothing() {
    let emu = emu!("e2e_run_ok");
    let cluster = "e2e-run-ok";
    fargate_service(&emu, cluster).await;
    // The sidecar is stopped with the task (143): not essential, not the job's failure.
    emu.ctl("/_ecsgate/run_outcome", json!({"cluster": cluster, "containers": [{"name": "sidecar", "exitCode": 143}]}));
    let child = spawn_run(
        &emu,
        cluster,
        &["--service", "api", "--output", "json", "--env", "STAGE=prod", "--", "./migrate", "--up"],
    );
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 0, "{}\n{}", d.stdout, d.stderr);
    let v = verdict(&d);
    assert_eq!(v["outcome"], "succeeded");
    let run = &v["run"];
    let token = run["started_by"].as_str().unwrap();
    assert!(token.starts_with("ecsgate-run-"), "{run}");
    assert_eq!(run["tasks"][0]["last_status"], "STOPPED", "{run}");
    let migrate = run["tasks"][0]["containers"].as_array().unwrap().iter().find(|c| c["name"] == "migrate").unwrap();
    assert_eq!((migrate["exit_code"].as_i64(), migrate["essential"].as_bool()), (Some(0), Some(true)));
    // RunTask got the command and the environment for the one container that takes them.
    let ecs = emu.ecs();
    let arn = run["tasks"][0]["task_arn"].as_str().unwrap();
    let t = ecs.describe_tasks().cluster(cluster).tasks(arn).send().await.unwrap();
    let o = &t.tasks()[0].overrides().unwrap().container_overrides()[0];
    assert_eq!((o.name(), o.command()), (Some("migrate"), &["./migrate".to_string(), "--up".to_string()][..]));
    assert_eq!(o.environment()[0].name(), Some("STAGE"));
    assert_eq!(t.tasks()[0].started_by(), Some(token));
    // Subscribed before RunTask: its first event (PENDING) was not missed.
    let calls = emu.log(&emu.key);
    let put_targets = calls.iter().position(|c| c == "events.PutTargets").expect("a rule target");
    let run_task = calls.iter().position(|c| c == "ecs.RunTask").expect("RunTask");
    assert!(put_targets < run_task, "{calls:?}");
    assert_run_left_nothing(&emu, token).await;
}

#[tokio::test]
async fn a_migration_exiting_3_fails_naming_the_container_its_exit_code_and_last_log_lines() {
    let emu = emu!("e2e_run_exit3");
    let cluster = "e2e-run-exit3";
    fargate_service(&emu, cluster).await;
    emu.ctl(
        "/_ecsgate/run_outcome",
        json!({"cluster": cluster, "containers": [{"name": "migrate", "exitCode": 3}],
               "logs": ["applying 0042_add_index", "ERROR: relation \"users\" does not exist"], "log_container": "migrate"}),
    );
    let child = spawn_run(&emu, cluster, &["--service", "api", "--", "./migrate"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: FAILED  run ecsgate-run-"), "{}", d.stdout);
    assert!(d.stdout.contains("culprit:  container migrate, exit code 3"), "{}", d.stdout);
    assert!(d.stdout.contains("1 of 1 task(s) failed"), "{}", d.stdout);
    assert!(
        d.stdout.contains("ERROR: relation \"users\" does not exist"),
        "the culprit's last log lines:\n{}",
        d.stdout
    );
    assert!(d.stdout.contains("migrate exit 3"), "{}", d.stdout);
    let token = token_of(&d);
    assert_run_left_nothing(&emu, &token).await;
}

#[tokio::test]
async fn a_task_that_goes_from_pending_to_stopped_with_a_capacity_error_fails_with_that_error() {
    let emu = emu!("e2e_run_capacity");
    let cluster = "e2e-run-capacity";
    fargate_service(&emu, cluster).await;
    // No RUNNING in between, no exit code: the task never ran (deploy-kinds §3.3).
    emu.ctl(
        "/_ecsgate/run_outcome",
        json!({"cluster": cluster, "path": ["PENDING", "STOPPED"], "stopCode": "TaskFailedToStart",
               "stoppedReason": "TaskFailedToStart: RESOURCE:MEMORY",
               "containers": [{"name": "migrate", "exitCode": null}, {"name": "sidecar", "exitCode": null}]}),
    );
    let child = spawn_run(&emu, cluster, &["--service", "api", "--output", "json"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    let v = verdict(&d);
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("failed to start: TaskFailedToStart: RESOURCE:MEMORY"), "{reason}");
    assert_eq!(v["run"]["tasks"][0]["stop_code"], "TaskFailedToStart");
    assert!(v["hint"].as_str().is_some_and(|h| !h.is_empty()), "a capacity failure has a hint: {v}");
    assert_run_left_nothing(&emu, v["run"]["started_by"].as_str().unwrap()).await;
}

#[tokio::test]
async fn run_task_failures_fail_the_run_at_once_with_their_reason() {
    let emu = emu!("e2e_run_placement");
    let cluster = "e2e-run-placement";
    fargate_service(&emu, cluster).await;
    let instance = "arn:aws:ecs:us-east-1:123456789012:container-instance/e2e-run-placement/0b1c";
    emu.ctl(
        "/_ecsgate/run_outcome",
        json!({"cluster": cluster, "failures": [{"arn": instance, "reason": "RESOURCE:MEMORY"}]}),
    );
    let child = spawn_run(&emu, cluster, &["--service", "api"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("RunTask could not place 1 of 1 task(s): RESOURCE:MEMORY"), "{}", d.stdout);
    assert!(d.stdout.contains("not placed: RESOURCE:MEMORY"), "{}", d.stdout);
    assert!(d.elapsed < Duration::from_secs(15), "decided at RunTask's answer, not at a timeout: {:?}", d.elapsed);
    let token = token_of(&d);
    assert_run_left_nothing(&emu, &token).await;
}

#[tokio::test]
async fn a_timeout_ends_the_wait_not_the_task_and_prints_how_to_stop_it() {
    let emu = emu!("e2e_run_timeout");
    let cluster = "e2e-run-timeout";
    fargate_service(&emu, cluster).await;
    // A long job: RUNNING for minutes.
    emu.ctl("/_ecsgate/run_outcome", json!({"cluster": cluster, "path": ["PENDING", "RUNNING"], "delay": 0.2}));
    let child = spawn_run(&emu, cluster, &["--service", "api", "--timeout", "4s"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 3, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: TIMED OUT"), "{}", d.stdout);
    assert!(d.stdout.contains("the task is still running; ecsgate does not stop it"), "{}", d.stdout);
    assert!(d.stdout.contains(&format!("aws ecs stop-task --cluster {cluster} --task ")), "{}", d.stdout);
    let token = token_of(&d);
    // The task goes on.
    let listed = emu.ecs().list_tasks().cluster(cluster).started_by(&token).send().await.unwrap();
    let t =
        emu.ecs().describe_tasks().cluster(cluster).set_tasks(Some(listed.task_arns().to_vec())).send().await.unwrap();
    assert_eq!(t.tasks()[0].last_status(), Some("RUNNING"));
    assert_run_left_nothing(&emu, &token).await;
}

#[tokio::test]
async fn polling_mode_creates_no_rule_or_queue_and_judges_by_describe_tasks() {
    let emu = emu!("e2e_run_poll");
    let cluster = "e2e-run-poll";
    fargate_service(&emu, cluster).await;
    emu.ctl("/_ecsgate/run_outcome", json!({"cluster": cluster, "containers": [{"name": "migrate", "exitCode": 2}]}));
    let child = spawn_run(&emu, cluster, &["--service", "api", "--poll"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 1, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("container migrate, exit code 2"), "{}", d.stdout);
    let calls = emu.calls();
    for op in ["events.PutRule", "sqs.CreateQueue"] {
        assert!(calls.get(op).is_none(), "{op} in --poll mode: {calls}");
    }
    assert!(calls["ecs.DescribeTasks"].as_u64().unwrap() >= 1, "{calls}");
}

#[tokio::test]
async fn a_container_the_task_definition_lacks_is_a_usage_error_before_anything_is_created() {
    let emu = emu!("e2e_run_badcontainer");
    let cluster = "e2e-run-badcontainer";
    fargate_service(&emu, cluster).await;
    let child = spawn_run(&emu, cluster, &["--service", "api", "--container", "web", "--", "true"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 2, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("has no container web (it has: migrate, sidecar)"), "{}", d.stderr);
    let child = spawn_run(&emu, cluster, &["--service", "nope"]);
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 2, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains("service nope not found in cluster e2e-run-badcontainer"), "{}", d.stderr);
    let calls = emu.calls();
    for op in ["events.PutRule", "sqs.CreateQueue", "ecs.RunTask"] {
        assert!(calls.get(op).is_none(), "{op} after bad input: {calls}");
    }
}

#[tokio::test]
async fn sigterm_ends_the_wait_after_teardown_and_leaves_the_task_running() {
    let emu = emu!("e2e_run_sigterm");
    let cluster = "e2e-run-sigterm";
    fargate_service(&emu, cluster).await;
    emu.ctl("/_ecsgate/run_outcome", json!({"cluster": cluster, "path": ["PENDING", "RUNNING"], "delay": 0.1}));
    let w = watch(spawn_run(&emu, cluster, &["--service", "api"]));
    // The task is running before the signal comes: the line of its RUNNING event.
    w.until("RUNNING", WITHIN).await;
    signal(w.child(), "TERM");
    let d = w.finish(LIMIT).await;
    assert_eq!(d.code, 143, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: INTERRUPTED"), "{}", d.stdout);
    assert!(d.stdout.contains("the task is still running; ecsgate does not stop it"), "{}", d.stdout);
    let token = token_of(&d);
    let listed = emu.ecs().list_tasks().cluster(cluster).started_by(&token).send().await.unwrap();
    assert_eq!(listed.task_arns().len(), 1, "the task goes on");
    assert!(!emu.log(&emu.key).iter().any(|c| c == "ecs.StopTask"), "ecsgate stopped the task");
    assert_run_left_nothing(&emu, &token).await;
}
