//! The relay through a chat platform's bad days, against a fake Slack: rate limited for half
//! a minute, down for five minutes; and against a fake Discord, rate limited for twenty
//! seconds. Every message a requester was told about reaches Slack
//! exactly once after the platform recovers, and a rate-limited sink is called about once per
//! Retry-After, not in a tight loop.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use adapter_memory::ManualClock;
use application::ports::{CHAT_SINK, Clock};
use application::use_cases::CreateApprovalInput;
use serde_json::{Value, json};
use tests::e2e::{
    CHANNEL, Endpoint, FakeDiscord, FakeSlack, OnATestClock, POST, Scripted, TestApp,
};
use wiremock::ResponseTemplate;

/// The titles of the successfully posted messages, each once per post.
fn posted_titles(slack: &FakeSlack) -> Vec<String> {
    let mut titles: Vec<String> = slack
        .answered(POST)
        .iter()
        .map(|body| body["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    titles
}

fn expected_titles(count: usize) -> Vec<String> {
    let mut titles: Vec<String> = (0..count)
        .map(|n| format!("Approval requested: Deploy build {n}?"))
        .collect();
    titles.sort();
    titles
}

fn request(n: usize) -> Value {
    json!({"title": format!("Deploy build {n}?"), "destination": "C0DEPLOYS"})
}

/// Slack answers every post with 429 and `Retry-After: 1` for 30 seconds. Nothing is
/// dead-lettered, every request is posted once afterwards, and during the window the relay
/// calls Slack about once a second — not once per message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_seconds_of_rate_limits_lose_nothing_and_are_waited_out() {
    const REQUESTS: usize = 50;
    const WINDOW: Duration = Duration::from_secs(30);
    let slack = FakeSlack::start().await;
    let limited = Arc::new(AtomicBool::new(true));
    slack
        .fail_while(
            POST,
            limited.clone(),
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
        )
        .await;
    let app = TestApp::spawn_with(tests::e2e::Backend::Sqlite, slack, &[]).await;
    let ci = app.api_key("ci").await;
    let started = Instant::now();
    for n in 0..REQUESTS {
        let (status, _) = app.post(&ci, "/v1/approvals", request(n)).await;
        assert_eq!(status, 201);
    }

    tokio::time::sleep(WINDOW.saturating_sub(started.elapsed())).await;
    let calls_while_limited = app.slack.calls(POST).await.len();
    recover_and_drain(&app, &limited).await;

    assert_eq!(posted_titles(&app.slack), expected_titles(REQUESTS));
    // One probe per one-second pause, plus the first chunk (the relay's concurrency, sent
    // before the first 429 comes back) and a few for pauses that end mid-round.
    let first_chunk = application::use_cases::RelayPolicy::default().concurrency;
    assert!(
        calls_while_limited <= WINDOW.as_secs() as usize + first_chunk + 6,
        "{calls_while_limited} calls in {WINDOW:?} of Retry-After: 1"
    );
    assert!(
        calls_while_limited >= 10,
        "the relay kept trying: {calls_while_limited}"
    );
}

/// Discord answers every post with 429 and `retry_after: 1.5` for twenty seconds, then
/// recovers. Every message is posted exactly once, nothing is dead-lettered, and no message
/// is tried again before the 1.5 s Discord asked for has passed since its 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_seconds_of_discord_rate_limits_deliver_each_message_once_and_never_early() {
    const REQUESTS: usize = 20;
    const WINDOW: Duration = Duration::from_secs(20);
    const RETRY_AFTER: Duration = Duration::from_millis(1500);
    let discord = FakeDiscord::start().await;
    let limited = Arc::new(AtomicBool::new(true));
    discord.fail_while(
        Endpoint::Create,
        limited.clone(),
        Scripted::rate_limited(1.5),
    );
    let app = TestApp::spawn_with_fakes(
        tests::e2e::Backend::Sqlite,
        FakeSlack::start().await,
        discord,
        &[],
    )
    .await;
    let ci = app.api_key("ci").await;
    let started = Instant::now();
    for n in 0..REQUESTS {
        let body = json!({"title": format!("Deploy build {n}?"), "destination": format!("discord:{CHANNEL}")});
        let (status, created) = app.post(&ci, "/v1/approvals", body).await;
        assert_eq!(status, 201, "{created}");
    }

    tokio::time::sleep(WINDOW.saturating_sub(started.elapsed())).await;
    let limited_calls = app.discord.calls_to(Endpoint::Create).len();
    recover_and_drain(&app, &limited).await;

    let mut titles: Vec<String> = app
        .discord
        .messages()
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    assert_eq!(titles, expected_titles(REQUESTS));
    let calls = app.discord.calls_to(Endpoint::Create);
    let accepted = calls.iter().filter(|c| c.status == 200).count();
    assert_eq!(accepted, REQUESTS, "each message accepted exactly once");
    // Per message (its nonce), every attempt after a 429 waited out the retry_after.
    let mut by_nonce: std::collections::HashMap<String, Vec<&tests::e2e::Call>> =
        std::collections::HashMap::new();
    for call in &calls {
        let nonce = call.body["nonce"].as_str().unwrap().to_owned();
        by_nonce.entry(nonce).or_default().push(call);
    }
    assert_eq!(by_nonce.len(), REQUESTS, "one nonce per message");
    for attempts in by_nonce.values() {
        for pair in attempts.windows(2) {
            if pair[0].status == 429 {
                let waited = pair[1].at.duration_since(pair[0].at);
                assert!(
                    waited >= RETRY_AFTER,
                    "retried after {waited:?}, asked for {RETRY_AFTER:?}"
                );
            }
        }
    }
    assert!(
        (5..=(WINDOW.as_secs() as usize) * 2 + REQUESTS).contains(&limited_calls),
        "{limited_calls} calls in {WINDOW:?} of retry_after 1.5"
    );
}

