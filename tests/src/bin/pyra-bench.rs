//! `make bench`: start-up time, idle RSS, `pyractl status` wall time, and the
//! `daemon.status` round trip next to its floor (a minimal line echo over the same
//! kind of socket, in its own process with the same runtime), printed as a table.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pyra_tests::PidGuard;

const STARTS: usize = 21;
const PYRACTL_RUNS: usize = 200;
const ROUND_TRIPS: usize = 5000;
const WARMUP: usize = 500;
/// The soak's default length; `make bench SOAK=30` (`--soak-minutes 30`) runs the long one.
const SOAK_MINUTES: u64 = 3;
/// Clients of the soak.
const SOAK_CLIENTS: usize = 20;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--echo-server") {
        let path = args.get(2).context("--echo-server needs a socket path")?;
        return echo_server(Path::new(path));
    }
    // Every process here (pyrad, the echo server, pyractl) inherits this: on one
    // CPU, a round trip measures work and context switches, not how long a VM
    // takes to wake an idle vCPU (which swings between 5 and 80 µs here).
    pin_to_one_cpu()?;
    let dir = tempfile::Builder::new().prefix("pyra-bench-").tempdir()?;
    let bin_dir = std::env::current_exe()?.parent().context("bench binary has a directory")?.to_path_buf();
    let pyrad = bin_dir.join("pyrad");
    let pyractl = bin_dir.join("pyractl");
    let home = dir.path().join("home");
    let mut rows: Vec<(String, String, String)> = Vec::new();
    // `PYRA_BENCH_ONLY=memory,soak` runs just those sections (for working on them).
    if let Ok(only) = std::env::var("PYRA_BENCH_ONLY") {
        let minutes = soak_minutes(&args);
        for section in only.split(',') {
            match section {
                "start" => start_rows(&pyrad, &home, dir.path(), &mut rows)?,
                "chat" => chat_rows(&pyrad, dir.path(), &mut rows)?,
                "memory" => memory_rows(&pyrad, dir.path(), &mut rows)?,
                "soak" => soak_rows(&pyrad, dir.path(), minutes, &mut rows)?,
                other => bail!("unknown bench section {other:?}"),
            }
        }
        print_table(rows);
        return Ok(());
    }

    start_rows(&pyrad, &home, dir.path(), &mut rows)?;

    let (_, guard) = start(&pyrad, &home, dir.path())?;
    let pid = guard.pid();
    std::thread::sleep(Duration::from_secs(1));
    let idle = rss_mib(pid)?;
    rows.push(("idle RSS".into(), format!("{idle:.1} MiB"), verdict(idle < 10.0, "< 10 MiB")));

    let mut walls = Vec::new();
    for _ in 0..PYRACTL_RUNS {
        let t = Instant::now();
        let status = Command::new(&pyractl)
            .env("PYRA_HOME", &home)
            .arg("status")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        walls.push(t.elapsed());
        if !status.success() {
            bail!("pyractl status failed: {status}");
        }
    }
    let (w50, w99) = (percentile(&mut walls, 50.0), percentile(&mut walls, 99.0));
    rows.push((
        format!("pyractl status wall, p50 / p99 of {PYRACTL_RUNS}"),
        format!("{} / {}", ms(w50), ms(w99)),
        verdict(w50 < Duration::from_millis(3), "p50 < 3 ms"),
    ));

    let socket = home.join("run/pyrad.sock");
    let request = br#"{"jsonrpc":"2.0","id":7,"method":"daemon.status"}"#;
    let mut rtt = round_trips(&socket, true, request)?;
    let (r50, r99) = (percentile(&mut rtt, 50.0), percentile(&mut rtt, 99.0));
    rows.push((
        format!("daemon.status round trip, p50 / p99 of {ROUND_TRIPS}"),
        format!("{} / {}", us(r50), us(r99)),
        String::new(),
    ));
    let loaded = rss_mib(pid)?;
    rows.push(("RSS after the runs above".into(), format!("{loaded:.1} MiB"), String::new()));
    drop(guard);

    let echo_socket = dir.path().join("echo.sock");
    let mut echo =
        Command::new(std::env::current_exe()?).arg("--echo-server").arg(&echo_socket).stdin(Stdio::null()).spawn()?;
    let _echo_guard = PidGuard(Some(echo.id()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&echo_socket).is_err() {
        if Instant::now() > deadline || echo.try_wait()?.is_some() {
            bail!("the echo server did not start");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut floor = round_trips(&echo_socket, false, request)?;
    let (f50, f99) = (percentile(&mut floor, 50.0), percentile(&mut floor, 99.0));
    rows.push((
        format!("floor: line echo, p50 / p99 of {ROUND_TRIPS}"),
        format!("{} / {}", us(f50), us(f99)),
        String::new(),
    ));
    let ratio = r50.as_secs_f64() / f50.as_secs_f64();
    rows.push(("round trip / floor, p50".into(), format!("{ratio:.2}x"), verdict(ratio <= 1.5, "<= 1.5x")));

    chat_rows(&pyrad, dir.path(), &mut rows)?;
    memory_rows(&pyrad, dir.path(), &mut rows)?;
    plugin_rows(&pyrad, dir.path(), &mut rows)?;
    scanner_rows(&pyrad, dir.path(), &mut rows)?;
    bot_rows(&pyrad, dir.path(), &mut rows)?;
    soak_rows(&pyrad, dir.path(), soak_minutes(&args), &mut rows)?;

    print_table(rows);
    Ok(())
}

/// A provider that streams at once, as fast as the socket takes it. The number of
/// chunks comes from the question (`chunks:N`); the moment the first chunk is
/// written is kept for the added-latency row.
fn fast_provider() -> anyhow::Result<(String, Arc<Mutex<Option<Instant>>>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/v1", listener.local_addr()?);
    let first_byte = Arc::new(Mutex::new(None));
    let stamp = first_byte.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let stamp = stamp.clone();
            std::thread::spawn(move || serve_stream(stream, &stamp));
        }
    });
    Ok((url, first_byte))
}

