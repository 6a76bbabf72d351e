//! `memory.*` over the socket: the user reading and editing their own memory
//! (no approval: the user is the one acting). Every write is versioned.

use proto::ipc::{MemoryEntry, MemoryFile, MemoryLogEntry, MemoryVersion};
use proto::rpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, NOT_FOUND};

use crate::daemon::Daemon;
use crate::memory::MemoryError;

fn error(e: MemoryError) -> ErrorObject {
    let code = match e {
        MemoryError::Missing(_) | MemoryError::NoVersion { .. } => NOT_FOUND,
        MemoryError::Path(_) | MemoryError::NotMarkdown(_) | MemoryError::Generated(_) => INVALID_PARAMS,
        MemoryError::Io { .. } | MemoryError::Store(_) => INTERNAL_ERROR,
    };
    ErrorObject::new(code, e.to_string())
}

pub fn list(daemon: &Daemon) -> Result<Vec<MemoryEntry>, ErrorObject> {
    Ok(daemon
        .memory()
        .list()
        .map_err(error)?
        .into_iter()
        .map(|e| MemoryEntry { name: e.name, bytes: e.bytes })
        .collect())
}

pub fn read(daemon: &Daemon, name: String) -> Result<MemoryFile, ErrorObject> {
    let content = daemon.memory().read(&name).map_err(error)?;
    Ok(MemoryFile { name, content })
}

pub fn write(daemon: &Daemon, file: MemoryFile) -> Result<MemoryVersion, ErrorObject> {
    Ok(MemoryVersion { version: daemon.memory().write(&file.name, &file.content, "user").map_err(error)? })
}

pub fn append(daemon: &Daemon, name: &str, text: &str) -> Result<MemoryVersion, ErrorObject> {
    Ok(MemoryVersion { version: daemon.memory().append(name, text, "user").map_err(error)? })
}

pub fn log(daemon: &Daemon, name: &str) -> Result<Vec<MemoryLogEntry>, ErrorObject> {
    let versions = daemon.memory().log(name).map_err(error)?;
    Ok(versions.into_iter().map(|(version, at, source, bytes)| MemoryLogEntry { version, at, source, bytes }).collect())
}

pub fn restore(daemon: &Daemon, name: &str, version: u32) -> Result<MemoryVersion, ErrorObject> {
    Ok(MemoryVersion { version: daemon.memory().restore(name, version).map_err(error)? })
}
