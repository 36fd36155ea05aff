//! One view of a verdict: what is said, in which order, computed once from a [`Verdict`]. Every sink
//! that lays out a verdict for people — terminal/CI text, the GitHub summary and annotations, Slack —
//! renders these sections and nothing else, so they cannot drift apart; the JSON verdict and the
//! webhook are the [`Verdict`] itself, and a test checks that each section here has its field there.
//!
//! All foreign text in a view has passed [`super::text::foreign`] already; sinks add only their own
//! format's escaping (Markdown, Slack mrkdwn, workflow-command data).

use super::text::foreign;
use crate::engine::diagnose::{describe_check, group_by_reason, lambda_function_name};
use crate::engine::verdict::{Hook, LogTail, Rollback, RollbackBy, RollbackOutcome, RunOut};
use crate::engine::{Outcome, Progress, Verdict};

/// What a section is about; the order of this enum is the order of a verdict's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Reason,
    Rollback,
    LastState,
    Culprit,
    FailedTasks,
    Tasks,
    Hook,
    Alarms,
    Breaker,
    HealthCheck,
    Logs,
    HookLogs,
    Evidence,
    Express,
    Hint,
    Warnings,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Reason,
        Kind::Rollback,
        Kind::LastState,
        Kind::Culprit,
        Kind::FailedTasks,
        Kind::Tasks,
        Kind::Hook,
        Kind::Alarms,
        Kind::Breaker,
        Kind::HealthCheck,
        Kind::Logs,
        Kind::HookLogs,
        Kind::Evidence,
        Kind::Express,
        Kind::Hint,
        Kind::Warnings,
    ];

    /// The label of the plain-text layout (`reason:`).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Reason => "reason",
            Kind::Rollback => "rollback",
            Kind::LastState => "last state",
            Kind::Culprit => "culprit",
            Kind::FailedTasks => "failed tasks",
            Kind::Tasks => "tasks",
            Kind::Hook => "hook",
            Kind::Alarms => "alarm",
            Kind::Breaker => "breaker",
            Kind::HealthCheck => "health check",
            Kind::Logs => "logs",
            Kind::HookLogs => "hook logs",
            Kind::Evidence => "evidence",
            Kind::Express => "express",
            Kind::Hint => "hint",
            Kind::Warnings => "warning",
        }
    }

    /// The title in Markdown and Slack (`**Reason:**`).
    pub fn title(self) -> &'static str {
        match self {
            Kind::Reason => "Reason",
            Kind::Rollback => "Rollback",
            Kind::LastState => "Last state",
            Kind::Culprit => "Culprit",
            Kind::FailedTasks => "Failed tasks",
            Kind::Tasks => "Tasks run",
            Kind::Hook => "Lifecycle hook",
            Kind::Alarms => "Alarms",
            Kind::Breaker => "Circuit breaker",
            Kind::HealthCheck => "Health check",
            Kind::Logs => "Last log lines",
            Kind::HookLogs => "Hook's last log lines",
            Kind::Evidence => "Evidence",
            Kind::Express => "Express service",
            Kind::Hint => "Hint",
            Kind::Warnings => "Warnings",
        }
    }

    /// The verdict object's field that carries the same information (the JSON verdict and the webhook).
    pub fn json_field(self) -> &'static str {
        match self {
            Kind::Reason => "reason",
            Kind::Rollback => "rollback",
            Kind::LastState => "progress",
            Kind::Culprit => "culprit",
            Kind::FailedTasks => "failed_tasks",
            Kind::Tasks => "run",
            Kind::Hook => "hook",
            Kind::Alarms => "alarms",
            Kind::Breaker => "circuit_breaker",
            Kind::HealthCheck => "health_check",
            Kind::Logs => "log_tail",
            Kind::HookLogs => "hook",
            Kind::Evidence => "evidence",
            Kind::Express => "express",
            Kind::Hint => "hint",
            Kind::Warnings => "warnings",
        }
    }
}

