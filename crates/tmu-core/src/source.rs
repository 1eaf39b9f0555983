//! Source files and byte spans, and the 1-based line and column of a byte offset.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// A byte range `start..end` in a pipeline file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span { start: r.start, end: r.end }
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: impl Into<Span>) -> Self {
        Spanned { value, span: span.into() }
    }
}

/// A 1-based line and column; the column counts characters (Unicode scalar values), not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for LineCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A pipeline file's path (as the caller named it) and text; tmu-core never reads files itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    /// Byte offset of the first character of each line.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: &Path, text: &str) -> Self {
        let line_starts =
            std::iter::once(0).chain(text.char_indices().filter(|&(_, c)| c == '\n').map(|(i, _)| i + 1)).collect();
        SourceFile { path: path.to_path_buf(), text: text.to_string(), line_starts }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line and column of a byte offset. Offsets past the end (or inside a multi-byte
    /// character) are clamped to the nearest character boundary at or before them.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        LineCol { line, column }
    }

    /// `path:line:column` of the start of a span, as editors and terminals link it.
    pub fn location(&self, span: Span) -> String {
        format!("{}:{}", self.path.display(), self.line_col(span.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_is_one_based_and_counts_characters() {
        let src = SourceFile::new(Path::new("p.toml"), "ab\ncé = 1\n\nx");
        let at = |o| {
            let lc = src.line_col(o);
            (lc.line, lc.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(1), (1, 2));
        assert_eq!(at(2), (1, 3)); // the newline itself ends line 1
        assert_eq!(at(3), (2, 1));
        assert_eq!(at(4), (2, 2)); // `é` starts at byte 4
        assert_eq!(at(5), (2, 2)); // inside `é`: clamped back to its start
        assert_eq!(at(6), (2, 3)); // the space after `é` is the third character
        assert_eq!(at(11), (3, 1)); // the empty line
        assert_eq!(at(12), (4, 1));
        assert_eq!(at(13), (4, 2)); // end of text
        assert_eq!(at(99), (4, 2)); // past the end: clamped
        assert_eq!(src.location(Span::new(12, 13)), "p.toml:4:1");
    }
}
