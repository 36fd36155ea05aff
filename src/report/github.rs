//! The GitHub Actions sink: a Markdown job summary (`$GITHUB_STEP_SUMMARY`), step outputs
//! (`$GITHUB_OUTPUT`) and `::error::`/`::warning::` annotations. On when `GITHUB_ACTIONS=true` or with
//! `--github`; everything it writes derives from the timeline and the [`GateReport`].
//!
//! Outputs keep their names for one service (`outcome`, `exit-code`, `deployment-id`, `reason`,
//! `culprit-container`, `container-exit-code`, `hint`). With several services the same names describe
//! the gate (the combined outcome and exit code; the other fields those of the most severe service),
//! and `verdicts` holds every verdict object as a JSON array.

use std::io::Write;

use super::{GateReport, Sink, Who, count_outcomes, culprit_short, format_note, note_time, outcome_word};
use crate::engine::diagnose::group_by_reason;
use crate::engine::{Note, Outcome, Verdict};
use crate::error::AppError;

pub struct Github {
    /// Where annotations go: stdout, which the runner reads for workflow commands.
    out: Box<dyn Write>,
    summary: Option<std::path::PathBuf>,
    output: Option<std::path::PathBuf>,
    /// Timeline lines for the summary; capped so a huge deployment cannot exceed GitHub's 1 MiB limit.
    timeline: Vec<String>,
    dropped: usize,
    several: bool,
}

const TIMELINE_CAP: usize = 200;

impl Github {
    pub fn from_env() -> Self {
        let path = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
        Github::new(Box::new(std::io::stdout()), path("GITHUB_STEP_SUMMARY"), path("GITHUB_OUTPUT"))
    }

