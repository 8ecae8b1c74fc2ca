//! Topic queries: AND / OR / NOT, "quoted phrases" and parentheses, matched on stemmed words.
//!
//! Grammar (operators are upper-case; lower-case "and"/"or"/"not" are ordinary words):
//!
//! ```text
//! query   := or
//! or      := and ("OR" and)*
//! and     := unary (["AND"] unary)*      adjacent terms are joined by an implicit AND
//! unary   := ("NOT" | "-") unary | primary
//! primary := word | word"*" | "phrase" | "(" or ")"
//! ```
//!
//! Precedence is NOT > AND > OR. Words and phrases are compared as Snowball stems of lower-case
//! words (the [`crate::terms`] rules), so `funding` matches "fund" and "Funds". A bare word that
//! splits into several words (`US-China`) is a phrase. `word*` matches any word starting with it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use crate::terms;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    source: String,
    root: Node,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query at character {position}: {message}")]
pub struct QueryError {
    /// 0-based character offset in the query string.
    pub position: usize,
    pub message: String,
}

impl QueryError {
    fn new(position: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            position,
            message: message.into(),
        }
    }
}

/// The parsed form of a query.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// One stem.
    Term(String),
    /// Consecutive stems.
    Phrase(Vec<String>),
    /// A lower-case word prefix (not stemmed: the user typed the prefix they mean).
    Prefix(String),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Query {
    pub fn parse(source: &str) -> Result<Query, QueryError> {
        let tokens = tokenize(source)?;
        let root = Parser::new(&tokens).parse_query()?;
        Ok(Query {
            source: source.to_string(),
            root,
        })
    }

    pub fn matches(&self, doc: &TopicDoc) -> bool {
        self.root.matches(doc)
    }

    /// The query text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl Node {
    fn matches(&self, doc: &TopicDoc) -> bool {
        match self {
            Node::Term(stem) => doc.stem_set.contains(stem),
            Node::Phrase(stems) => doc.contains_phrase(stems),
            Node::Prefix(prefix) => doc.has_word_with_prefix(prefix),
            Node::And(children) => children.iter().all(|c| c.matches(doc)),
            Node::Or(children) => children.iter().any(|c| c.matches(doc)),
            Node::Not(child) => !child.matches(doc),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for Query {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Query::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Characters of an item's text read for matching: about 15,000 words, more than any news
/// article (the evaluation sets' longest is 53,000 characters), so whole articles are matched
/// while a huge item costs no more than one this long.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Characters of the title read (headlines are a line; a feed may put anything there).
pub const MAX_TITLE_CHARS: usize = 1_000;

/// A document prepared once (tokenized, stemmed) and matched against many queries.
#[derive(Debug, Clone, Default)]
pub struct TopicDoc {
    /// Stems in reading order; an empty string separates title from text so that no phrase
    /// spans the two.
    stems: Vec<String>,
    stem_set: HashSet<String>,
    /// Lower-case surface words, ordered for prefix look-ups.
    words: BTreeSet<String>,
}

impl TopicDoc {
    /// The document of an item: its title and text, each up to its cap ([`MAX_TITLE_CHARS`],
    /// [`MAX_TEXT_CHARS`]).
    pub fn new(title: &str, text: &str) -> TopicDoc {
        let mut doc = TopicDoc::default();
        doc.push_text(terms::head(title, MAX_TITLE_CHARS));
        doc.stems.push(String::new());
        doc.push_text(terms::head(text, MAX_TEXT_CHARS));
        doc
    }

    fn push_text(&mut self, text: &str) {
        // Each distinct word is stemmed and recorded once: a long text repeats most of its words.
        let mut seen: HashMap<String, String> = HashMap::new();
        for word in query_words(text) {
            if let Some(stem) = seen.get(&word) {
                self.stems.push(stem.clone());
                continue;
            }
            let stem = terms::stem(&word);
            self.stem_set.insert(stem.clone());
            self.stems.push(stem.clone());
            self.words.insert(word.clone());
            seen.insert(word, stem);
        }
    }

    fn contains_phrase(&self, stems: &[String]) -> bool {
        let Some(first) = stems.first() else {
            return false;
        };
        // The set check rejects most documents without scanning them.
        if !stems.iter().all(|s| self.stem_set.contains(s)) {
            return false;
        }
        self.stems
            .iter()
            .enumerate()
            .filter(|(_, s)| *s == first)
            .any(|(i, _)| {
                self.stems
                    .get(i..i + stems.len())
                    .is_some_and(|window| window == stems)
            })
    }

    fn has_word_with_prefix(&self, prefix: &str) -> bool {
        self.words
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|w| w.starts_with(prefix))
    }
}

/// Lower-case words of `text` for matching, with dotted acronyms joined first ("U.S." → "us")
/// so that "U.S.-China", "US-China" and "US China" all read as the words `us`, `china`.
fn query_words(text: &str) -> Vec<String> {
    terms::words(&join_dotted_acronyms(text)).collect()
}

/// Removes the dots of runs like "U.S." or "E.U." (two or more single letters, each followed
/// by a dot), leaving other text unchanged.
fn join_dotted_acronyms(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || chars.get(i - 1).is_some_and(|c| !c.is_alphanumeric());
        let run = if starts_word {
            acronym_run(&chars, i)
        } else {
            0
        };
        if run >= 2 {
            for k in 0..run {
                if let Some(c) = chars.get(i + 2 * k) {
                    out.push(*c);
                }
            }
            i += 2 * run;
        } else {
            if let Some(c) = chars.get(i) {
                out.push(*c);
            }
            i += 1;
        }
    }
    out
}

/// Number of consecutive "X." pairs (one letter, then a dot) starting at `start`.
fn acronym_run(chars: &[char], start: usize) -> usize {
    let mut n = 0;
    while chars.get(start + 2 * n).is_some_and(|c| c.is_alphabetic())
        && chars.get(start + 2 * n + 1) == Some(&'.')
    {
        n += 1;
    }
    n
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// A bare word as typed (may contain punctuation; split later).
    Word(String),
    Phrase(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: TokenKind,
    /// 0-based character offset of the token's first character.
    position: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            TokenKind::LParen => "'('".into(),
            TokenKind::RParen => "')'".into(),
            TokenKind::And => "AND".into(),
            TokenKind::Or => "OR".into(),
            TokenKind::Not => "NOT".into(),
            TokenKind::Word(w) => format!("'{w}'"),
            TokenKind::Phrase(p) => format!("\"{p}\""),
        }
    }
}

fn tokenize(source: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<(usize, char)> = source.chars().enumerate().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&(pos, c)) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' => {
                let kind = if c == '(' {
                    TokenKind::LParen
                } else {
                    TokenKind::RParen
                };
                tokens.push(Token {
                    kind,
                    position: pos,
                });
                i += 1;
            }
            '"' => {
                let rest = chars.get(i + 1..).unwrap_or_default();
                let Some(len) = rest.iter().position(|&(_, c)| c == '"') else {
                    return Err(QueryError::new(
                        pos,
                        "unterminated quote: '\"' is never closed",
                    ));
                };
                let text: String = rest.iter().take(len).map(|&(_, c)| c).collect();
                tokens.push(Token {
                    kind: TokenKind::Phrase(text),
                    position: pos,
                });
                i += len + 2;
            }
            _ => {
                let rest = chars.get(i..).unwrap_or_default();
                let len = rest
                    .iter()
                    .position(|&(_, c)| c.is_whitespace() || matches!(c, '(' | ')' | '"'))
                    .unwrap_or(rest.len());
                let word: String = rest.iter().take(len).map(|&(_, c)| c).collect();
                push_word(&mut tokens, word, pos);
                i += len;
            }
        }
    }
    Ok(tokens)
}

