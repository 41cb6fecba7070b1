//! Manifest bytes kept in memory by digest, so a pull by tag costs one database query and no
//! file read.
//!
//! The cache holds content-addressed bytes only, which never change: a digest names the same
//! bytes on every replica, so nothing ever has to be invalidated. What a tag points at and
//! whether a manifest still exists are always read from the database first. The cache is
//! bounded by the total size of its entries; the oldest entries leave first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

use crate::digest::Digest;

/// Total bytes kept by default: thousands of typical manifests, small next to the process.
pub const DEFAULT_CAPACITY: usize = 4 << 20;

/// A size-bounded, first-in first-out map from digest to content.
pub struct ContentCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_digest: HashMap<String, Bytes>,
    order: VecDeque<String>,
    size: usize,
}

impl ContentCache {
    /// A cache holding at most `capacity` bytes of content; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Entries::default()),
        }
    }

    pub fn get(&self, digest: &Digest) -> Option<Bytes> {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_digest.get(&digest.to_string()).cloned()
    }

    /// Keeps `content` as the bytes of `digest`; the caller has verified that they match.
    pub fn insert(&self, digest: &Digest, content: &Bytes) {
        if content.len() > self.capacity / 4 {
            return;
        }
        let key = digest.to_string();
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.by_digest.contains_key(&key) {
            return;
        }
        while entries.size + content.len() > self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(evicted) = entries.by_digest.remove(&oldest) {
                entries.size -= evicted.len();
            }
        }
        entries.size += content.len();
        entries.order.push_back(key.clone());
        entries.by_digest.insert(key, content.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Algorithm;

    fn entry(text: &str) -> (Digest, Bytes) {
        let content = Bytes::from(text.to_owned());
        (Digest::of(Algorithm::Sha256, &content), content)
    }

    #[test]
    fn keeps_entries_within_capacity_and_evicts_the_oldest() {
        let cache = ContentCache::new(40);
        let (a, a_bytes) = entry("aaaaaaaaaa");
        let (b, b_bytes) = entry("bbbbbbbbbb");
        let (c, c_bytes) = entry("cccccccccc");
        let (d, d_bytes) = entry("dddddddddd");
        let (e, e_bytes) = entry("eeeeeeeeee");
        for (digest, bytes) in [
            (&a, &a_bytes),
            (&b, &b_bytes),
            (&c, &c_bytes),
            (&d, &d_bytes),
        ] {
            cache.insert(digest, bytes);
        }
        assert_eq!(cache.get(&a), Some(a_bytes));
        cache.insert(&e, &e_bytes);
        assert_eq!(cache.get(&a), None, "the oldest entry leaves first");
        assert_eq!(cache.get(&b), Some(b_bytes));
        assert_eq!(cache.get(&e), Some(e_bytes));
    }

    #[test]
    fn skips_content_larger_than_a_quarter_of_the_capacity() {
        let cache = ContentCache::new(16);
        let (big, big_bytes) = entry("0123456789");
        cache.insert(&big, &big_bytes);
        assert_eq!(cache.get(&big), None);
        let disabled = ContentCache::new(0);
        let (small, small_bytes) = entry("x");
        disabled.insert(&small, &small_bytes);
        assert_eq!(disabled.get(&small), None);
    }
}
