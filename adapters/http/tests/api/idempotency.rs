//! `Idempotency-Key` on `POST /v1/…`: replay, reuse, concurrency, release, expiry.

use std::pin::pin;
use std::sync::Arc;

use adapter_http::HttpSettings;
use adapter_memory::MemoryStore;
use application::ports::{Claim, IdempotencyStore, KeyClaim, RepositoryError, StoredResponse};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use domain::ApprovalId;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Overrides, TestApp, TestResponse, call, json_body, losing_every_race, new_approval, poll_once,
};

const KEY: &str = "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"";

/// `POST path` as `key` with `Idempotency-Key: idempotency_key` and a JSON body.
fn keyed(path: &str, key: &str, idempotency_key: &str, body: &Value) -> Request<Body> {
    json_body(
        call(Method::POST, path, key).header("idempotency-key", idempotency_key),
        body.to_string(),
    )
}

fn replayed(response: &TestResponse) -> bool {
    response.headers.get("idempotent-replayed").is_some()
}

#[tokio::test]
async fn a_retry_replays_the_first_answer_byte_for_byte_and_creates_nothing() {
    let app = TestApp::new().await;
    let body = new_approval("deploy");

    let first = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert!(!replayed(&first));
    let after_first = app.snapshot();

    let retry = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;

    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), "true");
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("content-type"), "application/json");
    assert_eq!(app.snapshot(), after_first);
    assert_eq!(app.approval_count().await, 1);
}

#[tokio::test]
async fn a_bare_key_is_the_same_key_as_its_quoted_form() {
    let app = TestApp::new().await;
    let body = new_approval("deploy");
    let bare = KEY.trim_matches('"');

    let first = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    let retry = app.send(keyed("/v1/approvals", &app.ci, bare, &body)).await;

    assert!(replayed(&retry));
    assert_eq!(retry.body, first.body);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    app.send(keyed(
        "/v1/approvals",
        &app.ci,
        KEY,
        &new_approval("deploy"),
    ))
    .await;
    let before = app.snapshot();

    let reused = app
        .send(keyed(
            "/v1/approvals",
            &app.ci,
            KEY,
            &new_approval("rollback"),
        ))
        .await;

    reused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused");
    assert_eq!(app.snapshot(), before);
}

#[tokio::test]
async fn keys_belong_to_the_client_that_used_them() {
    let app = TestApp::new().await;
    let body = new_approval("deploy");

    let by_ci = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    let by_alice = app
        .send(keyed("/v1/approvals", &app.alice, KEY, &body))
        .await;

    assert_eq!(by_alice.status, StatusCode::CREATED);
    assert!(!replayed(&by_alice));
    assert_eq!(by_alice.json()["requester"], "alice");
    assert_ne!(by_alice.body, by_ci.body);
    assert_eq!(app.approval_count().await, 2);
}

#[tokio::test]
async fn a_lasting_refusal_is_replayed_too() {
    let app = TestApp::new().await;
    let approval = app.create(&app.ci, new_approval("deploy")).await;
    let decisions = format!(
        "/v1/approvals/{}/decisions",
        approval["id"].as_str().unwrap()
    );
    let approve = json!({ "verdict": "approve" });

    let refused = app.send(keyed(&decisions, &app.ci, KEY, &approve)).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "self-approval");
    let retry = app.send(keyed(&decisions, &app.ci, KEY, &approve)).await;

    assert!(replayed(&retry));
    assert_eq!(retry.body, refused.body);
    assert_eq!(retry.header("content-type"), "application/problem+json");
}

#[tokio::test]
async fn two_identical_requests_at_once_execute_once() {
    let (app, saves) = TestApp::with_controlled_saves(HttpSettings::default()).await;
    let body = new_approval("deploy");
    // The first request to reach the store waits there until the other has its answer, so
    // both are in flight together whichever runs first.
    saves.hold_next_save();
    let send = || async {
        let response = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
        saves.release();
        response
    };

    let (one, other) = tokio::join!(send(), send());

    let (created, refused) = match one.status {
        StatusCode::CREATED => (one, other),
        _ => (other, one),
    };
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    refused.assert_problem(StatusCode::CONFLICT, "idempotency-key-in-flight");
    // The test clock stands still: the whole lock (timeout 10 s + 1 s) is still ahead.
    assert_eq!(refused.header("retry-after"), "11");
    assert_eq!(app.approval_count().await, 1);

    let retry = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    assert!(replayed(&retry));
    assert_eq!(retry.body, created.body);
}

#[tokio::test]
async fn a_5xx_releases_the_key_so_the_retry_executes() {
    let (app, saves) = TestApp::with_controlled_saves(HttpSettings::default()).await;
    let body = new_approval("deploy");
    saves.fail_next_save(RepositoryError::Unavailable("connection reset".into()));

    let failed = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    failed.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let retry = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;

    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert!(!replayed(&retry));
    assert_eq!(app.approval_count().await, 1);
}

#[tokio::test]
async fn a_lost_race_is_not_replayed_so_the_retry_it_invites_runs() {
    let id = ApprovalId::from_uuid(Uuid::now_v7());
    let app = losing_every_race(id).await;
    let cancel = format!("/v1/approvals/{id}/cancel");

    for attempt in 1..=2 {
        let lost = app.send(keyed(&cancel, &app.ci, KEY, &json!({}))).await;
        lost.assert_problem(StatusCode::CONFLICT, "concurrent-update");
        assert!(!replayed(&lost), "attempt {attempt} was a replay");
    }
}

