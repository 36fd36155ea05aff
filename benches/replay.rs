//! Replay throughput and memory on a generated large deployment.
//!
//! `cargo bench --bench replay` writes each generated deployment to a file and replays it through the
//! same code as `ecsgate replay FILE` (streamed JSON Lines), twice: with the target inferred (a pre-scan
//! pass, then the replay) and with it named by flags (one pass). It prints events/s, the peak heap of the
//! replay (the input is read from the file, not held) and the engine's heap after it, for three shapes:
//! the base (2,000 tasks × 8 transitions, 10 % duplicates, 10 % tasks of another service, locally
//! reordered), the same tasks with twice the transitions (events ×2), and twice the tasks. The ratios
//! against the base show what memory grows with. As same-process baselines it also prints the engine's
//! apply alone and serde_json skimming the same lines (the parsing floor). A counting allocator measures
//! bytes; nothing here is a pass/fail timing test.
//!
//! `ECSGATE_BENCH_SMOKE=1` (CI, through `scripts/bench.sh --smoke`): the same three shapes at a tenth of
//! the tasks, once each — it proves the bench runs and prints its figures, not how fast.
//! `ECSGATE_BENCH_WRITE=DIR`: only write the three shapes to DIR (base.jsonl, events2.jsonl, tasks2.jsonl)
//! for `scripts/bench-replay-binary.sh`, which times the built binary on them (README's release figures).
#![allow(clippy::print_stdout)] // a benchmark prints its figures

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use ecsgate::engine::{Engine, Input, Target};
use ecsgate::replay::read::parse_text;
use ecsgate::replay::{Replayed, replay_input};
use ecsgate::report::Reporter;
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

/// Replays `path` as `ecsgate replay` does; returns the result, seconds and the peak heap above the start.
fn replay_file(path: &std::path::Path, given: &Target) -> (Replayed, f64, usize) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let start = Instant::now();
    let mut open = || -> std::io::Result<Box<dyn std::io::BufRead>> {
        Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?)))
    };
    // No sinks: the figures are the reader's and the engine's, not the terminal's.
    let mut reporter = Reporter::with_sinks(Vec::new());
    let r = replay_input(&mut open, given, 3, &mut reporter).expect("replay");
    let secs = start.elapsed().as_secs_f64();
    (r, secs, PEAK.load(Relaxed) - before)
}

struct Figures {
    replay_peak: usize,
    engine: usize,
}

/// Best of 3 normally, one run in smoke mode.
fn repeats() -> usize {
    if smoke() { 1 } else { 3 }
}

fn smoke() -> bool {
    std::env::var_os("ECSGATE_BENCH_SMOKE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The three shapes: (label, file name, tasks, transitions); a tenth of the tasks in smoke mode.
fn shapes() -> [(&'static str, &'static str, usize, usize); 3] {
    let k = if smoke() { 10 } else { 1 };
    [
        ("2,000 tasks × 8 transitions (base)", "base.jsonl", 2_000 / k, 8),
        ("2,000 tasks × 16 transitions (events × 2)", "events2.jsonl", 2_000 / k, 16),
        ("4,000 tasks × 8 transitions (tasks × 2)", "tasks2.jsonl", 4_000 / k, 8),
    ]
}

fn run(label: &str, tasks: usize, transitions: usize, base: Option<&Figures>) -> Figures {
    let (text, events) = generate(tasks, transitions);
    let path = std::env::temp_dir().join(format!("ecsgate-bench-{}-{tasks}x{transitions}.jsonl", std::process::id()));
    std::fs::write(&path, &text).expect("write the generated deployment");
    let named = Target {
        cluster: Some("c".into()),
        service: Some("api".into()),
        deployment_id: Some(DEP.into()),
        until: None,
        rollback_of: None,
    };
    let ratio = |now: usize, then: Option<usize>| {
        then.map(|b| format!(" (× {:.2} of base)", now as f64 / b as f64)).unwrap_or_default()
    };
    println!("{label}: {events} events, {:.1} MB", text.len() as f64 / 1e6);

    let mut figures = Figures { replay_peak: 0, engine: 0 };
    for (what, given) in
        [("replay FILE (target inferred)", Target::default()), ("replay FILE --deployment-id …", named.clone())]
    {
        // Best of 3; the peak heap is the same every time.
        let mut best = f64::MAX;
        let (mut peak, mut passes) = (0, 0);
        for _ in 0..repeats() {
            let (r, secs, p) = replay_file(&path, &given);
            assert_eq!(r.engine().stats().inputs as usize, events, "every event reached the engine");
            best = best.min(secs);
            peak = p;
            passes = r.stats.passes;
            if what.contains("inferred") {
                let before = LIVE.load(Relaxed);
                drop(r);
                figures.engine = before - LIVE.load(Relaxed);
            }
        }
        if what.contains("inferred") {
            figures.replay_peak = peak;
        }
        println!(
            "  {what:<32} {:>9.0} ev/s  ({passes} pass{})  peak heap {:>6.2} MB{}",
            events as f64 / best,
            if passes == 1 { "" } else { "es" },
            peak as f64 / 1e6,
            if what.contains("inferred") { ratio(peak, base.map(|b| b.replay_peak)) } else { String::new() },
        );
    }
    std::fs::remove_file(&path).ok();

    // Same-process baselines: the engine alone on pre-parsed inputs, and serde_json only skimming the lines.
    let parsed: Vec<Input> = parse_text(&text).inputs;
    let start = Instant::now();
    let mut e = Engine::new(named, 3);
    let mut notes = Vec::new();
    for i in parsed {
        e.apply(i, &mut notes);
        notes.clear();
    }
    let apply = events as f64 / start.elapsed().as_secs_f64();
    std::hint::black_box(&e);
    let start = Instant::now();
    for line in text.lines() {
        let _: serde::de::IgnoredAny = serde_json::from_str(line).unwrap();
    }
    let floor = events as f64 / start.elapsed().as_secs_f64();
    println!(
        "  {:<32} {apply:>9.0} ev/s  engine heap after replay {:.2} MB{}",
        "engine apply alone",
        figures.engine as f64 / 1e6,
        ratio(figures.engine, base.map(|b| b.engine))
    );
    println!("  {:<32} {floor:>9.0} ev/s", "serde_json skim (parsing floor)");
    figures
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Some(dir) = std::env::var_os("ECSGATE_BENCH_WRITE") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("create ECSGATE_BENCH_WRITE");
        for (label, file, tasks, transitions) in shapes() {
            let (text, events) = generate(tasks, transitions);
            std::fs::write(dir.join(file), &text).expect("write the generated deployment");
            println!("{}: {label}, {events} events, {:.1} MB", dir.join(file).display(), text.len() as f64 / 1e6);
        }
        return;
    }
    let smoke = if smoke() { ", smoke: a tenth of the tasks, one run" } else { "" };
    println!("ecsgate replay benchmark (one thread; best of {}{smoke})", repeats());
    let [first, rest @ ..] = shapes();
    let base = run(first.0, first.2, first.3, None);
    for (label, _, tasks, transitions) in rest {
        run(label, tasks, transitions, Some(&base));
    }
}
