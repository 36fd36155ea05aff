//! All terminal output goes through [`Reporter`] (architecture invariant; clippy's `print_stdout` and
//! `print_stderr` lints are allowed only in this module). The reporter hands everything to its sinks:
//! one for the terminal or the CI log ([`human::Human`]: a live display on a terminal, plain timestamped
//! lines otherwise), or JSON Lines ([`json::Json`]), plus GitHub ([`github::Github`]) when it runs
//! there. Which sinks, colours and progress display apply is resolved once, in [`Reporter::new`].
//!
//! Every sink renders the same model — timeline notes, progress, and one [`GateReport`] at the end —
//! through pure functions that the snapshot tests call.
//!
//! Streams: the timeline and the verdicts go to stdout (they are the product); progress, setup lines,
//! warnings and errors go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod github;
pub mod human;
pub mod json;
pub mod notify;

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::OutputFormat;
use crate::engine::{Note, Outcome, Progress, Verdict};
use crate::error::AppError;

/// Which service a note or a progress update is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// Position in the gate (the live display's line).
    pub index: usize,
    pub service: Option<String>,
    pub cluster: Option<String>,
}

impl Who {
    pub fn label(&self) -> &str {
        self.service.as_deref().unwrap_or("?")
    }
}

/// The end of a gate: every service's verdict and the combined result.
#[derive(Debug, Clone, PartialEq)]
pub struct GateReport {
    pub verdicts: Vec<Verdict>,
    /// The most severe verdict's outcome ([`crate::exit::combine`]).
    pub outcome: Outcome,
    pub exit_code: u8,
}

impl GateReport {
    pub fn new(verdicts: Vec<Verdict>) -> Self {
        let exit_code = crate::exit::combine(verdicts.iter().map(|v| v.exit_code));
        let outcome =
            verdicts.iter().find(|v| v.exit_code == exit_code).map(|v| v.outcome).unwrap_or(Outcome::Succeeded);
        GateReport { verdicts, outcome, exit_code }
    }

    pub fn several(&self) -> bool {
        self.verdicts.len() > 1
    }
}

/// One output: the terminal/CI log, JSON Lines, or GitHub.
pub trait Sink {
    /// The services of the gate, before anything else.
    fn begin(&mut self, _units: &[Who]) {}
    fn note(&mut self, who: &Who, n: &Note);
    fn progress(&mut self, _who: &Who, _p: &Progress) {}
    /// Whether [`Sink::progress`] shows anything (a live display): progress is not computed otherwise.
    fn wants_progress(&self) -> bool {
        false
    }
    /// A setup or status line.
    fn info(&mut self, _msg: &str) {}
    /// A sign of life for logs without a live display (CI systems kill jobs that stay silent).
    fn heartbeat(&mut self, _msg: &str) {}
    fn warn(&mut self, msg: &str);
    fn error(&mut self, e: &AppError);
    fn report(&mut self, r: &GateReport);
}

pub struct Reporter {
    sinks: Vec<Box<dyn Sink>>,
    wants_progress: bool,
}

