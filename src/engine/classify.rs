//! Which stopped tasks count as failures (SEMANTICS.md design note 3.5 and 4; HINTS.md §1–2).
//!
//! Classification is by `stopCode` first — never by a deployment id inside the reason text, because
//! "Scaling activity initiated by (deployment X)" names whichever deployment scaled, not a verdict.
//! Only when the stop code is absent or unknown does the text decide, through the hint table.

use super::hints::{StopClass, match_text};

pub fn classify_stop(stop_code: Option<&str>, stopped_reason: Option<&str>) -> StopClass {
    let reason = stopped_reason.unwrap_or("");
    // The infrastructure's own texts (a drained or terminated host, Fargate maintenance) are never the
    // application's failure, whatever stop code the task's containers ended with
    // (deploy-kinds/README §5: stop code first, then these texts; never the exit code alone).
    let infra_text = match_text(reason).is_some_and(|r| r.class == StopClass::Infrastructure);
    if infra_text && stop_code != Some("TaskFailedToStart") {
        return StopClass::Infrastructure;
    }
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
    fn infrastructure_texts_never_count_whatever_the_stop_code() {
        // deploy-kinds/samples/composed__infra-stop-reasons-catalog.json, verbatim texts.
        for text in [
            "Task stopped during instance draining",
            "Host EC2 (instance i-0123456789abcdef0) stopped/terminated",
            "Container instance deregistration forced by user",
            "Service api: ECS is performing maintenance on the underlying infrastructure hosting the task",
        ] {
            for code in [None, Some("EssentialContainerExited"), Some("ServiceSchedulerInitiated"), Some("FutureCode")]
            {
                assert_eq!(classify_stop(code, Some(text)), StopClass::Infrastructure, "{code:?} {text}");
            }
        }
        // A task that never started is still a failure to explain, whatever else the text says.
        assert_eq!(
            classify_stop(Some("TaskFailedToStart"), Some("Task stopped during instance draining")),
            StopClass::Failure
        );
    }

    #[test]
    fn the_infrastructure_catalog_is_never_counted_and_the_application_entry_is() {
        // tests/fixtures/deploy-kinds: every verbatim text of the catalog, with the stop code it names (or none).
        let path = format!(
            "{}/tests/fixtures/deploy-kinds/composed__infra-stop-reasons-catalog.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut checked = 0;
        for e in v["entries"].as_array().unwrap() {
            let (Some(text), Some(class)) = (e["text"].as_str(), e["class"].as_str()) else { continue };
            // Placement failures are RunTask answers, not stopped tasks.
            if text == "AGENT" || text.starts_with("TaskFailedToStart:") {
                continue;
            }
            let text = text
                .replace("<id>", "i-0123456789abcdef0")
                .replace("<deployment-id>", "ecs-svc/1")
                .replace("<arn>", "arn:aws:elasticloadbalancing:x");
            let code = e["stopCode"].as_str().and_then(|c| c.split_whitespace().next());
            let got = classify_stop(code, Some(&text));
            if class.starts_with("APPLICATION") {
                assert_eq!(got, StopClass::Failure, "{text}");
            } else {
                assert_ne!(got, StopClass::Failure, "{class}: {text} ({code:?}) must never count");
                assert_ne!(classify_stop(None, Some(&text)), StopClass::Failure, "{text} without a stop code");
            }
            checked += 1;
        }
        assert!(checked >= 8, "{checked}");
    }

    #[test]
    fn absent_or_unknown_stop_code_falls_back_to_the_text() {
        assert_eq!(classify_stop(None, Some("Essential container in task exited")), StopClass::Failure);
        assert_eq!(classify_stop(Some("FutureCode"), Some("Task stopped by user")), StopClass::Benign);
        assert_eq!(classify_stop(Some("FutureCode"), Some("something new")), StopClass::Unknown);
        assert_eq!(classify_stop(None, None), StopClass::Unknown);
    }
}
