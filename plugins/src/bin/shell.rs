//! `shell`: run a command with `sh -c`, after your approval, with a timeout and
//! an output cap. It runs in the plugin's data folder unless given a `cwd`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pyra_plugins::{ToolDef, arg, cap, serve};
use serde_json::{Value, json};

const MAX_OUTPUT: usize = 20_000;

fn run(args: &Value) -> Result<String, String> {
    let command = arg(args, "command")?;
    let timeout = Duration::from_secs(args.get("timeout_secs").and_then(Value::as_u64).unwrap_or(30).clamp(1, 600));
    let cwd = args
        .get("cwd")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| std::env::var("PYRA_PLUGIN_DATA").ok())
        .unwrap_or_else(|| ".".into());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    let mut out = child.stdout.take().ok_or("no stdout")?;
    let mut err = child.stderr.take().ok_or("no stderr")?;
    let reader = std::thread::spawn(move || {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let _ = out.by_ref().take(4 << 20).read_to_end(&mut o);
        let _ = err.by_ref().take(1 << 20).read_to_end(&mut e);
        (o, e)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if started.elapsed() > timeout {
            // The whole group: whatever the command started goes too.
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: signalling the process group we created.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = reader.join().unwrap_or_default();
    let mut text = String::from_utf8_lossy(&stdout).into_owned();
    if !stderr.is_empty() {
        text.push_str("\n[stderr]\n");
        text.push_str(&String::from_utf8_lossy(&stderr));
    }
    let text = cap(text, MAX_OUTPUT);
    match status {
        None => Err(format!("timed out after {} s\n{text}", timeout.as_secs())),
        Some(s) if s.success() => Ok(text),
        Some(s) => Err(format!("exited with {s}\n{text}")),
    }
}

fn main() {
    let tools = vec![ToolDef {
        name: "run",
        description: "Run a shell command (sh -c) and return its output",
        schema: json!({"type": "object", "properties": {
            "command": {"type": "string"},
            "timeout_secs": {"type": "integer", "description": "default 30, at most 600"},
            "cwd": {"type": "string"},
        }, "required": ["command"]}),
        read_only: false,
        run: Box::new(run),
    }];
    serve(
        "shell",
        "shell__run runs a command after the user approves it; keep commands short and explain them.",
        tools,
    );
}
