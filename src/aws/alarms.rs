//! CloudWatch alarms that rolled a deployment back: DescribeAlarms, for each alarm's state and reason.

use super::{Clients, Kind, err_info};
use crate::engine::verdict::AlarmState;

/// The named alarms' states and reasons (up to 100 a call, the API's page). An alarm that cannot be
/// read is still listed, with why: ECS named it, and the name alone is worth reporting.
pub async fn describe(c: &Clients, names: &[String]) -> Vec<AlarmState> {
    let mut out = Vec::new();
    for chunk in names.chunks(100) {
        match c.cloudwatch.describe_alarms().set_alarm_names(Some(chunk.to_vec())).send().await {
            Ok(res) => {
                for name in chunk {
                    let found = res.metric_alarms().iter().find(|a| a.alarm_name() == Some(name.as_str()));
                    let (state, reason, note) = match found {
                        Some(a) => (
                            a.state_value().map(|s| s.as_str().to_string()),
                            a.state_reason().map(str::to_string),
                            None,
                        ),
                        None => match res.composite_alarms().iter().find(|a| a.alarm_name() == Some(name.as_str())) {
                            Some(a) => (
                                a.state_value().map(|s| s.as_str().to_string()),
                                a.state_reason().map(str::to_string),
                                None,
                            ),
                            None => (None, None, Some("not found (deleted, or in another region)".to_string())),
                        },
                    };
                    out.push(AlarmState { name: name.clone(), state, reason, note });
                }
            }
            Err(e) => {
                let info = err_info(&e);
                let note = match info.kind {
                    Kind::AccessDenied => "not read: not permitted (cloudwatch:DescribeAlarms)".to_string(),
                    _ => format!("not read: {info}"),
                };
                out.extend(chunk.iter().map(|n| AlarmState {
                    name: n.clone(),
                    state: None,
                    reason: None,
                    note: Some(note.clone()),
                }));
            }
        }
    }
    out
}
