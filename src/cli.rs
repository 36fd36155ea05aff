//! Command-line definitions (clap) and the validation of raw flags into settings. Nothing runs here.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit;

#[derive(Debug, Parser)]
#[command(
    name = "ecsgate",
    version,
    about = "Wait for the real outcome of an Amazon ECS deployment: event-driven, with the reason when it fails.",
    after_help = exit::TABLE
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Wait for a service's deployment to complete or fail (EventBridge → SQS, reconciled with the API).
    #[command(after_help = exit::TABLE)]
    Wait(WaitArgs),
    /// Start a deployment and wait for it: subscribe first, then RegisterTaskDefinition (with --image or a
    /// file) and UpdateService, and judge exactly the deployment UpdateService started.
    #[command(after_help = exit::TABLE)]
    Deploy(DeployArgs),
    /// Run one-off tasks (a migration, a smoke test) and wait for their exit codes: subscribe first, then
    /// RunTask with a service's task definition and network configuration (or a given task definition);
    /// exits 0 only when every task's essential containers exited 0.
    #[command(after_help = exit::RUN_TABLE)]
    Run(RunArgs),
    /// Pick up a gate that detached (--detach-at): wait for the deployment its handle names, with any
    /// `wait` flags after the handle (`ecsgate resume ecsgate-handle.json --timeout 2h`).
    #[command(after_help = exit::TABLE)]
    Resume(HandleArgs),
    /// The verdict so far of a gate that detached, in one read (no queue, no rule): exit 0/1/4 when the
    /// deployment ended, 6 while it goes on.
    #[command(after_help = exit::TABLE)]
    Status(HandleArgs),
    /// Replay recorded ECS events (JSON Lines, a JSON array, or a CloudWatch Logs export) to a verdict.
    #[command(after_help = exit::REPLAY_TABLE)]
    Replay(ReplayArgs),
    /// The deployments of a service the hub saw (`ecsgate hub template`), newest first, each with the
    /// verdict the engine gives from the stored events: what `wait` would have said, days later.
    #[command(after_help = exit::HISTORY_TABLE)]
    History(HistoryArgs),
    /// One deployment's full verdict from the hub's stored events (culprit, exit code, stopped reason,
    /// hint), after ECS forgot its tasks; --record writes those events as a recording for `replay`.
    #[command(after_help = exit::EXPLAIN_TABLE)]
    Explain(ExplainArgs),
    /// Answer a lifecycle hook that paused a deployment (ContinueServiceDeployment): continue it, or roll
    /// the deployment back with --rollback. Finds the hook awaiting action of the service's current
    /// service deployment unless --service-deployment-arn and --hook-id name it.
    #[command(after_help = exit::CONTINUE_TABLE)]
    Continue(ContinueArgs),
    /// Delete leftover ecsgate EventBridge rules and SQS queues (found by tag and name prefix).
    #[command(after_help = exit::GC_TABLE)]
    Gc(GcArgs),
    /// The hub: one EventBridge rule per account writing ECS events into a DynamoDB table that gates
    /// read (`--hub auto`), installed once from a CloudFormation template.
    #[command(subcommand)]
    Hub(HubCommand),
    /// Check what a gate needs before a pipeline depends on it: credentials and region, each permission
    /// of the mode (probed with calls that change nothing), the clock against AWS's, and the rules left
    /// on the default event bus. Prints what to fix.
    #[command(after_help = exit::DOCTOR_TABLE)]
    Doctor(DoctorArgs),
    /// DORA's figures over recordings (`wait --record`): deployments, change failure rate, time to
    /// restore (a failed deployment → the next success of the same service), as Markdown or JSON.
    #[command(after_help = exit::REPORT_TABLE)]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual (roff) to standard output — one page with every command, flag, ECSGATE_*
    /// variable and exit code: ecsgate man > ecsgate.1 && man ./ecsgate.1
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable timeline and a verdict block.
    Human,
    /// JSON Lines: one object per timeline entry, the verdict last.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, env = "ECSGATE_OUTPUT", value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Print only the verdict.
    #[arg(long, env = "ECSGATE_QUIET", short, value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub quiet: bool,
    /// Write a GitHub job summary, annotations and step outputs (default: on when GITHUB_ACTIONS=true;
    /// ECSGATE_GITHUB=false turns it off there).
    #[arg(long, env = "ECSGATE_GITHUB", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true")]
    pub github: Option<bool>,
}

