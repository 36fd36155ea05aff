//! The GitHub Actions sink: a Markdown job summary (`$GITHUB_STEP_SUMMARY`), step outputs
//! (`$GITHUB_OUTPUT`) and `::error::`/`::warning::` annotations. On when `GITHUB_ACTIONS=true` or with
//! `--github`; everything it writes derives from the timeline and the [`GateReport`].
//!
//! Outputs keep their names for one service (`outcome`, `exit-code`, `deployment-id`, `reason`,
//! `culprit-container`, `container-exit-code`, `hint`). With several services the same names describe
//! the gate (the combined outcome and exit code; the other fields those of the most severe service),
//! and `verdicts` holds every verdict object as a JSON array.

use std::io::Write;

use super::view::{Kind, Section, VerdictView, view};
use super::{GateReport, Sink, Who, count_outcomes, format_note, note_time};
use crate::engine::{Note, Outcome, Verdict};
use crate::error::AppError;

pub struct Github {
    /// Where annotations go: stdout, which the runner reads for workflow commands — or stderr (read for
    /// them too) when stdout is JSON Lines.
    out: Box<dyn Write>,
    summary: Option<std::path::PathBuf>,
    output: Option<std::path::PathBuf>,
    /// Timeline lines for the summary; capped so a huge deployment cannot exceed GitHub's 1 MiB limit.
    timeline: Vec<String>,
    dropped: usize,
    several: bool,
    last_at: Option<i64>,
}

const TIMELINE_CAP: usize = 200;

impl Github {
    /// `to_stderr`: stdout is JSON Lines (`--output json`) and must stay so.
    pub fn from_env(to_stderr: bool) -> Self {
        let path = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
        let out: Box<dyn Write> = if to_stderr { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
        Github::new(out, path("GITHUB_STEP_SUMMARY"), path("GITHUB_OUTPUT"))
    }

    pub fn new(out: Box<dyn Write>, summary: Option<std::path::PathBuf>, output: Option<std::path::PathBuf>) -> Self {
        Github { out, summary, output, timeline: Vec::new(), dropped: 0, several: false, last_at: None }
    }

    fn write_outputs(&mut self, pairs: &[(&str, String)]) {
        let Some(p) = self.output.clone() else { return };
        let res = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .and_then(|mut f| f.write_all(outputs_text(pairs).as_bytes()));
        if let Err(e) = res {
            self.cannot_write("GITHUB_OUTPUT", &p, &e);
        }
    }

    /// A step output or the summary could not be written: the gate's verdict stands, but say so.
    fn cannot_write(&mut self, what: &str, p: &std::path::Path, e: &std::io::Error) {
        let msg = format!("cannot write {what} ({}): {e}; the step's outputs or summary are missing", p.display());
        #[allow(clippy::print_stderr)]
        {
            eprintln!("warning: {msg}");
        }
        let _ = writeln!(self.out, "::warning title=ecsgate::{}", escape_data(&msg));
    }
}

/// `$GITHUB_OUTPUT` text: the multi-line form with a delimiter that cannot occur in the value.
pub fn outputs_text(pairs: &[(&str, String)]) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        // Outputs end up in later steps' scripts and logs: foreign text is made safe here too (the
        // `verdicts` JSON keeps its line breaks escaped by serde, and is guarded like every JSON line).
        let v = if *k == "verdicts" { super::text::guard_line(v).into_owned() } else { super::foreign(v).into_owned() };
        let mut delim = "ECSGATE_EOF".to_string();
        let v = &v;
        while v.contains(&delim) {
            delim.push('_');
        }
        s.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
    }
    s
}

/// The step outputs for a gate.
pub fn outputs(r: &GateReport) -> Vec<(&'static str, String)> {
    let lead = r.verdicts.iter().find(|v| v.exit_code == r.exit_code).or(r.verdicts.first());
    let field = |f: fn(&Verdict) -> Option<String>| lead.and_then(f).unwrap_or_default();
    let mut o = vec![
        ("outcome", r.outcome.as_str().to_string()),
        ("exit-code", r.exit_code.to_string()),
        ("deployment-id", field(|v| v.deployment_id.clone())),
        ("reason", field(|v| v.reason.clone())),
        ("culprit-container", field(|v| v.culprit.as_ref().and_then(|c| c.container.clone()))),
        ("container-exit-code", field(|v| v.culprit.as_ref().and_then(|c| c.exit_code).map(|x| x.to_string()))),
        ("hint", field(|v| v.hint.clone())),
    ];
    if let Some(h) = r.verdicts.iter().find_map(|v| v.handle.clone()) {
        o.push(("handle", h));
    }
    if r.several() {
        o.push(("verdicts", serde_json::to_string(&r.verdicts).unwrap_or_default()));
    }
    o
}

