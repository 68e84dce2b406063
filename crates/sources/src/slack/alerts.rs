//! Reading alert bots' Slack messages: which tool posted it (Datadog, Sentry, Pingdom, AWS,
//! Kubernetes, Cloudflare), whether it is an alert or a deploy, and what the text says about
//! the monitor, its status, the service, the environment and the version.
//!
//! Only plain text goes in (Slack markup already removed); nothing here fails: what cannot be
//! read is left out.

use faultline_model::{Kind, Level};

use crate::map::fields::status_code;

/// What an alert bot's message says.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Alert {
    pub(super) kind: Kind,
    pub(super) level: Level,
    pub(super) provider: Option<&'static str>,
    pub(super) monitor: Option<String>,
    pub(super) status: Option<String>,
    pub(super) service: Option<String>,
    pub(super) env: Option<String>,
    pub(super) version: Option<String>,
    pub(super) status_code: Option<i32>,
    pub(super) url: Option<String>,
}

/// Reads a bot's message; `bot_name` is its profile name or username.
pub(super) fn read(bot_name: Option<&str>, text: &str) -> Alert {
    let provider = provider(bot_name, text);
    let headline = status_and_name(text, provider.is_some());
    let status = headline.as_ref().map(|(status, _)| status.clone());
    let deploy = status.is_none() && mentions_deploy(text);
    let kind = match (&status, deploy, provider) {
        (Some(_), _, _) => Kind::Monitor,
        (None, true, _) => Kind::Deploy,
        (None, false, Some(_)) => Kind::Monitor,
        (None, false, None) => Kind::Event,
    };
    let level = match (&status, kind, provider) {
        (Some(status), _, _) => status_level(status),
        (None, Kind::Monitor, Some("sentry")) => Level::Error,
        (None, Kind::Monitor, _) => Level::Warn,
        _ => Level::Info,
    };
    let (deploy_service, version) = match kind {
        Kind::Deploy => deployed(text),
        _ => (None, None),
    };
    Alert {
        kind,
        level,
        provider,
        monitor: match kind {
            Kind::Monitor => headline
                .map(|(_, name)| name)
                .or_else(|| first_line(text).map(str::to_string)),
            _ => None,
        },
        status,
        service: tag_value(text, "service").or(deploy_service),
        env: tag_value(text, "env").or_else(|| tag_value(text, "environment")),
        version,
        status_code: http_status(text),
        url: first_url(text),
    }
}

// ---------------------------------------------------------------------------------------------
// Who posted it
// ---------------------------------------------------------------------------------------------

const PROVIDERS: &[(&str, &[&str])] = &[
    ("datadog", &["datadog"]),
    ("sentry", &["sentry"]),
    ("pingdom", &["pingdom"]),
    ("cloudflare", &["cloudflare"]),
    ("aws", &["aws", "cloudwatch", "amazon"]),
    (
        "kubernetes",
        &[
            "kubernetes",
            "k8s",
            "botkube",
            "alertmanager",
            "prometheus",
            "argocd",
            "argo",
        ],
    ),
];

/// The tool behind the bot, from its name, else from the words of its text.
fn provider(bot_name: Option<&str>, text: &str) -> Option<&'static str> {
    let name = bot_name.unwrap_or_default().to_ascii_lowercase();
    let by_name = PROVIDERS
        .iter()
        .find(|(_, needles)| needles.iter().any(|needle| name.contains(needle)));
    if let Some((provider, _)) = by_name {
        return Some(provider);
    }
    let words: Vec<String> = words(text).map(|word| word.to_ascii_lowercase()).collect();
    PROVIDERS
        .iter()
        .find(|(_, needles)| {
            needles
                .iter()
                .any(|needle| words.iter().any(|w| w == needle))
        })
        .map(|(provider, _)| *provider)
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Status and monitor name
// ---------------------------------------------------------------------------------------------

const ERROR_WORDS: &[&str] = &[
    "triggered",
    "re-triggered",
    "alert",
    "alarm",
    "down",
    "firing",
    "critical",
    "error",
    "failed",
    "failure",
    "unhealthy",
    "regression",
    "new issue",
];
const WARN_WORDS: &[&str] = &[
    "warn",
    "warning",
    "no data",
    "insufficient_data",
    "insufficient data",
    "degraded",
];
const OK_WORDS: &[&str] = &[
    "recovered",
    "resolved",
    "ok",
    "up",
    "healthy",
    "success",
    "succeeded",
];

