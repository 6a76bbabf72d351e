//! `pyractl chat`: the terminal conversation. Line editing and history
//! (rustyline, `$PYRA_HOME/chat_history`), Alt-Enter or a trailing `\` for a new
//! line, answers streamed as rendered Markdown on a terminal and as plain text
//! when piped, a waiting indicator before the first word, one line per tool call,
//! approvals asked inline with a live countdown, Ctrl-C cancels the running turn
//! (not the client), slash commands. When pyrad goes away the message is kept and
//! the chat reconnects when pyrad is back.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use proto::ipc::{
    ChatSendParams, ChatSendResult, DaemonStatus, Empty, ListParams, MemoryList, PluginsPrompt, PluginsPrompts,
    PluginsResource, PluginsResources, PromptParams, ProviderModels, ResourceParams, Role, SessionDetail,
    SessionParams, SessionsGet, SessionsList, SessionsUndo, TokenUsage, ToolEventParams, ToolStatus,
};
use rustyline::error::ReadlineError;

use crate::client::{Client, ClientError};
use crate::paths::Paths;
use crate::render;
use crate::turn::{self, Approver, View};

const HELP: &str = "\
/help              this list
/new               start a new conversation
/sessions          recent conversations
/resume <id>       continue a conversation (the start of its id is enough)
/model [name]      the model in use; with a name, use that one in this chat
/models            the models the provider offers
/status            pyrad, the provider, and this conversation's tokens
/retry             ask the last question again (its answer is taken out)
/undo              take the last question and answer out of the conversation
/tools             the last answer's tool calls with their whole results
/memory            your memory files
/prompts           the plugins' prompts; run one as /<plugin>:<prompt> [arg=value ...]
/resources         the plugins' resources
/attach <plugin> <uri>  add a resource to your next message
/quit              leave (Ctrl-D too)
Alt-Enter or Ctrl-J (or a line ending in \\) starts a new line; Enter sends.
Ctrl-C during an answer cancels it; at an approval prompt it denies and cancels.";

/// Streams a turn to the terminal (or to a pipe, plainly).
struct ChatView {
    /// stdout is a terminal: Markdown, colours, the indicator, the running line.
    terminal: bool,
    pending: String,
    in_fence: bool,
    /// Rows of a Markdown table, shown when it ends.
    table: Vec<String>,
    /// The waiting indicator is on screen.
    spinner: bool,
    /// A "running" line for a tool call is on screen.
    running: bool,
    /// What the model is, for the indicator.
    model: String,
    /// The turn's tool calls and their results, for `/tools`.
    tools: Vec<ToolEventParams>,
    /// Piped: text went out without its end of line yet.
    open_line: bool,
    /// Something of the turn arrived from pyrad (so it got the message).
    heard: bool,
}

impl ChatView {
    fn new(terminal: bool, model: String) -> Self {
        Self {
            terminal,
            pending: String::new(),
            in_fence: false,
            table: Vec::new(),
            spinner: false,
            running: false,
            model,
            tools: Vec::new(),
            open_line: false,
            heard: false,
        }
    }

    /// Takes any indicator or running line off the screen.
    fn clear_status(&mut self) {
        if self.spinner || self.running {
            print!("\r\x1b[2K");
            self.spinner = false;
            self.running = false;
        }
    }

    fn line(&mut self, line: &str) {
        let mut out = std::io::stdout();
        self.open_line = false;
        if self.terminal && !self.in_fence && render::is_table_row(line) {
            self.table.push(line.to_owned());
            return;
        }
        self.flush_table();
        let shown = if self.terminal { render::markdown_line(line, &mut self.in_fence) } else { line.to_owned() };
        let _ = writeln!(out, "{shown}");
    }

    fn flush_table(&mut self) {
        if !self.table.is_empty() {
            print!("{}", render::markdown_table(&self.table, self.terminal));
            self.table.clear();
        }
    }

    /// Ends the answer: the last partial line, a pending table.
    fn finish(&mut self) {
        self.clear_status();
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line);
        }
        self.flush_table();
        if self.open_line {
            println!();
            self.open_line = false;
        }
        let _ = std::io::stdout().flush();
    }
}

