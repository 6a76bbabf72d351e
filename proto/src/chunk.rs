//! Messages longer than a line. No line either side sends exceeds
//! [`MAX_LINE_BYTES`]; a message whose line would (a long answer, a large
//! session or memory file) is sent as consecutive `rpc.chunk` notifications whose
//! `data` strings, concatenated, are that line. The sender writes a message's
//! chunks back to back, so they never interleave with other lines; the receiver
//! joins them with a [`Joiner`] and decodes the result as the line it is.

use serde::{Deserialize, Serialize};

use crate::codec::{MAX_LINE_BYTES, encode_line};
use crate::rpc::Notification;

/// The notification that carries a piece of a long message.
pub const METHOD: &str = "rpc.chunk";

/// Bytes of the long line per chunk. Escaping in a JSON string at most doubles
/// the JSON text of a line (quotes and backslashes; control characters never
/// appear raw in it), so a chunk's own line stays well under the limit.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The most a [`Joiner`] accepts for one message by default: 256 MiB.
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkParams {
    /// A piece of the long line (newline excluded), cut on a character boundary.
    pub data: String,
    /// More chunks of this message follow.
    pub more: bool,
}

/// `line` (newline included) as it goes on the wire: itself when it fits in a
/// line, else its chunks, each a line of its own.
pub fn frame(line: Vec<u8>) -> Vec<Vec<u8>> {
    let body_len = line.len() - usize::from(line.last() == Some(&b'\n'));
    if body_len <= MAX_LINE_BYTES {
        return vec![line];
    }
    // Our own lines are serde_json output, hence UTF-8; anything else is sent
    // lossily rather than not at all.
    let text = String::from_utf8_lossy(&line[..body_len]);
    let mut out = Vec::with_capacity(body_len / CHUNK_BYTES + 1);
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        let params = ChunkParams { data: piece.to_owned(), more: !rest.is_empty() };
        let value = serde_json::to_value(params).ok();
        out.push(encode_line(&Notification::new(METHOD, value)));
    }
    out
}

/// Why a chunked message could not be joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("an rpc.chunk notification has bad params: {0}")]
    BadParams(String),
    #[error("a chunked message is over {0} bytes")]
    TooLong(usize),
}

/// Joins the chunks of one message at a time.
#[derive(Debug, Default)]
pub struct Joiner {
    buffer: String,
    max: usize,
}

impl Joiner {
    pub fn new(max: usize) -> Self {
        Self { buffer: String::new(), max }
    }

    /// Takes the params of one `rpc.chunk`; the whole line once its last chunk came.
    pub fn push(&mut self, params: Option<serde_json::Value>) -> Result<Option<Vec<u8>>, JoinError> {
        let params: ChunkParams = serde_json::from_value(params.unwrap_or_default())
            .map_err(|e| JoinError::BadParams(crate::rpc::clip(&e.to_string()).into_owned()))?;
        let max = if self.max == 0 { MAX_MESSAGE_BYTES } else { self.max };
        if self.buffer.len() + params.data.len() > max {
            self.buffer = String::new();
            return Err(JoinError::TooLong(max));
        }
        self.buffer.push_str(&params.data);
        if params.more {
            return Ok(None);
        }
        Ok(Some(std::mem::take(&mut self.buffer).into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::codec::{LineBuffer, ServerMessage, decode_server_line};
    use crate::rpc::{Id, Response};

    fn round_trip(response: &Response) -> Response {
        let line = encode_line(response);
        let framed = frame(line);
        let mut lines = LineBuffer::new(MAX_LINE_BYTES);
        for l in &framed {
            lines.extend(l);
        }
        let mut joiner = Joiner::new(0);
        while let Some(line) = lines.next_line() {
            let line = line.expect("every framed line is within the limit");
            match decode_server_line(&line).unwrap() {
                ServerMessage::Response(r) => return r,
                ServerMessage::Notification(n) => {
                    assert_eq!(n.method, METHOD);
                    if let Some(whole) = joiner.push(n.params).unwrap() {
                        match decode_server_line(&whole).unwrap() {
                            ServerMessage::Response(r) => return r,
                            other => panic!("{other:?}"),
                        }
                    }
                }
            }
        }
        panic!("no response came through");
    }

    #[test]
    fn a_short_line_is_sent_as_it_is() {
        let line = encode_line(&Response::ok(Id::Num(1), json!({"text": "hi"})));
        assert_eq!(frame(line.clone()), vec![line]);
    }

    #[test]
    fn a_long_response_of_any_text_is_chunked_within_the_limit_and_joined() {
        // Quotes and backslashes double when escaped; multi-byte characters straddle cuts.
        for unit in ["a", "\"", "\\", "é", "🦀", "\n", "\u{1}"] {
            let text = unit.repeat((MAX_LINE_BYTES + MAX_LINE_BYTES / 4) / unit.len() + 7);
            let response = Response::ok(Id::Str("r".into()), json!({"text": text}));
            let framed = frame(encode_line(&response));
            assert!(framed.len() > 1, "{unit:?}");
            assert!(framed.iter().all(|l| l.len() <= MAX_LINE_BYTES + 1), "{unit:?}");
            assert_eq!(round_trip(&response), response, "{unit:?}");
        }
    }

    #[test]
    fn a_joiner_refuses_a_message_past_its_cap_and_recovers() {
        let mut joiner = Joiner::new(10);
        let chunk = |data: &str, more: bool| Some(json!({"data": data, "more": more}));
        assert_eq!(joiner.push(chunk("12345", true)), Ok(None));
        assert_eq!(joiner.push(chunk("1234567", true)), Err(JoinError::TooLong(10)));
        assert_eq!(joiner.push(chunk("ok", false)), Ok(Some(b"ok".to_vec())));
        assert!(matches!(joiner.push(Some(json!({"data": 1}))), Err(JoinError::BadParams(_))));
    }
}
