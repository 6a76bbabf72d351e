//! What a provider is sent of a conversation: the stored history made well-formed
//! ([`well_formed`]), then trimmed to the model's context budget: the system
//! prompt is always kept, then whole turns from the newest back, so a tool call is
//! never separated from its result.

use std::collections::HashSet;

use crate::llm::{Message, Role};

/// Put where a turn was cut short (pyrad stopped or crashed mid-turn) and left no answer.
pub const NO_ANSWER: &str = "[no answer: this turn was interrupted before Pyra replied]";
/// Put where a tool call was cut short and left no result.
pub const NO_RESULT: &str = "[no result: the turn was interrupted before this tool finished]";

/// The stored history as every provider's wire format accepts it. The rule, in
/// order of the messages:
/// - a user message followed by another user message (its turn cut short) is
///   closed by an assistant message saying so ([`NO_ANSWER`]); nothing is merged
///   or dropped, so the model sees both texts for what they are;
/// - an assistant message whose tool calls lack results gets a result for each
///   missing one ([`NO_RESULT`]), right after the results it has;
/// - a tool result that answers no call of the assistant message before it is dropped;
/// - an assistant message with neither text nor calls (a stream cut before its
///   first word) says [`NO_ANSWER`].
///
/// A well-formed history comes back unchanged.
pub fn well_formed(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    // Calls of the last assistant message still waiting for a result.
    let mut open: Vec<String> = Vec::new();
    let mut answered: HashSet<String> = HashSet::new();
    let close_calls = |out: &mut Vec<Message>, open: &mut Vec<String>, answered: &mut HashSet<String>| {
        for id in open.drain(..) {
            if !answered.contains(&id) {
                out.push(Message::tool_result(id, NO_RESULT));
            }
        }
        answered.clear();
    };
    for mut message in messages {
        match message.role {
            Role::Tool => {
                let id = message.tool_call_id.clone().unwrap_or_default();
                if open.contains(&id) && answered.insert(id) {
                    out.push(message);
                }
                continue;
            }
            Role::User => {
                close_calls(&mut out, &mut open, &mut answered);
                if out.last().is_some_and(|m| m.role == Role::User) {
                    out.push(Message::assistant(NO_ANSWER, Vec::new()));
                }
            }
            Role::Assistant => {
                close_calls(&mut out, &mut open, &mut answered);
                if message.content.trim().is_empty() && message.tool_calls.is_empty() {
                    message.content = NO_ANSWER.into();
                }
                open = message.tool_calls.iter().map(|c| c.id.clone()).collect();
            }
        }
        out.push(message);
    }
    close_calls(&mut out, &mut open, &mut answered);
    out
}

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
    fn a_well_formed_history_is_unchanged() {
        let history: Vec<Message> = [turn("a"), tool_turn("b"), turn("c")].concat();
        assert_eq!(well_formed(history.clone()), history);
    }

    #[test]
    fn an_unanswered_user_message_is_closed_not_merged_or_dropped() {
        // A crash mid-turn: "first" never got its answer; "second" is the new turn.
        let history = vec![Message::user("first"), Message::user("second")];
        let fixed = well_formed(history);
        let roles: Vec<Role> = fixed.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
        assert_eq!((fixed[0].content.as_str(), fixed[1].content.as_str()), ("first", NO_ANSWER));
        assert_eq!(fixed[2].content, "second");
    }

    #[test]
    fn tool_calls_cut_short_get_a_result_and_strays_are_dropped() {
        let calls = vec![
            ToolCall { id: "c1".into(), name: "t".into(), arguments: "{}".into() },
            ToolCall { id: "c2".into(), name: "t".into(), arguments: "{}".into() },
        ];
        let history = vec![
            Message::user("do it"),
            Message::assistant("", calls),
            Message::tool_result("c1", "one"),
            Message::tool_result("c1", "one again"),
            Message::tool_result("zz", "stray"),
            Message::user("hello?"),
            Message::assistant("", vec![]),
        ];
        let fixed = well_formed(history);
        let shape: Vec<(Role, Option<&str>, &str)> =
            fixed.iter().map(|m| (m.role, m.tool_call_id.as_deref(), m.content.as_str())).collect();
        assert_eq!(
            shape,
            [
                (Role::User, None, "do it"),
                (Role::Assistant, None, ""),
                (Role::Tool, Some("c1"), "one"),
                (Role::Tool, Some("c2"), NO_RESULT),
                (Role::User, None, "hello?"),
                (Role::Assistant, None, NO_ANSWER),
            ]
        );
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
