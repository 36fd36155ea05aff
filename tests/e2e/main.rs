//! `ecsgate wait` end to end: the real binary and the real SDK against the emulator (moto 5.2.5 and our
//! ECS layer). Every test creates its own cluster and service, starts a deployment, runs the gate, plays
//! ECS's part (events via PutEvents, tasks and deployment states via the layer), and asserts the exit
//! code, what the user sees, and that no ecsgate rule or queue is left.

#[path = "../common/mod.rs"]
mod common;

use std::time::Duration;

use common::emulator::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);
/// How long a test waits for something the gate should say or do within a second or two: generous, so a
/// loaded machine only makes the suite slower, never red. Reaching it is a failure, not a timing.
const WITHIN: Duration = Duration::from_secs(20);

/// The emulator for one test (its own access key); fails the test when the emulator is missing.
macro_rules! emu {
    ($name:expr) => {
        emulator($name).await.expect("the emulator")
    };
}

/// The usual scenario: the emulator for test `$name` and, in a cluster named after it (`_` → `-`),
/// service `api` with a deployment in progress, as a pipeline leaves it right before `ecsgate wait`.
macro_rules! scenario {
    ($name:expr) => {{
        let emu = emu!($name);
        let svc = emu.service(&$name.replace('_', "-")).await;
        (emu, svc)
    }};
}

/// What ECS says on the bus when the circuit breaker trips: a deployment rolling back to the previous
/// one, which decides by itself (ECS's FAILED of ours comes at the same moment, in no set order, and may
/// find the gate's queue already gone, so it is not sent).
async fn breaker_rolls_back(emu: &Emu, svc: &Svc) {
    let reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {}.", svc.old_deployment);
    emu.deployment_event(svc, "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/9999999999999999999", &reason).await;
}

// The topics; declared after the macros above, which they use.
mod aws_access;
mod codedeploy;
mod deploy_and_rollback;
mod detach;
mod express;
mod hub;
mod interruptions;
mod modern;
mod outputs_and_tools;
mod run;
mod several_services;
mod verdicts;
