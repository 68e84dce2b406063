//! Redaction before anything is stored: what people write and what systems log can carry
//! personal data and secrets. This crate is pure computation (no I/O, no clock); the binary
//! loads the key and applies [`Redactor::redact`] to every event before the WAL.
//!
//! - [`mask`]: text masking. Secrets (bearer tokens, API keys, passwords, private keys, URL
//!   credentials) become `<secret>`, email addresses `<email>`, phone numbers `<phone>`,
//!   card numbers that pass the Luhn check `<card>` — everywhere; IP addresses `<ip>` only in
//!   what people write ([`Scope::UserText`]), since in infrastructure logs they are evidence.
//! - [`Redactor`]: per event. User identifiers (the `user` field, identity attributes such as
//!   a Front customer's handle, Slack `@U…` mentions) become a keyed hash (HMAC-SHA256,
//!   `u_` + 16 hex digits): the same person links across sources, and without the key the
//!   hash cannot be reversed or recomputed from a guess.

pub mod mask;
mod redactor;

pub use mask::{Scope, luhn_valid, mask_text};
pub use redactor::{KeyError, MIN_KEY_BYTES, Redactor, is_user_hash};
