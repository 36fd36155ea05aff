//! The GitHub integration: with GITHUB_ACTIONS=true ecsgate writes the job summary, the step outputs and
//! the annotations itself. Run through `replay` of the bundled recordings (no AWS needed).

mod common;

use common::ecsgate;

struct Gh {
    dir: std::path::PathBuf,
}

impl Gh {
    fn new(name: &str) -> Gh {
        let dir = std::env::temp_dir().join(format!("ecsgate-gh-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("summary.md"), "").unwrap();
        std::fs::write(dir.join("output"), "").unwrap();
        Gh { dir }
    }
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_STEP_SUMMARY", self.dir.join("summary.md").display().to_string()),
            ("GITHUB_OUTPUT", self.dir.join("output").display().to_string()),
        ]
    }
    fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.join("summary.md")).unwrap()
    }
    /// Parses the `name<<DELIM … DELIM` blocks of $GITHUB_OUTPUT.
    fn outputs(&self) -> std::collections::HashMap<String, String> {
        let text = std::fs::read_to_string(self.dir.join("output")).unwrap();
        let mut out = std::collections::HashMap::new();
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            let (k, delim) = l.split_once("<<").expect("multi-line form");
            let mut v = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                v.push(l);
            }
            out.insert(k.to_string(), v.join("\n"));
        }
        out
    }
}

impl Drop for Gh {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn run(gh: &Gh, example: &str) -> common::Run {
    let env = gh.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("{}/examples/{example}", env!("CARGO_MANIFEST_DIR"));
    ecsgate(&["replay", &path], None, &env)
}

#[test]
fn failure_writes_summary_outputs_and_an_error_annotation() {
    let gh = Gh::new("fail");
    let r = run(&gh, "breaker-rollback.jsonl");
    assert_eq!(r.code, 1);

    let o = gh.outputs();
    assert_eq!(o["outcome"], "failed");
    assert_eq!(o["exit-code"], "1");
    assert_eq!(o["deployment-id"], "ecs-svc/2757582648257641111");
    assert_eq!(o["culprit-container"], "forms-perf-test");
    assert_eq!(o["container-exit-code"], "1");
    assert!(o["reason"].contains("3 tasks of deployment"));
    assert!(o["hint"].starts_with("The container hit its hard memory limit"));

    let s = gh.summary();
    assert!(s.contains("## ❌ ecsgate: failed — deployment `ecs-svc/2757582648257641111`"), "{s}");
    assert!(s.contains("**Culprit:** container forms-perf-test, exit code 1\n"), "{s}");
    assert!(s.contains("- container reason: OutOfMemoryError: Container killed due to memory usage"), "{s}");
    // The rollback as the recording tells it: ECS's, to the old deployment, and that it completed.
    assert!(
        s.contains("**Rollback:** ECS rolled back to ecs-svc/4231880795355584839 (rollback deployment ecs-svc/8646900195280463695); the rollback completed"),
        "{s}"
    );
    assert!(s.contains("| task | stop code | stopped reason | containers |"));
    assert_eq!(s.matches("| EssentialContainerExited | Essential container in task exited |").count(), 3);
    assert!(s.contains("**Hint:** The container hit its hard memory limit"));
    assert!(s.contains("<summary>Timeline</summary>"));
    assert!(s.contains("ecs-svc/8646900195280463695 (ECS's rollback) COMPLETED"), "{s}");

    let ann: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(ann.len(), 1, "{}", r.stdout);
    assert!(ann[0].starts_with(
        "::error title=ecsgate%3A deployment ecs-svc/2757582648257641111 failed::reason: 3 tasks of deployment"
    ));
    assert!(ann[0].contains("%0Aculprit: container forms-perf-test, exit code 1"), "newlines are escaped: {}", ann[0]);
    assert!(ann[0].contains("%0Arollback: ECS rolled back to ecs-svc/4231880795355584839"), "{}", ann[0]);
}

#[test]
fn success_writes_outputs_and_no_error_annotation() {
    let gh = Gh::new("ok");
    let r = run(&gh, "success.jsonl");
    assert_eq!(r.code, 0);
    assert!(!r.stdout.contains("::error"));
    let o = gh.outputs();
    assert_eq!(o["outcome"], "succeeded");
    assert_eq!(o["exit-code"], "0");
    assert_eq!(o["culprit-container"], "");
    assert!(gh.summary().contains("## ✅ ecsgate: succeeded"));
}

#[test]
fn bad_input_on_github_still_sets_the_outputs() {
    let gh = Gh::new("bad");
    let env = gh.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = ecsgate(&["replay", "/nonexistent.jsonl"], None, &env);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("::error title=ecsgate::cannot read /nonexistent.jsonl"));
    let o = gh.outputs();
    assert_eq!(o["outcome"], "error");
    assert_eq!(o["exit-code"], "2");
}