fn status_level(status: &str) -> Level {
    let lower = status.to_ascii_lowercase();
    let is = |list: &[&str]| list.contains(&lower.as_str());
    if is(ERROR_WORDS) {
        Level::Error
    } else if is(WARN_WORDS) {
        Level::Warn
    } else {
        Level::Info
    }
}

fn is_status(word: &str) -> bool {
    let lower = word.trim().to_ascii_lowercase();
    [ERROR_WORDS, WARN_WORDS, OK_WORDS]
        .iter()
        .any(|list| list.contains(&lower.as_str()))
}

/// `(status, monitor name)` from the alert's lines: `[FIRING:1] Name (…)`, `Triggered: Name`,
/// `DOWN: name (url) is down since …`, or AWS's `CloudWatch Alarm | Name | region | …` with
/// `ALARM: "Name" in …` below it; else the first line with a status word (`Pool web is
/// Unhealthy`), looking past the first line only for a known tool.
fn status_and_name(text: &str, known_tool: bool) -> Option<(String, String)> {
    let lines: Vec<&str> = text
        .lines()
        .map(clean_line)
        .filter(|line| !line.is_empty())
        .collect();
    let first = lines.first()?;
    if let Some(found) = prefixed_status(first) {
        return Some(found);
    }
    let piped_name = first
        .contains(" | ")
        .then(|| first.split(" | ").nth(1).map(str::trim))
        .flatten();
    let below = lines.iter().skip(1).find_map(|line| prefixed_status(line));
    match (below, piped_name) {
        (Some((status, _)), Some(name)) => return Some((status, name.to_string())),
        (Some(found), None) => return Some(found),
        (None, _) => {}
    }
    let scanned = if known_tool { lines.len() } else { 1 };
    lines
        .iter()
        .take(scanned)
        .find_map(|line| keyword_status(line).map(|status| (status, line.to_string())))
}

/// A line without leading emoji codes, bullets and emphasis.
fn clean_line(line: &str) -> &str {
    let mut line = line.trim().trim_start_matches(['*', '_', '•', '-', ' ']);
    while let Some(rest) = line.strip_prefix(':') {
        match rest.split_once(':') {
            Some((emoji, after)) if !emoji.contains(' ') && !emoji.is_empty() => {
                line = after.trim_start().trim_start_matches(['*', '_']);
            }
            _ => break,
        }
    }
    line.trim().trim_end_matches(['*', '_'])
}

/// A status written before the name: `[Status] name`, `[FIRING:2] name`, `Status: name`; a
/// leading priority such as `[P1]` is skipped.
fn prefixed_status(line: &str) -> Option<(String, String)> {
    if let Some(rest) = line.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let word = inside.split(':').next().unwrap_or(inside).trim();
        if is_priority(word) {
            return prefixed_status(after.trim_start());
        }
        return is_status(word).then(|| (word.to_string(), monitor_name(after)));
    }
    let (word, after) = line.split_once(':')?;
    is_status(word).then(|| (word.trim().to_string(), monitor_name(after)))
}

fn is_priority(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('P' | 'p')) && chars.as_str().parse::<u8>().is_ok()
}

/// The name after the status: up to `(` (labels, URLs) or ` is down`/` is up`, unquoted.
fn monitor_name(after: &str) -> String {
    let name = after.trim();
    let name = name.split(" (").next().unwrap_or(name);
    let name = name.split(" is down").next().unwrap_or(name);
    let name = name.split(" is up").next().unwrap_or(name);
    let name = name.trim().trim_matches(['"', '*', '`']);
    match name.split_once("\" in ") {
        Some((quoted, _)) => quoted.trim_matches('"').to_string(),
        None => name.trim_end_matches(['.', ':']).trim().to_string(),
    }
}

/// A status word anywhere in a line without a prefix (`Pool web is Unhealthy`).
fn keyword_status(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let phrase = ["no data", "new issue", "insufficient data"]
        .into_iter()
        .find(|phrase| lower.contains(phrase));
    if let Some(phrase) = phrase {
        return Some(phrase.to_string());
    }
    words(&lower)
        .find(|word| ERROR_WORDS.contains(word) || WARN_WORDS.contains(word))
        .or_else(|| words(&lower).find(|word| ["recovered", "resolved", "healthy"].contains(word)))
        .map(str::to_string)
}

