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
pub mod junit;
pub mod notify;
pub mod otlp;
pub mod text;
pub mod view;

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
    /// Payloads to post (the notification sink), taken once the gate has ended.
    fn outbox(&mut self) -> Vec<notify::Outgoing> {
        Vec::new()
    }
}

pub struct Reporter {
    sinks: Vec<Box<dyn Sink>>,
    wants_progress: bool,
}

impl Reporter {
    /// `live`: lines are stamped with the wall clock and a terminal gets a live display (`wait`);
    /// otherwise with the event's own time (`replay`).
    /// `github`: `Some(true)` forces the GitHub sink, `Some(false)` keeps it off even under GitHub
    /// Actions (`ECSGATE_GITHUB=false`), `None` detects it from `GITHUB_ACTIONS=true`.
    pub fn new(format: OutputFormat, quiet: bool, live: bool, github: Option<bool>) -> Self {
        let stderr_tty = std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let color = std::io::stdout().is_terminal() && !no_color && !dumb;
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
        if github.unwrap_or_else(|| std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")) {
            // With `--output json` stdout is JSON Lines only: annotations go to stderr, which the runner
            // reads for workflow commands too.
            sinks.push(Box::new(github::Github::from_env(format == OutputFormat::Json)));
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

    /// `--notify`: the verdict (or the error) is also posted to these URLs, as one more sink.
    pub fn notify_to(&mut self, urls: &[String], on: crate::cli::NotifyOn) {
        if !urls.is_empty() {
            let job = notify::ci_job_link(&|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
            self.sinks.push(Box::new(notify::Notify::new(urls.to_vec(), on, job)));
        }
    }

    /// `--otlp URL`: the gate as one OpenTelemetry trace, parented on the CI's `TRACEPARENT`.
    pub fn otlp_to(&mut self, endpoint: Option<&str>) {
        if let Some(e) = endpoint {
            let parent = std::env::var("TRACEPARENT").ok();
            self.sinks.push(Box::new(otlp::Otlp::new(e, parent.as_deref())));
        }
    }

    /// `--junit FILE`: the verdict as a JUnit XML report too.
    pub fn junit_to(&mut self, path: Option<&std::path::Path>) {
        if let Some(p) = path {
            self.sinks.push(Box::new(junit::Junit::new(p.to_path_buf())));
        }
    }

    /// What the sinks want posted, taken (see `app::notify::deliver`).
    pub fn take_outbox(&mut self) -> Vec<notify::Outgoing> {
        self.sinks.iter_mut().flat_map(|s| s.outbox()).collect()
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

    /// A document on stdout (`ecsgate report`): the command's product, guarded like every line.
    pub fn print(&mut self, text: &str) {
        for line in text.lines() {
            println!("{}", text::guard_line(line));
        }
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

pub use text::foreign;
pub use view::{VerdictView, format_state, outcome_word, view};

/// `ecsgate completions SHELL`: the script, generated from the clap definitions (never out of date).
pub fn completions(shell: clap_complete::Shell) -> u8 {
    use clap::CommandFactory;
    let mut cmd = without_hidden(&crate::cli::Cli::command());
    clap_complete::generate(shell, &mut cmd, "ecsgate", &mut std::io::stdout());
    crate::exit::SUCCEEDED
}

/// The command tree without its hidden flags (clap_complete lists them otherwise): a copy with every
/// shown argument and subcommand, which is all a completion script needs.
pub fn without_hidden(cmd: &clap::Command) -> clap::Command {
    // clap keeps `&'static str` names (no "string" feature); this runs once per process.
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let mut c = clap::Command::new(leak(cmd.get_name()));
    if let Some(a) = cmd.get_about() {
        c = c.about(a.clone());
    }
    if let Some(v) = cmd.get_version() {
        c = c.version(leak(v));
    }
    c = c.args(cmd.get_arguments().filter(|a| !a.is_hide_set()).cloned());
    c.subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(without_hidden))
}

/// `ecsgate man`: one complete manual page in roff, generated from the clap definitions (so never out of
/// date): every command with its synopsis, description, flags and exit codes, every `ECSGATE_*`
/// variable with the flag it stands for, and the exit status.
pub fn man_page() -> u8 {
    match render_man() {
        Ok(out) => {
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

/// `ecsgate hub template`: the hub's CloudFormation template, as shipped in `hub/template.yaml` (the
/// emulator runs the ingestion code in that very file, so what is printed is what is tested).
pub fn hub_template() -> u8 {
    let mut stdout = std::io::stdout().lock();
    let _ = std::io::Write::write_all(&mut stdout, HUB_TEMPLATE.as_bytes());
    crate::exit::SUCCEEDED
}

pub const HUB_TEMPLATE: &str = include_str!("../../hub/template.yaml");

/// The manual's roff.
pub fn render_man() -> std::io::Result<Vec<u8>> {
    use clap::CommandFactory;
    let top = crate::cli::Cli::command();
    let man = clap_mangen::Man::new(top.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    // Each command as a section of the one page: its own ".SH" headings become subsections.
    let mut env: Vec<(String, String, bool)> = Vec::new();
    for sub in top.get_subcommands().filter(|c| !c.is_hide_set()) {
        let name = format!("ecsgate {}", sub.get_name());
        // A leaked name is once per command per process: `ecsgate man` runs once.
        let sub = sub.clone().name(&*Box::leak(name.clone().into_boxed_str())).bin_name(name.clone());
        let m = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        m.render_synopsis_section(&mut part)?;
        m.render_description_section(&mut part)?;
        m.render_options_section(&mut part)?;
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        out.extend_from_slice(String::from_utf8_lossy(&part).replace(".SH ", ".SS ").as_bytes());
        if let Some(after) = sub.get_after_help() {
            out.extend_from_slice(b".SS EXIT STATUS\n.nf\n");
            out.extend_from_slice(roff_text(&after.to_string()).as_bytes());
            out.extend_from_slice(b"\n.fi\n");
        }
        for a in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            if let (Some(e), Some(long)) = (a.get_env(), a.get_long()) {
                env.push((e.to_string_lossy().into_owned(), format!("--{long}"), a.is_hide_env_values_set()));
            }
        }
    }
    env.sort();
    env.dedup();
    out.extend_from_slice(b".SH ENVIRONMENT\nEvery flag can be given as a variable; a flag on the command line wins. Booleans take 1/0, true/false, yes/no, on/off; an empty variable is unset.\n");
    for (e, flag, secret) in &env {
        let note = if *secret { " (a secret: its value is never printed)" } else { "" };
        out.extend_from_slice(
            format!(".TP\n\\fB{}\\fR\n{}{}\n", roff_text(e), roff_text(flag), roff_text(note)).as_bytes(),
        );
    }
    out.extend_from_slice(b".SH EXIT STATUS\n.nf\n");
    out.extend_from_slice(roff_text(crate::exit::TABLE).as_bytes());
    out.extend_from_slice(b"\n.fi\n");
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Text in roff: a backslash is escaped, a line cannot start a request.
fn roff_text(s: &str) -> String {
    s.replace('\\', "\\e")
        .lines()
        .map(|l| if l.starts_with('.') || l.starts_with('\'') { format!("\\&{l}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A command line clap could not parse: one line (clap's first), a hint — clap's own suggestion ("a
/// similar argument exists: '--service'") when it has one — and with `--output json` the error verdict
/// object on stdout, like every other error.
pub fn usage_error(clap_text: &str, json: bool) {
    // clap's message is the lines before the usage block ("the following required arguments were not
    // provided:" continues on the next line); they become one. Its "tip:" lines are the suggestion.
    let message: Vec<&str> = clap_text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("tip:"))
        .collect();
    let joined = message.join(" ");
    let line = if joined.is_empty() { "invalid command line" } else { joined.as_str() };
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let tip = clap_text.lines().map(str::trim).find_map(|l| l.strip_prefix("tip: "));
    let hint = match tip {
        Some(t) => format!("{t} (see `ecsgate --help` or `ecsgate COMMAND --help`)"),
        None => "see `ecsgate --help` (or `ecsgate COMMAND --help`)".to_string(),
    };
    eprintln!("error: {}", foreign(line));
    eprintln!("hint: {}", foreign(&hint));
    if json {
        let v = Verdict::error(crate::exit::ErrorKind::Usage, &foreign(line), Some(&hint));
        if let Ok(s) = serde_json::to_string(&v) {
            println!("{}", text::guard_line(&s));
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

/// Every deployment and task in the timeline is named by its role.
fn role_tag(r: crate::engine::Role) -> &'static str {
    match r {
        crate::engine::Role::Ours => " (ours)",
        crate::engine::Role::EcsRollback => " (ECS's rollback)",
        crate::engine::Role::EcsgateRollback => " (ecsgate's rollback)",
        crate::engine::Role::CodeDeployRollback => " (CodeDeploy's rollback)",
        crate::engine::Role::Other => " (other)",
    }
}

/// One timeline line, without its time stamp; `None` for notes the human view leaves out. Always one
/// line, whatever the event's text holds.
pub fn format_note(n: &Note) -> Option<String> {
    format_note_raw(n).map(|l| foreign(&l).into_owned())
}

fn format_note_raw(n: &Note) -> Option<String> {
    use crate::engine::{Role, StopClass};
    Some(match n {
        Note::Deployment { deployment_id, state, reason, role, source, .. } => {
            // Not "[api]": a service may be called api, and the multi-service prefix is "[api]".
            let via = match source {
                crate::engine::Source::Event => "",
                crate::engine::Source::Api => " (read from the API)",
            };
            let mut s = format!("deployment {deployment_id}{} {state}{via}", role_tag(*role));
            if let Some(r) = reason.as_deref().filter(|r| !r.is_empty()) {
                s.push_str(&format!(" — {r}"));
            }
            s
        }
        Note::Task { task_id, role, status, stop, started_by, .. } => {
            let whose = match (role, started_by) {
                (Role::Other, Some(d)) => format!(" (other: {d})"),
                (Role::Other, None) => " (other)".to_string(),
                (r, _) => role_tag(*r).to_string(),
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

/// A decision taken while the gate still waits for other services: the line a CI log gets at once
/// (the full verdict follows when the gate ends).
pub fn decision_line(n: &Note) -> Option<String> {
    match n {
        Note::Decision { outcome, reason } => {
            Some(format!("decided: {} — {}", outcome_word(*outcome), foreign(reason)))
        }
        _ => None,
    }
}

pub fn format_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s == 0 && !d.is_zero() {
        // "timed out after 0s" for a 10 ms budget reads like a bug.
        format!("{}ms", d.as_millis())
    } else {
        format!("{s}s")
    }
}

/// The ANSI colour of an outcome in the human views.
pub fn outcome_color(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "32",
        Outcome::Failed | Outcome::Error(_) => "31",
        _ => "33",
    }
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color { format!("\x1b[1;{code}m{s}\x1b[0m") } else { s.to_string() }
}

/// The verdict block of one service, laid out from its [`VerdictView`].
pub fn format_verdict(v: &Verdict, color: bool) -> String {
    let view = view(v);
    let mut s = format!("verdict: {}  {}\n", paint(view.word, outcome_color(view.outcome), color), view.subject());
    for sec in &view.sections {
        let label = format!("{}:", sec.kind.label());
        let text = if sec.alert { paint(&sec.text, "31", color) } else { sec.text.clone() };
        s.push_str(&format!("  {label:<9} {text}\n"));
        for d in &sec.details {
            s.push_str(&format!("            {d}\n"));
        }
        for q in &sec.quote {
            s.push_str(&format!("    | {q}\n"));
        }
    }
    s.push_str(&format!("  exit code {}", view.exit_code));
    s
}

/// The end of a gate for people: one service's verdict block; for several, a table of all of them,
/// the full block of each that did not succeed, and the gate's own line.
pub fn format_report(r: &GateReport, color: bool) -> String {
    if !r.several() {
        return r.verdicts.iter().map(|v| format_verdict(v, color)).collect::<Vec<_>>().join("\n\n");
    }
    let views: Vec<VerdictView> = r.verdicts.iter().map(view).collect();
    let rows: Vec<[String; 6]> = views
        .iter()
        .map(|v| {
            [
                v.service.clone().unwrap_or_else(|| "?".into()),
                v.cluster.clone().unwrap_or_else(|| "?".into()),
                v.word.to_string(),
                v.exit_code.to_string(),
                v.culprit_short.clone().unwrap_or_else(|| "-".into()),
                v.reason_short.clone().unwrap_or_default(),
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
    let mut s = format!("services: {}\n", count_outcomes(r));
    s.push_str(&line(&head));
    s.push('\n');
    for row in &rows {
        s.push_str(&line(row));
        s.push('\n');
    }
    for v in r.verdicts.iter().filter(|v| v.outcome != Outcome::Succeeded) {
        s.push('\n');
        s.push_str(&format_verdict(v, color));
        s.push('\n');
    }
    s.push_str(&format!(
        "\ngate: {}  {} services · exit code {}",
        paint(outcome_word(r.outcome), outcome_color(r.outcome), color),
        r.verdicts.len(),
        r.exit_code
    ));
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
    counts.iter().map(|(o, n)| format!("{n} {}", outcome_word(*o).to_lowercase())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod snapshots;
