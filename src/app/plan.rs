//! The gate's lifecycle decisions as plain data: pure functions over snapshots and engines, unit-tested
//! without AWS (`plan/tests.rs`). [`super::wait`] executes what they return — one function per plan —
//! the way it executes the handler's [`super::handler::Action`]s in the loop.
//!
//! - [`deployment_to_judge`]: which deployment of a service the gate judges.
//! - [`service_deployments_to_list`], [`service_deployments_to_describe`]: how the gate finds ECS's
//!   account of our deployment (the engine then pins which one is ours).
//! - [`subscribe_for`], [`on_setup_failure`]: whether to subscribe, and for which services, or fall
//!   back to polling.
//! - [`diagnosis`]: what to read to explain a failure, stage by stage.
//! - which services to roll back and how: [`super::rollback`].

use crate::aws::Kind;
use crate::engine::ServiceSnapshot;
use crate::engine::snapshot::AwsLogsConfig;

use super::drive::Driver;

/// The deployment a gate judges, and what to tell the user about the choice.
#[derive(Debug, PartialEq, Eq)]
pub struct Judged {
    pub id: String,
    pub warning: Option<String>,
}

/// Why a service has no deployment to judge.
#[derive(Debug, PartialEq, Eq)]
pub enum NotJudgeable {
    /// `--deployment-id` named one the service does not list (the ids it lists).
    NotAmong(Vec<String>),
    /// No PRIMARY deployment (CODE_DEPLOY or EXTERNAL controller).
    NoPrimary,
}

/// The deployment named by `--deployment-id`, or else the PRIMARY one — unless the PRIMARY is already a
/// circuit-breaker rollback, which means the deployment the pipeline just started failed before the
/// gate began: judging the rollback would report its success as ours, so the one it replaced is judged.
pub fn deployment_to_judge(snap: &ServiceSnapshot, named: Option<&str>) -> Result<Judged, NotJudgeable> {
    if let Some(id) = named {
        if snap.deployments.iter().any(|d| d.id == id) {
            return Ok(Judged { id: id.to_string(), warning: None });
        }
        return Err(NotJudgeable::NotAmong(snap.deployments.iter().map(|d| d.id.clone()).collect()));
    }
    let primary = snap.deployments.iter().find(|d| d.status == "PRIMARY").ok_or(NotJudgeable::NoPrimary)?;
    if primary.rollout_state_reason.as_deref().and_then(crate::engine::rollback_target).is_some()
        && let Some(replaced) = snap
            .deployments
            .iter()
            .filter(|d| d.status != "PRIMARY")
            .max_by_key(|d| d.created_at_ms.unwrap_or(i64::MIN))
    {
        return Ok(Judged {
            id: replaced.id.clone(),
            warning: Some(format!(
                "the PRIMARY deployment {} is a rollback; judging the deployment it replaced, {}",
                primary.id, replaced.id
            )),
        });
    }
    Ok(Judged { id: primary.id.clone(), warning: None })
}

/// The units whose recent service deployments are listed at the start (ListServiceDeployments): those
/// whose service names a current service deployment that is not known to be ours, and that are not
/// decided otherwise than FAILED (a failure is still worth explaining: ECS's statusReason names the
/// hook or the alarms). A service that names none is not asked (the API does not know its deployment:
/// one from before late 2024), so a gate whose current service deployment is ours costs no call.
/// `snaps[i]` is unit `i`'s starting snapshot.
pub fn service_deployments_to_list(d: &Driver, snaps: &[ServiceSnapshot]) -> Vec<usize> {
    d.engines()
        .filter(|(i, e)| {
            let names_one = snaps.get(*i).is_some_and(|s| s.current_service_deployment.is_some());
            let settled = e.verdict().is_some_and(|v| v.outcome != crate::engine::Outcome::Failed);
            names_one && !settled && e.service_deployment().is_none()
        })
        .map(|(i, _)| i)
        .collect()
}

/// Of a listing, the service deployments still to describe: not the current ones (described already).
pub fn not_yet_described(mut listed: Vec<String>, snaps: &[ServiceSnapshot]) -> Vec<String> {
    listed.retain(|a| !snaps.iter().any(|s| s.current_service_deployment.as_deref() == Some(a.as_str())));
    listed
}

/// What a reconcile describes (DescribeServiceDeployments, one call): each service's current service
/// deployment and the `pinned` ones (ours, where the service no longer names it), each once.
pub fn service_deployments_to_describe(snaps: &[ServiceSnapshot], pinned: Vec<String>) -> Vec<String> {
    let mut arns: Vec<String> = snaps.iter().filter_map(|s| s.current_service_deployment.clone()).collect();
    arns.extend(pinned);
    arns.sort_unstable();
    arns.dedup();
    arns
}

