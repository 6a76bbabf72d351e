//! Wall-clock time as the store and the wire want it: Unix seconds.

use std::time::SystemTime;

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
