//! The command line, checked before anything is created (issues 15 and 16): every bad flag or variable
//! is one line naming what the user typed or set, with exit code 2; help, the manual and completions
//! tell only what each command takes. No test here can reach AWS (`common::isolate`: a dead local
//! endpoint) — and none needs to: every check runs before the first call.

mod common;

use common::ecsgate;

fn usage(args: &[&str], env: &[(&str, &str)]) -> common::Run {
    let r = ecsgate(args, None, env);
    assert_eq!(r.code, 2, "{args:?} {env:?}: {}{}", r.stdout, r.stderr);
    let first = r.stderr.lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("error: "), "one error line first: {}", r.stderr);
    r
}

#[test]
fn a_bad_value_from_a_variable_names_the_variable_not_a_flag() {
    let r = usage(&["wait", "--service", "api"], &[("ECSGATE_TIMEOUT", "banana")]);
    assert!(r.stderr.contains("'banana' for 'ECSGATE_TIMEOUT'"), "{}", r.stderr);
    assert!(!r.stderr.contains("--timeout"), "{}", r.stderr);
    // Typed on the command line, it names the flag.
    let r = usage(&["wait", "--service", "api", "--timeout", "banana"], &[]);
    assert!(r.stderr.contains("'--timeout <TIMEOUT>'"), "{}", r.stderr);
}

#[test]
fn booleans_take_the_usual_forms_and_an_empty_variable_is_unset() {
    for v in ["1", "yes", "TRUE", "on"] {
        let r = ecsgate(&["replay", "examples/success.jsonl"], None, &[("ECSGATE_QUIET", v)]);
        assert_eq!(r.code, 0, "{v}: {}", r.stderr);
        assert!(!r.stdout.contains("task "), "{v}: quiet prints only the verdict: {}", r.stdout);
        assert!(r.stdout.starts_with("verdict: SUCCEEDED"), "-q output starts with the verdict: {:?}", r.stdout);
    }
    for v in ["0", "no", "false", ""] {
        let r = ecsgate(&["replay", "examples/success.jsonl"], None, &[("ECSGATE_QUIET", v)]);
        assert_eq!(r.code, 0, "{v:?}: {}", r.stderr);
        assert!(r.stdout.contains("task "), "{v:?}: not quiet: {}", r.stdout);
    }
    let r = usage(&["replay", "examples/success.jsonl"], &[("ECSGATE_QUIET", "maybe")]);
    assert!(r.stderr.contains("ECSGATE_QUIET"), "{}", r.stderr);
}

