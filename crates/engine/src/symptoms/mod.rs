//! Symptoms in what people write: a rules file (TOML, the same `[[rule]]` shape as the layer
//! rules) maps the text of a user report to the symptom it describes — `site_down`,
//! `login_failed`, `code_not_running`, `slow`, `payment_failed`, `data_missing`, else `other`.
//! Built-in defaults speak the playbook's language (and a few others); a user's file is tried
//! first and may replace them. `default_symptoms.toml` documents how phrases match.
//!
//! Matching is one Aho-Corasick scan of the normalized text (lowercase, accents dropped,
//! punctuation as spaces) over every phrase of every rule, after words one typo away from a
//! known word have been corrected.

mod text;

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use faultline_model::Event;
use serde::Deserialize;

use text::{Vocabulary, is_boundary, normalize};

/// The rules that ship with faultline.
pub const DEFAULT_SYMPTOMS: &str = include_str!("default_symptoms.toml");
/// The attribute of a report that holds its symptom.
pub const SYMPTOM_ATTR: &str = "symptom";
/// The symptom of a report no rule matches.
pub const OTHER: &str = "other";

/// A symptom rules file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymptomsFile {
    /// With `true`, the built-in rules are not used at all.
    #[serde(default)]
    pub replace_defaults: bool,
    #[serde(default, rename = "rule")]
    pub rules: Vec<SymptomRuleSpec>,
}

/// One `[[rule]]`: a `message` phrase, and one of the `with` phrases when given, and none of
/// the `unless` phrases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymptomRuleSpec {
    pub name: String,
    pub symptom: String,
    pub message: Vec<String>,
    #[serde(default)]
    pub with: Vec<String>,
    #[serde(default)]
    pub unless: Vec<String>,
}

/// A symptom rules file that could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("symptom rules: {0}")]
pub struct SymptomError(pub String);

/// Which symptom a text shows and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SymptomMatch {
    pub symptom: String,
    /// The rule that matched; `None` for `other`.
    pub rule: Option<String>,
    /// The phrase found (normalized), when a rule matched.
    pub phrase: Option<String>,
}

/// Compiled symptom rules.
#[derive(Debug, Clone)]
pub struct SymptomRules {
    rules: Vec<Rule>,
    phrases: Vec<Phrase>,
    /// All phrases of all rules in one automaton: one scan of the text per report.
    automaton: Option<AhoCorasick>,
    vocabulary: Vocabulary,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    symptom: String,
    /// Rules of the user's file win over built-in ones.
    from_user: bool,
    has_with: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Message,
    With,
    Unless,
}

/// One distinct phrase: its text, whether a word may go on at either end, and the rules
/// (and fields) that use it.
#[derive(Debug, Clone)]
struct Phrase {
    text: String,
    open_start: bool,
    open_end: bool,
    owners: Vec<(usize, Field)>,
}

/// Where each field of a rule was first found in a text.
#[derive(Debug, Clone, Copy, Default)]
struct Hits {
    message: Option<usize>,
    with: Option<usize>,
    unless: bool,
}

static DEFAULTS: LazyLock<SymptomRules> =
    LazyLock::new(|| SymptomRules::from_files(None).expect("the built-in symptom rules are valid"));

impl SymptomRules {
    /// The built-in rules.
    pub fn defaults() -> SymptomRules {
        DEFAULTS.clone()
    }

    /// Parses a user's rules file (TOML) and combines it with the defaults.
    pub fn with_user_rules(text: &str) -> Result<SymptomRules, SymptomError> {
        let user: SymptomsFile =
            toml::from_str(text).map_err(|err| SymptomError(err.to_string()))?;
        SymptomRules::from_files(Some(user))
    }

    fn from_files(user: Option<SymptomsFile>) -> Result<SymptomRules, SymptomError> {
        let defaults: SymptomsFile = toml::from_str(DEFAULT_SYMPTOMS)
            .map_err(|err| SymptomError(format!("built-in rules: {err}")))?;
        let replace = user.as_ref().is_some_and(|file| file.replace_defaults);
        let mut specs: Vec<(SymptomRuleSpec, bool)> = user
            .into_iter()
            .flat_map(|file| file.rules)
            .map(|spec| (spec, true))
            .collect();
        if !replace {
            specs.extend(defaults.rules.into_iter().map(|spec| (spec, false)));
        }
        compile(specs)
    }

    /// The symptoms the rules can give, `other` included.
    pub fn symptoms(&self) -> Vec<&str> {
        let mut names: BTreeSet<&str> = self.rules.iter().map(|r| r.symptom.as_str()).collect();
        names.insert(OTHER);
        names.into_iter().collect()
    }

    /// Only the symptom, for the ingest path.
    pub fn symptom_of(&self, text: &str) -> String {
        self.classify(text).symptom
    }

