//! AWS plumbing: SDK calls only. Everything here turns SDK types into the engine's plain types
//! ([`crate::engine::ServiceSnapshot`], [`crate::engine::TaskRecord`], …) at the boundary, so the engine
//! never sees an SDK type (architecture invariant), and every error becomes an [`ErrInfo`] with its code.

pub mod alarms;
pub mod codedeploy;
pub mod deploy;
pub mod doctor;
pub mod ecs;
pub mod elb;
pub mod express;
pub mod gc;
pub mod hub;
pub mod logs;
pub mod queue;
pub mod run;
pub mod subscription;
#[cfg(test)]
pub(crate) mod testing;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::AppError;

/// The SDK clients of one run, sharing one configuration.
#[derive(Clone)]
pub struct Clients {
    pub ecs: aws_sdk_ecs::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// GetCallerIdentity only (`doctor`): who the credentials are, in which account.
    pub sts: aws_sdk_sts::Client,
    /// CodeDeploy blue/green deployments of CODE_DEPLOY services.
    pub codedeploy: aws_sdk_codedeploy::Client,
    /// The hub's table (Query) and where it is published (GetParameter).
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// The region the clients talk to (for the commands printed about leftovers).
    pub region: String,
}

/// Connect timeout: a host that does not accept the connection fails fast (the SDK's own default).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// One attempt of any call: must exceed the 20 s SQS long poll; a stalled connection is cut here.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// A call with its retries. The loop never waits for one anyway (signals and `--timeout` are served
/// while calls are in flight); this bounds the background receiver and the teardown's attempts.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(65);

/// Loads credentials and region the way the AWS CLI does: an explicit `--profile` wins over keys in the
/// environment (the default chain would take the environment's first); otherwise the default chain
/// (environment, `AWS_PROFILE`, SSO, web identity, container and instance roles). `--region` beats
/// `AWS_REGION`, which beats the profile's region. `AWS_ENDPOINT_URL` (and the per-service variants)
/// are honoured by aws-config itself.
pub async fn load(region: Option<String>, profile: Option<String>) -> Result<Clients, AppError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build(),
    );
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r));
    }
    if let Some(p) = profile {
        if !profile_exists(&p) {
            return Err(AppError::usage(format!("AWS profile {p} not found in {}", profile_files().join(" or ")))
                .with_hint("check --profile against `aws configure list-profiles`; AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE move the files"));
        }
        let creds = aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(&p).build();
        loader = loader.profile_name(p).credentials_provider(creds);
    }
    let conf = loader.load().await;
    let Some(region) = conf.region().map(|r| r.to_string()) else {
        return Err(AppError::usage("no AWS Region configured")
            .with_hint("pass --region, or set AWS_REGION (or a region in your AWS profile)"));
    };
    Ok(Clients::from_conf(&conf, region))
}

impl Clients {
    /// Every client from one loaded configuration (`load`; tests build them from the emulator's).
    pub fn from_conf(conf: &aws_config::SdkConfig, region: String) -> Clients {
        let conf = conf.clone();
        Clients {
            ecs: aws_sdk_ecs::Client::new(&conf),
            sqs: aws_sdk_sqs::Client::new(&conf),
            events: aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(&conf).retry_config(control_plane_retries()).build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            codedeploy: aws_sdk_codedeploy::Client::new(&conf),
            dynamodb: aws_sdk_dynamodb::Client::new(&conf),
            ssm: aws_sdk_ssm::Client::new(&conf),
            region,
        }
    }
}

/// EventBridge's rule calls (PutRule, PutTargets, RemoveTargets, DeleteRule) share 50 calls per second
/// per account and region, which cannot be raised: a burst of releases throttles them. The SDK's standard
/// strategy (exponential back-off with full jitter, so gates that collided spread out) with more
/// attempts than its default three, bounded to a few seconds in all — the setup and the teardown stay
/// within their budgets.
pub fn control_plane_retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(3))
}

fn profile_files() -> Vec<String> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "~".into());
    vec![
        std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| format!("{home}/.aws/config")),
        std::env::var("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|_| format!("{home}/.aws/credentials")),
    ]
}

