//! Every error of a config file in one pass, each at its line and column: the syntax errors;
//! else each deserialization error (the failing field is removed and deserialization retried
//! until the rest goes through); then the validation of what deserialized.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeTable;

use super::ConfigIssue;
use super::document::{self, FieldPath};

/// More than this many deserialization errors are not worth listing one by one (each costs a
/// deserialization of the whole document); every error removes a field, so the loop ends anyway.
const MAX_DESERIALIZE_ERRORS: usize = 200;

pub(super) struct Report<'t> {
    text: &'t str,
    file: &'t Path,
    root_span: Range<usize>,
    /// The document as written: paths in issues use its array indices.
    original: DeTable<'t>,
    /// The document without the fields that failed to deserialize, once one has (until then
    /// the original: a config of 10,000 feeds is tens of megabytes as a table, so it is not
    /// copied for nothing).
    pruned: Option<DeTable<'t>>,
    issues: Vec<ConfigIssue>,
    /// Fields whose deserialization failed: a validation of the default that replaced one would
    /// only repeat the error.
    failed: HashSet<String>,
}

impl<'t> Report<'t> {
    /// Parses `text`, or returns its syntax errors: with those the structure is unknown, so
    /// nothing more is checked.
    pub(super) fn parse(text: &'t str, file: &'t Path) -> Result<Report<'t>, Vec<ConfigIssue>> {
        let (root, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let mut issues: Vec<ConfigIssue> = errors
                .iter()
                .map(|e| {
                    let offset = e.span().map_or(0, |s| s.start);
                    issue(text, file, offset, field_path_at(text, offset), e.message())
                })
                .collect();
            issues.sort_by_key(|i| (i.line, i.column));
            // After the first error on a line the parser is resynchronizing: the rest repeat it.
            issues.dedup_by_key(|i| i.line);
            return Err(issues);
        }
        let root_span = root.span();
        let original = root.into_inner();
        Ok(Report {
            text,
            file,
            root_span,
            pruned: None,
            original,
            issues: Vec::new(),
            failed: HashSet::new(),
        })
    }

    fn pruned(&self) -> &DeTable<'t> {
        self.pruned.as_ref().unwrap_or(&self.original)
    }

    /// Deserializes the document, recording each error and removing the field it is about (the
    /// whole table when a required field is missing) until the rest deserializes. None when an
    /// error cannot be traced to a field.
    pub(super) fn deserialize<T: DeserializeOwned>(&mut self) -> Option<T> {
        for _ in 0..MAX_DESERIALIZE_ERRORS {
            let document = Spanned::new(self.root_span.clone(), self.pruned().clone());
            let error = match T::deserialize(toml::de::Deserializer::from(document)) {
                Ok(value) => return Some(value),
                Err(error) => error,
            };
            let span = error.span();
            let at = span
                .as_ref()
                .and_then(|span| document::path_at(self.pruned(), span));
            let mut field = at
                .as_ref()
                .map(|p| document::original_path(&self.original, self.pruned(), p))
                .unwrap_or_default();
            if let Some(name) = missing_field(error.message()) {
                field.push_key(name);
            }
            let field = field.to_string();
            // A required field removed after its own error comes back as "missing": the table
            // goes too, quietly.
            if self.failed.insert(field.clone()) {
                self.issues.push(issue(
                    self.text,
                    self.file,
                    span.map_or(0, |s| s.start),
                    field,
                    error.message(),
                ));
            }
            let path = at?;
            let pruned = self.pruned.get_or_insert_with(|| self.original.clone());
            if !document::remove(pruned, &path) {
                return None;
            }
        }
        None
    }

    /// Records an issue about `field`, a path into what deserialized (e.g. `feed[2].url`),
    /// located at its value or, when that is not written, at its table.
    pub(super) fn at(&mut self, field: &str, message: impl AsRef<str>) {
        self.at_depending(field, &[], message);
    }

    /// Like [`Report::at`] for a check that also reads the fields `others`. When `field` is not
    /// written, the issue is located at the first of them that is. When `field` or one of them
    /// failed to deserialize, the check ran on a default and only repeats that error: dropped.
    pub(super) fn at_depending(&mut self, field: &str, others: &[&str], message: impl AsRef<str>) {
        let path = FieldPath::parse(field);
        let others: Vec<FieldPath> = others.iter().map(|o| FieldPath::parse(o)).collect();
        let moot = std::iter::once(&path).chain(&others).any(|p| {
            let written = document::original_path(&self.original, self.pruned(), p);
            self.failed.contains(&written.to_string())
        });
        if moot {
            return;
        }
        let located = std::iter::once(&path)
            .chain(&others)
            .find(|p| document::exists(self.pruned(), p))
            .unwrap_or(&path);
        let span = document::span_of(self.pruned(), located);
        let field = document::original_path(&self.original, self.pruned(), &path).to_string();
        self.issues.push(issue(
            self.text,
            self.file,
            span.start,
            field,
            message.as_ref(),
        ));
    }

    /// The string values of `key` in the tables of `array` as written, including tables that
    /// failed to deserialize (a reference to one is not also "unknown").
    pub(super) fn written_strings(&self, array: &str, key: &str) -> Vec<String> {
        document::strings_in(&self.original, array, key)
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The issues in file order.
    pub(super) fn finish(mut self) -> Vec<ConfigIssue> {
        self.issues.sort_by_key(|i| (i.line, i.column));
        self.issues
    }
}

/// The field named by serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")?
        .split_once('`')
        .map(|(name, _)| name)
}

fn issue(text: &str, file: &Path, offset: usize, field: String, message: &str) -> ConfigIssue {
    let (line, column) = line_col(text, offset);
    ConfigIssue {
        file: file.to_path_buf(),
        line,
        column,
        field,
        message: message.trim().replace('\n', "; "),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before
        .get(line_start..)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// The dotted field path at a byte offset, read from the text (a document with syntax errors has
/// no trustworthy tree): the nearest table header above it and the key on its line. `[[feed]]`
/// headers are counted so the third feed is `feed[2]`.
fn field_path_at(text: &str, offset: usize) -> String {
    let mut table = String::new();
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut pos = 0;
    let mut key = None;
    for line in text.split_inclusive('\n') {
        let end = pos + line.len();
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_prefix("[[")
            .and_then(|r| r.split("]]").next())
        {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            table = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = name.trim().to_string();
        }
        if offset < end {
            if !trimmed.starts_with('[') {
                key = trimmed
                    .split_once('=')
                    .map(|(k, _)| k.trim().trim_matches('"').to_string())
                    .filter(|k| !k.is_empty());
            }
            break;
        }
        pos = end;
    }
    match (table.is_empty(), key) {
        (true, Some(k)) => k,
        (false, Some(k)) => format!("{table}.{k}"),
        (false, None) => table,
        (true, None) => "(top level)".to_string(),
    }
}
