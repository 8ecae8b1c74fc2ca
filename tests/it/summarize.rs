//! Sentence segmentation and summary budgets.

use newsdesk::cli::summarize::{SummarizeArgs, run};
use newsdesk::summarize::{GIST_MAX_CHARS, SummaryOptions, gist, split_sentences, summarize};

#[test]
fn abbreviations_titles_and_months_do_not_end_sentences() {
    let s = split_sentences("Dr. Ana Ruiz met Gov. Tom Hale on Jan. 5 in St. Louis. They spoke.");
    assert_eq!(
        s,
        [
            "Dr. Ana Ruiz met Gov. Tom Hale on Jan. 5 in St. Louis.",
            "They spoke."
        ]
    );
}

#[test]
fn dotted_abbreviations_end_a_sentence_only_before_an_opener() {
    let s = split_sentences("He moved to the U.S. The move was hard. The U.S. Senate agreed.");
    assert_eq!(
        s,
        [
            "He moved to the U.S.",
            "The move was hard.",
            "The U.S. Senate agreed."
        ]
    );
}

#[test]
fn decimals_initials_and_quotes() {
    let s = split_sentences(
        "Prices rose 3.5 percent. J. R. R. Tolkien wrote it. \"Go home!\" she shouted. \
         \"It is over.\" Then silence. Was it? Yes.",
    );
    assert_eq!(
        s,
        [
            "Prices rose 3.5 percent.",
            "J. R. R. Tolkien wrote it.",
            "\"Go home!\" she shouted.",
            "\"It is over.\"",
            "Then silence.",
            "Was it?",
            "Yes.",
        ]
    );
}

#[test]
fn line_breaks_end_sentences() {
    assert_eq!(
        split_sentences("Headline without stop\nBody text."),
        ["Headline without stop", "Body text."]
    );
}

const ARTICLE: &str = "The river flooded the old town on Monday after three days of heavy rain. \
    Hundreds of residents were moved to schools and sports halls as the river flooded streets. \
    The mayor said the flood defences built in 2010 had held along most of the river. \
    A local bakery offered free bread to families staying in the sports halls. \
    Forecasters expect more rain on Thursday, and the river may flood the old town again. \
    The football match planned for the weekend was postponed.";

#[test]
fn summary_respects_sentence_and_character_budgets_in_article_order() {
    let opts = SummaryOptions {
        sentences: 2,
        max_chars: 200,
    };
    let summary = summarize(Some("River floods old town"), ARTICLE, opts);
    let chosen = split_sentences(&summary);
    assert!(!chosen.is_empty() && chosen.len() <= 2, "{chosen:?}");
    assert!(summary.chars().count() <= 200);
    let all = split_sentences(ARTICLE);
    let positions: Vec<usize> = chosen
        .iter()
        .map(|s| {
            all.iter()
                .position(|a| a == s)
                .expect("a whole sentence of the article")
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "article order: {positions:?}"
    );
}

#[test]
fn overlong_first_sentence_is_cut_at_a_word_boundary() {
    let summary = summarize(
        None,
        ARTICLE,
        SummaryOptions {
            sentences: 3,
            max_chars: 30,
        },
    );
    assert!(summary.ends_with('…'), "{summary:?}");
    assert!(summary.chars().count() <= 30);
    let head = summary.trim_end_matches('…');
    assert!(ARTICLE.starts_with(head) && ARTICLE[head.len()..].starts_with(' '));
}

/// The gist is the sentence that stands for the article (the flood, not the bakery or the
/// football), cut at a word beyond its budget; an abbreviation does not end it early.
#[test]
fn the_gist_is_the_one_sentence_that_stands_for_the_article() {
    let line = gist(Some("River floods old town"), ARTICLE);
    assert!(split_sentences(ARTICLE).contains(&line), "{line:?}");
    assert!(line.chars().count() <= GIST_MAX_CHARS);
    assert!(line.contains("flood"), "{line:?}");
    assert_eq!(
        gist(
            None,
            "The lab is led by Dr. Ana Ruiz of the U.S. Geological Survey. She said more."
        ),
        "The lab is led by Dr. Ana Ruiz of the U.S. Geological Survey."
    );
    // A long best sentence is cut at a word, not traded for a shorter, weaker one.
    let lead = "Public universities in four states froze laboratory hiring this week after state \
        legislatures ended the matching research funding programs that paid for equipment, \
        technicians and graduate students on projects that won federal research grants.";
    let text = format!("{lead} Without them, offices said, fewer would apply.");
    let cut = gist(
        Some("Universities freeze lab hiring as state research funding ends"),
        &text,
    );
    assert!(
        cut.ends_with('…') && cut.chars().count() <= GIST_MAX_CHARS,
        "{cut:?}"
    );
    assert!(lead.starts_with(cut.trim_end_matches('…')), "{cut:?}");
    let commas = format!("{} more.", "Funding, ".repeat(40));
    let cut = gist(None, &commas);
    assert!(
        cut.ends_with("Funding…"),
        "no clause mark before the ellipsis: {cut:?}"
    );
    let long = format!("{}.", "word ".repeat(100));
    let cut = gist(None, &long);
    assert!(
        cut.ends_with('…') && cut.chars().count() <= GIST_MAX_CHARS,
        "{cut:?}"
    );
    assert_eq!(gist(Some("Title"), "  "), "");
}

#[test]
fn empty_input_gives_empty_summary() {
    assert_eq!(summarize(Some("Title"), "", SummaryOptions::default()), "");
    assert_eq!(summarize(None, "   \n\n ", SummaryOptions::default()), "");
}

#[test]
fn cli_reports_bad_lines_and_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    let lines = [
        serde_json::json!({"id": "a", "text": ARTICLE, "title": "River floods old town"})
            .to_string(),
        "{not json".to_string(),
        serde_json::json!({"id": "b"}).to_string(),
        serde_json::json!({"id": 7, "text": "Short one. Another sentence here."}).to_string(),
    ];
    std::fs::write(&input, lines.join("\n")).expect("write");
    let args = SummarizeArgs {
        input,
        sentences: 3,
        max_chars: 600,
        gist: false,
    };
    let mut out = Vec::new();
    let failed = run(&args, &mut out).expect_err("bad lines fail the run");
    assert_eq!(failed.to_string(), "2 of 4 lines failed");
    let got: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0]["id"], "a");
    assert!(got[0]["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(got[1]["error"].is_string() && got[1].get("id").is_none());
    assert_eq!(got[2]["id"], "b");
    assert!(got[2]["error"].is_string());
    assert_eq!(got[3]["id"], 7);
    assert!(got[3]["summary"].is_string());
}
