//! API key authentication: `Authorization: Bearer <key>` → the key owner's [`Identity`].
//!
//! An extractor rather than a middleware, so a handler that needs the caller says so in its
//! signature and cannot forget: a `/v1` handler without an [`Authenticated`] argument is
//! visible in review, a route outside an auth middleware is not. Extractors run in argument
//! order, so putting [`Authenticated`] first means an unauthenticated request is refused
//! before its path or body is even looked at.
//!
//! One middleware needs the caller earlier: the idempotency layer scopes keys per client, so
//! it authenticates through the same [`authenticate`] and leaves the result in the request
//! extensions, where the extractor picks it up instead of asking the store a second time.

use std::sync::Arc;

use application::use_cases::{Authenticate, AuthenticateError};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::Identity;

use crate::problem::{Problem, ProblemType};
use crate::state::AppState;

/// The authenticated caller: the name of the API key that signed the request. Use cases
/// record it as whoever did what the request asks (the requester, the approver, …).
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Identity);

impl FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // Request extensions are set only by this service's own middleware, never from the
        // wire, so a caller found there was authenticated by `authenticate` below.
        if let Some(caller) = parts.extensions.get::<Self>() {
            return Ok(caller.clone());
        }
        authenticate(&state.use_cases.authenticate, &parts.headers).await
    }
}

/// Checks the request's bearer key and names its owner.
///
/// # Errors
/// A 401 problem for a missing, malformed or unknown key; the store's problem (503) when the
/// key store fails.
pub(crate) async fn authenticate(
    use_case: &Authenticate,
    headers: &HeaderMap,
) -> Result<Authenticated, Problem> {
    let key =
        bearer_token(headers).map_err(|reason| Problem::new(ProblemType::UNAUTHORIZED, reason))?;
    match use_case.execute(key).await {
        Ok(identity) => {
            // The request span declared this field empty; from here on every log line of the
            // request says who made it.
            tracing::Span::current().record("client", tracing::field::display(&identity));
            Ok(Authenticated(identity))
        }
        Err(AuthenticateError::UnknownKey) => Err(Problem::new(
            ProblemType::UNAUTHORIZED,
            "the API key is not valid",
        )),
        Err(AuthenticateError::Store(error)) => Err(error.into()),
    }
}

/// The key of an `Authorization: Bearer <key>` header.
///
/// # Errors
/// The reason, fit for a 401 detail, when the header is missing or not a bearer token. The
/// key itself never appears in it.
fn bearer_token(headers: &HeaderMap) -> Result<&str, &'static str> {
    const EXPECTED: &str = "expected an `Authorization: Bearer <API key>` header";
    let value = headers.get(AUTHORIZATION).ok_or(EXPECTED)?;
    let value = value.to_str().map_err(|_| EXPECTED)?;
    let (scheme, token) = value.split_once(' ').ok_or(EXPECTED)?;
    // Authentication schemes are case-insensitive (RFC 9110 §11.1).
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(EXPECTED);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(EXPECTED);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn reads_a_bearer_token_with_any_scheme_case() {
        for value in ["Bearer k3y", "bearer k3y", "BEARER  k3y "] {
            assert_eq!(
                bearer_token(&with_authorization(value)),
                Ok("k3y"),
                "{value:?}"
            );
        }
    }

    #[test]
    fn refuses_other_schemes_and_empty_tokens() {
        assert!(bearer_token(&HeaderMap::new()).is_err());
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "k3y",
        ] {
            assert!(
                bearer_token(&with_authorization(value)).is_err(),
                "{value:?}"
            );
        }
    }
}
