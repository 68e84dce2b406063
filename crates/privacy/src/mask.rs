//! Masking personal data and secrets in free text.
//!
//! Each detector is guarded by a cheap byte test (an `@`, enough digits, a keyword) so that
//! text without anything to mask is scanned once and returned borrowed, without allocating.
//! Detectors run in a fixed order — secrets, emails, cards, phones, IPs — and the masks they
//! write (`<secret>`, `<email>`, …) contain no digits or `@`, so a later detector never
//! re-reads an earlier mask.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex::{Captures, Regex};

pub const SECRET: &str = "<secret>";
pub const EMAIL: &str = "<email>";
pub const PHONE: &str = "<phone>";
pub const CARD: &str = "<card>";
pub const IP: &str = "<ip>";

/// Whose text it is: that decides how much is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Logs, errors, spans, alerts: secrets, emails, phones and card numbers of a known
    /// brand are masked; IP addresses stay (they are evidence).
    Infrastructure,
    /// What people write (reports): also IP addresses, local phone numbers and any
    /// Luhn-valid card-length number.
    UserText,
}

/// `text` with every secret, email, phone, card number (and, in user text, IP) masked.
/// Borrowed when there was nothing to mask.
pub fn mask_text(text: &str, scope: Scope) -> Cow<'_, str> {
    let patterns = &*PATTERNS;
    // Masks only remove characters, so the shape of the original text stays a safe filter.
    let shape = Shape::of(text);
    let mut out = Cow::Borrowed(text);
    apply(&mut out, |t| patterns.secrets(t, &shape));
    if shape.at_signs > 0 {
        apply(&mut out, |t| patterns.email.replace_all(t, EMAIL));
    }
    if shape.digits >= 13 {
        apply(&mut out, |t| cards(t, scope));
    }
    apply(&mut out, |t| patterns.phones(t, scope, &shape));
    if scope == Scope::UserText {
        apply(&mut out, |t| patterns.ips(t, &shape));
    }
    out
}

/// What one pass over the bytes tells about a text: which detectors can possibly match.
struct Shape {
    digits: usize,
    at_signs: usize,
    plus_signs: usize,
    dots: usize,
    colons: usize,
    double_colon: bool,
    scheme: bool,
}

impl Shape {
    fn of(text: &str) -> Shape {
        let mut shape = Shape {
            digits: 0,
            at_signs: 0,
            plus_signs: 0,
            dots: 0,
            colons: 0,
            double_colon: false,
            scheme: false,
        };
        let mut previous = 0u8;
        for &byte in text.as_bytes() {
            match byte {
                b'0'..=b'9' => shape.digits += 1,
                b'@' => shape.at_signs += 1,
                b'+' => shape.plus_signs += 1,
                b'.' => shape.dots += 1,
                b':' => {
                    shape.colons += 1;
                    shape.double_colon |= previous == b':';
                }
                b'/' => shape.scheme |= previous == b'/' && shape.colons > 0,
                _ => {}
            }
            previous = byte;
        }
        shape
    }
}

/// Runs one detector over the current text and keeps its result when it changed anything.
fn apply(text: &mut Cow<'_, str>, detector: impl Fn(&str) -> Cow<'_, str>) {
    if let Cow::Owned(changed) = detector(text) {
        *text = Cow::Owned(changed);
    }
}

/// The Luhn checksum of a string of ASCII digits (other characters are ignored).
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    let mut count = 0;
    for (position, byte) in digits.bytes().rev().filter(u8::is_ascii_digit).enumerate() {
        let mut digit = u32::from(byte - b'0');
        if position % 2 == 1 {
            digit *= 2;
            if digit > 9 {
                digit -= 9;
            }
        }
        sum += digit;
        count += 1;
    }
    count > 0 && sum % 10 == 0
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(Patterns::new);

