//! `ecsgate deploy`: subscribe first, then change the service, then wait exactly as `wait` does.
//!
//! The order removes the race of `update-service` followed by `wait`: the queue and the rule exist
//! before UpdateService, so no event of the new deployment can be missed, and the deployment to judge is
//! the PRIMARY of UpdateService's own answer. Everything that can be checked is checked before anything
//! is created (the service, the containers named by `--image`, the `--task-definition`); a failure
//! before UpdateService changes nothing in the service (a revision registered for it is deregistered)
//! and deletes what was created.

use std::time::Duration;

use tokio::time::Instant;

use super::race::{Raced, race};
use super::settings::{DeploySettings, TaskDefChange};
use super::source::Source;
use super::wait::{Gate, Svc, resolve, run_gate, start_driver, subscribe};
use crate::aws::deploy::{CurrentTaskDefinition, Updated};
use crate::aws::{self, Kind, fatal};
use crate::cli::DeployArgs;
use crate::error::AppError;
use crate::exit::{self, ErrorKind};
use crate::report::Reporter;

pub fn run(args: DeployArgs) -> u8 {
    let o = &args.gate.output;
    let mut reporter = Reporter::new(o.output, o.quiet, true, o.github);
    let settings = match DeploySettings::from_args(args) {
        Ok(s) => s,
        Err(e) => {
            reporter.error(&e);
            return e.exit_code();
        }
    };
    reporter.notify_to(&settings.wait.notify, settings.wait.notify_on);
    reporter.junit_to(settings.wait.junit.as_deref());
    reporter.otlp_to(settings.wait.otlp.as_deref());
    super::block_on(&mut reporter, async |r| deploy(&settings, r).await)
}

/// What will be registered and deployed, known before anything is created.
enum Plan {
    Register {
        current: Box<CurrentTaskDefinition>,
        images: Vec<(String, String)>,
    },
    RegisterJson {
        family: String,
        body: String,
    },
    Existing(String),
    Same,
    /// UpdateExpressGatewayService (ECS registers the revision itself).
    Express(aws::express::ExpressChange),
}

async fn deploy(d: &DeploySettings, reporter: &mut Reporter) -> Result<u8, AppError> {
    let s = &d.wait;
    let mut g = Gate::open(s).await?;
    let clients = g.clients.clone();
    let (mut svcs, snaps) = g.before_setup("describing the service", resolve(&clients, s, reporter)).await?;
    if snaps[0].deployment_controller.as_deref() == Some("CODE_DEPLOY") {
        return deploy_code_deploy(g, d, &svcs[0], &snaps[0], reporter).await;
    }
    g.settle_timeout(&snaps, reporter).await?;
    let svc = svcs[0].clone();
    let plan =
        g.before_setup("checking the task definition", prepare(&clients, d, &svc.deployment_id, &svc, None)).await?;

    // Subscribe first: nothing the new deployment does can happen before the rule exists.
    let setup_started = std::time::Instant::now();
    let mut source = Source::polling(&clients);
    let mut first = None;
    if !s.poll {
        // The deployment does not exist yet: it will be created after this.
        let since = crate::engine::time::now_millis() - 60_000;
        first = subscribe(&mut g, &mut source, &[svc.watched()], since, reporter).await?;
    }
    if let Some(ev) = first {
        // Interrupted (or out of time) before the service was touched: tear down, change nothing.
        let mut driver = start_driver(s, g.timeout, &svcs, &[], reporter)?;
        driver.finish(
            0,
            match ev {
                super::handler::LoopEvent::Signal(sig) => crate::engine::Outcome::Interrupted(sig),
                _ => crate::engine::Outcome::TimedOut,
            },
            "ended before the deployment was started: UpdateService was not called, the service was not changed".into(),
        );
        return run_gate(g, svcs, Vec::new(), driver, source, None, setup_started.elapsed(), reporter).await;
    }

    let updated = match start_deployment(&mut g, d, &plan, &svc, reporter).await {
        Ok(u) => u,
        Err(e) => return Err(abandon(&mut g, &mut source, e, reporter).await),
    };
    let Some(primary) = updated.snapshot.deployments.iter().find(|x| x.status == "PRIMARY") else {
        let e = AppError::aws("UpdateService answered without a PRIMARY deployment")
            .with_hint("services with the EXTERNAL deployment controller are not deployed this way");
        return Err(abandon(&mut g, &mut source, e, reporter).await);
    };
    if primary.id == svc.deployment_id {
        reporter.info("ecsgate: UpdateService started no new deployment (nothing changed); judging the current one");
    } else {
        reporter.info(&format!("ecsgate: deployment {} started", primary.id));
    }
    svcs[0].deployment_id = primary.id.clone();
    let id = primary.id.clone();
    let snaps = vec![updated.snapshot];
    let driver = start_driver(s, g.timeout, &svcs, &snaps, reporter)?;
    let resume = resume_command(&g, &svc, Some(&id));
    let code = run_gate(g, svcs, snaps, driver, source, None, setup_started.elapsed(), reporter).await?;
    if code == exit::SIGINT || code == exit::SIGTERM {
        // The signal ended the gate, not the deployment: say so, and how to pick the gate up again.
        reporter.warn(&format!(
            "deployment {id} goes on in ECS (ecsgate only stopped waiting for it); resume the gate with: {resume}"
        ));
    }
    Ok(code)
}

