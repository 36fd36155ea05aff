//! CodeDeploy for CODE_DEPLOY services: find the deployment of a service, read it (GetDeployment) and
//! its ECS target (GetDeploymentTarget), continue one that waits in Ready. SDK types stop here; the
//! engine gets [`CdDeployment`] and [`CdTarget`].

use aws_sdk_codedeploy::types::{DeploymentReadyAction, DeploymentStatus, DeploymentWaitType};

use super::{Clients, ErrInfo, Kind, err_info};
use crate::engine::codedeploy::{CdDeployment, CdTarget, CdTaskSet, LifecycleEvent};
use crate::engine::snapshot::TaskSetInfo;

pub async fn get_deployment(c: &Clients, id: &str) -> Result<CdDeployment, ErrInfo> {
    let out = c.codedeploy.get_deployment().deployment_id(id).send().await.map_err(|e| err_info(&e))?;
    let Some(d) = out.deployment_info() else {
        return Err(ErrInfo {
            kind: Kind::NotFound,
            code: None,
            message: format!("no deployment {id}"),
            request_id: None,
        });
    };
    let bg = d.blue_green_deployment_configuration();
    let ready = bg
        .and_then(|b| b.deployment_ready_option())
        .filter(|r| r.action_on_timeout() == Some(&DeploymentReadyAction::StopDeployment))
        .map(|r| i64::from(r.wait_time_in_minutes()));
    let termination = bg
        .and_then(|b| b.terminate_blue_instances_on_deployment_success())
        .map(|t| i64::from(t.termination_wait_time_in_minutes()));
    Ok(CdDeployment {
        deployment_id: d.deployment_id().unwrap_or(id).to_string(),
        application: d.application_name().map(str::to_string),
        group: d.deployment_group_name().map(str::to_string),
        status: d.status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "Unknown".into()),
        error_code: d.error_information().and_then(|e| e.code()).map(|c| c.as_str().to_string()),
        error_message: d.error_information().and_then(|e| e.message()).filter(|m| !m.is_empty()).map(str::to_string),
        rollback_deployment_id: d.rollback_info().and_then(|r| r.rollback_deployment_id()).map(str::to_string),
        rollback_of: d.rollback_info().and_then(|r| r.rollback_triggering_deployment_id()).map(str::to_string),
        configured_wait_minutes: match (ready, termination) {
            (None, None) => None,
            (r, t) => Some(r.unwrap_or(0) + t.unwrap_or(0)),
        },
    })
}

/// The service's deployment target (`<cluster>:<service>`); `Ok(None)` before the deployment started
/// (DeploymentNotStartedException) or when it has no such target.
pub async fn get_target(c: &Clients, id: &str, cluster: &str, service: &str) -> Result<Option<CdTarget>, ErrInfo> {
    let target_id = format!("{cluster}:{service}");
    let out = match c.codedeploy.get_deployment_target().deployment_id(id).target_id(&target_id).send().await {
        Ok(o) => o,
        Err(e) => {
            let info = err_info(&e);
            let not_yet = matches!(
                info.code.as_deref(),
                Some("DeploymentNotStartedException" | "DeploymentTargetDoesNotExistException")
            );
            return if not_yet { Ok(None) } else { Err(info) };
        }
    };
    let Some(t) = out.deployment_target().and_then(|t| t.ecs_target()) else { return Ok(None) };
    Ok(Some(CdTarget {
        status: t.status().map(|s| s.as_str().to_string()),
        lifecycle: t
            .lifecycle_events()
            .iter()
            .map(|e| {
                let d = e.diagnostics();
                LifecycleEvent {
                    name: e.lifecycle_event_name().unwrap_or("?").to_string(),
                    status: e.status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "Unknown".into()),
                    error_code: d.and_then(|d| d.error_code()).map(|c| c.as_str().to_string()),
                    script_name: d.and_then(|d| d.script_name()).filter(|s| !s.is_empty()).map(str::to_string),
                    message: d.and_then(|d| d.message()).filter(|s| !s.is_empty()).map(str::to_string),
                    log_tail: d
                        .and_then(|d| d.log_tail())
                        .map(|l| l.lines().map(|x| x.trim_end().to_string()).filter(|x| !x.is_empty()).collect())
                        .unwrap_or_default(),
                }
            })
            .collect(),
        task_sets: t
            .task_sets_info()
            .iter()
            .map(|s| CdTaskSet {
                id: s.identifer().unwrap_or_default().to_string(),
                label: s.task_set_label().map(|l| l.as_str().to_string()),
                status: s.status().map(str::to_string),
                traffic_weight: Some(s.traffic_weight()),
                running: s.running_count(),
                desired: s.desired_count(),
            })
            .collect(),
    }))
}