// ---------------------------------------------------------------------------------------------
// Deploys
// ---------------------------------------------------------------------------------------------

fn mentions_deploy(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "deploy",
        "rolled out",
        "rollout",
        "rolling update",
        "released",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

const NOT_A_SERVICE: &[&str] = &[
    "deployed",
    "deploy",
    "deploying",
    "deployment",
    "version",
    "release",
    "released",
    "to",
    "of",
    "for",
    "with",
    "image",
];

/// `(service, version)` of a deploy message: `web@512`, `web v512`, `version 1.2.3`,
/// `registry/web:v512`, `deployment.apps/web`.
fn deployed(text: &str) -> (Option<String>, Option<String>) {
    let tokens: Vec<&str> = text
        .split_whitespace()
        .map(|token| token.trim_matches(|c: char| "*_`'\"()[],;".contains(c)))
        .map(|token| token.trim_end_matches(['.', ':']))
        .filter(|token| !token.is_empty())
        .collect();
    for (index, token) in tokens.iter().enumerate() {
        if let Some((service, version)) = at_version(token).or_else(|| image_tag(token)) {
            return (Some(service), Some(version));
        }
        if is_version(token) {
            let service = index
                .checked_sub(1)
                .and_then(|previous| tokens.get(previous))
                .filter(|word| looks_like_service(word))
                .map(|word| word.to_string());
            return (
                service.or_else(|| workload(&tokens)),
                Some(token.to_string()),
            );
        }
        let is_version_word = token.eq_ignore_ascii_case("version");
        if let Some(next) = tokens.get(index + 1).filter(|_| is_version_word) {
            return (workload(&tokens), Some(next.to_string()));
        }
    }
    (workload(&tokens), None)
}

/// `web@512` (not an e-mail address).
fn at_version(token: &str) -> Option<(String, String)> {
    let (service, version) = token.split_once('@')?;
    let starts_like_version =
        version.starts_with(|c: char| c.is_ascii_digit()) || is_version(version);
    (starts_like_version && !service.is_empty() && !version.contains(".com"))
        .then(|| (service.to_string(), version.to_string()))
}

/// `registry.example.com/team/web:v512`.
fn image_tag(token: &str) -> Option<(String, String)> {
    let (image, tag) = token.rsplit_once(':')?;
    if !image.contains('/')
        || tag.contains('/')
        || !tag.starts_with(|c: char| c.is_ascii_digit() || c == 'v')
    {
        return None;
    }
    let name = image.rsplit('/').next()?;
    Some((name.to_string(), tag.to_string()))
}

/// `v512`, `v1.2.3`.
fn is_version(token: &str) -> bool {
    let mut chars = token.chars();
    matches!(chars.next(), Some('v' | 'V')) && chars.next().is_some_and(|c| c.is_ascii_digit())
}

fn looks_like_service(word: &str) -> bool {
    !NOT_A_SERVICE.contains(&word.to_ascii_lowercase().as_str())
        && word.chars().any(|c| c.is_ascii_alphabetic())
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

/// The workload of a Kubernetes message: `deployment web`, `deployment.apps/web`,
/// `Deployment default/web`.
fn workload(tokens: &[&str]) -> Option<String> {
    tokens.iter().enumerate().find_map(|(index, token)| {
        let lower = token.to_ascii_lowercase();
        let named = match lower.strip_prefix("deployment.apps/") {
            Some(_) => token.get("deployment.apps/".len()..),
            None if lower == "deployment" => tokens.get(index + 1).copied(),
            None => None,
        }?;
        let name = named.rsplit('/').next()?;
        looks_like_service(name).then(|| name.to_string())
    })
}

// ---------------------------------------------------------------------------------------------
// Tags, status codes, links
// ---------------------------------------------------------------------------------------------

/// The value of a `key:value` tag in the text (`service:web`, `env:prod`).
fn tag_value(text: &str, key: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || ",;()[]{}`*".contains(c))
        .find_map(|token| {
            let (name, value) = token.split_once(':')?;
            let value = value.trim_end_matches(['.', '|']);
            (name.eq_ignore_ascii_case(key) && !value.is_empty() && !value.starts_with("//"))
                .then(|| value.to_string())
        })
}

/// `HTTP Error 502`, `HTTP 503`, `status 500`.
fn http_status(text: &str) -> Option<i32> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    tokens.windows(2).find_map(|pair| {
        let [before, code] = pair else { return None };
        let before = before.to_ascii_lowercase();
        ["http", "error", "status"]
            .contains(&before.as_str())
            .then(|| status_code(code.trim_matches(|c: char| !c.is_ascii_digit())))
            .flatten()
    })
}

