//! Tokenizer: turns one message into a sequence of masked tokens.
//!
//! 1. Split on ASCII whitespace; a dot leader (`label......value`) also ends
//!    a token, so the label and the value become two tokens.
//! 2. Strip wrapping punctuation and classify each core with [`super::mask`].
//!    Quoted text is a variable, even when it holds spaces (up to
//!    256 bytes), and so is an empty pair of brackets or quotes (`()`) and
//!    a bracketed value of a key (`ids=[1, 2, 3]`).
//! 3. Use the neighbours: a unit word after a number joins it (`403 bytes`,
//!    `(1.2 KB)`), a month/weekday/time-zone word next to a variable is part
//!    of a date.
//! 4. Compact variable runs: consecutive variables become one `<*>`, and
//!    variables right after a masked `key=value` belong to that value. This
//!    makes lists of values (`blk_1 blk_2 blk_3`, `1190 bytes (1.16 KB)`)
//!    independent of their length.
//! 5. Collapse repeated groups that hold a variable (`n1 <ok> n2 <ok>` →
//!    `<*> <ok>`), for lists of structured items.

use super::VARIABLE;
use super::hashing;
use super::mask::{self, Classes, CoreClass, class};
use xxhash_rust::xxh3::xxh3_64;

/// A byte range in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Self {
        // Messages longer than 4 GiB are cut by the caller.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    fn slice(self, line: &str) -> &str {
        line.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }

    fn bytes(self, line: &[u8]) -> &[u8] {
        line.get(self.start as usize..self.end as usize)
            .unwrap_or(&[])
    }
}

/// How a token is written in a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The message text itself.
    Literal(Span),
    /// `before` + `<*>` + `after`: a variable in brackets (`[<*>]`), or a
    /// key with a masked value (`uid=<*>`).
    Masked { before: Span, after: Span },
}

/// One masked token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// Hash of the token's template text.
    pub key: u64,
    /// True when the whole token is a variable.
    pub variable: bool,
    pub shape: Shape,
}

impl Token {
    /// Append the token's template text to `out`.
    pub fn render(&self, line: &str, out: &mut String) {
        match self.shape {
            Shape::Literal(span) => out.push_str(span.slice(line)),
            Shape::Masked { before, after } => {
                out.push_str(before.slice(line));
                out.push_str(VARIABLE);
                out.push_str(after.slice(line));
            }
        }
    }
}

/// A whitespace token with its core located and classified.
#[derive(Debug, Clone, Copy)]
struct RawToken {
    whole: Span,
    core: Span,
    class: CoreClass,
}

impl Default for RawToken {
    fn default() -> Self {
        RawToken {
            whole: Span::default(),
            core: Span::default(),
            class: CoreClass::Constant,
        }
    }
}

impl RawToken {
    fn is_variable(&self) -> bool {
        matches!(self.class, CoreClass::Variable { .. })
    }

    fn is_number(&self) -> bool {
        matches!(self.class, CoreClass::Variable { numeric: true })
    }
}

/// Reusable tokenizer buffers; one per miner, so tokenizing allocates nothing
/// in the steady state.
#[derive(Debug, Default)]
pub(crate) struct Tokenizer {
    raw: Vec<RawToken>,
    tokens: Vec<Token>,
    text: Vec<u8>,
    var_key: u64,
}

/// Longest message looked at; the rest is ignored.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

impl Tokenizer {
    #[must_use]
    pub fn new() -> Self {
        Tokenizer {
            var_key: hashing::var_key(),
            ..Tokenizer::default()
        }
    }

    /// Tokenize and mask `line`. The tokens borrow nothing from the line but
    /// their spans refer to it.
    pub fn tokenize(&mut self, line: &str) -> &[Token] {
        let bytes = line.as_bytes();
        let bytes = &bytes[..bytes.len().min(MAX_MESSAGE_BYTES)];
        self.split(bytes);
        self.mark_dates(bytes);
        self.compact(bytes);
        collapse_repeats(&mut self.tokens);
        &self.tokens
    }

