//! A sink's bounded queue and its worker task: `push` never waits, deliveries go out one at a
//! time in order, and whatever cannot be delivered ends in the dead-letter file.

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

struct Queued {
    delivery: Delivery,
    /// Retries stop here: `max_retry` after the delivery was queued, so deliveries queued
    /// behind a long outage do not each wait a full `max_retry` again.
    deadline: Instant,
}

pub(crate) struct Outbox {
    sink: String,
    max_retry: Duration,
    sender: Mutex<Option<mpsc::Sender<Queued>>>,
    cancel: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    dead: Arc<DeadLetterFile>,
}

impl Outbox {
    /// Spawns the worker on the current tokio runtime.
    pub fn start(
        sink: &str,
        transport: Transport,
        policy: RetryPolicy,
        dead: Arc<DeadLetterFile>,
        capacity: usize,
    ) -> Outbox {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let (cancel, cancelled) = watch::channel(false);
        let worker = Worker {
            transport,
            policy,
            dead: dead.clone(),
        };
        let task = tokio::spawn(worker.run(receiver, cancelled));
        Outbox {
            sink: sink.to_string(),
            max_retry: policy.max_retry,
            sender: Mutex::new(Some(sender)),
            cancel,
            task: Mutex::new(Some(task)),
            dead,
        }
    }

    /// Queues a delivery; when the queue is full or closed it goes to the dead letter.
    pub fn push(&self, delivery: Delivery) {
        let queued = Queued {
            delivery,
            deadline: Instant::now() + self.max_retry,
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
        if let Some((queued, why)) = refused {
            tracing::warn!(sink = %self.sink, key = %queued.delivery.idempotency_key, why, "delivery not queued; writing it to the dead letter");
            dead_letter(
                &self.dead,
                queued.delivery,
                Failure {
                    error: why.to_string(),
                    attempts: 0,
                },
            );
        }
    }

    /// Lets the worker finish the queue for up to `grace`, then dead-letters the rest.
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
}

impl Worker {
    async fn run(self, mut queue: mpsc::Receiver<Queued>, mut cancel: watch::Receiver<bool>) {
        while let Some(queued) = queue.recv().await {
            if *cancel.borrow() {
                let failure = Failure {
                    error: "shut down before delivery".into(),
                    attempts: 0,
                };
                dead_letter(&self.dead, queued.delivery, failure);
                continue;
            }
            self.deliver(queued, &mut cancel).await;
        }
    }

    async fn deliver(&self, queued: Queued, cancel: &mut watch::Receiver<bool>) {
        let delivery = queued.delivery;
        let sent = send_with_retry(&self.transport, &delivery, &self.policy, queued.deadline);
        let outcome = tokio::select! {
            outcome = sent => outcome,
            _ = cancel.wait_for(|cancelled| *cancelled) => Err(Failure {
                error: "shut down during delivery".into(),
                attempts: 0,
            }),
        };
        match outcome {
            Ok(attempts) => {
                metrics::counter!("faultline_sink_deliveries_total", "sink" => delivery.sink.clone(), "outcome" => "delivered").increment(1);
                tracing::debug!(sink = %delivery.sink, key = %delivery.idempotency_key, attempts, "delivered");
            }
            Err(failure) => dead_letter(&self.dead, delivery, failure),
        }
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
