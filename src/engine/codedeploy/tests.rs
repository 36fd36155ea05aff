use serde_json::{Value, json};

use super::*;
use crate::aws::testing::{codedeploy_deployment, codedeploy_target};

fn sample(name: &str) -> Value {
    let p = format!("{}/tests/fixtures/deploy-kinds/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn gate() -> CodeDeployGate {
    CodeDeployGate::new("prod", "web", "d-EXAMPLE01", 3, Until::Completed).with_green(
        "ecs-svc/1234567890123456789".into(),
        Some("arn:aws:ecs:us-east-1:111122223333:task-definition/web:42".into()),
    )
}

fn feed(g: &mut CodeDeployGate, inputs: impl IntoIterator<Item = CdInput>) -> Vec<Note> {
    let mut out = Vec::new();
    for i in inputs {
        g.apply(i, &mut out);
    }
    out
}

/// GetDeployment's answer with the status (and error) changed.
fn deployment(status: &str) -> CdDeployment {
    let mut v = sample("composed__get_deployment__ecs-failed-with-auto-rollback.json");
    v["deploymentInfo"]["status"] = json!(status);
    if status != "Failed" {
        let o = v["deploymentInfo"].as_object_mut().unwrap();
        o.remove("errorInformation");
        o.remove("rollbackInfo");
    }
    codedeploy_deployment(&v)
}

#[test]
fn the_state_change_events_parse_and_other_sources_do_not() {
    let ok = std::fs::read_to_string(format!(
        "{}/tests/fixtures/deploy-kinds/codedeploy_event__deployment-state-change-success-docs.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let e = parse_event(&ok).unwrap();
    assert_eq!((e.deployment_id.as_str(), e.state.as_str()), ("d-123456789", "SUCCESS"));
    assert_eq!(e.time_ms, crate::engine::time::parse_rfc3339_millis("2016-06-30T22:06:31Z"));
    let failed = sample("composed__codedeploy_event__deployment-state-change-failure-from-docs.json");
    assert_eq!(parse_event(&failed.to_string()).unwrap().state, "FAILURE");
    let ecs = std::fs::read_to_string(format!(
        "{}/tests/fixtures/events/task__stopped-essential-exit1-defra.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert!(parse_event(&ecs).is_none());
}

#[test]
fn a_failed_after_allow_test_traffic_hook_fails_with_the_error_code_the_hook_and_codedeploys_rollback() {
    let d = codedeploy_deployment(&sample("composed__get_deployment__ecs-failed-with-auto-rollback.json"));
    assert_eq!(d.error_code.as_deref(), Some("HOOK_EXECUTION_FAILURE"));
    assert_eq!(d.configured_wait_minutes, Some(60), "a ready wait that continues adds nothing; termination 60");
    let t =
        codedeploy_target(&sample("composed__get_deployment_target__ecs-after-allow-test-traffic-hook-failed.json"));
    let mut g = gate();
    feed(&mut g, [CdInput::Target(t), CdInput::Deployment(d)]);
    let v = g.verdict(None, None).expect("decided");
    assert_eq!((v.outcome, v.exit_code), (Outcome::Failed, 1));
    assert_eq!(
        v.reason.as_deref(),
        Some(
            "CodeDeploy deployment d-EXAMPLE01 failed: HOOK_EXECUTION_FAILURE; lifecycle event AfterAllowTestTraffic failed"
        )
    );
    let h = v.hook.unwrap();
    assert_eq!((h.lifecycle_stage.as_deref(), h.status.as_str()), (Some("AfterAllowTestTraffic"), "FAILED"));
    let rb = v.rollback.unwrap();
    assert_eq!((rb.by, rb.deployment_id.as_deref()), (RollbackBy::CodeDeploy, Some("d-EXAMPLE02")));
    assert!(v.hint.unwrap().contains("AfterAllowTestTraffic lifecycle hook failed"));
    assert_eq!(g.rollback_id(), Some("d-EXAMPLE02"));
}

#[test]
fn the_rollback_deployment_is_followed_to_its_outcome() {
    let mut g = gate();
    feed(
        &mut g,
        [CdInput::Deployment(codedeploy_deployment(&sample(
            "composed__get_deployment__ecs-failed-with-auto-rollback.json",
        )))],
    );
    let mut rb = codedeploy_deployment(&sample("composed__get_deployment__ecs-rollback-deployment-in-progress.json"));
    assert_eq!(rb.rollback_of.as_deref(), Some("d-EXAMPLE01"));
    rb.status = "Succeeded".into();
    let notes = feed(&mut g, [CdInput::Deployment(rb)]);
    assert!(
        matches!(&notes[0], Note::Deployment { role: Role::CodeDeployRollback, state, .. } if state == "CodeDeploy Succeeded")
    );
    let v = g.verdict(None, None).unwrap();
    assert_eq!(v.rollback.unwrap().outcome, Some(RollbackOutcome::Succeeded));
    assert!(crate::report::view(&g.verdict(None, None).unwrap()).sections.iter().any(|s| s.text
        == "CodeDeploy rolled back to the original task set (rollback deployment d-EXAMPLE02); the rollback completed"));
}

#[test]
fn succeeded_succeeds_and_until_traffic_shifted_decides_once_allow_traffic_succeeded() {
    let done = codedeploy_target(&sample("get_deployment_target__ecs-succeeded-ecs-tutorial-docs.json"));
    let mut g = gate();
    feed(&mut g, [CdInput::Target(done.clone()), CdInput::Deployment(deployment("InProgress"))]);
    assert!(!g.is_decided(), "InProgress decides nothing (the blue set is not terminated yet)");
    feed(&mut g, [CdInput::Deployment(deployment("Succeeded"))]);
    let v = g.verdict(None, None).unwrap();
    assert_eq!(
        (v.outcome, v.reason.as_deref()),
        (Outcome::Succeeded, Some("CodeDeploy deployment d-EXAMPLE01 succeeded"))
    );
    let mut shifted = CodeDeployGate::new("prod", "web", "d-EXAMPLE01", 3, Until::TrafficShifted);
    feed(&mut shifted, [CdInput::Deployment(deployment("InProgress")), CdInput::Target(done)]);
    assert_eq!(shifted.verdict(None, None).unwrap().outcome, Outcome::Succeeded);
}

#[test]
fn ready_is_announced_once_with_the_command_that_continues_it() {
    let mut g = gate();
    let notes = feed(&mut g, [CdInput::Deployment(deployment("Ready")), CdInput::Deployment(deployment("Ready"))]);
    let ready: Vec<&Note> = notes.iter().filter(|n| matches!(n, Note::Warning { .. })).collect();
    assert_eq!(ready.len(), 1, "{notes:?}");
    let Note::Warning { event_name, hint, .. } = ready[0] else { unreachable!() };
    assert_eq!(event_name, "CODEDEPLOY_READY");
    assert!(hint.as_deref().unwrap().contains("ecsgate continue --cluster prod --service web"));
    assert!(hint.as_deref().unwrap().contains("--deployment-wait-type READY_WAIT"));
    assert!(g.is_ready() && !g.is_decided());
}

#[test]
fn failing_green_tasks_fail_the_gate_even_when_codedeploy_says_succeeded_and_blue_tasks_do_not_count() {
    let mut g = gate();
    let task = |id: &str, started_by: &str, td: &str| {
        let mut v = serde_json::from_str::<Value>(
            &std::fs::read_to_string(format!(
                "{}/tests/fixtures/events/task__stopped-essential-exit1-defra.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap();
        v["detail"]["taskArn"] = json!(format!("arn:aws:ecs:us-east-1:111122223333:task/prod/{id}"));
        v["detail"]["group"] = json!("service:web");
        v["detail"]["startedBy"] = json!(started_by);
        v["detail"]["taskDefinitionArn"] = json!(td);
        match crate::engine::event::parse_envelope(&v).unwrap() {
            crate::engine::EcsEvent::Task(t) => CdInput::Task(t),
            _ => unreachable!(),
        }
    };
    let green_td = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:42";
    let blue_td = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:41";
    // Blue tasks, and green ones known by startedBy or only by their task definition.
    feed(&mut g, [task("b1", "ecs-svc/2345678901234567890", blue_td), task("b2", "CODE_DEPLOY", blue_td)]);
    let notes =
        feed(&mut g, [task("g1", "ecs-svc/1234567890123456789", green_td), task("g2", "CODE_DEPLOY", green_td)]);
    assert_eq!(notes.len(), 2, "green tasks only: {notes:?}");
    assert!(!g.is_decided(), "2 of 3");
    feed(&mut g, [CdInput::Deployment(deployment("Succeeded"))]);
    let v = g.verdict(None, None).unwrap();
    assert_eq!(v.outcome, Outcome::Succeeded, "two failures are under the threshold");
    let mut g = gate();
    feed(&mut g, [task("g1", "x", green_td), task("g2", "x", green_td), task("g3", "x", green_td)]);
    let v = g.verdict(None, None).unwrap();
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.reason.unwrap().starts_with("3 tasks of the green task set failed (threshold 3)"));
    assert!(v.culprit.is_some());

    // Tasks that came before the green task set was known count once it is (blue ones still do not).
    let mut early = CodeDeployGate::new("prod", "web", "d-EXAMPLE01", 3, Until::Completed);
    let notes = feed(
        &mut early,
        [task("b1", "x", blue_td), task("g1", "x", green_td), task("g2", "x", green_td), task("g3", "x", green_td)],
    );
    assert!(notes.is_empty() && !early.is_decided(), "nothing told before the green set is known: {notes:?}");
    let notes = feed(&mut early, [CdInput::Green("ecs-svc/1234567890123456789".into(), Some(green_td.into()))]);
    assert_eq!(notes.len(), 3, "the three green tasks, told now: {notes:?}");
    let v = early.verdict(None, None).unwrap();
    assert_eq!(v.outcome, Outcome::Failed, "{:?}", v.reason);
}

#[test]
fn a_hooks_diagnostics_log_tail_is_the_hooks_logs_and_without_one_its_function_is_read() {
    let mut t = sample("composed__get_deployment_target__ecs-after-allow-test-traffic-hook-failed.json");
    t["deploymentTarget"]["ecsTarget"]["lifecycleEvents"][4]["diagnostics"] = json!({
        "errorCode": "ScriptFailed", "scriptName": "CodeDeployHook_AfterAllowTestTraffic",
        "message": "smoke test failed", "logTail": "GET /health -> 503\nassertion failed: status == 200\n"});
    let mut g = gate();
    feed(&mut g, [CdInput::Target(codedeploy_target(&t)), CdInput::Deployment(deployment("Failed"))]);
    assert_eq!(g.hook_function(), None, "the diagnostics carry the tail");
    let v = g.verdict(None, None).unwrap();
    let h = v.hook.unwrap();
    assert_eq!(h.target_arn.as_deref(), Some("CodeDeployHook_AfterAllowTestTraffic"));
    let tail = h.log_tail.unwrap();
    assert_eq!(tail.lines, ["GET /health -> 503", "assertion failed: status == 200"]);
    assert!(v.reason.unwrap().ends_with("lifecycle event AfterAllowTestTraffic failed: smoke test failed"));
    t["deploymentTarget"]["ecsTarget"]["lifecycleEvents"][4]["diagnostics"].as_object_mut().unwrap().remove("logTail");
    let mut g = gate();
    feed(&mut g, [CdInput::Target(codedeploy_target(&t)), CdInput::Deployment(deployment("Failed"))]);
    assert_eq!(g.hook_function().as_deref(), Some("CodeDeployHook_AfterAllowTestTraffic"));
}
