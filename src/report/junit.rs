//! `--junit FILE`: the gate as a JUnit XML report, the format GitLab (`artifacts:reports:junit`),
//! CircleCI (`store_test_results`), Buildkite (Test Analytics) and Jenkins (`junit`) read: one
//! `<testsuite>` per gate, one `<testcase>` per service. A failure carries the reason, culprit, exit code
//! and hint — the sections of the one verdict view — and a test case's time is the deployment's duration
//! as the timeline saw it (first note to decision).
//!
//! Outcomes: succeeded → passed; failed, timed out, superseded → `<failure type="…">`; error and
//! interrupted → `<error type="…">`; in progress (a service `--fail-fast` stopped waiting for) →
//! `<skipped>`.

use std::io::Write;

use super::view::view;
use super::{GateReport, Sink, Who, note_time};
use crate::engine::{Note, Outcome, Verdict};
use crate::error::AppError;

pub struct Junit {
    path: std::path::PathBuf,
    /// Per service (by position): the first time the timeline named, and the last one before its
    /// decision (what came after — ECS's rollback finishing — is not the deployment's duration).
    spans: Vec<(Option<i64>, Option<i64>)>,
    decided: Vec<bool>,
    started_ms: i64,
}

/// XML text and attribute values: the five entities, and no character XML 1.0 forbids (control
/// characters other than tab, line feed and carriage return).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

impl Junit {
    pub fn new(path: std::path::PathBuf) -> Self {
        Junit { path, spans: Vec::new(), decided: Vec::new(), started_ms: crate::engine::time::now_millis() }
    }

    fn write(&self, xml: &str) {
        if let Err(e) = std::fs::File::create(&self.path).and_then(|mut f| f.write_all(xml.as_bytes())) {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("warning: cannot write the JUnit report {}: {e} (the verdict stands)", self.path.display());
            }
        }
    }
}

fn seconds(span: Option<&(Option<i64>, Option<i64>)>) -> f64 {
    match span {
        Some((Some(a), Some(b))) if b >= a => (b - a) as f64 / 1000.0,
        _ => 0.0,
    }
}

/// One `<testcase>`: named after the service, classed by its cluster.
fn testcase(v: &Verdict, time: f64) -> String {
    let view = view(v);
    let name = xml_escape(view.service.as_deref().unwrap_or("deployment"));
    let class = xml_escape(&format!("ecsgate.{}", view.cluster.as_deref().unwrap_or("ecs")));
    let mut s = format!("    <testcase classname=\"{class}\" name=\"{name}\" time=\"{time:.3}\"");
    // The full text: the view's sections, as the terminal lays them out.
    let body = || {
        let mut b = format!("{}\n", view.subject());
        for sec in &view.sections {
            b.push_str(&format!("{}: {}\n", sec.kind.label(), sec.text));
            for d in &sec.details {
                b.push_str(&format!("  {d}\n"));
            }
            for q in &sec.quote {
                b.push_str(&format!("  | {q}\n"));
            }
        }
        b.push_str(&format!("exit code {}\n", view.exit_code));
        xml_escape(&b)
    };
    let message = xml_escape(view.reason_short.as_deref().unwrap_or(view.word));
    let kind = v.outcome.as_str();
    match v.outcome {
        Outcome::Succeeded => s.push_str(" />\n"),
        Outcome::Failed | Outcome::TimedOut | Outcome::Superseded => {
            s.push_str(&format!(
                ">\n      <failure message=\"{message}\" type=\"{kind}\">{}</failure>\n    </testcase>\n",
                body()
            ));
        }
        Outcome::Error(_) | Outcome::Interrupted(_) => {
            s.push_str(&format!(
                ">\n      <error message=\"{message}\" type=\"{kind}\">{}</error>\n    </testcase>\n",
                body()
            ));
        }
        Outcome::InProgress | Outcome::Detached => {
            s.push_str(&format!(">\n      <skipped message=\"{message}\" />\n    </testcase>\n"));
        }
    }
    s
}

