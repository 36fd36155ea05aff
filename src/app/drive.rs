//! The drive: what `wait` and `replay` share. Inputs go in — events as received, API snapshots, task
//! definitions — each is routed to the engine of the service it is about, recorded (the one place
//! where `--record` writes), and its timeline notes and progress go to the reporter. At the end every
//! service's verdict and the combined exit code come out.

use crate::engine::event::parse_envelope_str;
use crate::engine::{Diagnosis, Engine, Input, Note, Outcome, Target};
use crate::record::{Record, Recorder, Start};
use crate::report::{GateReport, Reporter, Who};

/// One service of the gate and its engine.
struct Unit {
    who: Who,
    engine: Engine,
}

/// The services of a gate, by unit (their order in the gate). Callers read engines through
/// [`Driver::engine`] and change them only through the methods here, so every change is routed,
/// recorded and reported the same way.
pub struct Driver {
    units: Vec<Unit>,
    recorder: Option<Recorder>,
    notes: Vec<Note>,
    /// The handle a detached gate wrote (`--detach-at`), said in its verdicts.
    handle: Option<String>,
}

impl Driver {
    pub fn new(targets: Vec<Target>, max_task_failures: u32) -> Self {
        let units = targets
            .into_iter()
            .enumerate()
            .map(|(index, t)| Unit {
                who: Who {
                    index,
                    service: t.service.as_deref().map(|s| crate::engine::arn_name(s).to_string()),
                    cluster: t.cluster.as_deref().map(|c| crate::engine::arn_name(c).to_string()),
                },
                engine: Engine::new(t, max_task_failures),
            })
            .collect();
        Driver { units, recorder: None, notes: Vec::new(), handle: None }
    }

    /// Where to detach (`--detach-at traffic-shifted|paused`), for every service.
    pub fn with_detach(mut self, at: Option<crate::engine::DetachAt>) -> Self {
        self.units = self.units.into_iter().map(|u| Unit { who: u.who, engine: u.engine.with_detach(at) }).collect();
        self
    }

    /// The handle file a detached gate wrote: its verdicts name it and say how to resume.
    pub fn set_handle(&mut self, path: String) {
        self.handle = Some(path);
    }

    /// Whether any service ended detached (`--detach-at`).
    pub fn any_detached(&self) -> bool {
        self.units.iter().any(|u| u.engine.verdict().is_some_and(|v| v.outcome == Outcome::Detached))
    }

    /// Where "deployed" is, for every service (`--until`).
    pub fn with_until(mut self, until: crate::engine::Until) -> Self {
        self.units = self.units.into_iter().map(|u| Unit { who: u.who, engine: u.engine.with_until(until) }).collect();
        self
    }

    /// Announces the services to the reporter (the live display's lines).
    pub fn begin(&self, reporter: &mut Reporter) {
        let who: Vec<Who> = self.units.iter().map(|u| u.who.clone()).collect();
        reporter.begin(&who);
    }

    /// Records from now on; the start line names every target. A recording that cannot be written is
    /// given up with a warning: the gate matters more than its record.
    pub fn record_to(&mut self, mut rec: Recorder, reporter: &mut Reporter) {
        let targets: Vec<Target> = self.units.iter().map(|u| u.engine.target().clone()).collect();
        match rec.write(&Record::Start(Start::new(&targets))) {
            Ok(()) => self.recorder = Some(rec),
            Err(e) => reporter.warn(&format!("recording disabled: cannot write the record file: {e}")),
        }
    }

    fn record(&mut self, reporter: &mut Reporter, f: impl FnOnce(&mut Recorder) -> std::io::Result<()>) {
        if let Some(r) = &mut self.recorder
            && let Err(e) = f(r)
        {
            self.recorder = None;
            reporter.warn(&format!("stopped recording: {e}"));
        }
    }

    /// An event as it came off the queue: recorded as received, then fed.
    pub fn feed_raw(&mut self, body: &str, reporter: &mut Reporter) {
        self.record(reporter, |r| r.event(body));
        match parse_envelope_str(body) {
            Ok(e) => self.apply(Input::Event(e), reporter),
            Err(e) => reporter.warn(&format!("ignored a queue message: {e}")),
        }
    }

    /// An input from the API (snapshots are recorded) or from a replayed file.
    pub fn feed(&mut self, input: Input, reporter: &mut Reporter) {
        match &input {
            Input::Service(s) => {
                let rec = Record::ServiceSnapshot { data: s.clone() };
                self.record(reporter, |r| r.write(&rec));
            }
            Input::Task(t) => self.record(reporter, |r| r.task(t)),
            Input::TaskDefinition(td) => {
                let rec = Record::TaskDefinition { data: td.clone() };
                self.record(reporter, |r| r.write(&rec));
            }
            Input::TargetHealth(th) => {
                let rec = Record::TargetHealth { data: th.clone() };
                self.record(reporter, |r| r.write(&rec));
            }
            Input::ServiceDeployment(sd) => {
                let rec = Record::ServiceDeployment { data: sd.clone() };
                self.record(reporter, |r| r.write(&rec));
            }
            Input::Event(_) => {}
        }
        self.apply(input, reporter);
    }

