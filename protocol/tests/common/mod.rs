//! Records and keys shared by the protocol tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use accord_protocol::record::{
    DocumentAssessment, DocumentRef, Organisation, Person, Phone, RouteLeg, TravelDocument, Vessel,
};
use accord_protocol::{
    AgencyId, AgreementId, Category, Country, Date, DocumentKind, Grading, HandlingCode, LegRole,
    PartialDate, PersonRole, PublicKey, Record, SecretKey, Seq, Subject, Timestamp,
};

/// The text of docs/protocol.md.
pub(crate) fn protocol_page() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md")).unwrap()
}

/// The lines of every fenced block of docs/protocol.md opened with ```` ```tag ````, in page
/// order.
pub(crate) fn page_blocks(tag: &str) -> Vec<Vec<String>> {
    let page = protocol_page();
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in page.lines() {
        let trimmed = line.trim();
        if current.is_none() && trimmed.strip_prefix("```") == Some(tag) {
            current = Some(Vec::new());
        } else if trimmed == "```" {
            if let Some(block) = current.take() {
                out.push(block);
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line.to_owned());
        }
    }
    out
}

/// Every ```` ```vector ```` block of the page, as `key: value` maps keyed by their `vector`
/// line. Long hex values may be wrapped onto several lines with the same key; they are joined.
pub(crate) fn page_vectors() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for block in page_blocks("vector") {
        let mut v: BTreeMap<String, String> = BTreeMap::new();
        for line in block {
            let (k, val) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad vector line {line}"));
            v.entry(k.trim().to_owned())
                .and_modify(|e| e.push_str(val.trim()))
                .or_insert_with(|| val.trim().to_owned());
        }
        out.insert(v["vector"].clone(), v);
    }
    out
}

/// The RFC 8032 section 7.1 TEST 1 secret key, so implementers can check their key handling.
pub(crate) const VECTOR_SEED_HEX: &str =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