/// The gate ends with `e` before its loop: what was created is deleted first (bounded).
async fn abandon(g: &mut Gate<'_>, source: &mut Source, e: AppError, reporter: &mut Reporter) -> AppError {
    source.stop_receiving();
    let left = super::wait::bounded_teardown(source, &mut g.sigs).await.0;
    for l in &left.0 {
        reporter.warn(&format!("left behind: {l}"));
    }
    e
}

/// How long a call already sent may still answer after a signal or the deadline, so that ecsgate can
/// say what it did and undo a registration. A further signal gives up waiting.
const SETTLE_BUDGET: Duration = Duration::from_secs(10);

/// RegisterTaskDefinition when the plan registers, raced against signals and the deadline: the new
/// revision's ARN (`None` for a plan that registers nothing). Cut short, the revision that may have
/// been registered is deregistered (or the command that does is said), and nothing else was changed.
async fn register(
    g: &mut Gate<'_>,
    plan: &Plan,
    then: &str,
    reporter: &mut Reporter,
) -> Result<Option<String>, AppError> {
    let clients = g.clients.clone();
    let region = clients.region.clone();
    Ok(match plan {
        Plan::Register { .. } | Plan::RegisterJson { .. } => {
            let call = async {
                match plan {
                    Plan::Register { current, images } => {
                        aws::deploy::register_with_images(&clients, current, images).await
                    }
                    Plan::RegisterJson { family, body } => {
                        aws::deploy::register_json(&clients, family, body.clone()).await
                    }
                    Plan::Existing(_) | Plan::Same | Plan::Express(_) => {
                        unreachable!("only registering plans get here")
                    }
                }
            };
            tokio::pin!(call);
            let cut = match race(&mut g.sigs, g.deadline, &mut call).await {
                Raced::Done(r) => Ok(r.map_err(register_error)?),
                Raced::Signal(sig) => Err(ErrorKind::Interrupted(sig)),
                Raced::OutOfTime => Err(ErrorKind::TimedOut),
            };
            match cut {
                Ok(arn) => {
                    reporter.info(&format!("ecsgate: registered {arn}"));
                    Some(arn)
                }
                Err(kind) => {
                    // The request may have reached ECS: its answer names the revision to deregister.
                    let undo = match race(&mut g.sigs, Instant::now() + SETTLE_BUDGET, &mut call).await {
                        Raced::Done(Ok(arn)) => undo_registration(g, &arn, reporter).await,
                        Raced::Done(Err(_)) => "no revision was registered".to_string(),
                        Raced::Signal(_) | Raced::OutOfTime => unanswered_registration(plan, &region),
                    };
                    return Err(AppError {
                        kind,
                        message: format!(
                            "{} while registering the task definition: {then} was not called, the service was not changed",
                            cut_short(kind)
                        ),
                        hint: Some(undo),
                    });
                }
            }
        }
        Plan::Existing(_) | Plan::Same => None,
        Plan::Express(_) => None,
    })
}