    /// Routes an input to its service's engine. An input about none of them goes to the first, which
    /// counts it as another service's; a task definition goes to every engine (services may share one).
    pub fn apply(&mut self, input: Input, reporter: &mut Reporter) {
        if let Input::TaskDefinition(td) = &input
            && self.units.len() > 1
        {
            for u in &mut self.units {
                u.engine.apply(Input::TaskDefinition(td.clone()), &mut self.notes);
            }
            return;
        }
        let i = self.units.iter().position(|u| u.engine.accepts(&input)).unwrap_or(0);
        let Some(u) = self.units.get_mut(i) else { return };
        u.engine.apply(input, &mut self.notes);
        for n in self.notes.drain(..) {
            reporter.note(&u.who, &n);
        }
        if reporter.wants_progress() {
            reporter.progress(&u.who, &u.engine.progress());
        }
    }

    /// How many services the gate has.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The engine of a unit (a valid index: units are the gate's services, fixed at the start).
    pub fn engine(&self, unit: usize) -> &Engine {
        &self.units[unit].engine
    }

    /// Every unit's engine, with its index.
    pub fn engines(&self) -> impl Iterator<Item = (usize, &Engine)> {
        self.units.iter().enumerate().map(|(i, u)| (i, &u.engine))
    }

    pub fn who(&self, unit: usize) -> &Who {
        &self.units[unit].who
    }

    /// The unit of the service with this name, if the gate has one.
    pub fn unit_of_service(&self, name: &str) -> Option<usize> {
        self.units.iter().position(|u| u.who.service.as_deref() == Some(name))
    }

    /// The unit a service snapshot is about.
    pub fn unit_of_snapshot(&self, s: &crate::engine::ServiceSnapshot) -> Option<usize> {
        self.units.iter().position(|u| u.engine.accepts_service(s))
    }

    /// The units not decided yet.
    pub fn undecided(&self) -> Vec<usize> {
        self.engines().filter(|(_, e)| !e.is_decided()).map(|(i, _)| i).collect()
    }

    /// The units whose verdict is FAILED.
    pub fn failed(&self) -> Vec<usize> {
        self.engines()
            .filter(|(_, e)| e.verdict().is_some_and(|v| v.outcome == Outcome::Failed))
            .map(|(i, _)| i)
            .collect()
    }

    /// Ends one unit with `outcome` unless it is decided already (the first decision stands).
    pub fn finish(&mut self, unit: usize, outcome: Outcome, reason: String) {
        if let Some(u) = self.units.get_mut(unit).filter(|u| !u.engine.is_decided()) {
            u.engine.finish(outcome, reason);
        }
    }

    pub fn all_decided(&self) -> bool {
        self.units.iter().all(|u| u.engine.is_decided())
    }

    /// A service whose verdict is not success: what `--fail-fast` stops at.
    pub fn any_unsuccessful(&self) -> bool {
        self.units.iter().any(|u| u.engine.verdict().is_some_and(|v| v.outcome != Outcome::Succeeded))
    }

    /// Ends every undecided service with `outcome`; `reason` is given each one's engine (its last state).
    pub fn finish_undecided(&mut self, outcome: Outcome, reason: impl Fn(&Engine) -> String) {
        for u in self.units.iter_mut().filter(|u| !u.engine.is_decided()) {
            let r = reason(&u.engine);
            u.engine.finish(outcome, r);
        }
    }

    /// What the live gate read to explain a service's verdict: recorded (with the service, in a gate
    /// over several), then given to its engine.
    pub fn diagnosed(&mut self, unit: usize, d: Diagnosis, reporter: &mut Reporter) {
        let service =
            if self.units.len() > 1 { self.units.get(unit).and_then(|u| u.who.service.clone()) } else { None };
        let rec = Record::diagnosis(service, &d);
        self.record(reporter, |r| r.write(&rec));
        if let Some(u) = self.units.get_mut(unit) {
            u.engine.diagnosed(d);
        }
    }

    /// The verdicts (every service must be decided by now) and the gate's exit code, reported.
    pub fn conclude(&self, reporter: &mut Reporter) -> GateReport {
        let verdicts = self
            .units
            .iter()
            .filter_map(|u| u.engine.verdict())
            .map(|mut v| {
                if let (Outcome::Detached, Some(h)) = (v.outcome, &self.handle) {
                    v.hint = Some(format!(
                        "the deployment goes on; resume the gate with `ecsgate resume {h}`, or read the verdict so far with `ecsgate status {h}`"
                    ));
                    v.handle = Some(h.clone());
                }
                v
            })
            .collect();
        let r = GateReport::new(verdicts);
        reporter.report(&r);
        r
    }
}
