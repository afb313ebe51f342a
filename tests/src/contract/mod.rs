//! The port contract suites: one async function per rule a driven port promises, written
//! against `Arc<dyn Port>` only, so the same function tests every adapter.
//!
//! A test file per backend (`tests/tests/contract_memory.rs`, `contract_sqlite.rs`,
//! `contract_postgres.rs`) expands [`contract_tests!`](crate::contract_tests) with a function
//! that builds a fresh [`Store`]; each rule then shows up as its own named test, e.g.
//! `postgres::approval_repository::round_trips_every_field`.
//!
//! To add a rule: write it as `pub async fn rule_in_a_sentence(store: &Store)` in the
//! suite's module and add its name to the list in [`contract_tests!`](crate::contract_tests).

pub mod alert_repository;
pub mod api_keys;
pub mod approval_repository;
pub mod change_feed;
pub mod chat_messages;
pub mod fixtures;
pub mod idempotency;
pub mod outbox;
pub mod readiness;

use std::any::Any;
use std::sync::Arc;

use application::ports::{
    AlertRepository, ApiKeyStore, ApprovalRepository, CHAT_SINK, ChangeFeed, ChatMessages,
    DeliveryRoutes, EventSelection, IdempotencyStore, Outbox, Readiness, Route,
};

/// The second sink of every contract store: it takes only settled approvals, so the outbox
/// rules can check that sinks get their own rows and never wait for each other.
pub const WEBHOOK: &str = "webhook";

/// How every contract store routes events: everything to chat, settled approvals to
/// [`WEBHOOK`] as well.
pub fn routes() -> DeliveryRoutes {
    DeliveryRoutes::new([
        Route {
            sink: CHAT_SINK,
            events: EventSelection::All,
        },
        Route {
            sink: WEBHOOK,
            events: EventSelection::Only(&["approval.approved", "approval.rejected"]),
        },
    ])
}

/// The ports of one store under test, all backed by the same storage.
pub struct Store {
    pub approvals: Arc<dyn ApprovalRepository>,
    pub alerts: Arc<dyn AlertRepository>,
    pub outbox: Arc<dyn Outbox>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub messages: Arc<dyn ChatMessages>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub readiness: Arc<dyn Readiness>,
    pub changes: Arc<dyn ChangeFeed>,
    /// Whatever keeps the storage alive (a temporary directory, a test database). Declared
    /// last so it is dropped after the ports that use it.
    _storage: Box<dyn Any + Send + Sync>,
}

impl Store {
    /// Serves every port from `store` (every store implements all of them, as the
    /// composition root's `Store` says), and keeps `storage` alive as long as the ports.
    pub fn new<S: service::Store + 'static>(store: S, storage: impl Any + Send + Sync) -> Self {
        let store = Arc::new(store);
        Self {
            approvals: store.clone(),
            alerts: store.clone(),
            outbox: store.clone(),
            api_keys: store.clone(),
            messages: store.clone(),
            idempotency: store.clone(),
            readiness: store.clone(),
            changes: store,
            _storage: Box::new(storage),
        }
    }
}