    /// The symptom of a report's text, with the rule and phrase that decided it.
    pub fn classify(&self, text: &str) -> SymptomMatch {
        let normalized = self.vocabulary.correct(normalize(text));
        let hits = self.hits(&normalized);
        let best = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                let position = rule_position(rule, &hits[index])?;
                Some(((!rule.from_user, position, index), index))
            })
            .min_by_key(|(key, _)| *key);
        match best {
            Some(((_, position, _), index)) => SymptomMatch {
                symptom: self.rules[index].symptom.clone(),
                rule: Some(self.rules[index].name.clone()),
                phrase: Some(self.phrase_at(&normalized, position, index)),
            },
            None => SymptomMatch {
                symptom: OTHER.to_string(),
                rule: None,
                phrase: None,
            },
        }
    }

    /// Sets the `symptom` attribute of a report that has none.
    pub fn tag(&self, event: &mut Event) {
        if !event.attrs.contains_key(SYMPTOM_ATTR) {
            let symptom = self.symptom_of(&event.message);
            event.attrs.insert(SYMPTOM_ATTR.to_string(), symptom);
        }
    }

    /// For each rule, where its fields were first found in the normalized text.
    fn hits(&self, normalized: &str) -> Vec<Hits> {
        let mut hits = vec![Hits::default(); self.rules.len()];
        let Some(automaton) = &self.automaton else {
            return hits;
        };
        for found in automaton.find_overlapping_iter(normalized) {
            let phrase = &self.phrases[found.pattern().as_usize()];
            if !phrase_fits(phrase, normalized, found.start(), found.end()) {
                continue;
            }
            for &(rule, field) in &phrase.owners {
                let slot = &mut hits[rule];
                match field {
                    Field::Message => keep_earliest(&mut slot.message, found.start()),
                    Field::With => keep_earliest(&mut slot.with, found.start()),
                    Field::Unless => slot.unless = true,
                }
            }
        }
        hits
    }

    /// The message phrase of rule `index` found at `position` (or the first one found).
    fn phrase_at(&self, normalized: &str, position: usize, index: usize) -> String {
        self.phrases
            .iter()
            .filter(|phrase| phrase.owners.contains(&(index, Field::Message)))
            .filter_map(|phrase| {
                let at = normalized
                    .match_indices(phrase.text.as_str())
                    .find(|(at, _)| phrase_fits(phrase, normalized, *at, at + phrase.text.len()))?;
                Some((at.0 != position, at.0, phrase.text.clone()))
            })
            .min()
            .map(|(_, _, text)| text)
            .unwrap_or_default()
    }
}

/// Where a rule matches (its earliest `message` phrase), or `None`.
fn rule_position(rule: &Rule, hits: &Hits) -> Option<usize> {
    if hits.unless || (rule.has_with && hits.with.is_none()) {
        return None;
    }
    hits.message
}

fn keep_earliest(slot: &mut Option<usize>, at: usize) {
    if slot.is_none_or(|earlier| at < earlier) {
        *slot = Some(at);
    }
}

/// Whole words, unless the phrase is open at that end.
fn phrase_fits(phrase: &Phrase, text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    (phrase.open_start || is_boundary(before, first))
        && (phrase.open_end || is_boundary(after, last))
}

fn compile(specs: Vec<(SymptomRuleSpec, bool)>) -> Result<SymptomRules, SymptomError> {
    let mut rules = Vec::with_capacity(specs.len());
    let mut phrases: Vec<Phrase> = Vec::new();
    let mut phrase_index: HashMap<(String, bool, bool), usize> = HashMap::new();
    for (index, (spec, from_user)) in specs.into_iter().enumerate() {
        check_rule(&spec)?;
        let fields = [
            (&spec.message, Field::Message),
            (&spec.with, Field::With),
            (&spec.unless, Field::Unless),
        ];
        for (list, field) in fields {
            for raw in list {
                let (text, open_start, open_end) = parse_phrase(raw).ok_or_else(|| {
                    SymptomError(format!(
                        "rule {:?} has a phrase with no words: {raw:?}",
                        spec.name
                    ))
                })?;
                let key = (text, open_start, open_end);
                let slot = *phrase_index.entry(key.clone()).or_insert_with(|| {
                    phrases.push(Phrase {
                        text: key.0,
                        open_start,
                        open_end,
                        owners: Vec::new(),
                    });
                    phrases.len() - 1
                });
                phrases[slot].owners.push((index, field));
            }
        }
        rules.push(Rule {
            has_with: !spec.with.is_empty(),
            name: spec.name,
            symptom: spec.symptom,
            from_user,
        });
    }
    let automaton = if phrases.is_empty() {
        None
    } else {
        Some(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(phrases.iter().map(|phrase| phrase.text.as_str()))
                .map_err(|err| SymptomError(err.to_string()))?,
        )
    };
    let vocabulary = Vocabulary::new(phrases.iter().map(|phrase| phrase.text.as_str()));
    Ok(SymptomRules {
        rules,
        phrases,
        automaton,
        vocabulary,
    })
}

