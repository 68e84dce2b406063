//! JVM stack traces (Java, Kotlin, Scala, Groovy), as printed by `Throwable.printStackTrace` and
//! by Logback/Log4j.
//!
//! ```text
//! java.lang.IllegalStateException: payment failed
//!     at com.acme.web.Controller.handle(Controller.java:42)
//!     ... 12 more
//! Caused by: java.net.SocketTimeoutException: Read timed out
//!     at java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)
//!     ... 20 more
//! ```
//!
//! The result is the root cause, the deepest `Caused by`. Each `... N more` stands for the last
//! N frames of the enclosing trace, which are restored, so the root cause gets its full stack as
//! `Throwable.getStackTrace()` (and so Sentry's Java SDK) has it. The JVM prints the innermost
//! frame first; the frames are reversed to oldest first. `Suppressed:` blocks are skipped.

use faultline_model::Frame;

use super::text::{find_type_and_message, indent, is_blank, is_qualified_name, join_message};
use super::trace::{Language, ParsedTrace, text_frame};

/// Lines above the first frame searched for the exception header.
const HEADER_SEARCH_LINES: usize = 10;

/// Lines of a `Caused by` message kept before its first frame.
const MAX_MESSAGE_LINES: usize = 20;

/// The pieces of `at com.acme.Controller.handle(Controller.java:42)`.
#[derive(Clone, Copy)]
struct FrameParts<'a> {
    class: &'a str,
    method: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
}

impl FrameParts<'_> {
    fn to_frame(self) -> Frame {
        text_frame(Some(self.class), Some(self.method), self.file, self.line)
    }
}

pub(super) fn is_frame_line(line: &str) -> bool {
    frame_parts(line).is_some()
}

fn frame_parts(line: &str) -> Option<FrameParts<'_>> {
    if indent(line) == 0 {
        return None;
    }
    let rest = line.trim().strip_prefix("at ")?;
    let open = rest.find('(')?;
    let close = open + rest[open..].find(')')?;
    if !is_packaging_data(rest[close + 1..].trim()) {
        return None;
    }
    let symbol = without_module_prefix(&rest[..open]);
    let (class, method) = symbol.rsplit_once('.')?;
    if class.is_empty() || method.is_empty() || symbol.contains(char::is_whitespace) {
        return None;
    }
    let (file, line) = parse_location(&rest[open + 1..close])?;
    Some(FrameParts {
        class,
        method,
        file,
        line,
    })
}

/// Logback appends the jar a class came from: `~[spring-web-6.1.2.jar:6.1.2]`.
fn is_packaging_data(trailer: &str) -> bool {
    trailer.is_empty() || trailer.starts_with('[') || trailer.starts_with("~[")
}

/// Java 9+ prefixes the class loader and module: `app//com.acme.X`, `java.base/java.lang.X`.
/// A `/` after a `$` belongs to a hidden class (`Main$$Lambda$12/0x…`) and is kept.
fn without_module_prefix(symbol: &str) -> &str {
    match symbol.find('/') {
        Some(slash) if !symbol[..slash].contains('$') => {
            symbol[slash + 1..].trim_start_matches('/')
        }
        _ => symbol,
    }
}

/// `Controller.java:42`, `Controller.java`, `Native Method`, `Unknown Source`, `<generated>`.
fn parse_location(location: &str) -> Option<(Option<&str>, Option<u32>)> {
    let (file, line) = super::text::split_trailing_number(location);
    match file {
        "" | "Native Method" | "Unknown Source" | "Unknown" | "<generated>" => Some((None, line)),
        _ if file.contains(char::is_whitespace) => None,
        _ => Some((Some(file), line)),
    }
}

/// One exception of the cause chain: its header and frames, innermost first. Frames stay
/// borrowed until the root cause is known: only its frames become [`Frame`]s.
#[derive(Default)]
struct Section<'a> {
    error_type: &'a str,
    message: String,
    frames: Vec<FrameParts<'a>>,
    omitted: usize,
}

