//! `ecsgate history` and `ecsgate explain` (issue 18 item 3): what the hub saw of one service, judged
//! again. The hub's table keeps ECS events for its retention (30 days by default) while ECS forgets a
//! stopped task after about an hour; the events are judged by `replay`'s own path
//! ([`crate::replay::read_text`]) — the same engine and Driver as a live gate — so an old deployment gets
//! the verdict, culprit, exit code and hint a gate would have printed.
//!
//! Nothing is created: one SSM read (`--hub auto`), at most one DescribeServices (a name → the service
//! ARN that keys the table; none when an ARN is given), then a Query per key the service's events are
//! filed under; `explain` adds the culprit's task definition and log stream. `resume` of a gate that
//! detached on the hub comes here too when its deployment ended and left the service's list meanwhile.

use serde::Serialize;

use crate::aws::{self, Clients, hub};
use crate::cli::{ExplainArgs, HistoryArgs, HubReadArgs, OutputFormat};
use crate::engine::event::{EcsEvent, parse_envelope_str};
use crate::engine::time::{format_rfc3339_secs, now_millis, parse_rfc3339_millis};
use crate::engine::{Outcome, Target, Verdict};
use crate::error::AppError;
use crate::exit;
use crate::record::{Record, Recorder, Start};
use crate::report::text::foreign;
use crate::report::{GateReport, Reporter, view};

/// The service's events the hub holds, and where they were read.
struct HubRead {
    table: String,
    cluster: String,
    service: String,
    /// How the commands this one suggests name the service (`cluster/name`, or the ARN the user gave).
    service_arg: String,
    /// The service's ARN: its key in the table.
    key: String,
    from_ms: i64,
    events: Vec<hub::Stored>,
}

/// One deployment the stored events name with a deployment event, and its first event's time.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub deployment_id: String,
    pub first_ms: Option<i64>,
}

/// The deployments that stored events name, in the order they first appear. Only ids that a
/// `SERVICE_DEPLOYMENT_*` event names count: tasks of an older deployment (stopped while a newer one
/// replaces them) would otherwise list a deployment the window saw only the end of.
pub fn deployments_in(events: &[hub::Stored]) -> Vec<Seen> {
    let mut out: Vec<Seen> = Vec::new();
    for e in events {
        let Ok(EcsEvent::Deployment(d)) = parse_envelope_str(&e.body) else { continue };
        let Some(id) = d.deployment_id.filter(|id| !id.is_empty()) else { continue };
        let at = e.at.split('#').next().and_then(parse_rfc3339_millis).or(d.meta.time_ms);
        match out.iter_mut().find(|s| s.deployment_id == id) {
            Some(s) => s.first_ms = s.first_ms.into_iter().chain(at).min(),
            None => out.push(Seen { deployment_id: id, first_ms: at }),
        }
    }
    out
}

/// Whether a stored event is about deployment `id`: a deployment event of it, or a task it started.
fn names(e: &hub::Stored, id: &str) -> bool {
    match parse_envelope_str(&e.body) {
        Ok(EcsEvent::Deployment(d)) => d.deployment_id.as_deref() == Some(id),
        Ok(EcsEvent::Task(t)) => t.started_by.as_deref() == Some(id),
        _ => false,
    }
}

/// The stored events as a recording of one deployment: a start line naming it, then each event compacted
/// to one line as `--record` writes it (a stored body that is not JSON is left out). What is judged and
/// what `explain --record` writes are this one text.
fn recording(target: &Target, events: &[hub::Stored]) -> String {
    with_start(target, &event_lines(events))
}

/// The events as recording lines, each compacted to one line (built once for every deployment judged).
fn event_lines(events: &[hub::Stored]) -> String {
    let mut lines = String::new();
    for e in events {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.body) {
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
    }
    lines
}

/// A recording: the start line naming `target`, then `lines`.
fn with_start(target: &Target, lines: &str) -> String {
    let start = Start::new(std::slice::from_ref(target));
    let mut text = serde_json::to_string(&Record::Start(start)).unwrap_or_default();
    text.push('\n');
    text.push_str(lines);
    text
}

