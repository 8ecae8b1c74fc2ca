//! OPML import and export of the feed list.
//! STUB: to be completed (see helper brief).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("invalid OPML: {0}")]
    Invalid(String),
}

pub fn parse_opml(text: &str) -> Result<Vec<OpmlFeed>, OpmlError> {
    let _ = text;
    Err(OpmlError::Invalid("not written yet".into()))
}

pub fn write_opml(title: &str, feeds: &[OpmlFeed]) -> String {
    let _ = (title, feeds);
    String::new()
}
