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
    /// The service's deployment configuration, where it says more than a rolling update's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_configuration: Option<DeploymentConfigInfo>,
    /// `healthCheckGracePeriodSeconds`, for `--timeout auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_grace_seconds: Option<i32>,
    /// The target groups of its load balancers, for `--timeout auto` (their deregistration delay).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_groups: Vec<String>,
    /// `ECS` for an Express Mode service (its load balancer, alarms, logs and scaling managed by ECS),
    /// `CUSTOMER` for the others; absent from older answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_management_type: Option<String>,
    /// `deploymentController.type`: ECS (or absent), CODE_DEPLOY, EXTERNAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_controller: Option<String>,
    /// The task sets of a CODE_DEPLOY (or EXTERNAL) service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_sets: Vec<TaskSetInfo>,
}

/// A task set of a CODE_DEPLOY service (deploy-kinds/README §1.1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskSetInfo {
    /// `ecs-svc/…`.
    pub id: String,
    /// PRIMARY (serves production), ACTIVE, DRAINING.
    #[serde(default)]
    pub status: Option<String>,
    /// The CodeDeploy deployment that created it (`d-…`).
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub task_definition: Option<String>,
    #[serde(default)]
    pub created_at_ms: Option<i64>,
}

/// What ECS Express Mode manages for a service revision (DescribeServiceRevisions
/// `ecsManagedResources`), reduced to what a verdict tells: where the service answers, which alarms
/// watch it, where its logs go, and what failed to provision (deploy-kinds/README §2.3).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManagedResources {
    pub revision_arn: String,
    /// The ingress paths' endpoints (`https://…`).
    #[serde(default)]
    pub endpoints: Vec<String>,
    #[serde(default)]
    pub log_groups: Vec<String>,
    #[serde(default)]
    pub alarms: Vec<ManagedAlarm>,
    /// Resources in FAILED state, each `kind: reason`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ManagedAlarm {
    /// The alarm's name (the last part of its ARN), as CloudWatch and `triggeredAlarmNames` call it.
    pub name: String,
    /// The managed resource's status (PROVISIONING, ACTIVE, …): not the alarm's state.
    #[serde(default)]
    pub status: Option<String>,
}

/// `deploymentConfiguration`, reduced to what the gate shows and what its timeout warning adds up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentConfigInfo {
    /// ROLLING, BLUE_GREEN, LINEAR, CANARY (other values kept as text).
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub bake_time_minutes: Option<i32>,
    /// LINEAR: (stepPercent, stepBakeTimeInMinutes).
    #[serde(default)]
    pub linear: Option<(f64, i32)>,
    /// CANARY: (canaryPercent, canaryBakeTimeInMinutes).
    #[serde(default)]
    pub canary: Option<(f64, i32)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookConfig>,
    /// Alarms that roll the deployment back, when enabled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<String>,
    /// `earlySuccessCriteria`, when enabled (ROLLING only): ECS completes the deployment once this
    /// share of the desired tasks is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_success: Option<EarlySuccess>,
}

/// `deploymentConfiguration.earlySuccessCriteria` of an enabled configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EarlySuccess {
    /// 0–100: the share of the desired count that must be healthy.
    #[serde(default)]
    pub healthy_percent: Option<i32>,
    /// BLOCKING (old tasks removed before SUCCESSFUL) or DEFERRED (removed after, in the background).
    #[serde(default)]
    pub cleanup: Option<String>,
}

impl DeploymentConfigInfo {
    /// The minutes a deployment waits by configuration alone: the bake time plus, for LINEAR, each
    /// step's bake (one step per `stepPercent` of traffic), for CANARY the canary's bake. Hooks, task
    /// starts and health checks come on top, so this is a floor, not an estimate.
    pub fn configured_wait_minutes(&self) -> i64 {
        let mut m = i64::from(self.bake_time_minutes.unwrap_or(0).max(0));
        if let Some((pct, bake)) = self.linear
            && pct > 0.0
        {
            // Traffic moves in steps of `pct` until 100 %; each step but the last bakes.
            let steps = (100.0 / pct).ceil() as i64;
            m += (steps - 1).max(0) * i64::from(bake.max(0));
        }
        if let Some((_, bake)) = self.canary {
            m += i64::from(bake.max(0));
        }
        m
    }
}

/// One configured lifecycle hook.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookConfig {
    /// AWS_LAMBDA or PAUSE.
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(default)]
    pub target_arn: Option<String>,
    #[serde(default)]
    pub stages: Vec<String>,
    /// `timeoutConfiguration.timeoutInMinutes` (ECS's default when unset: 1440).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<i32>,
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
    /// `lifecycleHookDetails`: the hooks of the current stage and their states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookDetail>,
    /// The share of production traffic requested for the new revision (0–100), during traffic shifts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_time_minutes: Option<i32>,
    /// `updatedAt` (epoch ms): when the deployment last changed, e.g. entered its stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at_ms: Option<i64>,
    /// When the snapshot was taken (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
    /// `targetServiceRevision.arn`: `…:service-revision/<cluster>/<service>/<19 digits>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_revision_arn: Option<String>,
}

/// One `lifecycleHookDetails` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookDetail {
    /// "ecs-{type}-{id}".
    #[serde(default)]
    pub hook_id: Option<String>,
    /// AWS_LAMBDA or PAUSE.
    #[serde(default)]
    pub target_type: Option<String>,
    /// The Lambda function (unset for PAUSE).
    #[serde(default)]
    pub target_arn: Option<String>,
    /// AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    /// ROLLBACK or CONTINUE: what ECS does when the hook times out.
    #[serde(default)]
    pub timeout_action: Option<String>,
}
