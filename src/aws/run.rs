//! RunTask for `ecsgate run`: what a one-off task borrows from a service (task definition, network
//! configuration, launch type or capacity providers, platform version), and the call itself. SDK types
//! stay here; the app sees [`RunFrom`] as an opaque value and the engine gets [`TaskRecord`]s and
//! [`LaunchFailure`]s.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerOverride, KeyValuePair, LaunchType,
    NetworkConfiguration, TaskOverride,
};

use super::{Clients, ErrInfo, err_info};
use crate::engine::TaskRecord;
use crate::engine::oneoff::LaunchFailure;

/// Where a run's settings come from: a service's, with what the flags override.
#[derive(Debug, Clone, Default)]
pub struct RunFrom {
    pub service: Option<String>,
    pub task_definition: Option<String>,
    network: Option<NetworkConfiguration>,
    launch_type: Option<LaunchType>,
    capacity: Vec<CapacityProviderStrategyItem>,
    platform_version: Option<String>,
}

/// What the flags ask of the run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub cluster: String,
    pub started_by: String,
    pub count: i32,
    /// The container the command and environment overrides go to.
    pub container: Option<String>,
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub public_ip: bool,
    /// `FARGATE`, `EC2`, `EXTERNAL`: replaces the service's launch type and capacity providers.
    pub launch_type: Option<String>,
}

/// What a service lends a run; `Ok(None)` when the service does not exist.
pub async fn from_service(c: &Clients, cluster: &str, service: &str) -> Result<Option<RunFrom>, ErrInfo> {
    let out = c.ecs.describe_services().cluster(cluster).services(service).send().await.map_err(|e| err_info(&e))?;
    let Some(s) = out.services().iter().find(|s| s.status() != Some("INACTIVE")) else {
        return Ok(None);
    };
    Ok(Some(RunFrom {
        service: s.service_name().map(str::to_string),
        task_definition: s.task_definition().map(str::to_string),
        network: s.network_configuration().cloned(),
        launch_type: s.launch_type().cloned(),
        capacity: s.capacity_provider_strategy().to_vec(),
        platform_version: s
            .platform_version()
            .map(str::to_string)
            .filter(|_| s.launch_type() == Some(&LaunchType::Fargate)),
    }))
}

impl RunFrom {
    /// A run of a task definition that borrows nothing.
    pub fn task_definition(td: String) -> Self {
        RunFrom { task_definition: Some(td), ..RunFrom::default() }
    }

    /// Whether the run has a network configuration (awsvpc task definitions need one).
    pub fn has_network(&self, r: &RunRequest) -> bool {
        self.network.is_some() || !r.subnets.is_empty()
    }
}

/// The tasks RunTask placed and the ones it could not place (`failures[]`: HTTP 200, still a failure).
pub struct Started {
    pub tasks: Vec<TaskRecord>,
    pub failures: Vec<LaunchFailure>,
}

pub async fn run_task(c: &Clients, from: &RunFrom, r: &RunRequest) -> Result<Started, ErrInfo> {
    let network = if r.subnets.is_empty() {
        from.network.clone()
    } else {
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(r.subnets.clone()))
            .set_security_groups((!r.security_groups.is_empty()).then(|| r.security_groups.clone()))
            .assign_public_ip(if r.public_ip { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled })
            .build()
            .map_err(|e| ErrInfo::other(e.to_string()))?;
        Some(NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
    };
    let overrides = (!r.command.is_empty() || !r.env.is_empty()).then(|| {
        let env: Vec<KeyValuePair> =
            r.env.iter().map(|(k, v)| KeyValuePair::builder().name(k).value(v).build()).collect();
        let co = ContainerOverride::builder()
            .set_name(r.container.clone())
            .set_command((!r.command.is_empty()).then(|| r.command.clone()))
            .set_environment((!env.is_empty()).then_some(env))
            .build();
        TaskOverride::builder().container_overrides(co).build()
    });
    let (launch_type, capacity) = match &r.launch_type {
        Some(lt) => (Some(LaunchType::from(lt.as_str())), Vec::new()),
        None if !from.capacity.is_empty() => (None, from.capacity.clone()),
        None => (from.launch_type.clone(), Vec::new()),
    };
    let out = c
        .ecs
        .run_task()
        .cluster(&r.cluster)
        .set_task_definition(from.task_definition.clone())
        .count(r.count)
        .started_by(&r.started_by)
        .set_network_configuration(network)
        .set_launch_type(launch_type)
        .set_capacity_provider_strategy((!capacity.is_empty()).then_some(capacity))
        .set_platform_version(from.platform_version.clone())
        .set_overrides(overrides)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    Ok(Started {
        tasks: out.tasks().iter().map(super::ecs::task_record).collect(),
        failures: out
            .failures()
            .iter()
            .map(|f| LaunchFailure {
                arn: f.arn().map(str::to_string),
                reason: f.reason().unwrap_or("unknown").to_string(),
                detail: f.detail().map(str::to_string),
            })
            .collect(),
    })
}
