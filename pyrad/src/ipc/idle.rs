//! Which connections are idle: when every slot is taken, the connection that has
//! been quiet longest, with nothing in flight, is closed to make room, so idle
//! clients can never lock `pyractl` out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<u64, Entry>>,
}

struct Entry {
    last: Instant,
    busy: usize,
    close: CancellationToken,
}

impl Registry {
    /// Tracks connection `id` until the handle drops.
    pub fn register(self: &Arc<Self>, id: u64) -> Handle {
        let close = CancellationToken::new();
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, Entry { last: Instant::now(), busy: 0, close: close.clone() });
        }
        Handle { registry: self.clone(), id, close }
    }

    /// Closes the connection idle longest with nothing in flight; how long it was idle.
    pub fn evict_one(&self) -> Option<(u64, Duration)> {
        let conns = self.conns.lock().ok()?;
        let (id, entry) =
            conns.iter().filter(|(_, e)| e.busy == 0 && !e.close.is_cancelled()).min_by_key(|(_, e)| e.last)?;
        entry.close.cancel();
        Some((*id, entry.last.elapsed()))
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Entry)) {
        if let Ok(mut conns) = self.conns.lock()
            && let Some(entry) = conns.get_mut(&id)
        {
            f(entry);
        }
    }
}

/// One connection's place in the registry.
pub struct Handle {
    registry: Arc<Registry>,
    id: u64,
    /// Fired when the connection is closed to make room.
    pub close: CancellationToken,
}

impl Handle {
    /// Something was read.
    pub fn touch(&self) {
        self.registry.update(self.id, |e| e.last = Instant::now());
    }

    /// A request starts; the returned guard ends it.
    pub fn busy(&self) -> Busy {
        self.registry.update(self.id, |e| e.busy += 1);
        Busy { registry: self.registry.clone(), id: self.id }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Ok(mut conns) = self.registry.conns.lock() {
            conns.remove(&self.id);
        }
    }
}

pub struct Busy {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.registry.update(self.id, |e| {
            e.busy = e.busy.saturating_sub(1);
            e.last = Instant::now();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_idle_connection_without_work_is_chosen() {
        let registry = Arc::new(Registry::default());
        let a = registry.register(1);
        std::thread::sleep(Duration::from_millis(5));
        let b = registry.register(2);
        std::thread::sleep(Duration::from_millis(5));
        let c = registry.register(3);
        let _working = a.busy();
        b.touch();
        // 1 is busy, 2 was just touched: 3 is the longest idle.
        assert_eq!(registry.evict_one().map(|(id, _)| id), Some(3));
        assert!(c.close.is_cancelled());
        assert_eq!(registry.evict_one().map(|(id, _)| id), Some(2));
        assert_eq!(registry.evict_one(), None, "a busy connection is never closed");
        drop(_working);
        assert_eq!(registry.evict_one().map(|(id, _)| id), Some(1));
        drop((a, b, c));
        assert!(registry.conns.lock().unwrap().is_empty());
    }
}