fn push_word(tokens: &mut Vec<Token>, word: String, position: usize) {
    let kind = match word.as_str() {
        "AND" => TokenKind::And,
        "OR" => TokenKind::Or,
        "NOT" => TokenKind::Not,
        _ => {
            // "-term" is NOT term; a lone "-" is left as a word and reported by the parser.
            if let Some(rest) = word.strip_prefix('-').filter(|r| !r.is_empty()) {
                tokens.push(Token {
                    kind: TokenKind::Not,
                    position,
                });
                tokens.push(Token {
                    kind: TokenKind::Word(rest.to_string()),
                    position: position + 1,
                });
                return;
            }
            TokenKind::Word(word)
        }
    };
    tokens.push(Token { kind, position });
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
}

impl<'a> Parser<'a> {
    fn new(tokens: &'a [Token]) -> Parser<'a> {
        Parser { tokens, next: 0 }
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.next);
        self.next += 1;
        t
    }

    fn parse_query(&mut self) -> Result<Node, QueryError> {
        if self.tokens.is_empty() {
            return Err(QueryError::new(0, "empty query"));
        }
        let node = self.parse_or(None)?;
        match self.peek() {
            None => Ok(node),
            Some(t) if t.kind == TokenKind::RParen => Err(QueryError::new(
                t.position,
                "unbalanced parenthesis: ')' has no matching '('",
            )),
            Some(t) => Err(QueryError::new(
                t.position,
                format!("unexpected {}", t.describe()),
            )),
        }
    }

