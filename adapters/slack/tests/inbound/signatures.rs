//! Only requests Slack signed reach a handler; everything else is refused and changes nothing.

use axum::http::StatusCode;
use chrono::TimeZone;

use crate::support::{Config, SIGNING_SECRET, TestSlack, block_actions, sign, slash_command};

/// Slack's published example: a slash command signed at 1531420618.
#[tokio::test]
async fn slacks_published_example_is_accepted_with_the_clock_at_its_timestamp() {
    let slack = TestSlack::with(Config {
        now: chrono::Utc.timestamp_opt(1_531_420_618, 0).unwrap(),
        signing_secret: "8f742231b10e8888abcd99yyyzzz85a5",
        app_id: None,
    });
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let answer = slack
        .send(
            "/slack/commands",
            body,
            &[
                ("X-Slack-Request-Timestamp", "1531420618"),
                (
                    "X-Slack-Signature",
                    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                ),
            ],
        )
        .await;
    // Empty text asks for help, phrased with the command's own name.
    assert!(
        answer
            .ephemeral_text()
            .contains("`/webhook-collect approve &lt;id&gt; [comment]`")
    );
}

/// One way of getting a click's signature wrong.
struct Forgery {
    case: &'static str,
    body: String,
    headers: Vec<(&'static str, String)>,
}

const TIMESTAMP: &str = "x-slack-request-timestamp";
const SIGNATURE: &str = "x-slack-signature";

#[tokio::test]
async fn badly_signed_clicks_are_refused_and_change_nothing() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let body = block_actions("U0ALICE", "approval_approve", &approval.id().to_string());
    let now = slack.now();
    let fresh = now.to_string();
    let stale = (now - 301).to_string();
    let future = (now + 301).to_string();
    let good = sign(SIGNING_SECRET, &fresh, &body);
    let digest = good.trim_start_matches("v0=").to_owned();
    let forgery = |case, body: &str, headers: &[(&'static str, &str)]| Forgery {
        case,
        body: body.to_owned(),
        headers: headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
    };

    let forgeries = [
        forgery(
            "tampered body",
            &body.replace("U0ALICE", "U0MALLORY"),
            &[(TIMESTAMP, &fresh), (SIGNATURE, &good)],
        ),
        forgery(
            "stale timestamp",
            &body,
            &[
                (TIMESTAMP, &stale),
                (SIGNATURE, &sign(SIGNING_SECRET, &stale, &body)),
            ],
        ),
        forgery(
            "future timestamp",
            &body,
            &[
                (TIMESTAMP, &future),
                (SIGNATURE, &sign(SIGNING_SECRET, &future, &body)),
            ],
        ),
        forgery(
            "wrong secret",
            &body,
            &[
                (TIMESTAMP, &fresh),
                (SIGNATURE, &sign("another-secret", &fresh, &body)),
            ],
        ),
        forgery("missing signature", &body, &[(TIMESTAMP, &fresh)]),
        forgery("missing timestamp", &body, &[(SIGNATURE, &good)]),
        forgery(
            "duplicate signature",
            &body,
            &[(TIMESTAMP, &fresh), (SIGNATURE, &good), (SIGNATURE, &good)],
        ),
        forgery(
            "non-numeric timestamp",
            &body,
            &[(TIMESTAMP, "now"), (SIGNATURE, &good)],
        ),
        forgery(
            "no v0= prefix",
            &body,
            &[(TIMESTAMP, &fresh), (SIGNATURE, &digest)],
        ),
        forgery(
            "another version",
            &body,
            &[(TIMESTAMP, &fresh), (SIGNATURE, &format!("v1={digest}"))],
        ),
        forgery(
            "not hex",
            &body,
            &[
                (TIMESTAMP, &fresh),
                (SIGNATURE, &format!("v0={}", "zz".repeat(32))),
            ],
        ),
        forgery("no headers at all", &body, &[]),
    ];
    for Forgery {
        case,
        body,
        headers,
    } in forgeries
    {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = slack.send("/slack/interactions", &body, &headers).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(
            answer.body.is_empty(),
            "{case}: the answer explains nothing"
        );
    }
    slack.assert_untouched(approval.id()).await;

    // The same click, signed properly, goes through: the cases above failed for their reason.
    let answer = slack
        .send(
            "/slack/interactions",
            &body,
            &[(TIMESTAMP, &fresh), (SIGNATURE, &good)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unsigned_command_is_refused_and_changes_nothing() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let body = slash_command(
        "U0ALICE",
        concat!("/", env!("SERVICE_NAME"), ""),
        &format!("approve {}", approval.id()),
    );
    let answer = slack.send("/slack/commands", &body, &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn ssl_check_is_answered_without_a_signature_and_nothing_beside_it_is_acted_on() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let click = block_actions("U0ALICE", "approval_approve", &approval.id().to_string());
    for path in ["/slack/commands", "/slack/interactions"] {
        let smuggled = format!("ssl_check=1&token=abc&{click}");
        let answer = slack.send(path, &smuggled, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.body.is_empty(), "{path}");
    }
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let slack = TestSlack::start();
    let body = format!("payload={}", "x".repeat(65 * 1024));
    let answer = slack.signed("/slack/interactions", &body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_payload_for_another_app_is_forbidden_and_changes_nothing() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let click = block_actions("U0ALICE", "approval_approve", &approval.id().to_string())
        .replace("A0TESTAPP", "A0OTHERAPP");
    let answer = slack.signed("/slack/interactions", &click).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    let command = slash_command(
        "U0ALICE",
        concat!("/", env!("SERVICE_NAME"), ""),
        &format!("approve {}", approval.id()),
    )
    .replace("A0TESTAPP", "A0OTHERAPP");
    let answer = slack.signed("/slack/commands", &command).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    slack.assert_untouched(approval.id()).await;
}
