//! The event stream end to end: the service built as `main` builds it, with `NATS_URL` set,
//! its relays running, publishing to the real NATS server (`NATS_URL`, or the one on
//! `127.0.0.1:4222` that `.ci/run` makes sure of) on a stream and subject prefix of its own.
//! Chat goes to the console meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use application::use_cases::{CreateApprovalInput, DecideInput};
use async_nats::jetstream;
use domain::{ApprovalId, Identity, Verdict};
use service::{Config, Workers};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn nats_url() -> String {
    std::env::var("NATS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned())
}

/// Deletes the test's stream when the test ends, passed or failed.
struct StreamGuard {
    name: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(client) = async_nats::connect(nats_url()).await {
                    let _ = jetstream::new(client).delete_stream(&name).await;
                }
            });
        })
        .join();
    }
}

/// 20 approvals created and 10 of them approved: the stream holds 20 `requested`, and for
/// each approved one a `decision_recorded` and an `approved`, each approval's in the order
/// they happened, and no `Nats-Msg-Id` twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_stream_once_in_order_per_approval() {
    const CREATED: usize = 20;
    const APPROVED: usize = 10;
    let token = Uuid::now_v7().simple().to_string();
    let stream = format!("SVC_E2E_{}", token.to_uppercase());
    let prefix = format!("svc.e2e.{token}");
    let _guard = StreamGuard {
        name: stream.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db");
    let config = Config::from_env([
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            database.to_str().unwrap(),
        ),
        ("NATS_URL", nats_url().as_str()),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_STREAM"),
            stream.as_str(),
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_SUBJECT_PREFIX"),
            prefix.as_str(),
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
            "50ms",
        ),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_SHUTDOWN_GRACE"), "2s"),
    ])
    .unwrap();
    let app = service::build(&config).await.unwrap();
    let use_cases = app.use_cases().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(app.serve(listener, Workers::ALL, shutdown.clone()));

    let mut ids: Vec<ApprovalId> = Vec::new();
    for n in 0..CREATED {
        let input = CreateApprovalInput {
            title: format!("Deploy build {n}?"),
            destination: "C0DEPLOYS".into(),
            ..CreateApprovalInput::default()
        };
        let created = use_cases
            .create_approval
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap();
        ids.push(created.id());
    }
    for id in &ids[..APPROVED] {
        let input = DecideInput {
            approval_id: *id,
            approver: Identity::parse("alice").unwrap(),
            verdict: Verdict::Approve,
            comment: None,
        };
        use_cases.decide.execute(input, None).await.unwrap();
    }

    let expected = CREATED + 2 * APPROVED;
    let client = async_nats::connect(nats_url()).await.unwrap();
    let js = jetstream::new(client);
    let mut stored = 0;
    for _ in 0..600 {
        if let Ok(mut found) = js.get_stream(&stream).await {
            stored = found.info().await.map_or(0, |info| info.state.messages);
            if stored >= expected as u64 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    served.await.unwrap().unwrap();
    assert_eq!(stored, expected as u64, "every event once");

    let found = js.get_stream(&stream).await.unwrap();
    let mut message_ids = HashSet::new();
    let mut by_approval: HashMap<String, Vec<String>> = HashMap::new();
    for sequence in 1..=expected as u64 {
        let message = found.get_raw_message(sequence).await.unwrap();
        let id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|value| value.as_str().to_owned())
            .expect("every message carries a Nats-Msg-Id");
        assert!(message_ids.insert(id.clone()), "{id} was stored twice");
        let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        let event_type = body["event_type"].as_str().unwrap().to_owned();
        assert_eq!(message.subject.as_str(), format!("{prefix}.{event_type}"));
        by_approval
            .entry(body["aggregate_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(event_type);
    }
    assert_eq!(by_approval.len(), CREATED);
    for (n, id) in ids.iter().enumerate() {
        let events = &by_approval[&id.to_string()];
        let want: &[&str] = if n < APPROVED {
            &[
                "approval.requested",
                "approval.decision_recorded",
                "approval.approved",
            ]
        } else {
            &["approval.requested"]
        };
        assert_eq!(events, want, "approval {n}");
    }
}
