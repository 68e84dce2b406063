//! The scenario's events rendered back into each vendor's items.

use std::collections::HashSet;

use faultline_model::{Event, Timestamp};
use serde_json::Value;

use crate::config::Vendor;
use crate::vendors::{datadog, front, scalyr, sentry, slack};

/// One vendor item: what the connector turns into exactly one stored event.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Tells items apart the way the connector does (its vendor id).
    pub(crate) key: String,
    pub(crate) ts: Timestamp,
    pub(crate) body: Value,
}

/// Items in `[from, to]` that exist at `now`, in time order.
pub(crate) fn between(
    items: &[Item],
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Vec<&Item> {
    let to = to.min(now);
    items
        .iter()
        .filter(|item| item.ts >= from && item.ts <= to)
        .collect()
}

pub(crate) fn keys_until(items: &[Item], now: Timestamp) -> impl Iterator<Item = String> + '_ {
    items
        .iter()
        .filter(move |item| item.ts <= now)
        .map(|item| item.key.clone())
}

/// Sorts by time and drops items whose key an earlier one already has.
pub(crate) fn finish(mut items: Vec<Item>) -> Vec<Item> {
    items.sort_by_key(|item| item.ts);
    let mut seen = HashSet::new();
    items.retain(|item| seen.insert(item.key.clone()));
    items
}

/// The vendor id of a scenario event (its id without the `"{source}:"` prefix).
pub(crate) fn vendor_id(event: &Event) -> &str {
    event
        .id
        .split_once(':')
        .map_or(event.id.as_str(), |(_, rest)| rest)
}

/// Every vendor's items.
pub(crate) struct Catalog {
    pub(crate) sentry: sentry::Data,
    pub(crate) datadog: datadog::Data,
    pub(crate) scalyr: scalyr::Data,
    pub(crate) front: front::Data,
    pub(crate) slack: slack::Data,
}

impl Catalog {
    /// Renders `events`; `base` is the simulator's address (`http://127.0.0.1:port`).
    pub(crate) fn build(events: &[Event], base: &str) -> Catalog {
        let of = |vendor: Vendor| -> Vec<&Event> {
            events
                .iter()
                .filter(|event| Vendor::from_source(&event.source) == Some(vendor))
                .collect()
        };
        Catalog {
            sentry: sentry::Data::build(
                &of(Vendor::Sentry),
                &format!("{base}{}", Vendor::Sentry.prefix()),
            ),
            datadog: datadog::Data::build(&of(Vendor::Datadog)),
            scalyr: scalyr::Data::build(&of(Vendor::Scalyr)),
            front: front::Data::build(
                &of(Vendor::Front),
                &format!("{base}{}", Vendor::Front.prefix()),
            ),
            slack: slack::Data::build(&of(Vendor::Slack)),
        }
    }

    /// Keys of the items of `vendor` that exist at `now`.
    pub(crate) fn existing(&self, vendor: Vendor, now: Timestamp) -> Vec<String> {
        match vendor {
            Vendor::Sentry => self.sentry.existing(now),
            Vendor::Datadog => self.datadog.existing(now),
            Vendor::Scalyr => self.scalyr.existing(now),
            Vendor::Front => self.front.existing(now),
            Vendor::Slack => self.slack.existing(now),
        }
    }
}
