//! The event stream's side of the process tests: a JetStream stream of its own per test,
//! deleted when the test ends, what it holds, and a TCP proxy between hexagate and the NATS
//! server that a test can slow down or cut — the real server is shared, so it is never
//! stopped.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use domain::ApprovalId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

/// The NATS server of the tests: `NATS_URL`, or the one `.ci/run` makes sure of.
pub fn nats_url() -> String {
    std::env::var("NATS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned())
}

/// A stream name and subject prefix of the test's own; the stream is deleted on drop.
pub struct TestStream {
    pub name: String,
    pub prefix: String,
    js: jetstream::Context,
}

impl TestStream {
    pub async fn new() -> Self {
        let token = Uuid::now_v7().simple().to_string();
        let client = async_nats::connect(nats_url()).await.unwrap();
        Self {
            name: format!("HEXAGATE_PROC_{}", token.to_uppercase()),
            prefix: format!("hexagate.proc.{token}"),
            js: jetstream::new(client),
        }
    }

    /// hexagate's settings for this stream, reaching NATS at `url`.
    pub fn environment(&self, url: &str) -> Vec<(String, String)> {
        [
            ("NATS_URL", url),
            ("HEXAGATE_NATS_STREAM", self.name.as_str()),
            ("HEXAGATE_NATS_SUBJECT_PREFIX", self.prefix.as_str()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
    }

    /// Messages stored so far; 0 while hexagate has not created the stream yet.
    pub async fn count(&self) -> u64 {
        match self.js.get_stream(&self.name).await {
            Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
            Err(_) => 0,
        }
    }

    /// Waits until the stream holds at least `count` messages or `limit` has passed, and
    /// returns what it holds then.
    pub async fn wait_for(&self, count: u64, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        loop {
            let stored = self.count().await;
            if stored >= count || Instant::now() >= deadline {
                return stored;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads every stored message and checks that no `Nats-Msg-Id` is there twice; returns
    /// the event types per approval, in stream order.
    pub async fn events_by_approval(&self) -> HashMap<ApprovalId, Vec<String>> {
        let stream = self.js.get_stream(&self.name).await.unwrap();
        let mut message_ids = HashSet::new();
        let mut events: HashMap<ApprovalId, Vec<String>> = HashMap::new();
        for sequence in 1..=self.count().await {
            let message = stream.get_raw_message(sequence).await.unwrap();
            let id = message
                .headers
                .get("Nats-Msg-Id")
                .map(|value| value.as_str().to_owned())
                .expect("every message carries a Nats-Msg-Id");
            assert!(message_ids.insert(id.clone()), "{id} was stored twice");
            let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            let aggregate =
                ApprovalId::from_uuid(body["aggregate_id"].as_str().unwrap().parse().unwrap());
            let event_type = body["event_type"].as_str().unwrap().to_owned();
            assert_eq!(
                message.subject.as_str(),
                format!("{}.{event_type}", self.prefix)
            );
            events.entry(aggregate).or_default().push(event_type);
        }
        events
    }

    /// Checks that the stream holds, for each of `ids`, its events once and in order: the
    /// first `approved` of them requested, decided and approved, the others only requested.
    pub async fn assert_each_once_in_order(&self, ids: &[ApprovalId], approved: usize) {
        let events = self.events_by_approval().await;
        assert_eq!(events.len(), ids.len(), "one entry per approval");
        for (n, id) in ids.iter().enumerate() {
            let want: &[&str] = if n < approved {
                &[
                    "approval.requested",
                    "approval.decision_recorded",
                    "approval.approved",
                ]
            } else {
                &["approval.requested"]
            };
            assert_eq!(events[id], want, "approval {n}");
        }
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot await, and the test's runtime may be unwinding: a runtime of its own.
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

/// What the proxy does with the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwards every chunk, each after `delay`, in both directions.
    Pass { delay: Duration },
    /// Closes every connection and refuses new ones, as a server that is down does.
    Down,
}

/// A TCP proxy in front of the NATS server, on a port of its own.
pub struct TcpProxy {
    /// `nats://127.0.0.1:<port>`: what hexagate's `NATS_URL` is set to.
    pub url: String,
    mode: watch::Sender<Mode>,
}

impl TcpProxy {
    pub async fn start() -> Self {
        let upstream = url::Url::parse(&nats_url()).unwrap();
        let upstream = format!(
            "{}:{}",
            upstream.host_str().unwrap(),
            upstream.port().unwrap_or(4222)
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("nats://{}", listener.local_addr().unwrap());
        let (mode, watching) = watch::channel(Mode::Pass {
            delay: Duration::ZERO,
        });
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *watching.borrow() == Mode::Down {
                    continue; // dropped: closed at once
                }
                tokio::spawn(forward(client, upstream.clone(), watching.clone()));
            }
        });
        Self { url, mode }
    }

    /// Delays every chunk in both directions by `delay`: publishes and their acks are slow.
    pub fn slow_down(&self, delay: Duration) {
        self.mode.send_replace(Mode::Pass { delay });
    }

    /// Cuts every connection and refuses new ones until [`Self::restore`].
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Down);
    }

    /// Forwards again, without delay.
    pub fn restore(&self) {
        self.slow_down(Duration::ZERO);
    }
}

async fn forward(client: TcpStream, upstream: String, mut mode: watch::Receiver<Mode>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (from_client, to_client) = client.into_split();
    let (from_server, to_server) = server.into_split();
    tokio::select! {
        () = pump(from_client, to_server, mode.clone()) => {}
        () = pump(from_server, to_client, mode.clone()) => {}
        () = async {
            while mode.changed().await.is_ok() {
                if *mode.borrow() == Mode::Down {
                    return;
                }
            }
        } => {}
    }
    // Leaving drops both sockets: the connection is closed on both sides.
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mode: watch::Receiver<Mode>) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let delay = match *mode.borrow() {
            Mode::Pass { delay } => delay,
            Mode::Down => return,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
