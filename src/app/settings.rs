//! Flags resolved once into settings: nothing past [`WaitSettings::from_args`] sees a clap type.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{DeployArgs, GateArgs, NotifyOn, OutputFormat, WaitArgs};
use crate::error::AppError;

/// One service to gate, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    /// Cluster name (from `cluster/name`, the ARN, or `--cluster`).
    pub cluster: String,
    /// What DescribeServices is asked for: the name, or the ARN as given.
    pub service: String,
}

impl ServiceRef {
    /// The service's name, without ARN or cluster.
    pub fn name(&self) -> &str {
        crate::engine::arn_name(&self.service)
    }
}

#[derive(Debug, Clone)]
pub struct WaitSettings {
    pub services: Vec<ServiceRef>,
    pub deployment_id: Option<String>,
    pub max_task_failures: u32,
    /// `--timeout` (30m until `auto` is settled from the services' configuration).
    pub timeout: Duration,
    /// `--timeout auto`: settled once the services are described (`Gate::settle_timeout`).
    pub timeout_auto: bool,
    pub record: Option<PathBuf>,
    /// `--force`: an existing `--record` file is replaced (a symlink is removed, never written through).
    pub force: bool,
    /// `--junit FILE`: the verdict as a JUnit XML report too.
    pub junit: Option<PathBuf>,
    /// `--otlp URL` (or `OTEL_EXPORTER_OTLP_ENDPOINT`): the collector the trace goes to.
    pub otlp: Option<String>,
    /// `--github-deployment ENVIRONMENT`, resolved from the environment before anything is created.
    pub github_deployment: Option<super::github_deploy::GithubDeployment>,
    pub poll: bool,
    /// `--hub auto|TABLE`: read events from the hub's table instead of a per-run subscription.
    pub hub: Option<String>,
    pub fail_fast: bool,
    pub timing: Timing,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub output: OutputFormat,
    pub quiet: bool,
    /// `--github` / `ECSGATE_GITHUB`: `None` = detect (GITHUB_ACTIONS=true), `Some(false)` = off there too.
    pub github: Option<bool>,
    pub rollback_on_failure: bool,
    pub notify: Vec<String>,
    pub notify_on: NotifyOn,
    pub until: crate::engine::Until,
    /// `--detach-at`.
    pub detach: Option<crate::cli::DetachArg>,
    /// `--handle`.
    pub handle: PathBuf,
}