    /// `before` is the operator or parenthesis that requires this operand, for error messages.
    fn parse_or(&mut self, before: Option<&'a Token>) -> Result<Node, QueryError> {
        let mut children = vec![self.parse_and(before)?];
        while let Some(op) = self.peek().filter(|t| t.kind == TokenKind::Or) {
            self.bump();
            children.push(self.parse_and(Some(op))?);
        }
        Ok(flatten(children, Node::Or))
    }

    fn parse_and(&mut self, before: Option<&'a Token>) -> Result<Node, QueryError> {
        let mut children = vec![self.parse_unary(before)?];
        loop {
            match self.peek() {
                Some(op) if op.kind == TokenKind::And => {
                    self.bump();
                    children.push(self.parse_unary(Some(op))?);
                }
                Some(t) if starts_operand(&t.kind) => children.push(self.parse_unary(None)?),
                _ => break,
            }
        }
        Ok(flatten(children, Node::And))
    }

    fn parse_unary(&mut self, before: Option<&'a Token>) -> Result<Node, QueryError> {
        match self.peek() {
            Some(op) if op.kind == TokenKind::Not => {
                self.bump();
                Ok(Node::Not(Box::new(self.parse_unary(Some(op))?)))
            }
            _ => self.parse_primary(before),
        }
    }

    fn parse_primary(&mut self, before: Option<&'a Token>) -> Result<Node, QueryError> {
        let Some(token) = self.bump() else {
            return Err(missing_operand(before, None));
        };
        match &token.kind {
            TokenKind::Word(word) => word_node(word, token.position),
            TokenKind::Phrase(text) => phrase_node(text, token.position),
            TokenKind::LParen => {
                if self.peek().is_some_and(|t| t.kind == TokenKind::RParen) {
                    return Err(QueryError::new(token.position, "empty parentheses"));
                }
                let inner = self.parse_or(Some(token))?;
                match self.bump() {
                    Some(t) if t.kind == TokenKind::RParen => Ok(inner),
                    _ => Err(QueryError::new(
                        token.position,
                        "unbalanced parenthesis: '(' is never closed",
                    )),
                }
            }
            TokenKind::RParen if before.is_none_or(|b| b.kind == TokenKind::LParen) => {
                Err(QueryError::new(
                    token.position,
                    "unbalanced parenthesis: ')' has no matching '('",
                ))
            }
            TokenKind::RParen | TokenKind::And | TokenKind::Or | TokenKind::Not => {
                Err(missing_operand(before, Some(token)))
            }
        }
    }
}

fn starts_operand(kind: &TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Word(_) | TokenKind::Phrase(_) | TokenKind::LParen | TokenKind::Not
    )
}

/// The error for an operator with nothing on one side ("a AND", "OR b", "a AND OR b").
fn missing_operand(before: Option<&Token>, found: Option<&Token>) -> QueryError {
    // A closing parenthesis ends the operand list just like the end of the query does.
    let found = found.filter(|t| t.kind != TokenKind::RParen);
    match (before, found) {
        (Some(op), None) if op.kind != TokenKind::LParen => QueryError::new(
            op.position,
            format!("dangling operator: {} has no term after it", op.describe()),
        ),
        (Some(op), None) => {
            QueryError::new(op.position, "unbalanced parenthesis: '(' is never closed")
        }
        (Some(op), Some(t)) if op.kind != TokenKind::LParen => QueryError::new(
            t.position,
            format!(
                "dangling operator: expected a term after {}, found {}",
                op.describe(),
                t.describe()
            ),
        ),
        (_, Some(t)) => QueryError::new(
            t.position,
            format!("dangling operator: {} has no term before it", t.describe()),
        ),
        (None, None) => QueryError::new(0, "empty query"),
    }
}

