//! Discord's published OpenAPI 3.1 document (`../shared/discord/openapi.json`): route lookup by
//! method + concrete path, and a small JSON-schema validator for request bodies and parameters.
//!
//! Hand-written on purpose: the keywords the Discord spec uses are few (`$ref`, `type` incl. type
//! arrays, `const`, `enum`, `oneOf`/`anyOf`/`allOf`, `properties`, `required`,
//! `additionalProperties`, `items`, length/size/range limits, `uniqueItems`, `pattern`, `format`),
//! and a full JSON-schema crate would pull a second HTTP stack into the test build.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::{Map, Value};

/// Integer-typed fields that Discord documents (and serenity sends) as decimal strings: permission
/// bitsets. The published spec says `integer`; the live API and its docs take `"32"`.
const STRING_BITSET_FIELDS: &[&str] =
    &["default_member_permissions", "permissions", "allow", "deny"];

/// A `$ref` chain or nesting deeper than this is reported instead of recursing forever.
const MAX_DEPTH: usize = 96;

/// One operation of the spec, found by method and path.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template as written in the spec, e.g. `/channels/{channel_id}/messages`.
    pub template: String,
    /// `operationId` from the spec.
    pub operation_id: String,
    /// Path parameters taken from the concrete path, by name.
    pub path_params: Vec<(String, String)>,
    op: Value,
    item_params: Value,
}

/// The loaded spec with its path templates split into segments.
pub struct Spec {
    doc: Value,
    routes: Vec<Route>,
    patterns: Mutex<HashMap<String, Option<Regex>>>,
}

struct Route {
    template: String,
    segments: Vec<Segment>,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// The spec, parsed once per test binary.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading Discord OpenAPI spec {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing Discord OpenAPI spec {}: {e}", path.display()));
        Spec::new(doc)
    })
}

/// `<crate>/../shared/discord/openapi.json`.
pub fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/discord/openapi.json")
}

impl Spec {
    fn new(doc: Value) -> Spec {
        let mut routes: Vec<Route> = doc
            .get("paths")
            .and_then(Value::as_object)
            .map(|paths| paths.keys().map(|t| Route::parse(t)).collect())
            .unwrap_or_default();
        // Literal segments win over parameters (`messages/@original` before `messages/{message_id}`).
        routes.sort_by_key(|r| std::cmp::Reverse(r.literal_count()));
        Spec {
            doc,
            routes,
            patterns: Mutex::new(HashMap::new()),
        }
    }

    /// The operation for `method` on the concrete API path (without `/api/v10`), if the spec has one.
    pub fn find(&self, method: &str, path: &str) -> Option<Operation> {
        let method_lc = method.to_ascii_lowercase();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for route in &self.routes {
            let Some(path_params) = route.matches(&parts) else {
                continue;
            };
            let item = self
                .doc
                .pointer(&format!("/paths/{}", escape_pointer(&route.template)));
            let Some(op) = item.and_then(|i| i.get(&method_lc)) else {
                continue;
            };
            return Some(Operation {
                method: method.to_ascii_uppercase(),
                template: route.template.clone(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                path_params,
                op: op.clone(),
                item_params: item
                    .and_then(|i| i.get("parameters"))
                    .cloned()
                    .unwrap_or(Value::Null),
            });
        }
        None
    }

    /// Checks parameters and body of one request; returns every mismatch found.
    pub fn check_request(
        &self,
        op: &Operation,
        query: &[(String, String)],
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        self.check_path_params(op, &mut errors);
        self.check_query(op, query, &mut errors);
        self.check_body(op, content_type, body, &mut errors);
        errors
    }

    /// Whether the operation accepts a request without a bot token.
    pub fn auth_optional(&self, op: &Operation) -> bool {
        op.op
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|alts| {
                alts.iter()
                    .any(|a| a.as_object().is_some_and(Map::is_empty))
            })
    }

    /// Validates `value` against the schema at JSON pointer `schema_pointer` of the document
    /// (e.g. `/components/schemas/MessageResponse`); used to check the fake's own answers.
    pub fn check_value(&self, schema_pointer: &str, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        match self.doc.pointer(schema_pointer) {
            Some(schema) => self.validate(schema, value, "", &mut errors, 0),
            None => errors.push(format!("no schema at {schema_pointer}")),
        }
        errors
    }

