//! Lenient building blocks for vendor JSON: the typed views in `sentry` and `datadog` are made of
//! these, so a field of an unexpected JSON type degrades to "absent" instead of failing a page.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDateTime};
use faultline_model::Timestamp;
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A scalar read as text whatever its JSON type: `"25"` and `25` both read as `25`, `true` as
/// `true`; an array or object keeps its compact JSON text.
/// Strings without escapes are borrowed from the body, so reading one allocates nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// `true`/`yes`/`1` and `false`/`no`/`0`, any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if is("true") || is("yes") || is("1") {
        Some(true)
    } else if is("false") || is("no") || is("0") {
        Some(false)
    } else {
        None
    }
}

/// Reads optional vendor text, treating `null`, `""` and blanks alike as absent.
pub(crate) trait TextField {
    fn text(&self) -> Option<&str>;

    fn owned(&self) -> Option<String> {
        self.text().map(str::to_string)
    }
}

impl TextField for Option<Text<'_>> {
    fn text(&self) -> Option<&str> {
        self.as_ref()
            .map(|text| text.as_str())
            .filter(|text| text.bytes().any(|byte| !byte.is_ascii_whitespace()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor(PhantomData))
    }
}

struct TextVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value)))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed("")))
    }

    fn visit_none<E: de::Error>(self) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed("")))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text<'a>, A::Error> {
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(Text(Cow::Owned(value.to_string())))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text<'a>, A::Error> {
        let value = Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Text(Cow::Owned(value.to_string())))
    }
}

/// A number sent as a JSON number or as a numeric string (`12`, `"12"`); anything else reads as
/// absent. Unlike [`Text`], reading it allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Number(pub Option<f64>);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = |scalar: Scalar<'_>| match scalar {
            Scalar::Str(text) => text.trim().parse::<f64>().ok(),
            Scalar::I64(value) => Some(value as f64),
            Scalar::U64(value) => Some(value as f64),
            Scalar::F64(value) => Some(value),
            Scalar::Bool(_) | Scalar::Absent => None,
        };
        let value = deserializer.deserialize_any(ScalarVisitor(read))?;
        Ok(Number(value.filter(|number| number.is_finite())))
    }
}

/// A yes/no sent as a boolean, `"true"`/`"yes"`/`"1"`, `"false"`/`"no"`/`"0"` or `0`/`1`;
/// anything else reads as absent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Flag(pub Option<bool>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = |scalar: Scalar<'_>| match scalar {
            Scalar::Bool(value) => Some(value),
            Scalar::Str(text) => parse_bool(text),
            Scalar::I64(value) => Some(value != 0),
            Scalar::U64(value) => Some(value != 0),
            Scalar::F64(_) | Scalar::Absent => None,
        };
        deserializer.deserialize_any(ScalarVisitor(read)).map(Flag)
    }
}

/// One JSON value as a scalar; arrays, objects and `null` are `Absent`.
enum Scalar<'s> {
    Str(&'s str),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Absent,
}

/// Reads any JSON value through `Scalar`, skipping arrays and objects unread.
struct ScalarVisitor<F>(F);