/// What `deploy` changes, on top of the wait.
#[derive(Debug, Clone)]
pub struct DeploySettings {
    pub wait: WaitSettings,
    /// CODE_DEPLOY services: `--appspec FILE`'s text, read before anything is created.
    pub appspec: Option<String>,
    /// CODE_DEPLOY services: `--codedeploy-application`, `--codedeploy-deployment-group`.
    pub codedeploy: (Option<String>, Option<String>),
    pub change: TaskDefChange,
    pub force_new_deployment: bool,
    pub desired_count: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskDefChange {
    /// A new revision of the current task definition with these images (container → image).
    Images(Vec<(String, String)>),
    /// A registered revision (`family:revision` or an ARN).
    Existing(String),
    /// A task definition file to register (JSON, as `register-task-definition --cli-input-json` takes).
    File(PathBuf),
    /// The same revision (`--force-new-deployment` alone).
    Same,
    /// An ECS Express Mode service, changed with UpdateExpressGatewayService.
    Express(crate::aws::express::ExpressChange),
}

/// The AppSpec of a CodeDeploy deployment of `task_definition`: `--appspec`'s text with its
/// `<TASK_DEFINITION>` placeholder replaced, or its JSON with every TargetService's TaskDefinition set;
/// without a file, one built from the service's load balancer container and port.
pub fn appspec_with(file: Option<&str>, task_definition: &str, lb: Option<&(String, i32)>) -> Result<String, AppError> {
    use serde_json::{Value, json};
    let Some(text) = file else {
        let Some((container, port)) = lb else {
            return Err(AppError::usage("the service has no load balancer to build an AppSpec from")
                .with_hint("give --appspec FILE (its TargetService names the container and port)"));
        };
        let spec = json!({"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service",
            "Properties": {"TaskDefinition": task_definition, "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port}}}}]});
        return Ok(spec.to_string());
    };
    if text.contains("<TASK_DEFINITION>") {
        return Ok(text.replace("<TASK_DEFINITION>", task_definition));
    }
    let mut v: Value = serde_json::from_str(text).map_err(|e| {
        AppError::usage(format!("--appspec is neither JSON nor holds the <TASK_DEFINITION> placeholder ({e})"))
            .with_hint("give the AppSpec as JSON, or write TaskDefinition: <TASK_DEFINITION> in the YAML")
    })?;
    let mut set = 0;
    for r in v["Resources"].as_array_mut().into_iter().flatten() {
        if let Some(props) =
            r.get_mut("TargetService").and_then(|t| t.get_mut("Properties")).and_then(Value::as_object_mut)
        {
            props.insert("TaskDefinition".into(), json!(task_definition));
            set += 1;
        }
    }
    if set == 0 {
        return Err(AppError::usage("--appspec has no Resources[].TargetService.Properties to deploy the revision to")
            .with_hint("an ECS AppSpec names its service as Resources: [{TargetService: {Type: AWS::ECS::Service, Properties: …}}]"));
    }
    Ok(v.to_string())
}

/// `deploy --express`: one image for the primary container (`IMAGE`, or `NAME=IMAGE` as the other
/// mode takes it), a registered task definition, cpu and memory.
fn express_change(a: &DeployArgs) -> Result<TaskDefChange, AppError> {
    let images: Vec<&str> = a.image.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    let image = match images.as_slice() {
        [] => None,
        // An image reference never holds `=`: what precedes one is a container name.
        [one] => Some(one.split_once('=').map_or(*one, |(_, i)| i).trim().to_string()),
        _ => {
            return Err(AppError::usage("--express takes one --image (the primary container's)")
                .with_hint("an Express service runs one primary container: --image registry/app:1.2.3"));
        }
    };
    let task_definition = a.task_definition.as_deref().map(str::trim).map(str::to_string);
    if task_definition.as_deref().is_some_and(|t| t.ends_with(".json") || t.starts_with("file://")) {
        return Err(AppError::usage(
            "--express takes a registered --task-definition (family:revision or ARN), not a file",
        )
        .with_hint("register it first: aws ecs register-task-definition --cli-input-json file://FILE"));
    }
    let change =
        crate::aws::express::ExpressChange { image, cpu: a.cpu.clone(), memory: a.memory.clone(), task_definition };
    if change == crate::aws::express::ExpressChange::default() {
        return Err(AppError::usage(
            "nothing to deploy: give --image, --task-definition, --cpu or --memory with --express",
        )
        .with_hint("for example: ecsgate deploy --express --service api --image registry/app:1.2.3"));
    }
    Ok(TaskDefChange::Express(change))
}

impl DeploySettings {
    pub fn from_args(a: DeployArgs) -> Result<Self, AppError> {
        let express = if a.express { Some(express_change(&a)?) } else { None };
        let wait = WaitSettings::from_gate(std::slice::from_ref(&a.service), None, false, a.gate)?;
        if wait.services.len() != 1 {
            return Err(AppError::usage(format!("deploy takes one service, {} were given", wait.services.len()))
                .with_hint(
                    "run one ecsgate deploy per service, or deploy them your way and gate them with one ecsgate wait",
                ));
        }
        let change = if let Some(e) = express {
            e
        } else if !a.image.is_empty() {
            TaskDefChange::Images(parse_images(&a.image)?)
        } else if let Some(td) = a.task_definition {
            let td = td.trim().to_string();
            let path = PathBuf::from(td.strip_prefix("file://").unwrap_or(&td));
            if td.ends_with(".json") || td.starts_with("file://") || (!td.starts_with("arn:") && path.is_file()) {
                TaskDefChange::File(path)
            } else {
                TaskDefChange::Existing(td)
            }
        } else if a.force_new_deployment {
            TaskDefChange::Same
        } else {
            return Err(AppError::usage(
                "nothing to deploy: give --image, --task-definition or --force-new-deployment",
            )
            .with_hint("for example: ecsgate deploy --service api --image app=registry/app:1.2.3"));
        };
        let appspec = match &a.appspec {
            Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
                AppError::usage(format!("cannot read --appspec {}: {e}", p.display())).with_hint("check the path")
            })?),
            None => None,
        };
        if let Some(text) = &appspec {
            // Checked now, with a placeholder revision: a bad file is found before anything is created.
            appspec_with(Some(text), "arn:aws:ecs:check", None)?;
        }
        Ok(DeploySettings {
            wait,
            appspec,
            codedeploy: (a.codedeploy_application.clone(), a.codedeploy_deployment_group.clone()),
            change,
            force_new_deployment: a.force_new_deployment,
            desired_count: a.desired_count,
        })
    }
}

/// A task definition file made ready for RegisterTaskDefinition: `describe-task-definition` output is
/// unwrapped, the fields ECS sets itself (ARN, revision, status, …) and nulls are removed. Returns the
/// family and the request body.
pub fn task_definition_file(path: &std::path::Path) -> Result<(String, String), AppError> {
    use serde_json::Value;
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::usage(format!("cannot read --task-definition {name}: {e}")).with_hint("check the path")
    })?;
    let mut v: Value = serde_json::from_str(&text).map_err(|e| {
        AppError::usage(format!("--task-definition {name} is not JSON: {e}"))
            .with_hint("give a task definition as register-task-definition --cli-input-json takes it")
    })?;
    if let Some(inner) = v.get_mut("taskDefinition").map(Value::take) {
        v = inner;
    }
    let Value::Object(mut o) = v else {
        return Err(AppError::usage(format!("--task-definition {name} is not a JSON object"))
            .with_hint("give a task definition as register-task-definition --cli-input-json takes it"));
    };
    for k in [
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    ] {
        o.remove(k);
    }
    fn drop_nulls(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|_, x| !x.is_null());
                m.values_mut().for_each(drop_nulls);
            }
            Value::Array(a) => a.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut v = Value::Object(o);
    drop_nulls(&mut v);
    let family = v.get("family").and_then(Value::as_str).filter(|f| !f.is_empty()).map(str::to_string);
    let has_containers = v.get("containerDefinitions").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    match family {
        Some(f) if has_containers => Ok((f, v.to_string())),
        _ => Err(AppError::usage(format!("--task-definition {name} has no family or no containerDefinitions"))
            .with_hint("a task definition needs both; nothing was changed")),
    }
}

