//! API snapshots the live gate feeds through the same rules as events (SEMANTICS.md §b: events are
//! hints; re-read the truth). They are plain data, free of AWS SDK types, so `--record` can store them and
//! `replay` can feed them back.

use serde::{Deserialize, Serialize};

/// One DescribeServices answer, reduced to what the verdict needs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    pub service_arn: String,
    #[serde(default)]
    pub cluster_arn: Option<String>,
    #[serde(default)]
    pub service_name: Option<String>,
    /// When the snapshot was taken (epoch ms).
    #[serde(default)]
    pub at_ms: Option<i64>,
    #[serde(default)]
    pub deployments: Vec<DeploymentSnapshot>,
    /// The ARN of the service deployment ECS is running (the ServiceDeployment API), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_service_deployment: Option<String>,
    /// The service's own event messages (DescribeServices `events[]`, newest first): the only evidence
    /// left once ECS has forgotten a deployment's stopped tasks (about an hour after they stopped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ServiceEventMsg>,
}

/// One `events[]` entry: "(service api) (task 1234) failed container health checks.", "(service api)
/// was unable to place a task because …", "(service api) has started 1 tasks: …".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceEventMsg {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub created_at_ms: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentSnapshot {
    pub id: String,
    /// PRIMARY, ACTIVE, INACTIVE.
    pub status: String,
    #[serde(default)]
    pub task_definition: Option<String>,
    /// IN_PROGRESS, COMPLETED, FAILED; absent for services behind a Classic Load Balancer.
    #[serde(default)]
    pub rollout_state: Option<String>,
    #[serde(default)]
    pub rollout_state_reason: Option<String>,
    #[serde(default)]
    pub desired_count: i64,
    #[serde(default)]
    pub pending_count: i64,
    #[serde(default)]
    pub running_count: i64,
    #[serde(default)]
    pub failed_tasks: i64,
    #[serde(default)]
    pub created_at_ms: Option<i64>,
    #[serde(default)]
    pub updated_at_ms: Option<i64>,
}

/// Essential flags and log settings of a task definition (DescribeTaskDefinition): the event never says
/// which containers are essential, and only essential containers decide a task's fate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskDefinitionInfo {
    pub arn: String,
    pub containers: Vec<ContainerDefinitionInfo>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerDefinitionInfo {
    pub name: String,
    pub essential: bool,
    /// `awslogs` settings when the container logs to CloudWatch Logs.
    #[serde(default)]
    pub awslogs: Option<AwsLogsConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AwsLogsConfig {
    pub group: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub stream_prefix: Option<String>,
}

/// A target group's health check and its targets' health (DescribeTargetGroups, DescribeTargetHealth):
/// why the load balancer failed tasks that stopped with "Task failed ELB health checks".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetHealthInfo {
    pub target_group_arn: String,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    /// HTTP codes (or gRPC codes) the check expects, e.g. "200" or "200-399".
    #[serde(default)]
    pub matcher: Option<String>,
    #[serde(default)]
    pub targets: Vec<TargetHealthEntry>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetHealthEntry {
    pub id: String,
    #[serde(default)]
    pub port: Option<i32>,
    pub state: String,
    /// `Target.ResponseCodeMismatch`, `Target.Timeout`, `Target.FailedHealthChecks`, …
    #[serde(default)]
    pub reason: Option<String>,
    /// "Health checks failed with these codes: [502]", …
    #[serde(default)]
    pub description: Option<String>,
}

/// One DescribeServiceDeployments entry (the ServiceDeployment API, for deployments since late 2024):
/// ECS's own account of a deployment, strategies, stages and rollbacks included. Enum values are kept as
/// text: values this ecsgate does not know never decide anything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceDeploymentSnapshot {
    pub arn: String,
    /// PENDING, IN_PROGRESS, SUCCESSFUL, STOP_REQUESTED, STOPPED, ROLLBACK_REQUESTED,
    /// ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED, …
    pub status: String,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub lifecycle_stage: Option<String>,
    #[serde(default)]
    pub strategy: Option<String>,
    /// The circuit breaker as ECS counts it: (status, failureCount, threshold).
    #[serde(default)]
    pub circuit_breaker: Option<(String, i32, i32)>,
    /// Alarms that triggered a rollback.
    #[serde(default)]
    pub triggered_alarms: Vec<String>,
    #[serde(default)]
    pub rollback_reason: Option<String>,
}
