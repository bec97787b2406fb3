//! Paged lists: every list the API and the CLI give (records, requests, return cases,
//! delegation certificates) comes a page at a time, at most [`MAX_LIMIT`] items, with an
//! opaque cursor that continues after the page's last item (docs/api.md, "Pages").
//!
//! A list is kept in the order of a sort key that is unique per item; the cursor is that key
//! of the last item given, as JSON in unpadded URL-safe base64. A page continues after it
//! whatever was added or removed meanwhile: nothing is given twice, and an item added before
//! the cursor's place is seen on the next run of the list, not in this one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Items in a page when no limit is given.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// The most items a page holds.
pub(crate) const MAX_LIMIT: usize = 1000;

/// A page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// The cursor of the next page; none when this page ends the list.
    pub next: Option<String>,
}

/// Which page: how many items, after which cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items at most (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// The cursor a previous page gave.
    pub cursor: Option<String>,
}

/// A limit or cursor that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PageError {
    /// The limit is not a number from 1 to [`MAX_LIMIT`].
    #[error("limit `{0}`: give a whole number from 1 to {MAX_LIMIT} (the most a page holds)")]
    Limit(String),
    /// The cursor is not one this list gives.
    #[error(
        "cursor `{0}`: not a cursor of this list (give the `next` of the page before, unchanged)"
    )]
    Cursor(String),
}

impl PageRequest {
    /// The first page of the default size.
    pub fn first() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }

    /// The page a limit (as typed; default [`DEFAULT_LIMIT`]) and cursor ask for.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(PageError::Limit(text.to_owned())),
            },
        };
        Ok(Self {
            limit,
            cursor: cursor.map(str::to_owned),
        })
    }

    /// The limit and cursor as query parameters.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("limit", self.limit.to_string())];
        if let Some(c) = &self.cursor {
            out.push(("cursor", c.clone()));
        }
        out
    }

    /// The cursor's sort key, if a cursor was given.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, PageError> {
        let Some(text) = &self.cursor else {
            return Ok(None);
        };
        let bad = || PageError::Cursor(text.clone());
        let bytes = B64.decode(text).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
    }
}

/// The cursor that continues after the item whose sort key is `key`.
fn cursor_of<K: Serialize>(key: &K) -> String {
    // a key of ids, times and strings always encodes
    B64.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// The page `req` asks for of `items`, which are sorted by `key` (unique per item).
pub(crate) fn page<T, K>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
    req: &PageRequest,
) -> Result<Page<T>, PageError>
where
    K: Serialize + DeserializeOwned + Ord,
{
    let after: Option<K> = req.after()?;
    let mut out = Vec::with_capacity(req.limit.min(MAX_LIMIT));
    let mut more = false;
    for item in items {
        if after.as_ref().is_some_and(|a| key(&item) <= *a) {
            continue;
        }
        if out.len() == req.limit {
            more = true;
            break;
        }
        out.push(item);
    }
    let next = if more {
        out.last().map(|last| cursor_of(&key(last)))
    } else {
        None
    };
    Ok(Page { items: out, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_a_list_once_in_order() {
        let items: Vec<u32> = (1..=25).collect();
        let mut req = PageRequest::parse(Some("10"), None).unwrap();
        let mut seen = vec![];
        loop {
            let p = page(items.iter().copied(), |i| *i, &req).unwrap();
            assert!(p.items.len() <= 10);
            seen.extend(p.items);
            match p.next {
                Some(next) => req.cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, items);
        // an item added after the cursor's place is seen; one before is not given twice
        let first = page(
            items.iter().copied(),
            |i| *i,
            &PageRequest::parse(Some("10"), None).unwrap(),
        )
        .unwrap();
        let mut grown = items.clone();
        grown.insert(0, 0);
        let rest = page(
            grown.iter().copied(),
            |i| *i,
            &PageRequest {
                limit: 100,
                cursor: first.next,
            },
        )
        .unwrap();
        assert_eq!(rest.items, (11..=25).collect::<Vec<_>>());
        assert_eq!(rest.next, None);
    }

    #[test]
    fn bad_limits_and_cursors_are_named() {
        for bad in ["0", "1001", "ten", "-1"] {
            let e = PageRequest::parse(Some(bad), None).unwrap_err();
            assert_eq!(e, PageError::Limit(bad.to_owned()));
            assert!(e.to_string().contains("1 to 1000"), "{e}");
        }
        let req = PageRequest::parse(None, Some("not a cursor!")).unwrap();
        assert_eq!(req.limit, DEFAULT_LIMIT);
        let e = page(vec![1u32], |i| *i, &req).unwrap_err();
        assert!(e.to_string().contains("`not a cursor!`"), "{e}");
        // a cursor of another list's key type is refused, not misread
        let other = PageRequest {
            limit: 5,
            cursor: Some(cursor_of(&"text")),
        };
        assert!(page(vec![1u32], |i| *i, &other).is_err());
    }
}
