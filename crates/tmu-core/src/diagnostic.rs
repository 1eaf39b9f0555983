//! Diagnostics: every problem found in a pipeline file, with its span, and their rendering.

use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::source::{LineCol, SourceFile, Span};

/// What kind of problem a [`Diagnostic`] reports; stable, for tests and tools to match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// The text is not valid TOML.
    Syntax,
    /// A key of the wrong type or shape (`seed = "x"`, `inputs = 3`, a missing `kind`).
    Structure,
    /// A key that the file format does not know (at the top level, in a stage, in `[plugins]`).
    UnknownKey,
    /// `format` is missing or not a version this build reads.
    Format,
    /// A pipeline or stage name that breaks the naming rule.
    InvalidName,
    /// A `device` that is not `cpu`, `cuda`, `cuda:N` or `auto`.
    InvalidDevice,
    /// A `timeout` that is not a duration such as `90s`, `30m`, `2h` or `1h30m`.
    InvalidTimeout,
    /// A stage kind that no loaded plugin provides.
    UnknownKind,
    /// An input value that is not `"<stage>.<output>"`.
    InvalidReference,
    /// A reference to a stage that the pipeline does not have.
    UnknownStage,
    /// A reference to an output that the stage does not make.
    UnknownOutput,
    /// An input port that the stage does not have.
    UnknownPort,
    /// A required input port left unconnected.
    MissingInput,
    /// A list or map given to a one-artifact port, or the reverse.
    Arity,
    /// An edge whose artifact kinds differ (`model` given to a `dataset` port).
    KindMismatch,
    /// Stages that depend on each other in a circle.
    Cycle,
    /// A stage's `config` does not satisfy the stage's JSON Schema.
    Config,
    /// A `[sweep]` problem: an axis without values or bindings, values of mixed types or
    /// repeated, a binding that names no config field, two axes binding one field, an input
    /// that gathers over points but has nothing to gather.
    Sweep,
}

/// One problem: a message, the span it is about, and what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    /// What is wrong, lowercase, no final period.
    pub message: String,
    /// Where; `None` only for problems about the file as a whole.
    pub span: Option<Span>,
    /// Short text under the caret (what was expected, what was found).
    pub label: Option<String>,
    /// Other places that explain the problem (the stages on a cycle, the output a reference names).
    pub secondary: Vec<(Span, String)>,
    /// What the user can do: "did you mean `split.forget`?".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { code, message: message.into(), span: None, label: None, secondary: Vec::new(), help: None }
    }

    /// Points the diagnostic at `span` with a label under the caret.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.span = Some(span);
        let label = label.into();
        self.label = (!label.is_empty()).then_some(label);
        self
    }

    /// Adds a secondary span.
    pub fn with(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help when there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
}

/// How to render diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RenderStyle {
    /// No colour: for tests, logs and non-terminals.
    #[default]
    Plain,
    /// ANSI colours, for terminals.
    Color,
}

/// All the problems found in one pipeline file, in file order; never empty when returned as an error.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostics {
    source: Arc<SourceFile>,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(source: Arc<SourceFile>) -> Self {
        Diagnostics { source, items: Vec::new() }
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The 1-based line and column of a diagnostic's span, when it has one.
    pub fn line_col(&self, d: &Diagnostic) -> Option<LineCol> {
        d.span.map(|s| self.source.line_col(s.start))
    }

    /// Sorts by position in the file (file-wide problems first); stable for equal positions.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| d.span.map(|s| (s.start, s.end)));
    }

    /// Drops the diagnostics from `start` on that repeat an earlier one from `start` on (the
    /// same problem found at several points of a sweep), keeping their order.
    pub(crate) fn dedup_from(&mut self, start: usize) {
        let mut kept: Vec<Diagnostic> = Vec::new();
        for d in self.items.drain(start..) {
            if !kept.contains(&d) {
                kept.push(d);
            }
        }
        self.items.extend(kept);
    }

    /// Drops a diagnostic equal to the one before it (after [`Diagnostics::sort`]).
    pub fn dedup(&mut self) {
        self.items.dedup();
    }

    /// `Err(self)` when there is any diagnostic, else `Ok(value)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.items.is_empty() { Ok(value) } else { Err(self) }
    }

    /// Renders every diagnostic like rustc: `error: ...`, `--> file:line:col`, the source line,
    /// carets under the span and the help; diagnostics are separated by a blank line.
    pub fn render(&self, style: RenderStyle) -> String {
        let renderer = match style {
            RenderStyle::Plain => Renderer::plain(),
            RenderStyle::Color => Renderer::styled(),
        };
        let path = self.source.path().display().to_string();
        let text = self.source.text();
        let mut out = String::new();
        for d in &self.items {
            let title = Level::ERROR.primary_title(d.message.as_str());
            let mut group = match d.span {
                Some(span) => {
                    let primary = AnnotationKind::Primary.span(clamp(text, span));
                    let primary = match &d.label {
                        Some(l) => primary.label(l.as_str()),
                        None => primary,
                    };
                    let mut snippet = Snippet::source(text).path(path.as_str()).fold(true).annotation(primary);
                    for (s, l) in &d.secondary {
                        snippet = snippet.annotation(AnnotationKind::Context.span(clamp(text, *s)).label(l.as_str()));
                    }
                    title.element(snippet)
                }
                None => Group::with_title(title).element(Level::NOTE.message(format!("in {path}"))),
            };
            if let Some(h) = &d.help {
                group = group.element(Level::HELP.message(h.as_str()));
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&renderer.render(&[group]));
            out.push('\n');
        }
        out
    }
}

/// Keeps a span inside the text and on character boundaries (the renderer slices by it).
fn clamp(text: &str, span: Span) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(span.start);
    start..fix(span.end).max(start)
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.render(RenderStyle::Plain).trim_end())
    }
}

impl std::error::Error for Diagnostics {}
