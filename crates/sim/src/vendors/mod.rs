//! One module per vendor: rendering events into its items, and its routes.

pub(crate) mod datadog;
pub(crate) mod front;
pub(crate) mod scalyr;
pub(crate) mod sentry;
pub(crate) mod slack;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::config::Vendor;
use crate::gate::{ServedKeys, json_response};
use crate::server::Sim;

pub(crate) fn routes(vendor: Vendor) -> Router<Arc<Sim>> {
    match vendor {
        Vendor::Sentry => sentry::routes(),
        Vendor::Datadog => datadog::routes(),
        Vendor::Scalyr => scalyr::routes(),
        Vendor::Front => front::routes(),
        Vendor::Slack => slack::routes(),
    }
}

/// Query-string (or form) parameters, repeated keys kept in order.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The URL-encoded query without `skip`, then `skip=value`.
    pub(crate) fn with(&self, skip: &str, value: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, existing) in &self.0 {
            if name != skip {
                query.append_pair(name, existing);
            }
        }
        query.append_pair(skip, value);
        query.finish()
    }

    pub(crate) fn from_form(body: &[u8]) -> Params {
        Params(url::form_urlencoded::parse(body).into_owned().collect())
    }
}

/// A 200 JSON page that delivers the items with `keys`.
pub(crate) fn page(body: &Value, keys: Vec<String>) -> Response {
    let mut response = json_response(StatusCode::OK, body);
    response.extensions_mut().insert(ServedKeys(keys));
    response
}

pub(crate) fn keys_of<'a>(
    items: impl IntoIterator<Item = &'a crate::catalog::Item>,
) -> Vec<String> {
    items.into_iter().map(|item| item.key.clone()).collect()
}

/// Dotted attribute names (`error.kind`) as nested objects (`{"error": {"kind": …}}`), as
/// vendors show parsed JSON; a name that is both a leaf and a parent stays dotted.
pub(crate) fn nest(attrs: &BTreeMap<String, String>) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in attrs {
        if !insert_nested(&mut root, key, value) {
            root.insert(key.clone(), Value::String(value.clone()));
        }
    }
    root
}

fn insert_nested(root: &mut Map<String, Value>, key: &str, value: &str) -> bool {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(leaf) = parts.pop() else {
        return false;
    };
    let mut node = root;
    for part in parts {
        let child = node
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(child) = child else {
            return false;
        };
        node = child;
    }
    if node.contains_key(leaf) {
        return false;
    }
    node.insert(leaf.to_string(), Value::String(value.to_string()));
    true
}

/// A stable small number from text (ids that must look numeric).
pub(crate) fn number_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_names_nest_unless_they_clash() {
        let attrs: BTreeMap<String, String> = [
            ("error.kind", "E"),
            ("error.message", "m"),
            ("logger", "x"),
            ("logger.name", "y"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let nested = Value::Object(nest(&attrs));
        assert_eq!(nested["error"]["kind"], "E");
        assert_eq!(nested["logger"], "x");
        assert_eq!(nested["logger.name"], "y");
    }
}