fn target(cluster: &str, service: &str, deployment_id: &str) -> Target {
    Target {
        cluster: Some(cluster.to_string()),
        service: Some(service.to_string()),
        deployment_id: Some(deployment_id.to_string()),
        until: None,
        rollback_of: None,
    }
}

/// Finds the table and the service's key, then reads its events from `since` ago.
async fn read(
    a: &HubReadArgs,
    since: std::time::Duration,
    known_arn: Option<String>,
) -> Result<(Clients, HubRead), AppError> {
    let (mut refs, arn_region) =
        super::settings::parse_services(std::slice::from_ref(&a.service), a.cluster.as_deref().unwrap_or("default"))?;
    let svc = refs.remove(0);
    // The hub is per region: another region's table holds none of this service's events.
    if let (Some(flag), Some(arn)) = (a.aws.region.as_deref(), arn_region.as_deref())
        && flag != arn
    {
        return Err(AppError::usage(format!("--region {flag} contradicts the service ARN's region {arn}"))
            .with_hint("the hub of the service's region holds its events: drop --region"));
    }
    let clients = aws::load(a.aws.region.clone().or(arn_region), a.aws.profile.clone()).await?;
    let given_arn = svc.service.starts_with("arn:");
    let service_arg = if given_arn { svc.service.clone() } else { format!("{}/{}", svc.cluster, svc.name()) };
    let key = match known_arn {
        Some(arn) => arn,
        None if given_arn => svc.service.clone(),
        None => service_arn(&clients, &svc.cluster, &svc.service).await?,
    };
    let from_ms = now_millis() - since.as_millis() as i64;
    let table = hub_table(&clients, &a.hub).await?;
    let mut events = Vec::new();
    for k in hub::keys_for(&key, &svc.cluster) {
        // Eventually consistent: history looks back at what was written long ago, at half the read cost.
        let more = hub::events_since(&clients, &table, &k, &hub::sort_key_at(from_ms), false)
            .await
            .map_err(|e| query_error(&table, &clients.region, e))?;
        events.extend(more);
    }
    // One service's events in the hub's order, whichever key they were filed under.
    events.sort_by(|a, b| a.at.cmp(&b.at));
    let read = HubRead {
        table,
        cluster: svc.cluster.clone(),
        service: svc.name().to_string(),
        service_arg,
        key,
        from_ms,
        events,
    };
    Ok((clients, read))
}

/// `--hub auto|TABLE` → the table, or the reason there is none (a usage error: the hub is set up once).
async fn hub_table(c: &Clients, spec: &str) -> Result<String, AppError> {
    match hub::resolve_table(c, spec).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(AppError::usage(format!(
            "no hub in {}: the SSM parameter {} does not exist",
            c.region,
            hub::PARAMETER
        ))
        .with_hint(
            "history lives in the hub: install it once (ecsgate hub template), or name its table with --hub TABLE",
        )),
        Err(e) => Err(aws::fatal("GetParameter", "ssm:GetParameter", e)),
    }
}

fn query_error(table: &str, region: &str, e: aws::ErrInfo) -> AppError {
    if e.kind == aws::Kind::NotFound {
        AppError::usage(format!("the hub's table {table} does not exist in {region}: {e}"))
            .with_hint("check --hub and --region (ecsgate doctor --hub auto checks the hub)")
    } else {
        aws::fatal("Query", "dynamodb:Query", e)
    }
}