pub(crate) fn vector_key() -> SecretKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(VECTOR_SEED_HEX, &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

pub(crate) fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

pub(crate) fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

pub(crate) fn directory(entries: &[(&str, &SecretKey)]) -> BTreeMap<AgencyId, PublicKey> {
    entries
        .iter()
        .map(|(a, k)| (agency(a), k.public_key()))
        .collect()
}

/// The smallest valid record: no subjects, no route.
pub(crate) fn minimal_record() -> Record {
    Record {
        v: 1,
        originator: agency("TR-JGK"),
        agreement: AgreementId::new("QUAD-2026").unwrap(),
        seq: Seq::FIRST,
        category: Category::Alert,
        handling: HandlingCode::H1,
        handling_restriction: None,
        grading: Grading::parse("B2").unwrap(),
        created: Timestamp::parse("2026-11-28T09:30:00Z").unwrap(),
        expires: None,
        subjects: vec![],
        route: vec![],
        summary: "Boat departure expected from Çeşme within 48 hours.".into(),
        victim_data_purpose: None,
        corrects: None,
        withdraws: None,
        responds_to: None,
        addressed_to: None,
        return_status: None,
    }
}

/// A record using most of the model: subjects of several kinds, a route, H3 with its
/// restriction, non-ASCII and escaped text.
pub(crate) fn full_record() -> Record {
    let c = |s| Country::new(s).unwrap();
    Record {
        v: 1,
        originator: agency("PK-FIA"),
        agreement: AgreementId::new("QUAD-2026").unwrap(),
        seq: Seq::new(42).unwrap(),
        category: Category::SmugglingNetwork,
        handling: HandlingCode::H3,
        handling_restriction: Some(
            "Not to be shared with immigration authorities before 2027-01-01.".into(),
        ),
        grading: Grading::parse("A2").unwrap(),
        created: Timestamp::parse("2026-11-27T18:00:00Z").unwrap(),
        expires: Some(Timestamp::parse("2027-11-27T18:00:00Z").unwrap()),
        subjects: vec![
            Subject::Person(Person {
                role: PersonRole::Facilitator,
                local_ref: Some("P1".into()),
                name: Some("Example \"Doctor\" Khan".into()),
                aliases: vec!["Dr K".into()],
                date_of_birth: Some(PartialDate::parse("1981-04").unwrap()),
                place_of_birth: None,
                nationality: Some(c("PK")),
                documents: vec![DocumentRef {
                    kind: DocumentKind::Passport,
                    number: "AB1234567".into(),
                    issuing_country: c("PK"),
                }],
                description: None,
            }),
            Subject::Organisation(Organisation {
                name: "Example Travel Agency".into(),
                aliases: vec![],
                country: Some(c("IR")),
                description: Some("Front company; tickets\nand hotel bookings".into()),
            }),
            Subject::Vessel(Vessel {
                name: Some("Deniz Yıldızı".into()),
                imo: Some("9074729".into()),
                mmsi: None,
                flag: Some(c("TR")),
                description: None,
            }),
            Subject::Phone(Phone {
                number: "+923001234567".into(),
                description: None,
            }),
            Subject::TravelDocument(TravelDocument {
                kind: DocumentKind::Passport,
                number: "X0000001".into(),
                issuing_country: c("GR"),
                holder: None,
                assessment: Some(DocumentAssessment::Counterfeit),
            }),
        ],
        route: vec![
            RouteLeg {
                country: c("PK"),
                role: LegRole::Source,
                place: Some("Quetta".into()),
                from: None,
                until: None,
            },
            RouteLeg {
                country: c("IR"),
                role: LegRole::Transit,
                place: None,
                from: None,
                until: None,
            },
            RouteLeg {
                country: c("TR"),
                role: LegRole::Transit,
                place: Some("Van".into()),
                from: Some(Date::parse("2026-10-01").unwrap()),
                until: Some(Date::parse("2026-10-20").unwrap()),
            },
            RouteLeg {
                country: c("GR"),
                role: LegRole::Destination,
                place: Some("Lesvos".into()),
                from: None,
                until: None,
            },
        ],
        summary: "Network moving groups of 20–30 by road to Van, then by sea.".into(),
        victim_data_purpose: None,
        corrects: None,
        withdraws: None,
        responds_to: None,
        addressed_to: None,
        return_status: None,
    }
}

/// RFC 8032 section 7.1 TEST 2 secret key: the liaison officer's key in the delegation vector.
#[allow(dead_code)]
pub(crate) const OFFICER_SEED_HEX: &str =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

/// The liaison officer's key of the delegation vector.
#[allow(dead_code)]
pub(crate) fn officer_key() -> SecretKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(OFFICER_SEED_HEX, &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

/// The delegation of the vector: TR-JGK (TEST 1 key) delegates QUAD-2026 alerts and routes in
/// 2026 to its liaison officer in Athens (TEST 2 key).
#[allow(dead_code)]
pub(crate) fn vector_delegation() -> accord_protocol::delegation::Delegation {
    let t = |s: &str| Timestamp::parse(s).unwrap();
    accord_protocol::delegation::Delegation {
        v: 1,
        agency: agency("TR-JGK"),
        delegate: officer_key().public_key(),
        holder: "Liaison officer, Embassy of Türkiye in Athens".into(),
        host_country: accord_protocol::Country::new("GR").unwrap(),
        agreements: vec![AgreementId::new("QUAD-2026").unwrap()],
        categories: vec![Category::Alert, Category::Route],
        valid_from: t("2026-01-01T00:00:00Z"),
        valid_until: t("2026-12-31T23:59:59Z"),
        issued: t("2025-12-20T10:00:00Z"),
        role: accord_protocol::delegation::DelegateRole::Officer,
        handling: Vec::new(),
    }
}

/// RFC 8032 section 7.1 TEST 3 secret key: GR-HCG's agency key in the wire vectors (it signs
/// the receipt of the ack).
#[allow(dead_code)]
pub(crate) const RECEIVER_SEED_HEX: &str =
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7";

/// GR-HCG's key of the wire vectors.
#[allow(dead_code)]
pub(crate) fn receiver_key() -> SecretKey {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(RECEIVER_SEED_HEX, &mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

/// The messages of the wire vectors of docs/protocol.md §6, by kind name, built from the
/// vector keys and records: a push of the `minimal` record; an ack with one entry of each
/// status and a receipt signed by GR-HCG (the TEST 3 key); a sync status for the §8
/// agreement vector (its hash and TR-JGK's signature) with TR-JGK's stream held to seq 1 (the
/// `minimal` record, whose digest is `digest 1` of the stream-digest vector) and its liaison
/// officer's stream with nothing; a range request; a range response carrying the `minimal` record; a refusal.
#[allow(dead_code)]
pub(crate) fn wire_messages() -> Vec<(&'static str, accord_protocol::Message)> {
    use accord_protocol::StreamId;
    use accord_protocol::agreement::{agreement_hash, sign_agreement};
    use accord_protocol::audit::{Receipt, sign_receipt};
    use accord_protocol::wire::{
        Ack, AckEntry, AgreementStatus, Head, Push, RangeRequest, RangeResponse, Refusal,
        RejectCode, SyncStatus, stream_digest,
    };
    use accord_protocol::{Message, sign};

    let key = vector_key();
    let minimal = sign(&minimal_record(), &key).unwrap();
    let mut full = full_record();
    full.originator = agency("TR-JGK");
    let full = sign(&full, &key).unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let tr = agency("TR-JGK");
    let receipt = Receipt {
        record: minimal.id(),
        agreement: quad.clone(),
        receiver: agency("GR-HCG"),
        received_at: Timestamp::parse("2026-11-28T09:30:05Z").unwrap(),
    };
    let hash = agreement_hash(b"id = \"TR-BG-2026\"\n");
    vec![
        (
            "Push",
            Message::Push(Push {
                records: vec![minimal.clone()],
            }),
        ),
        (
            "Ack",
            Message::Ack(Ack {
                results: vec![
                    AckEntry::Stored(minimal.id()),
                    AckEntry::Duplicate(full.id()),
                    AckEntry::Rejected {
                        code: RejectCode::NotMember,
                        detail: "originator PK-FIA is not a member of QUAD-2026".into(),
                    },
                ],
                receipts: vec![sign_receipt(&receipt, &receiver_key()).unwrap()],
            }),
        ),
        (
            "SyncStatus",
            Message::SyncStatus(SyncStatus {
                agreements: vec![AgreementStatus {
                    agreement: AgreementId::new("TR-BG-2026").unwrap(),
                    agreement_hash: hash,
                    heads: vec![
                        Head {
                            stream: StreamId::agency(&tr),
                            seq: 1,
                            digest: stream_digest(&[0; 32], &minimal.id()),
                        },
                        Head::without_digest(
                            StreamId::delegated(&tr, &officer_key().public_key()),
                            0,
                        ),
                    ],
                    signatures: vec![(tr.clone(), sign_agreement(&key, &hash))],
                }],
                checkpoint: None,
                revocations: vec![],
            }),
        ),
        (
            "RangeRequest",
            Message::RangeRequest(RangeRequest {
                agreement: quad.clone(),
                stream: StreamId::agency(&tr),
                from: Seq::FIRST,
                to: Seq::new(42).unwrap(),
            }),
        ),
        (
            "RangeResponse",
            Message::RangeResponse(RangeResponse {
                agreement: quad,
                stream: StreamId::agency(&tr),
                records: vec![minimal],
                complete: false,
            }),
        ),
        (
            "Refused",
            Message::Refused(Refusal {
                code: RejectCode::Busy,
                detail: "busy: 4 pushes of yours are still being stored".into(),
            }),
        ),
    ]
    .into_iter()
    .chain(match_messages())
    .collect()
}

/// A deterministic stand-in for a random source, for vectors only: SHA-512 of a label and a
/// counter, so the example prints the same blinds and proof every time.
pub(crate) struct VectorRng {
    label: &'static [u8],
    counter: u64,
    buffer: Vec<u8>,
}

impl VectorRng {
    pub(crate) fn new(label: &'static [u8]) -> Self {
        Self {
            label,
            counter: 0,
            buffer: Vec::new(),
        }
    }
}

impl rand_core::RngCore for VectorRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_be_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_be_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use sha2::{Digest, Sha512};
        for byte in dest.iter_mut() {
            if self.buffer.is_empty() {
                let mut h = Sha512::new();
                h.update(self.label);
                h.update(self.counter.to_be_bytes());
                self.counter += 1;
                self.buffer = h.finalize().to_vec();
            }
            *byte = self.buffer.remove(0);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for VectorRng {}

/// The matching messages of the wire vectors (docs/protocol.md §6), over the vectors of
/// docs/matching.md: the key of seed `07…07` for QUAD-2026 in the 1-day epoch of 2026-12-07,
/// the set of two phone numbers signed with the agency key of seed `03…03`.
pub(crate) fn match_messages() -> Vec<(&'static str, accord_protocol::Message)> {
    use accord_protocol::Message;
    use accord_protocol::matching::{Epoch, Lookup, MatchKey, MatchSet, Selector, SelectorKind};
    use accord_protocol::wire::{LookupAnswer, LookupRequest, MatchSetRequest, SetChunk};

    let quad = AgreementId::new("QUAD-2026").unwrap();
    let epoch = Epoch::containing(Timestamp::parse("2026-12-07T10:00:00Z").unwrap(), 1).unwrap();
    let key = MatchKey::derive(&[7; 32], &quad, epoch).unwrap();
    let phone = |v: &str| Selector::new(SelectorKind::Phone, v).unwrap();
    let held = [phone("+923012345678"), phone("+66810000101")];
    let set = MatchSet::build(&key, &held).unwrap();
    let signature = set.sign(&accord_protocol::SecretKey::from_seed(&[3; 32]));
    let (_, blinded) =
        Lookup::blind(&mut VectorRng::new(b"blind"), &[phone("+923012345678")]).unwrap();
    let answer = key.answer(&mut VectorRng::new(b"proof"), &blinded).unwrap();
    vec![
        (
            "MatchSetRequest",
            Message::MatchSetRequest(MatchSetRequest {
                agreement: quad.clone(),
                epoch,
                from: 0,
            }),
        ),
        (
            "MatchSet",
            Message::MatchSet(SetChunk {
                agreement: quad.clone(),
                epoch,
                public_key: set.public_key,
                total: 2,
                from: 0,
                tags: set.tags().to_vec(),
                signature,
            }),
        ),
        (
            "Lookup",
            Message::Lookup(LookupRequest {
                agreement: quad.clone(),
                epoch,
                blinded,
            }),
        ),
        (
            "LookupAnswer",
            Message::LookupAnswer(LookupAnswer {
                agreement: quad,
                epoch,
                evaluated: answer.evaluated,
                proof: answer.proof,
            }),
        ),
    ]
}
