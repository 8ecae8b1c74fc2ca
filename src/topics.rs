//! Topic queries: AND / OR / NOT, "quoted phrases" and parentheses, matched on stemmed words.
//! STUB: to be completed (see helper brief).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query at character {position}: {message}")]
pub struct QueryError {
    /// 0-based character offset in the query string.
    pub position: usize,
    pub message: String,
}

impl Query {
    pub fn parse(source: &str) -> Result<Query, QueryError> {
        Ok(Query {
            source: source.to_string(),
        })
    }

    pub fn matches(&self, doc: &TopicDoc) -> bool {
        let _ = doc;
        false
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A document prepared once (tokenized, stemmed) and matched against many queries.
#[derive(Debug, Clone, Default)]
pub struct TopicDoc {
    stems: Vec<String>,
}

impl TopicDoc {
    pub fn new(title: &str, text: &str) -> TopicDoc {
        let _ = (title, text);
        TopicDoc { stems: Vec::new() }
    }
}

impl<'de> serde::Deserialize<'de> for Query {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Query::parse(&s).map_err(serde::de::Error::custom)
    }
}
