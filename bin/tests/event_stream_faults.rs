//! The event stream (adapters/nats) with the relay as a process, under the two faults an
//! operator meets: the relay killed with SIGKILL in the middle of a batch, and NATS down for
//! 30 s. The NATS server is the real one (`NATS_URL`, or 127.0.0.1:4222 as `.ci/run` makes
//! sure of), reached through a TCP proxy that the test slows down or cuts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

mod support;

use std::time::{Duration, Instant};

use support::nats::{TcpProxy, TestStream};
use support::{FakeSlack, approve, create_approvals, environment, spawn_relay, wait_until};

/// The settings of every process: one SQLite file, the fake Slack, the test's stream
/// reached through `proxy`.
fn settings(
    database: &str,
    slack_url: &str,
    stream: &TestStream,
    proxy: &TcpProxy,
) -> Vec<(String, String)> {
    let mut env = environment(database, slack_url);
    env.extend(stream.environment(&proxy.url));
    env
}

/// A relay killed while publishing: JetStream may have stored messages whose acks never
/// reached it, so its successor publishes them again; the `Nats-Msg-Id` makes JetStream
/// drop those, and nothing acknowledged is missing.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_batch_leaves_every_event_in_the_stream_once() {
    const CREATED: usize = 60;
    const APPROVED: usize = 30;
    const EVENTS: u64 = (CREATED + 2 * APPROVED) as u64;
    let stream = TestStream::new().await;
    let proxy = TcpProxy::start().await;
    let (_slack, slack_url) = FakeSlack::default().start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hexagate.db").display().to_string();
    let env = settings(&database, &slack_url, &stream, &proxy);
    let config = hexagate::Config::from_env(env.iter().cloned()).unwrap();
    let app = hexagate::build(&config).await.unwrap();
    let ids = create_approvals(&app, 0..CREATED).await;
    approve(&app, &ids[..APPROVED]).await;

    // Every chunk takes 25 ms each way, so publishes are in flight, some of them stored by
    // JetStream and not yet acknowledged to the relay, whenever the kill lands.
    proxy.slow_down(Duration::from_millis(25));
    let mut first = spawn_relay(&env);
    let started = stream.wait_for(10, Duration::from_secs(60)).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = stream.count().await;
    assert!(started >= 10, "the first relay published nothing");
    assert!(
        at_kill < EVENTS,
        "the relay had published everything before it was killed; the test proves nothing"
    );

    proxy.restore();
    let mut second = spawn_relay(&env);
    let stored = stream.wait_for(EVENTS, Duration::from_secs(60)).await;
    // A little longer, so that a duplicate publish would have had time to land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored_later = stream.count().await;
    second.kill().unwrap();
    second.wait().unwrap();

    assert_eq!(
        stored, EVENTS,
        "every event reached the stream (killed at {at_kill})"
    );
    assert_eq!(stored_later, EVENTS, "and none of them twice");
    stream.assert_each_once_in_order(&ids, APPROVED).await;
}

/// NATS unreachable for 30 s: chat is a sink of its own, with its own relay loop, so its
/// messages keep going out; the events wait in the outbox and arrive once NATS is back.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_goes_on_while_nats_is_down_and_the_events_follow_when_it_is_back() {
    const OUTAGE: Duration = Duration::from_secs(30);
    let stream = TestStream::new().await;
    let proxy = TcpProxy::start().await;
    let (slack, slack_url) = FakeSlack::default().start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hexagate.db").display().to_string();
    let env = settings(&database, &slack_url, &stream, &proxy);
    let config = hexagate::Config::from_env(env.iter().cloned()).unwrap();
    let app = hexagate::build(&config).await.unwrap();
    let mut relay = spawn_relay(&env);

    // Both sinks work before the outage.
    let mut ids = create_approvals(&app, 0..1).await;
    assert_eq!(stream.wait_for(1, Duration::from_secs(30)).await, 1);
    assert!(wait_until(Duration::from_secs(30), || slack.posted().len() == 1).await);

    proxy.cut();
    let cut_at = Instant::now();
    ids.extend(create_approvals(&app, 1..6).await);
    let chat_delivered = wait_until(Duration::from_secs(20), || slack.posted().len() == 6).await;
    let chat_delivered_after = cut_at.elapsed();
    let during_outage = stream.count().await;
    tokio::time::sleep(OUTAGE.saturating_sub(cut_at.elapsed())).await;
    let at_end_of_outage = stream.count().await;
    proxy.restore();
    let stored = stream.wait_for(6, Duration::from_secs(120)).await;
    relay.kill().unwrap();
    relay.wait().unwrap();

    assert!(
        chat_delivered && chat_delivered_after < OUTAGE,
        "chat was held up by the outage: {:?}",
        slack.posted()
    );
    assert_eq!(
        (during_outage, at_end_of_outage),
        (1, 1),
        "nothing reaches the stream through a cut connection"
    );
    assert_eq!(stored, 6, "the events of the outage arrived after it");
    stream.assert_each_once_in_order(&ids, 0).await;
}