/// The ARN that keys a service's events in the hub, from DescribeServices.
async fn service_arn(c: &Clients, cluster: &str, service: &str) -> Result<String, AppError> {
    use aws::ecs::DescribeError;
    match aws::ecs::describe_service(c, cluster, service).await {
        Ok((snap, _)) if !snap.service_arn.is_empty() => Ok(snap.service_arn),
        Ok(_) => Err(AppError::aws(format!("DescribeServices answered service {cluster}/{service} without its ARN"))
            .with_hint("give the service's ARN: --service arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME")),
        Err(DescribeError::Aws(e)) => Err(aws::fatal("DescribeServices", "ecs:DescribeServices", e)),
        Err(DescribeError::ClusterNotFound) => Err(AppError::usage(format!("cluster {cluster} not found"))
            .with_hint("check --cluster (or the cluster in --service) and --region; a deleted cluster's services are read by their ARN")),
        Err(DescribeError::ServiceNotFound(_)) => {
            Err(AppError::usage(format!("ECS knows no service {cluster}/{service}")).with_hint(
                "a deleted service's history is read by its ARN: --service arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME",
            ))
        }
    }
}

/// Every deployment the events name, newest first, with its verdict.
fn judge_all(h: &HubRead, max_task_failures: u32) -> Result<Vec<(Seen, Verdict)>, AppError> {
    let mut judged = Vec::new();
    let lines = event_lines(&h.events);
    for seen in deployments_in(&h.events).into_iter().rev() {
        let t = target(&h.cluster, &h.service, &seen.deployment_id);
        let text = with_start(&t, &lines);
        // No sink: only the verdict is wanted.
        let mut silent = Reporter::with_sinks(Vec::new());
        let report: GateReport = crate::replay::read_text(
            "the hub's events",
            &text,
            &t,
            max_task_failures,
            Outcome::InProgress,
            &mut silent,
        )?
        .conclude(&mut silent);
        if let Some(v) = report.verdicts.into_iter().next() {
            judged.push((seen, v));
        }
    }
    Ok(judged)
}

pub fn history(a: HistoryArgs) -> u8 {
    let mut reporter = Reporter::new(a.output, false, false, Some(false));
    super::block_on(&mut reporter, async |r| {
        let (_, h) = read(&a.read, a.since, None).await?;
        let judged = judge_all(&h, a.read.max_task_failures)?;
        r.print(&listing(&h, &judged, a.output, &suggested_flags(&a.read)));
        Ok(exit::SUCCEEDED)
    })
}

/// The flags a suggested command repeats: the ones the user set away from their defaults.
fn suggested_flags(a: &HubReadArgs) -> String {
    let mut out = String::new();
    if !a.hub.eq_ignore_ascii_case("auto") {
        out.push_str(&format!(" --hub {}", a.hub));
    }
    if let Some(r) = &a.aws.region {
        out.push_str(&format!(" --region {r}"));
    }
    if let Some(p) = &a.aws.profile {
        out.push_str(&format!(" --profile {p}"));
    }
    out
}

/// One line of `history --output json`: the deployment's verdict, with when it began.
#[derive(Serialize)]
struct Entry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    /// The time of its first event in the window.
    started_at: Option<String>,
    /// The deployment this one rolled back, when another listed verdict names it as its rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    rollback_of: Option<&'a str>,
    verdict: &'a Verdict,
}

/// The last line of `history --output json`, also when no deployment was found.
#[derive(Serialize)]
struct Summary<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    cluster: &'a str,
    service: &'a str,
    table: &'a str,
    since: String,
    deployments: usize,
}

