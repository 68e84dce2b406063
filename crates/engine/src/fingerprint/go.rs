//! Go panics and goroutine dumps, as printed by the runtime or by `net/http`'s recovery log.
//!
//! ```text
//! panic: runtime error: index out of range [5] with length 3
//!
//! goroutine 1 [running]:
//! main.handler(0x1234, 0xc000010000)
//!     /app/main.go:42 +0x1d
//! ```
//!
//! Only the first goroutine is read: the runtime prints the panicking one first. Its frames are
//! reversed to oldest first; `created by` (the goroutine's creator, not a caller) is left out.
//! The type is `runtime error` for runtime errors, `fatal error` for fatal runtime errors and
//! `panic` otherwise: a text panic does not show the Go type of the panic value.

use faultline_model::Frame;

use super::text::{indent, is_blank, matching_open_paren, split_trailing_number};
use super::trace::{Language, ParsedTrace, text_frame};

/// Lines above the goroutine header searched for the panic message.
const HEADER_SEARCH_LINES: usize = 10;

pub(super) fn is_goroutine_header(line: &str) -> bool {
    let Some(rest) = line.trim_end().strip_prefix("goroutine ") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(" [") && rest.ends_with("]:")
}

pub(super) fn parse(lines: &[&str], goroutine: usize) -> ParsedTrace {
    let (error_type, message) = panic_header(lines, goroutine);
    let frames = goroutine_frames(&lines[goroutine + 1..]);
    ParsedTrace {
        language: Language::Go,
        error_type: error_type.to_owned(),
        message,
        frames,
    }
}

/// The nearest panic line above the goroutine header: `panic: …` (a re-panic is printed indented
/// under the first), `fatal error: …`, or `http: panic serving 10.0.0.1:5123: …`.
fn panic_header(lines: &[&str], goroutine: usize) -> (&'static str, String) {
    let earliest = goroutine.saturating_sub(HEADER_SEARCH_LINES);
    let found = lines[earliest..goroutine]
        .iter()
        .rev()
        .find_map(|line| panic_line(line.trim()));
    match found {
        Some((kind, message)) => (error_type(kind, message), message.to_owned()),
        None => ("panic", String::new()),
    }
}

fn panic_line(line: &str) -> Option<(&'static str, &str)> {
    if let Some(message) = line.strip_prefix("panic: ") {
        return Some(("panic", without_recovered_marker(message)));
    }
    if let Some(message) = line.strip_prefix("fatal error: ") {
        return Some(("fatal error", message));
    }
    let served = &line[line.find("panic serving ")? + "panic serving ".len()..];
    let (_address, message) = served.split_once(": ")?;
    Some(("panic", message))
}

/// `boom [recovered]`, `boom [recovered, repanicked]` → `boom`.
fn without_recovered_marker(message: &str) -> &str {
    match message.rfind(" [recovered") {
        Some(marker) if message.ends_with(']') => &message[..marker],
        _ => message,
    }
}

fn error_type(kind: &'static str, message: &str) -> &'static str {
    if kind == "panic" && message.starts_with("runtime error: ") {
        "runtime error"
    } else {
        kind
    }
}

/// Function lines, each followed by an indented `file:line +0xoffset` line, until the end of
/// the goroutine.
fn goroutine_frames(lines: &[&str]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        if ends_goroutine(line) {
            break;
        }
        index += 1;
        if indent(line) > 0 || line.trim() == "...additional frames elided..." {
            continue;
        }
        let Some(symbol) = function_symbol(line) else {
            break;
        };
        let location = lines
            .get(index)
            .filter(|next| indent(next) > 0)
            .map(|next| parse_location(next));
        if location.is_some() {
            index += 1;
        }
        let (file, line_number) = location.unwrap_or((None, None));
        let (module, function) = split_symbol(symbol);
        frames.push(text_frame(module, Some(function), file, line_number));
    }
    frames.reverse();
    frames
}

