//! A problem in a suite file, located by file, line and column, with a hint, and the
//! source line it points at underlined (rendered by `annotate-snippets`).

use std::fmt;
use std::path::PathBuf;

/// One problem found while loading or validating a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The suite file (or folder) the problem is in.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// The source line with a caret under the position, when the line is known.
    pub excerpt: Option<String>,
}

impl Diagnostic {
    pub(crate) fn new(
        file: impl Into<PathBuf>,
        line: u64,
        column: u64,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line,
            column,
            message: message.into(),
            hint: None,
            excerpt: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the excerpt of `text` (the file's contents) at the diagnostic's position.
    pub(crate) fn attach_source(&mut self, text: &str) {
        self.excerpt = excerpt(text, self.line, self.column);
    }
}

/// Characters shown either side of the position on a long line: a generated or hostile
/// suite may hold a megabyte on one line, and the terminal needs only the neighbourhood.
const EXCERPT_REACH: usize = 80;

/// The line `line` of `text` with a caret under column `column` (both 1-based), the
/// token there underlined; `None` when the position is not in the text.
fn excerpt(text: &str, line: u64, column: u64) -> Option<String> {
    use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    let source = text.lines().nth(index)?;
    let chars: Vec<char> = source.chars().collect();
    let col = usize::try_from(column.max(1) - 1).ok()?.min(chars.len());
    let (from, to) = if chars.len() <= 2 * EXCERPT_REACH {
        (0, chars.len())
    } else {
        (
            col.saturating_sub(EXCERPT_REACH),
            (col + EXCERPT_REACH).min(chars.len()),
        )
    };
    let window: String = chars[from..to].iter().collect();
    let caret: usize = chars[from..col].iter().map(|c| c.len_utf8()).sum();
    // The token under the caret ends at a separator, or at the colon that ends a key;
    // a quoted one at its closing quote.
    let rest = &window[caret..];
    let quoted = rest
        .chars()
        .next()
        .filter(|q| matches!(q, '"' | '\''))
        .and_then(|q| rest[1..].find(q).map(|i| i + 2));
    let token = quoted
        .unwrap_or_else(|| {
            rest.char_indices()
                .find(|&(i, c)| {
                    c.is_whitespace()
                        || matches!(c, ',' | '}' | ']')
                        || (c == ':'
                            && rest[i + 1..].chars().next().is_none_or(char::is_whitespace))
                })
                .map_or(rest.len(), |(i, _)| i)
        })
        .max(usize::from(caret < window.len()));
    let end = (caret + token).min(window.len());
    let end = (caret..=end)
        .rev()
        .find(|&i| window.is_char_boundary(i))
        .unwrap_or(caret);
    let group = Group::with_level(Level::ERROR).element(
        Snippet::source(window.as_str())
            .line_start(index + 1)
            .annotation(AnnotationKind::Primary.span(caret..end)),
    );
    let rendered = Renderer::plain().render(&[group]);
    let rendered = rendered.trim_end_matches('\n');
    (!rendered.trim().is_empty()).then(|| rendered.to_string())
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(excerpt) = &self.excerpt {
            write!(f, "\n{excerpt}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in the suites given, so that one `check` shows them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteErrors(pub Vec<Diagnostic>);

impl fmt::Display for SuiteErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SuiteErrors {}