impl Reporter {
    /// `live`: lines are stamped with the wall clock and a terminal gets a live display (`wait`);
    /// otherwise with the event's own time (`replay`).
    pub fn new(format: OutputFormat, quiet: bool, live: bool, github: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = std::io::stdout().is_terminal() && !no_color;
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        match format {
            OutputFormat::Json => sinks.push(Box::new(json::Json::stdout(quiet))),
            OutputFormat::Human => {
                let mut h = human::Human::stdout(quiet, color, live);
                if live && stderr_tty && !quiet {
                    h = h.with_live_display();
                }
                sinks.push(Box::new(h));
            }
        }
        if github || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            sinks.push(Box::new(github::Github::from_env()));
        }
        Reporter::with_sinks(sinks)
    }

    /// A reporter over given sinks (tests, benches).
    pub fn with_sinks(sinks: Vec<Box<dyn Sink>>) -> Self {
        let wants_progress = sinks.iter().any(|s| s.wants_progress());
        Reporter { sinks, wants_progress }
    }

    pub fn wants_progress(&self) -> bool {
        self.wants_progress
    }

    pub fn begin(&mut self, units: &[Who]) {
        self.sinks.iter_mut().for_each(|s| s.begin(units));
    }

    pub fn note(&mut self, who: &Who, n: &Note) {
        self.sinks.iter_mut().for_each(|s| s.note(who, n));
    }

    pub fn progress(&mut self, who: &Who, p: &Progress) {
        self.sinks.iter_mut().for_each(|s| s.progress(who, p));
    }

    pub fn info(&mut self, msg: &str) {
        self.sinks.iter_mut().for_each(|s| s.info(msg));
    }

    pub fn warn(&mut self, msg: &str) {
        self.sinks.iter_mut().for_each(|s| s.warn(msg));
    }

    pub fn heartbeat(&mut self, msg: &str) {
        self.sinks.iter_mut().for_each(|s| s.heartbeat(msg));
    }

    pub fn error(&mut self, e: &AppError) {
        self.sinks.iter_mut().for_each(|s| s.error(e));
    }

    pub fn report(&mut self, r: &GateReport) {
        self.sinks.iter_mut().for_each(|s| s.report(r));
    }
}

