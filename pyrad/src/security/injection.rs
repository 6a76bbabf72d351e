//! The prompt-injection scanner: pure, no I/O. Text from outside (inbound
//! messages, tool arguments and results, memory files) is normalised (NFKC and
//! diacritics, case, confusables in Latin-looking words, leetspeak, whitespace;
//! invisible characters removed and counted), then matched against rules in five
//! categories. Hidden content (zero-width, bidi and tag characters, base64 and
//! hex blobs, HTML comments and invisible elements) is decoded or unwrapped and
//! scanned again. Each finding has a category, a score and the matched span in
//! the original text; category scores combine their findings as a noisy-or.
//!
//! It is one layer: the approval gate is the other (see docs/SECURITY.md).

use std::ops::Range;

use proto::security::{InjectionCategory as Cat, ScanFinding, ScanVerdict};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A category whose score reaches this is flagged.
pub const THRESHOLD: f64 = 0.5;
/// Texts longer than this are scanned in their first and last halves of it:
/// the scan stays linear and bounded for a 5 MiB web page.
const MAX_SCAN_BYTES: usize = 256 * 1024;
/// Decoded blobs and hidden regions are scanned again, this deep.
const MAX_DEPTH: u8 = 2;

mod rules;

/// The compiled rule tables (about 20 MB, and each rule's lazy-DFA cache grows to
/// [`DFA_CACHE`] with use). They are built on the first scan and dropped by
/// [`release_if_idle`] after a quiet spell, so an idle daemon gives the memory back.
struct Compiled {
    words: Table,
    squeezed: Table,
}

static COMPILED: std::sync::Mutex<Option<(std::sync::Arc<Compiled>, std::time::Instant)>> = std::sync::Mutex::new(None);

/// The compiled tables, built now if they were released (about 120 ms).
fn compiled() -> std::sync::Arc<Compiled> {
    let mut slot = COMPILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = std::time::Instant::now();
    if let Some((tables, used)) = slot.as_mut() {
        *used = now;
        return tables.clone();
    }
    let tables = std::sync::Arc::new(Compiled { words: rules::words(), squeezed: rules::squeezed() });
    *slot = Some((tables.clone(), now));
    tables
}

/// Drops the compiled tables when no scan used them for `idle`, and hands the
/// freed memory back to the system; true when it did. A scan running meanwhile
/// keeps its own reference and finishes normally.
pub fn release_if_idle(idle: std::time::Duration) -> bool {
    let released = {
        let mut slot = COMPILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            Some((_, used)) if used.elapsed() >= idle => slot.take(),
            _ => None,
        }
    };
    let Some(released) = released else { return false };
    drop(released);
    crate::memtrim::trim();
    true
}

