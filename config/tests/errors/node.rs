//! Problems of the node file's values: agency ids, keys, addresses, the API and console, the
//! store engine, duplicates.

use super::*;

#[test]
fn bad_agency_ids() {
    let errors = fed()
        .node("agency = \"TR-JGK\"", "agency = \"tr-jgk\"")
        .errors();
    check(
        with_key(&errors, "agency"),
        NODE_PATH,
        1,
        10,
        "invalid agency id `tr-jgk`",
    );
    // Without a valid own agency, the membership checks stay quiet rather than guess.
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .node("id = \"BG-GDBP\"", "id = \"XX-GDBP\"")
        .agreement("[focal_points.BG-GDBP]", "[focal_points.BG-gdbp]")
        .errors();
    check(
        with_key(&errors, "known_agency[0].id"),
        NODE_PATH,
        12,
        6,
        "invalid agency id `XX-GDBP`: the part before `-` is not an assigned",
    );
    check(
        with_key(&errors, "focal_points.BG-gdbp"),
        AGREEMENT_PATH,
        19,
        15,
        "invalid agency id `BG-gdbp`",
    );
    // With the focal point's key unreadable, BG-GDBP has none.
    check(
        with_key(&errors, "focal_points"),
        AGREEMENT_PATH,
        15,
        2,
        "no focal point for member `BG-GDBP`",
    );
    // The agreement's member BG-GDBP is no longer known: the known agency's id is wrong.
    check(
        with_key(&errors, "agreements[0]"),
        NODE_PATH,
        5,
        15,
        "member `BG-GDBP` of agreement `TR-BG-2026` is not among the known agencies",
    );
    assert_eq!(errors.len(), 4, "{errors}");
}

#[test]
fn bad_public_keys() {
    let bad = fed().node(
        "ed25519:47ce05a2fe41c41957b28f87c11964ec6375a631cd77f4a19b1d8bffe0c9fd59",
        "ed25519:zz",
    );
    let errors = bad.errors();
    check(
        with_key(&errors, "known_agency[0].public_key"),
        NODE_PATH,
        13,
        14,
        "invalid public key `ed25519:zz`: expected `ed25519:` followed by 64",
    );
    assert_eq!(errors.len(), 1, "{errors}");

    // The identity point is of small order: a weak key, refused; a non-canonical encoding
    // (y = p + 3) likewise. Each is named as written in the file, `ed25519:…`, not as raw hex.
    let weak = format!("ed25519:01{}", "00".repeat(31));
    let non_canonical = format!("ed25519:f0{}7f", "ff".repeat(30));
    for (key, why) in [
        (&weak, "a small-order (weak) key; such keys are refused"),
        (&non_canonical, "a non-canonical point encoding"),
    ] {
        let errors = fed()
            .node(
                "ed25519:47ce05a2fe41c41957b28f87c11964ec6375a631cd77f4a19b1d8bffe0c9fd59",
                key,
            )
            .errors();
        check(
            with_key(&errors, "known_agency[0].public_key"),
            NODE_PATH,
            13,
            14,
            &format!("invalid public key `{key}`: {why}"),
        );
        assert_eq!(errors.len(), 1, "{errors}");
    }
}

#[test]
fn duplicate_agencies_and_keys() {
    let extra = format!(
        "\n[[known_agency]]\nid = \"BG-GDBP\"\npublic_key = \"{GR_HCG_KEY}\"\n\n[[known_agency]]\nid = \"TR-JGK\"\npublic_key = \"{GR_HCG_KEY}\"\n"
    );
    let node = format!("{NODE}{extra}");
    let errors = fed().file(NODE_PATH, &node).errors();
    // Lines 15-17: a second BG-GDBP; lines 19-21: the node's own agency.
    let twice = with_key(&errors, "known_agency[1].id");
    check(twice, NODE_PATH, 17, 6, "agency `BG-GDBP` is listed twice");
    hint(twice, "also at known_agency[0]");
    check(
        with_key(&errors, "known_agency[2].id"),
        NODE_PATH,
        21,
        6,
        "`TR-JGK` is this node's own agency",
    );
    let key = with_key(&errors, "known_agency[2].public_key");
    check(
        key,
        NODE_PATH,
        22,
        14,
        &format!("public key `{GR_HCG_KEY}` is also the key of known_agency[1] (`BG-GDBP`)"),
    );
    assert_eq!(errors.len(), 3, "{errors}");
}

#[test]
fn duplicate_agreements() {
    let copy = AGREEMENT.replace("Test agreement", "Another text");
    let errors = fed()
        .file("fed/tr/../copy.toml", &copy)
        .node(
            "agreements = [\"../bil.toml\"]",
            "agreements = [\"../bil.toml\", \"../copy.toml\", \"../bil.toml\"]",
        )
        .errors();
    let id = with_key(&errors, "agreements[1]");
    check(
        id,
        NODE_PATH,
        5,
        30,
        "agreement id `TR-BG-2026` of `../copy.toml` is also the id of agreements[0]",
    );
    let file = with_key(&errors, "agreements[2]");
    check(
        file,
        NODE_PATH,
        5,
        46,
        "agreement file `../bil.toml` is listed twice",
    );
    assert_eq!(errors.len(), 2, "{errors}");
}

