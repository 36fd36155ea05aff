//! `ecsgate deploy` interrupted, end to end against the emulator: what the user is told is the truth
//! about the service. Before UpdateService: it was not called, and the revision registered meanwhile
//! is deregistered (or the command that does it is printed). After UpdateService: the deployment goes
//! on in ECS, and the `ecsgate wait` command that resumes the gate is printed.

mod common;

use std::time::{Duration, Instant};

use common::emulator::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);

macro_rules! emu {
    ($name:expr) => {
        match emulator($name).await {
            Some(e) => e,
            None => return,
        }
    };
}

/// Waits until `key` has made `call` (the emulator logs a call when it arrives, before any hang).
async fn wait_for_call(emu: &Emu, key: &str, call: &str, after: Option<&str>) {
    let start = Instant::now();
    loop {
        let log = emu.log(key);
        let from = after.and_then(|a| log.iter().position(|c| c == a));
        let seen = match (after, from) {
            (Some(_), Some(i)) => log[i + 1..].iter().any(|c| c == call),
            (Some(_), None) => false,
            (None, _) => log.iter().any(|c| c == call),
        };
        if seen {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no {call} in {log:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The ACTIVE revisions of a task definition family.
async fn active_revisions(emu: &Emu, family: &str) -> Vec<String> {
    let out = emu
        .ecs()
        .list_task_definitions()
        .family_prefix(family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    let mut arns = out.task_definition_arns().to_vec();
    arns.sort();
    arns
}

#[tokio::test]
async fn sigint_during_register_task_definition_deregisters_it_and_says_update_service_was_not_called() {
    let emu = emu!("e2e_deployintreg");
    let cluster = "e2e-deployintreg";
    let svc = emu.service(cluster).await;
    let key = format!("{}GATE", emu.key);
    let before = emu.primary(&svc).await;
    let revisions = active_revisions(&emu, cluster).await;
    // RegisterTaskDefinition is held 3 s, then done: the revision exists although the signal came first.
    emu.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "ecs", "action": "RegisterTaskDefinition", "hang": 3, "seconds": 60}),
    );
    let child = emu.spawn_as(&key, &["deploy", "--cluster", cluster, "--service", "api", "--image", "app=app:3"]);
    wait_for_call(&emu, &key, "ecs.RegisterTaskDefinition", None).await;
    signal(&child, "INT");
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 130, "{}\n{}", d.stdout, d.stderr);
    assert!(
        d.stderr.contains(
            "interrupted by SIGINT while registering the task definition: UpdateService was not called, the service was not changed"
        ),
        "{}",
        d.stderr
    );
    assert!(!d.stderr.contains("may or may not have started"), "{}", d.stderr);
    let log = emu.log(&key);
    assert!(!log.contains(&"ecs.UpdateService".to_string()), "{log:?}");
    assert!(log.contains(&"ecs.DeregisterTaskDefinition".to_string()), "{log:?}");
    assert!(d.stderr.contains("was deregistered"), "{}", d.stderr);
    assert_eq!(active_revisions(&emu, cluster).await, revisions, "no ACTIVE revision is left behind");
    assert_eq!(emu.primary(&svc).await, before, "the service is unchanged");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn sigint_after_update_service_says_the_deployment_goes_on_and_prints_the_resume_command() {
    let emu = emu!("e2e_deployintupd");
    let cluster = "e2e-deployintupd";
    let svc = emu.service(cluster).await;
    let key = format!("{}GATE", emu.key);
    let (before, _) = emu.primary(&svc).await;
    let child = emu.spawn_as(&key, &["deploy", "--cluster", cluster, "--service", "api", "--image", "app=app:3"]);
    let (ours, _) = emu.new_primary(&svc, &before).await;
    // The gate is running once it reads what already stopped (its first call after UpdateService).
    wait_for_call(&emu, &key, "ecs.ListTasks", Some("ecs.UpdateService")).await;
    signal(&child, "INT");
    let d = finish(child, LIMIT).await;
    assert_eq!(d.code, 130, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stdout.contains("verdict: INTERRUPTED"), "{}", d.stdout);
    assert!(d.stderr.contains(&format!("deployment {ours} goes on in ECS")), "{}", d.stderr);
    assert!(
        d.stderr.contains(&format!(
            "resume the gate with: ecsgate wait --cluster {cluster} --service api --deployment-id {ours}"
        )),
        "{}",
        d.stderr
    );
    assert_eq!(emu.primary(&svc).await.0, ours, "ecsgate did not undo the deployment");
    emu.assert_nothing_left(&svc).await;
}

#[tokio::test]
async fn sigint_while_update_service_is_answering_names_the_started_deployment_and_the_resume_command() {
    let emu = emu!("e2e_deployintmid");
    let cluster = "e2e-deployintmid";
    let svc = emu.service(cluster).await;
    let key = format!("{}GATE", emu.key);
    emu.ctl(
        "/_ecsgate/fault",
        json!({"key": key, "service": "ecs", "action": "UpdateService", "hang": 2, "seconds": 60}),
    );
    let (before, _) = emu.primary(&svc).await;
    let child = emu.spawn_as(&key, &["deploy", "--cluster", cluster, "--service", "api", "--image", "app=app:3"]);
    wait_for_call(&emu, &key, "ecs.UpdateService", None).await;
    signal(&child, "INT");
    let d = finish(child, LIMIT).await;
    let (ours, _) = emu.new_primary(&svc, &before).await;
    assert_eq!(d.code, 130, "{}\n{}", d.stdout, d.stderr);
    assert!(d.stderr.contains(&format!("deployment {ours} started and goes on in ECS")), "{}", d.stderr);
    assert!(d.stderr.contains(&format!("--service api --deployment-id {ours}")), "{}", d.stderr);
    let log = emu.log(&key);
    assert!(!log.contains(&"ecs.DeregisterTaskDefinition".to_string()), "the deployed revision stays: {log:?}");
    emu.assert_nothing_left(&svc).await;
}
