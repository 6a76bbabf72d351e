//! `files`: list, read and search files under the roots you grant; writing too,
//! which, like every tool not exempted, asks you first. Roots come from the
//! plugin's config (`roots`, set with `pyractl plugin setup files`) or
//! `PYRA_FILES_ROOTS` (colon-separated). No path outside them is ever touched,
//! symlinks included.

use std::path::{Path, PathBuf};

use pyra_plugins::{ToolDef, arg, cap, serve};
use serde_json::{Value, json};

const MAX_READ: usize = 100_000;
const MAX_HITS: usize = 100;

fn roots() -> Vec<PathBuf> {
    let from_config = std::env::var("PYRA_PLUGIN_CONFIG")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| match v.get("roots") {
            Some(Value::Array(a)) => Some(a.iter().filter_map(|r| r.as_str().map(PathBuf::from)).collect::<Vec<_>>()),
            Some(Value::String(s)) => Some(s.split(':').filter(|p| !p.is_empty()).map(PathBuf::from).collect()),
            _ => None,
        });
    let from_env = std::env::var("PYRA_FILES_ROOTS").ok().map(|v| v.split(':').map(PathBuf::from).collect::<Vec<_>>());
    from_config.or(from_env).unwrap_or_default().into_iter().filter_map(|r| r.canonicalize().ok()).collect()
}

/// `path` resolved (symlinks followed) and checked to lie under a root.
fn inside(path: &str, must_exist: bool) -> Result<PathBuf, String> {
    let roots = roots();
    if roots.is_empty() {
        return Err("no roots granted: run `pyractl plugin setup files`".into());
    }
    let requested = Path::new(path);
    let resolved = if must_exist {
        requested.canonicalize().map_err(|e| format!("{path}: {e}"))?
    } else {
        // A file to create: its folder must exist and resolve inside a root.
        let parent = requested.parent().ok_or_else(|| format!("{path} has no parent folder"))?;
        let name = requested.file_name().ok_or_else(|| format!("{path} names no file"))?;
        let target = parent.canonicalize().map_err(|e| format!("{}: {e}", parent.display()))?.join(name);
        if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!("{path} is a symlink; not written"));
        }
        target
    };
    if roots.iter().any(|root| resolved.starts_with(root)) {
        Ok(resolved)
    } else {
        Err(format!("{path} is outside the granted roots"))
    }
}

fn list(args: &Value) -> Result<String, String> {
    let dir = inside(arg(args, "path")?, true)?;
    let mut entries: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| {
            // Like `ls -F`: folders end in /, symlinks (never followed) in @.
            let name = e.file_name().to_string_lossy().into_owned();
            match e.file_type() {
                Ok(t) if t.is_dir() => format!("{name}/"),
                Ok(t) if t.is_symlink() => format!("{name}@"),
                _ => name,
            }
        })
        .collect();
    entries.sort();
    Ok(entries.join("\n"))
}

fn read(args: &Value) -> Result<String, String> {
    let file = inside(arg(args, "path")?, true)?;
    let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(cap(String::from_utf8_lossy(&bytes).into_owned(), MAX_READ))
}

fn search(args: &Value) -> Result<String, String> {
    let dir = inside(arg(args, "path")?, true)?;
    let pattern = arg(args, "pattern")?.to_lowercase();
    let mut hits = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                for (n, line) in text.lines().enumerate() {
                    if line.to_lowercase().contains(&pattern) {
                        hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                        if hits.len() >= MAX_HITS {
                            hits.push(format!("[stopped at {MAX_HITS} matches]"));
                            return Ok(hits.join("\n"));
                        }
                    }
                }
            }
        }
    }
    Ok(if hits.is_empty() { "no matches".into() } else { hits.join("\n") })
}

fn write(args: &Value) -> Result<String, String> {
    use std::io::Write;
    let file = inside(arg(args, "path")?, false)?;
    let content = arg(args, "content")?;
    let mut f = std::fs::File::create(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    f.write_all(content.as_bytes()).map_err(|e| e.to_string())?;
    Ok(format!("wrote {} bytes to {}", content.len(), file.display()))
}

fn main() {
    let path = json!({"type": "string", "description": "An absolute path under a granted root"});
    let tools = vec![
        ToolDef {
            name: "list",
            description: "List a folder",
            schema: json!({"type": "object", "properties": {"path": path}, "required": ["path"]}),
            read_only: true,
            run: Box::new(list),
        },
        ToolDef {
            name: "read",
            description: "Read a text file",
            schema: json!({"type": "object", "properties": {"path": path}, "required": ["path"]}),
            read_only: true,
            run: Box::new(read),
        },
        ToolDef {
            name: "search",
            description: "Find lines containing a text (case-insensitive) in the files under a folder",
            schema: json!({"type": "object", "properties": {"path": path, "pattern": {"type": "string"}}, "required": ["path", "pattern"]}),
            read_only: true,
            run: Box::new(search),
        },
        ToolDef {
            name: "write",
            description: "Write a text file (replacing it)",
            schema: json!({"type": "object", "properties": {"path": path, "content": {"type": "string"}}, "required": ["path", "content"]}),
            read_only: false,
            run: Box::new(write),
        },
    ];
    serve("files", "files__* tools read and write files under the folders the user granted.", tools);
}
