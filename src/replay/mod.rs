//! `ecsgate replay`: recorded events → the same engine → the same verdict, no AWS involved.
//!
//! JSON Lines (what `--record`, SQS dumps and CloudWatch Logs text exports produce) are *streamed*: each
//! line is parsed and fed to the engine at once, so memory grows with the deployment's tasks, not with the
//! file. Which deployment to judge must be known before the first event is applied; when the flags (or a
//! recording's first line) do not say, a pre-scan pass infers it ([`infer`](crate::engine::infer)). That
//! pass parses only lines that can carry a deployment (task-event lines are skipped by a substring test)
//! and falls back to a full pass only when the deployment events alone cannot decide. A file is read
//! twice for that; standard input is then held in memory. Other shapes (a JSON array, pretty-printed
//! envelopes, a CloudWatch Logs `events` listing) are one document and are read whole.

pub mod read;

use std::io::{BufRead, Read};

use crate::app::drive::Driver;
use crate::cli::ReplayArgs;
use crate::engine::infer::{Inference, infer_target};
use crate::engine::{Engine, Outcome, Target};
use crate::error::AppError;
use crate::record::FORMAT_VERSION;
use crate::report::{Reporter, format_state};
use read::{Parsed, is_line_mode, parse_text};

pub fn run(args: ReplayArgs) -> u8 {
    let mut reporter = Reporter::new(args.output.output, args.output.quiet, false, args.output.github);
    match replay(&args, &mut reporter) {
        Ok(code) => code,
        Err(e) => {
            reporter.error(&e);
            e.exit_code()
        }
    }
}

/// What a replay read, besides the engine's state.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadStats {
    /// Pieces that were not JSON, or ECS-looking JSON that could not be read.
    pub malformed: usize,
    /// Valid JSON that is not an ECS event we consume.
    pub not_ecs: usize,
    /// JSON values found at all (0 = "no JSON in this input").
    pub json_values: usize,
    /// Passes over the input: 1 when the target was known up front, 2 or 3 with a pre-scan.
    pub passes: u32,
}

/// The result of [`replay_input`]: the drive after the last input (one engine per service; undecided
/// if the stream gave no verdict).
pub struct Replayed {
    pub driver: Driver,
    pub stats: ReadStats,
    /// Whether a deployment to judge was known (given, recorded or inferred).
    pub target_known: bool,
    /// The recording's format, when its start line is newer than this ecsgate reads.
    pub newer_format: Option<u32>,
}

impl Replayed {
    /// The first (for most recordings, the only) service's engine.
    pub fn engine(&self) -> &Engine {
        &self.driver.units[0].engine
    }
}

/// Why the input could not be replayed at all.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// The first line is not UTF-8: a compressed or binary file.
    NotUtf8,
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Opens the input afresh for each pass.
pub type Opener<'a> = dyn FnMut() -> std::io::Result<Box<dyn BufRead + 'a>> + 'a;

