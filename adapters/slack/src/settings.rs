//! What the Slack adapter needs to know, and the checks it runs on it at start-up.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// Credentials and endpoints of one Slack app.
///
/// `Debug` prints the secrets as `[REDACTED]` (they are [`SecretString`]s), so the settings can
/// be logged at start-up.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// The bot token (`xoxb-…`), sent as `Authorization: Bearer` on every Web API call.
    pub bot_token: SecretString,
    /// The app's signing secret: proves that an inbound request was sent by Slack.
    pub signing_secret: SecretString,
    /// When set, inbound payloads whose `api_app_id` differs are refused.
    pub app_id: Option<String>,
    /// Where the Web API lives. Tests point it at a local fake Slack.
    pub api_base_url: String,
    /// Upper bound for one Web API call, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

impl SlackSettings {
    pub const DEFAULT_API_BASE_URL: &str = "https://slack.com/api";
    /// Well under the relay's lease per message, and long enough for Slack on a bad day.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Settings for the real Slack, with the default timeout and no app id check.
    pub fn new(bot_token: SecretString, signing_secret: SecretString) -> Self {
        Self {
            bot_token,
            signing_secret,
            app_id: None,
            api_base_url: Self::DEFAULT_API_BASE_URL.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Checks every field and returns the API base URL without a trailing slash.
    pub(crate) fn validate(&self) -> Result<String, SlackSetupError> {
        let token = self.bot_token.expose_secret();
        if token.is_empty() || HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(SlackSetupError::InvalidBotToken);
        }
        self.validate_inbound()?;
        if self.timeout.is_zero() {
            return Err(SlackSetupError::ZeroTimeout);
        }
        api_base_url(&self.api_base_url)
    }

    /// Checks what the inbound routes use. An empty secret would let anyone compute a valid
    /// signature.
    pub(crate) fn validate_inbound(&self) -> Result<(), SlackSetupError> {
        if self.signing_secret.expose_secret().is_empty() {
            return Err(SlackSetupError::EmptySigningSecret);
        }
        if self.app_id.as_deref().is_some_and(str::is_empty) {
            return Err(SlackSetupError::EmptyAppId);
        }
        Ok(())
    }
}

/// Why the Slack adapter refused its settings. Raised at start-up, so a misconfiguration stops
/// the service with a clear message instead of failing every call later.
#[derive(Debug, thiserror::Error)]
pub enum SlackSetupError {
    #[error("the Slack bot token is empty or not usable in an HTTP header")]
    InvalidBotToken,
    #[error("the Slack signing secret is empty")]
    EmptySigningSecret,
    #[error("the Slack app id is set but empty")]
    EmptyAppId,
    #[error("the Slack request timeout must be greater than zero")]
    ZeroTimeout,
    #[error(
        "the Slack API base URL {url:?} is not usable: it must be an absolute https URL \
         (plain http only for a loopback address, as in tests)"
    )]
    InvalidApiBaseUrl { url: String },
    #[error("could not build the HTTP client for Slack")]
    HttpClient(#[source] reqwest::Error),
}

/// Plain http would send the bot token in clear text, so it is only allowed to a fake Slack
/// on this machine.
fn api_base_url(raw: &str) -> Result<String, SlackSetupError> {
    let invalid = || SlackSetupError::InvalidApiBaseUrl {
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

    fn settings() -> SlackSettings {
        SlackSettings::new("xoxb-secret-token".into(), "signing-secret-value".into())
    }

    #[test]
    fn debug_output_redacts_both_secrets() {
        let printed = format!("{:?}", settings());
        assert!(!printed.contains("xoxb-secret-token"), "{printed}");
        assert!(!printed.contains("signing-secret-value"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    #[test]
    fn defaults_point_at_the_real_slack() {
        let settings = settings();
        assert_eq!(settings.validate().unwrap(), "https://slack.com/api");
        assert_eq!(settings.timeout, Duration::from_secs(10));
    }

    #[test]
    fn a_trailing_slash_is_dropped_and_loopback_http_is_allowed() {
        for (raw, expected) in [
            ("https://slack.com/api/", "https://slack.com/api"),
            ("http://127.0.0.1:4567/api", "http://127.0.0.1:4567/api"),
            ("http://localhost:4567/api/", "http://localhost:4567/api"),
            ("http://[::1]:4567/api", "http://[::1]:4567/api"),
        ] {
            let settings = SlackSettings {
                api_base_url: raw.into(),
                ..settings()
            };
            assert_eq!(settings.validate().unwrap(), expected);
        }
    }

    #[test]
    fn refuses_urls_that_would_leak_the_token_or_cannot_be_joined() {
        for raw in [
            "http://slack.example.com/api",
            "ftp://127.0.0.1/api",
            "slack.com/api",
            "https://slack.com/api?x=1",
            "",
        ] {
            let settings = SlackSettings {
                api_base_url: raw.into(),
                ..settings()
            };
            assert!(
                matches!(
                    settings.validate(),
                    Err(SlackSetupError::InvalidApiBaseUrl { .. })
                ),
                "{raw:?} should be refused"
            );
        }
    }

    #[test]
    fn refuses_empty_secrets_and_unusable_values() {
        let cases = [
            SlackSettings {
                bot_token: "".into(),
                ..settings()
            },
            SlackSettings {
                bot_token: "xoxb-with\nnewline".into(),
                ..settings()
            },
            SlackSettings {
                signing_secret: "".into(),
                ..settings()
            },
            SlackSettings {
                app_id: Some(String::new()),
                ..settings()
            },
            SlackSettings {
                timeout: Duration::ZERO,
                ..settings()
            },
        ];
        for case in cases {
            assert!(case.validate().is_err(), "{case:?} should be refused");
        }
    }
}
