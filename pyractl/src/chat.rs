//! `pyractl chat`: the terminal conversation. Line editing and history
//! (rustyline, `$PYRA_HOME/chat_history`), answers streamed as rendered Markdown
//! on a terminal and as plain text when piped, approvals asked inline, Ctrl-C
//! cancels the running turn (not the client), slash commands.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use proto::ipc::{
    ChatSendParams, DaemonStatus, Empty, ListParams, MemoryList, PluginsPrompt, PluginsPrompts, PluginsResource,
    PluginsResources, PromptParams, ResourceParams, SessionParams, SessionsGet, SessionsList,
};
use rustyline::error::ReadlineError;

use crate::client::{Client, ClientError};
use crate::paths::Paths;
use crate::render;
use crate::turn::{self, Approver};

const HELP: &str = "\
/help              this list
/new               start a new conversation
/sessions          recent conversations
/resume <id>       continue a conversation
/model             the provider and model in use
/memory            your memory files
/prompts           the plugins' prompts; run one as /<plugin>:<prompt> [arg=value ...]
/resources         the plugins' resources
/attach <plugin> <uri>  add a resource to your next message
/quit              leave (Ctrl-D too)
Ctrl-C during an answer cancels it.";

/// Streams deltas to stdout: whole lines rendered as Markdown on a terminal.
struct Printer {
    markdown: bool,
    pending: String,
    in_fence: bool,
}

impl Printer {
    fn push(&mut self, text: &str) {
        let mut out = std::io::stdout();
        if !self.markdown {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            return;
        }
        self.pending.push_str(text);
        while let Some(nl) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=nl).collect();
            let _ = writeln!(out, "{}", render::markdown_line(line.trim_end_matches('\n'), &mut self.in_fence));
        }
        let _ = out.flush();
    }

    fn finish(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            println!("{}", render::markdown_line(&line, &mut self.in_fence));
        } else if !self.markdown {
            println!();
        }
    }
}

pub fn run(paths: &Paths, resume: Option<String>) -> anyhow::Result<()> {
    let mut client = Client::connect(&paths.socket)?;
    let interrupt = Arc::new(AtomicBool::new(false));
    // Ctrl-C while an answer streams sets the flag; at the prompt rustyline reads it as a key.
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone())?;
    let approver = Approver::for_this_process();
    let markdown = std::io::stdout().is_terminal();
    let interactive = std::io::stdin().is_terminal();

    let mut editor = rustyline::DefaultEditor::new()?;
    let history = paths.home.join("chat_history");
    let _ = editor.load_history(&history);
    let mut session = resume;
    // Resources attached with /attach, sent with the next message.
    let mut attached: Vec<String> = Vec::new();
    if interactive {
        println!("Pyra chat. /help for commands, Ctrl-D to leave.");
    }
    loop {
        let line = match editor.readline(if interactive { "you> " } else { "" }) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(text);
        let mut text = text.to_owned();
        if let Some(command) = text.strip_prefix('/').map(str::to_owned) {
            match slash(&mut client, &command, &mut session, &mut attached) {
                Ok(Slash::Done) => continue,
                Ok(Slash::Quit) => break,
                // A plugin prompt: its text is sent as the message.
                Ok(Slash::Send(prompt)) => text = prompt,
                Err(e) => {
                    eprintln!("{e}");
                    continue;
                }
            }
        }
        if !attached.is_empty() {
            text = format!("{}\n\n{text}", attached.join("\n\n"));
            attached.clear();
        }
        interrupt.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut printer = Printer { markdown, pending: String::new(), in_fence: false };
        let params = ChatSendParams { session: session.clone(), text, attended: Some(approver.attended()) };
        match turn::run(&mut client, &params, &approver, Some(&interrupt), |d| printer.push(d)) {
            Ok(result) => {
                printer.finish();
                session = Some(result.session);
            }
            Err(ClientError::Rpc(e)) => {
                printer.finish();
                if let Some(s) = e.data.as_ref().and_then(|d| d.get("session")).and_then(|s| s.as_str()) {
                    session = Some(s.to_owned());
                }
                let what = if e.code == proto::rpc::CANCELLED { "cancelled".to_owned() } else { e.message };
                eprintln!("[{what}]");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let _ = editor.save_history(&history);
    Ok(())
}

/// What a slash command asks the REPL to do next.
enum Slash {
    Done,
    Quit,
    /// Send this text as the user's message.
    Send(String),
}

/// Runs a slash command.
fn slash(
    client: &mut Client,
    command: &str,
    session: &mut Option<String>,
    attached: &mut Vec<String>,
) -> Result<Slash, ClientError> {
    let (name, arg) = command.split_once(' ').map_or((command, ""), |(n, a)| (n, a.trim()));
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
        "help" => println!("{HELP}"),
        "quit" | "exit" => return Ok(Slash::Quit),
        "prompts" => {
            for p in client.call::<PluginsPrompts>(&Empty)? {
                let args: Vec<String> = p
                    .arguments
                    .iter()
                    .map(|(a, required)| if *required { format!("{a}=") } else { format!("[{a}=]") })
                    .collect();
                println!("/{}:{} {}  {}", p.plugin, p.name, args.join(" "), p.description);
            }
        }
        "resources" => {
            for r in client.call::<PluginsResources>(&Empty)? {
                println!("{} {}  {}", r.plugin, r.uri, r.name);
            }
        }
        "attach" => {
            let Some((plugin, uri)) = arg.split_once(' ') else {
                println!("usage: /attach <plugin> <uri> (see /resources)");
                return Ok(Slash::Done);
            };
            let text = client
                .call::<PluginsResource>(&ResourceParams { plugin: plugin.to_owned(), uri: uri.trim().to_owned() })?
                .text;
            println!("attached {uri} ({} characters) to your next message", text.chars().count());
            attached.push(format!("Attached resource {uri}:\n```\n{text}\n```"));
        }
        "new" => {
            *session = None;
            println!("new conversation");
        }
        "sessions" => {
            for s in client.call::<SessionsList>(&ListParams { limit: Some(15) })? {
                let mark = if session.as_deref() == Some(s.id.as_str()) { "*" } else { " " };
                println!("{mark} {}  {:>3} msgs  {}", s.id, s.messages, s.title);
            }
        }
        "resume" if !arg.is_empty() => {
            let detail = client.call::<SessionsGet>(&SessionParams { session: arg.to_owned() })?;
            *session = Some(detail.session.id.clone());
            println!("resumed {} ({} messages): {}", detail.session.id, detail.session.messages, detail.session.title);
        }
        "model" => {
            let status = client.call::<DaemonStatus>(&Empty)?;
            match status.provider {
                Some(p) => println!("{p}"),
                None => println!("provider and model are set in config.toml [provider]; see `pyractl setup`"),
            }
        }
        "memory" => {
            for e in client.call::<MemoryList>(&Empty)? {
                println!("{:>8}  {}", e.bytes, e.name);
            }
        }
        other => println!("unknown command /{other}; /help lists them"),
    }
    Ok(Slash::Done)
}