/// One failed task, for the sinks that can lay out a table (the GitHub summary).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub task_id: String,
    pub stop_code: String,
    pub stopped_reason: String,
    /// `app (1), sidecar (–)`.
    pub containers: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub kind: Kind,
    /// The section's first line.
    pub text: String,
    /// Further lines, each starting with a word of ecsgate's (`task …`, `reason: …`).
    pub details: Vec<String>,
    /// Lines quoted as they were (logs, the service's event log); sinks fence or prefix them.
    pub quote: Vec<String>,
    /// Said loudly (a rollback that failed).
    pub alert: bool,
    /// Failed tasks, one row each (empty for other sections).
    pub rows: Vec<TaskRow>,
    /// The verdict object's field that carries the same information (the JSON verdict and the webhook):
    /// [`Kind::json_field`], except for a culprit that is a hook or alarms.
    pub field: &'static str,
}

impl Section {
    fn new(kind: Kind, text: impl Into<String>) -> Self {
        Section {
            kind,
            text: text.into(),
            details: Vec::new(),
            quote: Vec::new(),
            alert: false,
            rows: Vec::new(),
            field: kind.json_field(),
        }
    }

    fn detail(mut self, d: impl Into<String>) -> Self {
        self.details.push(d.into());
        self
    }
}

/// A verdict as people are told it.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictView {
    pub outcome: Outcome,
    /// SUCCEEDED, FAILED, TIMED OUT, …
    pub word: &'static str,
    /// What was judged: "deployment", or "run" for one-off tasks (`ecsgate run`).
    pub noun: &'static str,
    /// The deployment id, or a run's `startedBy` token.
    pub deployment: String,
    /// A run's task definition (`family:revision`).
    pub task_definition: Option<String>,
    pub service: Option<String>,
    pub cluster: Option<String>,
    pub exit_code: u8,
    /// The culprit in a few words, for tables and fields: `container app, exit code 1`.
    pub culprit_short: Option<String>,
    /// The reason in one line, for tables.
    pub reason_short: Option<String>,
    pub sections: Vec<Section>,
}

impl VerdictView {
    pub fn section(&self, k: Kind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == k)
    }

    /// "deployment ecs-svc/1 of service api (cluster shop)", "run ecsgate-run-… of migrate:3 (cluster shop)".
    pub fn subject(&self) -> String {
        let mut s = format!("{} {}", self.noun, self.deployment);
        if let Some(td) = &self.task_definition {
            s.push_str(&format!(" of {td}"));
        } else if let Some(svc) = &self.service {
            s.push_str(&format!(" of service {svc}"));
        }
        if let Some(c) = &self.cluster {
            s.push_str(&format!(" (cluster {c})"));
        }
        s
    }
}

/// The outcome as people read it.
pub fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "SUCCEEDED",
        Outcome::Failed => "FAILED",
        Outcome::TimedOut => "TIMED OUT",
        Outcome::Superseded => "SUPERSEDED",
        Outcome::InProgress => "IN PROGRESS",
        Outcome::Interrupted(_) => "INTERRUPTED",
        Outcome::Error(_) => "ERROR",
        Outcome::Detached => "DETACHED",
    }
}

/// The deployment's state in one line: what the progress display shows and a timeout reports.
pub fn format_state(p: &Progress) -> String {
    let desired = p.desired.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
    format!(
        "{} · running {}/{} · pending {} · failed {}/{}",
        p.rollout_state.as_deref().map(foreign).unwrap_or("waiting".into()),
        p.running,
        desired,
        p.pending,
        p.failed_tasks,
        p.max_task_failures,
    )
}

/// A rollback in one line; one that failed says so loudly (the service may be left broken).
pub fn rollback_text(rb: &Rollback) -> String {
    let who = match rb.by {
        RollbackBy::Ecs => "ECS",
        RollbackBy::Ecsgate => "ecsgate",
        RollbackBy::CodeDeploy => "CodeDeploy",
    };
    let to = match (rb.to.as_deref(), rb.by) {
        (Some(t), _) => foreign(t),
        // CodeDeploy's rollback reroutes traffic back to the original (blue) task set.
        (None, RollbackBy::CodeDeploy) => "the original task set".into(),
        (None, _) => "the previous revision".into(),
    };
    let dep = rb.deployment_id.as_deref().map(|d| format!(" (rollback deployment {})", foreign(d))).unwrap_or_default();
    match rb.outcome {
        Some(RollbackOutcome::Succeeded) => format!("{who} rolled back to {to}{dep}; the rollback completed"),
        Some(RollbackOutcome::Failed) => format!(
            "{who} rolled back to {to}{dep} and THE ROLLBACK FAILED: the service may be left on the failing revision; look at it now"
        ),
        Some(RollbackOutcome::TimedOut) => {
            format!("{who} rolled back to {to}{dep}; the rollback had not completed when ecsgate stopped waiting")
        }
        Some(RollbackOutcome::InProgress) | None => format!("{who} is rolling back to {to}{dep}"),
    }
}