/// The `::error::` annotations: one per service that did not succeed.
pub fn annotations(r: &GateReport) -> Vec<String> {
    r.verdicts
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Failed | Outcome::TimedOut | Outcome::Superseded | Outcome::Error(_)))
        .map(|v| {
            let v = view(v);
            let title = annotation_title(&v, r.several());
            format!("::error title={}::{}", escape_property(&title), escape_data(&annotation_body(&v)))
        })
        .collect()
}

impl Sink for Github {
    fn begin(&mut self, units: &[Who]) {
        self.several = units.len() > 1;
    }

    fn note(&mut self, who: &Who, n: &Note) {
        let Some(text) = format_note(n) else {
            return;
        };
        if self.timeline.len() >= TIMELINE_CAP {
            self.dropped += 1;
            return;
        }
        // A note without a time of its own (counts) takes the newest one's: never the wall clock, which
        // would make a replay's summary differ from run to run.
        self.last_at = note_time(n).or(self.last_at);
        let at = self.last_at.map(crate::engine::time::format_clock).unwrap_or_else(|| "--:--:--".into());
        let who = if self.several { format!("[{}] ", who.label()) } else { String::new() };
        self.timeline.push(format!("{at}  {who}{text}"));
    }

    fn warn(&mut self, msg: &str) {
        let _ = writeln!(self.out, "::warning title=ecsgate::{}", escape_data(msg));
    }

    fn error(&mut self, e: &AppError) {
        let mut msg = e.message.clone();
        if let Some(h) = &e.hint {
            msg.push_str(&format!("\nhint: {h}"));
        }
        let _ = writeln!(self.out, "::error title=ecsgate::{}", escape_data(&msg));
        self.write_outputs(&[
            ("outcome", "error".to_string()),
            ("exit-code", e.exit_code().to_string()),
            ("reason", e.message.clone()),
        ]);
    }

    fn report(&mut self, r: &GateReport) {
        for a in annotations(r) {
            let _ = writeln!(self.out, "{a}");
        }
        self.write_outputs(&outputs(r));
        if let Some(p) = self.summary.clone() {
            let md = summary_markdown(r, &self.timeline, self.dropped);
            let res = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .and_then(|mut f| f.write_all(md.as_bytes()));
            if let Err(e) = res {
                self.cannot_write("GITHUB_STEP_SUMMARY", &p, &e);
            }
        }
    }
}

/// With several services the title names the service too.
fn annotation_title(v: &VerdictView, several: bool) -> String {
    let svc = v.service.as_deref().filter(|_| several).map(|s| format!(" of {s}")).unwrap_or_default();
    format!("ecsgate: {} {}{svc} {}", v.noun, v.deployment, v.word.to_lowercase())
}

/// How many quoted lines (logs, evidence) an annotation carries; the summary has them all.
const ANNOTATION_QUOTE_LINES: usize = 5;

/// The annotation's text: every section of the view, one `label: text` line each.
fn annotation_body(v: &VerdictView) -> String {
    let mut lines: Vec<String> = Vec::new();
    for sec in &v.sections {
        lines.push(format!("{}: {}", sec.kind.label(), sec.text));
        lines.extend(sec.details.iter().map(|d| format!("  {d}")));
        let skip = sec.quote.len().saturating_sub(ANNOTATION_QUOTE_LINES);
        lines.extend(sec.quote.iter().skip(skip).map(|q| format!("  | {q}")));
    }
    lines.join("\n")
}

