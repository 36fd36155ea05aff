//! `ecsgate replay`: recorded events → the same engine → the same verdict, no AWS involved.

use std::io::Read;

use crate::cli::ReplayArgs;
use crate::engine::infer::infer_target;
use crate::engine::{Engine, Outcome, Target};
use crate::error::AppError;
use crate::recording::parse_text;
use crate::report::{Reporter, format_state};

pub fn run(args: ReplayArgs) -> u8 {
    let mut reporter = Reporter::new(args.output.output, args.output.quiet, false, args.output.github);
    match replay(&args, &mut reporter) {
        Ok(code) => code,
        Err(e) => {
            reporter.error(&e);
            e.exit_code
        }
    }
}

fn read_input(file: &str) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    let res = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ())
    };
    let name = if file == "-" { "standard input" } else { file };
    // One line, as the issue asks for an unreadable file; the advice fits in it.
    res.map_err(|e| AppError::usage(format!("cannot read {name}: {e} (check the path; - reads standard input)")))?;
    String::from_utf8(bytes).map_err(|_| {
        AppError::usage(format!("{name} is not UTF-8 text (expected JSON events)"))
            .with_hint("decompress exports first (for example gunzip a CloudWatch Logs export from S3)")
    })
}

fn replay(args: &ReplayArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let name = if args.file == "-" { "standard input" } else { args.file.as_str() };
    let text = read_input(&args.file)?;
    let parsed = parse_text(&text);
    if parsed.json_values == 0 {
        return Err(AppError::usage(format!(
            "{name}: no JSON found (expected ECS events as JSON Lines, a JSON array, or a CloudWatch Logs export)"
        ))
        .with_hint("record events with `ecsgate wait --record FILE`, or export them from an EventBridge rule that logs to CloudWatch Logs"));
    }
    if parsed.malformed + parsed.not_ecs > 0 {
        reporter
            .warn(&format!("{name}: skipped {} malformed and {} non-ECS entries", parsed.malformed, parsed.not_ecs));
    }
    let given = Target {
        cluster: args.target.cluster.clone(),
        service: args.target.service.clone(),
        deployment_id: args.target.deployment_id.clone(),
    };
    // Flags first, then the recording's own start line, then inference from the events.
    let mut base = given.clone();
    if let Some(start) = &parsed.start {
        base.cluster = base.cluster.or(start.cluster.clone());
        base.service = base.service.or(start.service.clone());
        base.deployment_id = base.deployment_id.or(start.deployment_id.clone());
    }
    let target = infer_target(&parsed.inputs, &base);
    let known = target.deployment_id.is_some();
    let mut engine = Engine::new(target, args.target.max_task_failures);
    let mut notes = Vec::new();
    for input in parsed.inputs {
        engine.apply(input, &mut notes);
        for n in notes.drain(..) {
            reporter.note(&n);
        }
    }
    if let Some(t) = parsed.log_tail {
        engine.set_log_tail(t);
    }
    if !engine.is_decided() {
        let reason = if known {
            format!("the event stream ended with no verdict (last state: {})", format_state(&engine.progress()))
        } else {
            format!("no deployment found in {name}: pass --deployment-id (and --service)")
        };
        engine.finish(Outcome::TimedOut, reason, None);
    }
    let v = engine.verdict().expect("decided");
    reporter.verdict(&v);
    Ok(v.exit_code)
}
