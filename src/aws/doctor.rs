//! `ecsgate doctor`'s probes: calls that change nothing and still tell whether a permission is granted.
//!
//! AWS authorizes a call before it validates the request's content or looks up what it names, so a
//! probe is built to fail *after* authorization: a rule that does not exist, a schedule expression
//! that cannot parse, a queue attribute out of range. AccessDenied then means "not granted", any other
//! answer "granted". Should a probe ever succeed, what it created is deleted at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::{Clients, ErrInfo, Kind, err_info};

/// The name every probe uses: `ecsgate-` so that `ecsgate gc` would find anything left by accident.
pub const PROBE_NAME: &str = "ecsgate-doctor-probe";

/// One probe's answer.
#[derive(Debug)]
pub struct Probe {
    pub permission: &'static str,
    pub answer: Result<(), ErrInfo>,
    /// Granted, but what it named does not exist (the cluster or service the gates will use).
    pub missing: Option<String>,
}

impl Probe {
    fn new<T, E, R>(permission: &'static str, r: &Result<T, aws_sdk_ecs::error::SdkError<E, R>>) -> Self
    where
        E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        Probe { permission, answer: r.as_ref().map(|_| ()).map_err(err_info), missing: None }
    }
}

/// What an answer says about the permission (pure).
#[derive(Debug, PartialEq)]
pub enum Granted {
    Yes,
    No,
    /// No answer from past authorization (the endpoint unreachable, credentials missing, AWS failing).
    Unknown,
}

pub fn granted(answer: &Result<(), ErrInfo>) -> Granted {
    match answer {
        Ok(()) => Granted::Yes,
        Err(e) if e.kind == Kind::AccessDenied => Granted::No,
        Err(e) if e.kind == Kind::Credentials || e.kind == Kind::Transient || e.kind == Kind::Throttled => {
            Granted::Unknown
        }
        // NotFound, a validation error, a quota: all said after the caller was authorized.
        Err(_) => Granted::Yes,
    }
}

/// The ECS reads every gate makes (ListTasks is [`first_call`]). `service`: (cluster, service) when the user named one.
pub async fn ecs_reads(c: &Clients, cluster: &str, service: Option<&str>) -> Vec<Probe> {
    let mut out = Vec::new();
    let r = c.ecs.describe_tasks().cluster(cluster).tasks(PROBE_NAME).send().await;
    out.push(Probe::new("ecs:DescribeTasks", &r));
    if let Some(name) = service {
        let r = c.ecs.describe_services().cluster(cluster).services(name).send().await;
        let task_definition =
            r.as_ref().ok().and_then(|o| o.services().first()).and_then(|s| s.task_definition()).map(str::to_string);
        let mut p = Probe::new("ecs:DescribeServices", &r);
        if r.as_ref().is_ok_and(|o| o.services().iter().all(|s| s.status() == Some("INACTIVE"))) {
            p.missing = Some(format!("service {name} not found in cluster {cluster}"));
        }
        out.push(p);
        if let Some(td) = task_definition {
            let r = c.ecs.describe_task_definition().task_definition(td).send().await;
            out.push(Probe::new("ecs:DescribeTaskDefinition", &r));
        }
        let r = c.ecs.list_service_deployments().cluster(cluster).service(name).max_results(1).send().await;
        out.push(Probe::new("ecs:ListServiceDeployments", &r));
    }
    out
}

/// Who the credentials are: (account, ARN). GetCallerIdentity needs no permission.
pub async fn identity(c: &Clients) -> Result<(String, String), ErrInfo> {
    let out = c.sts.get_caller_identity().send().await.map_err(|e| err_info(&e))?;
    Ok((out.account().unwrap_or_default().to_string(), out.arn().unwrap_or_default().to_string()))
}

