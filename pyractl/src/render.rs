//! Human-readable output.

use proto::ipc::StatusResult;

/// `93.2` -> `1m 33s`.
pub fn duration(secs: f64) -> String {
    let total = secs.max(0.0) as u64;
    let (d, h, m, s) = (total / 86_400, total / 3_600 % 24, total / 60 % 60, total % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Unix seconds as local date and time, `2026-12-02 15:42`; today's as `15:42:07`.
pub fn local_time(unix: u64) -> String {
    let parts = |t: u64| {
        let t = t as libc::time_t;
        // SAFETY: localtime_r fills the tm we own from a time_t we own.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
        ok.then_some(tm)
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    match (parts(unix), parts(now)) {
        (Some(t), Some(n)) if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday) => {
            format!("{:02}:{:02}:{:02}", t.tm_hour, t.tm_min, t.tm_sec)
        }
        (Some(t), _) => {
            format!("{}-{:02}-{:02} {:02}:{:02}", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min)
        }
        (None, _) => unix.to_string(),
    }
}

/// The provider as `daemon.status` gives it, in words: `openai, model gpt-4o-mini at https://...`.
pub fn provider(v: &serde_json::Value) -> String {
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let mut line = field("preset").to_owned();
    match field("model") {
        "" => line.push_str(", the preset's default model"),
        model => line.push_str(&format!(", model {model}")),
    }
    if !field("base_url").is_empty() {
        line.push_str(&format!(" at {}", field("base_url")));
    }
    line
}

/// The model's price as `daemon.status` gives it: `$0.15 in / $0.6 out per million tokens (…)`.
pub fn price(provider: &serde_json::Value) -> Option<String> {
    let price = provider.get("price")?;
    let usd = |k: &str| price.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    Some(format!(
        "${} in / ${} out per million tokens ({})",
        usd("input"),
        usd("output"),
        price.get("source").and_then(|s| s.as_str()).unwrap_or("configured")
    ))
}

/// Tokens in words: `1,234 in / 56 out`.
pub fn tokens(usage: &proto::ipc::TokenUsage) -> String {
    format!("{} in / {} out", thousands(usage.input_tokens), thousands(usage.output_tokens))
}

/// Tokens and, when known, their cost: `1,234 in / 56 out tokens · $0.0004`.
pub fn usage(usage: &proto::ipc::TokenUsage) -> String {
    let mut line = format!("{} tokens", tokens(usage));
    if let Some(cost) = usage.cost_usd {
        line.push_str(&format!(" \u{b7} {}", dollars(cost)));
    }
    line
}

/// US dollars as a person reads them: cents from a cent up, four places below it.
pub fn dollars(amount: f64) -> String {
    if amount == 0.0 {
        "$0".into()
    } else if amount >= 0.01 {
        format!("${amount:.2}")
    } else if amount >= 0.0001 {
        format!("${amount:.4}")
    } else {
        "<$0.0001".into()
    }
}

/// Adds one usage to another; a cost stays unknown only while every part's is.
pub fn add_usage(total: &mut proto::ipc::TokenUsage, more: &proto::ipc::TokenUsage) {
    total.input_tokens += more.input_tokens;
    total.output_tokens += more.output_tokens;
    if let Some(cost) = more.cost_usd {
        *total.cost_usd.get_or_insert(0.0) += cost;
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn status(s: &StatusResult) -> String {
    let section = |v: &Option<serde_json::Value>, none: &str| match v {
        Some(v) => v.to_string(),
        None => none.to_owned(),
    };
    let previous = match s.database.previous_run_clean {
        Some(true) => "stopped cleanly",
        Some(false) => "did NOT stop cleanly",
        None => "first run",
    };
    [
        format!("pyrad {} running (pid {}, up {})", s.version, s.pid, duration(s.uptime_secs)),
        format!("  home        {}", s.home),
        format!("  socket      {}", s.socket),
        format!("  clients     {}", s.connections),
        format!("  database    {} (schema {})", s.database.path, s.database.schema_version),
        format!("  last run    {previous}"),
        format!("  log level   {}", s.log_level),
        format!(
            "  provider    {}",
            s.provider.as_ref().map_or_else(|| "not configured (run `pyractl setup`)".to_owned(), provider)
        ),
        format!(
            "  price       {}",
            s.provider.as_ref().and_then(price).unwrap_or_else(|| "unknown: answers show tokens only".to_owned())
        ),
        format!("  sessions    {}", section(&s.sessions, "none")),
        format!(
            "  plugins     {}",
            s.plugins.map_or_else(
                || "none".to_owned(),
                |p| {
                    let mut line = format!(
                        "{} ({} active, {} failed), {} invalid folders",
                        p.total, p.active, p.failed, p.invalid
                    );
                    for (n, word) in
                        [(p.modified, "modified"), (p.unverified, "unverified"), (p.unsandboxed, "unsandboxed")]
                    {
                        if n > 0 {
                            line.push_str(&format!(", {n} {word}"));
                        }
                    }
                    line
                }
            )
        ),
        format!("  bots        {}", s.bots.as_ref().filter(|b| !b.is_empty()).map_or_else(|| "none".to_owned(), bots)),
    ]
    .join("\n")
}

/// `telegram connected as @pyra_bot, matrix error (homeserver down)`.
pub fn bots(states: &std::collections::BTreeMap<String, proto::ipc::BotStatus>) -> String {
    states.iter().map(|(name, s)| format!("{name} {}", bot(s))).collect::<Vec<_>>().join(", ")
}

/// `connected as @pyra_bot`, `connected as @pyra:matrix.org`, `error (Invalid bot token)`, `disabled`.
pub fn bot(s: &proto::ipc::BotStatus) -> String {
    let mut line = s.state.clone();
    if let Some(user) = &s.username {
        // Telegram usernames come bare; Matrix ids carry their @.
        let at = if user.starts_with('@') { "" } else { "@" };
        line.push_str(&format!(" as {at}{user}"));
    }
    if let Some(reason) = &s.reason {
        line.push_str(&format!(" ({reason})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_states_read_naturally() {
        let mut states = std::collections::BTreeMap::new();
        let state = |s: &str, reason: Option<&str>, user: Option<&str>| proto::ipc::BotStatus {
            state: s.into(),
            reason: reason.map(str::to_owned),
            username: user.map(str::to_owned),
        };
        states.insert("telegram".to_owned(), state("connected", None, Some("pyra_bot")));
        assert_eq!(bots(&states), "telegram connected as @pyra_bot");
        states.insert("matrix".to_owned(), state("error", Some("homeserver down"), None));
        assert_eq!(bots(&states), "matrix error (homeserver down), telegram connected as @pyra_bot");
    }

    #[test]
    fn numbers_and_providers_read_as_words() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let p =
            serde_json::json!({"preset": "openai", "model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1"});
        assert_eq!(provider(&p), "openai, model gpt-4o-mini at https://api.openai.com/v1");
        let priced = serde_json::json!({"preset": "openai", "model": "gpt-4o-mini",
            "price": {"input": 0.15, "output": 0.6, "source": "list price as of 2025-10"}});
        assert_eq!(
            price(&priced).as_deref(),
            Some("$0.15 in / $0.6 out per million tokens (list price as of 2025-10)")
        );
        assert_eq!(price(&p), None);
        assert_eq!(
            provider(&serde_json::json!({"preset": "ollama", "model": ""})),
            "ollama, the preset's default model"
        );
        // Today shows the time alone; an old stamp the date.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(local_time(now).len(), 8, "{}", local_time(now));
        assert!(local_time(86_400 * 400).starts_with("1971-"), "{}", local_time(86_400 * 400));
    }

    #[test]
    fn usage_shows_a_cost_only_when_one_is_known() {
        let mut u = proto::ipc::TokenUsage { input_tokens: 1_234, output_tokens: 56, cost_usd: None };
        assert_eq!(usage(&u), "1,234 in / 56 out tokens");
        add_usage(&mut u, &proto::ipc::TokenUsage { input_tokens: 1, output_tokens: 1, cost_usd: Some(0.00045) });
        assert_eq!(usage(&u), "1,235 in / 57 out tokens \u{b7} $0.0004");
        add_usage(&mut u, &proto::ipc::TokenUsage { input_tokens: 0, output_tokens: 0, cost_usd: Some(1.5) });
        assert_eq!(u.cost_usd.map(dollars).as_deref(), Some("$1.50"));
        assert_eq!(dollars(0.0), "$0");
        assert_eq!(dollars(0.00001), "<$0.0001");
        assert_eq!(dollars(0.034), "$0.03");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(93.2), "1m 33s");
        assert_eq!(duration(3_600.0 * 5.0 + 61.0), "5h 1m");
        assert_eq!(duration(86_400.0 * 2.0 + 3_600.0), "2d 1h");
    }
}

/// Renders one line of Markdown for a terminal: headings bold and underlined,
/// `**bold**`, `*italic*`, `` `code` `` in cyan, links as their text underlined
/// with the address after it, bullets as •, block quotes behind a bar, rules as
/// a line, fences dimmed. Tables are whole-block: see [`markdown_table`].
pub fn markdown_line(line: &str, in_fence: &mut bool) -> String {
    const BOLD: &str = "\x1b[1m";
    const DIM: &str = "\x1b[2m";
    const RESET: &str = "\x1b[0m";
    let trimmed = line.trim_start();
    if trimmed.starts_with("```") {
        *in_fence = !*in_fence;
        return format!("{DIM}{line}{RESET}");
    }
    if *in_fence {
        return format!("\x1b[36m{line}{RESET}");
    }
    if let Some(rest) = trimmed.strip_prefix('#') {
        let text = rest.trim_start_matches('#').trim();
        return format!("{BOLD}\x1b[4m{text}{RESET}");
    }
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() >= 3 && (compact.chars().all(|c| c == '-') || compact.chars().all(|c| c == '*')) {
        return format!("{DIM}{}{RESET}", "\u{2500}".repeat(40));
    }
    if let Some(quote) = trimmed.strip_prefix('>') {
        let mut inner = false;
        let text = markdown_line(quote.strip_prefix(' ').unwrap_or(quote), &mut inner);
        return format!("{DIM}\u{2502}{RESET} \x1b[3m{text}\x1b[23m");
    }
    let indent = &line[..line.len() - trimmed.len()];
    match trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
        Some(item) => format!("{indent}• {}", inline(item)),
        None => format!("{indent}{}", inline(trimmed)),
    }
}

/// Whether `line` belongs to a Markdown table (`| a | b |`).
pub fn is_table_row(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.len() > 1
}

/// A Markdown table as aligned columns: the header bold, a rule under it, the
/// alignment row (`|---|:--:|`) dropped, cells' inline Markdown rendered.
pub fn markdown_table(rows: &[String], color: bool) -> String {
    let cells = |row: &str| -> Vec<String> {
        let t = row.trim().trim_start_matches('|');
        let t = t.strip_suffix('|').unwrap_or(t);
        t.split('|').map(|c| c.trim().to_owned()).collect()
    };
    let is_rule = |row: &[String]| row.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
    let table: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).filter(|r| !is_rule(r)).collect();
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let shown = |text: &str| -> String { if color { inline(text) } else { text.to_owned() } };
    let width = |text: &str| strip_ansi(&shown(text)).chars().count();
    let widths: Vec<usize> =
        (0..columns).map(|i| table.iter().filter_map(|r| r.get(i)).map(|c| width(c)).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (n, row) in table.iter().enumerate() {
        let line: Vec<String> = (0..columns)
            .map(|i| {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                let pad = widths[i].saturating_sub(width(cell));
                format!("{}{}", shown(cell), " ".repeat(pad))
            })
            .collect();
        let line = line.join("  ").trim_end().to_owned();
        if n == 0 && color {
            out.push_str(&format!("\x1b[1m{line}\x1b[0m\n"));
        } else {
            out.push_str(&line);
            out.push('\n');
        }
        if n == 0 && table.len() > 1 {
            let total = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
            out.push_str(&"\u{2500}".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// `text` without ANSI escape sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `**bold**`, `*italic*`, `` `code` `` and `[text](url)` within a line.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while !rest.is_empty() {
        if rest.starts_with('[')
            && let Some(close) = rest.find("](")
            && let Some(end) = rest[close + 2..].find(')')
        {
            let label = &rest[1..close];
            let url = &rest[close + 2..close + 2 + end];
            if !label.contains('[') && !url.contains(' ') {
                if label == url {
                    out.push_str(&format!("\x1b[4m{url}\x1b[24m"));
                } else {
                    out.push_str(&format!("\x1b[4m{}\x1b[24m \x1b[2m({url})\x1b[22m", inline(label)));
                }
                rest = &rest[close + 3 + end..];
                continue;
            }
        }
        let (marker, open, close) = if rest.starts_with("**") {
            ("**", "\x1b[1m", "\x1b[22m")
        } else if rest.starts_with('`') {
            ("`", "\x1b[36m", "\x1b[39m")
        } else if rest.starts_with('*') && rest.len() > 1 && !rest[1..].starts_with(' ') {
            ("*", "\x1b[3m", "\x1b[23m")
        } else {
            let next = rest.find(['*', '`', '[']).filter(|&i| i > 0).unwrap_or(rest.len());
            let (plain, tail) = rest.split_at(if next == 0 { 1 } else { next });
            out.push_str(plain);
            rest = tail;
            continue;
        };
        match rest[marker.len()..].find(marker) {
            Some(end) => {
                out.push_str(open);
                out.push_str(&rest[marker.len()..marker.len() + end]);
                out.push_str(close);
                rest = &rest[marker.len() * 2 + end..];
            }
            None => {
                out.push_str(marker);
                rest = &rest[marker.len()..];
            }
        }
    }
    out
}

#[cfg(test)]
mod markdown_tests {
    use super::*;

    #[test]
    fn markdown_lines_render_with_ansi_styles() {
        let mut fence = false;
        assert_eq!(markdown_line("## Title", &mut fence), "\x1b[1m\x1b[4mTitle\x1b[0m");
        assert_eq!(markdown_line("- a **b** `c`", &mut fence), "• a \x1b[1mb\x1b[22m \x1b[36mc\x1b[39m");
        assert_eq!(markdown_line("2 * 3 = 6", &mut fence), "2 * 3 = 6");
        assert_eq!(markdown_line("an *it* word", &mut fence), "an \x1b[3mit\x1b[23m word");
        assert_eq!(markdown_line("unclosed **bold", &mut fence), "unclosed **bold");
        markdown_line("```rust", &mut fence);
        assert!(fence);
        assert_eq!(markdown_line("let x = *y;", &mut fence), "\x1b[36mlet x = *y;\x1b[0m");
        markdown_line("```", &mut fence);
        assert!(!fence);
        assert_eq!(
            markdown_line("see [the docs](https://pyra.dev/docs) now", &mut fence),
            "see \x1b[4mthe docs\x1b[24m \x1b[2m(https://pyra.dev/docs)\x1b[22m now"
        );
        assert_eq!(
            markdown_line("> quoted **word**", &mut fence),
            "\x1b[2m\u{2502}\x1b[0m \x1b[3mquoted \x1b[1mword\x1b[22m\x1b[23m"
        );
        assert_eq!(strip_ansi(&markdown_line("---", &mut fence)), "\u{2500}".repeat(40));
        assert_eq!(markdown_line("[not a link", &mut fence), "[not a link");
    }

    #[test]
    fn tables_line_up_in_columns() {
        let rows: Vec<String> =
            ["| Tea | Minutes |", "|-----|:-------:|", "| Green | 2 |", "| Black | 4 |"].map(String::from).to_vec();
        let shown = markdown_table(&rows, false);
        assert_eq!(
            shown,
            "Tea    Minutes\n\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\u{2500}\nGreen  2\nBlack  4\n"
        );
        assert!(is_table_row("| a |") && !is_table_row("a | b"));
    }
}