fn flatten(mut children: Vec<Node>, combine: fn(Vec<Node>) -> Node) -> Node {
    if children.len() == 1
        && let Some(only) = children.pop()
    {
        return only;
    }
    combine(children)
}

fn word_node(word: &str, position: usize) -> Result<Node, QueryError> {
    if let Some(prefix) = word.strip_suffix('*') {
        let words = query_words(prefix);
        return match words.as_slice() {
            [one] => Ok(Node::Prefix(one.clone())),
            [] => Err(QueryError::new(
                position,
                format!("'{word}' has no letters or digits before '*'"),
            )),
            _ => Err(QueryError::new(
                position,
                format!("'{word}': a prefix must be a single word"),
            )),
        };
    }
    let stems = stems_of(word);
    match stems.len() {
        0 => Err(QueryError::new(
            position,
            format!("'{word}' has no letters or digits"),
        )),
        1 => Ok(Node::Term(stems.concat())),
        _ => Ok(Node::Phrase(stems)),
    }
}

fn phrase_node(text: &str, position: usize) -> Result<Node, QueryError> {
    let stems = stems_of(text);
    match stems.len() {
        0 => Err(QueryError::new(
            position,
            "empty phrase: the quotes contain no words",
        )),
        1 => Ok(Node::Term(stems.concat())),
        _ => Ok(Node::Phrase(stems)),
    }
}

