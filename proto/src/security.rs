//! The prompt-injection scanner's verdicts as they travel: on `chat.tool` events,
//! in `approval.request` warnings, in `security.scan` results and in the audit.

use serde::{Deserialize, Serialize};

/// What kind of steering a finding looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectionCategory {
    /// "Ignore the previous instructions", "your new task is ...".
    InstructionOverride,
    /// "You are now DAN", fake system blocks, "print your system prompt".
    RoleHijack,
    /// Sending secrets or the conversation somewhere, including data carried in Markdown image or link URLs.
    Exfiltration,
    /// Getting the assistant to run commands or tools: `curl | sh`, "call the shell tool".
    ToolAbuse,
    /// Content a person does not see: zero-width, bidi or tag characters, encoded blobs, HTML comments, invisible text.
    Hidden,
    /// A category this build does not know (a newer pyrad).
    #[serde(other)]
    Unknown,
}

impl InjectionCategory {
    pub const ALL: [InjectionCategory; 5] = [
        InjectionCategory::InstructionOverride,
        InjectionCategory::RoleHijack,
        InjectionCategory::Exfiltration,
        InjectionCategory::ToolAbuse,
        InjectionCategory::Hidden,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InjectionCategory::InstructionOverride => "instruction_override",
            InjectionCategory::RoleHijack => "role_hijack",
            InjectionCategory::Exfiltration => "exfiltration",
            InjectionCategory::ToolAbuse => "tool_abuse",
            InjectionCategory::Hidden => "hidden",
            InjectionCategory::Unknown => "unknown",
        }
    }
}

/// One thing the scanner matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanFinding {
    pub category: InjectionCategory,
    /// 0..=1: how strongly this match alone suggests an attack.
    pub score: f64,
    /// The rule that matched, for the log and for tuning.
    pub rule: String,
    /// Byte offsets of the match in the scanned text.
    pub start: usize,
    pub end: usize,
    /// The matched text (at most 120 characters), invisible characters shown as `<U+XXXX>`.
    pub excerpt: String,
}

/// The scanner's verdict on one text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScanVerdict {
    pub flagged: bool,
    /// 0..=1, the highest category score.
    pub score: f64,
    /// The categories whose score reached the flag threshold, in a fixed order.
    pub categories: Vec<InjectionCategory>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<ScanFinding>,
}

impl ScanVerdict {
    /// "instruction override, hidden" for people.
    pub fn reason(&self) -> String {
        let names: Vec<&str> = self.categories.iter().map(|c| c.as_str()).collect();
        names.join(", ").replace('_', " ")
    }
}

/// Where in a turn a warning was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanPoint {
    /// The message that started the turn.
    Inbound,
    /// A tool call's arguments, before the gate.
    ToolArgs,
    /// A tool's result (or a hook's answer in its place), before the model saw it.
    ToolResult,
    /// A memory file entering the system prompt.
    Memory,
    #[serde(other)]
    Unknown,
}

/// A flagged text in a turn, as shown to the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanWarning {
    pub point: ScanPoint,
    /// The tool, memory file or channel the text came from.
    pub source: String,
    pub verdict: ScanVerdict,
}
