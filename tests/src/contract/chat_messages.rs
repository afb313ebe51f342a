//! The contract of `ChatMessages`: one message per aggregate, replaced on a second `put`.

use application::ports::MessageRef;
use uuid::Uuid;

use super::Store;

fn message(channel: &str, id: &str) -> MessageRef {
    MessageRef {
        channel: channel.into(),
        message_id: id.into(),
    }
}

pub async fn a_recorded_message_is_found_by_its_aggregate(store: &Store) {
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    store
        .messages
        .put(first, &message("C0123", "1712345678.000100"))
        .await
        .unwrap();
    store
        .messages
        .put(second, &message("C0456", "1712345678.000200"))
        .await
        .unwrap();

    assert_eq!(
        store.messages.get(first).await,
        Ok(Some(message("C0123", "1712345678.000100")))
    );
    assert_eq!(
        store.messages.get(second).await,
        Ok(Some(message("C0456", "1712345678.000200")))
    );
}

pub async fn an_aggregate_without_a_message_has_none(store: &Store) {
    store
        .messages
        .put(Uuid::now_v7(), &message("C0123", "1"))
        .await
        .unwrap();
    assert_eq!(store.messages.get(Uuid::now_v7()).await, Ok(None));
}

pub async fn recording_again_replaces_the_message(store: &Store) {
    let aggregate = Uuid::now_v7();
    store
        .messages
        .put(aggregate, &message("C0123", "1"))
        .await
        .unwrap();
    store
        .messages
        .put(aggregate, &message("C0999", "2"))
        .await
        .unwrap();
    assert_eq!(
        store.messages.get(aggregate).await,
        Ok(Some(message("C0999", "2")))
    );
}
