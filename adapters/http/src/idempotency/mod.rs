//! `Idempotency-Key` on every `POST` under `/v1` (IETF draft
//! `draft-ietf-httpapi-idempotency-key-header`): a client that retries a request with the
//! same key gets the first answer again instead of a second effect.
//!
//! The flow, for a `POST` that carries the header (any other request passes untouched):
//!
//! 1. Authenticate: keys are scoped to the client, so two clients may pick the same key.
//! 2. Read the key (`header.rs`) and the body (within the body limit), and fingerprint the
//!    request: SHA-256 over method, path with query, and body.
//! 3. Claim the key in the [`IdempotencyStore`] under a fresh token (a [`KeyClaim`]):
//!    - `Acquired` → run the handler, which finds the claim through the [`HeldKey`]
//!      extractor. A handler whose use case changes state hands it an [`Answer`]: the use
//!      case renders the response from its result and saves it with the change, in one
//!      transaction. Afterwards a lasting answer (any status below 500 that is not a
//!      transient problem such as a lost race) is stored with `complete` — a no-op when the
//!      change already stored it, the storage of record for answers that changed nothing
//!      (a refusal, a repeated verdict). A transient one is forgotten with `release`, so
//!      the retry it invites can run.
//!    - `Completed` → replay the stored status, headers and body, marked
//!      `Idempotent-Replayed: true`. A replayed problem keeps the `request_id` of the request
//!      that produced it; the response's `x-request-id` header names the retry.
//!    - `InFlight` → 409 `idempotency-key-in-flight` with `Retry-After` set to the seconds
//!      left on the holder's lock: by then the holder has answered (a retry replays it) or
//!      is presumed dead (a retry takes the key over). A live holder usually answers sooner.
//!    - `Mismatch` → 422 `idempotency-key-reused`.
//!
//! Because a change commits with its answer, a request cut short after its commit (a crash,
//! the timeout, a vanished client) still leaves the key answered, and its retry replays
//! instead of running again. A request cut short before its commit leaves the key in flight
//! until the lock runs out; then a retry takes it over under a new token, and should the
//! first request wake up and try to save, its receipt names the old token and the store
//! refuses the whole save (`ClaimLost`). Either way the change happens once.

mod header;

use std::sync::Arc;
use std::time::Duration;

use application::ports::{Claim, Clock, IdGenerator, IdempotencyStore, KeyClaim, StoredResponse};
use application::use_cases::{Answer, Authenticate};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use header::IDEMPOTENCY_KEY;

use crate::auth::{self, Authenticated};
use crate::problem::{Problem, ProblemType, problem_type_of};
use crate::state::{ApiState, HttpSettings};

/// Marks a response that repeats a stored one.
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The response headers worth replaying; the rest (date, request id) belong to each answer.
const STORED_HEADERS: [HeaderName; 2] = [CONTENT_TYPE, LOCATION];

/// How much longer than the request timeout a claimed key stays locked.
const LOCK_MARGIN: Duration = Duration::from_secs(1);

/// What the middleware needs: the store, the time, claim tokens, and the way to identify the
/// caller.
pub(crate) struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    authenticate: Authenticate,
    ttl: TimeDelta,
    lock: TimeDelta,
    body_limit: usize,
}

impl Idempotency {
    pub(crate) fn new(api: &ApiState, settings: &HttpSettings) -> Self {
        Self {
            store: api.idempotency.clone(),
            clock: api.clock.clone(),
            ids: api.ids.clone(),
            authenticate: api.use_cases.authenticate.clone(),
            // Out of chrono's range means "forever" in practice; saturate rather than fail.
            ttl: TimeDelta::from_std(settings.idempotency_ttl).unwrap_or(TimeDelta::MAX),
            lock: TimeDelta::from_std(lock_duration(settings.request_timeout))
                .unwrap_or(TimeDelta::MAX),
            body_limit: settings.body_limit_bytes,
        }
    }
}

/// How long a claimed key stays in flight before another request may take it over: the
/// request timeout plus one second (11 s with the default 10 s timeout).
///
/// The timeout layer sits outside this middleware, so it bounds the holder's whole run,
/// claim and settle included: once the lock runs out, its holder has answered or been
/// dropped, and a retry right after a crash waits at most this long. A longer lock would
/// only make that retry wait longer. Nor does it have to cover clock skew between instances:
/// should a takeover come early while the holder still runs, the fencing token (see
/// [`KeyClaim`]) refuses the holder's save, so the change still happens once.
pub(crate) fn lock_duration(request_timeout: Duration) -> Duration {
    request_timeout.saturating_add(LOCK_MARGIN)
}

