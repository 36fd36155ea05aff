//! The CloudWatch alarms that rolled our deployment back: named by ECS, read by the live gate.

use super::*;

#[derive(Default)]
pub(super) struct Alarms {
    /// Alarms ECS named when it rolled our service deployment back.
    pub(super) triggered: Vec<String>,
    /// What DescribeAlarms said of them (read by the live gate after the verdict).
    pub(super) states: Vec<super::verdict::AlarmState>,
}

impl Engine {
    /// Alarms that rolled our deployment back.
    pub fn triggered_alarms(&self) -> &[String] {
        &self.alarms.triggered
    }
}
