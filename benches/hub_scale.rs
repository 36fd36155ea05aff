//! Many gates at once on one machine against the emulator (scripts/bench.sh starts it), queue mode beside
//! hub mode (issue 18): N services of one cluster, one `ecsgate wait` per service, all running together
//! with ecsgate's default periods, the deployments progressing (a task event per service every 20 s)
//! for a window, then every deployment's decisive event (`SERVICE_DEPLOYMENT_COMPLETED`). Prints, per
//! mode, over the gates' whole life:
//!
//! - control-plane calls per gate and per minute, and the rule calls among them (the four that share
//!   EventBridge's 50-per-second account quota): the queue's and rule's setup and teardown (CreateQueue, GetQueueUrl,
//!   SetQueueAttributes, PutRule, PutTargets, RemoveTargets, DeleteRule, DeleteQueue) and the hub's SSM
//!   GetParameter — the calls an account's quotas bound;
//! - ECS reads per minute (the reconcile), and DynamoDB reads per minute (the hub's Queries);
//! - decisive event put → that gate's exit, p50 and p95, and how many exited 0.
//!
//! Figures, not a pass/fail: one Python emulator on a shared machine serves every call, so absolute
//! times say more about the emulator than about AWS; the call counts are what each gate makes.
//! `ECSGATE_HUB_GATES` sets N (default 200); `ECSGATE_BENCH_SMOKE=1` (CI): 4 gates, a 3 s window.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
#[allow(unused)]
mod common;

use common::{ECS_READS, count, pct};

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::emulator::{Svc, emulator};

fn smoke() -> bool {
    common::bench_smoke()
}

const CONTROL_PLANE: [&str; 9] = [
    "sqs.CreateQueue",
    "sqs.GetQueueUrl",
    "sqs.SetQueueAttributes",
    "events.PutRule",
    "events.PutTargets",
    "events.RemoveTargets",
    "events.DeleteRule",
    "sqs.DeleteQueue",
    "ssm.GetParameter",
];
const HUB_READS: [&str; 1] = ["dynamodb.Query"];

/// The calls that share EventBridge's 50-per-second account quota.
const RULE_CALLS: [&str; 4] = ["events.PutRule", "events.PutTargets", "events.RemoveTargets", "events.DeleteRule"];

struct Figures {
    control_per_gate: f64,
    rule_calls: u64,
    control_per_min: f64,
    ecs_per_min: f64,
    hub_per_min: f64,
    p50: Duration,
    p95: Duration,
    ok: usize,
    gates: usize,
    minutes: f64,
}