/// RegisterTaskDefinition (when the plan registers) then UpdateService, each raced against signals and
/// the deadline. What the user is told when one of them is cut short is the truth about the service:
/// before UpdateService, that it was not called and that the revision registered meanwhile was
/// deregistered (or the command that does); during UpdateService, whether it started the deployment.
async fn start_deployment(
    g: &mut Gate<'_>,
    d: &DeploySettings,
    plan: &Plan,
    svc: &Svc,
    reporter: &mut Reporter,
) -> Result<Updated, AppError> {
    let clients = g.clients.clone();
    let region = clients.region.clone();
    if let Plan::Express(change) = plan {
        return start_express(g, change, svc, reporter).await;
    }
    let registered = register(g, plan, "UpdateService", reporter).await?;
    let td = match plan {
        Plan::Existing(td) => Some(td.clone()),
        _ => registered.clone(),
    };
    let call = aws::deploy::update_service(
        &clients,
        &svc.cluster,
        &svc.describe_as,
        td.as_deref(),
        d.desired_count,
        d.force_new_deployment,
    );
    tokio::pin!(call);
    let kind = match race(&mut g.sigs, g.deadline, &mut call).await {
        Raced::Done(Ok(u)) => return Ok(u),
        Raced::Done(Err(e)) => {
            if let Some(arn) = &registered {
                let undone = undo_registration(g, arn, reporter).await;
                reporter.info(&format!("ecsgate: UpdateService failed; {undone}"));
            }
            return Err(update_error(e));
        }
        Raced::Signal(sig) => ErrorKind::Interrupted(sig),
        Raced::OutOfTime => ErrorKind::TimedOut,
    };
    // UpdateService was sent: whether it started the deployment is in its answer.
    let why = cut_short(kind);
    match race(&mut g.sigs, Instant::now() + SETTLE_BUDGET, &mut call).await {
        Raced::Done(Ok(u)) => {
            let id = u.snapshot.deployments.iter().find(|x| x.status == "PRIMARY").map(|x| x.id.clone());
            Err(AppError {
                kind,
                message: format!(
                    "{why} while UpdateService answered: deployment {} started and goes on in ECS",
                    id.as_deref().unwrap_or("(id unknown)")
                ),
                hint: Some(format!("resume the gate with: {}", resume_command(g, svc, id.as_deref()))),
            })
        }
        Raced::Done(Err(e)) => {
            let undone = match &registered {
                Some(arn) => format!("; {}", undo_registration(g, arn, reporter).await),
                None => String::new(),
            };
            Err(AppError {
                kind,
                message: format!("{why}; UpdateService failed ({e}): the service was not changed{undone}"),
                hint: None,
            })
        }
        Raced::Signal(_) | Raced::OutOfTime => Err(AppError {
            kind,
            message: format!(
                "{why} while UpdateService was in flight: it may have started a deployment (no answer came)"
            ),
            hint: Some(format!(
                "check with: aws ecs describe-services --region {region} --cluster {} --services {} --query 'services[0].deployments'; resume the gate with: {}",
                svc.cluster,
                svc.describe_as,
                resume_command(g, svc, None)
            )),
        }),
    }
}

