//! V8 stack traces (Node.js, Chrome, Edge): an `Error.stack` string.
//!
//! ```text
//! TypeError: Cannot read properties of undefined (reading 'id')
//!     at handleClick (webpack:///./src/components/Button.js:12:5)
//!     at async Promise.all (index 0)
//!     at /app/server.js:3:9
//! ```
//!
//! V8 prints the innermost frame first; the frames are reversed to oldest first. The result is
//! the outer error (the one thrown); a nested `[cause]` block ends the frames.

use faultline_model::Frame;

use super::text::{
    find_type_and_message, indent, is_blank, is_qualified_name, join_message, matching_open_paren,
    split_trailing_number,
};
use super::trace::{Language, ParsedTrace, text_frame};

/// Lines above the first frame searched for the error header.
const HEADER_SEARCH_LINES: usize = 10;

/// The pieces of `at fn (location)` or `at location`.
struct FrameParts<'a> {
    function: Option<&'a str>,
    location: &'a str,
}

pub(super) fn is_frame_line(line: &str) -> bool {
    frame_parts(line).is_some()
}

/// `at fn (location)` or `at location`, where the location must look like one: a position
/// (`file:12:5`) or a runtime placeholder. Node ends the last frame with ` {` when the error has
/// extra properties.
fn frame_parts(line: &str) -> Option<FrameParts<'_>> {
    if indent(line) == 0 {
        return None;
    }
    let rest = line.trim().strip_prefix("at ")?;
    let rest = rest.strip_suffix(" {").unwrap_or(rest);
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let parts = match matching_open_paren(rest).filter(|&open| rest[..open].ends_with(' ')) {
        Some(open) => FrameParts {
            function: Some(rest[..open].trim_end()),
            location: &rest[open + 1..rest.len() - 1],
        },
        None if !rest.contains(char::is_whitespace) => FrameParts {
            function: None,
            location: rest,
        },
        None => return None,
    };
    is_location(parts.location).then_some(parts)
}

fn is_location(location: &str) -> bool {
    is_placeholder_location(location) || split_trailing_number(location).1.is_some()
}

fn is_placeholder_location(location: &str) -> bool {
    location == "native"
        || location == "<anonymous>"
        || location.starts_with("index ")
        || location.starts_with("eval at ")
}

/// `file:line:col`, `file:line`, or a location without a file: `native`, `<anonymous>`,
/// `index 0` (inside `Promise.all`), `eval at …`.
fn parse_location(location: &str) -> (Option<&str>, Option<u32>) {
    if is_placeholder_location(location) {
        return (None, None);
    }
    let location = location.strip_prefix("file://").unwrap_or(location);
    let (without_last, last) = split_trailing_number(location);
    let (file, line) = match split_trailing_number(without_last) {
        (file, Some(line)) if last.is_some() => (file, Some(line)),
        _ => (without_last, last),
    };
    (Some(file).filter(|file| !file.is_empty()), line)
}

fn to_frame(parts: &FrameParts<'_>) -> Frame {
    let (file, line) = parse_location(parts.location);
    text_frame(None, parts.function, file, line)
}

pub(super) fn parse(lines: &[&str], first_frame: usize) -> ParsedTrace {
    let (error_type, message) = header(lines, first_frame);
    let mut frames: Vec<Frame> = lines[first_frame..]
        .iter()
        .map_while(|line| frame_parts(line))
        .map(|parts| to_frame(&parts))
        .collect();
    frames.reverse();
    ParsedTrace {
        language: Language::JavaScript,
        error_type,
        message,
        frames,
    }
}

/// The `Type: message` line above the first frame, with the lines continuing its message.
/// The nearest line whose type ends in `Error`/`Exception` wins over a nearer plain `word: text`
/// line, which is more likely part of a multi-line message.
fn header(lines: &[&str], first_frame: usize) -> (String, String) {
    let earliest = first_frame.saturating_sub(HEADER_SEARCH_LINES);
    let candidates = (earliest..first_frame).rev().filter_map(|index| {
        let (error_type, first) = header_line(lines[index])?;
        Some((index, error_type, first))
    });
    let mut fallback = None;
    for (index, error_type, first) in candidates {
        if super::text::sounds_like_exception(error_type) {
            return header_parts(lines, index, first_frame, error_type, first);
        }
        fallback.get_or_insert((index, error_type, first));
    }
    match fallback {
        Some((index, error_type, first)) => {
            header_parts(lines, index, first_frame, error_type, first)
        }
        None => (String::new(), String::new()),
    }
}