#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Cluster name or ARN.
    #[arg(long, env = "ECSGATE_CLUSTER", value_parser = non_empty)]
    pub cluster: Option<String>,
    /// Service(s) to judge, as `wait` takes them: a name, `cluster/name` or an ARN; repeat it or separate
    /// with commas (default: every service the input holds).
    #[arg(long, env = "ECSGATE_SERVICE", value_delimiter = ',', value_name = "SERVICE", value_parser = non_empty)]
    pub service: Vec<String>,
    /// The deployment to judge (`ecs-svc/…`).
    #[arg(long, env = "ECSGATE_DEPLOYMENT_ID", value_parser = parse_deployment_id)]
    pub deployment_id: Option<String>,
    /// Fail after this many failed tasks of the deployment (catches services without a circuit breaker).
    #[arg(long, env = "ECSGATE_MAX_TASK_FAILURES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_task_failures: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// File to read, or `-` for standard input.
    pub file: String,
    /// Where "deployed" is (default: what the recording's gate used, else completed).
    #[arg(long, env = "ECSGATE_UNTIL", value_enum)]
    pub until: Option<UntilArg>,
    /// Also write the verdict as a JUnit XML report (one test case per service) to this file.
    #[arg(long, env = "ECSGATE_JUNIT", value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS Region (default: from the environment or profile).
    #[arg(long, env = "ECSGATE_REGION", value_parser = non_empty)]
    pub region: Option<String>,
    /// AWS profile to use.
    #[arg(long, env = "ECSGATE_PROFILE", value_parser = non_empty)]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Service to wait for: a name, `cluster/name` or an ARN. Repeat it (or separate with commas) to wait
    /// for several services in one gate; it exits 0 only when all of them succeeded.
    #[arg(long, env = "ECSGATE_SERVICE", required = true, value_delimiter = ',', value_name = "SERVICE", value_parser = non_empty)]
    pub service: Vec<String>,
    /// The deployment to judge (default: the service's PRIMARY deployment; for a CODE_DEPLOY service, its
    /// CodeDeploy deployment `d-…`). One service only.
    #[arg(long, env = "ECSGATE_DEPLOYMENT_ID", value_parser = parse_deployment_id, alias = "codedeploy-deployment-id")]
    pub deployment_id: Option<String>,
    /// With several services: stop at the first one that does not succeed (the others are reported as
    /// still in progress). Default: wait until every service is decided.
    #[arg(long, env = "ECSGATE_FAIL_FAST", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub fail_fast: bool,
    #[command(flatten)]
    pub gate: GateArgs,
}