/// Scans `text`.
pub fn scan(text: &str) -> ScanVerdict {
    let mut findings = Vec::new();
    if text.len() > MAX_SCAN_BYTES {
        let head = floor_char(text, MAX_SCAN_BYTES / 2);
        let tail = ceil_char(text, text.len() - MAX_SCAN_BYTES / 2);
        scan_into(&text[..head], 0, 0, &mut findings);
        scan_into(&text[tail..], tail, 0, &mut findings);
    } else {
        scan_into(text, 0, 0, &mut findings);
    }
    verdict(findings)
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Combines findings into a verdict: noisy-or per category; two categories that
/// are each halfway there together make a flag.
fn verdict(mut findings: Vec<ScanFinding>) -> ScanVerdict {
    findings.sort_by(|a, b| a.start.cmp(&b.start).then(b.score.total_cmp(&a.score)));
    // A rule counts once per category, at its strongest: the same weak signal
    // twice ("~/.ssh" and "id_ed25519") is not two signals.
    let mut strongest: std::collections::BTreeMap<(usize, &str), f64> = std::collections::BTreeMap::new();
    for f in &findings {
        if let Some(i) = Cat::ALL.iter().position(|c| *c == f.category) {
            let s = strongest.entry((i, f.rule.as_str())).or_insert(0.0);
            *s = s.max(f.score);
        }
    }
    let mut scores = [0f64; 5];
    for ((i, _), score) in strongest {
        scores[i] = 1.0 - (1.0 - scores[i]) * (1.0 - score);
    }
    let mut score = scores.iter().copied().fold(0.0, f64::max);
    let mut categories: Vec<Cat> =
        Cat::ALL.iter().zip(scores).filter(|(_, s)| *s >= THRESHOLD).map(|(c, _)| *c).collect();
    let halfway: Vec<Cat> = Cat::ALL.iter().zip(scores).filter(|(_, s)| *s >= 0.35).map(|(c, _)| *c).collect();
    if categories.is_empty() && halfway.len() >= 2 {
        categories = halfway;
        score = score.max(THRESHOLD);
    }
    ScanVerdict { flagged: !categories.is_empty(), score: (score * 1000.0).round() / 1000.0, categories, findings }
}

/// Scans `text` (found at `base` in the outermost text) into `out`.
fn scan_into(text: &str, base: usize, depth: u8, out: &mut Vec<ScanFinding>) {
    let norm = Normalized::new(text);
    let discussion = rules::DISCUSSION.is_match(&norm.text);
    let mut add = |category: Cat, score: f64, rule: &str, span: Range<usize>| {
        let (start, end) = (base + span.start, base + span.end);
        // The same rule family matching the same place twice (two views) counts once.
        if out.iter().any(|f| f.category == category && f.start < end && start < f.end && f.score >= score) {
            return;
        }
        let score = (score * 1000.0).round() / 1000.0;
        out.push(ScanFinding { category, score, rule: rule.to_owned(), start, end, excerpt: excerpt(&text[span]) });
    };
    let mut seen: Vec<(Cat, Range<usize>, f64)> = Vec::new();
    let compiled = compiled();
    for (view, table) in [(&norm.text, &compiled.words), (&norm.squeezed, &compiled.squeezed)] {
        for rule in &table.rules {
            for m in rule.regex.find_iter(view.as_bytes()) {
                let span = if std::ptr::eq(view, &norm.squeezed) {
                    norm.squeezed_span(m.range())
                } else {
                    norm.span(m.range())
                };
                // An attack quoted in a text about attacks is an example, not an order.
                let score = if discussion && quoted(text, &span) { rule.score * 0.4 } else { rule.score };
                // One place says one thing per category: overlapping matches of several
                // rules (or of the squeezed view) count once, unless the later one is stronger.
                let overlaps = |(c, r, s): &(Cat, Range<usize>, f64)| {
                    *c == rule.category && r.start < span.end && span.start < r.end && *s >= score
                };
                if seen.iter().any(overlaps) {
                    continue;
                }
                seen.push((rule.category, span.clone(), score));
                add(rule.category, score, rule.name, span);
            }
        }
    }
    hidden_characters(text, &norm, &mut add);
    smuggled_bytes(text, &mut add);
    if depth < MAX_DEPTH {
        hidden_regions(text, base, depth, out);
        encoded_blobs(text, base, depth, out);
    }
}

/// Zero-width characters inside words, bidi controls, tag characters.
fn hidden_characters(text: &str, norm: &Normalized, add: &mut impl FnMut(Cat, f64, &str, Range<usize>)) {
    let mut in_words = 0usize;
    let mut first: Option<usize> = None;
    let mut last = 0usize;
    for &(at, c) in &norm.invisible {
        if !is_zero_width(c) {
            continue;
        }
        let before = text[..at].chars().next_back();
        let after = text[at + c.len_utf8()..].chars().find(|c| !is_zero_width(*c));
        let latin =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || (c.is_alphabetic() && c < '\u{530}'));
        // A ZWJ between emoji, a ZWNJ in Persian or Hindi, a BOM at the start: ordinary.
        if latin(before) && latin(after) || latin(before) && after.is_some_and(char::is_whitespace) {
            in_words += 1;
            first.get_or_insert(at);
            last = at + c.len_utf8();
        }
    }
    if in_words > 0 {
        let score = (0.55 + 0.1 * in_words as f64).min(0.95);
        add(Cat::Hidden, score, "zero_width_in_words", first.unwrap_or(0)..last);
    }
    // Runs of zero-width characters are how text is hidden in "invisible ink".
    let mut run = 0;
    for (at, c) in text.char_indices() {
        if is_zero_width(c) {
            run += 1;
            if run == 4 {
                add(Cat::Hidden, 0.8, "zero_width_run", at..at + c.len_utf8());
            }
        } else {
            run = 0;
        }
    }
    for &(at, c) in &norm.invisible {
        let span = at..at + c.len_utf8();
        match c {
            '\u{202D}' | '\u{202E}' => add(Cat::Hidden, 0.7, "bidi_override", span),
            '\u{202A}'..='\u{202C}' | '\u{2066}'..='\u{2069}' => {
                let rtl_nearby = text[floor_char(text, at.saturating_sub(64))..]
                    .chars()
                    .take(96)
                    .any(|c| ('\u{590}'..='\u{8ff}').contains(&c));
                if !rtl_nearby {
                    add(Cat::Hidden, 0.55, "bidi_control", span);
                }
            }
            _ => {}
        }
    }
    // Tag characters spell ASCII nobody sees; the one ordinary use is a flag emoji.
    let mut chars = text.char_indices().peekable();
    let mut previous = None;
    while let Some((at, c)) = chars.next() {
        if is_tag(c) {
            let mut hidden = String::new();
            let mut end = at + c.len_utf8();
            let mut push = |c: char| {
                if let Some(a) = char::from_u32(u32::from(c) - 0xE0000).filter(|a| a.is_ascii() && !a.is_control()) {
                    hidden.push(a);
                }
            };
            push(c);
            while let Some(&(next_at, next)) = chars.peek() {
                if !is_tag(next) {
                    break;
                }
                push(next);
                end = next_at + next.len_utf8();
                chars.next();
            }
            let flag = previous == Some('\u{1F3F4}') && hidden.len() <= 7;
            if !flag {
                let inner = scan(&hidden);
                let score = if inner.score >= 0.35 { 0.95 } else { 0.75 };
                add(Cat::Hidden, score, "tag_characters", at..end);
                for f in inner.findings {
                    add(f.category, f.score, &f.rule, at..end);
                }
            }
            previous = None;
            continue;
        }
        previous = Some(c);
    }
}

