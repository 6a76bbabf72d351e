//! The control socket: [`bind`] makes the listener (0600, stale file replaced),
//! [`accept_loop`] hands each connection to its own task, `connection` speaks the
//! protocol on it, `dispatch` answers the methods.

mod chat;
mod connection;
mod dispatch;
mod idle;
mod memory;
mod plugins;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use interprocess::local_socket::tokio::Listener;
use interprocess::local_socket::traits::tokio::Listener as _;
use interprocess::local_socket::{GenericFilePath, ListenerOptions, ToFsName};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use tokio_util::task::TaskTracker;

use crate::daemon::Daemon;

/// `sun_path` holds 108 bytes including the final NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Creates the listening socket at `path`, mode 0600. Only call this while holding
/// the instance lock: any socket file already there is then stale and is replaced.
pub fn bind(path: &Path) -> anyhow::Result<Listener> {
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        bail!("socket path {} is {len} bytes; Unix sockets allow at most {MAX_SOCKET_PATH}", path.display());
    }
    let stale = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => true,
        Ok(_) => bail!("refusing to replace {}: it exists and is not a socket", path.display()),
        Err(_) => false,
    };
    let name = path.to_fs_name::<GenericFilePath>().with_context(|| format!("socket path {}", path.display()))?;
    let listener = ListenerOptions::new()
        .name(name)
        .mode(0o600)
        .try_overwrite(true)
        .create_tokio()
        .with_context(|| format!("while binding the control socket {}", path.display()))?;
    if stale {
        tracing::warn!(socket = %path.display(), "replaced a stale socket left by an earlier run");
    }
    Ok(listener)
}

/// Accepts connections until the daemon stops.
pub async fn accept_loop(listener: &Listener, daemon: &Daemon, connections: &TaskTracker) {
    let mut next_id: u64 = 0;
    let registry = std::sync::Arc::new(idle::Registry::default());
    loop {
        let accepted = tokio::select! {
            () = daemon.stopping() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok(stream) => {
                next_id += 1;
                let daemon = daemon.clone();
                let (counted, mut over_limit) = daemon.count_connection();
                if over_limit && let Some((evicted, idle)) = registry.evict_one() {
                    tracing::info!(
                        conn = evicted,
                        idle_secs = idle.as_secs(),
                        "all connection slots taken; closing the longest idle one"
                    );
                    over_limit = false;
                }
                let handle = registry.register(next_id);
                connections.spawn(async move {
                    connection::serve(&daemon, stream, next_id, over_limit, handle).await;
                    drop(counted);
                });
            }
            Err(e) => {
                // Out of file descriptors, usually: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
