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

#[cfg(test)]
mod tests {
    use crate::store::{StoreError, temp_store};

    /// A panic while one item of a group is written undoes that item's writes, the savepoints
    /// it left open included, and the group's other writes still commit.
    #[test]
    fn a_panic_inside_a_transaction_rolls_back_only_its_own_writes() {
        let (_dir, mut store) = temp_store();
        store
            .atomically(|store| {
                store.add_document_terms(["before"])?;
                let caught = store.catching_panics(|store| {
                    let _ = store.atomically(|store| -> Result<(), StoreError> {
                        store.add_document_terms(["inside"])?;
                        panic!("a bug in one item");
                    });
                })?;
                assert_eq!(caught, Err("a bug in one item".to_string()));
                store.add_document_terms(["after"])
            })
            .expect("the group commits");
        let df = store
            .document_frequencies(["before", "inside", "after"])
            .expect("read");
        assert_eq!((df["before"], df["inside"], df["after"]), (1, 0, 1));
        assert_eq!(store.document_count().expect("count"), 2);
    }
}