/// What `history` prints: a line per deployment (newest first) or a JSON object each, then a summary.
fn listing(h: &HubRead, judged: &[(Seen, Verdict)], format: OutputFormat, flags: &str) -> String {
    // A rollback deployment is the one another verdict's rollback names as its own.
    let rollback_of = |id: &str| {
        judged
            .iter()
            .find(|(_, v)| v.rollback.as_ref().and_then(|r| r.deployment_id.as_deref()) == Some(id))
            .and_then(|(_, v)| v.deployment_id.as_deref())
    };
    if format == OutputFormat::Json {
        let mut lines: Vec<String> = judged
            .iter()
            .map(|(s, v)| {
                let e = Entry {
                    kind: "deployment",
                    started_at: s.first_ms.map(format_rfc3339_secs),
                    rollback_of: rollback_of(&s.deployment_id),
                    verdict: v,
                };
                serde_json::to_string(&e).unwrap_or_default()
            })
            .collect();
        let summary = Summary {
            kind: "history",
            cluster: &h.cluster,
            service: &h.service,
            table: &h.table,
            since: format_rfc3339_secs(h.from_ms),
            deployments: judged.len(),
        };
        lines.push(serde_json::to_string(&summary).unwrap_or_default());
        return lines.join("\n");
    }
    let mut out = vec![format!(
        "{}/{}: {} deployment(s) in the hub's table {} since {} (newest first)",
        foreign(&h.cluster),
        foreign(&h.service),
        judged.len(),
        foreign(&h.table),
        format_rfc3339_secs(h.from_ms)
    )];
    for (s, v) in judged {
        let vv = view::view(v);
        let mut line = format!(
            "  {}  {}  {:<11}",
            s.first_ms.map(format_rfc3339_secs).unwrap_or_else(|| "?".repeat(20)),
            foreign(&s.deployment_id),
            vv.word
        );
        let what: Vec<String> = rollback_of(&s.deployment_id)
            .map(|of| format!("rollback of {}", foreign(of)))
            .into_iter()
            .chain(vv.reason_short.clone())
            .chain(vv.culprit_short.clone())
            .collect();
        if !what.is_empty() {
            line.push_str("  ");
            line.push_str(&what.join(" · "));
        }
        out.push(line.trim_end().to_string());
    }
    if let Some((s, _)) = judged.iter().find(|(_, v)| v.outcome != Outcome::Succeeded).or(judged.first()) {
        out.push(format!(
            "explain one: ecsgate explain --service {} --deployment-id {}{}",
            foreign(&h.service_arg),
            foreign(&s.deployment_id),
            foreign(flags)
        ));
    }
    out.join("\n")
}

pub fn explain(a: ExplainArgs) -> u8 {
    let o = &a.output;
    let mut reporter = Reporter::new(o.output, o.quiet, false, o.github);
    super::block_on(&mut reporter, async |r| {
        // A --record path that cannot be written is refused before anything is read.
        if let Some(p) = &a.record {
            super::settings::check_record_path(p, a.force)?;
        }
        let (clients, h) = read(&a.read, a.since, None).await?;
        let record = a.record.as_deref().map(|p| (p, a.force));
        judge_one(&clients, &h, &a.deployment_id, a.read.max_task_failures, record, &suggested_flags(&a.read), r).await
    })
}

/// One deployment's verdict from the hub's events, printed by `reporter` as `replay` prints it, with the
/// diagnosis reads that outlive ECS's memory (the culprit's task definition and log lines, a hook's
/// log, the alarms), best effort within the gate's diagnosis budget.
async fn judge_one(
    clients: &Clients,
    h: &HubRead,
    deployment_id: &str,
    max_task_failures: u32,
    record: Option<(&std::path::Path, bool)>,
    flags: &str,
    r: &mut Reporter,
) -> Result<u8, AppError> {
    if !h.events.iter().any(|e| names(e, deployment_id)) {
        return Err(AppError::usage(format!(
            "the hub's table {} holds no event of deployment {} of {}/{} since {}",
            foreign(&h.table),
            foreign(deployment_id),
            foreign(&h.cluster),
            foreign(&h.service),
            format_rfc3339_secs(h.from_ms)
        ))
        .with_hint(format!(
            "ecsgate history --service {}{} lists the deployments the hub saw (--since reaches further back)",
            foreign(&h.service_arg),
            foreign(flags)
        )));
    }
    let t = target(&h.cluster, &h.service, deployment_id);
    let text = recording(&t, &h.events);
    if let Some((p, force)) = record {
        write_recording(p, force, &text)?;
        let path = p.display();
        r.info(&format!("ecsgate: wrote the hub's events to {path} (ecsgate replay {path} judges them again)"));
    }
    let mut driver =
        crate::replay::read_text("the hub's events", &text, &t, max_task_failures, Outcome::InProgress, r)?;
    if driver.any_unsuccessful() {
        let svcs = [super::wait::Svc {
            cluster: h.cluster.clone(),
            describe_as: h.service.clone(),
            name: h.service.clone(),
            service_arn: h.key.clone(),
            cluster_arn: String::new(),
            deployment_id: deployment_id.to_string(),
        }];
        let diagnosis = super::wait::diagnose_with(clients, &svcs, &mut driver, false, r);
        let _ = tokio::time::timeout(super::lite::DIAGNOSIS_BUDGET, diagnosis).await;
    }
    Ok(driver.conclude(r).exit_code)
}

