//! The temporary event subscription: an SQS queue and an EventBridge rule on the default bus that
//! delivers this service's ECS events to it. Created per run, tagged so orphans can be found, and deleted
//! on every exit path by [`Teardown`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use aws_sdk_sqs::types::QueueAttributeName;

use super::{Clients, ErrInfo, Kind, arn_parts, err_info};
use crate::engine::time::{format_rfc3339_millis, now_millis};

pub const PREFIX: &str = "ecsgate-";
pub const TARGET_ID: &str = "ecsgate";
pub const TAG_CREATOR: &str = "creator";
pub const TAG_SERVICE: &str = "ecsgate:service";
pub const TAG_CREATED: &str = "ecsgate:created-at";

pub struct Plan {
    pub name: String,
    pub queue_arn: String,
    pub rule_arn: String,
    pub pattern: String,
    pub policy: String,
    pub tags: Vec<(String, String)>,
}

/// A service the subscription delivers events for.
#[derive(Debug, Clone)]
pub struct Watched {
    pub service_arn: String,
    pub cluster_arn: String,
    pub name: String,
    pub deployment_id: String,
}

/// Names, ARNs, pattern and policy, all derivable before any call: the queue policy needs the rule's
/// ARN and the target needs the queue's, so computing them lets the queue and the rule be created
/// concurrently. One queue and one rule serve every service of the gate.
pub fn plan(services: &[Watched]) -> Plan {
    let first = services.first().map(|w| w.service_arn.as_str()).unwrap_or_default();
    // Tag values hold at most 256 characters: the first service in full, the rest by name.
    let names: Vec<&str> = services.iter().map(|w| w.name.as_str()).collect();
    let mut tags =
        vec![("ecsgate:deployment".into(), services.first().map(|w| w.deployment_id.clone()).unwrap_or_default())];
    if services.len() > 1 {
        tags.push(("ecsgate:services".into(), truncate(&names.join(","), 256)));
    }
    plan_with(first, event_pattern(services), tags)
}

/// The subscription of `ecsgate run`: the task events of our `startedBy` token, and nothing else. The
/// token is unique to the run, so it alone selects our tasks (whichever cluster: the rule is on this
/// account's bus). `about` is the ARN the resources are tagged with (the service the run borrowed from,
/// or its task definition); it also gives the account and region.
pub fn plan_run(about: &str, started_by: &str) -> Plan {
    let pattern = serde_json::json!({
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"startedBy": [started_by]},
    })
    .to_string();
    plan_with(about, pattern, vec![("ecsgate:run".into(), started_by.to_string())])
}

/// The subscription of a gate on a CODE_DEPLOY service: CodeDeploy's deployment events of its
/// application and deployment group (ours, and the rollback CodeDeploy starts with a new id), and the
/// service's task events (the green task set's tasks).
pub fn plan_codedeploy(w: &Watched, application: &str, group: &str) -> Plan {
    let pattern = serde_json::json!({"$or": [
        {"source": ["aws.codedeploy"], "detail-type": ["CodeDeploy Deployment State-change Notification"],
         "detail": {"application": [application], "deploymentGroup": [group]}},
        {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
         "detail": {"clusterArn": [w.cluster_arn], "group": [format!("service:{}", w.name)]}},
    ]})
    .to_string();
    plan_with(&w.service_arn, pattern, vec![("ecsgate:deployment".into(), w.deployment_id.clone())])
}

/// Names, ARNs (in the account and region of `about`), the queue policy and the tags every
/// subscription carries.
fn plan_with(about: &str, pattern: String, extra_tags: Vec<(String, String)>) -> Plan {
    let (partition, region, account) = arn_parts(about).unwrap_or(("aws", "us-east-1", "000000000000"));
    let suffix: String = (0..12).map(|_| fastrand::alphanumeric().to_ascii_lowercase()).collect();
    let name = format!("{PREFIX}{suffix}");
    let queue_arn = format!("arn:{partition}:sqs:{region}:{account}:{name}");
    let rule_arn = format!("arn:{partition}:events:{region}:{account}:rule/{name}");
    let mut tags = vec![
        (TAG_CREATOR.into(), "ecsgate".into()),
        (TAG_SERVICE.into(), about.to_string()),
        (TAG_CREATED.into(), format_rfc3339_millis(now_millis())),
    ];
    tags.extend(extra_tags);
    Plan {
        pattern,
        policy: serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "EcsgateRuleOnly",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}
            }]
        })
        .to_string(),
        tags,
        name,
        queue_arn,
        rule_arn,
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// EventBridge's default limit on a rule's pattern (adjustable to 4096; we stay under the default).
pub const PATTERN_LIMIT: usize = 2048;

