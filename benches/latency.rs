//! The live gate's latency on the emulator (scripts/bench.sh starts it): over ≥ 20 runs, from the
//! decisive event reaching the bus (PutEvents returned) — FAILED, the Nth failed task, COMPLETED — to
//! the verdict printed (its JSON line on stdout) and, separately, to ecsgate's exit; with setup time and
//! the phases after the decision (as ecsgate measured them) and API calls per run. Baselines measured in
//! the same run: another ecsgate binary (`ECSGATE_BASELINE_BIN`, e.g. the previous release) over the same
//! scenarios, with the ratio of medians; and, for each scenario, `aws ecs wait services-stable` on the
//! same kind of deployment: what it reports and when. Prints figures; asserts nothing about time.
#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
#[allow(unused)]
mod common;

use common::pct;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::emulator::{Emu, Svc, emulator};
use serde_json::json;

const FULL_RUNS: usize = 21;

/// Runs, the scenarios in turn: 21, or 3 (one each) in the smoke run of CI (`ECSGATE_BENCH_SMOKE=1`: it proves the bench
/// still runs and prints its figures, nothing more).
fn runs() -> usize {
    if std::env::var_os("ECSGATE_BENCH_SMOKE").is_some() { 3 } else { FULL_RUNS }
}

#[derive(Clone, Copy, Debug)]
enum Scenario {
    Failed,
    NthTask,
    Completed,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Failed => "SERVICE_DEPLOYMENT_FAILED",
            Scenario::NthTask => "3rd failed task",
            Scenario::Completed => "SERVICE_DEPLOYMENT_COMPLETED",
        }
    }
}

struct Sample {
    scenario: Scenario,
    /// Decisive event → the verdict line on stdout.
    verdict: Duration,
    /// Decisive event → exit.
    latency: Duration,
    code: i32,
    setup_ms: u64,
    /// The loop's end (the decision) → the end, as ecsgate measured it.
    end_ms: u64,
    calls: u64,
}

/// Plays the part of ECS up to the decisive event, and returns when PutEvents for it returned.
async fn decisive(emu: &Emu, svc: &Svc, s: Scenario) -> Instant {
    match s {
        Scenario::Failed => {
            emu.deployment_event(
                svc,
                "SERVICE_DEPLOYMENT_FAILED",
                &svc.deployment,
                "ECS deployment circuit breaker: tasks failed to start.",
            )
            .await;
        }
        Scenario::Completed => {
            emu.deployment_event(svc, "SERVICE_DEPLOYMENT_COMPLETED", &svc.deployment, "ECS deployment completed.")
                .await;
        }
        Scenario::NthTask => {
            emu.failed_tasks(svc, 2).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The third, the one that decides: the clock starts after it was put on the bus.
            emu.failed_tasks(svc, 1).await;
        }
    }
    Instant::now()
}

/// What ECS's API shows once the scenario has played out (for the CLI waiter, which only polls).
fn settle(emu: &Emu, svc: &Svc, s: Scenario) {
    let base = json!({"cluster": svc.cluster, "service": "api"});
    let with = |extra: serde_json::Value| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    match s {
        // The breaker rolled back: the old revision is the only deployment and all its tasks run.
        Scenario::Failed => {
            emu.ctl("/_ecsgate/deployment", with(json!({"deployment_id": svc.old_deployment, "status": "PRIMARY", "rollout_state": "COMPLETED", "running": 2, "service_running": 2})));
            emu.ctl("/_ecsgate/deployment", with(json!({"deployment_id": svc.deployment, "remove": true})));
        }
        Scenario::Completed => {
            emu.ctl("/_ecsgate/deployment", with(json!({"deployment_id": svc.deployment, "rollout_state": "COMPLETED", "running": 2, "service_running": 2})));
            emu.ctl("/_ecsgate/deployment", with(json!({"deployment_id": svc.old_deployment, "remove": true})));
        }
        // No breaker: tasks keep failing, nothing ever becomes stable.
        Scenario::NthTask => {}
    }
}

