//! The hub (`hub/template.yaml`): a DynamoDB table that one rule per account fills with ECS events,
//! keyed by service. Gates on the hub create nothing: they find the table (an SSM parameter) and query
//! their services' events.

use super::{Clients, ErrInfo, Kind, err_info};

/// Where the template publishes the table's name.
pub const PARAMETER: &str = "/ecsgate/hub/table";

/// The table named by the SSM parameter; `None` when there is no hub (the parameter does not exist).
pub async fn table_from_parameter(c: &Clients) -> Result<Option<String>, ErrInfo> {
    match c.ssm.get_parameter().name(PARAMETER).send().await {
        Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string).filter(|v| !v.is_empty())),
        Err(e) => {
            let e = err_info(&e);
            // ParameterNotFound is read as NotFound by `err_info`.
            if e.kind == Kind::NotFound { Ok(None) } else { Err(e) }
        }
    }
}

/// The table `--hub` names: `auto` reads the SSM parameter (`None`: there is no hub); anything else is
/// the table itself.
pub async fn resolve_table(c: &Clients, spec: &str) -> Result<Option<String>, ErrInfo> {
    if spec.eq_ignore_ascii_case("auto") { table_from_parameter(c).await } else { Ok(Some(spec.to_string())) }
}

/// One stored event: its sort key (`<time>#<id>`) and the event as EventBridge delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub at: String,
    pub body: String,
}

/// The events of one key (a service ARN) with a sort key at or after `from`, oldest first, every page.
/// `consistent`: a gate must see an event as soon as it is written; a look back at history need not
/// (an eventually consistent read costs half).
pub async fn events_since(
    c: &Clients,
    table: &str,
    key: &str,
    from: &str,
    consistent: bool,
) -> Result<Vec<Stored>, ErrInfo> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = c
            .dynamodb
            .query()
            .table_name(table)
            .key_condition_expression("#k = :k AND #a >= :from")
            .expression_attribute_names("#k", "key")
            .expression_attribute_names("#a", "at")
            .expression_attribute_values(":k", AttributeValue::S(key.to_string()))
            .expression_attribute_values(":from", AttributeValue::S(from.to_string()))
            .consistent_read(consistent)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| err_info(&e))?;
        for item in page.items() {
            let s = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
            if let (Some(at), Some(body)) = (s("at"), s("event")) {
                out.push(Stored { at, body });
            }
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
}

/// The keys a service's events are filed under. The template files a task event under the service ARN
/// it builds from the task's cluster ARN and group, which has the new format (`service/CLUSTER/NAME`). A
/// service whose own ARN has the old format (`service/NAME`, from before ECS's 2018 opt-in) has its
/// deployment events under that ARN and its tasks under the built one: both are read.
pub fn keys_for(service_arn: &str, cluster: &str) -> Vec<String> {
    let mut keys = vec![service_arn.to_string()];
    if let Some((head, resource)) = service_arn.rsplit_once(':')
        && let Some(name) = resource.strip_prefix("service/").filter(|n| !n.contains('/'))
        && !cluster.is_empty()
    {
        keys.push(format!("{head}:service/{cluster}/{name}"));
    }
    keys
}

/// The sort key of an instant: the template's `<event time>#<id>`, where event times are
/// `YYYY-MM-DDTHH:MM:SSZ` — so a bare time sorts before every event of that second.
pub fn sort_key_at(epoch_ms: i64) -> String {
    crate::engine::time::format_rfc3339_secs(epoch_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_format_service_arn_is_read_under_the_key_its_tasks_are_filed_under_too() {
        assert_eq!(
            keys_for("arn:aws:ecs:eu-west-1:1:service/shop/api", "shop"),
            ["arn:aws:ecs:eu-west-1:1:service/shop/api"]
        );
        assert_eq!(
            keys_for("arn:aws:ecs:eu-west-1:1:service/api", "shop"),
            ["arn:aws:ecs:eu-west-1:1:service/api", "arn:aws:ecs:eu-west-1:1:service/shop/api"]
        );
    }

    #[test]
    fn sort_keys_are_the_event_time_format_and_sort_before_that_seconds_events() {
        assert_eq!(sort_key_at(0), "1970-01-01T00:00:00Z");
        // 2020-01-23T17:57:58Z, the time of the docs' deployment event sample.
        assert_eq!(sort_key_at(1_579_802_278_000), "2020-01-23T17:57:58Z");
        assert_eq!(sort_key_at(1_709_251_199_999), "2024-02-29T23:59:59Z");
        assert!(sort_key_at(1_579_802_278_000).as_str() < "2020-01-23T17:57:58Z#a1b2");
    }
}
