//! The exit-code contract of README "Exit codes" and "Several services": which code wins when several
//! services end a gate differently. Checked through `ecsgate::exit::combine`, the one function the gate
//! and replay both use, and against the order the README and `--help` print, so the three cannot drift.

mod common;

use ecsgate::exit::{self, combine};

/// The order README "Several services" promises, most severe first.
const README_ORDER: [u8; 9] = [143, 130, 1, 5, 2, 3, 4, 6, 0];

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

#[test]
fn sigterm_beats_sigint_whatever_the_order() {
    assert_eq!(combine([exit::SIGTERM, exit::SIGINT]), 143);
    assert_eq!(combine([exit::SIGINT, exit::SIGTERM]), 143);
}

#[test]
fn an_aws_error_beats_bad_input_whatever_the_order() {
    assert_eq!(combine([exit::AWS_ERROR, exit::USAGE]), 5);
    assert_eq!(combine([exit::USAGE, exit::AWS_ERROR]), 5);
}

#[test]
fn bad_input_beats_a_timeout_whatever_the_order() {
    assert_eq!(combine([exit::USAGE, exit::TIMED_OUT]), 2);
    assert_eq!(combine([exit::TIMED_OUT, exit::USAGE]), 2);
}

#[test]
fn every_code_beats_every_code_after_it_in_the_readme_order() {
    for (i, &high) in README_ORDER.iter().enumerate() {
        for &low in &README_ORDER[i + 1..] {
            assert_eq!(combine([high, low]), high, "{high} over {low}");
            assert_eq!(combine([low, high]), high, "{high} over {low} (given second)");
            // A third, milder code anywhere does not change the winner.
            assert_eq!(combine([low, high, low]), high);
        }
    }
    assert_eq!(combine([0, 0, 0]), 0, "all succeeded: 0");
}

#[test]
fn the_readme_and_help_state_the_order_the_code_applies() {
    assert!(readme().contains("143, 130, 1, 5, 2, 3, 4, 6, then 0"), "README \"Exit codes\" order changed");
    assert!(exit::TABLE.contains("in the order 143, 130, 1, 5, 2, 3, 4, 6, 0."), "--help order changed");
}

#[test]
fn the_readme_exit_code_table_lists_every_code_the_binary_uses() {
    let readme = readme();
    for code in [
        exit::SUCCEEDED,
        exit::FAILED,
        exit::USAGE,
        exit::TIMED_OUT,
        exit::SUPERSEDED,
        exit::AWS_ERROR,
        exit::DETACHED,
        exit::SIGINT,
        exit::SIGTERM,
    ] {
        assert!(readme.contains(&format!("| {code} |")), "README's exit code table lacks {code}");
        assert!(exit::TABLE.contains(&format!("\n  {code} ")), "--help's exit code table lacks {code}");
    }
}

#[test]
fn an_unreachable_endpoint_exits_5_at_once_with_a_hint() {
    // common::command() points the SDK at the discard port, where nothing listens; keys are set so the
    // failure is the connection, not credentials. "At once": well before --timeout, not after retrying it.
    let start = std::time::Instant::now();
    let out = common::command()
        .args(["wait", "--cluster", "shop", "--service", "api", "--timeout", "120s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.starts_with("error: DescribeServices failed"), "{stderr}");
    assert!(stderr.contains("hint: the AWS endpoint could not be reached"), "{stderr}");
    assert!(start.elapsed() < std::time::Duration::from_secs(60), "took {:?}", start.elapsed());
}
