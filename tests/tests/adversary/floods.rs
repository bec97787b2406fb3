//! Floods: refused connections and cut-off requests are counted where operators look, and a
//! member sharing a flooder's address still connects.

use super::*;

/// A connection refused for an unknown key, and a request cut off mid-way, showed only at
/// DEBUG: now each is logged at WARN (at most once a minute per source, with the count) and
/// counted in the status and the metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_and_cut_off_requests_are_counted_where_operators_look() {
    let dir = quad_copy();
    let tr = TestNode::start(load(dir.path(), "tr-jgk")).await;
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let status = Message::SyncStatus(accord_protocol::wire::SyncStatus {
        agreements: vec![],
        checkpoint: None,
        revocations: vec![],
    });
    for seed in 0..3u8 {
        let mut stranger = RawPeer::new(&SecretKey::from_seed(&[100 + seed; 32]));
        assert!(matches!(
            stranger.send(peer_of(&tr), &addr, &status).await,
            RawOutcome::Failed(_)
        ));
    }
    // a member's request announcing 4 KiB and ending after 10 bytes
    let mut bg = RawPeer::new(&demo_key(dir.path(), "bg-gdbp"));
    let _ = bg
        .request_frame(
            peer_of(&tr),
            &addr,
            accord_testkit::RawFrame {
                declared: 4096,
                bytes: vec![7; 10],
                hold: false,
            },
        )
        .await;
    let mut events = [tr.handle.subscribe()];
    let mut refused = std::collections::BTreeMap::new();
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "the refusals to be counted",
        || {
            refused = futures_now(tr.handle.status()).refused;
            refused.get("unknown-key").copied().unwrap_or(0) >= 3
                && refused.get("request-cut-off").copied().unwrap_or(0) >= 1
        },
    )
    .await;
    let metrics = tr
        .handle
        .metrics()
        .render(&accord_node::metrics::State::default());
    assert!(
        metrics.contains("accord_connections_refused_total{reason=\"unknown-key\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("accord_inbound_failures_total{peer=\"BG-GDBP\"} 1"),
        "{metrics}"
    );
    tr.stop().await;
}

/// An unknown key flooding Turkey with connections from an address a member also uses
/// (loopback here, a NAT or a relay between agencies) emptied that address's allowance, and
/// the member's own attempts were refused before their handshake until Turkey's next redial
/// (up to 30 s). Now Turkey dials the member at once when its address is flooded — an outgoing
/// connection is never bounded by the flood — and a member's connections give their token back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_the_address_of_a_flooder_still_connects() {
    let dir = quad_copy();
    // Turkey redials slowly: only the flooded-address rule can make it dial early
    let slow = accord_node::net::NetConfig {
        redial_min: Duration::from_secs(30),
        redial_max: Duration::from_secs(30),
        ..accord_testkit::fast()
    };
    let tr = TestNode::start_with(load(dir.path(), "tr-jgk"), slow).await;
    let gr = TestNode::start(load(dir.path(), "gr-hcg")).await;
    accord_testkit::connect_all(&[&tr, &gr]).await;
    let mut events = [tr.handle.subscribe(), gr.handle.subscribe()];
    let connected = |n: &TestNode, who: &str| {
        futures_now(n.handle.peers())
            .connected
            .iter()
            .any(|a| a.as_str() == who)
    };
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "the first connection",
        || connected(&tr, "GR-HCG"),
    )
    .await;
    // Greece goes down; Turkey's redial fails once, then waits 30 s
    let gr_addr = wait_for_listen(&gr.handle).await.remove(0);
    let mut gr_cfg = gr.stop().await;
    accord_testkit::wait_until(
        &mut events[..1],
        Duration::from_secs(20),
        "Greece to be gone",
        || !connected(&tr, "GR-HCG"),
    )
    .await;
    let dial_failed = || {
        tr.handle
            .metrics()
            .render(&accord_node::metrics::State::default())
            .contains("accord_dial_failures_total{peer=\"GR-HCG\"}")
    };
    accord_testkit::wait_until(
        &mut events[..1],
        Duration::from_secs(20),
        "Turkey's redial to fail",
        dial_failed,
    )
    .await;
    // a stranger floods Turkey from loopback, Greece's address too
    let addr = wait_for_listen(&tr.handle).await.remove(0);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood: Vec<_> = (0..4u8)
        .map(|t| {
            let (addr, stop, peer) = (addr.clone(), stop.clone(), peer_of(&tr));
            tokio::spawn(async move {
                let mut i = 0u8;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut stranger = RawPeer::new(&SecretKey::from_seed(&[
                        t, i, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                        7, 7, 7, 7, 7, 7, 7,
                    ]));
                    let _ = stranger
                        .send(
                            peer,
                            &addr,
                            &Message::SyncStatus(accord_protocol::wire::SyncStatus {
                                agreements: vec![],
                                checkpoint: None,
                                revocations: vec![],
                            }),
                        )
                        .await;
                    i = i.wrapping_add(1);
                }
            })
        })
        .collect();
    accord_testkit::wait_until(
        &mut events,
        Duration::from_secs(20),
        "the flood to be refused",
        || {
            futures_now(tr.handle.status())
                .refused
                .get("too-fast")
                .copied()
                .unwrap_or(0)
                > 0
        },
    )
    .await;
    // Greece comes back on its address and dials Turkey: refused at the door, but Turkey
    // dials it now
    gr_cfg.listen = vec![gr_addr];
    let gr = TestNode::start(gr_cfg).await;
    let began = std::time::Instant::now();
    gr.handle
        .add_address(agency("TR-JGK"), addr.clone())
        .await
        .unwrap();
    accord_testkit::wait_until(
        &mut events[..1],
        Duration::from_secs(15),
        "Greece to connect again",
        || connected(&tr, "GR-HCG"),
    )
    .await;
    eprintln!(
        "Greece connected {:?} after it came back, under the flood",
        began.elapsed()
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        let _ = tokio::time::timeout(Duration::from_secs(20), f).await;
    }
    gr.stop().await;
    tr.stop().await;
}
