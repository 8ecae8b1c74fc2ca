//! Document frequencies of salient terms, for weighting rare words over common ones.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};

/// The `term_df` row that counts documents: no stem is empty, so it cannot clash with a term.
const DOCUMENTS_ROW: &str = "";

impl Store {
    /// Counts one more document, and one more document for each distinct term.
    pub fn add_document_terms<'a>(
        &mut self,
        terms: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let tx = self.conn.savepoint()?;
        {
            let mut up = tx.prepare_cached(
                "INSERT INTO term_df (term, df) VALUES (?1, 1) ON CONFLICT (term) DO UPDATE SET df = df + 1",
            )?;
            up.execute(params![DOCUMENTS_ROW])?;
            for term in terms {
                if !term.is_empty() {
                    up.execute(params![term])?;
                }
            }
        }
        tx.commit()?;
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