impl View for ChatView {
    fn delta(&mut self, text: &str) {
        self.heard = true;
        self.clear_status();
        self.pending.push_str(text);
        while let Some(nl) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=nl).collect();
            self.line(line.trim_end_matches('\n'));
        }
        if !self.terminal && !self.pending.is_empty() {
            // Piped: the text as it comes, not held for its line.
            let piece = std::mem::take(&mut self.pending);
            print!("{piece}");
            self.open_line = true;
        }
        let _ = std::io::stdout().flush();
    }

    fn tool(&mut self, t: &ToolEventParams) {
        self.heard = true;
        self.finish();
        match t.status {
            ToolStatus::Running if self.terminal => {
                print!("\x1b[2m\u{2699} {} running\u{2026}\x1b[0m", turn::call_line(&t.name, &t.args));
                self.running = true;
            }
            ToolStatus::Done | ToolStatus::Failed | ToolStatus::Denied => {
                if let Some(line) = turn::tool_summary(t, self.terminal) {
                    println!("{line}");
                }
                self.tools.push(t.clone());
            }
            _ => {}
        }
        let _ = std::io::stdout().flush();
    }

    fn note(&mut self, line: &str) {
        self.heard = true;
        self.finish();
        eprintln!("{line}");
    }

    fn waiting(&mut self, waited: Duration) {
        if !self.terminal || waited < Duration::from_millis(200) {
            return;
        }
        const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        let frame = FRAMES[(waited.as_millis() / 100) as usize % FRAMES.len()];
        print!(
            "\r\x1b[2K\x1b[2m{frame} waiting for {} \u{b7} {:.1}s (Ctrl-C cancels)\x1b[0m",
            self.model,
            waited.as_secs_f64()
        );
        let _ = std::io::stdout().flush();
        self.spinner = true;
    }

    fn pause(&mut self) {
        self.heard = true;
        self.finish();
    }
}

/// The conversation's state between messages.
struct Chat {
    client: Client,
    paths: Paths,
    session: Option<String>,
    /// `/model NAME`: the model this chat asks for (absent: the configured one).
    model: Option<String>,
    /// Resources attached with /attach, sent with the next message.
    attached: Vec<String>,
    /// The last turn's tool calls, for `/tools`.
    tools: Vec<ToolEventParams>,
    /// Tokens this chat's turns used.
    usage: TokenUsage,
    terminal: bool,
}

