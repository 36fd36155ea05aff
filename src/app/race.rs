//! The one race of the gate's lifecycle: any awaited call against the signals and a deadline (the
//! `--timeout` deadline, or a budget of its own). Every await that may stall — resolving the services,
//! subscribing, the loop's wait for the next event, the calls the handler asks for, starting the
//! deployment, the rollback's calls, teardown — goes through [`race`], so none of them can hold back a
//! signal or the deadline; each caller only says what the two other outcomes mean for it.

use std::future::Future;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::exit::Signal;

/// How a raced call ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Raced<T> {
    /// The call answered first.
    Done(T),
    /// A signal came first; the call was dropped.
    Signal(Signal),
    /// The deadline (or budget) passed first; the call was dropped.
    OutOfTime,
}

/// Runs `call` unless a signal or `until` comes first. A signal wins a tie (`biased`): once the user
/// asked to stop, an answer arriving in the same instant does not start anything new.
pub async fn race<T>(
    sigs: &mut mpsc::UnboundedReceiver<Signal>,
    until: Instant,
    call: impl Future<Output = T>,
) -> Raced<T> {
    tokio::select! {
        biased;
        Some(sig) = sigs.recv() => Raced::Signal(sig),
        _ = tokio::time::sleep_until(until) => Raced::OutOfTime,
        r = call => Raced::Done(r),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_call_that_answers_in_time_is_done() {
        let (_tx, mut rx) = mpsc::unbounded_channel();
        let r = race(&mut rx, Instant::now() + Duration::from_secs(5), async { 7 }).await;
        assert_eq!(r, Raced::Done(7));
    }

    #[tokio::test]
    async fn a_hung_call_is_dropped_at_the_deadline() {
        let (_tx, mut rx) = mpsc::unbounded_channel();
        let r = race(&mut rx, Instant::now() + Duration::from_millis(20), std::future::pending::<()>()).await;
        assert_eq!(r, Raced::OutOfTime);
    }

    #[tokio::test]
    async fn a_signal_beats_a_call_that_is_ready_too() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(Signal::Term).unwrap();
        let r = race(&mut rx, Instant::now() + Duration::from_secs(5), async { 7 }).await;
        assert_eq!(r, Raced::Signal(Signal::Term));
    }

    #[tokio::test]
    async fn a_closed_signal_channel_does_not_end_the_race() {
        let (tx, mut rx) = mpsc::unbounded_channel::<Signal>();
        drop(tx);
        let r = race(&mut rx, Instant::now() + Duration::from_secs(5), async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            7
        })
        .await;
        assert_eq!(r, Raced::Done(7));
    }
}
