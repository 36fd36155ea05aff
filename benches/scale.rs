//! Several services on the emulator (scripts/bench.sh starts it): for 1, 10 and 20 services, one
//! `ecsgate wait` over all of them beside N separate single-service gates and, for the cost, N
//! `aws ecs wait services-stable` run side by side in the same window. Prints figures; asserts nothing.
//!
//! - latency: the last service's decisive event (COMPLETED) returned from PutEvents → every gate exited;
//! - setup + teardown calls: CreateQueue, PutRule, PutTargets, RemoveTargets, DeleteRule, DeleteQueue;
//! - ECS reads per service-minute during a wait of `ECSGATE_SCALE_WINDOW` seconds (default 120) while
//!   the deployments progress (a task event per service every 20 s), with ecsgate's default periods.
//!   Every ECS read the code makes counts, the service-deployment reads of each reconcile included.
//!
//! - modern: a canary moving with events already flowing, then `SUCCESSFUL` set through the API alone
//!   (AWS sends no event for it): seconds from that change to exit, and ECS reads per service-minute
//!   while it moved (issue 17 item 5).
//!
//! `ECSGATE_BENCH_SMOKE=1` (CI, through `scripts/bench.sh --smoke`): 1, 2 and 3 services, one run each,
//! a 5 s window — it proves the bench runs and prints its figures, not how fast. Without the emulator it
//! fails (exit 1): a bench that prints nothing must not pass.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
#[allow(unused)]
mod common;

use common::{ECS_READS, count, pct};

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::emulator::{Emu, Svc, emulator};
use serde_json::json;

fn smoke() -> bool {
    common::bench_smoke()
}

fn runs() -> usize {
    if smoke() { 1 } else { 5 }
}

fn sizes() -> [usize; 3] {
    if smoke() { [1, 2, 3] } else { [1, 10, 20] }
}
const SETUP_TEARDOWN: [&str; 7] = [
    "sqs.CreateQueue",
    "sqs.GetQueueUrl",
    "events.PutRule",
    "events.PutTargets",
    "events.RemoveTargets",
    "events.DeleteRule",
    "sqs.DeleteQueue",
];

async fn services(emu: &Emu, cluster: &str, n: usize) -> Vec<Svc> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(emu.service_named(cluster, &format!("s{i:02}")).await);
    }
    v
}

