//! The port contract suites against SQLite (a temporary file per test), plus what only the
//! SQLite adapter has: its URL forms, WAL mode, readiness before migrating, corrupt rows.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sqlite {
    tests::contract_tests!(tests::backends::sqlite);

    mod adapter {
        use adapter_sqlite::{PoolStats, SqliteStore};
        use application::ports::{ApprovalRepository, Readiness, RepositoryError};
        use sqlx::{Connection, SqliteConnection};
        use tests::contract::fixtures::{
            Fixture, a_hand_edited_row_is_reported_corrupt, new_approval,
        };
        use tests::contract::readiness::ready_only_once_migrated;

        fn url_in(dir: &tempfile::TempDir, form: &str) -> String {
            format!("{form}{}", dir.path().join("service.db").display())
        }

        #[tokio::test]
        async fn connect_creates_a_missing_file_in_wal_mode() {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::connect(&url_in(&dir, "sqlite:"))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            store.close().await;

            let path = dir.path().join("service.db");
            assert!(path.is_file());
            let mut conn = SqliteConnection::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap();
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
        }

        #[tokio::test]
        async fn pool_stats_count_the_open_and_the_idle_connections() {
            // An in-memory database keeps exactly one connection open, idle between calls.
            let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
            assert_eq!(
                store.pool_stats(),
                PoolStats {
                    connections: 1,
                    idle: 1
                }
            );
            store.close().await;
            assert_eq!(
                store.pool_stats(),
                PoolStats {
                    connections: 0,
                    idle: 0
                }
            );
        }

        #[tokio::test]
        async fn every_url_form_opens_a_working_store() {
            let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            for url in [
                url_in(&one, "sqlite:"),
                url_in(&two, "sqlite://"),
                "sqlite::memory:".into(),
            ] {
                let store = SqliteStore::connect(&url).await.unwrap();
                store.migrate().await.unwrap();
                // The in-memory database must survive between calls (one kept connection).
                let approval = Fixture::default().save(&store, new_approval(1)).await;
                assert_eq!(
                    ApprovalRepository::get(&store, approval.id()).await,
                    Ok(Some(approval)),
                    "{url}"
                );
                assert_eq!(store.check().await, Ok(()), "{url}");
            }
        }

        #[tokio::test]
        async fn a_url_for_another_database_is_refused() {
            let result = SqliteStore::connect("postgres://localhost/service").await;
            assert!(
                matches!(&result, Err(RepositoryError::Unavailable(m)) if m.contains("sqlite:")),
                "{result:?}"
            );
        }

        #[tokio::test]
        async fn a_file_in_a_missing_directory_is_unavailable() {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("missing/service.db").display());
            let result = SqliteStore::connect(&url).await;
            assert!(
                matches!(result, Err(RepositoryError::Unavailable(_))),
                "{result:?}"
            );
        }

        #[tokio::test]
        async fn readiness_reports_missing_migrations_until_migrated() {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::connect(&url_in(&dir, "sqlite:"))
                .await
                .unwrap();

            ready_only_once_migrated(&store, async || store.migrate().await.unwrap()).await;
        }

        #[tokio::test]
        async fn a_row_the_domain_refuses_is_reported_corrupt() {
            let dir = tempfile::tempdir().unwrap();
            let url = url_in(&dir, "sqlite:");
            let store = SqliteStore::connect(&url).await.unwrap();
            store.migrate().await.unwrap();

            a_hand_edited_row_is_reported_corrupt(&store, async |sql| {
                let mut conn = SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            })
            .await;
        }
    }
}
