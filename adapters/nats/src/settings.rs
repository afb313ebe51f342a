//! What the NATS adapter needs to know, the checks it runs on it at start-up, and how it
//! becomes async-nats's `ConnectOptions`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{ConnectOptions, Event};
use secrecy::{ExposeSecret, SecretString};

use crate::subject;

/// Where the event stream lives and how to reach it.
///
/// `Debug` prints the secrets as `[REDACTED]` (they are [`SecretString`]s), so the settings can
/// be logged at start-up.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// One server URL or several, comma-separated (`nats://a:4222,nats://b:4222`). A secret,
    /// because NATS URLs may carry a user and password (`nats://user:pass@host`). `tls://`
    /// requires TLS.
    pub url: SecretString,
    /// The JetStream stream the events are stored in; created when missing.
    pub stream: String,
    /// Every event goes to `<subject_prefix>.<aggregate>.<event>`; the stream captures
    /// `<subject_prefix>.>`. A service generated from the template uses its own name here.
    pub subject_prefix: String,
    pub auth: NatsAuth,
    pub tls: NatsTls,
    /// Upper bound for one delivery, from publishing to JetStream's ack, and for creating the
    /// stream when it is missing.
    pub publish_timeout: Duration,
    /// How long JetStream remembers a `Nats-Msg-Id` to drop a repeat of it. It must exceed
    /// the longest gap between two attempts at the same event (the relay's lease, after a
    /// crash, and its longest backoff), or a late retry is stored twice. Applied when the
    /// stream is created; an existing stream keeps its own (a shorter one is logged).
    pub duplicate_window: Duration,
}

/// How the client proves who it is. A user and password in the URL work too.
#[derive(Debug, Clone, Default)]
pub enum NatsAuth {
    #[default]
    None,
    UserPassword {
        user: String,
        password: SecretString,
    },
    Token(SecretString),
    /// A `.creds` file (a user JWT and its nkey seed), as `nsc` and NGS hand them out.
    CredentialsFile(PathBuf),
}

/// TLS beyond the defaults (system roots, TLS only when the server or a `tls://` URL asks).
#[derive(Debug, Clone, Default)]
pub struct NatsTls {
    /// PEM file of the CA that signed the server's certificate, for private CAs.
    pub ca_file: Option<PathBuf>,
    /// PEM certificate and key files, for servers that verify clients.
    pub client_certificate: Option<(PathBuf, PathBuf)>,
}

impl NatsTls {
    /// Any TLS file given means TLS is meant: it is then required, never silently skipped.
    fn is_configured(&self) -> bool {
        self.ca_file.is_some() || self.client_certificate.is_some()
    }
}

impl NatsSettings {
    pub const DEFAULT_STREAM: &str = concat!(env!("SERVICE_ENV_PREFIX"), "_EVENTS");
    pub const DEFAULT_SUBJECT_PREFIX: &str = concat!(env!("SERVICE_NAME"), ".events");
    /// Well under the relay's lease per message; a healthy JetStream acks in milliseconds.
    pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
    /// Twice the relay's default lease and longest backoff (5 minutes each).
    pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

    /// Settings for the server(s) at `url` with the default stream, subjects and timeouts,
    /// no credentials and default TLS.
    pub fn new(url: SecretString) -> Self {
        Self {
            url,
            stream: Self::DEFAULT_STREAM.to_owned(),
            subject_prefix: Self::DEFAULT_SUBJECT_PREFIX.to_owned(),
            auth: NatsAuth::None,
            tls: NatsTls::default(),
            publish_timeout: Self::DEFAULT_PUBLISH_TIMEOUT,
            duplicate_window: Self::DEFAULT_DUPLICATE_WINDOW,
        }
    }

