//! `web`: fetch a URL and return it as Markdown-like text (HTML converted,
//! other text as is), with a timeout and size caps.

use std::io::Read;
use std::time::Duration;

use pyra_plugins::{ToolDef, arg, cap, serve};
use serde_json::{Value, json};

const MAX_BODY: u64 = 5 << 20;
const MAX_TEXT: usize = 40_000;

fn fetch(args: &Value) -> Result<String, String> {
    let url = arg(args, "url")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url}: only http and https URLs"));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    let html = response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("html"));
    let mut body = Vec::new();
    response.body_mut().as_reader().take(MAX_BODY).read_to_end(&mut body).map_err(|e| e.to_string())?;
    let text = if html {
        html2text::from_read(body.as_slice(), 100).map_err(|e| e.to_string())?
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}\n{}", cap(text, 2_000)));
    }
    Ok(cap(text, MAX_TEXT))
}

fn main() {
    let tools = vec![ToolDef {
        name: "fetch",
        description: "Fetch a web page and return its text as Markdown",
        schema: json!({"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}),
        read_only: true,
        run: Box::new(fetch),
    }];
    serve("web", "web__fetch reads a web page for you.", tools);
}
