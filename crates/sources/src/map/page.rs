//! Reading a page in one pass, and re-reading it item by item only to explain a failure.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::MapError;
use super::error::Invalid;

/// The body as text, checked once: parsing from `&str` spares serde_json a UTF-8 check per string.
pub(crate) fn body_text<'b>(body: &'b [u8], what: &str) -> Result<&'b str, MapError> {
    std::str::from_utf8(body)
        .map_err(|err| MapError::malformed(format!("{what} is not UTF-8: {err}"), body))
}

/// The items of a body that is a JSON array, or the error that names what is wrong with it: the
/// vendor's own error (recognised by `vendor_error`), a body that is no array, or the first item
/// that does not read.
pub(crate) fn read_array<'b, T: Deserialize<'b>>(
    body: &'b [u8],
    what: &str,
    item: &str,
    vendor_error: fn(&[u8]) -> Option<MapError>,
) -> Result<Vec<T>, MapError> {
    serde_json::from_str(body_text(body, what)?).map_err(|err| {
        if let Some(error) = vendor_error(body) {
            return error;
        }
        match serde_json::from_slice::<Vec<&RawValue>>(body) {
            Ok(items) => first_unreadable::<T>(&items, item)
                .unwrap_or_else(|| MapError::malformed(format!("{what}: {err}"), body)),
            Err(raw_err) => {
                MapError::malformed(format!("{what} is not a JSON array: {raw_err}"), body)
            }
        }
    })
}

/// The error of the first item that does not read as `T`, quoting that item.
pub(crate) fn first_unreadable<'b, T: Deserialize<'b>>(
    items: &[&'b RawValue],
    item: &str,
) -> Option<MapError> {
    items.iter().enumerate().find_map(|(index, raw)| {
        serde_json::from_str::<T>(raw.get())
            .err()
            .map(|err| MapError::malformed(format!("{item} #{index}: {err}"), raw.get().as_bytes()))
    })
}

/// Whether the body mentions `"key"`: a cheap test before re-reading a failed body for a key.
pub(crate) fn mentions_key(body: &[u8], key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    body.windows(quoted.len())
        .any(|window| window == quoted.as_bytes())
}

/// Attaches item `index` of a JSON array body to a problem found while mapping it.
pub(crate) fn in_array_item(problem: Invalid, body: &[u8], index: usize) -> MapError {
    let items = serde_json::from_slice::<Vec<&RawValue>>(body).unwrap_or_default();
    item_problem(problem, &items, index, body)
}

/// Attaches item `index` of `data` in a `{"data": [...]}` body to a problem found while mapping it.
pub(crate) fn in_data_item(problem: Invalid, body: &[u8], index: usize) -> MapError {
    #[derive(Deserialize)]
    struct RawData<'a> {
        #[serde(borrow)]
        data: Vec<&'a RawValue>,
    }
    let items = serde_json::from_slice::<RawData>(body)
        .map(|raw| raw.data)
        .unwrap_or_default();
    item_problem(problem, &items, index, body)
}

fn item_problem(problem: Invalid, items: &[&RawValue], index: usize, body: &[u8]) -> MapError {
    match items.get(index) {
        Some(raw) => problem.with_excerpt(raw.get().as_bytes()),
        None => problem.with_excerpt(body),
    }
}
