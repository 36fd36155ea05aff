//! `ecsgate continue`: answers a lifecycle hook awaiting action (ContinueServiceDeployment), or a
//! CodeDeploy deployment waiting in Ready (ContinueDeployment), so a pipeline step or a person need not
//! copy ARNs and ids out of the gate's notice.

use crate::aws::{self, fatal};
use crate::cli::ContinueArgs;
use crate::engine::snapshot::ServiceDeploymentSnapshot;
use crate::error::AppError;
use crate::exit;
use crate::report::Reporter;

pub fn run(args: ContinueArgs) -> u8 {
    let mut reporter = Reporter::new(crate::cli::OutputFormat::Human, false, false, Some(false));
    super::block_on(&mut reporter, async |r| answer(&args, r).await)
}

async fn answer(a: &ContinueArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    // Checked before any call: what names the paused deployment.
    if a.service.is_none() && a.service_deployment_arn.is_none() {
        let msg = if a.hook_id.is_some() {
            "--hook-id names a hook of a service deployment, but no deployment was named"
        } else {
            "name the paused deployment: --service (its current service deployment) or --service-deployment-arn"
        };
        return Err(AppError::usage(msg).with_hint(
            "give --service-deployment-arn ARN with --hook-id, or --service NAME to answer the hook awaiting action",
        ));
    }
    let (services, arn_region) = match &a.service {
        Some(s) => super::settings::parse_services(std::slice::from_ref(s), &a.cluster)?,
        None => (Vec::new(), None),
    };
    if services.len() > 1 {
        return Err(AppError::usage("ecsgate continue answers one service's hook").with_hint("give one --service"));
    }
    let clients = aws::load(a.aws.region.clone().or(arn_region), a.aws.profile.clone()).await?;
    let arn = match (&a.service_deployment_arn, services.first()) {
        (Some(arn), _) => arn.clone(),
        (None, Some(svc)) => {
            let (snap, _) =
                aws::ecs::describe_service(&clients, &svc.cluster, &svc.service).await.map_err(|e| match e {
                    aws::ecs::DescribeError::ClusterNotFound => {
                        AppError::usage(format!("cluster {} not found", svc.cluster))
                            .with_hint("check --cluster (or the cluster in --service) and --region")
                    }
                    aws::ecs::DescribeError::ServiceNotFound(r) => {
                        AppError::usage(format!("service {} not found in cluster {} ({r})", svc.name(), svc.cluster))
                            .with_hint("check --service, --cluster and --region")
                    }
                    aws::ecs::DescribeError::Aws(e) => fatal("DescribeServices", "ecs:DescribeServices", e),
                })?;
            if snap.deployment_controller.as_deref() == Some("CODE_DEPLOY") {
                return answer_codedeploy(&clients, &svc.cluster, svc.name(), &snap, a.rollback, reporter).await;
            }
            snap.current_service_deployment.ok_or_else(|| {
                AppError::usage(format!("service {} names no current service deployment", svc.name())).with_hint(
                    "only deployments with lifecycle hooks pause; pass --service-deployment-arn if you know it",
                )
            })?
        }
        (None, None) => unreachable!("checked above: --service or --service-deployment-arn"),
    };
    let sd = aws::ecs::describe_service_deployments(&clients, std::slice::from_ref(&arn))
        .await
        .map_err(|e| fatal("DescribeServiceDeployments", "ecs:DescribeServiceDeployments", e))?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::usage(format!("service deployment {arn} not found"))
                .with_hint("check --service-deployment-arn and --region")
        })?;
    let hook = pick_hook(&sd, a.hook_id.as_deref())?;
    aws::deploy::continue_service_deployment(&clients, &arn, &hook, a.rollback)
        .await
        .map_err(|e| fatal("ContinueServiceDeployment", "ecs:ContinueServiceDeployment", e))?;
    let stage = sd.lifecycle_stage.as_deref().unwrap_or("its stage");
    reporter.info(&format!(
        "ecsgate: {} hook {hook} at {stage} of service deployment {arn}",
        if a.rollback { "rolled back at" } else { "continued" }
    ));
    Ok(exit::SUCCEEDED)
}

