//! Which stopped tasks count as failures (SEMANTICS.md design note 3.5 and 4; HINTS.md §1–2).
//!
//! Classification is by `stopCode` first — never by a deployment id inside the reason text, because
//! "Scaling activity initiated by (deployment X)" names whichever deployment scaled, not a verdict.
//! Only when the stop code is absent or unknown does the text decide, through the hint table.

use super::hints::{StopClass, match_text};

pub fn classify_stop(stop_code: Option<&str>, stopped_reason: Option<&str>) -> StopClass {
    let reason = stopped_reason.unwrap_or("");
    match stop_code {
        Some("TaskFailedToStart" | "EssentialContainerExited") => StopClass::Failure,
        // ELB and container health-check kills have no stop code of their own.
        Some("ServiceSchedulerInitiated") if reason.starts_with("Task failed ") => StopClass::Failure,
        Some("ServiceSchedulerInitiated") => match match_text(reason).map(|r| r.class) {
            Some(StopClass::Infrastructure) => StopClass::Infrastructure,
            _ => StopClass::Benign,
        },
        Some("UserInitiated") => StopClass::Benign,
        Some("SpotInterruption" | "TerminationNotice" | "InfrastructureHealth") => StopClass::Infrastructure,
        // Absent or a future value: "don't fail on it by itself; fall back to the text".
        _ => match_text(reason).map(|r| r.class).unwrap_or(StopClass::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_stop_codes_count() {
        assert_eq!(classify_stop(Some("TaskFailedToStart"), Some("CannotPullContainerError: x")), StopClass::Failure);
        assert_eq!(
            classify_stop(Some("EssentialContainerExited"), Some("Essential container in task exited")),
            StopClass::Failure
        );
    }

    #[test]
    fn scheduler_stops_count_only_for_health_check_failures() {
        let elb = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:x)";
        assert_eq!(classify_stop(Some("ServiceSchedulerInitiated"), Some(elb)), StopClass::Failure);
        assert_eq!(
            classify_stop(Some("ServiceSchedulerInitiated"), Some("Task failed container health checks")),
            StopClass::Failure
        );
        assert_eq!(
            classify_stop(
                Some("ServiceSchedulerInitiated"),
                Some("Scaling activity initiated by (deployment ecs-svc/1)")
            ),
            StopClass::Benign
        );
        assert_eq!(
            classify_stop(
                Some("ServiceSchedulerInitiated"),
                Some("Service scheduler stopped task because container instance is in DRAINING state")
            ),
            StopClass::Benign
        );
        assert_eq!(
            classify_stop(
                Some("ServiceSchedulerInitiated"),
                Some(
                    "Task stopped because ECS is performing maintenance on the underlying infrastructure hosting the task"
                )
            ),
            StopClass::Infrastructure
        );
    }

    #[test]
    fn user_spot_and_infrastructure_stops_never_count() {
        assert_eq!(classify_stop(Some("UserInitiated"), Some("Task stopped by user")), StopClass::Benign);
        assert_eq!(classify_stop(Some("UserInitiated"), Some("Essential container in task exited")), StopClass::Benign);
        for code in ["SpotInterruption", "TerminationNotice", "InfrastructureHealth"] {
            assert_eq!(classify_stop(Some(code), Some("Your Spot Task was interrupted.")), StopClass::Infrastructure);
        }
    }

    #[test]
    fn absent_or_unknown_stop_code_falls_back_to_the_text() {
        assert_eq!(classify_stop(None, Some("Essential container in task exited")), StopClass::Failure);
        assert_eq!(classify_stop(Some("FutureCode"), Some("Task stopped by user")), StopClass::Benign);
        assert_eq!(classify_stop(Some("FutureCode"), Some("something new")), StopClass::Unknown);
        assert_eq!(classify_stop(None, None), StopClass::Unknown);
    }
}
