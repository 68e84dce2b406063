//! Turning vendor markup into plain text: HTML message bodies (Front) and the entities that
//! HTML and Slack's mrkdwn share.

/// The text of an HTML fragment: tags dropped (line-breaking ones become line breaks), `style`
/// and `script` contents dropped, entities decoded, blank lines collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut skipping: Option<&str> = None;
    while let Some((before, tag, after)) = next_tag(rest) {
        if skipping.is_none() {
            out.push_str(before);
        }
        let name = tag_name(tag);
        match skipping {
            Some(until) if name.strip_prefix('/') == Some(until) => skipping = None,
            Some(_) => {}
            None if name == "style" || name == "script" => {
                skipping = Some(if name == "style" { "style" } else { "script" });
            }
            None if LINE_BREAKING.contains(&name.as_str()) => out.push('\n'),
            None => {}
        }
        rest = after;
    }
    if skipping.is_none() {
        out.push_str(rest);
    }
    tidy_lines(&decode_entities(&out))
}

const LINE_BREAKING: &[&str] = &["br", "/p", "/div", "/li", "/tr", "/h1", "/h2", "/h3"];

/// The text before the next `<…>`, the inside of that tag, and the text after it.
fn next_tag(text: &str) -> Option<(&str, &str, &str)> {
    let (before, from_open) = text.split_once('<')?;
    let (inside, after) = from_open.split_once('>')?;
    Some((before, inside, after))
}

/// The lowercase name of a tag from its inside (`br /`, `/div`, `a href=…`).
fn tag_name(inside: &str) -> String {
    let inside = inside.trim();
    let (slash, name) = match inside.strip_prefix('/') {
        Some(name) => ("/", name),
        None => ("", inside),
    };
    let name: String = name
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    format!("{slash}{}", name.to_ascii_lowercase())
}

/// Trims each line and keeps at most one blank line in a row.
fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        out.push_str(line);
        blank_run = 0;
    }
    out
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#39;`, `&nbsp;` and numeric entities;
/// anything else is left as written.
pub(crate) fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after_amp)) = rest.split_once('&') {
        out.push_str(before);
        let decoded = after_amp
            .split_once(';')
            .filter(|(name, _)| name.len() <= 8)
            .and_then(|(name, after)| entity(name).map(|ch| (ch, after)));
        match decoded {
            Some((ch, after)) => {
                out.push(ch);
                rest = after;
            }
            None => {
                out.push('&');
                rest = after_amp;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_become_readable_text() {
        assert_eq!(
            html_to_text(
                "Hi,\n<br /><br />\nI placed an order last week. When will it be delivered?\n"
            ),
            "Hi,\n\nI placed an order last week. When will it be delivered?"
        );
        assert_eq!(
            html_to_text(
                "<div dir=\"ltr\">response&nbsp;123</div><br /><style>p{color:red}</style><p>The <b>export</b> fails &amp; shows &lt;500&gt;</p>"
            ),
            "response 123\n\nThe export fails & shows <500>"
        );
        assert_eq!(html_to_text("<div></div>"), "");
        assert_eq!(html_to_text("a < b and no tag"), "a < b and no tag");
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(decode_entities("a &amp;&amp; b"), "a && b");
        assert_eq!(decode_entities("&#39;x&#x27;"), "'x'");
        assert_eq!(decode_entities("AT&T &bogus; &"), "AT&T &bogus; &");
    }
}
