//! The service as a process on a port of its own, and an HTTP client for its API: for the
//! tests of long-polls across instances and of `gate`.

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::binary;

/// A `serve` process, killed when dropped.
pub struct Service {
    child: Child,
    pub url: String,
    env: Vec<(String, String)>,
}

/// A plain-HTTP client; reqwest is built without a crypto provider, so one is installed.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A port that was free a moment ago (the kernel does not hand it out again at once).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The environment for a store at `database` (`postgres://…` or a SQLite file path).
pub fn store_env(database: &str) -> Vec<(String, String)> {
    let setting = if database.starts_with("postgres") {
        ("DATABASE_URL".to_owned(), database.to_owned())
    } else {
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH").to_owned(),
            database.to_owned(),
        )
    };
    vec![setting, ("RUST_LOG".to_owned(), "warn".to_owned())]
}

impl Service {
    /// Starts `serve` on `port` with `env`, and waits until it is ready.
    pub async fn start(env: &[(String, String)], port: u16) -> Self {
        let mut env = env.to_vec();
        env.push((
            concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR").to_owned(),
            format!("127.0.0.1:{port}"),
        ));
        let child = binary(&["serve"], &env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let service = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            env,
        };
        service.ready().await;
        service
    }

    async fn ready(&self) {
        let client = client();
        for _ in 0..600 {
            let answer = client.get(format!("{}/readyz", self.url)).send().await;
            if answer.is_ok_and(|answer| answer.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the service at {} never became ready", self.url);
    }

    /// Creates an API key with the binary, on the same store.
    pub fn api_key(&self, name: &str) -> String {
        let output = super::run(&["api-key", "create", "--name", name], &self.env);
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// Kills the process and waits for it.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The REST API at `url` as one API key.
pub struct Api {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl Api {
    pub fn new(url: &str, key: &str) -> Self {
        Self {
            http: client(),
            url: url.to_owned(),
            key: key.to_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    pub async fn create(&self, title: &str) -> String {
        let created = self
            .post(
                "/v1/approvals",
                &json!({ "title": title, "destination": "C0DEPLOYS" }),
            )
            .await;
        created["id"].as_str().unwrap().to_owned()
    }

    pub async fn decide(&self, id: &str, verdict: &str) -> Value {
        self.post(
            &format!("/v1/approvals/{id}/decisions"),
            &json!({ "verdict": verdict }),
        )
        .await
    }

    /// Every request on the service, newest first.
    pub async fn approvals(&self) -> Vec<Value> {
        let page = self.get("/v1/approvals?limit=100").await;
        page["items"].as_array().cloned().unwrap_or_default()
    }
}
