//! Reading replay input: ecsgate's own recordings ([`crate::record`]) and the foreign formats people
//! have their ECS events in.
//!
//! Accepted input (detected, not flagged): JSON Lines of EventBridge envelopes; a JSON array of them;
//! pretty-printed envelopes one after another; a CloudWatch Logs export whose records carry the event in
//! `message` (as JSON objects with `message`, as `aws logs filter-log-events` output with `events`, or as
//! text lines `<timestamp> <event JSON>`); SQS messages with the event in `Body`; and ecsgate's own record
//! lines. Lines that are not JSON, or JSON that is not an ECS event, are skipped and counted: one bad line
//! must not cost the verdict.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::engine::Diagnosis;
use crate::engine::Input;
use crate::engine::event::{Skip, parse_envelope, parse_envelope_str, parse_task_detail};
use crate::record::{FORMAT_VERSION, Record, Start, TAGS};

/// Everything read from one file.
#[derive(Debug, Default)]
pub struct Parsed {
    pub inputs: Vec<Input>,
    /// The first `start` line of a recording: which deployment(s) `wait` was judging.
    pub start: Option<Start>,
    /// Recorded diagnoses (log tails, hook logs, alarms), with the service each belongs to (none in
    /// format 1 or a gate over one service).
    pub diagnoses: Vec<(Option<String>, Diagnosis)>,
    /// A start line of a record format newer than this ecsgate reads.
    pub newer_format: Option<u32>,
    /// Pieces that were not JSON, or ECS-looking JSON that could not be read.
    pub malformed: usize,
    /// Valid JSON that is not an ECS event we consume (other sources, container-instance events, …).
    pub not_ecs: usize,
    /// How many JSON values were found at all (0 = "no JSON in this file").
    pub json_values: usize,
    /// How deep the wrappers being unpacked are nested (see [`MAX_WRAPPING`]).
    depth: u8,
}

/// How many wrappers (arrays, `message`/`Body` fields, JSON strings holding JSON) may enclose an event.
/// Real exports use two or three; a deeper nesting is garbage, and unpacking it without a bound would
/// recurse once per level (serde_json checks depth when it builds values, not when it skims raw ones).
pub const MAX_WRAPPING: u8 = 16;

pub fn parse_text(text: &str) -> Parsed {
    let mut p = Parsed::default();
    // JSON Lines (what `--record`, SQS dumps and log exports produce) is read line by line with one typed
    // parse per line: the fast path. Anything else (pretty-printed envelopes, arrays) goes through a
    // streaming reader, and falls back to lines if that fails, so one broken line costs only itself.
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    if !first.is_none_or(is_line_mode) {
        let mut values = Vec::new();
        let mut ok = true;
        for v in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
            match v {
                Ok(v) => values.push(v),
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            p.json_values = values.len();
            for v in values {
                p.raw(v.get());
            }
            return p;
        }
    }
    for line in text.lines() {
        let line = line.trim();
        if !line.is_empty() {
            p.line(line);
        }
    }
    p
}

/// Whether input whose first non-empty line is `first` is JSON Lines (or text lines such as a CloudWatch
/// Logs text export) rather than one JSON document (an array, pretty-printed envelopes).
pub fn is_line_mode(first: &str) -> bool {
    if first.starts_with('[') {
        false
    } else if first.starts_with('{') {
        serde_json::from_str::<IgnoredAny>(first).is_ok()
    } else {
        true
    }
}

impl Parsed {
    /// Reads one line (trimmed, non-empty): its inputs are appended to `inputs`, its kind counted.
    pub fn line(&mut self, line: &str) {
        if line.starts_with('{') {
            match parse_envelope_str(line) {
                Ok(e) => {
                    self.json_values += 1;
                    self.inputs.push(Input::Event(e));
                    return;
                }
                Err(Skip::NotEcs(_)) => {
                    self.json_values += 1;
                    self.not_ecs += 1;
                    return;
                }
                Err(Skip::NotEnvelope) => {
                    self.json_values += 1;
                    match serde_json::from_str::<Value>(line) {
                        Ok(v) => self.value(v),
                        Err(_) => self.malformed += 1,
                    }
                    return;
                }
                Err(Skip::Malformed(_)) => {
                    if serde_json::from_str::<IgnoredAny>(line).is_ok() {
                        self.json_values += 1;
                        self.malformed += 1;
                        return;
                    }
                }
            }
        }
        if serde_json::from_str::<&RawValue>(line).is_ok() {
            self.json_values += 1;
            self.raw(line);
        } else if let Some(i) = line.find('{')
            && serde_json::from_str::<&RawValue>(&line[i..]).is_ok()
        {
            // CloudWatch Logs text export: "<timestamp> <event JSON>".
            self.json_values += 1;
            self.raw(&line[i..]);
        } else {
            self.malformed += 1;
        }
    }

