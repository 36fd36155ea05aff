//! The troubleshooting table: stop codes, stopped reasons, container reasons, service messages and exit
//! codes → root cause → hint. It is data (one row per case of ../shared/ecs-events/HINTS.md), so adding a
//! case is adding a row, and one test walks every row and checks its own example matches it.
//!
//! Matching follows HINTS.md §0: case-sensitive substrings (AWS appends advice and varies ARNs, digests
//! and retry counts, so whole-string or anchored matching would break), evaluated top to bottom, first
//! match wins. Specific sub-patterns (§3) therefore stand above the generic error-name rows (§2).

/// How the gate treats a stop whose text matches a row (used when `stopCode` is absent or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopClass {
    /// Counts towards the task-failure threshold.
    Failure,
    /// Normal operations (scale-in, replacement, draining, a user's StopTask): never counted.
    Benign,
    /// Capacity reclaimed or infrastructure retired: reported, not counted.
    Infrastructure,
    /// Nothing tells: reported, not counted.
    Unknown,
}

/// What a row is keyed on.
#[derive(Debug)]
pub enum Key {
    /// Matches when, for any group, the text contains every substring of the group.
    Text(&'static [&'static [&'static str]]),
    /// Matches when the whole (trimmed) text equals one of these (placement reasons like `AGENT`).
    Exact(&'static [&'static str]),
    StopCode(&'static str),
    /// `stopCode` absent.
    NoStopCode,
    /// A stopCode none of the rows know.
    UnknownStopCode,
    ExitCode(i64),
    /// Exit code absent or null: the container never ran.
    NoExitCode,
    /// 128 + n: killed by signal n (a code without a row of its own).
    Signal,
}

#[derive(Debug)]
pub struct HintRow {
    pub id: &'static str,
    pub key: Key,
    pub class: StopClass,
    /// Generic rows ("Essential container in task exited") say little: the engine prefers an exit-code
    /// row over them.
    pub generic: bool,
    pub cause: &'static str,
    pub hint: &'static str,
    /// A real-shaped input that must select this row (checked by a test).
    pub example: &'static str,
}

use Key::*;
use StopClass::*;

macro_rules! row {
    ($id:expr, $key:expr, $class:expr, $generic:expr, $cause:expr, $hint:expr, $example:expr $(,)?) => {
        HintRow { id: $id, key: $key, class: $class, generic: $generic, cause: $cause, hint: $hint, example: $example }
    };
}

/// Text rows: task `stoppedReason`, container `reason`, rollout reasons and service messages.
pub static TEXT_ROWS: &[HintRow] = &[
    // §3.4 — the OOM signal lives only in the container reason.
    row!(
        "oom",
        Text(&[&["OutOfMemoryError"]]),
        Failure,
        false,
        "The container hit its hard memory limit and was killed.",
        "Raise the container or task memory, look for leaks; for the JVM use -XX:MaxRAMPercentage instead of a fixed -Xmx.",
        "OutOfMemoryError: Container killed due to memory usage"
    ),
    // §3.1 CannotPullContainerError
    row!(
        "pull-platform",
        Text(&[&["does not contain descriptor matching platform"]]),
        Failure,
        false,
        "The image has no manifest for the task's CPU architecture.",
        "Build multi-arch (docker buildx --platform linux/amd64,linux/arm64) or set runtimePlatform.cpuArchitecture in the task definition.",
        "CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/amd64'"
    ),
    row!(
        "pull-attestation",
        Text(&[&["no processor for media-type"]]),
        Failure,
        false,
        "The image index holds BuildKit provenance/attestation manifests the runtime cannot unpack.",
        "Build with --provenance=false (or --sbom=false), or push a single-platform manifest.",
        "CannotPullContainerError: failed to get stream processor for application/vnd.in-toto+json: no processor for media-type"
    ),
    row!(
        "pull-ecr-denied",
        Text(&[&["not authorized to perform: ecr:"]]),
        Failure,
        false,
        "The task execution role may not pull from ECR, or the repository policy denies it.",
        "Give the execution role ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer (AmazonECSTaskExecutionRolePolicy); cross-account: add a repository policy; CMK-encrypted repository: kms:Decrypt.",
        "CannotPullContainerError: denied: User: arn:aws:sts::123456789012:assumed-role/exec/abc is not authorized to perform: ecr:BatchGetImage on resource"
    ),
    row!(
        "pull-access-denied",
        Text(&[&["pull access denied"], &["requested access to the resource is denied"]]),
        Failure,
        false,
        "The repository does not exist or needs registry credentials.",
        "Check the repository name; for a private non-ECR registry set repositoryCredentials (a Secrets Manager secret).",
        "CannotPullContainerError: pull access denied for acme/api, repository does not exist or may require 'docker login'"
    ),
    row!(
        "pull-not-found",
        Text(&[&["CannotPullContainerError", "not found"], &["CannotPullContainerError", "manifest unknown"]]),
        Failure,
        false,
        "The image or tag does not exist (typo, not pushed yet, wrong Region or account).",
        "Verify the image URI and tag; push the image before UpdateService; check the tag was not overwritten or expired by a lifecycle policy.",
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v2: 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v2: not found"
    ),
    row!(
        "pull-s3-layer",
        Text(&[&["httpReaderSeeker"]]),
        Failure,
        false,
        "Image layers could not be downloaded from S3 (an S3 endpoint policy or a missing route).",
        "Add the S3 gateway endpoint and allow arn:aws:s3:::prod-<region>-starport-layer-bucket/* in its policy.",
        "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReaderSeeker: failed open: unexpected status code"
    ),
    row!(
        "pull-network",
        Text(&[
            &["CannotPullContainerError", "i/o timeout"],
            &["CannotPullContainerError", "request canceled"],
            &["CannotPullContainerError", "context canceled"]
        ]),
        Failure,
        false,
        "No network path from the task to the registry.",
        "Public subnet: assignPublicIp=ENABLED. Private subnet: a NAT gateway or VPC endpoints ecr.api, ecr.dkr, the S3 gateway and logs. Check security-group egress on 443, NACLs and DNS.",
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to do request: Head https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/api/manifests/v2: dial tcp 52.1.2.3:443: i/o timeout"
    ),
    row!(
        "disk-full",
        Text(&[&["no space left on device"]]),
        Failure,
        false,
        "The host disk (or Fargate ephemeral storage) is full.",
        "Free or enlarge the disk; on Fargate set ephemeralStorage for large images.",
        "CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob: no space left on device"
    ),
    row!(
        "pull-rate-limit",
        Text(&[&["toomanyrequests"], &["pull rate limit"]]),
        Failure,
        false,
        "Docker Hub's pull rate limit was hit.",
        "Mirror the image to ECR (pull-through cache) or authenticate to Docker Hub.",
        "CannotPullContainerError: toomanyrequests: You have reached your pull rate limit."
    ),
    row!(
        "pull-generic",
        Text(&[&["CannotPullContainerError"]]),
        Failure,
        false,
        "The image could not be pulled.",
        "Check the image URI, the execution role's ECR permissions and the network path to the registry (NAT or VPC endpoints).",
        "CannotPullContainerError: API error"
    ),
    // §3.2 ResourceInitializationError, and §2 row 17 (older EC2 wording)
    row!(
        "secrets-fetch-ec2",
        Text(&[&["Fetching secret data from AWS Secrets Manager"]]),
        Failure,
        false,
        "The task execution role cannot read a secret (older EC2 agent wording).",
        "Grant the execution role secretsmanager:GetSecretValue on the secret ARN (and kms:Decrypt for a customer-managed key).",
        "Fetching secret data from AWS Secrets Manager in region us-east-1: secret arn:aws:secretsmanager:us-east-1:123456789012:secret:db: AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue"
    ),
    row!(
        "secrets-access-denied",
        Text(&[
            &["AccessDeniedException", "secretsmanager:GetSecretValue"],
            &["AccessDeniedException", "ssm:GetParameter"]
        ]),
        Failure,
        false,
        "The task execution role (not the task role) cannot read a secret or parameter.",
        "Grant the execution role secretsmanager:GetSecretValue / ssm:GetParameters on the ARN, plus kms:Decrypt if a customer-managed key encrypts it.",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/exec is not authorized to perform: secretsmanager:GetSecretValue"
    ),
    row!(
        "secret-not-found",
        Text(&[&["Secrets Manager can't find the specified secret"]]),
        Failure,
        false,
        "A referenced secret does not exist (wrong ARN or Region, or deleted).",
        "Verify the secret ARN (suffix included) and Region; restore the secret if it is marked for deletion.",
        "ResourceInitializationError: unable to pull secrets or registry auth: ResourceNotFoundException: Secrets Manager can't find the specified secret."
    ),
    row!(
        "secret-json-key",
        Text(&[&["did not contain json key"]]),
        Failure,
        false,
        "valueFrom names a JSON key that the secret does not contain.",
        "Fix the key in valueFrom (arn:…:secret:name:KEY::) or add the key to the secret's JSON.",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: retrieved secret from Secrets Manager did not contain json key MY_SECRET"
    ),
    row!(
        "log-group-missing",
        Text(&[&["The specified log group does not exist"]]),
        Failure,
        false,
        "The awslogs log group does not exist.",
        "Create the log group, or set awslogs-create-group=true and grant logs:CreateLogGroup to the execution role.",
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist."
    ),
    row!(
        "logging-network",
        Text(&[&["failed to validate logger args", "signal: killed"], &["failed to initialize logging driver"]]),
        Failure,
        false,
        "No network path to CloudWatch Logs, or bad log options.",
        "Add a logs VPC endpoint or a NAT gateway; check the awslogs region and option spelling.",
        "ResourceInitializationError: failed to validate logger args: : signal: killed"
    ),
    row!(
        "secrets-network",
        Text(&[
            &["unable to pull secrets or registry auth", "i/o timeout"],
            &["pull command failed", "signal: killed"],
            &["connection issue between the task and Amazon ECR"]
        ]),
        Failure,
        false,
        "No network path to Secrets Manager, SSM or ECR.",
        "Add a NAT gateway or VPC endpoints (secretsmanager, ssm, ecr.api, ecr.dkr, S3 gateway) and enable DNS resolution and DNS hostnames in the VPC.",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post https://api.ecr.us-east-1.amazonaws.com/: dial tcp 10.0.0.1:443: i/o timeout"
    ),
    row!(
        "efs-mount",
        Text(&[&["failed to invoke EFS utils"], &["mount.nfs4"]]),
        Failure,
        false,
        "The EFS volume could not be mounted.",
        "Check a mount target exists in the task's AZ, the security group allows NFS (2049), the access point and IAM authorisation.",
        "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out"
    ),
    row!(
        "resource-init-generic",
        Text(&[&["ResourceInitializationError"]]),
        Failure,
        false,
        "Fargate could not set up secrets, registry auth, logging or volumes before the start.",
        "Read the rest of the message: execution-role permissions and the network path to Secrets Manager, SSM, ECR and CloudWatch Logs are the usual causes.",
        "ResourceInitializationError: failed to configure ENI"
    ),
    // §3.3 process start failures
    row!(
        "exec-not-found",
        Text(&[&["executable file not found"], &["CannotStartContainerError", "no such file or directory"]]),
        Failure,
        false,
        "The entrypoint or command does not exist in the image.",
        "Check entryPoint/command in the task definition against the image (path, shell form vs exec form).",
        "CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: exec: \"/app/server\": executable file not found in $PATH"
    ),
    row!(
        "exec-permission",
        Text(&[&["CannotStartContainerError", "permission denied"]]),
        Failure,
        false,
        "The entrypoint is not executable.",
        "chmod +x the entrypoint in the Dockerfile.",
        "CannotStartContainerError: Error response from daemon: OCI runtime create failed: exec: \"/entrypoint.sh\": permission denied"
    ),
    row!(
        "exec-format",
        Text(&[&["exec format error"]]),
        Failure,
        false,
        "The image was built for another CPU architecture (arm64 vs x86_64).",
        "Match runtimePlatform.cpuArchitecture to the image, or build a multi-arch image.",
        "CannotStartContainerError: exec /usr/local/bin/app: exec format error"
    ),
    row!(
        "runtime-status",
        Text(&[&["failed to get container status"]]),
        Failure,
        false,
        "The container runtime failed.",
        "Retry; this is usually infrastructure.",
        "CannotStartContainerError: failed to get container status: context deadline exceeded"
    ),
    row!(
        "cannot-start-generic",
        Text(&[&["CannotStartContainerError"]]),
        Failure,
        false,
        "The runtime could not start the container process.",
        "Check the entrypoint, command, user and image architecture.",
        "CannotStartContainerError: Error response from daemon"
    ),
    // §2 task-level stoppedReason rows
    row!(
        "scaling-activity",
        Text(&[&["Scaling activity initiated by"]]),
        Benign,
        false,
        "Normal scale-in or replacement by the service scheduler.",
        "Benign: never counted. startedBy tells whose task it was.",
        "Scaling activity initiated by (deployment ecs-svc/8646900195280463695)"
    ),
    row!(
        "draining",
        Text(&[&["container instance is in DRAINING state"]]),
        Benign,
        false,
        "The EC2 instance was set to DRAINING (scale-in, instance refresh, spot drain).",
        "Benign: the scheduler moves the task elsewhere.",
        "Service scheduler stopped task because container instance is in DRAINING state"
    ),
    row!(
        "maintenance",
        Text(&[&["ECS is performing maintenance on the underlying infrastructure"]]),
        Infrastructure,
        false,
        "Fargate task retirement or patching.",
        "Benign for the gate: the replacement is automatic (see fargateTaskRetirementWaitPeriod).",
        "Task stopped because ECS is performing maintenance on the underlying infrastructure hosting the task"
    ),
    row!(
        "managed-instance-draining",
        Text(&[&["instance draining"]]),
        Infrastructure,
        false,
        "ECS Managed Instances drains its hosts (every 14–21 days) and stops their tasks.",
        "Not the application's fault: the service starts replacements; a one-off task must be run again (make it idempotent).",
        "Task stopped during instance draining"
    ),
    row!(
        "host-stopped",
        Text(&[&["Host EC2 (instance"]]),
        Infrastructure,
        false,
        "The EC2 host under the task was stopped or terminated (retirement, Spot without a drain, scale-in).",
        "Not the application's fault: enable managed draining on the capacity provider so tasks are moved before hosts go.",
        "Host EC2 (instance i-0123456789abcdef0) stopped/terminated"
    ),
    row!(
        "deregistration-forced",
        Text(&[&["Container instance deregistration forced by user"]]),
        Infrastructure,
        false,
        "Someone deregistered the container instance while the task ran on it.",
        "Not the application's fault: drain instances (DRAINING) before deregistering them.",
        "Container instance deregistration forced by user"
    ),
    row!(
        "elb-health",
        Text(&[&["failed ELB health checks"], &["is unhealthy in (target-group"]]),
        Failure,
        false,
        "The load balancer's target health check failed.",
        "Check the health-check path and port match what the app serves, the app listens on 0.0.0.0 (not 127.0.0.1), the task security group admits the load balancer on the container port, healthCheckGracePeriodSeconds covers start-up, the target type is ip for awsvpc, and the success codes (a 301/302/401 on / fails).",
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/abc)"
    ),
    row!(
        "container-health",
        Text(&[&["failed container health checks"]]),
        Failure,
        false,
        "The container healthCheck command kept failing.",
        "The check runs inside the image: is curl/wget there (slim, alpine and distroless images lack them; exit 127)? Is startPeriod long enough? Check retries/interval and CMD vs CMD-SHELL.",
        "Task failed container health checks"
    ),
    row!(
        "essential-exited",
        Text(&[&["Essential container in task exited"]]),
        Failure,
        true,
        "An essential container exited.",
        "Look at the container's reason and exit code, then its logs.",
        "Essential container in task exited"
    ),
    row!(
        "user-stop",
        Text(&[&["Task stopped by user"]]),
        Benign,
        false,
        "Someone or something called StopTask.",
        "Benign for the gate; CloudTrail's StopTask records say who.",
        "Task stopped by user"
    ),
    row!(
        "spot-interrupted",
        Text(&[&["Your Spot Task was interrupted"]]),
        Infrastructure,
        false,
        "Fargate Spot reclaimed the capacity.",
        "Transient: mix FARGATE on-demand into the capacity provider strategy and handle SIGTERM within 120 s.",
        "Your Spot Task was interrupted."
    ),
    row!(
        "runtime-timeout",
        Text(&[&["ContainerRuntimeTimeoutError"], &["DockerTimeoutError"], &["Could not transition to"]]),
        Failure,
        false,
        "The container did not reach RUNNING or STOPPED within the agent's timeout.",
        "The host or runtime is overloaded, the image is huge or the disk slow. Retry; on EC2 check docker/containerd health and the agent logs.",
        "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m"
    ),
    row!(
        "runtime-daemon",
        Text(&[&["CannotStopContainerError"], &["CannotInspectContainerError"]]),
        Failure,
        false,
        "A container runtime or daemon problem.",
        "Usually infrastructure: retry; on EC2 inspect the docker daemon and the disk.",
        "CannotStopContainerError: API error (500): cannot stop container: context deadline exceeded"
    ),
    row!(
        "cannot-create-container",
        Text(&[&["CannotCreateContainerError"]]),
        Failure,
        false,
        "The host's docker storage is exhausted (EC2).",
        "Clean images and containers (agent cleanup settings) or enlarge the data volume.",
        "CannotCreateContainerError: API error (500): devmapper: Thin Pool has 4350 free data blocks which is less than minimum required 4454 free data blocks"
    ),
    row!(
        "cannot-create-volume",
        Text(&[&["CannotCreateVolumeError"]]),
        Failure,
        false,
        "A volume of the task definition could not be created or mounted.",
        "Check EFS mount targets in the task's AZs, security-group NFS 2049, the access point and IAM authorisation.",
        "CannotCreateVolumeError: failed to create volume"
    ),
    row!(
        "eni-timeout",
        Text(&[&["Timeout waiting for network interface provisioning to complete"]]),
        Failure,
        false,
        "The awsvpc network interface was not attached in time.",
        "Check free IPs in the subnets, ENI quotas and ENI trunking limits on EC2; retry.",
        "Timeout waiting for network interface provisioning to complete."
    ),
    row!(
        "task-failed-to-start",
        Text(&[&["Task failed to start"]]),
        Failure,
        true,
        "The task failed to start.",
        "Look at the containers' reasons.",
        "Task failed to start"
    ),
    row!(
        "internal-error",
        Text(&[&["InternalError"], &["Internal error"]]),
        Failure,
        false,
        "An AWS-side failure.",
        "Retry. If it persists, check the subnets' AZs support the launch type or instance type, and open a support case.",
        "(service api) was unable to place a task. Reason: Internal error."
    ),
    // §5 service-level messages and placement reasons
    row!(
        "placement-cpu-memory",
        Text(&[&["RESOURCE:CPU"], &["RESOURCE:MEMORY"], &["insufficient CPU units"], &["insufficient memory"]]),
        Failure,
        false,
        "The EC2 cluster lacks CPU or memory for the task.",
        "Scale the Auto Scaling group or capacity provider (managed scaling), lower the task size, or check maximumPercent headroom.",
        "RESOURCE:CPU"
    ),
    row!(
        "placement-ports",
        Text(&[&["RESOURCE:PORTS"], &["already using a port required by your task"]]),
        Failure,
        false,
        "A static hostPort is already taken on every candidate instance.",
        "Use dynamic host ports (hostPort 0) or awsvpc, or lower maximumPercent so old tasks stop first.",
        "RESOURCE:PORTS"
    ),
    row!(
        "placement-eni",
        Text(&[&["RESOURCE:ENI"]]),
        Failure,
        false,
        "The instances are out of ENI slots (awsvpc).",
        "Enable awsvpcTrunking and use instance types that support it.",
        "RESOURCE:ENI"
    ),
    row!(
        "placement-fargate",
        Text(&[&["RESOURCE:FARGATE"], &["Capacity is unavailable at this time"]]),
        Infrastructure,
        false,
        "No Fargate (Spot) capacity in the chosen AZs or subnets.",
        "Add subnets in more AZs, fall back to FARGATE on-demand, retry.",
        "RESOURCE:FARGATE"
    ),
    row!(
        "placement-gpu",
        Text(&[&["RESOURCE:GPU"]]),
        Failure,
        false,
        "No GPU capacity for the task.",
        "Add GPU instances to the cluster or its capacity provider.",
        "RESOURCE:GPU"
    ),
    row!(
        "placement-agent",
        Exact(&["AGENT"]),
        Failure,
        false,
        "The ECS agent is disconnected on the candidate instance.",
        "Check the instance's health, the agent, and its network path to the ECS endpoints.",
        "AGENT"
    ),
    row!(
        "placement-attribute",
        Text(&[&["MissingAttribute"], &["MemberOf"], &["ATTRIBUTE"]]),
        Failure,
        false,
        "A placement constraint or required attribute is not satisfied.",
        "Update the AMI or agent, or fix the placement constraints (OS, architecture, ecs.capability.* attributes).",
        "ATTRIBUTE"
    ),
    row!(
        "task-quota",
        Text(&[&["reached the limit on the number of tasks"], &["reached the limit on the number of vCPUs"]]),
        Failure,
        false,
        "An account quota on concurrent tasks or vCPUs was reached.",
        "Request a quota increase.",
        "You've reached the limit on the number of tasks you can run concurrently"
    ),
    row!(
        "fargate-size-limit",
        Text(&[&["configuration is above your limit"]]),
        Failure,
        false,
        "The Fargate task size exceeds an account or Region limit.",
        "Request a quota increase or use a smaller size.",
        "The requested CPU configuration is above your limit"
    ),
    row!(
        "deployment-config",
        Text(&[&["because of the service deployment configuration"]]),
        Failure,
        false,
        "minimumHealthyPercent/maximumPercent leave no room to replace tasks.",
        "Set maximumPercent to 200 or more, or minimumHealthyPercent below 100.",
        "(service api) was unable to stop or start tasks during a deployment because of the service deployment configuration."
    ),
    row!(
        "start-impaired",
        Text(&[&["unable to consistently start tasks successfully"]]),
        Failure,
        false,
        "ECS throttles launches because tasks keep failing to start.",
        "The stopped tasks' reasons are the real cause; fix those.",
        "(service api) is unable to consistently start tasks successfully."
    ),
    row!(
        "throttled",
        Text(&[&["operations are being throttled"], &["ECS_OPERATION_THROTTLED"]]),
        Unknown,
        false,
        "ECS API operations are being throttled.",
        "Wait; this alone is not a deployment failure.",
        "(service api) operations are being throttled. Will try again later."
    ),
    row!(
        "circuit-breaker",
        Text(&[&["circuit breaker"]]),
        Failure,
        false,
        "The deployment circuit breaker stopped the deployment after repeated task failures.",
        "The stopped tasks' reasons and exit codes are the real cause; the rollback (if enabled) restores the previous revision.",
        "ECS deployment circuit breaker: tasks failed to start."
    ),
    // modern/README "Reason texts": the service event of an alarm rollback (CANARY, observed).
    row!(
        "alarm-rollback",
        Text(&[&["deployment failed: alarm detected"]]),
        Failure,
        false,
        "A CloudWatch alarm of the service's deployment configuration went into ALARM, and ECS rolled the deployment back.",
        "Find which alarm (aws ecs describe-service-deployments: alarms.triggeredAlarmNames) and read its state reason (aws cloudwatch describe-alarms); look at what the new revision does to the metric it watches.",
        "(service fraud-api-prod) (deployment ecs-svc/8028...) deployment failed: alarm detected."
    ),
];

/// Stop-code rows (HINTS.md §1), used when no text row says more.
pub static STOP_CODE_ROWS: &[HintRow] = &[
    row!(
        "stop-failed-to-start",
        StopCode("TaskFailedToStart"),
        Failure,
        false,
        "The task never reached RUNNING (image pull, secrets, logging driver, network interface, volume).",
        "Read the stopped reason and the containers' reasons.",
        "TaskFailedToStart"
    ),
    row!(
        "stop-essential-exited",
        StopCode("EssentialContainerExited"),
        Failure,
        false,
        "An essential container exited after starting.",
        "A service container should not exit: read its exit code and logs.",
        "EssentialContainerExited"
    ),
    row!(
        "stop-scheduler",
        StopCode("ServiceSchedulerInitiated"),
        Benign,
        false,
        "The service scheduler stopped the task.",
        "Health-check failures count as failures; scaling, draining and maintenance are benign.",
        "ServiceSchedulerInitiated"
    ),
    row!(
        "stop-user",
        StopCode("UserInitiated"),
        Benign,
        false,
        "StopTask was called by a person, a script or a tool.",
        "Benign for the gate; CloudTrail says who.",
        "UserInitiated"
    ),
    row!(
        "stop-spot",
        StopCode("SpotInterruption"),
        Infrastructure,
        false,
        "Fargate Spot capacity was reclaimed.",
        "Transient: mix FARGATE on-demand into the strategy.",
        "SpotInterruption"
    ),
    row!(
        "stop-termination-notice",
        StopCode("TerminationNotice"),
        Infrastructure,
        false,
        "The task's capacity is being terminated (Spot).",
        "Transient: mix on-demand capacity into the strategy.",
        "TerminationNotice"
    ),
    row!(
        "stop-infrastructure",
        StopCode("InfrastructureHealth"),
        Infrastructure,
        false,
        "The host or infrastructure was unhealthy.",
        "Transient: ECS replaces the task.",
        "InfrastructureHealth"
    ),
    row!(
        "stop-absent",
        NoStopCode,
        Unknown,
        false,
        "The event carries no stop code.",
        "Fall back to the stopped reason and the exit codes.",
        ""
    ),
    row!(
        "stop-unknown",
        UnknownStopCode,
        Unknown,
        false,
        "A stop code this version of ecsgate does not know.",
        "Fall back to the stopped reason and the exit codes.",
        "SomeFutureStopCode"
    ),
];

/// Exit-code rows (HINTS.md §4).
pub static EXIT_CODE_ROWS: &[HintRow] = &[
    row!(
        "exit-none",
        NoExitCode,
        Failure,
        false,
        "The container never ran.",
        "The cause is a pull, initialisation or placement failure: read the stopped reason.",
        ""
    ),
    row!(
        "exit-0",
        ExitCode(0),
        Failure,
        false,
        "The main process ended normally, which a service must not do.",
        "Is the command a one-shot, or a daemon that forks to the background? Keep the process in the foreground.",
        "0"
    ),
    row!(
        "exit-1",
        ExitCode(1),
        Failure,
        false,
        "Generic application error.",
        "Unhandled exception, bad configuration, a missing environment variable or secret value, a failed database connection or migration: read the container logs.",
        "1"
    ),
    row!(
        "exit-2",
        ExitCode(2),
        Failure,
        false,
        "Shell builtin misuse or a command-line argument error.",
        "Check the command and its flags in the task definition.",
        "2"
    ),
    row!(
        "exit-125",
        ExitCode(125),
        Failure,
        false,
        "The container runtime itself failed to run the container.",
        "Rare on ECS: check the runtime options of the task definition.",
        "125"
    ),
    row!(
        "exit-126",
        ExitCode(126),
        Failure,
        false,
        "The command was found but is not executable.",
        "Check file permissions (chmod +x) and the image architecture.",
        "126"
    ),
    row!(
        "exit-127",
        ExitCode(127),
        Failure,
        false,
        "Command not found.",
        "Wrong entrypoint, or a shell or tool missing from the image (also the health-check case).",
        "127"
    ),
    row!(
        "exit-134",
        ExitCode(134),
        Failure,
        false,
        "Aborted (SIGABRT).",
        "abort(), a failed assertion, heap corruption or a JVM/native crash: read the logs.",
        "134"
    ),
    row!(
        "exit-137",
        ExitCode(137),
        Failure,
        false,
        "Killed (SIGKILL): out of memory, or the process ignored SIGTERM and was killed after stopTimeout.",
        "Check the container reason for OutOfMemoryError and raise memory; otherwise handle SIGTERM within stopTimeout (30 s by default).",
        "137"
    ),
    row!(
        "exit-139",
        ExitCode(139),
        Failure,
        false,
        "Segmentation fault (SIGSEGV).",
        "A native crash or incompatible native libraries (musl vs glibc).",
        "139"
    ),
    row!(
        "exit-143",
        ExitCode(143),
        Benign,
        false,
        "Terminated by SIGTERM: a graceful stop.",
        "Expected on replacement, scale-in and for the other containers after an essential one died: not an error by itself.",
        "143"
    ),
    row!(
        "exit-255",
        ExitCode(255),
        Failure,
        false,
        "Exit status out of range or an unspecified fatal error.",
        "Often an entrypoint script failure or exec format error: read the logs.",
        "255"
    ),
    row!(
        "exit-signal",
        Signal,
        Failure,
        false,
        "Killed by a signal (exit code 128 + signal number).",
        "Read the logs around the stop.",
        "130"
    ),
];

/// The first text row matching `text`.
pub fn match_text(text: &str) -> Option<&'static HintRow> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    TEXT_ROWS.iter().find(|r| match r.key {
        Text(groups) => groups.iter().any(|g| g.iter().all(|needle| t.contains(needle))),
        Exact(words) => words.contains(&t),
        _ => false,
    })
}