/// Slack answers every post with HTTP 500 for five minutes, on a test clock. With the old
/// eight-attempt budget every message was dead-lettered after about two minutes; now each
/// is retried, the gap growing to at most five minutes, and delivered once Slack is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_minutes_of_server_errors_lose_nothing() {
    const REQUESTS: usize = 20;
    let slack = FakeSlack::start().await;
    let down = Arc::new(AtomicBool::new(true));
    slack
        .fail_while(POST, down.clone(), ResponseTemplate::new(500))
        .await;
    let app = OnATestClock::start(&slack, None, &[("RELAY_BATCH_SIZE", "50")]).await;
    let (clock, start) = (&app.clock, app.clock.now());
    let use_cases = app.use_cases();
    for n in 0..REQUESTS {
        app.request(CreateApprovalInput {
            title: format!("Deploy build {n}?"),
            destination: "C0DEPLOYS".into(),
            ..CreateApprovalInput::default()
        })
        .await;
    }
    let relay = use_cases.relay(CHAT_SINK).unwrap();

    // Five minutes of outage, the relay running a round every simulated ten seconds.
    while clock_elapsed(clock, start) < chrono::Duration::minutes(5) {
        let report = relay.execute().await.unwrap();
        assert_eq!(
            report.dead_lettered, 0,
            "nothing gives up during the outage"
        );
        clock.advance(chrono::Duration::seconds(10));
    }
    let attempts = slack.calls(POST).await.len();
    assert!(
        attempts >= REQUESTS * 3,
        "the relay kept retrying: {attempts} calls"
    );
    down.store(false, Ordering::SeqCst);
    // The longest gap is five minutes: within ten more minutes every message is due again.
    while clock_elapsed(clock, start) < chrono::Duration::minutes(15) {
        relay.execute().await.unwrap();
        clock.advance(chrono::Duration::seconds(10));
    }

    assert_eq!(posted_titles(&slack), expected_titles(REQUESTS));
    assert_eq!(use_cases.dead_letters.list(None, 10).await.unwrap(), []);
}

/// Ends the outage and waits until the relay has delivered everything, nothing dead-lettered.
async fn recover_and_drain(app: &TestApp, outage: &AtomicBool) {
    outage.store(false, Ordering::SeqCst);
    app.wait_until_outbox_drained().await;
    assert_eq!(
        app.outbox_counts().await,
        (0, 0),
        "nothing pending, nothing dead"
    );
}

fn clock_elapsed(clock: &ManualClock, start: chrono::DateTime<chrono::Utc>) -> chrono::Duration {
    clock.now() - start
}
