//! A configuration file's text, positions in it, and the collector of its problems.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::DeTable;

use crate::error::ConfigError;

/// The text of one file, with the offsets its lines start at.
#[derive(Debug)]
pub(crate) struct Source {
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// Decodes `bytes` as UTF-8; on failure the error points at the first bad byte.
    pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<Self, ConfigError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Self::new(path, text.to_owned())),
            Err(e) => {
                let valid = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned();
                let prefix = Self::new(path, valid);
                let (line, col) = prefix.position(e.valid_up_to());
                Err(ConfigError {
                    path: path.to_owned(),
                    line,
                    col,
                    key: String::new(),
                    message: format!(
                        "the file is not valid UTF-8 (invalid byte at offset {})",
                        e.valid_up_to()
                    ),
                    hint: Some("save the file as UTF-8".into()),
                })
            }
        }
    }

    fn new(path: &Path, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path: path.to_owned(),
            text,
            line_starts,
        }
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Parses the text as TOML. A syntax error ends parsing; the earliest one is returned.
    pub(crate) fn parse(&self) -> Result<Spanned<DeTable<'_>>, ConfigError> {
        let (table, errors) = DeTable::parse_recoverable(&self.text);
        // Recovery may report follow-on errors, and not in order; the first by position is the
        // one to fix.
        match errors
            .iter()
            .min_by_key(|e| e.span().map_or(0, |s| s.start))
        {
            None => Ok(table),
            Some(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                let (line, col) = self.position(offset);
                Err(ConfigError {
                    path: self.path.clone(),
                    line,
                    col,
                    key: String::new(),
                    message: format!("invalid TOML: {}", e.message()),
                    hint: None,
                })
            }
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let start = self.line_starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }

    /// The text of a span, on one line and shortened, to quote a bad value.
    pub(crate) fn snippet(&self, span: &Range<usize>) -> String {
        const MAX: usize = 48;
        let text = self.text.get(span.clone()).unwrap_or("");
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > MAX {
            let short: String = one_line.chars().take(MAX).collect();
            format!("{short}…")
        } else {
            one_line
        }
    }
}

/// Collects the problems found in one file.
#[derive(Debug)]
pub(crate) struct Diag<'s> {
    source: &'s Source,
    errors: Vec<ConfigError>,
}

impl<'s> Diag<'s> {
    pub(crate) fn new(source: &'s Source) -> Self {
        Self {
            source,
            errors: Vec::new(),
        }
    }

    pub(crate) fn source(&self) -> &'s Source {
        self.source
    }

    /// Records a problem at a byte offset.
    pub(crate) fn error(
        &mut self,
        offset: usize,
        key: &str,
        message: String,
        hint: Option<String>,
    ) {
        let (line, col) = self.source.position(offset);
        self.errors.push(ConfigError {
            path: self.source.path.clone(),
            line,
            col,
            key: key.to_owned(),
            message,
            hint,
        });
    }

    /// The problems, ordered by position (stable, so problems at one place keep their order).
    pub(crate) fn finish(mut self) -> Vec<ConfigError> {
        self.errors.sort_by_key(|e| (e.line, e.col));
        self.errors
    }
}
