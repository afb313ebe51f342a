//! The event stream end to end: hexagate built as `main` builds it, with `NATS_URL` set,
//! serving with its relays running and publishing to the real NATS server (`NATS_URL`, or
//! the one on `127.0.0.1:4222` that `.ci/run` makes sure of) on a stream and subject prefix
//! of its own. Chat goes to the console meanwhile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

mod support;

use std::time::Duration;

use hexagate::{Config, Workers};
use tokio_util::sync::CancellationToken;

use support::nats::{TestStream, nats_url};
use support::{approve, create_approvals};

/// 20 approvals created and 10 of them approved: the stream holds 20 `requested`, and for
/// each approved one a `decision_recorded` and an `approved`, each approval's in the order
/// they happened, and no `Nats-Msg-Id` twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_stream_once_in_order_per_approval() {
    const CREATED: usize = 20;
    const APPROVED: usize = 10;
    let stream = TestStream::new().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hexagate.db").display().to_string();
    let mut env = vec![
        ("HEXAGATE_SQLITE_PATH".to_owned(), database),
        ("HEXAGATE_RELAY_IDLE_INTERVAL".to_owned(), "50ms".to_owned()),
        ("HEXAGATE_SHUTDOWN_GRACE".to_owned(), "2s".to_owned()),
    ];
    env.extend(stream.environment(&nats_url()));
    let app = hexagate::build(&Config::from_env(env).unwrap())
        .await
        .unwrap();
    let ids = create_approvals(&app, 0..CREATED).await;
    approve(&app, &ids[..APPROVED]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(app.serve(listener, Workers::ALL, shutdown.clone()));

    let expected = (CREATED + 2 * APPROVED) as u64;
    let stored = stream.wait_for(expected, Duration::from_secs(30)).await;
    shutdown.cancel();
    served.await.unwrap().unwrap();

    assert_eq!(stored, expected, "every event once");
    stream.assert_each_once_in_order(&ids, APPROVED).await;
}
