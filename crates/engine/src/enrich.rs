//! The ingest-time path: every event gets its template, its fingerprint and its layer before
//! it is stored.
//!
//! - template: the first line of the message, mined online (user reports are not templated);
//! - fingerprint: `x:<hex>` from the exception and its in-app frames, whether the frames are
//!   structured (Sentry) or a trace written in the message or in `attrs["error.stack"]`; else
//!   `t:<hex>` from the template id;
//! - layer: from the rules, unless the source already knew it;
//! - symptom: user reports get the `symptom` attribute from the symptom rules, unless they
//!   already have one.

use faultline_model::{Event, Kind, Layer};

use crate::fingerprint::{fingerprint, parse_trace};
use crate::layers::LayerRules;
use crate::symptoms::SymptomRules;
use crate::templates::{MinerState, TemplateId, TemplateMiner};

/// Prefix of fingerprints computed from stack traces.
pub const TRACE_PREFIX: &str = "x:";
/// Prefix of fingerprints computed from message templates.
pub const TEMPLATE_PREFIX: &str = "t:";

pub struct Enricher {
    miner: TemplateMiner,
    rules: LayerRules,
    symptoms: SymptomRules,
}

impl Enricher {
    /// With the built-in symptom rules (see [`Enricher::with_symptoms`]).
    pub fn new(rules: LayerRules) -> Enricher {
        Enricher {
            miner: TemplateMiner::new(),
            rules,
            symptoms: SymptomRules::defaults(),
        }
    }

    /// Continues from a saved miner state, so template ids stay the same across restarts.
    pub fn with_state(rules: LayerRules, state: MinerState) -> Enricher {
        Enricher {
            miner: TemplateMiner::from_state(state),
            rules,
            symptoms: SymptomRules::defaults(),
        }
    }

    /// Uses these symptom rules for reports.
    pub fn with_symptoms(mut self, symptoms: SymptomRules) -> Enricher {
        self.symptoms = symptoms;
        self
    }

    pub fn rules(&self) -> &LayerRules {
        &self.rules
    }

    pub fn symptoms(&self) -> &SymptomRules {
        &self.symptoms
    }

    pub fn miner(&self) -> &TemplateMiner {
        &self.miner
    }

    pub fn miner_state(&self) -> MinerState {
        self.miner.state()
    }

    pub fn enrich_all(&mut self, events: &mut [Event]) {
        for event in events {
            self.enrich(event);
        }
    }

    pub fn enrich(&mut self, event: &mut Event) {
        fill_stack_from_text(event);
        if event.kind == Kind::Report {
            self.symptoms.tag(event);
        } else {
            let template_id = self.miner.add(first_line(&event.message));
            event.template = self.miner.template(template_id).map(str::to_string);
            if event.fingerprint.is_none() {
                event.fingerprint = Some(fingerprint_of(event, template_id));
            }
        }
        if event.layer == Layer::Unknown {
            event.layer = self.rules.layer_of(event);
        }
    }

    /// The current id of a template fingerprint that may have been generalized since it was
    /// stored (trace fingerprints are returned unchanged).
    pub fn resolve_fingerprint(&self, fingerprint: &str) -> String {
        let Some(hex) = fingerprint.strip_prefix(TEMPLATE_PREFIX) else {
            return fingerprint.to_string();
        };
        match hex.parse::<TemplateId>() {
            Ok(id) => format!("{TEMPLATE_PREFIX}{}", self.miner.resolve(id)),
            Err(_) => fingerprint.to_string(),
        }
    }
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or_default()
}

fn fingerprint_of(event: &Event, template: TemplateId) -> String {
    match (&event.error_type, event.stack.is_empty()) {
        (Some(error_type), false) => {
            format!("{TRACE_PREFIX}{}", fingerprint(error_type, &event.stack))
        }
        _ => format!("{TEMPLATE_PREFIX}{template}"),
    }
}

