//! The inbound half: the Discord route, its shared state, and the extractor that verifies
//! every request before a handler sees its body.

use std::sync::Arc;

use application::chat::ChatSubjects;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::interactions;
use crate::settings::{DiscordSettings, DiscordSetupError, PublicKey};
use crate::signature::verify;

/// Interactions are a few KiB; anything much larger is not from Discord and is refused with
/// 413 before it is buffered.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the Discord route needs: the subjects whose actions it takes and how to verify a
/// request.
#[derive(Clone)]
pub struct DiscordState(Arc<Inner>);

struct Inner {
    subjects: ChatSubjects,
    public_key: PublicKey,
    application_id: Option<String>,
}

impl DiscordState {
    /// Takes the public key and application id from `settings`.
    ///
    /// # Errors
    /// `InvalidPublicKey` or `InvalidApplicationId`.
    pub fn new(
        subjects: ChatSubjects,
        settings: &DiscordSettings,
    ) -> Result<Self, DiscordSetupError> {
        let public_key = settings.validate_inbound()?;
        Ok(Self(Arc::new(Inner {
            subjects,
            public_key,
            application_id: settings.application_id.clone(),
        })))
    }

    pub(crate) fn subjects(&self) -> &ChatSubjects {
        &self.0.subjects
    }

    /// Refuses an interaction meant for another application, when an id is configured.
    /// 403, not 401: the signature proved the sender is Discord.
    pub(crate) fn check_application(&self, received: Option<&str>) -> Result<(), StatusCode> {
        match &self.0.application_id {
            Some(expected) if received != Some(expected.as_str()) => {
                tracing::warn!(
                    expected,
                    received = received.unwrap_or("<none>"),
                    "refused a Discord interaction for another application"
                );
                Err(StatusCode::FORBIDDEN)
            }
            _ => Ok(()),
        }
    }
}

/// The Discord route, ready to be merged into the service's router:
/// `POST /discord/interactions` (PINGs, button clicks, slash commands). Its URL is the
/// application's Interactions Endpoint URL in the Developer Portal.
pub fn routes(state: DiscordState) -> Router {
    Router::new()
        .route("/discord/interactions", post(interactions::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The raw body of a request whose Ed25519 signature checked out.
///
/// The handler takes its body only through this extractor, so nothing reads an unverified
/// byte. Anything unsigned, malformed or wrongly signed gets a bare 401: Discord probes the
/// endpoint with bad signatures and removes it if one is accepted.
pub(crate) struct SignedInteraction(pub Bytes);

impl FromRequest<DiscordState> for SignedInteraction {
    type Rejection = Response;

    async fn from_request(request: Request, state: &DiscordState) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                tracing::warn!(error = %rejection, "refused a Discord request body");
                rejection.into_response()
            })?;
        verify(&headers, &body, &state.0.public_key).map_err(|reason| {
            // The signature itself is never logged.
            tracing::warn!(%reason, body_bytes = body.len(), "refused a Discord request: bad signature");
            StatusCode::UNAUTHORIZED.into_response()
        })?;
        Ok(Self(body))
    }
}