impl<'a> Section<'a> {
    /// The printed frames plus the `... N more` frames shared with the enclosing trace.
    fn full_frames(mut self, enclosing: &[FrameParts<'a>]) -> Vec<FrameParts<'a>> {
        let shared = self.omitted.min(enclosing.len());
        self.frames
            .extend_from_slice(&enclosing[enclosing.len() - shared..]);
        self.frames
    }
}

pub(super) fn parse(lines: &[&str], first_frame: usize) -> ParsedTrace {
    let mut sections = vec![top_section(lines, first_frame)];
    let mut reader = BodyReader::default();
    for line in &lines[first_frame..] {
        match reader.read(line) {
            BodyLine::Frame(frame) => current(&mut sections).frames.push(frame),
            BodyLine::Omitted(count) => current(&mut sections).omitted = count,
            BodyLine::Cause(section) => sections.push(section),
            BodyLine::CauseMessage(text) => append_message_line(current(&mut sections), text),
            BodyLine::Skipped => {}
            BodyLine::End => break,
        }
    }
    root_cause(sections)
}

fn current<'s, 'a>(sections: &'s mut [Section<'a>]) -> &'s mut Section<'a> {
    let last = sections.len() - 1;
    &mut sections[last]
}

fn append_message_line(section: &mut Section<'_>, text: &str) {
    if !section.message.is_empty() {
        section.message.push('\n');
    }
    section.message.push_str(text);
}

fn root_cause(sections: Vec<Section<'_>>) -> ParsedTrace {
    let mut frames: Vec<FrameParts<'_>> = Vec::new();
    let mut error_type = "";
    let mut message = String::new();
    for mut section in sections {
        error_type = section.error_type;
        message = std::mem::take(&mut section.message);
        frames = section.full_frames(&frames);
    }
    let frames = frames.into_iter().rev().map(FrameParts::to_frame).collect();
    ParsedTrace {
        language: Language::Jvm,
        error_type: error_type.to_owned(),
        message,
        frames,
    }
}

/// The exception header above the first frame, with the lines continuing its message.
fn top_section<'a>(lines: &[&'a str], first_frame: usize) -> Section<'a> {
    let earliest = first_frame.saturating_sub(HEADER_SEARCH_LINES);
    (earliest..first_frame)
        .rev()
        .find_map(|index| {
            let (error_type, first) = header(lines[index])?;
            let message = join_message(first, &lines[index + 1..first_frame]);
            Some(Section {
                error_type,
                message,
                ..Section::default()
            })
        })
        .unwrap_or_default()
}

/// `java.lang.IllegalStateException: msg`, possibly after `Exception in thread "main" ` or a
/// logger prefix.
fn header(line: &str) -> Option<(&str, &str)> {
    if indent(line) > 0 || is_blank(line) {
        return None;
    }
    let line = strip_thread_prefix(line.trim());
    find_type_and_message(line, is_jvm_type)
}

fn strip_thread_prefix(line: &str) -> &str {
    let Some(rest) = line.strip_prefix("Exception in thread \"") else {
        return line;
    };
    rest.find("\" ").map_or(line, |quote| &rest[quote + 2..])
}

/// JVM exception classes are package-qualified; a bare name must at least sound like one.
fn is_jvm_type(name: &str) -> bool {
    is_qualified_name(name) && (name.contains('.') || super::text::sounds_like_exception(name))
}