pub fn match_stop_code(code: Option<&str>) -> &'static HintRow {
    let wanted = code.filter(|c| !c.is_empty());
    STOP_CODE_ROWS
        .iter()
        .find(|r| match (&r.key, wanted) {
            (StopCode(c), Some(w)) => *c == w,
            (NoStopCode, None) => true,
            _ => false,
        })
        .unwrap_or_else(|| STOP_CODE_ROWS.iter().find(|r| matches!(r.key, UnknownStopCode)).expect("row"))
}

pub fn match_exit_code(code: Option<i64>) -> Option<&'static HintRow> {
    EXIT_CODE_ROWS.iter().find(|r| match (&r.key, code) {
        (NoExitCode, None) => true,
        (ExitCode(c), Some(x)) => *c == x,
        (Signal, Some(x)) => x > 128 && x < 160,
        _ => false,
    })
}

/// A row rendered for the user: `cause` then what to do.
pub fn render(row: &HintRow) -> String {
    format!("{} {}", row.cause, row.hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_row_matches_its_own_example_first() {
        for row in TEXT_ROWS {
            let got = match_text(row.example).map(|r| r.id);
            assert_eq!(got, Some(row.id), "example of {} selects {:?}", row.id, got);
        }
    }

    #[test]
    fn every_stop_code_row_matches_its_own_example() {
        for row in STOP_CODE_ROWS {
            let code = (!row.example.is_empty()).then_some(row.example);
            assert_eq!(match_stop_code(code).id, row.id);
        }
    }

    #[test]
    fn every_exit_code_row_matches_its_own_example() {
        for row in EXIT_CODE_ROWS {
            let code = row.example.parse().ok();
            assert_eq!(match_exit_code(code).map(|r| r.id), Some(row.id));
        }
    }

    #[test]
    fn exit_codes_named_by_hints_md_all_have_their_own_row() {
        for code in [0, 1, 2, 125, 126, 127, 134, 137, 139, 143, 255] {
            let row = match_exit_code(Some(code)).unwrap();
            assert_eq!(row.id, format!("exit-{code}"));
        }
        assert_eq!(match_exit_code(Some(130)).unwrap().id, "exit-signal");
        assert!(match_exit_code(Some(42)).is_none());
    }

    #[test]
    fn service_messages_from_hints_md_section_5_have_hints() {
        let cases = [
            (
                "(service api) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance abc) has insufficient CPU units available.",
                "placement-cpu-memory",
            ),
            (
                "(service api) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance abc) is already using a port required by your task.",
                "placement-ports",
            ),
            (
                "(service api) (task 1234) (port 8080) is unhealthy in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/1) due to (reason Health checks failed with these codes: [404]).",
                "elb-health",
            ),
            ("(service api) (task 1234) failed container health checks.", "container-health"),
            (
                "Capacity is unavailable at this time. Please try again later or in a different availability zone",
                "placement-fargate",
            ),
        ];
        for (text, id) in cases {
            assert_eq!(match_text(text).map(|r| r.id), Some(id), "{text}");
        }
    }

    #[test]
    fn row_ids_are_unique() {
        let mut ids: Vec<_> = TEXT_ROWS.iter().chain(STOP_CODE_ROWS).chain(EXIT_CODE_ROWS).map(|r| r.id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
