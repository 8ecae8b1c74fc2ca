//! Discord's documented limits that the OpenAPI spec does not encode (or encodes more loosely
//! than the API enforces), checked on request bodies alone. Refusals look like Discord's: 400
//! with code 50035 and an `errors` tree keyed by the offending field's path, or 50006 for a
//! message with nothing in it.
//!
//! Sources (discord/discord-api-docs): `developers/resources/message.mdx` (Create Message params,
//! Embed Limits, embed URL schemes), `developers/interactions/application-commands.mdx`
//! (Application Command Naming, option and choice structures), `developers/resources/webhook.mdx`
//! (`thread_name`). Stateful rules (forums, threads, deadlines) live next to the state.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value, json};

/// `content` of a bot or webhook message (the spec allows 4000, which only Nitro users get).
pub const MAX_CONTENT: usize = 2000;
/// Embeds per message.
pub const MAX_EMBEDS: usize = 10;
/// Characters of title, description, field names/values, footer text and author name, summed
/// over every embed of one message.
pub const MAX_EMBED_TOTAL: usize = 6000;
/// A webhook's `thread_name` (forum post title).
pub const MAX_THREAD_NAME: usize = 100;
/// A string choice's `value`.
pub const MAX_CHOICE_VALUE: usize = 100;
/// A CHAT_INPUT command's description.
pub const MAX_DESCRIPTION: usize = 100;

/// One field-level error, as Discord nests them under `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct FormError {
    /// Field path below the body, e.g. `["embeds", "0", "url"]`.
    pub path: Vec<String>,
    /// Discord's error code string, e.g. `BASE_TYPE_MAX_LENGTH`.
    pub code: &'static str,
    pub message: String,
}

/// Why Discord would refuse a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 400, code 50035 "Invalid Form Body" with the field errors.
    Form(Vec<FormError>),
    /// 400, code 50006 "Cannot send an empty message".
    Empty,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        400
    }

    pub fn code(&self) -> i64 {
        match self {
            Refusal::Form(_) => 50035,
            Refusal::Empty => 50006,
        }
    }

    /// The JSON body Discord answers with.
    pub fn body(&self) -> Value {
        match self {
            Refusal::Form(errors) => json!({
                "code": 50035, "message": "Invalid Form Body", "errors": error_tree(errors)
            }),
            Refusal::Empty => json!({"code": 50006, "message": "Cannot send an empty message"}),
        }
    }

    /// One line per problem, for the violation record.
    pub fn describe(&self) -> Vec<String> {
        match self {
            Refusal::Form(errors) => errors
                .iter()
                .map(|e| format!("body/{}: {}: {}", e.path.join("/"), e.code, e.message))
                .collect(),
            Refusal::Empty => vec!["body: 50006 Cannot send an empty message".to_string()],
        }
    }
}

/// `{"embeds": {"0": {"url": {"_errors": [{code, message}]}}}}`.
fn error_tree(errors: &[FormError]) -> Value {
    let mut root = Map::new();
    for e in errors {
        let mut node = &mut root;
        for key in &e.path {
            node = node
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .unwrap_or_else(|| unreachable!("error tree nodes are objects"));
        }
        let list = node
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(json!({"code": e.code, "message": e.message}));
        }
    }
    Value::Object(root)
}