/// `resume` of a gate that detached on the hub, when its deployment is no longer among the service's
/// (ECS drops a deployment once it is replaced — a failure rolled back between the jobs leaves no trace
/// in DescribeServices): the hub's events judge it, as `explain` does. `None`: the deployment is still
/// listed, or DescribeServices could not tell, and `wait` takes over (reporting any error itself).
pub fn resume_from_hub(w: &crate::cli::WaitArgs, deployment_id: &str, quiet: bool) -> Option<u8> {
    let service = w.service.first()?.clone();
    let spec = w.gate.hub.clone()?;
    // The gate's own settings: a bad flag is `wait`'s to report; its sinks (--notify, --junit, --otlp)
    // get this verdict as they would the gate's.
    let settings = super::settings::WaitSettings::from_args(w.clone()).ok()?;
    let o = &w.gate.output;
    let mut reporter = Reporter::new(o.output, o.quiet || quiet, false, o.github);
    reporter.notify_to(&settings.notify, settings.notify_on);
    reporter.junit_to(settings.junit.as_deref());
    reporter.otlp_to(settings.otlp.as_deref());
    let mut from_hub = false;
    let code = super::block_on(&mut reporter, async |r| {
        let a = HubReadArgs {
            service,
            cluster: Some(w.gate.cluster.clone()),
            hub: spec,
            max_task_failures: w.gate.max_task_failures,
            aws: w.gate.aws.clone(),
        };
        let svc = &settings.services[0];
        let clients = aws::load(w.gate.aws.region.clone(), w.gate.aws.profile.clone()).await?;
        let arn = match aws::ecs::describe_service(&clients, &svc.cluster, &svc.service).await {
            Ok((snap, _)) if !snap.deployments.iter().any(|d| d.id == deployment_id) => snap.service_arn,
            // Still listed, or DescribeServices could not tell: the gate's to judge.
            _ => return Ok(exit::SUCCEEDED),
        };
        from_hub = true;
        r.info(&format!(
            "ecsgate: deployment {} is no longer among service {}'s deployments: judging it from the hub's events",
            foreign(deployment_id),
            foreign(svc.name())
        ));
        let unused = [
            (settings.record.is_some(), "--record"),
            (settings.github_deployment.is_some(), "--github-deployment"),
            (settings.rollback_on_failure, "--rollback-on-failure"),
        ];
        for (_, flag) in unused.iter().filter(|(set, _)| *set) {
            r.warn(&format!("{flag} does not apply: the deployment ended before this job (judged from the hub)"));
        }
        let (_, h) = read(&a, HUB_LOOKBACK, Some(arn)).await?;
        judge_one(&clients, &h, deployment_id, a.max_task_failures, None, &suggested_flags(&a), r).await
    });
    // Judged (or failed trying) here, or an error before the check: that is the answer; otherwise `wait`.
    (from_hub || code != exit::SUCCEEDED).then_some(code)
}

