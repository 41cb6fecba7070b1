//! A small in-process cache of manifest bytes, keyed by digest.
//!
//! A digest always names the same bytes, so an entry can never be stale, whatever another
//! replica does meanwhile; whether a manifest exists, and which digest a tag names, is decided
//! by the resolutions (`resolutions.rs`). The cache only saves the file read (or the S3 round
//! trip) for manifests that are pulled again and again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

use crate::digest::Digest;

/// Bytes the cache holds at most.
const BUDGET_BYTES: usize = 4 * 1024 * 1024;
/// Manifests larger than this are not cached (a few huge indexes would evict everything else).
const MAX_ENTRY_BYTES: usize = 256 * 1024;

#[derive(Default)]
struct Entries {
    by_digest: HashMap<Digest, Bytes>,
    /// Insertion order, oldest first, for eviction.
    order: VecDeque<Digest>,
    bytes: usize,
}

/// Manifest bytes by digest, bounded by [`BUDGET_BYTES`], evicting the oldest entries first.
#[derive(Default)]
pub struct ManifestCache {
    entries: Mutex<Entries>,
}

impl ManifestCache {
    /// The cached bytes of `digest`, if any.
    pub fn get(&self, digest: &Digest) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_digest.get(digest).cloned()
    }

    /// Remembers `content` as the bytes of `digest`; the caller has verified that they match.
    pub fn insert(&self, digest: &Digest, content: &Bytes) {
        if content.len() > MAX_ENTRY_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.by_digest.contains_key(digest) {
            return;
        }
        while entries.bytes + content.len() > BUDGET_BYTES {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(evicted) = entries.by_digest.remove(&oldest) {
                entries.bytes -= evicted.len();
            }
        }
        entries.bytes += content.len();
        entries.order.push_back(digest.clone());
        entries.by_digest.insert(digest.clone(), content.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Algorithm;

    fn content(seed: u8, len: usize) -> (Digest, Bytes) {
        let bytes = Bytes::from(vec![seed; len]);
        (Digest::of(Algorithm::Sha256, &bytes), bytes)
    }

    #[test]
    fn entries_are_found_by_digest_and_oldest_go_first() {
        let cache = ManifestCache::default();
        let entry = MAX_ENTRY_BYTES;
        let all: Vec<_> = (0..(BUDGET_BYTES / entry + 1) as u8)
            .map(|seed| content(seed, entry))
            .collect();
        for (digest, bytes) in &all {
            cache.insert(digest, bytes);
        }
        assert_eq!(cache.get(&all[0].0), None, "the oldest entry was evicted");
        for (digest, bytes) in &all[1..] {
            assert_eq!(cache.get(digest).as_ref(), Some(bytes));
        }
        let total: usize = all[1..].iter().map(|(_, b)| b.len()).sum();
        assert!(total <= BUDGET_BYTES);
    }

    #[test]
    fn large_manifests_are_not_cached() {
        let cache = ManifestCache::default();
        let (digest, bytes) = content(7, MAX_ENTRY_BYTES + 1);
        cache.insert(&digest, &bytes);
        assert_eq!(cache.get(&digest), None);
    }
}
