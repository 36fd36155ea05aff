//! Helpers shared by the integration tests: running the real binary, and building events from the real
//! samples in tests/fixtures/events (only identity fields are changed).
#![allow(dead_code, clippy::print_stderr)]

pub mod emulator;

/// `ECSGATE_BENCH_SMOKE=1` (CI, through `scripts/bench.sh --smoke`): the benches at small sizes.
pub fn bench_smoke() -> bool {
    std::env::var_os("ECSGATE_BENCH_SMOKE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Every ECS read the gate makes, as the emulator's call counts name them (the benches' cost figures).
pub const ECS_READS: [&str; 6] = [
    "ecs.DescribeServices",
    "ecs.ListTasks",
    "ecs.DescribeTasks",
    "ecs.DescribeTaskDefinition",
    "ecs.DescribeServiceDeployments",
    "ecs.ListServiceDeployments",
];

/// The `p` quantile (0–1) of `v`, nearest rank.
pub fn pct(v: &mut [std::time::Duration], p: f64) -> std::time::Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The calls `key` made of the kinds in `which` (`service.Action`), as the emulator counted them.
pub fn count(emu: &emulator::Emu, key: &str, which: &[&str]) -> u64 {
    let calls = emu.get(&format!("/_ecsgate/calls?key={key}"));
    which.iter().filter_map(|k| calls.get(*k).and_then(|v| v.as_u64())).sum()
}

/// What a bench on the emulator does first: `false` for cargo's `--list` (nothing to run); without the
/// emulator a clear error and exit 1 — a bench that cannot run fails, a figure nobody measured must not
/// pass for one.
pub fn bench_on_emulator(name: &str) -> bool {
    if std::env::args().any(|a| a == "--list") {
        return false;
    }
    if std::env::var_os("ECSGATE_EMULATOR").is_none() {
        eprintln!(
            "error: {name} bench: ECSGATE_EMULATOR is not set\nhint: run scripts/bench.sh, which starts the emulator"
        );
        std::process::exit(1);
    }
    true
}

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn last_json(&self) -> Value {
        let line = self.stdout.lines().rev().find(|l| !l.trim().is_empty()).expect("some output");
        serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
    }
}

/// The ecsgate binary, isolated from AWS and the developer's setup ([`isolate`]) with no GitHub or colour
/// detection. Every test spawns ecsgate through this, so a test that forgets to point it somewhere can
/// only fail, never reach a real account; a test that needs an endpoint or keys sets its own after
/// this (later `env` calls win).
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsgate"));
    cmd.env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
    isolate(&mut cmd);
    cmd
}

pub fn ecsgate(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsgate"));
    cmd.args(args).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
    isolate(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ecsgate");
    if let Some(input) = stdin {
        // A process that refuses its flags exits before reading: its closed stdin is not the test's error.
        if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing stdin: {e}");
        }
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Nothing a test runs can reach AWS or read the developer's setup: a dead local endpoint, no instance
/// metadata, empty config and credentials files, fake keys, and none of the caller's `ECSGATE_*`
/// variables. A test that needs an endpoint (the emulator) sets its own after this.
pub fn isolate(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ECSGATE_") && k != "ECSGATE_EMULATOR" && k != "ECSGATE_VENV" {
            cmd.env_remove(&k);
        }
    }
    for k in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ACCESS_KEY_ID", "AKIDISOLATEDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "isolated")
        .env("AWS_REGION", "us-east-1");
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// A sample of the modern deployments (tests/fixtures/modern).
pub fn fixture_modern(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/modern/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

pub struct Ids<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub cluster: &'a str,
    pub service: &'a str,
}

impl Ids<'_> {
    pub fn cluster_arn(&self) -> String {
        format!("arn:aws:ecs:{}:{}:cluster/{}", self.region, self.account, self.cluster)
    }
    pub fn service_arn(&self) -> String {
        format!("arn:aws:ecs:{}:{}:service/{}/{}", self.region, self.account, self.cluster, self.service)
    }
    pub fn task_arn(&self, id: &str) -> String {
        format!("arn:aws:ecs:{}:{}:task/{}/{id}", self.region, self.account, self.cluster)
    }
}

pub const IDS: Ids = Ids { region: "us-east-1", account: "123456789012", cluster: "shop", service: "api" };

/// A deployment event (docs sample of its kind) for `ids`.
pub fn deployment_event(ids: &Ids, name: &str, id: &str, reason: &str, updated_at: &str) -> Value {
    let file = match name {
        "SERVICE_DEPLOYMENT_COMPLETED" => "deployment__completed-real-id-2022.json",
        "SERVICE_DEPLOYMENT_FAILED" => "deployment__failed-circuit-breaker-docs.json",
        _ => "deployment__in-progress-docs.json",
    };
    let mut v = fixture(file);
    v["id"] = json!(format!("{name}-{id}-{updated_at}"));
    v["region"] = json!(ids.region);
    v["account"] = json!(ids.account);
    v["resources"] = json!([ids.service_arn()]);
    v["detail"]["eventName"] = json!(name);
    v["detail"]["deploymentId"] = json!(id);
    v["detail"]["reason"] = json!(reason);
    v["detail"]["updatedAt"] = json!(updated_at);
    v["detail"]["clusterArn"] = json!(ids.cluster_arn());
    v
}

/// A task event from a real sample, placed in `ids`' service and started by `started_by`.
pub fn task_event(ids: &Ids, sample: &str, task_id: &str, started_by: &str, version: i64) -> Value {
    let mut v = fixture(sample);
    let arn = ids.task_arn(task_id);
    v["id"] = json!(format!("task-{task_id}-{version}"));
    v["region"] = json!(ids.region);
    v["account"] = json!(ids.account);
    v["resources"] = json!([arn]);
    let d = &mut v["detail"];
    d["taskArn"] = json!(arn);
    d["clusterArn"] = json!(ids.cluster_arn());
    d["group"] = json!(format!("service:{}", ids.service));
    d["startedBy"] = json!(started_by);
    d["version"] = json!(version);
    v
}

pub fn service_action(ids: &Ids, sample: &str) -> Value {
    let mut v = fixture(sample);
    v["resources"] = json!([ids.service_arn()]);
    v["detail"]["clusterArn"] = json!(ids.cluster_arn());
    v
}

pub fn jsonl(events: &[Value]) -> String {
    events.iter().map(|e| e.to_string() + "\n").collect()
}
