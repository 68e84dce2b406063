//! Layer classification: a rules file (TOML) maps events to stack layers by service, host,
//! logger, exception type, tags, status codes and message text. Built-in defaults describe the
//! playbook's stack; a user's file is tried first and may replace them. The layer dependency
//! order (edge → deepest) is part of the rules, so another team can describe its own stack.

mod pattern;

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use faultline_model::{Event, Kind, Layer};
use serde::Deserialize;

use pattern::Glob;

/// The rules that ship with faultline.
pub const DEFAULT_RULES: &str = include_str!("default_rules.toml");

/// A rules file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Layers from the edge to the deepest dependency.
    #[serde(default)]
    pub order: Vec<Layer>,
    /// With `true`, the built-in rules are not used at all.
    #[serde(default)]
    pub replace_defaults: bool,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// One `[[rule]]`: every named field must match; a list matches when any entry does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    pub layer: Layer,
    #[serde(default)]
    pub message: Vec<String>,
    #[serde(default)]
    pub error_type: Vec<String>,
    #[serde(default)]
    pub service: Vec<String>,
    #[serde(default)]
    pub host: Vec<String>,
    #[serde(default)]
    pub logger: Vec<String>,
    #[serde(default)]
    pub source: Vec<String>,
    #[serde(default)]
    pub kind: Vec<Kind>,
    #[serde(default)]
    pub status: Vec<i32>,
    #[serde(default)]
    pub tags: BTreeMap<String, Vec<String>>,
}

/// A rules file that could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("layer rules: {0}")]
pub struct RulesError(pub String);

/// Compiled rules, ready to classify events quickly.
#[derive(Debug, Clone)]
pub struct LayerRules {
    order: Vec<Layer>,
    rules: Vec<Rule>,
    /// All message patterns of all rules in one automaton: one scan of the text per event.
    messages: Option<AhoCorasick>,
    /// For each automaton pattern, the rule it belongs to.
    message_owner: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    layer: Layer,
    has_message: bool,
    error_type: Vec<Glob>,
    service: Vec<Glob>,
    host: Vec<Glob>,
    logger: Vec<Glob>,
    source: Vec<Glob>,
    kind: Vec<Kind>,
    status: Vec<i32>,
    tags: Vec<(String, Vec<Glob>)>,
}

/// Which rule set the layer and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Classification {
    pub layer: Layer,
    /// The rule that matched, or `None` when none did (layer `unknown`, or kept from the source).
    pub rule: Option<String>,
    /// For each field the rule names: the field and what it matched.
    pub reasons: Vec<String>,
}

impl LayerRules {
    /// The built-in rules.
    pub fn defaults() -> LayerRules {
        LayerRules::from_files(&[]).expect("the built-in rules are valid")
    }

    /// Parses a user's rules file (TOML) and combines it with the defaults.
    pub fn with_user_rules(text: &str) -> Result<LayerRules, RulesError> {
        let user: RulesFile = toml::from_str(text).map_err(|err| RulesError(err.to_string()))?;
        LayerRules::from_files(&[user])
    }

    fn from_files(user: &[RulesFile]) -> Result<LayerRules, RulesError> {
        let defaults: RulesFile = toml::from_str(DEFAULT_RULES)
            .map_err(|err| RulesError(format!("built-in rules: {err}")))?;
        let replace = user.iter().any(|file| file.replace_defaults);
        let order = user
            .iter()
            .rev()
            .find(|file| !file.order.is_empty())
            .map_or(defaults.order.clone(), |file| file.order.clone());
        let mut specs: Vec<RuleSpec> = user.iter().flat_map(|file| file.rules.clone()).collect();
        if !replace {
            specs.extend(defaults.rules);
        }
        compile(order, specs)
    }

    /// The layer order, edge first.
    pub fn order(&self) -> &[Layer] {
        &self.order
    }

    /// How deep a layer is (0 = the edge); unknown layers are the shallowest.
    pub fn depth(&self, layer: Layer) -> usize {
        self.order
            .iter()
            .position(|candidate| *candidate == layer)
            .map_or(0, |index| index + 1)
    }