/// "lifecycle hook AWS_LAMBDA my-hook (ecs-lambda-1) FAILED at PRE_SCALE_UP".
pub fn hook_short(h: &Hook) -> String {
    let mut s = format!("lifecycle hook {}", h.hook_type.as_deref().unwrap_or("?"));
    if let Some(t) = &h.target_arn {
        s.push_str(&format!(" {}", lambda_function_name(t)));
    }
    if let Some(id) = &h.hook_id {
        s.push_str(&format!(" ({id})"));
    }
    s.push_str(&format!(" {} at {}", h.status, h.lifecycle_stage.as_deref().unwrap_or("?")));
    foreign(&s).into_owned()
}

/// The culprit in a few words: a container, else a hook, else the alarms.
fn culprit_short(v: &Verdict) -> Option<String> {
    if let Some(c) = &v.culprit {
        let name = c.container.as_deref().map(foreign).unwrap_or("(no container)".into());
        let exit = c.exit_code.map(|x| format!("exit code {x}")).unwrap_or_else(|| "no exit code (never ran)".into());
        return Some(format!("container {name}, {exit}"));
    }
    if let Some(h) = &v.hook {
        return Some(hook_short(h));
    }
    if !v.alarms.is_empty() {
        let names: Vec<String> = v.alarms.iter().map(|a| foreign(&a.name).into_owned()).collect();
        return Some(format!("alarm {}", names.join(", ")));
    }
    None
}

fn log_section(kind: Kind, t: &LogTail) -> Section {
    let mut s = Section::new(kind, format!("{} {}", foreign(&t.log_group), foreign(&t.log_stream)));
    if let Some(n) = &t.note {
        s.details.push(format!("({})", foreign(n)));
    }
    s.quote = t.lines.iter().map(|l| foreign(l).into_owned()).collect();
    s
}

/// A run's tasks: each one's last state and its containers' exit codes, and what RunTask could not place.
fn run_section(r: &RunOut) -> Section {
    let stopped = r.tasks.iter().filter(|t| t.last_status == "STOPPED").count();
    let mut s = Section::new(
        Kind::Tasks,
        format!(
            "{stopped} of {} task(s) stopped{}; started by {}",
            r.count,
            if r.launch_failures.is_empty() {
                String::new()
            } else {
                format!(", {} not placed", r.launch_failures.len())
            },
            foreign(&r.started_by)
        ),
    );
    for t in &r.tasks {
        let mut line = format!("task {} {}", crate::engine::event::short_task_id(&t.task_arn), foreign(&t.last_status));
        if let Some(c) = &t.stop_code {
            line.push_str(&format!(" ({})", foreign(c)));
        }
        let containers: Vec<String> = t
            .containers
            .iter()
            .map(|c| {
                let code = c.exit_code.map(|x| format!("exit {x}")).unwrap_or_else(|| "no exit code".into());
                let tag = if c.essential == Some(false) { ", not essential" } else { "" };
                format!("{} {code}{tag}", foreign(&c.name))
            })
            .collect();
        if !containers.is_empty() {
            line.push_str(&format!(": {}", containers.join("; ")));
        }
        s.details.push(line);
    }
    for f in &r.launch_failures {
        let mut line = format!("not placed: {}", foreign(&f.reason));
        if let Some(d) = &f.detail {
            line.push_str(&format!(" ({})", foreign(d)));
        }
        if let Some(a) = &f.arn {
            line.push_str(&format!(" on {}", foreign(a)));
        }
        s.details.push(line);
    }
    s
}

