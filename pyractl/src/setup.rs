//! `pyractl setup`: choose the provider, its base URL, key and model, checking
//! each answer as it is given; write `[provider]` (comments kept), have pyrad
//! reload it live (start pyrad when it is not running; never restart it), and end
//! with one cheap test call that says exactly what failed. A failed check exits 1
//! and keeps the config, so one thing can be fixed and setup run again.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, bail};
use proto::ipc::{Empty, ProviderCheck, ProviderModels, VaultSet, VaultSetParams};

use crate::client::{Client, ClientError};
use crate::paths::Paths;
use crate::presets::{self, Preset};

/// What `[provider]` says now, offered as the defaults on a re-run.
struct Current {
    preset: String,
    model: String,
    base_url: String,
}

impl Current {
    fn read(paths: &Paths) -> Self {
        let get = |key: &str| {
            crate::paths::config_value(&paths.home, "provider", key)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        Current { preset: get("preset"), model: get("model"), base_url: get("base_url") }
    }
}

/// Why an answer cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("unknown provider {0:?}; one of: {1}")]
    UnknownProvider(String, String),
    #[error("{0} needs a base URL (the address of any OpenAI-compatible API, such as http://127.0.0.1:8080/v1)")]
    NoBaseUrl(&'static str),
    #[error("{0:?} has no http:// or https://; write the whole address, such as http://{0}")]
    NoScheme(String),
    #[error("{0:?} is not a URL with a host: {1}")]
    BadUrl(String, String),
    #[error("nothing answers at {0} ({1}); is the server running?")]
    Unreachable(String, String),
    #[error("a model is needed: this provider has no default (pick one of those it offers)")]
    NoModel,
}

fn preset_ids() -> String {
    presets::PRESETS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}

fn find_preset(id: &str) -> Result<&'static Preset, SetupError> {
    presets::find(id).ok_or_else(|| SetupError::UnknownProvider(id.to_owned(), preset_ids()))
}

/// Checks a base URL as given: a scheme, a host, and something listening there.
pub fn check_base_url(url: &str) -> Result<(), SetupError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| SetupError::NoScheme(url.to_owned()))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if authority.is_empty() {
        return Err(SetupError::BadUrl(url.to_owned(), "no host".into()));
    }
    let default_port = if url.starts_with("https://") { 443 } else { 80 };
    let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        && !authority.ends_with(']');
    let target = if has_port { authority.to_owned() } else { format!("{authority}:{default_port}") };
    let addrs: Vec<_> = target
        .to_socket_addrs()
        .map_err(|e| SetupError::BadUrl(url.to_owned(), format!("cannot resolve {authority}: {e}")))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(SetupError::Unreachable(target, last))
}

/// Asks `question` on the terminal until `check` accepts the answer (or stdin ends).
fn ask_until<T>(question: &str, mut check: impl FnMut(&str) -> Result<T, SetupError>) -> anyhow::Result<T> {
    loop {
        eprint!("{question}");
        std::io::stderr().flush()?;
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            bail!("setup stopped: no answer");
        }
        match check(line.trim()) {
            Ok(value) => return Ok(value),
            Err(e) => eprintln!("  {e}"),
        }
    }
}

/// `[default]` in a question, when there is one.
fn default_hint(value: &str) -> String {
    if value.is_empty() { String::new() } else { format!(" [{value}]") }
}

