//! The JSON Lines sink (`--output json`), on stdout:
//! - one object per timeline entry (`type`: `deployment`, `task`, `warning`, `service`, `counts`,
//!   `decision`), each with the `service` and `cluster` it is about;
//! - one `verdict` object per service when the gate ends;
//! - with several services, a last `summary` object: the combined `outcome` and `exit_code`, and each
//!   service's outcome;
//! - on an error (exit 2 or 5), a `verdict` object with `outcome: "error"`, the message as `reason`,
//!   and the hint.
//!
//! Fields are added, never renamed or removed, within a major version.

use std::io::Write;

use serde::Serialize;

use super::{GateReport, Sink, Who};
use crate::engine::{Note, Outcome, Verdict};
use crate::error::AppError;

pub struct Json {
    out: Box<dyn Write>,
    quiet: bool,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    note: &'a Note,
    service: Option<&'a str>,
    cluster: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Summary<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    outcome: Outcome,
    exit_code: u8,
    services: Vec<ServiceOutcome<'a>>,
}

#[derive(Serialize)]
pub struct ServiceOutcome<'a> {
    service: Option<&'a str>,
    cluster: Option<&'a str>,
    deployment_id: Option<&'a str>,
    outcome: Outcome,
    exit_code: u8,
    reason: Option<&'a str>,
}

impl Json {
    pub fn stdout(quiet: bool) -> Self {
        Json::new(Box::new(std::io::stdout()), quiet)
    }

    pub fn new(out: Box<dyn Write>, quiet: bool) -> Self {
        Json { out, quiet }
    }

    fn line<T: Serialize>(&mut self, v: &T) {
        if let Ok(s) = serde_json::to_string(v) {
            self.write(&s);
        }
    }

    /// One JSON line, guarded: `##[` inside a JSON string is read by the GitHub runner as a command, so
    /// it is neutralised here too (the line stays valid JSON).
    fn write(&mut self, line: &str) {
        let _ = writeln!(self.out, "{}", super::text::guard_line(line));
    }
}

/// The `summary` object of a gate over several services: stdout's last line, and (with `verdicts`
/// added) the webhook's payload.
pub fn summary(r: &GateReport) -> Summary<'_> {
    Summary {
        kind: "summary",
        outcome: r.outcome,
        exit_code: r.exit_code,
        services: r
            .verdicts
            .iter()
            .map(|v| ServiceOutcome {
                service: v.service.as_deref(),
                cluster: v.cluster.as_deref(),
                deployment_id: v.deployment_id.as_deref(),
                outcome: v.outcome,
                exit_code: v.exit_code,
                reason: v.reason.as_deref(),
            })
            .collect(),
    }
}

/// The lines the JSON sink prints at the end of a gate.
pub fn report_lines(r: &GateReport) -> Vec<String> {
    let mut lines: Vec<String> = r.verdicts.iter().filter_map(|v| serde_json::to_string(v).ok()).collect();
    if r.several() {
        lines.extend(serde_json::to_string(&summary(r)).ok());
    }
    lines
}

/// One timeline entry as JSON.
pub fn note_line(who: &Who, n: &Note) -> Option<String> {
    serde_json::to_string(&Entry { note: n, service: who.service.as_deref(), cluster: who.cluster.as_deref() }).ok()
}

impl Sink for Json {
    fn note(&mut self, who: &Who, n: &Note) {
        if self.quiet {
            return;
        }
        if let Some(l) = note_line(who, n) {
            self.write(&l);
        }
    }

    fn warn(&mut self, msg: &str) {
        // Warnings stay on stderr: stdout is for machines.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("warning: {}", super::foreign(msg));
        }
    }

    /// Setup and status lines on stderr, as in the human format: stdout stays JSON Lines.
    fn info(&mut self, msg: &str) {
        if !self.quiet {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{}", super::foreign(msg));
            }
        }
    }

    /// On stderr: stdout stays JSON Lines.
    fn heartbeat(&mut self, msg: &str) {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("{}", super::foreign(msg));
        }
    }

    fn error(&mut self, e: &AppError) {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("error: {}", super::foreign(&e.message));
            if let Some(h) = &e.hint {
                eprintln!("hint: {}", super::foreign(h));
            }
        }
        self.line(&Verdict::error(e.kind, &e.message, e.hint.as_deref()));
    }

    fn report(&mut self, r: &GateReport) {
        for l in report_lines(r) {
            self.write(&l);
        }
    }
}
