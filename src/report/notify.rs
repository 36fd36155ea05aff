//! What `--notify` posts: pure payloads, tested as snapshots; `app::notify` sends them.
//!
//! A Slack incoming webhook (host `hooks.slack.com`) gets a Block Kit message: outcome, service,
//! deployment, reason, culprit and exit code, hint, and a link to the CI job when the environment names
//! one. Any other URL gets the verdict JSON: the verdict object for one service; for several, a
//! `summary` object with every verdict in `verdicts`.

use serde_json::{Value, json};

use super::{GateReport, culprit_short, outcome_word};
use crate::engine::{Outcome, Verdict};

/// Where the payload goes, by its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Json,
}

/// Slack by its host, or by the shape of its webhook path (`/services/T…/B…/…`), which relays and
/// proxies in front of Slack keep.
pub fn kind_of(url: &str) -> Kind {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, String::new()));
    let host = host.split(':').next().unwrap_or_default();
    let slack_path = path.strip_prefix("/services/T").is_some_and(|p| p.split('/').count() == 3);
    if host.eq_ignore_ascii_case("hooks.slack.com") || slack_path { Kind::Slack } else { Kind::Json }
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

pub fn payload(kind: Kind, r: &GateReport, job: Option<&str>) -> Value {
    match kind {
        Kind::Json => json_payload(r),
        Kind::Slack => slack_payload(r, job),
    }
}

fn json_payload(r: &GateReport) -> Value {
    if r.several() {
        json!({"type": "summary", "outcome": r.outcome, "exit_code": r.exit_code, "verdicts": r.verdicts})
    } else {
        serde_json::to_value(r.verdicts.first()).unwrap_or(Value::Null)
    }
}

/// Slack's mrkdwn: `&`, `<` and `>` are control characters; text is capped (a section holds 3,000).
fn mrkdwn(s: &str, max: usize) -> String {
    let s = super::one_line(s);
    let mut t: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        t.push('…');
    }
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => ":white_check_mark:",
        Outcome::Failed | Outcome::Error(_) => ":x:",
        _ => ":warning:",
    }
}

fn service_blocks(v: &Verdict) -> Vec<Value> {
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Service*\n{} (cluster {})", mrkdwn(v.service.as_deref().unwrap_or("?"), 200), mrkdwn(v.cluster.as_deref().unwrap_or("?"), 200))}),
        json!({"type": "mrkdwn", "text": format!("*Deployment*\n`{}`", mrkdwn(v.deployment_id.as_deref().unwrap_or("?"), 200))}),
        json!({"type": "mrkdwn", "text": format!("*Outcome*\n{} {} (exit code {})", icon(v.outcome), outcome_word(v.outcome).0.to_lowercase(), v.exit_code)}),
    ];
    if let Some(c) = culprit_short(v) {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Culprit*\n{}", mrkdwn(&c, 500))}));
    }
    let mut blocks = vec![json!({"type": "section", "fields": fields})];
    let mut text = String::new();
    if let Some(r) = &v.reason {
        text.push_str(&format!("*Reason:* {}", mrkdwn(r, 1200)));
    }
    if let Some(c) = v.culprit.as_ref().and_then(|c| c.reason.as_deref()) {
        text.push_str(&format!("\n*Container reason:* {}", mrkdwn(c, 500)));
    }
    if let Some(h) = &v.hint {
        text.push_str(&format!("\n*Hint:* {}", mrkdwn(h, 1000)));
    }
    if !text.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    blocks
}

fn slack_payload(r: &GateReport, job: Option<&str>) -> Value {
    let word = outcome_word(r.outcome).0.to_lowercase();
    let headline = match r.verdicts.as_slice() {
        [v] => format!("ecsgate: {} {word}", v.service.as_deref().unwrap_or("deployment")),
        many => format!("ecsgate: {} services, {word}", many.len()),
    };
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": format!("{headline} (exit code {})", r.exit_code)}}),
    ];
    // With several services the failures come first, and Slack's 50-block limit is kept.
    let mut ordered: Vec<&Verdict> = r.verdicts.iter().collect();
    ordered.sort_by_key(|v| std::cmp::Reverse(crate::exit::severity(v.exit_code)));
    for v in ordered.into_iter().take(20) {
        blocks.extend(service_blocks(v));
    }
    if let Some(j) = job {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{}|CI job>", j.replace('|', "%7C").replace('>', "%3E"))}]}));
    }
    json!({"text": format!("{} {headline}", icon(r.outcome)), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn slack_webhooks_are_told_apart_from_other_urls() {
        assert_eq!(kind_of("https://hooks.slack.com/services/T/B/x"), Kind::Slack);
        assert_eq!(kind_of("https://example.com/hooks.slack.com"), Kind::Json);
        assert_eq!(kind_of("http://127.0.0.1:8080/hook"), Kind::Json);
        assert_eq!(kind_of("http://127.0.0.1:8080/services/T0/B0/secret"), Kind::Slack, "a relay keeps Slack's path");
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
        assert_eq!(mrkdwn("<!channel> & <https://x|y>\nnext", 100), "&lt;!channel&gt; &amp; &lt;https://x|y&gt; next");
    }
}