fn ends_goroutine(line: &str) -> bool {
    is_blank(line) || is_goroutine_header(line) || line.starts_with("created by ")
}

/// `main.(*Server).handle(0xc000010000, {0x6a0c20?, 0xc0000141b0?})` → `main.(*Server).handle`.
fn function_symbol(line: &str) -> Option<&str> {
    let line = line.trim_end();
    let symbol = matching_open_paren(line).map_or(line, |open| &line[..open]);
    (!symbol.is_empty() && !symbol.contains(char::is_whitespace)).then_some(symbol)
}

/// Splits a symbol into package path and function, as Go's runtime names them: the package
/// ends at the first `.` after the last `/`. `net/http.HandlerFunc.ServeHTTP` →
/// (`net/http`, `HandlerFunc.ServeHTTP`).
fn split_symbol(symbol: &str) -> (Option<&str>, &str) {
    let package_start = symbol.rfind('/').map_or(0, |slash| slash + 1);
    match symbol[package_start..].find('.') {
        Some(dot) => {
            let dot = package_start + dot;
            (Some(&symbol[..dot]), &symbol[dot + 1..])
        }
        None => (None, symbol),
    }
}

/// `\t/app/main.go:42 +0x1d` → (`/app/main.go`, 42).
fn parse_location(line: &str) -> (Option<&str>, Option<u32>) {
    let line = line.trim();
    let location = line.rfind(" +0x").map_or(line, |offset| &line[..offset]);
    let (file, line_number) = split_trailing_number(location);
    (Some(file).filter(|file| !file.is_empty()), line_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goroutine_headers() {
        assert!(is_goroutine_header("goroutine 1 [running]:"));
        assert!(is_goroutine_header("goroutine 18 [IO wait, 2 minutes]:"));
        assert!(!is_goroutine_header("goroutine leak detected"));
        assert!(!is_goroutine_header("goroutine x [running]:"));
    }

    #[test]
    fn symbols_split_at_the_package() {
        assert_eq!(
            split_symbol("net/http.HandlerFunc.ServeHTTP"),
            (Some("net/http"), "HandlerFunc.ServeHTTP")
        );
        assert_eq!(
            split_symbol("github.com/acme/api/internal/db.(*Pool).Get"),
            (Some("github.com/acme/api/internal/db"), "(*Pool).Get")
        );
        assert_eq!(
            split_symbol("main.main.func1"),
            (Some("main"), "main.func1")
        );
        assert_eq!(split_symbol("panic"), (None, "panic"));
    }

    #[test]
    fn function_lines_lose_their_arguments() {
        assert_eq!(
            function_symbol("main.(*T).Run(0xc000010000, {0x6a0c20?, 0x1})"),
            Some("main.(*T).Run")
        );
        assert_eq!(function_symbol("main.main()"), Some("main.main"));
        assert_eq!(function_symbol("main.handler(...)"), Some("main.handler"));
        assert_eq!(function_symbol("exit status 2 (oops)"), None);
    }

    #[test]
    fn panic_lines() {
        assert_eq!(
            panic_line("panic: boom [recovered]"),
            Some(("panic", "boom"))
        );
        assert_eq!(
            panic_line("fatal error: concurrent map writes"),
            Some(("fatal error", "concurrent map writes"))
        );
        assert_eq!(
            panic_line("2024/05/01 12:00:00 http: panic serving 10.0.0.7:51234: runtime error: x"),
            Some(("panic", "runtime error: x"))
        );
        assert_eq!(error_type("panic", "runtime error: x"), "runtime error");
    }

    #[test]
    fn location_lines() {
        assert_eq!(
            parse_location("\t/app/main.go:42 +0x1d"),
            (Some("/app/main.go"), Some(42))
        );
        assert_eq!(
            parse_location("\t/app/main.go:42"),
            (Some("/app/main.go"), Some(42))
        );
    }
}
