//! Bytes to text. Owner of every charset decision (HTTP header, BOM, XML declaration, `<meta charset>`).

use std::borrow::Cow;
use std::sync::LazyLock;

use encoding_rs::{Encoding, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use regex::Regex;
use regex::bytes::Regex as BytesRegex;

/// What kind of document the bytes are: decides which in-document declaration is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Xml,
    Html,
    Json,
}

/// Where the encoding used for decoding came from (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Bom,
    Header,
    Declaration,
    /// Valid UTF-8 with nothing declared, or windows-1252 when the bytes are not valid UTF-8.
    Fallback,
}

/// How far into an HTML document `<meta charset>` is looked for.
const HTML_PRESCAN_BYTES: usize = 2048;
/// How far into an XML document the declaration is looked for (it must come first anyway).
const XML_PRESCAN_BYTES: usize = 512;

/// Decodes `bytes` to UTF-8. Priority: BOM, then the charset of the HTTP `Content-Type` header,
/// then the document's own declaration, then UTF-8 (windows-1252 if the bytes are not valid UTF-8).
///
/// For [`DocKind::Xml`] the XML declaration's `encoding` attribute is removed from the returned
/// text, so that an XML parser reading it does not decode it a second time.
pub fn decode(bytes: &[u8], content_type: Option<&str>, kind: DocKind) -> String {
    decode_with_source(bytes, content_type, kind).0
}

/// [`decode`], also telling which encoding was used and why.
pub fn decode_with_source(
    bytes: &[u8],
    content_type: Option<&str>,
    kind: DocKind,
) -> (String, &'static Encoding, Source) {
    let (encoding, source, body) = choose(bytes, content_type, kind);
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    if had_errors {
        tracing::debug!(
            encoding = encoding.name(),
            ?source,
            "undecodable bytes replaced"
        );
    }
    let text = match kind {
        DocKind::Xml => strip_xml_encoding_decl(text),
        DocKind::Html | DocKind::Json => text,
    };
    (text.into_owned(), encoding, source)
}

/// Picks the encoding and returns the bytes to decode (without any BOM).
fn choose<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
    kind: DocKind,
) -> (&'static Encoding, Source, &'a [u8]) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return (
            encoding,
            Source::Bom,
            bytes.get(bom_len..).unwrap_or_default(),
        );
    }
    if let Some(encoding) = content_type.and_then(header_charset) {
        return (encoding, Source::Header, bytes);
    }
    let declared = match kind {
        DocKind::Xml => xml_declared(bytes),
        DocKind::Html => html_declared(bytes),
        DocKind::Json => None,
    };
    if let Some(encoding) = declared {
        return (encoding, Source::Declaration, bytes);
    }
    if std::str::from_utf8(bytes).is_ok() {
        (UTF_8, Source::Fallback, bytes)
    } else {
        (WINDOWS_1252, Source::Fallback, bytes)
    }
}

/// The encoding named by a label, ignoring labels encoding_rs does not know and the
/// "replacement" encoding (which would turn the whole document into one U+FFFD).
fn usable_label(label: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_label(label).filter(|e| *e != REPLACEMENT)
}

/// `charset=` parameter of a `Content-Type` header value.
pub fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        usable_label(value.as_bytes())
    })
}