    /// Step 1 and 2: split and classify.
    fn split(&mut self, line: &[u8]) {
        self.raw.clear();
        let mut i = 0;
        while i < line.len() {
            if line[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let (mut classes, mut len) = Classes::scan_word(&line[i..]);
            if classes.has(class::DOT) {
                if let Some(leader_end) = dot_leader_end(&line[i..i + len]) {
                    len = leader_end;
                    classes = Classes::of(&line[i..i + len]);
                }
            }
            if classes.has(class::OTHER) {
                if let Some(quoted_end) = quoted_text_end(line, i, len) {
                    len = quoted_end;
                    classes = Classes::of(&line[i..i + len]);
                }
            }
            // Filled in place: assembling the token on the stack and moving
            // it costs a store-forwarding stall per token.
            self.raw.push(RawToken::default());
            if let Some(slot) = self.raw.last_mut() {
                classify_token(line, i, i + len, classes, slot);
            }
            i += len;
        }
    }

    /// Step 3b: month, weekday and zone words next to a variable are
    /// variables. Right to left, so chains like `Fri Jul 01` are caught.
    fn mark_dates(&mut self, line: &[u8]) {
        for i in (0..self.raw.len()).rev() {
            let next_variable = self.raw.get(i + 1).is_some_and(RawToken::is_variable);
            let previous_variable = i > 0 && self.raw[i - 1].is_variable();
            if next_variable || previous_variable {
                mark_if_date_word(&mut self.raw[i], line);
            }
        }
    }

    /// Steps 3a and 4: unit absorption and run compaction, then hashing.
    fn compact(&mut self, line: &[u8]) {
        self.tokens.clear();
        let mut i = 0;
        // Whether the last token pushed was a variable or a masked key/value
        // (which a following variable joins).
        let mut open_value = false;
        while i < self.raw.len() {
            let raw = self.raw[i];
            i += 1;
            match raw.class {
                CoreClass::Constant => {
                    let key = xxh3_64(raw.whole.bytes(line));
                    let literal = raw.whole.bytes(line) == VARIABLE.as_bytes();
                    self.tokens.push(Token {
                        key,
                        variable: literal,
                        shape: Shape::Literal(raw.whole),
                    });
                    open_value = literal;
                }
                CoreClass::KeyValue { value_at } => {
                    let before = Span::new(
                        raw.whole.start as usize,
                        (raw.core.start + value_at) as usize,
                    );
                    let after = Span::new(value_end(line, raw), raw.whole.end as usize);
                    let token = self.masked(line, before, after, false);
                    self.tokens.push(token);
                    open_value = true;
                }
                CoreClass::Variable { .. } => {
                    let mut last = raw;
                    if raw.is_number() && i < self.raw.len() && is_unit(&self.raw[i], line) {
                        last = self.raw[i];
                        i += 1;
                    }
                    if open_value {
                        // Part of the previous value: a plain variable run
                        // becomes one `<*>`, a key/value keeps its shape.
                        let plain = self.plain_variable();
                        if let Some(prev) = self.tokens.last_mut() {
                            if prev.variable {
                                *prev = plain;
                            }
                        }
                        continue;
                    }
                    let token = self.variable(line, raw, last);
                    self.tokens.push(token);
                    open_value = true;
                }
            }
        }
    }

    /// Variable spanning `first..=last`, keeping a bracket or quote pair
    /// that encloses it (`[<*>]`, `(<*>)`).
    fn variable(&mut self, line: &[u8], first: RawToken, last: RawToken) -> Token {
        let lead = first.core.start;
        let trail = last.core.end;
        if lead > first.whole.start && trail < last.whole.end {
            let open = line[lead as usize - 1];
            if mask::closer_of(open) == Some(line[trail as usize]) {
                let before = Span::new(lead as usize - 1, lead as usize);
                let after = Span::new(trail as usize, trail as usize + 1);
                return self.masked(line, before, after, true);
            }
        }
        self.plain_variable()
    }

    fn plain_variable(&self) -> Token {
        Token {
            key: self.var_key,
            variable: true,
            shape: Shape::Masked {
                before: Span::default(),
                after: Span::default(),
            },
        }
    }

    fn masked(&mut self, line: &[u8], before: Span, after: Span, variable: bool) -> Token {
        self.text.clear();
        self.text.extend_from_slice(before.bytes(line));
        self.text.extend_from_slice(VARIABLE.as_bytes());
        self.text.extend_from_slice(after.bytes(line));
        Token {
            key: xxh3_64(&self.text),
            variable,
            shape: Shape::Masked { before, after },
        }
    }
}

/// Longest repeated group that [`collapse_repeats`] looks for.
const MAX_REPEAT_UNIT: usize = 4;

/// Drop immediate repetitions of a group of 2 to [`MAX_REPEAT_UNIT`] tokens
/// that contains a variable, keeping the first copy.
fn collapse_repeats(tokens: &mut Vec<Token>) {
    let mut len = 0;
    for i in 0..tokens.len() {
        tokens[len] = tokens[i];
        len += 1;
        for unit in 2..=MAX_REPEAT_UNIT.min(len / 2) {
            let (earlier, last) = tokens[len - 2 * unit..len].split_at(unit);
            let repeated = earlier.iter().zip(last).all(|(a, b)| a.key == b.key);
            if repeated && last.iter().any(|t| t.variable) {
                len -= unit;
                break;
            }
        }
    }
    tokens.truncate(len);
}

/// End of the value of a key/value token: its trailing punctuation belongs
/// to the value (`pci_stats=[]`, `tag="a b"`) unless it closes a bracket
/// opened before the key (`(HWID=1973)`).
fn value_end(line: &[u8], raw: RawToken) -> usize {
    let opened = &line[raw.whole.start as usize..raw.core.start as usize];
    let mut end = raw.core.end as usize;
    while end < raw.whole.end as usize {
        let b = line[end];
        let closes_lead = opened.iter().any(|&o| mask::closer_of(o) == Some(b));
        let closer = matches!(b, b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b'`');
        if !closer || closes_lead {
            break;
        }
        end += 1;
    }
    end
}

/// Longest quoted or bracketed value taken as one token, in bytes.
const MAX_GROUPED_BYTES: usize = 256;

/// When the token at `start` opens a quote or bracket that it does not
/// close, the length of the token that runs to the closing quote or bracket
/// at the end of a later word. This keeps a value with spaces in one token:
///
/// * quoted text: `"View Lock"`, `'my file'`, `tag="View Lock",`;
/// * a bracketed key value: `bounds=Rect(0, 0 - 10, 10)`, `ids=[1, 2, 3]`.
///
/// Bracketed text without a key (`(Lifecycle Event)`) is often constant
/// prose and stays split.
fn quoted_text_end(line: &[u8], start: usize, len: usize) -> Option<usize> {
    let token = &line[start..start + len];
    let eq = token.iter().position(|&b| b == b'=');
    let (open, value_start) = match eq {
        _ if is_quote(token[0]) => (token[0], 0),
        Some(eq) if token.get(eq + 1).copied().is_some_and(is_quote) => (token[eq + 1], eq + 1),
        Some(eq) => (
            *token[eq + 1..]
                .iter()
                .find(|&&b| mask::closer_of(b).is_some())?,
            eq + 1,
        ),
        None => return None,
    };
    let close = mask::closer_of(open)?;
    // Depth of the group at the end of this token: quotes pair up, brackets
    // nest.
    let mut depth = 0usize;
    for &b in &token[value_start..] {
        depth = group_depth(depth, b, open, close);
    }
    if depth == 0 {
        return None;
    }
    let limit = line.len().min(start + len + MAX_GROUPED_BYTES);
    for j in start + len..limit {
        depth = group_depth(depth, line[j], open, close);
        if depth == 0 {
            let mut end = j + 1;
            while end < line.len() && mask::is_trailing_punct(line[end]) {
                end += 1;
            }
            if end == line.len() || line[end].is_ascii_whitespace() {
                return Some(end - start);
            }
            return None;
        }
    }
    None
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'')
}

