//! The model's Markdown as chat HTML (Telegram's subset, which Matrix accepts too),
//! with everything else escaped, and long answers cut into messages.

use std::sync::LazyLock;

use regex::Regex;

static FENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)```[A-Za-z0-9_+-]*\n?(.*?)```").expect("the fence pattern is valid (tested)"));
static INLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*|__([^_\n]+)__|\*([^*\n]+)\*|\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
        .expect("the inline pattern is valid (tested)")
});

/// Escapes the three characters HTML gives meaning to in text (and `"` for attributes).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Markdown (code fences, inline code, bold, italic, links) as HTML; every other
/// character is escaped, so nothing the model writes can open a tag.
pub fn to_html(markdown: &str) -> String {
    to_html_breaking(markdown, "\n")
}

/// The same for Matrix, whose clients render `formatted_body` as HTML: line breaks
/// outside code blocks become `<br>`.
pub fn to_matrix_html(markdown: &str) -> String {
    to_html_breaking(markdown, "<br>")
}

fn to_html_breaking(markdown: &str, newline: &str) -> String {
    let inline = |text: &str| inline(text).replace('\n', newline);
    let mut out = String::with_capacity(markdown.len() + 32);
    let mut last = 0;
    for caps in FENCE.captures_iter(markdown) {
        let (Some(whole), Some(code)) = (caps.get(0), caps.get(1)) else { continue };
        out.push_str(&inline(&markdown[last..whole.start()]));
        out.push_str("<pre>");
        out.push_str(&escape(code.as_str().trim_end_matches('\n')));
        out.push_str("</pre>");
        last = whole.end();
    }
    out.push_str(&inline(&markdown[last..]));
    out
}

fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for caps in INLINE.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&escape(&text[last..whole.start()]));
        let group = |i: usize| caps.get(i).map(|m| escape(m.as_str()));
        let html = if let Some(code) = group(1) {
            format!("<code>{code}</code>")
        } else if let Some(bold) = group(2).or_else(|| group(3)) {
            format!("<b>{bold}</b>")
        } else if let Some(italic) = group(4) {
            format!("<i>{italic}</i>")
        } else if let (Some(label), Some(url)) = (group(5), group(6)) {
            format!("<a href=\"{url}\">{label}</a>")
        } else {
            escape(whole.as_str())
        };
        out.push_str(&html);
        last = whole.end();
    }
    out.push_str(&escape(&text[last..]));
    out
}

/// Cuts `text` into pieces of at most `max` characters, at a paragraph or line
/// break or a space where there is one in the second half of a piece.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let hard = rest.char_indices().nth(max).map_or(rest.len(), |(at, _)| at);
        let window = &rest[..hard];
        let half = window.len() / 2;
        let cut = ["\n\n", "\n", " "].iter().find_map(|sep| window.rfind(sep).filter(|at| *at >= half)).unwrap_or(hard);
        pieces.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_and_the_rest_is_escaped() {
        assert_eq!(
            to_html("**Tea** at <80°C> & `steep 3m`, see [guide](https://tea.example/a?b=1&c=2)"),
            "<b>Tea</b> at &lt;80°C&gt; &amp; <code>steep 3m</code>, see <a href=\"https://tea.example/a?b=1&amp;c=2\">guide</a>"
        );
        assert_eq!(
            to_html("```rust\nfn main() { a < b }\n```\ndone *now*"),
            "<pre>fn main() { a &lt; b }</pre>\ndone <i>now</i>"
        );
        // A link to anything but http(s) stays text; a tag the model writes stays text.
        assert_eq!(to_html("[x](javascript:alert(1)) <b>hi</b>"), "[x](javascript:alert(1)) &lt;b&gt;hi&lt;/b&gt;");
    }

    #[test]
    fn matrix_html_breaks_lines_outside_code() {
        assert_eq!(to_matrix_html("**a**\nb\n```\nx\ny\n```\nc"), "<b>a</b><br>b<br><pre>x\ny</pre><br>c");
    }

    #[test]
    fn long_texts_are_cut_at_breaks_and_nothing_is_lost() {
        let text = format!("{}\n\n{}", "a".repeat(3000), "b ".repeat(1500));
        let pieces = split(&text, 4000);
        assert!(
            pieces.iter().all(|p| p.chars().count() <= 4000),
            "{:?}",
            pieces.iter().map(String::len).collect::<Vec<_>>()
        );
        assert_eq!(pieces[0], "a".repeat(3000));
        let joined: String = pieces.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original);
        assert_eq!(split("short", 4000), vec!["short"]);
        // No break at all: cut hard, on a character boundary.
        let pieces = split(&"é".repeat(9), 4);
        assert_eq!(pieces, vec!["éééé", "éééé", "é"]);
    }
}