/// Encoding of an XML document without BOM: UTF-16 sniffed from the first `<?`, else the
/// declaration's `encoding` attribute.
fn xml_declared(bytes: &[u8]) -> Option<&'static Encoding> {
    static DECL: LazyLock<BytesRegex> = LazyLock::new(|| {
        BytesRegex::new(
            r#"(?s-u)\A\s*<\?xml[^>]*?\sencoding\s*=\s*["']\s*([A-Za-z0-9._:\-]+)\s*["']"#,
        )
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    match bytes {
        [0x3C, 0x00, 0x3F, 0x00, ..] => return Some(UTF_16LE),
        [0x00, 0x3C, 0x00, 0x3F, ..] => return Some(UTF_16BE),
        _ => {}
    }
    let head = bytes.get(..XML_PRESCAN_BYTES).unwrap_or(bytes);
    let label = DECL.captures(head)?.get(1)?.as_bytes();
    ascii_compatible(usable_label(label)?)
}

/// Encoding named by `<meta charset>` or `<meta http-equiv content="…charset=…">`.
fn html_declared(bytes: &[u8]) -> Option<&'static Encoding> {
    static META: LazyLock<BytesRegex> = LazyLock::new(|| {
        BytesRegex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    let head = bytes.get(..HTML_PRESCAN_BYTES).unwrap_or(bytes);
    META.captures_iter(head)
        .filter_map(|c| usable_label(c.get(1)?.as_bytes()))
        .find_map(ascii_compatible)
}

/// A declaration read with ASCII bytes cannot truly be UTF-16 (the BOM/sniffing would have
/// caught that); such documents are UTF-8 in practice.
fn ascii_compatible(encoding: &'static Encoding) -> Option<&'static Encoding> {
    if encoding == UTF_16LE || encoding == UTF_16BE {
        Some(UTF_8)
    } else {
        Some(encoding)
    }
}

/// Removes the `encoding="…"` pseudo-attribute of every XML declaration. Misplaced
/// declarations too: quick-xml (under feed-rs) panics when one names a non-UTF-8 encoding.
fn strip_xml_encoding_decl(text: Cow<'_, str>) -> Cow<'_, str> {
    static ENC_ATTR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(<\?xml\s[^>]*?)\s+encoding\s*=\s*(?:"[^"]*"|'[^']*')"#)
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    });
    match ENC_ATTR.replace_all(&text, "$1") {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAFE_LATIN1: &[u8] = b"caf\xe9";

    #[test]
    fn latin1_header_decodes() {
        let text = decode(
            CAFE_LATIN1,
            Some("text/html; charset=ISO-8859-1"),
            DocKind::Html,
        );
        assert_eq!(text, "café");
    }

    #[test]
    fn quoted_header_charset() {
        let (_, enc, src) =
            decode_with_source(b"x", Some("text/xml; charset=\"koi8-r\""), DocKind::Xml);
        assert_eq!((enc.name(), src), ("KOI8-R", Source::Header));
    }

    #[test]
    fn utf8_bom_wins_over_header() {
        let bytes = b"\xef\xbb\xbfcaf\xc3\xa9";
        let (text, enc, src) =
            decode_with_source(bytes, Some("text/plain; charset=latin1"), DocKind::Html);
        assert_eq!((text.as_str(), enc, src), ("café", UTF_8, Source::Bom));
    }

    #[test]
    fn utf16_boms() {
        let le = b"\xff\xfeh\x00i\x00";
        let be = b"\xfe\xff\x00h\x00i";
        assert_eq!(decode(le, None, DocKind::Json), "hi");
        assert_eq!(decode(be, None, DocKind::Json), "hi");
    }

    #[test]
    fn header_beats_xml_declaration() {
        let doc = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><a>caf\xe9</a>";
        let text = decode(
            doc,
            Some("application/rss+xml; charset=windows-1252"),
            DocKind::Xml,
        );
        assert_eq!(text, "<?xml version=\"1.0\"?><a>café</a>");
    }

    #[test]
    fn xml_declaration_used_and_removed() {
        let doc = b"<?xml version='1.0' encoding='iso-8859-1' standalone='yes'?><a>caf\xe9</a>";
        let (text, enc, src) = decode_with_source(doc, Some("text/xml"), DocKind::Xml);
        assert_eq!(src, Source::Declaration);
        assert_eq!(enc, WINDOWS_1252);
        assert_eq!(text, "<?xml version='1.0' standalone='yes'?><a>café</a>");
    }

    #[test]
    fn misplaced_declarations_lose_their_encoding_too() {
        let doc = b"<!-- c --><?xml version=\"1.0\" encoding=\"koi8-r\"?><a/>";
        assert_eq!(
            decode(doc, None, DocKind::Xml),
            "<!-- c --><?xml version=\"1.0\"?><a/>"
        );
    }

    #[test]
    fn xml_utf16_without_bom_is_sniffed() {
        let doc: Vec<u8> = "<?xml version=\"1.0\" encoding=\"utf-16\"?><a/>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            decode(&doc, None, DocKind::Xml),
            "<?xml version=\"1.0\"?><a/>"
        );
    }

    #[test]
    fn ascii_doc_declaring_utf16_is_utf8() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é</a>";
        let (_, enc, _) = decode_with_source(doc.as_bytes(), None, DocKind::Xml);
        assert_eq!(enc, UTF_8);
    }

    #[test]
    fn html_meta_charset_forms() {
        let a = b"<html><head><meta charset=\"windows-1251\"></head><body>\xe0</body>";
        let b = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-7\">\xe1";
        assert!(decode(a, None, DocKind::Html).ends_with("\u{430}</body>"));
        assert!(decode(b, None, DocKind::Html).ends_with('\u{3b1}'));
    }

    #[test]
    fn meta_beyond_prescan_is_ignored() {
        let mut doc = vec![b' '; HTML_PRESCAN_BYTES];
        doc.extend_from_slice(b"<meta charset=koi8-r>abc");
        let (_, enc, src) = decode_with_source(&doc, None, DocKind::Html);
        assert_eq!((enc, src), (UTF_8, Source::Fallback));
    }

    #[test]
    fn garbage_labels_fall_through() {
        let doc = b"<?xml version=\"1.0\" encoding=\"no-such-charset\"?><a>caf\xc3\xa9</a>";
        let (text, enc, src) =
            decode_with_source(doc, Some("text/xml; charset=bogus"), DocKind::Xml);
        assert_eq!((enc, src), (UTF_8, Source::Fallback));
        assert!(text.contains("café"));
    }

    #[test]
    fn replacement_label_is_ignored() {
        let (_, enc, _) = decode_with_source(
            b"abc",
            Some("text/html; charset=iso-2022-kr"),
            DocKind::Html,
        );
        assert_eq!(enc, UTF_8);
    }

    #[test]
    fn invalid_utf8_without_declaration_is_windows_1252() {
        assert_eq!(
            decode(b"\x93hi\x94 caf\xe9", None, DocKind::Html),
            "\u{201c}hi\u{201d} café"
        );
    }

    #[test]
    fn declared_utf8_with_bad_bytes_gets_replacement() {
        let text = decode(b"a\xffb", Some("text/html; charset=utf-8"), DocKind::Html);
        assert_eq!(text, "a\u{fffd}b");
    }
}
