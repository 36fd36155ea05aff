//! Elastic Load Balancing reads for the diagnosis: a target group's health check settings
//! (DescribeTargetGroups) and its targets' health (DescribeTargetHealth), for tasks the load balancer
//! failed.

use super::{Clients, ErrInfo, err_info};
use crate::engine::snapshot::{TargetHealthEntry, TargetHealthInfo};

pub async fn target_health(c: &Clients, target_group_arn: &str) -> Result<TargetHealthInfo, ErrInfo> {
    let groups =
        c.elb.describe_target_groups().target_group_arns(target_group_arn).send().await.map_err(|e| err_info(&e))?;
    let tg = groups.target_groups().first();
    let health =
        c.elb.describe_target_health().target_group_arn(target_group_arn).send().await.map_err(|e| err_info(&e))?;
    Ok(TargetHealthInfo {
        target_group_arn: target_group_arn.to_string(),
        protocol: tg.and_then(|t| t.health_check_protocol()).map(|p| p.as_str().to_string()),
        port: tg.and_then(|t| t.health_check_port()).map(str::to_string),
        path: tg.and_then(|t| t.health_check_path()).map(str::to_string),
        matcher: tg.and_then(|t| t.matcher()).and_then(|m| m.http_code().or(m.grpc_code())).map(str::to_string),
        targets: health
            .target_health_descriptions()
            .iter()
            .map(|d| TargetHealthEntry {
                id: d.target().and_then(|t| t.id()).unwrap_or_default().to_string(),
                port: d.target().and_then(|t| t.port()),
                state: d.target_health().and_then(|h| h.state()).map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: d.target_health().and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
                description: d.target_health().and_then(|h| h.description()).map(str::to_string),
            })
            .collect(),
    })
}

/// The longest deregistration delay (`deregistration_delay.timeout_seconds`, ELB's default 300) of
/// these target groups: how long old tasks drain after a deployment, for `--timeout auto`.
pub async fn deregistration_delay(c: &Clients, target_groups: &[String]) -> Result<Option<i64>, ErrInfo> {
    let mut longest: Option<i64> = None;
    for tg in target_groups {
        let out =
            c.elb.describe_target_group_attributes().target_group_arn(tg).send().await.map_err(|e| err_info(&e))?;
        let secs = out
            .attributes()
            .iter()
            .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
            .and_then(|a| a.value())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(300);
        longest = Some(longest.map_or(secs, |l| l.max(secs)));
    }
    Ok(longest)
}