/// Replays an input: detects its shape, settles the target (flags, then the recording's first `start`
/// line, then inference) and feeds every input to one engine, handing each timeline note to `on_note`.
pub fn replay_input(
    open: &mut Opener<'_>,
    given: &Target,
    max_task_failures: u32,
    reporter: &mut Reporter,
) -> Result<Replayed, ReadError> {
    let mut r = open()?;
    let mut line = Vec::new();
    let mut head = Vec::new();
    // The first non-empty line decides the shape (and may be a recording's start line).
    let first = loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break None;
        }
        head.extend_from_slice(&line);
        let text = std::str::from_utf8(&line).map_err(|_| ReadError::NotUtf8)?.trim();
        if !text.is_empty() {
            break Some(text.to_string());
        }
    };
    if let Some(first) = first.as_deref()
        && !is_line_mode(first)
    {
        // One JSON document: read it whole.
        r.read_to_end(&mut head)?;
        let text = String::from_utf8(head).map_err(|_| ReadError::NotUtf8)?;
        return Ok(replay_document(&text, given, max_task_failures, reporter));
    }

    // Flags first, then the recording's first start line.
    let mut base = given.clone();
    let mut start_seen = false;
    // Only a short first line is parsed for it: a start record is a few hundred bytes, while a one-line
    // wrapper (`jq -c` of a log listing) can be the whole file and is parsed by the passes below anyway.
    if let Some(first) = first.as_deref().filter(|l| l.len() <= 64 * 1024) {
        let mut p = Parsed::default();
        p.line(first);
        if let Some(v) = p.newer_format {
            return Ok(refused(v, given, max_task_failures));
        }
        if let Some(start) = p.start {
            let targets = start.targets();
            if targets.len() > 1 && given.service.is_none() && given.deployment_id.is_none() {
                // A gate over several services: every target is named, no pre-scan is needed.
                let reader = Box::new(std::io::Cursor::new(head).chain(r));
                return replay_lines(reader, Driver::new(targets, max_task_failures), 1, true, reporter);
            }
            base = merge_start(&base, &start.first());
            start_seen = true;
        }
    }
    let mut passes = 1;
    let reader: Box<dyn BufRead + '_> = if base.deployment_id.is_some() && base.service.is_some() {
        // Known target: this reader is the only pass; the lines already read go first.
        Box::new(std::io::Cursor::new(head).chain(r))
    } else {
        let first_pass = Box::new(std::io::Cursor::new(head).chain(r));
        let (target, scans) = prescan(first_pass, open, base, start_seen)?;
        base = target;
        passes += scans;
        open()?
    };
    let target_known = base.deployment_id.is_some();
    replay_lines(reader, Driver::new(vec![base], max_task_failures), passes, target_known, reporter)
}

/// The replay pass proper: every line's inputs through the drive, as they are parsed.
fn replay_lines(
    reader: Box<dyn BufRead + '_>,
    mut driver: Driver,
    passes: u32,
    target_known: bool,
    reporter: &mut Reporter,
) -> Result<Replayed, ReadError> {
    driver.begin(reporter);
    let mut p = Parsed::default();
    for_each_line(reader, |line| {
        match line {
            Some(l) => p.line(l),
            None => p.malformed += 1,
        }
        for input in p.inputs.drain(..) {
            driver.apply(input, reporter);
        }
    })?;
    Ok(replayed(driver, p, passes, target_known, reporter))
}

/// The end of a replay: recorded log tails join their engines, the reader's counts become the stats.
fn replayed(mut driver: Driver, p: Parsed, passes: u32, target_known: bool, reporter: &mut Reporter) -> Replayed {
    for (service, tail) in p.log_tails {
        let unit = service
            .as_deref()
            .and_then(|s| driver.units.iter().position(|u| u.who.service.as_deref() == Some(s)))
            .unwrap_or(0);
        driver.set_log_tail(unit, tail, reporter);
    }
    let stats = ReadStats { malformed: p.malformed, not_ecs: p.not_ecs, json_values: p.json_values, passes };
    Replayed { driver, stats, target_known, newer_format: p.newer_format }
}

/// A recording this ecsgate cannot read: nothing is replayed.
fn refused(version: u32, given: &Target, max_task_failures: u32) -> Replayed {
    Replayed {
        driver: Driver::new(vec![given.clone()], max_task_failures),
        stats: ReadStats::default(),
        target_known: false,
        newer_format: Some(version),
    }
}

