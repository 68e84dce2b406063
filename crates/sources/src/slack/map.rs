//! Slack Web API responses → events: messages of `conversations.history` and
//! `conversations.replies` (people's messages become reports, alert bots' messages monitors or
//! deploys), channels of `conversations.list`, and `{"ok": false, "error": …}` bodies in plain
//! words.
//!
//! A message has no channel in it: the caller passes the channel it asked for. Its `ts`
//! (`"1675092593.431309"`) is its id within the channel and its time.

use std::fmt::Write;

use faultline_model::{Event, Kind, Timestamp};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::map::body::{describe_non_json, is_blank};
use crate::map::error::{Invalid, excerpt};
use crate::map::fields::{base_event, epoch_seconds_decimal, insert_attr};
use crate::map::json::{Flag, Items, MaybeObject, Number, Text, TextField};
use crate::map::page::body_text;
use crate::map::text::decode_entities;
use crate::map::{MapContext, MapError};

use super::alerts;

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// The channel a page of messages was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel<'a> {
    pub id: &'a str,
    /// The name without `#`, when known.
    pub name: Option<&'a str>,
}

/// A thread whose replies may need pulling: its parent's `ts` and its latest reply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ThreadRef {
    pub thread_ts: String,
    pub latest_reply: Timestamp,
}

/// One page of `conversations.history` or `conversations.replies`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MessagesPage {
    pub events: Vec<Event>,
    /// The threads started by messages of this page.
    pub threads: Vec<ThreadRef>,
    pub next_cursor: Option<String>,
}

/// A channel of `conversations.list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChannelInfo {
    pub id: String,
    pub name: String,
    pub is_member: Option<bool>,
    pub is_archived: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChannelsPage {
    pub channels: Vec<ChannelInfo>,
    pub next_cursor: Option<String>,
}

/// `conversations.history` (newest first) and `conversations.replies` (the parent first).
/// Channel joins, topic changes and the like are not events and are left out.
pub fn map_messages_page(
    ctx: &MapContext,
    channel: &Channel,
    body: &[u8],
) -> Result<MessagesPage, MapError> {
    let what = "slack messages page";
    let page: MessagesBody = serde_json::from_str(body_text(body, what)?)
        .map_err(|err| MapError::malformed(format!("{what}: {err}"), body))?;
    check_ok(page.ok, &page.error, body)?;
    let Some(messages) = page.messages else {
        return Err(MapError::malformed(
            format!("{what} has no `messages` array"),
            body,
        ));
    };
    let mut out = MessagesPage {
        next_cursor: next_cursor(page.has_more, page.response_metadata.get()),
        ..MessagesPage::default()
    };
    for (index, message) in messages.iter().enumerate() {
        let quote = || message_excerpt(body, index);
        if let Some(thread) = thread_ref(message).map_err(|p| p.with_excerpt(quote().as_bytes()))? {
            out.threads.push(thread);
        }
        let event =
            message_event(ctx, channel, message).map_err(|p| p.with_excerpt(quote().as_bytes()))?;
        out.events.extend(event);
    }
    Ok(out)
}

/// One message object of a channel, as an item of a history page's `messages` (and of the day
/// files of Slack's workspace export). `None` for channel joins, topic changes and the like.
pub fn map_message(
    ctx: &MapContext,
    channel: &Channel,
    item: &[u8],
) -> Result<Option<Event>, MapError> {
    let message: Message = serde_json::from_str(body_text(item, "slack message")?)
        .map_err(|err| MapError::malformed(format!("slack message: {err}"), item))?;
    message_event(ctx, channel, &message).map_err(|problem| problem.with_excerpt(item))
}

/// `conversations.list`: ids and names, to resolve `#name`s of the config.
pub fn map_channels_page(body: &[u8]) -> Result<ChannelsPage, MapError> {
    let what = "slack conversations.list page";
    let page: ChannelsBody = serde_json::from_str(body_text(body, what)?)
        .map_err(|err| MapError::malformed(format!("{what}: {err}"), body))?;
    check_ok(page.ok, &page.error, body)?;
    let Some(channels) = page.channels else {
        return Err(MapError::malformed(
            format!("{what} has no `channels` array"),
            body,
        ));
    };
    let channels = channels
        .iter()
        .filter_map(|channel| {
            Some(ChannelInfo {
                id: channel.id.owned()?,
                name: channel.name.owned()?,
                is_member: channel.is_member.0,
                is_archived: channel.is_archived.0,
            })
        })
        .collect();
    Ok(ChannelsPage {
        channels,
        // conversations.list has no `has_more`: an empty cursor marks the end.
        next_cursor: next_cursor(Flag(Some(true)), page.response_metadata.get()),
    })
}

