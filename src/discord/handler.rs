//! serenity event handler: registers commands, turns interactions into plain requests.
//!
//! Everything here is conversion: [`request_from`] builds a [`CommandRequest`] from serenity's
//! interaction, [`super::commands`] decides, and the [`Reply`] becomes a response message (or an
//! edit of a deferred one). No reply ever pings anyone: `allowed_mentions` is always empty.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use serenity::all::{
    Command, CommandDataOption, CommandDataOptionValue, CommandInteraction, Context,
    CreateAllowedMentions, CreateAutocompleteResponse, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, EditInteractionResponse,
    EventHandler, GuildId, Interaction, Ready,
};
use serenity::async_trait;

use super::commands::{self, CommandRequest, OptionValue, Reply};
use super::embed::create_embed;
use crate::pipeline::Desk;

/// A command answered directly must be ready within this; Discord allows 3 s in all, and the
/// answer still has to travel.
const ANSWER_WITHIN: Duration = Duration::from_millis(1500);
/// Autocomplete cannot be deferred: choices not found within this are left out.
const CHOICES_WITHIN: Duration = Duration::from_millis(1500);

/// The clock commands see (tests pin it).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct Handler {
    desk: Arc<Desk>,
    clock: Clock,
    /// READY fires again after every reconnect; commands are registered once per process.
    registered: AtomicBool,
}

impl Handler {
    pub fn new(desk: Arc<Desk>) -> Handler {
        Handler::with_clock(desk, Arc::new(Timestamp::now))
    }

    pub fn with_clock(desk: Arc<Desk>, clock: Clock) -> Handler {
        Handler {
            desk,
            clock,
            registered: AtomicBool::new(false),
        }
    }

    async fn register(&self, ctx: &Context) {
        if self.registered.swap(true, Ordering::SeqCst) {
            return;
        }
        let definitions = commands::definitions();
        let count = definitions.len();
        let outcome = match self.desk.config.discord.dev_guild_id.as_deref() {
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(id) if id != 0 => GuildId::new(id)
                    .set_commands(&ctx.http, definitions)
                    .await
                    .map(|_| format!("guild {id}")),
                _ => {
                    tracing::error!(
                        value = raw,
                        "discord.dev_guild_id is not a guild id (digits expected); slash commands not registered"
                    );
                    return;
                }
            },
            None => Command::set_global_commands(&ctx.http, definitions)
                .await
                .map(|_| "global".to_string()),
        };
        match outcome {
            Ok(scope) => tracing::info!(count, %scope, "slash commands registered"),
            Err(e) => {
                // Let the next READY try again.
                self.registered.store(false, Ordering::SeqCst);
                tracing::error!(error = %e, "registering slash commands failed");
            }
        }
    }

    /// Answers within Discord's 3-second deadline whatever the desk is doing: a command whose
    /// reply is ready within [`ANSWER_WITHIN`] is answered directly (public or private as the
    /// reply says); a slower one (or one known to fetch) is deferred and completed by an edit.
    /// A deferral fixes the answer's visibility: a private reply to a public deferral replaces
    /// it by a private follow-up.
    async fn answer_command(&self, ctx: &Context, cmd: &CommandInteraction) {
        let req = request_from(cmd);
        let work = {
            let (desk, req, now) = (Arc::clone(&self.desk), req.clone(), (self.clock)());
            tokio::spawn(async move { commands::execute(&desk, &req, now).await })
        };
        tokio::pin!(work);
        let known_slow = commands::deferral(&req);
        let ready = match known_slow {
            Some(_) => None,
            None => tokio::time::timeout(ANSWER_WITHIN, &mut work).await.ok(),
        };
        let result = match ready {
            Some(reply) => {
                let reply = reply.unwrap_or_else(|e| panicked(&req, &e));
                cmd.create_response(
                    &ctx.http,
                    CreateInteractionResponse::Message(message_of(&reply)),
                )
                .await
            }
            None => {
                let ephemeral = known_slow.unwrap_or(false);
                let defer = CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new().ephemeral(ephemeral),
                );
                match cmd.create_response(&ctx.http, defer).await {
                    Ok(()) => {
                        let reply = work.await.unwrap_or_else(|e| panicked(&req, &e));
                        complete(ctx, cmd, &reply, ephemeral).await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = result {
            tracing::warn!(command = %req.name, error = %e, "answering a slash command failed");
        }
    }

    /// Autocomplete cannot be deferred: the choices come from the read connection on the
    /// blocking pool, and if they are not found within [`CHOICES_WITHIN`] the answer goes out
    /// with what needs no store (the config's own names).
    async fn answer_autocomplete(&self, ctx: &Context, cmd: &CommandInteraction) {
        let req = request_from(cmd);
        let lookup = {
            let (desk, req) = (Arc::clone(&self.desk), req.clone());
            tokio::task::spawn_blocking(move || commands::autocomplete(&desk, &req))
        };
        let choices = match tokio::time::timeout(CHOICES_WITHIN, lookup).await {
            Ok(Ok(choices)) => choices,
            _ => {
                tracing::warn!(command = %req.name, "autocomplete answered from the config alone");
                commands::autocomplete_from_config(&self.desk.config, &req)
            }
        };
        let mut response = CreateAutocompleteResponse::new();
        for (name, value) in choices {
            response = response.add_string_choice(name, value);
        }
        if let Err(e) = cmd
            .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(response))
            .await
        {
            tracing::debug!(command = %req.name, error = %e, "autocomplete answer failed");
        }
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        self.register(&ctx).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(cmd) => self.answer_command(&ctx, &cmd).await,
            Interaction::Autocomplete(cmd) => self.answer_autocomplete(&ctx, &cmd).await,
            _ => {}
        }
    }
}

