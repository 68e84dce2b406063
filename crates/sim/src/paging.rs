//! Shared paging and time-parameter helpers: opaque cursors, page slicing, vendor time formats.

use faultline_model::Timestamp;

/// The items of one page and the offset of the next one, if any is left.
pub(crate) fn slice<T>(items: &[T], offset: usize, limit: usize) -> (&[T], Option<usize>) {
    let start = offset.min(items.len());
    let end = start.saturating_add(limit.max(1)).min(items.len());
    let next = (end < items.len()).then_some(end);
    (&items[start..end], next)
}

/// `limit` as the vendor reads it: absent is `default`, above `max` is `max`.
pub(crate) fn limit(raw: Option<&str>, default: usize, max: usize) -> usize {
    raw.and_then(|text| text.trim().parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URL-safe base64 without padding, the look of most vendors' opaque cursors.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4 / 3 + 4);
    for chunk in text.as_bytes().chunks(3) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (index, byte)| {
            acc | u32::from(*byte) << (16 - 8 * index)
        });
        for index in 0..=chunk.len() {
            out.push(ALPHABET[(bits >> (18 - 6 * index) & 63) as usize] as char);
        }
    }
    out
}

pub(crate) fn decode(cursor: &str) -> Option<String> {
    let values: Option<Vec<u32>> = cursor
        .trim_end_matches('=')
        .bytes()
        .map(|byte| {
            let byte = match byte {
                b'+' => b'-',
                b'/' => b'_',
                other => other,
            };
            ALPHABET.iter().position(|c| *c == byte).map(|p| p as u32)
        })
        .collect();
    let mut bytes = Vec::new();
    for chunk in values?.chunks(4) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (index, value)| acc | value << (18 - 6 * index));
        for index in 0..chunk.len().saturating_sub(1) {
            bytes.push((bits >> (16 - 8 * index)) as u8);
        }
    }
    String::from_utf8(bytes).ok()
}

/// An opaque cursor holding `{tag}:{offset}`, so a cursor of one listing is refused by another.
pub(crate) fn offset_cursor(tag: &str, offset: usize) -> String {
    encode(&format!("{tag}:{offset}"))
}

pub(crate) fn read_offset_cursor(tag: &str, cursor: &str) -> Option<usize> {
    let text = decode(cursor)?;
    let (found, offset) = text.rsplit_once(':')?;
    (found == tag).then(|| offset.parse().ok()).flatten()
}

/// ISO-8601, epoch seconds/ms/µs/ns (by magnitude, with decimals), or a relative `now-15m`/`4h`.
pub(crate) fn parse_time(text: &str, now: Timestamp) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(number) = text.parse::<i64>() {
        return Some(from_integer(number));
    }
    if let Some(ts) = decimal_time(text) {
        return Some(ts);
    }
    if let Ok(number) = text.parse::<f64>() {
        return Some(Timestamp::from_epoch_guess(number));
    }
    if let Ok(ts) = Timestamp::parse_rfc3339(text) {
        return Some(ts);
    }
    let relative = text.strip_prefix("now-").unwrap_or(text);
    if text == "now" {
        return Some(now);
    }
    relative_micros(relative).map(|micros| now.plus_micros(-micros))
}

/// `"1764157437.193559"`: seconds and a fraction, read exactly (no float rounding).
fn decimal_time(text: &str) -> Option<Timestamp> {
    let (seconds, fraction) = text.split_once('.')?;
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(seconds) || !all_digits(fraction) || seconds.len() > 11 {
        return None;
    }
    let mut micros_text: String = fraction.chars().take(6).collect();
    while micros_text.len() < 6 {
        micros_text.push('0');
    }
    let micros = seconds.parse::<i64>().ok()? * 1_000_000 + micros_text.parse::<i64>().ok()?;
    Some(Timestamp::from_micros(micros))
}

fn from_integer(number: i64) -> Timestamp {
    let magnitude = number.unsigned_abs();
    if magnitude < 100_000_000_000 {
        Timestamp::from_secs(number)
    } else if magnitude < 100_000_000_000_000 {
        Timestamp::from_millis(number)
    } else if magnitude < 100_000_000_000_000_000 {
        Timestamp::from_micros(number)
    } else {
        Timestamp::from_nanos(number)
    }
}

/// `15m`, `24h`, `14d`, `30s`, `2w` in microseconds.
pub(crate) fn relative_micros(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(number * seconds * 1_000_000)
}

/// Seconds with a fractional part, as Front and Slack write times.
pub(crate) fn decimal_seconds(ts: Timestamp, digits: usize) -> String {
    let micros = ts.as_micros();
    let fraction = micros.rem_euclid(1_000_000);
    let scaled = fraction / 10i64.pow(6 - digits as u32);
    format!("{}.{:0digits$}", micros.div_euclid(1_000_000), scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for text in ["a", "ab", "abc", "sentry:events:12345", ""] {
            assert_eq!(decode(&encode(text)).as_deref(), Some(text));
        }
        assert_eq!(
            read_offset_cursor("logs", &offset_cursor("logs", 42)),
            Some(42)
        );
        assert_eq!(
            read_offset_cursor("spans", &offset_cursor("logs", 42)),
            None
        );
    }

    #[test]
    fn times_in_every_vendor_format() {
        let now = Timestamp::from_secs(1_800_000_000);
        let at = |text| parse_time(text, now).map(Timestamp::as_micros);
        assert_eq!(at("1800000000"), Some(1_800_000_000_000_000));
        assert_eq!(at("1800000000000"), Some(1_800_000_000_000_000));
        assert_eq!(at("1800000000000000000"), Some(1_800_000_000_000_000));
        assert_eq!(at("1800000000.500"), Some(1_800_000_000_500_000));
        assert_eq!(at("now-15m"), Some(1_800_000_000_000_000 - 900_000_000));
        assert_eq!(at("4h"), Some(1_800_000_000_000_000 - 14_400_000_000));
        assert_eq!(at("2027-01-15T08:00:00Z"), Some(1_800_000_000_000_000));
        assert_eq!(
            decimal_seconds(Timestamp::from_micros(1_500_250), 6),
            "1.500250"
        );
        assert_eq!(
            decimal_seconds(Timestamp::from_micros(1_500_250), 3),
            "1.500"
        );
        let (page, next) = slice(&[1, 2, 3, 4, 5], 3, 2);
        assert_eq!((page, next), (&[4, 5][..], None));
    }
}