/// A trace written as text (in `error.stack` or the message) becomes structured frames, so
/// the same exception fingerprints alike from every source.
fn fill_stack_from_text(event: &mut Event) {
    if !event.stack.is_empty() {
        return;
    }
    let parsed = event
        .attrs
        .get("error.stack")
        .and_then(|text| parse_trace(text))
        .or_else(|| parse_trace(&event.message));
    let Some(trace) = parsed else {
        return;
    };
    if event.error_type.is_none() && !trace.error_type.is_empty() {
        event.error_type = Some(trace.error_type.clone());
    }
    if event.error_type.is_some() {
        event.stack = trace.frames;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_model::Frame;

    fn event(message: &str) -> Event {
        Event {
            id: "t:1".into(),
            source: "t".into(),
            message: message.into(),
            service: Some("web".into()),
            ..Event::default()
        }
    }

    #[test]
    fn logs_get_a_template_fingerprint_and_a_layer() {
        let mut enricher = Enricher::new(LayerRules::defaults());
        let mut a = event("GET /api/items/1 200 in 12 ms");
        let mut b = event("GET /api/items/2 200 in 15 ms");
        enricher.enrich(&mut a);
        enricher.enrich(&mut b);
        assert_eq!(a.template, b.template);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert!(
            a.fingerprint
                .as_deref()
                .unwrap()
                .starts_with(TEMPLATE_PREFIX)
        );
        assert_eq!(a.layer, Layer::App);
    }

    #[test]
    fn a_trace_in_a_log_fingerprints_like_structured_frames() {
        let mut enricher = Enricher::new(LayerRules::defaults());
        let text = "Traceback (most recent call last):\n  File \"/srv/app/app/views/dashboard.py\", line 88, in get\n    rows = load()\n  File \"/srv/app/app/db.py\", line 31, in connect\n    return psycopg2.connect(dsn)\npsycopg2.OperationalError: could not connect to server";
        let mut log = event("request failed");
        log.attrs.insert("error.stack".into(), text.into());
        enricher.enrich(&mut log);
        let mut sentry = event("OperationalError: could not connect to server");
        sentry.error_type = Some("OperationalError".into());
        sentry.stack = vec![
            Frame {
                module: Some("app.views.dashboard".into()),
                function: Some("get".into()),
                file: Some("app/views/dashboard.py".into()),
                line: Some(90),
                in_app: true,
            },
            Frame {
                module: Some("app.db".into()),
                function: Some("connect".into()),
                file: Some("app/db.py".into()),
                line: Some(33),
                in_app: true,
            },
        ];
        enricher.enrich(&mut sentry);
        assert!(
            log.fingerprint
                .as_deref()
                .unwrap()
                .starts_with(TRACE_PREFIX)
        );
        assert_eq!(log.fingerprint, sentry.fingerprint);
        assert_eq!(log.error_type.as_deref(), Some("psycopg2.OperationalError"));
        assert_eq!(log.layer, Layer::Database);
    }

    #[test]
    fn reports_keep_their_text_untemplated_and_known_layers_stay() {
        let mut enricher = Enricher::new(LayerRules::defaults());
        let mut report = event("I can't log in since 10 minutes");
        report.kind = Kind::Report;
        report.layer = Layer::Frontend;
        enricher.enrich(&mut report);
        assert_eq!(report.template, None);
        assert_eq!(report.fingerprint, None);
        assert_eq!(report.layer, Layer::Frontend);
        assert_eq!(report.attrs["symptom"], "login_failed");
    }

    #[test]
    fn reports_keep_a_symptom_they_already_have_and_logs_get_none() {
        let mut enricher = Enricher::new(LayerRules::defaults());
        let mut report = event("the site is down");
        report.kind = Kind::Report;
        report.attrs.insert("symptom".into(), "slow".into());
        enricher.enrich(&mut report);
        assert_eq!(report.attrs["symptom"], "slow");
        let mut log = event("the site is down");
        enricher.enrich(&mut log);
        assert!(!log.attrs.contains_key("symptom"));
    }
}
