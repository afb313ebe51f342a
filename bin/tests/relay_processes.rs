//! The relay as separate processes, the way an operator runs it: one killed with SIGKILL in
//! the middle of a batch, and dead letters re-driven with the `outbox` subcommands.

// Helpers below are test code too; clippy.toml's allowances only reach `#[test]` functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use application::ports::CHAT_SINK;

use support::{FakeSlack, environment, request_approvals, run, spawn_relay, titles, wait_until};

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relays_claimed_messages_are_delivered_by_another_within_thirty_seconds() {
    const REQUESTS: usize = 6;
    let (slack, slack_url) = FakeSlack::default().start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hexagate.db").display().to_string();
    let env = environment(&database, &slack_url);
    request_approvals(&env, REQUESTS).await;

    // The first relay claims a batch and hangs inside Slack calls, holding its claims.
    slack.hang.store(true, Ordering::SeqCst);
    let mut first = spawn_relay(&env);
    assert!(
        wait_until(Duration::from_secs(30), || slack
            .received
            .load(Ordering::SeqCst)
            > 0)
        .await,
        "the first relay never called Slack"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let killed = Instant::now();
    slack.hang.store(false, Ordering::SeqCst);

    let mut second = spawn_relay(&env);
    let all_posted = wait_until(Duration::from_secs(60), || slack.posted().len() >= REQUESTS).await;
    let took = killed.elapsed();
    second.kill().unwrap();
    second.wait().unwrap();

    assert!(all_posted, "posted: {:?}", slack.posted());
    assert!(
        took < Duration::from_secs(30),
        "took {took:?} after the kill"
    );
    assert_eq!(slack.posted(), titles(REQUESTS), "each request posted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_re_driven_with_the_cli_is_delivered() {
    let (slack, slack_url) = FakeSlack::default().start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hexagate.db").display().to_string();
    let env = environment(&database, &slack_url);
    let app = request_approvals(&env, 1).await;
    let relay = app.use_cases().relay(CHAT_SINK).unwrap();

    // The channel does not exist (yet): a permanent error, dead-lettered at once.
    slack.refuse.store(true, Ordering::SeqCst);
    assert_eq!(relay.execute().await.unwrap().dead_lettered, 1);
    let listed = String::from_utf8(run(&["outbox", "dead-letters"], &env).stdout).unwrap();
    let fields: Vec<&str> = listed.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 7, "{listed}");
    assert_eq!(fields[1..3], ["chat", "approval.requested"], "{listed}");
    assert!(fields[6].contains("channel_not_found"), "{listed}");

    // The channel is fixed; the operator puts the message back in line.
    slack.refuse.store(false, Ordering::SeqCst);
    let retried = run(&["outbox", "retry", "--id", fields[0]], &env);
    assert!(
        String::from_utf8_lossy(&retried.stderr).contains("1 dead letter(s) put back in line"),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    assert_eq!(relay.execute().await.unwrap().delivered, 1);

    assert_eq!(slack.posted(), titles(1));
    assert!(run(&["outbox", "dead-letters"], &env).stdout.is_empty());
}