pub fn run(paths: &Paths, resume: Option<String>) -> anyhow::Result<()> {
    let mut client = Client::connect(&paths.socket)?;
    // A session that does not exist is said now, before anything is typed.
    let resumed = match &resume {
        Some(id) => Some(client.call::<SessionsGet>(&SessionParams { session: id.clone() })?),
        None => None,
    };
    let interrupt = Arc::new(AtomicBool::new(false));
    // Ctrl-C while an answer streams sets the flag; at the prompt rustyline reads it as a key.
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone())?;
    let approver = Approver::for_this_process();
    let terminal = std::io::stdout().is_terminal();
    let interactive = std::io::stdin().is_terminal();

    let mut editor = rustyline::DefaultEditor::new()?;
    // Alt-Enter (Esc then Enter in most terminals) starts a new line in the message.
    editor.bind_sequence(
        rustyline::KeyEvent(rustyline::KeyCode::Enter, rustyline::Modifiers::ALT),
        rustyline::Cmd::Newline,
    );
    // Ctrl-J too: one byte, for terminals that send Alt-Enter as two keys too slowly.
    editor.bind_sequence(rustyline::KeyEvent::ctrl('J'), rustyline::Cmd::Newline);
    let history = paths.home.join("chat_history");
    let _ = editor.load_history(&history);
    let mut chat = Chat {
        client,
        paths: paths.clone(),
        session: None,
        model: None,
        attached: Vec::new(),
        tools: Vec::new(),
        usage: TokenUsage::default(),
        terminal,
    };
    if interactive {
        println!("Pyra chat. /help for commands, Alt-Enter for a new line, Ctrl-D to leave.");
    }
    if let Some(detail) = resumed {
        chat.session = Some(detail.session.id.clone());
        println!("{}", recap(&detail));
    }
    // A message that could not be sent is offered again, as it was typed.
    let mut unsent: Option<String> = None;
    loop {
        let prompt = if interactive { "you> " } else { "" };
        // Keys an approval prompt set aside come first; rustyline then reads what
        // was typed after them, still pending on the terminal.
        let typed_ahead = crate::prompt::take_typed_ahead();
        let initial = match unsent.take() {
            Some(text) => Some(text + &typed_ahead),
            None if !typed_ahead.is_empty() => Some(typed_ahead),
            None => None,
        };
        let read = match initial {
            Some(text) => editor.readline_with_initial(prompt, (&text, "")),
            None => editor.readline(prompt),
        };
        // From Enter to the next prompt, keys typed are held for it, unechoed.
        let _held = interactive.then(crate::prompt::TypeAhead::hold);
        let line = match read {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let mut line = line;
        // A line ending in a backslash goes on on the next line.
        while line.ends_with('\\') {
            line.pop();
            line.push('\n');
            match editor.readline(if interactive { "...> " } else { "" }) {
                Ok(more) => line.push_str(&more),
                Err(_) => break,
            }
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(text);
        let mut text = text.to_owned();
        if let Some(command) = text.strip_prefix('/').map(str::to_owned) {
            match chat.slash(&command) {
                Ok(Slash::Done) => continue,
                Ok(Slash::Quit) => break,
                // A plugin prompt or /retry: this text is sent as the message.
                Ok(Slash::Send(prompt)) => text = prompt,
                Err(e) => {
                    if is_gone(&e) {
                        // Back or not, the chat goes on; the command can be typed again.
                        let _ = chat.reconnect(&e);
                    } else {
                        eprintln!("{e}");
                    }
                    continue;
                }
            }
        }
        if !chat.attached.is_empty() {
            text = format!("{}\n\n{text}", chat.attached.join("\n\n"));
            chat.attached.clear();
        }
        if let Err(kept) = chat.send(&text, &approver, &interrupt) {
            unsent = Some(kept);
        }
    }
    let _ = editor.save_history(&history);
    Ok(())
}

/// Whether an error means pyrad is gone (the connection, not the request, failed).
fn is_gone(e: &ClientError) -> bool {
    matches!(e, ClientError::Io(_) | ClientError::NotRunning { .. })
}

/// A resumed conversation in one line: its size, model and last exchange.
fn recap(detail: &SessionDetail) -> String {
    let s = &detail.session;
    let last = |role: Role| {
        detail.messages.iter().rev().find(|m| m.role == role && !m.content.trim().is_empty()).map(|m| m.content.clone())
    };
    let mut line = format!(
        "Resumed {} \u{b7} {} messages \u{b7} {}/{} \u{b7} {}",
        s.id,
        s.messages,
        s.provider,
        s.model,
        render::usage(&s.usage)
    );
    if let Some(q) = last(Role::User) {
        line.push_str(&format!("\n  last: you: {}", turn::first_line(&q, 70)));
    }
    if let Some(a) = last(Role::Assistant) {
        line.push_str(&format!("\n        pyra: {}", turn::first_line(&a, 70)));
    }
    line
}

/// What a slash command asks the REPL to do next.
enum Slash {
    Done,
    Quit,
    /// Send this text as the user's message.
    Send(String),
}

impl Chat {
    /// Sends `text` as one turn. When pyrad went away before the turn started,
    /// waits for it to come back and sends again; if it does not come back, the
    /// text is returned to be offered again.
    fn send(&mut self, text: &str, approver: &Approver, interrupt: &AtomicBool) -> Result<(), String> {
        interrupt.store(false, std::sync::atomic::Ordering::SeqCst);
        let model = self.model.clone().unwrap_or_else(|| self.configured_model());
        let mut view = ChatView::new(self.terminal, model);
        let params = ChatSendParams {
            session: self.session.clone(),
            text: text.to_owned(),
            attended: Some(approver.attended()),
            model: self.model.clone(),
        };
        let outcome = turn::run(&mut self.client, &params, approver, Some(interrupt), &mut view);
        view.finish();
        // pyrad had the message once anything of its turn came back: then it is
        // in the conversation already and is not sent twice.
        let started = view.heard;
        self.tools = std::mem::take(&mut view.tools);
        match outcome {
            Ok(result) => {
                self.answered(&result);
                Ok(())
            }
            Err(ClientError::Rpc(e)) => {
                if let Some(s) = e.data.as_ref().and_then(|d| d.get("session")).and_then(|s| s.as_str()) {
                    self.session = Some(s.to_owned());
                }
                let what = if e.code == proto::rpc::CANCELLED { "cancelled".to_owned() } else { e.message };
                eprintln!("[{what}]");
                if self.terminal {
                    println!();
                }
                Ok(())
            }
            Err(e) if is_gone(&e) => {
                let back = self.reconnect(&e).is_ok();
                if back && !started {
                    eprintln!("sending your message again");
                    return self.send(text, approver, interrupt);
                }
                if back {
                    eprintln!("[pyrad stopped during the answer; what came is kept in the conversation]");
                    return Ok(());
                }
                Err(text.to_owned())
            }
            Err(e) => {
                eprintln!("[{e}]");
                Err(text.to_owned())
            }
        }
    }

    /// After an answer: the session, the tokens, a blank line before the next prompt.
    fn answered(&mut self, result: &ChatSendResult) {
        self.session = Some(result.session.clone());
        render::add_usage(&mut self.usage, &result.usage);
        if self.terminal {
            let tokens = result.usage.input_tokens + result.usage.output_tokens;
            if tokens > 0 {
                println!("\x1b[2m{}\x1b[0m", render::usage(&result.usage));
            }
            println!();
        }
    }

    /// The model pyrad uses without `/model`, for the waiting indicator.
    fn configured_model(&mut self) -> String {
        match self.client.call::<DaemonStatus>(&Empty) {
            Ok(s) => s
                .provider
                .and_then(|p| p.get("model").and_then(|m| m.as_str()).map(str::to_owned))
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "the model".to_owned()),
            Err(_) => "the model".to_owned(),
        }
    }

    /// pyrad went away: say why, and wait up to 30 s for it to come back (Ctrl-C
    /// stops waiting). The caller keeps the message.
    fn reconnect(&mut self, why: &ClientError) -> Result<(), ClientError> {
        eprintln!("[lost pyrad: {why}]");
        eprintln!("waiting for pyrad to come back (up to 30 s; Ctrl-C stops waiting)...");
        let deadline = Instant::now() + Duration::from_secs(30);
        let stop = Arc::new(AtomicBool::new(false));
        let hook = signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone()).ok();
        let result = loop {
            match Client::connect(&self.paths.socket) {
                Ok(client) => {
                    self.client = client;
                    eprintln!("reconnected to pyrad (pid {})", self.client.hello.pid);
                    break Ok(());
                }
                Err(e) if Instant::now() > deadline || stop.load(std::sync::atomic::Ordering::SeqCst) => {
                    eprintln!(
                        "pyrad is not back; start it with `pyractl daemon start`. Your message is kept: \
                         it is on the next prompt, press Enter to send it."
                    );
                    break Err(e);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        };
        if let Some(id) = hook {
            signal_hook::low_level::unregister(id);
        }
        result
    }

    /// Runs a slash command.
    fn slash(&mut self, command: &str) -> Result<Slash, ClientError> {
        let (name, arg) = command.split_once(char::is_whitespace).map_or((command, ""), |(n, a)| (n, a.trim()));
        let client = &mut self.client;
        if let Some((plugin, prompt)) = name.split_once(':') {
            let arguments = arg
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let params = PromptParams { plugin: plugin.to_owned(), name: prompt.to_owned(), arguments };
            return Ok(Slash::Send(client.call::<PluginsPrompt>(&params)?.text));
        }
        match name {
            "help" | "?" => println!("{HELP}"),
            "quit" | "exit" => return Ok(Slash::Quit),
            "prompts" => {
                let prompts = client.call::<PluginsPrompts>(&Empty)?;
                if prompts.is_empty() {
                    println!("no plugin offers prompts (`pyractl plugin list` shows the plugins)");
                }
                for p in prompts {
                    let args: Vec<String> = p
                        .arguments
                        .iter()
                        .map(|(a, required)| if *required { format!("{a}=") } else { format!("[{a}=]") })
                        .collect();
                    println!("/{}:{} {}  {}", p.plugin, p.name, args.join(" "), p.description);
                }
            }
            "resources" => {
                let resources = client.call::<PluginsResources>(&Empty)?;
                if resources.is_empty() {
                    println!("no plugin offers resources (`pyractl plugin list` shows the plugins)");
                }
                for r in resources {
                    println!("{} {}  {}", r.plugin, r.uri, r.name);
                }
            }
            "attach" => {
                let Some((plugin, uri)) = arg.split_once(' ') else {
                    println!("usage: /attach <plugin> <uri> (see /resources)");
                    return Ok(Slash::Done);
                };
                let params = ResourceParams { plugin: plugin.to_owned(), uri: uri.trim().to_owned() };
                let text = client.call::<PluginsResource>(&params)?.text;
                println!("attached {uri} ({} characters) to your next message", text.chars().count());
                self.attached.push(format!("Attached resource {uri}:\n```\n{text}\n```"));
            }
            "new" => {
                self.session = None;
                self.usage = TokenUsage::default();
                println!("new conversation");
            }
            "sessions" => {
                let sessions = client.call::<SessionsList>(&ListParams { limit: Some(15) })?;
                if sessions.is_empty() {
                    println!("no conversations yet");
                }
                for s in sessions {
                    let mark = if self.session.as_deref() == Some(s.id.as_str()) { "*" } else { " " };
                    println!(
                        "{mark} {}  {:<16}  {:>3} msgs  {}",
                        s.id,
                        render::local_time(s.updated_at),
                        s.messages,
                        s.title
                    );
                }
            }
            "resume" if arg.is_empty() => {
                println!("usage: /resume <id> (the start of it is enough; /sessions lists them)")
            }
            "resume" => {
                let detail = client.call::<SessionsGet>(&SessionParams { session: arg.to_owned() })?;
                self.session = Some(detail.session.id.clone());
                println!("{}", recap(&detail));
            }
            "model" if arg.is_empty() => {
                let status = client.call::<DaemonStatus>(&Empty)?;
                let configured = status.provider.as_ref().map(render::provider);
                match (&self.model, configured) {
                    (Some(m), Some(p)) => {
                        println!("model {m} in this chat (configured: {p}); `/model default` goes back")
                    }
                    (None, Some(p)) => println!("{p}; `/model NAME` switches, /models lists them"),
                    (_, None) => println!("no provider is configured; run `pyractl setup`"),
                }
            }
            "model" if arg == "default" => {
                self.model = None;
                println!("back to the configured model");
            }
            "model" => {
                // Checked against the provider's list where it has one; a model it
                // does not list is still allowed (some servers list nothing).
                match client.call::<ProviderModels>(&Empty) {
                    Ok(list) if !list.models.is_empty() && !list.models.iter().any(|m| m == arg) => {
                        println!(
                            "{} does not list {arg:?}; it offers: {}. Using it anyway.",
                            list.preset,
                            list.models.join(", ")
                        );
                    }
                    _ => {}
                }
                self.model = Some(arg.to_owned());
                println!("model {arg} for the rest of this chat");
            }
            "models" => match client.call::<ProviderModels>(&Empty) {
                Ok(list) if list.models.is_empty() => println!("{} lists no models", list.preset),
                Ok(list) => {
                    let current = self.model.clone().unwrap_or(list.current);
                    for m in list.models {
                        println!("{} {m}", if m == current { "*" } else { " " });
                    }
                }
                Err(ClientError::Rpc(e)) => println!("cannot list the models: {}", e.message),
                Err(e) => return Err(e),
            },
            "status" => {
                let status = client.call::<DaemonStatus>(&Empty)?;
                println!("{}", render::status(&status));
                match &self.session {
                    Some(id) => {
                        let detail = client.call::<SessionsGet>(&SessionParams { session: id.clone() })?;
                        println!(
                            "  this chat   {} \u{b7} {} messages \u{b7} {} in all, {} in this chat{}",
                            id,
                            detail.session.messages,
                            render::usage(&detail.session.usage),
                            render::usage(&self.usage),
                            self.model.as_ref().map(|m| format!(" \u{b7} model {m}")).unwrap_or_default()
                        );
                    }
                    None => println!("  this chat   nothing said yet"),
                }
            }
            "undo" | "retry" => {
                let Some(id) = self.session.clone() else {
                    println!("nothing to {name} yet");
                    return Ok(Slash::Done);
                };
                let undone = match client.call::<SessionsUndo>(&SessionParams { session: id }) {
                    Ok(undone) => undone,
                    Err(ClientError::Rpc(e)) => {
                        println!("{}", e.message);
                        return Ok(Slash::Done);
                    }
                    Err(e) => return Err(e),
                };
                if name == "retry" {
                    println!("asking again: {}", turn::first_line(&undone.text, 70));
                    return Ok(Slash::Send(undone.text));
                }
                println!(
                    "took out your last question and its answer (turn {}, {} messages): {}\n\
                     (kept in the store, marked undone; the model no longer sees it)",
                    undone.turn,
                    undone.messages,
                    turn::first_line(&undone.text, 60)
                );
            }
            "tools" => {
                if self.tools.is_empty() {
                    println!("the last answer used no tools");
                }
                for t in &self.tools {
                    if let Some(line) = turn::tool_summary(t, self.terminal) {
                        println!("{}", line.lines().next().unwrap_or_default());
                    }
                    println!("{}\n", t.result.as_deref().unwrap_or("(no result)"));
                }
            }
            "memory" => {
                let files = client.call::<MemoryList>(&Empty)?;
                if files.is_empty() {
                    println!("no memory files yet; ask Pyra to remember something");
                }
                for e in files {
                    println!("{:>8}  {}", e.bytes, e.name);
                }
            }
            other => println!("unknown command /{other}; /help lists them"),
        }
        Ok(Slash::Done)
    }
}
