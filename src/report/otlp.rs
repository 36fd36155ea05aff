//! `--otlp URL` (or `OTEL_EXPORTER_OTLP_ENDPOINT`): one trace per gate, exported over OTLP/HTTP with the
//! JSON encoding (`POST {URL}/v1/traces`) — a root span for the gate (parented on the CI's `TRACEPARENT`
//! when it has one), a span per service deployment with child spans for its lifecycle stages, tasks and
//! lifecycle hooks, an event per task stop, and status ERROR on a deployment that did not succeed.
//!
//! Written by hand over serde_json rather than with the `opentelemetry` crates: one POST of one document
//! needs none of their SDK (batching, exporters, gRPC), and the crates would add about 60 crates to a
//! build the team keeps at four minutes. A sink like `--notify`: the payload goes to the outbox, and
//! `app::notify::deliver` posts it.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::notify::Outgoing;
use super::{GateReport, Sink, Who, foreign, note_time};
use crate::engine::{Note, Outcome};
use crate::error::AppError;

/// The trace context a CI system hands down (W3C `traceparent`: `00-<trace id>-<parent span>-<flags>`).
pub fn parse_traceparent(s: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = s.trim().split('-').collect();
    let hex =
        |x: &str, n: usize| x.len() == n && x.chars().all(|c| c.is_ascii_hexdigit()) && x.chars().any(|c| c != '0');
    match parts.as_slice() {
        [_, trace, parent, _] if hex(trace, 32) && hex(parent, 16) => {
            Some((trace.to_lowercase(), parent.to_lowercase()))
        }
        _ => None,
    }
}

fn random_hex(bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", fastrand::u8(..))).collect::<String>()
}

/// A span event: when, its name, its attributes.
type Event = (i64, String, Vec<(String, String)>);

/// A span in the making.
#[derive(Debug, Clone)]
struct Span {
    id: String,
    parent: String,
    name: String,
    start: i64,
    end: i64,
    attributes: Vec<(String, String)>,
    events: Vec<Event>,
    error: Option<String>,
}

fn attr(k: &str, v: &str) -> Value {
    json!({"key": k, "value": {"stringValue": foreign(v)}})
}

