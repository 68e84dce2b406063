//! Readable messages for error bodies that are not the JSON a vendor documents.

use super::error::excerpt;

/// A message for an empty, HTML or otherwise non-JSON error body.
pub(crate) fn describe_non_json(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return format!("HTTP {status} with an empty body");
    }
    if looks_like_html(text) {
        let summary = html_title(text).unwrap_or_else(|| excerpt(strip_tags(text).as_bytes()));
        return format!("HTTP {status} (HTML page): {summary}");
    }
    format!("HTTP {status}: {}", excerpt(text.as_bytes()))
}

pub(crate) fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<head")
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower.get(start..)?.find('>')? + 1;
    let close = open_end + lower.get(open_end..)?.find("</title>")?;
    let title = excerpt(text.as_bytes().get(open_end..close)?);
    (title != "<empty>").then_some(title)
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => inside_tag = true,
            '>' if inside_tag => {
                inside_tag = false;
                out.push(' ');
            }
            _ if !inside_tag => out.push(ch),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_are_summarized_by_their_title() {
        let page = b"<html><head><title>429 Too Many Requests</title></head><body><h1>429</h1></body></html>";
        assert_eq!(
            describe_non_json(429, page),
            "HTTP 429 (HTML page): 429 Too Many Requests"
        );
        let untitled = b"<!DOCTYPE html><html><body><p>Rate limited</p></body></html>";
        assert_eq!(
            describe_non_json(429, untitled),
            "HTTP 429 (HTML page): Rate limited"
        );
    }

    #[test]
    fn empty_and_plain_bodies_keep_the_status() {
        assert_eq!(
            describe_non_json(429, b" \n"),
            "HTTP 429 with an empty body"
        );
        assert_eq!(
            describe_non_json(502, b"Bad Gateway"),
            "HTTP 502: Bad Gateway"
        );
    }
}
