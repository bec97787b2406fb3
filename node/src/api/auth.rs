//! The API's bearer token: read from the configured file, never printed, compared in constant
//! time.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

/// Why the token file cannot be used.
#[derive(Debug, Error)]
pub enum TokenError {
    /// The file cannot be read.
    #[error(
        "cannot read the API token file {path}: {source} (set [api] token_file to a file holding a long random token; `accord init` writes one)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds nothing but whitespace.
    #[error(
        "the API token file {path} is empty; put a long random token in it (e.g. 64 hex digits)"
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The token has characters an HTTP header cannot carry.
    #[error(
        "the API token in {path} has characters an HTTP header cannot carry; use letters, digits and punctuation only"
    )]
    Unprintable {
        /// The file.
        path: PathBuf,
    },
}

/// A bearer token. Its Debug output is redacted and its memory is wiped on drop.
pub struct Token(Zeroizing<String>);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// Reads the token file: its trimmed content is the token.
    pub fn read(path: &Path) -> Result<Self, TokenError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| TokenError::Read {
                    path: path.to_path_buf(),
                    source,
                })?,
            );
        let token = text.trim();
        if token.is_empty() {
            return Err(TokenError::Empty {
                path: path.to_path_buf(),
            });
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::Unprintable {
                path: path.to_path_buf(),
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(path = %path.display(), "API token file is readable by group or others; run chmod 600 on it");
            }
        }
        Ok(Self(Zeroizing::new(token.to_owned())))
    }

    /// The token, for the client's `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether an `Authorization` header value is `Bearer <this token>`. Both sides are hashed
    /// first and the digests compared in constant time, so neither the token's content nor its
    /// length shows in the timing.
    pub fn accepts(&self, header: Option<&[u8]>) -> bool {
        let Some(presented) = header.and_then(|h| h.strip_prefix(b"Bearer ")) else {
            return false;
        };
        let presented = Sha256::digest(presented.trim_ascii());
        let expected = Sha256::digest(self.0.as_bytes());
        presented.as_slice().ct_eq(expected.as_slice()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_trims_and_redacts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.token");
        std::fs::write(&path, "  s3cret-token\n").unwrap();
        let t = Token::read(&path).unwrap();
        assert_eq!(t.expose(), "s3cret-token");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert!(t.accepts(Some(b"Bearer s3cret-token")));
        assert!(!t.accepts(Some(b"Bearer s3cret-toke")));
        assert!(!t.accepts(Some(b"Bearer s3cret-token2")));
        assert!(!t.accepts(Some(b"Basic s3cret-token")));
        assert!(!t.accepts(Some(b"s3cret-token")));
        assert!(!t.accepts(None));
    }

    #[test]
    fn refuses_missing_empty_and_unprintable_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.token");
        let e = Token::read(&missing).unwrap_err().to_string();
        assert!(e.contains("none.token"), "{e}");

        let empty = dir.path().join("empty.token");
        std::fs::write(&empty, " \n").unwrap();
        let e = Token::read(&empty).unwrap_err().to_string();
        assert!(e.contains("empty.token") && e.contains("empty"), "{e}");

        let odd = dir.path().join("odd.token");
        std::fs::write(&odd, "two words").unwrap();
        assert!(matches!(
            Token::read(&odd),
            Err(TokenError::Unprintable { .. })
        ));
    }
}
