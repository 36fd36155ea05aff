//! ECS reads: DescribeServices, ListTasks, DescribeTasks, DescribeTaskDefinition.

use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{DesiredStatus, LogDriver};

use super::{Clients, ErrInfo, err_info};
use crate::engine::TaskRecord;
use crate::engine::event::{ContainerRecord, Meta};
use crate::engine::snapshot::{
    AwsLogsConfig, ContainerDefinitionInfo, DeploymentConfigInfo, DeploymentSnapshot, HookConfig, HookDetail,
    ServiceEventMsg, ServiceSnapshot, TaskDefinitionInfo,
};
use crate::engine::time::now_millis;

fn ms(d: Option<&DateTime>) -> Option<i64> {
    d.and_then(|d| d.to_millis().ok())
}

/// Why DescribeServices gave no usable service.
pub enum DescribeError {
    ClusterNotFound,
    ServiceNotFound(String),
    Aws(ErrInfo),
}

pub async fn describe_service(
    c: &Clients,
    cluster: &str,
    service: &str,
) -> Result<(ServiceSnapshot, String), DescribeError> {
    let (mut found, missing) = describe_services(c, cluster, &[service.to_string()]).await?;
    match found.pop() {
        Some(x) => Ok(x),
        None => Err(DescribeError::ServiceNotFound(
            missing.into_iter().next().map(|(_, r)| r).unwrap_or_else(|| "MISSING".into()),
        )),
    }
}

/// DescribeServices of up to 10 services of one cluster in one call (the API's limit; callers chunk).
/// Returns each found service with its status, and each missing one as (name or ARN, reason).
pub async fn describe_services(
    c: &Clients,
    cluster: &str,
    services: &[String],
) -> Result<(Vec<(ServiceSnapshot, String)>, Vec<(String, String)>), DescribeError> {
    let out =
        c.ecs.describe_services().cluster(cluster).set_services(Some(services.to_vec())).send().await.map_err(|e| {
            let info = err_info(&e);
            if info.code.as_deref() == Some("ClusterNotFoundException") {
                DescribeError::ClusterNotFound
            } else {
                DescribeError::Aws(info)
            }
        })?;
    let found =
        out.services().iter().map(|s| (service_snapshot(s), s.status().unwrap_or("ACTIVE").to_string())).collect();
    let missing = out
        .failures()
        .iter()
        .map(|f| (f.arn().unwrap_or_default().to_string(), f.reason().unwrap_or("MISSING").to_string()))
        .collect();
    Ok((found, missing))
}

/// One service asked for in [`describe_many`].
pub struct Wanted<'a> {
    pub cluster: &'a str,
    /// What DescribeServices is asked for (name or ARN, as given).
    pub describe_as: &'a str,
    /// The service's name, which its snapshot's ARN must end in.
    pub name: &'a str,
}

/// What DescribeServices said of one wanted service.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Found, with its status (`ACTIVE`, `DRAINING`, `INACTIVE`).
    Found(Box<ServiceSnapshot>, String),
    /// Not in the answer: the failure's reason (`MISSING`).
    Missing(String),
    ClusterNotFound,
}