/// Variation selectors after a character carry bytes nobody sees ("emoji smuggling"):
/// a run of them is decoded both ways it is done and scanned.
fn smuggled_bytes(text: &str, add: &mut impl FnMut(Cat, f64, &str, Range<usize>)) {
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if !is_vs_supplement(c) {
            continue;
        }
        let mut run = vec![c];
        let mut end = at + c.len_utf8();
        while let Some(&(next_at, next)) = chars.peek() {
            if !(is_vs_supplement(next) || ('\u{FE00}'..='\u{FE0F}').contains(&next)) {
                break;
            }
            run.push(next);
            end = next_at + next.len_utf8();
            chars.next();
        }
        if run.len() < 4 {
            continue;
        }
        let decode = |offset: u32| -> String {
            run.iter()
                .filter_map(|c| {
                    let c = u32::from(*c);
                    let b = if c >= 0xE0100 { c - 0xE0100 + offset } else { c - 0xFE00 };
                    u8::try_from(b).ok()
                })
                .map(char::from)
                .collect()
        };
        let strongest = [0, 16].iter().map(|o| scan(&decode(*o))).max_by(|a, b| a.score.total_cmp(&b.score));
        let inner = strongest.unwrap_or_default();
        add(Cat::Hidden, if inner.score >= 0.35 { 0.95 } else { 0.8 }, "variation_selector_bytes", at..end);
        for f in inner.findings {
            add(f.category, f.score, &f.rule, at..end);
        }
    }
}

