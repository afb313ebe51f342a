//! What the Discord adapter needs to know, and the checks it runs on it at start-up.

use std::net::IpAddr;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use reqwest::Url;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// Credentials and endpoints of one Discord application.
///
/// `Debug` prints the bot token as `[REDACTED]`, so the settings can be logged at start-up.
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    /// The bot's token, sent as `Authorization: Bot …` on every REST call.
    pub bot_token: SecretString,
    /// The application's Ed25519 public key (64 hex characters, from the Developer Portal):
    /// proves that an inbound interaction was sent by Discord.
    pub public_key: String,
    /// The application's id (a snowflake): needed to register the slash command, and when
    /// set, interactions for another application are refused.
    pub application_id: Option<String>,
    /// Where the REST API lives, with its version. Tests point it at a local fake.
    pub api_base_url: String,
    /// Upper bound for one REST call, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

/// An application's verified Ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub(crate) VerifyingKey);

impl DiscordSettings {
    pub const DEFAULT_API_BASE_URL: &str = "https://discord.com/api/v10";
    /// Well under the relay's lease per message.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Settings for the real Discord, with the default timeout and no application id.
    pub fn new(bot_token: SecretString, public_key: impl Into<String>) -> Self {
        Self {
            bot_token,
            public_key: public_key.into(),
            application_id: None,
            api_base_url: Self::DEFAULT_API_BASE_URL.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Checks every field and returns the API base URL without a trailing slash.
    pub(crate) fn validate(&self) -> Result<String, DiscordSetupError> {
        let token = self.bot_token.expose_secret();
        if token.is_empty() || HeaderValue::from_str(&format!("Bot {token}")).is_err() {
            return Err(DiscordSetupError::InvalidBotToken);
        }
        self.validate_inbound()?;
        if self.timeout.is_zero() {
            return Err(DiscordSetupError::ZeroTimeout);
        }
        api_base_url(&self.api_base_url)
    }

    /// Checks what the inbound route uses and returns the public key.
    pub(crate) fn validate_inbound(&self) -> Result<PublicKey, DiscordSetupError> {
        if let Some(id) = &self.application_id
            && !is_snowflake(id)
        {
            return Err(DiscordSetupError::InvalidApplicationId);
        }
        PublicKey::from_hex(&self.public_key)
    }

    /// The application id, for calls that need one.
    pub(crate) fn require_application_id(&self) -> Result<&str, DiscordSetupError> {
        self.application_id
            .as_deref()
            .ok_or(DiscordSetupError::MissingApplicationId)
    }
}

impl PublicKey {
    /// Reads the Developer Portal's hex form.
    ///
    /// # Errors
    /// `InvalidPublicKey` unless it is 64 hex characters naming a valid curve point.
    pub fn from_hex(raw: &str) -> Result<Self, DiscordSetupError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(raw.trim(), &mut bytes)
            .map_err(|_| DiscordSetupError::InvalidPublicKey)?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|_| DiscordSetupError::InvalidPublicKey)?;
        // A weak (small-order) key would let forged signatures through `verify_strict`.
        if key.is_weak() {
            return Err(DiscordSetupError::InvalidPublicKey);
        }
        Ok(Self(key))
    }
}

/// A Discord id: a 64-bit integer in decimal, at most 20 digits.
pub(crate) fn is_snowflake(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= 20 && raw.bytes().all(|b| b.is_ascii_digit())
}

/// Why the Discord adapter refused its settings. Raised at start-up, so a misconfiguration
/// stops the service with a clear message instead of failing every call later.
#[derive(Debug, thiserror::Error)]
pub enum DiscordSetupError {
    #[error("the Discord bot token is empty or not usable in an HTTP header")]
    InvalidBotToken,
    #[error("the Discord public key must be 64 hex characters (the application's Ed25519 key)")]
    InvalidPublicKey,
    #[error("the Discord application id must be a snowflake (digits only)")]
    InvalidApplicationId,
    #[error("the Discord application id is needed for this (DISCORD_APPLICATION_ID)")]
    MissingApplicationId,
    #[error("the Discord request timeout must be greater than zero")]
    ZeroTimeout,
    #[error(
        "the Discord API base URL {url:?} is not usable: it must be an absolute https URL \
         (plain http only for a loopback address, as in tests)"
    )]
    InvalidApiBaseUrl { url: String },
    #[error("could not build the HTTP client for Discord")]
    HttpClient(#[source] reqwest::Error),
}

/// Plain http would send the bot token in clear text, so it is only allowed to a fake
/// Discord on this machine.
fn api_base_url(raw: &str) -> Result<String, DiscordSetupError> {
    let invalid = || DiscordSetupError::InvalidApiBaseUrl {
        url: raw.to_owned(),
    };
    let url = Url::parse(raw).map_err(|_| invalid())?;
    let loopback = match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => return Err(invalid()),
    };
    let secure = match url.scheme() {
        "https" => true,
        "http" => loopback,
        _ => false,
    };
    if !secure || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 TEST 1.
    const KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn settings() -> DiscordSettings {
        DiscordSettings::new("bot-secret-token".into(), KEY)
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let printed = format!("{:?}", settings());
        assert!(!printed.contains("bot-secret-token"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    #[test]
    fn defaults_point_at_the_real_discord() {
        assert_eq!(
            settings().validate().unwrap(),
            "https://discord.com/api/v10"
        );
        let local = DiscordSettings {
            api_base_url: "http://127.0.0.1:9/api/v10/".into(),
            ..settings()
        };
        assert_eq!(local.validate().unwrap(), "http://127.0.0.1:9/api/v10");
    }

    #[test]
    fn refuses_unusable_values() {
        let cases = [
            DiscordSettings {
                bot_token: "".into(),
                ..settings()
            },
            DiscordSettings {
                bot_token: "a\nb".into(),
                ..settings()
            },
            DiscordSettings {
                public_key: "abc".into(),
                ..settings()
            },
            DiscordSettings {
                public_key: "zz".repeat(32),
                ..settings()
            },
            // The identity point: small order, so `verify_strict` could be fooled.
            DiscordSettings {
                public_key: format!("01{}", "00".repeat(31)),
                ..settings()
            },
            DiscordSettings {
                application_id: Some("app-1".into()),
                ..settings()
            },
            DiscordSettings {
                timeout: Duration::ZERO,
                ..settings()
            },
            DiscordSettings {
                api_base_url: "http://discord.example.com/api".into(),
                ..settings()
            },
        ];
        for case in cases {
            assert!(case.validate().is_err(), "{case:?} should be refused");
        }
    }

    #[test]
    fn snowflakes_are_digits() {
        assert!(is_snowflake("80351110224678912"));
        for raw in ["", "12a", "-1", &"1".repeat(21)] {
            assert!(!is_snowflake(raw), "{raw:?}");
        }
    }
}