/// Middleware (a route layer on the `/v1` routes): see the module docs for the flow.
pub(crate) async fn enforce(
    State(idempotency): State<Arc<Idempotency>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(IDEMPOTENCY_KEY) {
        return next.run(request).await;
    }
    idempotency
        .handle(request, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

impl Idempotency {
    async fn handle(&self, request: Request, next: Next) -> Result<Response, Problem> {
        // First, so a request without a valid API key gets the same 401 as without the header.
        let caller = auth::authenticate(&self.authenticate, request.headers()).await?;
        let Some(key) = header::read(request.headers())? else {
            return Ok(next.run(request).await);
        };
        let (mut parts, body) = request.into_parts();
        let body = buffer(body, self.body_limit).await?;
        let fingerprint = fingerprint(&parts.method, &parts.uri, &body);

        let claim = KeyClaim {
            scope: caller.0.clone(),
            key,
            token: self.ids.new_id(),
        };
        let now = self.clock.now();
        let claimed = self
            .store
            .claim(
                &claim,
                &fingerprint,
                now,
                later(now, self.lock),
                later(now, self.ttl),
            )
            .await?;
        match claimed {
            Claim::Acquired => {}
            Claim::Completed(stored) => {
                tracing::info!(
                    idempotency_key = claim.key.as_str(),
                    "replayed a stored response"
                );
                return replay(stored);
            }
            Claim::InFlight { locked_until } => {
                let seconds = seconds_until(now, locked_until);
                return Err(Problem::new(
                    ProblemType::IDEMPOTENCY_KEY_IN_FLIGHT,
                    format!(
                        "a request with this Idempotency-Key is still being processed; retry \
                         to get its result: within {seconds} s it has answered or its lock \
                         has run out"
                    ),
                )
                .retry_after(seconds));
            }
            Claim::Mismatch => {
                return Err(Problem::new(
                    ProblemType::IDEMPOTENCY_KEY_REUSED,
                    "this Idempotency-Key was used for a request with another method, path \
                     or body; use a new key for a new request",
                ));
            }
        }

        // The handler's extractors take the caller and the claim from here.
        parts.extensions.insert::<Authenticated>(caller);
        parts.extensions.insert(HeldKey(Some(claim.clone())));
        let response = next.run(Request::from_parts(parts, Body::from(body))).await;
        self.settle(&claim, response).await
    }

    /// Stores a lasting answer for replay, or releases the key after a transient one.
    async fn settle(&self, claim: &KeyClaim, response: Response) -> Result<Response, Problem> {
        let transient = response.status().is_server_error()
            || problem_type_of(&response).is_some_and(ProblemType::is_transient);
        if transient {
            if let Err(error) = self.store.release(claim).await {
                tracing::warn!(
                    %error,
                    idempotency_key = claim.key.as_str(),
                    "could not release the key; retries get 409 until its lock runs out"
                );
            }
            return Ok(response);
        }

        let (parts, body) = response.into_parts();
        // The handlers' bodies are already in memory; this only collects them.
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|error| {
                tracing::error!(%error, "could not read a response body to store it");
                Problem::internal()
            })?;
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: stored_headers(&parts.headers),
            body: body.to_vec(),
        };
        // A change stored this answer with itself already, and then this changes nothing.
        // For an answer without a change, a failure here loses only the replay: a retry
        // after the lock runs out asks again, and getting the same refusal changes nothing.
        if let Err(error) = self.store.complete(claim, &stored).await {
            tracing::error!(
                %error,
                idempotency_key = claim.key.as_str(),
                "could not store the response; a retry after the lock runs out asks again"
            );
        }
        Ok(Response::from_parts(parts, Body::from(body)))
    }
}

/// The `Idempotency-Key` claim the request holds, if it sent a key: what a handler needs to
/// give its use case an [`Answer`]. Never rejects.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeldKey(Option<KeyClaim>);

impl HeldKey {
    /// The answer to pass to a use case: the held claim, and `respond`, which renders the
    /// response from the use case's result. `None` without a key.
    pub(crate) fn answer<'a, T>(
        &'a self,
        respond: &'a (dyn Fn(&T) -> StoredResponse + Send + Sync),
    ) -> Option<Answer<'a, T>> {
        self.0.as_ref().map(|claim| Answer::new(claim, respond))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HeldKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_default())
    }
}

