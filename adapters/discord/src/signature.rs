//! Discord's request signature: Ed25519 over `X-Signature-Timestamp` followed by the raw body,
//! with the application's public key, hex in `X-Signature-Ed25519`.
//!
//! Checked with `verify_strict`, which also refuses non-canonical signatures and small-order
//! points, before anything reads the body. Discord documents no freshness rule for the
//! timestamp (and probes endpoints with deliberately bad signatures, expecting 401), so only
//! the signature decides; a replayed request is harmless because every action is idempotent.

use axum::http::HeaderMap;
use ed25519_dalek::Signature;

use crate::settings::PublicKey;

pub(crate) const SIGNATURE: &str = "x-signature-ed25519";
pub(crate) const TIMESTAMP: &str = "x-signature-timestamp";

/// Why a request was refused; logged, never sent (the answer is a bare 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("no X-Signature-Ed25519 or X-Signature-Timestamp header")]
    Missing,
    #[error("the signature is not 128 hex characters")]
    Malformed,
    #[error("the timestamp is not a string of digits")]
    BadTimestamp,
    #[error("the signature does not match")]
    Mismatch,
}

/// Verifies the request's signature over its raw body.
///
/// # Errors
/// The [`Refusal`] that explains why the request is not from Discord.
pub(crate) fn verify(headers: &HeaderMap, body: &[u8], key: &PublicKey) -> Result<(), Refusal> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header(SIGNATURE), header(TIMESTAMP)) else {
        return Err(Refusal::Missing);
    };
    if timestamp.is_empty()
        || timestamp.len() > 20
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Refusal::BadTimestamp);
    }
    let mut bytes = [0u8; 64];
    hex::decode_to_slice(signature, &mut bytes).map_err(|_| Refusal::Malformed)?;
    let signature = Signature::from_bytes(&bytes);
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.0
        .verify_strict(&message, &signature)
        .map_err(|_| Refusal::Mismatch)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    // The reference's vector: RFC 8032 §7.1 TEST 1's key signing `1700000000{"type":1}`.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const TS: &str = "1700000000";
    const BODY: &[u8] = br#"{"type":1}"#;
    const SIG: &str = "1695961a47c91a1ec033b819b7e87e3dbc583dd0cee6d1fd0216f58ac87b6228ae531ddbf91fb7bc28d7edf7f08604da16f54624f38a6bc0614e4dc13cd47f0f";
    /// RFC 8032's own signature of the empty message.
    const EMPTY_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    fn headers(signature: &str, timestamp: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE, HeaderValue::from_str(signature).unwrap());
        headers.insert(TIMESTAMP, HeaderValue::from_str(timestamp).unwrap());
        headers
    }

    fn key() -> PublicKey {
        PublicKey::from_hex(PUBLIC).unwrap()
    }

    #[test]
    fn the_reference_vector_verifies() {
        assert_eq!(verify(&headers(SIG, TS), BODY, &key()), Ok(()));
    }

    #[test]
    fn the_rfc_signature_of_the_empty_message_matches_our_signer() {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(SEED, &mut seed).unwrap();
        let signing = SigningKey::from_bytes(&seed);
        assert_eq!(hex::encode(signing.verifying_key().as_bytes()), PUBLIC);
        assert_eq!(hex::encode(signing.sign(b"").to_bytes()), EMPTY_SIG);
        let ours = signing.sign(&[TS.as_bytes(), BODY].concat());
        assert_eq!(hex::encode(ours.to_bytes()), SIG);
    }

    #[test]
    fn a_changed_body_timestamp_or_signature_is_refused() {
        assert_eq!(
            verify(&headers(SIG, TS), br#"{"type":2}"#, &key()),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify(&headers(SIG, "1700000001"), BODY, &key()),
            Err(Refusal::Mismatch)
        );
        let mut flipped = SIG.to_owned();
        flipped.replace_range(0..1, "2");
        assert_eq!(
            verify(&headers(&flipped, TS), BODY, &key()),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn another_key_is_refused() {
        let other = SigningKey::from_bytes(&[7u8; 32]);
        let other = PublicKey::from_hex(&hex::encode(other.verifying_key().as_bytes())).unwrap();
        assert_eq!(
            verify(&headers(SIG, TS), BODY, &other),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        assert_eq!(
            verify(&HeaderMap::new(), BODY, &key()),
            Err(Refusal::Missing)
        );
        assert_eq!(
            verify(&headers("abcd", TS), BODY, &key()),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            verify(&headers(SIG, "17e8"), BODY, &key()),
            Err(Refusal::BadTimestamp)
        );
        assert_eq!(
            verify(&headers(SIG, ""), BODY, &key()),
            Err(Refusal::BadTimestamp)
        );
    }
}