#[tokio::test]
async fn a_key_is_forgotten_after_its_time_to_live() {
    let app = TestApp::with(Overrides {
        settings: HttpSettings {
            idempotency_ttl: std::time::Duration::from_secs(3600),
            ..HttpSettings::default()
        },
        ..Overrides::default()
    })
    .await;
    let body = new_approval("deploy");
    app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;

    app.clock.advance(chrono::Duration::seconds(3600));
    let late = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;

    assert_eq!(late.status, StatusCode::CREATED);
    assert!(!replayed(&late));
    assert_eq!(app.approval_count().await, 2);
}

#[tokio::test]
async fn without_a_valid_api_key_the_answer_is_401_whatever_the_key() {
    let app = TestApp::new().await;
    for idempotency_key in [KEY, "\"unterminated"] {
        let response = app
            .send(keyed(
                "/v1/approvals",
                "unknown-api-key",
                idempotency_key,
                &new_approval("deploy"),
            ))
            .await;
        response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn only_posts_look_at_the_header() {
    let app = TestApp::new().await;
    let request = call(Method::GET, "/v1/approvals", &app.ci)
        .header("idempotency-key", "\"unterminated")
        .body(Body::empty())
        .unwrap();

    let response = app.send(request).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

#[tokio::test]
async fn without_the_header_every_post_executes() {
    let app = TestApp::new().await;
    for _ in 0..2 {
        app.create(&app.ci, new_approval("deploy")).await;
    }
    assert_eq!(app.approval_count().await, 2);
}

/// The in-memory store, except that `complete` never lands: what a crash right after a
/// change commits looks like to the store.
struct CompletionsLost(Arc<MemoryStore>);

#[async_trait]
impl IdempotencyStore for CompletionsLost {
    async fn claim(
        &self,
        claim: &KeyClaim,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        self.0
            .claim(claim, fingerprint, now, locked_until, expires_at)
            .await
    }

    async fn complete(&self, _: &KeyClaim, _: &StoredResponse) -> Result<(), RepositoryError> {
        Err(RepositoryError::Unavailable("the process died".into()))
    }

    async fn release(&self, claim: &KeyClaim) -> Result<(), RepositoryError> {
        self.0.release(claim).await
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        self.0.purge_expired(now).await
    }
}

/// Past the lock (the request timeout plus a second), when a key nobody answered may be
/// taken over.
fn after_the_lock() -> chrono::Duration {
    chrono::Duration::minutes(2)
}

#[tokio::test]
async fn a_change_is_stored_with_its_answer_so_its_retry_replays_even_after_a_crash() {
    let store = Arc::new(MemoryStore::new());
    let app = TestApp::with(Overrides {
        store: Some(store.clone()),
        idempotency: Some(Arc::new(CompletionsLost(store))),
        ..Overrides::default()
    })
    .await;
    let create = || keyed("/v1/approvals", &app.ci, KEY, &new_approval("deploy"));
    let created = app.send(create()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let decisions = format!(
        "/v1/approvals/{}/decisions",
        created.json()["id"].as_str().unwrap()
    );
    let approve = json!({ "verdict": "approve" });
    let decided = app.send(keyed(&decisions, &app.alice, KEY, &approve)).await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text());
    let after_both = app.snapshot();

    // Long after any lock: were the answers stored apart from the changes, these retries
    // would take the keys over and create and decide a second time.
    app.clock.advance(after_the_lock());
    let create_retry = app.send(create()).await;
    let decide_retry = app.send(keyed(&decisions, &app.alice, KEY, &approve)).await;

    for (retry, first) in [(&create_retry, &created), (&decide_retry, &decided)] {
        assert_eq!(retry.status, first.status);
        assert!(replayed(retry), "{}", retry.text());
        assert_eq!(retry.body, first.body);
    }
    assert_eq!(app.snapshot(), after_both);
}

#[tokio::test]
async fn a_request_stalled_past_its_lock_loses_its_key_to_the_retry_and_writes_nothing() {
    let (app, saves) = TestApp::with_controlled_saves(HttpSettings::default()).await;
    let body = new_approval("deploy");
    saves.hold_next_save();
    let mut stalled = pin!(app.send(keyed("/v1/approvals", &app.ci, KEY, &body)));
    assert!(
        poll_once(stalled.as_mut()).await.is_none(),
        "the first request should be waiting in the store, holding the key"
    );

    app.clock.advance(after_the_lock());
    let retry = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
    assert!(!replayed(&retry));

    saves.release();
    let woken = stalled.await;

    woken.assert_problem(StatusCode::CONFLICT, "idempotency-key-in-flight");
    assert_eq!(app.approval_count().await, 1);
    let again = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    assert!(replayed(&again));
    assert_eq!(again.body, retry.body);
}

#[tokio::test]
async fn after_a_crash_the_retry_waits_only_as_long_as_retry_after_says() {
    let (app, saves) = TestApp::with_controlled_saves(HttpSettings::default()).await;
    let body = new_approval("deploy");
    saves.hold_next_save();
    // The holder never answers: what a process that died mid-request looks like.
    let mut crashed = pin!(app.send(keyed("/v1/approvals", &app.ci, KEY, &body)));
    assert!(poll_once(crashed.as_mut()).await.is_none());

    let first = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    first.assert_problem(StatusCode::CONFLICT, "idempotency-key-in-flight");
    assert_eq!(first.header("retry-after"), "11");

    app.clock.advance(chrono::Duration::milliseconds(4_500));
    let second = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    second.assert_problem(StatusCode::CONFLICT, "idempotency-key-in-flight");
    // 6.5 s left, rounded up: a client that waits as told never comes back too early.
    let wait: i64 = second.header("retry-after").parse().unwrap();
    assert_eq!(wait, 7);

    app.clock.advance(chrono::Duration::seconds(wait));
    let retry = app.send(keyed("/v1/approvals", &app.ci, KEY, &body)).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text());
}
