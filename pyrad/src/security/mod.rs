//! Security boundaries shared by every component: the one safe-path function and
//! the file-mode policy for everything under `PYRA_HOME`.

pub mod modes;
pub mod safe_path;

pub use safe_path::safe_join;
