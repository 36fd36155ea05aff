//! `ecsgate wait` (placeholder until the live gate lands).
use crate::cli::{GcArgs, WaitArgs};

pub fn run(_args: WaitArgs) -> u8 {
    crate::exit::USAGE
}

pub fn run_gc(_args: GcArgs) -> u8 {
    crate::exit::USAGE
}
