//! The port contract suites against PostgreSQL (a database of its own per test, see
//! `tests::postgres`), plus what only the PostgreSQL adapter has: bounded connection
//! failures, readiness before migrating, corrupt rows.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod postgres {
    tests::contract_tests!(tests::backends::postgres);

    mod adapter {
        use std::time::{Duration, Instant};

        use adapter_postgres::{PoolSettings, PoolStats, PostgresStore};
        use application::ports::{
            ApiKeyHash, ApiKeyStore, ApprovalRepository, ChatMessages, ListQuery, MessageRef,
            Outbox, Readiness, RepositoryError,
        };
        use sqlx::postgres::PgPoolOptions;
        use sqlx::{Connection, PgConnection};
        use tests::contract::fixtures::{
            Fixture, a_hand_edited_row_is_reported_corrupt, new_approval,
        };
        use tests::contract::readiness::ready_only_once_migrated;
        use tests::postgres::{TestDatabase, closed_port};
        use tokio::net::TcpListener;

        const TIMEOUT: Duration = Duration::from_millis(500);

        fn is_unavailable<T: std::fmt::Debug>(result: &Result<T, RepositoryError>) -> bool {
            matches!(result, Err(RepositoryError::Unavailable(_)))
        }

        fn settings() -> PoolSettings {
            PoolSettings {
                max_connections: 2,
                acquire_timeout: TIMEOUT,
            }
        }

        #[tokio::test]
        async fn connecting_to_a_closed_port_is_unavailable_within_the_timeout() {
            let url = format!(
                "postgres://postgres@127.0.0.1:{}/service",
                closed_port().await
            );
            let started = Instant::now();

            let result = PostgresStore::connect(&url, settings()).await;

            assert!(is_unavailable(&result), "{result:?}");
            assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2));
        }

        #[tokio::test]
        async fn connecting_to_a_server_that_never_answers_is_unavailable_within_the_timeout() {
            // Accepts TCP connections and then says nothing, like a hung server.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let silent = tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((socket, _)) = listener.accept().await {
                    held.push(socket);
                }
            });
            let url = format!("postgres://postgres@127.0.0.1:{port}/service");
            let started = Instant::now();

            let result = PostgresStore::connect(&url, settings()).await;

            assert!(is_unavailable(&result), "{result:?}");
            assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2));
            silent.abort();
        }

        #[tokio::test]
        async fn a_malformed_url_is_refused_without_echoing_it() {
            for url in [
                "sqlite:service.db",
                "postgres://user:s3cret@host:notaport/db",
            ] {
                let result = PostgresStore::connect(url, settings()).await;
                assert!(is_unavailable(&result), "{url}: {result:?}");
                let message = format!("{result:?}");
                assert!(
                    !message.contains("s3cret"),
                    "the password leaked: {message}"
                );
            }
        }

        /// The server goes away while the service runs: every port reports `Unavailable`
        /// within the acquire timeout, never a panic or a hang.
        #[tokio::test]
        async fn a_store_whose_server_is_gone_reports_unavailable_on_every_port() {
            let url = format!(
                "postgres://postgres@127.0.0.1:{}/service",
                closed_port().await
            );
            let pool = PgPoolOptions::new()
                .acquire_timeout(TIMEOUT)
                .connect_lazy(&url)
                .unwrap();
            let store = PostgresStore::from_pool(pool);
            let fixture = Fixture::default();
            let mut approval = fixture.open(new_approval(1));
            let events = approval.take_events();
            let now = fixture.now();
            let started = Instant::now();

            assert!(is_unavailable(
                &ApprovalRepository::save(&store, &approval, &events, None).await
            ));
            assert!(is_unavailable(
                &ApprovalRepository::get(&store, approval.id()).await
            ));
            let query = ListQuery {
                status: None,
                after: None,
                limit: 10,
            };
            assert!(is_unavailable(&store.list(&query).await));
            assert!(is_unavailable(&store.overdue(now, 10).await));
            assert!(is_unavailable(
                &store
                    .claim("chat", now, 10, chrono::Duration::minutes(1))
                    .await
            ));
            assert!(is_unavailable(&store.mark_delivered(&[1], now).await));
            assert!(is_unavailable(&store.stats().await));
            assert!(is_unavailable(
                &store.find_by_hash(&ApiKeyHash::of("k")).await
            ));
            let message = MessageRef {
                channel: "C1".into(),
                message_id: "1".into(),
            };
            assert!(is_unavailable(
                &store.put(approval.id().as_uuid(), &message).await
            ));
            assert!(is_unavailable(&store.check().await));
            assert!(started.elapsed() < 10 * (TIMEOUT + Duration::from_secs(1)));
        }

        #[tokio::test]
        async fn pool_stats_count_the_open_and_the_idle_connections() {
            let database = TestDatabase::create().await;
            let store = PostgresStore::connect(&database.url(), PoolSettings::default())
                .await
                .unwrap();
            // Connecting checked one connection out and back in; how soon it is idle again
            // is up to sqlx, which returns connections in the background.
            let open = store.pool_stats();
            assert!(open.connections >= 1, "{open:?}");
            assert!(open.idle <= open.connections, "{open:?}");
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
        async fn readiness_reports_missing_migrations_until_migrated() {
            let database = TestDatabase::create().await;
            let store = PostgresStore::connect(&database.url(), PoolSettings::default())
                .await
                .unwrap();

            ready_only_once_migrated(&store, async || store.migrate().await.unwrap()).await;
        }

        #[tokio::test]
        async fn a_row_the_domain_refuses_is_reported_corrupt() {
            let database = TestDatabase::create().await;
            let store = database.migrated_store().await;

            a_hand_edited_row_is_reported_corrupt(&store, async |sql| {
                let mut conn = PgConnection::connect(&database.url()).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            })
            .await;
        }

        /// The sessions of this database, other than the asking one, that sit inside a
        /// transaction block between statements.
        async fn sessions_in_a_transaction(conn: &mut PgConnection) -> i64 {
            sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND state LIKE 'idle in transaction%'",
            )
            .fetch_one(conn)
            .await
            .unwrap()
        }

        /// Waits, up to a second, for the sessions to leave their transactions; whether they
        /// did. A connection being released is checked in the background, so a moment
        /// after a save is dropped its session may still be finishing.
        async fn transactions_end(observer: &mut PgConnection) -> bool {
            for _ in 0..100 {
                if sessions_in_a_transaction(observer).await == 0 {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            false
        }

        /// Resolves after `duration`, measured to the microsecond. Tokio's timers tick in
        /// milliseconds, too coarse to land inside a round trip to a local server.
        async fn spin_for(duration: Duration) {
            let start = Instant::now();
            while start.elapsed() < duration {
                tokio::task::yield_now().await;
            }
        }

        /// sqlx 0.9.0's `begin` is not cancel-safe (transact-rs/sqlx#4393): a save dropped
        /// while it waits for the answer to BEGIN used to return its connection to the pool
        /// inside a transaction, and every later statement on it joined that transaction.
        /// The store begins its transactions in a task a dropped save does not cancel.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn saves_dropped_mid_begin_leave_no_session_in_a_transaction() {
            let database = TestDatabase::create().await;
            let store = PostgresStore::connect(&database.url(), settings())
                .await
                .unwrap();
            store.migrate().await.unwrap();
            let fixture = Fixture::default();
            let mut observer = PgConnection::connect(&database.url()).await.unwrap();

            // How long a whole save takes here, so the cuts below sweep over all of it.
            let mut whole = Duration::ZERO;
            for _ in 0..5 {
                let started = Instant::now();
                fixture.save(&store, new_approval(1)).await;
                whole = whole.max(started.elapsed());
            }

            // Cut 300 saves short at evenly spread moments of that time: a sweep over
            // acquiring, beginning, writing and committing, BEGIN among them.
            let mut left_in_a_transaction = 0;
            for step in 0..300_u32 {
                let mut approval = fixture.open(new_approval(1));
                let events = approval.take_events();
                let save = ApprovalRepository::save(&store, &approval, &events, None);
                tokio::select! {
                    _ = save => {}
                    () = spin_for(whole * step / 300) => {}
                }
                if !transactions_end(&mut observer).await {
                    left_in_a_transaction += 1;
                }
            }

            assert_eq!(left_in_a_transaction, 0, "of 300 cut saves");
            // And the store still works, on every connection of its pool.
            for _ in 0..8 {
                let approval = fixture.save(&store, new_approval(1)).await;
                let loaded = ApprovalRepository::get(&store, approval.id())
                    .await
                    .unwrap();
                assert_eq!(loaded.map(|a| a.id()), Some(approval.id()));
            }
            assert_eq!(sessions_in_a_transaction(&mut observer).await, 0);
        }

        /// A healthy connection goes back to the pool and serves the next call. (A release
        /// check that closed every connection once made each request open a new one, at a
        /// twentieth of the throughput.)
        #[tokio::test]
        async fn a_healthy_connection_is_reused_after_its_release() {
            let database = TestDatabase::create().await;
            let store = PostgresStore::connect(&database.url(), settings())
                .await
                .unwrap();
            store.migrate().await.unwrap();
            let approval = Fixture::default().save(&store, new_approval(1)).await;
            let mut observer = PgConnection::connect(&database.url()).await.unwrap();
            let mut backends = std::collections::HashSet::new();
            for _ in 0..20 {
                ApprovalRepository::get(&store, approval.id())
                    .await
                    .unwrap();
                // Let the pool take the connection back before the next call.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let pids: Vec<i32> = sqlx::query_scalar(
                    "SELECT pid FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .fetch_all(&mut observer)
                .await
                .unwrap();
                backends.extend(pids);
            }
            assert!(
                backends.len() <= 2,
                "20 calls in a row opened {} sessions: released connections are closed",
                backends.len()
            );
            assert!(store.pool_stats().idle >= 1, "{:?}", store.pool_stats());
        }
    }
}
