// Sync heads and stream digests.
// Included by cases.rs (its fixtures are in scope): items only, no inner attributes.

#[test]
fn heads_advance_with_each_insert_as_a_fresh_scan_finds_them() {
    let dir = private_tempdir().unwrap();
    let k = keys();
    let store = open(dir.path()).unwrap();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let pk = StreamId::agency(&AgencyId::new("PK-FIA").unwrap());
    let gr = StreamId::agency(&AgencyId::new("GR-HCG").unwrap());
    let src = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let put = |originator: &str, seqs: &[u64]| {
        let recs: Vec<_> = seqs
            .iter()
            .map(|s| verified(&k, &record(originator, "QUAD-2026", *s, *s)))
            .collect();
        store.records().insert_batch(&recs, &src, now()).unwrap();
    };
    put("PK-FIA", &[1, 2]);
    assert_eq!(
        store.sync().heads(&quad).unwrap(),
        BTreeMap::from([(pk.clone(), 2)])
    );
    // a gap holds the head back; filling it moves it past everything held after the gap
    put("PK-FIA", &[4, 5]);
    put("GR-HCG", &[2]);
    let expected = BTreeMap::from([(pk.clone(), 2), (gr.clone(), 0)]);
    assert_eq!(store.sync().heads(&quad).unwrap(), expected);
    assert_eq!(seqs(store.scan_heads(&quad).unwrap()), expected);
    assert_eq!(
        store.sync().stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap(),
        "the digests advanced insert by insert are those of a fresh scan"
    );
    put("PK-FIA", &[3]);
    put("GR-HCG", &[1]);
    // an equivocating record takes no slot and moves nothing
    let mut other = record("PK-FIA", "QUAD-2026", 6, 99);
    other.summary = "a second record six".into();
    put("PK-FIA", &[6]);
    store
        .records().insert_batch(&[verified(&k, &other)], &src, now())
        .unwrap();
    let expected = BTreeMap::from([(pk.clone(), 6), (gr.clone(), 2)]);
    assert_eq!(store.sync().heads(&quad).unwrap(), expected);
    assert_eq!(seqs(store.scan_heads(&quad).unwrap()), expected);
    assert_eq!(
        store.sync().stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap(),
        "the digests advanced insert by insert are those of a fresh scan"
    );
    // our own publishing advances our stream too
    let tr = AgencyId::new("TR-JGK").unwrap();
    store
        .own().publish(&quad, &tr, now(), &[], |seq| {
            Ok::<_, ()>(verified(&k, &record("TR-JGK", "QUAD-2026", seq.get(), 500)))
        })
        .unwrap()
        .unwrap();
    assert_eq!(store.sync().heads(&quad).unwrap()[&StreamId::agency(&tr)], 1);
    assert_eq!(
        store.sync().stream_heads(&quad).unwrap(),
        store.scan_heads(&quad).unwrap()
    );
}

fn seqs(heads: BTreeMap<StreamId, crate::store::StreamHead>) -> BTreeMap<StreamId, u64> {
    heads.into_iter().map(|(s, h)| (s, h.seq)).collect()
}

#[test]
fn the_stream_digest_tells_two_holders_of_one_seq_apart() {
    let k = keys();
    let quad = AgreementId::new("QUAD-2026").unwrap();
    let pk = StreamId::agency(&AgencyId::new("PK-FIA").unwrap());
    let src = Source::Peer(AgencyId::new("PK-FIA").unwrap());
    let (a, b, c) = (
        private_tempdir().unwrap(),
        private_tempdir().unwrap(),
        private_tempdir().unwrap(),
    );
    let (sa, sb, sc) = (
        open(a.path()).unwrap(),
        open(b.path()).unwrap(),
        open(c.path()).unwrap(),
    );
    let one = verified(&k, &record("PK-FIA", "QUAD-2026", 1, 1));
    let two = verified(&k, &record("PK-FIA", "QUAD-2026", 2, 2));
    let mut forked = record("PK-FIA", "QUAD-2026", 2, 2);
    forked.summary = "another record two".into();
    let forked = verified(&k, &forked);
    let three = verified(&k, &record("PK-FIA", "QUAD-2026", 3, 3));
    let ids = [one.id, two.id, three.id];
    // a and b hold the same records, b in another order; c holds another record under seq 2
    sa.records().insert_batch(&[one.clone(), two.clone(), three.clone()], &src, now())
        .unwrap();
    sb.records().insert_batch(&[three.clone(), one.clone()], &src, now())
        .unwrap();
    sb.records().insert_batch(&[two], &src, now()).unwrap();
    sc.records().insert_batch(&[one.clone(), forked, three], &src, now())
        .unwrap();
    let (ha, hb, hc) = (
        sa.sync().stream_heads(&quad).unwrap()[&pk],
        sb.sync().stream_heads(&quad).unwrap()[&pk],
        sc.sync().stream_heads(&quad).unwrap()[&pk],
    );
    assert_eq!((ha.seq, hb.seq, hc.seq), (3, 3, 3));
    assert_eq!(ha.digest, hb.digest, "same records, same digest");
    assert_ne!(ha.digest, hc.digest, "one record differs under seq 2");
    // the digest is the documented fold over the ids
    let mut d = [0u8; 32];
    for id in &ids {
        d = accord_protocol::wire::stream_digest(&d, id);
    }
    assert_eq!(ha.digest, d);
    assert!(!sa.sync().has_equivocation(&quad, &pk).unwrap());
}
