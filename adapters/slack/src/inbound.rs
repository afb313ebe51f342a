//! The inbound half: Slack's routes, their shared state, and the extractor that verifies every
//! request before a handler sees its body.

use std::sync::Arc;

use application::chat::ChatSubjects;
use application::ports::Clock;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::SecretString;

use crate::settings::{SlackSettings, SlackSetupError};
use crate::signature::{SignatureHeaders, verify};
use crate::{commands, interactions};

/// Slack's payloads are a few KiB; anything much larger is not from Slack and is refused
/// with 413 before it is buffered.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the Slack routes need: the subjects whose actions they take and how to verify a
/// request.
#[derive(Clone)]
pub struct SlackState(Arc<Inner>);

struct Inner {
    subjects: ChatSubjects,
    signing_secret: SecretString,
    app_id: Option<String>,
    clock: Arc<dyn Clock>,
}

impl SlackState {
    /// Takes the signing secret and app id from `settings`. `clock` decides whether a request
    /// timestamp is fresh; pass the same clock the use cases run on.
    ///
    /// # Errors
    /// `EmptySigningSecret` or `EmptyAppId`.
    pub fn new(
        subjects: ChatSubjects,
        settings: &SlackSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SlackSetupError> {
        settings.validate_inbound()?;
        Ok(Self(Arc::new(Inner {
            subjects,
            signing_secret: settings.signing_secret.clone(),
            app_id: settings.app_id.clone(),
            clock,
        })))
    }

    pub(crate) fn subjects(&self) -> &ChatSubjects {
        &self.0.subjects
    }

    /// Refuses a payload meant for another Slack app, when an app id is configured.
    ///
    /// 403, not 401: the signature already proved the sender is Slack, so this is not a failed
    /// authentication but a request this service is not the right recipient for — in practice
    /// a second app sharing the signing secret, which an operator should hear about.
    pub(crate) fn check_app(&self, api_app_id: Option<&str>) -> Result<(), StatusCode> {
        match &self.0.app_id {
            Some(expected) if api_app_id != Some(expected.as_str()) => {
                tracing::warn!(
                    expected,
                    received = api_app_id.unwrap_or("<none>"),
                    "refused a Slack request for another app"
                );
                Err(StatusCode::FORBIDDEN)
            }
            _ => Ok(()),
        }
    }
}

/// The Slack routes, ready to be merged into the service's router:
/// `POST /slack/interactions` (button clicks) and `POST /slack/commands` (slash commands).
pub fn routes(state: SlackState) -> Router {
    Router::new()
        .route("/slack/interactions", post(interactions::receive))
        .route("/slack/commands", post(commands::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The raw body of a request whose Slack signature checked out.
///
/// Slack handlers take their body only through this extractor, so no handler can read an
/// unverified byte. It answers by itself when the request is not for a handler: 413 for a body
/// over the limit, 401 for a bad signature, and 200 for Slack's `ssl_check` probe.
pub(crate) struct SignedBody(pub Bytes);

impl FromRequest<SlackState> for SignedBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &SlackState) -> Result<Self, Response> {
        let headers = SignatureHeaders::read(request.headers());
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                tracing::warn!(error = %rejection, "refused a Slack request body");
                rejection.into_response()
            })?;
        if is_ssl_check(&body) {
            tracing::debug!("answered Slack's ssl_check");
            return Err(StatusCode::OK.into_response());
        }
        let inner = &state.0;
        headers
            .and_then(|headers| verify(&headers, &body, &inner.signing_secret, inner.clock.now()))
            .map_err(|reason| {
                // The reason and sizes help find clock skew or a proxy that rewrites bodies;
                // the signature itself is never logged.
                tracing::warn!(%reason, body_bytes = body.len(), "refused a Slack request: bad signature");
                StatusCode::UNAUTHORIZED.into_response()
            })?;
        Ok(Self(body))
    }
}

/// Slack checks a public app's certificate with an unsigned `ssl_check=1` form post. It is
/// answered with an empty 200 and nothing else in the body is looked at, so nothing can be
/// smuggled in beside it.
fn is_ssl_check(body: &[u8]) -> bool {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .is_ok_and(|fields| fields.iter().any(|(k, v)| k == "ssl_check" && v == "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_slacks_ssl_check() {
        assert!(is_ssl_check(b"ssl_check=1&token=xyz"));
        assert!(!is_ssl_check(b"ssl_check=0"));
        assert!(!is_ssl_check(b"payload=%7B%7D"));
        assert!(!is_ssl_check(b"\xff\xfe"));
    }
}
