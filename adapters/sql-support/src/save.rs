//! The write of a save, and with it the transaction boundary of the whole service: an
//! aggregate's new state, its outbox rows and the answer of the idempotent request that
//! caused it are written in one transaction, so that they commit or roll back together.
//!
//! The order of the statements is shared; the statements themselves are each driver's SQL
//! ([`SaveStatements`], [`RowStatements`]), and so are opening and committing the
//! transaction.

use application::ports::{DeliveryRoutes, NewOutboxMessage, Receipt, RepositoryError};
use async_trait::async_trait;
use domain::DomainEvent;
use uuid::Uuid;

use crate::concurrency::version_matched;

/// An aggregate's row, as [`Save`] writes it.
pub trait AggregateRow: Send + Sync {
    /// The `aggregate_type` of the outbox rows written with it.
    const AGGREGATE_TYPE: &'static str;

    /// The aggregate's id, and the version the row holds: 1 for a new aggregate, which is
    /// inserted; every later version updates the row that holds the one before.
    fn id_and_version(&self) -> (Uuid, i64);
}

/// The statements of a save that are the same for every aggregate, run on the connection of
/// the save's transaction.
#[async_trait]
pub trait SaveStatements: Send {
    /// Stores a receipt's answer, before the save writes its change, so that a request whose
    /// key was taken over writes nothing at all.
    ///
    /// # Errors
    /// `ClaimLost` when the receipt's claim no longer holds the key unanswered; the save then
    /// rolls back. `Unavailable` as for any query.
    async fn store_receipt(&mut self, receipt: &Receipt) -> Result<(), RepositoryError>;

    /// Inserts one outbox row. The store numbers its rows in insertion order, which is the
    /// order the relay delivers them in.
    async fn insert_outbox(&mut self, row: &NewOutboxMessage) -> Result<(), RepositoryError>;
}

/// The two statements that write one kind of aggregate row.
#[async_trait]
pub trait RowStatements<Row: AggregateRow>: SaveStatements {
    /// Inserts a new aggregate. A row with its id already there is `Duplicate`, which
    /// `translate` makes of the unique violation.
    async fn insert(&mut self, row: &Row) -> Result<(), RepositoryError>;

    /// Updates the row if it still holds the version before `row`'s, and returns how many
    /// rows that changed: none when another save got there first.
    async fn update(&mut self, row: &Row) -> Result<u64, RepositoryError>;
}

/// One save, prepared: the aggregate's row and its events, serialized into outbox rows (one
/// per event and subscribed sink).
pub struct Save<Row> {
    row: Row,
    outbox: Vec<NewOutboxMessage>,
}

impl<Row: AggregateRow> Save<Row> {
    /// Prepares the save of `row` with `events`. Call it before the transaction opens: it
    /// needs no database, so its failure leaves nothing to roll back.
    ///
    /// # Errors
    /// `Corrupt` when an event cannot be serialized.
    pub fn new<E: DomainEvent>(
        row: Row,
        events: &[E],
        routes: &DeliveryRoutes,
    ) -> Result<Self, RepositoryError> {
        let (id, _) = row.id_and_version();
        let outbox = NewOutboxMessage::from_events(routes, Row::AGGREGATE_TYPE, id, events)?;
        Ok(Self { row, outbox })
    }

    /// The aggregate's id.
    pub fn id(&self) -> Uuid {
        let (id, _) = self.row.id_and_version();
        id
    }

    /// Writes the save on `statements`, the connection of its open transaction, which the
    /// caller commits afterwards. Any error leaves the transaction to roll back: a failed
    /// save leaves neither the new state nor a single outbox row nor an answer behind.
    ///
    /// The answer of an idempotent request goes first: a request whose key was taken over
    /// must not write its change at all. The row follows, inserted or updated under the
    /// version check, then its events, one statement a row: a save raises a handful of
    /// events at most, so a statement each is clearer than a bulk insert and costs nothing
    /// noticeable.
    ///
    /// # Errors
    /// `ClaimLost` when the receipt's claim lost its key, `Duplicate` when a new aggregate's
    /// row exists, `Conflict` when another save changed the row first, `Unavailable` as for
    /// any query.
    pub async fn write<S: RowStatements<Row>>(
        self,
        statements: &mut S,
        receipt: Option<&Receipt>,
    ) -> Result<(), RepositoryError> {
        if let Some(receipt) = receipt {
            statements.store_receipt(receipt).await?;
        }
        let (_, version) = self.row.id_and_version();
        if version == 1 {
            statements.insert(&self.row).await?;
        } else {
            version_matched(statements.update(&self.row).await?)?;
        }
        for row in &self.outbox {
            statements.insert_outbox(row).await?;
        }
        Ok(())
    }
}