/// The one DescribeServices batcher: any services of any clusters, one call per cluster and ten
/// services (the API's limit). Answers in the order asked; an AWS error ends the batch.
pub async fn describe_many(c: &Clients, wanted: &[Wanted<'_>]) -> Result<Vec<Lookup>, ErrInfo> {
    let mut out: Vec<Lookup> = vec![Lookup::Missing("MISSING".into()); wanted.len()];
    for chunk in batches(wanted) {
        let names: Vec<String> = chunk.iter().map(|&i| wanted[i].describe_as.to_string()).collect();
        match describe_services(c, wanted[chunk[0]].cluster, &names).await {
            Ok((found, missing)) => {
                for &i in &chunk {
                    out[i] = lookup(wanted[i].name, &found, &missing);
                }
            }
            Err(DescribeError::ClusterNotFound) => chunk.iter().for_each(|&i| out[i] = Lookup::ClusterNotFound),
            Err(DescribeError::ServiceNotFound(r)) => chunk.iter().for_each(|&i| out[i] = Lookup::Missing(r.clone())),
            Err(DescribeError::Aws(e)) => return Err(e),
        }
    }
    Ok(out)
}

/// The calls [`describe_many`] makes: indices of `wanted` grouped by cluster (in order of first
/// appearance), ten at most a call.
fn batches(wanted: &[Wanted<'_>]) -> Vec<Vec<usize>> {
    let mut clusters: Vec<&str> = Vec::new();
    for w in wanted {
        if !clusters.contains(&w.cluster) {
            clusters.push(w.cluster);
        }
    }
    let mut out = Vec::new();
    for cluster in clusters {
        let of: Vec<usize> = (0..wanted.len()).filter(|&i| wanted[i].cluster == cluster).collect();
        out.extend(of.chunks(10).map(<[usize]>::to_vec));
    }
    out
}

/// A wanted service in one call's answer, by the name its ARN ends in.
fn lookup(name: &str, found: &[(ServiceSnapshot, String)], missing: &[(String, String)]) -> Lookup {
    match found.iter().find(|(s, _)| crate::engine::arn_name(&s.service_arn) == name) {
        Some((s, status)) => Lookup::Found(Box::new(s.clone()), status.clone()),
        None => Lookup::Missing(
            missing
                .iter()
                .find(|(arn, _)| crate::engine::arn_name(arn) == name)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| "MISSING".into()),
        ),
    }
}

pub fn service_snapshot(s: &aws_sdk_ecs::types::Service) -> ServiceSnapshot {
    ServiceSnapshot {
        service_arn: s.service_arn().unwrap_or_default().to_string(),
        cluster_arn: s.cluster_arn().map(str::to_string),
        service_name: s.service_name().map(str::to_string),
        resource_management_type: s.resource_management_type().map(|t| t.as_str().to_string()),
        deployment_controller: s.deployment_controller().map(|d| d.r#type().as_str().to_string()),
        task_sets: s
            .task_sets()
            .iter()
            .map(|t| crate::engine::snapshot::TaskSetInfo {
                id: t.id().unwrap_or_default().to_string(),
                status: t.status().map(str::to_string),
                external_id: t.external_id().map(str::to_string),
                task_definition: t.task_definition().map(str::to_string),
                created_at_ms: ms(t.created_at()),
            })
            .collect(),
        at_ms: Some(now_millis()),
        deployments: s
            .deployments()
            .iter()
            .map(|d| DeploymentSnapshot {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().unwrap_or_default().to_string(),
                task_definition: d.task_definition().map(str::to_string),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_string),
                desired_count: i64::from(d.desired_count()),
                pending_count: i64::from(d.pending_count()),
                running_count: i64::from(d.running_count()),
                failed_tasks: i64::from(d.failed_tasks()),
                created_at_ms: ms(d.created_at()),
                updated_at_ms: ms(d.updated_at()),
            })
            .collect(),
        current_service_deployment: s.current_service_deployment().map(str::to_string),
        deployment_configuration: s.deployment_configuration().and_then(deployment_config),
        health_check_grace_seconds: s.health_check_grace_period_seconds(),
        target_groups: s.load_balancers().iter().filter_map(|l| l.target_group_arn().map(str::to_string)).collect(),
        // The newest 20: enough to explain a failure, small enough to record at every reconcile.
        events: s
            .events()
            .iter()
            .take(20)
            .map(|e| ServiceEventMsg {
                id: e.id().unwrap_or_default().to_string(),
                created_at_ms: ms(e.created_at()),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

/// The parts of `deploymentConfiguration` the gate shows; `None` for a plain rolling update (nothing to say).
fn deployment_config(c: &aws_sdk_ecs::types::DeploymentConfiguration) -> Option<DeploymentConfigInfo> {
    let info = DeploymentConfigInfo {
        strategy: c.strategy().map(|s| s.as_str().to_string()),
        bake_time_minutes: c.bake_time_in_minutes(),
        linear: c
            .linear_configuration()
            .map(|l| (l.step_percent().unwrap_or(10.0), l.step_bake_time_in_minutes().unwrap_or(6))),
        canary: c
            .canary_configuration()
            .map(|l| (l.canary_percent().unwrap_or(5.0), l.canary_bake_time_in_minutes().unwrap_or(10))),
        hooks: c
            .lifecycle_hooks()
            .iter()
            .map(|h| HookConfig {
                target_type: h.target_type().map(|t| t.as_str().to_string()),
                target_arn: h.hook_target_arn().map(str::to_string),
                stages: h.lifecycle_stages().iter().map(|s| s.as_str().to_string()).collect(),
                timeout_minutes: h.timeout_configuration().and_then(|t| t.timeout_in_minutes()),
            })
            .collect(),
        alarms: c.alarms().filter(|a| a.enable()).map(|a| a.alarm_names().to_vec()).unwrap_or_default(),
        early_success: c.early_success_criteria().filter(|e| e.enable()).map(|e| {
            crate::engine::snapshot::EarlySuccess {
                healthy_percent: e.healthy_percent(),
                cleanup: e.source_service_revision_cleanup().map(|x| x.as_str().to_string()),
            }
        }),
    };
    (info != DeploymentConfigInfo::default()).then_some(info)
}

/// Stopped tasks started by a deployment (ListTasks keeps them about an hour).
pub async fn list_stopped_tasks(c: &Clients, cluster: &str, started_by: &str) -> Result<Vec<String>, ErrInfo> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .ecs
            .list_tasks()
            .cluster(cluster)
            .started_by(started_by)
            .desired_status(DesiredStatus::Stopped)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| err_info(&e))?;
        arns.extend(out.task_arns().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(arns);
        }
    }
}

pub async fn describe_tasks(c: &Clients, cluster: &str, arns: &[String]) -> Result<Vec<TaskRecord>, ErrInfo> {
    let mut out = Vec::new();
    for chunk in arns.chunks(100) {
        let res = c
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| err_info(&e))?;
        out.extend(res.tasks().iter().map(task_record));
    }
    Ok(out)
}

pub(crate) fn task_record(t: &aws_sdk_ecs::types::Task) -> TaskRecord {
    TaskRecord {
        meta: Meta::default(),
        task_arn: t.task_arn().unwrap_or_default().to_string(),
        cluster_arn: t.cluster_arn().map(str::to_string),
        group: t.group().map(str::to_string),
        last_status: t.last_status().map(str::to_string),
        desired_status: t.desired_status().map(str::to_string),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()).filter(|c| !c.is_empty()),
        stopped_reason: t.stopped_reason().map(str::to_string).filter(|r| !r.is_empty()),
        started_by: t.started_by().map(str::to_string),
        task_definition_arn: t.task_definition_arn().map(str::to_string),
        // 0 means "not reported" (the emulator): let the lifecycle order decide then.
        version: Some(t.version()).filter(|v| *v > 0),
        containers: t
            .containers()
            .iter()
            .map(|c| ContainerRecord {
                name: c.name().unwrap_or_default().to_string(),
                last_status: c.last_status().map(str::to_string),
                exit_code: c.exit_code().map(i64::from),
                reason: c.reason().map(str::to_string),
                image: c.image().map(str::to_string),
            })
            .collect(),
        created_at_ms: ms(t.created_at()),
        started_at_ms: ms(t.started_at()),
        stopping_at_ms: ms(t.stopping_at()),
        stopped_at_ms: ms(t.stopped_at()),
        updated_at_ms: None,
    }
}

