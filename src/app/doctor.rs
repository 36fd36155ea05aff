//! `ecsgate doctor`: checks what a gate needs before a pipeline depends on it — credentials and
//! region, every permission of the chosen mode (probed with calls that change nothing), the clock, and
//! the room left on the default event bus — and prints what to fix.

use std::time::Duration;

use crate::aws::doctor::{self, Granted, Probe};
use crate::aws::{self, ErrInfo};
use crate::cli::DoctorArgs;
use crate::error::AppError;
use crate::exit;
use crate::report::Reporter;

/// EventBridge's default quota of rules per event bus (it can be raised, so it is "by default").
pub const BUS_RULES_QUOTA: usize = 300;

/// One line of the checklist.
#[derive(Debug, PartialEq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

pub fn run(args: DoctorArgs) -> u8 {
    let mut reporter = Reporter::new(crate::cli::OutputFormat::Human, false, false, Some(false));
    super::block_on(&mut reporter, async |r| doctor(&args, r).await)
}

/// The clock against AWS's: SigV4 refuses a request signed more than 5 minutes off.
pub fn clock_level(offset: Duration) -> Level {
    match offset.as_secs() {
        s if s >= 300 => Level::Fail,
        s if s >= 60 => Level::Warn,
        _ => Level::Ok,
    }
}

/// Room on the default bus: each gate adds a rule for its duration, and the quota is the account's.
pub fn bus_level(rules: usize) -> Level {
    match BUS_RULES_QUOTA.saturating_sub(rules) {
        0 => Level::Fail,
        free if free < 30 => Level::Warn,
        _ => Level::Ok,
    }
}

async fn doctor(args: &DoctorArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let clients = aws::load(args.aws.region.clone(), args.aws.profile.clone()).await?;
    let mut lines: Vec<(Level, String)> = Vec::new();
    lines.push((Level::Ok, format!("region {}", clients.region)));
    let cluster = args.cluster.clone().unwrap_or_else(|| "default".into());

    // The first call also proves the credentials and reads AWS's clock.
    let (probe, offset) = doctor::first_call(&clients, &cluster).await;
    if let Err(e) = &probe.answer
        && doctor::granted(&probe.answer) == Granted::Unknown
    {
        lines.push((
            Level::Fail,
            format!("no answer from AWS ({e}) — fix: credentials, --region, network or AWS_ENDPOINT_URL"),
        ));
        return Ok(print(reporter, &lines, exit::AWS_ERROR));
    }
    lines.push(permission_line(&probe));
    let account = match doctor::identity(&clients).await {
        Ok((account, arn)) => {
            lines.push((Level::Ok, format!("credentials: {arn} (account {account})")));
            account
        }
        Err(e) => {
            lines.push((Level::Warn, format!("credentials: GetCallerIdentity failed ({e})")));
            "000000000000".to_string()
        }
    };
    match offset {
        Some((off, ahead)) => {
            let text = format!("clock {} s {} AWS's", off.as_secs(), if ahead { "ahead of" } else { "behind" });
            lines.push(match clock_level(off) {
                Level::Ok => (Level::Ok, text),
                l => {
                    (l, format!("{text} — fix: synchronise the clock (SigV4 refuses requests more than 5 minutes off)"))
                }
            });
        }
        None => lines.push((Level::Warn, "clock not checked: AWS's answer carried no Date header".into())),
    }

    let probes = doctor::ecs_reads(&clients, &cluster, args.service.as_deref()).await;
    lines.extend(probes.iter().map(permission_line));
    if args.service.is_none() {
        lines.push((Level::Warn, "ecs:DescribeServices, ecs:DescribeTaskDefinition, ecs:ListServiceDeployments not checked: name a service with --service".into()));
    }

    if args.poll {
        lines.push((Level::Ok, "queue mode not checked (--poll: no rule, no queue)".into()));
    } else {
        lines.extend(doctor::subscription(&clients, &account).await.iter().map(permission_line));
        match doctor::default_bus_rules(&clients).await {
            Ok(n) => {
                let text = format!(
                    "default event bus: {n} rules of {BUS_RULES_QUOTA} by default ({} free); each running gate adds one",
                    BUS_RULES_QUOTA.saturating_sub(n)
                );
                lines.push(match bus_level(n) {
                    Level::Ok => (Level::Ok, text),
                    l => (l, format!("{text} — fix: `ecsgate gc` deletes ecsgate's leftovers; raise the quota in Service Quotas, or use --poll")),
                });
            }
            Err(e) => {
                lines.push(permission_line(&Probe { permission: "events:ListRules", answer: Err(e), missing: None }))
            }
        }
    }
    if let Some(spec) = &args.hub {
        lines.extend(hub_lines(&clients, spec).await);
    }
    let failed = lines.iter().any(|(l, _)| *l == Level::Fail);
    Ok(print(reporter, &lines, if failed { exit::FAILED } else { exit::SUCCEEDED }))
}

