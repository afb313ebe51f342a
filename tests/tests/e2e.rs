//! End to end: the real application (the same `service::build` as `main`), served on a
//! loopback port with its relay running, against a fake Slack that checks every call.
//! Each story runs on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tests::e2e::{Answer, Backend, FakeSlack, POST, TestApp, UPDATE};
use wiremock::ResponseTemplate;

tests::on_every_backend!(
    a_button_click_approves_and_the_message_loses_its_buttons,
    slack_failures_delay_notifications_but_lose_and_repeat_none,
    a_permanent_slack_error_dead_letters_the_notification,
    the_click_is_acknowledged_while_slack_is_still_holding_a_call,
    identical_requests_at_once_create_one_approval_and_post_it_once,
    text_a_store_cannot_hold_is_refused_alike_on_every_store,
);

fn approval_request() -> Value {
    json!({
        "title": "Deploy model v7 to production?",
        "description": "Accuracy +2.1%, latency unchanged.",
        "destination": "C0DEPLOYS",
        "metadata": {"model": "v7"},
    })
}

/// The approval ids carried by the buttons of a Slack message body.
fn button_values(message: &Value) -> Vec<String> {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|block| block["type"] == "actions")
        .flat_map(|block| block["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["value"].as_str().map(str::to_owned))
        .collect()
}

async fn a_button_click_approves_and_the_message_loses_its_buttons(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ci = app.api_key("ci").await;

    let (status, created) = app.post(&ci, "/v1/approvals", approval_request()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // The relay posts the request to its channel, with buttons that carry its id.
    let posts = app.slack.wait_for(POST, 1).await;
    assert_eq!(posts[0]["channel"], "C0DEPLOYS");
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap()
            .contains("Deploy model v7")
    );
    assert_eq!(button_values(&posts[0]), vec![id.clone(), id.clone()]);

    // Alice clicks Approve in Slack: acknowledged at once, with an empty body.
    let (status, reply) = app.click("U0ALICE", "approval_approve", &id).await;
    assert_eq!((status, reply.as_str()), (200, ""));

    // The relay updates the same message to its final state, without buttons.
    let updates = app.slack.wait_for(UPDATE, 1).await;
    let last = updates.last().unwrap();
    assert_eq!(last["channel"], posts[0]["channel"]);
    assert!(last["ts"].as_str().is_some());
    assert!(
        button_values(last).is_empty(),
        "a settled request has no buttons: {last}"
    );

    let (status, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(approval["status"], "approved");
    assert_eq!(approval["decisions"][0]["approver"], "slack:U0ALICE");

    // A second click by someone else changes nothing and says who decided.
    let (status, reply) = app.click("U0BOB", "approval_approve", &id).await;
    assert_eq!(status, 200);
    assert!(reply.contains("U0ALICE"), "{reply}");
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(approval["decisions"].as_array().unwrap().len(), 1);

    app.wait_until_outbox_drained().await;
    assert_eq!(app.slack.calls(POST).await.len(), 1, "posted exactly once");
}

async fn slack_failures_delay_notifications_but_lose_and_repeat_none(backend: Backend) {
    let slack = FakeSlack::start().await;
    // Slack is down for two calls, then rate-limits one, then recovers.
    slack
        .fail(
            POST,
            2,
            ResponseTemplate::new(500).set_body_string("upstream error"),
        )
        .await;
    slack
        .fail(
            POST,
            1,
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
        )
        .await;
    let app = TestApp::spawn_with(backend, slack, &[]).await;
    let ci = app.api_key("ci").await;
    let alice = app.api_key("alice").await;

    let mut ids = Vec::new();
    for n in 0..3 {
        let mut request = approval_request();
        request["title"] = json!(format!("Deploy build {n}?"));
        let (status, created) = app.post(&ci, "/v1/approvals", request).await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    // Decided while its post may still be failing: its update must not overtake the post.
    let (status, _) = app
        .post(
            &alice,
            &format!("/v1/approvals/{}/decisions", ids[0]),
            json!({"verdict": "approve"}),
        )
        .await;
    assert_eq!(status, 200);

    app.wait_until_outbox_drained().await;
    let requests = app.slack.server.received_requests().await.unwrap();
    // The two 500s and the 429 answered the first three calls; every later post succeeded.
    let successful_posts: Vec<Value> = app.slack.calls(POST).await.into_iter().skip(3).collect();
    for n in 0..3 {
        let title = format!("Deploy build {n}?");
        let posted = successful_posts
            .iter()
            .filter(|body| {
                body["text"]
                    .as_str()
                    .is_some_and(|text| text.contains(&title))
            })
            .count();
        assert_eq!(
            posted, 1,
            "{title:?} posted exactly once after the failures"
        );
    }
    // The decided request's update came after the post it updates, never before.
    let calls: Vec<(String, Value)> = requests
        .iter()
        .filter_map(|r| {
            Some((
                r.url.path().to_owned(),
                serde_json::from_slice(&r.body).ok()?,
            ))
        })
        .collect();
    let about_build_0 = |body: &Value| {
        body["text"]
            .as_str()
            .is_some_and(|t| t.contains("Deploy build 0?"))
    };
    let first_update = calls
        .iter()
        .position(|(path, body)| path == UPDATE && about_build_0(body))
        .expect("the decided request's message was updated");
    // POST calls in arrival order; the first three got the scripted failures.
    let successful_post_before_update = calls[..first_update]
        .iter()
        .filter(|(path, _)| path == POST)
        .enumerate()
        .any(|(nth_post, (_, body))| nth_post >= 3 && about_build_0(body));
    assert!(
        successful_post_before_update,
        "the update came after the successful post of the same request"
    );
    assert_eq!(app.outbox_counts().await.1, 0);
}

async fn a_permanent_slack_error_dead_letters_the_notification(backend: Backend) {
    let slack = FakeSlack::start().await;
    slack
        .fail(
            POST,
            1,
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
        )
        .await;
    let app = TestApp::spawn_with(backend, slack, &[]).await;
    let ci = app.api_key("ci").await;

    let (status, _) = app.post(&ci, "/v1/approvals", approval_request()).await;
    assert_eq!(status, 201);
    app.wait_until_outbox_drained().await;

    let dead = app.outbox.dead_letters(None, 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message.event_type, "approval.requested");
    assert!(
        dead[0].error.contains("channel_not_found"),
        "{}",
        dead[0].error
    );
    assert_eq!(
        app.slack.calls(POST).await.len(),
        1,
        "a permanent error is not retried"
    );
}

async fn the_click_is_acknowledged_while_slack_is_still_holding_a_call(backend: Backend) {
    let slack = FakeSlack::start().await;
    // Slack takes far longer to answer the post than the whole test takes.
    slack.hold(POST, Duration::from_secs(60)).await;
    let app = TestApp::spawn_with(backend, slack, &[("SLACK_TIMEOUT", "120s")]).await;
    let ci = app.api_key("ci").await;

    let (_, created) = app.post(&ci, "/v1/approvals", approval_request()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    // The relay is now inside chat.postMessage, waiting for the fake's answer.
    app.slack.wait_for(POST, 1).await;

    let (status, reply) = app.click("U0ALICE", "approval_approve", &id).await;
    assert_eq!((status, reply.as_str()), (200, ""));

    // The decision is recorded although Slack has not answered the post yet: the post's
    // outbox message is still pending, and no update was attempted.
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(approval["status"], "approved");
    let pending = app.outbox_counts().await.0;
    assert!(pending >= 1, "the held post is still undelivered");
    assert!(app.slack.calls(UPDATE).await.is_empty());
}

/// A pipeline retries a create that seemed to hang, many times at once, with one
/// `Idempotency-Key`. On the real store and server: one request runs, the others are told
/// it is in flight or get its answer replayed, and chat sees one message.
async fn identical_requests_at_once_create_one_approval_and_post_it_once(backend: Backend) {
    const RETRIES: usize = 8;
    let app = Arc::new(TestApp::spawn(backend).await);
    let ci = app.api_key("ci").await;
    let body = approval_request();
    let key = "0192f3a4-deploy-v7";

    let requests: Vec<_> = (0..RETRIES)
        .map(|_| {
            let (app, ci, body) = (app.clone(), ci.clone(), body.clone());
            tokio::spawn(async move { app.post_keyed(&ci, "/v1/approvals", key, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.unwrap());
    }

    let executed: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 201 && !a.replayed)
        .collect();
    assert_eq!(executed.len(), 1, "{answers:?}");
    for answer in &answers {
        match (answer.status, answer.replayed) {
            (201, _) => assert_eq!(answer.body, executed[0].body),
            (409, false) => {}
            other => panic!("unexpected answer {other:?}: {answer:?}"),
        }
    }
    let retry = app.post_keyed(&ci, "/v1/approvals", key, &body).await;
    assert_eq!((retry.status, retry.replayed), (201, true));
    assert_eq!(retry.body, executed[0].body);

    let (_, page) = app.get(&ci, "/v1/approvals").await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    app.wait_until_outbox_drained().await;
    assert_eq!(app.slack.calls(POST).await.len(), 1, "posted exactly once");
}

/// PostgreSQL cannot store U+0000 in `jsonb` or `text`, SQLite can: without a domain rule
/// the same request was a 201 on one store and a 503 on the other. Spoofing characters are
/// refused by the same text rules before anything reaches a store.
async fn text_a_store_cannot_hold_is_refused_alike_on_every_store(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ci = app.api_key("ci").await;
    let with = |field: &str, value: Value| {
        let mut body = approval_request();
        body[field] = value;
        body
    };
    let refused = [
        ("metadata", with("metadata", json!({"k": "a\u{0}b"}))),
        ("metadata", with("metadata", json!({"a\u{0}b": "v"}))),
        (
            "metadata",
            with("metadata", json!({"k": [{"deep": "\u{0}"}]})),
        ),
        ("title", with("title", json!("Deploy \u{0} now"))),
        ("description", with("description", json!("a\u{0}b"))),
        ("title", with("title", json!("Approve \u{202E}gpj.exe"))),
    ];
    for (field, body) in refused {
        let (status, problem) = app.post(&ci, "/v1/approvals", body.clone()).await;
        assert_eq!(status, 400, "{body} -> {problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
    // The escaped text `\u0000` (a backslash and five characters) is ordinary text.
    let (status, created) = app
        .post(
            &ci,
            "/v1/approvals",
            with("metadata", json!({"k": "a\\u0000b"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["metadata"]["k"], "a\\u0000b");
}