struct Patterns {
    /// Words that may announce a secret; the secret regexes run only when one is present.
    secret_words: AhoCorasick,
    auth_header: Regex,
    key_value: Regex,
    token_shapes: Regex,
    private_key: Regex,
    url_credentials: Regex,
    email: Regex,
    phone_international: Regex,
    phone_north_american: Regex,
    phone_local: Regex,
    ipv4: Regex,
    ipv6: Regex,
}

const SECRET_WORDS: &[&str] = &[
    "bearer",
    "basic",
    "authorization",
    "auth-token",
    "auth_token",
    "api-key",
    "api_key",
    "apikey",
    "application-key",
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "access_key",
    "access-key",
    "accesskey",
    "private",
    "session_id",
    "sessionid",
    "session-id",
    "signature",
    "credential",
    "sk_",
    "pk_",
    "rk_",
    "xox",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "akia",
    "asia",
    "sntry",
    "aiza",
    "eyj",
];

/// Key names whose value is always a secret, whatever it looks like.
const ALWAYS_SECRET_KEYS: &[&str] = &["password", "passwd", "pwd", "secret", "private"];

impl Patterns {
    fn new() -> Patterns {
        let regex = |pattern: &str| Regex::new(pattern).expect("built-in pattern is valid");
        Patterns {
            secret_words: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(SECRET_WORDS)
                .expect("built-in words are valid"),
            auth_header: regex(
                r#"(?i)(?-u:\b)(authorization|proxy-authorization|x-api-key|dd-api-key|dd-application-key|x-auth-token|api-key)(["']?\s*[:=]\s*["']?)(?:(bearer|basic|token)\s+)?[^\s"',;&<>]{6,}"#,
            ),
            key_value: regex(
                r#"(?i)(?-u:\b)([a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|session[_-]?id|signature|credentials?)[a-z0-9_.-]*)(["']?\s*[:=]\s*["']?)([^\s"'&,;<>)\]}]{4,})"#,
            ),
            token_shapes: regex(concat!(
                r"(?i:(?-u:\b)bearer\s+[A-Za-z0-9._~+/=-]{8,})",
                r"|(?-u:\b)(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
                r"|(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}",
                r"|(?-u:\b)gh[pousr]_[A-Za-z0-9]{20,}",
                r"|(?-u:\b)github_pat_[A-Za-z0-9_]{20,}",
                r"|(?-u:\b)glpat-[A-Za-z0-9_-]{20,}",
                r"|(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)",
                r"|(?-u:\b)sntry[su]_[A-Za-z0-9+/=_-]{20,}",
                r"|(?-u:\b)AIza[0-9A-Za-z_-]{35}",
                r"|(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
            )),
            private_key: regex(
                r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            ),
            url_credentials: regex(r"(?i)(?-u:\b)([a-z][a-z0-9+.-]*://)[^\s/:@]+:[^\s/@]+@"),
            email: regex(
                r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?-u:\b)",
            ),
            phone_international: regex(
                r"\+[0-9]{1,3}(?:[ .-]?\([0-9]{1,4}\))?(?:[ .-]?[0-9]{1,5}){1,6}(?-u:\b)",
            ),
            phone_north_american: regex(
                r"(?:\([0-9]{3}\)[ .-]?|(?-u:\b)[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}(?-u:\b)",
            ),
            phone_local: regex(r"(?-u:\b)0[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){2,5}(?-u:\b)"),
            ipv4: regex(r"(?-u:\b)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?-u:\b)"),
            ipv6: regex(
                r"(?i)(?-u:\b)[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){7}(?-u:\b)|(?-u:\b)(?:[0-9a-f]{1,4}:)+:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*(?-u:\b))?",
            ),
        }
    }

    fn secrets<'t>(&self, text: &'t str, shape: &Shape) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        if self.secret_words.is_match(text) {
            apply(&mut out, |t| self.private_key.replace_all(t, SECRET));
            apply(&mut out, |t| {
                self.auth_header.replace_all(t, |caps: &Captures| {
                    let scheme = caps
                        .get(3)
                        .map_or(String::new(), |m| format!("{} ", m.as_str()));
                    format!("{}{}{scheme}{SECRET}", &caps[1], &caps[2])
                })
            });
            apply(&mut out, |t| self.token_shapes.replace_all(t, masked_token));
            apply(&mut out, |t| self.key_value.replace_all(t, masked_value));
        }
        if shape.scheme && shape.at_signs > 0 && text.contains("://") {
            apply(&mut out, |t| {
                self.url_credentials.replace_all(t, "${1}<secret>@")
            });
        }
        out
    }

    /// International numbers need a `+` and 8 digits, North American ones 10 digits, local
    /// ones (user text only) 9.
    fn phones<'t>(&self, text: &'t str, scope: Scope, shape: &Shape) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        if shape.plus_signs > 0 && shape.digits >= 8 {
            apply(&mut out, |t| {
                self.phone_international
                    .replace_all(t, |caps: &Captures| phone_or_keep(&caps[0], 8..=15))
            });
        }
        if shape.digits >= 10 {
            apply(&mut out, |t| {
                self.phone_north_american.replace_all(t, PHONE)
            });
        }
        if scope == Scope::UserText && shape.digits >= 9 {
            apply(&mut out, |t| {
                self.phone_local
                    .replace_all(t, |caps: &Captures| phone_or_keep(&caps[0], 9..=12))
            });
        }
        out
    }

    fn ips<'t>(&self, text: &'t str, shape: &Shape) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        if shape.dots >= 3 && shape.digits >= 4 {
            apply(&mut out, |t| {
                self.ipv4.replace_all(t, |caps: &Captures| {
                    if is_ipv4(&caps[0]) {
                        IP.to_string()
                    } else {
                        caps[0].to_string()
                    }
                })
            });
        }
        if shape.double_colon || shape.colons >= 7 {
            apply(&mut out, |t| self.ipv6.replace_all(t, IP));
        }
        out
    }
}

