//! A small blocking client of the local API, for the CLI: when `accord run` holds the store,
//! `accord publish`, `accord query` and `accord show` ask the running node instead. It speaks
//! plain HTTP to the configured `[api] bind` address only (loopback when the node binds every
//! interface) and never goes through a proxy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use accord_config::NodeConfig;
use accord_protocol::RecordId;
use serde::Deserialize;
use thiserror::Error;

use super::auth::{Token, TokenError};
use super::view::{Filters, RecordView};
use crate::page::{MAX_LIMIT, Page, PageRequest};
use crate::store::Tombstone;

/// How long the client waits for a connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one call may take in all.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest answer read (a query of a large store).
pub(crate) const MAX_ANSWER_BYTES: u64 = 1 << 30;

/// Why a call to the API did not succeed.
#[derive(Debug, Error)]
pub(crate) enum ClientError {
    /// The token file cannot be used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The configured address cannot be dialled.
    #[error("the API address {addr} in {config} has port 0; give the port the node listens on")]
    NoPort {
        /// The address.
        addr: SocketAddr,
        /// The node file.
        config: PathBuf,
    },
    /// Nothing answered, or the connection broke.
    #[error("the node's API did not answer at http://{addr}: {reason}")]
    Unreachable {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The request was checked and refused (400, 404, 413, 422): the input's fault.
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The API's message.
        message: String,
    },
    /// The token was not accepted.
    #[error(
        "the node's API at http://{addr} did not accept the token in {token_file}: {message} (does the running node use the same token file?)"
    )]
    Unauthorized {
        /// The address.
        addr: SocketAddr,
        /// The token file used.
        token_file: PathBuf,
        /// The API's message.
        message: String,
    },
    /// The node failed (5xx or an unexpected status).
    #[error("the node's API at http://{addr} failed ({status}): {message}")]
    Failed {
        /// The address.
        addr: SocketAddr,
        /// The HTTP status.
        status: u16,
        /// The API's message.
        message: String,
    },
    /// The answer is not what the API sends.
    #[error("the node's API at http://{addr} sent an unreadable answer: {reason}")]
    BadAnswer {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// What `GET /v1/records/{id}` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The record.
    Found(Box<RecordView>),
    /// It was purged; its tombstone.
    Purged(Tombstone),
}

/// A client of one node's API.
#[derive(Debug)]
pub(crate) struct Client {
    agent: ureq::Agent,
    addr: SocketAddr,
    token: Token,
    token_file: PathBuf,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

#[derive(Deserialize)]
struct Created {
    id: RecordId,
}

#[derive(Deserialize)]
struct HeldAnswer {
    held: crate::release::Held,
}

#[derive(Deserialize)]
struct Gone {
    tombstone: Tombstone,
}

impl Client {
    /// A client of the API `cfg` configures, with its token.
    pub(crate) fn for_node(cfg: &NodeConfig) -> Result<Self, ClientError> {
        let bind = cfg.api.bind;
        if bind.port() == 0 {
            return Err(ClientError::NoPort {
                addr: bind,
                config: cfg.path.clone(),
            });
        }
        // a node that binds every interface is reached on loopback
        let ip = match bind.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Self::new(SocketAddr::new(ip, bind.port()), cfg.api.token_file.clone())
    }

    /// A client of the API at `addr`, with the token in `token_file`.
    pub(crate) fn new(addr: SocketAddr, token_file: PathBuf) -> Result<Self, ClientError> {
        let token = Token::read(&token_file)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(CALL_TIMEOUT))
            .build()
            .new_agent();
        Ok(Self {
            agent,
            addr,
            token,
            token_file,
        })
    }

