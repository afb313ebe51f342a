//! Graceful shutdown, end to end: the real wiring on a SQLite file, served on a real socket.
//!
//! A request is left in flight on purpose (its body only half sent) when shutdown is
//! requested. The server must stop accepting connections, finish that request, and only then
//! end; and when a request never finishes, the drain must still end after the grace period.

// Helpers below are test code too; clippy.toml's allowances only reach `#[test]` functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

use std::time::Duration;

use application::use_cases::ListApprovalsInput;
use secrecy::ExposeSecret;
use service::{App, Config, RunError, Workers};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const BODY: &str = r#"{"title":"Deploy model v7","destination":"C0123456789"}"#;

struct Running {
    /// Holds the database file; removed on drop.
    _dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
    api_key: String,
    shutdown: CancellationToken,
    server: JoinHandle<Result<(), RunError>>,
    config: Config,
}

async fn start(extra: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db");
    let vars = [(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
        database.to_str().unwrap(),
    )];
    let config = Config::from_env(vars.iter().chain(extra).copied()).unwrap();
    let app: App = service::build(&config).await.unwrap();
    let created = app.use_cases().create_api_key.execute("ci").await.unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.serve(listener, Workers::NONE, shutdown.clone()));
    Running {
        _dir: dir,
        addr,
        api_key: created.key.expose_secret().to_owned(),
        shutdown,
        server,
        config,
    }
}

/// Opens a connection and sends a create request with only the first half of its body.
async fn start_request(running: &Running) -> TcpStream {
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let head = format!(
        "POST /v1/approvals HTTP/1.1\r\n\
         host: {}\r\n\
         authorization: Bearer {}\r\n\
         content-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        running.addr,
        running.api_key,
        BODY.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&BODY.as_bytes()[..BODY.len() / 2])
        .await
        .unwrap();
    // Let the server read the head and start waiting for the rest of the body.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream
}

#[tokio::test]
async fn a_request_in_flight_completes_before_the_server_stops() {
    let running = start(&[]).await;
    let mut stream = start_request(&running).await;

    running.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !running.server.is_finished(),
        "the server must wait for the request in flight"
    );
    assert!(
        TcpStream::connect(running.addr).await.is_err(),
        "no new connections are accepted during the drain"
    );

    stream
        .write_all(&BODY.as_bytes()[BODY.len() / 2..])
        .await
        .unwrap();
    let mut response = String::new();
    // The server closes the connection after this last response, which ends the read.
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .expect("the response arrives")
        .unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "unexpected response: {response}"
    );

    let outcome = tokio::time::timeout(Duration::from_secs(5), running.server)
        .await
        .expect("the server stops once the request is done")
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");

    // The stopped server closed its connections; a restarted one finds the request stored.
    let restarted = service::build(&running.config).await.unwrap();
    let page = restarted
        .use_cases()
        .list_approvals
        .execute(ListApprovalsInput::default())
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "the request that was in flight was stored"
    );
}

#[tokio::test]
async fn a_request_that_never_finishes_cannot_hold_shutdown_past_the_grace_period() {
    let running = start(&[(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SHUTDOWN_GRACE"),
        "300ms",
    )])
    .await;
    // Never sends the rest of its body.
    let _stream = start_request(&running).await;

    running.shutdown.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(5), running.server)
        .await
        .expect("the drain is bounded")
        .unwrap();
    assert!(
        matches!(outcome, Err(RunError::DrainTimedOut { grace }) if grace == Duration::from_millis(300)),
        "{outcome:?}"
    );
}
