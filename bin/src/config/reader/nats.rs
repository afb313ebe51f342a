//! Reading the NATS settings: the URL that enables the event stream, at most one way to
//! authenticate, and TLS files that come in pairs where they must.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::ExposeSecret;
use url::Url;

use super::super::variables::{
    NATS_CA, NATS_CERT, NATS_CREDS, NATS_KEY, NATS_PASSWORD, NATS_STREAM, NATS_SUBJECT_PREFIX,
    NATS_TIMEOUT, NATS_TOKEN, NATS_URL, NATS_USER,
};
use super::super::{NatsConfig, NatsCredentials, values};
use super::Reader;

impl Reader {
    /// The event stream's settings; `None` when `NATS_URL` is unset (or unusable, which is
    /// reported). Credentials or TLS files without a URL are reported too: whoever set them
    /// expected events to be published.
    pub(in crate::config) fn nats(&mut self) -> Option<NatsConfig> {
        let url = self.secret(&NATS_URL);
        let stream = self.setting(
            &NATS_STREAM,
            |raw| Ok(raw.to_owned()),
            NATS_STREAM.default.to_owned(),
        );
        let subject_prefix = self.setting(
            &NATS_SUBJECT_PREFIX,
            |raw| Ok(raw.to_owned()),
            NATS_SUBJECT_PREFIX.default.to_owned(),
        );
        let timeout = self.setting(&NATS_TIMEOUT, values::duration, Duration::from_secs(5));
        let credentials = self.nats_credentials();
        let ca_file = self.raw(&NATS_CA).map(PathBuf::from);
        let client_certificate = self.nats_client_certificate();

        let Some(url) = url else {
            for variable in [
                &NATS_USER,
                &NATS_PASSWORD,
                &NATS_TOKEN,
                &NATS_CREDS,
                &NATS_CA,
                &NATS_CERT,
                &NATS_KEY,
            ] {
                if self.sources.contains_key(variable.name) {
                    self.problem(variable, None, "is set but NATS_URL is not");
                }
            }
            return None;
        };
        let redacted_url = match redact_servers(url.expose_secret()) {
            Ok(redacted) => redacted,
            Err(message) => {
                self.problem(&NATS_URL, None, message);
                return None;
            }
        };
        Some(NatsConfig {
            url,
            redacted_url,
            stream,
            subject_prefix,
            timeout,
            credentials: credentials?,
            ca_file,
            client_certificate: client_certificate?,
        })
    }

    /// At most one of user and password, token, credentials file. `None` after a problem.
    fn nats_credentials(&mut self) -> Option<NatsCredentials> {
        let user = self.raw(&NATS_USER);
        let password = self.secret(&NATS_PASSWORD);
        let token = self.secret(&NATS_TOKEN);
        let creds = self.raw(&NATS_CREDS).map(PathBuf::from);
        let user_password = match (user, password) {
            (Some(user), Some(password)) => Some(NatsCredentials::UserPassword { user, password }),
            (Some(_), None) => {
                self.problem(&NATS_PASSWORD, None, "must be set when NATS_USER is set");
                return None;
            }
            (None, Some(_)) => {
                self.problem(&NATS_USER, None, "must be set when NATS_PASSWORD is set");
                return None;
            }
            (None, None) => None,
        };
        let mut ways: Vec<NatsCredentials> = user_password
            .into_iter()
            .chain(token.map(NatsCredentials::Token))
            .chain(creds.map(NatsCredentials::File))
            .collect();
        match ways.len() {
            0 => Some(NatsCredentials::None),
            1 => ways.pop(),
            _ => {
                let message = "NATS_USER/NATS_PASSWORD, NATS_TOKEN and NATS_CREDS are \
                               alternatives; set only one";
                self.problem(&NATS_CREDS, None, message);
                None
            }
        }
    }

    /// `Some(None)` without a client certificate; `None` after a problem.
    fn nats_client_certificate(&mut self) -> Option<Option<(PathBuf, PathBuf)>> {
        let cert = self.raw(&NATS_CERT).map(PathBuf::from);
        let key = self.raw(&NATS_KEY).map(PathBuf::from);
        match (cert, key) {
            (Some(cert), Some(key)) => Some(Some((cert, key))),
            (None, None) => Some(None),
            (Some(_), None) => {
                self.problem(&NATS_KEY, None, "must be set when NATS_CERT is set");
                None
            }
            (None, Some(_)) => {
                self.problem(&NATS_CERT, None, "must be set when NATS_KEY is set");
                None
            }
        }
    }
}

/// Checks each comma-separated server address and returns them with their secrets as `***`:
/// the password of `user:password@`, and the token of `token@` (a user name without a
/// password, which NATS reads as a token). A bare `host:port` is a `nats://` address, as
/// for the NATS client.
fn redact_servers(raw: &str) -> Result<String, String> {
    raw.split(',')
        .map(|server| {
            let server = server.trim();
            let url = if server.contains("://") {
                server.to_owned()
            } else {
                format!("nats://{server}")
            };
            match Url::parse(&url) {
                Ok(mut parsed)
                    if matches!(parsed.scheme(), "nats" | "tls") && parsed.has_host() =>
                {
                    if parsed.password().is_none() && !parsed.username().is_empty() {
                        // Cannot fail: the URL has a host.
                        let _ = parsed.set_username("***");
                    }
                    Ok(values::redact_url(parsed.as_str()))
                }
                Ok(_) => Err("expected nats://host:port or tls://host:port addresses, \
                              comma-separated"
                    .to_owned()),
                // Only the kind of problem is shown: the value may hold a password.
                Err(e) => Err(format!("is not a valid server address ({e})")),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|servers| servers.join(","))
}