/// Whether `[profile NAME]` (config file) or `[NAME]` (either file) is defined: an unknown profile is a
/// usage error of its own, not a confusing "no region" or "no credentials" later.
fn profile_exists(name: &str) -> bool {
    profile_files().iter().filter_map(|f| std::fs::read_to_string(f).ok()).any(|text| {
        text.lines().filter_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']')).any(|h| {
            let h = h.trim();
            h == name || h.strip_prefix("profile").is_some_and(|rest| rest.trim() == name)
        })
    })
}

/// What kind of failure an AWS call had, as far as the gate's decisions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AccessDenied,
    NotFound,
    Throttled,
    /// A quota that a retry does not lift: the default event bus holds its maximum number of rules
    /// (EventBridge's LimitExceededException; 300 per bus by default, shared with the whole account).
    LimitExceeded,
    /// Network trouble, timeouts, 5xx: worth retrying.
    Transient,
    Credentials,
    Other,
}

#[derive(Debug, Clone)]
pub struct ErrInfo {
    pub kind: Kind,
    pub code: Option<String>,
    pub message: String,
    /// AWS's request id, for a support case.
    pub request_id: Option<String>,
}

impl ErrInfo {
    pub fn other(message: impl Into<String>) -> Self {
        ErrInfo { kind: Kind::Other, code: None, message: message.into(), request_id: None }
    }
}

impl std::fmt::Display for ErrInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{c}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        match &self.request_id {
            Some(id) => write!(f, " (request id {id})"),
            None => Ok(()),
        }
    }
}

pub fn err_info<E, R>(e: &SdkError<E, R>) -> ErrInfo
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let full = DisplayErrorContext(e).to_string();
    let code = e.code().map(str::to_string);
    let message = e.message().map(str::to_string).unwrap_or_else(|| error_chain(e));
    let request_id = e.meta().extra("aws_request_id").map(str::to_string);
    let kind = match (e, code.as_deref()) {
        (_, Some(c))
            if c.contains("AccessDenied")
                || c.contains("Unauthorized")
                || c == "AuthorizationError"
                || c.contains("NotAuthorized") =>
        {
            Kind::AccessDenied
        }
        (_, Some(c))
            if c.contains("NotFound")
                || c.contains("NonExistentQueue")
                || c.contains("QueueDoesNotExist")
                || c == "ClusterNotFoundException" =>
        {
            Kind::NotFound
        }
        (_, Some(c)) if c.contains("Throttl") || c.contains("TooManyRequests") || c == "RequestLimitExceeded" => {
            Kind::Throttled
        }
        (_, Some("LimitExceededException")) => Kind::LimitExceeded,
        (_, Some(c))
            if c.contains("InternalError")
                || c.contains("InternalFailure")
                || c.contains("ServiceUnavailable")
                || c == "ServerException" =>
        {
            Kind::Transient
        }
        (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_), _)
            if !full.to_lowercase().contains("credential") =>
        {
            Kind::Transient
        }
        _ if full.to_lowercase().contains("credential") => Kind::Credentials,
        _ => Kind::Other,
    };
    ErrInfo { kind, code, message, request_id }
}

/// An error and its sources as one sentence (`dispatch failure: … : Connection refused (os error 111)`):
/// every level's Display, never a Debug dump; a level that only repeats the next one is dropped.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.dedup();
    // An outer message that merely contains the inner ones is dropped in favour of them.
    let keep: Vec<&String> = parts
        .iter()
        .enumerate()
        .filter(|(i, p)| !parts[i + 1..].iter().any(|q| p.contains(q.as_str())))
        .map(|(_, p)| p)
        .collect();
    keep.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(": ")
}

/// Account, region and partition from any ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:…`).
pub fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut it = arn.split(':');
    let (_, partition, _, region, account) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    Some((partition, region, account))
}