/// What `wait` and `deploy` share: how the gate waits, judges, records, reports and notifies.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Cluster of the services given by name.
    #[arg(long, env = "ECSGATE_CLUSTER", default_value = "default", value_parser = non_empty)]
    pub cluster: String,
    /// Fail after this many failed tasks of the deployment (catches services without a circuit breaker).
    #[arg(long, env = "ECSGATE_MAX_TASK_FAILURES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_task_failures: u32,
    /// Give up after this long (e.g. 30m, 1h, 90s; at most 365 days) and exit 3 with the last known state.
    /// `auto` (the default): from the services' configuration — bake time, linear steps or the canary's
    /// bake, plus 15m for task starts, health checks and hooks — and 30m for rolling deployments.
    #[arg(long, env = "ECSGATE_TIMEOUT", default_value = "auto", value_parser = parse_timeout)]
    pub timeout: TimeoutArg,
    /// Write every received event and API snapshot as JSON Lines (replayable with `ecsgate replay`).
    /// An existing file (or a symlink) is refused unless --force.
    #[arg(long, env = "ECSGATE_RECORD")]
    pub record: Option<std::path::PathBuf>,
    /// Overwrite an existing --record file.
    #[arg(long, env = "ECSGATE_FORCE", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub force: bool,
    /// Where "deployed" is: completed (default), traffic-shifted, or drained (README "--until").
    #[arg(long, env = "ECSGATE_UNTIL", value_enum, default_value_t = UntilArg::Completed)]
    pub until: UntilArg,
    /// Do not create a queue and rule: poll the ECS API only.
    #[arg(long, env = "ECSGATE_POLL", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub poll: bool,
    /// Stop waiting here and exit 6 with a handle (--handle), the deployment going on: traffic-shifted
    /// (production traffic on ours), paused (a lifecycle hook awaits action) or a DURATION (e.g. 5h, under
    /// a CI job's limit). `ecsgate resume HANDLE` waits for the rest in a later job.
    #[arg(long, env = "ECSGATE_DETACH_AT", value_name = "traffic-shifted|paused|DURATION", value_parser = parse_detach)]
    pub detach_at: Option<DetachArg>,
    /// Where --detach-at writes the handle (a small JSON file; also the GitHub output `handle`).
    #[arg(long, env = "ECSGATE_HANDLE", value_name = "FILE", default_value = "ecsgate-handle.json")]
    pub handle: std::path::PathBuf,
    /// Read events from the hub (`ecsgate hub template`) instead of creating a queue and rule: `auto`
    /// finds its table through the SSM parameter /ecsgate/hub/table, or name the table. Without a hub
    /// (no parameter, or not allowed to read it) the gate subscribes as usual, with a notice.
    #[arg(long, env = "ECSGATE_HUB", value_name = "auto|TABLE", value_parser = parse_hub)]
    pub hub: Option<String>,
    /// When our deployment fails by ecsgate's own rule or times out and ECS is not already rolling back:
    /// roll back (StopServiceDeployment, or UpdateService to the previous revision) and wait for that.
    #[arg(long, env = "ECSGATE_ROLLBACK_ON_FAILURE", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub rollback_on_failure: bool,
    /// Post the verdict to this URL when the gate ends (a Slack incoming webhook gets a Slack message,
    /// any other URL the verdict JSON). Repeatable. A secret: never printed, not even by --help.
    #[arg(long, value_name = "URL", env = "ECSGATE_NOTIFY", value_delimiter = ',', hide_env_values = true)]
    pub notify: Vec<String>,
    /// When to notify.
    #[arg(long, env = "ECSGATE_NOTIFY_ON", value_enum, default_value_t = NotifyOn::Failure)]
    pub notify_on: NotifyOn,
    /// Record the gate as a GitHub Deployment of the commit to this environment: in_progress, then
    /// success, failure or error with the verdict's reason and the run's link (needs GITHUB_TOKEN,
    /// GITHUB_REPOSITORY, GITHUB_SHA; ECSGATE_GITHUB_DEPLOYMENT_ID updates one a previous step created).
    #[arg(long, env = "ECSGATE_GITHUB_DEPLOYMENT", value_name = "ENVIRONMENT", value_parser = non_empty)]
    pub github_deployment: Option<String>,
    /// Export the gate as one OpenTelemetry trace over OTLP/HTTP (JSON) to this collector (e.g.
    /// http://localhost:4318): a span per service deployment with its tasks and hooks, parented on the
    /// CI's TRACEPARENT. Default: OTEL_EXPORTER_OTLP_ENDPOINT when set.
    #[arg(long, env = "ECSGATE_OTLP", value_name = "URL", hide_env_values = true)]
    pub otlp: Option<String>,
    /// Also write the verdict as a JUnit XML report (one test case per service) to this file.
    #[arg(long, env = "ECSGATE_JUNIT", value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub timing: TimingArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The loop's periods and budgets (hidden: tests and benches set them; users need not), the same for
