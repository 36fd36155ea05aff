//! The event model: EventBridge envelopes of ECS events, parsed as leniently as real events demand.
//!
//! Why so lenient (SEMANTICS.md "Deserialisation traps"): ECS adds fields without notice, sanitised
//! captures drop `account`, `id` and `time`, numbers and booleans arrive as strings (`"cpu": "null"`,
//! `"enableExecuteCommand": "false"`), `exitCode` is absent or null when a container never ran, and
//! timestamps carry 0–9 fraction digits. So: no `deny_unknown_fields`, every field optional, scalar fields
//! accept any JSON scalar, and only the fields the engine needs are modelled (the rest is skipped by serde
//! without being allocated, which keeps replay fast).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::time::{format_rfc3339_millis, parse_rfc3339_millis};

pub const DT_DEPLOYMENT: &str = "ECS Deployment State Change";
pub const DT_TASK: &str = "ECS Task State Change";
pub const DT_SERVICE_ACTION: &str = "ECS Service Action";
pub const DT_HOOK: &str = "ECS Hook State Change";

/// A parsed ECS event.
#[derive(Debug, Clone, PartialEq)]
pub enum EcsEvent {
    /// `SERVICE_DEPLOYMENT_*`, under either detail-type (the docs list them under both).
    Deployment(DeploymentEvent),
    Task(TaskRecord),
    ServiceAction(ServiceActionEvent),
    /// A lifecycle hook of a service deployment (blue/green, linear, canary).
    Hook(HookEvent),
}

/// `ECS Hook State Change`: `resources[0]` is the *service-deployment* ARN (one docs example omits
/// it); the service is `detail.serviceArn`.
#[derive(Debug, Clone, PartialEq)]
pub struct HookEvent {
    pub meta: Meta,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub service_deployment_arn: Option<String>,
    /// HOOK_IN_PROGRESS, HOOK_AWAITING_ACTION, HOOK_SUCCEEDED, HOOK_FAILED, HOOK_TIMED_OUT (others kept).
    pub event_name: String,
    pub hook_id: Option<String>,
    /// PAUSE, AWS_LAMBDA, …
    pub hook_type: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// When an awaiting hook times out, as ECS wrote it.
    pub expires_at: Option<String>,
    pub updated_at_ms: Option<i64>,
}

/// Envelope fields that every kind shares. Only what the engine uses is kept: the envelope `id`,
/// `account` and `region` are skipped by the parser (dedupe uses `detail.version` and the deployment
/// event's own fields), which saves allocations on the replay hot path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    pub time_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentEvent {
    pub meta: Meta,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub event_type: Option<String>,
    pub event_name: String,
    pub deployment_id: Option<String>,
    pub updated_at_ms: Option<i64>,
    pub reason: Option<String>,
}

impl DeploymentEvent {
    /// The time the engine orders by: `updatedAt` (ms precision) before the envelope's `time` (s precision).
    pub fn at_ms(&self) -> Option<i64> {
        self.updated_at_ms.or(self.meta.time_ms)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceActionEvent {
    pub meta: Meta,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub event_type: Option<String>,
    pub event_name: String,
    pub created_at_ms: Option<i64>,
    pub reason: Option<String>,
}

/// One task as seen in a task event *or* in DescribeTasks: the engine treats both the same.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskRecord {
    pub meta: Meta,
    pub task_arn: String,
    pub cluster_arn: Option<String>,
    pub group: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub started_by: Option<String>,
    pub task_definition_arn: Option<String>,
    pub version: Option<i64>,
    pub containers: Vec<ContainerRecord>,
    pub created_at_ms: Option<i64>,
    pub started_at_ms: Option<i64>,
    pub stopping_at_ms: Option<i64>,
    pub stopped_at_ms: Option<i64>,
    pub updated_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub name: String,
    pub last_status: Option<String>,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    pub image: Option<String>,
}

impl TaskRecord {
    /// The short task id (last ARN segment), for display.
    pub fn short_id(&self) -> &str {
        short_task_id(&self.task_arn)
    }

    pub fn is_stopped(&self) -> bool {
        self.last_status.as_deref() == Some("STOPPED")
    }

