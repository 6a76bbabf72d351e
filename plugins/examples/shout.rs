//! The Rust example of docs/PLUGINS.md, built and run by the tests so the doc stays true.

use pyra_plugins::{ToolDef, arg, serve};
use serde_json::json;

fn main() {
    let shout = ToolDef {
        name: "shout",
        description: "Repeat a text in capitals",
        schema: json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        read_only: true,
        run: Box::new(|args| Ok(arg(args, "text")?.to_uppercase())),
    };
    serve("shout", "shout__shout turns text into capitals.", vec![shout]);
}
