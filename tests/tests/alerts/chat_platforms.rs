//! The alert on every chat platform: one message however often it is raised, and buttons
//! that settle it.

use serde_json::json;

use tests::e2e::{PLATFORMS, spawn};

#[tokio::test]
async fn an_alert_raised_three_times_is_one_message_showing_the_count_and_its_buttons_work() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        let alert = json!({
            "severity": "critical",
            "summary": "db-1 disk 97% full",
            "destination": platform.destination(),
            "dedup_key": "disk-full:db-1",
        });
        let mut id = String::new();
        for _ in 0..3 {
            let (status, raised) = app.post(&ci, "/v1/alerts", alert.clone()).await;
            assert!(status == 201 || status == 200, "{platform:?}: {raised}");
            id = raised["id"].as_str().unwrap().to_owned();
        }

        platform.wait_shown(&app, "3 times", true).await;
        assert_eq!(platform.posted(&app).await, 1, "{platform:?}: one message");

        let (user, identity) = platform.user(2);
        assert_eq!(
            platform.click(&app, &user, "alert_acknowledge", &id).await,
            200
        );
        platform.wait_shown(&app, "Acknowledged", true).await;
        assert_eq!(platform.click(&app, &user, "alert_resolve", &id).await, 200);
        platform.wait_shown(&app, "Resolved", false).await;
        let (_, alert) = app.get(&ci, &format!("/v1/alerts/{id}")).await;
        assert_eq!(alert["status"], "resolved", "{platform:?}: {alert}");
        assert!(
            alert.to_string().contains(&identity),
            "{platform:?}: {alert}"
        );
        assert_eq!(
            platform.posted(&app).await,
            1,
            "{platform:?}: still one message"
        );
    }
}