    /// The detail object of a task event, rebuilt: how `--record` stores a DescribeTasks result so that
    /// replay reads it through the very same parser as a live event.
    pub fn to_detail_json(&self) -> Value {
        let ts = |v: Option<i64>| v.map(format_rfc3339_millis);
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                m.insert(k.to_string(), v);
            }
        };
        put("taskArn", self.task_arn.clone().into());
        put("clusterArn", self.cluster_arn.clone().into());
        put("group", self.group.clone().into());
        put("lastStatus", self.last_status.clone().into());
        put("desiredStatus", self.desired_status.clone().into());
        put("stopCode", self.stop_code.clone().into());
        put("stoppedReason", self.stopped_reason.clone().into());
        put("startedBy", self.started_by.clone().into());
        put("taskDefinitionArn", self.task_definition_arn.clone().into());
        put("version", self.version.into());
        put("createdAt", ts(self.created_at_ms).into());
        put("startedAt", ts(self.started_at_ms).into());
        put("stoppingAt", ts(self.stopping_at_ms).into());
        put("stoppedAt", ts(self.stopped_at_ms).into());
        put("updatedAt", ts(self.updated_at_ms).into());
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(|c| {
                let mut o = serde_json::Map::new();
                o.insert("name".into(), c.name.clone().into());
                for (k, v) in [("lastStatus", &c.last_status), ("reason", &c.reason), ("image", &c.image)] {
                    if let Some(v) = v {
                        o.insert(k.into(), v.clone().into());
                    }
                }
                if let Some(code) = c.exit_code {
                    o.insert("exitCode".into(), code.into());
                }
                Value::Object(o)
            })
            .collect();
        put("containers", Value::Array(containers));
        Value::Object(m)
    }
}

