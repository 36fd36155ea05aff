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
use crate::engine::infer::{Services, infer_target};
use crate::engine::{Engine, Outcome, Target};
use crate::error::AppError;
use crate::record::FORMAT_VERSION;
use crate::report::{Reporter, format_state};
use read::{Parsed, is_line_mode, parse_text};

pub fn run(args: ReplayArgs) -> u8 {
    let mut reporter = Reporter::new(args.output.output, args.output.quiet, false, args.output.github);
    reporter.junit_to(args.junit.as_deref());
    run_with(&args, &mut reporter)
}

/// `ecsgate replay` into a given reporter (the sinks' snapshot tests use this very path).
pub fn run_with(args: &ReplayArgs, reporter: &mut Reporter) -> u8 {
    match replay(args, reporter) {
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
    /// Lines longer than [`LINE_CAP`], skipped.
    pub oversized: usize,
    /// ECS inputs (events, snapshots) applied: 0 = JSON, but nothing of ECS's.
    pub inputs: usize,
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
        self.driver.engine(0)
    }
}

/// Why the input could not be replayed at all.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// A compressed or binary file (magic bytes, or NUL bytes at the start).
    NotUtf8,
    /// One JSON document (an array, pretty-printed envelopes) larger than [`LINE_CAP`].
    TooLarge,
    /// `--service` named a service the input does not hold (the services it holds).
    UnknownService {
        missing: Vec<String>,
        present: Vec<String>,
    },
    /// Input read once, with no deployment named, larger than [`SPOOL_CAP`].
    TooLargeToSpool,
}

/// The longest line — or single JSON document — replay reads; a longer line is skipped and counted.
/// The largest real event is 256 KB (EventBridge's limit), so this only ever stops garbage.
pub const LINE_CAP: usize = 16 * 1024 * 1024;

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
    replay_input_from(open, true, given, &[], max_task_failures, reporter)
}

/// [`replay_input`] for input that may be readable only once (`rereadable: false`: standard input, a
/// pipe, a FIFO) and for `--service` names (`wanted`; empty: every service the input holds). Input read
/// once is streamed when the deployment is known (`--deployment-id`, or a recording's start line);
/// otherwise it is spooled to a temporary file for the pre-scan — memory never grows with the input.
pub fn replay_input_from(
    open: &mut Opener<'_>,
    rereadable: bool,
    given: &Target,
    wanted: &[String],
    max_task_failures: u32,
    reporter: &mut Reporter,
) -> Result<Replayed, ReadError> {
    let mut r = open()?;
    if looks_binary(r.fill_buf()?) {
        return Err(ReadError::NotUtf8);
    }
    let mut line = Vec::new();
    let mut head = Vec::new();
    let mut skipped_long = 0;
    // The first non-empty line decides the shape (and may be a recording's start line).
    let first = loop {
        match read_line_capped(&mut r, &mut line)? {
            LineRead::Eof => break None,
            LineRead::TooLong => skipped_long += 1,
            LineRead::Line => {
                head.extend_from_slice(&line);
                // A line that is not UTF-8 is counted by the replay pass, which reads `head` again.
                let Ok(text) = std::str::from_utf8(&line) else { continue };
                if !text.trim().is_empty() {
                    break Some(text.trim().to_string());
                }
            }
        }
    };
    if let Some(first) = first.as_deref()
        && !is_line_mode(first)
    {
        // One JSON document: read it whole, up to the cap.
        (&mut r).take((LINE_CAP + 1 - head.len().min(LINE_CAP)) as u64).read_to_end(&mut head)?;
        if head.len() > LINE_CAP {
            return Err(ReadError::TooLarge);
        }
        let text = String::from_utf8(head).map_err(|_| ReadError::NotUtf8)?;
        let mut out = replay_document(&text, given, wanted, max_task_failures, reporter)?;
        out.stats.oversized += skipped_long;
        return Ok(out);
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
            // The recording's own targets settle each service's deployment; `--service` picks among them.
            let targets = select(with_given_until(start.targets(), given), wanted)?;
            if targets.len() > 1 && given.deployment_id.is_none() {
                // A gate over several services: every target is named, no pre-scan is needed.
                let reader = Box::new(std::io::Cursor::new(head).chain(r));
                return replay_lines(reader, Driver::new(targets, max_task_failures), 1, true, reporter);
            }
            base = merge_start(&base, &targets[0]);
            start_seen = true;
        }
    }
    if base.deployment_id.is_some() {
        // Known target: this reader is the only pass (the lines already read go first), and nothing is
        // held, whatever the input — standard input included.
        let reader = Box::new(std::io::Cursor::new(head).chain(r));
        let mut out = replay_lines(reader, Driver::new(vec![base], max_task_failures), 1, true, reporter)?;
        out.stats.oversized += skipped_long;
        return Ok(out);
    }
    // Read once: spool it to a temporary file, so the pre-scan can read it again from there.
    let (spool, first_pass): (Option<Spool>, Option<Box<dyn BufRead + '_>>) = if rereadable {
        (None, Some(Box::new(std::io::Cursor::new(head).chain(r))))
    } else {
        (Some(Spool::new(std::io::Cursor::new(head).chain(r))?), None)
    };
    let first_pass = match (first_pass, &spool) {
        (Some(f), _) => f,
        (None, Some(s)) => s.open()?,
        (None, None) => unreachable!("a reader or a spool"),
    };
    let mut reopen = || -> std::io::Result<Box<dyn BufRead + '_>> {
        match &spool {
            Some(s) => s.open(),
            None => open(),
        }
    };
    let wanted: Vec<String> = if wanted.is_empty() { base.service.iter().cloned().collect() } else { wanted.to_vec() };
    let (targets, scans) = prescan(first_pass, &mut reopen, base, &wanted, start_seen)?;
    let target_known = targets.iter().all(|t| t.deployment_id.is_some());
    let reader = reopen()?;
    let mut out = replay_lines(reader, Driver::new(targets, max_task_failures), 1 + scans, target_known, reporter)?;
    out.stats.oversized += skipped_long;
    Ok(out)
}