/// What a `{"ok": false}` body means, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackError {
    /// Slack's error code (`missing_scope`, `not_in_channel`, …).
    pub code: String,
    /// One of `PullError::kind`'s kinds: `unauthorized`, `forbidden`, `not_found`,
    /// `rate_limited`, `vendor`.
    pub kind: &'static str,
    pub message: String,
    /// Another try can help (rate limits, Slack's own failures).
    pub retry: bool,
}

/// The error of a body with `"ok": false`; `None` for `"ok": true` and bodies that are not
/// Slack's JSON.
pub fn body_error(body: &[u8]) -> Option<SlackError> {
    #[derive(Deserialize)]
    #[serde(bound(deserialize = "'de: 'a"))]
    struct OkOnly<'a> {
        #[serde(default)]
        ok: Flag,
        error: Option<Text<'a>>,
        needed: Option<Text<'a>>,
        provided: Option<Text<'a>>,
    }
    let parsed: OkOnly = serde_json::from_slice(body).ok()?;
    if parsed.ok.0 != Some(false) {
        return None;
    }
    let code = parsed.error.text().unwrap_or("unknown_error");
    Some(explain(code, parsed.needed.text(), parsed.provided.text()))
}

/// A readable message from an error response: Slack's `{"ok": false, "error": …}` in plain
/// words, an empty body or an HTML page.
pub fn error_message(status: u16, body: &[u8]) -> String {
    if is_blank(body) {
        return describe_non_json(status, body);
    }
    match (body_error(body), serde_json::from_slice::<Value>(body)) {
        (Some(error), _) => error.message,
        (None, Ok(_)) => format!("HTTP {status}: {}", excerpt(body)),
        (None, Err(_)) => describe_non_json(status, body),
    }
}

// ---------------------------------------------------------------------------------------------
// Envelopes and errors
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct MessagesBody<'a> {
    #[serde(default)]
    ok: Flag,
    error: Option<Text<'a>>,
    messages: Option<Vec<Message<'a>>>,
    #[serde(default)]
    has_more: Flag,
    #[serde(default)]
    response_metadata: MaybeObject<ResponseMetadata<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ChannelsBody<'a> {
    #[serde(default)]
    ok: Flag,
    error: Option<Text<'a>>,
    channels: Option<Vec<ChannelItem<'a>>>,
    #[serde(default)]
    response_metadata: MaybeObject<ResponseMetadata<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ChannelItem<'a> {
    id: Option<Text<'a>>,
    name: Option<Text<'a>>,
    #[serde(default)]
    is_member: Flag,
    #[serde(default)]
    is_archived: Flag,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ResponseMetadata<'a> {
    next_cursor: Option<Text<'a>>,
}

fn next_cursor(has_more: Flag, metadata: Option<&ResponseMetadata>) -> Option<String> {
    if has_more.0 == Some(false) {
        return None;
    }
    metadata.and_then(|metadata| metadata.next_cursor.owned())
}

fn check_ok(ok: Flag, error: &Option<Text<'_>>, body: &[u8]) -> Result<(), MapError> {
    match ok.0 {
        Some(true) => Ok(()),
        Some(false) => Err(MapError::vendor(
            body_error(body).map_or_else(|| error.owned().unwrap_or_default(), |e| e.message),
        )),
        None => Err(MapError::malformed("slack body has no `ok`", body)),
    }
}

/// Slack's error codes in words an on-call engineer can act on.
pub fn explain(code: &str, needed: Option<&str>, provided: Option<&str>) -> SlackError {
    let (kind, retry, message) = match code {
        "missing_scope" => (
            "forbidden",
            false,
            format!(
                "the Slack token lacks the scope {} (missing_scope{}); add it to the Slack app and reinstall the app",
                needed.unwrap_or("that this method needs"),
                provided.map(|p| format!("; it has: {p}")).unwrap_or_default()
            ),
        ),
        "not_in_channel" => (
            "forbidden",
            false,
            "the Slack app is not a member of this channel (not_in_channel); invite it with /invite @<app name> in the channel".to_string(),
        ),
        "channel_not_found" => (
            "not_found",
            false,
            "the channel does not exist or the token cannot see it (channel_not_found); check the id, and invite the app to private channels".to_string(),
        ),
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" => (
            "unauthorized",
            false,
            format!("the Slack token was refused ({code}); check the token and its environment variable"),
        ),
        "ratelimited" | "rate_limited" => (
            "rate_limited",
            true,
            "rate limited by Slack (ratelimited)".to_string(),
        ),
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => (
            "vendor",
            true,
            format!("Slack failed to answer ({code})"),
        ),
        other => ("vendor", false, format!("Slack answered with the error {other}")),
    };
    SlackError {
        code: code.to_string(),
        kind,
        message,
        retry,
    }
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub(super) struct Message<'a> {
    pub(super) subtype: Option<Text<'a>>,
    pub(super) ts: Option<Text<'a>>,
    pub(super) user: Option<Text<'a>>,
    pub(super) bot_id: Option<Text<'a>>,
    pub(super) username: Option<Text<'a>>,
    pub(super) text: Option<Text<'a>>,
    pub(super) thread_ts: Option<Text<'a>>,
    pub(super) latest_reply: Option<Text<'a>>,
    #[serde(default)]
    pub(super) reply_count: Number,
    #[serde(default)]
    pub(super) bot_profile: MaybeObject<BotProfile<'a>>,
    #[serde(default)]
    pub(super) attachments: Items<Attachment<'a>>,
    #[serde(default)]
    pub(super) files: Items<IgnoredAny>,
    #[serde(default)]
    pub(super) edited: MaybeObject<Edited<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub(super) struct BotProfile<'a> {
    pub(super) name: Option<Text<'a>>,
}

