//! Giving memory back. glibc keeps freed memory in its arenas; after a large
//! message (a 10 MB answer, a big session read) that can stay resident for good.
//! Whoever handles something large calls [`note_large`]; a daemon task calls
//! [`take_noted`] every couple of seconds and, once the large thing is over, has
//! SQLite drop its page cache and runs `malloc_trim(0)`, which returns the free
//! pages of every arena to the kernel. [`configure`] keeps large buffers out of
//! the arenas in the first place.

use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes from which a message, answer or read counts as large.
pub const LARGE: usize = 256 * 1024;

static NOTED: AtomicBool = AtomicBool::new(false);

/// Something large was handled (or is being handled): trim when it is over.
pub fn note_large() {
    NOTED.store(true, Ordering::Relaxed);
}

/// Whether something large was noted since the last call (and forgets it).
pub fn take_noted() -> bool {
    NOTED.swap(false, Ordering::Relaxed)
}

/// Fixes glibc's mmap threshold at 128 KiB. By default glibc raises it (up to
/// 32 MiB) each time a large block is freed, after which large buffers come from
/// the arenas and stay there; fixed, every buffer of 128 KiB or more is its own
/// mapping and goes back to the kernel the moment it is freed. Call once, first.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets glibc's allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Returns the free memory of every arena to the kernel.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists; it takes no pointers of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}