/// Standard input or a pipe, copied to a temporary file so it can be read twice without holding it in
/// memory. The file is private (0600) and unlinked as soon as it is created: nothing is left in the
/// temporary directory, however ecsgate ends; the passes read clones of the one open file.
struct Spool {
    file: std::fs::File,
}

/// The most a spool takes: input read once that is larger, with no deployment named, is refused (a
/// stream that never ends must not fill the disk).
pub const SPOOL_CAP: u64 = 1 << 30;

impl Spool {
    fn new(r: impl Read) -> Result<Spool, ReadError> {
        use std::os::unix::fs::OpenOptionsExt;
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ecsgate-replay-{}-{n}.jsonl", std::process::id()));
        let mut file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path)?;
        std::fs::remove_file(&path)?;
        let copied = std::io::copy(&mut r.take(SPOOL_CAP + 1), &mut file)?;
        if copied > SPOOL_CAP {
            return Err(ReadError::TooLargeToSpool);
        }
        Ok(Spool { file })
    }

    fn open(&self) -> std::io::Result<Box<dyn BufRead + 'static>> {
        use std::io::Seek;
        // Clones share the offset: the passes run one after the other, each from the start.
        let mut f = self.file.try_clone()?;
        f.seek(std::io::SeekFrom::Start(0))?;
        Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f)))
    }
}

/// The targets `--service` names among a recording's; a name the recording does not hold is refused,
/// naming the services it does.
fn select(targets: Vec<Target>, wanted: &[String]) -> Result<Vec<Target>, ReadError> {
    if wanted.is_empty() {
        return Ok(targets);
    }
    let name = |t: &Target| t.service.as_deref().map(|s| crate::engine::arn_name(s).to_string());
    let missing: Vec<String> =
        wanted.iter().filter(|w| !targets.iter().any(|t| name(t).as_ref() == Some(*w))).cloned().collect();
    if !missing.is_empty() {
        return Err(ReadError::UnknownService { missing, present: targets.iter().filter_map(name).collect() });
    }
    Ok(wanted.iter().filter_map(|w| targets.iter().find(|t| name(t).as_ref() == Some(w)).cloned()).collect())
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
    let mut oversized = 0;
    let mut applied = 0;
    for_each_line(reader, |line| {
        match line {
            LineIn::Text(l) => p.line(l),
            LineIn::NotUtf8 => p.malformed += 1,
            LineIn::TooLong => oversized += 1,
        }
        for input in p.inputs.drain(..) {
            applied += 1;
            driver.apply(input, reporter);
        }
    })?;
    let mut out = replayed(driver, p, passes, target_known, reporter);
    out.stats.oversized = oversized;
    out.stats.inputs = applied;
    Ok(out)
}

