//! Wake-ups across processes through Redis pub/sub. The database stays the source of truth: a
//! lost message only delays a job until the next poll.

use std::sync::Arc;
use std::time::Duration;

use berth::app::AppState;
use berth::jobs::JobWaker;
use futures_util::StreamExt;
use tokio::sync::watch;

/// The channel enqueue notifications are published on.
pub const CHANNEL: &str = "berth:jobs:wake";

/// Publishes a message per enqueue.
pub struct RedisWaker {
    conn: redis::aio::MultiplexedConnection,
}

impl RedisWaker {
    pub async fn connect(client: redis::Client) -> Result<Self, redis::RedisError> {
        Ok(Self {
            conn: client.get_multiplexed_async_connection().await?,
        })
    }
}

impl JobWaker for RedisWaker {
    fn wake(&self, kind: &str) {
        let mut conn = self.conn.clone();
        let kind = kind.to_owned();
        tokio::spawn(async move {
            let sent: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(&kind)
                .query_async(&mut conn)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, job.kind = %kind, "publishing a job wake-up failed");
            }
        });
    }
}

/// Relays wake-ups published by any process to this process's runners, reconnecting after
/// failures, until shutdown.
pub async fn subscribe(
    client: redis::Client,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let signal = state.jobs.local_signal();
    while !*shutdown.borrow() {
        let connected = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        }
        .await;
        let mut pubsub = match connected {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "subscribing to job wake-ups failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(_) => {
                        signal.notify_waiters();
                        signal.notify_one();
                    }
                    None => break,
                },
                _ = shutdown.changed() => return,
            }
        }
    }
}