/// Workflow-command escaping (actions/toolkit `escapeData` / `escapeProperty`), plus: other control
/// characters (ESC and the like, from ECS text) become spaces, so an annotation cannot recolour the log.
pub fn escape_data(s: &str) -> String {
    let s = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    super::foreign(&s).into_owned()
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// ECS text in Markdown prose: one line, no raw HTML (a `</details>` or `<script>` in a stopped reason
/// must not restructure the summary).
fn md_text(s: &str) -> String {
    super::foreign(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// ECS text in a Markdown table cell: as [`md_text`], and a pipe cannot end the cell.
fn md_cell(s: &str) -> String {
    md_text(s).replace('|', "\\|")
}

fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "✅",
        Outcome::Failed | Outcome::Error(_) => "❌",
        _ => "⚠️",
    }
}

/// The job summary: for one service its verdict; for several a table of all of them and the verdict of
/// each that did not succeed; then the timeline.
pub fn summary_markdown(r: &GateReport, timeline: &[String], dropped: usize) -> String {
    let mut s = String::new();
    if r.several() {
        s.push_str(&format!(
            "## {} ecsgate: {} — {} services ({})\n\n",
            icon(r.outcome),
            super::outcome_word(r.outcome).to_lowercase(),
            r.verdicts.len(),
            count_outcomes(r)
        ));
        s.push_str("| service | cluster | outcome | exit code | culprit | reason |\n|---|---|---|---|---|---|\n");
        for v in r.verdicts.iter().map(view) {
            s.push_str(&format!(
                "| `{}` | `{}` | {} {} | {} | {} | {} |\n",
                md_cell(v.service.as_deref().unwrap_or("?")),
                md_cell(v.cluster.as_deref().unwrap_or("?")),
                icon(v.outcome),
                v.word.to_lowercase(),
                v.exit_code,
                md_cell(v.culprit_short.as_deref().unwrap_or("")),
                md_cell(v.reason_short.as_deref().unwrap_or(""))
            ));
        }
        s.push_str(&format!("\nGate exit code {}\n\n", r.exit_code));
        for v in r.verdicts.iter().filter(|v| v.outcome != Outcome::Succeeded) {
            s.push_str(&verdict_markdown(&view(v), "###"));
        }
    } else if let Some(v) = r.verdicts.first() {
        s.push_str(&verdict_markdown(&view(v), "##"));
    }
    if !timeline.is_empty() {
        s.push_str("<details><summary>Timeline</summary>\n\n```\n");
        for l in timeline {
            s.push_str(&unfence(l));
            s.push('\n');
        }
        if dropped > 0 {
            s.push_str(&format!("… {dropped} more lines\n"));
        }
        s.push_str("```\n\n</details>\n\n");
    }
    s
}

/// Inside a fence nothing is Markdown or HTML; only a fence could end it early.
fn unfence(l: &str) -> String {
    l.replace("```", "'''").replace("~~~", "'''")
}

/// One service's verdict in Markdown, under a heading of the given level: the sections of its view.
fn verdict_markdown(v: &VerdictView, level: &str) -> String {
    let sub = if level == "##" { "###" } else { "####" };
    let mut s = format!(
        "{level} {} ecsgate: {} — {} `{}`\n\n",
        icon(v.outcome),
        v.word.to_lowercase(),
        v.noun,
        md_text(&v.deployment)
    );
    let what = match &v.task_definition {
        Some(td) => format!("Task definition `{}`", md_text(td)),
        None => format!("Service `{}`", md_text(v.service.as_deref().unwrap_or("?"))),
    };
    s.push_str(&format!(
        "{what} in cluster `{}` · exit code {}\n\n",
        md_text(v.cluster.as_deref().unwrap_or("?")),
        v.exit_code
    ));
    for sec in &v.sections {
        section_markdown(&mut s, sec, sub);
    }
    s
}

fn section_markdown(s: &mut String, sec: &Section, sub: &str) {
    match sec.kind {
        Kind::FailedTasks => {
            s.push_str(&format!(
                "{sub} Failed tasks ({})\n\n| task | stop code | stopped reason | containers |\n|---|---|---|---|\n",
                md_text(&sec.text)
            ));
            for t in &sec.rows {
                s.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    md_cell(&t.task_id),
                    md_cell(&t.stop_code),
                    md_cell(&t.stopped_reason),
                    md_cell(&t.containers)
                ));
            }
            s.push('\n');
            if sec.details.len() > 1 {
                for d in &sec.details {
                    s.push_str(&format!("- {}\n", md_text(d)));
                }
                s.push('\n');
            }
        }
        Kind::Logs | Kind::HookLogs => {
            s.push_str(&format!("{sub} {} (`{}`)\n\n", sec.kind.title(), md_text(&sec.text)));
            for d in &sec.details {
                s.push_str(&format!("_{}_\n\n", md_text(d)));
            }
            if !sec.quote.is_empty() {
                s.push_str("```\n");
                for l in &sec.quote {
                    s.push_str(&unfence(l));
                    s.push('\n');
                }
                s.push_str("```\n\n");
            }
        }
        _ => {
            let text = if sec.alert { format!("⚠️ **{}**", md_text(&sec.text)) } else { md_text(&sec.text) };
            s.push_str(&format!("**{}:** {text}\n", sec.kind.title()));
            for d in &sec.details {
                s.push_str(&format!("- {}\n", md_text(d)));
            }
            for q in &sec.quote {
                s.push_str(&format!("- {}\n", md_text(q)));
            }
            s.push('\n');
        }
    }
}