pub fn setup(
    paths: &Paths,
    provider: Option<String>,
    model: Option<String>,
    base_url: Option<String>,
    api_key_stdin: bool,
) -> anyhow::Result<()> {
    let interactive = provider.is_none();
    let current = Current::read(paths);
    // 1. The provider.
    let preset = match provider {
        Some(id) => find_preset(&id)?,
        None => {
            eprintln!("Providers: {}", preset_ids());
            let default = current.preset.clone();
            ask_until(&format!("Provider{}: ", default_hint(&default)), |answer| {
                find_preset(if answer.is_empty() { &default } else { answer })
            })?
        }
    };
    let same_preset = preset.id == current.preset;
    // 2. Where it is: checked now, not at the first question.
    let base_url = match base_url {
        Some(url) => {
            let url = url.trim().trim_end_matches('/').to_owned();
            if url.is_empty() && preset.base_url.is_empty() {
                return Err(SetupError::NoBaseUrl(preset.id).into());
            }
            if !url.is_empty() {
                check_base_url(&url)?;
            }
            url
        }
        None if interactive => {
            let default = if same_preset && !current.base_url.is_empty() {
                current.base_url.clone()
            } else {
                preset.base_url.to_owned()
            };
            let question = if preset.base_url.is_empty() {
                format!("Base URL of the API (such as http://127.0.0.1:8080/v1){}: ", default_hint(&default))
            } else {
                format!("Base URL{}: ", default_hint(&default))
            };
            let url = ask_until(&question, |answer| {
                let url = if answer.is_empty() { default.clone() } else { answer.trim_end_matches('/').to_owned() };
                if url.is_empty() {
                    return Err(SetupError::NoBaseUrl(preset.id));
                }
                check_base_url(&url)?;
                Ok(url)
            })?;
            // The preset's own address is kept as "the preset's", so it follows updates.
            if url == preset.base_url { String::new() } else { url }
        }
        None if preset.base_url.is_empty() => return Err(SetupError::NoBaseUrl(preset.id).into()),
        None => String::new(),
    };
    // 3. The key, where one is needed (or wanted).
    let key = if !interactive {
        if api_key_stdin { Some(crate::commands::read_secret("API key: ")?) } else { None }
    } else if preset.needs_key {
        Some(crate::commands::read_secret(&format!("{} API key (not echoed): ", preset.name))?)
    } else {
        let wants = ask_until("Does it need an API key? [y/N] ", |a| Ok(a.eq_ignore_ascii_case("y")))?;
        if wants { Some(crate::commands::read_secret("API key (not echoed): ")?) } else { None }
    };

    // Written now with the model left as it was, so pyrad can list the models.
    let keep_model = if same_preset { current.model.clone() } else { String::new() };
    let model_given = model.clone().map(|m| m.trim().to_owned());
    write_provider(paths, preset.id, model_given.as_deref().unwrap_or(&keep_model), &base_url)?;
    println!("wrote [provider] to {}", paths.home.join("config.toml").display());
    let mut client = apply(paths)?;
    if let Some(key) = key {
        let name = format!("provider:{}:api_key", preset.id);
        client.call::<VaultSet>(&VaultSetParams { key: name.clone(), value: key })?;
        println!("stored the API key in the vault as {name}");
    }

    // 4. The model: offered from the provider's list where it has one.
    let model = match model_given {
        Some(model) => model,
        None if interactive => {
            let listed = client.call::<ProviderModels>(&Empty).map(|l| l.models).unwrap_or_default();
            let default = if !keep_model.is_empty() { keep_model.clone() } else { preset.default_model.to_owned() };
            if !listed.is_empty() {
                eprintln!("{} offers: {}", preset.name, shorten(&listed));
            }
            ask_until(&format!("Model{}: ", default_hint(&default)), |answer| {
                let model = if answer.is_empty() { default.clone() } else { answer.to_owned() };
                if model.is_empty() {
                    return Err(SetupError::NoModel);
                }
                Ok(model)
            })?
        }
        None => keep_model,
    };
    if model.is_empty() && preset.default_model.is_empty() {
        bail!(
            "{} has no default model: give one with --model (`pyractl models` lists what it offers); \
             [provider] is written, only the model is missing",
            preset.name
        );
    }
    write_provider(paths, preset.id, &model, &base_url)?;
    let mut client = apply(paths)?;

    // 5. One cheap call: the set-up works, or what failed is said.
    match client.call::<ProviderCheck>(&Empty) {
        Ok(check) => {
            println!("checked: {} answered with model {} in {} ms", check.base_url, check.model, check.ms);
            match presets::list_price(preset, &check.model) {
                Some(p) => println!(
                    "price: ${} in / ${} out per million tokens (list price as of {}; [provider] prices overrides it)",
                    p.input,
                    p.output,
                    presets::PRICES_AS_OF
                ),
                None if preset.needs_key => println!(
                    "price: unknown for {}, so answers show tokens only; set [provider] prices to see a cost",
                    check.model
                ),
                None => {}
            }
            println!("ready: try `pyractl chat`");
            Ok(())
        }
        Err(ClientError::Rpc(e)) => bail!(
            "the test call failed: {}\n[provider] is kept in config.toml; fix that one thing and run `pyractl setup` again",
            e.message
        ),
        Err(e) => Err(e.into()),
    }
}

/// A long model list, cut to fit a few lines.
fn shorten(models: &[String]) -> String {
    const SHOWN: usize = 30;
    let mut text = models.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if models.len() > SHOWN {
        text.push_str(&format!(", ... ({} in all; `pyractl models` lists them)", models.len()));
    }
    text
}

/// Has pyrad apply config.toml: a live reload when it runs, a start when not.
fn apply(paths: &Paths) -> anyhow::Result<Client> {
    match Client::connect(&paths.socket) {
        Ok(mut client) => {
            let result = client.call::<proto::ipc::ConfigReload>(&Empty)?;
            for line in &result.need_restart {
                println!("not applied until pyrad restarts: {line}");
            }
            Ok(client)
        }
        Err(ClientError::NotRunning { .. }) => {
            crate::daemon_ctl::start(paths, Duration::from_secs(15))?;
            Ok(Client::connect(&paths.socket)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets `[provider]` keys in config.toml, keeping every comment and other key.
fn write_provider(paths: &Paths, provider: &str, model: &str, base_url: &str) -> anyhow::Result<()> {
    // A first start writes the commented default config that we then edit.
    if !paths.home.join("config.toml").exists() {
        crate::daemon_ctl::start(paths, Duration::from_secs(15))?;
    }
    crate::commands::write_config(paths, |doc| {
        let table = doc.entry("provider").or_insert(toml_edit::table());
        let table = table.as_table_mut().context("[provider] in config.toml is not a table")?;
        table["preset"] = toml_edit::value(provider);
        table["model"] = toml_edit::value(model);
        table["base_url"] = toml_edit::value(base_url);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_as_given() {
        assert!(matches!(check_base_url("127.0.0.1:9/v1"), Err(SetupError::NoScheme(_))));
        assert!(matches!(check_base_url("http:///v1"), Err(SetupError::BadUrl(..))));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(check_base_url(&format!("http://127.0.0.1:{port}/v1")).is_ok());
        drop(listener);
        let err = check_base_url(&format!("http://127.0.0.1:{port}/v1")).unwrap_err();
        assert!(err.to_string().starts_with(&format!("nothing answers at 127.0.0.1:{port}")), "{err}");
        assert!(matches!(find_preset("nope"), Err(SetupError::UnknownProvider(..))));
    }
}