    fn parameters<'a>(&'a self, op: &'a Operation) -> Vec<&'a Value> {
        let lists = [
            op.item_params.as_array(),
            op.op.get("parameters").and_then(Value::as_array),
        ];
        lists.into_iter().flatten().flatten().collect()
    }

    fn check_path_params(&self, op: &Operation, errors: &mut Vec<String>) {
        for param in self.parameters(op) {
            if param.get("in").and_then(Value::as_str) != Some("path") {
                continue;
            }
            let name = param.get("name").and_then(Value::as_str).unwrap_or("");
            let Some((_, raw)) = op.path_params.iter().find(|(n, _)| n == name) else {
                continue;
            };
            if let Some(schema) = param.get("schema") {
                let value = self.param_value(schema, raw);
                self.validate(schema, &value, &format!("path {{{name}}}"), errors, 0);
            }
        }
    }

    fn check_query(&self, op: &Operation, query: &[(String, String)], errors: &mut Vec<String>) {
        let declared: Vec<&Value> = self
            .parameters(op)
            .into_iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .collect();
        for (name, raw) in query {
            let param = declared
                .iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(name));
            match param.and_then(|p| p.get("schema")) {
                Some(schema) => {
                    let value = self.param_value(schema, raw);
                    self.validate(schema, &value, &format!("query {name}"), errors, 0);
                }
                None if param.is_none() => {
                    errors.push(format!("query {name}: not a parameter of this operation"))
                }
                None => {}
            }
        }
    }

    /// Query and path values arrive as text; typed as the schema asks so `boolean`/`integer` check.
    fn param_value(&self, schema: &Value, raw: &str) -> Value {
        let schema = self.resolve(schema);
        let types = type_names(schema.get("type"));
        if types.iter().any(|t| t == "boolean") && (raw == "true" || raw == "false") {
            return Value::Bool(raw == "true");
        }
        if types.iter().any(|t| t == "integer" || t == "number")
            && let Ok(n) = serde_json::from_str::<serde_json::Number>(raw)
        {
            return Value::Number(n);
        }
        Value::String(raw.to_string())
    }

    fn check_body(
        &self,
        op: &Operation,
        content_type: Option<&str>,
        body: Option<&Value>,
        errors: &mut Vec<String>,
    ) {
        let request_body = op.op.get("requestBody").map(|b| self.resolve(b));
        let required = request_body
            .and_then(|b| b.get("required"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // A multipart body was checked for its `payload_json` part, validated like JSON.
        let multipart = content_type.is_some_and(|c| c.starts_with("multipart/form-data"));
        let pointer = if multipart {
            "/content/multipart~1form-data/schema"
        } else {
            "/content/application~1json/schema"
        };
        let json_schema = request_body.and_then(|b| b.pointer(pointer));
        match (body, json_schema) {
            (None, _) if required => {
                errors.push("body: required by the spec but missing".to_string())
            }
            (None, _) => {}
            (Some(_), None) => errors.push("body: this operation takes no JSON body".to_string()),
            (Some(value), Some(schema)) => {
                let is_json = content_type.is_some_and(|c| c.starts_with("application/json"));
                if !is_json && !multipart {
                    errors.push(format!(
                        "body: content-type {content_type:?} is not application/json"
                    ));
                }
                self.validate(schema, value, "body", errors, 0);
            }
        }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut current = schema;
        for _ in 0..MAX_DEPTH {
            match current.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                    Some(target) => current = target,
                    None => return current,
                },
                None => return current,
            }
        }
        current
    }

    /// Appends `path: message` for every way `value` fails `schema`.
    fn validate(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            errors.push(format!("{path}: schema nesting deeper than {MAX_DEPTH}"));
            return;
        }
        let Some(obj) = schema.as_object() else {
            return;
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix('#').and_then(|p| self.doc.pointer(p)) {
                Some(target) => self.validate(target, value, path, errors, depth + 1),
                None => errors.push(format!("{path}: unresolvable $ref {r}")),
            }
        }
        if let Some(t) = obj.get("type")
            && !type_matches(t, value, path)
        {
            errors.push(format!(
                "{path}: expected type {}, got {}",
                type_names(Some(t)).join("|"),
                kind(value)
            ));
            return;
        }
        self.check_combinators(obj, value, path, errors, depth);
        check_const_enum(obj, value, path, errors);
        match value {
            Value::Object(map) => self.check_object(obj, map, path, errors, depth),
            Value::Array(items) => self.check_array(obj, items, path, errors, depth),
            Value::String(s) => self.check_string(obj, s, path, errors),
            Value::Number(n) => check_number(obj, n, path, errors),
            _ => {}
        }
    }

    fn check_combinators(
        &self,
        obj: &Map<String, Value>,
        value: &Value,
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.validate(branch, value, path, errors, depth + 1);
            }
        }
        for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(branches) = obj.get(keyword).and_then(Value::as_array) else {
                continue;
            };
            let results: Vec<Vec<String>> = branches
                .iter()
                .map(|b| {
                    let mut errs = Vec::new();
                    self.validate(b, value, path, &mut errs, depth + 1);
                    errs
                })
                .collect();
            let passing = results.iter().filter(|e| e.is_empty()).count();
            if passing == 0 {
                errors.push(format!(
                    "{path}: matches none of the {} {keyword} branches",
                    branches.len()
                ));
                if let Some(best) = closest_branch(&results, path) {
                    errors.extend(best.iter().map(|e| format!("  (closest branch) {e}")));
                }
            } else if exactly_one && passing > 1 {
                errors.push(format!(
                    "{path}: matches {passing} oneOf branches, expected exactly one"
                ));
            }
        }
    }

    fn check_object(
        &self,
        obj: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    errors.push(format!("{path}: required property {name:?} missing"));
                }
            }
        }
        check_size(
            obj,
            "minProperties",
            "maxProperties",
            map.len(),
            path,
            "properties",
            errors,
        );
        for (key, v) in map {
            let child = format!("{path}/{}", escape_pointer(key));
            match props.and_then(|p| p.get(key)) {
                Some(s) => self.validate(s, v, &child, errors, depth + 1),
                None => match obj.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{child}: property not allowed"))
                    }
                    Some(s @ Value::Object(_)) => self.validate(s, v, &child, errors, depth + 1),
                    _ => {}
                },
            }
        }
    }

    fn check_array(
        &self,
        obj: &Map<String, Value>,
        items: &[Value],
        path: &str,
        errors: &mut Vec<String>,
        depth: usize,
    ) {
        check_size(
            obj,
            "minItems",
            "maxItems",
            items.len(),
            path,
            "items",
            errors,
        );
        if obj.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            for (i, item) in items.iter().enumerate() {
                if items.iter().take(i).any(|earlier| earlier == item) {
                    errors.push(format!("{path}/{i}: duplicate item, uniqueItems is set"));
                }
            }
        }
        if let Some(item_schema) = obj.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.validate(item_schema, item, &format!("{path}/{i}"), errors, depth + 1);
            }
        }
    }

    fn check_string(
        &self,
        obj: &Map<String, Value>,
        s: &str,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        // JSON Schema counts characters (code points), as Discord's limits do.
        let chars = s.chars().count();
        check_size(
            obj,
            "minLength",
            "maxLength",
            chars,
            path,
            "characters",
            errors,
        );
        if let Some(pattern) = obj.get("pattern").and_then(Value::as_str) {
            match self.regex(pattern) {
                Some(re) if !re.is_match(s) => {
                    errors.push(format!("{path}: {s:?} does not match {pattern}"))
                }
                Some(_) => {}
                None => errors.push(format!("{path}: spec pattern {pattern} does not compile")),
            }
        }
        if let Some(format) = obj.get("format").and_then(Value::as_str) {
            check_string_format(format, s, path, errors);
        }
    }

    fn regex(&self, pattern: &str) -> Option<Regex> {
        let mut cache = self.patterns.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).ok())
            .clone()
    }
}