/// `CONTAINER=IMAGE` values (comma-separated or repeated).
pub fn parse_images(values: &[String]) -> Result<Vec<(String, String)>, AppError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let Some((container, image)) = v.split_once('=').filter(|(c, i)| !c.trim().is_empty() && !i.trim().is_empty())
        else {
            return Err(AppError::usage(format!("--image {v}: expected CONTAINER=IMAGE"))
                .with_hint("for example --image app=123456789012.dkr.ecr.eu-west-2.amazonaws.com/app:1.2.3"));
        };
        let (container, image) = (container.trim().to_string(), image.trim().to_string());
        if out.iter().any(|(c, _)| *c == container) {
            return Err(AppError::usage(format!("--image names container {container} twice"))
                .with_hint("give one image per container"));
        }
        out.push((container, image));
    }
    Ok(out)
}

/// The loop's periods and budgets.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Reconcile period until the first event arrives; four times as long once events flow.
    pub reconcile_interval: Duration,
    /// Reconcile period when there is no event subscription.
    pub poll_interval: Duration,
    /// How long the API may keep failing before exit 5.
    pub api_error_budget: Duration,
    /// SQS long-poll seconds.
    pub wait_seconds: i32,
    /// Heartbeat period when no terminal shows progress.
    pub heartbeat: Duration,
}

impl From<&crate::cli::TimingArgs> for Timing {
    fn from(a: &crate::cli::TimingArgs) -> Self {
        Timing {
            reconcile_interval: a.reconcile_interval.max(Duration::from_millis(100)),
            poll_interval: a.poll_interval.max(Duration::from_millis(100)),
            api_error_budget: a.api_error_budget,
            wait_seconds: a.wait_seconds,
            heartbeat: a.heartbeat.max(Duration::from_millis(100)),
        }
    }
}

impl WaitSettings {
    pub fn from_args(a: WaitArgs) -> Result<Self, AppError> {
        WaitSettings::from_gate(&a.service, a.deployment_id, a.fail_fast, a.gate)
    }

