//! Test helpers shared by pyrad's unit tests: a real fakellm server.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fakellm server on a free loopback port, killed when dropped.
pub struct FakeLlm {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FakeLlm {
    /// Starts fakellm with `rules` (its YAML config) and waits until it listens.
    pub fn start(rules: &str) -> FakeLlm {
        let bin = std::env::var_os("FAKELLM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/.venv/bin/fakellm"));
        assert!(bin.exists(), "{} is missing: run tests/setup.sh (make test does)", bin.display());
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("fakellm.yaml");
        std::fs::write(&config, rules).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(bin)
            .args(["serve", "--host", "127.0.0.1", "--port", &port.to_string(), "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = FakeLlm { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "fakellm did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}
