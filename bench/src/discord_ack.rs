//! How fast hexagate acknowledges a Discord button click: the time from sending a signed
//! MESSAGE_COMPONENT interaction to having its whole answer (UPDATE_MESSAGE with the decided
//! request), which Discord wants within three seconds.
//!
//! One hexagate (`serve --no-relay`, SQLite, a key pair made for the run) gets `--clicks`
//! approval requests for a Discord channel, then one signed Approve click each, one after
//! another over one connection, so each figure is one request's own latency. The first
//! tenth are a warm-up and not counted. The clicks never reach Discord: the answer is built
//! from the store, and posting is the relay's job, which this run does not start.

use std::time::{Duration, Instant};

use clap::Args;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use crate::Error;
use crate::service::Hexagate;

const APPLICATION_ID: &str = "1100000000000000001";
const CHANNEL: &str = "1200000000000000002";

#[derive(Debug, Args)]
pub struct DiscordAckArgs {
    /// Measured clicks, each on a request of its own.
    #[arg(long, default_value_t = 200)]
    clicks: usize,
}

pub async fn run(args: DiscordAckArgs, binary: Option<std::path::PathBuf>) -> Result<(), Error> {
    let binary = match binary {
        Some(path) => path,
        None => crate::build_hexagate().await?,
    };
    let dir = tempfile::tempdir()?;
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let hexagate = Hexagate {
        binary,
        database_url: format!("sqlite:{}", dir.path().join("hexagate.db").display()),
        slack_api_base_url: None,
        log_dir: dir.path().to_owned(),
        env: vec![
            ("DISCORD_BOT_TOKEN".into(), "bench-discord-token".into()),
            (
                "DISCORD_PUBLIC_KEY".into(),
                hex::encode(key.verifying_key().as_bytes()),
            ),
            ("DISCORD_APPLICATION_ID".into(), APPLICATION_ID.into()),
        ],
    };
    hexagate.migrate().await?;
    let api_key = hexagate.create_api_key("bench").await?;
    let server = hexagate.serve().await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()?;
    let warm_up = args.clicks / 10;
    let mut ids = Vec::new();
    for n in 0..args.clicks + warm_up {
        let created: Value = client
            .post(format!("{}/v1/approvals", server.base_url))
            .bearer_auth(&api_key)
            .json(&json!({"title": format!("Deploy build {n}?"), "destination": format!("discord:{CHANNEL}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ids.push(created["id"].as_str().ok_or("no id")?.to_owned());
    }
    let mut latencies = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let body = json!({
            "id": format!("14{n:017}"), "application_id": APPLICATION_ID, "type": 3,
            "token": "t", "version": 1, "channel_id": CHANNEL,
            "member": {"user": {"id": format!("16{:017}", n % 7)}},
            "data": {"custom_id": format!("approval_approve:{id}"), "component_type": 2},
        })
        .to_string();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = hex::encode(key.sign(format!("{timestamp}{body}").as_bytes()).to_bytes());
        let started = Instant::now();
        let response = client
            .post(format!("{}/discord/interactions", server.base_url))
            .header("content-type", "application/json")
            .header("x-signature-ed25519", signature)
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        let elapsed = started.elapsed();
        if !status.is_success() || answer["type"] != 7 {
            return Err(format!("click {n} was answered {status}: {answer}").into());
        }
        if n >= warm_up {
            latencies.push(elapsed);
        }
    }
    server.stop().await;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    print(&format!(
        "Discord interaction ack, {} signed clicks (UPDATE_MESSAGE answers), SQLite:\n\n\
         | p50 | p90 | p99 | max |\n|---|---|---|---|\n| {} | {} | {} | {} |",
        latencies.len(),
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(*latencies.last().ok_or("no clicks")?),
    ));
    Ok(())
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[allow(clippy::print_stdout, reason = "the table is the program's output")]
fn print(text: &str) {
    println!("{}", text.trim_end());
}