/// Checks the body of one request by its method and spec template; None when nothing is wrong
/// (or the route carries no body these rules cover).
pub fn check_request(method: &str, template: &str, body: Option<&Value>) -> Option<Refusal> {
    let body = body?;
    let errors_or_empty = match (method, template) {
        ("POST", "/channels/{channel_id}/messages") => message(body, &[], Kind::New),
        ("PATCH", "/channels/{channel_id}/messages/{message_id}")
        | ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
        | ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original") => {
            message(body, &[], Kind::Edit)
        }
        ("POST", "/webhooks/{webhook_id}/{webhook_token}") => {
            let mut found = message(body, &[], Kind::New);
            if let Some(name) = body.get("thread_name").and_then(Value::as_str) {
                max_len(
                    name,
                    MAX_THREAD_NAME,
                    at(&[], &["thread_name"]),
                    &mut found.0,
                );
            }
            found
        }
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            match body.get("type").and_then(Value::as_u64) {
                // CHANNEL_MESSAGE_WITH_SOURCE creates a message; UPDATE_MESSAGE edits one.
                Some(4) => message(
                    body.get("data").unwrap_or(&Value::Null),
                    &["data"],
                    Kind::New,
                ),
                Some(7) => message(
                    body.get("data").unwrap_or(&Value::Null),
                    &["data"],
                    Kind::Edit,
                ),
                _ => (Vec::new(), false),
            }
        }
        // A forum post's starter message; whether the channel is a forum is checked by the
        // forum code, which also requires `message` to be there.
        ("POST", "/channels/{channel_id}/threads") => match body.get("message") {
            Some(m) if !m.is_null() => message(m, &["message"], Kind::New),
            _ => (Vec::new(), false),
        },
        ("PUT", "/applications/{application_id}/commands")
        | ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            (bulk_commands(body), false)
        }
        ("POST", "/applications/{application_id}/commands")
        | ("POST", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            let mut errors = Vec::new();
            command(body, &[], &mut errors);
            (errors, false)
        }
        _ => (Vec::new(), false),
    };
    match errors_or_empty {
        (errors, _) if !errors.is_empty() => Some(Refusal::Form(errors)),
        (_, true) => Some(Refusal::Empty),
        _ => None,
    }
}

/// Whether a message body creates a message (must not be empty) or edits one (may omit all).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    New,
    Edit,
}

fn at(prefix: &[&str], rest: &[&str]) -> Vec<String> {
    prefix
        .iter()
        .chain(rest)
        .map(|s| (*s).to_string())
        .collect()
}

/// Counted in characters as sent: Discord documents trimming only for embed text.
fn max_len(s: &str, max: usize, path: Vec<String>, errors: &mut Vec<FormError>) {
    if s.chars().count() > max {
        errors.push(FormError {
            path,
            code: "BASE_TYPE_MAX_LENGTH",
            message: format!("Must be {max} or fewer in length."),
        });
    }
}

/// Field errors of one message body, and whether it is empty (only meaningful for `New`).
fn message(body: &Value, prefix: &[&str], kind: Kind) -> (Vec<FormError>, bool) {
    let mut errors = Vec::new();
    let content = body.get("content").and_then(Value::as_str).unwrap_or("");
    max_len(content, MAX_CONTENT, at(prefix, &["content"]), &mut errors);
    let embeds = body
        .get("embeds")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if embeds.len() > MAX_EMBEDS {
        errors.push(FormError {
            path: at(prefix, &["embeds"]),
            code: "BASE_TYPE_MAX_LENGTH",
            message: format!("Must be {MAX_EMBEDS} or fewer in length."),
        });
    }
    let total: usize = embeds.iter().map(embed_text_len).sum();
    if total > MAX_EMBED_TOTAL {
        errors.push(FormError {
            path: at(prefix, &["embeds"]),
            code: "MAX_EMBED_SIZE_EXCEEDED",
            message: format!("Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"),
        });
    }
    for (i, embed) in embeds.iter().enumerate() {
        embed_urls(embed, prefix, i, &mut errors);
    }
    let empty = kind == Kind::New && is_empty_message(body);
    (errors, empty)
}

/// Nothing Discord would display: no text, embeds, stickers, components, files or poll.
pub fn is_empty_message(body: &Value) -> bool {
    let has_text = body
        .get("content")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.trim().is_empty());
    let non_empty_list = |key: &str| {
        body.get(key)
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty())
    };
    let present = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
    !(has_text
        || non_empty_list("embeds")
        || non_empty_list("sticker_ids")
        || non_empty_list("components")
        || non_empty_list("attachments")
        || present("poll"))
}

