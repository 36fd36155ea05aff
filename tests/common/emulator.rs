//! The emulator harness: moto 5.2.5 plus our ECS layer (tests/emulator/server.py), started by
//! scripts/test.sh, found through ECSGATE_EMULATOR. Each test signs with its own access key (so injected
//! faults stay its own) and uses its own cluster.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_ecs::config::Credentials;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Emu {
    pub endpoint: String,
    pub key: String,
    pub cfg: aws_config::SdkConfig,
    /// The region every client and every spawned ecsgate uses: us-east-1, shared by the tests, unless a
    /// test takes its own with [`Emu::in_region`].
    pub region: String,
}

/// The emulator that scripts/test.sh (or scripts/bench.sh) started, found through ECSGATE_EMULATOR.
/// Without it this panics: an e2e test that cannot run must fail, never pass by skipping (a plain
/// `cargo test` without the emulator used to report 53 passing e2e tests that ran nothing). Always
/// `Some`; the `Option` stays for the benches that call `.expect` on it.
pub async fn emulator(test: &str) -> Option<Emu> {
    let Ok(endpoint) = std::env::var("ECSGATE_EMULATOR") else {
        panic!(
            "{test}: ECSGATE_EMULATOR is not set: the e2e tests need the emulator; run scripts/test.sh \
             (or `source scripts/emulator.sh && ensure_venv && start_emulator` first)"
        );
    };
    let key = format!("AKID{}", test.replace('_', "").to_uppercase());
    let cfg = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(&key, "secret", None, None, "test"))
        .load()
        .await;
    Some(Emu { endpoint, key, cfg, region: "us-east-1".into() })
}

#[derive(Clone)]
pub struct Svc {
    pub cluster: String,
    pub name: String,
    pub service_arn: String,
    pub cluster_arn: String,
    pub deployment: String,
    pub old_deployment: String,
    pub task_definition: String,
}