/// every command that waits.
#[derive(Debug, Clone, Args)]
pub struct TimingArgs {
    /// How often to reconcile with the ECS API until the first event arrives (four times as long after).
    #[arg(long, env = "ECSGATE_RECONCILE_INTERVAL", default_value = "15s", value_parser = parse_duration, hide = true)]
    pub reconcile_interval: Duration,
    /// How often to poll the ECS API when no event subscription exists.
    #[arg(long, env = "ECSGATE_POLL_INTERVAL", default_value = "5s", value_parser = parse_duration, hide = true)]
    pub poll_interval: Duration,
    /// How long AWS API calls may keep failing (5xx, throttling, network) before giving up with exit 5.
    #[arg(long, env = "ECSGATE_API_ERROR_BUDGET", default_value = "60s", value_parser = parse_duration, hide = true)]
    pub api_error_budget: Duration,
    /// Without a terminal, print a heartbeat line this often (CI systems kill jobs that stay silent).
    #[arg(long, env = "ECSGATE_HEARTBEAT", default_value = "60s", value_parser = parse_duration, hide = true)]
    pub heartbeat: Duration,
    /// Seconds of SQS long polling (AWS maximum: 20).
    #[arg(long, env = "ECSGATE_WAIT_SECONDS", default_value_t = 20, value_parser = clap::value_parser!(i32).range(0..=20), hide = true)]
    pub wait_seconds: i32,
}

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// New image for a container of the service's current task definition: CONTAINER=IMAGE. Repeat for
    /// several containers; everything else of the revision is copied.
    #[arg(
        long,
        value_name = "CONTAINER=IMAGE",
        env = "ECSGATE_IMAGE",
        value_delimiter = ',',
        conflicts_with = "task_definition"
    )]
    pub image: Vec<String>,
    /// The task definition to deploy: a JSON file to register (as register-task-definition
    /// --cli-input-json takes it, or describe-task-definition output), or `family:revision` / an ARN.
    #[arg(long, value_name = "FILE.json|FAMILY:REVISION|ARN", env = "ECSGATE_TASK_DEFINITION")]
    pub task_definition: Option<String>,
    /// Start new tasks of the same revision.
    #[arg(long, env = "ECSGATE_FORCE_NEW_DEPLOYMENT", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub force_new_deployment: bool,
    /// Also set the service's desired count.
    #[arg(long, env = "ECSGATE_DESIRED_COUNT", value_parser = clap::value_parser!(i32).range(0..))]
    pub desired_count: Option<i32>,
    /// The service is an ECS Express Mode service: change it with UpdateExpressGatewayService (--image
    /// IMAGE for its primary container, --task-definition family:revision|ARN, --cpu, --memory) and judge
    /// the deployment that update started.
    #[arg(long, env = "ECSGATE_EXPRESS", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false", conflicts_with_all = ["force_new_deployment", "desired_count"])]
    pub express: bool,
    /// CODE_DEPLOY services: the AppSpec to deploy (JSON, whose TargetService TaskDefinition is set to the
    /// new revision; or any AppSpec holding the `<TASK_DEFINITION>` placeholder). Default: one built from
    /// the service's load balancer (container and port).
    #[arg(long, env = "ECSGATE_APPSPEC", value_name = "FILE", conflicts_with = "express")]
    pub appspec: Option<std::path::PathBuf>,
    /// CODE_DEPLOY services: the CodeDeploy application (default: AppECS-<cluster>-<service>).
    #[arg(long, env = "ECSGATE_CODEDEPLOY_APPLICATION", value_parser = non_empty, conflicts_with = "express")]
    pub codedeploy_application: Option<String>,
    /// CODE_DEPLOY services: the deployment group (default: DgpECS-<cluster>-<service>).
    #[arg(long, env = "ECSGATE_CODEDEPLOY_DEPLOYMENT_GROUP", value_parser = non_empty, conflicts_with = "express")]
    pub codedeploy_deployment_group: Option<String>,
    /// Express: the task's CPU units (e.g. 256, 512, 1024).
    #[arg(long, env = "ECSGATE_CPU", requires = "express", value_parser = non_empty)]
    pub cpu: Option<String>,
    /// Express: the task's memory in MiB (e.g. 512, 1024).
    #[arg(long, env = "ECSGATE_MEMORY", requires = "express", value_parser = non_empty)]
    pub memory: Option<String>,
    /// The service to deploy: a name, `cluster/name` or an ARN (one: a deployment is per service).
    #[arg(long, env = "ECSGATE_SERVICE", value_name = "SERVICE", value_parser = non_empty)]
    pub service: String,
    #[command(flatten)]
    pub gate: GateArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Cluster to run in.
    #[arg(long, env = "ECSGATE_CLUSTER", default_value = "default", value_parser = non_empty)]
    pub cluster: String,
    /// The service whose task definition, network configuration, launch type (or capacity providers) and
    /// platform version the tasks use: a name or ARN in --cluster.
    #[arg(long, env = "ECSGATE_SERVICE", value_parser = non_empty, required_unless_present = "task_definition")]
    pub service: Option<String>,
    /// The task definition to run (`family`, `family:revision` or an ARN) instead of the service's.
    #[arg(long, env = "ECSGATE_TASK_DEFINITION", value_parser = non_empty)]
    pub task_definition: Option<String>,
    /// The container the command and --env go to (default: the task definition's only container, or its
    /// first essential one).
    #[arg(long, env = "ECSGATE_CONTAINER", value_parser = non_empty)]
    pub container: Option<String>,
    /// An environment variable for that container, NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// How many tasks to run (1–10, RunTask's limit); every one must succeed.
    #[arg(long, env = "ECSGATE_COUNT", default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10))]
    pub count: i32,
    /// Subnets for awsvpc tasks (default: the service's). Repeat or separate with commas.
    #[arg(long = "subnet", env = "ECSGATE_SUBNETS", value_delimiter = ',', value_parser = non_empty)]
    pub subnets: Vec<String>,
    /// Security groups with --subnet. Repeat or separate with commas.
    #[arg(long = "security-group", env = "ECSGATE_SECURITY_GROUPS", value_delimiter = ',', value_parser = non_empty, requires = "subnets")]
    pub security_groups: Vec<String>,
    /// Give the tasks a public IP (with --subnet; Fargate in a public subnet needs it to pull images).
    #[arg(long, env = "ECSGATE_ASSIGN_PUBLIC_IP", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false", requires = "subnets")]
    pub assign_public_ip: bool,
    /// FARGATE, EC2 or EXTERNAL (default: the service's launch type or capacity providers; FARGATE
    /// without a service).
    #[arg(long, env = "ECSGATE_LAUNCH_TYPE", value_parser = ["FARGATE", "EC2", "EXTERNAL"])]
    pub launch_type: Option<String>,
    /// Give up after this long (e.g. 30m, 1h; at most 365 days) and exit 3; the tasks go on.
    #[arg(long, env = "ECSGATE_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Do not create a queue and rule: poll DescribeTasks only.
    #[arg(long, env = "ECSGATE_POLL", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub poll: bool,
    /// Post the verdict to this URL when the run ends (a Slack incoming webhook gets a Slack message, any
    /// other URL the verdict JSON). Repeatable. A secret: never printed, not even by --help.
    #[arg(long, value_name = "URL", env = "ECSGATE_NOTIFY", value_delimiter = ',', hide_env_values = true)]
    pub notify: Vec<String>,
    /// When to notify.
    #[arg(long, env = "ECSGATE_NOTIFY_ON", value_enum, default_value_t = NotifyOn::Failure)]
    pub notify_on: NotifyOn,
    /// Also write the verdict as a JUnit XML report to this file.
    #[arg(long, env = "ECSGATE_JUNIT", value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub timing: TimingArgs,
    /// The command to run instead of the container's (after `--`): `ecsgate run --service api -- ./manage.py migrate`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where `history` and `explain` read: the hub's table and one service's key.
