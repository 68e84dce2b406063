//! Python tracebacks, as printed by `traceback.print_exc()` and the `logging` module.
//!
//! ```text
//! Traceback (most recent call last):
//!   File "/srv/app/app/views/dashboard.py", line 88, in get
//!     rows = load_rows()
//! psycopg2.OperationalError: could not connect to server
//! ```
//!
//! Python already prints frames oldest call first. Chained tracebacks ("During handling of the
//! above exception…", "The above exception was the direct cause…") are followed to the last one,
//! the exception that escaped.

use faultline_model::Frame;

use super::text::{indent, is_blank, is_qualified_name, join_message, split_type_and_message};
use super::trace::{Language, ParsedTrace, text_frame};

const HEADER: &str = "Traceback (most recent call last):";

const CHAIN_SEPARATORS: [&str; 2] = [
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
];

/// Lines of a multi-line exception message kept at most.
const MAX_MESSAGE_LINES: usize = 50;

/// The traceback header, alone or after a logger prefix on the same line.
pub(super) fn is_header(line: &str) -> bool {
    line.trim_start().starts_with(HEADER) || line.trim_end().ends_with(HEADER)
}

pub(super) fn parse(lines: &[&str], header: usize) -> ParsedTrace {
    let mut block = parse_block(lines, header);
    while let Some(next_header) = chained_header(lines, block.end) {
        block = parse_block(lines, next_header);
    }
    block.trace
}

/// One traceback of a chain, and the index of the first line after it.
struct Block {
    trace: ParsedTrace,
    end: usize,
}

fn parse_block(lines: &[&str], header: usize) -> Block {
    let mut frames = Vec::new();
    let mut index = header + 1;
    while let Some(line) = lines.get(index) {
        if let Some(frame) = parse_frame_line(line) {
            frames.push(frame);
        } else if !is_source_line(line) {
            break;
        }
        index += 1;
    }
    let (error_type, message, end) = parse_exception(lines, index);
    let trace = ParsedTrace {
        language: Language::Python,
        error_type,
        message,
        frames,
    };
    Block { trace, end }
}

/// The source excerpt, caret markers and `[Previous line repeated N more times]` lines printed
/// under a frame: all indented.
fn is_source_line(line: &str) -> bool {
    indent(line) > 0 && !is_blank(line)
}

/// `  File "/srv/app/views.py", line 88, in get`
fn parse_frame_line(line: &str) -> Option<Frame> {
    let rest = line.trim_start().strip_prefix("File \"")?;
    let (file, rest) = rest.split_once("\", line ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let line_number = rest[..digits].parse().ok();
    let function = rest[digits..].strip_prefix(", in ").map(str::trim);
    Some(text_frame(None, function, Some(file), line_number))
}

/// The exception line at `index` and the lines continuing its message, up to a blank line.
fn parse_exception(lines: &[&str], index: usize) -> (String, String, usize) {
    let Some((error_type, first)) = lines.get(index).and_then(|line| exception_line(line)) else {
        return (String::new(), String::new(), index);
    };
    let continuation: &[&str] = &lines[index + 1..];
    let count = continuation
        .iter()
        .take(MAX_MESSAGE_LINES)
        .take_while(|line| !is_blank(line) && !is_chain_separator(line) && !is_header(line))
        .count();
    let message = join_message(first, &continuation[..count]);
    (error_type.to_owned(), message, index + 1 + count)
}

fn exception_line(line: &str) -> Option<(&str, &str)> {
    if indent(line) > 0 {
        return None;
    }
    split_type_and_message(line.trim_end(), is_python_type)
}

/// `KeyError`, `psycopg2.OperationalError`, `app.tasks.<locals>.RetryLater`.
fn is_python_type(name: &str) -> bool {
    is_qualified_name(&name.replace(".<locals>.", "."))
}

fn is_chain_separator(line: &str) -> bool {
    CHAIN_SEPARATORS.contains(&line.trim())
}

/// The header of the next traceback of the chain, when a chain separator follows `end`.
fn chained_header(lines: &[&str], end: usize) -> Option<usize> {
    let mut index = skip_blank_lines(lines, end);
    if !is_chain_separator(lines.get(index)?) {
        return None;
    }
    index = skip_blank_lines(lines, index + 1);
    is_header(lines.get(index)?).then_some(index)
}

fn skip_blank_lines(lines: &[&str], from: usize) -> usize {
    from + lines
        .iter()
        .skip(from)
        .take_while(|line| is_blank(line))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lines_are_split_into_file_line_and_function() {
        let frame = parse_frame_line(r#"  File "/srv/app/app/views.py", line 88, in get"#).unwrap();
        assert_eq!(frame.file.as_deref(), Some("/srv/app/app/views.py"));
        assert_eq!(frame.line, Some(88));
        assert_eq!(frame.function.as_deref(), Some("get"));
        assert!(frame.in_app);
        let syntax = parse_frame_line(r#"  File "/srv/app/app/broken.py", line 3"#).unwrap();
        assert_eq!(syntax.function, None);
        assert_eq!(parse_frame_line("  File something else"), None);
    }

    #[test]
    fn exception_lines_need_a_type_at_column_zero() {
        assert_eq!(
            exception_line("KeyError: 'user_id'"),
            Some(("KeyError", "'user_id'"))
        );
        assert_eq!(exception_line("StopIteration"), Some(("StopIteration", "")));
        assert_eq!(exception_line("  raise KeyError(x)"), None);
        assert_eq!(
            exception_line("2024-05-01 12:00:00 INFO next request"),
            None
        );
    }
}
