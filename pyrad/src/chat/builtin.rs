//! Built-in tools: memory list and read (no approval), memory write and append
//! (approval, like every tool that changes something).

use std::sync::Arc;

use serde_json::{Value, json};

use super::tools::{Tool, ToolError, ToolRegistry, ToolResult};
use crate::llm::ToolSpec;
use crate::memory::Memory;

#[derive(Clone, Copy)]
enum Op {
    List,
    Read,
    Write,
    Append,
}

struct MemoryTool {
    memory: Memory,
    op: Op,
}

fn string_arg(args: &Value, key: &str) -> Result<String, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ToolError(format!("missing string argument {key:?}")))
}

impl Tool for MemoryTool {
    fn spec(&self) -> ToolSpec {
        let name_arg = json!({"type": "string", "description": "A relative name ending in .md, e.g. user/profile.md or knowledge/rust.md"});
        let (name, description, parameters) = match self.op {
            Op::List => ("memory__list", "List the user's memory files.", json!({"type": "object", "properties": {}})),
            Op::Read => (
                "memory__read",
                "Read one memory file.",
                json!({"type": "object", "properties": {"name": name_arg}, "required": ["name"]}),
            ),
            Op::Write => (
                "memory__write",
                "Replace a memory file with new Markdown content. The user must approve.",
                json!({"type": "object", "properties": {"name": name_arg, "content": {"type": "string"}}, "required": ["name", "content"]}),
            ),
            Op::Append => (
                "memory__append",
                "Append a line of Markdown to a memory file (created if missing). The user must approve.",
                json!({"type": "object", "properties": {"name": name_arg, "text": {"type": "string"}}, "required": ["name", "text"]}),
            ),
        };
        ToolSpec { name: name.into(), description: description.into(), parameters }
    }

    fn rule(&self) -> crate::approval::ToolRule {
        match self.op {
            Op::List | Op::Read => crate::approval::ToolRule::Free,
            Op::Write | Op::Append => crate::approval::ToolRule::Ask,
        }
    }

    fn call(&self, args: Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = ToolResult> + Send + '_>> {
        Box::pin(async move {
            match self.op {
                Op::List => {
                    let entries = self.memory.list()?;
                    if entries.is_empty() {
                        return Ok("(no memory files yet)".into());
                    }
                    Ok(entries.iter().map(|e| format!("{} ({} bytes)", e.name, e.bytes)).collect::<Vec<_>>().join("\n"))
                }
                Op::Read => Ok(self.memory.read(&string_arg(&args, "name")?)?),
                Op::Write => {
                    let (name, content) = (string_arg(&args, "name")?, string_arg(&args, "content")?);
                    let version = self.memory.write(&name, &content, "tool")?;
                    Ok(format!("wrote {name} (version {version})"))
                }
                Op::Append => {
                    let (name, text) = (string_arg(&args, "name")?, string_arg(&args, "text")?);
                    let version = self.memory.append(&name, &text, "tool")?;
                    Ok(format!("appended to {name} (version {version})"))
                }
            }
        })
    }
}

/// The registry every turn starts from.
pub fn registry(memory: &Memory) -> ToolRegistry {
    let mut tools = ToolRegistry::default();
    for op in [Op::List, Op::Read, Op::Write, Op::Append] {
        tools.add(Arc::new(MemoryTool { memory: memory.clone(), op }));
    }
    tools
}

/// The memory files that enter every system prompt.
pub const MEMORY_IN_PROMPT: [&str; 2] = ["user/profile.md", crate::memory::INDEX];

/// What the model is told it remembers: the memory files of `MEMORY_IN_PROMPT` (read
/// once by the caller, which also scans them) as one section within `budget` characters.
pub fn memory_context(files: &[(&str, String)], budget: usize) -> String {
    let parts: Vec<String> = files
        .iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(name, text)| format!("### {name}\n{text}"))
        .collect();
    if parts.is_empty() || budget == 0 {
        return String::new();
    }
    let text = format!("## What you remember about the user\n{}", parts.join("\n"));
    if text.chars().count() <= budget {
        return text;
    }
    let cut: String = text.chars().take(budget).collect();
    format!("{cut}\n[memory context cut to {budget} characters; use memory__read for more]")
}