#[derive(Debug, Clone, Args)]
pub struct HubReadArgs {
    /// The service: a name, `cluster/name` or an ARN (an ARN needs no ECS call: a deleted service's
    /// history is read by its ARN).
    #[arg(long, env = "ECSGATE_SERVICE", value_name = "SERVICE", value_parser = non_empty)]
    pub service: String,
    /// Cluster name or ARN (default: `default`).
    #[arg(long, env = "ECSGATE_CLUSTER", value_parser = non_empty)]
    pub cluster: Option<String>,
    /// The hub's table: `auto` reads the SSM parameter /ecsgate/hub/table, or name the table.
    #[arg(long, env = "ECSGATE_HUB", value_name = "auto|TABLE", default_value = "auto", value_parser = parse_hub)]
    pub hub: String,
    /// Fail a deployment after this many failed tasks, as `wait` does.
    #[arg(long, env = "ECSGATE_MAX_TASK_FAILURES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_task_failures: u32,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub read: HubReadArgs,
    /// How far back to list (the hub keeps events for its RetentionDays, 30 by default).
    #[arg(long, env = "ECSGATE_SINCE", default_value = "7d", value_parser = parse_duration)]
    pub since: Duration,
    /// Output format: a line per deployment, or a JSON object per deployment (its verdict inside).
    #[arg(long, env = "ECSGATE_OUTPUT", value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The deployment to explain (`ecs-svc/…`, as `history` lists it).
    #[arg(long, env = "ECSGATE_DEPLOYMENT_ID", value_parser = parse_deployment_id)]
    pub deployment_id: String,
    #[command(flatten)]
    pub read: HubReadArgs,
    /// How far back the hub is read for the deployment's events.
    #[arg(long, env = "ECSGATE_SINCE", default_value = "30d", value_parser = parse_duration)]
    pub since: Duration,
    /// Also write the deployment's events as a recording (`ecsgate replay FILE` judges it again, no AWS).
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Overwrite an existing --record file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HandleArgs {
    /// The handle file `--detach-at` wrote.
    pub handle: std::path::PathBuf,
    /// `wait` flags (resume), or output flags (status), as `wait` takes them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "FLAGS")]
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Recordings to count (`ecsgate wait --record` files; plain event files work too).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, env = "ECSGATE_REPORT_OUTPUT", value_enum, default_value_t = ReportFormat::Markdown)]
    pub output: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Tables for a job summary or a wiki page.
    Markdown,
    /// One JSON object (`type: dora`).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UntilArg {
    /// COMPLETED / SUCCESSFUL: bake time and clean-up included.
    Completed,
    /// Production traffic fully on the new revision (a blue/green, linear or canary deployment
    /// reaching BAKE_TIME); the bake is not waited for. Rolling deployments wait for completion.
    TrafficShifted,
    /// Completed, and every task of the older deployments stopped.
    Drained,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotifyOn {
    /// Only when the gate does not succeed.
    Failure,
    /// Whatever the outcome.
    Always,
}

