//! The Standard Webhooks signature: `v1,` and the base64 HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes the secret's base64 (after
//! `whsec_`) decodes to. Several signatures, one per secret, are separated by spaces; a
//! receiver accepts the message when any of them verifies.

use application::ports::{InvalidWebhookSecret, WebhookSecret};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// One `v1,<base64>` signature of a message.
///
/// # Errors
/// [`InvalidWebhookSecret`] for a secret that is not of the `whsec_<base64>` form.
pub fn sign(
    secret: &WebhookSecret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, InvalidWebhookSecret> {
    // HMAC accepts keys of any length, so the second error cannot happen; mapping it keeps
    // the code free of panics all the same.
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.key()?)
        .map_err(|_| InvalidWebhookSecret("the key is not usable for HMAC"))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, in order, space-separated.
///
/// # Errors
/// [`InvalidWebhookSecret`] for a secret that is not of the `whsec_<base64>` form.
pub fn header(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, InvalidWebhookSecret> {
    let signatures = secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries
    /// (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go, TestWebhookSign).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret(text: &str) -> WebhookSecret {
        WebhookSecret::parse(text).unwrap()
    }

    #[test]
    fn the_reference_vector_signs_as_the_standard_says() {
        let header = header(&[secret(SECRET)], ID, TIMESTAMP, BODY).unwrap();
        assert_eq!(header, SIGNATURE);
    }

    #[test]
    fn two_secrets_give_two_space_separated_signatures_current_first() {
        let other = WebhookSecret::from_random("other");
        let header = header(&[other.clone(), secret(SECRET)], ID, TIMESTAMP, BODY).unwrap();
        let expected_first = sign(&other, ID, TIMESTAMP, BODY).unwrap();
        assert_eq!(header, format!("{expected_first} {SIGNATURE}"));
    }

    #[test]
    fn every_part_of_the_message_is_signed() {
        let key = secret(SECRET);
        let signed = |id, timestamp, body| sign(&key, id, timestamp, body).unwrap();
        assert_eq!(signed(ID, TIMESTAMP, BODY), SIGNATURE);
        assert_ne!(signed("msg_other", TIMESTAMP, BODY), SIGNATURE);
        assert_ne!(signed(ID, TIMESTAMP + 1, BODY), SIGNATURE);
        assert_ne!(signed(ID, TIMESTAMP, b"{\"test\": 1}"), SIGNATURE);
    }
}