/// A bearer token keeps its scheme word: `Bearer <secret>`.
fn masked_token(caps: &Captures) -> String {
    let found = &caps[0];
    match found.split_once(char::is_whitespace) {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => format!("{scheme} {SECRET}"),
        _ => SECRET.to_string(),
    }
}

/// `password=…` is always masked; `token: …` and the like only when the value looks like a
/// token (a digit in it, or long), so that "token: expired" still reads.
fn masked_value(caps: &Captures) -> String {
    let (key, separator, value) = (&caps[1], &caps[2], &caps[3]);
    let lower = key.to_ascii_lowercase();
    let always = ALWAYS_SECRET_KEYS.iter().any(|word| lower.contains(word));
    let looks_like_token = value.len() >= 20 || value.bytes().any(|b| b.is_ascii_digit());
    if value.starts_with('<') || !(always || looks_like_token) {
        return caps[0].to_string();
    }
    format!("{key}{separator}{SECRET}")
}

fn phone_or_keep(found: &str, digits: std::ops::RangeInclusive<usize>) -> String {
    if digits.contains(&digit_count(found)) {
        PHONE.to_string()
    } else {
        found.to_string()
    }
}

fn digit_count(text: &str) -> usize {
    text.bytes().filter(u8::is_ascii_digit).count()
}

fn is_ipv4(text: &str) -> bool {
    text.split('.')
        .all(|octet| octet.parse::<u16>().is_ok_and(|value| value <= 255))
}

/// Card numbers: runs of digit groups separated by single spaces or dashes; any stretch of
/// whole groups with 13–19 digits that passes the Luhn check (and, in infrastructure text,
/// starts like a card brand) is masked.
fn cards(text: &str, scope: Scope) -> Cow<'_, str> {
    let found = card_ranges(text, scope);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for range in found {
        out.push_str(&text[last..range.start]);
        out.push_str(CARD);
        last = range.end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

fn card_ranges(text: &str, scope: Scope) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts_run =
            bytes[at].is_ascii_digit() && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric());
        if !starts_run {
            at += 1;
            continue;
        }
        let groups = digit_groups(bytes, at);
        let end = groups.last().map_or(at + 1, |group| group.end);
        let bounded = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if bounded {
            found.extend(cards_in_run(text, &groups, scope));
        }
        at = end;
    }
    found
}