fn check_rule(spec: &SymptomRuleSpec) -> Result<(), SymptomError> {
    let valid_name = spec
        .symptom
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && spec
            .symptom
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        return Err(SymptomError(format!(
            "rule {:?}: symptom {:?} must be a snake_case name such as \"login_failed\"",
            spec.name, spec.symptom
        )));
    }
    if spec.message.is_empty() {
        return Err(SymptomError(format!(
            "rule {:?} matches nothing: give it at least one `message` phrase",
            spec.name
        )));
    }
    Ok(())
}

/// The normalized phrase and whether a word may go on before and after it (`*`).
fn parse_phrase(raw: &str) -> Option<(String, bool, bool)> {
    let trimmed = raw.trim();
    let open_start = trimmed.starts_with('*');
    let open_end = trimmed.ends_with('*');
    let text = normalize(trimmed.trim_matches('*'));
    (!text.is_empty()).then_some((text, open_start, open_end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symptom(text: &str) -> String {
        SymptomRules::defaults().symptom_of(text)
    }

    #[test]
    fn the_playbook_symptoms() {
        assert_eq!(symptom("The site is down!"), "site_down");
        assert_eq!(symptom("I can't load the dashboard"), "site_down");
        assert_eq!(symptom("getting a 503 on every page"), "site_down");
        assert_eq!(symptom("cant login since this morning"), "login_failed");
        assert_eq!(symptom("my code won't run"), "code_not_running");
        assert_eq!(
            symptom("Stuck on \"Running...\" for ages"),
            "code_not_running"
        );
        assert_eq!(
            symptom("the exercise times out every time"),
            "code_not_running"
        );
        assert_eq!(symptom("everything is sooo slow"), "slow");
        assert_eq!(symptom("everything is slow today"), "slow");
        assert_eq!(symptom("payment failed twice"), "payment_failed");
        assert_eq!(
            symptom("all my progress lost after the update"),
            "data_missing"
        );
        assert_eq!(symptom("how do I change my email?"), "other");
        assert_eq!(symptom(""), "other");
    }

    #[test]
    fn whole_words_wildcards_and_typos() {
        assert_eq!(symptom("I can't download the certificate pdf"), "other");
        assert_eq!(symptom("pages load slowly"), "slow");
        assert_eq!(symptom("my code is stcuk on runing"), "code_not_running");
        assert_eq!(symptom("cant loign at all"), "login_failed");
    }

    #[test]
    fn the_first_symptom_in_the_text_wins() {
        assert_eq!(
            symptom("Login not working\n\nand the site is slow too"),
            "login_failed"
        );
        assert_eq!(
            symptom("site super slow, sometimes it doesn't load at all"),
            "slow"
        );
        let found = SymptomRules::defaults().classify("Error 502 when I log in");
        assert_eq!(found.symptom, "site_down");
        assert_eq!(found.rule.as_deref(), Some("site-down-phrases"));
        assert_eq!(found.phrase.as_deref(), Some("502"));
    }

    #[test]
    fn user_rules_win_and_may_replace_the_defaults() {
        let user = r#"
            [[rule]]
            name = "sso"
            symptom = "sso_broken"
            message = ["okta", "sso"]
        "#;
        let rules = SymptomRules::with_user_rules(user).unwrap();
        assert_eq!(rules.symptom_of("site down? okta loops"), "sso_broken");
        assert_eq!(rules.symptom_of("site down"), "site_down");
        assert!(rules.symptoms().contains(&"sso_broken"));
        let only =
            SymptomRules::with_user_rules(&format!("replace_defaults = true\n{user}")).unwrap();
        assert_eq!(only.symptom_of("site down"), "other");
    }

    #[test]
    fn bad_rules_files_say_what_is_wrong() {
        let err = SymptomRules::with_user_rules(
            "[[rule]]\nname = \"x\"\nsymptom = \"Site Down\"\nmessage = [\"a\"]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("snake_case"), "{err}");
        let err =
            SymptomRules::with_user_rules("[[rule]]\nname = \"x\"\nsymptom = \"x\"\nmessage = []")
                .unwrap_err();
        assert!(err.to_string().contains("matches nothing"), "{err}");
        let err = SymptomRules::with_user_rules(
            "[[rule]]\nname = \"x\"\nsymptom = \"x\"\nmessage = [\"a\"]\nwhen = [\"b\"]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("when"), "{err}");
        let err = SymptomRules::with_user_rules(
            "[[rule]]\nname = \"x\"\nsymptom = \"x\"\nmessage = [\"?!\"]",
        )
        .unwrap_err();
        assert!(err.to_string().contains("no words"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_gets_a_known_symptom(text in "\\PC{0,300}") {
            let rules = SymptomRules::defaults();
            let symptom = rules.symptom_of(&text);
            proptest::prop_assert!(rules.symptoms().contains(&symptom.as_str()));
        }
    }
}