/// The calls of the per-run subscription (queue mode), each probed without creating anything. The
/// probes carry what ecsgate's own calls carry, so a policy scoped with EventBridge's condition keys
/// (`events:source`, `events:TargetArn`) judges them as it judges a gate: the pattern's source is
/// `aws.ecs`, the target a queue `ecsgate-…` of `account`.
pub async fn subscription(c: &Clients, account: &str) -> Vec<Probe> {
    let mut out = Vec::new();
    // A pattern whose source reads but whose detail-type is not an array: EventBridge refuses it
    // after authorizing PutRule (the condition keys are read from the pattern).
    let pattern = r#"{"source":["aws.ecs"],"detail-type":"not-an-array"}"#;
    let r = c.events.put_rule().name(PROBE_NAME).event_pattern(pattern).send().await;
    if r.is_ok() {
        let _ = c.events.delete_rule().name(PROBE_NAME).send().await;
    }
    out.push(Probe::new("events:PutRule", &r));
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("ecsgate")
        .arn(format!("arn:aws:sqs:{}:{account}:{PROBE_NAME}", c.region))
        .build()
        .expect("id and arn are set");
    let r = c.events.put_targets().rule(PROBE_NAME).targets(target).send().await;
    out.push(Probe::new("events:PutTargets", &r));
    let r = c.events.remove_targets().rule(PROBE_NAME).ids("ecsgate").send().await;
    out.push(Probe::new("events:RemoveTargets", &r));
    let r = c.events.delete_rule().name(PROBE_NAME).send().await;
    out.push(Probe::new("events:DeleteRule", &r));
    // A message size below SQS's minimum (1,024): refused after authorizing CreateQueue.
    let r = c
        .sqs
        .create_queue()
        .queue_name(PROBE_NAME)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::MaximumMessageSize, "1")
        .send()
        .await;
    if let Ok(o) = &r
        && let Some(url) = o.queue_url()
    {
        let _ = c.sqs.delete_queue().queue_url(url).send().await;
    }
    out.push(Probe::new("sqs:CreateQueue", &r));
    out
}

/// How many rules the default event bus holds (one page of 100 at a time).
pub async fn default_bus_rules(c: &Clients) -> Result<usize, ErrInfo> {
    let mut n = 0;
    let mut token = None;
    loop {
        let out = c.events.list_rules().limit(100).set_next_token(token).send().await.map_err(|e| err_info(&e))?;
        n += out.rules().len();
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(n);
        }
    }
}

/// The first call, `ecs:ListTasks` on the cluster (a read every gate makes): proves the credentials,
/// finds the cluster, and reads AWS's clock from the answer's `Date` header. Returns the probe and the
/// clock's offset (`true`: ours is ahead), `None` when the answer carried no date.
pub async fn first_call(c: &Clients, cluster: &str) -> (Probe, Option<(Duration, bool)>) {
    let seen = ServerDate::default();
    let r = c.ecs.list_tasks().cluster(cluster).max_results(1).customize().interceptor(seen.clone()).send().await;
    let now = SystemTime::now();
    let date = seen.0.lock().ok().and_then(|d| d.clone());
    let offset = date
        .and_then(|d| aws_smithy_types::DateTime::from_str(&d, aws_smithy_types::date_time::Format::HttpDate).ok())
        .and_then(|t| {
            let server = SystemTime::try_from(t).ok()?;
            Some(match now.duration_since(server) {
                Ok(ahead) => (ahead, true),
                Err(behind) => (behind.duration(), false),
            })
        });
    let mut p = Probe::new("ecs:ListTasks", &r);
    if let Err(e) = &p.answer
        && e.code.as_deref() == Some("ClusterNotFoundException")
    {
        p.answer = Ok(());
        p.missing = Some(format!("cluster {cluster} not found"));
    }
    (p, offset)
}

/// Keeps the `Date` header of the answer it sees.
#[derive(Debug, Clone, Default)]
struct ServerDate(Arc<Mutex<Option<String>>>);

impl Intercept for ServerDate {
    fn name(&self) -> &'static str {
        "ServerDate"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(d) = context.response().headers().get("date")
            && let Ok(mut slot) = self.0.lock()
        {
            *slot = Some(d.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: Kind, code: &str) -> Result<(), ErrInfo> {
        Err(ErrInfo { kind, code: Some(code.into()), message: "m".into(), request_id: None })
    }

    #[test]
    fn only_access_denied_means_a_permission_is_missing() {
        assert_eq!(granted(&Ok(())), Granted::Yes);
        assert_eq!(granted(&err(Kind::AccessDenied, "AccessDeniedException")), Granted::No);
        // The probes are built to be refused after authorization.
        assert_eq!(granted(&err(Kind::NotFound, "ResourceNotFoundException")), Granted::Yes);
        assert_eq!(granted(&err(Kind::Other, "ValidationException")), Granted::Yes);
        assert_eq!(granted(&err(Kind::Other, "InvalidAttributeValue")), Granted::Yes);
        assert_eq!(granted(&err(Kind::LimitExceeded, "LimitExceededException")), Granted::Yes);
        // No answer from past authorization: unknown, never "granted".
        assert_eq!(granted(&err(Kind::Transient, "InternalError")), Granted::Unknown);
        assert_eq!(granted(&err(Kind::Credentials, "x")), Granted::Unknown);
    }
}