impl<'de, T, F: FnOnce(Scalar<'_>) -> T> Visitor<'de> for ScalarVisitor<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok((self.0)(Scalar::Str(value)))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<T, E> {
        Ok((self.0)(Scalar::Bool(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        Ok((self.0)(Scalar::I64(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        Ok((self.0)(Scalar::U64(value)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        Ok((self.0)(Scalar::F64(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok((self.0)(Scalar::Absent))
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok((self.0)(Scalar::Absent))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        skip_seq(seq)?;
        Ok((self.0)(Scalar::Absent))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((self.0)(Scalar::Absent))
    }
}

/// An object of shape `T`, or nothing when the vendor sent `null` or any other JSON type.
#[derive(Debug)]
pub(crate) struct MaybeObject<T>(Option<T>);

impl<T> MaybeObject<T> {
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }

    pub(crate) fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T> Default for MaybeObject<T> {
    fn default() -> Self {
        MaybeObject(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MaybeObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MaybeObjectVisitor(PhantomData))
    }
}

struct MaybeObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for MaybeObjectVisitor<T> {
    type Value = MaybeObject<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(|value| MaybeObject(Some(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq)?;
        Ok(MaybeObject(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(MaybeObject(None))
    }
}

/// A list of `T`, or an empty list when the vendor sent `null` or any other JSON type.
#[derive(Debug)]
pub(crate) struct Items<T>(pub Vec<T>);

impl<T> Default for Items<T> {
    fn default() -> Self {
        Items(Vec::new())
    }
}

impl<T> Items<T> {
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemsVisitor(PhantomData))
    }
}

struct ItemsVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ItemsVisitor<T> {
    type Value = Items<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Items(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Items::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Items::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Items::default())
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A nested JSON object read as `dotted.key → text` pairs in document order; `null`s are dropped
/// and arrays keep their compact JSON text. `{"http":{"status_code":200}}` gives
/// `http.status_code → 200`.
#[derive(Debug, Default)]
pub(crate) struct Flattened(pub Vec<(String, String)>);

impl Flattened {
    pub(crate) fn into_map(self) -> BTreeMap<String, String> {
        self.0.into_iter().collect()
    }
}

impl<'de> Deserialize<'de> for Flattened {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut pairs = Vec::new();
        FlattenInto {
            key: String::new(),
            out: &mut pairs,
        }
        .deserialize(deserializer)?;
        Ok(Flattened(pairs))
    }
}

struct FlattenInto<'o> {
    key: String,
    out: &'o mut Vec<(String, String)>,
}

impl FlattenInto<'_> {
    fn push(self, value: String) {
        if !self.key.is_empty() {
            self.out.push((self.key, value));
        }
    }

    fn child_key(&self, name: &str) -> String {
        if self.key.is_empty() {
            return name.to_string();
        }
        let mut key = String::with_capacity(self.key.len() + 1 + name.len());
        key.push_str(&self.key);
        key.push('.');
        key.push_str(name);
        key
    }
}

impl<'de> DeserializeSeed<'de> for FlattenInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FlattenInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        self.push(value.to_string());
        Ok(())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<(), E> {
        self.push(value);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.push(value.to_string());
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        self.push(value.to_string());
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        self.push(value.to_string());
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        self.push(value.to_string());
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        self.push(value.to_string());
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            let key = self.child_key(&name);
            map.next_value_seed(FlattenInto {
                key,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

/// Parses the timestamps vendors send: RFC 3339 with any offset, ISO-8601 without offset (read as
/// UTC), with or without fraction, or an epoch number in s/ms/µs/ns (unit guessed by size).
pub(crate) fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(epoch) = text.parse::<f64>() {
        return epoch
            .is_finite()
            .then(|| Timestamp::from_epoch_guess(epoch));
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(Timestamp::from(parsed.to_utc()));
    }
    const WITH_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"];
    for format in WITH_OFFSET {
        if let Ok(parsed) = DateTime::parse_from_str(text, format) {
            return Some(Timestamp::from(parsed.to_utc()));
        }
    }
    const WITHOUT_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"];
    WITHOUT_OFFSET.iter().find_map(|format| {
        NaiveDateTime::parse_from_str(text, format)
            .ok()
            .map(|naive| Timestamp::from(naive.and_utc()))
    })
}

/// Nanoseconds (Datadog durations) to milliseconds.
pub(crate) fn nanos_to_millis(nanos: f64) -> f64 {
    nanos / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(text: &str) -> String {
        parse_timestamp(text)
            .map(Timestamp::to_rfc3339)
            .unwrap_or_default()
    }

    #[test]
    fn parses_every_timestamp_shape_the_vendors_send() {
        assert_eq!(rfc("2025-04-08T21:15:04Z"), "2025-04-08T21:15:04Z");
        assert_eq!(
            rfc("2025-04-03T22:51:19.403000Z"),
            "2025-04-03T22:51:19.403Z"
        );
        assert_eq!(
            rfc("2021-05-03T13:03:44.905085+00:00"),
            "2021-05-03T13:03:44.905085Z"
        );
        assert_eq!(rfc("2021-05-03T15:03:44+0200"), "2021-05-03T13:03:44Z");
        assert_eq!(rfc("2025-04-08T21:15:04"), "2025-04-08T21:15:04Z");
        assert_eq!(rfc("2025-04-08 21:15:04.5"), "2025-04-08T21:15:04.500Z");
        assert_eq!(rfc("1655744852000"), "2022-06-20T17:07:32Z");
        assert_eq!(rfc("1641430251"), "2022-01-06T00:50:51Z");
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp("2025-13-45T99:00:00Z"), None);
    }

    #[test]
    fn text_reads_any_scalar_and_keeps_structures_as_json() {
        let texts: Vec<Text> =
            serde_json::from_str(r#"["a", 25, 2.5, true, null, [1,2], {"k":"v"}]"#).unwrap();
        let texts: Vec<&str> = texts.iter().map(Text::as_str).collect();
        assert_eq!(
            texts,
            ["a", "25", "2.5", "true", "", "[1,2]", r#"{"k":"v"}"#]
        );
    }

    #[test]
    fn numbers_and_flags_read_strings_and_degrade_to_absent() {
        let numbers: Vec<Number> =
            serde_json::from_str(r#"[12, "12", 1.5, " 7 ", "x", true, null, [1], {"a":1}]"#)
                .unwrap();
        let numbers: Vec<Option<f64>> = numbers.iter().map(|number| number.0).collect();
        assert_eq!(
            numbers,
            [
                Some(12.0),
                Some(12.0),
                Some(1.5),
                Some(7.0),
                None,
                None,
                None,
                None,
                None
            ]
        );
        let flags: Vec<Flag> =
            serde_json::from_str(r#"[true, false, "yes", "No", 1, 0, "maybe", null, {}]"#).unwrap();
        let flags: Vec<Option<bool>> = flags.iter().map(|flag| flag.0).collect();
        assert_eq!(
            flags,
            [
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn maybe_object_and_items_degrade_to_absent_on_other_types() {
        #[derive(Deserialize)]
        #[serde(bound(deserialize = "'de: 'a"))]
        struct Probe<'a> {
            #[serde(default)]
            object: MaybeObject<BTreeMap<String, Text<'a>>>,
            #[serde(default)]
            list: Items<Text<'a>>,
        }
        for body in [
            r#"{"object": null, "list": null}"#,
            r#"{"object": [1, {"a": 2}], "list": {"a": [1]}}"#,
            r#"{"object": "text", "list": 3}"#,
            r#"{}"#,
        ] {
            let probe: Probe = serde_json::from_str(body).unwrap();
            assert!(probe.object.get().is_none(), "{body}");
            assert!(probe.list.0.is_empty(), "{body}");
        }
        let probe: Probe = serde_json::from_str(r#"{"object": {"a": 1}, "list": ["x"]}"#).unwrap();
        assert_eq!(probe.object.get().map(|o| o["a"].as_str()), Some("1"));
        assert_eq!(probe.list.0.len(), 1);
    }

    #[test]
    fn flattened_joins_nested_keys_with_dots() {
        let flat: Flattened = serde_json::from_str(
            r#"{"http":{"status_code":200,"url_details":{"path":"/"}},"tags":["a","b"],"gone":null,"d":2.5}"#,
        )
        .unwrap();
        assert_eq!(
            flat.0,
            [
                ("http.status_code".to_string(), "200".to_string()),
                ("http.url_details.path".to_string(), "/".to_string()),
                ("tags".to_string(), r#"["a","b"]"#.to_string()),
                ("d".to_string(), "2.5".to_string()),
            ]
        );
    }
}