fn serve_stream(stream: std::net::TcpStream, stamp: &Mutex<Option<Instant>>) {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body);
    let chunks: usize = body
        .split("chunks:")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    let mut out = std::io::BufWriter::new(stream.try_clone().expect("socket clone"));
    let _ = out.write_all(head.as_bytes());
    // `tool:note` in the newest message asks for a call that needs approval; its result ends the turn.
    let last = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|b| b["messages"].as_array().and_then(|m| m.last().cloned()))
        .unwrap_or_default();
    if last["role"] == "user" && last["content"].as_str().is_some_and(|c| c.contains("tool:time")) {
        let args = r#"{\"timezone\":\"UTC\"}"#;
        let _ = write!(
            out,
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{{\"name\":\"time__get_current_time\",\"arguments\":\"{args}\"}}}}]}},\"finish_reason\":null}}]}}\n\n"
        );
        let _ = out.write_all(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
        );
        let _ = out.flush();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        return;
    }
    // `big:N` asks for an answer of N MiB, in 64 KiB deltas.
    let big: usize = body
        .split("big:")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if last["role"] == "user" && big > 0 {
        let piece = "x".repeat(64 * 1024);
        for _ in 0..big * 16 {
            let _ = write!(
                out,
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{piece}\"}},\"finish_reason\":null}}]}}\n\n"
            );
        }
        let _ = out.write_all(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
        );
        let _ = out.flush();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        return;
    }
    if last["role"] == "user" && last["content"].as_str().is_some_and(|c| c.contains("tool:note")) {
        let args = r#"{\"name\":\"notes.md\",\"text\":\"bench\"}"#;
        let _ = write!(
            out,
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{{\"name\":\"memory__append\",\"arguments\":\"{args}\"}}}}]}},\"finish_reason\":null}}]}}\n\n"
        );
        let _ = out.write_all(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
        );
        let _ = out.flush();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        return;
    }
    for i in 0..chunks {
        let _ = write!(
            out,
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"t{i} \"}},\"finish_reason\":null}}]}}\n\n"
        );
        if i == 0 {
            let _ = out.flush();
            if let Ok(mut s) = stamp.lock() {
                *s = Some(Instant::now());
            }
        }
    }
    let _ = out
        .write_all(b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    let _ = out.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// One `chat.send` on `stream`; returns (deltas received, first-delta instant, ok).
fn chat_turn(stream: &mut UnixStream, id: u64, text: &str) -> anyhow::Result<(usize, Option<Instant>, bool)> {
    chat_turn_with(stream, id, serde_json::json!({"text": text}))
}

fn chat_turn_with(
    stream: &mut UnixStream,
    id: u64,
    params: serde_json::Value,
) -> anyhow::Result<(usize, Option<Instant>, bool)> {
    chat_turn_full(stream, id, params)
        .map(|(deltas, first, response)| (deltas, first, response.get("result").is_some()))
}

/// One `chat.send`; returns (deltas, first-delta instant, the response).
fn chat_turn_full(
    stream: &mut UnixStream,
    id: u64,
    params: serde_json::Value,
) -> anyhow::Result<(usize, Option<Instant>, serde_json::Value)> {
    let request = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "chat.send", "params": params});
    stream.write_all(format!("{request}\n").as_bytes())?;
    let mut lines = proto::LineBuffer::new(proto::MAX_LINE_BYTES);
    let mut chunks = proto::chunk::Joiner::new(0);
    let mut buf = vec![0u8; 256 * 1024];
    let (mut deltas, mut first) = (0, None);
    loop {
        while let Some(line) = lines.next_line() {
            let mut line = line?;
            let mut msg: serde_json::Value = serde_json::from_slice(&line)?;
            if msg["method"] == proto::chunk::METHOD {
                match chunks.push(msg.get("params").cloned())? {
                    Some(whole) => line = whole,
                    None => continue,
                }
                msg = serde_json::from_slice(&line)?;
            }
            if msg["method"] == "chat.delta" {
                first.get_or_insert_with(Instant::now);
                deltas += 1;
            } else if msg["id"] == id {
                return Ok((deltas, first, msg));
            }
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            bail!("pyrad closed the connection");
        }
        lines.extend(&buf[..n]);
    }
}

fn hello(socket: &Path) -> anyhow::Result<UnixStream> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"hello\",\"params\":{\"protocol\":\"pyra\",\"version\":1,\"client\":\"bench\"}}\n")?;
    let mut buf = [0u8; 4096];
    let mut have = Vec::new();
    while !have.ends_with(b"\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            bail!("no hello answer");
        }
        have.extend_from_slice(&buf[..n]);
    }
    Ok(stream)
}

/// The conversation rows: latency pyrad adds to the first token, the relay
/// ceiling, and 100 sessions streaming at once.
fn chat_rows(pyrad: &Path, scratch: &Path, rows: &mut Vec<(String, String, String)>) -> anyhow::Result<()> {
    let (url, first_byte) = fast_provider()?;
    let home = scratch.join("chat-home");
    let (_, guard) = start_with(pyrad, &home, scratch, &fake_provider(&url))?;
    let socket = home.join("run/pyrad.sock");
    let mut stream = hello(&socket)?;

    let mut added = Vec::new();
    for i in 0..220u64 {
        *first_byte.lock().map_err(|_| anyhow::anyhow!("lock"))? = None;
        let (_, first, ok) = chat_turn(&mut stream, 10 + i, "chunks:5 hi")?;
        let sent = *first_byte.lock().map_err(|_| anyhow::anyhow!("lock"))?;
        if let (true, Some(first), Some(sent)) = (ok, first, sent)
            && i >= 20
        {
            added.push(first.saturating_duration_since(sent));
        }
    }
    let (a50, a99) = (percentile(&mut added, 50.0), percentile(&mut added, 99.0));
    rows.push((
        format!("first token: added by pyrad, p50 / p99 of {}", added.len()),
        format!("{} / {}", us(a50), us(a99)),
        verdict(a50 < Duration::from_millis(2), "p50 < 2 ms"),
    ));

    let tokens = 20_000;
    let t = Instant::now();
    let (deltas, _, ok) = chat_turn(&mut stream, 5000, &format!("chunks:{tokens} go"))?;
    let rate = deltas as f64 / t.elapsed().as_secs_f64();
    rows.push((
        "relay ceiling (one stream)".into(),
        format!("{rate:.0} tokens/s"),
        if ok && deltas == tokens { String::new() } else { format!("{deltas}/{tokens} relayed") },
    ));

    let pid = guard.pid();
    let peak = Arc::new(Mutex::new(0.0f64));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                if let (Ok(rss), Ok(mut p)) = (rss_mib(pid), peak.lock()) {
                    *p = p.max(rss);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let workers: Vec<_> = (0..100u64)
        .map(|i| {
            let socket = socket.clone();
            std::thread::spawn(move || -> bool {
                let Ok(mut stream) = hello(&socket) else { return false };
                matches!(chat_turn(&mut stream, 1, &format!("chunks:200 session {i}")), Ok((200, _, true)))
            })
        })
        .collect();
    let errors = workers.into_iter().map(|w| w.join().unwrap_or(false)).filter(|ok| !ok).count();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    let peak = *peak.lock().map_err(|_| anyhow::anyhow!("lock"))?;
    rows.push(("100 sessions streaming at once: errors".into(), errors.to_string(), verdict(errors == 0, "0")));
    rows.push(("100 sessions streaming at once: peak RSS".into(), format!("{peak:.1} MiB"), String::new()));
    drop(guard);
    Ok(())
}

/// One JSON-RPC call on an open connection; returns the response.
fn rpc(stream: &mut UnixStream, id: u64, method: &str, params: serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let request = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    stream.write_all(format!("{request}\n").as_bytes())?;
    let mut lines = proto::LineBuffer::new(proto::MAX_LINE_BYTES);
    let mut chunks = proto::chunk::Joiner::new(0);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(line) = lines.next_line() {
            let mut msg: serde_json::Value = serde_json::from_slice(&line?)?;
            if msg["method"] == proto::chunk::METHOD {
                match chunks.push(msg.get("params").cloned())? {
                    Some(whole) => msg = serde_json::from_slice(&whole)?,
                    None => continue,
                }
            }
            if msg["id"] == id {
                return Ok(msg);
            }
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            bail!("pyrad closed the connection");
        }
        lines.extend(&buf[..n]);
    }
}

