//! The incident scenario generator of faultline: realistic days of Sentry, Datadog, Scalyr,
//! Front and Slack signals for the stack of the playbook (Cloudflare → ELB → ingress → nginx →
//! Daphne → Redis → Postgres → Celery → S3 → code runners), with ground truth.
//!
//! A day is normal life (traffic with a daily shape through every layer, chronic noise, the
//! nightly cron's errors, routine deploys, flapping monitors, customers and staff talking) and,
//! for failure scenarios, one failure starting 8–25 minutes before `now` in one layer and
//! cascading to the layers above it, noticed by monitors and then by users.
//!
//! Events carry `Layer::Unknown`, as a connector delivers them: the layer is for the engine to
//! find from services, hosts, loggers, exception types, status codes and text. The true layer and
//! role of every event is available from [`generate_labeled`].
//!
//! ```
//! let options = faultline_scenario::GenOptions::default();
//! let day = faultline_scenario::generate("database", 7, &options).unwrap();
//! assert_eq!(day.truth.root_layer, Some(faultline_model::Layer::Database));
//! assert!(day.events.windows(2).all(|pair| pair[0].ts <= pair[1].ts));
//! ```

mod catalog;
mod clock;
mod generate;
mod incident;
mod lines;
mod monitors;
mod normal;
mod output;
mod rng;
mod sink;
mod stack;
mod texts;
mod traffic;
mod truth;
mod vendors;
mod world;

#[cfg(test)]
mod tests;

pub use catalog::{ScenarioKind, ScenarioSpec, catalog};
pub use generate::{generate, generate_labeled};
pub use output::{
    GenOptions, Generated, INCIDENT_WINDOW, Label, Labeled, Role, Truth, UnknownScenario,
};