async fn run_once(bin: &str, i: usize, s: Scenario, with_waiter: bool) -> (Sample, Option<String>) {
    let emu =
        emulator(&format!("bench_{}_{i}", std::process::id())).await.expect("scripts/bench.sh starts the emulator");
    let svc = emu.service(&format!("bench-{}-{i}", std::process::id())).await;
    let mut cmd = Command::new(bin);
    cmd.args(["wait", "--cluster", &svc.cluster, "--service", "api", "--output", "json"]);
    emu.env(&mut cmd);
    // Its own access key, so the emulator counts ecsgate's calls apart from this harness's.
    let gate_key = format!("{}GATE", emu.key);
    cmd.env("AWS_ACCESS_KEY_ID", &gate_key);
    cmd.env("ECSGATE_TIMINGS", "1").stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    // When the verdict's JSON line arrives: what the pipeline can act on.
    let verdict_at = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("{\"type\":\"verdict\""))
            .map(|_| Instant::now())
    });
    let lines =
        std::thread::spawn(move || std::io::BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
    let exited = tokio::task::spawn_blocking(move || {
        let st = child.wait().unwrap();
        (Instant::now(), st.code().unwrap_or(-1))
    });
    emu.wait_for_rule(&svc).await;
    // The rule is in place; give the target a moment, as a pipeline's update-service would.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let waiter = with_waiter.then(|| {
        let mut w = Command::new(std::env::var("ECSGATE_AWS_CLI").unwrap_or_else(|_| "aws".into()));
        w.args([
            "ecs",
            "wait",
            "services-stable",
            "--cluster",
            &svc.cluster,
            "--services",
            "api",
            "--endpoint-url",
            &emu.endpoint,
            "--region",
            "us-east-1",
        ]);
        emu.env(&mut w);
        w.env("AWS_DEFAULT_REGION", "us-east-1").stdout(Stdio::null()).stderr(Stdio::piped());
        w.spawn().expect("aws CLI (scripts/bench.sh installs it into .venv)")
    });
    let t0 = decisive(&emu, &svc, s).await;
    if waiter.is_some() {
        settle(&emu, &svc, s);
    }
    let (t1, code) = exited.await.unwrap();
    let tv = verdict_at.join().unwrap().unwrap_or(t1);
    let stderr = lines.join().unwrap();
    let timing = stderr.iter().find(|l| l.starts_with("timing:")).cloned().unwrap_or_default();
    let field =
        |k: &str| timing.split_whitespace().find_map(|p| p.strip_prefix(k)).and_then(|v| v.parse().ok()).unwrap_or(0);
    let calls = emu.get(&format!("/_ecsgate/calls?key={gate_key}"));
    let total: u64 = calls.as_object().unwrap().values().filter_map(|v| v.as_u64()).sum();
    let sample_code = code;
    let waiter_report = waiter.map(|mut w| {
        let cap = Duration::from_secs(45);
        loop {
            if let Some(st) = w.try_wait().unwrap() {
                let code = st.code().unwrap_or(-1);
                let verdict = if code == 0 { "exit 0 (success)" } else { "non-zero" };
                return format!(
                    "{verdict} after {:.1} s (ecsgate: exit {gate} after {:.3} s)",
                    t0.elapsed().as_secs_f64(),
                    (t1 - t0).as_secs_f64(),
                    gate = sample_code
                );
            }
            if t0.elapsed() > cap {
                let _ = w.kill();
                return format!(
                    "still waiting after {} s, no verdict (its limit: 40 × 15 s = 10 min, then exit 255; ecsgate: exit {sample_code} after {:.3} s)",
                    cap.as_secs(),
                    (t1 - t0).as_secs_f64()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let sample = Sample {
        scenario: s,
        verdict: tv.saturating_duration_since(t0),
        latency: t1.saturating_duration_since(t0),
        code,
        setup_ms: field("setup_ms="),
        end_ms: field("end_ms="),
        calls: total,
    };
    if i == 0 {
        println!("API calls of one run ({}): {calls}", s.name());
    }
    (sample, waiter_report)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !common::bench_on_emulator("latency") {
        return;
    }
    let scenarios = [Scenario::Failed, Scenario::NthTask, Scenario::Completed];
    let ours = env!("CARGO_BIN_EXE_ecsgate");
    let samples = measure(ours, 0, &scenarios).await;
    println!("\necsgate wait on the emulator, {} runs (decisive event on the bus → verdict printed | → exit):", runs());
    let medians = table(&samples, &scenarios);
    let mut all: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    let mut verdict: Vec<Duration> = samples.iter().map(|s| s.verdict).collect();
    let mut setup: Vec<Duration> = samples.iter().map(|s| Duration::from_millis(s.setup_ms)).collect();
    let mut end: Vec<Duration> = samples.iter().map(|s| Duration::from_millis(s.end_ms)).collect();
    let mut calls: Vec<Duration> = samples.iter().map(|s| Duration::from_millis(s.calls)).collect();
    println!(
        "all: verdict printed median {:.1} ms, p95 {:.1} ms | exit median {:.1} ms, p95 {:.1} ms | setup (queue + rule + target) median {} ms | decision → end (ecsgate's clock) median {} ms | API calls per run median {}",
        pct(&mut verdict, 0.5).as_secs_f64() * 1e3,
        pct(&mut verdict, 0.95).as_secs_f64() * 1e3,
        pct(&mut all, 0.5).as_secs_f64() * 1e3,
        pct(&mut all, 0.95).as_secs_f64() * 1e3,
        pct(&mut setup, 0.5).as_millis(),
        pct(&mut end, 0.5).as_millis(),
        pct(&mut calls, 0.5).as_millis()
    );
    if let Ok(base) = std::env::var("ECSGATE_BASELINE_BIN") {
        // The same scenarios, interleaved in the same run, with the baseline binary (e.g. the previous
        // release): its exit is what a pipeline waited for.
        let base_samples = measure(&base, 1000, &scenarios).await;
        println!("\nbaseline {base}, same run, {} runs:", runs());
        let base_medians = table(&base_samples, &scenarios);
        println!("ratio to the baseline's median exit (below 1: faster):");
        for ((sc, (v, x)), (_, bx)) in scenarios.iter().zip(&medians).zip(&base_medians) {
            println!(
                "  {:<30} verdict printed {:.2}×  exit {:.2}×",
                sc.name(),
                v.as_secs_f64() / bx.as_secs_f64(),
                x.as_secs_f64() / bx.as_secs_f64()
            );
        }
    }
    if std::env::var_os("ECSGATE_BENCH_SMOKE").is_some() {
        // The waiter polls every 15 s: minutes that prove nothing about ecsgate in a smoke run.
        return;
    }
    println!("\nbaseline, same scenarios in the same run: `aws ecs wait services-stable` (awscli v1, 15 s polls):");
    for (i, sc) in scenarios.into_iter().enumerate() {
        let (_, report) = run_once(ours, runs() + i, sc, true).await;
        println!("  {:<30} services-stable: {}", sc.name(), report.unwrap_or_default());
    }
}

/// `runs()` runs of `bin`, the scenarios in turn; `first` numbers the runs' clusters apart.
async fn measure(bin: &str, first: usize, scenarios: &[Scenario; 3]) -> Vec<Sample> {
    let mut samples = Vec::new();
    for i in 0..runs() {
        let (s, _) = run_once(bin, first + i, scenarios[i % 3], false).await;
        samples.push(s);
    }
    samples
}

/// Prints one line per scenario; returns each scenario's medians (verdict printed, exit).
fn table(samples: &[Sample], scenarios: &[Scenario; 3]) -> Vec<(Duration, Duration)> {
    println!(
        "{:<30} {:>5} {:>16} {:>16} {:>10}  exit codes",
        "scenario", "runs", "verdict median", "exit median", "exit p95"
    );
    let mut medians = Vec::new();
    for &sc in scenarios {
        let of: Vec<&Sample> = samples.iter().filter(|x| x.scenario as u8 == sc as u8).collect();
        let mut v: Vec<Duration> = of.iter().map(|x| x.verdict).collect();
        let mut l: Vec<Duration> = of.iter().map(|x| x.latency).collect();
        let codes: Vec<String> = of.iter().map(|x| x.code.to_string()).collect();
        let (vm, m, p) = (pct(&mut v, 0.5), pct(&mut l, 0.5), pct(&mut l, 0.95));
        println!(
            "{:<30} {:>5} {:>14.1}ms {:>14.1}ms {:>8.1}ms  {}",
            sc.name(),
            codes.len(),
            vm.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e3,
            p.as_secs_f64() * 1e3,
            codes.join(" ")
        );
        medians.push((vm, m));
    }
    medians
}