impl Emu {
    /// The same emulator in a region of this test's own (moto keeps each region apart), for what must not
    /// touch what the other tests create in the shared one, such as `gc`.
    pub fn in_region(&self, region: &str) -> Emu {
        let cfg = self.cfg.to_builder().region(aws_config::Region::new(region.to_string())).build();
        Emu { cfg, region: region.into(), ..self.clone() }
    }

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.cfg)
    }
    pub fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.cfg)
    }
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.cfg)
    }
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.cfg)
    }

    /// A cluster with service `api` (2 tasks) and a deployment in progress: UpdateService with a new
    /// task definition, as a pipeline does right before `ecsgate wait`.
    pub async fn service(&self, cluster: &str) -> Svc {
        self.service_named(cluster, "api").await
    }

    /// Service `name` in `cluster` (created if need be), with a deployment in progress.
    pub async fn service_named(&self, cluster: &str, name: &str) -> Svc {
        use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration, LogDriver};
        let ecs = self.ecs();
        ecs.create_cluster().cluster_name(cluster).send().await.unwrap();
        let container = |image: &str| {
            ContainerDefinition::builder()
                .name("app")
                .image(image)
                .memory(128)
                .essential(true)
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .options("awslogs-group", format!("/ecs/{cluster}"))
                        .options("awslogs-region", "us-east-1")
                        .options("awslogs-stream-prefix", "ecs")
                        .build()
                        .unwrap(),
                )
                .build()
        };
        let register = async |image: &str| {
            let out =
                ecs.register_task_definition().family(cluster).container_definitions(container(image)).send().await;
            out.unwrap().task_definition().unwrap().task_definition_arn().unwrap().to_string()
        };
        let td1 = register("app:1").await;
        let created = ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(&td1)
            .desired_count(2)
            .send()
            .await
            .unwrap();
        let service_arn = created.service().unwrap().service_arn().unwrap().to_string();
        let cluster_arn = created.service().unwrap().cluster_arn().unwrap().to_string();
        let old_deployment = created.service().unwrap().deployments()[0].id().unwrap().to_string();
        let td2 = register("app:2").await;
        let updated = ecs.update_service().cluster(cluster).service(name).task_definition(&td2).send().await.unwrap();
        let deployment = primary_id(updated.service().unwrap());
        assert_ne!(deployment, old_deployment, "the emulator layer creates a new deployment on UpdateService");
        Svc {
            cluster: cluster.into(),
            name: name.into(),
            service_arn,
            cluster_arn,
            deployment,
            old_deployment,
            task_definition: td2,
        }
    }

    /// The hub as its template installs it, in this emulator's region: the table (key, at) and the SSM
    /// parameter naming it — from then on the emulator writes every ECS event put on the region's bus
    /// into the table with the template's own ingestion code. Installing it again changes nothing.
    pub async fn install_hub(self, table: &str) -> Emu {
        self.create_hub_table(table).await;
        let ssm = aws_sdk_ssm::Client::new(&self.cfg);
        ssm.put_parameter()
            .name("/ecsgate/hub/table")
            .value(table)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
        self
    }

    /// A table shaped as the hub's template creates it (key HASH, at RANGE); an existing one stays.
    pub async fn create_hub_table(&self, table: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let ddb = aws_sdk_dynamodb::Client::new(&self.cfg);
        let attr = |n: &str| {
            AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().unwrap()
        };
        let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
        // Callers share the hub: a second CreateTable finds it (ResourceInUseException).
        let _ = ddb
            .create_table()
            .table_name(table)
            .attribute_definitions(attr("key"))
            .attribute_definitions(attr("at"))
            .key_schema(key("key", KeyType::Hash))
            .key_schema(key("at", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
    }

    /// POST to the emulator layer's control API.
    pub fn ctl(&self, path: &str, body: Value) -> Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let body = body.to_string();
        write!(s, "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let (head, body) = resp.split_once("\r\n\r\n").unwrap();
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"), "{path}: {head} {v}");
        v
    }

    pub fn get(&self, path: &str) -> Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        serde_json::from_str(resp.split_once("\r\n\r\n").unwrap().1).unwrap()
    }

    pub fn fault(&self, body: Value) {
        let mut b = body;
        b["key"] = json!(self.key);
        self.ctl("/_ecsgate/fault", b);
    }

    /// A stopped task of `deployment`, consistent with the event the test emits for it.
    pub fn stopped_task(
        &self,
        svc: &Svc,
        deployment: &str,
        stop_code: &str,
        reason: &str,
        exit_code: Option<i64>,
        container_reason: Option<&str>,
    ) -> String {
        let mut c = json!({"name": "app", "lastStatus": "STOPPED"});
        if let Some(x) = exit_code {
            c["exitCode"] = json!(x);
        }
        if let Some(r) = container_reason {
            c["reason"] = json!(r);
        }
        let v = self.ctl(
            "/_ecsgate/task",
            json!({"cluster": svc.cluster, "service": svc.name, "started_by": deployment, "task_definition": svc.task_definition,
                   "lastStatus": "STOPPED", "stopCode": stop_code, "stoppedReason": reason, "containers": [c],
                   "region": self.region}),
        );
        v["taskArn"].as_str().unwrap().to_string()
    }

    pub async fn put_event(&self, detail_type: &str, resources: Vec<String>, detail: Value) {
        use aws_sdk_eventbridge::types::PutEventsRequestEntry;
        let e = PutEventsRequestEntry::builder()
            .source("aws.ecs")
            .detail_type(detail_type)
            .set_resources(Some(resources))
            .detail(detail.to_string())
            .build();
        let out = self.events().put_events().entries(e).send().await.unwrap();
        assert_eq!(out.failed_entry_count(), 0);
    }

    /// The service's deploymentConfiguration (strategy, bake, hooks, alarms), as DescribeServices answers it.
    pub fn service_config(&self, svc: &Svc, cfg: Value) {
        let v = self.ctl(
            "/_ecsgate/service_config",
            json!({"cluster": svc.cluster, "service": svc.name, "deployment_configuration": cfg, "region": self.region}),
        );
        assert_eq!(v["ok"], true, "{v}");
    }

    /// Drives service deployment `arn` (the service's current one): merges `fields` into what
    /// Describe/ListServiceDeployments answer, and emits a hook event when `hook` is given.
    pub fn service_deployment(&self, svc: &Svc, arn: &str, fields: Value, hook: Option<Value>) {
        let mut body = json!({"cluster": svc.cluster, "service": svc.name, "service_deployment_arn": arn, "fields": fields,
                              "region": self.region});
        if let Some(h) = hook {
            body["emit_hook"] = h;
        }
        let v = self.ctl("/_ecsgate/service_deployment", body);
        assert_eq!(v["serviceDeploymentArn"], arn, "{v}");
    }

    /// A CloudWatch alarm's state and reason, as DescribeAlarms answers it.
    pub fn alarm(&self, name: &str, state: &str, reason: &str) {
        let v = self.ctl("/_ecsgate/alarm", json!({"name": name, "state": state, "reason": reason}));
        assert_eq!(v["ok"], true, "{v}");
    }

    /// A log group and stream with these lines (a Lambda function's, say).
    pub async fn log_lines(&self, group: &str, stream: &str, lines: &[&str]) {
        use aws_sdk_cloudwatchlogs::types::InputLogEvent;
        let logs = self.logs();
        let _ = logs.create_log_group().log_group_name(group).send().await;
        let _ = logs.create_log_stream().log_group_name(group).log_stream_name(stream).send().await;
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let events: Vec<InputLogEvent> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| InputLogEvent::builder().timestamp(t + i as i64).message(*l).build().unwrap())
            .collect();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }

    /// ECS's FAILED of our deployment when its circuit breaker trips.
    pub async fn breaker_failed(&self, svc: &Svc) {
        let reason = "ECS deployment circuit breaker: tasks failed to start.";
        self.deployment_event(svc, "SERVICE_DEPLOYMENT_FAILED", &svc.deployment, reason).await;
    }

    pub async fn deployment_event(&self, svc: &Svc, name: &str, id: &str, reason: &str) {
        let detail = json!({"eventType": if name.ends_with("FAILED") {"ERROR"} else {"INFO"}, "eventName": name, "deploymentId": id,
            "updatedAt": now_rfc3339(), "reason": reason, "clusterArn": svc.cluster_arn});
        self.put_event("ECS Deployment State Change", vec![svc.service_arn.clone()], detail).await;
    }

    /// A task event shaped like the real DEFRA/arkime samples, for a task the emulator also knows.
    pub async fn task_event(
        &self,
        svc: &Svc,
        task_arn: &str,
        started_by: &str,
        status: &str,
        version: i64,
        stop: Option<(&str, &str, Option<i64>, Option<&str>)>,
    ) {
        let mut d = crate::common::fixture("task__stopped-essential-exit1-defra.json")["detail"].clone();
        d["taskArn"] = json!(task_arn);
        d["clusterArn"] = json!(svc.cluster_arn);
        d["group"] = json!(format!("service:{}", svc.name));
        d["startedBy"] = json!(started_by);
        d["lastStatus"] = json!(status);
        d["version"] = json!(version);
        d["taskDefinitionArn"] = json!(svc.task_definition);
        let mut c = json!({"name": "app", "lastStatus": status, "image": "app:2"});
        match stop {
            Some((code, reason, exit, creason)) => {
                d["stopCode"] = json!(code);
                d["stoppedReason"] = json!(reason);
                d["stoppedAt"] = json!(now_rfc3339());
                if let Some(x) = exit {
                    c["exitCode"] = json!(x);
                }
                if let Some(r) = creason {
                    c["reason"] = json!(r);
                }
            }
            None => {
                for k in ["stopCode", "stoppedReason", "stoppedAt", "stoppingAt", "executionStoppedAt"] {
                    d.as_object_mut().unwrap().remove(k);
                }
                d["desiredStatus"] = json!("RUNNING");
            }
        }
        d["containers"] = json!([c]);
        self.put_event("ECS Task State Change", vec![task_arn.to_string()], d).await;
    }

    /// `ecsgate wait` as a child process against the emulator.
    pub fn spawn_wait(&self, svc: &Svc, extra: &[&str]) -> Child {
        self.wait_command(svc, extra).spawn().unwrap()
    }

    /// `ecsgate wait` for `svc` at test speed, not yet spawned: a test adds its environment first.
    pub fn wait_command(&self, svc: &Svc, extra: &[&str]) -> Command {
        let mut cmd = super::command();
        cmd.args([
            "wait",
            "--cluster",
            &svc.cluster,
            "--service",
            &svc.name,
            "--reconcile-interval",
            "1s",
            "--poll-interval",
            "500ms",
            "--wait-seconds",
            "2",
        ]);
        cmd.args(extra);
        self.env(&mut cmd);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        cmd
    }

    /// `ecsgate wait` over several services, as given (names, `cluster/name` or ARNs), with the
    /// test-speed periods of [`Emu::spawn_wait`].
    pub fn spawn_gate(&self, args: &[&str]) -> Child {
        let mut cmd = super::command();
        cmd.args(["wait", "--reconcile-interval", "1s", "--poll-interval", "500ms", "--wait-seconds", "2"]);
        cmd.args(args);
        self.env(&mut cmd);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        cmd.spawn().unwrap()
    }

    /// `ecsgate wait` signing with its own access key, so faults injected for `key` hit only ecsgate and
    /// the test can still clean up with its own.
    pub fn spawn_gate_as(&self, key: &str, args: &[&str]) -> Child {
        let mut cmd = super::command();
        cmd.args(["wait", "--reconcile-interval", "1s", "--poll-interval", "500ms", "--wait-seconds", "2"]);
        cmd.args(args);
        self.env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", key);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        cmd.spawn().unwrap()
    }

    /// Deletes what an ecsgate left for `svc` (its rule's target, the rule, the queue).
    pub async fn clean_up(&self, svc: &Svc) {
        for r in self.rules_for(svc).await {
            let _ = self.events().remove_targets().rule(&r).ids("ecsgate").send().await;
            self.events().delete_rule().name(&r).send().await.unwrap();
        }
        for q in self.queues_for(svc).await {
            self.sqs().delete_queue().queue_url(q).send().await.unwrap();
        }
    }

    /// API calls this test's key made, by `service.Action`.
    pub fn calls(&self) -> Value {
        self.get(&format!("/_ecsgate/calls?key={}", self.key))
    }

    /// Three failed tasks of `svc`'s deployment (exit 1), each in the API and as an event.
    pub async fn crash_loop(&self, svc: &Svc) {
        self.failed_tasks(svc, 3).await;
    }

    /// `n` failed tasks of `svc`'s deployment (exit 1), each in the API and as an event.
    pub async fn failed_tasks(&self, svc: &Svc, n: usize) {
        let stop = Some(("EssentialContainerExited", "Essential container in task exited", Some(1), None));
        for _ in 0..n {
            let arn = self.stopped_task(
                svc,
                &svc.deployment,
                "EssentialContainerExited",
                "Essential container in task exited",
                Some(1),
                None,
            );
            self.task_event(svc, &arn, &svc.deployment, "STOPPED", 5, stop).await;
        }
    }

    pub fn env(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", &self.region)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("AWS_PROFILE");
    }

    /// `ecsgate wait`, returned once its rule exists (so the events a test emits are delivered).
    pub async fn start_wait(&self, svc: &Svc, extra: &[&str]) -> Child {
        let child = self.spawn_wait(svc, extra);
        self.wait_for_rule(svc).await;
        child
    }

    /// Waits until ecsgate's rule for this service exists and has its queue as target (so events
    /// emitted from now on are delivered).
    pub async fn wait_for_rule(&self, svc: &Svc) -> String {
        let start = Instant::now();
        loop {
            if let Some(r) = self.rules_for(svc).await.into_iter().next() {
                let targets = self.events().list_targets_by_rule().rule(&r).send().await;
                if targets.is_ok_and(|t| !t.targets().is_empty()) {
                    return r;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(20), "ecsgate never created its rule");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn rules_for(&self, svc: &Svc) -> Vec<String> {
        let ev = self.events();
        let mut out = Vec::new();
        let rules = ev.list_rules().name_prefix("ecsgate-").send().await.unwrap();
        for r in rules.rules() {
            let tags = ev.list_tags_for_resource().resource_arn(r.arn().unwrap()).send().await;
            let Ok(tags) = tags else { continue };
            if tags.tags().iter().any(|t| t.key() == "ecsgate:service" && t.value() == svc.service_arn) {
                out.push(r.name().unwrap().to_string());
            }
        }
        out
    }

    pub async fn queues_for(&self, svc: &Svc) -> Vec<String> {
        let sqs = self.sqs();
        let mut out = Vec::new();
        let q = sqs.list_queues().queue_name_prefix("ecsgate-").send().await.unwrap();
        for url in q.queue_urls() {
            let Ok(tags) = sqs.list_queue_tags().queue_url(url).send().await else { continue };
            if tags.tags().and_then(|t| t.get("ecsgate:service")) == Some(&svc.service_arn) {
                out.push(url.clone());
            }
        }
        out
    }

    pub async fn assert_nothing_left(&self, svc: &Svc) {
        assert_eq!(self.rules_for(svc).await, Vec::<String>::new(), "an ecsgate rule was left behind");
        assert_eq!(self.queues_for(svc).await, Vec::<String>::new(), "an ecsgate queue was left behind");
    }
}

/// The PRIMARY deployment's id in a service description.
pub fn primary_id(s: &aws_sdk_ecs::types::Service) -> String {
    s.deployments().iter().find(|d| d.status() == Some("PRIMARY")).and_then(|d| d.id()).unwrap().to_string()
}

pub fn now_rfc3339() -> String {
    ecsgate::engine::time::format_rfc3339_millis(ecsgate::engine::time::now_millis())
}

pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Waits for the child (at most `limit`), returning its exit code and output.
pub async fn finish(child: Child, limit: Duration) -> Done {
    let start = Instant::now();
    let pid = child.id();
    let h = tokio::task::spawn_blocking(move || child.wait_with_output());
    let Ok(joined) = tokio::time::timeout(limit, h).await else {
        // Kill it, or the blocking wait would keep the test's runtime (and the suite) from ending.
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        panic!("ecsgate did not exit within {limit:?}");
    };
    let out = joined.unwrap().unwrap();
    Done {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

impl Emu {
    /// `ecsgate deploy` (or any subcommand) with test-speed periods, signing with `key`.
    pub fn spawn_as(&self, key: &str, args: &[&str]) -> Child {
        let mut cmd = super::command();
        cmd.args(args);
        cmd.args(["--reconcile-interval", "1s", "--poll-interval", "500ms", "--wait-seconds", "2"]);
        self.env(&mut cmd);
        cmd.env("AWS_ACCESS_KEY_ID", key);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        cmd.spawn().unwrap()
    }

    /// The calls `key` made, in order (`service.Action`).
    pub fn log(&self, key: &str) -> Vec<String> {
        serde_json::from_value(self.get(&format!("/_ecsgate/log?key={key}"))).unwrap()
    }

    /// The service's PRIMARY deployment id and its task definition.
    pub async fn primary(&self, svc: &Svc) -> (String, String) {
        let out = self.ecs().describe_services().cluster(&svc.cluster).services(&svc.name).send().await.unwrap();
        let s = &out.services()[0];
        let d = s.deployments().iter().find(|d| d.status() == Some("PRIMARY")).unwrap();
        (d.id().unwrap().to_string(), d.task_definition().unwrap_or_default().to_string())
    }

    /// Waits until the service's PRIMARY deployment is not `not`; returns it and its task definition.
    pub async fn new_primary(&self, svc: &Svc, not: &str) -> (String, String) {
        let start = Instant::now();
        loop {
            let p = self.primary(svc).await;
            if p.0 != not {
                return p;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no new PRIMARY deployment");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One request an [`http_server`] received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST /path HTTP/1.1`.
    pub line: String,
    /// Lower-cased names, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What an [`http_server`] answers a request: the status line's tail (`200 OK`), extra header lines
/// (each ending in CRLF) and the body — or `None` to never answer.
pub type Respond = fn(&Request) -> Option<(&'static str, String, String)>;

/// A local HTTP server on 127.0.0.1 (a webhook, a relay, the GitHub API, an OTLP collector): it records
/// each request and answers as `respond` says. Returns its base URL and the requests received.
pub fn http_server(respond: Respond) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Request>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let keep = keep.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let mut lines = head.lines();
                    let line = lines.next().unwrap_or_default().to_string();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    if body.len() < len {
                        continue;
                    }
                    let req = Request { line, headers, body: body[..len].to_string() };
                    let answer = respond(&req);
                    keep.lock().unwrap().push(req);
                    match answer {
                        Some((status, extra, body)) => {
                            let _ = s.write_all(
                                format!(
                                    "HTTP/1.1 {status}\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                                    body.len()
                                )
                                .as_bytes(),
                            );
                        }
                        None => std::thread::sleep(Duration::from_secs(60)),
                    }
                    return;
                }
            });
        }
    });
    (url, seen)
}

/// A webhook that answers 200 — or never answers (`hang`); the requests it received.
pub fn http_sink(hang: bool) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Request>>>) {
    if hang { http_server(|_| None) } else { http_server(|_| Some(("200 OK", String::new(), "ok".into()))) }
}

/// A running ecsgate whose output the test reads as it comes, so it can wait for what the gate *said*
/// (a line, a state) instead of sleeping and hoping the gate got there.
pub struct Watch {
    child: Child,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    err: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

/// Starts reading `child`'s piped stdout and stderr.
pub fn watch(mut child: Child) -> Watch {
    use std::sync::{Arc, Mutex};
    fn pump(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    }
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let readers = vec![
        pump(child.stdout.take().expect("stdout piped"), out.clone()),
        pump(child.stderr.take().expect("stderr piped"), err.clone()),
    ];
    Watch { child, out, err, readers }
}

impl Watch {
    pub fn child(&self) -> &Child {
        &self.child
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// Waits until stdout or stderr holds `needle`; fails the test (with what was printed) after `bound`.
    /// The bound is generous: it only turns a hang into a failure, it is not what the test measures.
    pub async fn until(&self, needle: &str, bound: Duration) {
        let start = Instant::now();
        while !(self.stdout().contains(needle) || self.stderr().contains(needle)) {
            assert!(
                start.elapsed() < bound,
                "ecsgate did not print {needle:?} within {bound:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the exit (at most `limit`), like [`finish`].
    pub async fn finish(mut self, limit: Duration) -> Done {
        let start = Instant::now();
        let pid = self.child.id();
        let h = tokio::task::spawn_blocking(move || {
            let status = self.child.wait();
            for r in self.readers.drain(..) {
                let _ = r.join();
            }
            (status, self.out, self.err)
        });
        let Ok(joined) = tokio::time::timeout(limit, h).await else {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("ecsgate did not exit within {limit:?}");
        };
        let (status, out, err) = joined.unwrap();
        Done {
            code: status.unwrap().code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.lock().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&err.lock().unwrap()).into_owned(),
            elapsed: start.elapsed(),
        }
    }
}

/// Waits until the emulator has seen `action` (e.g. "ecs.DescribeServices") signed with `key` more than
/// `after` times; fails the test after `bound`.
pub async fn until_call(emu: &Emu, key: &str, action: &str, after: usize, bound: Duration) {
    let start = Instant::now();
    loop {
        let n = emu.log(key).iter().filter(|c| c.as_str() == action).count();
        if n > after {
            return;
        }
        assert!(start.elapsed() < bound, "no {action} by {key} within {bound:?} (seen {n}, waited for > {after})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