/// The pre-scan: the target from the recording's first start line and the inference rules. Returns the
/// target and the number of passes it took. The first pass continues the reader `replay_input` started;
/// later ones open the input again.
fn prescan<'a>(
    first_pass: Box<dyn BufRead + 'a>,
    open: &mut Opener<'a>,
    given: Target,
    mut start_seen: bool,
) -> Result<(Target, u32), ReadError> {
    let mut reader = Some(first_pass);
    let mut base = given;
    let mut passes = 0;
    let mut skip_tasks = true;
    loop {
        passes += 1;
        let mut inference = Inference::new(base.clone());
        let mut p = Parsed::default();
        let mut skipped = false;
        let mut late_start = None;
        let r = match reader.take() {
            Some(r) => r,
            None => open()?,
        };
        for_each_line(r, |line| {
            let Some(line) = line else { return };
            if skip_tasks && only_task_event(line) {
                skipped = true;
                return;
            }
            p.line(line);
            if let Some(start) = p.start.take()
                && !start_seen
            {
                start_seen = true;
                late_start = Some(start);
            }
            p.inputs.drain(..).for_each(|i| inference.see(&i));
        })?;
        if let Some(start) = late_start {
            // The start line came after events that were judged without it: scan again with it.
            base = merge_start(&base, &start.first());
            continue;
        }
        if skipped && !inference.decided_without_tasks() {
            // No deployment event decides: the task events' `startedBy` must (rule 5).
            skip_tasks = false;
            continue;
        }
        return Ok((inference.finish(), passes));
    }
}

/// A line that can only be a task event: the pre-scan need not parse it while deployment events decide.
fn only_task_event(line: &str) -> bool {
    use std::sync::LazyLock;
    static TASK: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("ECS Task State Change"));
    static DEPLOYMENT: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("SERVICE_DEPLOYMENT_"));
    static SNAPSHOT: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("service_snapshot"));
    let b = line.as_bytes();
    TASK.find(b).is_some() && DEPLOYMENT.find(b).is_none() && SNAPSHOT.find(b).is_none()
}

/// Calls `f` with each non-empty trimmed line (`None` for a line that is not UTF-8).
fn for_each_line(mut r: impl BufRead, mut f: impl FnMut(Option<&str>)) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        match std::str::from_utf8(&buf) {
            Ok(s) => {
                let s = s.trim();
                if !s.is_empty() {
                    f(Some(s));
                }
            }
            Err(_) => f(None),
        }
    }
}

fn merge_start(base: &Target, start: &Target) -> Target {
    Target {
        cluster: base.cluster.clone().or(start.cluster.clone()),
        service: base.service.clone().or(start.service.clone()),
        deployment_id: base.deployment_id.clone().or(start.deployment_id.clone()),
    }
}

/// A whole document (array, pretty-printed envelopes, a log listing): parsed at once, then applied.
fn replay_document(text: &str, given: &Target, max_task_failures: u32, reporter: &mut Reporter) -> Replayed {
    let mut parsed = parse_text(text);
    if let Some(v) = parsed.newer_format {
        return refused(v, given, max_task_failures);
    }
    let targets = match &parsed.start {
        Some(start) if start.targets().len() > 1 && given.service.is_none() && given.deployment_id.is_none() => {
            start.targets()
        }
        Some(start) => vec![infer_target(&parsed.inputs, &merge_start(given, &start.first()))],
        None => vec![infer_target(&parsed.inputs, given)],
    };
    let target_known = targets.iter().all(|t| t.deployment_id.is_some());
    let mut driver = Driver::new(targets, max_task_failures);
    driver.begin(reporter);
    for input in std::mem::take(&mut parsed.inputs) {
        driver.apply(input, reporter);
    }
    replayed(driver, parsed, 1, target_known, reporter)
}