#[test]
fn bad_multiaddrs() {
    let errors = fed()
        .node("listen = [\"/ip4/127.0.0.1/tcp/7403\"]", "listen = [\"/ip4/127.0.0.1/tcp/7403\", \"127.0.0.1:7403\", \"/ip4/127.0.0.1/tcp/99999\"]")
        .node("addresses = [\"/ip4/127.0.0.1/tcp/7405\"]", "addresses = [\"/ipv4/127.0.0.1\"]")
        .errors();
    let e = with_key(&errors, "listen[1]");
    check(e, NODE_PATH, 4, 38, "invalid multiaddr `127.0.0.1:7403`");
    hint(e, "/ip4/127.0.0.1/tcp/7403");
    check(
        with_key(&errors, "listen[2]"),
        NODE_PATH,
        4,
        56,
        "invalid multiaddr `/ip4/127.0.0.1/tcp/99999`",
    );
    check(
        with_key(&errors, "known_agency[0].addresses[0]"),
        NODE_PATH,
        14,
        14,
        "invalid multiaddr `/ipv4/127.0.0.1`: unknown protocol string: ipv4",
    );
    assert_eq!(errors.len(), 3, "{errors}");

    // a host name would never be dialled (no DNS transport): refused, saying so
    let errors = fed()
        .node(
            "addresses = [\"/ip4/127.0.0.1/tcp/7405\"]",
            "addresses = [\"/dns4/node.example/tcp/7405\"]",
        )
        .errors();
    let e = with_key(&errors, "known_agency[0].addresses[0]");
    check(
        e,
        NODE_PATH,
        14,
        14,
        "invalid multiaddr `/dns4/node.example/tcp/7405`: host names are not resolved; give the partner's IP address",
    );
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .node("listen = [\"/ip4/127.0.0.1/tcp/7403\"]", "listen = []")
        .errors();
    check(
        with_key(&errors, "listen"),
        NODE_PATH,
        4,
        10,
        "no listen addresses",
    );
}

#[test]
fn an_api_beyond_loopback_is_refused_and_the_console_is_served_over_tls_only() {
    let errors = fed()
        .node("bind = \"127.0.0.1:7483\"", "bind = \"0.0.0.0:7483\"")
        .errors();
    let e = with_key(&errors, "api.bind");
    check(
        e,
        NODE_PATH,
        8,
        8,
        "beyond loopback in clear text on `0.0.0.0:7483`",
    );
    hint(e, "[console]");
    assert_eq!(errors.len(), 1, "{errors}");
    // [console] names its address and both TLS files
    let errors = fed()
        .node(
            "/tcp/7405\"]",
            "/tcp/7405\"]\n[console]\nbind = \"0.0.0.0:7443\"\ntls_cert = \"tls/cert.pem\"",
        )
        .errors();
    assert!(errors.to_string().contains("tls_key"), "{errors}");
    let cfg = fed()
        .node(
            "/tcp/7405\"]",
            "/tcp/7405\"]\n[console]\nbind = \"0.0.0.0:7443\"\ntls_cert = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"",
        )
        .load()
        .unwrap();
    let console = cfg.console.unwrap();
    assert_eq!(console.bind.to_string(), "0.0.0.0:7443");
    assert_eq!(console.tls_key, Path::new("fed/tr/tls/key.pem"));
}

#[test]
fn bad_socket_address() {
    let errors = fed()
        .node("bind = \"127.0.0.1:7483\"", "bind = \"127.0.0.1\"")
        .errors();
    let e = with_key(&errors, "api.bind");
    check(e, NODE_PATH, 8, 8, "invalid socket address `127.0.0.1`");
    hint(e, "\"127.0.0.1:7483\"");
    assert_eq!(errors.len(), 1, "{errors}");
}

#[test]
fn the_store_engine_is_sled_unless_the_node_file_names_another() {
    assert_eq!(fed().load().unwrap().store_engine, StoreEngine::Sled);
    let cfg = fed()
        .node(
            "data_dir = \"data\"",
            "data_dir = \"data\"\nstore_engine = \"fjall\"",
        )
        .load()
        .unwrap();
    assert_eq!(cfg.store_engine, StoreEngine::Fjall);

    let errors = fed()
        .node(
            "data_dir = \"data\"",
            "data_dir = \"data\"\nstore_engine = \"rocksdb\"",
        )
        .errors();
    let e = with_key(&errors, "store_engine");
    check(e, NODE_PATH, 4, 16, "unknown storage engine `rocksdb`");
    hint(e, "expected \"sled\" (the default) or \"fjall\"");
    assert_eq!(errors.len(), 1, "{errors}");

    let errors = fed()
        .node(
            "data_dir = \"data\"",
            "data_dir = \"data\"\nstore_engine = 2",
        )
        .errors();
    assert!(
        with_key(&errors, "store_engine")
            .to_string()
            .contains("sled"),
        "{errors}"
    );
}