/// The whole document for a gate.
pub fn document(r: &GateReport, times: &[f64], timestamp: &str) -> String {
    let count = |f: fn(Outcome) -> bool| r.verdicts.iter().filter(|v| f(v.outcome)).count();
    let failures = count(|o| matches!(o, Outcome::Failed | Outcome::TimedOut | Outcome::Superseded));
    let errors = count(|o| matches!(o, Outcome::Error(_) | Outcome::Interrupted(_)));
    let skipped = count(|o| matches!(o, Outcome::InProgress | Outcome::Detached));
    let total: f64 = times.iter().copied().fold(0.0, f64::max);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!(
        "<testsuites name=\"ecsgate\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3}\">\n",
        r.verdicts.len()
    ));
    s.push_str(&format!(
        "  <testsuite name=\"ecsgate\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3}\" timestamp=\"{timestamp}\">\n",
        r.verdicts.len()
    ));
    for (i, v) in r.verdicts.iter().enumerate() {
        s.push_str(&testcase(v, times.get(i).copied().unwrap_or(0.0)));
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

impl Sink for Junit {
    fn begin(&mut self, units: &[Who]) {
        self.spans = vec![(None, None); units.len().max(1)];
        self.decided = vec![false; units.len().max(1)];
    }

    fn note(&mut self, who: &Who, n: &Note) {
        if self.spans.len() <= who.index {
            self.spans.resize(who.index + 1, (None, None));
            self.decided.resize(who.index + 1, false);
        }
        if matches!(n, Note::Decision { .. }) {
            self.decided[who.index] = true;
        }
        let Some(at) = note_time(n) else { return };
        if self.decided[who.index] {
            return;
        }
        let span = &mut self.spans[who.index];
        span.0 = Some(span.0.map_or(at, |a| a.min(at)));
        span.1 = Some(span.1.map_or(at, |b| b.max(at)));
    }

    fn warn(&mut self, _msg: &str) {}

    fn error(&mut self, e: &AppError) {
        let r = GateReport::new(vec![Verdict::error(e.kind, &e.message, e.hint.as_deref())]);
        self.report(&r);
    }

    fn report(&mut self, r: &GateReport) {
        let times: Vec<f64> = (0..r.verdicts.len()).map(|i| seconds(self.spans.get(i))).collect();
        let stamp = crate::engine::time::format_rfc3339_secs(self.started_ms);
        self.write(&document(r, &times, stamp.trim_end_matches('Z')));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(xml_escape("a<b>&\"c'\u{1b}[31m\n"), "a&lt;b&gt;&amp;&quot;c&apos; [31m\n");
    }

    #[test]
    fn one_testcase_per_service_with_failures_errors_and_skips_counted() {
        let mut ok = Verdict::error(crate::exit::ErrorKind::Usage, "deployment ecs-svc/1 completed", None);
        ok.outcome = Outcome::Succeeded;
        ok.exit_code = 0;
        ok.service = Some("api".into());
        ok.cluster = Some("shop".into());
        let mut bad = ok.clone();
        bad.outcome = Outcome::Failed;
        bad.exit_code = 1;
        bad.service = Some("worker".into());
        bad.reason = Some("3 tasks failed <oom>".into());
        bad.hint = Some("raise the memory".into());
        let mut cut = ok.clone();
        cut.outcome = Outcome::InProgress;
        cut.exit_code = 3;
        cut.service = Some("cron".into());
        let r = GateReport::new(vec![ok, bad, cut]);
        let xml = document(&r, &[12.5, 30.0, 1.0], "2026-12-03T10:00:00");
        assert!(
            xml.contains(
                "<testsuite name=\"ecsgate\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" time=\"30.000\""
            ),
            "{xml}"
        );
        assert!(xml.contains("<testcase classname=\"ecsgate.shop\" name=\"api\" time=\"12.500\" />"), "{xml}");
        assert!(xml.contains("<failure message=\"3 tasks failed &lt;oom&gt;\" type=\"failed\">"), "{xml}");
        assert!(xml.contains("hint: raise the memory"), "{xml}");
        assert!(xml.contains("<skipped message="), "{xml}");
        // Well-formed enough for the readers: one root, every element closed.
        assert_eq!(xml.matches("<testcase ").count(), 3);
        let self_closed = xml.lines().filter(|l| l.trim_start().starts_with("<testcase ") && l.ends_with("/>")).count();
        assert_eq!(xml.matches("</testcase>").count() + self_closed, 3);
    }
}