/// Characters Discord counts toward the 6000 total (leading/trailing whitespace is trimmed).
pub fn embed_text_len(embed: &Value) -> usize {
    let len = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map_or(0, |s| s.trim().chars().count())
    };
    let fields: usize = embed
        .get("fields")
        .and_then(Value::as_array)
        .map_or(0, |list| {
            list.iter()
                .map(|f| len(f.get("name")) + len(f.get("value")))
                .sum()
        });
    len(embed.get("title"))
        + len(embed.get("description"))
        + len(embed.pointer("/footer/text"))
        + len(embed.pointer("/author/name"))
        + fields
}

/// URL schemes Discord takes per embed field: links are http(s) (the embed's own `url` also
/// `discord`, the scheme list Discord's URL_TYPE_INVALID_SCHEME error names); images and icons
/// may instead name an uploaded attachment (message.mdx, Embed Structure).
const EMBED_URLS: &[(&[&str], &[&str])] = &[
    (&["url"], &["http", "https", "discord"]),
    (&["author", "url"], &["http", "https"]),
    (&["image", "url"], &["http", "https", "attachment"]),
    (&["thumbnail", "url"], &["http", "https", "attachment"]),
    (&["footer", "icon_url"], &["http", "https", "attachment"]),
    (&["author", "icon_url"], &["http", "https", "attachment"]),
];

fn embed_urls(embed: &Value, prefix: &[&str], index: usize, errors: &mut Vec<FormError>) {
    let i = index.to_string();
    for (field, schemes) in EMBED_URLS {
        let mut node = Some(embed);
        for key in *field {
            node = node.and_then(|n| n.get(*key));
        }
        let Some(url) = node.and_then(Value::as_str) else {
            continue;
        };
        if let Some((code, message)) = url_error(url, schemes) {
            let mut path = at(prefix, &["embeds", &i]);
            path.extend(field.iter().map(|s| (*s).to_string()));
            errors.push(FormError {
                path,
                code,
                message,
            });
        }
    }
}

fn url_error(url: &str, schemes: &[&str]) -> Option<(&'static str, String)> {
    match url::Url::parse(url) {
        Err(_) => Some(("URL_TYPE_INVALID_URL", "Not a well formed URL.".to_string())),
        Ok(u) if !schemes.contains(&u.scheme()) => Some((
            "URL_TYPE_INVALID_SCHEME",
            format!(
                "Scheme {:?} is not supported. Scheme must be one of ({}).",
                u.scheme(),
                schemes
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Ok(_) => None,
    }
}

/// `^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$` (application-commands.mdx, Application
/// Command Naming), for CHAT_INPUT command names and every option name.
fn name_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
            .unwrap_or_else(|e| panic!("command name pattern: {e}"))
    })
}

/// Valid, and lower-case wherever the letter has a lower-case form.
pub fn valid_command_name(name: &str) -> bool {
    name_pattern().is_match(name) && name.chars().all(|c| c.to_lowercase().eq([c]))
}

fn check_name(value: Option<&Value>, path: Vec<String>, errors: &mut Vec<FormError>) {
    let name = value.and_then(Value::as_str).unwrap_or("");
    if !valid_command_name(name) {
        errors.push(FormError {
            path,
            code: "APPLICATION_COMMAND_INVALID_NAME",
            message: "Command name is invalid".to_string(),
        });
    }
}

fn check_description(value: Option<&Value>, path: Vec<String>, errors: &mut Vec<FormError>) {
    let len = value
        .and_then(Value::as_str)
        .map_or(0, |s| s.chars().count());
    if !(1..=MAX_DESCRIPTION).contains(&len) {
        errors.push(FormError {
            path,
            code: "BASE_TYPE_BAD_LENGTH",
            message: format!("Must be between 1 and {MAX_DESCRIPTION} in length."),
        });
    }
}