/// Nesting depth after byte `b` of a group opened by `open`.
fn group_depth(depth: usize, b: u8, open: u8, close: u8) -> usize {
    if open == close {
        // Quotes: the first one opens, the next one closes.
        if b == open {
            return usize::from(depth == 0);
        }
        depth
    } else if b == open {
        depth + 1
    } else if b == close {
        depth.saturating_sub(1)
    } else {
        depth
    }
}

/// Where a dot leader (three or more dots followed by something else, as
/// in `label......value`) ends inside `word`, if there is one.
fn dot_leader_end(word: &[u8]) -> Option<usize> {
    let mut dots = 0;
    for (i, &b) in word.iter().enumerate() {
        if b == b'.' {
            dots += 1;
        } else {
            if dots >= 3 && i > dots {
                return Some(i);
            }
            dots = 0;
        }
    }
    None
}

#[inline(always)]
fn classify_token(line: &[u8], start: usize, end: usize, classes: Classes, out: &mut RawToken) {
    let mut core_start = start;
    while core_start < end && mask::is_leading_punct(line[core_start]) {
        core_start += 1;
    }
    let mut core_end = end;
    while core_end > core_start && mask::is_trailing_punct(line[core_end - 1]) {
        core_end -= 1;
    }
    let class = if core_start == core_end {
        if is_quoted(line, start, core_start, core_end, end) {
            // `()`, `""`: an empty value.
            CoreClass::Variable { numeric: false }
        } else {
            CoreClass::Constant
        }
    } else if is_quoted(line, start, core_start, core_end, end) {
        CoreClass::Variable { numeric: false }
    } else {
        let core = &line[core_start..core_end];
        let stripped = core_start > start || core_end < end;
        mask::classify_with(core, if stripped { Classes::of(core) } else { classes })
    };
    out.whole = Span::new(start, end);
    out.core = Span::new(core_start, core_end);
    out.class = class;
}