    /// The settings of a gate over `service` values (as `--service` takes them), checked before anything
    /// is created.
    pub fn from_gate(
        service: &[String],
        deployment_id: Option<String>,
        fail_fast: bool,
        a: GateArgs,
    ) -> Result<Self, AppError> {
        let (services, arn_region) = parse_services(service, &a.cluster)?;
        if let (Some(flag), Some(arn)) = (a.aws.region.as_deref(), arn_region.as_deref())
            && flag != arn
        {
            return Err(AppError::usage(format!("--region {flag} contradicts the service ARN's region {arn}"))
                .with_hint("a gate watches one region: drop --region, or give the services of that region"));
        }
        // Names are looked up in the region the environment names; an ARN of another region among them
        // would send them to the wrong one ("cluster not found"): say so instead.
        if a.aws.region.is_none()
            && let Some(arn) = arn_region.as_deref()
            && services.iter().any(|r| !r.service.starts_with("arn:"))
            && let Some(env) = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
            && env.trim() != arn
        {
            return Err(AppError::usage(format!(
                "a service ARN names region {arn} while the services given by name are in {env} (AWS_REGION)"
            ))
            .with_hint("a gate watches one region: give every service of that region as an ARN, or pass --region"));
        }
        if let Some(p) = &a.record {
            check_record_path(p, a.force)?;
        }
        if let Ok(t) = std::env::var("ECSGATE_COMMIT_TIME")
            && !t.trim().is_empty()
            && crate::engine::time::parse_rfc3339_millis(t.trim()).is_none()
        {
            return Err(AppError::usage(format!("ECSGATE_COMMIT_TIME {t:?} is not an RFC 3339 time"))
                .with_hint("for example ECSGATE_COMMIT_TIME=$(git show -s --format=%cI HEAD)"));
        }
        if deployment_id.is_some() && services.len() > 1 {
            return Err(AppError::usage(format!(
                "--deployment-id names one deployment, but {} services were given",
                services.len()
            ))
            .with_hint("drop --deployment-id to judge each service's PRIMARY deployment, or give one --service"));
        }
        let (timeout, timeout_auto) = match a.timeout {
            crate::cli::TimeoutArg::Auto => (ROLLING_TIMEOUT, true),
            crate::cli::TimeoutArg::Fixed(d) => (d, false),
        };
        if timeout.is_zero() {
            return Err(AppError::usage("--timeout must be longer than 0s").with_hint("for example --timeout 30m"));
        }
        Ok(WaitSettings {
            services,
            deployment_id,
            max_task_failures: a.max_task_failures,
            timeout,
            timeout_auto,
            record: a.record,
            force: a.force,
            junit: a.junit,
            otlp: match a
                .otlp
                .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|v| !v.trim().is_empty()))
            {
                Some(u) => parse_notify(std::slice::from_ref(&u))
                    .map_err(|e| {
                        AppError::usage(e.message.replacen("--notify", "--otlp", 1))
                            .with_hint("give the collector's OTLP/HTTP endpoint, e.g. http://localhost:4318")
                    })?
                    .into_iter()
                    .next(),
                None => None,
            },
            github_deployment: match &a.github_deployment {
                Some(env_name) => Some(super::github_deploy::GithubDeployment::from_env(env_name, &|k| {
                    std::env::var(k).ok().filter(|v| !v.is_empty())
                })?),
                None => None,
            },
            poll: a.poll,
            hub: a.hub.clone(),
            fail_fast,
            timing: Timing::from(&a.timing),
            // An ARN names its region; --region still wins, as with the AWS CLI.
            region: a.aws.region.or(arn_region),
            profile: a.aws.profile,
            output: a.output.output,
            quiet: a.output.quiet,
            github: a.output.github,
            rollback_on_failure: a.rollback_on_failure,
            notify: parse_notify(&a.notify)?,
            notify_on: a.notify_on,
            until: a.until.into(),
            detach: a.detach_at,
            handle: a.handle.clone(),
        })
    }
}

/// `--record FILE`: never clobbered by surprise — an existing file or a symlink is refused unless
/// `--force`; its directory must exist.
pub fn check_record_path(p: &std::path::Path, force: bool) -> Result<(), AppError> {
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if !dir.is_dir() {
        let why = if dir.exists() { "is not a directory" } else { "does not exist" };
        return Err(AppError::usage(format!("--record {}: {} {why}", p.display(), dir.display()))
            .with_hint("create the directory first, or give a path in an existing one"));
    }
    if let Ok(m) = std::fs::symlink_metadata(p) {
        let what = if m.file_type().is_symlink() {
            "is a symlink"
        } else if m.is_dir() {
            return Err(AppError::usage(format!("--record {}: is a directory", p.display()))
                .with_hint("give a file path, e.g. --record ecsgate-record.jsonl"));
        } else {
            "exists"
        };
        if !force {
            return Err(AppError::usage(format!("--record {}: {what}; not overwritten", p.display())).with_hint(
                "give a new path, or add --force to replace it (a symlink is replaced, never written through)",
            ));
        }
    }
    Ok(())
}

/// `--notify` URLs: http or https with a host and a valid port, checked before anything is created (a
/// typo must not silently drop the team's message at the end of a long gate).
pub fn parse_notify(values: &[String]) -> Result<Vec<String>, AppError> {
    let mut out = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let parts = crate::report::text::url_parts(v);
        let why = match &parts {
            None => Some("not an http(s) URL"),
            Some(p) if !matches!(p.scheme, "http" | "https") => Some("only http and https are posted to"),
            Some(p) if p.host.is_empty() => Some("no host"),
            Some(p) if p.port.is_some_and(|x| !x.parse::<u16>().is_ok_and(|n| n > 0)) => {
                Some("the port must be 1–65535")
            }
            _ if v.parse::<hyper::Uri>().is_err() => Some("not a valid URL"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(AppError::usage(format!("--notify {}: {why}", redact(v)))
                .with_hint("give the webhook URL, e.g. https://hooks.slack.com/services/…"));
        }
        out.push(v.to_string());
    }
    Ok(out)
}