/// UpdateExpressGatewayService, raced against signals and the deadline, then the service as it now is.
/// Its answer names no deployment (deploy-kinds/README §2.2): the revision it targets does, since a
/// service revision carries its deployment's number; else the new PRIMARY is ours.
async fn start_express(
    g: &mut Gate<'_>,
    change: &aws::express::ExpressChange,
    svc: &Svc,
    reporter: &mut Reporter,
) -> Result<Updated, AppError> {
    let clients = g.clients.clone();
    let call = aws::express::update(&clients, &svc.service_arn, change);
    tokio::pin!(call);
    let revision = match race(&mut g.sigs, g.deadline, &mut call).await {
        Raced::Done(Ok(r)) => r,
        Raced::Done(Err(e)) => {
            return Err(change_error(
                "UpdateExpressGatewayService",
                "ecs:UpdateExpressGatewayService (and iam:PassRole for the task roles)",
                e,
                "nothing was deployed; check the image, the task definition (it needs a container named Main) and the service",
            ));
        }
        Raced::Signal(sig) => {
            return Err(AppError {
                kind: ErrorKind::Interrupted(sig),
                message: format!(
                    "interrupted by {} while UpdateExpressGatewayService was in flight: it may have started a deployment",
                    sig.name()
                ),
                hint: Some(format!("resume the gate with: {}", resume_command(g, svc, None))),
            });
        }
        Raced::OutOfTime => {
            return Err(AppError {
                kind: ErrorKind::TimedOut,
                message: "timed out while UpdateExpressGatewayService was in flight: it may have started a deployment"
                    .into(),
                hint: Some(format!("resume the gate with: {}", resume_command(g, svc, None))),
            });
        }
    };
    if let Some(r) = &revision {
        reporter.info(&format!("ecsgate: UpdateExpressGatewayService targets revision {r}"));
    }
    let read = aws::ecs::describe_service(&clients, &svc.cluster, &svc.describe_as);
    let snapshot = match race(&mut g.sigs, Instant::now() + SETTLE_BUDGET, read).await {
        Raced::Done(Ok((s, _))) => s,
        _ => {
            return Err(AppError::aws("the service could not be read after UpdateExpressGatewayService")
                .with_hint(format!("the deployment goes on; resume the gate with: {}", resume_command(g, svc, None))));
        }
    };
    // The revision's number is its deployment's (terraform-provider-aws's mapping): a PRIMARY that is
    // another deployment is said, and judged, since it is what ECS is rolling out.
    let ours = revision.as_deref().and_then(|r| r.rsplit('/').next()).map(|n| format!("ecs-svc/{n}"));
    let primary = snapshot.deployments.iter().find(|x| x.status == "PRIMARY").map(|x| x.id.clone());
    if let (Some(ours), Some(primary)) = (&ours, &primary)
        && ours != primary
        && snapshot.deployments.iter().any(|x| &x.id == ours)
    {
        reporter.warn(&format!(
            "the updated revision is deployment {ours}, but ECS's PRIMARY is {primary}; judging {primary}"
        ));
    }
    Ok(Updated { snapshot })
}

