//! The config file as a spanned TOML tree: where a field is written (by its path,
//! `feed[2].interval`), which field holds a span of text, and removing a field so that
//! deserialization can go on past one error to the next.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// One step of a field path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A field path such as `channel[0].topics[1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FieldPath(Vec<Step>);

impl FieldPath {
    /// Reads the dotted form the validation code writes; its keys never hold `.` or `[`.
    pub(super) fn parse(s: &str) -> FieldPath {
        let mut steps = Vec::new();
        for part in s.split('.') {
            let mut pieces = part.split('[');
            if let Some(key) = pieces.next() {
                steps.push(Step::Key(key.to_string()));
            }
            for index in pieces {
                if let Ok(i) = index.trim_end_matches(']').parse() {
                    steps.push(Step::Index(i));
                }
            }
        }
        FieldPath(steps)
    }

    pub(super) fn push_key(&mut self, key: &str) {
        self.0.push(Step::Key(key.to_string()));
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (n, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if n == 0 => write!(f, "{key}")?,
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

type Node<'t> = Spanned<DeValue<'t>>;

/// The child of `value` that `step` names.
fn child<'a, 't>(value: &'a DeValue<'t>, step: &Step) -> Option<&'a Node<'t>> {
    match (value, step) {
        (DeValue::Table(table), Step::Key(key)) => table.get(key.as_str()),
        (DeValue::Array(array), Step::Index(i)) => array.get(*i),
        _ => None,
    }
}

fn child_mut<'a, 't>(value: &'a mut DeValue<'t>, step: &Step) -> Option<&'a mut Node<'t>> {
    match (value, step) {
        (DeValue::Table(table), Step::Key(key)) => table.get_mut(key.as_str()),
        (DeValue::Array(array), Step::Index(i)) => array.get_mut(*i),
        _ => None,
    }
}

/// The nodes along `path` from the root, as far as they exist.
fn walk<'a, 't>(root: &'a DeTable<'t>, path: &FieldPath) -> Vec<&'a Node<'t>> {
    let mut nodes: Vec<&Node<'t>> = Vec::new();
    for (n, step) in path.0.iter().enumerate() {
        let next = match (n, step) {
            (0, Step::Key(key)) => root.get(key.as_str()),
            (0, Step::Index(_)) => None,
            _ => nodes.last().and_then(|node| child(node.get_ref(), step)),
        };
        match next {
            Some(node) => nodes.push(node),
            None => break,
        }
    }
    nodes
}

/// Whether the field at `path` is written in the document.
pub(super) fn exists(root: &DeTable<'_>, path: &FieldPath) -> bool {
    walk(root, path).len() == path.0.len()
}

/// The span of the value at `path`, or, when it is not written, of its nearest written table
/// (a table's span is its `[header]`); the start of the file when nothing on the path exists.
pub(super) fn span_of(root: &DeTable<'_>, path: &FieldPath) -> Range<usize> {
    walk(root, path).last().map_or(0..0, |node| node.span())
}

/// The path of the innermost key, value or array element whose text holds `span`.
pub(super) fn path_at(root: &DeTable<'_>, span: &Range<usize>) -> Option<FieldPath> {
    fn search(
        entries: Vec<(Step, Option<Range<usize>>, &Node<'_>)>,
        span: &Range<usize>,
        path: &mut Vec<Step>,
        best: &mut Option<Vec<Step>>,
    ) {
        let holds = |r: Range<usize>| r.start <= span.start && span.end <= r.end && r != (0..0);
        for (step, key_span, node) in entries {
            path.push(step);
            if (key_span.is_some_and(holds) || holds(node.span()))
                && best.as_ref().is_none_or(|b| path.len() > b.len())
            {
                *best = Some(path.clone());
            }
            // A `[table]`'s span is only its header, so its keys lie outside it: always descend.
            search(entries_of(node.get_ref()), span, path, best);
            path.pop();
        }
    }
    let mut best = None;
    search(table_entries(root), span, &mut Vec::new(), &mut best);
    best.map(FieldPath)
}

fn table_entries<'a, 't>(
    table: &'a DeTable<'t>,
) -> Vec<(Step, Option<Range<usize>>, &'a Node<'t>)> {
    table
        .iter()
        .map(|(key, node)| (Step::Key(key.get_ref().to_string()), Some(key.span()), node))
        .collect()
}

fn entries_of<'a, 't>(value: &'a DeValue<'t>) -> Vec<(Step, Option<Range<usize>>, &'a Node<'t>)> {
    match value {
        DeValue::Table(table) => table_entries(table),
        DeValue::Array(array) => array
            .iter()
            .enumerate()
            .map(|(i, node)| (Step::Index(i), None, node))
            .collect(),
        _ => Vec::new(),
    }
}

/// Removes the field (or array element) at `path`; false when there is none.
pub(super) fn remove(root: &mut DeTable<'_>, path: &FieldPath) -> bool {
    let Some((last, parents)) = path.0.split_last() else {
        return false;
    };
    let Some((first, rest)) = parents.split_first() else {
        return match last {
            Step::Key(key) => root.remove(key.as_str()).is_some(),
            Step::Index(_) => false,
        };
    };
    let Step::Key(first) = first else {
        return false;
    };
    let mut parent = root.get_mut(first.as_str());
    for step in rest {
        parent = parent.and_then(|node| child_mut(node.get_mut(), step));
    }
    match (parent.map(|node| node.get_mut()), last) {
        (Some(DeValue::Table(table)), Step::Key(key)) => table.remove(key.as_str()).is_some(),
        (Some(DeValue::Array(array)), Step::Index(i)) if *i < array.len() => {
            let items = std::mem::replace(array, DeArray::new());
            *array = items
                .into_iter()
                .enumerate()
                .filter_map(|(j, item)| (j != *i).then_some(item))
                .collect();
            true
        }
        _ => false,
    }
}

/// `path` in `pruned` (a copy of `original` with some fields removed) rewritten with the array
/// indices those elements have in `original`, i.e. in the file. Removal keeps spans, so an
/// element is found again by its span. Steps past what `pruned` holds are kept as they are.
pub(super) fn original_path(
    original: &DeTable<'_>,
    pruned: &DeTable<'_>,
    path: &FieldPath,
) -> FieldPath {
    let pruned_nodes = walk(pruned, path);
    let mut original_node: Option<&Node<'_>> = None;
    let mut steps = Vec::with_capacity(path.0.len());
    for (n, step) in path.0.iter().enumerate() {
        let step = match (step, original_node, pruned_nodes.get(n)) {
            (Step::Index(_), Some(parent), Some(wanted)) => match parent.get_ref() {
                DeValue::Array(array) => array
                    .iter()
                    .position(|item| item.span() == wanted.span())
                    .map_or(step.clone(), Step::Index),
                _ => step.clone(),
            },
            _ => step.clone(),
        };
        original_node = match (n, &step) {
            (0, Step::Key(key)) => original.get(key.as_str()),
            _ => original_node.and_then(|node| child(node.get_ref(), &step)),
        };
        steps.push(step);
    }
    FieldPath(steps)
}

/// The string values of `key` in each table of the array `array`, e.g. every `[[topic]]` name.
pub(super) fn strings_in<'a>(root: &'a DeTable<'_>, array: &str, key: &str) -> Vec<&'a str> {
    let Some(DeValue::Array(items)) = root.get(array).map(|node| node.get_ref()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item.get_ref() {
            DeValue::Table(table) => table.get(key).and_then(|v| v.get_ref().as_str()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DeTable<'_> {
        DeTable::parse(text).unwrap().into_inner()
    }

    #[test]
    fn paths_read_and_print_alike() {
        for s in ["feed[2].interval", "channel[0].topics[1]", "polling"] {
            assert_eq!(FieldPath::parse(s).to_string(), s);
        }
    }

    #[test]
    fn finds_the_innermost_field_at_a_span() {
        let text = "[[feed]]\nname = \"a\"\n[[feed]]\nname = \"b\"\ntopics = [\"x\", 3]\n";
        let root = doc(text);
        let at = |needle: &str| {
            let start = text.find(needle).unwrap();
            path_at(&root, &(start..start + needle.len())).map(|p| p.to_string())
        };
        assert_eq!(at("3").as_deref(), Some("feed[1].topics[1]"));
        assert_eq!(at("topics").as_deref(), Some("feed[1].topics"));
        assert_eq!(at("\"b\"").as_deref(), Some("feed[1].name"));
        let second_header = text.rfind("[[feed]]").unwrap();
        assert_eq!(
            path_at(&root, &(second_header..second_header + 8)).map(|p| p.to_string()),
            Some("feed[1]".to_string())
        );
    }

    #[test]
    fn removal_keeps_spans_and_original_indices_come_back() {
        let text = "[[feed]]\nname = \"a\"\n[[feed]]\nname = \"b\"\n[[feed]]\nname = \"c\"\n";
        let original = doc(text);
        let mut pruned = original.clone();
        assert!(remove(&mut pruned, &FieldPath::parse("feed[1]")));
        assert!(!remove(&mut pruned, &FieldPath::parse("feed[5]")));
        let c = FieldPath::parse("feed[1].name");
        assert_eq!(
            span_of(&pruned, &c),
            span_of(&original, &FieldPath::parse("feed[2].name"))
        );
        assert_eq!(
            original_path(&original, &pruned, &c).to_string(),
            "feed[2].name"
        );
        let missing = FieldPath::parse("feed[1].url");
        assert!(!exists(&pruned, &missing));
        assert_eq!(&text[span_of(&pruned, &missing)], "[[feed]]");
        assert_eq!(strings_in(&pruned, "feed", "name"), ["a", "c"]);
    }
}