enum BodyLine<'a> {
    Frame(FrameParts<'a>),
    Omitted(usize),
    Cause(Section<'a>),
    CauseMessage(&'a str),
    Skipped,
    End,
}

/// Classifies the lines after the first frame, skipping `Suppressed:` blocks: a suppressed
/// exception and its own causes and frames are indented deeper than the `Suppressed:` line.
#[derive(Default)]
struct BodyReader {
    suppressed_indent: Option<usize>,
    awaiting_cause_frames: bool,
    cause_message_lines: usize,
}

impl BodyReader {
    fn read<'a>(&mut self, line: &'a str) -> BodyLine<'a> {
        let depth = indent(line);
        let trimmed = line.trim();
        if trimmed.starts_with("Suppressed: ") {
            self.suppressed_indent = Some(self.suppressed_indent.map_or(depth, |d| d.min(depth)));
            return BodyLine::Skipped;
        }
        if let Some(suppressed) = self.suppressed_indent {
            if depth > suppressed {
                return BodyLine::Skipped;
            }
            self.suppressed_indent = None;
        }
        self.read_visible(line, trimmed)
    }

    fn read_visible<'a>(&mut self, line: &'a str, trimmed: &'a str) -> BodyLine<'a> {
        if let Some(parts) = frame_parts(line) {
            self.awaiting_cause_frames = false;
            return BodyLine::Frame(parts);
        }
        if let Some(count) = omitted_count(trimmed) {
            return BodyLine::Omitted(count);
        }
        if let Some(cause) = trimmed.strip_prefix("Caused by: ") {
            self.awaiting_cause_frames = true;
            self.cause_message_lines = 0;
            let (error_type, message) =
                find_type_and_message(cause, is_jvm_type).unwrap_or(("", cause));
            return BodyLine::Cause(Section {
                error_type,
                message: message.to_owned(),
                ..Section::default()
            });
        }
        if self.awaiting_cause_frames
            && !is_blank(line)
            && self.cause_message_lines < MAX_MESSAGE_LINES
        {
            self.cause_message_lines += 1;
            return BodyLine::CauseMessage(line.trim());
        }
        BodyLine::End
    }
}

/// `... 12 more` or Logback's `... 12 common frames omitted`.
fn omitted_count(trimmed: &str) -> Option<usize> {
    let rest = trimmed.strip_prefix("... ")?;
    let (count, tail) = rest.split_once(' ')?;
    matches!(tail, "more" | "common frames omitted").then(|| count.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> Option<(String, String, Option<String>, Option<u32>)> {
        frame_parts(line).map(|p| {
            (
                p.class.to_owned(),
                p.method.to_owned(),
                p.file.map(str::to_owned),
                p.line,
            )
        })
    }

    #[test]
    fn frame_lines_in_their_variants() {
        let plain = parts("\tat com.acme.web.Controller.handle(Controller.java:42)").unwrap();
        assert_eq!(
            plain,
            (
                "com.acme.web.Controller".into(),
                "handle".into(),
                Some("Controller.java".into()),
                Some(42)
            )
        );
        let module = parts("\tat java.base/java.lang.Thread.run(Thread.java:833)").unwrap();
        assert_eq!(module.0, "java.lang.Thread");
        let loader = parts("\tat app//com.acme.Main.main(Main.java:5)").unwrap();
        assert_eq!(loader.0, "com.acme.Main");
        let native = parts("\tat jdk.internal.misc.Unsafe.park(Native Method)").unwrap();
        assert_eq!((native.2, native.3), (None, None));
        let lambda =
            parts("\tat com.acme.Main$$Lambda$12/0x0000000800c0b000.run(Unknown Source)").unwrap();
        assert_eq!(lambda.0, "com.acme.Main$$Lambda$12/0x0000000800c0b000");
        let jar = parts("    at org.x.Y.z(Y.java:10) ~[y-1.0.jar:1.0]").unwrap();
        assert_eq!(jar.3, Some(10));
    }

    #[test]
    fn non_frames_are_rejected() {
        assert!(parts("at com.acme.X.y(X.java:1)").is_none(), "not indented");
        assert!(
            parts("   at Acme.Billing.Charge(String id) in C:\\src\\Billing.cs:line 12").is_none()
        );
        assert!(parts("    at handleClick (webpack:///./src/Button.js:12:5)").is_none());
        assert!(parts("    at the end of the day (really)").is_none());
    }

    #[test]
    fn omitted_frame_markers() {
        assert_eq!(omitted_count("... 12 more"), Some(12));
        assert_eq!(omitted_count("... 3 common frames omitted"), Some(3));
        assert_eq!(omitted_count("... and more"), None);
    }

    #[test]
    fn headers_with_thread_or_logger_prefixes() {
        assert_eq!(
            header("Exception in thread \"main\" java.lang.Error: boom"),
            Some(("java.lang.Error", "boom"))
        );
        assert_eq!(
            header("java.lang.NullPointerException"),
            Some(("java.lang.NullPointerException", ""))
        );
        assert_eq!(
            header("2024-05-01 ERROR [main] o.a.c.Foo - failed com.acme.PayException: declined"),
            Some(("com.acme.PayException", "declined"))
        );
        assert_eq!(header("Application run failed"), None);
    }
}