impl Span {
    fn to_json(&self, trace: &str) -> Value {
        let ns = |ms: i64| (ms.max(0) as u128 * 1_000_000).to_string();
        let mut v = json!({
            "traceId": trace,
            "spanId": self.id,
            "name": self.name,
            "kind": 1,
            "startTimeUnixNano": ns(self.start),
            "endTimeUnixNano": ns(self.end.max(self.start)),
            "attributes": self.attributes.iter().map(|(k, x)| attr(k, x)).collect::<Vec<_>>(),
            "events": self.events.iter().map(|(t, n, a)| json!({
                "timeUnixNano": ns(*t), "name": n,
                "attributes": a.iter().map(|(k, x)| attr(k, x)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "status": match &self.error {
                Some(m) => json!({"code": 2, "message": foreign(m)}),
                None => json!({"code": 1}),
            },
        });
        if !self.parent.is_empty() {
            v["parentSpanId"] = json!(self.parent);
        }
        v
    }
}

/// Per service: its deployment span and the child spans of its tasks and hooks, by id.
#[derive(Default)]
struct Unit {
    first: Option<i64>,
    last: Option<i64>,
    tasks: HashMap<String, Span>,
    task_order: Vec<String>,
    hooks: HashMap<String, Span>,
    hook_order: Vec<String>,
    /// The lifecycle stages our service deployment went through, in order (the last one still open).
    stages: Vec<Span>,
    stops: Vec<Event>,
}

pub struct Otlp {
    url: String,
    trace: String,
    parent: String,
    units: Vec<Unit>,
    outbox: Vec<Outgoing>,
    now: fn() -> i64,
}

impl Otlp {
    /// `endpoint`: the collector's base URL (`…/v1/traces` is added unless given); `traceparent`: the
    /// CI's trace context, when set.
    pub fn new(endpoint: &str, traceparent: Option<&str>) -> Self {
        let e = endpoint.trim_end_matches('/');
        let url = if e.ends_with("/v1/traces") { e.to_string() } else { format!("{e}/v1/traces") };
        let (trace, parent) =
            traceparent.and_then(parse_traceparent).unwrap_or_else(|| (random_hex(16), String::new()));
        Otlp { url, trace, parent, units: Vec::new(), outbox: Vec::new(), now: crate::engine::time::now_millis }
    }

    fn unit(&mut self, i: usize) -> &mut Unit {
        if self.units.len() <= i {
            self.units.resize_with(i + 1, Unit::default);
        }
        &mut self.units[i]
    }

    /// The trace of a gate: the document posted.
    pub fn document(&self, r: &GateReport) -> Value {
        let now = (self.now)();
        let root_id = random_hex(8);
        let mut spans = Vec::new();
        let mut gate_start = i64::MAX;
        let mut gate_end = i64::MIN;
        for (i, v) in r.verdicts.iter().enumerate() {
            let empty = Unit::default();
            let u = self.units.get(i).unwrap_or(&empty);
            let (start, end) = (u.first.unwrap_or(now), u.last.unwrap_or(now));
            gate_start = gate_start.min(start);
            gate_end = gate_end.max(end);
            let id = random_hex(8);
            let mut attributes = vec![
                ("ecs.service".to_string(), v.service.clone().unwrap_or_default()),
                ("ecs.cluster".to_string(), v.cluster.clone().unwrap_or_default()),
                ("ecs.deployment_id".to_string(), v.deployment_id.clone().unwrap_or_default()),
                ("ecsgate.outcome".to_string(), v.outcome.as_str().to_string()),
                ("ecsgate.exit_code".to_string(), v.exit_code.to_string()),
            ];
            if let Some(h) = &v.hint {
                attributes.push(("ecsgate.hint".into(), h.clone()));
            }
            let dep = Span {
                id: id.clone(),
                parent: root_id.clone(),
                name: format!("deployment {}", v.service.as_deref().unwrap_or("?")),
                start,
                end,
                attributes,
                events: u.stops.clone(),
                error: (v.outcome != Outcome::Succeeded)
                    .then(|| v.reason.clone().unwrap_or_else(|| v.outcome.as_str().into())),
            };
            spans.push(dep.to_json(&self.trace));
            for st in &u.stages {
                let mut c = st.clone();
                c.parent = id.clone();
                if c.end < c.start {
                    c.end = end;
                }
                spans.push(c.to_json(&self.trace));
            }
            for key in u.task_order.iter().chain(&u.hook_order) {
                let Some(child) = u.tasks.get(key).or_else(|| u.hooks.get(key)) else { continue };
                let mut c = child.clone();
                c.parent = id.clone();
                if c.end < c.start {
                    c.end = end;
                }
                spans.push(c.to_json(&self.trace));
            }
        }
        if gate_start == i64::MAX {
            (gate_start, gate_end) = (now, now);
        }
        let root = Span {
            id: root_id,
            parent: self.parent.clone(),
            name: "ecsgate gate".into(),
            start: gate_start,
            end: gate_end,
            attributes: vec![
                ("ecsgate.outcome".into(), r.outcome.as_str().into()),
                ("ecsgate.exit_code".into(), r.exit_code.to_string()),
                ("ecsgate.services".into(), r.verdicts.len().to_string()),
            ],
            events: Vec::new(),
            error: (r.outcome != Outcome::Succeeded).then(|| format!("exit code {}", r.exit_code)),
        };
        spans.insert(0, root.to_json(&self.trace));
        json!({"resourceSpans": [{
            "resource": {"attributes": [attr("service.name", "ecsgate"), attr("service.version", env!("CARGO_PKG_VERSION"))]},
            "scopeSpans": [{"scope": {"name": "ecsgate", "version": env!("CARGO_PKG_VERSION")}, "spans": spans}],
        }]})
    }
}

impl Sink for Otlp {
    fn note(&mut self, who: &Who, n: &Note) {
        let at = note_time(n).unwrap_or_else(self.now);
        let u = self.unit(who.index);
        u.first = Some(u.first.map_or(at, |f| f.min(at)));
        u.last = Some(u.last.map_or(at, |l| l.max(at)));
        match n {
            // A new lifecycle stage of ours ends the one before it.
            Note::Deployment { stage: Some(stage), role: crate::engine::Role::Ours, .. }
                if u.stages.last().is_none_or(|s| s.name != format!("stage {stage}")) =>
            {
                if let Some(prev) = u.stages.last_mut() {
                    prev.end = at;
                }
                u.stages.push(Span {
                    id: random_hex(8),
                    parent: String::new(),
                    name: format!("stage {stage}"),
                    start: at,
                    end: i64::MIN,
                    attributes: vec![("ecs.lifecycle_stage".into(), stage.clone())],
                    events: Vec::new(),
                    error: None,
                });
            }
            Note::Task { task_id, status, stop, role, .. } if *role == crate::engine::Role::Ours => {
                if !u.tasks.contains_key(task_id) {
                    u.task_order.push(task_id.clone());
                }
                let span = u.tasks.entry(task_id.clone()).or_insert_with(|| Span {
                    id: random_hex(8),
                    parent: String::new(),
                    name: format!("task {task_id}"),
                    start: at,
                    end: i64::MIN,
                    attributes: vec![("ecs.task_id".into(), task_id.clone())],
                    events: Vec::new(),
                    error: None,
                });
                span.attributes.push(("ecs.last_status".into(), status.clone()));
                if let Some(st) = stop {
                    span.end = at;
                    let reason = st.stopped_reason.clone().unwrap_or_default();
                    let code = st.stop_code.clone().unwrap_or_default();
                    if st.class == crate::engine::StopClass::Failure {
                        span.error = Some(reason.clone());
                    }
                    u.stops.push((
                        at,
                        "task stopped".into(),
                        vec![
                            ("ecs.task_id".into(), task_id.clone()),
                            ("ecs.stop_code".into(), code),
                            ("ecs.stopped_reason".into(), reason),
                        ],
                    ));
                }
            }
            Note::Hook { hook_id, event_name, lifecycle_stage, hook_type, .. } => {
                let key = hook_id.clone().unwrap_or_else(|| "?".into());
                if !u.hooks.contains_key(&key) {
                    u.hook_order.push(key.clone());
                }
                let span = u.hooks.entry(key.clone()).or_insert_with(|| Span {
                    id: random_hex(8),
                    parent: String::new(),
                    name: format!(
                        "hook {} at {}",
                        hook_type.as_deref().unwrap_or("?"),
                        lifecycle_stage.as_deref().unwrap_or("?")
                    ),
                    start: at,
                    end: i64::MIN,
                    attributes: vec![("ecs.hook_id".into(), key.clone())],
                    events: Vec::new(),
                    error: None,
                });
                span.events.push((at, event_name.clone(), Vec::new()));
                if matches!(event_name.as_str(), "HOOK_SUCCEEDED" | "HOOK_FAILED" | "HOOK_TIMED_OUT") {
                    span.end = at;
                    if event_name != "HOOK_SUCCEEDED" {
                        span.error = Some(event_name.clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn warn(&mut self, _msg: &str) {}
    fn error(&mut self, _e: &AppError) {}

    fn report(&mut self, r: &GateReport) {
        let body = super::text::guard_line(&self.document(r).to_string()).into_owned();
        self.outbox.push(Outgoing {
            url: self.url.clone(),
            body,
            label: "exported the trace to",
            what: "trace export to",
        });
    }

    fn outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays a bundled recording (the real replay path) into the OTLP sink; the posted document.
    fn trace_of(example: &str) -> Value {
        let otlp = Otlp::new("http://collector:4318", Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        let mut reporter = crate::report::Reporter::with_sinks(vec![Box::new(otlp)]);
        let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(["ecsgate", "replay", example]).unwrap();
        let crate::cli::Command::Replay(args) = cli.command else { unreachable!() };
        crate::replay::run_with(&args, &mut reporter);
        let out = reporter.take_outbox();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].url, "http://collector:4318/v1/traces");
        serde_json::from_str(&out[0].body).unwrap()
    }

    #[test]
    fn a_failed_deployment_is_a_trace_of_the_gate_its_deployment_and_its_tasks() {
        let doc = trace_of("examples/breaker-rollback.jsonl");
        let spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap();
        let root = &spans[0];
        assert_eq!(root["name"], "ecsgate gate");
        assert_eq!(root["parentSpanId"], "00f067aa0ba902b7", "parented on the CI's TRACEPARENT");
        assert!(spans.iter().all(|s| s["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"));
        let dep = spans.iter().find(|s| s["name"] == "deployment api").unwrap();
        assert_eq!(dep["parentSpanId"], root["spanId"]);
        assert_eq!(dep["status"]["code"], 2, "a failed deployment is an error");
        assert!(dep["status"]["message"].as_str().unwrap().contains("3 tasks of deployment"));
        let stops: Vec<&Value> =
            dep["events"].as_array().unwrap().iter().filter(|e| e["name"] == "task stopped").collect();
        assert_eq!(stops.len(), 3, "{dep}");
        let tasks: Vec<&Value> = spans.iter().filter(|s| s["name"].as_str().unwrap().starts_with("task ")).collect();
        assert_eq!(tasks.len(), 3);
        assert!(tasks.iter().all(|t| t["parentSpanId"] == dep["spanId"] && t["status"]["code"] == 2));
        // Times come from the recording's events, in nanoseconds, end after start.
        let ns = |v: &Value| v.as_str().unwrap().parse::<u128>().unwrap();
        assert!(ns(&dep["endTimeUnixNano"]) > ns(&dep["startTimeUnixNano"]));
        assert!(ns(&dep["startTimeUnixNano"]) > 1_700_000_000_000_000_000);
    }

    #[test]
    fn a_success_is_status_ok_and_hooks_are_child_spans() {
        let doc = trace_of("examples/blue-green-pause-hook.jsonl");
        let spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap();
        let dep = spans.iter().find(|s| s["name"] == "deployment api").unwrap();
        assert_eq!(dep["status"]["code"], 1);
        let hook = spans.iter().find(|s| s["name"].as_str().unwrap().starts_with("hook PAUSE")).unwrap();
        assert_eq!(hook["parentSpanId"], dep["spanId"]);
        let events: Vec<&str> =
            hook["events"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(events, ["HOOK_AWAITING_ACTION", "HOOK_SUCCEEDED"]);
        // The service deployment's lifecycle stages, one child span each, in order.
        let stages: Vec<&str> = spans
            .iter()
            .filter(|s| s["parentSpanId"] == dep["spanId"])
            .filter_map(|s| s["name"].as_str().and_then(|n| n.strip_prefix("stage ")))
            .collect();
        assert_eq!(stages, ["TEST_TRAFFIC_SHIFT", "CLEAN_UP"], "{spans:?}");
    }

    #[test]
    fn a_ci_traceparent_parents_the_gate() {
        assert_eq!(
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736".into(), "00f067aa0ba902b7".into()))
        );
        assert_eq!(parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), None);
        assert_eq!(parse_traceparent("garbage"), None);
        let o = Otlp::new("http://collector:4318/", Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_eq!(o.url, "http://collector:4318/v1/traces");
        assert_eq!((o.trace.as_str(), o.parent.as_str()), ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"));
    }
}
