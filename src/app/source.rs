//! Where events come from: the SQS subscription (a queue and an EventBridge rule, created per run), or
//! nothing but the ECS API (`--poll`, or the fallback when the subscription is denied or deleted). The
//! source owns setup, receive, acknowledge and teardown, so the loop treats both alike.
//!
//! Invariant: every resource is registered in [`Teardown`] before the call that creates it, and the
//! loop calls [`Source::teardown`] on every path out once setup began.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::aws::subscription::{self, Leftovers, Plan, Teardown};
use crate::aws::{Clients, ErrInfo, queue};

/// What a source's reader calls, so its errors name the right permission and thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub permission: &'static str,
    pub what: &'static str,
}

impl Reader {
    pub const QUEUE: Reader = Reader { permission: "sqs:ReceiveMessage", what: "the event queue" };
    pub const HUB: Reader = Reader { permission: "dynamodb:Query", what: "the hub's table" };
}

/// What the receiver hands the loop.
pub enum Received {
    /// (body, receipt handle) pairs.
    Batch(Vec<(String, String)>),
    Error(ErrInfo),
}

pub struct Source {
    clients: Clients,
    teardown: Teardown,
    queue: Option<QueueRx>,
}

/// The long poll lives in a task of its own, so the loop can react to anything (a signal, a tick)
/// without cancelling a poll whose messages SQS already handed out.
struct QueueRx {
    rx: mpsc::Receiver<Received>,
    task: tokio::task::JoinHandle<()>,
    url: String,
}

impl Source {
    /// No subscription (yet): the API is the only source.
    pub fn polling(clients: &Clients) -> Self {
        Source { clients: clients.clone(), teardown: Teardown::default(), queue: None }
    }

    /// The hub: the services' events read from the hub's table (`keys`: their service ARNs) from
    /// `from_ms` on. Nothing is created, so there is nothing to tear down.
    pub fn hub(clients: &Clients, table: String, keys: Vec<String>, from_ms: i64) -> Self {
        let reader = spawn_hub_reader(clients.clone(), table, keys, from_ms);
        Source { clients: clients.clone(), teardown: Teardown::default(), queue: Some(reader) }
    }

    /// Creates the queue, the rule and the target, and starts receiving. Each resource is registered in
    /// this source before its create call, so a subscription that fails — or whose future is dropped by
    /// a signal or the deadline — still leaves [`Source::teardown`] everything to delete.
    pub async fn subscribe(&mut self, plan: &Plan, wait_seconds: i32) -> Result<(), (&'static str, ErrInfo)> {
        let sub = subscription::create(&self.clients, plan, &mut self.teardown).await?;
        self.queue = Some(spawn_receiver(self.clients.clone(), sub.queue_url, wait_seconds));
        Ok(())
    }

    pub fn is_queue(&self) -> bool {
        self.queue.is_some()
    }

    /// What this source reads (the hub's reader has no queue URL).
    pub fn reader(&self) -> Reader {
        match &self.queue {
            Some(q) if q.url.is_empty() => Reader::HUB,
            _ => Reader::QUEUE,
        }
    }

    /// The next batch or receive error; never returns without a queue (so a `select!` branch on it is
    /// simply idle).
    pub async fn next(&mut self) -> Received {
        match &mut self.queue {
            Some(q) => match q.rx.recv().await {
                Some(r) => r,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// Deletes handled messages without holding up the loop (a failed delete only means a redelivery,
    /// which the engine absorbs as a duplicate).
    pub fn ack(&self, handles: Vec<String>) {
        let Some(q) = &self.queue else { return };
        // The hub's events have no receipt: nothing to delete.
        if q.url.is_empty() {
            return;
        }
        let clients = self.clients.clone();
        let url = q.url.clone();
        tokio::spawn(async move {
            let _ = queue::delete(&clients, &url, handles).await;
        });
    }

    /// Stops receiving (the queue stays registered for teardown).
    pub fn stop_receiving(&mut self) {
        if let Some(q) = self.queue.take() {
            q.task.abort();
        }
    }

    /// Deletes what was created; `hurry` (a second signal) means one attempt each, no back-off.
    /// Call [`Source::stop_receiving`] first.
    pub async fn teardown(&self, hurry: bool) -> Leftovers {
        self.teardown.run(&self.clients, hurry).await
    }

    pub fn created_anything(&self) -> bool {
        !self.teardown.is_empty()
    }

    /// Everything this source created, as leftovers (teardown ran out of time).
    pub fn everything(&self, why: &str) -> Leftovers {
        self.teardown.everything(why, &self.clients.region)
    }
}

fn spawn_receiver(c: Clients, url: String, wait_seconds: i32) -> QueueRx {
    let (tx, rx) = mpsc::channel(16);
    let queue_url = url.clone();
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            let msg = match queue::receive(&c, &url, wait_seconds).await {
                Ok(batch) => {
                    backoff = Duration::from_millis(250);
                    if batch.is_empty() {
                        continue;
                    }
                    Received::Batch(batch)
                }
                Err(e) => Received::Error(e),
            };
            let failed = matches!(msg, Received::Error(_));
            if tx.send(msg).await.is_err() {
                return;
            }
            if failed {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    });
    QueueRx { rx, task, url: queue_url }
}

/// How far back each read of the hub reaches before the newest event it saw: the rule and the function
/// deliver events out of order by up to this much, and an event seen once is not handed over again.
const HUB_OVERLAP_MS: i64 = 120_000;
/// How often the hub is read while events come, and once nothing came for a minute.
const HUB_FAST: Duration = Duration::from_secs(1);
const HUB_IDLE: Duration = Duration::from_secs(3);

fn spawn_hub_reader(c: Clients, table: String, keys: Vec<String>, from_ms: i64) -> QueueRx {
    use crate::aws::hub;
    use crate::engine::time::{now_millis, parse_rfc3339_millis};
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(async move {
        let mut from = from_ms;
        let mut seen: std::collections::HashSet<(usize, String)> = Default::default();
        let mut last_new = now_millis();
        loop {
            let mut batch = Vec::new();
            // What this poll delivers is marked seen only once the loop has it: a Query that fails
            // half-way drops the poll's batch, and the next poll reads those events again.
            let mut fresh = Vec::new();
            let mut failed = None;
            let mut newest = from;
            let since = hub::sort_key_at(from);
            for (i, key) in keys.iter().enumerate() {
                match hub::events_since(&c, &table, key, &since, true).await {
                    Ok(events) => {
                        for e in events.into_iter().filter(|e| !seen.contains(&(i, e.at.clone()))) {
                            // Only a new event can move the window (older ones already did).
                            if let Some(t) = e.at.split('#').next().and_then(parse_rfc3339_millis) {
                                newest = newest.max(t);
                            }
                            batch.push((e.body, String::new()));
                            fresh.push((i, e.at));
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = failed {
                if tx.send(Received::Error(e)).await.is_err() {
                    return;
                }
                tokio::time::sleep(HUB_IDLE).await;
                continue;
            }
            if !batch.is_empty() {
                last_new = now_millis();
                if tx.send(Received::Batch(batch)).await.is_err() {
                    return;
                }
                seen.extend(fresh);
            }
            // Reach back the overlap from the newest event seen; forget what lies before that.
            from = from.max(newest - HUB_OVERLAP_MS);
            let floor = hub::sort_key_at(from);
            seen.retain(|(_, at)| at.as_str() >= floor.as_str());
            let idle = now_millis() - last_new > 60_000;
            tokio::time::sleep(if idle { HUB_IDLE } else { HUB_FAST }).await;
        }
    });
    QueueRx { rx, task, url: String::new() }
}
