//! Bytes to text. Owner of every charset decision (HTTP header, BOM, XML declaration, `<meta charset>`).
//! STUB: to be completed (see helper brief).

/// What kind of document the bytes are: decides which in-document declaration is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Xml,
    Html,
    Json,
}

/// Decodes `bytes` to UTF-8. Priority: BOM, then the charset of the HTTP `Content-Type` header,
/// then the document's own declaration, then UTF-8 (with replacement characters for bad bytes).
pub fn decode(bytes: &[u8], content_type: Option<&str>, kind: DocKind) -> String {
    let _ = (content_type, kind);
    String::from_utf8_lossy(bytes).into_owned()
}
