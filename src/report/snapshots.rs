//! What each sink prints, as snapshots (insta; `src/report/snapshots/`): the bundled recordings (built
//! from real samples) replayed through the real drive into a terminal-less human sink, the JSON sink
//! and the GitHub sink, for a success, a failure, a timeout and a gate over several services.
//! Review a change with `cargo insta review` (or `INSTA_UPDATE=always cargo test` and `git diff`).

use std::cell::RefCell;
use std::io::{BufRead, Write};
use std::rc::Rc;

use super::{Reporter, Sink, github::Github, human::Human, json::Json};
use crate::engine::{Outcome, Target};
use crate::replay::replay_input;
use crate::report::format_state;

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

struct Printed {
    human: String,
    json: String,
    annotations: String,
    summary: String,
    outputs: String,
}

/// Replays `lines` of a bundled example through all three sinks, as `ecsgate replay` does.
fn print(example: &str, keep: usize) -> Printed {
    let path = format!("{}/examples/{example}", env!("CARGO_MANIFEST_DIR"));
    let text: String = std::fs::read_to_string(path).unwrap().lines().take(keep).map(|l| format!("{l}\n")).collect();
    let (human, human_err, json, ann) = (Buf::default(), Buf::default(), Buf::default(), Buf::default());
    let dir = std::env::temp_dir().join(format!("ecsgate-snap-{example}-{keep}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (summary, output) = (dir.join("summary.md"), dir.join("output"));
    let sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(Human::new(Box::new(human.clone()), Box::new(human_err.clone()), false, false, false)),
        Box::new(Json::new(Box::new(json.clone()), false)),
        Box::new(Github::new(Box::new(ann.clone()), Some(summary.clone()), Some(output.clone()))),
    ];
    let mut reporter = Reporter::with_sinks(sinks);
    let mut open = || -> std::io::Result<Box<dyn BufRead + '_>> { Ok(Box::new(text.as_bytes())) };
    let mut r = replay_input(&mut open, &Target::default(), 3, &mut reporter).unwrap();
    r.driver.finish_undecided(Outcome::TimedOut, |e| {
        format!("the event stream ended with no verdict (last state: {})", format_state(&e.progress()))
    });
    r.driver.conclude(&mut reporter);
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let printed = Printed {
        human: human.text(),
        json: json.text(),
        annotations: ann.text(),
        summary: read(&summary),
        outputs: read(&output),
    };
    std::fs::remove_dir_all(&dir).ok();
    printed
}

fn check(name: &str, example: &str, keep: usize) {
    let p = print(example, keep);
    insta::assert_snapshot!(format!("{name}-human"), p.human);
    insta::assert_snapshot!(format!("{name}-json"), p.json);
    insta::assert_snapshot!(
        format!("{name}-github"),
        format!("{}\n---\n{}\n---\n{}", p.annotations, p.outputs, p.summary)
    );
}

#[test]
fn success_as_each_sink_prints_it() {
    check("success", "success.jsonl", usize::MAX);
}

#[test]
fn failure_as_each_sink_prints_it() {
    check("failure", "breaker-rollback.jsonl", usize::MAX);
}

#[test]
fn timeout_as_each_sink_prints_it() {
    // The stream ends after the first task started: no verdict.
    check("timeout", "success.jsonl", 4);
}

#[test]
fn several_services_as_each_sink_prints_them() {
    check("several", "three-services.jsonl", usize::MAX);
}
