//! `include = ["topics/science-policy.toml"]`: topic presets kept in files of their own. An
//! included file holds `[[topic]]` tables only; its errors name that file, line and column. A
//! topic the including file defines itself wins over an included one of the same name, so a
//! preset is adjusted by redefining it.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::report::Report;
use super::{ConfigIssue, TopicConfig, is_slug};

/// What an included file may hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fragment {
    #[serde(default, rename = "topic")]
    topics: Vec<TopicConfig>,
}

/// The topics of every file `includes` names (relative to `base_dir`), and the issues found in
/// them. A file that cannot be read is reported at its `include` entry in `report`.
pub(super) fn load(
    includes: &[toml::Spanned<String>],
    base_dir: &Path,
    report: &mut Report<'_>,
) -> (Vec<TopicConfig>, Vec<ConfigIssue>) {
    let mut topics = Vec::new();
    let mut issues = Vec::new();
    for (i, include) in includes.iter().enumerate() {
        let path = base_dir.join(include.get_ref().trim());
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                report.at(
                    &format!("include[{i}]"),
                    format!("cannot read {}: {e}", path.display()),
                );
                continue;
            }
        };
        let (found, problems) = fragment(&text, &path);
        topics.extend(found);
        issues.extend(problems);
    }
    (topics, issues)
}

/// The topics of one included file, checked as the config checks its own.
fn fragment(text: &str, path: &Path) -> (Vec<TopicConfig>, Vec<ConfigIssue>) {
    let mut report = match Report::parse(text, path) {
        Ok(report) => report,
        Err(issues) => return (Vec::new(), issues),
    };
    let topics = report
        .deserialize::<Fragment>()
        .map(|f| f.topics)
        .unwrap_or_default();
    let mut names = HashSet::new();
    for (i, topic) in topics.iter().enumerate() {
        let name = topic.name.get_ref();
        let field = format!("topic[{i}].name");
        if !is_slug(name) {
            report.at(
                &field,
                format!(
                    "{name:?} is not a valid topic name: expected lower-case letters, digits and dashes"
                ),
            );
        } else if !names.insert(name.clone()) {
            report.at(&field, format!("duplicate topic name {name:?}"));
        }
    }
    (topics, report.finish())
}