/// HTML comments, invisible elements and Markdown comments: unwrapped and scanned;
/// instructions a reader cannot see are hidden content.
fn hidden_regions(text: &str, base: usize, depth: u8, out: &mut Vec<ScanFinding>) {
    for re in rules::HIDDEN_REGIONS.iter() {
        for caps in re.captures_iter(text) {
            let (Some(whole), Some(inner)) = (caps.get(0), caps.name("inner")) else { continue };
            let mut inner_findings = Vec::new();
            scan_into(inner.as_str(), base + inner.start(), depth + 1, &mut inner_findings);
            let strongest = inner_findings.iter().map(|f| f.score).fold(0.0, f64::max);
            if strongest >= 0.35 {
                let score = if strongest >= THRESHOLD { 0.9 } else { 0.7 };
                out.push(ScanFinding {
                    category: Cat::Hidden,
                    score,
                    rule: "hidden_region".into(),
                    start: base + whole.start(),
                    end: base + whole.end(),
                    excerpt: excerpt(whole.as_str()),
                });
            }
        }
    }
}

/// Base64 and hex blobs that decode to text are scanned as that text.
fn encoded_blobs(text: &str, base: usize, depth: u8, out: &mut Vec<ScanFinding>) {
    for (re, decode) in [
        (&*rules::BASE64_BLOB, decode_base64 as fn(&str) -> Option<Vec<u8>>),
        (&*rules::HEX_BLOB, decode_hex as fn(&str) -> Option<Vec<u8>>),
    ] {
        for m in re.find_iter(text) {
            let Some(decoded) = decode(m.as_str()).and_then(|b| String::from_utf8(b).ok()) else { continue };
            if !looks_like_text(&decoded) {
                continue;
            }
            let mut inner = Vec::new();
            scan_into(&decoded, 0, depth + 1, &mut inner);
            let strongest = inner.iter().map(|f| f.score).fold(0.0, f64::max);
            if strongest < 0.35 {
                continue;
            }
            let (start, end) = (base + m.start(), base + m.end());
            out.push(ScanFinding {
                category: Cat::Hidden,
                score: if strongest >= THRESHOLD { 0.9 } else { 0.6 },
                rule: "encoded_instructions".into(),
                start,
                end,
                excerpt: excerpt(&decoded),
            });
            // What the blob says counts where the blob is.
            for f in inner {
                out.push(ScanFinding { start, end, ..f });
            }
        }
    }
}

/// Whether the match at `span` stands in quotes (or backticks) in `text`.
fn quoted(text: &str, span: &Range<usize>) -> bool {
    const QUOTES: &[char] = &['"', '\'', '`', '“', '”', '‘', '’', '«', '»', '„'];
    let before = text[..span.start].trim_end().chars().next_back();
    let after = text[span.end..].trim_start().chars().next();
    before.is_some_and(|c| QUOTES.contains(&c)) && after.is_some_and(|c| QUOTES.contains(&c) || c == '.' || c == ',')
        || text[floor_char(text, span.start.saturating_sub(1))..span.start].starts_with(QUOTES)
            && text[span.end..].trim_start().starts_with(QUOTES)
}

fn looks_like_text(s: &str) -> bool {
    let total = s.chars().count();
    let printable = s.chars().filter(|c| !c.is_control() || c.is_whitespace()).count();
    total >= 8 && printable * 100 >= total * 95 && s.contains(' ')
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let trimmed = s.trim_end_matches('=');
    let engines = [base64::engine::general_purpose::STANDARD_NO_PAD, base64::engine::general_purpose::URL_SAFE_NO_PAD];
    engines.iter().find_map(|e| e.decode(trimmed).ok())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.replace("\\x", "").replace("0x", "");
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        })
        .collect();
    digits.len().is_multiple_of(2).then(|| digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// A JSON `\\uXXXX` escape (or a surrogate pair of them) at the start of `s`: the
/// character and the escape's length in bytes.
fn unicode_escape(s: &str) -> Option<(char, usize)> {
    let unit = |s: &str| -> Option<u32> {
        let hex = s.strip_prefix("\\u")?.get(..4)?;
        u32::from_str_radix(hex, 16).ok()
    };
    let first = unit(s)?;
    if (0xD800..0xDC00).contains(&first) {
        let second = unit(s.get(6..)?)?;
        if !(0xDC00..0xE000).contains(&second) {
            return None;
        }
        let c = char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))?;
        return Some((c, 12));
    }
    Some((char::from_u32(first)?, 6))
}

fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}')
}

fn is_tag(c: char) -> bool {
    ('\u{E0000}'..='\u{E007F}').contains(&c)
}

/// Characters that render as nothing: removed before matching, remembered for the hidden rules.
fn is_invisible(c: char) -> bool {
    is_zero_width(c)
        || is_tag(c)
        || matches!(c, '\u{00AD}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{034F}')
        || ('\u{FE00}'..='\u{FE0F}').contains(&c)
        || is_vs_supplement(c)
}

fn is_vs_supplement(c: char) -> bool {
    ('\u{E0100}'..='\u{E01EF}').contains(&c)
}

/// At most 120 characters of `s`, invisible characters written out.
fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= 120 {
            out.push('…');
            break;
        }
        if is_invisible(c) || (c.is_control() && c != '\n') {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The text the rules see, with a way back to the original's bytes.
struct Normalized {
    /// Lower case, NFKC, Latin diacritics dropped, confusables and leetspeak in
    /// Latin-looking words mapped, whitespace runs as one space (or one line break),
    /// JSON string escapes undone, invisible characters removed.
    text: String,
    /// For each byte of `text`, the original's byte range of the character it came from.
    origin: Vec<(u32, u32)>,
    /// Letters and digits of `text` only: catches "i g n o r e" and "i.g.n.o.r.e".
    squeezed: String,
    /// For each byte of `squeezed`, its byte in `text`.
    squeezed_origin: Vec<u32>,
    /// The invisible characters removed, with their byte offsets.
    invisible: Vec<(usize, char)>,
}

/// One output character before the word pass decides on confusables and leetspeak.
struct Pending {
    c: char,
    /// The ASCII letters this character looks like, if it is not one.
    latin: Option<&'static str>,
    from: (u32, u32),
}

impl Normalized {
    fn new(text: &str) -> Self {
        let mut pending: Vec<Pending> = Vec::with_capacity(text.len());
        let mut invisible = Vec::new();
        let mut last_space = true;
        let mut newlines = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let mut from = (at as u32, (at + c.len_utf8()) as u32);
            // Text inside a JSON string (a tool result) has its line breaks, quotes and
            // non-ASCII characters escaped.
            let mut c = c;
            if c == '\\' {
                match chars.peek().map(|(_, n)| *n) {
                    Some(n @ ('n' | 'r' | 't')) => {
                        chars.next();
                        c = if n == 'n' { '\n' } else { ' ' };
                        from.1 += 1;
                    }
                    Some('"' | '\'' | '/') => continue,
                    Some('u') => {
                        if let Some((decoded, len)) = unicode_escape(&text[at..]) {
                            for _ in 0..len - 1 {
                                chars.next();
                            }
                            c = decoded;
                            from.1 = (at + len) as u32;
                        }
                    }
                    _ => {}
                }
            }
            if is_invisible(c) {
                invisible.push((at, c));
                continue;
            }
            if c.is_whitespace() {
                // A run of white space is one space, or one line break if it holds one.
                if !last_space {
                    pending.push(Pending { c: ' ', latin: None, from });
                    last_space = true;
                    newlines = 0;
                }
                if c == '\n'
                    && let Some(last) = pending.last_mut()
                {
                    last.c = '\n';
                    newlines += 1;
                }
                continue;
            }
            // A single line break inside a sentence (hard-wrapped mail, a line-wrapped
            // page) joins words like a space: the next line goes on in lower case.
            if last_space && newlines == 1 && c.is_lowercase() {
                let len = pending.len();
                if len >= 2
                    && pending[len - 1].c == '\n'
                    && (pending[len - 2].c.is_alphanumeric() || pending[len - 2].c == ',')
                {
                    pending[len - 1].c = ' ';
                }
            }
            last_space = false;
            if c.is_ascii() {
                pending.push(Pending { c: c.to_ascii_lowercase(), latin: None, from });
                continue;
            }
            // Latin, Greek and Cyrillic lose their diacritics; other scripts keep their composed form.
            let decomposed: Vec<char> = std::iter::once(c).nfkd().collect();
            let strip = decomposed.first().is_some_and(|d| *d < '\u{530}');
            let chars: Vec<char> = if strip {
                decomposed.into_iter().filter(|d| !is_combining_mark(*d)).collect()
            } else {
                std::iter::once(c).nfkc().collect()
            };
            for d in chars {
                for l in d.to_lowercase() {
                    let latin = if l.is_ascii() { None } else { rules::confusable(l) };
                    pending.push(Pending { c: l, latin, from });
                }
            }
        }
        // A text written in leetspeak throughout ("B3f0r3 4ny7h1ng") maps every digit in a word with letters.
        let mixed_words = pending
            .split(|p| !p.c.is_alphanumeric())
            .filter(|w| w.iter().any(|p| p.c.is_alphabetic()) && w.iter().any(|p| p.c.is_ascii_digit()))
            .count();
        let leet_text = mixed_words >= 3;
        let mut text_out = String::with_capacity(pending.len());
        let mut origin = Vec::with_capacity(pending.len());
        let mut i = 0;
        while i < pending.len() {
            if !pending[i].c.is_alphanumeric() {
                push(&mut text_out, &mut origin, pending[i].c, pending[i].from);
                i += 1;
                continue;
            }
            let end = (i..pending.len()).find(|&j| !pending[j].c.is_alphanumeric()).unwrap_or(pending.len());
            let word = &pending[i..end];
            // Mapped only when the whole word can read as Latin: Russian stays Russian.
            let looks_latin = word.iter().all(|p| p.c.is_ascii() || p.latin.is_some());
            // "u53r'5": in a leetspeak text a lone digit after an apostrophe is a letter too.
            let after_apostrophe = i > 0 && pending[i - 1].c == '\'' && word.len() == 1;
            let leet = if leet_text && (after_apostrophe || word.iter().any(|p| p.c.is_alphabetic())) {
                word.iter().map(|p| p.c.is_ascii_digit()).collect()
            } else {
                leet_positions(word)
            };
            for (k, p) in word.iter().enumerate() {
                match (p.latin, looks_latin) {
                    (Some(latin), true) => {
                        for l in latin.chars() {
                            push(&mut text_out, &mut origin, l, p.from);
                        }
                    }
                    _ => {
                        let c = if leet[k] { rules::unleet(p.c) } else { p.c };
                        push(&mut text_out, &mut origin, c, p.from);
                    }
                }
            }
            i = end;
        }
        let mut squeezed = String::new();
        let mut squeezed_origin = Vec::new();
        for (at, c) in text_out.char_indices() {
            if c.is_alphanumeric() {
                squeezed.push(c);
                squeezed_origin.extend(std::iter::repeat_n(at as u32, c.len_utf8()));
            }
        }
        Normalized { text: text_out, origin, squeezed, squeezed_origin, invisible }
    }

    /// The original's bytes for a range of `text`.
    fn span(&self, r: Range<usize>) -> Range<usize> {
        if r.start >= r.end || r.end > self.origin.len() {
            return 0..0;
        }
        self.origin[r.start].0 as usize..self.origin[r.end - 1].1 as usize
    }

    fn squeezed_span(&self, r: Range<usize>) -> Range<usize> {
        if r.start >= r.end || r.end > self.squeezed_origin.len() {
            return 0..0;
        }
        let start = self.squeezed_origin[r.start] as usize;
        let last = self.squeezed_origin[r.end - 1] as usize;
        let last_end = self.text[last..].chars().next().map_or(last, |c| last + c.len_utf8());
        self.span(start..last_end)
    }
}