pub async fn describe_task_definition(c: &Clients, arn: &str) -> Result<TaskDefinitionInfo, ErrInfo> {
    let out = c.ecs.describe_task_definition().task_definition(arn).send().await.map_err(|e| err_info(&e))?;
    let td = out.task_definition();
    Ok(TaskDefinitionInfo {
        arn: td.and_then(|t| t.task_definition_arn()).unwrap_or(arn).to_string(),
        containers: td
            .map(|t| t.container_definitions())
            .unwrap_or_default()
            .iter()
            .map(|c| ContainerDefinitionInfo {
                name: c.name().unwrap_or_default().to_string(),
                // The API default: a container is essential unless it says otherwise.
                essential: c.essential().unwrap_or(true),
                awslogs: c.log_configuration().filter(|l| *l.log_driver() == LogDriver::Awslogs).and_then(|l| {
                    let o = l.options()?;
                    Some(AwsLogsConfig {
                        group: o.get("awslogs-group")?.clone(),
                        region: o.get("awslogs-region").cloned(),
                        stream_prefix: o.get("awslogs-stream-prefix").cloned(),
                    })
                }),
            })
            .collect(),
    })
}

/// DescribeServiceDeployments of service-deployment ARNs (up to 20 a call). Deployments older than the
/// ServiceDeployment API (late 2024) come back as failures and are simply absent.
pub async fn describe_service_deployments(
    c: &Clients,
    arns: &[String],
) -> Result<Vec<crate::engine::snapshot::ServiceDeploymentSnapshot>, ErrInfo> {
    let mut out = Vec::new();
    for chunk in arns.chunks(20) {
        let res = c
            .ecs
            .describe_service_deployments()
            .set_service_deployment_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| err_info(&e))?;
        out.extend(res.service_deployments().iter().map(|d| {
            crate::engine::snapshot::ServiceDeploymentSnapshot {
                arn: d.service_deployment_arn().unwrap_or_default().to_string(),
                status: d.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                status_reason: d.status_reason().map(str::to_string),
                lifecycle_stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
                strategy: d.deployment_configuration().and_then(|c| c.strategy()).map(|s| s.as_str().to_string()),
                circuit_breaker: d.deployment_circuit_breaker().map(|b| {
                    (b.status().map(|s| s.as_str().to_string()).unwrap_or_default(), b.failure_count(), b.threshold())
                }),
                triggered_alarms: d.alarms().map(|a| a.triggered_alarm_names().to_vec()).unwrap_or_default(),
                rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_string),
                hooks: d
                    .lifecycle_hook_details()
                    .iter()
                    .map(|h| HookDetail {
                        hook_id: h.hook_id().map(str::to_string),
                        target_type: h.target_type().map(|t| t.as_str().to_string()),
                        target_arn: h.target_arn().map(str::to_string),
                        status: h.status().map(|s| s.as_str().to_string()),
                        expires_at_ms: ms(h.expires_at()),
                        timeout_action: h.timeout_action().map(|a| a.as_str().to_string()),
                    })
                    .collect(),
                production_weight: d.target_service_revision().and_then(|r| r.requested_production_traffic_weight()),
                bake_time_minutes: d.deployment_configuration().and_then(|c| c.bake_time_in_minutes()),
                updated_at_ms: ms(d.updated_at()),
                at_ms: Some(now_millis()),
                target_revision_arn: d.target_service_revision().and_then(|r| r.arn()).map(str::to_string),
            }
        }));
    }
    Ok(out)
}

