//! The sender against a local receiver: what it sends, and how each answer is classified.

use std::sync::{Arc, Mutex};

use application::ports::WebhookSecret;
use axum::Router;
use axum::http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::post;
use chrono::TimeZone;
use domain::CallbackUrl;

use super::*;

/// What the receiver saw: the headers of every POST.
type Seen = Arc<Mutex<Vec<AxumHeaders>>>;

/// A receiver on 127.0.0.1 that answers every POST to `/hook` with `answer`, and one that
/// the redirect points at (`/target`), which must never be reached.
async fn receiver(answer: fn() -> axum::response::Response) -> (String, Seen, Seen) {
    let seen: Seen = Arc::default();
    let followed: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            post({
                let seen = seen.clone();
                move |headers: AxumHeaders| async move {
                    seen.lock().unwrap().push(headers);
                    answer()
                }
            }),
        )
        .route(
            "/target",
            post({
                let followed = followed.clone();
                move |headers: AxumHeaders| async move {
                    followed.lock().unwrap().push(headers);
                    AxumStatus::OK
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), seen, followed)
}

fn open() -> WebhookSender {
    WebhookSender::new(&WebhookSettings {
        timeout: Duration::from_millis(500),
        rule: AddressRule {
            allow_private_networks: true,
        },
        allow_http: true,
    })
    .unwrap()
}

fn callback(url: &str) -> Callback {
    Callback {
        url: CallbackUrl::parse(url).unwrap(),
        id: "msg_1".into(),
        timestamp: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        body: br#"{"type":"widget.turned"}"#.to_vec(),
        secrets: vec![WebhookSecret::from_random("secret")],
    }
}

#[tokio::test]
async fn a_2xx_is_delivered_with_the_standard_webhooks_headers() {
    let (base, seen, _) = receiver(|| AxumStatus::NO_CONTENT.into_response()).await;
    let sent = callback(&format!("{base}/hook"));

    assert_eq!(open().send(&sent).await, Ok(()));

    let seen = seen.lock().unwrap();
    let headers = &seen[0];
    assert_eq!(headers["webhook-id"], "msg_1");
    assert_eq!(headers["webhook-timestamp"], "1767225600");
    let expected = signature::sign(&sent.secrets[0], "msg_1", 1_767_225_600, &sent.body).unwrap();
    assert_eq!(headers["webhook-signature"], expected.as_str());
    assert_eq!(headers["content-type"], "application/json");
}

#[tokio::test]
async fn a_5xx_a_408_and_a_429_are_retried_with_the_receivers_hint() {
    let (base, _, _) = receiver(|| AxumStatus::INTERNAL_SERVER_ERROR.into_response()).await;
    let result = open().send(&callback(&format!("{base}/hook"))).await;
    assert!(matches!(
        result,
        Err(SinkError::Retryable {
            retry_after: None,
            ..
        })
    ));

    let (base, _, _) = receiver(|| AxumStatus::REQUEST_TIMEOUT.into_response()).await;
    let result = open().send(&callback(&format!("{base}/hook"))).await;
    assert!(matches!(result, Err(SinkError::Retryable { .. })));

    let (base, _, _) =
        receiver(|| (AxumStatus::TOO_MANY_REQUESTS, [("retry-after", "7")]).into_response()).await;
    let result = open().send(&callback(&format!("{base}/hook"))).await;
    assert!(matches!(
        result,
        Err(SinkError::Retryable { retry_after: Some(after), .. }) if after == Duration::from_secs(7)
    ));
}

#[tokio::test]
async fn another_4xx_is_permanent() {
    let (base, _, _) = receiver(|| AxumStatus::GONE.into_response()).await;
    let result = open().send(&callback(&format!("{base}/hook"))).await;
    assert!(matches!(result, Err(SinkError::Permanent { .. })));
}

#[tokio::test]
async fn a_redirect_is_permanent_and_not_followed() {
    let (base, seen, followed) =
        receiver(|| (AxumStatus::FOUND, [("location", "/target")]).into_response()).await;
    let result = open().send(&callback(&format!("{base}/hook"))).await;
    assert!(
        matches!(&result, Err(SinkError::Permanent { reason }) if reason.contains("redirect")),
        "{result:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(
        followed.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn a_private_address_is_refused_at_send_time_without_the_setting() {
    let (base, seen, _) = receiver(|| AxumStatus::OK.into_response()).await;
    let strict = WebhookSender::new(&WebhookSettings {
        allow_http: true,
        ..WebhookSettings::default()
    })
    .unwrap();
    for url in [
        format!("{base}/hook"),
        base.replace("127.0.0.1", "localhost") + "/hook",
    ] {
        let result = strict.send(&callback(&url)).await;
        assert!(
            matches!(result, Err(SinkError::Permanent { .. })),
            "{url}: {result:?}"
        );
    }
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_retried() {
    let (base, _, _) = receiver(|| AxumStatus::OK.into_response()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = listener.local_addr().unwrap();
    // Accepts connections and never answers.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    drop(base);
    let result = open()
        .send(&callback(&format!("http://{silent}/hook")))
        .await;
    assert!(
        matches!(result, Err(SinkError::Retryable { .. })),
        "{result:?}"
    );
}

#[test]
fn retry_after_is_read_as_seconds_or_as_an_http_date() {
    let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
    let headers = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        headers
    };
    assert_eq!(
        retry_after(&headers("120"), now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        retry_after(&headers("Wed, 21 Oct 2015 07:30:00 GMT"), now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        retry_after(&headers("Wed, 21 Oct 2015 07:00:00 GMT"), now),
        Some(Duration::ZERO)
    );
    assert_eq!(retry_after(&headers("soon"), now), None);
    assert_eq!(retry_after(&HeaderMap::new(), now), None);
}
