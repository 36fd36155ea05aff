//! Gates that outlive their CI job (`--detach-at`, issue 18 item 4): the handle a detached gate writes,
//! `ecsgate resume HANDLE` (the gate again, on exactly the deployment the handle names) and
//! `ecsgate status HANDLE` (the verdict so far in one read). Without the hub the rest comes from the
//! API: the deployment's state, and the stopped tasks ECS still knows (about an hour).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::drive::Driver;
use super::settings::WaitSettings;
use super::wait::Svc;
use crate::aws::Clients;
use crate::cli::HandleArgs;
use crate::engine::time::{format_rfc3339_millis, now_millis};
use crate::error::AppError;
use crate::exit;
use crate::report::Reporter;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handle {
    pub version: u32,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub services: Vec<HandleService>,
    pub detached_at: String,
    /// The hub the gate read (`--hub auto|TABLE`): `resume` reads what happened meanwhile from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandleService {
    pub cluster: String,
    pub service: String,
    pub deployment_id: String,
}

/// Writes the handle of a detached gate (`--handle`) and tells the driver, whose verdicts then name it.
/// A handle that cannot be written is a warning: the verdict (exit 6) says the deployment goes on.
pub(crate) fn write(s: &WaitSettings, c: &Clients, svcs: &[Svc], driver: &mut Driver, reporter: &mut Reporter) {
    let h = Handle {
        version: 1,
        region: c.region.clone(),
        profile: s.profile.clone(),
        services: svcs
            .iter()
            .enumerate()
            .map(|(i, v)| HandleService {
                cluster: v.cluster.clone(),
                service: v.name.clone(),
                deployment_id: driver
                    .engine(i)
                    .target()
                    .deployment_id
                    .clone()
                    .unwrap_or_else(|| v.deployment_id.clone()),
            })
            .collect(),
        detached_at: format_rfc3339_millis(now_millis()),
        hub: s.hub.clone(),
    };
    let path = s.handle.display().to_string();
    let body = serde_json::to_string_pretty(&h).unwrap_or_default() + "\n";
    match std::fs::write(&s.handle, body) {
        Ok(()) => {
            reporter.info(&format!("ecsgate: detached; handle written to {path}"));
            driver.set_handle(path);
        }
        Err(e) => reporter
            .warn(&format!("cannot write the handle {path}: {e}; resume with `ecsgate wait` and --deployment-id")),
    }
}

fn read(path: &Path) -> Result<Handle, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::usage(format!("cannot read the handle {}: {e}", path.display()))
            .with_hint("give the file --detach-at wrote (--handle, default ecsgate-handle.json)")
    })?;
    let h: Handle = serde_json::from_str(&text).map_err(|e| {
        AppError::usage(format!("{} is not an ecsgate handle: {e}", path.display()))
            .with_hint("give the file --detach-at wrote (--handle, default ecsgate-handle.json)")
    })?;
    if h.version != 1 || h.services.is_empty() {
        return Err(AppError::usage(format!(
            "{}: a handle of version {} with {} services is not one this ecsgate reads",
            path.display(),
            h.version,
            h.services.len()
        ))
        .with_hint("resume it with the ecsgate release that wrote it"));
    }
    Ok(h)
}

/// `wait`'s arguments for a handle: its services, region and profile, and — one service — exactly the
/// deployment it detached from; the hub it read, unless the user chooses another source (`--hub`,
/// `--poll`, or their variables); then the user's own flags.
pub fn wait_argv(h: &Handle, flags: &[String]) -> Vec<String> {
    wait_argv_with(h, flags, |k| std::env::var(k).ok())
}

/// [`wait_argv`] with the environment given (tests).
fn wait_argv_with(h: &Handle, flags: &[String], env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let services: Vec<String> = h.services.iter().map(|s| format!("{}/{}", s.cluster, s.service)).collect();
    let mut argv = vec![
        "ecsgate".into(),
        "wait".into(),
        "--service".into(),
        services.join(","),
        "--region".into(),
        h.region.clone(),
    ];
    if let Some(p) = &h.profile {
        argv.extend(["--profile".into(), p.clone()]);
    }
    if let [one] = h.services.as_slice() {
        argv.extend(["--deployment-id".into(), one.deployment_id.clone()]);
    }
    // The user's own choice of source wins: `--poll` (or a true ECSGATE_POLL — `false` chooses nothing),
    // any `--hub`/ECSGATE_HUB.
    let truthy = |v: &str| matches!(v.trim().to_ascii_lowercase().as_str(), "y" | "yes" | "t" | "true" | "on" | "1");
    let polls = flags.iter().any(|f| f == "--poll" || f.strip_prefix("--poll=").is_some_and(truthy))
        || env("ECSGATE_POLL").is_some_and(|v| truthy(&v));
    let hub_given = flags.iter().any(|f| f == "--hub" || f.starts_with("--hub="))
        || env("ECSGATE_HUB").is_some_and(|v| !v.trim().is_empty());
    if let Some(hub) = h.hub.as_ref().filter(|_| !polls && !hub_given) {
        argv.extend(["--hub".into(), hub.clone()]);
    }
    argv.extend(flags.iter().cloned());
    argv
}

