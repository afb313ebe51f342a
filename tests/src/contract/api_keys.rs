//! The contract of `ApiKeyStore`: keys are found by hash, names and hashes are unique.

use application::ports::{ApiKeyHash, ApiKeyRecord, RepositoryError};

use super::Store;
use super::fixtures::{identity, start_time};

fn record(name: &str, key: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        name: identity(name),
        hash: ApiKeyHash::of(key),
        created_at: start_time(),
    }
}

pub async fn a_stored_key_is_found_by_its_hash(store: &Store) {
    let ci = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&ci).await.unwrap();
    store
        .api_keys
        .insert(&record("deploy-bot", "secret-two"))
        .await
        .unwrap();

    let found = store
        .api_keys
        .find_by_hash(&ApiKeyHash::of("secret-one"))
        .await;

    assert_eq!(found, Ok(Some(ci)));
}

pub async fn an_unknown_hash_finds_nothing(store: &Store) {
    store
        .api_keys
        .insert(&record("ci-pipeline", "secret-one"))
        .await
        .unwrap();
    let found = store.api_keys.find_by_hash(&ApiKeyHash::of("guess")).await;
    assert_eq!(found, Ok(None));
}

pub async fn a_second_key_with_the_same_name_is_a_duplicate(store: &Store) {
    let original = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&original).await.unwrap();

    let result = store
        .api_keys
        .insert(&record("ci-pipeline", "secret-two"))
        .await;

    assert_eq!(result, Err(RepositoryError::Duplicate));
    let hashes = [ApiKeyHash::of("secret-one"), ApiKeyHash::of("secret-two")];
    assert_eq!(
        store.api_keys.find_by_hash(&hashes[0]).await,
        Ok(Some(original))
    );
    assert_eq!(store.api_keys.find_by_hash(&hashes[1]).await, Ok(None));
}

pub async fn a_second_key_with_the_same_hash_is_a_duplicate(store: &Store) {
    let original = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&original).await.unwrap();

    let result = store
        .api_keys
        .insert(&record("deploy-bot", "secret-one"))
        .await;

    assert_eq!(result, Err(RepositoryError::Duplicate));
    let found = store
        .api_keys
        .find_by_hash(&ApiKeyHash::of("secret-one"))
        .await;
    assert_eq!(found, Ok(Some(original)));
}