/// Last segment of a task ARN (`…:task/cluster/0123abcd` → `0123abcd`).
pub fn short_task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Why an envelope was not turned into an [`EcsEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Valid JSON, but not an ECS event we consume (another source, container-instance events, …).
    NotEcs(String),
    /// Looks like an ECS event but lacks what identifies it (e.g. a task event without a task ARN).
    Malformed(String),
    /// No `detail-type`: not an EventBridge envelope at all (the caller may know another shape).
    NotEnvelope,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::NotEcs(what) => write!(f, "not an ECS event we read: {what}"),
            Skip::Malformed(why) => write!(f, "malformed ECS event: {why}"),
            Skip::NotEnvelope => f.write_str("not an EventBridge event (no detail-type)"),
        }
    }
}

/// Parses one envelope (already deserialised as JSON) into an event.
pub fn parse_envelope(v: &Value) -> Result<EcsEvent, Skip> {
    let raw = RawEnvelope::deserialize(v).map_err(|e| Skip::Malformed(e.to_string()))?;
    raw.into_event()
}

/// Parses one envelope straight from its text (the fast path of replay and of the SQS loop).
pub fn parse_envelope_str(s: &str) -> Result<EcsEvent, Skip> {
    let raw: RawEnvelope = serde_json::from_str(s).map_err(|e| Skip::Malformed(e.to_string()))?;
    raw.into_event()
}

/// Parses the `detail` of a task event (or a recorded task snapshot) with no envelope.
pub fn parse_task_detail(v: &Value) -> Result<TaskRecord, Skip> {
    let d = RawDetail::deserialize(v).map_err(|e| Skip::Malformed(e.to_string()))?;
    d.into_task(Meta::default(), None)
}

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(rename = "detail-type", default, deserialize_with = "lenient_string")]
    detail_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    source: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    time: Option<i64>,
    #[serde(default, deserialize_with = "lenient_strings")]
    resources: Vec<String>,
    #[serde(default)]
    detail: Option<RawDetail>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawDetail {
    #[serde(default, deserialize_with = "lenient_string")]
    event_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    event_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    deployment_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    cluster_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    task_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    group: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    last_status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    desired_status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    stop_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    stopped_reason: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    started_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    task_definition_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    version: Option<i64>,
    #[serde(default, deserialize_with = "lenient_containers")]
    containers: Vec<RawContainer>,
    #[serde(default, deserialize_with = "lenient_time")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    started_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    stopping_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    stopped_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    updated_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    service_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    service_deployment_arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    hook_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    hook_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    lifecycle_stage: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    expires_at: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawContainer {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    last_status: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    exit_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    image: Option<String>,
}

impl RawEnvelope {
    fn into_event(self) -> Result<EcsEvent, Skip> {
        let Some(detail_type) = self.detail_type else {
            return Err(Skip::NotEnvelope);
        };
        // A missing source is tolerated (trimmed captures keep it, but hand-made lines may not);
        // a different one is not ours.
        if let Some(src) = &self.source
            && src != "aws.ecs"
        {
            return Err(Skip::NotEcs(format!("source {src}")));
        }
        let meta = Meta { time_ms: self.time };
        let Some(d) = self.detail else {
            return Err(Skip::Malformed(format!("{detail_type} without detail")));
        };
        let resource = self.resources.into_iter().next();
        let event_name = d.event_name.clone().unwrap_or_default();
        match detail_type.as_str() {
            DT_DEPLOYMENT | DT_SERVICE_ACTION if event_name.starts_with("SERVICE_DEPLOYMENT_") => {
                Ok(EcsEvent::Deployment(DeploymentEvent {
                    meta,
                    service_arn: resource,
                    cluster_arn: d.cluster_arn,
                    event_type: d.event_type,
                    event_name,
                    deployment_id: d.deployment_id,
                    updated_at_ms: d.updated_at.or(d.created_at),
                    reason: d.reason,
                }))
            }
            DT_DEPLOYMENT => Err(Skip::Malformed(format!("deployment event with eventName {event_name:?}"))),
            DT_SERVICE_ACTION => {
                if event_name.is_empty() {
                    return Err(Skip::Malformed("service action without eventName".into()));
                }
                Ok(EcsEvent::ServiceAction(ServiceActionEvent {
                    meta,
                    service_arn: resource,
                    cluster_arn: d.cluster_arn,
                    event_type: d.event_type,
                    event_name,
                    created_at_ms: d.created_at.or(d.updated_at),
                    reason: d.reason,
                }))
            }
            DT_TASK => d.into_task(meta, resource).map(EcsEvent::Task),
            DT_HOOK => {
                if event_name.is_empty() {
                    return Err(Skip::Malformed("hook event without eventName".into()));
                }
                Ok(EcsEvent::Hook(HookEvent {
                    meta,
                    service_arn: d.service_arn,
                    cluster_arn: d.cluster_arn,
                    service_deployment_arn: d.service_deployment_arn.or(resource),
                    event_name,
                    hook_id: d.hook_id,
                    hook_type: d.hook_type,
                    lifecycle_stage: d.lifecycle_stage,
                    expires_at: d.expires_at,
                    updated_at_ms: d.updated_at,
                }))
            }
            other => Err(Skip::NotEcs(format!("detail-type {other:?}"))),
        }
    }
}

impl RawDetail {
    fn into_task(self, meta: Meta, resource: Option<String>) -> Result<TaskRecord, Skip> {
        // Upstream-edited captures lack detail.taskArn; the envelope's resources[0] is the task ARN.
        let task_arn =
            self.task_arn.or(resource).ok_or_else(|| Skip::Malformed("task event without a task ARN".into()))?;
        Ok(TaskRecord {
            meta,
            task_arn,
            cluster_arn: self.cluster_arn,
            group: self.group,
            last_status: self.last_status,
            desired_status: self.desired_status,
            stop_code: self.stop_code,
            stopped_reason: self.stopped_reason,
            started_by: self.started_by,
            task_definition_arn: self.task_definition_arn,
            version: self.version,
            containers: self
                .containers
                .into_iter()
                .map(|c| ContainerRecord {
                    name: c.name.unwrap_or_default(),
                    last_status: c.last_status,
                    exit_code: c.exit_code,
                    reason: c.reason,
                    image: c.image,
                })
                .collect(),
            created_at_ms: self.created_at,
            started_at_ms: self.started_at,
            stopping_at_ms: self.stopping_at,
            stopped_at_ms: self.stopped_at,
            updated_at_ms: self.updated_at,
        })
    }
}

/// Visits any JSON value and keeps what a lenient scalar field can use. A visitor rather than `Value`:
/// strings are looked at borrowed (timestamps are parsed without an allocation) and objects or arrays in
/// a scalar's place are skipped without being built.
enum Scalar<'a> {
    Str(std::borrow::Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nothing,
}

struct ScalarVisitor;

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(std::borrow::Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(std::borrow::Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(std::borrow::Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
}

/// Any JSON scalar as text; `null`, `"null"` and `""` as nothing. Objects and arrays become nothing
/// rather than an error: one odd field must not cost us the whole event.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Str(s) if s.is_empty() || s == "null" => None,
        Scalar::Str(s) => Some(s.into_owned()),
        Scalar::Int(n) => Some(n.to_string()),
        Scalar::Float(f) => Some(f.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Nothing => None,
    })
}

fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        Value::String(s) => vec![s],
        _ => Vec::new(),
    })
}

/// A number, or a string holding one (`"1"`); anything else is unknown.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Int(n) => Some(n),
        Scalar::Float(f) => Some(f as i64),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// RFC 3339 text (events) or epoch seconds (DescribeTasks JSON from the CLI).
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match d.deserialize_any(ScalarVisitor)? {
        Scalar::Str(s) => parse_rfc3339_millis(&s),
        Scalar::Int(n) => Some(n.saturating_mul(1000)),
        Scalar::Float(f) => Some((f * 1000.0) as i64),
        _ => None,
    })
}

fn lenient_containers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawContainer>, D::Error> {
    use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
    use std::fmt;

    // A visitor rather than `Value`: task events carry big container objects (network interfaces,
    // managed agents) and this way the parts we do not model are skipped without being allocated.
    struct Item(Option<RawContainer>);
    impl<'de> Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Item;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a container object")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                    RawContainer::deserialize(MapAccessDeserializer::new(map)).map(|c| Item(Some(c)))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(Item(None))
                }
                fn visit_str<E>(self, _: &str) -> Result<Item, E> {
                    Ok(Item(None))
                }
                fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
                    Ok(Item(None))
                }
                fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
                    Ok(Item(None))
                }
                fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
                    Ok(Item(None))
                }
                fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
                    Ok(Item(None))
                }
                fn visit_unit<E>(self) -> Result<Item, E> {
                    Ok(Item(None))
                }
            }
            d.deserialize_any(V)
        }
    }
    struct Seq;
    impl<'de> Visitor<'de> for Seq {
        type Value = Vec<RawContainer>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of containers")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(Item(c)) = seq.next_element::<Item>()? {
                out.extend(c);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(Seq)
}
