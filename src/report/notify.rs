//! `--notify` as a sink of the one [`super::Reporter`]: when the gate ends (a report, or an error),
//! it builds each URL's payload from the same [`GateReport`] every other sink renders and puts it in an
//! outbox; `app::notify` sends the outbox (the only part that does I/O).
//!
//! A Slack incoming webhook (host `hooks.slack.com`, or Slack's `/services/T…/B…/…` path behind a relay)
//! gets a Block Kit message laid out from the [`VerdictView`] sections, within Block Kit's limits. Any
//! other URL gets the verdict JSON: the verdict object for one service; for several, the `summary`
//! object stdout prints (same fields) with every verdict in `verdicts`.

use serde_json::{Value, json};

use super::view::{VerdictView, view};
use super::{GateReport, Sink, Who};
use crate::cli::NotifyOn;
use crate::engine::{Note, Outcome, Verdict};
use crate::error::AppError;

/// Where the payload goes, by its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    Slack,
    Json,
}

/// Slack by its host, or by the shape of its webhook path (`/services/T…/B…/…`), which relays and
/// proxies in front of Slack keep.
pub fn kind_of(url: &str) -> Receiver {
    let Some(p) = super::text::url_parts(url) else { return Receiver::Json };
    let path = p.rest.split(['?', '#']).next().unwrap_or_default();
    let slack_path = path.strip_prefix("/services/T").is_some_and(|p| p.split('/').count() == 3);
    if p.host.eq_ignore_ascii_case("hooks.slack.com") || slack_path { Receiver::Slack } else { Receiver::Json }
}

/// The CI job that ran the gate, from the environment GitHub Actions and CircleCI set.
pub fn ci_job_link(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let (Some(server), Some(repo), Some(run)) =
        (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID"))
    {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    env("CIRCLE_BUILD_URL")
}

pub fn payload(kind: Receiver, r: &GateReport, job: Option<&str>) -> Value {
    match kind {
        Receiver::Json => json_payload(r),
        Receiver::Slack => slack_payload(r, job),
    }
}

/// The webhook's JSON: what `--output json` prints at the end, as one document.
fn json_payload(r: &GateReport) -> Value {
    if r.several() {
        let mut v = serde_json::to_value(super::json::summary(r)).unwrap_or(Value::Null);
        v["verdicts"] = serde_json::to_value(&r.verdicts).unwrap_or(Value::Null);
        v
    } else {
        serde_json::to_value(r.verdicts.first()).unwrap_or(Value::Null)
    }
}

/// Block Kit's limits (https://api.slack.com/reference/block-kit/blocks).
pub const MAX_BLOCKS: usize = 50;
pub const MAX_HEADER: usize = 150;
pub const MAX_SECTION_TEXT: usize = 3000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_FIELD_TEXT: usize = 2000;
/// Services shown in full; two blocks each, so header + 2 × 20 + "more" + link stays under 50.
const MAX_SERVICES: usize = 20;

fn cap(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Slack's mrkdwn: `&`, `<` and `>` are control characters. (The text is foreign-escaped already.)
fn mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => ":white_check_mark:",
        Outcome::Failed | Outcome::Error(_) => ":x:",
        _ => ":warning:",
    }
}

/// The view's sections as one mrkdwn text: `*Title:* text`, details, quoted lines in a code block.
fn sections_text(v: &VerdictView) -> String {
    let mut parts: Vec<String> = Vec::new();
    for sec in &v.sections {
        let text = if sec.alert { format!(":rotating_light: *{}*", mrkdwn(&sec.text)) } else { mrkdwn(&sec.text) };
        let mut p = format!("*{}:* {text}", sec.kind.title());
        for d in &sec.details {
            p.push_str(&format!("\n• {}", mrkdwn(d)));
        }
        if !sec.quote.is_empty() {
            // Code blocks cannot be escaped out of except by their fence.
            let lines: Vec<String> = sec.quote.iter().map(|q| mrkdwn(&q.replace("```", "'''"))).collect();
            p.push_str(&format!("\n```{}```", lines.join("\n")));
        }
        parts.push(p);
    }
    parts.join("\n")
}

fn service_blocks(v: &Verdict) -> Vec<Value> {
    let v = view(v);
    let field = |title: &str, text: String| json!({"type": "mrkdwn", "text": cap(&format!("*{title}*\n{text}"), MAX_FIELD_TEXT)});
    let mut fields = vec![
        match &v.task_definition {
            Some(td) => field(
                "Task definition",
                format!("{} (cluster {})", mrkdwn(td), mrkdwn(v.cluster.as_deref().unwrap_or("?"))),
            ),
            None => field(
                "Service",
                format!(
                    "{} (cluster {})",
                    mrkdwn(v.service.as_deref().unwrap_or("?")),
                    mrkdwn(v.cluster.as_deref().unwrap_or("?"))
                ),
            ),
        },
        field(if v.noun == "run" { "Run" } else { "Deployment" }, format!("`{}`", mrkdwn(&v.deployment))),
        field("Outcome", format!("{} {} (exit code {})", icon(v.outcome), v.word.to_lowercase(), v.exit_code)),
    ];
    if let Some(c) = &v.culprit_short {
        fields.push(field("Culprit", mrkdwn(c)));
    }
    fields.truncate(MAX_FIELDS);
    let mut blocks = vec![json!({"type": "section", "fields": fields})];
    let text = sections_text(&v);
    if !text.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&text, MAX_SECTION_TEXT)}}));
    }
    blocks
}

