//! Finding the server, once per test process.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::cluster::{self, ClusterError};

/// The server tried when `DATABASE_URL` is not set: a local install with trust auth.
const LOCAL_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Every test database's name starts with this, so leftovers can be found and dropped.
pub(super) const DATABASE_PREFIX: &str = "svc_test_";

/// How old a leftover test database must be before a new run drops it. Old enough that it
/// cannot belong to a test still running in another process.
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

const INSTALL_HINT: &str = "no PostgreSQL server found for the PostgreSQL tests: install \
    PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`, macOS: `brew install \
    postgresql`) so the tests can start a throw-away server, or set \
    DATABASE_URL=postgres://user@host:port/database to use a running one";

static SERVER: OnceCell<String> = OnceCell::const_new();

/// The URL of a server the tests may create databases on. Found (or started) on first use.
///
/// # Panics
/// When no server can be found or started — with a message saying what to do.
pub async fn server_url() -> &'static str {
    SERVER.get_or_init(discover).await
}

/// Connects to the server's administrative database (the one in its URL).
pub(super) async fn connect_admin(url: &str) -> Result<PgConnection, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    tokio::time::timeout(Duration::from_secs(5), options.connect())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

async fn discover() -> String {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => {
            assert!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "DATABASE_URL is set, but not to a postgres:// URL; the PostgreSQL tests need \
                 one: point it at a PostgreSQL server, or unset it to let the tests find one"
            );
            if let Err(e) = probe(&url).await {
                panic!("DATABASE_URL names a PostgreSQL server the tests cannot use: {e}");
            }
            url
        }
        Err(_) if probe(LOCAL_URL).await.is_ok() => LOCAL_URL.to_owned(),
        Err(_) => match tokio::task::spawn_blocking(cluster::start).await {
            Ok(Ok(url)) => url,
            Ok(Err(ClusterError::NotInstalled)) => panic!("{INSTALL_HINT}"),
            Ok(Err(ClusterError::Failed(reason))) => {
                panic!("could not start a throw-away PostgreSQL for the tests: {reason}")
            }
            Err(e) => panic!("starting a throw-away PostgreSQL panicked: {e}"),
        },
    };
    drop_stale_databases(&url).await;
    url
}

/// Succeeds when the server answers and accepts us.
async fn probe(url: &str) -> Result<(), sqlx::Error> {
    connect_admin(url).await?.close().await
}

/// Drops test databases that a killed or crashed run left behind.
async fn drop_stale_databases(url: &str) {
    let Ok(mut admin) = connect_admin(url).await else {
        return;
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
    )
    .bind(DATABASE_PREFIX)
    .fetch_all(&mut admin)
    .await
    .unwrap_or_default();
    for name in names.iter().filter(|name| is_stale(name)) {
        // The name was checked to be the prefix plus a UUID in `is_stale`, so it is a plain
        // identifier and safe to splice into the statement.
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = sqlx::query(AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
        {
            eprintln!("could not drop the stale test database {name}: {e}");
        }
    }
    // Nothing to report on failure: this connection is only closed politely.
    let _ = admin.close().await;
}

/// True for a test database whose name says it was created more than an hour ago.
fn is_stale(name: &str) -> bool {
    let Some(created) = name
        .strip_prefix(DATABASE_PREFIX)
        .and_then(|id| Uuid::try_parse(id).ok())
        .and_then(|id| id.get_timestamp())
    else {
        return false;
    };
    let (seconds, nanos) = created.to_unix();
    let created = SystemTime::UNIX_EPOCH + Duration::new(seconds, nanos);
    created.elapsed().is_ok_and(|age| age > STALE_AFTER)
}