/// The digit groups of a run starting at `start`: `4111 1111-1111 1111` is four groups.
fn digit_groups(bytes: &[u8], start: usize) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut at = start;
    loop {
        let group_start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        groups.push(group_start..at);
        let separated = at + 1 < bytes.len()
            && matches!(bytes[at], b' ' | b'-')
            && bytes[at + 1].is_ascii_digit();
        if !separated {
            return groups;
        }
        at += 1;
    }
}

fn cards_in_run(text: &str, groups: &[Range<usize>], scope: Scope) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut first = 0;
    while first < groups.len() {
        let card = (first..groups.len()).rev().find(|&last| {
            let candidate = &text[groups[first].start..groups[last].end];
            is_card(candidate, scope)
        });
        match card {
            Some(last) => {
                found.push(groups[first].start..groups[last].end);
                first = last + 1;
            }
            None => first += 1,
        }
    }
    found
}

fn is_card(candidate: &str, scope: Scope) -> bool {
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    (13..=19).contains(&digits.len())
        && luhn_valid(&digits)
        && (scope == Scope::UserText || has_card_brand_prefix(&digits))
}

/// Visa, Mastercard, American Express, Discover, Diners, JCB, UnionPay, Maestro.
fn has_card_brand_prefix(digits: &str) -> bool {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    let in_range =
        |n: usize, low: u32, high: u32| prefix(n).is_some_and(|p| (low..=high).contains(&p));
    digits.starts_with('4')
        || in_range(2, 51, 55)
        || in_range(4, 2221, 2720)
        || in_range(2, 34, 34)
        || in_range(2, 37, 37)
        || in_range(2, 36, 36)
        || in_range(3, 300, 305)
        || in_range(4, 6011, 6011)
        || in_range(2, 64, 65)
        || in_range(4, 3528, 3589)
        || in_range(2, 62, 62)
        || in_range(2, 50, 50)
        || in_range(2, 56, 58)
        || in_range(2, 67, 67)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> String {
        mask_text(text, Scope::UserText).into_owned()
    }

    fn infra(text: &str) -> String {
        mask_text(text, Scope::Infrastructure).into_owned()
    }

    #[test]
    fn plain_text_is_returned_borrowed() {
        let text = "GET /api/v1/dashboard 200 in 12 ms from 10.0.3.7";
        assert!(matches!(
            mask_text(text, Scope::Infrastructure),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            mask_text("the site is down again", Scope::UserText),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn emails_are_masked_everywhere() {
        assert_eq!(
            infra("login failed for Jane.Doe+test@Example.co.uk (retry 2)"),
            "login failed for <email> (retry 2)"
        );
        assert_eq!(user("write me at a_b@c-d.io!"), "write me at <email>!");
        assert_eq!(infra("git@github.com:acme/web.git"), "<email>:acme/web.git");
        assert_eq!(infra("no at sign here"), "no at sign here");
    }

    #[test]
    fn secrets_are_masked_everywhere() {
        assert_eq!(
            infra(
                "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sflKxwRJSMeKKF2QT4fw"
            ),
            "Authorization: Bearer <secret>"
        );
        assert_eq!(
            infra("calling api with bearer abc123def456ghi789"),
            "calling api with bearer <secret>"
        );
        assert_eq!(
            infra("GET /v1/items?api_key=9f8e7d6c5b4a3210&page=2"),
            "GET /v1/items?api_key=<secret>&page=2"
        );
        assert_eq!(infra("password=hunter"), "password=<secret>");
        assert_eq!(
            infra(r#"{"client_secret": "s3cr3t-value"}"#),
            r#"{"client_secret": "<secret>"}"#
        );
        assert_eq!(infra("token: expired"), "token: expired");
        assert_eq!(
            infra("slack token xoxb-123456789012-abcdefghijkl leaked"),
            "slack token <secret> leaked"
        );
        assert_eq!(infra("key AKIAIOSFODNN7EXAMPLE used"), "key <secret> used");
        assert_eq!(
            infra("ghp_0123456789abcdefghijABCDEFGHIJ012345 and sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            "<secret> and <secret>"
        );
        assert_eq!(
            infra("connecting to postgres://app:s3cr3t@db.internal:5432/main"),
            "connecting to postgres://<secret>@db.internal:5432/main"
        );
        assert_eq!(
            infra("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done"),
            "<secret> done"
        );
        assert_eq!(
            infra("DD-API-KEY: 0123456789abcdef0123456789abcdef"),
            "DD-API-KEY: <secret>"
        );
    }

    #[test]
    fn card_numbers_pass_luhn_and_keep_other_numbers() {
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
        assert_eq!(
            user("card 4111 1111 1111 1111 was declined"),
            "card <card> was declined"
        );
        assert_eq!(
            user("my card 5500-0000-0000-0004, exp 12/27"),
            "my card <card>, exp 12/27"
        );
        assert_eq!(user("amex 378282246310005 12"), "amex <card> 12");
        assert_eq!(
            infra("charge 4242424242424242 failed"),
            "charge <card> failed"
        );
        // Not Luhn-valid, or not a card brand in logs: ids and nanosecond timestamps stay.
        assert_eq!(user("order 4111111111111112"), "order 4111111111111112");
        assert_eq!(
            infra("ts=1700000000000000007 seq=1234567890123"),
            "ts=1700000000000000007 seq=1234567890123"
        );
    }

    #[test]
    fn phone_numbers_are_masked() {
        assert_eq!(
            user("call me at +1 415 555 0100 please"),
            "call me at <phone> please"
        );
        assert_eq!(user("or (415) 555-0100"), "or <phone>");
        assert_eq!(
            infra("sms to +447700900123 failed"),
            "sms to <phone> failed"
        );
        assert_eq!(infra("callback 415-555-0100"), "callback <phone>");
        assert_eq!(user("mon numéro: 06 12 34 56 78"), "mon numéro: <phone>");
        assert_eq!(
            infra("2026-11-24 14:02:10 +0000 took 1234 ms"),
            "2026-11-24 14:02:10 +0000 took 1234 ms"
        );
    }

    #[test]
    fn ips_are_masked_only_in_user_text() {
        assert_eq!(
            user("my ip is 203.0.113.42, from Lyon"),
            "my ip is <ip>, from Lyon"
        );
        assert_eq!(user("ipv6 2001:db8::8a2e:370:7334 here"), "ipv6 <ip> here");
        assert_eq!(user("version 1.2.3.4000 broke"), "version 1.2.3.4000 broke");
        assert_eq!(
            infra("upstream 10.0.3.7:8000 timed out"),
            "upstream 10.0.3.7:8000 timed out"
        );
        assert_eq!(user("at 10:30:45 it broke"), "at 10:30:45 it broke");
    }

    #[test]
    fn masks_are_stable_when_applied_twice() {
        let text =
            "Jane <jane@x.io>, +1 415 555 0100, 4111 1111 1111 1111, 203.0.113.9, token=abc123def";
        let once = user(text);
        assert_eq!(user(&once), once);
        for raw in [
            "jane@x.io",
            "415 555 0100",
            "4111",
            "203.0.113.9",
            "abc123def",
        ] {
            assert!(!once.contains(raw), "{raw} in {once}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_never_grows_a_plain_text(text in "\\PC{0,200}") {
            let _ = mask_text(&text, Scope::UserText);
            let _ = mask_text(&text, Scope::Infrastructure);
        }
    }
}
