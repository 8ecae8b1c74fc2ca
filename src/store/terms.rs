//! Document frequencies of salient terms, for weighting rare words over common ones.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};

impl Store {
    /// Counts one more document for each distinct term.
    pub fn add_document_terms<'a>(
        &mut self,
        terms: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut up = tx.prepare_cached(
                "INSERT INTO term_df (term, df) VALUES (?1, 1) ON CONFLICT (term) DO UPDATE SET df = df + 1",
            )?;
            for term in terms {
                up.execute(params![term])?;
            }
        }
        tx.commit()?;
        Ok(())
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
            let df: Option<i64> = stmt.query_row([term], |r| r.get(0)).optional()?;
            out.insert(term.to_string(), df.unwrap_or(0));
        }
        Ok(out)
    }
}