/// The plain request of a command or autocomplete interaction.
pub fn request_from(cmd: &CommandInteraction) -> CommandRequest {
    let mut req = CommandRequest {
        name: cmd.data.name.clone(),
        channel_id: cmd.channel_id.get(),
        guild_id: cmd.guild_id.map(GuildId::get),
        user_id: cmd.user.id.get(),
        member_permissions: cmd
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .map(|p| p.bits()),
        ..CommandRequest::default()
    };
    flatten_options(&cmd.data.options, &mut req);
    req
}

/// Walks subcommand groups and subcommands into `req.subcommand`, leaf values into
/// `req.options`, and notes the focused option of an autocomplete.
pub fn flatten_options(options: &[CommandDataOption], req: &mut CommandRequest) {
    for option in options {
        let value = match &option.value {
            CommandDataOptionValue::SubCommand(inner)
            | CommandDataOptionValue::SubCommandGroup(inner) => {
                req.subcommand.push(option.name.clone());
                flatten_options(inner, req);
                continue;
            }
            CommandDataOptionValue::Autocomplete { value, .. } => {
                req.focused = Some(option.name.clone());
                OptionValue::String(value.clone())
            }
            CommandDataOptionValue::String(s) => OptionValue::String(s.clone()),
            CommandDataOptionValue::Integer(i) => OptionValue::Integer(*i),
            CommandDataOptionValue::Number(n) => OptionValue::Number(*n),
            CommandDataOptionValue::Boolean(b) => OptionValue::Boolean(*b),
            // No command of ours takes users, roles, channels or attachments.
            _ => continue,
        };
        req.options.push((option.name.clone(), value));
    }
}

/// A direct answer (interaction callback type 4).
pub fn message_of(reply: &Reply) -> CreateInteractionResponseMessage {
    let mut message = CreateInteractionResponseMessage::new()
        .allowed_mentions(CreateAllowedMentions::new())
        .ephemeral(reply.ephemeral);
    if !reply.content.is_empty() {
        message = message.content(reply.content.clone());
    }
    if !reply.embeds.is_empty() {
        message = message.embeds(reply.embeds.iter().map(create_embed).collect());
    }
    message
}

/// Completes a deferred answer with `reply`: an edit, or, for a private reply to a public
/// deferral, a private follow-up in its place.
async fn complete(
    ctx: &Context,
    cmd: &CommandInteraction,
    reply: &Reply,
    deferred_private: bool,
) -> serenity::Result<()> {
    if reply.ephemeral && !deferred_private {
        cmd.delete_response(&ctx.http).await?;
        let followup = CreateInteractionResponseFollowup::new()
            .allowed_mentions(CreateAllowedMentions::new())
            .ephemeral(true)
            .content(reply.content.clone())
            .embeds(reply.embeds.iter().map(create_embed).collect());
        return cmd.create_followup(&ctx.http, followup).await.map(|_| ());
    }
    cmd.edit_response(&ctx.http, edit_of(reply))
        .await
        .map(|_| ())
}

/// The reply to a command whose work panicked (logged).
fn panicked(req: &CommandRequest, error: &tokio::task::JoinError) -> Reply {
    tracing::error!(command = %req.name, %error, "slash command panicked");
    Reply::private("Something went wrong answering this; the error was logged.").fit()
}

/// The edit that completes a deferred answer (its visibility was fixed by the deferral).
pub fn edit_of(reply: &Reply) -> EditInteractionResponse {
    EditInteractionResponse::new()
        .allowed_mentions(CreateAllowedMentions::new())
        .content(reply.content.clone())
        .embeds(reply.embeds.iter().map(create_embed).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Options as Discord sends them (serenity's option type cannot be built directly).
    fn options(json: serde_json::Value) -> Vec<CommandDataOption> {
        serde_json::from_value(json).expect("valid options")
    }

    #[test]
    fn subcommands_and_values_flatten() {
        let mut req = CommandRequest::new("feeds");
        let opts = options(serde_json::json!([{"name": "add", "type": 1, "options": [
            {"name": "url", "type": 3, "value": "https://example.org/rss"},
            {"name": "days", "type": 4, "value": 3},
        ]}]));
        flatten_options(&opts, &mut req);
        assert_eq!(req.subcommand, vec!["add"]);
        assert_eq!(req.string("url"), Some("https://example.org/rss"));
        assert_eq!(req.integer("days"), Some(3));
        assert_eq!(req.focused, None);
    }

    #[test]
    fn autocomplete_marks_the_focused_option() {
        let mut req = CommandRequest::new("topic");
        let opts = options(
            serde_json::json!([{"name": "remove", "type": 1, "options": [
                {"name": "name", "type": 3, "value": "ch", "focused": true},
            ]}]),
        );
        flatten_options(&opts, &mut req);
        assert_eq!(req.subcommand(), Some("remove"));
        assert_eq!(req.focused.as_deref(), Some("name"));
        assert_eq!(req.focused_text(), "ch");
    }

    #[test]
    fn replies_never_allow_mentions() {
        let reply = Reply::public("hi").with_embed(crate::present::Embed {
            title: "t".into(),
            ..crate::present::Embed::default()
        });
        let json = serde_json::to_value(message_of(&reply)).expect("serializes");
        assert_eq!(
            json["allowed_mentions"],
            serde_json::json!({"parse": [], "roles": [], "users": []})
        );
        let json = serde_json::to_value(edit_of(&reply)).expect("serializes");
        assert_eq!(
            json["allowed_mentions"],
            serde_json::json!({"parse": [], "roles": [], "users": []})
        );
        assert_eq!(json["embeds"][0]["title"], "t");
    }
}
