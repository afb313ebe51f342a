//! One behaviour suite, every chat platform: the cases Slack and Discord share, written once
//! against [`Platform`] and run for each, through the whole application (HTTP, store, relay,
//! the platform router) against each platform's faithful fake. A platform that renders,
//! updates, deduplicates or classifies differently from the others fails here by name.
//!
//! Both platforms are connected in every run, as a deployment may have them: each case also
//! checks that the other platform saw nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use application::ports::CHAT_SINK;
use application::use_cases::CreateApprovalInput;
use serde_json::{Value, json};
use tests::e2e::{
    Endpoint, FakeDiscord, FakeSlack, OnATestClock, PLATFORMS, POST, Platform, TestApp, spawn,
};

async fn create(app: &TestApp, key: &str, platform: Platform, extra: Value) -> String {
    let mut body = json!({"title": "Deploy api v1.4.2?", "destination": platform.destination()});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, created) = app.post(key, "/v1/approvals", body).await;
    assert_eq!(status, 201, "{platform:?}: {created}");
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_approval_is_posted_once_with_its_buttons() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        create(&app, &ci, platform, json!({})).await;

        platform.wait_shown(&app, "Deploy api v1.4.2?", true).await;
        app.wait_until_outbox_drained().await;
        assert_eq!(platform.posted(&app).await, 1, "{platform:?}");
        platform.assert_other_untouched(&app).await;
    }
}

#[tokio::test]
async fn a_decision_updates_the_message_to_its_outcome_without_buttons() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        let id = create(&app, &ci, platform, json!({})).await;
        platform.wait_shown(&app, "Approval requested", true).await;

        let (user, identity) = platform.user(1);
        assert_eq!(
            platform.click(&app, &user, "approval_approve", &id).await,
            200
        );

        let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
        assert_eq!(approval["status"], "approved", "{platform:?}: {approval}");
        assert_eq!(approval["decisions"][0]["approver"], identity.as_str());
        platform.wait_shown(&app, "Approved", false).await;
        assert_eq!(
            platform.posted(&app).await,
            1,
            "{platform:?}: updated, not posted again"
        );
    }
}

/// On a test clock: requests expire after a minute at the least.
#[tokio::test]
async fn an_expired_request_shows_so_without_buttons() {
    for platform in PLATFORMS {
        let (slack, discord) = (FakeSlack::start().await, FakeDiscord::start().await);
        let app = OnATestClock::start(&slack, Some(&discord), &[]).await;
        let use_cases = app.use_cases();
        app.request(CreateApprovalInput {
            title: "Deploy api v1.4.2?".into(),
            destination: platform.destination(),
            expires_in_seconds: Some(60),
            ..CreateApprovalInput::default()
        })
        .await;
        let relay = use_cases.relay(CHAT_SINK).unwrap();
        relay.execute().await.unwrap();
        assert!(
            platform.shown_in(&slack, &discord).1,
            "{platform:?}: posted with buttons"
        );

        app.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(use_cases.expire_overdue.execute(10).await.unwrap(), 1);
        relay.execute().await.unwrap();

        let (shown, buttons) = platform.shown_in(&slack, &discord);
        assert!(
            shown.contains("Expired") && !buttons,
            "{platform:?}: {shown}"
        );
        assert_eq!(platform.posted_in(&slack, &discord), 1, "{platform:?}");
    }
}

#[tokio::test]
async fn a_rate_limited_post_is_retried_and_delivered_once() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        platform.rate_limit_next_post(&app).await;
        create(&app, &ci, platform, json!({})).await;

        platform.wait_shown(&app, "Approval requested", true).await;
        app.wait_until_outbox_drained().await;
        assert_eq!(platform.posted(&app).await, 1, "{platform:?}");
        assert_eq!(
            app.outbox_counts().await,
            (0, 0),
            "{platform:?}: nothing dead"
        );
    }
}

#[tokio::test]
async fn a_refused_channel_is_dead_lettered_at_once_not_retried() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        platform.refuse_posts(&app).await;
        create(&app, &ci, platform, json!({})).await;

        for _ in 0..600 {
            if app.outbox_counts().await == (0, 1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            app.outbox_counts().await,
            (0, 1),
            "{platform:?}: one dead letter"
        );
        assert_eq!(platform.posted(&app).await, 0, "{platform:?}");
        let attempts = match platform {
            Platform::Slack => app.slack.calls(POST).await.len(),
            Platform::Discord => app.discord.calls_to(Endpoint::Create).len(),
        };
        assert_eq!(
            attempts, 1,
            "{platform:?}: a permanent error is not retried"
        );
    }
}