    /// The subjects the stream captures.
    pub fn stream_subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }

    /// Checks every field that can be checked without a server.
    pub(crate) fn validate(&self) -> Result<(), NatsSetupError> {
        if self.url.expose_secret().trim().is_empty() {
            return Err(NatsSetupError::EmptyUrl);
        }
        if !is_valid_stream_name(&self.stream) {
            return Err(NatsSetupError::InvalidStreamName(self.stream.clone()));
        }
        if !subject::is_valid_prefix(&self.subject_prefix) {
            return Err(NatsSetupError::InvalidSubjectPrefix(
                self.subject_prefix.clone(),
            ));
        }
        if self.publish_timeout.is_zero() {
            return Err(NatsSetupError::ZeroTimeout);
        }
        if self.duplicate_window.is_zero() {
            return Err(NatsSetupError::ZeroDuplicateWindow);
        }
        Ok(())
    }

    /// The client options: credentials, TLS, timeouts, and a client that keeps reconnecting
    /// for as long as the service runs.
    ///
    /// The first connection is made in the background (`retry_on_initial_connect`): a
    /// service whose NATS is down at start-up still serves its API and chat, the events wait
    /// in the outbox, and readiness says what is missing.
    pub(crate) async fn connect_options(&self) -> Result<ConnectOptions, NatsSetupError> {
        let mut options = ConnectOptions::new()
            .name(env!("SERVICE_NAME"))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(self.publish_timeout)
            .request_timeout(Some(self.publish_timeout))
            .event_callback(|event| async move {
                // Losing the server is worth a warning; events wait in the outbox meanwhile.
                match event {
                    Event::Connected => tracing::info!("connected to NATS"),
                    event => tracing::warn!(%event, "NATS connection"),
                }
            });
        options = match &self.auth {
            NatsAuth::None => options,
            NatsAuth::UserPassword { user, password } => {
                options.user_and_password(user.clone(), password.expose_secret().to_owned())
            }
            NatsAuth::Token(token) => options.token(token.expose_secret().to_owned()),
            NatsAuth::CredentialsFile(path) => {
                options.credentials_file(path).await.map_err(|source| {
                    NatsSetupError::CredentialsFile {
                        path: path.clone(),
                        source,
                    }
                })?
            }
        };
        if self.tls.is_configured() {
            options = options.require_tls(true);
        }
        if let Some(ca_file) = &self.tls.ca_file {
            readable(ca_file)?;
            options = options.add_root_certificates(ca_file.clone());
        }
        if let Some((cert, key)) = &self.tls.client_certificate {
            readable(cert)?;
            readable(key)?;
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        Ok(options)
    }
}

/// async-nats opens the TLS files only when it connects, in the background; checking here
/// that they exist turns a wrong path into a start-up error instead of an endless reconnect
/// loop.
fn readable(path: &Path) -> Result<(), NatsSetupError> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|source| NatsSetupError::TlsFile {
            path: path.to_owned(),
            source,
        })
}

/// JetStream's rule for stream names: no whitespace, `.`, `*`, `>`, path separators.
fn is_valid_stream_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\'))
}

/// Why the NATS adapter refused its settings. Raised at start-up, so a misconfiguration stops
/// the service with a clear message instead of failing every delivery later.
#[derive(Debug, thiserror::Error)]
pub enum NatsSetupError {
    #[error("the NATS URL is empty")]
    EmptyUrl,
    #[error("the NATS URL is not usable: {0}")]
    InvalidUrl(String),
    #[error("{0:?} is not a JetStream stream name (no spaces, '.', '*', '>', '/' or '\\')")]
    InvalidStreamName(String),
    #[error("{0:?} is not a subject prefix: dot-separated tokens without spaces, '*' or '>'")]
    InvalidSubjectPrefix(String),
    #[error("the NATS publish timeout must be greater than zero")]
    ZeroTimeout,
    #[error("the JetStream duplicate window must be greater than zero")]
    ZeroDuplicateWindow,
    #[error("cannot read the NATS credentials file {path}")]
    CredentialsFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the NATS TLS file {path}")]
    TlsFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NatsSettings {
        NatsSettings::new(SecretString::from("nats://127.0.0.1:4222"))
    }

    #[test]
    fn the_defaults_pass_their_own_checks() {
        let settings = settings();
        assert!(settings.validate().is_ok());
        assert_eq!(
            settings.stream_subjects(),
            concat!(env!("SERVICE_NAME"), ".events.>")
        );
    }

    #[test]
    fn stream_names_with_subject_characters_are_refused() {
        for bad in ["", "EVENTS.V1", "MY EVENTS", "EVENTS*", "a/b"] {
            let settings = NatsSettings {
                stream: bad.to_owned(),
                ..settings()
            };
            assert!(
                matches!(
                    settings.validate(),
                    Err(NatsSetupError::InvalidStreamName(_))
                ),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn wildcard_prefixes_are_refused() {
        for bad in ["", "events.>", "svc.*", "svc..events", "svc events"] {
            let settings = NatsSettings {
                subject_prefix: bad.to_owned(),
                ..settings()
            };
            assert!(
                matches!(
                    settings.validate(),
                    Err(NatsSetupError::InvalidSubjectPrefix(_))
                ),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn a_missing_tls_file_stops_the_start() {
        let settings = NatsSettings {
            tls: NatsTls {
                ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
                client_certificate: None,
            },
            ..settings()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let result = runtime.block_on(settings.connect_options());
        assert!(matches!(result, Err(NatsSetupError::TlsFile { .. })));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let settings = NatsSettings {
            url: SecretString::from("nats://app:url-password@host:4222"),
            auth: NatsAuth::Token(SecretString::from("the-token")),
            ..settings()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("url-password"));
        assert!(!shown.contains("the-token"));
    }
}
