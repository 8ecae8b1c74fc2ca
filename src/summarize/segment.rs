//! Sentence segmentation for English news text: ends at . ! ? … (with closing quotes and
//! brackets), except after abbreviations, titles, initials and inside numbers.

/// Words that take a period without ending a sentence (lowercase, without the period).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep", "lt", "col",
    "sgt", "capt", "cmdr", "adm", "maj", "rev", "hon", "pres", "supt", "insp", "det", "cpl", "pvt",
    "mt", "ft", "ave", "blvd", "rd", "vs", "v", "etc", "inc", "corp", "ltd", "co", "bros", "no",
    "nos", "vol", "fig", "approx", "est", "dept", "univ", "assn", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu",
    "thurs", "fri", "sat", "sun", "ala", "ariz", "ark", "calif", "colo", "conn", "del", "fla",
    "ga", "ill", "ind", "kan", "ky", "la", "md", "mass", "mich", "minn", "miss", "mo", "mont",
    "neb", "nev", "okla", "ore", "pa", "tenn", "tex", "va", "vt", "wash", "wis", "wyo", "e.g",
    "i.e", "cf", "al",
];

/// Abbreviations that also commonly end a sentence: a boundary only when a typical sentence
/// opener follows ("… in the U.S. The …" but "U.S. Senate").
const MAYBE_FINAL: &[&str] = &["etc", "inc", "corp", "ltd", "co", "bros", "jr", "sr"];

/// Capitalised words that usually open a sentence rather than continue a name.
const OPENERS: &[&str] = &[
    "The",
    "A",
    "An",
    "He",
    "She",
    "It",
    "They",
    "We",
    "I",
    "You",
    "But",
    "And",
    "In",
    "On",
    "At",
    "This",
    "That",
    "These",
    "Those",
    "There",
    "His",
    "Her",
    "Their",
    "Its",
    "Our",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "After",
    "When",
    "While",
    "If",
    "As",
    "However",
    "Officials",
    "Police",
    "Some",
    "Many",
    "One",
    "Now",
    "Yet",
    "So",
    "Meanwhile",
    "Earlier",
    "Last",
    "Since",
    "Both",
];

/// Sentences of `text`, trimmed, in order. Line breaks always end a sentence.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.split('\n') {
        split_line(line, &mut out);
    }
    out
}

fn split_line(line: &str, out: &mut Vec<String>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (_, c) = chars[i];
        if matches!(c, '.' | '!' | '?' | '…') {
            // Take the whole run of terminators and closers: `?!`, `."`, `.)`, `...`.
            let mut end = i + 1;
            while end < chars.len() && is_terminator_or_closer(chars[end].1) {
                end += 1;
            }
            if is_boundary(&chars, i, end) {
                let byte_end = chars.get(end).map_or(line.len(), |(b, _)| *b);
                push_trimmed(line.get(start..byte_end).unwrap_or_default(), out);
                start = byte_end;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    push_trimmed(line.get(start..).unwrap_or_default(), out);
}

fn push_trimmed(piece: &str, out: &mut Vec<String>) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece.split_whitespace().collect::<Vec<_>>().join(" "));
    }
}

fn is_terminator_or_closer(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']' | '»'
    )
}

/// Whether the terminator run `chars[at..end]` ends a sentence.
fn is_boundary(chars: &[(usize, char)], at: usize, end: usize) -> bool {
    // Must be followed by whitespace, then something that can open a sentence.
    let Some(&(_, after)) = chars.get(end) else {
        return true;
    };
    if !after.is_whitespace() {
        return false;
    }
    let next_word = next_word(chars, end);
    let Some(first) = next_word.chars().next() else {
        return true;
    };
    let opens = first.is_uppercase()
        || first.is_ascii_digit()
        || matches!(first, '"' | '\'' | '“' | '‘' | '(' | '[' | '¿' | '¡');
    if !opens {
        return false;
    }
    let Some(&(_, mark)) = chars.get(at) else {
        return true;
    };
    if mark != '.' || end > at + 1 && chars.get(at + 1).is_some_and(|(_, c)| *c == '.') {
        // ! ? … and ellipses end a sentence when a capital follows.
        return true;
    }
    let word = word_before(chars, at);
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    let opener = OPENERS.contains(&next_word.trim_matches(|c: char| !c.is_alphanumeric()));
    if MAYBE_FINAL.contains(&lower.as_str()) {
        return opener;
    }
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // Initials ("J. K. Rowling") and dotted abbreviations ("U.S.", "a.m."): only before an opener.
    let single_letter = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
    if single_letter || word.contains('.') {
        return opener;
    }
    true
}

/// The word (letters, digits and inner dots) right before position `at`.
fn word_before(chars: &[(usize, char)], at: usize) -> String {
    let mut begin = at;
    while begin > 0 {
        let c = chars[begin - 1].1;
        if c.is_alphanumeric() || c == '.' {
            begin -= 1;
        } else {
            break;
        }
    }
    chars[begin..at].iter().map(|(_, c)| *c).collect()
}

/// The next whitespace-delimited word after position `from`.
fn next_word(chars: &[(usize, char)], from: usize) -> String {
    chars
        .iter()
        .skip(from)
        .skip_while(|(_, c)| c.is_whitespace())
        .take_while(|(_, c)| !c.is_whitespace())
        .map(|(_, c)| *c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_initials_and_decimals_do_not_split() {
        let s = split_sentences(
            "Dr. Smith met J. K. Rowling in the U.S. Senate on Jan. 5 at 3.5 p.m. It rained. \
             \"Stop!\" he said. She left.",
        );
        assert_eq!(
            s,
            vec![
                "Dr. Smith met J. K. Rowling in the U.S. Senate on Jan. 5 at 3.5 p.m.",
                "It rained.",
                "\"Stop!\" he said.",
                "She left.",
            ]
        );
    }
}
