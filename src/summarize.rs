//! Extractive summaries.
//! STUB: to be completed (see helper brief).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryOptions {
    /// Maximum number of sentences.
    pub sentences: usize,
    /// Maximum characters (not bytes) of the whole summary.
    pub max_chars: usize,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            sentences: 3,
            max_chars: 600,
        }
    }
}

/// A summary of `text` made of whole sentences from it, in article order.
pub fn summarize(title: Option<&str>, text: &str, opts: SummaryOptions) -> String {
    let _ = title;
    text.chars().take(opts.max_chars).collect()
}