/// A webhook URL is a secret: only its scheme and host are ever printed.
pub fn redact(url: &str) -> String {
    crate::report::text::redact_url(url)
}

/// `api`, `shop/api`, `arn:aws:ecs:eu-west-1:123456789012:service/shop/api` (and old short ARNs
/// `…:service/api`, whose cluster comes from `--cluster`). Values may hold several, comma- or
/// newline-separated; duplicates are dropped. Returns the services and the region their ARNs name.
pub fn parse_services(values: &[String], default_cluster: &str) -> Result<(Vec<ServiceRef>, Option<String>), AppError> {
    let default_cluster = crate::engine::arn_name(default_cluster.trim());
    let mut out: Vec<ServiceRef> = Vec::new();
    let mut regions: Vec<String> = Vec::new();
    for raw in values.iter().flat_map(|v| v.split([',', '\n'])).map(str::trim).filter(|s| !s.is_empty()) {
        let r = if raw.starts_with("arn:") {
            let parts: Vec<&str> = raw.splitn(6, ':').collect();
            let resource = parts.get(5).copied().unwrap_or_default();
            if parts.len() < 6 || parts[2] != "ecs" || !resource.starts_with("service/") {
                return Err(AppError::usage(format!("--service {raw} is not an ECS service ARN"))
                    .with_hint("expected arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME, cluster/name, or a name"));
            }
            if !parts[3].is_empty() && !regions.iter().any(|r| r == parts[3]) {
                regions.push(parts[3].to_string());
            }
            let path: Vec<&str> = resource.split('/').collect();
            let cluster = if path.len() >= 3 { path[1] } else { default_cluster };
            ServiceRef { cluster: cluster.to_string(), service: raw.to_string() }
        } else if let Some((cluster, name)) = raw.split_once('/') {
            if cluster.is_empty() || name.is_empty() || name.contains('/') {
                return Err(AppError::usage(format!("--service {raw}: expected NAME or CLUSTER/NAME"))
                    .with_hint("for example --service api or --service shop/api"));
            }
            ServiceRef { cluster: cluster.to_string(), service: name.to_string() }
        } else {
            ServiceRef { cluster: default_cluster.to_string(), service: raw.to_string() }
        };
        if !out.iter().any(|o| o.cluster == r.cluster && o.name() == r.name()) {
            out.push(r);
        }
    }
    if out.is_empty() {
        return Err(AppError::usage("--service is empty").with_hint("name at least one service, e.g. --service api"));
    }
    if regions.len() > 1 {
        return Err(AppError::usage(format!("the service ARNs span several regions ({})", regions.join(", ")))
            .with_hint("one gate watches one region's default event bus; run one ecsgate per region"));
    }
    Ok((out, regions.pop()))
}

/// A warning when `--timeout` ends the gate before the service's deployment configuration lets it
/// finish: the bake time plus each linear step's or the canary's bake, by configuration alone (hooks,
/// task starts and health checks come on top). With `--until traffic-shifted` the final bake is not
/// waited for. `None` when the timeout is long enough or nothing is configured.
pub fn timeout_warning(
    service: &str,
    cfg: &crate::engine::snapshot::DeploymentConfigInfo,
    timeout: std::time::Duration,
    until: crate::engine::Until,
) -> Option<String> {
    let mut minutes = cfg.configured_wait_minutes();
    if until == crate::engine::Until::TrafficShifted {
        minutes -= i64::from(cfg.bake_time_minutes.unwrap_or(0).max(0));
    }
    if minutes <= 0 || (timeout.as_secs() as i64) >= minutes * 60 {
        return None;
    }
    let strategy = cfg.strategy.as_deref().unwrap_or("the deployment");
    let alternative = if until == crate::engine::Until::TrafficShifted {
        ""
    } else {
        ", or --until traffic-shifted to end at the bake"
    };
    Some(format!(
        "service {service}: {strategy} waits at least {minutes}m by its configuration (bake time and steps), longer than --timeout {}: the gate will time out (exit 3) before ECS decides; pass --timeout {}m{alternative}",
        crate::report::format_elapsed(timeout),
        minutes + 15
    ))
}