/// `--hub auto|TABLE`: the parameter that names the table (auto), then one Query of a key no service
/// has (it reads nothing, and proves dynamodb:Query on the table).
async fn hub_lines(c: &aws::Clients, spec: &str) -> Vec<(Level, String)> {
    use crate::aws::hub;
    let mut lines = Vec::new();
    let table = if spec.eq_ignore_ascii_case("auto") {
        match hub::table_from_parameter(c).await {
            Ok(Some(t)) => {
                lines.push((Level::Ok, format!("ssm:GetParameter: {} names the hub's table {t}", hub::PARAMETER)));
                t
            }
            Ok(None) => {
                lines.push((Level::Warn, format!("no hub: SSM parameter {} not found — gates with --hub auto subscribe per run (install: ecsgate hub template)", hub::PARAMETER)));
                return lines;
            }
            Err(e) => {
                lines.push(permission_line(&Probe { permission: "ssm:GetParameter", answer: Err(e), missing: None }));
                return lines;
            }
        }
    } else {
        spec.to_string()
    };
    let now = hub::sort_key_at(crate::engine::time::now_millis());
    match hub::events_since(c, &table, "ecsgate-doctor-probe", &now, true).await {
        Ok(_) => lines.push((Level::Ok, format!("dynamodb:Query on the hub's table {table}"))),
        Err(e) if e.kind == aws::Kind::NotFound => {
            lines.push((
                Level::Fail,
                format!("the hub's table {table} not found ({e}) — fix: --hub, --region, or install the hub"),
            ));
        }
        Err(e) => lines.push(permission_line(&Probe { permission: "dynamodb:Query", answer: Err(e), missing: None })),
    }
    lines
}

fn permission_line(p: &Probe) -> (Level, String) {
    match doctor::granted(&p.answer) {
        Granted::Yes => match &p.missing {
            None => (Level::Ok, p.permission.to_string()),
            Some(what) => (Level::Fail, format!("{}: {what} — fix: --cluster / --service, --region", p.permission)),
        },
        Granted::No => (
            Level::Fail,
            format!(
                "{} not granted ({}) — fix: grant it to the role ecsgate runs as (README: IAM)",
                p.permission,
                err(&p.answer)
            ),
        ),
        Granted::Unknown => (Level::Warn, format!("{} not checked: {}", p.permission, err(&p.answer))),
    }
}

fn err(answer: &Result<(), ErrInfo>) -> String {
    answer.as_ref().err().map(ToString::to_string).unwrap_or_default()
}

fn print(reporter: &mut Reporter, lines: &[(Level, String)], code: u8) -> u8 {
    let mut text = String::new();
    for (level, line) in lines {
        let tag = match level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        text.push_str(&format!("{tag}  {}\n", crate::report::text::foreign(line)));
    }
    let (f, w) = (
        lines.iter().filter(|(l, _)| *l == Level::Fail).count(),
        lines.iter().filter(|(l, _)| *l == Level::Warn).count(),
    );
    text.push_str(&format!("ecsgate doctor: {} checks, {f} failed, {w} warnings\n", lines.len()));
    reporter.print(&text);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_five_minutes_off_fails_and_one_minute_warns() {
        assert_eq!(clock_level(Duration::from_secs(2)), Level::Ok);
        assert_eq!(clock_level(Duration::from_secs(60)), Level::Warn);
        assert_eq!(clock_level(Duration::from_secs(299)), Level::Warn);
        assert_eq!(clock_level(Duration::from_secs(300)), Level::Fail);
    }

    #[test]
    fn a_full_bus_fails_and_a_nearly_full_one_warns() {
        assert_eq!(bus_level(0), Level::Ok);
        assert_eq!(bus_level(270), Level::Ok);
        assert_eq!(bus_level(271), Level::Warn);
        assert_eq!(bus_level(300), Level::Fail);
        assert_eq!(bus_level(350), Level::Fail);
    }
}
