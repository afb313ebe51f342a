//! The contract of `ChangeFeed`: a subscriber hears every change after it subscribed.
//!
//! Extra wake-ups are allowed (a subscriber re-reads), so no rule says who is *not* woken.
//! Each wait is bounded only so that a broken feed fails the test instead of hanging it.

use std::time::Duration;

use application::ports::Subscription;
use application::use_cases::APPROVAL_KIND;
use domain::Verdict;
use uuid::Uuid;

use super::Store;
use super::fixtures::Fixture;

/// Far longer than any feed should take: reaching it means the wake-up never came.
const HUNG: Duration = Duration::from_secs(30);

async fn woken(subscription: Subscription, what: &str) {
    tokio::time::timeout(HUNG, subscription)
        .await
        .unwrap_or_else(|_| panic!("{what} never woke its subscriber"));
}

/// Waits until the feed hears announcements: a feed fed by another connection (LISTEN)
/// starts with the first subscription, and what is sent before it listens is not heard.
/// Once a subscription has completed, it listens.
async fn listening(store: &Store) {
    let id = Uuid::now_v7();
    let first = store.changes.subscribe("warm-up", id);
    store.changes.announce("warm-up", id).await.unwrap();
    woken(first, "an announcement").await;
}

pub async fn an_announcement_wakes_the_subscribers_of_that_aggregate(store: &Store) {
    listening(store).await;
    let id = Uuid::now_v7();
    let (first, second) = (
        store.changes.subscribe("thing", id),
        store.changes.subscribe("thing", id),
    );
    store.changes.announce("thing", id).await.unwrap();
    woken(first, "an announcement").await;
    woken(second, "an announcement").await;
}

pub async fn saving_an_approval_wakes_its_subscribers(store: &Store) {
    listening(store).await;
    let fixture = Fixture::default();
    let mut approval = fixture.create_pending(store).await;
    let subscription = store
        .changes
        .subscribe(APPROVAL_KIND, approval.id().as_uuid());
    fixture
        .decide(store, &mut approval, "alice", Verdict::Approve)
        .await;
    woken(subscription, "a saved decision").await;
}