/// Which digits of a word are leetspeak: a run of digits between letters
/// ("l33t", "pr3v10us"), or leading a word of letters ("1gnore"); not a
/// version at the end ("python3", "sha256").
fn leet_positions(word: &[Pending]) -> Vec<bool> {
    let letter = |k: usize| word.get(k).is_some_and(|p| p.c.is_alphabetic());
    let letters = word.iter().filter(|p| p.c.is_alphabetic()).count();
    let mut out = vec![false; word.len()];
    let mut trailing = None;
    let mut k = 0;
    while k < word.len() {
        if !word[k].c.is_ascii_digit() {
            k += 1;
            continue;
        }
        let run_end = (k..word.len()).find(|&j| !word[j].c.is_ascii_digit()).unwrap_or(word.len());
        let before = k > 0 && letter(k - 1);
        let after = letter(run_end);
        if (before && after) || (k == 0 && after && letters >= 3) {
            out[k..run_end].iter_mut().for_each(|b| *b = true);
        } else if before && run_end == word.len() {
            trailing = Some(k);
        }
        k = run_end;
    }
    // "1gn0r3": a trailing digit counts once the word is leetspeak elsewhere.
    if let Some(t) = trailing
        && out.iter().any(|b| *b)
    {
        out[t..].iter_mut().for_each(|b| *b = true);
    }
    out
}

