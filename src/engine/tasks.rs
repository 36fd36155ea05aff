//! The service's tasks: the newest state of each (highest `detail.version` wins), our deployment's
//! counts kept up to date on every change, and which of ours failed.

use std::collections::HashMap;

use super::*;

/// What we keep per task: enough for the counts, the dedupe rule and the failure report.
#[derive(Debug, Clone)]
pub(super) struct TaskState {
    pub(super) record: TaskRecord,
    pub(super) rank: u8,
    /// Arrival order, to break ties among tasks with no stoppedAt.
    pub(super) seq: u64,
}

/// How many tasks the engine holds before it forgets those of other deployments: memory stays bounded
/// on endless input (a cluster-wide stream, a replay of months), whatever the events are; our
/// deployment's tasks, which the verdict needs, are always kept.
pub(super) const OTHER_TASKS_CAP: usize = 20_000;

#[derive(Default)]
pub(super) struct Tasks {
    /// Boxed: a hash table's bucket array grows in powers of two, and with ~400-byte states inline a
    /// table just past a power of two would be mostly empty buckets of that size.
    pub(super) by_arn: HashMap<String, Box<TaskState>>,
    /// Our deployment's tasks by phase, kept up to date on every task change: the progress display asks
    /// for them on every event, so they must not cost a walk over all tasks.
    pub(super) ours_running: i64,
    pub(super) ours_pending: i64,
    pub(super) ours_seen: bool,
    /// Our failed tasks' ARNs, in the order they failed.
    pub(super) failed: Vec<String>,
    /// Essential flags and log settings (DescribeTaskDefinition), for the diagnosis.
    pub(super) defs: HashMap<String, TaskDefinitionInfo>,
    pub(super) seq: u64,
}

impl Engine {
    /// Drops the tasks of other deployments — stopped ones first, then the oldest — down to half the
    /// cap. A later duplicate of a forgotten task's event shows again in the timeline; no verdict
    /// depends on them.
    fn forget_other_tasks(&mut self) {
        let ours = self.ours().map(str::to_string);
        let keep = |t: &TaskState| ours.is_some() && t.record.started_by == ours;
        self.tasks.by_arn.retain(|_, t| keep(t) || t.rank < 8);
        if self.tasks.by_arn.len() > OTHER_TASKS_CAP / 2 {
            let mut others: Vec<(u64, String)> =
                self.tasks.by_arn.iter().filter(|(_, t)| !keep(t)).map(|(a, t)| (t.seq, a.clone())).collect();
            others.sort();
            let excess = self.tasks.by_arn.len().saturating_sub(OTHER_TASKS_CAP / 2);
            for (_, arn) in others.into_iter().take(excess) {
                self.tasks.by_arn.remove(&arn);
            }
        }
    }