fn slack_payload(r: &GateReport, job: Option<&str>) -> Value {
    let word = super::outcome_word(r.outcome).to_lowercase();
    let headline = match r.verdicts.as_slice() {
        [v] => match view(v).task_definition {
            Some(td) => format!("ecsgate: run of {td} {word}"),
            None => format!("ecsgate: {} {word}", super::foreign(v.service.as_deref().unwrap_or("deployment"))),
        },
        many => format!("ecsgate: {} services, {word}", many.len()),
    };
    let header = cap(&format!("{headline} (exit code {})", r.exit_code), MAX_HEADER);
    let mut blocks = vec![json!({"type": "header", "text": {"type": "plain_text", "text": header}})];
    // With several services the failures come first.
    let mut ordered: Vec<&Verdict> = r.verdicts.iter().collect();
    ordered.sort_by_key(|v| std::cmp::Reverse(crate::exit::severity(v.exit_code)));
    for v in ordered.iter().take(MAX_SERVICES) {
        blocks.extend(service_blocks(v));
    }
    if ordered.len() > MAX_SERVICES {
        let more = format!("… and {} more services (the CI job has every verdict)", ordered.len() - MAX_SERVICES);
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]}));
    }
    if let Some(j) = job {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{}|CI job>", j.replace('|', "%7C").replace('>', "%3E"))}]}));
    }
    json!({"text": cap(&format!("{} {headline}", icon(r.outcome)), MAX_SECTION_TEXT), "blocks": blocks})
}

/// A payload ready to post.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub url: String,
    pub body: String,
    /// What posting it does, for the line that says it happened ("notified", "exported the trace to").
    pub label: &'static str,
    /// What it is, for the warning when it failed ("notification to", "trace export to").
    pub what: &'static str,
}

/// The notification sink: payloads from the report (or the error), queued for `app::notify`.
pub struct Notify {
    urls: Vec<String>,
    on: NotifyOn,
    job: Option<String>,
    outbox: Vec<Outgoing>,
}

impl Notify {
    pub fn new(urls: Vec<String>, on: NotifyOn, job: Option<String>) -> Self {
        Notify { urls, on, job, outbox: Vec::new() }
    }

    fn queue(&mut self, r: &GateReport) {
        if self.on == NotifyOn::Failure && r.outcome == Outcome::Succeeded {
            return;
        }
        for url in &self.urls {
            // Guarded like every line ecsgate writes: a relay may log the body where a runner reads it.
            let body = super::text::guard_line(&payload(kind_of(url), r, self.job.as_deref()).to_string()).into_owned();
            self.outbox.push(Outgoing { url: url.clone(), body, label: "notified", what: "notification to" });
        }
    }
}

impl Sink for Notify {
    fn note(&mut self, _who: &Who, _n: &Note) {}
    fn warn(&mut self, _msg: &str) {}

    /// The team hears of an error too, as its error verdict.
    fn error(&mut self, e: &AppError) {
        self.queue(&GateReport::new(vec![Verdict::error(e.kind, &e.message, e.hint.as_deref())]));
    }

    fn report(&mut self, r: &GateReport) {
        self.queue(r);
    }

    fn outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn slack_webhooks_are_told_apart_from_other_urls() {
        assert_eq!(kind_of("https://hooks.slack.com/services/T/B/x"), Receiver::Slack);
        assert_eq!(kind_of("https://example.com/hooks.slack.com"), Receiver::Json);
        assert_eq!(kind_of("http://127.0.0.1:8080/hook"), Receiver::Json);
        assert_eq!(
            kind_of("http://127.0.0.1:8080/services/T0/B0/secret"),
            Receiver::Slack,
            "a relay keeps Slack's path"
        );
    }

    #[test]
    fn the_ci_job_link_comes_from_github_or_circleci() {
        let gh =
            env(&[("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "o/r"), ("GITHUB_RUN_ID", "42")]);
        assert_eq!(ci_job_link(&gh).as_deref(), Some("https://github.com/o/r/actions/runs/42"));
        let cci = env(&[("CIRCLE_BUILD_URL", "https://app.circleci.com/pipelines/x/1")]);
        assert_eq!(ci_job_link(&cci).as_deref(), Some("https://app.circleci.com/pipelines/x/1"));
        assert_eq!(ci_job_link(&env(&[])), None);
    }

    #[test]
    fn slack_text_cannot_break_out_of_mrkdwn() {
        assert_eq!(mrkdwn("<!channel> & <https://x|y>"), "&lt;!channel&gt; &amp; &lt;https://x|y&gt;");
    }

    #[test]
    fn notify_on_failure_posts_nothing_for_a_success() {
        let ok = GateReport::new(vec![Verdict {
            outcome: Outcome::Succeeded,
            exit_code: 0,
            ..Verdict::error(crate::exit::ErrorKind::Usage, "x", None)
        }]);
        let mut n = Notify::new(vec!["http://127.0.0.1:1/h".into()], NotifyOn::Failure, None);
        n.report(&ok);
        assert!(n.outbox().is_empty());
        let mut n = Notify::new(vec!["http://127.0.0.1:1/h".into()], NotifyOn::Always, None);
        n.report(&ok);
        assert_eq!(n.outbox().len(), 1);
    }
}