/// `--timeout auto` for a rolling deployment (and the timeout before `auto` is settled): the old default.
pub const ROLLING_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What `--timeout auto` adds to the configured bake and steps: task starts, health checks, hooks.
pub const AUTO_MARGIN_MINUTES: i64 = 15;

/// One service, as `--timeout auto` weighs it.
pub struct AutoInput<'a> {
    pub name: &'a str,
    pub cfg: Option<&'a crate::engine::snapshot::DeploymentConfigInfo>,
    /// `healthCheckGracePeriodSeconds`.
    pub grace_seconds: Option<i32>,
    /// The longest deregistration delay of its target groups.
    pub deregistration_seconds: Option<i64>,
}

/// `--timeout auto`: for each service, what its configuration alone lets ECS take — the bake time, each
/// linear step's bake or the canary's bake, every lifecycle hook's timeout (ECS's default 1440m when
/// unset; one per stage, the longest of a stage's), the health-check grace period and the target groups'
/// deregistration delay (the final bake and the drain left out with `--until traffic-shifted`) — plus
/// [`AUTO_MARGIN_MINUTES`] for task starts and checks; the longest service's, and never less than
/// [`ROLLING_TIMEOUT`]. Returns the deadline and how it was reached, for the line printed before waiting.
pub fn auto_timeout(services: &[AutoInput<'_>], until: crate::engine::Until) -> (Duration, String) {
    let shifted = until == crate::engine::Until::TrafficShifted;
    let mut best = (ROLLING_TIMEOUT, "rolling: 30m".to_string());
    for s in services {
        let mut minutes = 0i64;
        let mut parts = Vec::new();
        if let Some(cfg) = s.cfg {
            let mut wait = cfg.configured_wait_minutes();
            if let Some(b) = cfg.bake_time_minutes.filter(|b| *b > 0) {
                if shifted {
                    wait -= i64::from(b);
                } else {
                    parts.push(format!("bake {b}m"));
                }
            }
            if let Some((pct, bake)) = cfg.linear.filter(|(p, b)| *p > 0.0 && *b > 0) {
                let steps = ((100.0 / pct).ceil() as i64 - 1).max(0);
                parts.push(format!("{steps} linear steps × {bake}m"));
            }
            if let Some((_, bake)) = cfg.canary.filter(|(_, b)| *b > 0) {
                parts.push(format!("canary bake {bake}m"));
            }
            minutes += wait.max(0);
            // Hooks of one stage run together; stages run one after the other.
            let mut stages: Vec<(&str, i64)> = Vec::new();
            for h in &cfg.hooks {
                let t = i64::from(h.timeout_minutes.unwrap_or(1440).max(0));
                for st in &h.stages {
                    match stages.iter_mut().find(|(n, _)| n == st) {
                        Some((_, m)) => *m = (*m).max(t),
                        None => stages.push((st.as_str(), t)),
                    }
                }
            }
            let hooks: i64 = stages.iter().map(|(_, m)| m).sum();
            if hooks > 0 {
                minutes += hooks;
                parts.push(format!("hook timeouts {hooks}m"));
            }
        }
        if let Some(g) = s.grace_seconds.filter(|g| *g > 0) {
            let m = (i64::from(g) + 59) / 60;
            minutes += m;
            parts.push(format!("health-check grace {m}m"));
        }
        if let Some(d) = s.deregistration_seconds.filter(|d| *d > 0 && !shifted) {
            let m = (d + 59) / 60;
            minutes += m;
            parts.push(format!("deregistration delay {m}m"));
        }
        let d = Duration::from_secs(((minutes + AUTO_MARGIN_MINUTES) as u64) * 60);
        if d > best.0 {
            let strategy = s.cfg.and_then(|c| c.strategy.as_deref()).unwrap_or("ROLLING");
            best = (d, format!("{}: {strategy} {} + {AUTO_MARGIN_MINUTES}m margin", s.name, parts.join(" + ")));
        }
    }
    (best.0.min(crate::cli::MAX_DURATION), best.1)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_record_path_needs_an_existing_directory_and_a_bare_name_is_in_the_current_one() {
        assert!(check_record_path(std::path::Path::new("ecsgate-no-such-recording.jsonl"), false).is_ok());
        assert!(check_record_path(std::path::Path::new("./ecsgate-no-such-recording.jsonl"), false).is_ok());
        let e = check_record_path(std::path::Path::new("/nonexistent-ecsgate-dir/r.jsonl"), false).unwrap_err();
        assert!(e.message.ends_with("/nonexistent-ecsgate-dir does not exist"), "{}", e.message);
        let e = check_record_path(std::path::Path::new("Cargo.toml/r.jsonl"), false).unwrap_err();
        assert!(e.message.ends_with("Cargo.toml is not a directory"), "{}", e.message);
    }
    use super::*;

    #[test]
    fn auto_timeout_adds_the_margin_to_the_longest_configured_wait() {
        use crate::engine::Until;
        use crate::engine::snapshot::DeploymentConfigInfo as C;
        let linear = C {
            strategy: Some("LINEAR".into()),
            linear: Some((25.0, 10)),
            bake_time_minutes: Some(20),
            ..C::default()
        };
        let canary =
            C { strategy: Some("CANARY".into()), canary: Some((10.0, 5)), bake_time_minutes: Some(10), ..C::default() };
        let i = |name, cfg, grace, dereg| AutoInput { name, cfg, grace_seconds: grace, deregistration_seconds: dereg };
        let all =
            [i("api", Some(&linear), None, None), i("web", Some(&canary), None, None), i("cron", None, None, None)];
        let (d, why) = auto_timeout(&all, Until::Completed);
        // LINEAR: 20 bake + 3 steps × 10 = 50, + 15.
        assert_eq!(d, Duration::from_secs(65 * 60));
        assert_eq!(why, "api: LINEAR bake 20m + 3 linear steps × 10m + 15m margin");
        // Traffic shifted: the final bake and the drain are not waited for.
        let shifted = auto_timeout(&[i("api", Some(&linear), None, Some(300))], Until::TrafficShifted);
        assert_eq!(shifted.0, Duration::from_secs(45 * 60));
        // Grace period and deregistration delay count: 50 + 2 + 5 + 15.
        let (d, why) = auto_timeout(&[i("api", Some(&linear), Some(90), Some(300))], Until::Completed);
        assert_eq!(d, Duration::from_secs(72 * 60));
        assert!(why.ends_with("health-check grace 2m + deregistration delay 5m + 15m margin"), "{why}");
        // Hooks: the longest of a stage, stages summed: 30 + 5, + 15.
        let hook = |stage: &str, t| crate::engine::snapshot::HookConfig {
            stages: vec![stage.into()],
            timeout_minutes: Some(t),
            ..Default::default()
        };
        let hooked = C {
            strategy: Some("BLUE_GREEN".into()),
            hooks: vec![
                hook("POST_TEST_TRAFFIC_SHIFT", 30),
                hook("POST_TEST_TRAFFIC_SHIFT", 10),
                hook("PRE_SCALE_UP", 5),
            ],
            ..C::default()
        };
        assert_eq!(
            auto_timeout(&[i("api", Some(&hooked), None, None)], Until::Completed).0,
            Duration::from_secs(50 * 60)
        );
        // Rolling only: the old default.
        assert_eq!(
            auto_timeout(&[i("cron", None, None, None)], Until::Completed),
            (ROLLING_TIMEOUT, "rolling: 30m".into())
        );
    }

    #[test]
    fn a_timeout_shorter_than_the_configured_bake_and_steps_is_warned_of() {
        use crate::engine::Until;
        use crate::engine::snapshot::DeploymentConfigInfo as C;
        use std::time::Duration;
        let linear = C {
            strategy: Some("LINEAR".into()),
            linear: Some((25.0, 10)),
            bake_time_minutes: Some(20),
            ..C::default()
        };
        let w = timeout_warning("api", &linear, Duration::from_secs(30 * 60), Until::Completed).expect("50m > 30m");
        assert!(w.starts_with("service api: LINEAR waits at least 50m by its configuration"), "{w}");
        assert!(w.contains("pass --timeout 65m, or --until traffic-shifted"), "{w}");
        // Without the final bake, 30 minutes of steps fit in 30m.
        assert_eq!(timeout_warning("api", &linear, Duration::from_secs(30 * 60), Until::TrafficShifted), None);
        assert_eq!(timeout_warning("api", &linear, Duration::from_secs(3600), Until::Completed), None);
        assert_eq!(timeout_warning("api", &C::default(), Duration::from_secs(60), Until::Completed), None);
    }

    fn svc(c: &str, s: &str) -> ServiceRef {
        ServiceRef { cluster: c.into(), service: s.into() }
    }

    #[test]
    fn services_are_names_cluster_slash_names_or_arns_in_any_mix() {
        let arn = "arn:aws:ecs:eu-west-1:123456789012:service/other/cron";
        let (v, region) =
            parse_services(&["api,worker".into(), "shop/api".into(), arn.into(), " \n".into()], "shop").unwrap();
        assert_eq!(v, vec![svc("shop", "api"), svc("shop", "worker"), svc("other", arn)]);
        assert_eq!(region.as_deref(), Some("eu-west-1"), "an ARN implies its region");
        assert_eq!(v[2].name(), "cron");
    }

    #[test]
    fn newline_separated_services_from_an_action_input_are_several() {
        let (v, _) = parse_services(&["api\nworker\n".into()], "default").unwrap();
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn an_old_short_arn_takes_the_cluster_flag() {
        let (v, _) = parse_services(&["arn:aws:ecs:us-east-1:1:service/api".into()], "shop").unwrap();
        assert_eq!(v[0].cluster, "shop");
    }

    #[test]
    fn a_task_definition_file_loses_what_ecs_sets_itself() {
        let dir = std::env::temp_dir().join(format!("ecsgate-tdfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("td.json");
        std::fs::write(&f, r#"{"taskDefinition": {"taskDefinitionArn": "arn:x", "revision": 7, "status": "ACTIVE",
            "family": "api", "cpu": null, "containerDefinitions": [{"name": "app", "image": "r/app:3", "memory": null}]}}"#).unwrap();
        let (family, body) = task_definition_file(&f).unwrap();
        assert_eq!(family, "api");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"family": "api", "containerDefinitions": [{"name": "app", "image": "r/app:3"}]})
        );
        std::fs::write(&f, r#"{"family": "api"}"#).unwrap();
        assert_eq!(task_definition_file(&f).unwrap_err().exit_code(), crate::exit::USAGE);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn images_are_container_equals_image_once_each() {
        let v = parse_images(&["app=r/app:2".into(), " sidecar = r/s:1 ".into()]).unwrap();
        assert_eq!(v, vec![("app".into(), "r/app:2".into()), ("sidecar".into(), "r/s:1".into())]);
        for bad in ["app", "=img", "app=", "app=a,app=b"] {
            let vals: Vec<String> = bad.split(',').map(String::from).collect();
            assert_eq!(parse_images(&vals).unwrap_err().exit_code(), crate::exit::USAGE, "{bad}");
        }
    }

    #[test]
    fn notify_urls_must_be_http_and_are_never_printed_whole() {
        assert!(parse_notify(&["https://hooks.slack.com/services/T0/B0/secret".into()]).is_ok());
        let e = parse_notify(&["hooks.slack.com/services/T0/B0/secret".into()]).unwrap_err();
        assert!(!e.message.contains("secret"), "{}", e.message);
        assert_eq!(redact("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com/…");
    }

    #[test]
    fn bad_service_values_are_usage_errors() {
        for bad in ["arn:aws:s3:::bucket", "a/b/c", "/api", ""] {
            let e = parse_services(&[bad.into()], "default").unwrap_err();
            assert_eq!(e.exit_code(), crate::exit::USAGE, "{bad}");
        }
        let two_regions =
            ["arn:aws:ecs:us-east-1:1:service/a/x".to_string(), "arn:aws:ecs:eu-west-1:1:service/a/y".to_string()];
        assert!(parse_services(&two_regions, "default").unwrap_err().message.contains("several regions"));
    }

    #[test]
    fn the_appspec_gets_the_new_revision_from_a_placeholder_json_or_the_load_balancer() {
        let td = "arn:aws:ecs:us-east-1:1:task-definition/web:43";
        let yaml = "version: 0.0\nResources:\n  - TargetService:\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n";
        assert!(appspec_with(Some(yaml), td, None).unwrap().contains(&format!("TaskDefinition: {td}")));
        // The docs' JSON AppSpec (hooks and all): every TargetService gets the revision, the rest is kept.
        let docs = std::fs::read_to_string(format!(
            "{}/tests/fixtures/deploy-kinds/appspec__ecs-with-hooks-codedeploy-docs.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let out: serde_json::Value = serde_json::from_str(&appspec_with(Some(&docs), td, None).unwrap()).unwrap();
        assert_eq!(out["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"], td);
        assert_eq!(out["Hooks"].as_array().unwrap().len(), 5, "{out}");
        let built: serde_json::Value =
            serde_json::from_str(&appspec_with(None, td, Some(&("app".into(), 8080))).unwrap()).unwrap();
        assert_eq!(built["Resources"][0]["TargetService"]["Properties"]["LoadBalancerInfo"]["ContainerPort"], 8080);
        assert_eq!(appspec_with(None, td, None).unwrap_err().exit_code(), crate::exit::USAGE);
        assert!(appspec_with(Some("Resources: []"), td, None).unwrap_err().message.contains("neither JSON"));
        assert!(appspec_with(Some(r#"{"Resources": []}"#), td, None).unwrap_err().message.contains("no Resources"));
    }
}
