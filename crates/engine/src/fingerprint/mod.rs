//! Stack-trace fingerprinting: the same exception gets the same [`Fingerprint`] whether it
//! arrives as structured frames (Sentry) or as text inside a log message (a Datadog
//! `error.stack`, a Scalyr log line with a timestamp prefix).
//!
//! - [`parse_trace`] finds a Python, JVM, V8 (JavaScript) or Go trace inside free text and
//!   returns its exception and its frames, oldest call first.
//! - [`fingerprint`] hashes the exception's class name and the keys ([`frame_key`]) of the
//!   in-app frames nearest the crash: no line numbers, addresses, directories or generated names.
//! - [`is_library_frame`] is the one in-app test used for both shapes; see its module for why the
//!   vendor's `in_app` flag is not trusted.
//!
//! Modules refer to each other through `super::`, so this directory can become a module of
//! another crate as it is.

mod fingerprint;
mod go;
mod javascript;
mod jvm;
mod key;
mod library;
mod python;
mod text;
mod trace;

pub use fingerprint::{
    CRASH_SITE_FRAMES, FINGERPRINT_VERSION, Fingerprint, InvalidFingerprint,
    MAX_FINGERPRINT_FRAMES, fingerprint, fingerprint_keys, normalize_error_type,
};
pub use key::{FrameKey, frame_key};
pub use library::is_library_frame;
pub use trace::{Language, ParsedTrace, fingerprint_text, parse_trace};
