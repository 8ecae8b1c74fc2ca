//! serenity's embed builder from newsdesk's one embed model ([`crate::present::Embed`]), for
//! digests and command replies alike.

use serenity::all::{CreateEmbed, CreateEmbedFooter};

use crate::present::Embed;

pub fn create_embed(e: &Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new().title(e.title.clone());
    // Discord rejects an empty description; absent is fine.
    if !e.description.is_empty() {
        out = out.description(e.description.clone());
    }
    if let Some(url) = &e.url {
        out = out.url(url.clone());
    }
    for field in &e.fields {
        out = out.field(field.name.clone(), field.value.clone(), field.inline);
    }
    if let Some(footer) = &e.footer {
        out = out.footer(CreateEmbedFooter::new(footer.clone()));
    }
    if let Some(ts) = e
        .timestamp
        .and_then(|t| serenity::model::Timestamp::from_unix_timestamp(t.as_second()).ok())
    {
        out = out.timestamp(ts);
    }
    out
}