    pub(super) fn on_task(&mut self, t: TaskRecord, out: &mut Vec<Note>) {
        // As for deployment events: a task of our deployment names our service when nothing else did.
        if self.target.service.is_none()
            && t.started_by.is_some()
            && t.started_by.as_deref() == self.ours()
            && let Some(name) = t.group.as_deref().and_then(|g| g.strip_prefix("service:"))
        {
            self.target.service = Some(name.to_string());
        }
        if !self.task_matches(&t) {
            self.stats.other_services += 1;
            return;
        }
        let rank = status_rank(t.last_status.as_deref());
        let prev = self.tasks.by_arn.get(&t.task_arn);
        if let Some(p) = prev
            && !replaces(&p.record, &t)
        {
            self.stats.duplicates += 1;
            return;
        }
        let prev_rank = prev.map(|p| p.rank);
        let status_changed = prev.is_none_or(|p| p.rank != rank);
        let newly_stopped = rank >= 8 && prev.is_none_or(|p| p.rank < 8);
        self.tasks.seq += 1;
        let ours = self.ours().is_some() && t.started_by.as_deref() == self.ours();
        let role = if ours {
            self.our_role()
        } else {
            t.started_by.as_deref().map(|d| self.role_of(d)).unwrap_or(Role::Other)
        };
        if ours && self.dep.infos.get(self.ours().unwrap_or_default()).is_none_or(|d| d.created_ms.is_none()) {
            // The first task of ours bounds our deployment's creation time from above.
            if let Some(c) = t.created_at_ms {
                let id = self.ours().unwrap_or_default().to_string();
                let info = self.dep.infos.entry(id).or_default();
                info.created_ms = Some(info.created_ms.map_or(c, |x| x.min(c)));
            }
        }
        let mut stop = None;
        if newly_stopped {
            let class = classify_stop(t.stop_code.as_deref(), t.stopped_reason.as_deref());
            let mut counted = None;
            if ours && class == StopClass::Failure {
                self.tasks.failed.push(t.task_arn.clone());
                counted = Some((self.tasks.failed.len() as u32, self.max_task_failures));
            }
            stop = Some(StopNote::of(&t, class, counted));
        } else if t.stop_code.as_deref().is_some_and(|c| c == "SpotInterruption" || c == "TerminationNotice")
            && prev.is_none_or(|p| p.record.stop_code != t.stop_code)
        {
            // A Spot notice arrives on a still-RUNNING task: worth a line before the stop.
            out.push(Note::Warning {
                at: t.updated_at_ms.or(t.meta.time_ms),
                event_name: t.stop_code.clone().unwrap_or_default(),
                reason: t.stopped_reason.clone(),
                hint: hints::match_text(t.stopped_reason.as_deref().unwrap_or("")).map(hints::render),
            });
        }
        if status_changed {
            out.push(Note::Task {
                at: t.stopped_at_ms.filter(|_| newly_stopped).or(t.updated_at_ms).or(t.meta.time_ms),
                task_id: t.short_id().to_string(),
                task_arn: t.task_arn.clone(),
                started_by: t.started_by.clone(),
                role,
                status: t.last_status.clone().unwrap_or_else(|| "UNKNOWN".into()),
                stop,
            });
        }
        if ours {
            let phase = |r: u8| match r {
                4 => (1, 0),
                r if r < 4 => (0, 1),
                _ => (0, 0),
            };
            let (new_run, new_pend) = phase(rank);
            let (old_run, old_pend) = prev_rank.map_or((0, 0), phase);
            self.tasks.ours_running += new_run - old_run;
            self.tasks.ours_pending += new_pend - old_pend;
            if new_run > old_run {
                // One of ours found room: whatever placement failed before is no longer what it waits for.
                self.service.capacity_wait = false;
            }
            self.tasks.ours_seen = true;
        }
        let seq = self.tasks.seq;
        let state = TaskState { record: t, rank, seq };
        match self.tasks.by_arn.get_mut(&state.record.task_arn) {
            Some(s) => **s = state,
            None => {
                self.tasks.by_arn.insert(state.record.task_arn.clone(), Box::new(state));
                if self.tasks.by_arn.len() > OTHER_TASKS_CAP {
                    self.forget_other_tasks();
                }
            }
        }
        let n = self.tasks.failed.len() as u32;
        if ours && newly_stopped && n >= self.max_task_failures && !self.is_decided() {
            let id = self.ours().unwrap_or_default().to_string();
            let first = self.first_failed_reason();
            let decided = self.decide(
                Outcome::Failed,
                format!("{n} tasks of deployment {id} failed (threshold {}): {first}", self.max_task_failures),
                out,
            );
            if decided && let Some(d) = &mut self.decision {
                d.by_threshold = true;
            }
        }
    }

    pub(super) fn first_failed_reason(&self) -> String {
        self.failed_records().first().and_then(|t| t.stopped_reason.clone()).unwrap_or_else(|| "tasks stopped".into())
    }

    /// Our counted failed tasks, first to stop first.
    pub(super) fn failed_records(&self) -> Vec<&TaskRecord> {
        let mut v: Vec<&TaskState> =
            self.tasks.failed.iter().filter_map(|a| self.tasks.by_arn.get(a).map(|b| &**b)).collect();
        v.sort_by_key(|t| (t.record.stopped_at_ms.unwrap_or(i64::MAX), t.seq));
        v.into_iter().map(|t| &t.record).collect()
    }

    pub(super) fn task_matches(&self, t: &TaskRecord) -> bool {
        if let Some(want) = &self.target.service {
            match t.group.as_deref().and_then(|g| g.strip_prefix("service:")) {
                Some(name) if name == arn_name(want) => {}
                _ => return false,
            }
        }
        if let (Some(want), Some(have)) = (&self.target.cluster, &t.cluster_arn)
            && !same_cluster(want, have)
        {
            return false;
        }
        true
    }

    /// Task ARNs the engine already holds as STOPPED: reconciliation describes only the others.
    pub fn has_stopped_task(&self, arn: &str) -> bool {
        self.tasks.by_arn.get(arn).is_some_and(|t| t.record.is_stopped())
    }

    /// Task definitions of our failed tasks that the diagnosis has not seen yet (essential flags and
    /// log settings are fetched only once something failed: the happy path needs none).
    pub fn missing_task_definitions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .failed_records()
            .iter()
            .filter_map(|t| t.task_definition_arn.clone())
            .filter(|a| !self.tasks.defs.contains_key(a))
            .collect();
        v.dedup();
        v
    }

    /// Essential flags and awslogs settings of the culprit's task definition, if known.
    pub fn task_definition(&self, arn: &str) -> Option<&TaskDefinitionInfo> {
        self.tasks.defs.get(arn)
    }
}