/// Reads the whole request body, which the fingerprint and the store both need.
///
/// # Errors
/// `body-too-large` past the limit (a body without `Content-Length` is only caught here);
/// `malformed-body` when the client stops sending halfway.
async fn buffer(body: Body, limit: usize) -> Result<Bytes, Problem> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        if is_length_limit(&error) {
            Problem::new(
                ProblemType::BODY_TOO_LARGE,
                "the request body exceeds the size limit",
            )
        } else {
            Problem::new(
                ProblemType::MALFORMED_BODY,
                "the request body could not be read",
            )
        }
    })
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// SHA-256, hex-encoded, over the method, the path with its query, and the body bytes. A
/// newline separates the parts: neither a method nor a request target can contain one, so
/// two different requests never hash the same input.
fn fingerprint(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let target = uri.path_and_query().map_or("/", |target| target.as_str());
    let mut hasher = Sha256::new();
    hasher.update(method.as_str());
    hasher.update(b"\n");
    hasher.update(target);
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Whole seconds from `now` to `then`, rounded up, at least 1: a `Retry-After` never says 0.
fn seconds_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u32 {
    let millis = (then - now).num_milliseconds().max(0);
    u32::try_from(millis.saturating_add(999) / 1000)
        .unwrap_or(u32::MAX)
        .max(1)
}

fn later(now: DateTime<Utc>, by: TimeDelta) -> DateTime<Utc> {
    now.checked_add_signed(by)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn stored_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    STORED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

/// The stored answer, as it was first sent, marked as a replay.
///
/// # Errors
/// A 500 problem when the stored record is not a valid response (a corrupt store).
fn replay(stored: StoredResponse) -> Result<Response, Problem> {
    let corrupt = |what: &str| {
        tracing::error!(what, "a stored idempotent response is corrupt");
        Problem::internal()
    };
    let status = StatusCode::from_u16(stored.status).map_err(|_| corrupt("status"))?;
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = status;
    for (name, value) in &stored.headers {
        let name = HeaderName::try_from(name.as_str()).map_err(|_| corrupt("header name"))?;
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| corrupt("header value"))?;
        response.headers_mut().append(name, value);
    }
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_outlasts_the_request_by_a_second() {
        assert_eq!(
            lock_duration(Duration::from_secs(10)),
            Duration::from_secs(11)
        );
        assert_eq!(lock_duration(Duration::MAX), Duration::MAX);
    }

    #[test]
    fn retry_after_rounds_the_time_left_up_and_never_says_zero() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let after = |millis| now + TimeDelta::milliseconds(millis);
        assert_eq!(seconds_until(now, after(11_000)), 11);
        assert_eq!(seconds_until(now, after(6_001)), 7);
        assert_eq!(seconds_until(now, after(0)), 1);
        assert_eq!(seconds_until(now, after(-5_000)), 1);
    }

    #[test]
    fn the_fingerprint_covers_method_target_and_body() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        let base = fingerprint(&Method::POST, &uri("/v1/approvals"), b"{}");
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            fingerprint(&Method::POST, &uri("/v1/approvals"), b"{}")
        );
        for other in [
            fingerprint(&Method::PUT, &uri("/v1/approvals"), b"{}"),
            fingerprint(&Method::POST, &uri("/v1/approvals?x=1"), b"{}"),
            fingerprint(&Method::POST, &uri("/v1/approvals"), b"{ }"),
            // The separator keeps the parts apart: path and body cannot trade bytes.
            fingerprint(&Method::POST, &uri("/v1/approvals/"), b"{}"),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn a_replay_repeats_status_headers_and_body_and_says_so() {
        let stored = StoredResponse {
            status: 201,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("location".into(), "/v1/approvals/1".into()),
            ],
            body: b"{\"id\":1}".to_vec(),
        };
        let response = replay(stored).unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[LOCATION], "/v1/approvals/1");
        assert_eq!(response.headers()[IDEMPOTENT_REPLAYED], "true");
    }

    #[test]
    fn a_corrupt_record_is_a_500_not_a_panic() {
        for stored in [
            StoredResponse {
                status: 1000,
                headers: vec![],
                body: vec![],
            },
            StoredResponse {
                status: 200,
                headers: vec![("bad name".into(), "x".into())],
                body: vec![],
            },
            StoredResponse {
                status: 200,
                headers: vec![("x".into(), "bad\nvalue".into())],
                body: vec![],
            },
        ] {
            let problem = replay(stored).unwrap_err().into_response();
            assert_eq!(problem.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
    }

    #[test]
    fn only_replayable_headers_are_stored() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-request-id", HeaderValue::from_static("abc"));
        assert_eq!(
            stored_headers(&headers),
            [("content-type".to_owned(), "application/json".to_owned())]
        );
    }
}
