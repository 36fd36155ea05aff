//! The human sink: the terminal (a live line per service, drawn by indicatif, with the timeline above
//! it) or a CI log (plain timestamped lines, no control characters). With several services every line
//! names its service.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::text::guard_line;
use super::{GateReport, Sink, Who, decision_line, format_note, format_report, format_state, note_time};
use crate::engine::time::{format_clock, now_millis};
use crate::engine::{Note, Progress};
use crate::error::AppError;

pub struct Human {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    quiet: bool,
    color: bool,
    /// Live (`wait`): lines are stamped with the wall clock. Replay: with the event's own time.
    live: bool,
    several: bool,
    display: Option<Display>,
    /// Something went to stdout already: the report is set off by an empty line, and only then (`-q`
    /// output starts with the verdict, not a blank).
    wrote: bool,
    /// The time of the newest stamped note: a replayed decision (which has no time of its own) is
    /// stamped with it, so replay output never depends on the wall clock.
    last_at: Option<i64>,
}

/// The live display: one line per service.
struct Display {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Human {
    pub fn stdout(quiet: bool, color: bool, live: bool) -> Self {
        Human::new(Box::new(std::io::stdout()), Box::new(std::io::stderr()), quiet, color, live)
    }

    pub fn new(out: Box<dyn Write>, err: Box<dyn Write>, quiet: bool, color: bool, live: bool) -> Self {
        Human { out, err, quiet, color, live, several: false, display: None, wrote: false, last_at: None }
    }

    /// A terminal: progress lines drawn on stderr.
    pub fn with_live_display(mut self) -> Self {
        self.display =
            Some(Display { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), bars: Vec::new() });
        self
    }

    /// Lines on stdout, each guarded: no line ecsgate prints can be a runner command.
    fn write_out(&mut self, text: &str) {
        self.wrote = true;
        let guarded: Vec<std::borrow::Cow<'_, str>> = text.split('\n').map(guard_line).collect();
        let line = guarded.join("\n");
        let out = &mut self.out;
        match &self.display {
            // indicatif prints nothing while hidden, so lines go around it, not through it.
            Some(d) => d.multi.suspend(|| {
                let _ = writeln!(out, "{line}");
            }),
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }

    /// A status line on stderr: always one line (it may quote AWS's error text).
    fn write_err(&mut self, line: &str) {
        let line = super::foreign(line);
        let err = &mut self.err;
        match &self.display {
            Some(d) => d.multi.suspend(|| {
                let _ = writeln!(err, "{line}");
            }),
            None => {
                let _ = writeln!(err, "{line}");
            }
        }
    }

    fn finish_display(&mut self) {
        if let Some(d) = self.display.take() {
            for b in &d.bars {
                b.finish_and_clear();
            }
            let _ = d.multi.clear();
        }
    }
}

/// One timeline line: time stamp, the service when there are several, the note.
pub fn timeline_line(stamp: Option<i64>, who: Option<&Who>, n: &Note) -> Option<String> {
    let text = format_note(n)?;
    let stamp = stamp.map(format_clock).unwrap_or_else(|| "--:--:--".into());
    Some(match who {
        Some(w) => format!("{stamp}  [{}] {text}", w.label()),
        None => format!("{stamp}  {text}"),
    })
}

impl Sink for Human {
    fn begin(&mut self, units: &[Who]) {
        self.several = units.len() > 1;
        if let Some(d) = &mut self.display {
            let style = ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            for u in units {
                let b = d.multi.add(ProgressBar::new_spinner());
                b.set_style(style.clone());
                b.set_message(if units.len() > 1 { format!("{}: waiting", u.label()) } else { "waiting".into() });
                b.enable_steady_tick(Duration::from_millis(120));
                d.bars.push(b);
            }
        }
    }

    fn note(&mut self, who: &Who, n: &Note) {
        if let Some(line) = decision_line(n) {
            // With several services, one decided while others go on: its spinner stops at its outcome,
            // and a CI log says so at once (with one service the verdict itself follows).
            if !self.several {
                return;
            }
            if let Some(b) = self.display.as_ref().and_then(|d| d.bars.get(who.index)) {
                b.finish_with_message(format!("{}: {}", who.label(), line));
            } else if !self.quiet {
                let stamp = if self.live { Some(now_millis()) } else { self.last_at };
                let stamp = stamp.map(format_clock).unwrap_or_else(|| "--:--:--".into());
                self.write_out(&format!("{stamp}  [{}] {line}", who.label()));
            }
            return;
        }
        if self.quiet {
            return;
        }
        let stamp = if self.live { Some(now_millis()) } else { note_time(n) };
        self.last_at = note_time(n).or(self.last_at);
        if let Some(line) = timeline_line(stamp, self.several.then_some(who), n) {
            self.write_out(&line);
        }
    }

    fn wants_progress(&self) -> bool {
        self.display.is_some()
    }

    fn progress(&mut self, who: &Who, p: &Progress) {
        let several = self.several;
        if let Some(b) = self.display.as_ref().and_then(|d| d.bars.get(who.index)).filter(|b| !b.is_finished()) {
            let state = format_state(p);
            b.set_message(if several { format!("{}: {state}", who.label()) } else { state });
        }
    }

    fn info(&mut self, msg: &str) {
        if !self.quiet {
            self.write_err(msg);
        }
    }

    fn warn(&mut self, msg: &str) {
        self.write_err(&format!("warning: {msg}"));
    }

    /// The live display already shows that the gate is alive; a CI log gets a stamped line (even in
    /// quiet mode: silence is what gets a job killed).
    fn heartbeat(&mut self, msg: &str) {
        if self.display.is_none() {
            self.write_err(&format!("{}  {msg}", format_clock(now_millis())));
        }
    }

    fn error(&mut self, e: &AppError) {
        self.finish_display();
        self.write_err(&format!("error: {}", e.message));
        if let Some(h) = &e.hint {
            self.write_err(&format!("hint: {h}"));
        }
    }

    fn report(&mut self, r: &GateReport) {
        self.finish_display();
        let text = format_report(r, self.color);
        let text = if self.wrote { format!("\n{text}") } else { text };
        self.write_out(&text);
    }
}
