//! The service binary with `DISCORD_*` pointed at the fake Discord of `tests/src`: an
//! approval posted with success and danger buttons, decided by a signed click as
//! `discord:<user id>`, bad signatures refused, PING answered, and `discord
//! register-commands`. Each aggregate's behaviour on Discord is tested in process, through the
//! same wiring, in `tests/tests/chat_platforms/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

mod support;

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::binary;
use tests::e2e::{CHANNEL, FakeDiscord, discord_click};

const APPROVER: &str = "1600000000000000001";

struct Server {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn environment(database: &str, discord: &FakeDiscord) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            database,
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
            "50ms",
        ),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.extend(discord.env().into_iter().map(|(k, v)| (k.to_owned(), v)));
    env
}

async fn serve(env: &[(String, String)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut env = env.to_vec();
    env.push((
        concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR").into(),
        format!("127.0.0.1:{port}"),
    ));
    let child = binary(&["serve"], &env)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // reqwest is built without a default crypto provider (see the adapters).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    };
    for _ in 0..300 {
        let ready = server
            .client
            .get(format!("{}/readyz", server.url))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not get ready");
}

impl Server {
    async fn post(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn get(&self, key: &str, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    async fn interaction(&self, headers: &[(&str, &str)], body: String) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/discord/interactions", self.url))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body).send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn signed(&self, discord: &FakeDiscord, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = discord.sign(&timestamp, &body);
        self.interaction(
            &[
                ("x-signature-ed25519", signature.as_str()),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            body,
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_posts_to_discord_and_takes_signed_clicks() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db");
    let env = environment(database.to_str().unwrap(), &discord);
    let created = binary(&["api-key", "create", "--name", "ci"], &env)
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let ci = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let server = serve(&env).await;

    // An approval for discord:<channel> is posted with success/danger buttons.
    let (status, approval) = server
        .post(
            &ci,
            "/v1/approvals",
            json!({"title": "Deploy api v1.4.2?", "destination": format!("discord:{CHANNEL}")}),
        )
        .await;
    assert_eq!(status, 201, "{approval}");
    let id = approval["id"].as_str().unwrap().to_owned();
    let posted = discord.wait_for("the request", |m| m.len() == 1).await;
    let styles: Vec<u64> = posted[0]["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["style"].as_u64().unwrap())
        .collect();
    assert_eq!(styles, [3, 4]);

    // Unsigned, tampered and wrong-key clicks change nothing.
    let click = discord_click(APPROVER, &format!("approval_approve:{id}")).to_string();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let good = discord.sign(&timestamp, &click);
    let wrong_key = FakeDiscord::start().await.sign(&timestamp, &click);
    for (headers, body) in [
        (vec![], click.clone()),
        (
            vec![
                ("x-signature-ed25519", good.as_str()),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            click.replace(APPROVER, "1600000000000000077"),
        ),
        (
            vec![
                ("x-signature-ed25519", wrong_key.as_str()),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            click.clone(),
        ),
    ] {
        assert_eq!(server.interaction(&headers, body).await.0, 401);
    }
    assert_eq!(
        server.get(&ci, &format!("/v1/approvals/{id}")).await["status"],
        "pending"
    );

    // PING, then a signed click: decided by discord:<user id>, the message shows it.
    assert_eq!(
        server.signed(&discord, &json!({"type": 1})).await,
        (200, json!({"type": 1}))
    );
    let (status, answer) = server
        .signed(
            &discord,
            &discord_click(APPROVER, &format!("approval_approve:{id}")),
        )
        .await;
    assert_eq!(
        (status, answer["type"].clone()),
        (200, json!(7)),
        "{answer}"
    );
    let decided = server.get(&ci, &format!("/v1/approvals/{id}")).await;
    assert_eq!(
        decided["decisions"][0]["approver"],
        format!("discord:{APPROVER}")
    );
    discord
        .wait_for("the outcome without buttons", |m| {
            m[0]["components"] == json!([])
                && m[0]["content"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Approved"))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_commands_puts_the_slash_command() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db");
    let env = environment(database.to_str().unwrap(), &discord);

    let output = tokio::task::spawn_blocking(move || {
        binary(&["discord", "register-commands"], &env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The full list, built from every registered aggregate, is checked in process
    // (`tests/tests/discord.rs`); here, that the binary registers it at all.
    let verbs = discord.registered_verbs();
    assert_eq!(verbs[..2], ["approve", "reject"], "{verbs:?}");
    assert_eq!(verbs[verbs.len() - 2..], ["status", "help"], "{verbs:?}");
}