#[derive(Debug, Clone, Args)]
pub struct ContinueArgs {
    /// Cluster of a service given by name.
    #[arg(long, env = "ECSGATE_CLUSTER", default_value = "default", value_parser = non_empty)]
    pub cluster: String,
    /// The paused service: a name, `cluster/name` or an ARN (not needed with --service-deployment-arn).
    #[arg(long, env = "ECSGATE_SERVICE", value_parser = non_empty)]
    pub service: Option<String>,
    /// The service deployment to answer (default: the service's current one).
    #[arg(long, env = "ECSGATE_SERVICE_DEPLOYMENT_ARN")]
    pub service_deployment_arn: Option<String>,
    /// The hook to answer (default: the one awaiting action; needed when several are). A hook id belongs
    /// to a service deployment: give --service-deployment-arn too (or --service for its current one).
    #[arg(long, env = "ECSGATE_HOOK_ID", value_parser = non_empty)]
    pub hook_id: Option<String>,
    /// Roll the deployment back instead of continuing it.
    #[arg(long, env = "ECSGATE_ROLLBACK", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub rollback: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum HubCommand {
    /// Print the hub's CloudFormation template (rule, ingestion function, table with TTL, SSM parameter):
    /// ecsgate hub template > hub.yaml && aws cloudformation deploy --template-file hub.yaml
    /// --stack-name ecsgate-hub --capabilities CAPABILITY_IAM
    Template,
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// The cluster the gates will use (default: `default`).
    #[arg(long, env = "ECSGATE_CLUSTER", value_parser = non_empty)]
    pub cluster: Option<String>,
    /// A service the gates will wait for: also checks the reads of its service and task definition.
    #[arg(long, env = "ECSGATE_SERVICE", value_parser = non_empty)]
    pub service: Option<String>,
    /// Check the polling mode (no rule, no queue) instead of the per-run subscription.
    #[arg(long, env = "ECSGATE_POLL", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub poll: bool,
    /// Also check the hub gates would read (`--hub auto`: its SSM parameter, then its table).
    #[arg(long, env = "ECSGATE_HUB", value_name = "auto|TABLE", value_parser = parse_hub)]
    pub hub: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct GcArgs {
    /// Only delete resources created longer ago than this.
    #[arg(long, env = "ECSGATE_OLDER_THAN", default_value = "1h", value_parser = parse_duration)]
    pub older_than: Duration,
    /// List what would be deleted, delete nothing.
    #[arg(long, env = "ECSGATE_DRY_RUN", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub dry_run: bool,
    /// Also delete ecsgate resources whose age cannot be known (a rule without its created-at tag).
    /// Without it they are listed and kept, unless --older-than is 0s.
    #[arg(long, env = "ECSGATE_FORCE", value_parser = boolish(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub force: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Booleans from flags and variables alike: `1/0`, `true/false`, `yes/no`, `on/off` (any case). An empty
/// variable counts as unset (clap skips empty environment values).
fn boolish() -> clap::builder::BoolishValueParser {
    clap::builder::BoolishValueParser::new()
}

/// Whether a command line (or `ECSGATE_OUTPUT`) asks for JSON output: errors found before the flags are
/// parsed must speak it too.
pub fn wants_json(argv: &[String]) -> bool {
    match argv.iter().position(|a| a == "--output") {
        Some(i) => argv.get(i + 1).is_some_and(|v| v == "json"),
        None => {
            argv.iter().any(|a| a == "--output=json")
                || std::env::var("ECSGATE_OUTPUT").is_ok_and(|v| v.trim().eq_ignore_ascii_case("json"))
        }
    }
}

/// `--hub`: `auto`, a DynamoDB table name (3–255 of `A-Za-z0-9_.-`) or a table ARN — checked here, so a
/// typo is a usage error (exit 2) rather than an AWS validation error (exit 5).
fn parse_hub(s: &str) -> Result<String, String> {
    let s = s.trim();
    let name = s.strip_prefix("arn:").and_then(|_| s.split_once(":table/")).map_or(s, |(_, n)| n);
    let valid = (3..=255).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if s.eq_ignore_ascii_case("auto") || valid {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not `auto` or a DynamoDB table (3–255 of A-Z a-z 0-9 _ . -, or its ARN)"))
    }
}

/// A name, ARN or path that must say something: `--cluster ''` is a usage error, not "cluster  not found".
fn non_empty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() { Err("must not be empty".into()) } else { Ok(s.trim().to_string()) }
}

/// The longest duration ecsgate takes: far beyond any deployment (a pause hook waits at most 14 days),
/// and far within what the clock can add to "now" (the overflow of issue 16 panicked past ~9.2e18 s).
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

fn parse_deployment_id(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("must not be empty (expected ecs-svc/<digits>)".into());
    }
    Ok(s.trim().to_string())
}

