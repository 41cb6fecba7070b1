//! Named locks with an expiry, for jobs that must run alone: in Redis when configured, in the
//! database otherwise. A holder that dies loses its lock when the expiry passes.

use std::time::Duration;

use async_trait::async_trait;
use berth::db::entities::job_lock;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// A lock service. `acquire` and `extend` succeed only for the current holder or when the lock
/// is free or expired; `release` only releases a lock `owner` holds.
#[async_trait]
pub trait Locks: Send + Sync {
    async fn acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, LockError>;
    async fn release(&self, name: &str, owner: &str) -> Result<(), LockError>;
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Locks as rows of `job_locks`, taken with one conditional upsert (atomic on SQLite and
/// PostgreSQL alike).
pub struct DbLocks {
    db: DatabaseConnection,
}

impl DbLocks {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Locks for DbLocks {
    async fn acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, LockError> {
        let now = Utc::now();
        let expires =
            now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
        let upsert = job_lock::Entity::insert(job_lock::ActiveModel {
            name: Set(name.to_owned()),
            owner: Set(owner.to_owned()),
            expires_at: Set(expires),
        })
        .on_conflict(
            OnConflict::column(job_lock::Column::Name)
                .update_columns([job_lock::Column::Owner, job_lock::Column::ExpiresAt])
                .action_and_where(
                    Expr::col((job_lock::Entity, job_lock::Column::ExpiresAt))
                        .lt(now)
                        .or(Expr::col((job_lock::Entity, job_lock::Column::Owner)).eq(owner)),
                )
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await;
        match upsert {
            Ok(_) | Err(DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e.into()),
        }
        let held = job_lock::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await?
            .is_some_and(|l| l.owner == owner);
        Ok(held)
    }

    async fn release(&self, name: &str, owner: &str) -> Result<(), LockError> {
        job_lock::Entity::delete_many()
            .filter(job_lock::Column::Name.eq(name))
            .filter(job_lock::Column::Owner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// Locks as Redis keys (`SET NX PX`), renewed and released only by their owner.
pub struct RedisLocks {
    conn: redis::aio::MultiplexedConnection,
}

const EXTEND: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

impl RedisLocks {
    /// # Errors
    /// Redis cannot be reached.
    pub async fn connect(client: redis::Client) -> Result<Self, redis::RedisError> {
        Ok(Self {
            conn: client.get_multiplexed_async_connection().await?,
        })
    }

    fn key(name: &str) -> String {
        format!("berth:lock:{name}")
    }
}

#[async_trait]
impl Locks for RedisLocks {
    async fn acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, LockError> {
        let mut conn = self.conn.clone();
        let ms = ttl.as_millis().max(1) as u64;
        let set: Option<String> = redis::cmd("SET")
            .arg(Self::key(name))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(&mut conn)
            .await?;
        if set.is_some() {
            return Ok(true);
        }
        let extended: i64 = redis::cmd("EVAL")
            .arg(EXTEND)
            .arg(1)
            .arg(Self::key(name))
            .arg(owner)
            .arg(ms)
            .query_async(&mut conn)
            .await?;
        Ok(extended == 1)
    }

    async fn release(&self, name: &str, owner: &str) -> Result<(), LockError> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(Self::key(name))
            .arg(owner)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