    /// The address it calls.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.expose())
    }

    /// Reads an answer: its status and body.
    fn answer(
        &self,
        res: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut res = res.map_err(|e| ClientError::Unreachable {
            addr: self.addr,
            reason: e.to_string(),
        })?;
        let status = res.status().as_u16();
        let body = res
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| ClientError::Unreachable {
                addr: self.addr,
                reason: format!("the answer broke off: {e}"),
            })?;
        Ok((status, body))
    }

    /// The error a non-success answer stands for.
    fn failure(&self, status: u16, body: &[u8]) -> ClientError {
        let message = serde_json::from_slice::<ErrorBody>(body)
            .map(|b| b.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_owned());
        match status {
            400 | 404 | 413 | 422 => ClientError::Refused { status, message },
            401 => ClientError::Unauthorized {
                addr: self.addr,
                token_file: self.token_file.clone(),
                message,
            },
            _ => ClientError::Failed {
                addr: self.addr,
                status,
                message,
            },
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, body: &[u8]) -> Result<T, ClientError> {
        serde_json::from_slice(body).map_err(|e| ClientError::BadAnswer {
            addr: self.addr,
            reason: e.to_string(),
        })
    }

    /// `POST path` with `body` as JSON; the answer read as `T` when it succeeded (2xx).
    pub(crate) fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::BadAnswer {
            addr: self.addr,
            reason: format!("the request cannot be encoded: {e}"),
        })?;
        let res = self
            .agent
            .post(self.url(path))
            .header("Authorization", self.bearer())
            .content_type("application/json")
            .send(&bytes[..]);
        match self.answer(res)? {
            (200..=299, body) => self.decode(&body),
            (status, body) => Err(self.failure(status, &body)),
        }
    }

    /// `GET path?query`; the answer read as `T` when it succeeded (2xx).
    pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let res = self
            .agent
            .get(self.url(path))
            .header("Authorization", self.bearer())
            .query_pairs(query.iter().copied())
            .call();
        match self.answer(res)? {
            (200..=299, body) => self.decode(&body),
            (status, body) => Err(self.failure(status, &body)),
        }
    }

    /// `POST /v1/records`: publishes a draft (its JSON bytes): the new record's id, or the
    /// held draft when the agreement needs releasers' approval of it.
    pub(crate) fn publish(
        &self,
        draft: &[u8],
    ) -> Result<Result<RecordId, crate::release::Held>, ClientError> {
        let res = self
            .agent
            .post(self.url("/v1/records"))
            .header("Authorization", self.bearer())
            .content_type("application/json")
            .send(draft);
        match self.answer(res)? {
            (201, body) => Ok(Ok(self.decode::<Created>(&body)?.id)),
            (202, body) => Ok(Err(self.decode::<HeldAnswer>(&body)?.held)),
            (status, body) => Err(self.failure(status, &body)),
        }
    }

    /// `POST /v1/envelopes`: a signed record file's bytes; the record's id once held.
    pub(crate) fn import(&self, signed_file: &[u8]) -> Result<RecordId, ClientError> {
        let res = self
            .agent
            .post(self.url("/v1/envelopes"))
            .header("Authorization", self.bearer())
            .content_type("application/json")
            .send(signed_file);
        match self.answer(res)? {
            (201, body) => Ok(self.decode::<Created>(&body)?.id),
            (status, body) => Err(self.failure(status, &body)),
        }
    }

    /// `POST /v1/revocations`: a revocation line; whether it was new to the node.
    pub(crate) fn revoke(&self, line: &str) -> Result<bool, ClientError> {
        let res = self
            .agent
            .post(self.url("/v1/revocations"))
            .header("Authorization", self.bearer())
            .content_type("text/plain")
            .send(line.as_bytes());
        match self.answer(res)? {
            (201, body) => Ok(self
                .decode::<serde_json::Value>(&body)?
                .get("new")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)),
            (status, body) => Err(self.failure(status, &body)),
        }
    }

    /// `POST /v1/audit/checkpoint`: the running node signs its audit log's head; returns the
    /// signed checkpoint.
    pub(crate) fn checkpoint(&self) -> Result<accord_protocol::audit::Signed, ClientError> {
        let res = self
            .agent
            .post(self.url("/v1/audit/checkpoint"))
            .header("Authorization", self.bearer())
            .send_empty();
        match self.answer(res)? {
            (201, body) => {
                let v: serde_json::Value = self.decode(&body)?;
                let line = v
                    .get("line")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                accord_protocol::audit::Signed::from_line(line).map_err(|e| {
                    ClientError::BadAnswer {
                        addr: self.addr,
                        reason: format!("not a signed checkpoint: {e}"),
                    }
                })
            }
            (status, body) => Err(self.failure(status, &body)),
        }
    }

    /// `GET /v1/records?…`: a page of the records matching the filters.
    pub(crate) fn query(
        &self,
        filters: &Filters,
        page: &PageRequest,
    ) -> Result<Page<RecordView>, ClientError> {
        let mut pairs: Vec<(&str, &str)> = filters.pairs();
        let page_pairs = page.pairs();
        pairs.extend(page_pairs.iter().map(|(k, v)| (*k, v.as_str())));
        self.get_json("/v1/records", &pairs)
    }

    /// `GET /v1/search?…`: the records a search finds, best first.
    pub(crate) fn search(
        &self,
        text: &crate::search::SearchText,
        filters: &Filters,
        limit: usize,
    ) -> Result<crate::api::view::SearchPage, ClientError> {
        let terms = text.pairs();
        let limit = limit.to_string();
        let mut pairs: Vec<(&str, &str)> = filters.pairs();
        pairs.extend(terms.iter().map(|(k, v)| (*k, v.as_str())));
        pairs.push(("limit", limit.as_str()));
        self.get_json("/v1/search", &pairs)
    }

    /// Every record matching the filters, a page of [`MAX_LIMIT`] at a time.
    pub(crate) fn query_all(&self, filters: &Filters) -> Result<Vec<RecordView>, ClientError> {
        let mut req = PageRequest {
            limit: MAX_LIMIT,
            cursor: None,
        };
        let mut out = Vec::new();
        loop {
            let page = self.query(filters, &req)?;
            out.extend(page.items);
            match page.next {
                Some(next) => req.cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// `GET /v1/records/{id}`: one record by id or unique prefix, or its tombstone.
    pub(crate) fn record(&self, id: &str) -> Result<Lookup, ClientError> {
        let res = self
            .agent
            .get(self.url(&format!("/v1/records/{}", path_segment(id))))
            .header("Authorization", self.bearer())
            .call();
        match self.answer(res)? {
            (200, body) => Ok(Lookup::Found(Box::new(self.decode(&body)?))),
            (410, body) => Ok(Lookup::Purged(self.decode::<Gone>(&body)?.tombstone)),
            (status, body) => Err(self.failure(status, &body)),
        }
    }
}

/// `text` percent-encoded as one path segment.
pub(crate) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("abc123"), "abc123");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(path_segment("é"), "%C3%A9");
    }
}