/// `--detach-at`: a point of the deployment, or a time after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetachArg {
    At(crate::engine::DetachAt),
    After(Duration),
}

fn parse_detach(s: &str) -> Result<DetachArg, String> {
    match s.trim() {
        "traffic-shifted" => Ok(DetachArg::At(crate::engine::DetachAt::TrafficShifted)),
        "paused" => Ok(DetachArg::At(crate::engine::DetachAt::Paused)),
        d => parse_duration(d)
            .map(DetachArg::After)
            .map_err(|e| format!("expected traffic-shifted, paused or a duration: {e}")),
    }
}

/// `--timeout`: a duration, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutArg {
    Auto,
    Fixed(Duration),
}

fn parse_timeout(s: &str) -> Result<TimeoutArg, String> {
    if s.trim().eq_ignore_ascii_case("auto") { Ok(TimeoutArg::Auto) } else { parse_duration(s).map(TimeoutArg::Fixed) }
}

/// `90`, `90s`, `15m`, `1h`, `1h30m`, `500ms`, `7d` (at most 365 days).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let too_long = || format!("duration {s:?} is too long (at most 365 days, 8760h)");
    if let Ok(n) = s.parse::<u64>() {
        let d = Duration::from_secs(n);
        return if d > MAX_DURATION { Err(too_long()) } else { Ok(d) };
    }
    let mut total = Duration::ZERO;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| {
            if num.is_empty() { format!("invalid duration {s:?} (examples: 90s, 15m, 1h30m, 7d)") } else { too_long() }
        })?;
        num.clear();
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            Duration::from_millis(n)
        } else {
            match c {
                'd' => Duration::from_secs(n.checked_mul(86_400).ok_or_else(too_long)?),
                'h' => Duration::from_secs(n.checked_mul(3600).ok_or_else(too_long)?),
                'm' => Duration::from_secs(n.checked_mul(60).ok_or_else(too_long)?),
                's' => Duration::from_secs(n),
                _ => {
                    return Err(format!("invalid duration {s:?} (examples: 90s, 15m, 1h30m, 7d)"));
                }
            }
        };
        total = total.checked_add(unit).ok_or_else(too_long)?;
    }
    if !num.is_empty() {
        return Err(format!("invalid duration {s:?}: a number needs a unit (s, m, h, d)"));
    }
    if total > MAX_DURATION {
        return Err(too_long());
    }
    Ok(total)
}

