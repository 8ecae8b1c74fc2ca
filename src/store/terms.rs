//! Document frequencies of salient terms, for weighting rare words over common ones.

use std::collections::HashMap;

use rusqlite::OptionalExtension;

use super::{Result, Store};

/// The `term_df` row that counts documents: no stem is empty, so it cannot clash with a term.
const DOCUMENTS_ROW: &str = "";

impl Store {
    /// Counts one more document, and one more document for each distinct term, in one
    /// statement (one upsert per term would cost a statement run each).
    pub fn add_document_terms<'a>(
        &mut self,
        terms: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let mut all: Vec<&str> = vec![DOCUMENTS_ROW];
        all.extend(terms.into_iter().filter(|t| !t.is_empty()));
        all[1..].sort_unstable();
        all.dedup();
        let list = serde_json::to_string(&all)?;
        // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the upsert.
        self.conn
            .prepare_cached(
                "INSERT INTO term_df (term, df) SELECT value, 1 FROM json_each(?1) WHERE true
                 ON CONFLICT (term) DO UPDATE SET df = df + 1",
            )?
            .execute([list])?;
        Ok(())
    }

    /// Documents counted by [`Store::add_document_terms`]; a constant-time read, unlike
    /// counting items.
    pub fn document_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT df FROM term_df WHERE term = ?1")?
            .query_row([DOCUMENTS_ROW], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Document frequency of each term (0 for unseen terms).
    pub fn document_frequencies<'a>(
        &self,
        terms: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, i64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT df FROM term_df WHERE term = ?1")?;
        let mut out = HashMap::new();
        for term in terms {
            if out.contains_key(term) {
                continue;
            }
            let df: Option<i64> = stmt.query_row([term], |r| r.get(0)).optional()?;
            out.insert(term.to_string(), df.unwrap_or(0));
        }
        Ok(out)
    }
}
