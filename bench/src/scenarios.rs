//! The HTTP workloads, the same for hexagate and the flat baseline: create, get, decide, and
//! (hexagate only) create with an `Idempotency-Key`. Each one is measured on the service's
//! side too: the CPU time it used per request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::Error;
use crate::load::{self, Outcome, Summary};
use crate::service::Process;

/// The callers: one that asks, one that decides (nobody may approve their own request).
#[derive(Debug, Clone)]
pub struct Keys {
    pub requester: String,
    pub approver: String,
}

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub connections: usize,
    pub duration: Duration,
}

/// One workload's figures: the client's view and the server's CPU time per request.
#[derive(Debug, Clone)]
pub struct Measured {
    pub summary: Summary,
    pub cpu_per_request: Duration,
}

/// A service under load, with the ids of what was created in it so far.
pub struct Target<'a> {
    process: &'a Process,
    client: reqwest::Client,
    keys: Keys,
    /// Created and still pending: what `get` reads and `decide` settles.
    created: Arc<Mutex<Vec<String>>>,
}

/// Longer than any preload takes; it stops at its count.
const PRELOAD_LIMIT: Duration = Duration::from_secs(3600);

/// What every create sends: the README's example.
fn new_approval() -> serde_json::Value {
    json!({"title": "Deploy model v7 to production?", "destination": "C0BENCH0001"})
}

impl<'a> Target<'a> {
    pub fn new(process: &'a Process, keys: Keys, pace: Pace) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(pace.connections)
            .build()?;
        Ok(Self {
            process,
            client,
            keys,
            created: Arc::default(),
        })
    }

    /// Measures `workload` on the server's clock as well as the client's.
    async fn measured<F>(&self, workload: F) -> Result<Measured, Error>
    where
        F: Future<Output = Summary>,
    {
        let cpu_before = self.process.cpu_time()?;
        let summary = workload.await;
        let cpu = self.process.cpu_time()?.saturating_sub(cpu_before);
        let requests = summary.successes() + summary.failures;
        Ok(Measured {
            cpu_per_request: cpu / u32::try_from(requests.max(1)).unwrap_or(u32::MAX),
            summary,
        })
    }

    /// `POST /v1/approvals`, each with a fresh `Idempotency-Key` when `idempotent`.
    pub async fn create(&self, pace: Pace, idempotent: bool) -> Result<Measured, Error> {
        let url = format!("{}/v1/approvals", self.process.base_url);
        let (client, key, created) = (
            self.client.clone(),
            self.keys.requester.clone(),
            self.created.clone(),
        );
        // Unique across runs against the same database, not only within this one.
        let run = rand::random::<u32>();
        self.measured(load::run(
            pace.connections,
            pace.duration,
            None,
            move |seq| {
                let mut request = client.post(&url).bearer_auth(&key).json(&new_approval());
                if idempotent {
                    request = request.header("Idempotency-Key", format!("\"bench-{run}-{seq}\""));
                }
                let created = created.clone();
                async move {
                    match load::exchange(request, StatusCode::CREATED).await {
                        Ok(Some(location)) => {
                            if let Some(id) = location.rsplit('/').next()
                                && let Ok(mut created) = created.lock()
                            {
                                created.push(id.to_owned());
                            }
                            Outcome::Done
                        }
                        Ok(None) => Outcome::Failed("a 201 without Location".into()),
                        Err(why) => Outcome::Failed(why),
                    }
                }
            },
        ))
        .await
    }

    /// `GET /v1/approvals/{id}` over the ids created so far, round robin.
    pub async fn get(&self, pace: Pace) -> Result<Measured, Error> {
        let ids: Arc<Vec<String>> = Arc::new(self.created()?);
        if ids.is_empty() {
            return Err("nothing was created to get".into());
        }
        let (client, key) = (self.client.clone(), self.keys.requester.clone());
        let base = self.process.base_url.clone();
        self.measured(load::run(
            pace.connections,
            pace.duration,
            None,
            move |seq| {
                let id = &ids[usize::try_from(seq).unwrap_or_default() % ids.len()];
                let request = client
                    .get(format!("{base}/v1/approvals/{id}"))
                    .bearer_auth(&key);
                async move {
                    match load::exchange(request, StatusCode::OK).await {
                        Ok(_) => Outcome::Done,
                        Err(why) => Outcome::Failed(why),
                    }
                }
            },
        ))
        .await
    }