impl From<UntilArg> for crate::engine::Until {
    fn from(u: UntilArg) -> Self {
        match u {
            UntilArg::Completed => crate::engine::Until::Completed,
            UntilArg::TrafficShifted => crate::engine::Until::TrafficShifted,
            UntilArg::Drained => crate::engine::Until::Drained,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_is_auto_a_table_name_or_a_table_arn() {
        for ok in
            ["auto", "AUTO", "ecsgate-hub", "a.b_c-1", "arn:aws:dynamodb:eu-west-1:123456789012:table/ecsgate-hub"]
        {
            assert_eq!(parse_hub(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["my/table", "ab", "x y", "", "arn:aws:dynamodb:eu-west-1:1:table/a b"] {
            assert!(parse_hub(bad).unwrap_err().contains("DynamoDB table"), "{bad}");
        }
    }

    #[test]
    fn durations_accept_the_forms_the_readme_shows() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("1d12h"), Ok(Duration::from_secs(36 * 3600)));
        assert_eq!(parse_duration("365d"), Ok(MAX_DURATION));
        assert!(parse_duration("366d").unwrap_err().contains("too long"));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("1h30").is_err());
        assert!(parse_duration("99999999999999999h").unwrap_err().contains("too long"));
        assert!(parse_duration("5124095576030431h5124095576030431h").unwrap_err().contains("too long"));
        assert!(parse_duration("99999999999999999999999s").unwrap_err().contains("too long"));
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