impl Route {
    fn parse(template: &str) -> Route {
        let segments = template
            .trim_start_matches('/')
            .split('/')
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_string()),
                    None => Segment::Literal(s.to_string()),
                },
            )
            .collect();
        Route {
            template: template.to_string(),
            segments,
        }
    }

    fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    fn matches(&self, parts: &[&str]) -> Option<Vec<(String, String)>> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Param(name) if !part.is_empty() => {
                    params.push((name.clone(), (*part).to_string()))
                }
                _ => return None,
            }
        }
        Some(params)
    }
}

/// Picks the failing branch most likely meant: one whose errors are not a type or
/// discriminator (`type` const/enum) mismatch at this very level, then the fewest errors.
fn closest_branch<'a>(results: &'a [Vec<String>], path: &str) -> Option<&'a Vec<String>> {
    let own_type = format!("{path}: expected type");
    let discriminator = format!("{path}/type:");
    results.iter().min_by_key(|errs| {
        let wrong_kind = errs
            .iter()
            .any(|e| e.starts_with(&own_type) || e.starts_with(&discriminator));
        (wrong_kind, errs.len())
    })
}

fn check_const_enum(obj: &Map<String, Value>, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(c) = obj.get("const")
        && !json_eq(c, value)
    {
        errors.push(format!("{path}: expected const {c}, got {value}"));
    }
    if let Some(options) = obj.get("enum").and_then(Value::as_array)
        && !options.iter().any(|o| json_eq(o, value))
    {
        errors.push(format!(
            "{path}: {value} not in enum {}",
            Value::Array(options.clone())
        ));
    }
}

