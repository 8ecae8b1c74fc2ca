//! The main text of an article page.
//! STUB: to be completed (see helper brief).

use url::Url;

#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    /// Main text; paragraphs separated by "\n\n". Starts with the article itself.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("no article text found")]
    NoText,
}

pub fn extract(html: &str, url: Option<&Url>) -> Result<Extracted, ExtractError> {
    let _ = (html, url);
    Err(ExtractError::NoText)
}
