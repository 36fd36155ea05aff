//! `ecsgate report FILES…`: DORA's delivery figures from recorded gates — how many deployments, the
//! change failure rate, and the time to restore (a failed deployment → the next success of the same
//! service) — as JSON or Markdown. Pure: [`crate::app::report`] replays the recordings into
//! [`Deployment`]s; this module only counts.
//!
//! What counts: a verdict of `succeeded` is a deployment that went out; `failed` (a rollback, the circuit
//! breaker, repeated task failures, a failed hook) is a failed change. Timeouts, superseded deployments,
//! interruptions and errors say nothing about the change itself and are listed, not counted. Lead time
//! (commit → deployed) counts the recordings made with `ECSGATE_COMMIT_TIME` set.

use serde::Serialize;

use crate::engine::Outcome;

/// One service's deployment as a recording judged it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub file: String,
    pub service: String,
    pub cluster: Option<String>,
    pub deployment_id: Option<String>,
    pub outcome: Outcome,
    /// When it began and when it was decided (epoch ms), from the recording's own event times.
    pub started_ms: Option<i64>,
    pub decided_ms: Option<i64>,
    /// When the change was committed, when the recording says (`ECSGATE_COMMIT_TIME`).
    pub committed_ms: Option<i64>,
}

/// A failed deployment and the success that restored its service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restore {
    pub service: String,
    pub failed_deployment: Option<String>,
    pub restored_by: Option<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceFigures {
    pub service: String,
    pub deployments: usize,
    pub failed: usize,
    pub change_failure_rate: Option<f64>,
    pub mean_time_to_restore_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Deployments that succeeded or failed (the ones that say something about a change).
    pub deployments: usize,
    pub failed: usize,
    /// failed / deployments; `None` without deployments.
    pub change_failure_rate: Option<f64>,
    pub mean_time_to_restore_seconds: Option<f64>,
    /// Commit → successful deployment, over the successes whose recording names a commit time.
    pub mean_lead_time_seconds: Option<f64>,
    pub lead_times_counted: usize,
    /// Failed deployments no later success of their service restored (in these recordings).
    pub unrestored: usize,
    /// Timed out, superseded, interrupted or errored: listed, not counted.
    pub not_counted: usize,
    pub restores: Vec<Restore>,
    pub services: Vec<ServiceFigures>,
}

fn counts(o: Outcome) -> bool {
    matches!(o, Outcome::Succeeded | Outcome::Failed)
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The figures over every deployment given (any order).
pub fn figures(deployments: &[Deployment]) -> Figures {
    let mut ds: Vec<&Deployment> = deployments.iter().collect();
    ds.sort_by_key(|d| (d.service.clone(), d.decided_ms.or(d.started_ms).unwrap_or(i64::MAX)));
    let mut restores = Vec::new();
    let mut unrestored = 0;
    for (i, d) in ds.iter().enumerate() {
        if d.outcome != Outcome::Failed {
            continue;
        }
        let next = ds[i + 1..].iter().find(|n| n.service == d.service && n.outcome == Outcome::Succeeded);
        match (next, d.decided_ms, next.and_then(|n| n.decided_ms)) {
            (Some(n), Some(a), Some(b)) if b >= a => restores.push(Restore {
                service: d.service.clone(),
                failed_deployment: d.deployment_id.clone(),
                restored_by: n.deployment_id.clone(),
                seconds: (b - a) as f64 / 1000.0,
            }),
            _ => unrestored += 1,
        }
    }
    let mut services: Vec<ServiceFigures> = Vec::new();
    for d in &ds {
        if services.last().is_none_or(|s| s.service != d.service) {
            services.push(ServiceFigures {
                service: d.service.clone(),
                deployments: 0,
                failed: 0,
                change_failure_rate: None,
                mean_time_to_restore_seconds: None,
            });
        }
        let s = services.last_mut().expect("pushed");
        if counts(d.outcome) {
            s.deployments += 1;
            s.failed += usize::from(d.outcome == Outcome::Failed);
        }
    }
    for s in &mut services {
        s.change_failure_rate = (s.deployments > 0).then(|| s.failed as f64 / s.deployments as f64);
        let times: Vec<f64> = restores.iter().filter(|r| r.service == s.service).map(|r| r.seconds).collect();
        s.mean_time_to_restore_seconds = mean(&times);
    }
    let leads: Vec<f64> = ds
        .iter()
        .filter(|d| d.outcome == Outcome::Succeeded)
        .filter_map(|d| match (d.committed_ms, d.decided_ms) {
            (Some(c), Some(e)) if e >= c => Some((e - c) as f64 / 1000.0),
            _ => None,
        })
        .collect();
    let counted = ds.iter().filter(|d| counts(d.outcome)).count();
    let failed = ds.iter().filter(|d| d.outcome == Outcome::Failed).count();
    Figures {
        kind: "dora",
        deployments: counted,
        failed,
        change_failure_rate: (counted > 0).then(|| failed as f64 / counted as f64),
        mean_time_to_restore_seconds: mean(&restores.iter().map(|r| r.seconds).collect::<Vec<_>>()),
        mean_lead_time_seconds: mean(&leads),
        lead_times_counted: leads.len(),
        unrestored,
        not_counted: ds.len() - counted,
        restores,
        services,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0)).unwrap_or_else(|| "–".into())
}

