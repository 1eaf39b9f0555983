//! "did you mean ...?": the closest known name to a misspelt one.

/// The candidate closest to `word` by Damerau-Levenshtein distance, when it is close enough
/// (at most a third of the longer word's length, and at least one edit allowed).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d > 0 && d <= (word.chars().count().max(c.chars().count()) / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `a`, `b` and `c` for messages.
pub fn one_of<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    match items.len() {
        0 => "nothing".to_string(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// `a`, `b` and `c` for messages.
pub fn all_of<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    match items.len() {
        0 => "none".to_string(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let kinds = ["split.forget", "train.classifier", "dataset.digits"];
        assert_eq!(closest("split.forgt", kinds), Some("split.forget"));
        assert_eq!(closest("split.froget", kinds), Some("split.forget")); // a transposition is one edit
        assert_eq!(closest("train.clasifier", kinds), Some("train.classifier"));
        assert_eq!(closest("eval.unlearning", kinds), None);
        assert_eq!(closest("split.forget", kinds), None); // an exact match is not a suggestion
        assert_eq!(closest("sed", ["seed"]), Some("seed"));
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(one_of([]), "nothing");
        assert_eq!(one_of(["a"]), "`a`");
        assert_eq!(one_of(["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(all_of(["a", "b"]), "`a` and `b`");
    }
}