fn first_url(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || "()<>\"".contains(c))
        .find(|token| token.starts_with("https://") || token.starts_with("http://"))
        .map(|url| url.trim_end_matches(['.', ',', ';']).to_string())
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(clean_line).find(|line| !line.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datadog_alerts_give_status_monitor_service_and_env() {
        let alert = read(
            Some("Datadog"),
            "Triggered: High 5xx rate on web\n`sum:nginx.5xx{service:web}` > 50\nView monitor · env:prod",
        );
        assert_eq!(alert.kind, Kind::Monitor);
        assert_eq!(alert.level, Level::Error);
        assert_eq!(alert.provider, Some("datadog"));
        assert_eq!(alert.monitor.as_deref(), Some("High 5xx rate on web"));
        assert_eq!(alert.status.as_deref(), Some("Triggered"));
        assert_eq!(alert.env.as_deref(), Some("prod"));
        let recovered = read(Some("Datadog"), "[P2] [Recovered] High 5xx rate on web");
        assert_eq!(recovered.level, Level::Info);
        assert_eq!(recovered.monitor.as_deref(), Some("High 5xx rate on web"));
    }

    #[test]
    fn pingdom_aws_kubernetes_and_cloudflare_alerts_are_read() {
        let down = read(
            Some("Pingdom"),
            "DOWN: app.example.com (https://app.example.com/healthz) is down since 14:02:10. Reason: HTTP Error 502",
        );
        assert_eq!(
            (down.level, down.monitor.as_deref(), down.status_code),
            (Level::Error, Some("app.example.com"), Some(502))
        );
        assert_eq!(down.url.as_deref(), Some("https://app.example.com/healthz"));
        let aws = read(
            Some("AWS Chatbot"),
            "CloudWatch Alarm | web-5xx-high | eu-west-1 | Account: 123456789012\nALARM: \"web-5xx-high\" in EU (Ireland)",
        );
        assert_eq!(
            (aws.provider, aws.level, aws.monitor.as_deref()),
            (Some("aws"), Level::Error, Some("web-5xx-high"))
        );
        let k8s = read(
            Some("alertmanager"),
            "[FIRING:1] KubePodCrashLooping (prod web-7d9f)",
        );
        assert_eq!(
            (k8s.provider, k8s.status.as_deref(), k8s.monitor.as_deref()),
            (
                Some("kubernetes"),
                Some("FIRING"),
                Some("KubePodCrashLooping")
            )
        );
        let cloudflare = read(
            Some("Cloudflare"),
            "Load Balancing pool web-pool is Unhealthy\nOrigin 10.0.0.7 failed health checks",
        );
        assert_eq!(
            (cloudflare.level, cloudflare.monitor.as_deref()),
            (
                Level::Error,
                Some("Load Balancing pool web-pool is Unhealthy")
            )
        );
    }

    #[test]
    fn deploy_messages_give_service_and_version() {
        let deploy = |text: &str| {
            let alert = read(Some("deploybot"), text);
            assert_eq!(alert.kind, Kind::Deploy, "{text}");
            (alert.service, alert.version)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            deploy("Deployed web v512 to production"),
            (some("web"), some("v512"))
        );
        assert_eq!(
            deploy("Release web@512 was deployed to production"),
            (some("web"), some("512"))
        );
        assert_eq!(
            deploy("deployment.apps/worker rolled out image registry.local/team/worker:v88"),
            (some("worker"), some("v88"))
        );
        assert_eq!(
            deploy("Deploying version 1.4.2 service:api"),
            (some("api"), some("1.4.2"))
        );
    }

    #[test]
    fn other_bots_are_plain_events() {
        let alert = read(Some("Jira Cloud"), "PROJ-12 moved to In Progress");
        assert_eq!(
            (alert.kind, alert.level, alert.provider),
            (Kind::Event, Level::Info, None)
        );
    }
}