/// `deploy` on a CODE_DEPLOY service: checked first (the deployment group exists, the revision, the
/// AppSpec), subscribed (CodeDeploy's events of the group, the service's tasks), then RegisterTaskDefinition
/// and CreateDeployment with the AppSpec; the CodeDeploy gate judges the deployment it created.
async fn deploy_code_deploy(
    mut g: Gate<'_>,
    d: &DeploySettings,
    svc: &Svc,
    snap: &crate::engine::ServiceSnapshot,
    reporter: &mut Reporter,
) -> Result<u8, AppError> {
    let s = &d.wait;
    let clients = g.clients.clone();
    if matches!(d.change, TaskDefChange::Same | TaskDefChange::Express(_)) {
        return Err(AppError::usage(format!(
            "service {} is deployed by CodeDeploy: it deploys a new revision",
            svc.name
        ))
        .with_hint(
            "give --image CONTAINER=IMAGE or --task-definition; --force-new-deployment and --express do not apply",
        ));
    }
    let (app, group) = (d.codedeploy.0.as_deref(), d.codedeploy.1.as_deref());
    let read = async {
        aws::codedeploy::setup_for(&clients, &svc.cluster, &svc.describe_as, app, group).await.map_err(|e| match e {
            aws::codedeploy::SetupError::NoGroup(what) => {
                AppError::usage(format!("no CodeDeploy deployment group for service {} ({what})", svc.name))
                    .with_hint("name it with --codedeploy-application and --codedeploy-deployment-group")
            }
            aws::codedeploy::SetupError::Aws(op, permission, e) => fatal(op, permission, e),
        })
    };
    let setup = g.before_setup("reading the CodeDeploy deployment group", read).await?;
    let plan = g
        .before_setup(
            "checking the task definition",
            prepare(&clients, d, &svc.deployment_id, svc, setup.task_definition.as_deref()),
        )
        .await?;
    if d.appspec.is_none() && setup.container.is_none() {
        return Err(AppError::usage(format!("service {} has no load balancer to build an AppSpec from", svc.name))
            .with_hint("give --appspec FILE (its TargetService names the container and port)"));
    }
    let mut source = Source::polling(&clients);
    if !s.poll {
        let mut w = svc.watched();
        w.deployment_id = "CodeDeploy".into();
        let sub = aws::subscription::plan_codedeploy(&w, &setup.application, &setup.group);
        let periods = (s.timing.wait_seconds, s.timing.poll_interval);
        if let Some(ev) =
            super::wait::subscribe_with(&mut g.sigs, g.deadline, &clients, periods, &mut source, &sub, reporter).await?
        {
            let kind = match ev {
                super::handler::LoopEvent::Signal(sig) => ErrorKind::Interrupted(sig),
                _ => ErrorKind::TimedOut,
            };
            let e = AppError {
                kind,
                message: format!(
                    "{} before the deployment was started: CreateDeployment was not called, the service was not changed",
                    cut_short(kind)
                ),
                hint: None,
            };
            return Err(abandon(&mut g, &mut source, e, reporter).await);
        }
    }
    let registered = match register(&mut g, &plan, "CreateDeployment", reporter).await {
        Ok(r) => r,
        Err(e) => return Err(abandon(&mut g, &mut source, e, reporter).await),
    };
    let td = match &plan {
        Plan::Existing(td) => td.clone(),
        _ => registered.clone().unwrap_or_default(),
    };
    let appspec = match super::settings::appspec_with(d.appspec.as_deref(), &td, setup.container.as_ref()) {
        Ok(a) => a,
        Err(e) => {
            if let Some(arn) = &registered {
                let undone = undo_registration(&mut g, arn, reporter).await;
                reporter.info(&format!("ecsgate: no AppSpec; {undone}"));
            }
            return Err(abandon(&mut g, &mut source, e, reporter).await);
        }
    };
    let call = aws::codedeploy::create(&clients, &setup.application, &setup.group, &appspec);
    tokio::pin!(call);
    let not_created =
        "nothing was deployed; check the AppSpec (container name and port), the deployment group and its service role";
    let answered = match race(&mut g.sigs, g.deadline, &mut call).await {
        Raced::Done(Ok(id)) => Ok(id),
        Raced::Done(Err(e)) => {
            if let Some(arn) = &registered {
                let undone = undo_registration(&mut g, arn, reporter).await;
                reporter.info(&format!("ecsgate: CreateDeployment failed; {undone}"));
            }
            let e = change_error("CreateDeployment", "codedeploy:CreateDeployment", e, not_created);
            return Err(abandon(&mut g, &mut source, e, reporter).await);
        }
        Raced::Signal(sig) => Err(ErrorKind::Interrupted(sig)),
        Raced::OutOfTime => Err(ErrorKind::TimedOut),
    };
    let id = match answered {
        Ok(id) => id,
        Err(kind) => {
            // CreateDeployment was sent: whether it created the deployment is in its answer, as for UpdateService.
            let why = cut_short(kind);
            let e = match race(&mut g.sigs, Instant::now() + SETTLE_BUDGET, &mut call).await {
                Raced::Done(Ok(id)) => AppError {
                    kind,
                    message: format!("{why} while CreateDeployment answered: CodeDeploy deployment {id} goes on"),
                    hint: Some(format!(
                        "wait for it with: ecsgate wait --cluster {} --service {} --deployment-id {id}",
                        svc.cluster, svc.name
                    )),
                },
                Raced::Done(Err(e)) => {
                    let undone = match &registered {
                        Some(arn) => format!("; {}", undo_registration(&mut g, arn, reporter).await),
                        None => String::new(),
                    };
                    AppError {
                        kind,
                        message: format!("{why}; CreateDeployment failed ({e}): {not_created}{undone}"),
                        hint: None,
                    }
                }
                _ => AppError {
                    kind,
                    message: format!("{why} while CreateDeployment was in flight: a deployment may have been created"),
                    hint: Some(format!(
                        "check with: aws deploy list-deployments --application-name {} --deployment-group-name {}",
                        setup.application, setup.group
                    )),
                },
            };
            return Err(abandon(&mut g, &mut source, e, reporter).await);
        }
    };
    reporter.info(&format!("ecsgate: CodeDeploy deployment {id} created (revision {})", crate::engine::arn_name(&td)));
    // Raced like every call: a stalled read must not hold back a signal (the loop reads it again anyway).
    let read = race(&mut g.sigs, Instant::now() + SETTLE_BUDGET, aws::codedeploy::get_deployment(&clients, &id));
    let first = match read.await {
        Raced::Done(Ok(f)) => f,
        Raced::Signal(sig) => {
            let e = AppError {
                kind: ErrorKind::Interrupted(sig),
                message: format!(
                    "interrupted by {} after CodeDeploy deployment {id} was created: it goes on",
                    sig.name()
                ),
                hint: Some(format!(
                    "wait for it with: ecsgate wait --cluster {} --service {} --deployment-id {id}",
                    svc.cluster, svc.name
                )),
            };
            return Err(abandon(&mut g, &mut source, e, reporter).await);
        }
        _ => crate::engine::codedeploy::CdDeployment {
            deployment_id: id.clone(),
            status: "Created".into(),
            ..Default::default()
        },
    };
    super::codedeploy::judge(g, svc, snap, first, source, None, reporter).await
}