/// Text from ECS or AWS (stopped reasons, container reasons, log lines, error messages) as one line:
/// line breaks and other control characters become spaces, so such text can never start a line of
/// ours — in particular not a GitHub workflow command (`::error::…`) — nor move the cursor or recolour
/// a terminal (ESC).
pub fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if s.chars().any(bad) {
        std::borrow::Cow::Owned(s.chars().map(|c| if bad(c) { ' ' } else { c }).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// `ecsgate completions SHELL`: the script, generated from the clap definitions (never out of date).
pub fn completions(shell: clap_complete::Shell) -> u8 {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(shell, &mut cmd, "ecsgate", &mut std::io::stdout());
    crate::exit::SUCCEEDED
}

/// `ecsgate man`: the man page in roff, generated from the clap definitions.
pub fn man_page() -> u8 {
    use clap::CommandFactory;
    let man = clap_mangen::Man::new(crate::cli::Cli::command());
    let mut out = Vec::new();
    match man.render(&mut out) {
        Ok(()) => {
            let mut stdout = std::io::stdout().lock();
            let _ = std::io::Write::write_all(&mut stdout, &out);
            crate::exit::SUCCEEDED
        }
        Err(e) => {
            eprintln!("error: cannot render the man page: {e}");
            crate::exit::USAGE
        }
    }
}

/// A command line clap could not parse: one line (clap's first), a hint, and with `--output json` the
/// error verdict object on stdout, like every other error.
pub fn usage_error(clap_text: &str, json: bool) {
    // clap's message is the lines before the usage block ("the following required arguments were not
    // provided:" continues on the next line); they become one.
    let message: Vec<&str> = clap_text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect();
    let joined = message.join(" ");
    let line = if joined.is_empty() { "invalid command line" } else { joined.as_str() };
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let hint = "see `ecsgate --help` (or `ecsgate COMMAND --help`)";
    eprintln!("error: {}", one_line(line));
    eprintln!("hint: {hint}");
    if json {
        let v = Verdict::error(crate::exit::ErrorKind::Usage, &one_line(line), Some(hint));
        if let Ok(s) = serde_json::to_string(&v) {
            println!("{s}");
        }
    }
}

/// The time a note is about, when it carries one.
pub fn note_time(n: &Note) -> Option<i64> {
    match n {
        Note::Deployment { at, .. }
        | Note::Task { at, .. }
        | Note::Warning { at, .. }
        | Note::Service { at, .. }
        | Note::ServiceEvent { at, .. }
        | Note::Hook { at, .. } => *at,
        Note::Counts { .. } | Note::Decision { .. } => None,
    }
}

fn role_tag(r: crate::engine::Role) -> &'static str {
    match r {
        crate::engine::Role::Ours => " (ours)",
        crate::engine::Role::Rollback => " (rollback)",
        crate::engine::Role::Other => "",
    }
}

/// One timeline line, without its time stamp; `None` for notes the human view leaves out. Always one
/// line, whatever the event's text holds.
pub fn format_note(n: &Note) -> Option<String> {
    format_note_raw(n).map(|l| one_line(&l).into_owned())
}

fn format_note_raw(n: &Note) -> Option<String> {
    use crate::engine::{Role, StopClass};
    Some(match n {
        Note::Deployment { deployment_id, state, reason, role, source, .. } => {
            let via = match source {
                crate::engine::Source::Event => "",
                crate::engine::Source::Api => " [api]",
            };
            let mut s = format!("deployment {deployment_id}{} {state}{via}", role_tag(*role));
            if let Some(r) = reason.as_deref().filter(|r| !r.is_empty()) {
                s.push_str(&format!(" — {r}"));
            }
            s
        }
        Note::Task { task_id, role, status, stop, started_by, .. } => {
            let whose = match role {
                Role::Ours => " (ours)".to_string(),
                _ => started_by.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(),
            };
            let mut s = format!("task {task_id}{whose} {status}");
            if let Some(st) = stop {
                s.push_str(&format!(
                    " {}: {}",
                    st.stop_code.as_deref().unwrap_or("no stop code"),
                    st.stopped_reason.as_deref().unwrap_or("no reason")
                ));
                if !st.containers.is_empty() {
                    s.push_str(&format!(" [{}]", st.containers.join("; ")));
                }
                match (st.counted, st.class) {
                    (Some((n, max)), _) => s.push_str(&format!(" — failure {n}/{max}")),
                    (None, StopClass::Benign) => s.push_str(" — benign"),
                    (None, StopClass::Infrastructure) => s.push_str(" — infrastructure, not counted"),
                    (None, StopClass::Failure) => s.push_str(" — failed (not our deployment)"),
                    (None, StopClass::Unknown) => {}
                }
            }
            s
        }
        Note::Warning { event_name, reason, hint, .. } => {
            let mut s = format!("warning {event_name}");
            if let Some(r) = reason {
                s.push_str(&format!(": {r}"));
            }
            if let Some(h) = hint {
                s.push_str(&format!(" — hint: {h}"));
            }
            s
        }
        Note::Service { event_name, .. } => format!("service {event_name}"),
        Note::ServiceEvent { message, .. } => format!("service event: {message}"),
        Note::Hook {
            event_name,
            hook_id,
            hook_type,
            lifecycle_stage,
            expires_at,
            service_deployment_arn,
            role,
            ..
        } => {
            let state = event_name.trim_start_matches("HOOK_");
            let mut s = format!(
                "hook {} {}{} {state} at {}",
                hook_type.as_deref().unwrap_or("?"),
                hook_id.as_deref().unwrap_or("?"),
                role_tag(*role),
                lifecycle_stage.as_deref().unwrap_or("?")
            );
            if event_name == "HOOK_AWAITING_ACTION" {
                // The deployment waits for someone: say so, and how, where everyone sees it.
                let sd = service_deployment_arn.as_deref().unwrap_or("SERVICE_DEPLOYMENT_ARN");
                let id = hook_id.as_deref().unwrap_or("HOOK_ID");
                s.push_str(&format!(
                    " — ACTION NEEDED{}: continue with `aws ecs continue-service-deployment --service-deployment-arn {sd} --hook-id {id}`, or roll back with the same and `--action ROLLBACK` (or: `ecsgate continue --service-deployment-arn {sd} --hook-id {id} [--rollback]`)",
                    expires_at.as_deref().map(|e| format!(" before {e}")).unwrap_or_default()
                ));
            }
            s
        }
        Note::Counts { running, pending, desired, failed_tasks } => {
            format!("counts running {running}/{desired}, pending {pending}, failed tasks {failed_tasks}")
        }
        Note::Decision { .. } => return None,
    })
}

/// The deployment's state in one line: what the progress display shows and a timeout reports.
pub fn format_state(p: &Progress) -> String {
    let desired = p.desired.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
    format!(
        "{} · running {}/{} · pending {} · failed {}/{}",
        p.rollout_state.as_deref().unwrap_or("waiting"),
        p.running,
        desired,
        p.pending,
        p.failed_tasks,
        p.max_task_failures,
    )
}

pub fn format_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

/// The outcome as the human views print it, with its ANSI colour.
pub fn outcome_word(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Succeeded => ("SUCCEEDED", "32"),
        Outcome::Failed => ("FAILED", "31"),
        Outcome::TimedOut => ("TIMED OUT", "33"),
        Outcome::Superseded => ("SUPERSEDED", "33"),
        Outcome::InProgress => ("IN PROGRESS", "33"),
        Outcome::Interrupted(_) => ("INTERRUPTED", "33"),
        Outcome::Error(_) => ("ERROR", "31"),
    }
}