/// The plugin rows: a tool call through pyrad next to the official Python SDK
/// calling the same server directly, plugin cold start, and RSS with 10 plugins.
fn plugin_rows(pyrad: &Path, scratch: &Path, rows: &mut Vec<(String, String, String)>) -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let index = repo.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let python = repo.join(".venv/bin/python");
    if !index.exists() || !python.exists() {
        rows.push(("plugin rows".into(), "skipped".into(), "run tests/setup.sh first".into()));
        return Ok(());
    }
    let home = scratch.join("plugin-home");
    let write = |name: &str, command: &str, args: &[String]| -> anyhow::Result<()> {
        let dir = home.join("plugins").join(name);
        std::fs::create_dir_all(&dir)?;
        let args = args.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(", ");
        std::fs::write(
            dir.join("plugin.toml"),
            format!("name = \"{name}\"\nversion = \"1.0.0\"\ncommand = \"{command}\"\nargs = [{args}]\n"),
        )?;
        Ok(())
    };
    write("everything", "node", &[index.display().to_string(), "stdio".into()])?;
    let fixture = repo.join("fixtures/misbehave.py").display().to_string();
    for i in 1..10 {
        write(&format!("calc{i}"), &python.display().to_string(), &[fixture.clone(), "good".into()])?;
    }
    let (_, guard) = start(pyrad, &home, scratch)?;
    let mut stream = hello(&home.join("run/pyrad.sock"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let list = loop {
        let list = rpc(&mut stream, 1, "plugins.list", serde_json::json!({}))?;
        let plugins = list["result"]["plugins"].as_array().cloned().unwrap_or_default();
        if plugins.len() == 10 && plugins.iter().all(|p| p["state"] == "active") {
            break plugins;
        }
        if Instant::now() > deadline {
            bail!("plugins did not all become active: {list}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_secs(1));
    let rss = rss_mib(guard.pid())?;
    let start_of =
        |name: &str| list.iter().find(|p| p["name"] == name).and_then(|p| p["start_ms"].as_f64()).unwrap_or(0.0);

    let args = serde_json::json!({"tool": "everything__echo", "args": {"message": "hi"}});
    for i in 0..50 {
        rpc(&mut stream, 100 + i, "plugins.call", args.clone())?;
    }
    let mut through = Vec::new();
    for i in 0..500 {
        let t = Instant::now();
        let answer = rpc(&mut stream, 1000 + i, "plugins.call", args.clone())?;
        through.push(t.elapsed());
        if answer["result"]["text"] != "Echo: hi" {
            bail!("unexpected echo answer: {answer}");
        }
    }
    drop(guard);
    let (p50, p99) = (percentile(&mut through, 50.0), percentile(&mut through, 99.0));
    let sdk = Command::new(&python)
        .arg(repo.join("fixtures/sdk_echo_bench.py"))
        .arg(&index)
        .arg("500")
        .stderr(Stdio::null())
        .output()?;
    let sdk = String::from_utf8_lossy(&sdk.stdout);
    let mut parts = sdk.split_whitespace().filter_map(|v| v.parse::<f64>().ok());
    let (s50, s99) = (parts.next().unwrap_or(f64::NAN), parts.next().unwrap_or(f64::NAN));
    let ours = p50.as_secs_f64() * 1e6;
    rows.push((
        "tool call via pyrad (client→pyrad→everything echo), p50 / p99".into(),
        format!("{} / {}", us(p50), us(p99)),
        verdict(ours < s50, "< Python SDK"),
    ));
    rows.push((
        "same call, official Python SDK client direct, p50 / p99".into(),
        format!("{s50:.1} µs / {s99:.1} µs"),
        String::new(),
    ));
    rows.push((
        "plugin cold start: server-everything (node)".into(),
        format!("{:.0} ms", start_of("everything")),
        String::new(),
    ));
    rows.push(("plugin cold start: Python fixture".into(), format!("{:.0} ms", start_of("calc1")), String::new()));
    rows.push(("pyrad RSS with 10 plugins active".into(), format!("{rss:.1} MiB"), String::new()));
    Ok(())
}

/// pyrad's provider settings for the bench's fake provider at `url` (custom has
/// no default model, and pyrad refuses an empty one).
/// Start-up: the first start sets the home up; later ones open it. Next to it,
/// the yardstick: a daemon that only starts the runtime, binds and notifies.
fn start_rows(
    pyrad: &Path,
    home: &Path,
    scratch: &Path,
    rows: &mut Vec<(String, String, String)>,
) -> anyhow::Result<()> {
    let (first, guard) = start(pyrad, home, scratch)?;
    drop(guard);
    // The two start in turn, so a busy moment of the machine weighs on both alike.
    let minimal = pyrad.with_file_name("minimal-daemon");
    let mut starts = Vec::new();
    let mut floors = Vec::new();
    let mut served = Vec::new();
    for _ in 0..STARTS {
        let (took, guard) = start(pyrad, home, scratch)?;
        starts.push(took);
        // Beside READY, what a client sees: the first daemon.status answered.
        first_reply(&home.join("run/pyrad.sock"))?;
        served.push(guard.spawned.elapsed().context("the clock went back")?);
        drop(guard);
        let mut command = Command::new(&minimal);
        command.arg(scratch.join("minimal.sock"));
        let (took, guard) = start_command(command, scratch)?;
        floors.push(took);
        drop(guard);
    }
    rows.push(("start to READY=1, new home".into(), ms(first), String::new()));
    let p50 = percentile(&mut starts, 50.0);
    rows.push((format!("start to READY=1, p50 of {STARTS}"), ms(p50), String::new()));
    let first = percentile(&mut served, 50.0);
    rows.push((format!("start to the first daemon.status reply, p50 of {STARTS}"), ms(first), String::new()));
    let floor = percentile(&mut floors, 50.0);
    rows.push((format!("minimal daemon start to READY=1, p50 of {STARTS}"), ms(floor), String::new()));
    let ratio = p50.as_secs_f64() / floor.as_secs_f64().max(1e-6);
    rows.push(("pyrad start / minimal daemon start".into(), format!("{ratio:.1}x"), verdict(ratio <= 3.0, "<= 3x")));
    Ok(())
}

fn fake_provider(url: &str) -> [(&'static str, &str); 3] {
    [("PYRA__PROVIDER__PRESET", "custom"), ("PYRA__PROVIDER__BASE_URL", url), ("PYRA__PROVIDER__MODEL", "bench-model")]
}

/// Starts pyrad and returns the time to `READY=1` and a guard that stops it.
fn start(pyrad: &Path, home: &Path, scratch: &Path) -> anyhow::Result<(Duration, Running)> {
    start_with(pyrad, home, scratch, &[])
}

fn start_with(pyrad: &Path, home: &Path, scratch: &Path, env: &[(&str, &str)]) -> anyhow::Result<(Duration, Running)> {
    let mut command = Command::new(pyrad);
    command.env("PYRA_HOME", home).env("PYRA_STDERR_LOG", "0").envs(env.iter().copied());
    start_command(command, scratch)
}

/// Runs `command` as a daemon and returns the time to its `READY=1`: to the
/// moment the daemon sent it, as the kernel stamped the datagram (SO_TIMESTAMP),
/// not the moment this process got to read it. On one CPU a daemon that goes on
/// working after READY would otherwise be charged for that work too.
fn start_command(mut command: Command, scratch: &Path) -> anyhow::Result<(Duration, Running)> {
    let path = scratch.join("notify.sock");
    let _ = std::fs::remove_file(&path);
    let notify = std::os::unix::net::UnixDatagram::bind(&path)?;
    notify.set_read_timeout(Some(Duration::from_secs(10)))?;
    stamp_datagrams(&notify)?;
    let spawned = std::time::SystemTime::now();
    let child =
        command.env("NOTIFY_SOCKET", &path).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let running = Running { child, kill: PidGuard(None), spawned };
    let mut buf = [0u8; 4096];
    loop {
        let (n, sent) = recv_stamped(&notify, &mut buf).context("waiting for READY=1")?;
        if String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1") {
            let took = sent.duration_since(spawned).context("READY=1 stamped before the spawn (clock jump)")?;
            return Ok((took, running));
        }
    }
}

/// Has the kernel stamp each datagram with the time it was sent.
fn stamp_datagrams(socket: &std::os::unix::net::UnixDatagram) -> anyhow::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket fd and a c_int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMP,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        bail!("SO_TIMESTAMP: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// One datagram and the time the kernel stamped on it.
fn recv_stamped(
    socket: &std::os::unix::net::UnixDatagram,
    buf: &mut [u8],
) -> anyhow::Result<(usize, std::time::SystemTime)> {
    use std::os::fd::AsRawFd;
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut control = [0u64; 16];
    // SAFETY: a zeroed msghdr is valid; every pointer in it refers to a live local buffer.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: recvmsg writes only into the buffers msg points to.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut msg, 0) };
    if n < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: the CMSG_* macros walk the control buffer recvmsg filled, within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMP {
                let tv = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timeval>());
                let at = std::time::UNIX_EPOCH
                    + Duration::from_secs(tv.tv_sec as u64)
                    + Duration::from_micros(tv.tv_usec as u64);
                return Ok((n as usize, at));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    bail!("the datagram came without its SO_TIMESTAMP stamp")
}

/// A benchmarked pyrad: SIGTERM and reap on drop, so the next start is clean.
struct Running {
    child: std::process::Child,
    /// Armed only if the graceful stop fails.
    kill: PidGuard,
    /// When it was spawned (the wall clock, as the kernel's stamps are).
    spawned: std::time::SystemTime,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.kill.0 = Some(self.child.id());
        let _ = self.child.wait();
    }
}

/// Connects, greets and asks `daemon.status` once.
fn first_reply(socket: &Path) -> anyhow::Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let hello =
        br#"{"jsonrpc":"2.0","id":0,"method":"hello","params":{"protocol":"pyra","version":1,"client":"bench"}}"#;
    let status = br#"{"jsonrpc":"2.0","id":1,"method":"daemon.status"}"#;
    let mut lines = Vec::new();
    for line in [&hello[..], &status[..]] {
        lines.extend_from_slice(line);
        lines.push(b'\n');
    }
    stream.write_all(&lines)?;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while got.iter().filter(|b| **b == b'\n').count() < 2 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            bail!("pyrad closed the connection before answering daemon.status");
        }
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    if !text.lines().nth(1).is_some_and(|l| l.contains("\"result\"") && l.contains("\"pid\"")) {
        bail!("daemon.status was not answered: {text}");
    }
    Ok(())
}

fn round_trips(socket: &Path, hello: bool, request: &[u8]) -> anyhow::Result<Vec<Duration>> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut exchange = |stream: &mut UnixStream, line: &[u8]| -> anyhow::Result<()> {
        stream.write_all(line)?;
        stream.write_all(b"\n")?;
        let mut have = 0;
        loop {
            let n = stream.read(&mut buf[have..])?;
            if n == 0 {
                bail!("connection closed");
            }
            have += n;
            if buf[..have].ends_with(b"\n") {
                return Ok(());
            }
        }
    };
    if hello {
        exchange(
            &mut stream,
            br#"{"jsonrpc":"2.0","id":0,"method":"hello","params":{"protocol":"pyra","version":1,"client":"bench"}}"#,
        )?;
    }
    for _ in 0..WARMUP {
        exchange(&mut stream, request)?;
    }
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let t = Instant::now();
        exchange(&mut stream, request)?;
        times.push(t.elapsed());
    }
    Ok(times)
}

