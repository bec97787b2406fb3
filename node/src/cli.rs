//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// accord: share signed intelligence on people smuggling and trafficking with exactly the
/// agencies your agreements name.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// How the log on stderr is written: `text` (for people), or `json` (one object per line,
    /// for a log collector). `RUST_LOG` chooses what is logged (default: `info` for `accord
    /// run`, `warn` for the other commands).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate an agency key (ed25519) into a new file with mode 0600.
    Keygen {
        /// The key file to create; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// The agency key's rotation: sign the statement that hands over to a new key, attest a
    /// partner's whose previous key was lost, keep one (docs/operations.md §2).
    Key {
        /// What to do.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Delegated keys for liaison officers: issue a certificate, revoke one.
    Delegate {
        /// What to do.
        #[command(subcommand)]
        command: DelegateCommand,
    },
    /// Two-person release: the drafts held for releasers' approval, approving or declining
    /// one, enrolling a releaser's key (docs/workflows.md). Works on the store, or through the
    /// running node.
    Approvals {
        /// The node's configuration.
        #[arg(
            long,
            env = "ACCORD_CONFIG",
            default_value = "node.toml",
            global = true
        )]
        config: PathBuf,
        /// List declined and released drafts too, not only those waiting.
        #[arg(long)]
        all: bool,
        /// What to do (default: list the drafts waiting).
        #[command(subcommand)]
        command: Option<ApprovalsCommand>,
    },
    /// People's accounts of the web console: add, new password, disable, enable, list
    /// (docs/console.md). Works on the store, or through the running node.
    User {
        /// What to do.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Agreements: write one from the model MoU, check one.
    Agreement {
        /// What to do.
        #[command(subcommand)]
        command: AgreementCommand,
    },
    /// Work with the node's configuration.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Sign and verify records as files, without a node.
    Record {
        /// What to do.
        #[command(subcommand)]
        command: RecordCommand,
    },
    /// Create a new node directory: agency key, API token, configuration skeleton, data dir.
    Init {
        /// The agency this node is for, e.g. `TR-JGK`.
        #[arg(long)]
        agency: String,
        /// The directory to create (it must not exist, or be empty).
        #[arg(long)]
        dir: PathBuf,
        /// The libp2p address to listen on.
        #[arg(long, default_value = "/ip4/0.0.0.0/tcp/7400")]
        listen: String,
        /// The local API's address.
        #[arg(long, default_value = "127.0.0.1:7480")]
        api: String,
        /// The storage engine of the node's store: `sled` or `fjall` (docs/operations.md,
        /// "Storage engines"). Chosen once: the store keeps it.
        #[arg(long = "store-engine", default_value = "sled", value_parser = parse_engine)]
        store_engine: accord_config::StoreEngine,
    },
    /// Publish a record: validate, check the agreement's policy, number, sign, store, flush;
    /// print its id.
    Publish {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The record as a person writes it (JSON, without `v`, `seq` or signature); see
        /// docs/records.md.
        record: PathBuf,
    },
    /// Take in records signed outside the node — a liaison officer's, signed with a delegated
    /// key (`accord record sign --certificate`): each is verified, checked against the
    /// agreement's policy and stored like a record from a peer; members then pull it.
    Import {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// Signed record files (`accord record sign` output).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Find records in the store.
    Query(QueryArgs),
    /// Show one record (by id or unique id prefix), with its status.
    Show {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The record id, or a unique prefix of at least 6 hex digits.
        id: String,
    },
    /// Rebuild every index of the store (subjects, person names, words, categories, routes,
    /// created times, references) from the records held; the node must be stopped. Needed
    /// once for a store written by an accord before search (docs/search.md, "Reindexing").
    Reindex {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
    /// Copy a stopped node's store, every entry as it is, into a new data directory on the
    /// storage engine given, and check the copy entry by entry (docs/operations.md, "Storage
    /// engines"). The store itself is not changed.
    CopyStore {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The new data directory (it must not exist, or be empty).
        #[arg(long)]
        to: PathBuf,
        /// The engine of the copy: `sled` or `fjall`.
        #[arg(long = "store-engine", value_parser = parse_engine)]
        store_engine: accord_config::StoreEngine,
    },
    /// Withdraw one of this agency's records: publishes a signed withdrawal record.
    Withdraw {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The record id, or a unique prefix.
        id: String,
        /// Why it is withdrawn; becomes the withdrawal record's summary.
        #[arg(long)]
        reason: String,
    },
    /// Export the records of one agreement, with its keys and agreement file, as a bundle that
    /// `accord verify` checks offline.
    Export {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The agreement whose records to export.
        #[arg(long)]
        agreement: String,
        /// The bundle file to write (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a bundle offline: signatures, ids, gap-free sequences, each record permitted by
    /// the bundled agreement. Non-zero exit on any failure.
    Verify {
        /// The bundle written by `accord export`.
        bundle: PathBuf,
    },
    /// Run the examples/quad federation (five agencies, two agreements) in one process on
    /// loopback: publish samples, wait for delivery, show who holds what; exit 0 if every
    /// record reached exactly its agreement's members.
    Demo,
    /// Run the node: connect to the agreements' members, deliver and receive records, serve
    /// the local API. Stops cleanly on Ctrl-C or SIGTERM.
    Run {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
    /// The running node's state: partners, agreements in effect (or why not), outboxes,
    /// catch-up, and every alarm (audit forks, equivocations, agreement texts that differ,
    /// peers refused, clock skew).
    Status {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The status as JSON (as `GET /v1/status` gives it).
        #[arg(long)]
        json: bool,
    },
    /// The signed audit log: export it for auditors, verify an export offline, sign the head.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Send a request for information to a member's focal point under an agreement.
    Request(crate::commands::requests::RequestArgs),
    /// Answer a request for information addressed to this agency.
    Respond(crate::commands::requests::RespondArgs),
    /// List requests for information sent and received: open or answered, and their ages.
    Requests(crate::commands::requests::RequestsArgs),
    /// Hit / no-hit: whether partners hold a phone, account, document, vessel or person,
    /// without either side disclosing its selectors (docs/matching.md).
    Match(crate::commands::matching::MatchArgs),
    /// Victims' return cases: open one, or record its next status.
    Return {
        /// What to do.
        #[command(subcommand)]
        command: crate::commands::returns::ReturnCommand,
    },
    /// List return cases: state and time in it, never the victim's identifying data.
    Returns(crate::commands::returns::ReturnsArgs),
    /// Reports over the records this node holds.
    Report {
        /// Which report.
        #[command(subcommand)]
        command: crate::commands::report::ReportCommand,
    },
    /// Remove records past their agreement's retention, leaving a tombstone for each.
    Purge {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// List what would be purged without removing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `accord query`
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The node's configuration.
    #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
    pub config: PathBuf,
    /// Only records under this agreement.
    #[arg(long)]
    pub agreement: Option<String>,
    /// Only records with this subject: `KIND:VALUE` (person, person-born, org, vessel, imo,
    /// mmsi, vehicle, phone, account, document) or a bare value searched under every kind.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only records of this category.
    #[arg(long)]
    pub category: Option<String>,
    /// Only records with a route leg in this country (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub country: Option<String>,
    /// Only records with a route leg in this role (source, transit, destination); with
    /// --country, a leg in that country in that role.
    #[arg(long)]
    pub role: Option<String>,
    /// Only records created at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ).
    #[arg(long)]
    pub since: Option<String>,
    /// Find a person by name, however a partner spelled it: other scripts, vowels, order of
    /// given and family names, compounds written apart (docs/search.md). Hits are ranked by
    /// score, each with the reasons it matched.
    #[arg(long, value_name = "NAME")]
    pub person: Option<String>,
    /// With --person: the date of birth, YYYY, YYYY-MM or YYYY-MM-DD; a recorded date that
    /// disagrees rules a name out, one that agrees ranks it higher.
    #[arg(long, value_name = "DATE")]
    pub born: Option<String>,
    /// With --person: show weaker matches too (score 60 and up instead of 80), and look at
    /// every record sharing one part of the name.
    #[arg(long)]
    pub fuzzy: bool,
    /// Find a phone number, written internationally (+92 301 2345678, 0092…) or nationally
    /// with --phone-country.
    #[arg(long, value_name = "NUMBER")]
    pub phone: Option<String>,
    /// The country of a nationally written --phone (ISO 3166-1 alpha-2, e.g. PK).
    #[arg(long, value_name = "CC")]
    pub phone_country: Option<String>,
    /// Find an account: an IBAN (checksum verified; spaces ignored) or another account number.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Find a travel document by number (spacing ignored, the letter O read as 0).
    #[arg(long, value_name = "NUMBER")]
    pub document: Option<String>,
    /// With --document: the issuing country (ISO 3166-1 alpha-2).
    #[arg(long, value_name = "CC")]
    pub issuer: Option<String>,
    /// Find a vessel by IMO number (check digit verified), MMSI, or words of its name.
    #[arg(long, value_name = "IMO|MMSI|NAME")]
    pub vessel: Option<String>,
    /// Find records by words of their summary and of subjects' names and descriptions (the
    /// last word may be the start of a word).
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Records per page, 1 to 1000 (default 100); the command names the next page's cursor.
    /// For a search: the most hits shown.
    #[arg(long, conflicts_with = "all")]
    pub limit: Option<String>,
    /// The cursor a previous page named (`next page: add --cursor …`).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Every page, one after another (each at most 1000 records).
    #[arg(long)]
    pub all: bool,
}

/// Which page of a list a command prints (docs/api.md, "Pages").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PageArgs {
    /// Items per page, 1 to 1000 (default 100); the command names the next page's cursor.
    #[arg(long)]
    pub limit: Option<String>,
    /// The cursor a previous page named (`next page: add --cursor …`).
    #[arg(long)]
    pub cursor: Option<String>,
}

/// `accord agreement …`
#[derive(Debug, Subcommand)]
pub enum AgreementCommand {
    /// Write a commented agreement from the model MoU (docs/model-mou.md).
    New {
        /// `bilateral` (two members) or `multilateral` (three or more).
        #[arg(long)]
        template: String,
        /// The file to write (never overwritten); default: print it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check one agreement file on its own: every problem with its position, or a summary and
    /// its SHA-256; values still marked REPLACE are refused.
    Check {
        /// The agreement file.
        file: PathBuf,
    },
    /// Sign an agreement file's exact bytes with this agency's key: the signature is added to
    /// FILE.sigs. The agreement takes effect once every member has signed; nodes exchange
    /// members' signatures when they connect.
    Sign {
        /// The agreement file.
        file: PathBuf,
        /// The node's configuration (its agency and key file).
        #[arg(long, conflicts_with_all = ["key", "agency"], required_unless_present_all = ["key", "agency"])]
        config: Option<PathBuf>,
        /// The agency key file (with --agency, instead of --config).
        #[arg(long, requires = "agency")]
        key: Option<PathBuf>,
        /// The agency signing (with --key).
        #[arg(long, requires = "key")]
        agency: Option<String>,
    },
}

/// `accord user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from the terminal (twice), or from the first
    /// line of standard input with --password-stdin.
    Add {
        /// The name the person logs in with (lower-case letters, digits, '.', '_', '-').
        name: String,
        /// analyst, focal-point, returns-officer, admin or auditor.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
    /// Give an account a new password.
    Passwd {
        /// The account.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
    /// Disable an account: it cannot log in, and its sessions end at once.
    Disable {
        /// The account.
        name: String,
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account.
        name: String,
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
    /// List the accounts, their roles and whether disabled.
    List {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
}

/// `accord key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Sign a rotation statement from the current agency key to a new one, keep it in the
    /// store and write it for the partners. Run with the node stopped, then put the new key
    /// in place. Records and certificates dated from `--since` on are the new key's.
    Rotate {
        /// The node's configuration (its key file holds the current key).
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The new key file (from `accord keygen`).
        #[arg(long)]
        new: PathBuf,
        /// From when the new key signs (default: the next second), `YYYY-MM-DDTHH:MM:SSZ`.
        #[arg(long)]
        since: Option<String>,
        /// The previous key was lost: its public key, `ed25519:<hex>`. The statement is then
        /// signed by the new key alone and needs every other member's attestation.
        #[arg(long)]
        previous_lost: Option<String>,
        /// The rotation file to write (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Add this agency's attestation to a partner's rotation whose previous key was lost. The
    /// node must already list the partner's new key (from the trusted channel).
    Attest {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The rotation file; the attestation is added to it.
        file: PathBuf,
    },
    /// Keep a partner's (or this agency's attested) rotation statement, so that bundles this
    /// node exports carry it.
    Accept {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The rotation file.
        file: PathBuf,
    },
}

/// `accord delegate …`
#[derive(Debug, Subcommand)]
pub enum DelegateCommand {
    /// Issue a delegation certificate to a liaison officer's key, signed with the agency key:
    /// records that key signs count as the agency's within the agreements, categories and
    /// period given, and nowhere else (docs/protocol.md §10).
    Issue {
        /// The node's configuration (agency, key file, agreements).
        #[arg(long)]
        config: PathBuf,
        /// The officer's public key, `ed25519:<hex>` (from `accord keygen` on their device).
        #[arg(long)]
        delegate_key: String,
        /// Who holds the key: name and post.
        #[arg(long)]
        holder: String,
        /// The country the officer is posted to (ISO 3166-1 alpha-2).
        #[arg(long)]
        host_country: String,
        /// An agreement the key may sign under (repeat for several); the agency must be party
        /// to each.
        #[arg(long = "agreement", required = true)]
        agreements: Vec<String>,
        /// A record category the key may sign (repeat); each must be permitted by every
        /// agreement named.
        #[arg(long = "category", required = true)]
        categories: Vec<String>,
        /// First moment covered (default: now), `YYYY-MM-DDTHH:MM:SSZ`.
        #[arg(long)]
        from: Option<String>,
        /// Last moment covered, `YYYY-MM-DDTHH:MM:SSZ`; within every agreement's validity.
        #[arg(long)]
        until: String,
        /// `officer` (the key signs records; the default) or `releaser` (the key approves the
        /// release of sensitive records, `accord approvals`; docs/workflows.md).
        #[arg(long)]
        role: Option<String>,
        /// A handling code a releaser may release (repeat; a releaser's at least one).
        #[arg(long = "handling")]
        handling: Vec<String>,
        /// The certificate file to write (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// List the certificates this agency issued, with their scope, validity and whether (and
    /// from when) they are revoked.
    List {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// Which page.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Revoke a certificate: records its key signs from `--from` on are refused everywhere.
    /// The revocation is written to `--out` and kept by this agency's node (directly, or
    /// through its API while it runs), which passes it to the members.
    Revoke {
        /// The certificate file.
        certificate: PathBuf,
        /// The node's configuration (agency and key file).
        #[arg(long)]
        config: PathBuf,
        /// From when the key is no longer trusted (default: now).
        #[arg(long)]
        from: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        /// The revocation file to write (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

/// `accord approvals …`
#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Approve a held draft as an enrolled releaser; the last approval needed publishes it.
    Approve {
        /// The held draft's id (16 hex digits, from the list).
        id: String,
        /// The releaser approving: the name they were enrolled under (their console account).
        #[arg(long = "as")]
        releaser: String,
        /// Read the releaser's console password from the first line of standard input
        /// (otherwise it is asked for at the terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Decline a held draft as an enrolled releaser: it is kept, marked declined, and never
    /// leaves the node.
    Decline {
        /// The held draft's id.
        id: String,
        /// The releaser declining.
        #[arg(long = "as")]
        releaser: String,
        /// Why: the author reads it.
        #[arg(long)]
        reason: String,
        /// Read the releaser's console password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Enrol a releaser's key with the node: their releaser certificate (from `accord delegate
    /// issue --role releaser`) and their key file, under the name of their console account.
    Enrol {
        /// The releaser's name: their console account's.
        #[arg(long)]
        name: String,
        /// Their key file (from `accord keygen`), kept where the node reads it.
        #[arg(long)]
        key: PathBuf,
        /// Their certificate file.
        #[arg(long)]
        certificate: PathBuf,
    },
    /// The releasers enrolled.
    Releasers,
}

/// `accord config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a node configuration and every agreement it names; print a summary or every
    /// problem with its file:line:col.
    Check {
        /// The node's configuration file (TOML).
        file: PathBuf,
    },
}

/// `accord record …`
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Sign a complete record (JSON, with its seq) with an agency key and write the signed
    /// envelope file.
    Sign {
        /// The record, as JSON (any layout; it is signed in canonical form).
        record: PathBuf,
        /// The agency secret key file, or a liaison officer's key with --certificate.
        #[arg(long)]
        key: PathBuf,
        /// The delegation certificate of the key (`accord delegate issue`): the record is
        /// signed as the certificate's agency, in the key's own seq stream (docs/protocol.md
        /// §10); a node of that agency takes it in with `accord import`.
        #[arg(long)]
        certificate: Option<PathBuf>,
        /// Where to write the signed record; default: the record's path with `.signed.json`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a signed record file: layout, canonical bytes, originator's key, strict
    /// signature, and any releasers' approvals it carries. Prints the record (and who approved
    /// its release) and exits non-zero if anything fails.
    Verify {
        /// The signed record file written by `accord record sign`.
        signed: PathBuf,
        /// A node configuration whose known agencies (and own key) provide the keys.
        #[arg(long, required_unless_present = "public_key")]
        config: Option<PathBuf>,
        /// The originator's public key (`ed25519:` and 64 hex digits), instead of --config.
        #[arg(long, conflicts_with = "config")]
        public_key: Option<String>,
        /// Print the verified record as canonical JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
}

/// `accord audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Sign the log's head, then write the log, checkpoints, partners' checkpoints, receipts,
    /// keys and agreement files into a new directory for auditors (docs/auditing.md).
    Export {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
        /// The directory to write (created; refused when it exists and is not empty).
        #[arg(long)]
        out: PathBuf,
        /// Write a partner-only export instead, for checking this agency's log: only the
        /// checkpoints it signed that this node keeps, and the two keys — nothing of this
        /// node's own log or its other partners.
        #[arg(long, value_name = "AGENCY")]
        about: Option<String>,
    },
    /// Verify an audit export offline: every link of the chain, every checkpoint and receipt
    /// signature, every send allowed by its agreement. Non-zero exit on any failure.
    Verify {
        /// The directory written by `accord audit export`.
        dir: PathBuf,
        /// A partner's audit export: this node's checkpoints it holds must agree with the log.
        #[arg(long = "partner", value_name = "DIR")]
        partners: Vec<PathBuf>,
        /// A bundle this node exported (`accord export`): it must match its export entry and
        /// hold exactly what the log held under its agreement then.
        #[arg(long = "bundle", value_name = "FILE")]
        bundles: Vec<PathBuf>,
    },
    /// Sign the log's head now, keep the checkpoint and print it.
    Checkpoint {
        /// The node's configuration.
        #[arg(long, env = "ACCORD_CONFIG", default_value = "node.toml")]
        config: PathBuf,
    },
}

/// `--store-engine`: `sled` or `fjall`.
fn parse_engine(s: &str) -> Result<accord_config::StoreEngine, String> {
    s.parse()
        .map_err(|()| format!("unknown storage engine `{s}`: expected `sled` or `fjall`"))
}
