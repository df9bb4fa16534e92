//! Tracked hits are written in batches: each request hands its event to one writer task and
//! waits for the batch holding it to commit, so an answered hit is a stored hit, and a burst
//! of hits costs a few statements instead of one each.

use chrono::{DateTime, Utc};
use diesel::sql_query;
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl as _;
use models::db::Pool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Most events in one statement.
const MAX_BATCH: usize = 2000;
/// Writer tasks: a batch commits while the next fills.
const WRITERS: usize = 2;

/// One tracked hit.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub message_id: Uuid,
    pub kind: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub link: Option<String>,
    pub bot_reason: Option<&'static str>,
}

type Pending = (NewEvent, oneshot::Sender<Result<(), String>>);

/// The handle requests record through.
#[derive(Clone)]
pub struct EventWriter {
    queue: mpsc::Sender<Pending>,
}

impl EventWriter {
    /// Starts the writer tasks on `pool`.
    pub fn spawn(pool: Pool) -> EventWriter {
        let (queue, receiver) = mpsc::channel::<Pending>(MAX_BATCH * 4);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..WRITERS {
            let pool = pool.clone();
            let receiver = std::sync::Arc::clone(&receiver);
            tokio::spawn(async move {
                loop {
                    let batch = {
                        let mut receiver = receiver.lock().await;
                        let mut batch = Vec::new();
                        if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
                            return;
                        }
                        batch
                    };
                    write(&pool, batch).await;
                }
            });
        }
        EventWriter { queue }
    }

    /// Stores `event`; returns once its batch has committed.
    pub async fn record(&self, event: NewEvent) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send((event, done))
            .await
            .map_err(|_| "the event writer has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the event writer has stopped".to_owned())?
    }
}

async fn write(pool: &Pool, batch: Vec<Pending>) {
    let (events, waiting): (Vec<NewEvent>, Vec<_>) = batch.into_iter().unzip();
    let outcome = insert(pool, &events).await;
    for done in waiting {
        let _ = done.send(outcome.clone());
    }
}

/// One statement for the batch. A click within two seconds of the message's delivery is a
/// scanner's: no person opens an e-mail and clicks that fast (nor before its delivery is
/// recorded, a few milliseconds after the server took it).
async fn insert(pool: &Pool, events: &[NewEvent]) -> Result<(), String> {
    let mut connection = pool.get().await.map_err(|error| error.to_string())?;
    sql_query(
        "INSERT INTO message_events (message_id, kind, occurred_at, user_agent, ip, link, is_bot, bot_reason)
         SELECT e.message_id, e.kind, e.occurred_at, e.user_agent, e.ip, e.link,
                r.reason IS NOT NULL, r.reason
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
              AS e(message_id, kind, occurred_at, user_agent, ip, link, bot_reason)
         JOIN messages m ON m.id = e.message_id
         CROSS JOIN LATERAL (
             SELECT coalesce(e.bot_reason,
                    CASE WHEN e.kind = 'click'
                              AND (m.sent_at IS NULL OR e.occurred_at < m.sent_at + interval '2 seconds')
                         THEN 'click_within_2s_of_delivery' END) AS reason
         ) r",
    )
    .bind::<Array<SqlUuid>, _>(events.iter().map(|e| e.message_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(events.iter().map(|e| e.kind).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(events.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(events.iter().map(|e| e.user_agent.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(events.iter().map(|e| e.ip.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(events.iter().map(|e| e.link.clone()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(events.iter().map(|e| e.bot_reason).collect::<Vec<_>>())
    .execute(&mut connection)
    .await
    .map(|_| ())
    .map_err(|error| error.to_string())
}