    /// `POST /v1/approvals/{id}/decisions` approving each created request once, until the
    /// time is up or every one is settled.
    pub async fn decide(&self, pace: Pace) -> Result<Measured, Error> {
        let ids: Arc<Vec<String>> = Arc::new(std::mem::take(&mut *self.lock()?));
        let (client, key) = (self.client.clone(), self.keys.approver.clone());
        let base = self.process.base_url.clone();
        self.measured(load::run(
            pace.connections,
            pace.duration,
            None,
            move |seq| {
                let id = usize::try_from(seq).ok().and_then(|seq| ids.get(seq));
                let request = id.map(|id| {
                    client
                        .post(format!("{base}/v1/approvals/{id}/decisions"))
                        .bearer_auth(&key)
                        .json(&json!({"verdict": "approve", "comment": "looks good"}))
                });
                async move {
                    let Some(request) = request else {
                        return Outcome::Exhausted;
                    };
                    match load::exchange(request, StatusCode::OK).await {
                        Ok(_) => Outcome::Done,
                        Err(why) => Outcome::Failed(why),
                    }
                }
            },
        ))
        .await
    }

    /// `GET /v1/approvals?limit=20&cursor=…`, walking the pages from the newest down: every
    /// answer's `next_cursor` is the next request's cursor, so concurrent workers read pages
    /// ever deeper into the table (two may read the same page), back to the first page
    /// after the last.
    pub async fn list(&self, pace: Pace) -> Result<Measured, Error> {
        let (client, key) = (self.client.clone(), self.keys.requester.clone());
        let first_page =
            reqwest::Url::parse(&format!("{}/v1/approvals?limit=20", self.process.base_url))?;
        let cursor: Arc<Mutex<Option<String>>> = Arc::default();
        self.measured(load::run(
            pace.connections,
            pace.duration,
            None,
            move |_| {
                let mut url = first_page.clone();
                if let Some(current) = cursor.lock().ok().and_then(|slot| slot.clone()) {
                    url.query_pairs_mut().append_pair("cursor", &current);
                }
                let request = client.get(url).bearer_auth(&key);
                let cursor = cursor.clone();
                async move {
                    match load::fetch_json(request).await {
                        Ok(page) => {
                            if let Ok(mut slot) = cursor.lock() {
                                *slot = page["next_cursor"].as_str().map(ToOwned::to_owned);
                            }
                            Outcome::Done
                        }
                        Err(why) => Outcome::Failed(why),
                    }
                }
            },
        ))
        .await
    }

    /// Creates exactly `count` approvals as fast as the service takes them.
    pub async fn preload(&self, pace: Pace, count: u64) -> Result<Summary, Error> {
        let url = format!("{}/v1/approvals", self.process.base_url);
        let (client, key) = (self.client.clone(), self.keys.requester.clone());
        let summary = load::run(pace.connections, PRELOAD_LIMIT, Some(count), move |_| {
            let request = client.post(&url).bearer_auth(&key).json(&new_approval());
            async move {
                match load::exchange(request, StatusCode::CREATED).await {
                    Ok(_) => Outcome::Done,
                    Err(why) => Outcome::Failed(why),
                }
            }
        })
        .await;
        if summary.failures > 0 {
            return Err(
                format!("{} of {count} preloading creates failed", summary.failures).into(),
            );
        }
        Ok(summary)
    }

    fn created(&self) -> Result<Vec<String>, Error> {
        Ok(self.lock()?.clone())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<String>>, Error> {
        self.created
            .lock()
            .map_err(|_| "a worker panicked while recording an id".into())
    }
}