    pub fn new(out: Box<dyn Write>, summary: Option<std::path::PathBuf>, output: Option<std::path::PathBuf>) -> Self {
        Github { out, summary, output, timeline: Vec::new(), dropped: 0, several: false }
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
        let mut delim = "ECSGATE_EOF".to_string();
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
            let title = annotation_title(v, r.several());
            format!("::error title={}::{}", escape_property(&title), escape_data(&annotation_body(v)))
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
        let at = note_time(n).unwrap_or_else(crate::engine::time::now_millis);
        let who = if self.several { format!("[{}] ", who.label()) } else { String::new() };
        self.timeline.push(format!("{}  {who}{text}", crate::engine::time::format_clock(at)));
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
fn annotation_title(v: &Verdict, several: bool) -> String {
    let svc = v.service.as_deref().filter(|_| several).map(|s| format!(" of {s}")).unwrap_or_default();
    format!(
        "ecsgate: deployment {}{svc} {}",
        v.deployment_id.as_deref().unwrap_or("?"),
        v.outcome.as_str().replace('_', " ")
    )
}

fn annotation_body(v: &Verdict) -> String {
    let mut s = v.reason.clone().unwrap_or_default();
    if let Some(c) = &v.culprit {
        s.push_str(&format!(
            "\nculprit: container {} exit code {}",
            c.container.as_deref().unwrap_or("?"),
            c.exit_code.map(|x| x.to_string()).unwrap_or_else(|| "none".into())
        ));
        if let Some(r) = &c.reason {
            s.push_str(&format!(" ({r})"));
        }
    }
    if let Some(h) = &v.hint {
        s.push_str(&format!("\nhint: {h}"));
    }
    s
}

/// Workflow-command escaping (actions/toolkit `escapeData` / `escapeProperty`), plus: other control
/// characters (ESC and the like, from ECS text) become spaces, so an annotation cannot recolour the log.
pub fn escape_data(s: &str) -> String {
    let s = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    super::one_line(&s).into_owned()
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// ECS text in Markdown prose: one line, no raw HTML (a `</details>` or `<script>` in a stopped reason
/// must not restructure the summary).
fn md_text(s: &str) -> String {
    super::one_line(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
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
            r.outcome.as_str().replace('_', " "),
            r.verdicts.len(),
            count_outcomes(r)
        ));
        s.push_str("| service | cluster | outcome | exit code | culprit | reason |\n|---|---|---|---|---|---|\n");
        for v in &r.verdicts {
            s.push_str(&format!(
                "| `{}` | `{}` | {} {} | {} | {} | {} |\n",
                md_cell(v.service.as_deref().unwrap_or("?")),
                md_cell(v.cluster.as_deref().unwrap_or("?")),
                icon(v.outcome),
                outcome_word(v.outcome).0.to_lowercase(),
                v.exit_code,
                md_cell(&culprit_short(v).unwrap_or_default()),
                md_cell(v.reason.as_deref().unwrap_or(""))
            ));
        }
        s.push_str(&format!("\nGate exit code {}\n\n", r.exit_code));
        for v in r.verdicts.iter().filter(|v| v.outcome != Outcome::Succeeded) {
            s.push_str(&verdict_markdown(v, "###"));
        }
    } else if let Some(v) = r.verdicts.first() {
        s.push_str(&verdict_markdown(v, "##"));
    }
    if !timeline.is_empty() {
        s.push_str("<details><summary>Timeline</summary>\n\n```\n");
        for l in timeline {
            s.push_str(&l.replace("```", "'''").replace("~~~", "'''"));
            s.push('\n');
        }
        if dropped > 0 {
            s.push_str(&format!("… {dropped} more lines\n"));
        }
        s.push_str("```\n\n</details>\n\n");
    }
    s
}

/// One service's verdict in Markdown, under a heading of the given level.
fn verdict_markdown(v: &Verdict, level: &str) -> String {
    let sub = if level == "##" { "###" } else { "####" };
    let mut s = format!(
        "{level} {} ecsgate: {} — deployment `{}`\n\n",
        icon(v.outcome),
        v.outcome.as_str().replace('_', " "),
        v.deployment_id.as_deref().unwrap_or("?")
    );
    s.push_str(&format!(
        "Service `{}` in cluster `{}` · exit code {}\n\n",
        v.service.as_deref().unwrap_or("?"),
        v.cluster.as_deref().unwrap_or("?"),
        v.exit_code
    ));
    if let Some(r) = &v.reason {
        s.push_str(&format!("**Reason:** {}\n\n", md_text(r)));
    }
    if let Some(to) = &v.rollback_to {
        // An id is code; "the previous revision" (the ServiceDeployment API names none) is prose.
        let to = if to.starts_with("ecs-svc/") { format!("`{}`", md_text(to)) } else { md_text(to) };
        s.push_str(&format!("**Rollback:** ECS rolled back to {to}\n\n"));
    }
    if let Some(c) = &v.culprit {
        s.push_str(&format!(
            "**Culprit:** container `{}`, exit code {}{}\n\n",
            md_text(c.container.as_deref().unwrap_or("?")),
            c.exit_code.map(|x| x.to_string()).unwrap_or_else(|| "none".into()),
            c.reason.as_deref().map(|r| format!(" — {}", md_text(r))).unwrap_or_default()
        ));
    }
    if let Some(h) = &v.hook {
        s.push_str(&format!(
            "**Lifecycle hook:** {} `{}` {} at {}{}\n\n",
            md_text(h.hook_type.as_deref().unwrap_or("?")),
            md_text(h.hook_id.as_deref().unwrap_or("?")),
            md_text(&h.status),
            md_text(h.lifecycle_stage.as_deref().unwrap_or("?")),
            h.target_arn.as_deref().map(|t| format!(" — target `{}`", md_text(t))).unwrap_or_default()
        ));
    }
    for a in &v.alarms {
        s.push_str(&format!(
            "**Alarm:** `{}`{}{}\n\n",
            md_text(&a.name),
            a.state.as_deref().map(|x| format!(" {}", md_text(x))).unwrap_or_default(),
            a.reason.as_deref().or(a.note.as_deref()).map(|r| format!(": {}", md_text(r))).unwrap_or_default()
        ));
    }
    if let Some(h) = &v.health_check {
        s.push_str(&format!(
            "**Health check:** {}{}{}\n\n",
            md_text(&crate::engine::diagnose::describe_check(h)),
            h.reason_code.as_deref().map(|r| format!(" — `{}`", md_text(r))).unwrap_or_default(),
            h.description.as_deref().map(|d| format!(": {}", md_text(d))).unwrap_or_default()
        ));
    }
    if !v.evidence.is_empty() {
        s.push_str("**Evidence** (the service's event log; its stopped tasks are no longer known to ECS):\n\n");
        for m in &v.evidence {
            s.push_str(&format!("- {}\n", md_text(m)));
        }
        s.push('\n');
    }
    if let Some(h) = &v.hint {
        s.push_str(&format!("**Hint:** {}\n\n", md_text(h)));
    }
    if !v.failed_tasks.is_empty() {
        s.push_str(&format!(
            "{sub} Failed tasks\n\n| task | stop code | stopped reason | containers |\n|---|---|---|---|\n"
        ));
        for t in &v.failed_tasks {
            let containers: Vec<String> = t
                .containers
                .iter()
                .map(|c| format!("{} ({})", c.name, c.exit_code.map(|x| x.to_string()).unwrap_or_else(|| "–".into())))
                .collect();
            s.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                crate::engine::event::short_task_id(&t.task_arn),
                md_cell(t.stop_code.as_deref().unwrap_or("")),
                md_cell(t.stopped_reason.as_deref().unwrap_or("")),
                md_cell(&containers.join(", "))
            ));
        }
        s.push('\n');
        let groups = group_by_reason(&v.failed_tasks);
        if groups.len() > 1 {
            for (n, label) in groups {
                s.push_str(&format!("- {n} × {}\n", md_cell(&label)));
            }
            s.push('\n');
        }
    }
    if let Some(t) = v.hook.as_ref().and_then(|h| h.log_tail.as_ref()) {
        push_log_block(&mut s, sub, "Hook's last log lines", t);
    }
    if let Some(t) = &v.log_tail {
        push_log_block(&mut s, sub, "Last log lines", t);
    }
    s
}

/// A heading naming the log group and stream, why lines are missing, and the lines in a fence.
fn push_log_block(s: &mut String, sub: &str, title: &str, t: &crate::engine::verdict::LogTail) {
    s.push_str(&format!("{sub} {title} (`{}` / `{}`)\n\n", md_text(&t.log_group), md_text(&t.log_stream)));
    if let Some(n) = &t.note {
        s.push_str(&format!("_{}_\n\n", md_text(n)));
    }
    if !t.lines.is_empty() {
        s.push_str("```\n");
        for l in &t.lines {
            // Inside the fence nothing is Markdown or HTML; only a fence could end it early.
            s.push_str(&super::one_line(l).replace("```", "'''").replace("~~~", "'''"));
            s.push('\n');
        }
        s.push_str("```\n\n");
    }
}