fn stems_of(text: &str) -> Vec<String> {
    query_words(text).iter().map(|w| terms::stem(w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, text: &str) -> TopicDoc {
        TopicDoc::new(title, text)
    }

    fn q(source: &str) -> Query {
        match Query::parse(source) {
            Ok(q) => q,
            Err(e) => panic!("{source:?} should parse: {e}"),
        }
    }

    fn err(source: &str) -> QueryError {
        match Query::parse(source) {
            Ok(q) => panic!("{source:?} should not parse, got {q:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn stemming_matches_word_forms() {
        let d = doc("Agency funds labs", "");
        assert!(q("funding").matches(&d));
        assert!(q("fund").matches(&d));
        assert!(q("agencies AND lab").matches(&d));
        assert!(!q("budget").matches(&d));
        let d = doc("", "Funding was frozen.");
        assert!(q("funds").matches(&d));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // a OR b AND c  ==  a OR (b AND c)
        let query = q("alpha OR beta AND gamma");
        assert!(query.matches(&doc("alpha", "")));
        assert!(!query.matches(&doc("beta", "")));
        assert!(query.matches(&doc("beta gamma", "")));
        // Implicit AND has the same precedence as AND.
        let query = q("alpha OR beta gamma");
        assert!(query.matches(&doc("alpha", "")));
        assert!(!query.matches(&doc("gamma", "")));
        assert!(query.matches(&doc("gamma", "beta")));
    }

    #[test]
    fn not_binds_tighter_than_and() {
        // NOT a AND b  ==  (NOT a) AND b
        let query = q("NOT alpha AND beta");
        assert!(query.matches(&doc("beta", "")));
        assert!(!query.matches(&doc("alpha beta", "")));
        assert!(!query.matches(&doc("gamma", "")));
        let query = q("NOT (alpha AND beta)");
        assert!(query.matches(&doc("alpha", "")));
        assert!(!query.matches(&doc("alpha beta", "")));
    }

    #[test]
    fn parentheses_override_precedence() {
        let query = q("(alpha OR beta) AND gamma");
        assert!(!query.matches(&doc("alpha", "")));
        assert!(query.matches(&doc("alpha", "gamma")));
        assert!(query.matches(&doc("beta gamma", "")));
    }

    #[test]
    fn negation_and_minus() {
        let query = q("telescope -budget");
        assert!(query.matches(&doc("New telescope", "first light")));
        assert!(!query.matches(&doc("Telescope budget cut", "")));
        assert_eq!(
            q("a -b"),
            Query {
                source: "a -b".into(),
                root: q("a NOT b").root
            }
        );
        // A hyphen inside a word is not negation.
        assert!(q("US-China").matches(&doc("US China talks", "")));
    }

    #[test]
    fn phrases_match_consecutive_stems() {
        let d = doc(
            "Panel reviews research security rules",
            "Universities said the rules on export controls were unclear.",
        );
        assert!(q("\"research security\"").matches(&d));
        assert!(q("\"export control\"").matches(&d));
        assert!(!q("\"security research\"").matches(&d));
        assert!(
            !q("\"rules universities\"").matches(&d),
            "no phrase across title and text"
        );
        assert!(
            q("\"rules on export\"").matches(&d),
            "stop words stay in phrases"
        );
    }

    #[test]
    fn punctuated_words_split() {
        let d = doc("US-China science pact lapses", "");
        assert!(q("\"us china\"").matches(&d));
        assert!(q("us AND china").matches(&d));
        let d = doc("", "The U.S.-China agreement expired; the E.U. watched.");
        assert!(q("\"us china\"").matches(&d));
        assert!(q("US-China").matches(&d));
        assert!(q("\"U.S. China\"").matches(&d));
        assert!(q("EU").matches(&d));
        // A dotted run does not swallow ordinary sentence ends.
        let d = doc("", "He met X. Then a plan.");
        assert!(q("\"then a plan\"").matches(&d));
    }

    #[test]
    fn prefix_terms() {
        let d = doc("Quantum computing grants", "");
        assert!(q("quant*").matches(&d));
        assert!(q("comput*").matches(&d));
        assert!(!q("quantz*").matches(&d));
        assert!(q("Grant*").matches(&d));
        assert_eq!(err("us-china*").position, 0);
    }

    #[test]
    fn lower_case_operators_are_words() {
        let query = q("research and security");
        assert!(!query.matches(&doc("research security", "")));
        assert!(query.matches(&doc("research and security", "")));
    }

    #[test]
    fn display_is_the_source() {
        let source = "  (a OR \"b c\")  -d ";
        assert_eq!(q(source).to_string(), source);
        assert_eq!(q(source).as_str(), source);
    }

    #[test]
    fn errors_have_positions() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty query"),
            ("   ", 0, "empty query"),
            ("(a OR b", 0, "'(' is never closed"),
            ("a AND (b OR (c)", 6, "'(' is never closed"),
            ("a OR b)", 6, "')' has no matching '('"),
            (")", 0, "')' has no matching '('"),
            ("a AND", 2, "AND has no term after it"),
            ("a OR NOT", 5, "NOT has no term after it"),
            ("OR a", 0, "OR has no term before it"),
            ("a AND OR b", 6, "expected a term after AND, found OR"),
            ("(AND a)", 1, "AND has no term before it"),
            ("a (OR b)", 3, "OR has no term before it"),
            ("a \"bc", 2, "unterminated quote"),
            ("x ()", 2, "empty parentheses"),
            ("a \"  \"", 2, "empty phrase"),
            ("a & b", 2, "'&' has no letters or digits"),
            ("a NOT", 2, "NOT has no term after it"),
            ("(a AND)", 3, "AND has no term after it"),
        ];
        for (source, position, message) in cases {
            let e = err(source);
            assert_eq!(e.position, *position, "{source:?}: {e}");
            assert!(e.message.contains(message), "{source:?}: {e}");
        }
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let e = err("Förderung é (x");
        assert_eq!(e.position, 12);
        assert_eq!(
            e.to_string(),
            "invalid query at character 12: unbalanced parenthesis: '(' is never closed"
        );
    }

    #[test]
    fn deserializes_from_string_with_error_message() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            query: Query,
        }
        let ok: Result<T, _> = toml::from_str("query = 'ai AND (safety OR \"model rules\")'");
        assert!(ok.is_ok(), "{ok:?}");
        let bad = toml::from_str::<T>("query = 'ai AND'");
        let msg = bad
            .map(|_| ())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("invalid query at character 3"), "{msg}");
    }

    #[test]
    fn a_doc_serves_many_queries() {
        let d = doc(
            "AI safety institute names director",
            "The institute will test frontier models before release.",
        );
        let queries = [
            "\"ai safety\"",
            "institute AND model*",
            "NOT budget",
            "frontier OR grant",
        ];
        assert!(queries.iter().all(|s| q(s).matches(&d)));
        assert!(!q("\"safety ai\" OR budget").matches(&d));
    }
}