/// A CODE_DEPLOY service: its CodeDeploy deployment waiting in Ready (the traffic reroute) is continued
/// (ContinueDeployment READY_WAIT), or with --rollback stopped with CodeDeploy's rollback.
async fn answer_codedeploy(
    clients: &aws::Clients,
    cluster: &str,
    service: &str,
    snap: &crate::engine::ServiceSnapshot,
    rollback: bool,
    reporter: &mut Reporter,
) -> Result<u8, AppError> {
    let id = aws::codedeploy::find(clients, cluster, service, &snap.task_sets)
        .await
        .map_err(|e| fatal("ListDeployments", "codedeploy:ListDeployments", e))?
        .ok_or_else(|| {
            AppError::usage(format!("no CodeDeploy deployment found for service {service}"))
                .with_hint("only a deployment in Ready waits to be continued; `ecsgate wait` says when one does")
        })?;
    let d = aws::codedeploy::get_deployment(clients, &id)
        .await
        .map_err(|e| fatal("GetDeployment", "codedeploy:GetDeployment", e))?;
    if rollback {
        aws::codedeploy::stop_with_rollback(clients, &id)
            .await
            .map_err(|e| fatal("StopDeployment", "codedeploy:StopDeployment", e))?;
        reporter.info(&format!("ecsgate: stopped CodeDeploy deployment {id} with rollback"));
        return Ok(exit::SUCCEEDED);
    }
    if d.status != "Ready" {
        return Err(AppError::usage(format!("CodeDeploy deployment {id} is {}, not Ready", d.status)).with_hint(
            "a deployment waits for `continue` only in Ready (the green task set installed, traffic not rerouted)",
        ));
    }
    aws::codedeploy::continue_ready(clients, &id)
        .await
        .map_err(|e| fatal("ContinueDeployment", "codedeploy:ContinueDeployment", e))?;
    reporter.info(&format!("ecsgate: continued CodeDeploy deployment {id} (traffic reroute, READY_WAIT)"));
    Ok(exit::SUCCEEDED)
}

/// The hook to answer: the one named (it must await action), or the only one awaiting action.
fn pick_hook(sd: &ServiceDeploymentSnapshot, wanted: Option<&str>) -> Result<String, AppError> {
    let awaiting: Vec<&str> = sd
        .hooks
        .iter()
        .filter(|h| h.status.as_deref() == Some("AWAITING_ACTION"))
        .filter_map(|h| h.hook_id.as_deref())
        .collect();
    let state = format!(
        "service deployment {} is {}{}",
        crate::engine::arn_name(&sd.arn),
        sd.status,
        sd.lifecycle_stage.as_deref().map(|s| format!(" at {s}")).unwrap_or_default()
    );
    match (wanted, awaiting.as_slice()) {
        (Some(w), list) if list.contains(&w) => Ok(w.to_string()),
        (Some(w), _) => {
            Err(AppError::usage(format!("hook {w} is not awaiting action ({state})")).with_hint(hooks_hint(sd)))
        }
        (None, [one]) => Ok((*one).to_string()),
        (None, []) => Err(AppError::usage(format!("no hook is awaiting action ({state})")).with_hint(hooks_hint(sd))),
        (None, several) => Err(AppError::usage(format!("{} hooks are awaiting action", several.len()))
            .with_hint(format!("name one with --hook-id: {}", several.join(", ")))),
    }
}

fn hooks_hint(sd: &ServiceDeploymentSnapshot) -> String {
    if sd.hooks.is_empty() {
        return "a deployment pauses only at a PAUSE lifecycle hook; `ecsgate wait` says when one awaits action".into();
    }
    let list: Vec<String> = sd
        .hooks
        .iter()
        .map(|h| format!("{} {}", h.hook_id.as_deref().unwrap_or("?"), h.status.as_deref().unwrap_or("?")))
        .collect();
    format!("its hooks: {}", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::snapshot::HookDetail;

    fn sd(hooks: &[(&str, &str)]) -> ServiceDeploymentSnapshot {
        ServiceDeploymentSnapshot {
            arn: "arn:aws:ecs:us-west-2:123456789012:service-deployment/c/api/abc".into(),
            status: "IN_PROGRESS".into(),
            lifecycle_stage: Some("POST_TEST_TRAFFIC_SHIFT".into()),
            hooks: hooks
                .iter()
                .map(|(id, st)| HookDetail {
                    hook_id: Some((*id).into()),
                    status: Some((*st).into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_only_hook_awaiting_action_is_answered_unless_another_is_named() {
        let one = sd(&[("ecs-pause-a", "SUCCEEDED"), ("ecs-pause-b", "AWAITING_ACTION")]);
        assert_eq!(pick_hook(&one, None).unwrap(), "ecs-pause-b");
        assert_eq!(pick_hook(&one, Some("ecs-pause-b")).unwrap(), "ecs-pause-b");
        let e = pick_hook(&one, Some("ecs-pause-a")).unwrap_err();
        assert_eq!(
            e.message,
            "hook ecs-pause-a is not awaiting action (service deployment abc is IN_PROGRESS at POST_TEST_TRAFFIC_SHIFT)"
        );
        assert_eq!(e.hint.as_deref(), Some("its hooks: ecs-pause-a SUCCEEDED, ecs-pause-b AWAITING_ACTION"));
        let two = sd(&[("ecs-pause-a", "AWAITING_ACTION"), ("ecs-pause-b", "AWAITING_ACTION")]);
        assert!(pick_hook(&two, None).unwrap_err().hint.unwrap().contains("ecs-pause-a, ecs-pause-b"));
        assert_eq!(pick_hook(&sd(&[]), None).unwrap_err().exit_code(), exit::USAGE);
    }
}
