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
    assert!(s.contains(
        "**Culprit:** container `forms-perf-test`, exit code 1 — OutOfMemoryError: Container killed due to memory usage"
    ));
    assert!(s.contains("**Rollback:** ECS rolled back to `ecs-svc/4231880795355584839`"));
    assert!(s.contains("| task | stop code | stopped reason | containers |"));
    assert_eq!(s.matches("| EssentialContainerExited | Essential container in task exited |").count(), 3);
    assert!(s.contains("**Hint:** The container hit its hard memory limit"));
    assert!(s.contains("<summary>Timeline</summary>"));
    assert!(s.contains("(rollback) COMPLETED"));

    let ann: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(ann.len(), 1, "{}", r.stdout);
    assert!(
        ann[0].starts_with(
            "::error title=ecsgate%3A deployment ecs-svc/2757582648257641111 failed::3 tasks of deployment"
        )
    );
    assert!(ann[0].contains("%0Aculprit: container forms-perf-test exit code 1"), "newlines are escaped: {}", ann[0]);
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
