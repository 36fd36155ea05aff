//! `--github-deployment ENVIRONMENT`: the gate as a GitHub Deployment of the commit, so the verdict shows
//! on the commit and the environment page even when the job that started it was detached. At the start
//! it creates the deployment (or takes `ECSGATE_GITHUB_DEPLOYMENT_ID`, one another step created) and
//! sets it `in_progress`; at the end `success`, `failure` or `error` with the verdict's reason and a
//! link to the run. Best effort: a GitHub API that refuses or does not answer is a warning, never a
//! change of exit code. Needs `GITHUB_TOKEN` (with `deployments: write`), `GITHUB_REPOSITORY` and
//! `GITHUB_SHA`, which GitHub Actions sets (the token through `env:`).

use serde_json::{Value, json};

use super::notify::post_json;
use crate::engine::Outcome;
use crate::error::AppError;
use crate::report::{GateReport, Reporter, foreign};

/// Where and as whom the deployment is written, resolved before anything is created.
#[derive(Debug, Clone)]
pub struct GithubDeployment {
    pub environment: String,
    api: String,
    repository: String,
    sha: String,
    token: String,
    /// A deployment another step created (`ECSGATE_GITHUB_DEPLOYMENT_ID`): only its statuses are set.
    existing: Option<u64>,
    run_url: Option<String>,
}

impl GithubDeployment {
    /// From the environment; a missing variable is a usage error (exit 2), said before the gate starts.
    pub fn from_env(environment: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, AppError> {
        let need = |k: &str| {
            env(k).ok_or_else(|| {
                AppError::usage(format!("--github-deployment needs {k}"))
                    .with_hint("GitHub Actions sets GITHUB_REPOSITORY and GITHUB_SHA; pass the token with env: GITHUB_TOKEN: ${{ github.token }} (permissions: deployments: write)")
            })
        };
        let existing = match env("ECSGATE_GITHUB_DEPLOYMENT_ID") {
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                AppError::usage(format!("ECSGATE_GITHUB_DEPLOYMENT_ID {v:?} is not a deployment id"))
                    .with_hint("give the numeric id of the deployment a previous step created, or unset it")
            })?),
            None => None,
        };
        let run_url = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")) {
            (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
            _ => None,
        };
        Ok(GithubDeployment {
            environment: environment.to_string(),
            api: env("GITHUB_API_URL")
                .unwrap_or_else(|| "https://api.github.com".into())
                .trim_end_matches('/')
                .to_string(),
            repository: need("GITHUB_REPOSITORY")?,
            sha: need("GITHUB_SHA")?,
            token: need("GITHUB_TOKEN")?,
            existing,
            run_url,
        })
    }

    fn auth(&self) -> Option<String> {
        Some(format!("Bearer {}", self.token))
    }
}

/// The deployment once created: its id.
pub struct Started {
    id: u64,
}

/// The state and the description (≤ 140 characters, GitHub's limit) a gate ends with.
pub fn final_status(r: &GateReport) -> (&'static str, String) {
    let state = match r.outcome {
        Outcome::Succeeded => "success",
        Outcome::Error(_) | Outcome::Interrupted(_) => "error",
        Outcome::Failed | Outcome::TimedOut | Outcome::Superseded | Outcome::InProgress => "failure",
        // The deployment goes on; `ecsgate resume` ends it later (with its own --github-deployment).
        Outcome::Detached => "in_progress",
    };
    let text = match r.verdicts.as_slice() {
        [v] => v.reason.clone().unwrap_or_else(|| r.outcome.as_str().into()),
        many => {
            let ok = many.iter().filter(|v| v.outcome == Outcome::Succeeded).count();
            let worst = many.iter().find(|v| v.exit_code == r.exit_code);
            match worst.filter(|_| ok < many.len()) {
                Some(w) => format!(
                    "{ok} of {} services succeeded; {}: {}",
                    many.len(),
                    w.service.as_deref().unwrap_or("?"),
                    w.reason.as_deref().unwrap_or("")
                ),
                None => format!("{ok} of {} services succeeded", many.len()),
            }
        }
    };
    let text = foreign(&text).into_owned();
    let mut d: String = text.chars().take(140).collect();
    if text.chars().count() > 140 {
        d.pop();
        d.push('…');
    }
    (state, d)
}

