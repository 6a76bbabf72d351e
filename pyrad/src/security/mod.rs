//! Security boundaries shared by every component: the one safe-path function and
//! the file-mode policy for everything under `PYRA_HOME`.

pub mod injection;
pub mod modes;
pub mod safe_path;

pub use safe_path::safe_join;

/// `bytes` random bytes from the kernel, as lower-case hex: ids nobody can guess.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
