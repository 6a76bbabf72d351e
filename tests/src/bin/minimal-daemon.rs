//! The yardstick for pyrad's start-up in `make bench`: the least a Rust daemon
//! of pyrad's kind does before it is ready. It starts the same runtime (tokio,
//! two workers), binds its Unix socket, tells the service manager `READY=1`,
//! and accepts connections until it is killed. Nothing else: no config, no
//! store, no logging.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let socket = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "minimal.sock".into()));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket)?;
        if let Some(notify) = std::env::var_os("NOTIFY_SOCKET") {
            let datagram = std::os::unix::net::UnixDatagram::unbound()?;
            datagram.send_to(b"READY=1\n", notify)?;
        }
        loop {
            let (stream, _) = listener.accept().await?;
            drop(stream);
        }
    })
}
