//! The fingerprint of an exception: its type plus the keys of the in-app frames nearest the crash.

use std::fmt;
use std::str::FromStr;

use faultline_model::Frame;
use xxhash_rust::xxh3::xxh3_64;

use super::key::{FrameKey, Key, key};
use super::library::{flavor, is_library};
use super::text::last_segment;

/// Version of the fingerprint algorithm, hashed into every fingerprint: bump it whenever a change
/// to parsing, normalization or hashing would give an existing exception a different fingerprint,
/// so stored fingerprints of two versions never collide by accident.
pub const FINGERPRINT_VERSION: u8 = 1;

/// In-app frames kept, counted back from the crash site: deep recursion or a different outer
/// framework (a test runner, a worker loop) must not change the fingerprint.
pub const MAX_FINGERPRINT_FRAMES: usize = 8;

/// Frames kept, counted back from the crash site, when no frame is in-app.
pub const CRASH_SITE_FRAMES: usize = 3;

/// Same problem ⇒ same fingerprint, whichever source reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The text is not 16 hexadecimal digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidFingerprint;

impl fmt::Display for InvalidFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a fingerprint is 16 hexadecimal digits")
    }
}

impl std::error::Error for InvalidFingerprint {}

impl FromStr for Fingerprint {
    type Err = InvalidFingerprint;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidFingerprint);
        }
        u64::from_str_radix(text, 16)
            .map(Fingerprint)
            .map_err(|_| InvalidFingerprint)
    }
}

/// Fingerprints an exception from its type and its frames, oldest call first.
#[must_use]
pub fn fingerprint(error_type: &str, frames: &[Frame]) -> Fingerprint {
    let mut input = Vec::with_capacity(256);
    input.push(FINGERPRINT_VERSION);
    input.extend_from_slice(normalize_error_type(error_type).as_bytes());
    input.push(0);
    for key in selected_keys(frames) {
        input.extend_from_slice(key.unit.as_bytes());
        input.push(0x1f);
        input.extend_from_slice(key.function.as_bytes());
        input.push(0x1e);
    }
    Fingerprint(xxh3_64(&input))
}

/// The frame keys a fingerprint is made of, oldest first: the in-app frames nearest the crash,
/// or the crash-site frames when none is in-app. Consecutive repeats (recursion) count once.
#[must_use]
pub fn fingerprint_keys(frames: &[Frame]) -> Vec<FrameKey> {
    selected_keys(frames)
        .into_iter()
        .map(FrameKey::from)
        .collect()
}

fn selected_keys(frames: &[Frame]) -> Vec<Key<'_>> {
    let keyed: Vec<(Key<'_>, bool)> = frames
        .iter()
        .filter_map(|frame| {
            let flavor = flavor(frame);
            key(frame, flavor).map(|key| (key, !is_library(frame, flavor)))
        })
        .collect();
    let any_in_app = keyed.iter().any(|(_, in_app)| *in_app);
    let kept = keyed
        .into_iter()
        .filter(|(_, in_app)| *in_app || !any_in_app);
    let kept = without_repeats(kept.map(|(key, _)| key));
    last(
        kept,
        if any_in_app {
            MAX_FINGERPRINT_FRAMES
        } else {
            CRASH_SITE_FRAMES
        },
    )
}

fn without_repeats<'a>(keys: impl Iterator<Item = Key<'a>>) -> Vec<Key<'a>> {
    let mut kept: Vec<Key<'a>> = Vec::new();
    for key in keys {
        if kept.last() != Some(&key) {
            kept.push(key);
        }
    }
    kept
}

fn last<T>(mut items: Vec<T>, count: usize) -> Vec<T> {
    let excess = items.len().saturating_sub(count);
    items.drain(..excess);
    items
}