/// One mode: `hub` reads the hub's table (installed in this mode's region), otherwise the per-run queue.
async fn mode(n: usize, window: Duration, hub: bool) -> Figures {
    let tag = format!("{}{}", if hub { "hub" } else { "queue" }, std::process::id());
    let base = emulator(&format!("hubscale_{tag}")).await.expect("scripts/bench.sh starts the emulator");
    // A region per mode: the hub's parameter makes every ECS event of its region ingested.
    let emu = if hub {
        base.in_region("ap-southeast-2").install_hub("ecsgate-hub-bench").await
    } else {
        base.in_region("eu-north-1")
    };
    let cluster = format!("hubscale-{tag}");
    let mut svcs: Vec<Svc> = Vec::new();
    for i in 0..n {
        svcs.push(emu.service_named(&cluster, &format!("s{i:03}")).await);
    }
    let key = format!("{}GATES", emu.key);
    let start = Instant::now();
    let mut gates: Vec<Child> = svcs
        .iter()
        .map(|s| {
            let mut cmd = common::command();
            cmd.args(["wait", "--output", "json", "--cluster", &s.cluster, "--service", &s.name]);
            if hub {
                cmd.args(["--hub", "auto"]);
            }
            emu.env(&mut cmd);
            cmd.env("AWS_ACCESS_KEY_ID", &key).stdout(Stdio::null()).stderr(Stdio::null()).stdin(Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    // Every gate is listening: a rule each (queue), or it found the hub (which it reads from before its
    // deployment was created, so nothing put later can be missed).
    let ready = if hub { "ssm.GetParameter" } else { "events.PutTargets" };
    let deadline = Instant::now() + Duration::from_secs(300);
    while (count(&emu, &key, &[ready]) as usize) < n {
        assert!(Instant::now() < deadline, "{n} gates not ready in 300 s ({} of {ready})", count(&emu, &key, &[ready]));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The deployments progress: a task of each deployment starts every 20 s.
    let moving = Instant::now();
    let mut round = 0;
    while moving.elapsed() < window {
        for (i, s) in svcs.iter().enumerate() {
            let arn = format!("arn:aws:ecs:{}:123456789012:task/{}/{:032x}", emu.region, s.cluster, round * 1000 + i);
            emu.task_event(s, &arn, &s.deployment, "RUNNING", 2, None).await;
        }
        round += 1;
        let next = Duration::from_secs(20 * round as u64).min(window);
        tokio::time::sleep(next.saturating_sub(moving.elapsed())).await;
    }
    // Each gate's decisive event, then its exit: a thread per gate notes when it exited.
    let (tx, rx) = std::sync::mpsc::channel();
    let mut put_at = Vec::new();
    for (i, mut g) in gates.drain(..).enumerate() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let code = g.wait().unwrap().code().unwrap_or(-1);
            let _ = tx.send((i, Instant::now(), code));
        });
    }
    for s in &svcs {
        emu.deployment_event(s, "SERVICE_DEPLOYMENT_COMPLETED", &s.deployment, "ECS deployment completed.").await;
        put_at.push(Instant::now());
    }
    drop(tx);
    let done = tokio::task::spawn_blocking(move || rx.iter().collect::<Vec<_>>()).await.unwrap();
    let minutes = start.elapsed().as_secs_f64() / 60.0;
    let mut took: Vec<Duration> = done.iter().map(|(i, at, _)| at.saturating_duration_since(put_at[*i])).collect();
    let per_min = |which: &[&str]| count(&emu, &key, which) as f64 / minutes;
    Figures {
        control_per_gate: count(&emu, &key, &CONTROL_PLANE) as f64 / n as f64,
        rule_calls: count(&emu, &key, &RULE_CALLS),
        control_per_min: per_min(&CONTROL_PLANE),
        ecs_per_min: per_min(&ECS_READS),
        hub_per_min: per_min(&HUB_READS),
        p50: pct(&mut took, 0.5),
        p95: pct(&mut took, 0.95),
        ok: done.iter().filter(|(_, _, c)| *c == 0).count(),
        gates: done.len(),
        minutes,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !common::bench_on_emulator("hub_scale") {
        return;
    }
    let n: usize =
        if smoke() { 4 } else { std::env::var("ECSGATE_HUB_GATES").ok().and_then(|v| v.parse().ok()).unwrap_or(200) };
    let window = Duration::from_secs(if smoke() { 3 } else { 60 });
    println!(
        "{n} concurrent gates on one machine against the emulator, queue mode vs hub mode \
         (deployments progressing for {} s, then every decisive event):",
        window.as_secs()
    );
    println!(
        "{:<6} {:>12} {:>11} {:>12} {:>13} {:>18} {:>22} {:>8}  exit 0",
        "mode",
        "control/gate",
        "rule calls",
        "control/min",
        "ECS reads/min",
        "DynamoDB reads/min",
        "event → exit p50/p95",
        "minutes"
    );
    let mut rows = Vec::new();
    for hub in [false, true] {
        let f = mode(n, window, hub).await;
        println!(
            "{:<6} {:>12.2} {:>11} {:>12.1} {:>13.1} {:>18.1} {:>13.2} s / {:.2} s {:>7.2}  {}/{}",
            if hub { "hub" } else { "queue" },
            f.control_per_gate,
            f.rule_calls,
            f.control_per_min,
            f.ecs_per_min,
            f.hub_per_min,
            f.p50.as_secs_f64(),
            f.p95.as_secs_f64(),
            f.minutes,
            f.ok,
            f.gates
        );
        rows.push(f);
    }
    // A bench that cannot do its job must not pass: every gate of both modes must have exited 0.
    if let Some(f) = rows.iter().find(|f| f.ok < f.gates) {
        eprintln!("error: hub_scale bench: only {}/{} gates exited 0", f.ok, f.gates);
        std::process::exit(1);
    }
    let (q, h) = (&rows[0], &rows[1]);
    if q.control_per_min > 0.0 {
        println!(
            "hub / queue: control-plane calls ×{:.3}, ECS reads ×{:.2}, p50 ×{:.2}",
            h.control_per_min / q.control_per_min,
            h.ecs_per_min / q.ecs_per_min.max(f64::MIN_POSITIVE),
            h.p50.as_secs_f64() / q.p50.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
}