/// A rollback in one line; one that failed says so loudly (the service may be left broken).
pub fn format_rollback(rb: &crate::engine::verdict::Rollback) -> String {
    let who = if rb.by == "ecs" { "ECS" } else { "ecsgate" };
    let to = rb.to.as_deref().unwrap_or("the previous revision");
    let dep = rb.deployment_id.as_deref().map(|d| format!(" (deployment {d})")).unwrap_or_default();
    match rb.outcome.as_deref() {
        Some("succeeded") => format!("{who} rolled back to {to}{dep}; the rollback completed"),
        Some("failed") => format!(
            "{who} rolled back to {to}{dep} and THE ROLLBACK FAILED: the service may be left on the failing revision; look at it now"
        ),
        Some("timed_out") => {
            format!("{who} rolled back to {to}{dep}; the rollback had not completed when ecsgate stopped waiting")
        }
        Some("in_progress") | None => format!("{who} rolled back to {to}{dep}"),
        Some(other) => format!("{who} rolled back to {to}{dep}; rollback {other}"),
    }
}

/// The culprit in a few words: `container app, exit code 1`.
pub fn culprit_short(v: &Verdict) -> Option<String> {
    let Some(c) = v.culprit.as_ref() else {
        // No container to blame: a failed lifecycle hook, or the alarms that rolled it back.
        if let Some(h) = &v.hook {
            return Some(hook_short(h));
        }
        if !v.alarms.is_empty() {
            let names: Vec<&str> = v.alarms.iter().map(|a| a.name.as_str()).collect();
            return Some(format!("alarm {}", names.join(", ")));
        }
        return None;
    };
    let name = c.container.as_deref().unwrap_or("(no container)");
    let exit = c.exit_code.map(|x| format!("exit code {x}")).unwrap_or_else(|| "no exit code (never ran)".into());
    Some(format!("container {name}, {exit}"))
}

/// "lifecycle hook AWS_LAMBDA my-hook (ecs-lambda-1) FAILED at PRE_SCALE_UP".
pub fn hook_short(h: &crate::engine::verdict::Hook) -> String {
    let mut s = format!("lifecycle hook {}", h.hook_type.as_deref().unwrap_or("?"));
    if let Some(t) = &h.target_arn {
        s.push_str(&format!(" {}", crate::engine::diagnose::lambda_function_name(t)));
    }
    if let Some(id) = &h.hook_id {
        s.push_str(&format!(" ({id})"));
    }
    s.push_str(&format!(" {} at {}", h.status, h.lifecycle_stage.as_deref().unwrap_or("?")));
    s
}