    fn raw(&mut self, s: &str) {
        if self.depth >= MAX_WRAPPING {
            self.malformed += 1;
            return;
        }
        self.depth += 1;
        self.raw_unpack(s);
        self.depth -= 1;
    }

    fn raw_unpack(&mut self, s: &str) {
        let t = s.trim_start();
        if t.starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(t) {
                Ok(items) => items.into_iter().for_each(|i| self.raw(i.get())),
                Err(_) => self.malformed += 1,
            }
            return;
        }
        if t.starts_with('{') {
            match parse_envelope_str(t) {
                Ok(e) => self.inputs.push(Input::Event(e)),
                Err(Skip::NotEcs(_)) => self.not_ecs += 1,
                Err(Skip::Malformed(_)) => self.malformed += 1,
                Err(Skip::NotEnvelope) => match serde_json::from_str::<Value>(t) {
                    Ok(v) => self.value(v),
                    Err(_) => self.malformed += 1,
                },
            }
            return;
        }
        if let Ok(Value::String(inner)) = serde_json::from_str::<Value>(t) {
            // A JSON string holding an event (double-encoded exports).
            self.raw_or_text(&inner);
            return;
        }
        self.not_ecs += 1;
    }

    fn raw_or_text(&mut self, s: &str) {
        match serde_json::from_str::<&RawValue>(s.trim()) {
            Ok(v) => self.raw(v.get()),
            Err(_) => match s.find('{') {
                Some(i) if serde_json::from_str::<&RawValue>(s[i..].trim()).is_ok() => self.raw(s[i..].trim()),
                _ => self.malformed += 1,
            },
        }
    }

    /// A JSON object that is not an envelope: a record line or a wrapper.
    fn value(&mut self, v: Value) {
        if self.depth >= MAX_WRAPPING {
            self.malformed += 1;
            return;
        }
        self.depth += 1;
        self.value_unpack(v);
        self.depth -= 1;
    }

    fn value_unpack(&mut self, v: Value) {
        let Value::Object(mut o) = v else {
            self.not_ecs += 1;
            return;
        };
        if o.get("type").and_then(Value::as_str).is_some_and(|t| TAGS.contains(&t)) {
            match Record::deserialize(Value::Object(o)) {
                Ok(r) => self.record(r),
                Err(_) => self.malformed += 1,
            }
            return;
        }
        // Wrappers: CloudWatch Logs records (`message`), their API listings (`events`),
        // SQS messages (`Body`, `Messages`).
        for key in ["events", "Messages", "Records"] {
            if let Some(Value::Array(items)) = o.remove(key) {
                for i in items {
                    self.wrapped(i);
                }
                return;
            }
        }
        for key in ["message", "Message", "Body", "body"] {
            if let Some(inner) = o.remove(key) {
                self.wrapped(inner);
                return;
            }
        }
        self.not_ecs += 1;
    }

    fn record(&mut self, r: Record) {
        match r {
            Record::Start(start) => {
                if start.version > FORMAT_VERSION {
                    self.newer_format.get_or_insert(start.version);
                }
                // The first start line names the deployment (a file may hold several recordings;
                // streaming replay must settle the target before it reads on).
                if self.start.is_none() {
                    self.start = Some(start);
                }
            }
            Record::ServiceSnapshot { data } => self.inputs.push(Input::Service(data)),
            Record::TaskSnapshot { data } => match parse_task_detail(&data) {
                Ok(t) => self.inputs.push(Input::Task(t)),
                Err(_) => self.malformed += 1,
            },
            Record::TaskDefinition { data } => self.inputs.push(Input::TaskDefinition(data)),
            Record::TargetHealth { data } => self.inputs.push(Input::TargetHealth(data)),
            Record::ServiceDeployment { data } => self.inputs.push(Input::ServiceDeployment(data)),
            Record::LogTail { service, data } => self.diagnoses.push((service, Diagnosis::LogTail(data))),
            Record::HookLog { service, data } => self.diagnoses.push((service, Diagnosis::HookLog(data))),
            Record::Alarms { service, data } => self.diagnoses.push((service, Diagnosis::Alarms(data))),
            Record::Rollback { service, data } => self.diagnoses.push((service, Diagnosis::Rollback(data))),
            Record::ManagedResources { service, data } => self.diagnoses.push((service, Diagnosis::Managed(data))),
        }
    }

    fn wrapped(&mut self, v: Value) {
        match v {
            Value::String(s) => self.raw_or_text(&s),
            other => self.wrapped_value(other),
        }
    }

    fn wrapped_value(&mut self, v: Value) {
        if v.get("detail-type").is_some() {
            match parse_envelope(&v) {
                Ok(e) => self.inputs.push(Input::Event(e)),
                Err(Skip::NotEcs(_)) => self.not_ecs += 1,
                Err(_) => self.malformed += 1,
            }
        } else {
            self.value(v);
        }
    }
}
