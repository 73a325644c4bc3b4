//! A small cache of rendered `GET /gpus` pages.
//!
//! Browsing is by far the most frequent request, and its answer changes only when
//! listings change. A page is kept with the store's write generation
//! ([`bitfox_store::Store::generation`]) at the time it was read, and served again only
//! while no write has been committed since, so a write made through this process is
//! visible to the very next request. Writes made by another process sharing the
//! database file are seen after at most the entry's time to live
//! (`http.list_cache_ttl_ms`; 0 turns the cache off).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Most pages kept; the cache is emptied when full (pages are cheap to rebuild).
const MAX_ENTRIES: usize = 4096;

/// A rendered page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The JSON body.
    pub body: Bytes,
    /// `(Link, X-Next-Cursor)` of the next page, if any.
    pub next: Option<(String, String)>,
}

#[derive(Debug)]
struct Entry {
    generation: u64,
    at: Instant,
    page: Page,
}

/// Rendered pages by query string.
#[derive(Debug)]
pub struct PageCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl PageCache {
    /// A cache whose entries live at most `ttl` (zero disables it).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The page cached under `key`, if it was read at `generation` and is fresh.
    pub fn get(&self, key: &str, generation: u64) -> Option<Page> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.at.elapsed() < self.ttl)
            .map(|e| e.page.clone())
    }

    /// Keeps `page`, read at `generation`, under `key`.
    pub fn put(&self, key: String, generation: u64, page: Page) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Entry { generation, at: Instant::now(), page });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &'static str) -> Page {
        Page { body: Bytes::from_static(text.as_bytes()), next: None }
    }

    #[test]
    fn serves_only_the_same_generation_within_the_ttl() {
        let cache = PageCache::new(Duration::from_secs(60));
        cache.put("a".into(), 3, page("[1]"));
        assert_eq!(cache.get("a", 3).unwrap().body, "[1]");
        assert!(cache.get("a", 4).is_none(), "a write happened since");
        assert!(cache.get("b", 3).is_none());

        let short = PageCache::new(Duration::from_millis(1));
        short.put("a".into(), 1, page("[]"));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("a", 1).is_none(), "expired");

        let off = PageCache::new(Duration::ZERO);
        off.put("a".into(), 1, page("[]"));
        assert!(off.get("a", 1).is_none());
    }
}