/// The units to subscribe for, or `None` for no subscription: `--poll`, or every service decided by the
/// API already (COMPLETED or FAILED before the gate began).
pub fn subscribe_for(poll: bool, d: &Driver) -> Option<Vec<usize>> {
    let undecided = d.undecided();
    (!poll && !undecided.is_empty()).then_some(undecided)
}

/// What a failed subscription setup means for the gate.
#[derive(Debug, PartialEq, Eq)]
pub enum SetupFailure {
    /// Not allowed to create the queue or the rule, or the default event bus is full: judge from the ECS
    /// API alone.
    FallBackToPolling,
    /// Anything else ends the command (after teardown).
    Fatal,
}

pub fn on_setup_failure(kind: Kind) -> SetupFailure {
    match kind {
        Kind::AccessDenied | Kind::LimitExceeded => SetupFailure::FallBackToPolling,
        _ => SetupFailure::Fatal,
    }
}

/// One read that explains a failure. Reads of a stage are independent: they run concurrently.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The unit's stopped tasks: the verdict came before ecsgate saw any (FAILED when the gate
    /// started, or a FAILED event first).
    StoppedTasks(usize),
    /// A target group that failed the unit's tasks: its health check and reason codes.
    TargetHealth(String),
    /// A failed task's task definition (essential flags decide the culprit; awslogs says where its
    /// logs are). Read only now: a gate that succeeds needs none.
    TaskDefinition(String),
    /// The culprit container's last log lines.
    LogTail { unit: usize, cfg: AwsLogsConfig, container: String, task: String },
    /// A failed Lambda hook's last log lines.
    HookLog { unit: usize, function: String },
    /// The state reasons of the alarms that rolled a deployment back.
    Alarms { unit: usize, names: Vec<String> },
    /// What ECS Express Mode manages for an Express service's revision: its endpoint (said on success
    /// too), alarms and log group.
    ManagedResources { unit: usize, revision: String },
}

/// What to read, stage by stage, to explain the failed units: each stage needs what the one before fed
/// (stopped tasks name task definitions and target groups; task definitions name the log group).
/// `stage` 0, 1, 2; nothing past 2.
pub fn diagnosis(d: &Driver, stage: usize) -> Vec<Read> {
    let failed = d.failed();
    let mut reads = Vec::new();
    if stage == 0 {
        // Express services, whatever their verdict: a success prints the endpoint, a rollback names
        // the managed alarms (read at stage 2) and a culprit may need the managed log group.
        for (i, e) in d.engines() {
            if let (true, Some(rev)) = (e.wants_managed_resources(), e.target_revision()) {
                reads.push(Read::ManagedResources { unit: i, revision: rev.to_string() });
            }
        }
    }
    for &i in &failed {
        let e = d.engine(i);
        match stage {
            0 if e.verdict().is_some_and(|v| v.failed_tasks.is_empty()) => reads.push(Read::StoppedTasks(i)),
            1 => {
                reads.extend(e.failing_target_groups().into_iter().map(Read::TargetHealth));
                for arn in e.missing_task_definitions() {
                    let r = Read::TaskDefinition(arn);
                    if !reads.contains(&r) {
                        reads.push(r);
                    }
                }
            }
            2 => {
                let Some(v) = e.verdict() else { continue };
                let tail = (|| {
                    let culprit = v.culprit.as_ref()?;
                    let container = culprit.container.clone()?;
                    let td_arn = v.failed_tasks.first()?.task_definition.clone()?;
                    let from_td =
                        e.task_definition(&td_arn)?.containers.iter().find(|x| x.name == container)?.awslogs.clone();
                    // Express services log to the group ECS manages, with awslogs' default prefix.
                    let cfg = from_td.or_else(|| {
                        e.managed_log_group().map(|g| AwsLogsConfig {
                            group: g.to_string(),
                            region: None,
                            stream_prefix: Some("ecs".into()),
                        })
                    })?;
                    Some(Read::LogTail { unit: i, cfg, container, task: culprit.task_arn.clone() })
                })();
                reads.extend(tail);
                if let Some(function) = e.failed_lambda_hook() {
                    let function = crate::engine::diagnose::lambda_function_name(&function).to_string();
                    reads.push(Read::HookLog { unit: i, function });
                }
                let names = e.triggered_alarms().to_vec();
                if !names.is_empty() {
                    reads.push(Read::Alarms { unit: i, names });
                }
            }
            _ => {}
        }
    }
    reads
}

/// How many diagnosis stages there are.
pub const DIAGNOSIS_STAGES: usize = 3;

#[cfg(test)]
mod tests;