/// A legacy attachment: alert bots put their alert here.
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub(super) struct Attachment<'a> {
    pub(super) fallback: Option<Text<'a>>,
    pub(super) pretext: Option<Text<'a>>,
    pub(super) author_name: Option<Text<'a>>,
    pub(super) title: Option<Text<'a>>,
    pub(super) title_link: Option<Text<'a>>,
    pub(super) text: Option<Text<'a>>,
    pub(super) service_name: Option<Text<'a>>,
    #[serde(default)]
    pub(super) fields: Items<AttachmentField<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub(super) struct AttachmentField<'a> {
    pub(super) title: Option<Text<'a>>,
    pub(super) value: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub(super) struct Edited<'a> {
    pub(super) ts: Option<Text<'a>>,
}

/// Subtypes that record something done to the channel, not something said in it.
const NOT_MESSAGES: &[&str] = &[
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "group_join",
    "group_leave",
    "group_topic",
    "group_purpose",
    "group_name",
    "group_archive",
    "group_unarchive",
    "pinned_item",
    "unpinned_item",
    "reminder_add",
    "bot_add",
    "bot_remove",
];

impl Message<'_> {
    fn is_bot(&self) -> bool {
        self.subtype.text() == Some("bot_message")
            || self.bot_id.text().is_some()
            || self.bot_profile.get().is_some()
    }

    /// The bot's name: its profile, the username it posted as, or its attachment's author.
    pub(super) fn bot_name(&self) -> Option<&str> {
        self.bot_profile
            .get()
            .and_then(|profile| profile.name.text())
            .or(self.username.text())
            .or_else(|| {
                self.attachments.iter().find_map(|attachment| {
                    attachment
                        .author_name
                        .text()
                        .or(attachment.service_name.text())
                })
            })
            .or(self.bot_id.text())
    }
}

fn message_event(
    ctx: &MapContext,
    channel: &Channel,
    message: &Message,
) -> Result<Option<Event>, Invalid> {
    if message
        .subtype
        .text()
        .is_some_and(|subtype| NOT_MESSAGES.contains(&subtype))
    {
        return Ok(None);
    }
    let ts_text = message
        .ts
        .text()
        .ok_or_else(|| Invalid::missing("slack message", "ts"))?;
    let ts = slack_ts(ts_text, "ts")?;
    let mut event = base_event(ctx, &format!("{}:{ts_text}", channel.id), ts, Kind::Report);
    event
        .attrs
        .insert("channel".to_string(), channel.id.to_string());
    insert_attr(&mut event, "channel_name", channel.name);
    if let Some(thread_ts) = message.thread_ts.text() {
        event.attrs.insert(
            "thread".to_string(),
            format!("slack:{}:{thread_ts}", channel.id),
        );
        event
            .attrs
            .insert("thread_ts".to_string(), thread_ts.to_string());
    }
    insert_attr(&mut event, "subtype", message.subtype.text());
    if let Some(count) = message.reply_count.0.filter(|count| *count > 0.0) {
        event
            .attrs
            .insert("reply_count".to_string(), count.to_string());
    }
    if let Some(edited) = message.edited.get().and_then(|edited| edited.ts.text()) {
        event
            .attrs
            .insert("edited_ts".to_string(), edited.to_string());
    }
    if message.is_bot() {
        bot_event(&mut event, message);
    } else {
        person_event(&mut event, message);
    }
    Ok(Some(event))
}

/// A person's message: a report in their words, with the files they attached counted.
fn person_event(event: &mut Event, message: &Message) {
    event.kind = Kind::Report;
    event.user = message.user.owned();
    event.message = plain_text(message.text.text().unwrap_or_default()).text;
    let files = message.files.0.len();
    if files > 0 {
        event.attrs.insert("files".to_string(), files.to_string());
    }
}

