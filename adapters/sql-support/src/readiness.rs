//! What migrating, readiness and metrics do with any SQL store: applying the embedded
//! migrations, telling whether the schema matches them, and how busy the pool is.

use std::time::Duration;

use application::ports::RepositoryError;
use sqlx::migrate::{Migrate, Migration, Migrator};
use sqlx::{Database, Pool};

/// A snapshot of a store's connection pool, for the composition root's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections, in use or idle.
    pub connections: u32,
    /// Open connections waiting for work.
    pub idle: u32,
}

impl PoolStats {
    /// How many connections `pool` holds right now, and how many of them are idle.
    pub fn of<DB: Database>(pool: &Pool<DB>) -> Self {
        Self {
            connections: pool.size(),
            // Idle connections are a subset of `size`, a `u32`, so this always fits.
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        }
    }
}

/// Applies the migrations of `migrator` that the database behind `pool` has not seen yet;
/// `database` names it in the message.
///
/// # Errors
/// `Unavailable` when the database cannot be reached, a migration fails, or an applied
/// migration differs from the embedded one (someone edited a released migration).
pub async fn migrate<DB: Database>(
    migrator: &Migrator,
    pool: &Pool<DB>,
    database: &str,
) -> Result<(), RepositoryError>
where
    DB::Connection: Migrate,
{
    migrator
        .run(pool)
        .await
        .map_err(|e| RepositoryError::Unavailable(format!("migrating {database} failed: {e}")))
}

/// A store's readiness: `applied` — reading the migrations it has applied, which doubles as
/// the probe that it answers — must finish within `timeout`, and leave every embedded
/// migration applied unchanged ([`check_migrations`]). `database` names the store in the
/// message.
///
/// # Errors
/// `Unavailable` when the store does not answer in time, or as `applied` and
/// [`check_migrations`] say.
pub async fn check_ready<'a>(
    database: &str,
    timeout: Duration,
    applied: impl Future<Output = Result<Vec<(i64, Vec<u8>)>, RepositoryError>>,
    embedded: impl IntoIterator<Item = &'a Migration>,
) -> Result<(), RepositoryError> {
    let applied = tokio::time::timeout(timeout, applied).await.map_err(|_| {
        RepositoryError::Unavailable(format!("{database} did not answer within {timeout:?}"))
    })??;
    check_migrations(embedded, &applied)
}

/// Compares the migrations a database has applied — `(version, checksum)` rows of
/// `_sqlx_migrations` that succeeded — with the embedded ones (`MIGRATOR.iter()`).
///
/// Applied migrations newer than the embedded ones do not count: during a rolling deploy the
/// new version migrates first while the old one keeps serving.
///
/// # Errors
/// `Unavailable`, naming every embedded migration that is not applied or differs from the
/// applied one.
pub fn check_migrations<'a>(
    embedded: impl IntoIterator<Item = &'a Migration>,
    applied: &[(i64, Vec<u8>)],
) -> Result<(), RepositoryError> {
    let missing: Vec<String> = embedded
        .into_iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter_map(|m| match applied.iter().find(|(v, _)| *v == m.version) {
            None => Some(format!("{} ({}) is not applied", m.version, m.description)),
            Some((_, checksum)) if **checksum != *m.checksum => Some(format!(
                "{} ({}) differs from the applied one",
                m.version, m.description
            )),
            Some(_) => None,
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RepositoryError::Unavailable(format!(
            "the database schema is not up to date (run `{} migrate`): migration {}",
            env!("SERVICE_NAME"),
            missing.join(", migration ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::MigrationType;

    use super::*;

    fn embedded() -> Vec<Migration> {
        [
            (1, "approvals", "CREATE TABLE a (id INTEGER)"),
            (2, "invoices", "CREATE TABLE b (id INTEGER)"),
        ]
        .into_iter()
        .map(|(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect()
    }

    fn applied(migrations: &[Migration]) -> Vec<(i64, Vec<u8>)> {
        migrations
            .iter()
            .map(|m| (m.version, m.checksum.to_vec()))
            .collect()
    }

    #[test]
    fn a_schema_with_every_embedded_migration_applied_is_current() {
        let embedded = embedded();
        assert_eq!(check_migrations(&embedded, &applied(&embedded)), Ok(()));
    }

    #[test]
    fn a_migration_applied_by_a_newer_version_does_not_count_against_it() {
        let embedded = embedded();
        let mut applied = applied(&embedded);
        applied.push((3, vec![0xab]));
        assert_eq!(check_migrations(&embedded, &applied), Ok(()));
    }

    #[test]
    fn every_missing_or_edited_migration_is_named() {
        let embedded = embedded();
        let edited = vec![(1, vec![0xab])];
        let error = check_migrations(&embedded, &edited);
        assert!(
            matches!(&error, Err(RepositoryError::Unavailable(m))
                if m.contains("1 (approvals) differs from the applied one")
                    && m.contains("2 (invoices) is not applied")),
            "{error:?}"
        );
    }
}