/// The floor: read a line, write it back, on the same socket type and runtime as pyrad.
fn echo_server(path: &Path) -> anyhow::Result<()> {
    use interprocess::local_socket::tokio::prelude::*;
    use interprocess::local_socket::{GenericFilePath, ListenerOptions};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let name = path.to_fs_name::<GenericFilePath>()?;
        let listener = ListenerOptions::new().name(name).create_tokio()?;
        loop {
            let stream = listener.accept().await?;
            tokio::spawn(async move {
                let (mut reader, mut writer) = tokio::io::split(stream);
                let mut buf = vec![0u8; 64 * 1024];
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    let n = match reader.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    // Echo whole lines only, as a line protocol must.
                    if let Some(end) = pending.iter().rposition(|&b| b == b'\n') {
                        if writer.write_all(&pending[..=end]).await.is_err() {
                            break;
                        }
                        pending.drain(..=end);
                    }
                }
            });
        }
    })
}

fn pin_to_one_cpu() -> anyhow::Result<()> {
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET and sched_setaffinity
    // only touch the set we own and this process's own affinity.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            bail!("sched_setaffinity: {}", std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Both bots in one pyrad, with the fast provider: the Telegram bot against the
/// fake Bot API, the Matrix bot against a real Synapse (an encrypted room). How
/// soon a message gets its first reply chunk, how soon an approval prompt shows,
/// and what the two connected bots cost at rest.
fn bot_rows(pyrad: &Path, scratch: &Path, rows: &mut Vec<(String, String, String)>) -> anyhow::Result<()> {
    use pyra_tests::matrix::{MatrixUser, Synapse};
    const ADA: i64 = 4242;
    let (url, _) = fast_provider()?;
    let telegram = pyra_tests::telegram::FakeTelegram::start();
    let synapse = Synapse::start();
    let bot = synapse.register("pyra", "bench-bot-pass");
    let ada_id = synapse.register("ada", "ada-pass-1");
    let home = scratch.join("bot-home");
    std::fs::create_dir_all(&home)?;
    let config = format!(
        "[bots]\nmessages_per_hour = 10000\n\n[bots.telegram]\nenabled = true\nallow = [{ADA}]\napi_url = \"{}\"\n\n\
         [bots.matrix]\nenabled = true\nhomeserver = \"{}\"\nuser = \"{bot}\"\nallow = [\"{ada_id}\"]\n",
        telegram.url(),
        synapse.url(),
    );
    std::fs::write(home.join("config.toml"), config)?;
    let env = [
        fake_provider(&url).as_slice(),
        // Released after 5 quiet seconds instead of 5 minutes, so the idle row is measured in seconds.
        &[("PYRA_SCANNER_IDLE_SECS", "5")],
    ]
    .concat();
    let (_, guard) = start_with(pyrad, &home, scratch, &env)?;
    let mut client = LineClient::connect(&home.join("run/pyrad.sock"))?;
    client.call("vault.set", serde_json::json!({"key": "bot:telegram:token", "value": telegram.token()}))?;
    client.call("vault.set", serde_json::json!({"key": "bot:matrix:password", "value": "bench-bot-pass"}))?;
    client.call("bots.reload", serde_json::json!({}))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = client.call("bots.status", serde_json::json!({}))?;
        if status["telegram"]["state"] == "connected" && status["matrix"]["state"] == "connected" {
            break;
        }
        if Instant::now() > deadline {
            bail!("the bots did not connect: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // Telegram: first reply chunk, then approval prompts (each denied at once).
    let wait_more = |before: usize, what: &str| -> anyhow::Result<()> {
        let t = Instant::now();
        while telegram.bot_messages(ADA).len() <= before {
            if t.elapsed() > Duration::from_secs(20) {
                bail!("no {what}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    };
    let mut times = Vec::new();
    for i in 0..60 {
        let before = telegram.bot_messages(ADA).len();
        let t = Instant::now();
        telegram.send_text(ADA, &format!("chunks:5 hi {i}"));
        wait_more(before, "reply")?;
        if i >= 10 {
            times.push(t.elapsed());
        }
        // The next message after this turn is done (its final edit sent).
        std::thread::sleep(Duration::from_millis(50));
    }
    rows.push((
        format!("telegram: inbound message to first reply chunk, p50 / p95 of {}", times.len()),
        format!("{} / {}", ms(percentile(&mut times, 50.0)), ms(percentile(&mut times, 95.0))),
        String::new(),
    ));
    let mut prompts = Vec::new();
    for i in 0..30 {
        let before = telegram.bot_messages(ADA).len();
        let t = Instant::now();
        telegram.send_text(ADA, &format!("tool:note {i}"));
        wait_more(before, "approval prompt")?;
        prompts.push(t.elapsed());
        let prompt = telegram.bot_messages(ADA).into_iter().last().context("the prompt")?;
        let data = prompt["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
            .as_str()
            .context("a Deny button")?
            .to_owned();
        let before = telegram.bot_messages(ADA).len();
        telegram.press(ADA, prompt["message_id"].as_i64().context("the prompt's id")?, &data);
        wait_more(before, "answer after the denial")?;
        std::thread::sleep(Duration::from_millis(50));
    }
    rows.push((
        format!("telegram: inbound message to approval prompt shown, p50 / p95 of {}", prompts.len()),
        format!("{} / {}", ms(percentile(&mut prompts, 50.0)), ms(percentile(&mut prompts, 95.0))),
        String::new(),
    ));

    // Matrix, in an encrypted room: the answer (the bot does not stream), then prompts.
    let ada = MatrixUser::login(&synapse, "ada", "ada-pass-1");
    let room = ada.create_room(&[&bot], true);
    ada.wait_joined(&room, &bot);
    let from_bot = |ada: &MatrixUser| -> Vec<pyra_tests::matrix::Seen> {
        ada.from(&room, &bot).into_iter().filter(|s| s.kind() == "m.room.message" && s.replaces().is_none()).collect()
    };
    let mut answers = Vec::new();
    for i in 0..40 {
        let before = from_bot(&ada).len();
        let t = Instant::now();
        ada.send_text(&room, &format!("chunks:5 hi {i}"));
        ada.wait_for(&room, Duration::from_secs(20), |_| from_bot(&ada).len() > before);
        if i >= 5 {
            answers.push(t.elapsed());
        }
    }
    rows.push((
        format!("matrix (encrypted room): inbound message to reply, p50 / p95 of {}", answers.len()),
        format!("{} / {}", ms(percentile(&mut answers, 50.0)), ms(percentile(&mut answers, 95.0))),
        String::new(),
    ));
    let mut prompts = Vec::new();
    for i in 0..30 {
        let before = from_bot(&ada).len();
        let t = Instant::now();
        ada.send_text(&room, &format!("tool:note {i}"));
        ada.wait_for(&room, Duration::from_secs(20), |_| from_bot(&ada).len() > before);
        prompts.push(t.elapsed());
        let prompt = from_bot(&ada).pop().context("the prompt")?;
        let code: String = prompt
            .body()
            .split("\"deny ")
            .nth(1)
            .unwrap_or_default()
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let before = from_bot(&ada).len();
        ada.send_text(&room, &format!("deny {code}"));
        ada.wait_for(&room, Duration::from_secs(20), |_| from_bot(&ada).len() > before);
    }
    rows.push((
        format!("matrix (encrypted room): inbound message to approval prompt shown, p50 / p95 of {}", prompts.len()),
        format!("{} / {}", ms(percentile(&mut prompts, 50.0)), ms(percentile(&mut prompts, 95.0))),
        String::new(),
    ));
    drop(ada);

    let pid = guard.child.id();
    std::thread::sleep(Duration::from_secs(1));
    rows.push((
        "pyrad RSS with both bots connected, right after that traffic (RssAnon)".into(),
        format!("{:.1} MiB ({:.1} MiB)", rss_mib(pid)?, status_kib(pid, "RssAnon:")? / 1024.0),
        String::new(),
    ));
    // Idle: the scanner's rules are released after the quiet spell.
    std::thread::sleep(Duration::from_secs(15));
    rows.push((
        "pyrad RSS with both bots connected, idle (RssAnon)".into(),
        format!("{:.1} MiB ({:.1} MiB)", rss_mib(pid)?, status_kib(pid, "RssAnon:")? / 1024.0),
        verdict(rss_mib(pid)? < 30.0, "< 30 MiB"),
    ));
    drop(guard);
    Ok(())
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/<pid>/status"))
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    Ok(status_kib(pid, "VmRSS:")? / 1024.0)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let index = ((p / 100.0) * (samples.len() as f64 - 1.0)).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn verdict(ok: bool, target: &str) -> String {
    format!("{target} {}", if ok { "(met)" } else { "(MISSED)" })
}

/// A connection that sends one request at a time and reads its one-line answer.
struct LineClient {
    stream: std::io::BufReader<UnixStream>,
    next: u64,
}

impl LineClient {
    fn connect(socket: &Path) -> anyhow::Result<Self> {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut client = Self { stream: std::io::BufReader::new(stream), next: 1 };
        client.call("hello", serde_json::json!({"protocol": "pyra", "version": 1, "client": "bench"}))?;
        Ok(client)
    }

    fn call(&mut self, method: &str, params: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        use std::io::BufRead;
        let id = self.next;
        self.next += 1;
        let line = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.stream.get_mut().write_all(line.as_bytes())?;
        self.stream.get_mut().write_all(b"\n")?;
        loop {
            let mut answer = String::new();
            if self.stream.read_line(&mut answer)? == 0 {
                bail!("pyrad closed the connection");
            }
            let msg: serde_json::Value = serde_json::from_str(&answer)?;
            if msg["id"] == id {
                if let Some(e) = msg.get("error") {
                    bail!("{method}: {e}");
                }
                return Ok(msg["result"].clone());
            }
        }
    }

    /// Verdicts of `texts`, in batches, and the time pyrad spent scanning.
    fn scan(&mut self, texts: &[String]) -> anyhow::Result<(Vec<serde_json::Value>, Duration)> {
        let mut verdicts = Vec::new();
        let mut spent = Duration::ZERO;
        for batch in texts.chunks(50) {
            let result = self.call("security.scan", serde_json::json!({"texts": batch}))?;
            spent += Duration::from_micros(result["elapsed_us"].as_u64().unwrap_or(0));
            verdicts.extend(result["verdicts"].as_array().cloned().unwrap_or_default());
        }
        Ok((verdicts, spent))
    }
}

/// The injection scanner on the labelled corpus (`tests/corpus/injection.jsonl`):
/// precision and recall per category and overall on the held-out split (and the
/// dev split the rules were tuned on), throughput, and the time a tool result's
/// scan adds to a turn.
fn scanner_rows(pyrad: &Path, scratch: &Path, rows: &mut Vec<(String, String, String)>) -> anyhow::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/injection.jsonl");
    let items: Vec<serde_json::Value> = std::fs::read_to_string(&corpus)
        .with_context(|| format!("while reading {}", corpus.display()))?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let home = scratch.join("scan-home");
    let (_, guard) = start(pyrad, &home, scratch)?;
    let mut client = LineClient::connect(&home.join("run/pyrad.sock"))?;
    let texts: Vec<String> = items.iter().map(|i| i["text"].as_str().unwrap_or_default().to_owned()).collect();
    let (verdicts, _) = client.scan(&texts)?;
    for split in ["heldout", "dev"] {
        let mut tp = 0;
        let mut fp = 0;
        let mut fn_ = 0;
        let mut by_cat: std::collections::BTreeMap<String, (u32, u32, u32, u32)> = Default::default();
        for (item, verdict) in items.iter().zip(&verdicts) {
            if item["split"] != split {
                continue;
            }
            let malicious = item["label"] == "malicious";
            let flagged = verdict["flagged"] == true;
            match (malicious, flagged) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => {}
            }
            let category = item["category"].as_str().unwrap_or("none").to_owned();
            if malicious {
                let e = by_cat.entry(category.clone()).or_default();
                e.0 += 1;
                e.1 += u32::from(flagged);
            }
            for c in verdict["categories"].as_array().into_iter().flatten().filter_map(|c| c.as_str()) {
                let e = by_cat.entry(c.to_owned()).or_default();
                e.2 += 1;
                e.3 += u32::from(malicious);
            }
        }
        let precision = f64::from(tp) / f64::from((tp + fp).max(1));
        let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
        let met = recall >= 0.9 && precision >= 0.95;
        let target = if split == "heldout" { verdict(met, "R >= 0.9 at P >= 0.95") } else { "(tuned on)".into() };
        rows.push((
            format!("scanner {split}: precision / recall ({} items)", count_split(&items, split)),
            format!("{precision:.3} / {recall:.3}"),
            target,
        ));
        if split == "heldout" {
            for (cat, (n, caught, said, right)) in by_cat {
                // Precision of a category: of the texts it was named for, how many were attacks at all.
                let p = f64::from(right) / f64::from(said.max(1));
                let r = f64::from(caught) / f64::from(n.max(1));
                rows.push((
                    format!("  heldout {cat}: precision / recall (n={n})"),
                    format!("{p:.3} / {r:.3}"),
                    String::new(),
                ));
            }
        }
    }
    // Throughput: the whole corpus, five times over, as pyrad's own scan time.
    let bytes: usize = texts.iter().map(String::len).sum::<usize>() * 5;
    let mut spent = Duration::ZERO;
    for _ in 0..5 {
        spent += client.scan(&texts)?.1;
    }
    rows.push((
        "scanner throughput (corpus x5, one CPU)".into(),
        format!("{:.1} MB/s", bytes as f64 / 1e6 / spent.as_secs_f64()),
        String::new(),
    ));
    // Added latency: one tool result the size the model sees (4000 characters of a page), scanned alone.
    let page: String = texts.iter().filter(|t| t.len() > 1500).flat_map(|t| t.chars()).take(4000).collect();
    let mut times = Vec::new();
    for _ in 0..300 {
        let (_, took) = client.scan(std::slice::from_ref(&page))?;
        times.push(took);
    }
    rows.push((
        "scan added per tool result (4000 chars), p50 / p99 of 300".into(),
        format!("{} / {}", us(percentile(&mut times, 50.0)), us(percentile(&mut times, 99.0))),
        String::new(),
    ));
    // The compiled rules and their caches stay: what the scanner costs a daemon that has used it.
    rows.push((
        "pyrad RSS after scanning the corpus".into(),
        format!("{:.1} MiB", rss_mib(guard.child.id())?),
        String::new(),
    ));
    drop(guard);
    Ok(())
}

fn count_split(items: &[serde_json::Value], split: &str) -> u32 {
    items.iter().filter(|i| i["split"] == split).count() as u32
}

/// Memory given back: RSS idle, at the peak of a 10 MB answer, and after it
/// drained (pyrad trims its heap once a large message is over).
fn memory_rows(pyrad: &Path, scratch: &Path, rows: &mut Vec<(String, String, String)>) -> anyhow::Result<()> {
    let (url, _) = fast_provider()?;
    let home = scratch.join("memory-home");
    let (_, guard) = start_with(pyrad, &home, scratch, &fake_provider(&url))?;
    let pid = guard.pid();
    let mut stream = hello(&home.join("run/pyrad.sock"))?;
    // Warm: the HTTP client, the store, a small turn's buffers.
    for i in 0..5 {
        chat_turn(&mut stream, 1 + i, "chunks:50 warm up")?;
    }
    std::thread::sleep(Duration::from_secs(3));
    let idle = rss_mib(pid)?;
    let idle_anon = status_kib(pid, "RssAnon:")? / 1024.0;
    let peak = Arc::new(Mutex::new(0.0f64));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                if let (Ok(rss), Ok(mut p)) = (rss_mib(pid), peak.lock()) {
                    *p = p.max(rss);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // A new session each time, so the next request does not carry 10 MB of history.
    let (deltas, _, ok) = chat_turn(&mut stream, 100, "big:10 a long answer")?;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    if !ok || deltas != 160 {
        bail!("the 10 MB answer did not come through ({deltas} deltas)");
    }
    if std::env::var_os("PYRA_BENCH_DEBUG").is_some() {
        for round in 0..3 {
            std::thread::sleep(Duration::from_secs(4));
            eprintln!("after round {round}: anon {:.1} MiB", status_kib(pid, "RssAnon:")? / 1024.0);
            chat_turn(&mut stream, 200 + round, "big:10 again")?;
        }
        std::thread::sleep(Duration::from_secs(4));
        eprintln!("after the last: anon {:.1} MiB", status_kib(pid, "RssAnon:")? / 1024.0);
    }
    let peak = *peak.lock().map_err(|_| anyhow::anyhow!("lock"))?;
    let mut after = rss_mib(pid)?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while after > idle + 2.0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        after = rss_mib(pid)?;
    }
    let after_anon = status_kib(pid, "RssAnon:")? / 1024.0;
    // Three more: what is kept must not grow with each one.
    let mut repeats = Vec::new();
    for round in 0..3 {
        chat_turn(&mut stream, 200 + round, "big:10 again")?;
        std::thread::sleep(Duration::from_secs(4));
        repeats.push(format!("{:.1}", status_kib(pid, "RssAnon:")? / 1024.0));
    }
    rows.push(("RSS idle, before a 10 MB answer".into(), format!("{idle:.1} MiB"), String::new()));
    rows.push((
        "RssAnon (heap) idle / after the 10 MB answer".into(),
        format!("{idle_anon:.1} / {after_anon:.1} MiB"),
        String::new(),
    ));
    rows.push(("RSS peak during the 10 MB answer".into(), format!("{peak:.1} MiB"), String::new()));
    rows.push(("RssAnon after three more (MiB)".into(), repeats.join(" / "), String::new()));
    rows.push((
        "RSS after it drained (idle again)".into(),
        format!("{after:.1} MiB"),
        verdict(after <= idle + 2.0, "within 2 MiB of idle"),
    ));
    drop(guard);
    Ok(())
}

/// The soak: `SOAK_CLIENTS` clients for `minutes`, each looping over a chat turn
/// with a tool call through a real MCP server (mcp-server-time), `daemon.status`,
/// a memory write, and a connection opened and dropped. RSS every minute, status
/// latency, errors.
fn soak_rows(
    pyrad: &Path,
    scratch: &Path,
    minutes: u64,
    rows: &mut Vec<(String, String, String)>,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = repo.join(".venv/bin/mcp-server-time");
    if !server.exists() {
        rows.push(("soak".into(), "skipped".into(), "run tests/setup.sh first".into()));
        return Ok(());
    }
    let (url, _) = fast_provider()?;
    let home = scratch.join("soak-home");
    let dir = home.join("plugins/time");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "name = \"time\"\nversion = \"1.0.0\"\ncommand = {:?}\nargs = [\"--local-timezone\", \"UTC\"]\n",
            server.display().to_string()
        ),
    )?;
    let (_, guard) = start_with(
        pyrad,
        &home,
        scratch,
        &[fake_provider(&url).as_slice(), &[("PYRA__APPROVAL__UNATTENDED_ALLOW", "[\"time__get_current_time\"]")]]
            .concat(),
    )?;
    let pid = guard.pid();
    let socket = home.join("run/pyrad.sock");
    let mut control = hello(&socket)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = rpc(&mut control, 1, "plugins.list", serde_json::json!({}))?;
        if list["result"]["plugins"][0]["state"] == "active" {
            break;
        }
        if Instant::now() > deadline {
            bail!("mcp-server-time did not become active: {list}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = Arc::new(AtomicBool::new(true));
    let errors = Arc::new(AtomicUsize::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let turns = Arc::new(AtomicUsize::new(0));
    let status_times = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let clients: Vec<_> = (0..SOAK_CLIENTS)
        .map(|c| {
            let (socket, running, errors, first_error, turns, status_times) = (
                socket.clone(),
                running.clone(),
                errors.clone(),
                first_error.clone(),
                turns.clone(),
                status_times.clone(),
            );
            std::thread::spawn(move || {
                let fail = |what: String| {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = first_error.lock() {
                        first.get_or_insert(what);
                    }
                };
                let Ok(mut stream) = hello(&socket) else {
                    fail("hello".into());
                    return;
                };
                let mut id = 10u64;
                let mut session: Option<String> = None;
                let mut i = 0u64;
                while running.load(Ordering::Relaxed) {
                    id += 1;
                    i += 1;
                    match i % 4 {
                        0 => {
                            // Ten turns a session, then a new one: history stays small.
                            let mut params = serde_json::json!({"text": format!("tool:time soak {c}"), "attended": false});
                            if let Some(s) = session.as_ref().filter(|_| !i.is_multiple_of(40)) {
                                params["session"] = serde_json::json!(s);
                            }
                            match chat_turn_full(&mut stream, id, params.clone()) {
                                Ok((_, _, response)) if response.get("result").is_some() => {
                                    turns.fetch_add(1, Ordering::Relaxed);
                                    session = response["result"]["session"].as_str().map(str::to_owned);
                                }
                                other => fail(format!("turn: {other:?}")),
                            }
                        }
                        1 => {
                            let t = Instant::now();
                            match rpc(&mut stream, id, "daemon.status", serde_json::json!({})) {
                                Ok(r) if r.get("result").is_some() => {
                                    if let Ok(mut times) = status_times.lock() {
                                        times.push(t.elapsed());
                                    }
                                }
                                other => fail(format!("status: {other:?}")),
                            }
                        }
                        2 => {
                            let params = serde_json::json!({"name": format!("context/soak-{c}.md"), "content": format!("# Soak {c}\nround {i}\n")});
                            match rpc(&mut stream, id, "memory.write", params) {
                                Ok(r) if r.get("result").is_some() => {}
                                other => fail(format!("memory.write: {other:?}")),
                            }
                        }
                        _ => match hello(&socket).and_then(|mut s| rpc(&mut s, 1, "daemon.status", serde_json::json!({}))) {
                            Ok(r) if r.get("result").is_some() => {}
                            other => fail(format!("connect: {other:?}")),
                        },
                    }
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    for _ in 0..minutes {
        std::thread::sleep(Duration::from_secs(60));
        samples.push(rss_mib(pid)?);
    }
    running.store(false, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    drop(guard);
    let mut times = status_times.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone();
    let p99 = percentile(&mut times, 99.0);
    let errors = errors.load(Ordering::Relaxed);
    let per_minute = samples.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(" → ");
    let growth = samples.last().copied().unwrap_or(0.0) - samples.first().copied().unwrap_or(0.0);
    rows.push((
        format!("soak {minutes} min, {SOAK_CLIENTS} clients: RSS each minute (MiB)"),
        per_minute,
        String::new(),
    ));
    rows.push((
        "soak: RSS growth after the first minute".into(),
        format!("{growth:+.1} MiB"),
        verdict(growth <= 0.5, "0 (±0.5 MiB)"),
    ));
    rows.push((format!("soak: daemon.status p99 of {}", times.len()), us(p99), String::new()));
    rows.push(("soak: chat turns with a tool call".into(), turns.load(Ordering::Relaxed).to_string(), String::new()));
    let first = first_error.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone().unwrap_or_default();
    rows.push(("soak: errors".into(), errors.to_string(), if errors == 0 { verdict(true, "0") } else { first }));
    Ok(())
}

fn print_table(rows: Vec<(String, String, String)>) {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    let vwidth = rows.iter().map(|r| r.1.len()).max().unwrap_or(10);
    println!("| {:width$} | {:>vwidth$} | target |", "metric", "value");
    println!("|{}|{}|--------|", "-".repeat(width + 2), "-".repeat(vwidth + 2));
    for (metric, value, target) in rows {
        println!("| {metric:width$} | {value:>vwidth$} | {target} |");
    }
}

/// `--soak-minutes N`, else [`SOAK_MINUTES`].
fn soak_minutes(args: &[String]) -> u64 {
    args.iter()
        .position(|a| a == "--soak-minutes")
        .and_then(|i| args.get(i + 1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(SOAK_MINUTES)
}
