//! A sink's bounded queue and its worker task: `push` never waits, deliveries go out one at a
//! time in order, and whatever cannot be delivered ends in the dead-letter file. Every queued
//! delivery is also in the [`Journal`] until it is delivered or dead-lettered.

use std::sync::Arc;
use std::time::Duration;

use faultline_model::Timestamp;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::RetryPolicy;
use crate::dead_letter::{DeadLetter, DeadLetterFile};
use crate::delivery::{Delivery, Failure, Transport, send_with_retry};
use crate::journal::Journal;

struct Queued {
    delivery: Delivery,
    /// Retries stop here: `max_retry` after the delivery was queued, so deliveries queued
    /// behind a long outage do not each wait a full `max_retry` again.
    deadline: Instant,
    /// Whether the journal has it (so the worker must mark it done).
    journaled: bool,
}

pub(crate) struct Outbox {
    sink: String,
    max_retry: Duration,
    sender: Mutex<Option<mpsc::Sender<Queued>>>,
    cancel: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    dead: Arc<DeadLetterFile>,
    journal: Arc<Journal>,
}

/// What a sink's worker needs besides its queue.
pub(crate) struct Parts {
    pub transport: Transport,
    pub policy: RetryPolicy,
    pub dead: Arc<DeadLetterFile>,
    pub journal: Arc<Journal>,
    /// Outstanding deliveries from the journal, queued first.
    pub pending: Vec<Delivery>,
}

impl Outbox {
    /// Spawns the worker on the current tokio runtime.
    pub fn start(sink: &str, parts: Parts, capacity: usize) -> Outbox {
        let (sender, receiver) = mpsc::channel(capacity.max(parts.pending.len()).max(1));
        let (cancel, cancelled) = watch::channel(false);
        let worker = Worker {
            transport: parts.transport,
            policy: parts.policy,
            dead: parts.dead.clone(),
            journal: parts.journal.clone(),
        };
        let task = tokio::spawn(worker.run(receiver, cancelled));
        let outbox = Outbox {
            sink: sink.to_string(),
            max_retry: parts.policy.max_retry,
            sender: Mutex::new(Some(sender)),
            cancel,
            task: Mutex::new(Some(task)),
            dead: parts.dead,
            journal: parts.journal,
        };
        for delivery in parts.pending {
            tracing::info!(sink, key = %delivery.idempotency_key, "re-queueing a delivery left by the last run");
            outbox.enqueue(delivery, true);
        }
        outbox
    }

    /// Queues a delivery; when the queue is full or closed it goes to the dead letter.
    pub fn push(&self, delivery: Delivery) {
        let journaled = match self.journal.push(&delivery) {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(sink = %self.sink, key = %delivery.idempotency_key, error = %err, "cannot journal the delivery; a crash before it is sent loses it");
                false
            }
        };
        self.enqueue(delivery, journaled);
    }

    fn enqueue(&self, delivery: Delivery, journaled: bool) {
        let queued = Queued {
            delivery,
            deadline: Instant::now() + self.max_retry,
            journaled,
        };
        let sender = self.sender.lock();
        let refused = match sender.as_ref() {
            None => Some((queued, "the sink was shut down")),
            Some(sender) => match sender.try_send(queued) {
                Ok(()) => None,
                Err(mpsc::error::TrySendError::Full(queued)) => Some((queued, "the queue is full")),
                Err(mpsc::error::TrySendError::Closed(queued)) => {
                    Some((queued, "the sink's worker stopped"))
                }
            },
        };
        let Some((queued, why)) = refused else {
            return;
        };
        if queued.journaled && sender.is_none() {
            tracing::warn!(sink = %self.sink, key = %queued.delivery.idempotency_key, "the sink was shut down; the delivery stays queued for the next start");
            return;
        }
        tracing::warn!(sink = %self.sink, key = %queued.delivery.idempotency_key, why, "delivery not queued; writing it to the dead letter");
        let failure = Failure {
            error: why.to_string(),
            attempts: 0,
            exhausted: false,
        };
        finish(&self.dead, &self.journal, queued, Err(failure));
    }

    /// Lets the worker finish the queue for up to `grace`; the rest stays in the journal.
    pub async fn shutdown(&self, grace: Duration) {
        drop(self.sender.lock().take());
        let Some(mut task) = self.task.lock().take() else {
            return;
        };
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            self.cancel.send_replace(true);
            let _ = task.await;
        }
    }
}

struct Worker {
    transport: Transport,
    policy: RetryPolicy,
    dead: Arc<DeadLetterFile>,
    journal: Arc<Journal>,
}

impl Worker {
    /// After a shutdown (or when the `Outbox` is dropped), what is left stays in the journal
    /// and is sent on the next start.
    async fn run(self, mut queue: mpsc::Receiver<Queued>, mut cancel: watch::Receiver<bool>) {
        while let Some(queued) = queue.recv().await {
            if *cancel.borrow() {
                continue;
            }
            self.deliver(queued, &mut cancel).await;
        }
    }

    async fn deliver(&self, queued: Queued, cancel: &mut watch::Receiver<bool>) {
        let sent = send_with_retry(
            &self.transport,
            &queued.delivery,
            &self.policy,
            queued.deadline,
        );
        let outcome = tokio::select! {
            outcome = sent => outcome,
            _ = cancel.wait_for(|cancelled| *cancelled) => {
                tracing::info!(sink = %queued.delivery.sink, key = %queued.delivery.idempotency_key, "shut down during delivery; it stays queued for the next start");
                return;
            }
        };
        finish(&self.dead, &self.journal, queued, outcome);
    }
}

/// Records the outcome: delivered, or written to the dead letter; then done in the journal.
fn finish(dead: &DeadLetterFile, journal: &Journal, queued: Queued, outcome: Result<u32, Failure>) {
    let key = queued.delivery.idempotency_key.clone();
    match outcome {
        Ok(attempts) => {
            metrics::counter!("faultline_sink_deliveries_total", "sink" => queued.delivery.sink.clone(), "outcome" => "delivered").increment(1);
            tracing::debug!(sink = %queued.delivery.sink, key = %key, attempts, "delivered");
        }
        Err(failure) => dead_letter(dead, queued.delivery, failure),
    }
    if queued.journaled
        && let Err(err) = journal.done(&key)
    {
        tracing::error!(key = %key, error = %err, "cannot mark the delivery done; it may be sent again after a restart");
    }
}

fn dead_letter(dead: &DeadLetterFile, delivery: Delivery, failure: Failure) {
    metrics::counter!("faultline_sink_deliveries_total", "sink" => delivery.sink.clone(), "outcome" => "dead_lettered").increment(1);
    tracing::error!(sink = %delivery.sink, key = %delivery.idempotency_key, error = %failure.error, attempts = failure.attempts, "delivery given up; written to the dead letter");
    let letter = DeadLetter {
        delivery,
        failed_at: Timestamp::now(),
        attempts: failure.attempts,
        error: failure.error,
    };
    if let Err(err) = dead.append(&letter) {
        tracing::error!(sink = %letter.delivery.sink, key = %letter.delivery.idempotency_key, error = %err, "cannot write the dead letter; the delivery is lost");
    }
}