/// A core in matching quotes (`'sparkDriver'`, `"eth0"`), or an empty pair
/// of brackets or quotes (`()`, `""`): a value.
fn is_quoted(line: &[u8], start: usize, core_start: usize, core_end: usize, end: usize) -> bool {
    if core_start == start || core_end == end {
        return false;
    }
    let open = line[core_start - 1];
    let close = line[core_end];
    if core_start == core_end {
        mask::closer_of(open) == Some(close)
    } else {
        matches!(open, b'\'' | b'"' | b'`') && close == open
    }
}

fn mark_if_date_word(raw: &mut RawToken, line: &[u8]) {
    if raw.class == CoreClass::Constant && mask::is_date_word(raw.core.bytes(line)) {
        raw.class = CoreClass::Variable { numeric: false };
    }
}

fn is_unit(raw: &RawToken, line: &[u8]) -> bool {
    raw.class == CoreClass::Constant && mask::is_unit_word(raw.core.bytes(line))
}

/// The masked form of a message, tokens joined by one space (for tests,
/// debugging and tools).
#[must_use]
pub fn mask_line(line: &str) -> String {
    let mut tokenizer = Tokenizer::new();
    let mut out = String::new();
    for (i, token) in tokenizer.tokenize(line).iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        token.render(line, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(mask_line("  a  b\tc \n"), "a b c");
        assert_eq!(mask_line(""), "");
        assert_eq!(mask_line("   "), "");
    }

    #[test]
    fn masks_variables_keeping_brackets() {
        assert_eq!(
            mask_line("Connection closed by 173.234.31.186 [preauth]"),
            "Connection closed by <*> [preauth]"
        );
        assert_eq!(
            mask_line("reverse mapping for host.example.com [1.2.3.4] failed"),
            "reverse mapping for <*> failed"
        );
        assert_eq!(mask_line("state (HWID=1973)"), "state (HWID=<*>)");
        assert_eq!(mask_line("exceeded (41C) here"), "exceeded (<*>) here");
    }

    #[test]
    fn collapses_variable_runs() {
        assert_eq!(mask_line("delete blk_1 blk_2 blk_3"), "delete <*>");
        assert_eq!(
            mask_line("Fan speeds ( 3552 3534 **** 3515 )"),
            "Fan speeds ( <*> **** <*> )"
        );
    }

    #[test]
    fn collapses_repeated_groups() {
        assert_eq!(
            mask_line("inconsistent nodesets node-1 0x1fc <ok> node-2 0x1fc <ok> node-7 0x3 <ok>"),
            "inconsistent nodesets <*> <ok>"
        );
        assert_eq!(
            mask_line("iar 0x1 dear 0x2 iar 0x3 dear 0x4"),
            "iar <*> dear <*>"
        );
        assert_eq!(mask_line("a b a b"), "a b a b");
    }

    #[test]
    fn units_join_numbers() {
        assert_eq!(
            mask_line("close, 1190 bytes (1.16 KB) sent, 403 bytes received, lifetime <1 sec"),
            "close, <*> sent, <*> received, lifetime <*>"
        );
        assert_eq!(mask_line("took 15 ms."), "took <*>");
        assert_eq!(mask_line("repeated 5 times"), "repeated <*> times");
    }

    #[test]
    fn dates_are_one_variable() {
        assert_eq!(
            mask_line("chip up Fri Jul 01 08:16:53 PDT 2005"),
            "chip up <*>"
        );
        assert_eq!(
            mask_line("status=M Fri Jul 01 08:16:53 PDT 2005"),
            "status=<*>"
        );
        assert_eq!(mask_line("built on 06/10/2013 17:26 GMT"), "built on <*>");
        assert_eq!(mask_line("May I help"), "May I help");
    }

    #[test]
    fn key_values_absorb_value_lists() {
        assert_eq!(
            mask_line("uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4"),
            "uid=<*> euid=<*> tty=<*> ruser= rhost=<*>"
        );
        assert_eq!(
            mask_line("pci_stats=[] (HWID=1973) a=b,"),
            "pci_stats=<*> (HWID=<*>) a=<*>,"
        );
        assert_eq!(mask_line("nodes:node-[224\\ 228\\ 232]"), "nodes:<*>");
    }

    #[test]
    fn dot_leaders_split_label_and_value() {
        assert_eq!(
            mask_line("program interrupt: illegal instruction......0"),
            "program interrupt: illegal instruction...... <*>"
        );
        assert_eq!(mask_line("wait..."), "wait...");
        assert_eq!(mask_line("a.b.c"), "a.b.c");
    }

    #[test]
    fn quoted_words_are_variables() {
        assert_eq!(
            mask_line("Successfully started service 'sparkDriver' on port 36536."),
            "Successfully started service '<*>' on port <*>"
        );
        assert_eq!(mask_line("tag=\"View Lock\", name=x"), "tag=<*>, name=<*>");
        assert_eq!(
            mask_line("open \"my file.txt\" failed"),
            "open \"<*>\" failed"
        );
        assert_eq!(mask_line("say 'hello world' 'again"), "say '<*>' 'again");
        assert_eq!(
            mask_line("connection from 1.2.3.4 () at x"),
            "connection from <*> at x"
        );
        assert_eq!(mask_line("bounds=Rect(0, 0 - 10, 10) ok"), "bounds=<*> ok");
        assert_eq!(mask_line("ids=[a, b, c], next"), "ids=<*>, next");
        assert_eq!(
            mask_line("VM Started (Lifecycle Event)"),
            "VM Started (Lifecycle Event)"
        );
        assert_eq!(mask_line("x=(unclosed a b"), "x=<*> a b");
        assert_eq!(mask_line("it's"), "it's");
    }

    #[test]
    fn literal_placeholder_is_a_variable() {
        let mut t = Tokenizer::new();
        let tokens = t.tokenize("x <*> y").to_vec();
        assert!(tokens[1].variable);
        assert_eq!(tokens[1].key, hashing::var_key());
    }

    #[test]
    fn multilingual_text_is_kept() {
        assert_eq!(mask_line("用户 登录 失败 42"), "用户 登录 失败 <*>");
        assert_eq!(mask_line("Größe überschritten"), "Größe überschritten");
    }
}