    /// The first rule that matches the event, with why.
    pub fn classify(&self, event: &Event) -> Classification {
        let message_hits = self.message_hits(event);
        for (index, rule) in self.rules.iter().enumerate() {
            if let Some(reasons) = rule.explain(event, message_hits.get(&index)) {
                return Classification {
                    layer: rule.layer,
                    rule: Some(rule.name.clone()),
                    reasons,
                };
            }
        }
        Classification {
            layer: Layer::Unknown,
            rule: None,
            reasons: vec!["no rule matched".into()],
        }
    }

    /// Only the layer, for the ingest path.
    pub fn layer_of(&self, event: &Event) -> Layer {
        self.classify(event).layer
    }

    /// For each rule with message patterns, the first pattern found in the event's text.
    fn message_hits(&self, event: &Event) -> BTreeMap<usize, String> {
        let mut hits = BTreeMap::new();
        let Some(automaton) = &self.messages else {
            return hits;
        };
        let texts = [
            Some(event.message.as_str()),
            event.attrs.get("error.message").map(String::as_str),
        ];
        for text in texts.into_iter().flatten() {
            for found in automaton.find_overlapping_iter(text) {
                let owner = self.message_owner[found.pattern().as_usize()];
                hits.entry(owner)
                    .or_insert_with(|| text[found.start()..found.end()].to_ascii_lowercase());
            }
        }
        hits
    }
}

fn compile(order: Vec<Layer>, specs: Vec<RuleSpec>) -> Result<LayerRules, RulesError> {
    let mut patterns = Vec::new();
    let mut owners = Vec::new();
    let mut rules = Vec::with_capacity(specs.len());
    for (index, spec) in specs.into_iter().enumerate() {
        for text in &spec.message {
            if text.trim().is_empty() {
                return Err(RulesError(format!(
                    "rule {:?} has an empty message pattern",
                    spec.name
                )));
            }
            patterns.push(text.to_ascii_lowercase());
            owners.push(index);
        }
        rules.push(compile_rule(spec)?);
    }
    let messages = if patterns.is_empty() {
        None
    } else {
        Some(
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .map_err(|err| RulesError(err.to_string()))?,
        )
    };
    Ok(LayerRules {
        order,
        rules,
        messages,
        message_owner: owners,
    })
}

fn compile_rule(spec: RuleSpec) -> Result<Rule, RulesError> {
    let globs = |list: &[String]| list.iter().map(|text| Glob::new(text)).collect::<Vec<_>>();
    let names_something = !spec.message.is_empty()
        || !spec.error_type.is_empty()
        || !spec.service.is_empty()
        || !spec.host.is_empty()
        || !spec.logger.is_empty()
        || !spec.source.is_empty()
        || !spec.kind.is_empty()
        || !spec.status.is_empty()
        || !spec.tags.is_empty();
    if !names_something {
        return Err(RulesError(format!(
            "rule {:?} matches nothing: name at least one field",
            spec.name
        )));
    }
    Ok(Rule {
        has_message: !spec.message.is_empty(),
        error_type: globs(&spec.error_type),
        service: globs(&spec.service),
        host: globs(&spec.host),
        logger: globs(&spec.logger),
        source: globs(&spec.source),
        tags: spec
            .tags
            .iter()
            .map(|(key, values)| (key.clone(), globs(values)))
            .collect(),
        kind: spec.kind,
        status: spec.status,
        layer: spec.layer,
        name: spec.name,
    })
}

/// The exception type: the event's own, or the one a tracer left in its attributes.
fn error_type(event: &Event) -> Option<&str> {
    event.error_type.as_deref().or_else(|| {
        ["error.kind", "error.type"]
            .iter()
            .find_map(|key| event.attrs.get(*key).map(String::as_str))
    })
}