/// ECS text is the attacker's: a stopped reason or container reason can hold newlines, workflow
/// commands, ANSI escapes, Markdown and HTML.
#[test]
fn ecs_text_cannot_inject_workflow_commands_markup_or_escapes() {
    use common::{IDS, jsonl, task_event};
    let gh = Gh::new("inject");
    let evil = "Essential container in task exited\n::error::pwned\r\n::set-output name=outcome::succeeded\n</details><img src=x>|cell|\u{1b}[2J";
    let events: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            let mut e = task_event(&IDS, "task__stopped-essential-exit1-defra.json", &format!("t{i}"), "ecs-svc/1", 9);
            e["detail"]["stoppedReason"] = serde_json::json!(evil);
            e["detail"]["containers"][0]["reason"] = serde_json::json!("OutOfMemory\n::warning::fake\u{1b}[31m");
            e
        })
        .collect();
    let file = std::env::temp_dir().join(format!("ecsgate-inject-{}.jsonl", std::process::id()));
    std::fs::write(&file, jsonl(&events)).unwrap();
    let env = gh.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r =
        ecsgate(&["replay", file.to_str().unwrap(), "--service", "api", "--deployment-id", "ecs-svc/1"], None, &env);
    std::fs::remove_file(&file).ok();
    assert_eq!(r.code, 1, "{}", r.stderr);
    for line in r.stdout.lines().chain(r.stderr.lines()) {
        if line.starts_with("::") {
            assert!(
                line.starts_with("::error title=ecsgate") || line.starts_with("::warning title=ecsgate"),
                "injected: {line}"
            );
        }
    }
    assert!(!r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'), "no escape sequences reach the log");
    let s = gh.summary();
    assert_eq!(s.matches("<details>").count(), 1, "only our own <details>: {s}");
    assert!(s.contains("&lt;/details&gt;&lt;img src=x&gt;\\|cell\\|"), "{s}");
    assert_eq!(gh.outputs()["outcome"], "failed", "no output can be set from ECS text");
}

#[test]
fn an_unwritable_github_file_is_a_warning_not_a_change_of_verdict() {
    let gh = Gh::new("unwritable");
    let dir = gh.dir.display().to_string();
    let path = format!("{}/examples/success.jsonl", env!("CARGO_MANIFEST_DIR"));
    // A directory cannot be appended to.
    let r = ecsgate(
        &["replay", &path],
        None,
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_OUTPUT", &dir), ("GITHUB_STEP_SUMMARY", &dir)],
    );
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("warning: cannot write GITHUB_OUTPUT"), "{}", r.stderr);
    assert!(r.stderr.contains("warning: cannot write GITHUB_STEP_SUMMARY"), "{}", r.stderr);
    assert!(r.stdout.contains("::warning title=ecsgate::cannot write GITHUB_OUTPUT"));
}

#[test]
fn with_json_output_stdout_is_json_lines_only_and_annotations_go_to_stderr() {
    let gh = Gh::new("json");
    let mut env = gh.env();
    env.push(("ECSGATE_OUTPUT", "json".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("{}/examples/breaker-rollback.jsonl", env!("CARGO_MANIFEST_DIR"));
    let r = ecsgate(&["replay", &path, "--output", "json"], None, &env);
    assert_eq!(r.code, 1);
    for l in r.stdout.lines() {
        assert!(serde_json::from_str::<serde_json::Value>(l).is_ok(), "not JSON on stdout: {l}");
    }
    assert!(r.stdout.lines().last().unwrap().contains("\"type\":\"verdict\""), "{}", r.stdout);
    assert!(r.stderr.lines().any(|l| l.starts_with("::error title=ecsgate")), "annotation on stderr: {}", r.stderr);
    assert!(gh.summary().contains("**Rollback:**"), "the summary is still written");
}