/// The CodeDeploy deployment of a CODE_DEPLOY service, cheapest first (deploy-kinds/README §1.3):
/// the task set CodeDeploy is installing names it (`externalId` of the newest non-PRIMARY set);
/// else the newest deployment in flight of the console's application and group names
/// (`AppECS-<cluster>-<service>`, `DgpECS-…`), else that group's last attempted deployment.
pub async fn find(
    c: &Clients,
    cluster: &str,
    service: &str,
    task_sets: &[TaskSetInfo],
) -> Result<Option<String>, ErrInfo> {
    let installing = task_sets
        .iter()
        .filter(|t| {
            t.status.as_deref() != Some("PRIMARY") && t.external_id.as_deref().is_some_and(|x| x.starts_with("d-"))
        })
        .max_by_key(|t| t.created_at_ms);
    if let Some(id) = installing.and_then(|t| t.external_id.clone()) {
        return Ok(Some(id));
    }
    let (app, group) = (format!("AppECS-{cluster}-{service}"), format!("DgpECS-{cluster}-{service}"));
    let listed = c
        .codedeploy
        .list_deployments()
        .application_name(&app)
        .deployment_group_name(&group)
        .set_include_only_statuses(Some(vec![
            DeploymentStatus::Created,
            DeploymentStatus::Queued,
            DeploymentStatus::InProgress,
            DeploymentStatus::Baking,
            DeploymentStatus::Ready,
        ]))
        .send()
        .await;
    let ids = match listed {
        Ok(o) => o.deployments().to_vec(),
        Err(e) => {
            // No such application or group (the console's names guessed wrong): no deployment there. Any
            // other error is the caller's to report, not "none found".
            let e = err_info(&e);
            let missing = e.code.as_deref().is_some_and(|c| c.ends_with("DoesNotExistException"));
            if e.kind == Kind::NotFound || missing { Vec::new() } else { return Err(e) }
        }
    };
    if !ids.is_empty() {
        // ListDeployments has no documented order: the newest by creation time.
        let got = c.codedeploy.batch_get_deployments().set_deployment_ids(Some(ids.clone())).send().await;
        let newest = got.ok().and_then(|o| {
            o.deployments_info()
                .iter()
                .max_by_key(|d| d.create_time().and_then(|t| t.to_millis().ok()))
                .and_then(|d| d.deployment_id().map(str::to_string))
        });
        return Ok(newest.or_else(|| ids.first().cloned()));
    }
    let g = c.codedeploy.get_deployment_group().application_name(&app).deployment_group_name(&group).send().await;
    Ok(g.ok().and_then(|o| {
        o.deployment_group_info()
            .and_then(|i| i.last_attempted_deployment())
            .and_then(|l| l.deployment_id().map(str::to_string))
    }))
}

/// ContinueDeployment of a deployment waiting in Ready (the traffic reroute).
pub async fn continue_ready(c: &Clients, id: &str) -> Result<(), ErrInfo> {
    c.codedeploy
        .continue_deployment()
        .deployment_id(id)
        .deployment_wait_type(DeploymentWaitType::ReadyWait)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    Ok(())
}

/// StopDeployment with CodeDeploy's automatic rollback (traffic back to the original task set).
pub async fn stop_with_rollback(c: &Clients, id: &str) -> Result<(), ErrInfo> {
    c.codedeploy
        .stop_deployment()
        .deployment_id(id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    Ok(())
}

/// What `deploy` needs of a CODE_DEPLOY service: its deployment group (checked to exist), the revision
/// it runs (the base of `--image`) and the container and port of its load balancer (the AppSpec's
/// `LoadBalancerInfo`).
#[derive(Debug, Clone)]
pub struct CdSetup {
    pub application: String,
    pub group: String,
    pub task_definition: Option<String>,
    pub container: Option<(String, i32)>,
}

/// Why the setup could not be read.
pub enum SetupError {
    /// The application or deployment group does not exist (named).
    NoGroup(String),
    /// A call that failed: the operation, the permission it needs, the error.
    Aws(&'static str, &'static str, ErrInfo),
}

pub async fn setup_for(
    c: &Clients,
    cluster: &str,
    service: &str,
    application: Option<&str>,
    group: Option<&str>,
) -> Result<CdSetup, SetupError> {
    let out = c
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| SetupError::Aws("DescribeServices", "ecs:DescribeServices", err_info(&e)))?;
    let s = out.services().first();
    let name = s.and_then(|s| s.service_name()).unwrap_or(service).to_string();
    let cluster_name = crate::engine::arn_name(cluster).to_string();
    let application = application.map(str::to_string).unwrap_or_else(|| format!("AppECS-{cluster_name}-{name}"));
    let group = group.map(str::to_string).unwrap_or_else(|| format!("DgpECS-{cluster_name}-{name}"));
    let got =
        c.codedeploy.get_deployment_group().application_name(&application).deployment_group_name(&group).send().await;
    if let Err(e) = got {
        let info = err_info(&e);
        return match info.code.as_deref() {
            Some("DeploymentGroupDoesNotExistException" | "ApplicationDoesNotExistException") => {
                Err(SetupError::NoGroup(format!("application {application}, deployment group {group}: {info}")))
            }
            _ => Err(SetupError::Aws("GetDeploymentGroup", "codedeploy:GetDeploymentGroup", info)),
        };
    }
    let lb = s.and_then(|s| s.load_balancers().first());
    Ok(CdSetup {
        application,
        group,
        task_definition: s.and_then(|s| s.task_definition()).map(str::to_string),
        container: lb.and_then(|l| Some((l.container_name()?.to_string(), l.container_port()?))),
    })
}

/// CreateDeployment with the AppSpec as content (`AppSpecContent`); its id.
pub async fn create(c: &Clients, application: &str, group: &str, appspec: &str) -> Result<String, ErrInfo> {
    use aws_sdk_codedeploy::types::{AppSpecContent, RevisionLocation, RevisionLocationType};
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(AppSpecContent::builder().content(appspec).build())
        .build();
    let out = c
        .codedeploy
        .create_deployment()
        .application_name(application)
        .deployment_group_name(group)
        .revision(revision)
        .description("ecsgate deploy")
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    out.deployment_id().map(str::to_string).ok_or_else(|| ErrInfo::other("CreateDeployment returned no deployment id"))
}
