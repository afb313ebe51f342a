//! The contract of `ApiKeyStore`: keys are found by hash, names and hashes are unique, and
//! each key's webhook secrets rotate with a grace for the replaced one.

use application::ports::{
    ApiKeyHash, ApiKeyRecord, RepositoryError, WebhookSecret, WebhookSecrets,
};
use chrono::{DateTime, Duration, Utc};

use super::Store;
use super::fixtures::{identity, start_time};

fn record(name: &str, key: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        name: identity(name),
        hash: ApiKeyHash::of(key),
        created_at: start_time(),
    }
}

fn secret(seed: &str) -> WebhookSecret {
    WebhookSecret::from_random(seed)
}

/// A client's secrets as text (secrets do not compare): the current one, and the previous
/// one with the end of its grace.
type Exposed = (String, Option<(String, DateTime<Utc>)>);

fn exposed(secrets: Option<WebhookSecrets>) -> Option<Exposed> {
    secrets.map(|s| {
        (
            s.current.expose().to_owned(),
            s.previous.map(|(p, until)| (p.expose().to_owned(), until)),
        )
    })
}

fn text(seed: &str) -> String {
    secret(seed).expose().to_owned()
}

pub async fn a_new_key_has_its_webhook_secret_and_no_previous_one(store: &Store) {
    let ci = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&ci, &secret("first")).await.unwrap();

    let secrets = store.api_keys.webhook_secrets(&ci.name).await.unwrap();

    assert_eq!(exposed(secrets), Some((text("first"), None)));
}

pub async fn rotating_keeps_the_replaced_secret_until_the_grace_ends(store: &Store) {
    let ci = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&ci, &secret("first")).await.unwrap();
    let until = start_time() + Duration::hours(24);

    let rotated = store
        .api_keys
        .rotate_webhook_secret(&ci.name, &secret("second"), until)
        .await;

    assert_eq!(rotated, Ok(true));
    let secrets = store.api_keys.webhook_secrets(&ci.name).await.unwrap();
    assert_eq!(
        exposed(secrets),
        Some((text("second"), Some((text("first"), until))))
    );
}

pub async fn a_second_rotation_forgets_the_first_secret(store: &Store) {
    let ci = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&ci, &secret("first")).await.unwrap();
    let (one, two) = (
        start_time() + Duration::hours(1),
        start_time() + Duration::hours(2),
    );
    let keys = &store.api_keys;
    keys.rotate_webhook_secret(&ci.name, &secret("second"), one)
        .await
        .unwrap();
    keys.rotate_webhook_secret(&ci.name, &secret("third"), two)
        .await
        .unwrap();

    let secrets = keys.webhook_secrets(&ci.name).await.unwrap();

    assert_eq!(
        exposed(secrets),
        Some((text("third"), Some((text("second"), two))))
    );
}

pub async fn an_unknown_client_has_no_secrets_and_cannot_rotate(store: &Store) {
    let nobody = identity("nobody");

    let rotated = store
        .api_keys
        .rotate_webhook_secret(&nobody, &secret("x"), start_time())
        .await;

    assert_eq!(rotated, Ok(false));
    assert_eq!(
        exposed(store.api_keys.webhook_secrets(&nobody).await.unwrap()),
        None
    );
}

pub async fn a_stored_key_is_found_by_its_hash(store: &Store) {
    let ci = record("ci-pipeline", "secret-one");
    store.api_keys.insert(&ci, &secret("ci")).await.unwrap();
    store
        .api_keys
        .insert(&record("deploy-bot", "secret-two"), &secret("bot"))
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
        .insert(&record("ci-pipeline", "secret-one"), &secret("ci"))
        .await
        .unwrap();
    let found = store.api_keys.find_by_hash(&ApiKeyHash::of("guess")).await;
    assert_eq!(found, Ok(None));
}

pub async fn a_second_key_with_the_same_name_is_a_duplicate(store: &Store) {
    assert_a_duplicate_of_the_stored_key(store, "ci-pipeline", "secret-two").await;
}

pub async fn a_second_key_with_the_same_hash_is_a_duplicate(store: &Store) {
    assert_a_duplicate_of_the_stored_key(store, "deploy-bot", "secret-one").await;
}

/// Stores `ci-pipeline` with the secret `secret-one`, then asserts that a second key named
/// `name` with the secret `key` is refused as a duplicate, and that it left the first found
/// by its hash, and nothing stored under its own.
async fn assert_a_duplicate_of_the_stored_key(store: &Store, name: &str, key: &str) {
    let original = record("ci-pipeline", "secret-one");
    store
        .api_keys
        .insert(&original, &secret("ci"))
        .await
        .unwrap();

    let result = store
        .api_keys
        .insert(&record(name, key), &secret("other"))
        .await;

    assert_eq!(result, Err(RepositoryError::Duplicate));
    let find = async |key: &str| store.api_keys.find_by_hash(&ApiKeyHash::of(key)).await;
    assert_eq!(find("secret-one").await, Ok(Some(original)));
    if key != "secret-one" {
        assert_eq!(find(key).await, Ok(None));
    }
}
