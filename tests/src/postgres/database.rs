//! One database per test.

use adapter_postgres::{PoolSettings, PostgresStore};
use sqlx::{AssertSqlSafe, Connection};
use uuid::Uuid;

use super::server::{DATABASE_PREFIX, connect_admin, server_url};

/// An empty database of its own for one test, dropped when this value is dropped — at the end
/// of the test, whether it passed or panicked.
pub struct TestDatabase {
    name: String,
    server: &'static str,
}

impl TestDatabase {
    /// Creates a new, empty (not migrated) database on the test server.
    ///
    /// # Panics
    /// When no server can be found, or it refuses to create the database.
    pub async fn create() -> Self {
        let server = server_url().await;
        // UUID v7: unique, and it records when it was made (see `is_stale`).
        let name = format!("{DATABASE_PREFIX}{}", Uuid::now_v7().simple());
        let mut admin = connect_admin(server)
            .await
            .unwrap_or_else(|e| panic!("connecting to the PostgreSQL test server failed: {e}"));
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating the test database {name} failed: {e}"));
        let _ = admin.close().await;
        Self { name, server }
    }

    /// The URL of this database: the server's URL with the database name replaced.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(self.server).expect("the server URL was parsed before");
        url.set_path(&self.name);
        url.into()
    }

    /// Connects a store with the default pool settings and runs the migrations.
    pub async fn migrated_store(&self) -> PostgresStore {
        let store = PostgresStore::connect(&self.url(), PoolSettings::default())
            .await
            .expect("connecting to the test database");
        store.migrate().await.expect("migrating the test database");
        store
    }
}

impl Drop for TestDatabase {
    /// `Drop` cannot await, and the test's runtime may be shutting down (or unwinding from a
    /// panic), so the drop runs on a thread of its own with a small runtime, and we wait for
    /// it. `WITH (FORCE)` ends the connections the test's pool may still hold.
    fn drop(&mut self) {
        let (name, server) = (self.name.clone(), self.server);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = connect_admin(server).await.map_err(|e| e.to_string())?;
                sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .map_err(|e| e.to_string())?;
                let _ = admin.close().await;
                Ok::<_, String>(())
            })
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "the drop thread panicked".to_owned()) {
            // The next run drops it once it is an hour old.
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}