/// Turns an SDK error on a call the gate cannot do without into the user's error.
pub fn fatal(op: &str, permission: &str, e: ErrInfo) -> AppError {
    match e.kind {
        Kind::AccessDenied => AppError::aws(format!("not authorized to call {permission}: {e}"))
            .with_hint(format!("grant {permission} to the role ecsgate runs as (README: IAM policy)")),
        Kind::Credentials => AppError::aws(format!("no AWS credentials found ({op}): {}", e.message))
            .with_hint("configure credentials: environment variables, --profile, SSO, or a role (e.g. aws-actions/configure-aws-credentials)"),
        Kind::Throttled | Kind::Transient if e.code.is_none() => AppError::aws(format!("{op} failed: {e}"))
            .with_hint("the AWS endpoint could not be reached; check the network, proxy settings, --region and AWS_ENDPOINT_URL"),
        Kind::Throttled | Kind::Transient => AppError::aws(format!("{op} failed: {e}"))
            .with_hint("AWS is throttling or failing; the deployment itself goes on, retry the wait"),
        Kind::LimitExceeded => AppError::aws(format!("{op} failed: {e}"))
            .with_hint("an account quota is reached; `ecsgate gc` deletes ecsgate's own leftovers, Service Quotas raises the limit"),
        Kind::NotFound | Kind::Other => AppError::aws(format!("{op} failed: {e}"))
            .with_hint("check --region, --profile and AWS_ENDPOINT_URL; the README lists the permissions ecsgate needs"),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{block_on, clients};
    use super::*;

    /// The ErrInfo of a DescribeServices answered `status` with `body`.
    fn answered(status: u16, body: &str) -> ErrInfo {
        let c = clients(status, body);
        let e = block_on(c.ecs.describe_services().cluster("c").services("s").send()).expect_err("an error");
        err_info(&e)
    }

    #[test]
    fn aws_error_codes_become_the_kinds_the_gate_decides_on() {
        for (code, kind) in [
            ("AccessDeniedException", Kind::AccessDenied),
            ("UnauthorizedOperation", Kind::AccessDenied),
            ("ClusterNotFoundException", Kind::NotFound),
            ("ThrottlingException", Kind::Throttled),
            ("ServerException", Kind::Transient),
            ("InvalidParameterException", Kind::Other),
            ("LimitExceededException", Kind::LimitExceeded),
        ] {
            let e = answered(400, &format!(r#"{{"__type": "{code}", "message": "said {code}"}}"#));
            assert_eq!(e.kind, kind, "{code}");
            assert_eq!(e.code.as_deref(), Some(code));
            assert_eq!(e.message, format!("said {code}"));
        }
    }

    #[test]
    fn an_error_reads_as_its_code_and_message_and_fatal_names_the_permission() {
        let e = answered(400, r#"{"__type": "AccessDeniedException", "message": "no"}"#);
        assert_eq!(e.to_string(), "AccessDeniedException: no");
        let f = fatal("DescribeServices", "ecs:DescribeServices", e);
        assert_eq!(f.exit_code(), crate::exit::AWS_ERROR);
        assert_eq!(f.message, "not authorized to call ecs:DescribeServices: AccessDeniedException: no");
        assert!(f.hint.unwrap().contains("grant ecs:DescribeServices"));
    }

    #[test]
    fn an_error_chain_keeps_each_level_once() {
        #[derive(Debug)]
        struct Level(&'static str, Option<Box<Level>>);
        impl std::fmt::Display for Level {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Level {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|l| l as _)
            }
        }
        let e = Level(
            "dispatch failure",
            Some(Box::new(Level("io error", Some(Box::new(Level("Connection refused (os error 111)", None)))))),
        );
        assert_eq!(error_chain(&e), "dispatch failure: io error: Connection refused (os error 111)");
        let repeat = Level("connect: Connection refused", Some(Box::new(Level("Connection refused", None))));
        assert_eq!(error_chain(&repeat), "connect: Connection refused");
    }

    #[test]
    fn arn_parts_are_partition_region_and_account() {
        assert_eq!(
            arn_parts("arn:aws-cn:ecs:cn-north-1:123456789012:service/c/s"),
            Some(("aws-cn", "cn-north-1", "123456789012"))
        );
        assert_eq!(arn_parts("api"), None);
    }
}
