//! The naming rules of the file format: stage and pipeline names, kinds, `"<stage>.<output>"` references.

use std::fmt;

/// The longest stage or pipeline name (they name folders under `runs/`).
pub const MAX_NAME_LEN: usize = 64;

/// The rule, in words, for messages and the JSON Schema.
pub const NAME_RULE: &str =
    "a lowercase ASCII letter followed by lowercase letters, digits, `_` or `-`, at most 64 characters";

/// The rule as a regular expression (for the JSON Schema of the file format).
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9_-]{0,63}$";

/// The kind rule as a regular expression: `family.name`, each part a name.
pub const KIND_PATTERN: &str = "^[a-z][a-z0-9_-]*\\.[a-z][a-z0-9_-]*$";

/// A stage or pipeline name: `[a-z][a-z0-9_-]*`, at most [`MAX_NAME_LEN`] characters.
///
/// Names become folder names (`runs/<pipeline>/<stage>/`) and the left half of references, so
/// they hold no dots, slashes, capitals or spaces.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= MAX_NAME_LEN
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// A stage kind: `family.name`, two valid names joined by one dot (`split.forget`).
pub fn is_valid_kind(kind: &str) -> bool {
    match kind.split_once('.') {
        Some((family, name)) => is_valid_name(family) && is_valid_name(name),
        None => false,
    }
}

/// A parsed `"<stage>.<output>"`: one output of one stage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutputRef {
    pub stage: String,
    pub output: String,
}

/// Why a reference string is not `"<stage>.<output>"`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("expected `<stage>.<output>`, found no `.`")]
    NoDot,
    #[error("expected `<stage>.<output>` with exactly one `.`")]
    TooManyDots,
    #[error("`{0}` is not a valid stage name: expected {NAME_RULE}")]
    Stage(String),
    #[error("`{0}` is not a valid output name: expected {NAME_RULE}")]
    Output(String),
}

impl OutputRef {
    pub fn new(stage: impl Into<String>, output: impl Into<String>) -> Self {
        OutputRef { stage: stage.into(), output: output.into() }
    }

    /// Parses `"<stage>.<output>"`; both halves follow the name rule.
    pub fn parse(s: &str) -> Result<OutputRef, ReferenceError> {
        let (stage, output) = s.split_once('.').ok_or(ReferenceError::NoDot)?;
        if output.contains('.') {
            return Err(ReferenceError::TooManyDots);
        }
        if !is_valid_name(stage) {
            return Err(ReferenceError::Stage(stage.to_string()));
        }
        if !is_valid_name(output) {
            return Err(ReferenceError::Output(output.to_string()));
        }
        Ok(OutputRef::new(stage, output))
    }
}

impl fmt::Display for OutputRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.stage, self.output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        for ok in ["a", "data", "af_twin", "step-2", "x0"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "2a", "_a", "-a", "Data", "a.b", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert!(is_valid_name(&"a".repeat(64)));
    }

    #[test]
    fn kinds_are_family_dot_name() {
        assert!(is_valid_kind("split.forget"));
        assert!(is_valid_kind("dataset.image-folder"));
        for bad in ["split", "split.", ".forget", "a.b.c", "Split.forget"] {
            assert!(!is_valid_kind(bad), "{bad}");
        }
    }

    #[test]
    fn references_parse() {
        assert_eq!(OutputRef::parse("data.train"), Ok(OutputRef::new("data", "train")));
        assert_eq!(OutputRef::parse("data"), Err(ReferenceError::NoDot));
        assert_eq!(OutputRef::parse("a.b.c"), Err(ReferenceError::TooManyDots));
        assert_eq!(OutputRef::parse("Data.train"), Err(ReferenceError::Stage("Data".into())));
        assert_eq!(OutputRef::parse("data."), Err(ReferenceError::Output(String::new())));
        assert_eq!(OutputRef::new("a", "b").to_string(), "a.b");
    }
}