/// The end of a replay: recorded diagnoses join their engines, the reader's counts become the stats.
fn replayed(mut driver: Driver, p: Parsed, passes: u32, target_known: bool, reporter: &mut Reporter) -> Replayed {
    for (service, d) in p.diagnoses {
        let unit = service.as_deref().and_then(|s| driver.unit_of_service(s)).unwrap_or(0);
        driver.diagnosed(unit, d, reporter);
    }
    let stats = ReadStats {
        malformed: p.malformed,
        not_ecs: p.not_ecs,
        json_values: p.json_values,
        passes,
        oversized: 0,
        inputs: 0,
    };
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
    open: &mut dyn FnMut() -> std::io::Result<Box<dyn BufRead + 'a>>,
    given: Target,
    wanted: &[String],
    mut start_seen: bool,
) -> Result<(Vec<Target>, u32), ReadError> {
    let mut reader = Some(first_pass);
    let mut base = given;
    let mut passes = 0;
    let mut skip_tasks = true;
    loop {
        passes += 1;
        let mut inference = Services::new(base.clone(), wanted.to_vec());
        let mut p = Parsed::default();
        let mut skipped = false;
        let mut late_start = None;
        let r = match reader.take() {
            Some(r) => r,
            None => open()?,
        };
        for_each_line(r, |line| {
            let LineIn::Text(line) = line else { return };
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
        let missing = inference.missing();
        if !missing.is_empty() {
            return Err(ReadError::UnknownService { missing, present: inference.seen() });
        }
        let targets = inference.finish();
        // No service named at all (only standalone tasks, or nothing of ECS's): one undecided target.
        return Ok((if targets.is_empty() { vec![base] } else { targets }, passes));
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

/// A line as [`for_each_line`] hands it on.
enum LineIn<'a> {
    /// Trimmed, non-empty.
    Text(&'a str),
    NotUtf8,
    /// Longer than [`LINE_CAP`]: its bytes were never held.
    TooLong,
}

/// Calls `f` with each non-empty line; memory is bounded by [`LINE_CAP`] whatever the input.
fn for_each_line(mut r: impl BufRead, mut f: impl FnMut(LineIn<'_>)) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        match read_line_capped(&mut r, &mut buf)? {
            LineRead::Eof => return Ok(()),
            LineRead::TooLong => f(LineIn::TooLong),
            LineRead::Line => match std::str::from_utf8(&buf) {
                Ok(s) => {
                    let s = s.trim();
                    if !s.is_empty() {
                        f(LineIn::Text(s));
                    }
                }
                Err(_) => f(LineIn::NotUtf8),
            },
        }
        // A huge line must not keep its buffer for the rest of the file.
        if buf.capacity() > 1024 * 1024 {
            buf = Vec::with_capacity(64 * 1024);
        }
    }
}

enum LineRead {
    Eof,
    /// `buf` holds the line (with its newline, if any).
    Line,
    TooLong,
}

/// Reads one line into `buf`, holding at most [`LINE_CAP`] bytes: the rest of a longer line is read
/// and dropped.
fn read_line_capped(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = r.fill_buf()?;
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => LineRead::Eof,
                (true, true) => LineRead::TooLong,
                (true, false) => LineRead::Line,
            });
        }
        any = true;
        let (used, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + used > LINE_CAP {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..used]);
            }
        }
        r.consume(used);
        if done {
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

/// Compressed or binary input (gzip, zstd, bzip2, xz, zip; NUL bytes): refused as a whole, where one
/// line that is not UTF-8 in a text file is only skipped.
fn looks_binary(start: &[u8]) -> bool {
    const MAGIC: [&[u8]; 5] = [b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04"];
    MAGIC.iter().any(|m| start.starts_with(m)) || start.iter().take(512).any(|b| *b == 0)
}

/// A recording's targets, with `--until` from the command line where it was given.
fn with_given_until(mut targets: Vec<Target>, given: &Target) -> Vec<Target> {
    if given.until.is_some() {
        for t in &mut targets {
            t.until = given.until;
        }
    }
    targets
}

fn merge_start(base: &Target, start: &Target) -> Target {
    Target {
        cluster: base.cluster.clone().or(start.cluster.clone()),
        service: base.service.clone().or(start.service.clone()),
        deployment_id: base.deployment_id.clone().or(start.deployment_id.clone()),
        until: base.until.or(start.until),
        rollback_of: None,
    }
}

/// A whole document (array, pretty-printed envelopes, a log listing): parsed at once, then applied.
fn replay_document(
    text: &str,
    given: &Target,
    wanted: &[String],
    max_task_failures: u32,
    reporter: &mut Reporter,
) -> Result<Replayed, ReadError> {
    let mut parsed = parse_text(text);
    if let Some(v) = parsed.newer_format {
        return Ok(refused(v, given, max_task_failures));
    }
    let targets = match &parsed.start {
        Some(start) => {
            let targets = select(with_given_until(start.targets(), given), wanted)?;
            if targets.len() > 1 && given.deployment_id.is_none() {
                targets
            } else {
                vec![infer_target(&parsed.inputs, &merge_start(given, &targets[0]))]
            }
        }
        None if given.deployment_id.is_some() => vec![infer_target(&parsed.inputs, given)],
        None => {
            let wanted: Vec<String> =
                if wanted.is_empty() { given.service.iter().cloned().collect() } else { wanted.to_vec() };
            let mut services = Services::new(given.clone(), wanted);
            parsed.inputs.iter().for_each(|i| services.see(i));
            let missing = services.missing();
            if !missing.is_empty() {
                return Err(ReadError::UnknownService { missing, present: services.seen() });
            }
            let t = services.finish();
            if t.is_empty() { vec![given.clone()] } else { t }
        }
    };
    let target_known = targets.iter().all(|t| t.deployment_id.is_some());
    let mut driver = Driver::new(targets, max_task_failures);
    driver.begin(reporter);
    let inputs = std::mem::take(&mut parsed.inputs);
    let applied = inputs.len();
    for input in inputs {
        driver.apply(input, reporter);
    }
    let mut out = replayed(driver, parsed, 1, target_known, reporter);
    out.stats.inputs = applied;
    Ok(out)
}

fn replay(args: &ReplayArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let name = if args.file == "-" { "standard input" } else { args.file.as_str() };
    // `--service` as `wait` takes it: repeated, commas, `cluster/name`, ARNs.
    let services = if args.target.service.is_empty() {
        Vec::new()
    } else {
        crate::app::settings::parse_services(&args.target.service, args.target.cluster.as_deref().unwrap_or(""))?.0
    };
    if services.len() > 1 && args.target.deployment_id.is_some() {
        return Err(AppError::usage(format!(
            "--deployment-id names one deployment, but {} services were given",
            services.len()
        ))
        .with_hint("drop --deployment-id to judge each service's own deployment, or give one --service"));
    }
    let wanted: Vec<String> = services.iter().map(|s| s.name().to_string()).collect();
    let cluster = args.target.cluster.clone().or_else(|| match services.as_slice() {
        [one] if !one.cluster.is_empty() => Some(one.cluster.clone()),
        _ => None,
    });
    let given = Target {
        cluster,
        service: (wanted.len() == 1).then(|| wanted[0].clone()),
        deployment_id: args.target.deployment_id.clone(),
        until: args.until.map(Into::into),
        rollback_of: None,
    };
    // One line, as the issue asks for an unreadable file; the advice fits in it.
    let unreadable = |e: std::io::Error| {
        AppError::usage(format!("cannot read {name}: {e} (check the path; - reads standard input)"))
    };
    let max = args.target.max_task_failures;
    // Standard input, pipes and FIFOs (`<(zcat …)`, /dev/stdin) can be read once: one pass, never held.
    // A regular file can be read again, so a pre-scan costs a second read, not memory.
    let result = if args.file == "-" {
        let mut once = Some(std::io::stdin().lock());
        let mut open = || -> std::io::Result<Box<dyn BufRead>> {
            once.take().map(|r| Box::new(r) as Box<dyn BufRead>).ok_or_else(|| std::io::Error::other("read twice"))
        };
        replay_input_from(&mut open, false, &given, &wanted, max, reporter)
    } else {
        let path = std::path::Path::new(&args.file);
        let rereadable = std::fs::metadata(path).map_err(unreadable)?.is_file();
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(unreadable(std::io::Error::other("is a directory")));
        }
        let mut open = || -> std::io::Result<Box<dyn BufRead>> {
            Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?)))
        };
        replay_input_from(&mut open, rereadable, &given, &wanted, max, reporter)
    };
    let undecided = Outcome::TimedOut;
    Ok(settle(name, result, undecided, reporter)?.conclude(reporter).exit_code)
}

