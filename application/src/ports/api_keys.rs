//! API keys: who may call the REST API, stored only as hashes; and each client's webhook
//! signing secrets, stored as they are, because signing needs them.

use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use domain::Identity;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::RepositoryError;

/// The SHA-256 of an API key, hex-encoded. The key itself is never stored.
///
/// A fast hash is the right tool here: keys are 256-bit random secrets, not passwords, so
/// there is nothing to brute-force and no need for a slow, salted hash.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    /// Hashes a presented key.
    pub fn of(key: &str) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeyHash {
    // Hashes are not secrets, but there is no reason to spread them through logs either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

/// A stored key: its owner's identity (the key's name) and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub name: Identity,
    pub hash: ApiKeyHash,
    pub created_at: DateTime<Utc>,
}

/// A client's webhook signing secret in the Standard Webhooks form: `whsec_` and the
/// standard base64 of 24 to 64 random bytes, the HMAC key.
///
/// Unlike an API key it cannot be stored as a hash: the service needs the key itself to
/// sign every callback, as it needs the Slack signing secret to check Slack's requests.
#[derive(Clone)]
pub struct WebhookSecret(SecretString);

/// A stored or typed secret that is not of the `whsec_<base64>` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a webhook secret: {0}")]
pub struct InvalidWebhookSecret(pub &'static str);

impl WebhookSecret {
    pub const PREFIX: &'static str = "whsec_";
    const MIN_BYTES: usize = 24;
    const MAX_BYTES: usize = 64;

    /// A new secret from fresh randomness (an [`IdGenerator`](super::IdGenerator) secret):
    /// its SHA-256, so the key is 32 bytes whatever the text it came from.
    pub fn from_random(random: &str) -> Self {
        let key = Sha256::digest(random.as_bytes());
        Self(SecretString::from(format!(
            "{}{}",
            Self::PREFIX,
            STANDARD.encode(key)
        )))
    }

    /// Reads a secret back from storage.
    ///
    /// # Errors
    /// [`InvalidWebhookSecret`] without the prefix, with invalid base64, or with a key
    /// outside 24 to 64 bytes.
    pub fn parse(text: &str) -> Result<Self, InvalidWebhookSecret> {
        let secret = Self(SecretString::from(text));
        let key = secret.key()?;
        if !(Self::MIN_BYTES..=Self::MAX_BYTES).contains(&key.len()) {
            return Err(InvalidWebhookSecret("the key must be 24 to 64 bytes"));
        }
        Ok(secret)
    }

    /// The HMAC key: the bytes the base64 after the prefix decodes to.
    ///
    /// # Errors
    /// [`InvalidWebhookSecret`] without the prefix or with invalid base64.
    pub fn key(&self) -> Result<Vec<u8>, InvalidWebhookSecret> {
        let encoded = self
            .expose()
            .strip_prefix(Self::PREFIX)
            .ok_or(InvalidWebhookSecret("it must start with whsec_"))?;
        STANDARD
            .decode(encoded)
            .map_err(|_| InvalidWebhookSecret("the part after whsec_ must be base64"))
    }

    /// The secret as text, for storage and for showing it once to an operator.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// A client's secrets: the current one, and the one it replaced while its grace lasts.
#[derive(Debug, Clone)]
pub struct WebhookSecrets {
    pub current: WebhookSecret,
    /// The replaced secret and until when it still signs.
    pub previous: Option<(WebhookSecret, DateTime<Utc>)>,
}

impl WebhookSecrets {
    /// The secrets that sign a callback sent at `now`: the current one first, then the
    /// previous one while its grace lasts, so a receiver can switch at its own pace.
    pub fn signing_at(&self, now: DateTime<Utc>) -> Vec<WebhookSecret> {
        let previous = self
            .previous
            .iter()
            .filter(|(_, until)| now < *until)
            .map(|(secret, _)| secret.clone());
        std::iter::once(self.current.clone())
            .chain(previous)
            .collect()
    }
}

/// Stores API keys by hash, and each key's webhook secrets.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key with its first webhook secret.
    ///
    /// # Errors
    /// - `Duplicate` when a key with this name (or, impossibly, this hash) exists.
    /// - `Unavailable` when the store cannot be reached.
    async fn insert(
        &self,
        record: &ApiKeyRecord,
        webhook_secret: &WebhookSecret,
    ) -> Result<(), RepositoryError>;

    /// The webhook secrets of the client `name`. `Ok(None)` when no such client exists, or
    /// when it has none (a key created before webhook secrets existed, until it rotates).
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; `Corrupt` for a stored secret that is
    /// not of the `whsec_` form.
    async fn webhook_secrets(
        &self,
        name: &Identity,
    ) -> Result<Option<WebhookSecrets>, RepositoryError>;

    /// Makes `secret` the client's current webhook secret, and the current one (if any) the
    /// previous one, signing until `previous_until`. A previous secret from an earlier
    /// rotation is forgotten. One atomic change: no reader sees half of it. Returns `false`
    /// when no client has this name; nothing is stored then.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn rotate_webhook_secret(
        &self,
        name: &Identity,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;

    /// Finds the key with this hash. An unknown hash is `Ok(None)`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; `Corrupt` for an invalid stored name.
    async fn find_by_hash(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        // echo -n abc | sha256sum
        assert_eq!(
            ApiKeyHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_new_secret_is_whsec_and_32_bytes_and_debug_hides_it() {
        let secret = WebhookSecret::from_random("random");
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.key().unwrap().len(), 32);
        assert!(WebhookSecret::parse(secret.expose()).is_ok());
        assert_eq!(format!("{secret:?}"), "WebhookSecret(..)");
    }

    #[test]
    fn the_standard_webhooks_example_secret_parses_and_malformed_ones_do_not() {
        // The secret of the Standard Webhooks test vector: a 24-byte key.
        assert!(WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not base64",
            "whsec_AAAA",
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_previous_secret_signs_only_until_its_grace_ends() {
        let at = |s| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        let secrets = WebhookSecrets {
            current: WebhookSecret::from_random("new"),
            previous: Some((WebhookSecret::from_random("old"), at(100))),
        };
        let signing = |now| -> Vec<String> {
            secrets
                .signing_at(now)
                .iter()
                .map(|s| s.expose().to_owned())
                .collect()
        };
        let (new, old) = (
            WebhookSecret::from_random("new").expose().to_owned(),
            WebhookSecret::from_random("old").expose().to_owned(),
        );
        assert_eq!(signing(at(99)), [new.clone(), old]);
        assert_eq!(signing(at(100)), [new]);
    }

    #[test]
    fn debug_does_not_print_the_hash() {
        assert_eq!(format!("{:?}", ApiKeyHash::of("abc")), "ApiKeyHash(..)");
    }
}