fn header_parts(
    lines: &[&str],
    index: usize,
    first_frame: usize,
    error_type: &str,
    first: &str,
) -> (String, String) {
    let message = join_message(first, &lines[index + 1..first_frame]);
    (error_type.to_owned(), message)
}

/// `TypeError: x`, `Uncaught TypeError: x`, `Error [ERR_HTTP_HEADERS_SENT]: x`, or a logger
/// prefix followed by `FetchError: x`.
fn header_line(line: &str) -> Option<(&str, &str)> {
    if is_blank(line) || frame_parts(line).is_some() {
        return None;
    }
    let line = line.trim();
    let line = line.strip_prefix("Uncaught (in promise) ").unwrap_or(line);
    let line = line.strip_prefix("Uncaught ").unwrap_or(line);
    find_type_and_message(line, is_javascript_type)
}

/// An identifier path, optionally followed by a Node error code: `Error [ERR_X]`.
fn is_javascript_type(name: &str) -> bool {
    let name = match name.split_once(" [") {
        Some((name, code)) if code.ends_with(']') && !code.contains(' ') => name,
        _ => name,
    };
    is_qualified_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(line: &str) -> Option<(Option<String>, Option<String>, Option<u32>)> {
        frame_parts(line).map(|parts| {
            let frame = to_frame(&parts);
            (frame.function, frame.file, frame.line)
        })
    }

    #[test]
    fn frame_line_variants() {
        assert_eq!(
            frame("    at handleClick (webpack:///./src/components/Button.js:12:5)"),
            Some((
                Some("handleClick".into()),
                Some("webpack:///./src/components/Button.js".into()),
                Some(12)
            ))
        );
        assert_eq!(
            frame("    at Object.<anonymous> (/app/server.js:3:9)"),
            Some((
                Some("Object.<anonymous>".into()),
                Some("/app/server.js".into()),
                Some(3)
            ))
        );
        assert_eq!(
            frame("    at async Promise.all (index 0)"),
            Some((Some("Promise.all".into()), None, None))
        );
        assert_eq!(
            frame("    at /app/x.js:1:2"),
            Some((None, Some("/app/x.js".into()), Some(1)))
        );
        assert_eq!(
            frame("    at new Pool (file:///app/pool.mjs:7:11)")
                .unwrap()
                .1
                .as_deref(),
            Some("/app/pool.mjs")
        );
        assert_eq!(
            frame("    at Array.map (<anonymous>)"),
            Some((Some("Array.map".into()), None, None))
        );
        assert_eq!(
            frame("    at eval (eval at compile (/app/t.js:1:1), <anonymous>:4:9)"),
            Some((Some("eval".into()), None, None))
        );
    }

    #[test]
    fn detection_needs_a_function_or_a_line_number() {
        assert!(is_frame_line("    at /app/x.js:1:2"));
        assert!(is_frame_line("    at handleClick (https://x/main.js:1:2)"));
        assert!(!is_frame_line("    at noon"));
        assert!(!is_frame_line("    at noon (UTC)"));
        assert!(is_frame_line(
            "    at async getDashboard (/app/src/service.js:22:19) {"
        ));
        assert!(!is_frame_line("at f (/a.js:1:2)"), "not indented");
        assert!(!is_frame_line("\tat com.acme.X.y(X.java:1)"));
    }

    #[test]
    fn header_line_variants() {
        assert_eq!(
            header_line("TypeError: x is undefined"),
            Some(("TypeError", "x is undefined"))
        );
        assert_eq!(
            header_line("Uncaught TypeError: boom"),
            Some(("TypeError", "boom"))
        );
        assert_eq!(
            header_line("Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers"),
            Some(("Error [ERR_HTTP_HEADERS_SENT]", "Cannot set headers"))
        );
        assert_eq!(
            header_line("2024-05-01T10:00:00.000Z error: request failed FetchError: timeout"),
            Some(("FetchError", "timeout"))
        );
    }
}
