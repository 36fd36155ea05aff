//! ECS Express Mode: what ECS manages for a service revision (DescribeServiceRevisions), and the update
//! of an Express service (DescribeExpressGatewayService, UpdateExpressGatewayService).

use aws_sdk_ecs::types::{ExpressGatewayContainer, ManagedResourceStatus};

use super::{Clients, ErrInfo, err_info};
use crate::engine::snapshot::{ManagedAlarm, ManagedResources};

/// The managed resources of one service revision; `Ok(None)` when the API does not know it.
pub async fn managed_resources(c: &Clients, revision_arn: &str) -> Result<Option<ManagedResources>, ErrInfo> {
    let out = c
        .ecs
        .describe_service_revisions()
        .service_revision_arns(revision_arn)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    let Some(r) = out.service_revisions().first() else { return Ok(None) };
    let Some(m) = r.ecs_managed_resources() else {
        return Ok(Some(ManagedResources { revision_arn: revision_arn.to_string(), ..Default::default() }));
    };
    let failed = |kind: &str, status: &ManagedResourceStatus, reason: Option<&str>| {
        (*status == ManagedResourceStatus::Failed).then(|| format!("{kind}: {}", reason.unwrap_or("no reason given")))
    };
    let mut out = ManagedResources { revision_arn: revision_arn.to_string(), ..Default::default() };
    for p in m.ingress_paths() {
        // Printed and posted as every URL is: through the one redaction (scheme, host, port).
        let e = p.endpoint().trim();
        if !e.is_empty() {
            let url = if e.contains("://") { e.to_string() } else { format!("https://{e}") };
            out.endpoints.push(crate::report::text::redact_url(&url));
        }
        if let Some(lb) = p.load_balancer() {
            out.failed.extend(failed("load balancer", lb.status(), lb.status_reason()));
        }
        if let Some(cert) = p.certificate() {
            out.failed.extend(failed("certificate", cert.status(), cert.status_reason()));
        }
    }
    for a in m.metric_alarms() {
        let name = a.arn().and_then(|arn| arn.rsplit(':').next()).unwrap_or_default().to_string();
        out.failed.extend(failed(&format!("alarm {name}"), a.status(), a.status_reason()));
        out.alarms.push(ManagedAlarm { name, status: Some(a.status().as_str().to_string()) });
    }
    for g in m.log_groups() {
        out.log_groups.push(g.log_group_name().to_string());
        out.failed.extend(failed("log group", g.status(), g.status_reason()));
    }
    Ok(Some(out))
}

/// What `deploy --express` changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpressChange {
    /// A new image for the primary container.
    pub image: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub task_definition: Option<String>,
}

/// UpdateExpressGatewayService. The primary container is sent whole (the update replaces it): the
/// active configuration's, with the new image. Returns the service revision the update targets, when
/// the answer names it (the link to the service deployment it starts: deploy-kinds/README §2.2).
pub async fn update(c: &Clients, service_arn: &str, change: &ExpressChange) -> Result<Option<String>, ErrInfo> {
    let mut req = c.ecs.update_express_gateway_service().service_arn(service_arn);
    if let Some(image) = &change.image {
        let current =
            c.ecs.describe_express_gateway_service().service_arn(service_arn).send().await.map_err(|e| err_info(&e))?;
        let active = current
            .service()
            .and_then(|s| s.active_configurations().first())
            .and_then(|cfg| cfg.primary_container())
            .cloned();
        let container = match active {
            Some(pc) => {
                let mut b = ExpressGatewayContainer::builder()
                    .image(image)
                    .set_container_port(pc.container_port())
                    .set_aws_logs_configuration(pc.aws_logs_configuration().cloned())
                    .set_repository_credentials(pc.repository_credentials().cloned());
                if !pc.command().is_empty() {
                    b = b.set_command(Some(pc.command().to_vec()));
                }
                if !pc.environment().is_empty() {
                    b = b.set_environment(Some(pc.environment().to_vec()));
                }
                if !pc.secrets().is_empty() {
                    b = b.set_secrets(Some(pc.secrets().to_vec()));
                }
                b.build()
            }
            None => ExpressGatewayContainer::builder().image(image).build(),
        }
        .map_err(|e| ErrInfo::other(e.to_string()))?;
        req = req.primary_container(container);
    }
    let out = req
        .set_cpu(change.cpu.clone())
        .set_memory(change.memory.clone())
        .set_task_definition_arn(change.task_definition.clone())
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    Ok(out.service().and_then(|s| s.target_configuration()).and_then(|t| t.service_revision_arn()).map(str::to_string))
}
