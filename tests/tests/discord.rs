//! Discord end to end: the application wired by `service::build` with `DISCORD_*` pointed at
//! the fake, and interactions signed as Discord signs them — with a key pair generated for
//! each fake, and with the RFC 8032 test vector of the protocol reference.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tests::e2e::{
    APPLICATION_ID, Backend, CHANNEL, DISCORD_TOKEN, FakeDiscord, FakeSlack, TestApp, discord_click,
};
use tower::ServiceExt;

const APPROVER: &str = "1600000000000000001";

/// Request headers, as `(name, value)`.
type Headers<'a> = Vec<(&'a str, &'a str)>;

async fn spawn() -> (TestApp, String) {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ci = app.api_key("ci").await;
    (app, ci)
}

async fn create(app: &TestApp, ci: &str, extra: Value) -> String {
    let mut body =
        json!({"title": "Deploy api v1.4.2?", "destination": format!("discord:{CHANNEL}")});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    let (status, created) = app.post(ci, "/v1/approvals", body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    app.discord
        .wait_for("the request posted", |m| m.len() == 1)
        .await;
    id
}

fn components(message: &Value) -> Value {
    message["components"].clone()
}

#[tokio::test]
async fn an_approval_is_posted_with_success_and_danger_buttons_and_a_nonce() {
    let (app, ci) = spawn().await;
    let id = create(&app, &ci, json!({})).await;

    let message = &app.discord.messages()[0];
    assert_eq!(
        components(message),
        json!([{"type": 1, "components": [
            {"type": 2, "style": 3, "label": "Approve", "custom_id": format!("approval_approve:{id}")},
            {"type": 2, "style": 4, "label": "Reject", "custom_id": format!("approval_reject:{id}")},
        ]}])
    );
    assert_eq!(message["allowed_mentions"], json!({"parse": []}));
    let nonce = message["nonce"].as_str().unwrap();
    assert!(
        nonce.len() <= 25 && message["enforce_nonce"] == true,
        "{message}"
    );
}

#[tokio::test]
async fn a_signed_click_approves_as_the_discord_user_and_answers_with_the_outcome() {
    let (app, ci) = spawn().await;
    let id = create(&app, &ci, json!({})).await;

    let (status, answer) = app
        .discord_click(APPROVER, &format!("approval_approve:{id}"))
        .await;

    assert_eq!(status, 200);
    assert_eq!(answer["type"], 7, "UPDATE_MESSAGE: {answer}");
    assert_eq!(answer["data"]["components"], json!([]), "no active buttons");
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Approved"),
        "{answer}"
    );
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(
        approval["decisions"][0]["approver"],
        format!("discord:{APPROVER}")
    );
    // The relay's edit follows, with the same outcome.
    app.discord
        .wait_for("the message edited to its outcome", |m| {
            m[0]["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("Approved"))
                && m[0]["components"] == json!([])
        })
        .await;
}

#[tokio::test]
async fn unsigned_tampered_stale_key_and_wrong_key_requests_get_401_and_change_nothing() {
    let (app, ci) = spawn().await;
    let id = create(&app, &ci, json!({})).await;
    let body = discord_click(APPROVER, &format!("approval_approve:{id}")).to_string();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let good = app.discord.sign(&timestamp, &body);
    // A key the application had before (another fake's), and one it never had.
    let stale = FakeDiscord::start().await.sign(&timestamp, &body);
    let tampered = body.replace(APPROVER, "1600000000000000099");

    let cases: Vec<(&str, Headers, String)> = vec![
        ("unsigned", vec![], body.clone()),
        (
            "no timestamp",
            vec![("x-signature-ed25519", good.as_str())],
            body.clone(),
        ),
        (
            "tampered body",
            vec![
                ("x-signature-ed25519", good.as_str()),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            tampered,
        ),
        (
            "other timestamp",
            vec![
                ("x-signature-ed25519", good.as_str()),
                ("x-signature-timestamp", "1700000000"),
            ],
            body.clone(),
        ),
        (
            "stale key",
            vec![
                ("x-signature-ed25519", stale.as_str()),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            body.clone(),
        ),
        (
            "not hex",
            vec![
                ("x-signature-ed25519", "zz"),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            body.clone(),
        ),
    ];
    for (case, headers, body) in cases {
        let (status, _) = app.discord_raw(&headers, body).await;
        assert_eq!(status, 401, "{case}");
    }
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(approval["status"], "pending", "{approval}");
    assert_eq!(approval["decisions"], json!([]));
}

#[tokio::test]
async fn ping_answers_pong_and_the_reference_vector_verifies() {
    // The application configured with RFC 8032 TEST 1's public key, and the reference's
    // signed PING replayed byte for byte.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        FakeSlack::start().await,
        &[(
            "DISCORD_PUBLIC_KEY",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        )],
    )
    .await;
    let signature = "1695961a47c91a1ec033b819b7e87e3dbc583dd0cee6d1fd0216f58ac87b6228ae531ddbf91fb7bc28d7edf7f08604da16f54624f38a6bc0614e4dc13cd47f0f";
    let headers = [
        ("x-signature-ed25519", signature),
        ("x-signature-timestamp", "1700000000"),
    ];

    let (status, answer) = app.discord_raw(&headers, r#"{"type":1}"#.into()).await;
    assert_eq!((status, answer), (200, json!({"type": 1})));
    let (status, _) = app.discord_raw(&headers, r#"{"type": 1}"#.into()).await;
    assert_eq!(status, 401, "one more space is another message");

    // And with the fake's own key.
    let (app, _) = spawn().await;
    let (status, answer) = app.discord_interaction(&json!({"type": 1})).await;
    assert_eq!((status, answer), (200, json!({"type": 1})));
}

#[tokio::test]
async fn a_double_click_is_a_no_op_and_a_refusal_is_an_ephemeral_reason() {
    let (app, ci) = spawn().await;
    let other = "1600000000000000002";
    let id = create(
        &app,
        &ci,
        json!({"allowed_approvers": [format!("discord:{APPROVER}")]}),
    )
    .await;
    let approve = format!("approval_approve:{id}");

    let (status, refused) = app.discord_click(other, &approve).await;
    assert_eq!(status, 200);
    assert_eq!(refused["type"], 4, "{refused}");
    assert_eq!(refused["data"]["flags"], 64, "ephemeral: {refused}");
    assert!(!refused["data"]["content"].as_str().unwrap().is_empty());

    assert_eq!(app.discord_click(APPROVER, &approve).await.1["type"], 7);
    let (status, again) = app.discord_click(APPROVER, &approve).await;
    assert_eq!(status, 200);
    assert_eq!(again["data"]["flags"], 64, "{again}");
    assert!(
        again["data"]["content"]
            .as_str()
            .unwrap()
            .contains("already"),
        "{again}"
    );
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(
        approval["decisions"].as_array().unwrap().len(),
        1,
        "{approval}"
    );
}

#[tokio::test]
async fn an_interaction_for_another_application_is_refused() {
    let (app, ci) = spawn().await;
    let id = create(&app, &ci, json!({})).await;
    let mut click = discord_click(APPROVER, &format!("approval_approve:{id}"));
    click["application_id"] = json!("1100000000000000099");

    let (status, _) = app.discord_interaction(&click).await;

    assert_eq!(status, 403);
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(approval["status"], "pending");
}

#[tokio::test]
async fn a_custom_id_that_is_not_ours_changes_nothing() {
    let (app, ci) = spawn().await;
    let id = create(&app, &ci, json!({})).await;
    for custom_id in [
        "approval_approve".to_owned(),
        format!("approval_delete:{id}"),
        "approval_approve:not-a-uuid".to_owned(),
        format!("other_approve:{id}"),
        "x".repeat(100),
    ] {
        let (status, _) = app.discord_click(APPROVER, &custom_id).await;
        assert_eq!(status, 200, "{custom_id}");
    }
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(approval["status"], "pending");
}

#[tokio::test]
async fn the_slash_command_decides_with_the_same_grammar_as_slack() {
    let (app, ci) = spawn().await;
    let id = create(&app, &ci, json!({})).await;
    let command = |options: Value| {
        json!({
            "id": "1400000000000000002", "application_id": APPLICATION_ID, "type": 2,
            "token": "t", "version": 1, "channel_id": CHANNEL,
            "user": {"id": APPROVER, "username": "dm"},
            "data": {"id": "1", "name": env!("SERVICE_NAME"), "type": 1, "options": [options]},
        })
    };

    let (status, missing) = app
        .discord_interaction(&command(json!({"name": "reject", "type": 1, "options": [
            {"name": "id", "type": 3, "value": id}]})))
        .await;
    assert_eq!(status, 200);
    assert!(
        missing["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("A rejection needs a reason."),
        "{missing}"
    );
    let (_, answer) = app
        .discord_interaction(&command(json!({"name": "approve", "type": 1, "options": [
            {"name": "id", "type": 3, "value": id}, {"name": "text", "type": 3, "value": "ship it"}]})))
        .await;
    assert_eq!(answer["type"], 4);
    assert_eq!(answer["data"]["flags"], 64);
    let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(approval["status"], "approved", "{answer} {approval}");
    assert_eq!(approval["decisions"][0]["comment"], "ship it");
}

#[tokio::test]
async fn register_commands_puts_the_command_built_from_the_vocabularies() {
    let discord = FakeDiscord::start().await;
    // The service's own wiring registers every aggregate that shows in chat.
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db");
    let config = service::Config::from_env([(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
        database.to_str().unwrap(),
    )])
    .unwrap();
    let app = service::build(&config).await.unwrap();
    let subjects = app.chat_subjects();
    let settings = adapter_discord::DiscordSettings {
        application_id: Some(APPLICATION_ID.into()),
        api_base_url: discord.uri(),
        ..adapter_discord::DiscordSettings::new(DISCORD_TOKEN.into(), discord.public_key())
    };

    adapter_discord::register_commands(&settings, subjects)
        .await
        .unwrap();

    let verbs = discord.registered_verbs();
    // Each aggregate's verbs in the order they were registered, then the shared ones.
    let registered: Vec<&str> = subjects
        .iter()
        .flat_map(|subject| subject.vocabulary().commands)
        .map(|command| command.verb)
        .chain(["status", "help"])
        .collect();
    assert_eq!(verbs, registered);
    assert_eq!(verbs[..2], ["approve", "reject"]);
}

#[tokio::test]
async fn a_discord_destination_without_discord_is_refused_with_a_typed_422() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db");
    let config = service::Config::from_env([
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            database.to_str().unwrap(),
        ),
        ("SLACK_BOT_TOKEN", "xoxb-only-slack"),
        ("SLACK_SIGNING_SECRET", "only-slack"),
    ])
    .unwrap();
    let app = service::build(&config).await.unwrap();
    let key = app.use_cases().create_api_key.execute("ci").await.unwrap();
    let request = |destination: &str| {
        Request::post("/v1/approvals")
            .header(
                "authorization",
                format!("Bearer {}", secrecy::ExposeSecret::expose_secret(&key.key)),
            )
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"title": "Deploy?", "destination": destination}).to_string(),
            ))
            .unwrap()
    };

    let response = app
        .router()
        .oneshot(request(&format!("discord:{CHANNEL}")))
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        body["type"],
        concat!(env!("PROBLEM_BASE_URL"), "platform-not-connected")
    );
    assert_eq!(body["platform"], "discord");
    assert_eq!(body["field"], "destination");

    let response = app
        .router()
        .oneshot(request("slack:C0DEPLOYS"))
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "an explicit slack: destination is Slack's"
    );
}
