//! Replay throughput and memory on a generated large deployment.
//!
//! `cargo bench --bench replay` prints events/s for parse+apply and apply alone, and the engine's live
//! heap after each run, for three shapes: the base (2,000 tasks × 8 transitions, 10 % duplicates, 10 %
//! events of another service, locally reordered), the same tasks with twice the transitions (events ×2),
//! and twice the tasks. The ratios against the base show what memory grows with. A counting allocator
//! measures bytes; nothing here is a pass/fail timing test.
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use ecsgate::engine::{Engine, Input, Target};
use ecsgate::recording::parse_text;
use serde_json::{Value, json};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

const DEP: &str = "ecs-svc/2757582648257641111";
const STATUSES: [&str; 8] =
    ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"];

fn sample() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/events/task__stopped-scaling-activity-scheduler-exit137-arkime-2023.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// JSON Lines of a deployment with `tasks` tasks, each going through `transitions` states.
fn generate(tasks: usize, transitions: usize) -> (String, usize) {
    let base = sample();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut lines: Vec<String> = Vec::new();
    let dep = json!({"version":"0","id":"d0","detail-type":"ECS Deployment State Change","source":"aws.ecs","account":"1","time":"2025-01-01T00:00:00Z","region":"us-east-1",
        "resources":["arn:aws:ecs:us-east-1:1:service/c/api"],"detail":{"eventType":"INFO","eventName":"SERVICE_DEPLOYMENT_IN_PROGRESS","deploymentId":DEP,"updatedAt":"2025-01-01T00:00:00Z","reason":"in progress"}});
    lines.push(dep.to_string());
    for t in 0..tasks {
        let other = rng.u8(0..10) == 0;
        for step in 0..transitions {
            let mut v = base.clone();
            let d = &mut v["detail"];
            d["taskArn"] = json!(format!("arn:aws:ecs:us-east-1:1:task/c/{t:032x}"));
            d["clusterArn"] = json!("arn:aws:ecs:us-east-1:1:cluster/c");
            d["group"] = json!(if other { "service:other" } else { "service:api" });
            d["startedBy"] = json!(DEP);
            d["lastStatus"] = json!(STATUSES[step * STATUSES.len() / transitions]);
            d["version"] = json!(step + 1);
            let s = v.to_string();
            if rng.u8(0..10) == 0 {
                lines.push(s.clone()); // EventBridge duplicate
            }
            lines.push(s);
        }
    }
    // Local reordering, as SQS delivers: swap neighbours now and then.
    for i in 1..lines.len() - 1 {
        if rng.u8(0..8) == 0 {
            lines.swap(i, i + 1);
        }
    }
    let n = lines.len();
    let mut text = lines.join("\n");
    text.push('\n');
    (text, n)
}

fn run(label: &str, tasks: usize, transitions: usize, base_mem: Option<usize>) -> usize {
    let (text, events) = generate(tasks, transitions);
    let target = Target { cluster: Some("c".into()), service: Some("api".into()), deployment_id: Some(DEP.into()) };

    // parse + apply, best of 3
    let mut best = f64::MAX;
    let mut engine_bytes = 0;
    for _ in 0..3 {
        let before = LIVE.load(Relaxed);
        let start = Instant::now();
        let parsed = parse_text(&text);
        let mut e = Engine::new(target.clone(), 3);
        let mut notes = Vec::new();
        for i in parsed.inputs {
            e.apply(i, &mut notes);
            notes.clear();
        }
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        // The parsed inputs were consumed and freed: what is still live is the engine's state.
        engine_bytes = LIVE.load(Relaxed).saturating_sub(before);
        std::hint::black_box(&e);
    }
    // Baseline in the same process: serde_json only skimming the same lines (the parsing floor).
    let start = Instant::now();
    for line in text.lines() {
        let _: serde::de::IgnoredAny = serde_json::from_str(line).unwrap();
    }
    let floor = events as f64 / start.elapsed().as_secs_f64();
    // apply alone
    let parsed: Vec<Input> = parse_text(&text).inputs;
    let start = Instant::now();
    let mut e = Engine::new(target, 3);
    let mut notes = Vec::new();
    for i in parsed {
        e.apply(i, &mut notes);
        notes.clear();
    }
    let apply_secs = start.elapsed().as_secs_f64();
    std::hint::black_box(&e);
    let ratio = base_mem.map(|b| format!("  (× {:.2} of base)", engine_bytes as f64 / b as f64)).unwrap_or_default();
    println!(
        "{label:<34} {events:>7} events {:>6.1} MB in | parse+apply {:>9.0} ev/s ({:.2} × serde_json skim {:>9.0} ev/s) | apply {:>9.0} ev/s | engine heap {:>6.2} MB{ratio}",
        text.len() as f64 / 1e6,
        events as f64 / best,
        (events as f64 / best) / floor,
        floor,
        events as f64 / apply_secs,
        engine_bytes as f64 / 1e6,
    );
    engine_bytes
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("ecsgate replay benchmark (one thread; best of 3 for parse+apply)");
    let base = run("2,000 tasks × 8 transitions (base)", 2_000, 8, None);
    run("2,000 tasks × 16 transitions", 2_000, 16, Some(base));
    run("4,000 tasks × 8 transitions", 4_000, 8, Some(base));
    println!(
        "process peak heap: {:.1} MB (includes the input text and parsed events held by replay)",
        PEAK.load(Relaxed) as f64 / 1e6
    );
}
