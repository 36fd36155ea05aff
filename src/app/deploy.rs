//! `ecsgate deploy`: subscribe first, then change the service, then wait exactly as `wait` does.
//!
//! The order removes the race of `update-service` followed by `wait`: the queue and the rule exist
//! before UpdateService, so no event of the new deployment can be missed, and the deployment to judge is
//! the PRIMARY of UpdateService's own answer. Everything that can be checked is checked before anything
//! is created (the service, the containers named by `--image`, the `--task-definition`); a failure
//! before UpdateService changes nothing in the service (a revision registered for it is deregistered)
//! and deletes what was created.

use std::time::Instant;

use super::race::{Raced, race};
use super::settings::{DeploySettings, TaskDefChange};
use super::source::Source;
use super::wait::{Gate, resolve, run_gate, start_driver, subscribe};
use crate::aws::deploy::CurrentTaskDefinition;
use crate::aws::{self, Kind, fatal};
use crate::cli::DeployArgs;
use crate::error::AppError;
use crate::report::Reporter;

pub fn run(args: DeployArgs) -> u8 {
    let mut reporter = Reporter::new(args.wait.output.output, args.wait.output.quiet, true, args.wait.output.github);
    let settings = match DeploySettings::from_args(args) {
        Ok(s) => s,
        Err(e) => {
            reporter.error(&e);
            return e.exit_code();
        }
    };
    super::block_on(&mut reporter, async |r| deploy(&settings, r).await)
}

/// What will be registered and deployed, known before anything is created.
enum Plan {
    Register { current: Box<CurrentTaskDefinition>, images: Vec<(String, String)> },
    RegisterJson { family: String, body: String },
    Existing(String),
    Same,
}

async fn deploy(d: &DeploySettings, reporter: &mut Reporter) -> Result<u8, AppError> {
    let s = &d.wait;
    let mut g = Gate::open(s).await?;
    let clients = g.clients.clone();
    let (mut svcs, snaps) = g.before_setup("describing the service", resolve(&clients, s, reporter)).await?;
    super::wait::warn_short_timeout(s, &snaps, reporter);
    let svc = svcs[0].clone();
    let plan = g.before_setup("checking the task definition", prepare(&clients, d, &svc.deployment_id, &svc)).await?;

    // Subscribe first: nothing the new deployment does can happen before the rule exists.
    let setup_started = Instant::now();
    let mut source = Source::polling(&clients);
    let mut first = None;
    if !s.poll {
        first = subscribe(&mut g, &mut source, &[svc.watched()], reporter).await?;
    }
    if let Some(ev) = first {
        // Interrupted (or out of time) before the service was touched: tear down, change nothing.
        let mut driver = start_driver(s, &svcs, &[], reporter)?;
        driver.units[0].engine.finish(
            match ev {
                super::handler::LoopEvent::Signal(sig) => crate::engine::Outcome::Interrupted(sig),
                _ => crate::engine::Outcome::TimedOut,
            },
            "ended before the deployment was started; the service was not changed".into(),
        );
        return run_gate(g, svcs, Vec::new(), driver, source, None, setup_started.elapsed(), reporter).await;
    }

    let change = async {
        let (td, registered) = match &plan {
            Plan::Register { current, images } => {
                let arn = aws::deploy::register_with_images(&clients, current, images).await.map_err(register_error)?;
                reporter.info(&format!("ecsgate: registered {arn}"));
                (Some(arn.clone()), Some(arn))
            }
            Plan::RegisterJson { family, body } => {
                let arn = aws::deploy::register_json(&clients, family, body.clone()).await.map_err(register_error)?;
                reporter.info(&format!("ecsgate: registered {arn}"));
                (Some(arn.clone()), Some(arn))
            }
            Plan::Existing(td) => (Some(td.clone()), None),
            Plan::Same => (None, None),
        };
        let updated = aws::deploy::update_service(
            &clients,
            &svc.cluster,
            &svc.describe_as,
            td.as_deref(),
            d.desired_count,
            d.force_new_deployment,
        )
        .await;
        match updated {
            Ok(u) => Ok(u),
            Err(e) => {
                if let Some(arn) = &registered
                    && aws::deploy::deregister(&clients, arn).await.is_ok()
                {
                    reporter.info(&format!("ecsgate: deregistered {arn} again (UpdateService failed)"));
                }
                Err(update_error(e))
            }
        }
    };
    let updated = match race(&mut g.sigs, g.deadline, change).await {
        Raced::Done(r) => r,
        Raced::Signal(sig) => Err(AppError {
            kind: crate::exit::ErrorKind::Interrupted(sig),
            message: format!(
                "interrupted by {} while starting the deployment (it may or may not have started: check the service)",
                sig.name()
            ),
            hint: None,
        }),
        Raced::OutOfTime => Err(AppError {
            kind: crate::exit::ErrorKind::TimedOut,
            message: "timed out while starting the deployment (it may or may not have started: check the service)"
                .into(),
            hint: Some("RegisterTaskDefinition or UpdateService did not answer before --timeout".into()),
        }),
    };
    let updated = match updated {
        Ok(u) => u,
        Err(e) => {
            source.stop_receiving();
            let left = super::wait::bounded_teardown(&source, &mut g.sigs).await.0;
            for l in &left.0 {
                reporter.warn(&format!("left behind: {l}"));
            }
            return Err(e);
        }
    };
    let Some(primary) = updated.snapshot.deployments.iter().find(|x| x.status == "PRIMARY") else {
        return Err(AppError::aws("UpdateService answered without a PRIMARY deployment")
            .with_hint("services with the CODE_DEPLOY or EXTERNAL controller are not deployed this way"));
    };
    if primary.id == svc.deployment_id {
        reporter.info("ecsgate: UpdateService started no new deployment (nothing changed); judging the current one");
    } else {
        reporter.info(&format!("ecsgate: deployment {} started", primary.id));
    }
    svcs[0].deployment_id = primary.id.clone();
    let snaps = vec![updated.snapshot];
    let driver = start_driver(s, &svcs, &snaps, reporter)?;
    run_gate(g, svcs, snaps, driver, source, None, setup_started.elapsed(), reporter).await
}

