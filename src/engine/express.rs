//! ECS Express Mode services (`resourceManagementType = ECS`): ordinary services whose deployments are
//! the ServiceDeployment API's (a canary with an alarm-based rollback by default), judged like any other.
//! What Express adds to a verdict is what ECS manages for the revision (deploy-kinds/README §2.3): the
//! endpoint to print on success, the managed alarms to name on a rollback, the managed log group to
//! tail when the task definition names none.

use super::*;

#[derive(Default)]
pub(super) struct Express {
    /// The service said `resourceManagementType: ECS`.
    pub(super) is_express: bool,
    /// Our revision's managed resources, read by the live gate once the verdict is known.
    pub(super) resources: Option<snapshot::ManagedResources>,
}

impl Engine {
    pub(super) fn on_express_snapshot(&mut self, s: &ServiceSnapshot) {
        if s.resource_management_type.as_deref() == Some("ECS") {
            self.express.is_express = true;
        }
    }

    /// Whether the service is an Express Mode service.
    pub fn is_express(&self) -> bool {
        self.express.is_express
    }

    /// The service revision our deployment installs (what its managed resources belong to).
    pub fn target_revision(&self) -> Option<&str> {
        self.sd.target_revision.as_deref()
    }

    /// Whether the managed resources are still to be read: an Express service, decided, not read yet.
    pub fn wants_managed_resources(&self) -> bool {
        self.express.is_express && self.express.resources.is_none() && self.is_decided()
    }

    /// The managed log group, for a culprit whose task definition names no awslogs group.
    pub fn managed_log_group(&self) -> Option<&str> {
        self.express.resources.as_ref().and_then(|r| r.log_groups.first()).map(String::as_str)
    }

    /// The managed resources arrived. ECS names the alarms that rolled a deployment back in
    /// `triggeredAlarmNames`; when it named none but said an alarm did it, the revision's managed alarms
    /// are the ones (Express watches 4xx/5xx with them), so they are named and their states read.
    pub(super) fn on_managed(&mut self, m: snapshot::ManagedResources) {
        let by_alarm = self
            .decision
            .as_ref()
            .is_some_and(|d| d.outcome == Outcome::Failed && d.reason.to_lowercase().contains("alarm"));
        if self.alarms.triggered.is_empty() && by_alarm {
            self.alarms.triggered = m.alarms.iter().map(|a| a.name.clone()).collect();
        }
        self.express.resources = Some(m);
    }

    /// What the verdict says of an Express service.
    pub(super) fn express_out(&self) -> Option<snapshot::ManagedResources> {
        self.express.resources.clone().filter(|_| self.express.is_express)
    }
}
