//! `ecsgate history` and `ecsgate explain` (issue 18 item 3): what the hub saw of one service, judged
//! again. The hub's table keeps ECS events for its retention (30 days by default) while ECS forgets a
//! stopped task after about an hour; the events are judged by `replay`'s own path
//! ([`crate::replay::judge_text`]) — the same engine and Driver as a live gate — so an old deployment gets
//! the verdict, culprit, exit code and hint a gate would have printed.
//!
//! Nothing is created: one SSM read (`--hub auto`), at most one DescribeServices (a name → the service
//! ARN that keys the table; none when an ARN is given), then the table's Query.

use std::cell::RefCell;
use std::rc::Rc;

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
use crate::report::{GateReport, Reporter, Sink, Who, view};

/// The service's events the hub holds, and where they were read.
struct HubRead {
    table: String,
    cluster: String,
    service: String,
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

/// The stored events as a recording of one deployment: a start line naming it, then the events as
/// EventBridge delivered them. `replay` reads it; `explain --record` writes it.
fn recording(target: &Target, events: &[hub::Stored]) -> (Start, String) {
    let start = Start::new(std::slice::from_ref(target));
    let mut text = serde_json::to_string(&Record::Start(start.clone())).unwrap_or_default();
    for e in events {
        text.push('\n');
        text.push_str(&e.body);
    }
    text.push('\n');
    (start, text)
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
async fn read(a: &HubReadArgs, since: std::time::Duration) -> Result<(Clients, HubRead), AppError> {
    let (mut refs, arn_region) =
        super::settings::parse_services(std::slice::from_ref(&a.service), a.cluster.as_deref().unwrap_or("default"))?;
    let svc = refs.remove(0);
    let clients = aws::load(a.aws.region.clone().or(arn_region), a.aws.profile.clone()).await?;
    let table = if a.hub.eq_ignore_ascii_case("auto") {
        match hub::table_from_parameter(&clients).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(AppError::usage(format!(
                    "no hub in {}: the SSM parameter {} does not exist",
                    clients.region,
                    hub::PARAMETER
                ))
                .with_hint("history lives in the hub: install it once (ecsgate hub template), or name its table with --hub TABLE"));
            }
            Err(e) => return Err(aws::fatal("GetParameter", "ssm:GetParameter", e)),
        }
    } else {
        a.hub.clone()
    };
    let key = if svc.service.starts_with("arn:") {
        svc.service.clone()
    } else {
        match aws::ecs::describe_service(&clients, &svc.cluster, &svc.service).await {
            Ok((snap, _)) => snap.service_arn,
            Err(aws::ecs::DescribeError::Aws(e)) => {
                return Err(aws::fatal("DescribeServices", "ecs:DescribeServices", e));
            }
            Err(_) => {
                return Err(AppError::usage(format!("ECS knows no service {}/{}", svc.cluster, svc.name())).with_hint(
                    "a deleted service's history is read by its ARN: --service arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME",
                ));
            }
        }
    };
    let from_ms = now_millis() - since.as_millis() as i64;
    let events = hub::events_since(&clients, &table, &key, &hub::sort_key_at(from_ms)).await.map_err(|e| {
        if e.kind == aws::Kind::NotFound {
            AppError::usage(format!("the hub's table {table} does not exist in {}: {e}", clients.region))
                .with_hint("check --hub and --region (ecsgate doctor --hub auto checks the hub)")
        } else {
            aws::fatal("Query", "dynamodb:Query", e)
        }
    })?;
    let cluster = aws::arn_parts(&key).map(|_| cluster_of(&key)).unwrap_or(svc.cluster.clone());
    Ok((clients, HubRead { table, cluster, service: crate::engine::arn_name(&key).to_string(), from_ms, events }))
}

/// The cluster of a service ARN (`…:service/CLUSTER/NAME`).
fn cluster_of(service_arn: &str) -> String {
    // The old ARN format has no cluster (`…:service/NAME`): the default cluster's.
    let path: Vec<&str> = service_arn.rsplit(':').next().unwrap_or_default().split('/').collect();
    if path.len() >= 3 { path[1].to_string() } else { "default".to_string() }
}

/// Keeps the report a replay concludes, printing nothing.
struct Keep(Rc<RefCell<Option<GateReport>>>);

impl Sink for Keep {
    fn note(&mut self, _who: &Who, _n: &crate::engine::Note) {}
    fn warn(&mut self, _msg: &str) {}
    fn error(&mut self, _e: &AppError) {}
    fn report(&mut self, r: &GateReport) {
        *self.0.borrow_mut() = Some(r.clone());
    }
}

/// One line of `history --output json`: the deployment's verdict, with when it began.
#[derive(Serialize)]
struct Entry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    started_at: Option<String>,
    /// The deployment this one rolled back, when another listed verdict names it as its rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    rollback_of: Option<&'a str>,
    verdict: &'a Verdict,
}

pub fn history(a: HistoryArgs) -> u8 {
    let mut reporter = Reporter::new(a.output, false, false, Some(false));
    super::block_on(&mut reporter, async |r| {
        let (_, h) = read(&a.read, a.since).await?;
        let judged = judge_all(&h, a.read.max_task_failures)?;
        r.print(&listing(&h, &judged, a.output));
        Ok(exit::SUCCEEDED)
    })
}