/// Log lines under a `logs:` heading: where they come from, why they are missing, the lines.
fn push_log_tail(s: &mut String, label: &str, t: &crate::engine::verdict::LogTail) {
    s.push_str(&format!("  {label:<9} {} {}\n", one_line(&t.log_group), one_line(&t.log_stream)));
    if let Some(n) = &t.note {
        s.push_str(&format!("            ({})\n", one_line(n)));
    }
    for l in &t.lines {
        s.push_str(&format!("    | {}\n", one_line(l)));
    }
}

/// The verdict block of one service.
pub fn format_verdict(v: &Verdict, color: bool) -> String {
    use crate::engine::diagnose::group_by_reason;
    let (word, code) = outcome_word(v.outcome);
    let word = if color { format!("\x1b[1;{code}m{word}\x1b[0m") } else { word.to_string() };
    let mut s = String::new();
    let dep = v.deployment_id.as_deref().unwrap_or("(unknown deployment)");
    s.push_str(&format!("\nverdict: {word}  deployment {dep}"));
    if let Some(svc) = &v.service {
        s.push_str(&format!(" of service {svc}"));
    }
    if let Some(c) = &v.cluster {
        s.push_str(&format!(" (cluster {c})"));
    }
    s.push('\n');
    if let Some(r) = &v.reason {
        s.push_str(&format!("  reason:   {}\n", one_line(r)));
    }
    match &v.rollback {
        Some(rb) => s.push_str(&format!("  rollback: {}\n", one_line(&format_rollback(rb)))),
        None => {
            if let Some(to) = &v.rollback_to {
                s.push_str(&format!("  rollback: ECS rolled back to {}\n", one_line(to)));
            }
        }
    }
    if let Some(by) = &v.superseded_by {
        s.push_str(&format!("  replaced by: {}\n", one_line(by)));
    }
    if matches!(v.outcome, Outcome::TimedOut | Outcome::Interrupted(_) | Outcome::InProgress) {
        s.push_str(&format!("  last state: {}\n", format_state(&v.progress)));
    }
    if let Some(c) = &v.culprit {
        s.push_str(&format!("  culprit:  {}\n", one_line(&culprit_short(v).unwrap_or_default())));
        if let Some(r) = &c.reason {
            s.push_str(&format!("            {}\n", one_line(r)));
        }
        s.push_str(&format!("            task {}\n", one_line(&c.task_arn)));
    }
    if !v.failed_tasks.is_empty() {
        s.push_str(&format!("  failed tasks ({}):\n", v.failed_tasks.len()));
        for (n, label) in group_by_reason(&v.failed_tasks) {
            s.push_str(&format!("    {n} × {}\n", one_line(&label)));
        }
    }
    for w in &v.warnings {
        let line = format!("{}{}", w.event_name, w.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default());
        s.push_str(&format!("  warning:  {}\n", one_line(&line)));
    }
    if let Some(h) = &v.health_check {
        let mut line = format!("  health check: {}", crate::engine::diagnose::describe_check(h));
        if let Some(r) = &h.reason_code {
            line.push_str(&format!(" — {r}"));
        }
        if let Some(d) = &h.description {
            line.push_str(&format!(": {d}"));
        }
        s.push_str(&format!("{}\n", one_line(&line)));
        s.push_str(&format!("            target group {}\n", one_line(&h.target_group)));
    }
    if let Some(h) = &v.hook {
        // The hook's own line, or the culprit line when no container is to blame.
        let label = if v.culprit.is_none() { "culprit:" } else { "hook:" };
        s.push_str(&format!("  {label:<9} {}\n", one_line(&hook_short(h))));
        if let Some(t) = &h.target_arn {
            s.push_str(&format!("            target {}\n", one_line(t)));
        }
        if let Some(t) = &h.log_tail {
            push_log_tail(&mut s, "hook logs:", t);
        }
    }
    if let Some(b) = &v.circuit_breaker
        && v.outcome != Outcome::Succeeded
    {
        s.push_str(&format!(
            "  breaker:  {}/{} failed tasks by ECS's count ({})\n",
            b.failure_count,
            b.threshold,
            one_line(&b.status)
        ));
    }
    if v.culprit.is_none() && v.hook.is_none() && !v.alarms.is_empty() {
        s.push_str(&format!("  culprit:  {}\n", one_line(&culprit_short(v).unwrap_or_default())));
    }
    for a in &v.alarms {
        let state = a.state.as_deref().map(|x| format!(" {x}")).unwrap_or_default();
        let said = a.reason.as_deref().or(a.note.as_deref()).map(|r| format!(": {r}")).unwrap_or_default();
        s.push_str(&format!("  alarm:    {}{state}{}\n", one_line(&a.name), one_line(&said)));
    }
    if !v.evidence.is_empty() {
        s.push_str("  evidence: the service's event log (its stopped tasks are no longer known to ECS):\n");
        for m in &v.evidence {
            s.push_str(&format!("    | {}\n", one_line(m)));
        }
    }
    if let Some(h) = &v.hint {
        s.push_str(&format!("  hint:     {}\n", one_line(h)));
    }
    if let Some(t) = &v.log_tail {
        push_log_tail(&mut s, "logs:", t);
    }
    s.push_str(&format!("  exit code {}", v.exit_code));
    s
}

