//! Finding a stack trace inside free text and dispatching it to the parser of its language.

use std::fmt;

use faultline_model::Frame;

use super::fingerprint::{Fingerprint, fingerprint};
use super::library::is_library_frame;
use super::{go, javascript, jvm, python};

/// The language a text trace was written by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    Python,
    /// Java, Kotlin, Scala, Groovy: anything printed by `Throwable.printStackTrace`.
    Jvm,
    /// V8 stacks: Node.js, Chrome, Edge.
    JavaScript,
    Go,
}

impl Language {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Jvm => "jvm",
            Language::JavaScript => "javascript",
            Language::Go => "go",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stack trace read from text: the exception that escaped (Python, JavaScript, Go) or the root
/// cause (JVM), with its frames oldest call first and the crash site last, as Sentry orders them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedTrace {
    pub language: Language,
    /// As printed, qualified when the runtime qualifies it (`psycopg2.OperationalError`); empty
    /// when the trace was cut before its exception line.
    pub error_type: String,
    pub message: String,
    pub frames: Vec<Frame>,
}

/// Finds and parses the first stack trace in `text`, which may carry a logger prefix or other
/// lines around it; `None` when there is none. A one-line text is rejected after a single scan
/// for a newline, so this can run on every ingested event.
#[must_use]
pub fn parse_trace(text: &str) -> Option<ParsedTrace> {
    if text.as_bytes().contains(&b'\n') {
        return parse_lines(text);
    }
    if has_escaped_newline(text) {
        return parse_lines(&unescape_control_characters(text));
    }
    None
}

/// Parses the trace in `text` and fingerprints it.
#[must_use]
pub fn fingerprint_text(text: &str) -> Option<(Fingerprint, ParsedTrace)> {
    let trace = parse_trace(text)?;
    Some((fingerprint(&trace.error_type, &trace.frames), trace))
}

fn parse_lines(text: &str) -> Option<ParsedTrace> {
    let first = text.lines().position(|line| marker(line).is_some())?;
    let lines: Vec<&str> = text.lines().collect();
    (first..lines.len()).find_map(|index| parse_at(&lines, index))
}

fn parse_at(lines: &[&str], index: usize) -> Option<ParsedTrace> {
    match marker(lines[index])? {
        Language::Python => Some(python::parse(lines, index)),
        Language::Jvm => Some(jvm::parse(lines, index)),
        Language::JavaScript => Some(javascript::parse(lines, index)),
        Language::Go => Some(go::parse(lines, index)),
    }
}

/// The language whose trace starts at this line: a Python traceback header, the first frame of
/// a JVM or V8 stack, or a Go goroutine header.
fn marker(line: &str) -> Option<Language> {
    let trimmed = line.trim_start();
    match trimmed.as_bytes().first()? {
        b'a' if trimmed.len() < line.len() => {
            if javascript::is_frame_line(line) {
                Some(Language::JavaScript)
            } else if jvm::is_frame_line(line) {
                Some(Language::Jvm)
            } else {
                None
            }
        }
        b'g' if go::is_goroutine_header(line) => Some(Language::Go),
        _ => python::is_header(line).then_some(Language::Python),
    }
}

/// A trace flattened into one line, as some JSON log shippers leave it: `…\n\tat …`.
fn has_escaped_newline(text: &str) -> bool {
    text.as_bytes().contains(&b'\\') && text.contains("\\n")
}

/// Turns `\n`, `\t`, `\"` and `\\` back into the characters they stand for. A bare `"` closes
/// the quoted string the trace was flattened into (`"stack":"TypeError: …"}`), so it becomes a
/// line break: the trace's last line then ends where the string did.
fn unescape_control_characters(text: &str) -> String {
    let mut unescaped = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            unescaped.push('\n');
            continue;
        }
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => unescaped.push('\n'),
            Some('t') => unescaped.push('\t'),
            Some('r') => {}
            Some(other @ ('"' | '\\' | '/')) => unescaped.push(other),
            Some(other) => {
                unescaped.push('\\');
                unescaped.push(other);
            }
            None => unescaped.push('\\'),
        }
    }
    unescaped
}

/// A frame read from text, flagged in-app by the same test the fingerprint uses.
pub(super) fn text_frame(
    module: Option<&str>,
    function: Option<&str>,
    file: Option<&str>,
    line: Option<u32>,
) -> Frame {
    let mut frame = Frame {
        module: module.filter(|m| !m.is_empty()).map(str::to_owned),
        function: function.filter(|f| !f.is_empty()).map(str::to_owned),
        file: file.filter(|f| !f.is_empty()).map(str::to_owned),
        line,
        in_app: false,
    };
    frame.in_app = !is_library_frame(&frame);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_json_style_sequences() {
        let flat = r#"{"stack":"Error: x\n    at f (\"/a.js\":1:2)\\n\q"}"#;
        assert_eq!(
            unescape_control_characters(flat),
            "{\nstack\n:\nError: x\n    at f (\"/a.js\":1:2)\\n\\q\n}"
        );
    }

    #[test]
    fn one_line_texts_are_not_traces() {
        assert_eq!(parse_trace("GET /api/users 200 12ms at 10.0.0.1"), None);
        assert_eq!(
            parse_trace("Traceback (most recent call last): truncated"),
            None
        );
    }
}