/// One command (POST body or bulk element) at `prefix`.
fn command(cmd: &Value, prefix: &[&str], errors: &mut Vec<FormError>) {
    // USER (2) and MESSAGE (3) commands may have mixed-case names and no description.
    let chat_input = cmd.get("type").and_then(Value::as_u64).unwrap_or(1) == 1;
    if !chat_input {
        return;
    }
    check_name(cmd.get("name"), at(prefix, &["name"]), errors);
    check_description(cmd.get("description"), at(prefix, &["description"]), errors);
    if let Some(options) = cmd.get("options").and_then(Value::as_array) {
        let base = at(prefix, &["options"]);
        options_list(options, &base, errors);
    }
}

fn options_list(options: &[Value], base: &[String], errors: &mut Vec<FormError>) {
    let mut optional_seen = false;
    let mut names: Vec<&str> = Vec::new();
    for (i, opt) in options.iter().enumerate() {
        let mut path = base.to_vec();
        path.push(i.to_string());
        let with = |key: &str| {
            let mut p = path.clone();
            p.push(key.to_string());
            p
        };
        check_name(opt.get("name"), with("name"), errors);
        check_description(opt.get("description"), with("description"), errors);
        let name = opt.get("name").and_then(Value::as_str).unwrap_or("");
        if names.contains(&name) {
            // Named by the fake: Discord documents the rule, not this code string.
            errors.push(FormError {
                path: with("name"),
                code: "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                message: "Option names must be unique within one list".to_string(),
            });
        }
        names.push(name);
        let kind = opt.get("type").and_then(Value::as_u64).unwrap_or(0);
        if kind == 1 || kind == 2 {
            // Subcommands and groups: their own option lists follow the same rules.
            if let Some(sub) = opt.get("options").and_then(Value::as_array) {
                options_list(sub, &with("options"), errors);
            }
            continue;
        }
        let required = opt.get("required").and_then(Value::as_bool) == Some(true);
        if required && optional_seen {
            errors.push(FormError {
                path: path.clone(),
                code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                message: "Required options must be placed before non-required options".to_string(),
            });
        }
        optional_seen |= !required;
        let choices = opt
            .get("choices")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if opt.get("autocomplete").and_then(Value::as_bool) == Some(true) && !choices.is_empty() {
            // Named by the fake: the docs say "autocomplete may not be set to true if choices
            // are present" without the error code string.
            errors.push(FormError {
                path: with("autocomplete"),
                code: "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                message: "Autocomplete and choices are mutually exclusive".to_string(),
            });
        }
        for (j, choice) in choices.iter().enumerate() {
            if let Some(value) = choice.get("value").and_then(Value::as_str)
                && value.chars().count() > MAX_CHOICE_VALUE
            {
                let mut p = with("choices");
                p.push(j.to_string());
                p.push("value".to_string());
                errors.push(FormError {
                    path: p,
                    code: "BASE_TYPE_MAX_LENGTH",
                    message: format!("Must be {MAX_CHOICE_VALUE} or fewer in length."),
                });
            }
        }
    }
}

/// A bulk overwrite: every command, plus names unique per command type.
fn bulk_commands(body: &Value) -> Vec<FormError> {
    let mut errors = Vec::new();
    let Some(list) = body.as_array() else {
        return errors;
    };
    let mut seen: Vec<(u64, &str)> = Vec::new();
    for (i, cmd) in list.iter().enumerate() {
        let index = i.to_string();
        command(cmd, &[&index], &mut errors);
        let key = (
            cmd.get("type").and_then(Value::as_u64).unwrap_or(1),
            cmd.get("name").and_then(Value::as_str).unwrap_or(""),
        );
        if seen.contains(&key) {
            errors.push(FormError {
                path: vec![index.clone()],
                code: "APPLICATION_COMMANDS_DUPLICATE_NAME",
                message: "Application command names must be unique".to_string(),
            });
        }
        seen.push(key);
    }
    errors
}
