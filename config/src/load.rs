//! Loading: a node file and the agreement files it lists, read through a reader the caller
//! passes in (only the node crate does I/O), checked as a whole.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use accord_protocol::AgreementId;
use accord_protocol::agreement::{SignatureLine, parse_signature_file};
use sha2::{Digest, Sha256};

use crate::agreement::Agreement;
use crate::error::{ConfigError, ConfigErrors};
use crate::node::NodeConfig;
use crate::raw::{AGREEMENT_KEYS, NODE_KEYS, RawAgreement, RawNode};
use crate::source::{Diag, Source};
use crate::validate::{self, CheckedAgreement, CheckedNode};
use crate::walk::Sp;

/// Reads a file's bytes; `std::fs::read` in the node, a map of texts in tests.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> io::Result<Vec<u8>>;

/// Parses one agreement file on its own (as an auditor's verifier does with the file in a
/// bundle). `path` names the file in messages and in [`Agreement::path`]; the hash is taken
/// over `bytes` exactly.
pub fn parse_agreement(path: &Path, bytes: &[u8]) -> Result<Agreement, ConfigErrors> {
    let (checked, errors) = check_agreement(path, bytes);
    finish(checked.and_then(|c| c.agreement), errors)
}

/// Loads the node file at `path` and every agreement file it lists, reading each through
/// `read`; relative paths in the node file are resolved against its directory. Returns every
/// problem in every file at once, node file first, then the agreement files in the order the
/// node file lists them.
pub fn load_node(path: &Path, read: ReadFile<'_>) -> Result<NodeConfig, ConfigErrors> {
    let bytes = read(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: path.to_owned(),
            line: 0,
            col: 0,
            key: String::new(),
            message: format!("cannot read node file: {e}"),
            hint: None,
        }])
    })?;
    let source = Source::decode(path, &bytes).map_err(|e| ConfigErrors(vec![e]))?;
    let doc = source.parse().map_err(|e| ConfigErrors(vec![e]))?;
    let mut diag = Diag::new(&source);
    if let Some((offset, found)) = agreement_keys(&doc) {
        // An agreement file given where a node file belongs: one problem that says so, not
        // every agreement key as unknown and every node key as missing.
        diag.error(
            offset,
            "",
            format!(
                "this is an agreement file, not a node file (it has {found} and none of the \
                 node file's keys)"
            ),
            Some(
                "check an agreement file on its own with `accord agreement check FILE`; \
                 `accord config check` takes a node's file (agency, key_file, data_dir, listen, \
                 agreements, …) and checks the agreement files it lists"
                    .into(),
            ),
        );
        return Err(ConfigErrors(diag.finish()));
    }
    let raw = RawNode::read(&doc, &mut diag);
    let base = path.parent().unwrap_or(Path::new(""));
    let node = validate::node(&raw, &mut diag, base);

    let mut agreements = BTreeMap::new();
    let mut agreement_errors = Vec::new();
    let mut complete = true;
    let mut listed = Listed::default();
    for (i, entry) in raw
        .agreements
        .iter()
        .flat_map(|list| list.value.iter().enumerate())
    {
        let Some(file) = validate::path(&mut diag, entry, base) else {
            complete = false;
            continue;
        };
        if let Some(first) = listed.files.get(&file) {
            entry.error(
                &mut diag,
                format!("agreement file `{}` is listed twice", entry.value),
                Some(format!("also at agreements[{first}]")),
            );
            complete = false;
            continue;
        }
        listed.files.insert(file.clone(), i);
        let bytes = match read(&file) {
            Ok(bytes) => bytes,
            Err(e) => {
                entry.error(
                    &mut diag,
                    format!("cannot read agreement file `{}`: {e}", file.display()),
                    None,
                );
                complete = false;
                continue;
            }
        };
        let (checked, errors) = check_agreement(&file, &bytes);
        complete &= errors.is_empty();
        agreement_errors.extend(errors);
        let Some(checked) = checked else { continue };
        complete &= cross_check(&mut diag, entry, i, &checked, &node, &mut listed);
        if let Some(mut agreement) = checked.agreement {
            match signature_lines(&agreement, read) {
                Ok(lines) => agreement.signature_lines = lines,
                Err(errors) => {
                    complete = false;
                    agreement_errors.extend(errors);
                }
            }
            agreements.insert(agreement.id.clone(), agreement);
        }
    }

    let mut errors = diag.finish();
    errors.extend(agreement_errors);
    let config = (|| {
        complete.then_some(())?;
        Some(NodeConfig {
            agency: node.agency?,
            key_file: node.key_file?,
            data_dir: node.data_dir?,
            store_engine: node.store_engine?,
            listen: node.listen?,
            agencies: node.agencies?,
            agreements,
            api: node.api?,
            notify: node.notify.clone(),
            console: node.console.clone(),
            path: path.to_owned(),
        })
    })();
    finish(config, errors)
}

