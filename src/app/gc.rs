//! `ecsgate gc`: deletes ecsgate rules and queues left behind (a killed process, a teardown that failed).

use crate::aws::{self, fatal};
use crate::cli::GcArgs;
use crate::error::AppError;
use crate::exit;
use crate::report::{Reporter, format_elapsed};

pub fn run(args: GcArgs) -> u8 {
    let mut reporter = Reporter::new(crate::cli::OutputFormat::Human, false, false, Some(false));
    super::block_on(&mut reporter, async |r| gc(&args, r).await)
}

async fn gc(args: &GcArgs, reporter: &mut Reporter) -> Result<u8, AppError> {
    let clients = aws::load(args.aws.region.clone(), args.aws.profile.clone()).await?;
    let found = aws::gc::find(&clients).await.map_err(|(op, e)| fatal(op, op, e))?;
    let mut failed = 0;
    let mut n = 0;
    let mut kept = 0;
    let mut younger = 0;
    for f in &found {
        match f.age {
            // A gate may be running with it right now.
            Some(a) if a < args.older_than => {
                younger += 1;
                continue;
            }
            // Another gate may be using a resource that cannot be dated: never delete it on a guess.
            None if !args.force && !args.older_than.is_zero() => {
                kept += 1;
                reporter.warn(&format!(
                    "kept {} {}: its age is unknown (no creation time, no ecsgate:created-at tag); --force deletes it",
                    f.kind, f.name
                ));
                continue;
            }
            _ => {}
        }
        n += 1;
        let age = f.age.map(format_elapsed).unwrap_or_else(|| "unknown age".into());
        if args.dry_run {
            reporter.info(&format!("would delete {} {} ({age})", f.kind, f.name));
            continue;
        }
        match aws::gc::delete(&clients, f).await {
            Ok(()) => reporter.info(&format!("deleted {} {} ({age})", f.kind, f.name)),
            Err(e) => {
                failed += 1;
                reporter.warn(&format!("could not delete {} {}: {e}", f.kind, f.name));
            }
        }
    }
    reporter.info(&format!(
        "ecsgate gc: {n} leftover resource(s) older than {}; {younger} younger kept{}{}",
        format_elapsed(args.older_than),
        if kept > 0 { format!(", {kept} of unknown age kept") } else { String::new() },
        if args.dry_run { " (dry run: nothing deleted)" } else { "" }
    ));
    Ok(if failed > 0 { exit::AWS_ERROR } else { exit::SUCCEEDED })
}