fn push(text: &mut String, origin: &mut Vec<(u32, u32)>, c: char, from: (u32, u32)) {
    text.push(c);
    origin.extend(std::iter::repeat_n(from, c.len_utf8()));
}

/// A rule: a regex over one view of the text.
struct Rule {
    name: &'static str,
    category: Cat,
    score: f64,
    regex: regex::bytes::Regex,
}

/// Rules of one view. Each rule runs on its own: a `RegexSet` of them all is too
/// big for the lazy DFA's cache and falls back to the PikeVM (measured 0.2 MB/s
/// against 2.3 MB/s for the rules one by one).
struct Table {
    rules: Vec<Rule>,
}

impl Table {
    fn new(specs: &[(&'static str, Cat, f64, &str)]) -> Self {
        // ASCII word boundaries keep the lazy DFA on (Unicode ones fall back to a slower engine).
        // A space in a rule is any break between words: one space or one line break.
        // The rules run over bytes: a window such as `[^.\n]{0,40}` is 40 bytes of one
        // small class, not 40 copies of a Unicode automaton (that cost 30 MB of RSS).
        let patterns: Vec<String> = specs
            .iter()
            .map(|(_, _, _, p)| {
                p.replace(r"\b", r"(?-u:\b)")
                    .replace(' ', r"[ \n]")
                    .replace(r"[^.\n]", r"(?-u:[^.\n])")
                    .replace(r"[^.\n?]", r"(?-u:[^.\n?])")
                    .replace(r"[^\n]", r"(?-u:[^\n])")
                    .replace(r"\S", r"(?-u:\S)")
            })
            .collect();
        let rules = specs
            .iter()
            .zip(&patterns)
            .map(|((name, category, score, _), p)| Rule {
                name,
                category: *category,
                score: *score,
                regex: regex::bytes::RegexBuilder::new(p)
                    .dfa_size_limit(DFA_CACHE)
                    .build()
                    .expect("the scanner's rules are valid regexes (tested)"),
            })
            .collect();
        Table { rules }
    }
}

/// Bytes of lazy-DFA cache each rule may grow. regex's default (2 MiB) let pyrad
/// grow by over 100 MiB in the corpus bench. Measured on the corpus (one thread,
/// peak RSS / throughput / a 4000-character page p50): 2 MiB 72 MB / 2.8 MB/s /
/// 0.38 ms; 1 MiB 66 MB / 2.3 MB/s / 0.38 ms; 512 KiB 61 MB / 1.6 MB/s / 3.0 ms;
/// 256 KiB 55 MB / 1.1 MB/s / 4.0 ms. Below 1 MiB the caches thrash.
const DFA_CACHE: usize = 1024 * 1024;

#[cfg(test)]
mod tests;
