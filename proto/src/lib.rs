//! Pyra's wire format, and the only crate that knows it: JSON-RPC 2.0 envelopes
//! ([`rpc`]), the handshake and version ([`version`]), the `pyractl` <-> `pyrad`
//! methods and events ([`ipc`]) and the line codec ([`codec`]). Pure data and pure
//! functions: no sockets, no files, no async runtime.

pub mod chunk;
pub mod codec;
pub mod ipc;
pub mod rpc;
pub mod security;
pub mod version;

pub use codec::{
    ClientMessage, DecodeError, LineBuffer, MAX_LINE_BYTES, ServerMessage, decode_client_line, decode_server_line,
    encode_line,
};
pub use rpc::{ErrorObject, Id, Notification, Request, Response};
pub use version::{Feature, PROTOCOL_NAME, PROTOCOL_VERSION};

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
