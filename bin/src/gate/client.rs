//! `gate`'s side of the REST API: create the request, long-poll it, and tell a failure worth
//! retrying from one that is not.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use reqwest::{Client, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use uuid::Uuid;

/// How long one long-poll asks the service to wait: the most it grants.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Extra time a long-poll may take beyond its wait before the client counts it as lost.
const GRACE: Duration = Duration::from_secs(15);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    /// Worth trying again: the service is restarting, overloaded, or the network dropped.
    #[error("{reason}")]
    Transient {
        reason: String,
        /// The service's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help: a refused key, a bad request, an unknown id.
    #[error("{0}")]
    Permanent(String),
}

/// The service at one base URL, called with one API key.
pub(crate) struct GateClient {
    http: Client,
    base: String,
    authorization: HeaderValue,
}

impl GateClient {
    /// # Errors
    /// A description when `base` is not an http(s) URL, the key cannot be sent as a header,
    /// or no client can be built.
    pub(crate) fn new(base: &str, api_key: &SecretString) -> Result<Self, String> {
        // Checked once here: a malformed URL is a usage error, not an outage to wait out.
        match url::Url::parse(base) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => return Err(format!("--url {base:?} is not an http(s) URL")),
        }
        install_crypto_provider();
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", api_key.expose_secret()))
                .map_err(|_| "the API key holds characters a header cannot".to_owned())?;
        authorization.set_sensitive(true);
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Redirects would carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            authorization,
        })
    }

    /// Creates the request (or, with a key used before, gets the first answer again).
    pub(crate) async fn create(&self, body: &Value, key: &str) -> Result<Value, CallError> {
        let request = self
            .http
            .post(format!("{}/v1/approvals", self.base))
            .header(AUTHORIZATION, self.authorization.clone())
            .header("Idempotency-Key", key)
            .timeout(Duration::from_secs(30))
            .json(body);
        answer(request.send().await).await
    }

    /// The request, once it settles or `wait` passes.
    pub(crate) async fn wait(&self, id: Uuid, wait: Duration) -> Result<Value, CallError> {
        let request = self
            .http
            .get(format!(
                "{}/v1/approvals/{id}?wait={}s",
                self.base,
                wait.as_secs()
            ))
            .header(AUTHORIZATION, self.authorization.clone())
            .timeout(wait + GRACE);
        answer(request.send().await).await
    }
}

/// The JSON of a 2xx answer; anything else classified.
async fn answer(sent: reqwest::Result<reqwest::Response>) -> Result<Value, CallError> {
    let response = sent.map_err(|error| CallError::Transient {
        reason: format!("cannot reach the service: {}", error_chain(&error)),
        retry_after: None,
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .map(Duration::from_secs);
    let body = response
        .text()
        .await
        .map_err(|error| CallError::Transient {
            reason: format!("the answer broke off: {}", error_chain(&error)),
            retry_after: None,
        })?;
    if status.is_success() {
        return serde_json::from_str(&body).map_err(|error| {
            CallError::Permanent(format!(
                "the service answered {status} with no JSON: {error}"
            ))
        });
    }
    let reason = format!("the service answered {status}: {}", problem_detail(&body));
    if is_transient(status) {
        Err(CallError::Transient {
            reason,
            retry_after,
        })
    } else {
        Err(CallError::Permanent(reason))
    }
}

/// Outages, overload, timeouts, and a create whose key is still being processed.
fn is_transient(status: StatusCode) -> bool {
    status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
        )
}

/// A problem's `detail` (or `title`), or the start of a body that is not one.
fn problem_detail(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|problem| {
            let text = problem.get("detail").or_else(|| problem.get("title"))?;
            Some(text.as_str()?.to_owned())
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// reqwest's own message says little ("error sending request"); its sources say why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// reqwest is built with `rustls-no-provider` (see the Slack client); an `https` URL needs a
/// process-wide provider. Installing twice is harmless.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_overload_and_in_flight_keys_are_worth_retrying() {
        for status in [500, 502, 503, 408, 409, 429] {
            assert!(
                is_transient(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 422] {
            assert!(
                !is_transient(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
    }

    #[test]
    fn only_an_http_url_makes_a_client() {
        let key = SecretString::from("key");
        assert!(GateClient::new("https://gate.example.com/", &key).is_ok());
        for bad in ["gate.example.com", "ftp://gate.example.com", "http://"] {
            assert!(GateClient::new(bad, &key).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_problem_is_summed_up_by_its_detail() {
        let problem = r#"{"type":"x","title":"Unauthorized","detail":"unknown API key"}"#;
        assert_eq!(problem_detail(problem), "unknown API key");
        assert_eq!(problem_detail("<html>"), "<html>");
    }
}
