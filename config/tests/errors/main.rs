//! One test per class of problem: each asserts the key path, the position, the message and,
//! where there is one, the hint. The files live in memory and are read through the loader's
//! reader, as the node reads them from disk.

#[path = "../common/mod.rs"]
mod common;

mod across;
mod agreement;
mod files;
mod node;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use accord_config::{
    ConfigError, ConfigErrors, NodeConfig, StoreEngine, load_node, parse_agreement,
};

const NODE_PATH: &str = "fed/tr/node.toml";
const AGREEMENT_PATH: &str = "fed/tr/../bil.toml";

/// A valid node file; the comments give each line's number.
const NODE: &str = r#"agency = "TR-JGK"
key_file = "agency.key"
data_dir = "data"
listen = ["/ip4/127.0.0.1/tcp/7403"]
agreements = ["../bil.toml"]

[api]
bind = "127.0.0.1:7483"
token_file = "api.token"

[[known_agency]]
id = "BG-GDBP"
public_key = "ed25519:47ce05a2fe41c41957b28f87c11964ec6375a631cd77f4a19b1d8bffe0c9fd59"
addresses = ["/ip4/127.0.0.1/tcp/7405"]
"#;

use common::AGREEMENT;

const GR_HCG_KEY: &str = "ed25519:3f3a34691fef451ed049567ba01b08c5a68df9fa0c526f97a0085ce664d82b04";

/// A federation in memory: file path to text.
#[derive(Clone)]
struct Fed(BTreeMap<PathBuf, Vec<u8>>);

fn fed() -> Fed {
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from(NODE_PATH), NODE.as_bytes().to_vec());
    files.insert(PathBuf::from(AGREEMENT_PATH), AGREEMENT.as_bytes().to_vec());
    Fed(files)
}

impl Fed {
    fn edit(mut self, path: &str, old: &str, new: &str) -> Self {
        let file = self
            .0
            .get_mut(Path::new(path))
            .unwrap_or_else(|| panic!("no file {path}"));
        let text = String::from_utf8_lossy(file).into_owned();
        assert_eq!(
            text.matches(old).count(),
            1,
            "`{old}` is not once in {path}"
        );
        *file = text.replacen(old, new, 1).into_bytes();
        self
    }

    fn node(self, old: &str, new: &str) -> Self {
        self.edit(NODE_PATH, old, new)
    }

    fn agreement(self, old: &str, new: &str) -> Self {
        self.edit(AGREEMENT_PATH, old, new)
    }

    fn file(mut self, path: &str, text: &str) -> Self {
        self.0.insert(PathBuf::from(path), text.as_bytes().to_vec());
        self
    }

    fn without(mut self, path: &str) -> Self {
        self.0.remove(Path::new(path));
        self
    }

    fn load(&self) -> Result<NodeConfig, ConfigErrors> {
        load_node(Path::new(NODE_PATH), &|path: &Path| {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file or directory"))
        })
    }

    fn errors(&self) -> ConfigErrors {
        match self.load() {
            Ok(_) => panic!("loaded without errors"),
            Err(errors) => {
                assert!(!errors.is_empty());
                errors
            }
        }
    }
}

/// The one problem with `key`; fails listing them all when there is not exactly one.
fn with_key<'a>(errors: &'a ConfigErrors, key: &str) -> &'a ConfigError {
    let found: Vec<_> = errors.iter().filter(|e| e.key == key).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one problem at `{key}`, got:\n{errors}"
    );
    found[0]
}

#[track_caller]
fn check(error: &ConfigError, path: &str, line: usize, col: usize, message: &str) {
    assert_eq!(error.path, Path::new(path), "{error}");
    assert_eq!((error.line, error.col), (line, col), "{error}");
    assert!(
        error.message.contains(message),
        "`{}` lacks `{message}`",
        error.message
    );
}

#[track_caller]
fn hint(error: &ConfigError, hint: &str) {
    let got = error.hint.as_deref().unwrap_or("");
    assert!(got.contains(hint), "hint `{got}` lacks `{hint}`");
}