fn parse(h: &Handle, flags: &[String]) -> Result<crate::cli::WaitArgs, u8> {
    let argv = wait_argv(h, flags);
    match <crate::cli::Cli as clap::Parser>::try_parse_from(&argv) {
        Ok(crate::cli::Cli { command: crate::cli::Command::Wait(w) }) => Ok(w),
        Ok(_) => Err(exit::USAGE),
        Err(e) => {
            let json = crate::cli::wants_json(flags);
            crate::report::usage_error(&e.to_string(), json);
            Err(exit::USAGE)
        }
    }
}

/// `ecsgate resume HANDLE [wait flags]`.
pub fn resume(a: HandleArgs) -> u8 {
    let h = match read(&a.handle) {
        Ok(h) => h,
        Err(e) => return report_error(&e),
    };
    match parse(&h, &a.flags) {
        Ok(w) => {
            // A gate that detached on the hub, of one deployment that may have ended (and left the
            // service's list) between the jobs: the hub's events judge it then.
            if let ([one], Some(_)) = (h.services.as_slice(), &w.gate.hub)
                && let Some(code) = super::history::resume_from_hub(&w, &one.deployment_id, false)
            {
                return code;
            }
            super::wait::run(w)
        }
        Err(code) => code,
    }
}

/// `ecsgate status HANDLE [output flags]`: one read of the API, no queue, no rule.
pub fn status(a: HandleArgs) -> u8 {
    let h = match read(&a.handle) {
        Ok(h) => h,
        Err(e) => return report_error(&e),
    };
    // A deployment that ended and left the service's list is judged from the hub, when the gate read one.
    if let ([one], Ok(w)) = (h.services.as_slice(), parse(&h, &a.flags))
        && w.gate.hub.is_some()
        && let Some(code) = super::history::resume_from_hub(&w, &one.deployment_id, true)
    {
        return code;
    }
    let mut flags = a.flags.clone();
    flags.push("--poll".into());
    match parse(&h, &flags) {
        Ok(w) => super::wait::status(w, a.handle.display().to_string()),
        Err(code) => code,
    }
}

fn report_error(e: &AppError) -> u8 {
    let mut reporter = Reporter::new(crate::cli::OutputFormat::Human, false, false, Some(false));
    reporter.error(e);
    e.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_of_one_service_resumes_exactly_its_deployment_with_the_users_flags() {
        let h = Handle {
            version: 1,
            region: "eu-west-1".into(),
            profile: Some("ci".into()),
            services: vec![HandleService {
                cluster: "shop".into(),
                service: "api".into(),
                deployment_id: "ecs-svc/1".into(),
            }],
            detached_at: "2026-12-04T00:00:00.000Z".into(),
            hub: None,
        };
        assert_eq!(
            wait_argv(&h, &["--timeout".into(), "2h".into()]).join(" "),
            "ecsgate wait --service shop/api --region eu-west-1 --profile ci --deployment-id ecs-svc/1 --timeout 2h"
        );
        let mut two = h.clone();
        two.services.push(HandleService {
            cluster: "shop".into(),
            service: "web".into(),
            deployment_id: "ecs-svc/2".into(),
        });
        assert!(!wait_argv(&two, &[]).contains(&"--deployment-id".to_string()), "wait takes one deployment id");
        assert!(parse(&h, &["--timeout".into(), "2h".into()]).is_ok());
    }

    #[test]
    fn a_handle_of_a_gate_on_the_hub_resumes_on_the_hub_unless_the_flags_choose_another_source() {
        let h = Handle {
            version: 1,
            region: "eu-west-1".into(),
            profile: None,
            services: vec![HandleService {
                cluster: "shop".into(),
                service: "api".into(),
                deployment_id: "ecs-svc/1".into(),
            }],
            detached_at: "2026-12-04T00:00:00.000Z".into(),
            hub: Some("auto".into()),
        };
        let none = |_: &str| None;
        let argv = |flags: &[&str], env: &dyn Fn(&str) -> Option<String>| {
            let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
            wait_argv_with(&h, &flags, env).join(" ")
        };
        assert_eq!(
            argv(&[], &none),
            "ecsgate wait --service shop/api --region eu-west-1 --deployment-id ecs-svc/1 --hub auto"
        );
        assert!(!argv(&["--poll"], &none).contains("--hub"), "status reads the API once");
        assert!(argv(&["--poll=false"], &none).contains("--hub auto"), "--poll=false chooses nothing");
        assert_eq!(argv(&["--hub=t2"], &none).matches("--hub").count(), 1);
        let poll_env = |k: &str| (k == "ECSGATE_POLL").then(|| "true".to_string());
        assert!(!argv(&[], &poll_env).contains("--hub"));
        let poll_off = |k: &str| (k == "ECSGATE_POLL").then(|| "false".to_string());
        assert!(argv(&[], &poll_off).contains("--hub auto"));
        let hub_env = |k: &str| (k == "ECSGATE_HUB").then(|| "other-table".to_string());
        assert!(!argv(&[], &hub_env).contains("--hub"), "the variable names the hub itself");
        assert!(parse(&h, &[]).is_ok() && parse(&h, &["--poll".into()]).is_ok());
        // A handle written before the hub field still reads.
        let old = r#"{"version":1,"region":"r","services":[{"cluster":"c","service":"s","deployment_id":"d"}],"detached_at":"t"}"#;
        assert_eq!(serde_json::from_str::<Handle>(old).unwrap().hub, None);
    }
}
