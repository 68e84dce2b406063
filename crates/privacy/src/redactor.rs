//! Redaction of whole events: user identifiers become keyed hashes, text is masked.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use faultline_model::{Event, Kind};
use hmac::{Hmac, KeyInit, Mac};
use regex::{Captures, Regex};
use sha2::Sha256;

use crate::mask::{SECRET, Scope, mask_text};

/// Keys shorter than this are refused: a short key could be guessed, and with it every hash.
pub const MIN_KEY_BYTES: usize = 16;

/// Prefix of a hashed user identifier.
const HASH_PREFIX: &str = "u_";
/// Hex digits of the HMAC kept in a hashed identifier (64 bits).
const HASH_HEX_DIGITS: usize = 16;
/// Identifiers whose hash is remembered (the same users and staff come back all the time);
/// the memory is emptied when it is full.
const REMEMBERED_HASHES: usize = 16_384;

/// Attributes that hold who someone is (an email, a contact handle, a name).
const IDENTITY_KEYS: &[&str] = &[
    "customer",
    "customer_name",
    "author",
    "assignee",
    "user",
    "user_id",
    "user_email",
    "user_name",
    "email",
];

/// Attribute names whose value is a credential, whatever it looks like.
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "cookie",
    "private_key",
    "access_key",
    "signature",
    "credential",
];

/// The key could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// Masks an event's text and hashes its user identifiers with a secret key.
#[derive(Clone)]
pub struct Redactor {
    mac: Hmac<Sha256>,
    /// Identifier → hash, shared by clones (all use the same key).
    remembered: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { key: <secret> }")
    }
}

impl Redactor {
    /// A redactor with this key (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: &[u8]) -> Result<Redactor, KeyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError(format!(
                "the privacy key has {} bytes; it needs at least {MIN_KEY_BYTES}",
                key.len()
            )));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key)
            .map_err(|err| KeyError(format!("unusable privacy key: {err}")))?;
        Ok(Redactor {
            mac,
            remembered: Arc::default(),
        })
    }

    /// `u_` + the first 16 hex digits of HMAC-SHA256(key, identifier), the identifier trimmed
    /// and lowercased so that `Jane@X.io` in Front and `jane@x.io` in Sentry link. A value that
    /// is already a hash is returned as it is, so redacting twice changes nothing.
    pub fn hash_user(&self, identifier: &str) -> String {
        if is_user_hash(identifier) {
            return identifier.to_string();
        }
        if let Some(hash) = self.recall(identifier) {
            return hash;
        }
        let hash = self.compute_hash(identifier);
        self.remember(identifier, &hash);
        hash
    }

    fn recall(&self, identifier: &str) -> Option<String> {
        let remembered = self.remembered.lock().ok()?;
        remembered.get(identifier).cloned()
    }

    fn remember(&self, identifier: &str, hash: &str) {
        if let Ok(mut remembered) = self.remembered.lock() {
            if remembered.len() >= REMEMBERED_HASHES {
                remembered.clear();
            }
            remembered.insert(identifier.to_string(), hash.to_string());
        }
    }

    fn compute_hash(&self, identifier: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(identifier.trim().to_lowercase().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(HASH_PREFIX.len() + HASH_HEX_DIGITS);
        out.push_str(HASH_PREFIX);
        for byte in digest.iter().take(HASH_HEX_DIGITS / 2) {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
        out
    }

    pub fn redact_all(&self, events: &mut [Event]) {
        for event in events {
            self.redact(event);
        }
    }

    /// Hashes `user` and identity attributes, masks the message, the URL and the other
    /// attributes. Reports are user text (IPs masked too); everything else is infrastructure.
    pub fn redact(&self, event: &mut Event) {
        let scope = if event.kind == Kind::Report {
            Scope::UserText
        } else {
            Scope::Infrastructure
        };
        if let Some(user) = &mut event.user {
            *user = self.hash_user(user);
        }
        replace(&mut event.message, |text| {
            self.mask_with_mentions(text, scope)
        });
        if let Some(url) = &mut event.url {
            replace(url, |text| mask_text(text, Scope::Infrastructure));
        }
        for (key, value) in event.attrs.iter_mut() {
            replace(value, |text| self.redact_attr(key, text, scope));
        }
    }

    fn redact_attr<'t>(&self, key: &str, value: &'t str, scope: Scope) -> Cow<'t, str> {
        if value.is_empty() {
            return Cow::Borrowed(value);
        }
        if is_identity_key(key) {
            return Cow::Owned(self.hash_user(value));
        }
        if is_secret_key(key) && !value.bytes().all(|b| b.is_ascii_digit()) && value != SECRET {
            return Cow::Owned(SECRET.to_string());
        }
        self.mask_with_mentions(value, scope)
    }

    /// Masks the text, and hashes Slack mentions of users (`@U024BE7LH`).
    fn mask_with_mentions<'t>(&self, text: &'t str, scope: Scope) -> Cow<'t, str> {
        let masked = mask_text(text, scope);
        if !masked.contains('@') {
            return masked;
        }
        match MENTION.replace_all(&masked, |caps: &Captures| {
            format!("{}@{}", &caps[1], self.hash_user(&caps[2]))
        }) {
            Cow::Borrowed(_) => masked,
            Cow::Owned(changed) => Cow::Owned(changed),
        }
    }
}