/// Creates the deployment (unless one was given) and sets it `in_progress`. `None` (with a warning)
/// when GitHub refuses: the gate goes on.
pub async fn start(g: &GithubDeployment, reporter: &mut Reporter) -> Option<Started> {
    let id = match g.existing {
        Some(id) => id,
        None => {
            let body = json!({
                "ref": g.sha, "environment": g.environment, "auto_merge": false, "required_contexts": [],
                "description": "ecsgate: waiting for the ECS deployment", "transient_environment": false,
            });
            let url = format!("{}/repos/{}/deployments", g.api, g.repository);
            match post_json(&url, g.auth(), body.to_string()).await {
                Ok(a) if a.status == 201 => {
                    match serde_json::from_str::<Value>(&a.body).ok().and_then(|v| v["id"].as_u64()) {
                        Some(id) => id,
                        None => {
                            reporter.warn("GitHub deployment: created, but its answer names no id; no status is set");
                            return None;
                        }
                    }
                }
                Ok(a) => {
                    reporter.warn(&format!("GitHub deployment not created: HTTP {} (the gate goes on)", a.status));
                    return None;
                }
                Err(e) => {
                    reporter.warn(&format!("GitHub deployment not created: {e} (the gate goes on)"));
                    return None;
                }
            }
        }
    };
    let s = Started { id };
    status(g, &s, "in_progress", "ecsgate: waiting for the ECS deployment", reporter).await;
    Some(s)
}

/// The verdict as the deployment's final status.
pub async fn finish(g: &GithubDeployment, s: &Started, r: &GateReport, reporter: &mut Reporter) {
    let (state, description) = final_status(r);
    if status(g, s, state, &description, reporter).await {
        reporter.info(&format!("ecsgate: GitHub deployment {} of {} set to {state}", s.id, g.environment));
    }
}

async fn status(g: &GithubDeployment, s: &Started, state: &str, description: &str, reporter: &mut Reporter) -> bool {
    let mut body =
        json!({"state": state, "description": description, "environment": g.environment, "auto_inactive": true});
    if let Some(u) = &g.run_url {
        body["log_url"] = json!(u);
    }
    let url = format!("{}/repos/{}/deployments/{}/statuses", g.api, g.repository, s.id);
    match post_json(&url, g.auth(), body.to_string()).await {
        Ok(a) if (200..300).contains(&a.status) => true,
        Ok(a) => {
            reporter.warn(&format!("GitHub deployment status {state} not set: HTTP {} (the verdict stands)", a.status));
            false
        }
        Err(e) => {
            reporter.warn(&format!("GitHub deployment status {state} not set: {e} (the verdict stands)"));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Verdict;

    fn v(service: &str, outcome: Outcome, reason: &str) -> Verdict {
        let mut v = Verdict::error(crate::exit::ErrorKind::Usage, reason, None);
        v.outcome = outcome;
        v.exit_code = outcome.exit_code();
        v.service = Some(service.into());
        v
    }

    #[test]
    fn the_final_status_follows_the_gate_and_fits_githubs_limit() {
        let ok = GateReport::new(vec![v("api", Outcome::Succeeded, "deployment ecs-svc/1 completed")]);
        assert_eq!(final_status(&ok), ("success", "deployment ecs-svc/1 completed".into()));
        let long = "x".repeat(500);
        let bad = GateReport::new(vec![v("api", Outcome::Failed, &long)]);
        let (state, d) = final_status(&bad);
        assert_eq!((state, d.chars().count()), ("failure", 140));
        let several =
            GateReport::new(vec![v("api", Outcome::Succeeded, "ok"), v("worker", Outcome::Failed, "3 tasks failed")]);
        assert_eq!(final_status(&several), ("failure", "1 of 2 services succeeded; worker: 3 tasks failed".into()));
        let err = GateReport::new(vec![v("api", Outcome::Error(crate::exit::ErrorKind::Aws), "denied")]);
        assert_eq!(final_status(&err).0, "error");
    }

    #[test]
    fn missing_variables_are_named_before_anything_is_created() {
        let env = |k: &str| match k {
            "GITHUB_REPOSITORY" => Some("o/r".to_string()),
            "GITHUB_SHA" => Some("abc".to_string()),
            _ => None,
        };
        let e = GithubDeployment::from_env("production", &env).unwrap_err();
        assert!(e.message.contains("GITHUB_TOKEN"), "{}", e.message);
        assert_eq!(e.exit_code(), crate::exit::USAGE);
    }
}