/// Judges events held in memory (`text`: JSON Lines, a recording's start line first) exactly as
/// `ecsgate replay` judges a file — the same reading, errors and verdicts — up to the verdicts, not yet
/// reported (`Driver::conclude`), so a caller may add a diagnosis first (`explain` reads the culprit's
/// log lines). `undecided` is the outcome of a deployment the events leave without a verdict.
/// `ecsgate history` and `explain` judge the hub's events with it.
pub fn read_text(
    name: &str,
    text: &str,
    given: &Target,
    max_task_failures: u32,
    undecided: Outcome,
    reporter: &mut Reporter,
) -> Result<Driver, AppError> {
    let mut open = || -> std::io::Result<Box<dyn BufRead + '_>> { Ok(Box::new(text.as_bytes())) };
    let result = replay_input_from(&mut open, true, given, &[], max_task_failures, reporter);
    settle(name, result, undecided, reporter)
}

/// What every replay does once the input is read: a clear error for input that cannot be judged, a
/// warning for what was skipped, then every service decided (`undecided` for a deployment without a
/// verdict); the caller reports it (`Driver::conclude`).
fn settle(
    name: &str,
    result: Result<Replayed, ReadError>,
    undecided: Outcome,
    reporter: &mut Reporter,
) -> Result<Driver, AppError> {
    let unreadable = |e: std::io::Error| {
        AppError::usage(format!("cannot read {name}: {e} (check the path; - reads standard input)"))
    };
    let Replayed { mut driver, stats, target_known, newer_format } = result.map_err(|e| match e {
        ReadError::Io(e) => unreadable(e),
        ReadError::NotUtf8 => {
            AppError::usage(format!("{name} is compressed or binary, not text (expected JSON events)"))
                .with_hint("decompress exports first (for example gunzip a CloudWatch Logs export from S3)")
        }
        ReadError::TooLarge => {
            AppError::usage(format!("{name} is one JSON document larger than {} MiB", LINE_CAP / (1024 * 1024)))
                .with_hint("convert it to JSON Lines, for example jq -c '.[]' FILE > events.jsonl")
        }
        ReadError::TooLargeToSpool => AppError::usage(format!(
            "{name} is larger than {} GiB and names no deployment, so it cannot be read twice to infer one",
            SPOOL_CAP >> 30
        ))
        .with_hint("pass --deployment-id (and --service): then it is streamed, whatever its size"),
        ReadError::UnknownService { missing, present } => AppError::usage(format!(
            "{name} holds no service {} (it holds: {})",
            missing.join(", "),
            if present.is_empty() { "none".to_string() } else { present.join(", ") }
        ))
        .with_hint("give --service as the recording names it (a name, cluster/name or ARN)"),
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
    if stats.inputs == 0 && newer_format.is_none() {
        return Err(AppError::usage(format!(
            "{name}: no ECS event found ({} JSON value(s) read; skipped {} malformed and {} non-ECS entries)",
            stats.json_values, stats.malformed, stats.not_ecs
        ))
        .with_hint("replay ECS EventBridge events (detail-type ECS Deployment/Task State Change, ECS Service Action) or an ecsgate recording"));
    }
    if stats.malformed + stats.not_ecs > 0 {
        reporter.warn(&format!("{name}: skipped {} malformed and {} non-ECS entries", stats.malformed, stats.not_ecs));
    }
    if stats.oversized > 0 {
        reporter.warn(&format!(
            "{name}: skipped {} line(s) longer than {} MiB",
            stats.oversized,
            LINE_CAP / (1024 * 1024)
        ));
    }
    driver.finish_undecided(undecided, |e| {
        if target_known {
            format!("the event stream ended with no verdict (last state: {})", format_state(&e.progress()))
        } else {
            format!("no deployment found in {name}: pass --deployment-id (and --service)")
        }
    });
    Ok(driver)
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
        let given = Target {
            service: Some("api".into()),
            deployment_id: Some(NEW.into()),
            cluster: None,
            until: None,
            rollback_of: None,
        };
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