/// Deployment and service-action events by service ARN (verbatim: old short ARNs exist); lifecycle-hook
/// events by `detail.serviceArn` (their `resources` is the service deployment); task events by
/// cluster ARN and `group` (they carry no service ARN), one entry per cluster so that a group of one
/// cluster does not match the same name in another. Not by startedBy: tasks of the old deployment
/// matter for the timeline, and filtering stays in the engine.
///
/// When the exact pattern would pass [`PATTERN_LIMIT`] (about 20 services), it matches whole clusters
/// instead (service ARNs by prefix, any `service:` group): more events reach the queue, and the engines
/// set aside what is not theirs.
pub fn event_pattern(services: &[Watched]) -> String {
    let exact = pattern(services, false);
    if exact.len() <= PATTERN_LIMIT { exact } else { pattern(services, true) }
}

fn pattern(services: &[Watched], by_cluster: bool) -> String {
    use serde_json::{Value, json};
    let mut clusters: Vec<(&str, Vec<String>)> = Vec::new();
    for w in services {
        let group = format!("service:{}", w.name);
        match clusters.iter_mut().find(|(c, _)| *c == w.cluster_arn) {
            Some((_, groups)) => groups.push(group),
            None => clusters.push((&w.cluster_arn, vec![group])),
        }
    }
    let resources: Vec<Value> = if by_cluster {
        let mut v: Vec<Value> = Vec::new();
        for w in services {
            // New-format ARNs (`service/<cluster>/<name>`) by their cluster's prefix; old short ones as they are.
            let item = match w.service_arn.rsplit_once('/') {
                Some((prefix, _)) if prefix.matches('/').count() >= 1 => json!({"prefix": format!("{prefix}/")}),
                _ => json!(w.service_arn),
            };
            if !v.contains(&item) {
                v.push(item);
            }
        }
        v
    } else {
        services.iter().map(|w| json!(w.service_arn)).collect()
    };
    let mut or = vec![
        json!({"detail-type": ["ECS Deployment State Change", "ECS Service Action"], "resources": resources.clone()}),
    ];
    // Hook events name the service deployment in `resources`; their service is `detail.serviceArn`.
    or.push(json!({"detail-type": ["ECS Hook State Change"], "detail": {"serviceArn": resources}}));
    for (cluster, groups) in clusters {
        let group: Value = if by_cluster { json!([{"prefix": "service:"}]) } else { json!(groups) };
        or.push(json!({"detail-type": ["ECS Task State Change"], "detail": {"clusterArn": [cluster], "group": group}}));
    }
    json!({"source": ["aws.ecs"], "$or": or}).to_string()
}

pub struct Subscription {
    pub queue_url: String,
    pub rule_name: String,
}

/// What was asked for, registered *before* each create call: teardown deletes by name, so a resource
/// whose create answer was lost (error after success, interruption) is still deleted.
#[derive(Default, Debug, Clone)]
pub struct Teardown {
    pub rule: Option<String>,
    pub target_added: bool,
    pub queue_name: Option<String>,
    pub queue_url: Option<String>,
}

pub async fn create(c: &Clients, p: &Plan, td: &mut Teardown) -> Result<Subscription, (&'static str, ErrInfo)> {
    td.rule = Some(p.name.clone());
    td.queue_name = Some(p.name.clone());
    let attrs: HashMap<QueueAttributeName, String> = [
        (QueueAttributeName::SqsManagedSseEnabled, "true".to_string()),
        (QueueAttributeName::MessageRetentionPeriod, "3600".to_string()),
        (QueueAttributeName::VisibilityTimeout, "60".to_string()),
        (QueueAttributeName::Policy, p.policy.clone()),
    ]
    .into_iter()
    .collect();
    let queue = c
        .sqs
        .create_queue()
        .queue_name(&p.name)
        .set_attributes(Some(attrs))
        .set_tags(Some(p.tags.iter().cloned().collect()))
        .send();
    let tags: Vec<Tag> = p.tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect();
    let rule = c
        .events
        .put_rule()
        .name(&p.name)
        .event_pattern(&p.pattern)
        .state(RuleState::Enabled)
        .description("ecsgate: temporary, deleted when the wait ends (ecsgate gc deletes leftovers)")
        .set_tags(Some(tags))
        .send();
    let (queue, rule) = tokio::join!(queue, rule);
    let queue_url = queue.map_err(|e| ("sqs:CreateQueue", err_info(&e)))?.queue_url().unwrap_or_default().to_string();
    td.queue_url = Some(queue_url.clone());
    rule.map_err(|e| ("events:PutRule", err_info(&e)))?;
    td.target_added = true;
    let target = Target::builder()
        .id(TARGET_ID)
        .arn(&p.queue_arn)
        .build()
        .map_err(|e| ("events:PutTargets", ErrInfo::other(e.to_string())))?;
    let out = c
        .events
        .put_targets()
        .rule(&p.name)
        .targets(target)
        .send()
        .await
        .map_err(|e| ("events:PutTargets", err_info(&e)))?;
    if out.failed_entry_count() > 0 {
        let msg = out.failed_entries().first().and_then(|f| f.error_message()).unwrap_or("target rejected").to_string();
        return Err(("events:PutTargets", ErrInfo::other(msg)));
    }
    Ok(Subscription { queue_url, rule_name: p.name.clone() })
}

