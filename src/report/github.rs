//! GitHub Actions integration: a Markdown job summary (`$GITHUB_STEP_SUMMARY`), step outputs
//! (`$GITHUB_OUTPUT`) and `::error::`/`::warning::` annotations. On when `GITHUB_ACTIONS=true` or with
//! `--github`; everything it writes derives from the timeline and the verdict object.
#![allow(clippy::print_stdout)]

use std::io::Write;

use crate::engine::diagnose::group_by_reason;
use crate::engine::{Note, Outcome, Verdict};
use crate::error::AppError;

pub struct Github {
    summary: Option<std::path::PathBuf>,
    output: Option<std::path::PathBuf>,
    /// Timeline lines for the summary; capped so a huge deployment cannot exceed GitHub's 1 MiB limit.
    timeline: Vec<String>,
    dropped: usize,
}

const TIMELINE_CAP: usize = 200;

impl Github {
    pub fn from_env() -> Self {
        let path = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
        Github { summary: path("GITHUB_STEP_SUMMARY"), output: path("GITHUB_OUTPUT"), timeline: Vec::new(), dropped: 0 }
    }

    pub fn note(&mut self, n: &Note) {
        let Some(text) = super::format_note(n) else {
            return;
        };
        if self.timeline.len() >= TIMELINE_CAP {
            self.dropped += 1;
            return;
        }
        let at = match n {
            Note::Deployment { at, .. }
            | Note::Task { at, .. }
            | Note::Warning { at, .. }
            | Note::Service { at, .. } => *at,
            _ => None,
        }
        .unwrap_or_else(crate::engine::time::now_millis);
        self.timeline.push(format!("{}  {text}", crate::engine::time::format_clock(at)));
    }

    pub fn warning(&mut self, msg: &str) {
        println!("::warning title=ecsgate::{}", escape_data(msg));
    }

    pub fn error(&mut self, e: &AppError) {
        let mut msg = e.message.clone();
        if let Some(h) = &e.hint {
            msg.push_str(&format!("\nhint: {h}"));
        }
        println!("::error title=ecsgate::{}", escape_data(&msg));
        let _ = self.write_outputs(&[
            ("outcome", "error"),
            ("exit-code", &e.exit_code.to_string()),
            ("reason", &e.message),
        ]);
    }

    pub fn verdict(&mut self, v: &Verdict) {
        if matches!(v.outcome, Outcome::Failed | Outcome::TimedOut | Outcome::Superseded | Outcome::Error) {
            println!("::error title={}::{}", escape_property(&annotation_title(v)), escape_data(&annotation_body(v)));
        }
        let exit = v.exit_code.to_string();
        let container_exit = v.culprit.as_ref().and_then(|c| c.exit_code).map(|x| x.to_string()).unwrap_or_default();
        let _ = self.write_outputs(&[
            ("outcome", v.outcome.as_str()),
            ("exit-code", &exit),
            ("deployment-id", v.deployment_id.as_deref().unwrap_or("")),
            ("reason", v.reason.as_deref().unwrap_or("")),
            ("culprit-container", v.culprit.as_ref().and_then(|c| c.container.as_deref()).unwrap_or("")),
            ("container-exit-code", &container_exit),
            ("hint", v.hint.as_deref().unwrap_or("")),
        ]);
        if let Some(p) = &self.summary {
            let md = summary_markdown(v, &self.timeline, self.dropped);
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .and_then(|mut f| f.write_all(md.as_bytes()));
        }
    }

    fn write_outputs(&self, pairs: &[(&str, &str)]) -> std::io::Result<()> {
        let Some(p) = &self.output else { return Ok(()) };
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p)?;
        for (k, v) in pairs {
            // The multi-line form with a delimiter that cannot occur in the value.
            let mut delim = "ECSGATE_EOF".to_string();
            while v.contains(&delim) {
                delim.push('_');
            }
            writeln!(f, "{k}<<{delim}\n{v}\n{delim}")?;
        }
        Ok(())
    }
}

fn annotation_title(v: &Verdict) -> String {
    format!(
        "ecsgate: deployment {} {}",
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

/// Workflow-command escaping (actions/toolkit `escapeData` / `escapeProperty`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn summary_markdown(v: &Verdict, timeline: &[String], dropped: usize) -> String {
    let icon = match v.outcome {
        Outcome::Succeeded => "✅",
        Outcome::Failed | Outcome::Error => "❌",
        _ => "⚠️",
    };
    let mut s = format!(
        "## {icon} ecsgate: {} — deployment `{}`\n\n",
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
        s.push_str(&format!("**Reason:** {r}\n\n"));
    }
    if let Some(to) = &v.rollback_to {
        s.push_str(&format!("**Rollback:** ECS rolled back to `{to}`\n\n"));
    }
    if let Some(c) = &v.culprit {
        s.push_str(&format!(
            "**Culprit:** container `{}`, exit code {}{}\n\n",
            c.container.as_deref().unwrap_or("?"),
            c.exit_code.map(|x| x.to_string()).unwrap_or_else(|| "none".into()),
            c.reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default()
        ));
    }
    if let Some(h) = &v.hint {
        s.push_str(&format!("**Hint:** {h}\n\n"));
    }
    if !v.failed_tasks.is_empty() {
        s.push_str("### Failed tasks\n\n| task | stop code | stopped reason | containers |\n|---|---|---|---|\n");
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
    if let Some(t) = &v.log_tail {
        s.push_str(&format!("### Last log lines (`{}` / `{}`)\n\n", t.log_group, t.log_stream));
        if let Some(n) = &t.note {
            s.push_str(&format!("_{n}_\n\n"));
        }
        if !t.lines.is_empty() {
            s.push_str("```\n");
            for l in &t.lines {
                s.push_str(&l.replace("```", "'''"));
                s.push('\n');
            }
            s.push_str("```\n\n");
        }
    }
    if !timeline.is_empty() {
        s.push_str("<details><summary>Timeline</summary>\n\n```\n");
        for l in timeline {
            s.push_str(&l.replace("```", "'''"));
            s.push('\n');
        }
        if dropped > 0 {
            s.push_str(&format!("… {dropped} more lines\n"));
        }
        s.push_str("```\n\n</details>\n\n");
    }
    s
}
