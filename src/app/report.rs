//! `ecsgate report FILES…`: each recording replayed as `ecsgate replay` does (the same engines and
//! verdicts), its services' deployments collected with their times, and DORA's figures printed
//! ([`crate::dora`]). No AWS.

use std::cell::RefCell;
use std::rc::Rc;

use crate::cli::{ReportArgs, ReportFormat};
use crate::dora::{Deployment, figures, markdown};
use crate::engine::Note;
use crate::error::AppError;
use crate::report::{GateReport, Reporter, Sink, Who, note_time};

/// What one replay told: per service, the first event time and the time of its decision.
#[derive(Default)]
struct Seen {
    /// By the gate's position: (first time, time at the decision).
    spans: Vec<(Option<i64>, Option<i64>)>,
    last_at: Vec<Option<i64>>,
    report: Option<GateReport>,
    error: Option<String>,
}

struct Collect(Rc<RefCell<Seen>>);

impl Sink for Collect {
    fn begin(&mut self, units: &[Who]) {
        let mut s = self.0.borrow_mut();
        s.spans = vec![(None, None); units.len().max(1)];
        s.last_at = vec![None; units.len().max(1)];
    }

    fn note(&mut self, who: &Who, n: &Note) {
        let mut s = self.0.borrow_mut();
        let i = who.index;
        if s.spans.len() <= i {
            s.spans.resize(i + 1, (None, None));
            s.last_at.resize(i + 1, None);
        }
        if let Some(at) = note_time(n) {
            s.spans[i].0 = Some(s.spans[i].0.map_or(at, |a| a.min(at)));
            s.last_at[i] = Some(s.last_at[i].map_or(at, |b| b.max(at)));
        }
        if matches!(n, Note::Decision { .. }) {
            s.spans[i].1 = s.last_at[i];
        }
    }

    fn warn(&mut self, _msg: &str) {}
    fn error(&mut self, e: &AppError) {
        self.0.borrow_mut().error = Some(e.message.clone());
    }

    fn report(&mut self, r: &GateReport) {
        self.0.borrow_mut().report = Some(r.clone());
    }
}

pub fn run(args: ReportArgs) -> u8 {
    let mut out = Reporter::new(crate::cli::OutputFormat::Human, false, false, Some(false));
    match collect(&args.files) {
        Ok(deployments) => {
            let f = figures(&deployments);
            let text = match args.output {
                ReportFormat::Json => serde_json::to_string(&f).unwrap_or_default(),
                ReportFormat::Markdown => markdown(&f),
            };
            out.print(&text);
            crate::exit::SUCCEEDED
        }
        Err(e) => {
            out.error(&e);
            e.exit_code()
        }
    }
}

/// The commit time a recording's start line names (`ECSGATE_COMMIT_TIME` when it was recorded).
fn commit_time(file: &str) -> Option<i64> {
    use std::io::BufRead;
    let f = std::fs::File::open(file).ok()?;
    let first = std::io::BufReader::new(f).lines().map_while(Result::ok).find(|l| !l.trim().is_empty())?;
    let v: serde_json::Value = serde_json::from_str(&first).ok()?;
    (v["type"] == "start")
        .then(|| v["commit_at"].as_str().and_then(crate::engine::time::parse_rfc3339_millis))
        .flatten()
}

/// Every service's deployment in every recording.
pub fn collect(files: &[String]) -> Result<Vec<Deployment>, AppError> {
    let mut all = Vec::new();
    for file in files {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let mut reporter = Reporter::with_sinks(vec![Box::new(Collect(seen.clone()))]);
        let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(["ecsgate", "replay", file.as_str(), "-q"])
            .map_err(|e| AppError::usage(format!("{file}: {}", e.kind())))?;
        let crate::cli::Command::Replay(replay_args) = cli.command else { unreachable!("parsed as replay") };
        let code = crate::replay::run_with(&replay_args, &mut reporter);
        let seen = seen.borrow();
        let committed_ms = commit_time(file);
        let Some(report) = seen.report.as_ref() else {
            let why = seen.error.clone().unwrap_or_else(|| format!("replay exit code {code}"));
            return Err(AppError::usage(format!("cannot count {file}: {why}"))
                .with_hint("ecsgate report counts recordings of `ecsgate wait --record` (or ECS event files)"));
        };
        for (i, v) in report.verdicts.iter().enumerate() {
            let span = seen.spans.get(i).copied().unwrap_or((None, None));
            all.push(Deployment {
                file: file.clone(),
                service: v.service.clone().unwrap_or_else(|| "?".into()),
                cluster: v.cluster.clone(),
                deployment_id: v.deployment_id.clone(),
                outcome: v.outcome,
                started_ms: span.0,
                decided_ms: span.1.or(seen.last_at.get(i).copied().flatten()),
                committed_ms,
            });
        }
    }
    Ok(all)
}
