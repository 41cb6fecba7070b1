//! The jobs, one file each.

use std::sync::Arc;

use crate::Job;

pub mod gc;
pub mod purge_uploads;
pub mod quota;
pub mod retention;
pub mod webhook;

/// Every job Berth runs.
pub fn all() -> Vec<Arc<dyn Job>> {
    vec![
        Arc::new(gc::GarbageCollection),
        Arc::new(retention::Retention),
        Arc::new(quota::QuotaRecalculation),
        Arc::new(purge_uploads::PurgeUploads),
        Arc::new(webhook::Webhook),
    ]
}