fn replay(args: &ReplayArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let name = if args.file == "-" { "standard input" } else { args.file.as_str() };
    let given = Target {
        cluster: args.target.cluster.clone(),
        service: args.target.service.clone(),
        deployment_id: args.target.deployment_id.clone(),
    };
    // One line, as the issue asks for an unreadable file; the advice fits in it.
    let unreadable = |e: std::io::Error| {
        AppError::usage(format!("cannot read {name}: {e} (check the path; - reads standard input)"))
    };
    let max = args.target.max_task_failures;
    let result = if args.file == "-" {
        // Standard input cannot be read twice: it is held in memory when a pre-scan may be needed
        // (no deployment id and service from the flags); otherwise it streams like a file.
        if given.deployment_id.is_some() && given.service.is_some() {
            let mut once = Some(std::io::stdin().lock());
            let mut open = || -> std::io::Result<Box<dyn BufRead>> {
                once.take().map(|r| Box::new(r) as Box<dyn BufRead>).ok_or_else(|| std::io::Error::other("read twice"))
            };
            replay_input(&mut open, &given, max, reporter)
        } else {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(unreadable)?;
            let mut open = || -> std::io::Result<Box<dyn BufRead + '_>> { Ok(Box::new(&bytes[..])) };
            replay_input(&mut open, &given, max, reporter)
        }
    } else {
        let path = std::path::Path::new(&args.file);
        let mut open = || -> std::io::Result<Box<dyn BufRead>> {
            Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?)))
        };
        replay_input(&mut open, &given, max, reporter)
    };
    let Replayed { mut driver, stats, target_known, newer_format } = result.map_err(|e| match e {
        ReadError::Io(e) => unreadable(e),
        ReadError::NotUtf8 => AppError::usage(format!("{name} is not UTF-8 text (expected JSON events)"))
            .with_hint("decompress exports first (for example gunzip a CloudWatch Logs export from S3)"),
    })?;
    if let Some(v) = newer_format {
        return Err(AppError::usage(format!(
            "{name} was recorded by a newer ecsgate (record format {v}; this one reads up to {FORMAT_VERSION})"
        ))
        .with_hint("replay it with the ecsgate version that recorded it, or a newer one"));
    }
    if stats.json_values == 0 {
        return Err(AppError::usage(format!(
            "{name}: no JSON found (expected ECS events as JSON Lines, a JSON array, or a CloudWatch Logs export)"
        ))
        .with_hint("record events with `ecsgate wait --record FILE`, or export them from an EventBridge rule that logs to CloudWatch Logs"));
    }
    if stats.malformed + stats.not_ecs > 0 {
        reporter.warn(&format!("{name}: skipped {} malformed and {} non-ECS entries", stats.malformed, stats.not_ecs));
    }
    driver.finish_undecided(Outcome::TimedOut, |e| {
        if target_known {
            format!("the event stream ended with no verdict (last state: {})", format_state(&e.progress()))
        } else {
            format!("no deployment found in {name}: pass --deployment-id (and --service)")
        }
    });
    Ok(driver.conclude(reporter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const NEW: &str = "ecs-svc/2757582648257641111";

    fn sample(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn deployment(name: &str) -> String {
        let mut v = sample("deployment__in-progress-with-clusterarn-autoptic-trimmed.json");
        v["resources"] = json!(["arn:aws:ecs:us-east-1:1:service/shop/api"]);
        v["detail"]["eventName"] = json!(name);
        v["detail"]["deploymentId"] = json!(NEW);
        v["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:1:cluster/shop");
        v.to_string()
    }

    fn failed_task(id: &str) -> String {
        let mut v = sample("task__stopped-essential-exit1-defra.json");
        v["detail"]["taskArn"] = json!(format!("arn:aws:ecs:us-east-1:1:task/shop/{id}"));
        v["detail"]["group"] = json!("service:api");
        v["detail"]["startedBy"] = json!(NEW);
        v["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:1:cluster/shop");
        v.to_string()
    }

    /// Replays `lines` from memory, counting how often the input was opened.
    fn run(lines: &[String], given: Target) -> (Replayed, u32) {
        let text = lines.join("\n");
        let mut opened = 0;
        let mut open = || -> std::io::Result<Box<dyn BufRead + '_>> {
            opened += 1;
            Ok(Box::new(text.as_bytes()))
        };
        let mut quiet = Reporter::with_sinks(Vec::new());
        let r = replay_input(&mut open, &given, 3, &mut quiet).expect("replay");
        (r, opened)
    }

    fn outcome(r: &Replayed) -> Option<Outcome> {
        r.engine().verdict().map(|v| v.outcome)
    }

    #[test]
    fn a_target_named_by_flags_is_replayed_in_one_pass() {
        let lines =
            [deployment("SERVICE_DEPLOYMENT_IN_PROGRESS"), failed_task("a"), failed_task("b"), failed_task("c")];
        let given = Target { service: Some("api".into()), deployment_id: Some(NEW.into()), cluster: None };
        let (r, opened) = run(&lines, given);
        assert_eq!((r.stats.passes, opened), (1, 1));
        assert_eq!(outcome(&r), Some(Outcome::Failed));
    }

    #[test]
    fn a_recordings_start_line_names_the_target_without_a_prescan() {
        let start = json!({"type": "start", "service": "api", "deployment_id": NEW}).to_string();
        let lines = [start, deployment("SERVICE_DEPLOYMENT_COMPLETED")];
        let (r, opened) = run(&lines, Target::default());
        assert_eq!((r.stats.passes, opened), (1, 1));
        assert_eq!(outcome(&r), Some(Outcome::Succeeded));
    }

    #[test]
    fn deployment_events_let_the_prescan_skip_task_lines() {
        let lines =
            [deployment("SERVICE_DEPLOYMENT_IN_PROGRESS"), failed_task("a"), failed_task("b"), failed_task("c")];
        let (r, opened) = run(&lines, Target::default());
        assert_eq!((r.stats.passes, opened), (2, 2), "one pre-scan, one replay");
        assert_eq!(r.engine().verdict().unwrap().deployment_id.as_deref(), Some(NEW));
        assert_eq!(outcome(&r), Some(Outcome::Failed));
    }

    #[test]
    fn without_deployment_events_the_prescan_reads_the_tasks_after_all() {
        let lines = [failed_task("a"), failed_task("b"), failed_task("c")];
        let (r, opened) = run(&lines, Target::default());
        assert_eq!((r.stats.passes, opened), (3, 3), "a skipping pre-scan, a full one, the replay");
        assert_eq!(r.engine().verdict().unwrap().deployment_id.as_deref(), Some(NEW));
        assert_eq!(outcome(&r), Some(Outcome::Failed));
    }

    #[test]
    fn only_lines_that_cannot_hold_a_deployment_are_skipped_by_the_prescan() {
        assert!(only_task_event(&failed_task("a")));
        assert!(!only_task_event(&deployment("SERVICE_DEPLOYMENT_IN_PROGRESS")));
        // A task whose reason mentions a deployment event, and a wrapper holding both kinds: parsed.
        let mut odd: Value = serde_json::from_str(&failed_task("a")).unwrap();
        odd["detail"]["stoppedReason"] = json!("after SERVICE_DEPLOYMENT_FAILED");
        assert!(!only_task_event(&odd.to_string()));
        let wrapper =
            json!({"events": [{"message": failed_task("a")}, {"message": deployment("SERVICE_DEPLOYMENT_COMPLETED")}]});
        assert!(!only_task_event(&wrapper.to_string()));
    }

    #[test]
    fn counts_of_skipped_input_come_from_the_replay_pass_only() {
        let lines = [
            deployment("SERVICE_DEPLOYMENT_IN_PROGRESS"),
            "{not json".to_string(),
            r#"{"source":"aws.s3","detail-type":"Object Created","detail":{}}"#.to_string(),
            deployment("SERVICE_DEPLOYMENT_COMPLETED"),
        ];
        let (r, _) = run(&lines, Target::default());
        assert_eq!((r.stats.malformed, r.stats.not_ecs, r.stats.json_values), (1, 1, 3));
        assert_eq!(outcome(&r), Some(Outcome::Succeeded));
    }
}
