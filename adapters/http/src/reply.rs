//! The success answer of a `/v1` write route, as bytes: built from the use case's result,
//! sent to the client, and for an idempotent request stored with the change it reports
//! (see `idempotency/`). Building it from the same result twice gives the same bytes, so the
//! stored answer is the sent one.

use application::ports::StoredResponse;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

const JSON: &str = "application/json";

/// A JSON body with its status and, for a created resource, its `Location`.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    location: Option<String>,
    /// Empty only for the 500 of a body that could not be serialized.
    body: Vec<u8>,
}

impl Reply {
    /// 200 with `body` as JSON.
    pub(crate) fn ok(body: &impl Serialize) -> Self {
        Self::json(StatusCode::OK, None, body)
    }

    /// 201 with `body` as JSON and the new resource's `location`.
    pub(crate) fn created(location: String, body: &impl Serialize) -> Self {
        Self::json(StatusCode::CREATED, Some(location), body)
    }

    fn json(status: StatusCode, location: Option<String>, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(body) => Self {
                status,
                location,
                body,
            },
            // The DTOs' derived `Serialize` over strings, numbers and JSON values cannot
            // fail. Were a future one to, the client gets a 500 (a bodiless error, which the
            // API's middleware turns into a problem) rather than a panic.
            Err(error) => {
                tracing::error!(%error, "could not serialize a response body");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    location: None,
                    body: Vec::new(),
                }
            }
        }
    }

    /// The answer as the idempotency store keeps it for replay.
    pub(crate) fn stored(&self) -> StoredResponse {
        let mut headers = Vec::new();
        if !self.body.is_empty() {
            headers.push((CONTENT_TYPE.as_str().to_owned(), JSON.to_owned()));
        }
        if let Some(location) = &self.location {
            headers.push((LOCATION.as_str().to_owned(), location.clone()));
        }
        StoredResponse {
            status: self.status.as_u16(),
            headers,
            body: self.body.clone(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        if self.status.is_success() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        } else {
            headers.remove(CONTENT_TYPE);
        }
        // The composition root validated the base URL, and ids are plain ASCII, so this
        // cannot fail; a location that did would be dropped, not turned into a panic.
        if let Some(location) = self.location.and_then(|l| HeaderValue::try_from(l).ok()) {
            headers.insert(LOCATION, location);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_stored_answer_is_the_sent_one() {
        let reply = Reply::created("/v1/approvals/1".into(), &json!({ "id": 1 }));

        let stored = reply.stored();
        let sent = reply.into_response();

        assert_eq!(stored.status, sent.status().as_u16());
        for (name, value) in &stored.headers {
            assert_eq!(sent.headers()[name.as_str()], value.as_str(), "{name}");
        }
        assert_eq!(
            stored.headers,
            [
                ("content-type".to_owned(), "application/json".to_owned()),
                ("location".to_owned(), "/v1/approvals/1".to_owned()),
            ]
        );
        assert_eq!(stored.body, br#"{"id":1}"#);
    }

    #[test]
    fn an_unserializable_body_is_a_bare_500_not_a_panic() {
        // A map with non-string keys is the one thing serde_json refuses.
        let body = std::collections::BTreeMap::from([((1, 2), "x")]);

        let reply = Reply::ok(&body);

        assert_eq!(reply.stored().status, 500);
        assert!(reply.stored().headers.is_empty());
        let response = reply.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!response.headers().contains_key(CONTENT_TYPE));
    }
}