/// The service's service deployments (ListServiceDeployments, newest first as the API lists them),
/// created since `since_ms` when given: how ecsgate finds the service deployment of a deployment that is
/// no longer the service's current one (it was rolled back, or another one started).
pub async fn list_service_deployments(
    c: &Clients,
    cluster: &str,
    service: &str,
    since_ms: Option<i64>,
) -> Result<Vec<String>, ErrInfo> {
    let mut req = c.ecs.list_service_deployments().cluster(cluster).service(service).max_results(20);
    if let Some(t) = since_ms {
        req = req.created_at(aws_sdk_ecs::types::CreatedAt::builder().after(DateTime::from_millis(t)).build());
    }
    let out = req.send().await.map_err(|e| err_info(&e))?;
    Ok(out.service_deployments().iter().filter_map(|d| d.service_deployment_arn().map(str::to_string)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w<'a>(cluster: &'a str, name: &'a str) -> Wanted<'a> {
        Wanted { cluster, describe_as: name, name }
    }

    #[test]
    fn services_are_described_ten_a_call_per_cluster_in_the_order_clusters_first_appear() {
        let names: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
        let mut wanted: Vec<Wanted> = names.iter().map(|n| w("a", n)).collect();
        wanted.insert(1, w("b", "x"));
        let b = batches(&wanted);
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!(b[0], [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(b[1], [11, 12]);
        assert_eq!(b[2], [1]);
    }

    #[test]
    fn a_wanted_service_is_found_by_the_name_its_arn_ends_in_or_missing_with_the_reason() {
        let snap =
            ServiceSnapshot { service_arn: "arn:aws:ecs:us-east-1:1:service/shop/api".into(), ..Default::default() };
        let found = vec![(snap, "DRAINING".to_string())];
        let missing = vec![("arn:aws:ecs:us-east-1:1:service/shop/worker".to_string(), "MISSING".to_string())];
        assert!(matches!(lookup("api", &found, &missing), Lookup::Found(_, s) if s == "DRAINING"));
        assert!(matches!(lookup("worker", &found, &missing), Lookup::Missing(r) if r == "MISSING"));
        // "ap" is not "api": names match whole.
        assert!(matches!(lookup("ap", &found, &missing), Lookup::Missing(_)));
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::super::testing::{block_on, clients, wire_timestamps};
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!("{}/tests/fixtures/modern/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_described_service_maps_its_deployments_and_blue_green_configuration() {
        let mut v = fixture("describe_services__blue-green-pause-hook-api-docs.json");
        v["services"][0]["currentServiceDeployment"] =
            serde_json::json!("arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/x/abc");
        let c = clients(200, &v.to_string());
        let (snap, status) = block_on(describe_service(&c, "my-cluster", "ecs-service-with-pause-hook")).ok().unwrap();
        assert_eq!(status, "ACTIVE");
        assert_eq!(snap.service_name.as_deref(), Some("ecs-service-with-pause-hook"));
        assert_eq!(snap.cluster_arn.as_deref(), Some("arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster"));
        assert_eq!(
            snap.current_service_deployment.as_deref(),
            Some("arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/x/abc")
        );
        let d = &snap.deployments[0];
        assert_eq!((d.id.as_str(), d.status.as_str()), ("ecs-svc/9223370604025455196", "PRIMARY"));
        assert_eq!((d.desired_count, d.running_count, d.pending_count), (2, 2, 0));
        assert_eq!(d.created_at_ms, Some(1_746_547_200_000));
        let cfg = snap.deployment_configuration.expect("blue/green is worth saying");
        assert_eq!(cfg.strategy.as_deref(), Some("BLUE_GREEN"));
        assert_eq!(cfg.hooks.len(), 1);
        assert_eq!(cfg.hooks[0].target_type.as_deref(), Some("PAUSE"));
        assert_eq!(cfg.hooks[0].stages, ["POST_PRODUCTION_TRAFFIC_SHIFT"]);
    }

    #[test]
    fn a_plain_rolling_service_keeps_no_configuration_and_only_its_newest_twenty_events() {
        let events: Vec<serde_json::Value> = (0..25)
            .map(|i| serde_json::json!({"id": format!("e{i}"), "createdAt": 1_746_547_200.0 - f64::from(i), "message": format!("m{i}")}))
            .collect();
        let body = serde_json::json!({"services": [{
            "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/s", "serviceName": "s", "status": "DRAINING",
            "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
            "deployments": [], "events": events}], "failures": []});
        let c = clients(200, &body.to_string());
        let (snap, status) = block_on(describe_service(&c, "c", "s")).ok().unwrap();
        assert_eq!(status, "DRAINING");
        assert_eq!(snap.deployment_configuration, None);
        assert_eq!(snap.events.len(), 20);
        assert_eq!(snap.events[0].message, "m0");
    }

    #[test]
    fn a_service_deployment_maps_its_hooks_stage_and_revision() {
        let mut v = fixture("describe_service_deployments__paused-at-pause-hook-api-docs.json");
        wire_timestamps(&mut v);
        let c = clients(200, &v.to_string());
        let sds = block_on(describe_service_deployments(&c, &["arn:x".into()])).unwrap();
        let sd = &sds[0];
        assert_eq!(sd.status, "IN_PROGRESS");
        let hook = sd.hooks.iter().find(|h| h.status.as_deref() == Some("AWAITING_ACTION")).expect("the paused hook");
        assert_eq!(hook.target_type.as_deref(), Some("PAUSE"));
        assert_eq!(hook.expires_at_ms, crate::engine::time::parse_rfc3339_millis("2026-05-06T16:03:00Z"));
        assert_eq!(sd.updated_at_ms, crate::engine::time::parse_rfc3339_millis("2026-05-06T16:05:00Z"));
        assert!(sd.at_ms.is_some(), "stamped when read");
    }

    #[test]
    fn a_missing_cluster_is_its_own_answer() {
        let c = clients(400, r#"{"__type": "ClusterNotFoundException", "message": "Cluster not found."}"#);
        assert!(matches!(block_on(describe_service(&c, "nope", "s")), Err(DescribeError::ClusterNotFound)));
    }
}