/// What teardown could not delete, with the commands that delete it.
#[derive(Debug, Default)]
pub struct Leftovers(pub Vec<String>);

impl Teardown {
    /// Deletes what was created; `hurry` (a second signal) means one attempt each, no back-off.
    pub async fn run(&self, c: &Clients, hurry: bool) -> Leftovers {
        let attempts = if hurry { 1 } else { 4 };
        let rule = async {
            let Some(name) = &self.rule else { return None };
            let ok = retry(attempts, || async {
                if self.target_added {
                    match c.events.remove_targets().rule(name).ids(TARGET_ID).send().await {
                        Ok(_) => {}
                        Err(e) if err_info(&e).kind == Kind::NotFound => return Ok(()),
                        Err(e) => return Err(err_info(&e)),
                    }
                }
                match c.events.delete_rule().name(name).send().await {
                    Ok(_) => Ok(()),
                    Err(e) if err_info(&e).kind == Kind::NotFound => Ok(()),
                    Err(e) => Err(err_info(&e)),
                }
            })
            .await;
            ok.err().map(|e| rule_leftover(name, &e.to_string(), &c.region))
        };
        let queue = async {
            let name = self.queue_name.as_ref()?;
            let ok = retry(attempts, || async {
                let url = match &self.queue_url {
                    Some(u) => u.clone(),
                    None => match c.sqs.get_queue_url().queue_name(name).send().await {
                        Ok(o) => o.queue_url().unwrap_or_default().to_string(),
                        Err(e) if err_info(&e).kind == Kind::NotFound => return Ok(()),
                        Err(e) => return Err(err_info(&e)),
                    },
                };
                match c.sqs.delete_queue().queue_url(&url).send().await {
                    Ok(_) => Ok(()),
                    Err(e) if err_info(&e).kind == Kind::NotFound => Ok(()),
                    Err(e) => Err(err_info(&e)),
                }
            })
            .await;
            ok.err().map(|e| queue_leftover(name, &e.to_string(), &c.region))
        };
        let (r, q) = tokio::join!(rule, queue);
        Leftovers(r.into_iter().chain(q).collect())
    }

    /// Everything registered, as leftovers: what to print when teardown ran out of time.
    pub fn everything(&self, why: &str, region: &str) -> Leftovers {
        let rule = self.rule.as_deref().map(|n| rule_leftover(n, why, region));
        let queue = self.queue_name.as_deref().map(|n| queue_leftover(n, why, region));
        Leftovers(rule.into_iter().chain(queue).collect())
    }
}

fn rule_leftover(name: &str, why: &str, region: &str) -> String {
    format!(
        "EventBridge rule {name} ({why}); delete it with: aws events remove-targets --region {region} --rule {name} --ids {TARGET_ID} && aws events delete-rule --region {region} --name {name} (or: ecsgate gc --region {region})"
    )
}

fn queue_leftover(name: &str, why: &str, region: &str) -> String {
    format!(
        "SQS queue {name} ({why}); delete it with: aws sqs delete-queue --region {region} --queue-url $(aws sqs get-queue-url --region {region} --queue-name {name} --query QueueUrl --output text) (or: ecsgate gc --region {region})"
    )
}

impl Teardown {
    /// Whether anything was registered for deletion.
    pub fn is_empty(&self) -> bool {
        self.rule.is_none() && self.queue_name.is_none()
    }
}