/// "interrupted by SIGINT" / "timed out", for the message about a call cut short.
fn cut_short(kind: ErrorKind) -> String {
    match kind {
        ErrorKind::Interrupted(sig) => format!("interrupted by {}", sig.name()),
        _ => "timed out".to_string(),
    }
}

/// Deregisters a revision registered for a deployment that did not start (bounded, raced against a
/// further signal); says what happened, or the exact command that deregisters it.
async fn undo_registration(g: &mut Gate<'_>, arn: &str, reporter: &mut Reporter) -> String {
    let clients = g.clients.clone();
    let command = format!("aws ecs deregister-task-definition --region {} --task-definition {arn}", clients.region);
    match race(&mut g.sigs, Instant::now() + SETTLE_BUDGET, aws::deploy::deregister(&clients, arn)).await {
        Raced::Done(Ok(())) => {
            reporter.info(&format!("ecsgate: deregistered {arn} again"));
            format!("the revision registered for it, {arn}, was deregistered")
        }
        Raced::Done(Err(e)) => {
            format!("{arn} was registered and could not be deregistered ({e}); deregister it with: {command}")
        }
        Raced::Signal(_) | Raced::OutOfTime => {
            format!("{arn} was registered and is not deregistered yet; deregister it with: {command}")
        }
    }
}

/// RegisterTaskDefinition was cut short and gave no answer: a revision may exist that nobody named.
fn unanswered_registration(plan: &Plan, region: &str) -> String {
    let (family, after) = match plan {
        Plan::Register { current, .. } => {
            (current.td.family().unwrap_or_default().to_string(), format!(" newer than {}", current.arn()))
        }
        Plan::RegisterJson { family, .. } => (family.clone(), String::new()),
        Plan::Existing(_) | Plan::Same | Plan::Express(_) => (String::new(), String::new()),
    };
    format!(
        "RegisterTaskDefinition did not answer: a revision of {family} may have been registered; list them with `aws ecs list-task-definitions --region {region} --family-prefix {family} --sort DESC` and deregister any revision{after} with `aws ecs deregister-task-definition --region {region} --task-definition {family}:REVISION`"
    )
}

/// The command that picks the gate up again: the deployment goes on in ECS whatever ecsgate does.
fn resume_command(g: &Gate<'_>, svc: &Svc, deployment_id: Option<&str>) -> String {
    resume_line(&svc.cluster, &svc.name, deployment_id, &g.clients.region, g.s.profile.as_deref())
}