/// Equality where `1` and `1.0` are the same number, as in JSON Schema.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (as_i128(x), as_i128(y)) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

fn check_size(
    obj: &Map<String, Value>,
    min_key: &str,
    max_key: &str,
    len: usize,
    path: &str,
    unit: &str,
    errors: &mut Vec<String>,
) {
    let len = len as u64;
    if let Some(max) = obj.get(max_key).and_then(Value::as_u64)
        && len > max
    {
        errors.push(format!("{path}: {len} {unit} exceeds {max_key} {max}"));
    }
    if let Some(min) = obj.get(min_key).and_then(Value::as_u64)
        && len < min
    {
        errors.push(format!("{path}: {len} {unit} below {min_key} {min}"));
    }
}

fn check_number(
    obj: &Map<String, Value>,
    n: &serde_json::Number,
    path: &str,
    errors: &mut Vec<String>,
) {
    let bound = |key: &str| obj.get(key).and_then(Value::as_number);
    if let Some(min) = bound("minimum")
        && compare(n, min) == Some(std::cmp::Ordering::Less)
    {
        errors.push(format!("{path}: {n} below minimum {min}"));
    }
    if let Some(max) = bound("maximum")
        && compare(n, max) == Some(std::cmp::Ordering::Greater)
    {
        errors.push(format!("{path}: {n} above maximum {max}"));
    }
    let range = match obj.get("format").and_then(Value::as_str) {
        Some("int32") => Some((i128::from(i32::MIN), i128::from(i32::MAX))),
        Some("int64") => Some((i128::from(i64::MIN), i128::from(i64::MAX))),
        _ => None,
    };
    if let (Some((lo, hi)), Some(v)) = (range, as_i128(n))
        && (v < lo || v > hi)
    {
        errors.push(format!("{path}: {n} out of range for its integer format"));
    }
}

fn compare(a: &serde_json::Number, b: &serde_json::Number) -> Option<std::cmp::Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn as_i128(n: &serde_json::Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

fn check_string_format(format: &str, s: &str, path: &str, errors: &mut Vec<String>) {
    let ok = match format {
        "date-time" => s.parse::<jiff::Timestamp>().is_ok(),
        "uri" => url::Url::parse(s).is_ok(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{path}: {s:?} is not a valid {format}"));
    }
}

fn type_names(t: Option<&Value>) -> Vec<String> {
    match t {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn type_matches(t: &Value, value: &Value, path: &str) -> bool {
    type_names(Some(t)).iter().any(|name| match name.as_str() {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => is_integer(value) || is_string_bitset(value, path),
        _ => false,
    })
}

fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn is_string_bitset(value: &Value, path: &str) -> bool {
    let field = path.rsplit('/').next().unwrap_or("");
    STRING_BITSET_FIELDS.contains(&field)
        && value
            .as_str()
            .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// JSON-pointer escaping of one segment (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
