//! Trimming a conversation to the model's context budget: the system prompt is
//! always kept, then whole turns from the newest back, so a tool call is never
//! separated from its result.

use crate::llm::{Message, Role};

/// A rough token count (4 characters a token, plus per-message overhead); it only
/// has to be conservative enough to keep requests under the provider's limit.
pub fn estimate_tokens(message: &Message) -> u64 {
    let calls: usize = message.tool_calls.iter().map(|c| c.name.len() + c.arguments.len() + 16).sum();
    ((message.content.len() + calls) as u64).div_ceil(4) + 4
}

/// The index of the first message to send so that the system prompt and the kept
/// messages fit in `budget` tokens. Cuts only before a user message (a turn's
/// start). The newest turn is always kept, even if it alone is over the budget:
/// the provider then says the context overflows, which is the honest answer.
pub fn trim_start(messages: &[Message], system_tokens: u64, budget: u64) -> usize {
    let mut used = system_tokens;
    let mut start = messages.len();
    let mut turn_tokens = 0;
    for (i, message) in messages.iter().enumerate().rev() {
        turn_tokens += estimate_tokens(message);
        if message.role == Role::User {
            let newest_turn = start == messages.len();
            if !newest_turn && used + turn_tokens > budget {
                break;
            }
            used += turn_tokens;
            turn_tokens = 0;
            start = i;
        }
    }
    // Without any user message there is no turn boundary to cut at: keep all.
    if start == messages.len() { 0 } else { start }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolCall;

    fn turn(text: &str) -> Vec<Message> {
        vec![Message::user(text), Message::assistant(format!("re: {text}"), vec![])]
    }

    fn tool_turn(text: &str) -> Vec<Message> {
        let call = ToolCall { id: format!("c-{text}"), name: "t".into(), arguments: "{}".into() };
        vec![
            Message::user(text),
            Message::assistant("", vec![call]),
            Message::tool_result(format!("c-{text}"), "x".repeat(400)),
            Message::assistant("done", vec![]),
        ]
    }

    #[test]
    fn everything_is_kept_when_it_fits() {
        let history: Vec<Message> = [turn("a"), turn("b")].concat();
        assert_eq!(trim_start(&history, 10, 10_000), 0);
    }

    #[test]
    fn old_turns_go_first_and_cuts_fall_on_turn_starts() {
        let history: Vec<Message> = [tool_turn("old"), turn("middle"), tool_turn("new")].concat();
        let newest: u64 = history[6..].iter().map(estimate_tokens).sum();
        let middle: u64 = history[4..6].iter().map(estimate_tokens).sum();
        let start = trim_start(&history, 50, 50 + newest + middle);
        assert_eq!(start, 4, "the old tool turn is dropped whole");
        assert_eq!(history[start].role, Role::User);
        let start = trim_start(&history, 50, 50 + newest + middle - 1);
        assert_eq!(start, 6);
    }

    #[test]
    fn the_newest_turn_is_kept_even_over_budget() {
        let history: Vec<Message> = [turn("a"), tool_turn("huge")].concat();
        assert_eq!(trim_start(&history, 100, 10), 2);
    }

    #[test]
    fn the_system_prompt_counts_against_the_budget() {
        let history: Vec<Message> = [turn("a"), turn("b")].concat();
        let all: u64 = history.iter().map(estimate_tokens).sum();
        assert_eq!(trim_start(&history, 0, all), 0);
        assert_eq!(trim_start(&history, 1, all), 2);
    }
}