/// An Express service: its endpoint (through the one URL redaction), then what ECS manages for it.
fn express_section(m: &crate::engine::snapshot::ManagedResources) -> Section {
    let endpoints: Vec<String> = m
        .endpoints
        .iter()
        .map(|e| {
            if e.contains("://") {
                super::text::redact_url(e)
            } else {
                super::text::redact_url(&format!("https://{e}"))
            }
        })
        .collect();
    let text = if endpoints.is_empty() {
        "no endpoint known".to_string()
    } else {
        format!("endpoint {}", endpoints.join(", "))
    };
    let mut s = Section::new(Kind::Express, text);
    for a in &m.alarms {
        // The managed resource's provisioning status, said only when it is not the usual ACTIVE.
        let status =
            a.status.as_deref().filter(|x| *x != "ACTIVE").map(|x| format!(" ({})", foreign(x))).unwrap_or_default();
        s.details.push(format!("managed alarm {}{status}", foreign(&a.name)));
    }
    for g in &m.log_groups {
        s.details.push(format!("managed log group {}", foreign(g)));
    }
    for f in &m.failed {
        s.details.push(format!("managed resource FAILED: {}", foreign(f)));
    }
    s
}

/// The view of one verdict.
pub fn view(v: &Verdict) -> VerdictView {
    let mut sections = Vec::new();
    let reason = v.reason.as_deref().map(|r| foreign(r).into_owned());
    if let Some(r) = &reason {
        sections.push(Section::new(Kind::Reason, r.clone()));
    }
    if let Some(rb) = &v.rollback {
        let mut s = Section::new(Kind::Rollback, rollback_text(rb));
        s.alert = rb.outcome == Some(RollbackOutcome::Failed);
        sections.push(s);
    } else if let Some(to) = &v.rollback_to {
        sections.push(Section::new(Kind::Rollback, format!("ECS is rolling back to {}", foreign(to))));
    }
    if matches!(v.outcome, Outcome::TimedOut | Outcome::Interrupted(_) | Outcome::InProgress) {
        let state = format_state(&v.progress);
        // A timeout's reason already quotes the last state: say it once.
        if !reason.as_deref().is_some_and(|r| r.contains(&state)) {
            sections.push(Section::new(Kind::LastState, state));
        }
    }
    let short = culprit_short(v);
    if let Some(c) = &v.culprit {
        let mut s = Section::new(Kind::Culprit, short.clone().unwrap_or_default());
        // The container's own reason, or else the task's stopped reason, each named for what it is.
        let container_reason = v
            .failed_tasks
            .iter()
            .find(|t| t.task_arn == c.task_arn)
            .and_then(|t| t.containers.iter().find(|x| Some(&x.name) == c.container.as_ref()))
            .and_then(|x| x.reason.as_deref());
        match (container_reason, c.reason.as_deref()) {
            (Some(r), _) => s.details.push(format!("container reason: {}", foreign(r))),
            (None, Some(r)) => s.details.push(format!("task stopped: {}", foreign(r))),
            (None, None) => {}
        }
        sections.push(s.detail(format!("task {}", foreign(&c.task_arn))));
    } else if let Some(h) = &v.hook {
        let mut s = Section::new(Kind::Culprit, hook_short(h));
        s.field = "hook";
        if let Some(t) = &h.target_arn {
            s.details.push(format!("target {}", foreign(t)));
        }
        sections.push(s);
    } else if let Some(short) = short.clone().filter(|_| !v.alarms.is_empty()) {
        let mut s = Section::new(Kind::Culprit, short);
        s.field = "alarms";
        sections.push(s);
    }
    if !v.failed_tasks.is_empty() {
        let mut s = Section::new(Kind::FailedTasks, format!("{}", v.failed_tasks.len()));
        for (n, label) in group_by_reason(&v.failed_tasks) {
            s.details.push(format!("{n} × {}", foreign(&label)));
        }
        s.rows = v
            .failed_tasks
            .iter()
            .map(|t| TaskRow {
                task_id: crate::engine::event::short_task_id(&t.task_arn).to_string(),
                stop_code: foreign(t.stop_code.as_deref().unwrap_or("")).into_owned(),
                stopped_reason: foreign(t.stopped_reason.as_deref().unwrap_or("")).into_owned(),
                containers: t
                    .containers
                    .iter()
                    .map(|c| {
                        format!("{} ({})", foreign(&c.name), c.exit_code.map(|x| x.to_string()).unwrap_or("–".into()))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        sections.push(s);
    }
    if let Some(r) = &v.run {
        sections.push(run_section(r));
    }
    if let Some(h) = &v.hook
        && v.culprit.is_some()
    {
        // A container is the culprit; the hook that failed too is said beside it.
        let mut s = Section::new(Kind::Hook, hook_short(h));
        if let Some(t) = &h.target_arn {
            s.details.push(format!("target {}", foreign(t)));
        }
        sections.push(s);
    }
    if !v.alarms.is_empty() {
        let lines: Vec<String> = v
            .alarms
            .iter()
            .map(|a| {
                let state = a.state.as_deref().map(|x| format!(" {}", foreign(x))).unwrap_or_default();
                let said = a.reason.as_deref().or(a.note.as_deref()).map(|r| format!(": {}", foreign(r)));
                format!("{}{state}{}", foreign(&a.name), said.unwrap_or_default())
            })
            .collect();
        let mut s = Section::new(Kind::Alarms, lines[0].clone());
        s.details = lines[1..].to_vec();
        sections.push(s);
    }
    if let Some(b) = &v.circuit_breaker
        && v.outcome != Outcome::Succeeded
    {
        sections.push(Section::new(
            Kind::Breaker,
            format!("{}/{} failed tasks by ECS's count ({})", b.failure_count, b.threshold, foreign(&b.status)),
        ));
    }
    if let Some(h) = &v.health_check {
        let mut line = describe_check(h);
        if let Some(r) = &h.reason_code {
            line.push_str(&format!(" — {r}"));
        }
        if let Some(d) = &h.description {
            line.push_str(&format!(": {d}"));
        }
        sections.push(
            Section::new(Kind::HealthCheck, foreign(&line).into_owned())
                .detail(format!("target group {}", foreign(&h.target_group))),
        );
    }
    if let Some(t) = &v.log_tail {
        sections.push(log_section(Kind::Logs, t));
    }
    if let Some(t) = v.hook.as_ref().and_then(|h| h.log_tail.as_ref()) {
        sections.push(log_section(Kind::HookLogs, t));
    }
    if !v.evidence.is_empty() {
        let mut s =
            Section::new(Kind::Evidence, "the service's event log (its stopped tasks are no longer known to ECS)");
        s.quote = v.evidence.iter().map(|m| foreign(m).into_owned()).collect();
        sections.push(s);
    }
    if let Some(m) = &v.express {
        sections.push(express_section(m));
    }
    if let Some(h) = &v.hint {
        sections.push(Section::new(Kind::Hint, foreign(h).into_owned()));
    }
    if !v.warnings.is_empty() {
        let lines: Vec<String> = v
            .warnings
            .iter()
            .map(|w| {
                let r = w.reason.as_deref().map(|r| format!(": {}", foreign(r))).unwrap_or_default();
                format!("{}{r}", foreign(&w.event_name))
            })
            .collect();
        let mut s = Section::new(Kind::Warnings, lines[0].clone());
        s.details = lines[1..].to_vec();
        sections.push(s);
    }
    debug_assert!(sections.windows(2).all(|w| w[0].kind < w[1].kind), "sections out of order");
    VerdictView {
        outcome: v.outcome,
        word: outcome_word(v.outcome),
        noun: if v.run.is_some() { "run" } else { "deployment" },
        deployment: foreign(v.deployment_id.as_deref().unwrap_or("(unknown deployment)")).into_owned(),
        task_definition: v.run.as_ref().and_then(|r| r.task_definition.as_deref()).map(|d| foreign(d).into_owned()),
        service: v.service.as_deref().map(|s| foreign(s).into_owned()),
        cluster: v.cluster.as_deref().map(|s| foreign(s).into_owned()),
        exit_code: v.exit_code,
        culprit_short: short,
        reason_short: reason,
        sections,
    }
}