/// Expands to one test per contract rule, in a module per port, each run against a fresh
/// store from `$backend` (a path to an `async fn() -> Store`).
///
/// ```text
/// mod postgres {
///     tests::contract_tests!(tests::backends::postgres);
/// }
/// ```
#[macro_export]
macro_rules! contract_tests {
    ($backend:path) => {
        $crate::contract_tests!(@suite $backend, approval_repository: [
            round_trips_every_field,
            get_returns_none_for_an_unknown_id,
            inserting_an_existing_id_is_a_duplicate,
            saving_a_stale_version_is_a_conflict,
            updating_a_request_that_was_never_stored_is_a_conflict,
            a_failed_save_writes_no_outbox_rows,
            each_event_becomes_one_outbox_row_in_order,
            list_returns_newest_first,
            list_filters_by_status,
            list_respects_the_limit,
            list_pages_stay_stable_when_requests_are_added_between_pages,
            overdue_returns_pending_requests_past_their_expiry_oldest_first,
            reminders_due_returns_pending_requests_with_a_reminder_due_earliest_first,
            next_deadline_is_the_earliest_expiry_or_reminder_of_a_pending_request,
            concurrent_decisions_record_exactly_one,
        ]);
        $crate::contract_tests!(@suite $backend, alert_repository: [
            round_trips_every_field,
            get_returns_none_for_an_unknown_id,
            find_unresolved_finds_open_and_acknowledged_alerts_but_not_resolved_ones,
            inserting_an_existing_id_is_a_duplicate,
            a_second_unresolved_alert_with_the_same_dedup_key_is_a_duplicate,
            after_resolving_a_new_alert_with_the_same_key_can_be_inserted,
            saving_a_stale_version_is_a_conflict,
            updating_an_alert_that_was_never_stored_is_a_conflict,
            a_failed_save_writes_no_outbox_rows,
            each_event_becomes_one_outbox_row_in_order,
            concurrent_raises_of_one_key_open_one_alert_and_count_every_raise,
            a_save_with_a_receipt_answers_the_key_with_the_change,
        ]);
        $crate::contract_tests!(@suite $backend, outbox: [
            claim_leases_due_messages_oldest_first,
            claim_takes_at_most_the_limit,
            a_leased_message_is_claimable_again_only_when_the_lease_runs_out,
            only_the_oldest_pending_message_of_an_aggregate_is_claimable,
            a_message_is_not_due_before_its_next_attempt_time,
            reschedule_counts_an_attempt_and_ends_the_lease,
            release_ends_the_lease_without_counting_an_attempt,
            a_delivered_message_is_final,
            mark_delivered_marks_exactly_the_given_rows_at_once,
            dead_letter_gives_up_and_unblocks_the_aggregate,
            dead_letters_are_listed_newest_first_up_to_the_limit,
            stats_count_pending_and_dead_messages,
            concurrent_claimers_never_receive_the_same_message,
            concurrent_relays_deliver_each_aggregate_in_order,
            each_event_gets_a_row_for_every_sink_that_subscribes_to_it,
            a_sinks_rows_never_wait_for_another_sinks,
            stats_are_counted_per_sink,
            extend_moves_only_leases_still_held,
            release_with_a_pause_makes_rows_due_only_after_it,
            dead_letters_are_re_driven_by_id_by_sink_or_all,
            purge_deletes_only_delivered_rows_finished_before_the_cutoff,
        ]);
        $crate::contract_tests!(@suite $backend, api_keys: [
            a_stored_key_is_found_by_its_hash,
            an_unknown_hash_finds_nothing,
            a_second_key_with_the_same_name_is_a_duplicate,
            a_second_key_with_the_same_hash_is_a_duplicate,
            a_new_key_has_its_webhook_secret_and_no_previous_one,
            rotating_keeps_the_replaced_secret_until_the_grace_ends,
            a_second_rotation_forgets_the_first_secret,
            an_unknown_client_has_no_secrets_and_cannot_rotate,
        ]);
        $crate::contract_tests!(@suite $backend, chat_messages: [
            a_recorded_message_is_found_by_its_aggregate,
            an_aggregate_without_a_message_has_none,
            recording_again_replaces_the_message,
        ]);
        $crate::contract_tests!(@suite $backend, idempotency: [
            the_first_claim_of_a_key_acquires_it,
            a_completed_key_replays_its_response,
            a_key_in_flight_is_reported_in_flight,
            another_request_under_the_same_key_is_a_mismatch,
            an_abandoned_key_is_taken_over_when_its_lock_runs_out,
            keys_are_scoped_to_their_client,
            a_released_key_can_be_claimed_again_but_a_completed_one_stays,
            an_expired_key_starts_afresh,
            purge_removes_only_expired_records,
            concurrent_claims_of_a_new_key_acquire_it_once,
            a_taken_over_claim_can_neither_complete_nor_release_the_key,
            a_key_keeps_its_first_answer,
            a_save_with_a_receipt_answers_the_key_with_the_change,
            a_failed_save_leaves_its_key_unanswered,
            a_save_by_a_taken_over_claim_writes_nothing,
            a_key_answered_by_a_save_cannot_be_answered_again,
            concurrent_identical_requests_execute_once,
            a_stalled_save_racing_its_takeover_lets_exactly_one_run,
        ]);
        $crate::contract_tests!(@suite $backend, change_feed: [
            an_announcement_wakes_the_subscribers_of_that_aggregate,
            saving_an_approval_wakes_its_subscribers,
        ]);
        $crate::contract_tests!(@suite $backend, readiness: [
            a_migrated_store_is_ready,
        ]);
    };
    (@suite $backend:path, $suite:ident: [$($rule:ident),* $(,)?]) => {
        mod $suite {
            $(
                // Several worker threads, so the race tests race for real.
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $rule() {
                    let store = $backend().await;
                    $crate::contract::$suite::$rule(&store).await;
                }
            )*
        }
    };
}