/// Every deployment the events name, newest first, with its verdict.
fn judge_all(h: &HubRead, max_task_failures: u32) -> Result<Vec<(Seen, Verdict)>, AppError> {
    let mut judged = Vec::new();
    for seen in deployments_in(&h.events).into_iter().rev() {
        let t = target(&h.cluster, &h.service, &seen.deployment_id);
        let (_, text) = recording(&t, &h.events);
        let kept = Rc::new(RefCell::new(None));
        let mut quiet = Reporter::with_sinks(vec![Box::new(Keep(kept.clone()))]);
        crate::replay::judge_text("the hub's events", &text, &t, max_task_failures, Outcome::InProgress, &mut quiet)?;
        let Some(v) = kept.borrow_mut().take().and_then(|g| g.verdicts.into_iter().next()) else { continue };
        judged.push((seen, v));
    }
    Ok(judged)
}

/// What `history` prints: a line per deployment (newest first) or a JSON object each.
fn listing(h: &HubRead, judged: &[(Seen, Verdict)], format: OutputFormat) -> String {
    let rollback_of = |id: &str| {
        judged.iter().find(|(_, v)| v.rollback_to.as_deref() == Some(id)).and_then(|(_, v)| v.deployment_id.as_deref())
    };
    if format == OutputFormat::Json {
        return judged
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
            .collect::<Vec<_>>()
            .join("\n");
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
        out.push(line);
    }
    if let Some((s, _)) = judged.iter().find(|(_, v)| v.outcome != Outcome::Succeeded).or(judged.first()) {
        out.push(format!(
            "explain one: ecsgate explain --service {}/{} --deployment-id {}",
            foreign(&h.cluster),
            foreign(&h.service),
            foreign(&s.deployment_id)
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
        let (_, h) = read(&a.read, a.since).await?;
        if !h.events.iter().any(|e| names(e, &a.deployment_id)) {
            return Err(AppError::usage(format!(
                "the hub's table {} holds no event of deployment {} of {}/{} since {}",
                foreign(&h.table),
                foreign(&a.deployment_id),
                foreign(&h.cluster),
                foreign(&h.service),
                format_rfc3339_secs(h.from_ms)
            ))
            .with_hint(format!(
                "ecsgate history --service {}/{} lists the deployments the hub saw (--since reaches further back)",
                foreign(&h.cluster),
                foreign(&h.service)
            )));
        }
        let t = target(&h.cluster, &h.service, &a.deployment_id);
        let (start, text) = recording(&t, &h.events);
        if let Some(p) = &a.record {
            write_recording(p, a.force, &start, &h.events)?;
            let path = p.display();
            r.info(&format!(
                "ecsgate: wrote {} event(s) to {path} (ecsgate replay {path} judges them again)",
                h.events.len()
            ));
        }
        let report =
            crate::replay::judge_text("the hub's events", &text, &t, a.read.max_task_failures, Outcome::InProgress, r)?;
        Ok(report.exit_code)
    })
}

fn write_recording(p: &std::path::Path, force: bool, start: &Start, events: &[hub::Stored]) -> Result<(), AppError> {
    let cannot = |e: std::io::Error| {
        AppError::usage(format!("--record {}: {e}", p.display())).with_hint("give a path in a directory you can write")
    };
    let mut rec = Recorder::create(p, force).map_err(cannot)?;
    rec.write(&Record::Start(start.clone())).map_err(cannot)?;
    for e in events {
        rec.event(&e.body).map_err(cannot)?;
    }
    Ok(())
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
        let (_, text) = recording(&t, &events);
        assert!(text.starts_with("{\"type\":\"start\""), "{text}");
        let kept = Rc::new(RefCell::new(None));
        let mut quiet = Reporter::with_sinks(vec![Box::new(Keep(kept.clone()))]);
        let report = crate::replay::judge_text("hub", &text, &t, 3, Outcome::InProgress, &mut quiet).unwrap();
        assert_eq!(report.exit_code, exit::FAILED);
        assert_eq!(kept.borrow().as_ref().unwrap().verdicts[0].deployment_id.as_deref(), Some("ecs-svc/1"));
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
            from_ms: 0,
            events,
        };
        let judged = judge_all(&h, 3).unwrap();
        assert_eq!(judged.len(), hostile.len());
        for format in [OutputFormat::Human, OutputFormat::Json] {
            let text = listing(&h, &judged, format);
            for line in text.lines() {
                let line = crate::report::text::guard_line(line);
                assert!(!line.trim_start().starts_with("::") && !line.contains("##["), "{line:?}");
                assert!(!line.contains('\x1b') && !line.contains('\r'), "{line:?}");
            }
            let lines = text.lines().count();
            assert_eq!(lines, if format == OutputFormat::Json { 4 } else { 6 }, "{text}");
        }
    }

    #[test]
    fn the_cluster_comes_from_the_service_arn() {
        assert_eq!(cluster_of("arn:aws:ecs:eu-west-1:1:service/shop/api"), "shop");
        assert_eq!(cluster_of("arn:aws:ecs:eu-west-1:1:service/api"), "default");
    }
}
