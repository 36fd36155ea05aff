//! All terminal output goes through [`Reporter`] (architecture invariant; clippy's `print_stdout` and
//! `print_stderr` lints are allowed only in this module). Terminal, CI-log and JSON modes are resolved
//! once, here, and the text itself comes from pure functions ([`format_note`], [`format_verdict`]) that
//! tests call directly.
//!
//! Streams: the timeline and the verdict go to stdout (they are the product); progress, setup lines,
//! warnings and errors go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod github;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::OutputFormat;
use crate::engine::diagnose::group_by_reason;
use crate::engine::time::{format_clock, now_millis};
use crate::engine::{Note, Outcome, Progress, Role, StopClass, Verdict};
use crate::error::AppError;

pub struct Reporter {
    format: OutputFormat,
    quiet: bool,
    color: bool,
    /// Live (`wait`): lines are stamped with the wall clock. Replay: with the event's own time.
    live: bool,
    bar: Option<ProgressBar>,
    github: Option<github::Github>,
}

impl Reporter {
    pub fn new(format: OutputFormat, quiet: bool, live: bool, github: bool) -> Self {
        let tty = std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let bar = (live && tty && format == OutputFormat::Human && !quiet).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        let github =
            (github || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")).then(github::Github::from_env);
        Reporter { format, quiet, color: stdout_tty && !no_color, live, bar, github }
    }

    /// Prints a line to stdout above the progress display (indicatif prints nothing when hidden, so a
    /// plain println is used then).
    fn out(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| println!("{line}")),
            None => {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "{line}");
            }
        }
    }

    fn err(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn note(&mut self, n: &Note) {
        if let Some(g) = &mut self.github {
            g.note(n);
        }
        if self.quiet {
            return;
        }
        match self.format {
            OutputFormat::Json => {
                if let Ok(s) = serde_json::to_string(n) {
                    self.out(&s);
                }
            }
            OutputFormat::Human => {
                if let Some(text) = format_note(n) {
                    let at = if self.live { Some(now_millis()) } else { note_time(n) };
                    let stamp = at.map(format_clock).unwrap_or_else(|| "--:--:--".into());
                    self.out(&format!("{stamp}  {text}"));
                }
            }
        }
    }

    /// Updates the live display (terminal only; indicatif draws the elapsed time itself).
    pub fn progress(&mut self, p: &Progress) {
        if let Some(b) = &self.bar {
            b.set_message(format_state(p));
        }
    }

    /// A setup or status line (stderr; not in quiet mode).
    pub fn info(&mut self, msg: &str) {
        if !self.quiet {
            self.err(msg);
        }
    }

    pub fn warn(&mut self, msg: &str) {
        self.err(&format!("warning: {msg}"));
        if let Some(g) = &mut self.github {
            g.warning(msg);
        }
    }

    pub fn error(&mut self, e: &AppError) {
        self.finish_progress();
        self.err(&format!("error: {}", e.message));
        if let Some(h) = &e.hint {
            self.err(&format!("hint: {h}"));
        }
        if let Some(g) = &mut self.github {
            g.error(e);
        }
    }

    pub fn verdict(&mut self, v: &Verdict) {
        self.finish_progress();
        match self.format {
            OutputFormat::Json => {
                if let Ok(s) = serde_json::to_string(v) {
                    self.out(&s);
                }
            }
            OutputFormat::Human => self.out(&format_verdict(v, self.color)),
        }
        if let Some(g) = &mut self.github {
            g.verdict(v);
        }
    }

    pub fn finish_progress(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

fn note_time(n: &Note) -> Option<i64> {
    match n {
        Note::Deployment { at, .. } | Note::Task { at, .. } | Note::Warning { at, .. } | Note::Service { at, .. } => {
            *at
        }
        Note::Counts { .. } | Note::Decision { .. } => None,
    }
}

fn role_tag(r: Role) -> &'static str {
    match r {
        Role::Ours => " (ours)",
        Role::Rollback => " (rollback)",
        Role::Other => "",
    }
}

/// One timeline line, without its time stamp; `None` for notes the human view leaves out.
pub fn format_note(n: &Note) -> Option<String> {
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

/// The verdict block.
pub fn format_verdict(v: &Verdict, color: bool) -> String {
    let (word, code) = match v.outcome {
        Outcome::Succeeded => ("SUCCEEDED", "32"),
        Outcome::Failed => ("FAILED", "31"),
        Outcome::TimedOut => ("TIMED OUT", "33"),
        Outcome::Superseded => ("SUPERSEDED", "33"),
        Outcome::Interrupted => ("INTERRUPTED", "33"),
        Outcome::Error => ("ERROR", "31"),
    };
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
        s.push_str(&format!("  reason:   {r}\n"));
    }
    if let Some(to) = &v.rollback_to {
        s.push_str(&format!("  rollback: ECS rolled back to {to}\n"));
    }
    if let Some(by) = &v.superseded_by {
        s.push_str(&format!("  replaced by: {by}\n"));
    }
    if matches!(v.outcome, Outcome::TimedOut | Outcome::Interrupted) {
        s.push_str(&format!("  last state: {}\n", format_state(&v.progress)));
    }
    if let Some(c) = &v.culprit {
        let name = c.container.as_deref().unwrap_or("(no container)");
        let exit = c.exit_code.map(|x| format!("exit code {x}")).unwrap_or_else(|| "no exit code (never ran)".into());
        s.push_str(&format!("  culprit:  container {name}, {exit}\n"));
        if let Some(r) = &c.reason {
            s.push_str(&format!("            {r}\n"));
        }
        s.push_str(&format!("            task {}\n", c.task_arn));
    }
    if !v.failed_tasks.is_empty() {
        s.push_str(&format!("  failed tasks ({}):\n", v.failed_tasks.len()));
        for (n, label) in group_by_reason(&v.failed_tasks) {
            s.push_str(&format!("    {n} × {label}\n"));
        }
    }
    for w in &v.warnings {
        s.push_str(&format!(
            "  warning:  {}{}\n",
            w.event_name,
            w.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ));
    }
    if let Some(h) = &v.hint {
        s.push_str(&format!("  hint:     {h}\n"));
    }
    if let Some(t) = &v.log_tail {
        s.push_str(&format!("  logs:     {} {}\n", t.log_group, t.log_stream));
        if let Some(n) = &t.note {
            s.push_str(&format!("            ({n})\n"));
        }
        for l in &t.lines {
            s.push_str(&format!("    | {l}\n"));
        }
    }
    s.push_str(&format!("  exit code {}", v.exit_code));
    s
}
