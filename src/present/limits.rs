//! Every size that decides what a story shows: Discord's own limits (counted in characters,
//! i.e. Unicode scalar values, not bytes) and the widths newsdesk gives each part of a story.
//! Every renderer reads them from here.

/// Message content.
pub const CONTENT: usize = 2000;
/// Embeds per message.
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const EMBED_TITLE: usize = 256;
pub const EMBED_DESCRIPTION: usize = 4096;
pub const EMBED_FIELDS: usize = 25;
pub const FIELD_NAME: usize = 256;
pub const FIELD_VALUE: usize = 1024;
pub const FOOTER: usize = 2048;
/// Characters across titles, descriptions, field names and values and footers of all the
/// embeds of one message.
pub const MESSAGE_EMBED_TOTAL: usize = 6000;
/// A thread's (forum post's) name.
pub const THREAD_NAME: usize = 100;

/// A story's summary: a digest is for skimming.
pub const SUMMARY: usize = 700;
/// An update's reader has seen the story: a shorter reminder of what it is about.
pub const UPDATE_SUMMARY: usize = 300;
/// An outlet's name wherever it is shown.
pub const OUTLET: usize = 60;
/// A Related entry's headline, and a search hit's.
pub const RELATED_TITLE: usize = 120;
/// A Related entry's one-line summary: one sentence of its summary, cut at a word only when
/// the sentence alone is longer.
pub const RELATED_LINE: usize = 300;
/// A link whose URL is longer is shown as plain text: nobody reads such a URL, and a whole
/// Related entry (headline, link, outlet, date, one-liner) must fit one 1,024-character field.
pub const LINK_URL: usize = 500;
/// Topic names in a footer.
pub const TOPICS: usize = 200;