/// The bare class name of an exception type: `psycopg2.OperationalError` → `OperationalError`,
/// `com.acme.Outer$Inner` → `Inner` (Sentry's Java SDK reports the simple name),
/// `Uncaught TypeError` → `TypeError`, `Error [ERR_HTTP_HEADERS_SENT]` → `Error`,
/// `*errors.errorString` → `errorString`.
#[must_use]
pub fn normalize_error_type(error_type: &str) -> &str {
    let name = error_type.trim();
    let name = name.strip_prefix("Uncaught ").unwrap_or(name);
    let name = name.find(" [").map_or(name, |bracket| &name[..bracket]);
    let name = last_segment(name.trim_start_matches('*'), '.');
    name.rsplit('$')
        .find(|part| !part.is_empty())
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_sixteen_hex_digits_and_parses_back() {
        let fingerprint = Fingerprint(0xab);
        assert_eq!(fingerprint.to_string(), "00000000000000ab");
        assert_eq!("00000000000000ab".parse(), Ok(fingerprint));
        assert_eq!("ab".parse::<Fingerprint>(), Err(InvalidFingerprint));
        assert_eq!(
            "+000000000000000".parse::<Fingerprint>(),
            Err(InvalidFingerprint)
        );
    }

    #[test]
    fn hash_input_layout_is_version_type_then_keys() {
        let frames = [Frame {
            function: Some("run".to_owned()),
            file: Some("/srv/app/jobs.py".to_owned()),
            ..Frame::default()
        }];
        let expected = xxh3_64(b"\x01KeyError\x00jobs\x1frun\x1e");
        assert_eq!(
            fingerprint("builtins.KeyError", &frames),
            Fingerprint(expected)
        );
    }

    #[test]
    fn error_types_reduce_to_the_class_name() {
        assert_eq!(
            normalize_error_type("psycopg2.OperationalError"),
            "OperationalError"
        );
        assert_eq!(
            normalize_error_type("java.lang.NullPointerException"),
            "NullPointerException"
        );
        assert_eq!(normalize_error_type("com.acme.Outer$Inner"), "Inner");
        assert_eq!(normalize_error_type("com.acme.Failures$"), "Failures");
        assert_eq!(normalize_error_type("Uncaught TypeError"), "TypeError");
        assert_eq!(
            normalize_error_type("Error [ERR_HTTP_HEADERS_SENT]"),
            "Error"
        );
        assert_eq!(normalize_error_type("*errors.errorString"), "errorString");
        assert_eq!(normalize_error_type("runtime error"), "runtime error");
    }

    #[test]
    fn keeps_only_the_frames_nearest_the_crash() {
        let frames: Vec<Frame> = (0..20)
            .map(|n| Frame {
                function: Some(format!("step{n}")),
                file: Some("/srv/app/app/jobs.py".to_owned()),
                ..Frame::default()
            })
            .collect();
        let keys = fingerprint_keys(&frames);
        assert_eq!(keys.len(), MAX_FINGERPRINT_FRAMES);
        assert_eq!(keys[0].function, "step12");
        assert_eq!(keys[7].function, "step19");
    }

    #[test]
    fn recursion_depth_does_not_matter() {
        let frame = |function: &str| Frame {
            function: Some(function.to_owned()),
            file: Some("/srv/app/app/tree.py".to_owned()),
            ..Frame::default()
        };
        let shallow = vec![frame("main"), frame("walk"), frame("leaf")];
        let deep = vec![
            frame("main"),
            frame("walk"),
            frame("walk"),
            frame("walk"),
            frame("leaf"),
        ];
        assert_eq!(
            fingerprint("RecursionError", &shallow),
            fingerprint("RecursionError", &deep)
        );
    }

    #[test]
    fn library_only_traces_fall_back_to_the_crash_site() {
        let frame = |function: &str| Frame {
            function: Some(function.to_owned()),
            file: Some("/usr/lib/python3.12/json/decoder.py".to_owned()),
            ..Frame::default()
        };
        let frames = vec![
            frame("loads"),
            frame("decode"),
            frame("raw_decode"),
            frame("scan"),
        ];
        let keys: Vec<String> = fingerprint_keys(&frames)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            keys,
            ["decoder:decode", "decoder:raw_decode", "decoder:scan"]
        );
    }
}
