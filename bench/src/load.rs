//! The load generator: a fixed number of workers, each sending its next request as soon as
//! the previous one was answered (a closed loop, like `wrk`), for a fixed time or until the
//! work runs out. Every latency is kept, so the percentiles are exact.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one request came to.
#[derive(Debug)]
pub enum Outcome {
    /// Answered as expected.
    Done,
    /// An unexpected status or a transport error, with what it was.
    Failed(String),
    /// Nothing left to do: the worker stops (a decide run that used every pending id).
    Exhausted,
}

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
    pub failures: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn successes(&self) -> u64 {
        self.latencies.len() as u64
    }

    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency `quantile` (0–1) of the successful requests; zero when there were none.
    pub fn latency(&self, quantile: f64) -> Duration {
        let Some(last) = self.latencies.len().checked_sub(1) else {
            return Duration::ZERO;
        };
        let rank = (quantile * last as f64).round() as usize;
        self.latencies[rank.min(last)]
    }
}

/// Runs `request` on `workers` concurrent workers for `duration` (or until one returns
/// `Exhausted`, or `limit` requests were sent) and summarizes the latencies. `request` gets
/// a number unique within the run, for idempotency keys and the like.
pub async fn run<F, Fut>(
    workers: usize,
    duration: Duration,
    limit: Option<u64>,
    request: F,
) -> Summary
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicU64::new(0));
    let reported = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (request, next, reported) = (request.clone(), next.clone(), reported.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0;
                while Instant::now() < deadline {
                    let seq = next.fetch_add(1, Ordering::Relaxed);
                    if limit.is_some_and(|limit| seq >= limit) {
                        break;
                    }
                    let sent = Instant::now();
                    match request(seq).await {
                        Outcome::Done => latencies.push(sent.elapsed()),
                        Outcome::Failed(why) => {
                            failures += 1;
                            // One line per run is enough to see what went wrong.
                            if !reported.swap(true, Ordering::Relaxed) {
                                eprintln!("    first failed request: {why}");
                            }
                        }
                        Outcome::Exhausted => break,
                    }
                }
                (latencies, failures, Instant::now())
            })
        })
        .collect();

    let mut summary = Summary {
        latencies: Vec::new(),
        failures: 0,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        // A worker only ends by returning; a panic in one would be a bug in this file.
        if let Ok((latencies, failures, finished)) = task.await {
            summary.latencies.extend(latencies);
            summary.failures += failures;
            summary.elapsed = summary.elapsed.max(finished - start);
        }
    }
    summary.latencies.sort_unstable();
    summary
}

/// Sends `request` and checks its status, reading the body to the end so the connection is
/// reused. Returns the `Location` header, which is where a create says what it created.
pub async fn exchange(
    request: reqwest::RequestBuilder,
    expected: reqwest::StatusCode,
) -> Result<Option<String>, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(ToOwned::to_owned);
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status == expected {
        Ok(location)
    } else {
        Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)))
    }
}

/// Sends `request`, expects `200` and returns the JSON body.
pub async fn fetch_json(request: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
    }
    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))
}
