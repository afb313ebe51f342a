//! The stored form of idempotency records: what a claim that did not acquire the key reads,
//! and how a stored response's headers are kept (a JSON array of `[name, value]` pairs).

use application::ports::{Claim, RepositoryError, StoredResponse};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::errors::corrupt;

/// The columns of an `idempotency_keys` row that a claim which did not acquire the key
/// needs to answer. Both drivers decode it directly (SQLite with `query_as`, PostgreSQL with
/// `query_as!`); the schema guarantees the three response columns are all set or all null.
#[derive(Debug, sqlx::FromRow)]
pub struct IdempotencyHolder {
    pub fingerprint: String,
    pub response_status: Option<i32>,
    pub response_headers: Option<Value>,
    pub response_body: Option<Vec<u8>>,
}

impl IdempotencyHolder {
    /// What the claim of a request with `fingerprint` gets from the record that holds its
    /// key: `Mismatch` for another request body, the stored response once there is one,
    /// `InFlight` until `locked_until` while the holder is still running.
    ///
    /// # Errors
    /// `Corrupt` when the stored response cannot be read back.
    pub fn claim(
        self,
        fingerprint: &str,
        locked_until: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        if self.fingerprint != fingerprint {
            return Ok(Claim::Mismatch);
        }
        match (
            self.response_status,
            self.response_headers,
            self.response_body,
        ) {
            (Some(status), Some(headers), Some(body)) => Ok(Claim::Completed(StoredResponse {
                status: u16::try_from(status).map_err(|e| corrupt("stored response status", e))?,
                headers: serde_json::from_value(headers)
                    .map_err(|e| corrupt("stored response headers", e))?,
                body,
            })),
            _ => Ok(Claim::InFlight { locked_until }),
        }
    }
}

/// The stored form of `response`'s headers.
///
/// # Errors
/// `Corrupt` when they cannot be serialized (which plain strings never cause).
pub fn response_headers(response: &StoredResponse) -> Result<Value, RepositoryError> {
    serde_json::to_value(&response.headers).map_err(|e| corrupt("serializing response headers", e))
}

/// The outcome of storing a receipt's answer inside a save, from whether the update found
/// the key still held, unanswered, by the receipt's claim.
///
/// # Errors
/// `ClaimLost` when it did not: the key was taken over, and the save must roll back.
pub fn receipt_stored(answered: bool) -> Result<(), RepositoryError> {
    if answered {
        Ok(())
    } else {
        Err(RepositoryError::ClaimLost)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn locked() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
    }

    fn holder(status: Option<i32>) -> IdempotencyHolder {
        IdempotencyHolder {
            fingerprint: "POST /v1/approvals abc".into(),
            response_status: status,
            response_headers: status.map(|_| json!([["content-type", "application/json"]])),
            response_body: status.map(|_| b"{}".to_vec()),
        }
    }

    #[test]
    fn another_request_under_the_same_key_is_a_mismatch() {
        assert_eq!(
            holder(Some(201)).claim("GET /v1 other", locked()),
            Ok(Claim::Mismatch)
        );
    }

    #[test]
    fn a_holder_without_a_response_is_in_flight() {
        assert_eq!(
            holder(None).claim("POST /v1/approvals abc", locked()),
            Ok(Claim::InFlight {
                locked_until: locked()
            })
        );
    }

    #[test]
    fn a_completed_holder_replays_its_stored_response() {
        let response = StoredResponse {
            status: 201,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        };
        assert_eq!(
            response_headers(&response).unwrap(),
            json!([["content-type", "application/json"]])
        );
        assert_eq!(
            holder(Some(201)).claim("POST /v1/approvals abc", locked()),
            Ok(Claim::Completed(response))
        );
    }

    #[test]
    fn a_stored_status_outside_http_is_corrupt() {
        let claim = holder(Some(-1)).claim("POST /v1/approvals abc", locked());
        assert!(
            matches!(claim, Err(RepositoryError::Corrupt(_))),
            "{claim:?}"
        );
    }
}
