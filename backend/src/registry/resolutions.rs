//! What tags and digests resolve to, remembered between pulls.
//!
//! A pull by tag is the registry's most frequent request, and resolving the tag is a database
//! round trip. This process remembers resolutions, each stamped with the version of its
//! repository's slot in `registry_changes` (see the migration that creates it). Database
//! triggers raise a slot's version whenever a tag, manifest or repository of the slot changes,
//! whoever changed it: this process, another replica, a worker, an operator's SQL.
//!
//! A remembered resolution is used only while the slot versions this process holds were read
//! less than `window` ago, and only if its slot still has the version it was stamped with. So a
//! change committed elsewhere is seen at most `window` after its commit. Changes made here are
//! seen at once: every write request and every job expires the versions when it ends
//! ([`Resolutions::expire`]), and the next pull reads them again.
//!
//! Only resolutions that were found, in projects that are not pull-through caches, are kept.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::digest::Digest;

/// Slots of repositories, as in the `registry_changes` table.
const SLOTS: i64 = berth_migrations::REGISTRY_CHANGE_SLOTS;
/// Resolutions kept at most; the oldest is forgotten first.
const CAPACITY: usize = 8192;

/// The slot versions as read at one moment.
#[derive(Clone)]
pub struct Versions(Arc<[i64]>);

impl Versions {
    fn of(&self, slot: usize) -> Option<i64> {
        self.0.get(slot).copied()
    }
}

/// What a reference resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub digest: Digest,
    pub media_type: String,
    pub project_id: i64,
}

struct Entry {
    resolution: Resolution,
    slot: usize,
    version: i64,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Entry>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<String>,
}

struct Read {
    at: Instant,
    versions: Versions,
}

pub struct Resolutions {
    window: Duration,
    read: RwLock<Option<Read>>,
    /// Raised by [`Resolutions::expire`], so that a read begun before a local change is not kept.
    epoch: AtomicU64,
    /// One reader of the versions at a time; the others wait for its result.
    reading: tokio::sync::Mutex<()>,
    entries: Mutex<Entries>,
}

fn key(repository: &str, reference: &str) -> String {
    // Repository names never contain ':', so the first one ends the name.
    format!("{repository}:{reference}")
}

fn slot_of(repository_id: i64) -> usize {
    usize::try_from(repository_id.rem_euclid(SLOTS)).unwrap_or_default()
}

impl Resolutions {
    /// Resolutions trusted for `window` after each read of the versions; a zero window keeps
    /// none.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            read: RwLock::new(None),
            epoch: AtomicU64::new(0),
            reading: tokio::sync::Mutex::new(()),
            entries: Mutex::new(Entries::default()),
        }
    }

    fn fresh(&self) -> Option<Versions> {
        let read = self.read.read().unwrap_or_else(|e| e.into_inner());
        read.as_ref()
            .filter(|r| r.at.elapsed() < self.window)
            .map(|r| r.versions.clone())
    }

    /// The slot versions, read from the database unless the last read is younger than the
    /// window; `None` when the window is zero.
    ///
    /// # Errors
    /// The versions cannot be read.
    pub async fn versions(&self, db: &DatabaseConnection) -> Result<Option<Versions>, DbErr> {
        if self.window.is_zero() {
            return Ok(None);
        }
        if let Some(versions) = self.fresh() {
            return Ok(Some(versions));
        }
        let _reading = self.reading.lock().await;
        if let Some(versions) = self.fresh() {
            return Ok(Some(versions));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let at = Instant::now();
        let versions = read_versions(db).await?;
        let mut read = self.read.write().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::SeqCst) == epoch {
            *read = Some(Read {
                at,
                versions: versions.clone(),
            });
        }
        Ok(Some(versions))
    }

    /// Makes the next pull read the versions again. Called after this process changed tags,
    /// manifests or repositories, so that its own clients see the change at once.
    pub fn expire(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        *self.read.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The remembered resolution of `reference` in `repository`, if its slot has not changed
    /// since.
    pub fn get(
        &self,
        versions: &Versions,
        repository: &str,
        reference: &str,
    ) -> Option<Resolution> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.by_key.get(&key(repository, reference))?;
        (versions.of(entry.slot) == Some(entry.version)).then(|| entry.resolution.clone())
    }

    /// Remembers what `reference` resolved to, with the slot versions read before resolving it.
    pub fn insert(
        &self,
        versions: &Versions,
        repository: &str,
        reference: &str,
        repository_id: i64,
        resolution: Resolution,
    ) {
        let slot = slot_of(repository_id);
        let Some(version) = versions.of(slot) else {
            return;
        };
        let entry = Entry {
            resolution,
            slot,
            version,
        };
        let key = key(repository, reference);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = entries.by_key.get_mut(&key) {
            *existing = entry;
            return;
        }
        while entries.by_key.len() >= CAPACITY {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            entries.by_key.remove(&oldest);
        }
        entries.order.push_back(key.clone());
        entries.by_key.insert(key, entry);
    }
}

async fn read_versions(db: &DatabaseConnection) -> Result<Versions, DbErr> {
    let query = Query::select()
        .columns([Alias::new("slot"), Alias::new("version")])
        .from(Alias::new("registry_changes"))
        .to_owned();
    let rows = db.query_all(&query).await?;
    let mut versions = vec![0; usize::try_from(SLOTS).unwrap_or_default()];
    for row in rows {
        let slot: i64 = row.try_get("", "slot")?;
        let version: i64 = row.try_get("", "version")?;
        if let Some(place) = usize::try_from(slot).ok().and_then(|s| versions.get_mut(s)) {
            *place = version;
        }
    }
    Ok(Versions(versions.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolution(n: u8) -> Resolution {
        Resolution {
            digest: Digest::of(crate::digest::Algorithm::Sha256, &[n]),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            project_id: 1,
        }
    }

    fn versions(values: &[(usize, i64)]) -> Versions {
        let mut all = vec![0; SLOTS as usize];
        for &(slot, version) in values {
            all[slot] = version;
        }
        Versions(all.into())
    }

    #[test]
    fn a_resolution_holds_until_its_slot_changes() {
        let cache = Resolutions::new(Duration::from_secs(1));
        let before = versions(&[(3, 7)]);
        cache.insert(&before, "p/app", "v1", 3, resolution(1));
        cache.insert(&before, "p/other", "v1", 4, resolution(2));
        assert_eq!(cache.get(&before, "p/app", "v1"), Some(resolution(1)));
        assert_eq!(cache.get(&before, "p/app", "v2"), None);
        // Slot 3 changed (repository 3 and 67 share it); slot 4 did not.
        let after = versions(&[(3, 8)]);
        assert_eq!(cache.get(&after, "p/app", "v1"), None);
        assert_eq!(cache.get(&after, "p/other", "v1"), Some(resolution(2)));
        cache.insert(&after, "p/app", "v1", 67, resolution(3));
        assert_eq!(cache.get(&after, "p/app", "v1"), Some(resolution(3)));
    }

    #[test]
    fn the_oldest_resolution_is_forgotten_first() {
        let cache = Resolutions::new(Duration::from_secs(1));
        let now = versions(&[]);
        for n in 0..=CAPACITY {
            cache.insert(&now, "p/app", &format!("t{n}"), 1, resolution(1));
        }
        assert_eq!(cache.get(&now, "p/app", "t0"), None);
        assert!(cache.get(&now, "p/app", "t1").is_some());
        assert!(cache.get(&now, "p/app", &format!("t{CAPACITY}")).is_some());
    }
}