/// The end of a gate for people: one service's verdict block; for several, a table of all of them,
/// the full block of each that did not succeed, and the gate's own line.
pub fn format_report(r: &GateReport, color: bool) -> String {
    if !r.several() {
        return r.verdicts.iter().map(|v| format_verdict(v, color)).collect::<Vec<_>>().join("\n");
    }
    let rows: Vec<[String; 6]> = r
        .verdicts
        .iter()
        .map(|v| {
            [
                v.service.clone().unwrap_or_else(|| "?".into()),
                v.cluster.clone().unwrap_or_else(|| "?".into()),
                outcome_word(v.outcome).0.to_string(),
                v.exit_code.to_string(),
                one_line(&culprit_short(v).unwrap_or_else(|| "-".into())).into_owned(),
                one_line(v.reason.as_deref().unwrap_or_default()).into_owned(),
            ]
        })
        .collect();
    let head = ["SERVICE", "CLUSTER", "OUTCOME", "EXIT", "CULPRIT", "REASON"].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 6]| {
        let cells: Vec<String> = row[..5].iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("  {}  {}", cells.join("  "), row[5]).trim_end().to_string()
    };
    let mut s = format!("\nservices: {}\n", count_outcomes(r));
    s.push_str(&line(&head));
    s.push('\n');
    for row in &rows {
        s.push_str(&line(row));
        s.push('\n');
    }
    for v in r.verdicts.iter().filter(|v| v.outcome != Outcome::Succeeded) {
        s.push_str(&format_verdict(v, color));
        s.push('\n');
    }
    let (word, code) = outcome_word(r.outcome);
    let word = if color { format!("\x1b[1;{code}m{word}\x1b[0m") } else { word.to_string() };
    s.push_str(&format!("\ngate: {word}  {} services · exit code {}", r.verdicts.len(), r.exit_code));
    s
}

/// `1 failed, 2 succeeded`, most severe first.
pub fn count_outcomes(r: &GateReport) -> String {
    let mut counts: Vec<(Outcome, usize)> = Vec::new();
    for v in &r.verdicts {
        match counts.iter_mut().find(|(o, _)| *o == v.outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((v.outcome, 1)),
        }
    }
    counts.sort_by_key(|(o, _)| std::cmp::Reverse(crate::exit::severity(o.exit_code())));
    counts.iter().map(|(o, n)| format!("{n} {}", outcome_word(*o).0.to_lowercase())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod snapshots;
