//! Talking to a provider over HTTP: one streaming call with timeouts, retries with
//! backoff on 429 and 5xx (honouring `Retry-After`), and errors a person can act on.
//! What was streamed before a failure is kept in the returned [`Assembler`].

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;

use super::presets::Wire;
use super::{Assembler, ChatRequest, LlmError, StreamEvent, anthropic, classify_http_error, openai};

/// How a provider is reached. The key is passed in per call, never stored here.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub wire: Wire,
    pub base_url: String,
    /// Attempts for one call, the first included.
    pub max_attempts: u32,
    /// First retry delay; doubled on each retry, capped at `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// Longest silence allowed while a stream is open.
    pub read_timeout: Duration,
}

impl Endpoint {
    pub fn new(wire: Wire, base_url: impl Into<String>) -> Self {
        Self {
            wire,
            base_url: base_url.into(),
            max_attempts: 4,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
        }
    }

    fn url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        match self.wire {
            Wire::OpenAi => format!("{base}/chat/completions"),
            Wire::Anthropic => format!("{base}/v1/messages"),
        }
    }

    fn host(&self) -> String {
        reqwest::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{h}{}", u.port().map(|p| format!(":{p}")).unwrap_or_default())))
            .unwrap_or_else(|| self.base_url.clone())
    }
}

/// Builds the HTTP client every provider call shares.
pub fn http_client(endpoint: &Endpoint) -> Result<reqwest::Client, LlmError> {
    reqwest::Client::builder()
        .connect_timeout(endpoint.connect_timeout)
        .read_timeout(endpoint.read_timeout)
        .user_agent(concat!("pyrad/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| LlmError::Malformed(format!("cannot build the HTTP client: {e}")))
}

/// Streams one answer, calling `on_event` for each event as it arrives.
/// On failure the error comes with whatever was assembled so far.
pub async fn stream(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: Option<&str>,
    req: &ChatRequest,
    mut on_event: impl FnMut(&StreamEvent),
) -> Result<Assembler, (LlmError, Assembler)> {
    let mut asm = Assembler::default();
    let response = match send_with_retries(client, endpoint, api_key, req).await {
        Ok(response) => response,
        Err(e) => return Err((e, asm)),
    };
    let mut events = response.bytes_stream().eventsource();
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                // A transport failure mid-answer (reset, read timeout) is a cut stream.
                let error = match e {
                    eventsource_stream::EventStreamError::Transport(_) => LlmError::Cut,
                    other => LlmError::Malformed(other.to_string()),
                };
                return Err((error, asm));
            }
        };
        let parsed = match endpoint.wire {
            Wire::OpenAi => openai::parse_data(&event.data),
            Wire::Anthropic => anthropic::parse_event(&event.event, &event.data),
        };
        match parsed {
            Ok(parsed) => {
                for e in &parsed {
                    asm.push(e);
                    on_event(e);
                }
            }
            Err(e) => return Err((e, asm)),
        }
        if asm.done {
            break;
        }
    }
    if asm.finish.is_none() {
        return Err((LlmError::Cut, asm));
    }
    Ok(asm)
}

async fn send_with_retries(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: Option<&str>,
    req: &ChatRequest,
) -> Result<reqwest::Response, LlmError> {
    let body = match endpoint.wire {
        Wire::OpenAi => openai::request_body(req),
        Wire::Anthropic => anthropic::request_body(req),
    };
    let mut delay = endpoint.backoff;
    let mut attempt = 1;
    loop {
        let request = client.post(endpoint.url()).json(&body).header("accept", "text/event-stream");
        let request = authorize(request, endpoint.wire, api_key);
        let last = attempt >= endpoint.max_attempts;
        let retry_after = match request.send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = parse_retry_after(response.headers());
                let text = redact(&response.text().await.unwrap_or_default(), api_key);
                let error = classify_http_error(status, &text, &req.model);
                if last || !(status == 429 || status >= 500) {
                    return Err(error);
                }
                tracing::warn!(status, attempt, "provider call failed; retrying");
                retry_after
            }
            Err(e) => {
                let error = LlmError::Unreachable { host: endpoint.host(), detail: one_line(&e) };
                if last || !(e.is_connect() || e.is_timeout()) {
                    return Err(error);
                }
                tracing::warn!(attempt, error = %error, "provider unreachable; retrying");
                None
            }
        };
        let wait = retry_after.unwrap_or(delay).min(endpoint.max_backoff);
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(endpoint.max_backoff);
        attempt += 1;
    }
}

/// The key and version headers each wire wants. A key that is empty is no key:
/// never an empty Authorization header.
fn authorize(request: reqwest::RequestBuilder, wire: Wire, api_key: Option<&str>) -> reqwest::RequestBuilder {
    let request = match (wire, api_key.filter(|k| !k.trim().is_empty())) {
        (Wire::OpenAi, Some(key)) => request.bearer_auth(key),
        (Wire::Anthropic, Some(key)) => request.header("x-api-key", key),
        (_, None) => request,
    };
    match wire {
        Wire::Anthropic => request.header("anthropic-version", anthropic::API_VERSION),
        Wire::OpenAi => request,
    }
}

/// The model ids the provider lists at `{base_url}/models` (OpenAI and the
/// compatible servers) or `{base_url}/v1/models` (Anthropic): `data[].id` in both.
pub async fn list_models(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: Option<&str>,
) -> Result<Vec<String>, LlmError> {
    let base = endpoint.base_url.trim_end_matches('/');
    let url = match endpoint.wire {
        Wire::OpenAi => format!("{base}/models"),
        Wire::Anthropic => format!("{base}/v1/models?limit=1000"),
    };
    let request = authorize(client.get(url), endpoint.wire, api_key);
    let response =
        request.send().await.map_err(|e| LlmError::Unreachable { host: endpoint.host(), detail: one_line(&e) })?;
    let status = response.status().as_u16();
    let text = redact(&response.text().await.unwrap_or_default(), api_key);
    if !(200..300).contains(&status) {
        return Err(classify_http_error(status, &text, ""));
    }
    let body: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| LlmError::Malformed(format!("the model list is not JSON ({e}): {text:.120}")))?;
    let data = body
        .get("data")
        .or_else(|| body.get("models"))
        .and_then(|d| d.as_array())
        .ok_or_else(|| LlmError::Malformed(format!("the model list has no data: {text:.120}")))?;
    Ok(data
        .iter()
        .filter_map(|m| m.get("id").or_else(|| m.get("name")).and_then(|i| i.as_str()).map(str::to_owned))
        .collect())
}

/// `text` with every occurrence of the key replaced: some providers echo it back.
fn redact(text: &str, api_key: Option<&str>) -> String {
    match api_key.filter(|k| k.len() >= 4) {
        Some(key) => text.replace(key, "[redacted]"),
        None => text.to_owned(),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare for APIs and ignored).
fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// A reqwest error with its causes, on one line.
fn one_line(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests;