/// `ecsgate wait` over `svcs` with its default periods, signing with `key`.
fn gate(emu: &Emu, key: &str, svcs: &[&Svc]) -> Child {
    let mut cmd = common::command();
    cmd.args(["wait", "--output", "json", "--cluster", &svcs[0].cluster]);
    for s in svcs {
        cmd.args(["--service", &s.name]);
    }
    emu.env(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", key).stdout(Stdio::null()).stderr(Stdio::null()).stdin(Stdio::null());
    cmd.spawn().unwrap()
}

async fn wait_all(children: Vec<Child>) -> (Instant, Vec<i32>) {
    let h = tokio::task::spawn_blocking(move || {
        let codes: Vec<i32> = children.into_iter().map(|mut c| c.wait().unwrap().code().unwrap_or(-1)).collect();
        (Instant::now(), codes)
    });
    h.await.unwrap()
}

/// Waits until every service of `svcs` has a rule delivering its events.
async fn rules_ready(emu: &Emu, svcs: &[&Svc], separate: bool) {
    if separate {
        for s in svcs {
            emu.wait_for_rule(s).await;
        }
    } else {
        emu.wait_for_rule(svcs[0]).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
}

struct Latency {
    latency: Duration,
    codes: Vec<i32>,
    setup_teardown: u64,
}

/// One run: all services complete; the last COMPLETED is the decisive event.
async fn latency_run(n: usize, run: usize, separate: bool) -> Latency {
    let tag = format!("{}{}{n}{run}", if separate { "sep" } else { "one" }, std::process::id());
    let emu = emulator(&format!("scale_{tag}")).await.expect("scripts/bench.sh starts the emulator");
    let svcs = services(&emu, &format!("scale-{tag}"), n).await;
    let refs: Vec<&Svc> = svcs.iter().collect();
    let key = format!("{}GATE", emu.key);
    let children: Vec<Child> =
        if separate { refs.iter().map(|s| gate(&emu, &key, &[s])).collect() } else { vec![gate(&emu, &key, &refs)] };
    rules_ready(&emu, &refs, separate).await;
    for s in &svcs[..n - 1] {
        emu.deployment_event(s, "SERVICE_DEPLOYMENT_COMPLETED", &s.deployment, "ECS deployment completed.").await;
    }
    let last = &svcs[n - 1];
    let exited = tokio::spawn(wait_all(children));
    emu.deployment_event(last, "SERVICE_DEPLOYMENT_COMPLETED", &last.deployment, "ECS deployment completed.").await;
    let t0 = Instant::now();
    let (t1, codes) = exited.await.unwrap();
    Latency { latency: t1.saturating_duration_since(t0), codes, setup_teardown: count(&emu, &key, &SETUP_TEARDOWN) }
}

/// ECS reads per service-minute of the three approaches over the same window.
async fn cost(n: usize, window: Duration) -> [f64; 3] {
    let tag = format!("{}{n}", std::process::id());
    let emu = emulator(&format!("scalecost_{tag}")).await.expect("emulator");
    let one = services(&emu, &format!("cost-one-{tag}"), n).await;
    let sep = services(&emu, &format!("cost-sep-{tag}"), n).await;
    let wai = services(&emu, &format!("cost-wai-{tag}"), n).await;
    let keys = [format!("{}ONE", emu.key), format!("{}SEP", emu.key), format!("{}WAI", emu.key)];
    let one_refs: Vec<&Svc> = one.iter().collect();
    let mut gates = vec![gate(&emu, &keys[0], &one_refs)];
    gates.extend(sep.iter().map(|s| gate(&emu, &keys[1], &[s])));
    let mut waiters: Vec<Child> = wai
        .iter()
        .map(|s| {
            let mut w = Command::new(std::env::var("ECSGATE_AWS_CLI").unwrap_or_else(|_| "aws".into()));
            w.args(["ecs", "wait", "services-stable", "--cluster", &s.cluster, "--services", &s.name]);
            w.args(["--endpoint-url", &emu.endpoint, "--region", "us-east-1"]);
            emu.env(&mut w);
            w.env("AWS_ACCESS_KEY_ID", &keys[2]).env("AWS_DEFAULT_REGION", "us-east-1");
            w.stdout(Stdio::null()).stderr(Stdio::null());
            w.spawn().expect("aws CLI (scripts/bench.sh installs it into .venv)")
        })
        .collect();
    let start = Instant::now();
    // The deployments progress: a task of each service's deployment starts every 20 s.
    let mut round = 0;
    while start.elapsed() < window {
        for (i, s) in one.iter().chain(&sep).enumerate() {
            let arn = format!("arn:aws:ecs:us-east-1:123456789012:task/{}/{:032x}", s.cluster, round * 1000 + i);
            emu.task_event(s, &arn, &s.deployment, "RUNNING", 2, None).await;
        }
        round += 1;
        let next = Duration::from_secs(20 * round as u64).min(window);
        tokio::time::sleep(next.saturating_sub(start.elapsed())).await;
    }
    let minutes = start.elapsed().as_secs_f64() / 60.0;
    for g in &gates {
        common::emulator::signal(g, "TERM");
    }
    let _ = wait_all(gates).await;
    for w in &mut waiters {
        let _ = w.kill();
        let _ = w.wait();
    }
    keys.map(|k| count(&emu, &k, &ECS_READS) as f64 / (n as f64 * minutes))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !common::bench_on_emulator("scale") {
        return;
    }
    let default_window = if smoke() { 5 } else { 120 };
    let window = Duration::from_secs(
        std::env::var("ECSGATE_SCALE_WINDOW").ok().and_then(|v| v.parse().ok()).unwrap_or(default_window),
    );
    let runs = runs();
    println!("several services on the emulator: {runs} runs per size, one gate over N services vs N separate gates");
    println!(
        "{:>8}  {:<22} {:>10} {:>10} {:>22}  exit codes",
        "services", "approach", "median", "p95", "setup+teardown calls"
    );
    for n in sizes() {
        for separate in [false, true] {
            let mut lat = Vec::new();
            let mut calls = Vec::new();
            let mut codes = Vec::new();
            for run in 0..runs {
                let l = latency_run(n, run, separate).await;
                lat.push(l.latency);
                calls.push(l.setup_teardown);
                codes.extend(l.codes);
            }
            calls.sort_unstable();
            let ok = codes.iter().filter(|c| **c == 0).count();
            println!(
                "{n:>8}  {:<22} {:>8.1}ms {:>8.1}ms {:>22}  {ok}/{} exit 0",
                if separate { format!("{n} separate gates") } else { "one gate".into() },
                pct(&mut lat, 0.5).as_secs_f64() * 1e3,
                pct(&mut lat, 0.95).as_secs_f64() * 1e3,
                calls[calls.len() / 2],
                codes.len()
            );
        }
    }
    println!(
        "\nECS read calls per service-minute over {} s, deployments progressing (all sizes side by side):",
        window.as_secs()
    );
    println!("{:>8}  {:>10} {:>18} {:>16}", "services", "one gate", "separate gates", "services-stable");
    let figures = futures_join(window).await;
    for (n, f) in sizes().iter().zip(figures) {
        println!("{n:>8}  {:>10.2} {:>18.2} {:>16.2}", f[0], f[1], f[2]);
    }
    let moving = Duration::from_secs(if smoke() { 5 } else { 30 });
    println!(
        "\nA canary moving for {} s with events flowing, then SUCCESSFUL through the API only ({runs} runs):",
        moving.as_secs()
    );
    let (mut took, mut reads, mut ok) = (Vec::new(), Vec::new(), 0);
    for run in 0..runs {
        // The gate describes every 3 s from its start: a transition a whole number of periods after it
        // would be seen at once. Runs spread it over one period, as transitions fall in real life.
        let offset = Duration::from_millis(run as u64 * 3000 / runs as u64);
        let (t, r, code) = modern_run(run, moving + offset).await;
        took.push(t);
        reads.push(r);
        ok += usize::from(code == 0);
    }
    reads.sort_by(f64::total_cmp);
    println!(
        "  API-only transition → exit: median {:.2} s, p95 {:.2} s (a rolling cadence would take up to 60 s); \
         ECS reads per service-minute: {:.1}; {ok}/{runs} exit 0",
        pct(&mut took, 0.5).as_secs_f64(),
        pct(&mut took, 0.95).as_secs_f64(),
        reads[reads.len() / 2]
    );
}

/// One canary gate: moving for `moving`, then SUCCESSFUL through the API only. (decision time, reads/min)
async fn modern_run(run: usize, moving: Duration) -> (Duration, f64, i32) {
    let tag = format!("{}{run}", std::process::id());
    let emu = emulator(&format!("scalemodern_{tag}")).await.expect("emulator");
    let svc = emu.service_named(&format!("modern-{tag}"), "api").await;
    let canary = json!({"strategy": "CANARY", "bakeTimeInMinutes": 0});
    emu.service_config(&svc, canary.clone());
    let sd = format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/{}/api/canary{tag}", svc.cluster);
    emu.service_deployment(
        &svc,
        &sd,
        json!({"status": "IN_PROGRESS", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "deploymentConfiguration": canary}),
        None,
    );
    let key = format!("{}MODERN", emu.key);
    let start = Instant::now();
    let child = gate(&emu, &key, &[&svc]);
    rules_ready(&emu, &[&svc], false).await;
    emu.deployment_event(&svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", &svc.deployment, "canary in progress").await;
    tokio::time::sleep(moving).await;
    emu.service_deployment(&svc, &sd, json!({"status": "SUCCESSFUL", "lifecycleStage": "CLEAN_UP"}), None);
    let t0 = Instant::now();
    let (t1, codes) = wait_all(vec![child]).await;
    let minutes = t1.saturating_duration_since(start).as_secs_f64() / 60.0;
    (t1.saturating_duration_since(t0), count(&emu, &key, &ECS_READS) as f64 / minutes, codes[0])
}

/// The cost runs of every size at once: the same window for all.
async fn futures_join(window: Duration) -> Vec<[f64; 3]> {
    let [s0, s1, s2] = sizes();
    let (a, b, c) = tokio::join!(cost(s0, window), cost(s1, window), cost(s2, window));
    vec![a, b, c]
}