#[test]
fn ecsgate_github_false_wins_over_github_actions() {
    let dir = std::env::temp_dir().join(format!("ecsgate-cli-gh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let summary = dir.join("summary.md");
    let s = summary.to_str().unwrap();
    let on = ecsgate(
        &["replay", "examples/breaker-rollback.jsonl"],
        None,
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", s)],
    );
    assert!(on.stdout.contains("::error title=ecsgate"), "detected: {}", on.stdout);
    std::fs::remove_file(&summary).ok();
    let off = ecsgate(
        &["replay", "examples/breaker-rollback.jsonl"],
        None,
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", s), ("ECSGATE_GITHUB", "false")],
    );
    assert_eq!(off.code, 1);
    assert!(!off.stdout.contains("::error"), "{}", off.stdout);
    assert!(!summary.exists(), "no job summary with ECSGATE_GITHUB=false");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn durations_the_clock_cannot_hold_are_usage_errors_never_a_panic() {
    for v in ["18446744073709551615s", "9223372036854775807s", "99999999h", "366d", "8761h"] {
        let r = usage(&["wait", "--service", "api", "--timeout", v], &[]);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    let r = usage(&["wait", "--service", "api"], &[("ECSGATE_TIMEOUT", "18446744073709551615s")]);
    assert!(r.stderr.contains("ECSGATE_TIMEOUT") && r.stderr.contains("at most 365 days"), "{}", r.stderr);
    usage(&["wait", "--service", "api", "--timeout", "0s"], &[]);
}

#[test]
fn notify_urls_are_checked_before_anything_is_created() {
    for (url, why) in [
        ("http://127.0.0.1:99999/hook", "the port must be 1–65535"),
        ("ftp://example.com/hook", "only http and https"),
        ("hooks.slack.com/services/T/B/x", "not an http(s) URL"),
        ("https:///path-only", "no host"),
    ] {
        let r = usage(&["wait", "--service", "api", "--notify", url], &[]);
        assert!(r.stderr.contains(why), "{url}: {}", r.stderr);
        assert!(!r.stderr.contains("path-only") && !r.stderr.contains("/services/T"), "redacted: {}", r.stderr);
    }
}

#[test]
fn a_region_conflict_is_named() {
    let arn = "arn:aws:ecs:eu-west-1:123456789012:service/shop/api";
    let r = usage(&["wait", "--service", arn, "--region", "us-east-1"], &[]);
    assert!(r.stderr.contains("us-east-1") && r.stderr.contains("eu-west-1"), "{}", r.stderr);
    // An ARN of another region mixed with names, which go to AWS_REGION's (us-east-1 in these tests).
    let r = usage(&["wait", "--service", arn, "--service", "cron"], &[]);
    assert!(r.stderr.contains("eu-west-1") && r.stderr.contains("us-east-1 (AWS_REGION)"), "{}", r.stderr);
    let other = "arn:aws:ecs:us-west-2:123456789012:service/shop/worker";
    let r = usage(&["wait", "--service", arn, "--service", other], &[]);
    assert!(r.stderr.contains("eu-west-1") && r.stderr.contains("us-west-2"), "{}", r.stderr);
}

#[test]
fn typos_keep_clap_suggestions() {
    let r = usage(&["wiat"], &[]);
    assert!(r.stderr.contains("a similar subcommand exists: 'wait'"), "{}", r.stderr);
    let r = usage(&["wait", "--servce", "api"], &[]);
    assert!(r.stderr.contains("a similar argument exists: '--service'"), "{}", r.stderr);
}

#[test]
fn a_hook_id_alone_says_what_goes_with_it() {
    let r = usage(&["continue", "--hook-id", "h1"], &[]);
    assert!(r.stderr.contains("--hook-id names a hook of a service deployment"), "{}", r.stderr);
    assert!(r.stderr.contains("--service-deployment-arn"), "{}", r.stderr);
}

#[test]
fn empty_names_are_usage_errors() {
    let r = usage(&["wait", "--service", "api", "--cluster", ""], &[]);
    assert!(r.stderr.contains("--cluster") && r.stderr.contains("must not be empty"), "{}", r.stderr);
    usage(&["wait", "--service", ""], &[]);
    usage(&["continue", "--service", "api", "--cluster", " "], &[]);
}

#[test]
fn record_refuses_an_existing_file_or_a_symlink_unless_force() {
    let dir = std::env::temp_dir().join(format!("ecsgate-cli-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("existing.jsonl");
    std::fs::write(&file, "keep me\n").unwrap();
    let r = usage(&["wait", "--service", "api", "--record", file.to_str().unwrap()], &[]);
    assert!(r.stderr.contains("exists; not overwritten") && r.stderr.contains("--force"), "{}", r.stderr);
    let link = dir.join("link.jsonl");
    let target = dir.join("target.txt");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = usage(&["wait", "--service", "api", "--record", link.to_str().unwrap()], &[]);
    assert!(r.stderr.contains("is a symlink"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me\n");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    // With --force the check passes (the gate then fails on the dead endpoint: exit 5, not 2).
    let r = ecsgate(
        &["wait", "--service", "api", "--record", file.to_str().unwrap(), "--force", "--timeout", "5s"],
        None,
        &[],
    );
    assert_ne!(r.code, 2, "{}", r.stderr);
    // A directory that does not exist is refused up front too (wait and explain share the check).
    let missing = dir.join("no-such-dir").join("r.jsonl");
    let r = usage(&["wait", "--service", "api", "--record", missing.to_str().unwrap()], &[]);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    let r = usage(
        &["explain", "--service", "api", "--deployment-id", "ecs-svc/1", "--record", missing.to_str().unwrap()],
        &[],
    );
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn with_ecsgate_output_json_a_usage_error_prints_the_error_verdict() {
    let r = usage(&["wait", "--bogus"], &[("ECSGATE_OUTPUT", "json")]);
    let v = r.last_json();
    assert_eq!(
        (v["type"].as_str(), v["outcome"].as_str(), v["exit_code"].as_i64()),
        (Some("verdict"), Some("error"), Some(2))
    );
    // The flag on the command line wins over the variable.
    let r = usage(&["wait", "--bogus", "--output", "human"], &[("ECSGATE_OUTPUT", "json")]);
    assert!(r.stdout.trim().is_empty(), "{}", r.stdout);
}

#[test]
fn each_command_help_lists_only_what_it_takes() {
    let deploy = ecsgate(&["deploy", "--help"], None, &[]).stdout;
    for absent in ["--deployment-id", "--fail-fast"] {
        assert!(!deploy.contains(absent), "deploy --help offers {absent}");
    }
    assert!(deploy.contains("--service <SERVICE>") && !deploy.contains("Repeat it"), "{deploy}");
    let wait = ecsgate(&["wait", "--help"], None, &[]).stdout;
    assert!(wait.contains("--deployment-id") && wait.contains("--fail-fast"), "{wait}");
    let gc = ecsgate(&["gc", "--help"], None, &[]).stdout;
    assert!(gc.contains("every leftover older than --older-than was deleted"), "{gc}");
    assert!(!gc.contains("superseded"), "gc shows its own exit codes: {gc}");
    let cont = ecsgate(&["continue", "--help"], None, &[]).stdout;
    assert!(cont.contains("the hook was answered") && !cont.contains("superseded"), "{cont}");
}

#[test]
fn the_manual_is_one_complete_page() {
    let r = ecsgate(&["man"], None, &[]);
    assert_eq!(r.code, 0);
    let man = r.stdout;
    for cmd in ["WAIT", "DEPLOY", "REPLAY", "CONTINUE", "GC"] {
        assert!(man.contains(&format!(".SH \"ECSGATE {cmd}\"")), "{cmd} missing");
    }
    for flag in ["\\-\\-rollback\\-on\\-failure", "\\-\\-older\\-than", "\\-\\-hook\\-id", "\\-\\-until"] {
        assert!(man.contains(flag), "{flag} missing");
    }
    for var in ["ECSGATE_TIMEOUT", "ECSGATE_NOTIFY", "ECSGATE_OLDER_THAN", "ECSGATE_GITHUB"] {
        assert!(man.contains(var), "{var} missing");
    }
    assert!(man.contains(".SH ENVIRONMENT") && man.contains(".SH EXIT STATUS") && man.contains("143"));
    assert!(!man.contains("reconcile\\-interval"), "hidden flags stay hidden");
    assert!(!man.contains("ecsgate\\-wait(1)"), "no page that cannot be produced is referred to");
}

#[test]
fn completions_offer_no_hidden_flag() {
    for shell in ["bash", "zsh", "fish"] {
        let r = ecsgate(&["completions", shell], None, &[]);
        assert_eq!(r.code, 0);
        for hidden in ["--reconcile-interval", "--poll-interval", "--wait-seconds", "--api-error-budget", "--heartbeat"]
        {
            assert!(!r.stdout.contains(hidden), "{shell} completes {hidden}");
        }
        assert!(r.stdout.contains("rollback-on-failure"), "{shell}");
    }
}

#[test]
fn a_timeout_below_a_second_is_reported_as_given() {
    // The replay of an unfinished recording has no timeout; the format is checked where it is made.
    let r = ecsgate(&["wait", "--service", "api", "--timeout", "300ms", "--poll"], None, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!r.stdout.contains("after 0s") && !r.stderr.contains("after 0s"), "{}{}", r.stdout, r.stderr);
}

#[test]
fn report_counts_deployments_failures_and_restores_over_recordings() {
    let r = ecsgate(
        &[
            "report",
            "examples/breaker-rollback.jsonl",
            "examples/success.jsonl",
            "examples/three-services.jsonl",
            "--output",
            "json",
        ],
        None,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["type"], "dora");
    // api: breaker (failed), success, three-services' api (succeeded); worker failed; cron succeeded.
    assert_eq!((v["deployments"].as_i64(), v["failed"].as_i64()), (Some(5), Some(2)));
    assert_eq!(v["change_failure_rate"].as_f64(), Some(0.4));
    let md = ecsgate(&["report", "examples/breaker-rollback.jsonl"], None, &[]);
    assert!(md.stdout.contains("| 1 | 1 | 100.0 % |"), "{}", md.stdout);
    let bad = ecsgate(&["report", "/nonexistent.jsonl"], None, &[]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.starts_with("error: cannot count /nonexistent.jsonl: cannot read"), "{}", bad.stderr);
}

#[test]
fn report_gives_the_lead_time_of_recordings_that_name_a_commit_time() {
    // The bundled pause-hook recording (a success), as if recorded with ECSGATE_COMMIT_TIME set.
    let rec = std::fs::read_to_string("examples/blue-green-pause-hook.jsonl").unwrap();
    let mut lines: Vec<String> = rec.lines().map(str::to_string).collect();
    let mut start: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(start["type"], "start");
    start["commit_at"] = serde_json::json!("2026-12-03T05:06:21Z");
    lines[0] = start.to_string();
    let path = std::env::temp_dir().join(format!("ecsgate-cli-lead-{}.jsonl", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let r = ecsgate(&["report", path.to_str().unwrap(), "--output", "json"], None, &[]);
    std::fs::remove_file(&path).ok();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["lead_times_counted"], 1);
    // Committed 05:06:21, decided at 05:16:24 (the recording's SUCCESSFUL snapshot): ~10 minutes.
    let lead = v["mean_lead_time_seconds"].as_f64().unwrap();
    assert!((590.0..=620.0).contains(&lead), "{lead}");
    // A bad ECSGATE_COMMIT_TIME is refused before the gate starts.
    let bad = ecsgate(&["wait", "--service", "api"], None, &[("ECSGATE_COMMIT_TIME", "yesterday")]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("ECSGATE_COMMIT_TIME"), "{}", bad.stderr);
}

#[test]
fn hub_template_prints_the_template_whose_ingestion_the_emulator_runs() {
    let r = ecsgate(&["hub", "template"], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, std::fs::read_to_string(format!("{}/hub/template.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap());
    for part in ["AWS::DynamoDB::Table", "AWS::Events::Rule", "AWS::SSM::Parameter", "def items(event, now=None):"] {
        assert!(r.stdout.contains(part), "{part}");
    }
}

#[test]
fn history_and_explain_refuse_a_bad_hub_a_bad_since_and_a_region_that_contradicts_the_arn() {
    let r = usage(&["history", "--service", "api", "--hub", "my/table"], &[]);
    assert!(r.stderr.contains("is not `auto` or a DynamoDB table"), "{}", r.stderr);
    let r = usage(&["wait", "--service", "api", "--hub", "x"], &[]);
    assert!(r.stderr.contains("DynamoDB table"), "wait checks --hub the same way: {}", r.stderr);
    let r = usage(&["history", "--service", "api", "--since", "7 days"], &[]);
    assert!(r.stderr.contains("invalid duration"), "{}", r.stderr);
    let arn = "arn:aws:ecs:eu-west-1:123456789012:service/shop/api";
    let r = usage(&["explain", "--service", arn, "--deployment-id", "ecs-svc/1", "--region", "us-east-1"], &[]);
    assert!(r.stderr.contains("--region us-east-1 contradicts the service ARN's region eu-west-1"), "{}", r.stderr);
    let r = usage(&["explain", "--service", "api"], &[]);
    assert!(r.stderr.contains("--deployment-id"), "{}", r.stderr);
}
