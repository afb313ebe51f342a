//! Throw-away databases: every service instance of a run gets a fresh one, so no run reads
//! another's rows, and nothing is left behind.

use std::fmt;

use sqlx::{Connection, PgConnection};
use tempfile::TempDir;

use crate::Error;

/// The two stores hexagate ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Store {
    Postgres,
    Sqlite,
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        })
    }
}

/// One fresh, empty database.
#[derive(Debug)]
pub struct Scratch {
    pub url: String,
    /// What removing it takes.
    place: Place,
    /// Where the processes using it write their logs.
    pub dir: TempDir,
}

#[derive(Debug)]
enum Place {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

impl Scratch {
    /// Creates an empty database. `admin_url` is a PostgreSQL database to connect to while
    /// creating and dropping the new one (`…/postgres`).
    pub async fn create(store: Store, admin_url: &str) -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("hexagate-bench-")
            .tempdir()?;
        match store {
            Store::Sqlite => Ok(Self {
                url: format!("sqlite:{}", dir.path().join("bench.db").display()),
                place: Place::Sqlite,
                dir,
            }),
            Store::Postgres => {
                let name = format!("bench_{:016x}", rand::random::<u64>());
                let mut admin = PgConnection::connect(admin_url).await.map_err(|e| {
                    format!("cannot reach PostgreSQL at {admin_url} (see --postgres): {e}")
                })?;
                // The name is ours: `bench_` and hex digits.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
                Ok(Self {
                    url: database_url(admin_url, &name)?,
                    place: Place::Postgres {
                        admin_url: admin_url.to_owned(),
                        name,
                    },
                    dir,
                })
            }
        }
    }

    /// Removes the database (the SQLite file goes with the directory).
    pub async fn remove(self) -> Result<(), Error> {
        if let Place::Postgres { admin_url, name } = &self.place {
            let mut admin = PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// `admin_url` with its database name replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> Result<String, Error> {
    let mut url = reqwest::Url::parse(admin_url)
        .map_err(|e| format!("--postgres {admin_url:?} is not a URL: {e}"))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// The server's version line, for the report.
pub async fn postgres_version(admin_url: &str) -> Result<String, Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut admin)
        .await?;
    admin.close().await?;
    Ok(version)
}
