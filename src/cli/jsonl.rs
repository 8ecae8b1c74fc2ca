//! JSON-lines input of the batch commands (`summarize`, `relate`): one object per line, each
//! line judged on its own, so that a bad line (not UTF-8, not JSON, a field of the wrong type)
//! is reported by number and field while the rest are still processed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value};

/// The input file, or standard input for "-".
pub fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(BufReader::new(file)))
}

/// Why one line cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected a JSON object, found {0}")]
    NotObject(&'static str),
    #[error("field `{0}`: missing")]
    Missing(&'static str),
    #[error("field `{field}`: expected {expected}, found {found}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("field `{field}`: {problem}")]
    BadValue {
        field: &'static str,
        problem: String,
    },
}

/// One input line's object.
pub struct Object(Map<String, Value>);

impl Object {
    /// A field that must be present (any JSON value but null).
    pub fn required(&self, field: &'static str) -> Result<&Value, LineError> {
        self.0
            .get(field)
            .filter(|v| !v.is_null())
            .ok_or(LineError::Missing(field))
    }

    /// A string field that may be absent or null.
    pub fn string(&self, field: &'static str) -> Result<Option<&str>, LineError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(LineError::WrongType {
                field,
                expected: "a string",
                found: kind(other),
            }),
        }
    }

    /// A string field that must be present.
    pub fn required_string(&self, field: &'static str) -> Result<&str, LineError> {
        self.string(field)?.ok_or(LineError::Missing(field))
    }

    /// The `id` field when there is one, to name the line in its error report.
    pub fn id(&self) -> Option<&Value> {
        self.0.get("id").filter(|v| !v.is_null())
    }
}

/// "a number", "an array", ...: what a JSON value is, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The non-blank lines of `reader`, numbered from 1, each parsed into an object or the reason
/// it cannot be. Only a failure to read at all (an I/O error) ends the iteration with an error.
pub fn objects(
    mut reader: impl BufRead,
) -> impl Iterator<Item = std::io::Result<(usize, Result<Object, LineError>)>> {
    let mut number = 0;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            number += 1;
            if buf.trim_ascii().is_empty() {
                continue;
            }
            return Some(Ok((number, parse(&buf))));
        }
    })
}

fn parse(line: &[u8]) -> Result<Object, LineError> {
    let text = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(Object(map)),
        Ok(other) => Err(LineError::NotObject(kind(&other))),
        // serde_json places the error "at line 1 column N" of this one line: keep the column.
        Err(e) => Err(LineError::NotJson(format!(
            "{} (column {})",
            json_problem(&e),
            e.column()
        ))),
    }
}

/// serde_json's message without its position suffix.
fn json_problem(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// Answers every line of the JSON lines file `input` (\"-\": standard input) with one output
/// line, in order: `answer`'s for a good object, an error line for a bad one (or for an object
/// `answer` refuses). Fails after the last line when any line failed; an `Err` from `answer`
/// itself (a fault that is no line's doing) ends the run at once.
pub fn answer_lines(
    input: &Path,
    out: &mut dyn Write,
    mut answer: impl FnMut(usize, &Object) -> anyhow::Result<Result<Value, LineError>>,
) -> anyhow::Result<()> {
    let reader = open(input)?;
    let (mut total, mut failed) = (0usize, 0usize);
    for line in objects(reader) {
        let (number, object) = line.with_context(|| format!("cannot read {}", input.display()))?;
        total += 1;
        let printed = match &object {
            Err(e) => Err(error_line(number, None, e)),
            Ok(object) => answer(number, object)?.map_err(|e| error_line(number, object.id(), &e)),
        };
        let printed = printed.unwrap_or_else(|error| {
            failed += 1;
            error
        });
        writeln!(out, "{printed}")?;
    }
    out.flush()?;
    if failed > 0 {
        anyhow::bail!("{failed} of {total} lines failed");
    }
    Ok(())
}

/// The output line reporting a bad input line: its number, its id when it has one, the reason.
pub fn error_line(number: usize, id: Option<&Value>, error: &LineError) -> Value {
    let mut line = Map::new();
    line.insert("line".into(), number.into());
    if let Some(id) = id {
        line.insert("id".into(), id.clone());
    }
    line.insert("error".into(), format!("line {number}: {error}").into());
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Vec<(usize, Result<Object, LineError>)> {
        objects(input).map(|r| r.expect("read")).collect()
    }

    #[test]
    fn each_line_is_judged_on_its_own() {
        let lines = read(b"{\"id\":1}\n\n\xff\xfe\n[1]\n{\"id\":\n{\"text\":5}\r\n");
        let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 3, 4, 5, 6]);
        assert!(lines[0].1.is_ok());
        let errors: Vec<String> = lines[1..]
            .iter()
            .map(|(_, r)| {
                r.as_ref()
                    .err()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(errors[0], "not valid UTF-8");
        assert_eq!(errors[1], "expected a JSON object, found an array");
        assert!(
            errors[2].starts_with("not JSON: EOF while parsing"),
            "{}",
            errors[2]
        );
        let Ok(object) = &lines[4].1 else {
            panic!("line 6 is an object");
        };
        assert_eq!(
            object.string("text").map_err(|e| e.to_string()),
            Err("field `text`: expected a string, found a number".to_string())
        );
        assert!(object.id().is_none());
    }

    #[test]
    fn error_lines_name_line_and_id() {
        let line = error_line(3, Some(&Value::from("a")), &LineError::Missing("text"));
        assert_eq!(
            line,
            serde_json::json!({"line": 3, "id": "a", "error": "line 3: field `text`: missing"})
        );
    }
}
