//! The service metrics as Prometheus scrapes them: through `/metrics` of the real wiring, on
//! a real SQLite store. Each test records into a recorder of its own, installed for its
//! thread only (the current-thread test runtime polls everything on that thread), so tests
//! never see each other's numbers and the global recorder is never touched.

use std::path::Path;
use std::sync::Arc;

use adapter_console::ConsoleGateway;
use application::use_cases::CreateApprovalInput;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::Identity;
use metrics_exporter_prometheus::PrometheusRecorder;
use tower::ServiceExt as _;

use super::*;
use crate::system::{RandomIds, SystemClock};
use crate::wiring::wire;
use crate::{Adapters, App, Config, open_store, tasks, telemetry};

/// The service on a SQLite file in `dir`, with the console as its chat, and `recorder` behind
/// its `/metrics`.
async fn app(dir: &Path, recorder: &PrometheusRecorder) -> App {
    let config = Config::from_env([(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
        dir.join("metrics.db"),
    )])
    .unwrap();
    let persistence = open_store(&config).await.unwrap();
    let adapters = Adapters {
        persistence,
        chat: application::chat::ChatRouter::single(Arc::new(ConsoleGateway::new(
            &config.reachable_url(),
        ))),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sinks: Default::default(),
    };
    wire(&config, adapters, Some(recorder.handle())).unwrap()
}

/// `GET /metrics`, in-process.
async fn scrape(app: &App) -> String {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// The value of an unlabelled series in the Prometheus text format.
fn value(scraped: &str, name: &str) -> Option<f64> {
    scraped.lines().find_map(|line| {
        let (series, value) = line.split_once(' ')?;
        (series == name).then(|| value.parse().unwrap())
    })
}

/// The value of a series of the chat sink.
fn chat(scraped: &str, name: &str) -> Option<f64> {
    value(scraped, &format!("{name}{{{SINK_LABEL}=\"chat\"}}"))
}

async fn sample(app: &App) {
    sample_gauges(
        app.background.outbox.as_ref(),
        app.background.pool.as_deref(),
        &["chat"],
    )
    .await;
}

#[tokio::test]
async fn a_delivering_relay_round_moves_the_relay_counters_and_empties_the_outbox_gauge() {
    let recorder = telemetry::prometheus_recorder().unwrap();
    let _thread_recorder = metrics::set_default_local_recorder(&recorder);
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), &recorder).await;
    let input = CreateApprovalInput {
        title: "Deploy v7".into(),
        destination: "#deploys".into(),
        ..CreateApprovalInput::default()
    };
    app.use_cases()
        .create_approval
        .execute(Identity::parse("ci").unwrap(), input, None)
        .await
        .unwrap();

    sample(&app).await;
    let before = scrape(&app).await;
    assert_eq!(
        chat(&before, OUTBOX_PENDING_MESSAGES),
        Some(1.0),
        "{before}"
    );
    assert_eq!(chat(&before, OUTBOX_DEAD_LETTERS), Some(0.0), "{before}");
    assert_eq!(chat(&before, RELAY_DELIVERIES_TOTAL), None, "{before}");

    let report = tasks::relay_round(app.use_cases().relay("chat").unwrap())
        .await
        .unwrap();
    assert_eq!(report.delivered, 1);
    sample(&app).await;

    let after = scrape(&app).await;
    assert_eq!(chat(&after, RELAY_DELIVERIES_TOTAL), Some(1.0), "{after}");
    assert_eq!(chat(&after, RELAY_RETRIES_TOTAL), Some(0.0), "{after}");
    assert_eq!(chat(&after, RELAY_RATE_LIMITS_TOTAL), Some(0.0), "{after}");
    assert_eq!(chat(&after, RELAY_DEAD_LETTERS_TOTAL), Some(0.0), "{after}");
    assert_eq!(chat(&after, OUTBOX_PENDING_MESSAGES), Some(0.0), "{after}");
    assert!(
        after.contains("# TYPE relay_deliveries_total counter\n")
            && after.contains("# HELP relay_deliveries_total Outbox messages the relay"),
        "{after}"
    );
}

#[tokio::test]
async fn the_pool_gauges_show_the_sql_stores_connections() {
    let recorder = telemetry::prometheus_recorder().unwrap();
    let _thread_recorder = metrics::set_default_local_recorder(&recorder);
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), &recorder).await;

    sample(&app).await;
    let scraped = scrape(&app).await;
    let open = value(&scraped, DB_POOL_CONNECTIONS).expect("the pool size is exported");
    let idle = value(&scraped, DB_POOL_IDLE_CONNECTIONS).expect("idle connections too");
    // Migrating opened at least one connection. How many are idle depends on when sqlx
    // returns a finished query's connection to the pool, which it does in the background.
    assert!(open >= 1.0, "{scraped}");
    assert!((0.0..=open).contains(&idle), "{scraped}");
    assert!(
        scraped.contains("# TYPE db_pool_connections gauge\n"),
        "{scraped}"
    );
}
