//! The application under test, served on a loopback port.

use std::sync::Arc;
use std::time::Duration;

use adapter_postgres::{PoolSettings, PostgresStore};
use adapter_sqlite::SqliteStore;
use application::UseCases;
use application::ports::Outbox;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use service::{Config, Workers};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use super::fake_discord::{APPLICATION_ID, CHANNEL, FakeDiscord};
use super::fake_slack::{BOT_TOKEN, FakeSlack};
use crate::postgres::TestDatabase;

/// The signing secret the application is configured with; the tests sign with it as Slack does.
pub const SIGNING_SECRET: &str = "e2e-signing-secret";

/// Which store the application runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base_url: String,
    pub slack: FakeSlack,
    /// Discord is connected too: both platforms at once, as a deployment may have them.
    pub discord: FakeDiscord,
    /// A second handle on the application's database, to look at the outbox.
    pub outbox: Arc<dyn Outbox>,
    client: reqwest::Client,
    use_cases: UseCases,
    shutdown: CancellationToken,
    /// The temporary SQLite directory or the PostgreSQL test database, dropped (deleted)
    /// with the app.
    _database: Box<dyn std::any::Any + Send + Sync>,
}

impl TestApp {
    /// Starts the service — HTTP server, relay and expiry sweeper — on `backend`, talking to a
    /// fresh fake Slack.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, FakeSlack::start().await, &[]).await
    }

    /// Like [`spawn`](Self::spawn), with a prepared fake and extra environment variables.
    pub async fn spawn_with(backend: Backend, slack: FakeSlack, env: &[(&str, &str)]) -> Self {
        Self::spawn_with_fakes(backend, slack, FakeDiscord::start().await, env).await
    }

    /// Like [`spawn_with`](Self::spawn_with), with a prepared fake Discord too.
    pub async fn spawn_with_fakes(
        backend: Backend,
        slack: FakeSlack,
        discord: FakeDiscord,
        env: &[(&str, &str)],
    ) -> Self {
        let (database, url): (Box<dyn std::any::Any + Send + Sync>, String) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}", dir.path().join("service.db").display());
                (Box::new(dir), url)
            }
            Backend::Postgres => {
                let db = TestDatabase::create().await;
                let url = db.url();
                (Box::new(db), url)
            }
        };
        let slack_uri = slack.uri();
        let mut vars = vec![
            ("DATABASE_URL", url.as_str()),
            ("SLACK_BOT_TOKEN", BOT_TOKEN),
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
            ("SLACK_API_BASE_URL", slack_uri.as_str()),
            ("SLACK_TIMEOUT", "5s"),
            (
                concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
                "50ms",
            ),
            (concat!(env!("SERVICE_ENV_PREFIX"), "_SHUTDOWN_GRACE"), "1s"),
        ];
        let discord_env = discord.env();
        vars.extend(discord_env.iter().map(|(k, v)| (*k, v.as_str())));
        vars.extend_from_slice(env);
        let config = Config::from_env(vars).unwrap();
        let app = service::build(&config).await.unwrap();
        let use_cases = app.use_cases().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(app.serve(listener, Workers::ALL, shutdown.clone()));
        let outbox: Arc<dyn Outbox> = match backend {
            Backend::Sqlite => Arc::new(SqliteStore::connect(&url).await.unwrap()),
            Backend::Postgres => Arc::new(
                PostgresStore::connect(&url, PoolSettings::default())
                    .await
                    .unwrap(),
            ),
        };
        Self {
            base_url,
            slack,
            discord,
            outbox,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            use_cases,
            shutdown,
            _database: database,
        }
    }

    /// Creates an API key named `name` and returns it.
    pub async fn api_key(&self, name: &str) -> String {
        let created = self.use_cases.create_api_key.execute(name).await.unwrap();
        created.key.expose_secret().to_owned()
    }

    /// Creates an API key named `name`; returns it and its webhook secret (`whsec_…`).
    pub async fn api_client(&self, name: &str) -> (String, String) {
        let created = self.use_cases.create_api_key.execute(name).await.unwrap();
        (
            created.key.expose_secret().to_owned(),
            created.webhook_secret.expose().to_owned(),
        )
    }

    /// Rotates the webhook secret of the client `name`, the old one signing for `grace`;
    /// returns the new one.
    pub async fn rotate_webhook_secret(&self, name: &str, grace: Duration) -> String {
        let rotated = self.use_cases.rotate_webhook_secret.execute(name, grace);
        rotated.await.unwrap().expose().to_owned()
    }

    /// `POST {path}` with a JSON body as the holder of `key`; returns the status and body.
    pub async fn post(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST {path}` with a JSON body and `Idempotency-Key: "{idempotency_key}"` as the
    /// holder of `key`.
    pub async fn post_keyed(
        &self,
        key: &str,
        path: &str,
        idempotency_key: &str,
        body: &Value,
    ) -> Answer {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(key)
            .header("idempotency-key", format!("\"{idempotency_key}\""))
            .json(body)
            .send()
            .await
            .unwrap();
        Answer {
            status: response.status().as_u16(),
            replayed: response.headers().contains_key("idempotent-replayed"),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    /// `GET {path}` as the holder of `key`.
    pub async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Clicks a button in Slack as user `user`: a `block_actions` interaction, form-encoded
    /// and signed exactly as Slack signs it. Returns the status and the reply body.
    pub async fn click(&self, user: &str, action_id: &str, value: &str) -> (u16, String) {
        let payload = json!({
            "type": "block_actions",
            "team": {"id": "T0E2E", "domain": "e2e"},
            "user": {"id": user, "username": user.to_lowercase(), "team_id": "T0E2E"},
            "api_app_id": "A0E2E",
            "token": "ignored-legacy-token",
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0E2E", "is_ephemeral": false},
            "trigger_id": "1.2.3",
            "channel": {"id": "C0E2E", "name": "deploys"},
            "response_url": "https://hooks.slack.com/actions/A0E2E/1/x",
            "actions": [{
                "action_id": action_id,
                "block_id": "e2e",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": value,
                "type": "button",
                "action_ts": "1700000001.000000"
            }]
        });
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let response = self
            .client
            .post(format!("{}/slack/interactions", self.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", &timestamp)
            .header("x-slack-signature", sign(&timestamp, &body))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Sends `body` to `/discord/interactions` signed as Discord signs it, with the fake's
    /// key and the current time. Returns the status and the JSON answer.
    pub async fn discord_interaction(&self, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = self.discord.sign(&timestamp, &body);
        self.discord_raw(
            &[
                ("x-signature-ed25519", signature.as_str()),
                ("x-signature-timestamp", timestamp.as_str()),
            ],
            body,
        )
        .await
    }

    /// Sends `body` to `/discord/interactions` with exactly these headers.
    pub async fn discord_raw(&self, headers: &[(&str, &str)], body: String) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/discord/interactions", self.base_url))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Clicks the button `custom_id` in a server channel as Discord user `user`.
    pub async fn discord_click(&self, user: &str, custom_id: &str) -> (u16, Value) {
        self.discord_interaction(&discord_click(user, custom_id))
            .await
    }

    /// Pending and dead messages, over every sink.
    pub async fn outbox_counts(&self) -> (u64, u64) {
        let stats = self.outbox.stats().await.unwrap();
        stats.iter().fold((0, 0), |(pending, dead), s| {
            (pending + s.pending, dead + s.dead)
        })
    }

    /// Waits (up to 30 s) until the outbox holds no pending message.
    pub async fn wait_until_outbox_drained(&self) {
        for _ in 0..600 {
            if self.outbox_counts().await.0 == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the outbox still has pending messages: {:?}",
            self.outbox.stats().await
        );
    }
}

/// A response as a client that checks idempotent replays sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Whether it carried `Idempotent-Replayed`.
    pub replayed: bool,
    pub body: Vec<u8>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A MESSAGE_COMPONENT interaction as Discord sends it for a button in a server channel.
pub fn discord_click(user: &str, custom_id: &str) -> Value {
    json!({
        "id": "1400000000000000001",
        "application_id": APPLICATION_ID,
        "type": 3,
        "token": "interaction-token",
        "version": 1,
        "guild_id": "1500000000000000001",
        "channel_id": CHANNEL,
        "member": {"user": {"id": user, "username": "someone"}, "roles": [], "permissions": "0"},
        "message": {"id": "1300000000000000001", "channel_id": CHANNEL},
        "data": {"custom_id": custom_id, "component_type": 2},
        "app_permissions": "0",
        "locale": "en-US",
    })
}

/// `v0=` + hex HMAC-SHA256 over `v0:{timestamp}:{body}`, as Slack signs requests.
pub fn sign(timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}
