//! # The composition root
//!
//! The only crate that knows every adapter. It reads the configuration, opens the store the
//! configuration names, picks the chat gateway, plugs them into the application's ports, and
//! runs the HTTP server and the background workers until a shutdown signal.
//!
//! What belongs here: configuration ([`config`]), the one wiring function ([`build`] /
//! [`build_with`] in `wiring.rs`), the delivery sinks and the events each takes
//! (`sinks.rs`), the system clock and randomness ([`system`]), the
//! background loops ([`tasks`]) and what wakes the sweeper (`deadlines.rs`), graceful
//! shutdown ([`shutdown`]), logging and the metrics
//! recorder ([`telemetry`]), the service's own metrics ([`service_metrics`]) and the command
//! line ([`cli`]). What does not: business rules (domain),
//! use cases (application), and anything technology-specific (adapters) — this crate only
//! connects them.
//!
//! The binary (`src/main.rs`) is a thin shell over this library, so end-to-end tests start
//! the very same application in-process:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // The variables' prefix comes from `.cargo/config.toml` (ADR 0016): `…_SQLITE_PATH`.
//! let sqlite_path = concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH");
//! let config = service::Config::from_env([(sqlite_path, "/tmp/e2e.db")])?;
//! let app = service::build(&config).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! tokio::spawn(app.serve(listener, service::Workers::ALL, shutdown.clone()));
//! // … call the API …
//! shutdown.cancel();
//! # Ok(())
//! # }
//! ```

pub mod cli;
pub mod config;
pub mod gate;
pub mod service_metrics;
pub mod shutdown;
pub mod system;
pub mod tasks;
pub mod telemetry;

mod app;
pub mod deadlines;
mod sinks;
mod wiring;

pub use app::{App, Workers};
pub use config::{Config, ConfigError};
pub use shutdown::RunError;
pub use sinks::{ConnectedSinks, connect as connect_sinks};
pub use wiring::{
    Adapters, Persistence, StartupError, Store, build, build_with, chat_gateway, discord_settings,
    open_store,
};
