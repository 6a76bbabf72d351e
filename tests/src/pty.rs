//! A program on a pseudo-terminal, driven as a person would: keystrokes in,
//! the screen's text out (ANSI escapes and carriage returns taken out). The
//! child is killed when the `Pty` is dropped, even when the test fails.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Pty {
    master: File,
    child: Child,
    /// Everything the program wrote, raw.
    raw: Vec<u8>,
    /// How much of the cleaned text earlier `expect`s consumed.
    seen: usize,
}

/// `text` as a person reads it: escape sequences and `\r` removed.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    for c in chars.by_ref() {
                        if c == '\x07' {
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            },
            '\r' => {}
            other => out.push(other),
        }
    }
    out
}

impl Pty {
    /// Runs `command` with a new pseudo-terminal (80x24) as its controlling
    /// terminal and its stdin, stdout and stderr.
    pub fn spawn(mut command: Command) -> Self {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize { ws_row: 24, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: openpty fills two fds we then own.
        let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: fresh fds from openpty, owned from here on.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty"));
        command.stdin(io(&slave)).stdout(io(&slave)).stderr(io(&slave)).env("TERM", "xterm");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("spawn on the pty");
        drop(slave);
        // SAFETY: fcntl on the master fd we own.
        unsafe {
            let flags = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Pty { master: File::from(master), child, raw: Vec::new(), seen: 0 }
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("write to the pty");
        self.master.flush().expect("flush the pty");
    }

    /// Reads what is there now (waiting at most `wait` for something).
    fn pump(&mut self, wait: Duration) {
        let mut poll = libc::pollfd { fd: self.master.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: poll(2) on one pollfd we own.
        unsafe { libc::poll(&mut poll, 1, wait.as_millis() as libc::c_int) };
        let mut buf = [0u8; 8192];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
    }

    /// The whole screen text so far.
    pub fn text(&self) -> String {
        clean(&String::from_utf8_lossy(&self.raw))
    }

    /// Waits (at most `timeout`) until `needle` appears after what earlier
    /// expects consumed; returns the text up to and including it.
    pub fn expect_within(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if let Some(at) = text.get(self.seen..).and_then(|rest| rest.find(needle)) {
                let end = self.seen + at + needle.len();
                let got = text[self.seen..end].to_owned();
                self.seen = end;
                return got;
            }
            if Instant::now() > deadline {
                let rest = text.get(self.seen..).unwrap_or_default().to_owned();
                let tail: String = text.chars().rev().take(1500).collect::<Vec<_>>().into_iter().rev().collect();
                panic!(
                    "{needle:?} did not appear within {timeout:?}; after the last match:\n{rest}\n---- the screen's end:\n{tail}"
                );
            }
            self.pump(Duration::from_millis(50));
        }
    }

    pub fn expect(&mut self, needle: &str) -> String {
        self.expect_within(needle, crate::TIMEOUT)
    }

    /// Reads for `wait`, and returns what came after the last match (not consumed).
    pub fn settle(&mut self, wait: Duration) -> String {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            self.pump(Duration::from_millis(50));
        }
        self.text().get(self.seen..).unwrap_or_default().to_owned()
    }

    /// Waits for the program to exit; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + crate::TIMEOUT;
        loop {
            self.pump(Duration::from_millis(50));
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the program did not exit; screen:\n{}", self.text());
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