/// `@U…`/`@W…` Slack user ids in text (after markup was turned into plain text).
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^A-Za-z0-9_.])@([UW][A-Z0-9]{6,12})(?-u:\b)")
        .expect("built-in pattern is valid")
});

/// Whether `text` is a hashed user identifier (`u_` + 16 lowercase hex digits).
pub fn is_user_hash(text: &str) -> bool {
    text.strip_prefix(HASH_PREFIX).is_some_and(|hex| {
        hex.len() == HASH_HEX_DIGITS && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn is_identity_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    let starts = |prefix: &str| {
        key.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let suffix = "_email";
    IDENTITY_KEYS
        .iter()
        .any(|name| last.eq_ignore_ascii_case(name))
        || starts("usr.")
        || starts("user.")
        || (last.len() > suffix.len()
            && last
                .get(last.len() - suffix.len()..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix)))
}

static SECRET_KEYS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(SECRET_KEY_WORDS)
        .expect("built-in words are valid")
});

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.is_match(key)
}

fn replace(slot: &mut String, redact: impl Fn(&str) -> Cow<'_, str>) {
    if let Cow::Owned(changed) = redact(slot) {
        *slot = changed;
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_model::Event;

    const KEY: &[u8] = b"test key of thirty-two bytes....";

    fn redactor() -> Redactor {
        Redactor::new(KEY).unwrap()
    }

    #[test]
    fn user_hashes_are_stable_keyed_and_case_blind() {
        let one = redactor();
        let hash = one.hash_user("Jane.Doe@Example.com");
        assert!(is_user_hash(&hash), "{hash}");
        assert_eq!(hash, one.hash_user(" jane.doe@example.com "));
        assert_eq!(hash, one.hash_user(&hash));
        let other = Redactor::new(b"another key, also long enough").unwrap();
        assert_ne!(hash, other.hash_user("jane.doe@example.com"));
        assert_ne!(hash, one.hash_user("john@example.com"));
        assert!(Redactor::new(b"short").is_err());
        assert!(!format!("{one:?}").contains("thirty"));
    }

    #[test]
    fn reports_are_masked_as_user_text_and_logs_keep_their_ips() {
        let redactor = redactor();
        let mut report = Event {
            kind: Kind::Report,
            message: "I'm jane@x.io, from 203.0.113.9, cc @U024BE7LH: can't log in".into(),
            user: Some("jane@x.io".into()),
            ..Event::default()
        };
        report.attrs.insert("customer".into(), "Jane@X.io".into());
        report
            .attrs
            .insert("customer_name".into(), "Jane Doe".into());
        report.attrs.insert("channel".into(), "C0123".into());
        redactor.redact(&mut report);
        let hash = redactor.hash_user("jane@x.io");
        assert_eq!(report.user.as_deref(), Some(hash.as_str()));
        assert_eq!(report.attrs["customer"], hash);
        assert!(is_user_hash(&report.attrs["customer_name"]));
        assert_eq!(report.attrs["channel"], "C0123");
        let mention = redactor.hash_user("U024BE7LH");
        assert_eq!(
            report.message,
            format!("I'm <email>, from <ip>, cc @{mention}: can't log in")
        );

        let mut log = Event {
            kind: Kind::Log,
            message:
                "upstream 10.0.3.7:8000 refused; auth for bob@x.io with Bearer abcdef0123456789"
                    .into(),
            url: Some("https://api.x.io/v1?token=abcdef0123456789&email=bob@x.io".into()),
            ..Event::default()
        };
        log.attrs.insert(
            "http.headers.authorization".into(),
            "Basic YWxhZGRpbjpvcGVu".into(),
        );
        log.attrs
            .insert("network.client.ip".into(), "10.0.3.7".into());
        log.attrs.insert("usr.email".into(), "bob@x.io".into());
        log.attrs.insert("llm.max_tokens".into(), "4096".into());
        redactor.redact(&mut log);
        assert_eq!(
            log.message,
            "upstream 10.0.3.7:8000 refused; auth for <email> with Bearer <secret>"
        );
        assert_eq!(
            log.url.as_deref(),
            Some("https://api.x.io/v1?token=<secret>&email=<email>")
        );
        assert_eq!(log.attrs["http.headers.authorization"], "<secret>");
        assert_eq!(log.attrs["network.client.ip"], "10.0.3.7");
        assert_eq!(log.attrs["usr.email"], redactor.hash_user("bob@x.io"));
        assert_eq!(log.attrs["llm.max_tokens"], "4096");

        let again = log.clone();
        redactor.redact(&mut log);
        assert_eq!(log, again, "redaction is idempotent");
    }
}