async fn retry<F, Fut>(attempts: u32, mut f: F) -> Result<(), ErrInfo>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), ErrInfo>>,
{
    let mut delay = Duration::from_millis(200);
    let mut last = None;
    for i in 0..attempts {
        match f().await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        if i + 1 < attempts {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Err(last.expect("at least one attempt"))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn watched(cluster: &str, name: &str) -> Watched {
        Watched {
            service_arn: format!("arn:aws:ecs:eu-west-1:123456789012:service/{cluster}/{name}"),
            cluster_arn: format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{cluster}"),
            name: name.into(),
            deployment_id: format!("ecs-svc/{name}"),
        }
    }

    fn parse(p: &str) -> Value {
        serde_json::from_str(p).unwrap()
    }

    #[test]
    fn the_pattern_names_each_service_and_each_clusters_task_groups() {
        let p = parse(&event_pattern(&[watched("shop", "api"), watched("shop", "worker"), watched("ops", "cron")]));
        assert_eq!(p["source"], json!(["aws.ecs"]));
        let or = p["$or"].as_array().unwrap();
        let arns = json!([
            "arn:aws:ecs:eu-west-1:123456789012:service/shop/api",
            "arn:aws:ecs:eu-west-1:123456789012:service/shop/worker",
            "arn:aws:ecs:eu-west-1:123456789012:service/ops/cron"
        ]);
        assert_eq!(or[0]["resources"], arns);
        assert_eq!(or[1]["detail"]["serviceArn"], arns, "hook events by detail.serviceArn");
        // One task entry per cluster: a group of one cluster must not match the same name in another.
        assert_eq!(or[2]["detail"]["clusterArn"], json!(["arn:aws:ecs:eu-west-1:123456789012:cluster/shop"]));
        assert_eq!(or[2]["detail"]["group"], json!(["service:api", "service:worker"]));
        assert_eq!(or[3]["detail"]["group"], json!(["service:cron"]));
        assert_eq!(or.len(), 4);
    }

    #[test]
    fn past_the_pattern_limit_whole_clusters_are_matched_and_the_pattern_fits() {
        let many: Vec<Watched> =
            (0..40).map(|i| watched("shop", &format!("service-with-a-long-name-{i:02}"))).collect();
        assert!(pattern(&many, false).len() > PATTERN_LIMIT, "the exact pattern would not fit");
        let p = event_pattern(&many);
        assert!(p.len() <= PATTERN_LIMIT, "{} characters", p.len());
        let p = parse(&p);
        let or = p["$or"].as_array().unwrap();
        assert_eq!(or[0]["resources"], json!([{"prefix": "arn:aws:ecs:eu-west-1:123456789012:service/shop/"}]));
        assert_eq!(or[2]["detail"]["group"], json!([{"prefix": "service:"}]));
        // Under the limit the exact pattern is kept.
        let few = &many[..2];
        assert_eq!(event_pattern(few), pattern(few, false));
    }

    #[test]
    fn the_plan_names_queue_and_rule_alike_in_the_services_account_and_region() {
        let p = plan(&[watched("shop", "api"), watched("shop", "worker")]);
        assert!(p.name.starts_with(PREFIX) && p.name.len() == PREFIX.len() + 12, "{}", p.name);
        assert_eq!(p.queue_arn, format!("arn:aws:sqs:eu-west-1:123456789012:{}", p.name));
        assert_eq!(p.rule_arn, format!("arn:aws:events:eu-west-1:123456789012:rule/{}", p.name));
        let tag = |k: &str| p.tags.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(tag(TAG_CREATOR), Some("ecsgate"));
        assert_eq!(tag(TAG_SERVICE), Some("arn:aws:ecs:eu-west-1:123456789012:service/shop/api"));
        assert_eq!(tag("ecsgate:services"), Some("api,worker"));
        assert!(tag(TAG_CREATED).is_some_and(|t| crate::engine::time::parse_rfc3339_millis(t).is_some()));
        assert_ne!(plan(&[watched("shop", "api")]).name, p.name, "each gate its own names");
    }

    #[test]
    fn the_queue_policy_admits_only_our_rule_to_send() {
        let p = plan(&[watched("shop", "api")]);
        let policy = parse(&p.policy);
        let st = policy["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0]["Effect"], "Allow");
        assert_eq!(st[0]["Principal"], json!({"Service": "events.amazonaws.com"}));
        assert_eq!(st[0]["Action"], "sqs:SendMessage");
        assert_eq!(st[0]["Resource"], json!(p.queue_arn));
        assert_eq!(st[0]["Condition"], json!({"ArnEquals": {"aws:SourceArn": p.rule_arn}}));
    }
}