/// When a file meant as a node file has none of a node file's top-level keys but some that
/// only an agreement file has: where the first of them is written, and them named.
fn agreement_keys(doc: &toml::Spanned<toml::de::DeTable<'_>>) -> Option<(usize, String)> {
    let mut keys: Vec<(usize, &str)> = Vec::new();
    for (name, _) in doc.get_ref().iter() {
        let word: &str = name.get_ref();
        if NODE_KEYS.contains(&word) {
            return None;
        }
        // `id` and `title` could be anything's
        if AGREEMENT_KEYS.contains(&word) && word != "id" && word != "title" {
            keys.push((name.span().start, word));
        }
    }
    keys.sort();
    let (first, _) = *keys.first()?;
    let names = keys
        .iter()
        .take(3)
        .map(|(_, k)| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some((first, names))
}

/// The agreements listed so far: file to index, id to index.
#[derive(Debug, Default)]
struct Listed {
    files: BTreeMap<PathBuf, usize>,
    ids: BTreeMap<AgreementId, usize>,
}

/// Checks an agreement against the node file that lists it; reports at the listing entry.
/// Returns whether all is well.
fn cross_check(
    diag: &mut Diag<'_>,
    entry: &Sp<String>,
    index: usize,
    agreement: &CheckedAgreement,
    node: &CheckedNode,
    listed: &mut Listed,
) -> bool {
    let mut ok = true;
    let Some(id) = &agreement.id else { return ok };
    if let Some(first) = listed.ids.get(id) {
        entry.error(
            diag,
            format!(
                "agreement id `{id}` of `{}` is also the id of agreements[{first}]",
                entry.value
            ),
            Some("each agreement is listed once; two files with one id disagree about it".into()),
        );
        ok = false;
    } else {
        listed.ids.insert(id.clone(), index);
    }
    let Some(members) = &agreement.members else {
        return ok;
    };
    if let Some(own) = &node.agency
        && !members.contains(own)
    {
        let names = members
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        entry.error(
            diag,
            format!(
                "this node's agency `{own}` is not a member of agreement `{id}` (members: {names})"
            ),
            Some("list only agreements the agency is party to, or check `agency`".into()),
        );
        ok = false;
    }
    // Without a valid own agency there is no telling which member is this node; its own
    // problem is reported already.
    let Some(own) = &node.agency else { return ok };
    for member in members {
        if member == own || node.known_ids.contains_key(member) {
            continue;
        }
        entry.error(
            diag,
            format!("member `{member}` of agreement `{id}` is not among the known agencies"),
            Some(format!(
                "add a [[known_agency]] with id = \"{member}\", its public_key and addresses"
            )),
        );
        ok = false;
    }
    ok
}

/// Reads the agreement's signature file, if there is one: every line parsed, every signer a
/// member and none twice. The signatures themselves are verified by the node.
fn signature_lines(
    agreement: &Agreement,
    read: ReadFile<'_>,
) -> Result<Vec<SignatureLine>, Vec<ConfigError>> {
    let path = agreement.signature_path();
    let at = |line: u32, message: String, hint: Option<String>| ConfigError {
        path: path.clone(),
        line: line as usize,
        col: usize::from(line > 0),
        key: String::new(),
        message,
        hint,
    };
    let bytes = match read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(vec![at(
                0,
                format!("cannot read signature file: {e}"),
                None,
            )]);
        }
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| vec![at(0, "the signature file is not UTF-8 text".into(), None)])?;
    let lines = parse_signature_file(&text).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                at(
                    e.line,
                    e.message,
                    Some("sign with `accord agreement sign FILE --config NODE.toml`".into()),
                )
            })
            .collect::<Vec<_>>()
    })?;
    let mut errors = Vec::new();
    let mut seen = BTreeMap::new();
    for l in &lines {
        if !agreement.is_member(&l.agency) {
            errors.push(at(
                l.line,
                format!(
                    "{} is not a member of agreement `{}` and cannot sign it",
                    l.agency, agreement.id
                ),
                Some("remove the line".into()),
            ));
        } else if let Some(first) = seen.insert(l.agency.clone(), l.line) {
            errors.push(at(
                l.line,
                format!(
                    "a second signature of {} (the first is on line {first})",
                    l.agency
                ),
                Some("keep one line per member".into()),
            ));
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(errors)
    }
}

/// Hashes, decodes, parses, reads and validates an agreement file. `None` when it is not
/// even TOML.
fn check_agreement(path: &Path, bytes: &[u8]) -> (Option<CheckedAgreement>, Vec<ConfigError>) {
    let hash: [u8; 32] = Sha256::digest(bytes).into();
    let source = match Source::decode(path, bytes) {
        Ok(source) => source,
        Err(e) => return (None, vec![e]),
    };
    let doc = match source.parse() {
        Ok(doc) => doc,
        Err(e) => return (None, vec![e]),
    };
    let mut diag = Diag::new(&source);
    let raw = RawAgreement::read(&doc, &mut diag);
    let checked = validate::agreement(raw, &mut diag, source.path(), hash);
    (Some(checked), diag.finish())
}

/// The value when there are no problems, else the problems.
fn finish<T>(value: Option<T>, mut errors: Vec<ConfigError>) -> Result<T, ConfigErrors> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        Some(_) => Err(ConfigErrors(errors)),
        None => {
            if errors.is_empty() {
                // Every path to `None` reports a problem first; this guards the invariant that
                // an error is never empty.
                errors.push(ConfigError {
                    path: PathBuf::new(),
                    line: 0,
                    col: 0,
                    key: String::new(),
                    message: "the configuration is incomplete".into(),
                    hint: None,
                });
            }
            Err(ConfigErrors(errors))
        }
    }
}