/// Everything checked before anything is created: the current task definition and the containers
/// `--image` names, or the `--task-definition` to deploy.
async fn prepare(
    c: &aws::Clients,
    d: &DeploySettings,
    current_deployment: &str,
    svc: &super::wait::Svc,
) -> Result<Plan, AppError> {
    match &d.change {
        TaskDefChange::Same => Ok(Plan::Same),
        TaskDefChange::File(path) => {
            let (family, body) = super::settings::task_definition_file(path)?;
            Ok(Plan::RegisterJson { family, body })
        }
        TaskDefChange::Existing(td) => match aws::ecs::describe_task_definition(c, td).await {
            Ok(info) => Ok(Plan::Existing(info.arn)),
            Err(e) if e.kind == Kind::Other || e.kind == Kind::NotFound => Err(AppError::usage(format!(
                "task definition {td} not found ({e})"
            ))
            .with_hint("give family:revision or the ARN of a registered revision (aws ecs list-task-definitions)")),
            Err(e) => Err(fatal("DescribeTaskDefinition", "ecs:DescribeTaskDefinition", e)),
        },
        TaskDefChange::Images(images) => {
            let snap = aws::ecs::describe_service(c, &svc.cluster, &svc.describe_as).await.ok().map(|(s, _)| s);
            let td_arn = snap
                .as_ref()
                .and_then(|s| s.deployments.iter().find(|x| x.id == current_deployment || x.status == "PRIMARY"))
                .and_then(|x| x.task_definition.clone())
                .ok_or_else(|| {
                    AppError::usage(format!("service {} has no current task definition to take images into", svc.name))
                        .with_hint("pass --task-definition family:revision instead")
                })?;
            let current = aws::deploy::describe_full(c, &td_arn)
                .await
                .map_err(|e| fatal("DescribeTaskDefinition", "ecs:DescribeTaskDefinition", e))?;
            let names = current.container_names();
            if let Some((unknown, _)) = images.iter().find(|(name, _)| !names.contains(name)) {
                return Err(AppError::usage(format!(
                    "--image {unknown}=…: {} has no container {unknown} (its containers: {})",
                    current.arn(),
                    names.join(", ")
                ))
                .with_hint("name a container of the service's task definition; nothing was changed"));
            }
            Ok(Plan::Register { current: Box::new(current), images: images.clone() })
        }
    }
}

/// A call that changes the service failed: a permission, credentials or an outage is an AWS error
/// (exit 5); ECS refusing the change itself is bad input (exit 2). Nothing was deployed either way.
fn change_error(op: &'static str, e: aws::ErrInfo, refused_hint: &str) -> AppError {
    match e.kind {
        Kind::AccessDenied | Kind::Credentials | Kind::Throttled | Kind::Transient => {
            fatal(op, &format!("ecs:{op} (and iam:PassRole for the task roles)"), e)
        }
        _ => AppError::usage(format!("{op} refused the change: {e}")).with_hint(refused_hint),
    }
}

fn register_error(e: aws::ErrInfo) -> AppError {
    change_error(
        "RegisterTaskDefinition",
        e,
        "fix the task definition (aws ecs register-task-definition --cli-input-json file://FILE shows the same error); nothing was changed",
    )
}

fn update_error(e: aws::ErrInfo) -> AppError {
    change_error("UpdateService", e, "nothing was deployed; check the task definition and the service's settings")
}