/// How far back `resume` reads the hub for a deployment that left the service's list: the hub's
/// default retention.
const HUB_LOOKBACK: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// Writes the judged text itself; a write that fails part-way leaves no half recording.
fn write_recording(p: &std::path::Path, force: bool, text: &str) -> Result<(), AppError> {
    let cannot = |e: std::io::Error| {
        AppError::usage(format!("--record {}: {e}", p.display())).with_hint("give a path in a directory you can write")
    };
    let mut rec = Recorder::create(p, force).map_err(cannot)?;
    rec.text(text).map_err(|e| {
        let _ = std::fs::remove_file(p);
        cannot(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(at: &str, body: serde_json::Value) -> hub::Stored {
        hub::Stored { at: at.into(), body: body.to_string() }
    }

    fn deployment_event(id: &str, name: &str, time: &str) -> serde_json::Value {
        serde_json::json!({
            "version": "0", "id": format!("{id}-{name}"), "detail-type": "ECS Deployment State Change",
            "source": "aws.ecs", "account": "1", "time": time, "region": "eu-west-1",
            "resources": ["arn:aws:ecs:eu-west-1:1:service/shop/api"],
            "detail": {"eventType": "INFO", "eventName": name, "deploymentId": id, "updatedAt": time, "reason": "r"}
        })
    }

    #[test]
    fn only_deployments_named_by_a_deployment_event_are_listed_in_first_seen_order() {
        let task = serde_json::json!({
            "version": "0", "id": "t", "detail-type": "ECS Task State Change", "source": "aws.ecs",
            "time": "2026-12-01T09:59:00Z", "resources": ["arn:aws:ecs:eu-west-1:1:task/shop/abc"],
            "detail": {"taskArn": "arn:aws:ecs:eu-west-1:1:task/shop/abc", "lastStatus": "STOPPED",
                       "group": "service:api", "startedBy": "ecs-svc/0", "clusterArn": "arn:aws:ecs:eu-west-1:1:cluster/shop"}
        });
        let events = vec![
            stored("2026-12-01T09:59:00Z#t", task),
            stored(
                "2026-12-01T10:00:00Z#a",
                deployment_event("ecs-svc/1", "SERVICE_DEPLOYMENT_IN_PROGRESS", "2026-12-01T10:00:00Z"),
            ),
            stored(
                "2026-12-01T10:05:00Z#b",
                deployment_event("ecs-svc/1", "SERVICE_DEPLOYMENT_FAILED", "2026-12-01T10:05:00Z"),
            ),
            stored(
                "2026-12-01T10:05:01Z#c",
                deployment_event("ecs-svc/2", "SERVICE_DEPLOYMENT_IN_PROGRESS", "2026-12-01T10:05:01Z"),
            ),
            stored("not json#d", serde_json::json!({"x": 1})),
        ];
        let seen = deployments_in(&events);
        assert_eq!(
            seen.iter().map(|s| s.deployment_id.as_str()).collect::<Vec<_>>(),
            ["ecs-svc/1", "ecs-svc/2"],
            "the task of ecs-svc/0 names no deployment of the window"
        );
        assert_eq!(seen[0].first_ms, parse_rfc3339_millis("2026-12-01T10:00:00Z"));
    }

    #[test]
    fn the_recording_of_one_deployment_replays_to_its_verdict() {
        let events = vec![
            stored("a", deployment_event("ecs-svc/1", "SERVICE_DEPLOYMENT_IN_PROGRESS", "2026-12-01T10:00:00Z")),
            stored("b", deployment_event("ecs-svc/1", "SERVICE_DEPLOYMENT_FAILED", "2026-12-01T10:05:00Z")),
        ];
        let t = target("shop", "api", "ecs-svc/1");
        let text = recording(&t, &events);
        assert!(text.starts_with("{\"type\":\"start\""), "{text}");
        let mut silent = Reporter::with_sinks(Vec::new());
        let report = crate::replay::read_text("hub", &text, &t, 3, Outcome::InProgress, &mut silent)
            .unwrap()
            .conclude(&mut silent);
        assert_eq!(report.exit_code, exit::FAILED);
        assert_eq!(report.verdicts[0].deployment_id.as_deref(), Some("ecs-svc/1"));
    }

    #[test]
    fn hostile_text_in_the_hubs_events_never_becomes_a_runner_command_in_the_listing() {
        let hostile = [
            "::error file=a,line=1::forged",
            "ok ##[error]forged mid-line",
            "line one\n::warning::second line\r\n##[group]x",
            "\x1b[2J\x1b[31mred",
        ];
        let mut events = Vec::new();
        for (n, h) in hostile.iter().enumerate() {
            let id = format!("ecs-svc/{n}{h}");
            let mut e = deployment_event(&id, "SERVICE_DEPLOYMENT_FAILED", "2026-12-01T10:00:00Z");
            e["detail"]["reason"] = serde_json::json!(h);
            events.push(stored(&format!("2026-12-01T10:00:0{n}Z#{n}"), e));
        }
        let h = HubRead {
            table: "::set-output name=x::y".into(),
            cluster: "shop\n::error::c".into(),
            service: "api".into(),
            service_arg: "::error::arg".into(),
            key: "arn:aws:ecs:eu-west-1:1:service/shop/api".into(),
            from_ms: 0,
            events,
        };
        let judged = judge_all(&h, 3).unwrap();
        assert_eq!(judged.len(), hostile.len());
        // The human listing is safe as it is; JSON escapes line breaks and control characters, and its
        // lines pass `Reporter::print`'s guard like every printed line.
        let human = listing(&h, &judged, OutputFormat::Human, " --hub ::x");
        assert_eq!(human.lines().count(), 6, "a header, 4 deployments, the suggestion:\n{human}");
        for line in human.lines() {
            assert!(!line.trim_start().starts_with("::") && !line.contains("##["), "{line:?}");
            assert!(!line.contains('\x1b') && !line.contains('\r'), "{line:?}");
        }
        let json = listing(&h, &judged, OutputFormat::Json, "");
        assert_eq!(json.lines().count(), 5, "4 deployments and the summary:\n{json}");
        for line in json.lines().map(crate::report::text::guard_line) {
            assert!(!line.trim_start().starts_with("::") && !line.contains("##["), "{line:?}");
            assert!(!line.contains('\x1b') && !line.contains('\r'), "{line:?}");
        }
    }

    /// The bundled breaker rollback, as the hub would hold it.
    fn bundled(name: &str) -> Vec<hub::Stored> {
        let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter(|l| l.contains("detail-type"))
            .map(|l| hub::Stored { at: String::new(), body: l.into() })
            .collect()
    }

    fn hub_read(events: Vec<hub::Stored>) -> HubRead {
        HubRead {
            table: "ecsgate-hub".into(),
            cluster: "shop".into(),
            service: "api".into(),
            service_arg: "shop/api".into(),
            key: "arn:aws:ecs:eu-west-1:1:service/shop/api".into(),
            from_ms: 0,
            events,
        }
    }

    #[test]
    fn a_breaker_rollback_is_listed_failed_and_ecs_rollback_deployment_as_its_rollback() {
        let h = hub_read(bundled("breaker-rollback.jsonl"));
        let judged = judge_all(&h, 3).unwrap();
        let failed = judged.iter().find(|(_, v)| v.outcome == Outcome::Failed).expect("the failed deployment");
        let rollback_id = failed.1.rollback.as_ref().and_then(|r| r.deployment_id.clone()).expect("ECS's rollback");
        let text = listing(&h, &judged, OutputFormat::Human, "");
        let line = text.lines().find(|l| l.contains(&format!("  {rollback_id}  "))).unwrap_or_else(|| panic!("{text}"));
        let of = failed.1.deployment_id.as_deref().unwrap();
        assert!(line.contains(&format!("rollback of {of}")), "{line}");
        assert!(
            !text.lines().any(|l| l.contains(&format!("  {of}  ")) && l.contains("rollback of")),
            "the failed deployment is not a rollback:\n{text}"
        );
        let json = listing(&h, &judged, OutputFormat::Json, "");
        let entry: serde_json::Value = json
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["verdict"]["deployment_id"] == rollback_id.as_str())
            .unwrap();
        assert_eq!(entry["rollback_of"], of, "{entry}");
    }

    #[test]
    fn an_empty_history_still_prints_its_json_summary() {
        let h = hub_read(Vec::new());
        let json = listing(&h, &[], OutputFormat::Json, "");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["type"], "history");
        assert_eq!(v["deployments"], 0);
        assert!(listing(&h, &[], OutputFormat::Human, "").starts_with("shop/api: 0 deployment(s)"));
    }
}
