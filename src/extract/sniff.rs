//! Whether saved bytes can be a page at all: PDFs, images, archives and other binary data are
//! refused before they are decoded as HTML, which would turn them into control characters and
//! replacement marks.

/// Known file signatures at the start of the bytes, with what they mark.
const SIGNATURES: &[(&[u8], &str)] = &[
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x7fELF", "an executable"),
];

/// Control characters (other than tab, line breaks and form feed) per this many characters,
/// above which text is binary data: stray ones occur in real pages, binary data is full of them.
const CONTROLS_PER: usize = 100;

/// What the raw bytes are when their signature says they are not a page.
pub fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    if let Some((_, what)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Some(what);
    }
    let riff = bytes.get(8..12);
    if bytes.starts_with(b"RIFF") && riff == Some(b"WEBP") {
        return Some("a WebP image");
    }
    // ISO media (MP4, MOV, HEIC, AVIF): a box size, then "ftyp".
    if bytes.get(4..8) == Some(b"ftyp") {
        return Some("a video or image file");
    }
    None
}

/// Why decoded text is binary data rather than a page, if it is.
pub fn binary_text(text: &str) -> Option<&'static str> {
    if text.contains('\0') {
        return Some("binary data (NUL bytes)");
    }
    let (mut chars, mut controls) = (0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        if is_stray_control(c) {
            controls += 1;
        }
    }
    (controls * CONTROLS_PER > chars).then_some("binary data (control characters)")
}

/// A control character that is not whitespace: nothing a page means to show.
pub fn is_stray_control(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_binary_text_are_recognized() {
        assert_eq!(binary_signature(b"%PDF-1.7\n"), Some("a PDF document"));
        assert_eq!(
            binary_signature(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some("a WebP image")
        );
        assert_eq!(binary_signature(b"<!doctype html><p>Hi</p>"), None);
        assert_eq!(binary_text("a\0b"), Some("binary data (NUL bytes)"));
        assert!(binary_text("\x01\x02\x03 text").is_some());
        let page = format!("<p>{}\x07</p>\n\t\r\x0c", "word ".repeat(40));
        assert_eq!(binary_text(&page), None, "one stray bell in a page");
    }
}