impl Rule {
    /// `Some(reasons)` when every field the rule names matches.
    fn explain(&self, event: &Event, message_hit: Option<&String>) -> Option<Vec<String>> {
        let mut reasons = Vec::new();
        if self.has_message {
            reasons.push(format!("message contains {:?}", message_hit?));
        }
        check_globs(
            &self.error_type,
            error_type(event),
            "error_type",
            &mut reasons,
        )?;
        check_globs(
            &self.service,
            event.service.as_deref(),
            "service",
            &mut reasons,
        )?;
        check_globs(&self.host, event.host.as_deref(), "host", &mut reasons)?;
        check_globs(&self.logger, logger(event), "logger", &mut reasons)?;
        check_globs(
            &self.source,
            Some(event.source.as_str()),
            "source",
            &mut reasons,
        )?;
        if !self.kind.is_empty() {
            self.kind.contains(&event.kind).then_some(())?;
            reasons.push(format!("kind is {}", event.kind));
        }
        if !self.status.is_empty() {
            let status = event
                .status_code
                .filter(|code| self.status.contains(code))?;
            reasons.push(format!("status is {status}"));
        }
        for (key, values) in &self.tags {
            check_globs(
                values,
                event.attrs.get(key).map(String::as_str),
                key,
                &mut reasons,
            )?;
        }
        Some(reasons)
    }
}

fn logger(event: &Event) -> Option<&str> {
    ["logger.name", "logger", "logger_name"]
        .iter()
        .find_map(|key| event.attrs.get(*key).map(String::as_str))
}

fn check_globs(
    globs: &[Glob],
    value: Option<&str>,
    field: &str,
    reasons: &mut Vec<String>,
) -> Option<()> {
    if globs.is_empty() {
        return Some(());
    }
    let value = value?;
    let glob = globs.iter().find(|glob| glob.matches(value))?;
    reasons.push(format!("{field} {value:?} matches {:?}", glob.text()));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(service: &str, message: &str) -> Event {
        Event {
            id: "t:1".into(),
            source: "t".into(),
            service: Some(service.into()),
            message: message.into(),
            ..Event::default()
        }
    }

    #[test]
    fn error_types_and_messages_win_over_the_emitting_service() {
        let rules = LayerRules::defaults();
        let mut db = event(
            "web",
            "OperationalError: could not connect to server: Connection refused",
        );
        db.error_type = Some("psycopg2.OperationalError".into());
        assert_eq!(rules.layer_of(&db), Layer::Database);
        let proxy = event(
            "nginx",
            "upstream timed out (110: Connection timed out) while reading response header from upstream",
        );
        assert_eq!(rules.layer_of(&proxy), Layer::Proxy);
        assert_eq!(
            rules.layer_of(&event("web", "GET /api/v1/dashboard 200")),
            Layer::App
        );
        assert_eq!(rules.layer_of(&event("mystery", "hello")), Layer::Unknown);
    }

    #[test]
    fn classification_explains_itself() {
        let rules = LayerRules::defaults();
        let got = rules.classify(&event("web", "Back-off restarting failed container daphne"));
        assert_eq!(got.layer, Layer::K8s);
        assert_eq!(got.rule.as_deref(), Some("kubernetes-events"));
        assert_eq!(
            got.reasons,
            vec!["message contains \"back-off restarting failed container\"".to_string()]
        );
    }

    #[test]
    fn user_rules_come_first_and_can_replace_order_and_defaults() {
        let user = r#"
            order = ["cdn", "app", "database"]
            [[rule]]
            name = "our-billing-service"
            layer = "external"
            service = ["billing-*"]
        "#;
        let rules = LayerRules::with_user_rules(user).unwrap();
        assert_eq!(
            rules.layer_of(&event("billing-api", "redis timeout")),
            Layer::External
        );
        assert_eq!(rules.depth(Layer::Database), 3);
        let only_mine =
            LayerRules::with_user_rules(&format!("replace_defaults = true\n{user}")).unwrap();
        assert_eq!(
            only_mine.layer_of(&event("web", "redis timeout")),
            Layer::Unknown
        );
    }

    #[test]
    fn bad_rules_files_say_what_is_wrong() {
        let err = LayerRules::with_user_rules(
            "[[rule]]\nname = \"x\"\nlayer = \"moon\"\nservice = [\"a\"]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("moon"), "{err}");
        let err =
            LayerRules::with_user_rules("[[rule]]\nname = \"x\"\nlayer = \"app\"\n").unwrap_err();
        assert!(err.to_string().contains("matches nothing"), "{err}");
        let err = LayerRules::with_user_rules(
            "[[rule]]\nname = \"x\"\nlayer = \"app\"\nservise = [\"a\"]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("servise"), "{err}");
    }
}