fn duration(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) if s < 7200.0 => format!("{:.1} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3600.0),
    }
}

/// The figures as Markdown (a CI job summary, a wiki page). Service names are foreign text.
pub fn markdown(f: &Figures) -> String {
    let cell = |s: &str| crate::report::foreign(s).replace('|', "\\|").replace('<', "&lt;");
    let mut s = String::from(
        "## Deployments (DORA)\n\n| deployments | failed | change failure rate | mean time to restore |\n|---|---|---|---|\n",
    );
    s.push_str(&format!(
        "| {} | {} | {} | {} |\n\n",
        f.deployments,
        f.failed,
        pct(f.change_failure_rate),
        duration(f.mean_time_to_restore_seconds)
    ));
    if !f.services.is_empty() {
        s.push_str(
            "| service | deployments | failed | change failure rate | mean time to restore |\n|---|---|---|---|---|\n",
        );
        for x in &f.services {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                cell(&x.service),
                x.deployments,
                x.failed,
                pct(x.change_failure_rate),
                duration(x.mean_time_to_restore_seconds)
            ));
        }
        s.push('\n');
    }
    if f.unrestored > 0 {
        s.push_str(&format!("{} failed deployment(s) not yet restored by a later success.\n\n", f.unrestored));
    }
    if f.not_counted > 0 {
        s.push_str(&format!(
            "{} gate(s) timed out, were superseded, interrupted or errored: not counted.\n\n",
            f.not_counted
        ));
    }
    match f.mean_lead_time_seconds {
        Some(l) => s.push_str(&format!(
            "Mean lead time (commit → deployed): {} over {} deployment(s) whose recording names a commit time.\n",
            duration(Some(l)),
            f.lead_times_counted
        )),
        None => s.push_str("Lead time: no recording names a commit time (record with ECSGATE_COMMIT_TIME set).\n"),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(service: &str, id: &str, outcome: Outcome, decided_min: i64) -> Deployment {
        Deployment {
            file: "f".into(),
            service: service.into(),
            cluster: None,
            deployment_id: Some(id.into()),
            outcome,
            started_ms: Some(decided_min * 60_000 - 5_000),
            decided_ms: Some(decided_min * 60_000),
            committed_ms: Some(decided_min * 60_000 - 600_000),
        }
    }

    #[test]
    fn change_failure_rate_and_time_to_restore_per_service() {
        let f = figures(&[
            d("api", "a1", Outcome::Succeeded, 10),
            d("api", "a2", Outcome::Failed, 20),
            d("worker", "w1", Outcome::Failed, 25),
            d("api", "a3", Outcome::Succeeded, 50),
            d("api", "a4", Outcome::TimedOut, 60),
        ]);
        assert_eq!((f.deployments, f.failed, f.not_counted), (4, 2, 1));
        assert_eq!(f.change_failure_rate, Some(0.5));
        assert_eq!(f.restores.len(), 1, "worker's failure has no later success");
        assert_eq!(f.restores[0].seconds, 30.0 * 60.0);
        assert_eq!(f.restores[0].restored_by.as_deref(), Some("a3"));
        assert_eq!(f.unrestored, 1);
        let api = f.services.iter().find(|s| s.service == "api").unwrap();
        assert_eq!((api.deployments, api.failed), (3, 1));
        let md = markdown(&f);
        assert!(md.contains("| 4 | 2 | 50.0 % | 30.0 min |"), "{md}");
        assert!(md.contains("1 failed deployment(s) not yet restored"), "{md}");
        // Two successes, each committed 10 minutes before it was deployed.
        assert_eq!((f.mean_lead_time_seconds, f.lead_times_counted), (Some(600.0), 2));
        assert!(md.contains("Mean lead time (commit → deployed): 10.0 min over 2"), "{md}");
    }

    #[test]
    fn no_deployments_gives_no_rates() {
        let f = figures(&[]);
        assert_eq!((f.deployments, f.change_failure_rate, f.mean_time_to_restore_seconds), (0, None, None));
    }
}