fn resume_line(
    cluster: &str,
    service: &str,
    deployment_id: Option<&str>,
    region: &str,
    profile: Option<&str>,
) -> String {
    let mut cmd = format!("ecsgate wait --cluster {cluster} --service {service}");
    if let Some(id) = deployment_id {
        cmd.push_str(&format!(" --deployment-id {id}"));
    }
    cmd.push_str(&format!(" --region {region}"));
    if let Some(p) = profile {
        cmd.push_str(&format!(" --profile {p}"));
    }
    cmd
}

/// Everything checked before anything is created: the current task definition and the containers
/// `--image` names, or the `--task-definition` to deploy.
async fn prepare(
    c: &aws::Clients,
    d: &DeploySettings,
    current_deployment: &str,
    svc: &super::wait::Svc,
    base: Option<&str>,
) -> Result<Plan, AppError> {
    match &d.change {
        TaskDefChange::Same => Ok(Plan::Same),
        TaskDefChange::Express(change) => {
            let snap = aws::ecs::describe_service(c, &svc.cluster, &svc.describe_as).await.ok().map(|(s, _)| s);
            let kind = snap.as_ref().and_then(|s| s.resource_management_type.clone());
            if kind.as_deref() != Some("ECS") {
                return Err(AppError::usage(format!(
                    "service {} is not an ECS Express Mode service (resourceManagementType {})",
                    svc.name,
                    kind.as_deref().unwrap_or("unset")
                ))
                .with_hint("deploy it without --express (--image CONTAINER=IMAGE registers a revision and calls UpdateService)"));
            }
            Ok(Plan::Express(change.clone()))
        }
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
            let snap = match base {
                Some(_) => None,
                None => aws::ecs::describe_service(c, &svc.cluster, &svc.describe_as).await.ok().map(|(s, _)| s),
            };
            // A CODE_DEPLOY service has no deployments: its own revision (`base`) is the base then.
            let td_arn = snap
                .as_ref()
                .and_then(|s| s.deployments.iter().find(|x| x.id == current_deployment || x.status == "PRIMARY"))
                .and_then(|x| x.task_definition.clone())
                .or_else(|| base.map(str::to_string))
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
fn change_error(op: &'static str, permission: &str, e: aws::ErrInfo, refused_hint: &str) -> AppError {
    match e.kind {
        Kind::AccessDenied | Kind::Credentials | Kind::Throttled | Kind::Transient => fatal(op, permission, e),
        _ => AppError::usage(format!("{op} refused the change: {e}")).with_hint(refused_hint),
    }
}

fn register_error(e: aws::ErrInfo) -> AppError {
    change_error(
        "RegisterTaskDefinition",
        "ecs:RegisterTaskDefinition (and iam:PassRole for the task roles)",
        e,
        "fix the task definition (aws ecs register-task-definition --cli-input-json file://FILE shows the same error); nothing was changed",
    )
}

fn update_error(e: aws::ErrInfo) -> AppError {
    change_error(
        "UpdateService",
        "ecs:UpdateService (and iam:PassRole for the task roles)",
        e,
        "nothing was deployed; check the task definition and the service's settings",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_names_the_service_the_deployment_and_where_to_find_them() {
        assert_eq!(
            resume_line("shop", "api", Some("ecs-svc/123"), "eu-west-1", Some("ci")),
            "ecsgate wait --cluster shop --service api --deployment-id ecs-svc/123 --region eu-west-1 --profile ci"
        );
        assert_eq!(
            resume_line("shop", "api", None, "us-east-1", None),
            "ecsgate wait --cluster shop --service api --region us-east-1"
        );
    }

    #[test]
    fn an_unanswered_registration_names_the_family_and_the_revision_it_must_be_newer_than() {
        let hint =
            unanswered_registration(&Plan::RegisterJson { family: "shop".into(), body: "{}".into() }, "us-east-1");
        assert!(hint.contains("a revision of shop may have been registered"), "{hint}");
        assert!(
            hint.contains("aws ecs list-task-definitions --region us-east-1 --family-prefix shop --sort DESC"),
            "{hint}"
        );
        assert!(
            hint.contains("aws ecs deregister-task-definition --region us-east-1 --task-definition shop:REVISION"),
            "{hint}"
        );
    }
}
