//! Small string helpers shared by the parsers and the normalizers.
//!
//! Every index computed here comes from an ASCII byte, so slicing never splits a UTF-8 character.

/// Width, in bytes, of the line's leading whitespace.
pub(super) fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

pub(super) fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Splits `text:123` into (`text`, Some(123)); leaves `text` alone when it has no such suffix.
pub(super) fn split_trailing_number(text: &str) -> (&str, Option<u32>) {
    let digits = text.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (text, None);
    }
    let (head, number) = text.split_at(text.len() - digits);
    match head.strip_suffix(':') {
        Some(head) => (head, number.parse().ok()),
        None => (text, None),
    }
}

/// The part after the last `separator`, or all of `text` when there is none.
pub(super) fn last_segment(text: &str, separator: char) -> &str {
    text.rsplit(separator).next().unwrap_or(text)
}

/// The last component of a path, with `/` or `\` separators, without a query or fragment.
pub(super) fn basename(path: &str) -> &str {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The directory part of a path (everything before its last separator), or "".
pub(super) fn dirname(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |slash| &path[..slash])
}

/// A file name without its last extension: `dashboard.py` → `dashboard`.
pub(super) fn file_stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(0) | None => name,
        Some(dot) => &name[..dot],
    }
}

/// The last extension of a file name, without the dot, or "".
pub(super) fn extension(name: &str) -> &str {
    match name.rfind('.') {
        Some(dot) => &name[dot + 1..],
        None => "",
    }
}

/// Index of the `(` that matches the `)` ending `text`, scanning backwards.
pub(super) fn matching_open_paren(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.last() != Some(&b')') {
        return None;
    }
    let mut depth = 0usize;
    for (index, byte) in bytes.iter().enumerate().rev() {
        match byte {
            b')' => depth += 1,
            b'(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// A dotted name such as `psycopg2.OperationalError`, `java.lang.Outer$Inner` or `TypeError`.
pub(super) fn is_qualified_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|segment| {
            let mut chars = segment.chars();
            chars
                .next()
                .is_some_and(|first| first.is_alphabetic() || first == '_' || first == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

/// Whether a type name reads like an exception class (`…Exception`, `…Error`, …).
pub(super) fn sounds_like_exception(type_name: &str) -> bool {
    let name = last_segment(type_name, '.');
    [
        "Exception",
        "Error",
        "Throwable",
        "Failure",
        "Fault",
        "Panic",
    ]
    .iter()
    .any(|suffix| name.ends_with(suffix))
        || name.contains("Exception")
}

/// Splits `Type: message` (or a bare `Type`) when the part before the colon passes `is_type`.
pub(super) fn split_type_and_message(
    text: &str,
    is_type: impl Fn(&str) -> bool,
) -> Option<(&str, &str)> {
    let (type_name, message) = match text.find(':') {
        Some(colon) => (&text[..colon], text[colon + 1..].trim()),
        None => (text.trim_end(), ""),
    };
    is_type(type_name).then_some((type_name, message))
}

/// Finds `Type: message` in a line that may start with a logger prefix: first at the start of
/// the line, then at each later word before a colon (or the last word) whose name sounds like an
/// exception. Linear in the line's length: each byte belongs to at most one candidate word.
pub(super) fn find_type_and_message(
    line: &str,
    is_type: impl Fn(&str) -> bool,
) -> Option<(&str, &str)> {
    let line = line.trim();
    if let Some(found) = split_type_and_message(line, &is_type) {
        return Some(found);
    }
    let is_exception = |name: &str| is_type(name) && sounds_like_exception(name);
    let mut word_start = 0;
    for (index, byte) in line.bytes().enumerate() {
        match byte {
            b' ' => word_start = index + 1,
            b':' => {
                let name = &line[word_start..index];
                if is_exception(name) {
                    return Some((name, line[index + 1..].trim()));
                }
                word_start = index + 1;
            }
            _ => {}
        }
    }
    let last_word = &line[word_start..];
    is_exception(last_word).then_some((last_word, ""))
}

/// Joins a header message with the lines that continue it, as one multi-line message.
pub(super) fn join_message(first: &str, continuation: &[&str]) -> String {
    let mut message = first.trim().to_owned();
    for line in continuation
        .iter()
        .map(|line| line.trim_end())
        .filter(|line| !is_blank(line))
    {
        if !message.is_empty() {
            message.push('\n');
        }
        message.push_str(line);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_numbers_split_only_after_a_colon() {
        assert_eq!(split_trailing_number("Foo.java:42"), ("Foo.java", Some(42)));
        assert_eq!(split_trailing_number("Foo.java"), ("Foo.java", None));
        assert_eq!(split_trailing_number("v8"), ("v8", None));
        assert_eq!(split_trailing_number(":7"), ("", Some(7)));
        assert_eq!(split_trailing_number("x:99999999999"), ("x", None));
    }

    #[test]
    fn paths_split_on_both_separators() {
        assert_eq!(basename("/srv/app/views.py"), "views.py");
        assert_eq!(basename(r"C:\app\views.py"), "views.py");
        assert_eq!(basename("https://cdn/x/main.js?v=3#frag"), "main.js");
        assert_eq!(dirname("/srv/app/__init__.py"), "/srv/app");
        assert_eq!(file_stem("main.3f2a.js"), "main.3f2a");
        assert_eq!(file_stem(".env"), ".env");
        assert_eq!(extension("a/b.tsx"), "tsx");
    }

    #[test]
    fn matching_paren_skips_nested_groups() {
        let text = "eval (eval at f (a.js:1:2), <anonymous>:1:1)";
        assert_eq!(matching_open_paren(text), Some(5));
        assert_eq!(matching_open_paren("no parens"), None);
        assert_eq!(matching_open_paren("unbalanced)"), None);
    }

    #[test]
    fn qualified_names() {
        assert!(is_qualified_name("java.lang.Outer$Inner"));
        assert!(is_qualified_name("TypeError"));
        assert!(!is_qualified_name("2024-01-01 12"));
        assert!(!is_qualified_name("a..b"));
        assert!(!is_qualified_name(""));
    }

    #[test]
    fn type_and_message_found_after_a_logger_prefix() {
        let line = "12:00:01 ERROR worker - job failed java.io.IOException: disk full";
        assert_eq!(
            find_type_and_message(line, is_qualified_name),
            Some(("java.io.IOException", "disk full"))
        );
        assert_eq!(
            find_type_and_message("just words here", is_qualified_name),
            None
        );
    }
}
