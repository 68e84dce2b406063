//! Stable template identifiers.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Identifier of a template: the xxh3-64 hash of the template text, so the
/// same template has the same id in every process. Shown as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateId(pub u64);

impl TemplateId {
    /// The id of a template text.
    #[must_use]
    pub fn of(template: &str) -> Self {
        TemplateId(xxhash_rust::xxh3::xxh3_64(template.as_bytes()))
    }
}

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Error parsing a [`TemplateId`] from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTemplateIdError(String);

impl fmt::Display for ParseTemplateIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a template id (16 hex digits): {:?}", self.0)
    }
}

impl std::error::Error for ParseTemplateIdError {}

impl FromStr for TemplateId {
    type Err = ParseTemplateIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 {
            return Err(ParseTemplateIdError(s.to_owned()));
        }
        u64::from_str_radix(s, 16)
            .map(TemplateId)
            .map_err(|_| ParseTemplateIdError(s.to_owned()))
    }
}

impl Serialize for TemplateId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TemplateId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_16_hex_digits() {
        assert_eq!(TemplateId(0xab).to_string(), "00000000000000ab");
        assert_eq!(TemplateId(u64::MAX).to_string(), "ffffffffffffffff");
    }

    #[test]
    fn parses_what_it_displays() {
        let id = TemplateId::of("a <*> b");
        assert_eq!(id.to_string().parse::<TemplateId>(), Ok(id));
        assert!("xyz".parse::<TemplateId>().is_err());
        assert!("000000000000000g".parse::<TemplateId>().is_err());
    }

    #[test]
    fn serializes_as_hex_string() -> Result<(), serde_json::Error> {
        let id = TemplateId(0x1234);
        let json = serde_json::to_string(&id)?;
        assert_eq!(json, "\"0000000000001234\"");
        assert_eq!(serde_json::from_str::<TemplateId>(&json)?, id);
        Ok(())
    }
}
