//! A walk over a spanned TOML tree that reports every unknown key, missing key and wrongly
//! typed value at once (serde's `deny_unknown_fields` would stop at the first).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::source::Diag;
use crate::suggest::nearest;

/// A value as written, with where it was written and its key path.
#[derive(Debug, Clone)]
pub(crate) struct Sp<T> {
    pub(crate) value: T,
    pub(crate) span: Range<usize>,
    pub(crate) key: String,
}

impl<T> Sp<T> {
    /// Records a problem with this value.
    pub(crate) fn error(&self, diag: &mut Diag<'_>, message: String, hint: Option<String>) {
        diag.error(self.span.start, &self.key, message, hint);
    }
}

/// `parent.key`, quoting the key when it is not a bare TOML key.
pub(crate) fn child_key(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(crate) fn index_key(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A table being read: its entries, where it starts (for missing keys) and its key path.
#[derive(Debug, Clone)]
pub(crate) struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    span: Range<usize>,
    key: String,
}

impl<'t, 'i> Table<'t, 'i> {
    /// The document's top-level table.
    pub(crate) fn root(doc: &'t Spanned<DeTable<'i>>) -> Self {
        Self {
            entries: doc.get_ref(),
            span: 0..0,
            key: String::new(),
        }
    }

    /// A value that should be a table.
    pub(crate) fn of_value(
        diag: &mut Diag<'_>,
        value: &'t Spanned<DeValue<'i>>,
        key: String,
        expects: &str,
    ) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(entries) => Some(Table {
                entries,
                span: value.span(),
                key,
            }),
            _ => {
                wrong_type(diag, value, &key, expects);
                None
            }
        }
    }

    /// Where the table is written (its header, or its inline braces).
    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The table's key path.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// Reports every key not in `allowed`, suggesting the nearest allowed one.
    pub(crate) fn refuse_unknown(&self, diag: &mut Diag<'_>, allowed: &[&str]) {
        for (name, _) in self.entries.iter() {
            let word: &str = name.get_ref();
            if allowed.contains(&word) {
                continue;
            }
            let hint = match nearest(word, allowed) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("expected one of: {}", allowed.join(", ")),
            };
            let message = format!("unknown key `{word}`");
            diag.error(
                name.span().start,
                &child_key(&self.key, word),
                message,
                Some(hint),
            );
        }
    }

    /// The entries in key order, each with its key as written.
    pub(crate) fn entries(
        &self,
    ) -> impl Iterator<Item = (Sp<String>, &'t Spanned<DeValue<'i>>)> + '_ {
        self.entries.iter().map(|(name, value)| {
            let word: &str = name.get_ref();
            let key = child_key(&self.key, word);
            (
                Sp {
                    value: word.to_owned(),
                    span: name.span(),
                    key,
                },
                value,
            )
        })
    }

    fn get(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
        required: bool,
    ) -> Option<(&'t Spanned<DeValue<'i>>, String)> {
        match self.entries.get_key_value(key) {
            Some((_, value)) => Some((value, child_key(&self.key, key))),
            None => {
                if required {
                    let message = format!("missing key `{key}`");
                    diag.error(
                        self.span.start,
                        &child_key(&self.key, key),
                        message,
                        Some(format!("expected {expects}")),
                    );
                }
                None
            }
        }
    }

    /// A string.
    pub(crate) fn string(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Sp<String>> {
        let (value, path) = self.get(diag, key, expects, true)?;
        string_value(diag, value, path, expects)
    }

    /// A string that may be left out.
    pub(crate) fn string_optional(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Sp<String>> {
        let (value, path) = self.get(diag, key, expects, false)?;
        string_value(diag, value, path, expects)
    }

    /// An array of strings; each element that is not a string is reported on its own.
    pub(crate) fn strings(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
        required: bool,
    ) -> Option<Sp<Vec<Sp<String>>>> {
        let (value, path) = self.get(diag, key, &format!("an array of {expects}"), required)?;
        let Some(items) = value.get_ref().as_array() else {
            wrong_type(diag, value, &path, &format!("an array of {expects}"));
            return None;
        };
        let elements = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| string_value(diag, item, index_key(&path, i), expects))
            .collect();
        Some(Sp {
            value: elements,
            span: value.span(),
            key: path,
        })
    }

    /// A boolean.
    pub(crate) fn boolean(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Sp<bool>> {
        self.boolean_of(diag, key, expects, true)
    }

    /// A boolean that may be left out.
    pub(crate) fn boolean_optional(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Sp<bool>> {
        self.boolean_of(diag, key, expects, false)
    }

    fn boolean_of(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
        required: bool,
    ) -> Option<Sp<bool>> {
        let (value, path) = self.get(diag, key, expects, required)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Sp {
                value: *b,
                span: value.span(),
                key: path,
            }),
            _ => {
                wrong_type(diag, value, &path, expects);
                None
            }
        }
    }

    /// An integer.
    pub(crate) fn integer(&self, diag: &mut Diag<'_>, key: &str, expects: &str) -> Option<Sp<i64>> {
        self.integer_of(diag, key, expects, true)
    }

    /// An integer that may be left out.
    pub(crate) fn integer_optional(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Sp<i64>> {
        self.integer_of(diag, key, expects, false)
    }

    fn integer_of(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
        required: bool,
    ) -> Option<Sp<i64>> {
        let (value, path) = self.get(diag, key, expects, required)?;
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Sp {
                    value: n,
                    span: value.span(),
                    key: path,
                }),
                Err(_) => {
                    let message = format!("integer `{i}` is out of range");
                    diag.error(
                        value.span().start,
                        &path,
                        message,
                        Some(format!("expected {expects}")),
                    );
                    None
                }
            },
            _ => {
                wrong_type(diag, value, &path, expects);
                None
            }
        }
    }

    /// A date, written as a TOML date (`2026-01-01`) or a string (`"2026-01-01"`); returned as
    /// text for the validation to parse.
    pub(crate) fn date(&self, diag: &mut Diag<'_>, key: &str, expects: &str) -> Option<Sp<String>> {
        let (value, path) = self.get(diag, key, expects, true)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Sp {
                value: s.to_string(),
                span: value.span(),
                key: path,
            }),
            DeValue::Datetime(d) => Some(Sp {
                value: d.to_string(),
                span: value.span(),
                key: path,
            }),
            _ => {
                wrong_type(diag, value, &path, expects);
                None
            }
        }
    }

    /// A sub-table.
    pub(crate) fn table(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Table<'t, 'i>> {
        let (value, path) = self.get(diag, key, expects, true)?;
        Table::of_value(diag, value, path, expects)
    }

    /// A sub-table that may be left out.
    pub(crate) fn table_optional(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Option<Table<'t, 'i>> {
        let (value, path) = self.get(diag, key, expects, false)?;
        Table::of_value(diag, value, path, expects)
    }

    /// An array of tables (`[[key]]`); a missing key is an empty array.
    pub(crate) fn tables(
        &self,
        diag: &mut Diag<'_>,
        key: &str,
        expects: &str,
    ) -> Vec<Table<'t, 'i>> {
        let Some((value, path)) = self.get(diag, key, expects, false) else {
            return Vec::new();
        };
        let Some(items) = value.get_ref().as_array() else {
            wrong_type(
                diag,
                value,
                &path,
                &format!("an array of tables ([[{key}]]) for {expects}"),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| Table::of_value(diag, item, index_key(&path, i), expects))
            .collect()
    }
}

fn string_value(
    diag: &mut Diag<'_>,
    value: &Spanned<DeValue<'_>>,
    key: String,
    expects: &str,
) -> Option<Sp<String>> {
    match value.get_ref() {
        DeValue::String(s) => Some(Sp {
            value: s.to_string(),
            span: value.span(),
            key,
        }),
        _ => {
            wrong_type(diag, value, &key, expects);
            None
        }
    }
}

/// Reports a value of the wrong TOML type, quoting it.
pub(crate) fn wrong_type(
    diag: &mut Diag<'_>,
    value: &Spanned<DeValue<'_>>,
    key: &str,
    expects: &str,
) {
    let found = value.get_ref().type_str();
    let message = match value.get_ref() {
        DeValue::Table(_) | DeValue::Array(_) => format!("expected {expects}, found {found}"),
        _ => format!(
            "expected {expects}, found {found} `{}`",
            diag.source().snippet(&value.span())
        ),
    };
    diag.error(value.span().start, key, message, None);
}
