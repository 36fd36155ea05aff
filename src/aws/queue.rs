//! The gate's queue once it exists: ReceiveMessage (the long poll) and DeleteMessageBatch (the
//! acknowledgement). Creating and deleting the queue is [`super::subscription`]'s.

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;

use super::{Clients, ErrInfo, err_info};

/// One long poll: up to ten (body, receipt handle) pairs, or none when `wait_seconds` passed quietly.
pub async fn receive(c: &Clients, url: &str, wait_seconds: i32) -> Result<Vec<(String, String)>, ErrInfo> {
    let out = c
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_seconds)
        .visibility_timeout(60)
        .send()
        .await
        .map_err(|e| err_info(&e))?;
    Ok(out.messages().iter().filter_map(|m| Some((m.body()?.to_string(), m.receipt_handle()?.to_string()))).collect())
}

/// Deletes handled messages (one call: a receive hands out at most ten).
pub async fn delete(c: &Clients, url: &str, handles: Vec<String>) -> Result<(), ErrInfo> {
    c.sqs
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(delete_entries(handles)))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| err_info(&e))
}

/// The batch's entries: ids must be unique within the call, so they are the handles' positions.
fn delete_entries(handles: Vec<String>) -> Vec<DeleteMessageBatchRequestEntry> {
    handles
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(h).build().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_handle_gets_an_entry_with_an_id_unique_in_the_batch() {
        let e = delete_entries(vec!["h-a".into(), "h-b".into(), "h-a".into()]);
        let pairs: Vec<(&str, &str)> = e.iter().map(|x| (x.id(), x.receipt_handle())).collect();
        assert_eq!(pairs, [("0", "h-a"), ("1", "h-b"), ("2", "h-a")]);
    }
}
