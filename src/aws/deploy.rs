//! The calls that change a service: RegisterTaskDefinition (a copy of the current revision with new
//! images), UpdateService, and the rollbacks (StopServiceDeployment, or UpdateService back to the
//! previous revision).

use aws_sdk_ecs::types::{StopServiceDeploymentStopType, TaskDefinition};

use super::ecs::service_snapshot;
use super::{Clients, ErrInfo, err_info};
use crate::engine::ServiceSnapshot;

/// A task definition as DescribeTaskDefinition gives it, with its tags (RegisterTaskDefinition does
/// not copy them by itself).
pub struct CurrentTaskDefinition {
    pub td: TaskDefinition,
    pub tags: Vec<aws_sdk_ecs::types::Tag>,
}

impl CurrentTaskDefinition {
    pub fn arn(&self) -> &str {
        self.td.task_definition_arn().unwrap_or_default()
    }

    pub fn container_names(&self) -> Vec<String> {
        self.td.container_definitions().iter().filter_map(|c| c.name().map(str::to_string)).collect()
    }
}

pub async fn describe_full(c: &Clients, arn: &str) -> Result<CurrentTaskDefinition, ErrInfo> {
    let out = c
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    let td = out.task_definition().cloned().ok_or_else(|| ErrInfo::other(format!("no task definition {arn}")))?;
    Ok(CurrentTaskDefinition { td, tags: out.tags().to_vec() })
}

/// Registers a new revision of `cur` with the given images (container name → image); everything else —
/// roles, network mode, sizes, volumes, tags, every container setting — is copied. The caller has
/// checked that every named container exists.
pub async fn register_with_images(
    c: &Clients,
    cur: &CurrentTaskDefinition,
    images: &[(String, String)],
) -> Result<String, ErrInfo> {
    let td = &cur.td;
    let containers: Vec<aws_sdk_ecs::types::ContainerDefinition> = td
        .container_definitions()
        .iter()
        .map(|cd| match images.iter().find(|(name, _)| Some(name.as_str()) == cd.name()) {
            Some((_, image)) => {
                let mut cd = cd.clone();
                cd.image = Some(image.clone());
                cd
            }
            None => cd.clone(),
        })
        .collect();
    let out = c
        .ecs
        .register_task_definition()
        .set_family(td.family().map(str::to_string))
        .set_task_role_arn(td.task_role_arn().map(str::to_string))
        .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
        .set_network_mode(td.network_mode().cloned())
        .set_container_definitions(Some(containers))
        .set_volumes(Some(td.volumes().to_vec()).filter(|v| !v.is_empty()))
        .set_placement_constraints(Some(td.placement_constraints().to_vec()).filter(|v| !v.is_empty()))
        .set_requires_compatibilities(Some(td.requires_compatibilities().to_vec()).filter(|v| !v.is_empty()))
        .set_cpu(td.cpu().map(str::to_string))
        .set_memory(td.memory().map(str::to_string))
        .set_tags(Some(cur.tags.clone()).filter(|t| !t.is_empty()))
        .set_pid_mode(td.pid_mode().cloned())
        .set_ipc_mode(td.ipc_mode().cloned())
        .set_proxy_configuration(td.proxy_configuration().cloned())
        .set_ephemeral_storage(td.ephemeral_storage().cloned())
        .set_runtime_platform(td.runtime_platform().cloned())
        .set_enable_fault_injection(td.enable_fault_injection())
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    registered_arn(&out)
}

fn registered_arn(
    out: &aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput,
) -> Result<String, ErrInfo> {
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .map(str::to_string)
        .ok_or_else(|| ErrInfo::other("RegisterTaskDefinition returned no ARN"))
}

/// Best effort: a revision registered for an UpdateService that then failed is deregistered again.
pub async fn deregister(c: &Clients, arn: &str) -> Result<(), ErrInfo> {
    c.ecs.deregister_task_definition().task_definition(arn).send().await.map(|_| ()).map_err(|e| err_info(&e))
}

/// What UpdateService answered: the service as it now is (its PRIMARY deployment is ours, and
/// `current_service_deployment` its service-deployment ARN where ECS gives one).
pub struct Updated {
    pub snapshot: ServiceSnapshot,
}

pub async fn update_service(
    c: &Clients,
    cluster: &str,
    service: &str,
    task_definition: Option<&str>,
    desired_count: Option<i32>,
    force_new_deployment: bool,
) -> Result<Updated, ErrInfo> {
    let out = c
        .ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .set_task_definition(task_definition.map(str::to_string))
        .set_desired_count(desired_count)
        .force_new_deployment(force_new_deployment)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    let s = out.service().ok_or_else(|| ErrInfo::other("UpdateService returned no service"))?;
    Ok(Updated { snapshot: service_snapshot(s) })
}

/// StopServiceDeployment(ROLLBACK): ECS rolls the service deployment back itself.
pub async fn stop_service_deployment(c: &Clients, arn: &str) -> Result<(), ErrInfo> {
    c.ecs
        .stop_service_deployment()
        .service_deployment_arn(arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| err_info(&e))
}

/// ContinueServiceDeployment: answers a lifecycle hook awaiting action (`rollback`: roll back instead).
pub async fn continue_service_deployment(c: &Clients, arn: &str, hook_id: &str, rollback: bool) -> Result<(), ErrInfo> {
    use aws_sdk_ecs::types::DeploymentLifecycleHookAction;
    let action =
        if rollback { DeploymentLifecycleHookAction::Rollback } else { DeploymentLifecycleHookAction::Continue };
    c.ecs
        .continue_service_deployment()
        .service_deployment_arn(arn)
        .hook_id(hook_id)
        .action(action)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| err_info(&e))
}

/// Registers a task definition given as JSON — a rendered file, as the GitHub deploy action takes, or
/// `describe-task-definition` output — exactly as written: the request's body is the file (read-only
/// fields removed), the way `aws ecs register-task-definition --cli-input-json` sends it, so every field
/// ECS knows is honoured without ecsgate having to know it. The SDK still signs and sends it.
pub async fn register_json(c: &Clients, family: &str, body: String) -> Result<String, ErrInfo> {
    let out = c
        .ecs
        .register_task_definition()
        .family(family)
        .customize()
        .interceptor(ReplaceBody(body))
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    registered_arn(&out)
}

/// Replaces the serialized request body before it is signed.
#[derive(Debug)]
struct ReplaceBody(String);

impl aws_smithy_runtime_api::client::interceptors::Intercept for ReplaceBody {
    fn name(&self) -> &'static str {
        "ecsgate::ReplaceBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _rc: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let req = context.request_mut();
        *req.body_mut() = aws_smithy_types::body::SdkBody::from(self.0.clone());
        req.headers_mut().insert("content-length", self.0.len().to_string());
        Ok(())
    }
}
