//! `ecsgate gc`: finds ecsgate rules and queues left behind (a killed process, a teardown that failed)
//! by name prefix *and* the `creator=ecsgate` tag, and deletes those older than a threshold.

use std::time::Duration;

use super::subscription::{PREFIX, TAG_CREATED, TAG_CREATOR};
use super::{Clients, ErrInfo, Kind, err_info};
use crate::engine::time::{now_millis, parse_rfc3339_millis};

pub struct Found {
    pub kind: &'static str,
    pub name: String,
    /// Queue URL or rule name.
    pub handle: String,
    pub age: Option<Duration>,
}

fn age(created: Option<&str>) -> Option<Duration> {
    let ms = parse_rfc3339_millis(created?)?;
    Some(Duration::from_millis(now_millis().saturating_sub(ms).max(0) as u64))
}

pub async fn find(c: &Clients) -> Result<Vec<Found>, (&'static str, ErrInfo)> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .events
            .list_rules()
            .name_prefix(PREFIX)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| ("events:ListRules", err_info(&e)))?;
        for r in out.rules() {
            let (Some(name), Some(arn)) = (r.name(), r.arn()) else { continue };
            let tags = c.events.list_tags_for_resource().resource_arn(arn).send().await;
            // A rule deleted since it was listed (another gate's teardown) is simply gone.
            let tags = match tags {
                Ok(t) => t,
                Err(e) if err_info(&e).kind == Kind::NotFound => continue,
                Err(e) => return Err(("events:ListTagsForResource", err_info(&e))),
            };
            let get = |k: &str| tags.tags().iter().find(|t| t.key() == k).map(|t| t.value().to_string());
            if get(TAG_CREATOR).as_deref() != Some("ecsgate") {
                continue;
            }
            found.push(Found {
                kind: "rule",
                name: name.into(),
                handle: name.into(),
                age: age(get(TAG_CREATED).as_deref()),
            });
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut token = None;
    loop {
        let out = c
            .sqs
            .list_queues()
            .queue_name_prefix(PREFIX)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| ("sqs:ListQueues", err_info(&e)))?;
        for url in out.queue_urls() {
            let tags = match c.sqs.list_queue_tags().queue_url(url).send().await {
                Ok(t) => t,
                Err(e) if err_info(&e).kind == Kind::NotFound => continue,
                Err(e) => return Err(("sqs:ListQueueTags", err_info(&e))),
            };
            let t = tags.tags();
            let get = |k: &str| t.and_then(|m| m.get(k)).cloned();
            if get(TAG_CREATOR).as_deref() != Some("ecsgate") {
                continue;
            }
            let name = url.rsplit('/').next().unwrap_or(url).to_string();
            // SQS keeps the creation time itself; the tag is the fallback when that cannot be read.
            let created = c
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::CreatedTimestamp)
                .send()
                .await
                .ok()
                .and_then(|o| {
                    let secs = o.attributes()?.get(&aws_sdk_sqs::types::QueueAttributeName::CreatedTimestamp)?;
                    secs.parse::<i64>().ok()
                })
                .map(|secs| Duration::from_millis(now_millis().saturating_sub(secs * 1000).max(0) as u64));
            found.push(Found {
                kind: "queue",
                name,
                handle: url.clone(),
                age: created.or_else(|| age(get(TAG_CREATED).as_deref())),
            });
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

pub async fn delete(c: &Clients, f: &Found) -> Result<(), ErrInfo> {
    let gone = |e: &ErrInfo| e.kind == Kind::NotFound;
    match f.kind {
        "rule" => {
            let targets = c.events.list_targets_by_rule().rule(&f.handle).send().await.map_err(|e| err_info(&e));
            let ids: Vec<String> = match targets {
                Ok(t) => t.targets().iter().map(|t| t.id().to_string()).collect(),
                Err(e) if gone(&e) => return Ok(()),
                Err(e) => return Err(e),
            };
            if !ids.is_empty() {
                c.events.remove_targets().rule(&f.handle).set_ids(Some(ids)).send().await.map_err(|e| err_info(&e))?;
            }
            match c.events.delete_rule().name(&f.handle).send().await.map_err(|e| err_info(&e)) {
                Err(e) if !gone(&e) => Err(e),
                _ => Ok(()),
            }
        }
        _ => match c.sqs.delete_queue().queue_url(&f.handle).send().await.map_err(|e| err_info(&e)) {
            Err(e) if !gone(&e) => Err(e),
            _ => Ok(()),
        },
    }
}