/// A bot's message: an alert (monitor), a deploy, or else a plain event, with what could be
/// read from its text and attachments.
fn bot_event(event: &mut Event, message: &Message) {
    let decoded = plain_text(&bot_text(message));
    event.message = decoded.text;
    insert_attr(event, "bot_id", message.bot_id.text());
    insert_attr(event, "username", message.bot_name());
    let alert = alerts::read(message.bot_name(), &event.message);
    event.kind = alert.kind;
    event.level = alert.level;
    event.service = alert.service;
    event.env = alert.env;
    event.release = alert.version;
    event.status_code = alert.status_code;
    let title_link = message
        .attachments
        .iter()
        .find_map(|attachment| attachment.title_link.owned());
    event.url = title_link.or(alert.url).or(decoded.first_link);
    insert_attr(event, "alert.provider", alert.provider);
    insert_attr(event, "monitor.name", alert.monitor.as_deref());
    insert_attr(event, "monitor.status", alert.status.as_deref());
}

/// The text of a bot message with its attachments: alert bots often leave `text` empty.
fn bot_text(message: &Message) -> String {
    let mut parts: Vec<&str> = message.text.text().into_iter().collect();
    for attachment in message.attachments.iter() {
        let title_or_fallback = attachment.title.text().or(attachment.fallback.text());
        let pieces = [
            attachment.pretext.text(),
            title_or_fallback,
            attachment.text.text(),
        ];
        parts.extend(pieces.into_iter().flatten());
    }
    let mut text = parts.join("\n");
    for attachment in message.attachments.iter() {
        for field in attachment.fields.iter() {
            if let (Some(title), Some(value)) = (field.title.text(), field.value.text()) {
                let _ = write!(text, "\n{title}: {value}");
            }
        }
    }
    text
}

/// Text without Slack's markup, and the first link in it.
pub(super) struct PlainText {
    pub(super) text: String,
    pub(super) first_link: Option<String>,
}

/// Slack's mrkdwn to plain text: `<@U123>` → `@U123`, `<#C1|name>` → `#name`, `<!here>` →
/// `@here`, `<https://x|label>` → `label`, `<https://x>` → `https://x`; entities decoded.
pub(super) fn plain_text(mrkdwn: &str) -> PlainText {
    let mut text = String::with_capacity(mrkdwn.len());
    let mut first_link = None;
    let mut rest = mrkdwn;
    while let Some((before, after_open)) = rest.split_once('<') {
        text.push_str(before);
        let Some((inside, after)) = after_open.split_once('>') else {
            text.push('<');
            rest = after_open;
            continue;
        };
        let (target, label) = inside.split_once('|').unwrap_or((inside, ""));
        match target.chars().next() {
            Some('@') | Some('#') => {
                let (sigil, id) = target.split_at(1);
                text.push_str(sigil);
                text.push_str(if label.is_empty() { id } else { label });
            }
            Some('!') => {
                let name = target.trim_start_matches('!');
                let name = name.split('^').next().unwrap_or(name);
                if label.is_empty() {
                    text.push('@');
                    text.push_str(name);
                } else {
                    text.push_str(label);
                }
            }
            _ => {
                if first_link.is_none() && target.contains("://") {
                    first_link = Some(decode_entities(target));
                }
                text.push_str(if label.is_empty() { target } else { label });
            }
        }
        rest = after;
    }
    text.push_str(rest);
    PlainText {
        text: decode_entities(text.trim()),
        first_link,
    }
}

/// A thread parent's reference, when the message started a thread.
fn thread_ref(message: &Message) -> Result<Option<ThreadRef>, Invalid> {
    let (Some(ts), Some(thread_ts)) = (message.ts.text(), message.thread_ts.text()) else {
        return Ok(None);
    };
    if ts != thread_ts {
        return Ok(None);
    }
    let Some(latest) = message.latest_reply.text() else {
        return Ok(None);
    };
    Ok(Some(ThreadRef {
        thread_ts: thread_ts.to_string(),
        latest_reply: slack_ts(latest, "latest_reply")?,
    }))
}

fn slack_ts(text: &str, name: &str) -> Result<Timestamp, Invalid> {
    epoch_seconds_decimal(text).ok_or_else(|| {
        Invalid(format!(
            "slack message has an unreadable `{name}`: {text:?}"
        ))
    })
}

/// Message `index` of the body, for an error message.
fn message_excerpt(body: &[u8], index: usize) -> String {
    let quoted = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("messages")?.get(index).map(Value::to_string));
    quoted.unwrap_or_else(|| excerpt(body))
}
