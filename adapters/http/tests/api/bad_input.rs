//! Bad input gets a typed problem and changes nothing — one table, every kind of bad input.
//!
//! About oversized headers: a header block over `HttpSettings::header_limit_bytes` (32 KiB)
//! is a 431 problem before any route runs. These tests drive the router in process, where no
//! HTTP parser limits header size; behind `axum::serve`, hyper refuses blocks over its read
//! buffer (about 400 KiB) or of more than 100 headers itself, with a bare 431, before the
//! router sees the request. Below the limit, each header the router reads gets its own typed
//! answer to a 16 KiB value: a 4xx problem, no panic. A 16 KiB `x-request-id` is not an
//! error at all; it is replaced (see `observability.rs`).

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Case, TestApp, assert_refused_changing_nothing, call, case, invalid, json_body, new_approval,
};

/// The valid create body with one field replaced.
fn create_with(field: &str, value: Value) -> String {
    let mut body = new_approval("deploy");
    body[field] = value;
    body.to_string()
}

#[tokio::test]
async fn bad_input_gets_a_typed_problem_and_changes_nothing() {
    let app = TestApp::new().await;
    let (ci, alice, bob) = (app.ci.as_str(), app.alice.as_str(), app.bob.as_str());
    let id = |approval: Value| approval["id"].as_str().unwrap().to_owned();

    let pending = id(app.create(ci, new_approval("pending")).await);
    let cancelled = id(app.create(ci, new_approval("cancelled")).await);
    app.post_empty(&format!("/v1/approvals/{cancelled}/cancel"), ci)
        .await;
    let mut bob_only = new_approval("bob only");
    bob_only["allowed_approvers"] = json!(["bob"]);
    let bob_only = id(app.create(ci, bob_only).await);
    let mut two_needed = new_approval("two needed");
    two_needed["required_approvals"] = json!(2);
    let alice_approved = id(app.create(ci, two_needed).await);
    app.post(
        &format!("/v1/approvals/{alice_approved}/decisions"),
        alice,
        &json!({ "verdict": "approve" }),
    )
    .await;
    let mut short_lived = new_approval("short lived");
    short_lived["expires_in_seconds"] = json!(60);
    let expired = id(app.create(ci, short_lived).await);
    app.clock.advance(chrono::Duration::seconds(61));

    let create = || call(Method::POST, "/v1/approvals", ci);
    let decide = |approval: &str, key: &str| {
        call(
            Method::POST,
            &format!("/v1/approvals/{approval}/decisions"),
            key,
        )
    };
    let get = |path: &str| call(Method::GET, path, ci).body(Body::empty()).unwrap();
    let approve = json!({ "verdict": "approve" }).to_string();
    let unknown_id = Uuid::now_v7();
    let oversized = create_with("description", json!("x".repeat(70 * 1024)));
    let bad = StatusCode::BAD_REQUEST;
    let valid_body = new_approval("deploy").to_string();
    let with_idempotency_key = |value: &[u8]| {
        json_body(
            create().header("idempotency-key", HeaderValue::from_bytes(value).unwrap()),
            valid_body.clone(),
        )
    };
    let raw_json = |body: Vec<u8>| {
        create()
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    // Large, yet within the header limit, so the header's own reader answers.
    let huge_header_value = "k".repeat(16 * 1024);

    let cases = vec![
        // The body is not the JSON document the route expects.
        case(
            "malformed JSON",
            json_body(create(), r#"{"title": "#),
            bad,
            "malformed-body",
        ),
        case(
            "trailing bytes after the JSON",
            json_body(create(), format!("{} x", new_approval("deploy"))),
            bad,
            "malformed-body",
        ),
        case(
            "wrong type",
            json_body(create(), create_with("title", json!(42))),
            bad,
            "malformed-body",
        ),
        case(
            "wrong type for a number",
            json_body(create(), create_with("required_approvals", json!("two"))),
            bad,
            "malformed-body",
        ),
        case(
            "a duration where seconds are expected",
            json_body(create(), create_with("remind_after_seconds", json!("1h"))),
            bad,
            "malformed-body",
        ),
        case(
            "missing field",
            json_body(create(), json!({ "title": "deploy" }).to_string()),
            bad,
            "malformed-body",
        ),
        case(
            "misspelled field",
            json_body(create(), create_with("requried_approvals", json!(2))),
            bad,
            "malformed-body",
        ),
        case(
            "unknown verdict",
            json_body(
                decide(&pending, alice),
                json!({ "verdict": "maybe" }).to_string(),
            ),
            bad,
            "malformed-body",
        ),
        case(
            "decision without a verdict",
            json_body(decide(&pending, alice), "{}"),
            bad,
            "malformed-body",
        ),
        case(
            "invalid UTF-8 in a JSON string",
            raw_json(b"{\"title\":\"deploy \xff\",\"destination\":\"C0123456789\"}".to_vec()),
            bad,
            "malformed-body",
        ),
        case(
            // serde_json stops at 128 levels; nothing recurses 10 000 deep.
            "10 000 nested arrays",
            json_body(
                create(),
                format!(
                    r#"{{"title":"t","destination":"C1","metadata":{}"#,
                    "[".repeat(10_000)
                ),
            ),
            bad,
            "malformed-body",
        ),
        case(
            "a number beyond f64",
            json_body(
                create(),
                r#"{"title":"t","destination":"C1","required_approvals":1e400}"#,
            ),
            bad,
            "malformed-body",
        ),
        case(
            "an integer beyond i64",
            json_body(
                create(),
                r#"{"title":"t","destination":"C1","required_approvals":99999999999999999999}"#,
            ),
            bad,
            "malformed-body",
        ),
        case(
            "a number beyond f64 inside metadata",
            json_body(
                create(),
                r#"{"title":"t","destination":"C1","metadata":{"n":1e400}}"#,
            ),
            bad,
            "malformed-body",
        ),
        case(
            // serde's derived structs refuse a repeated field.
            "a repeated field",
            json_body(
                create(),
                r#"{"title":"a","title":"b","destination":"C0123456789"}"#,
            ),
            bad,
            "malformed-body",
        ),
        case(
            // serde_json's `Value` would keep the last; `strict_json` refuses.
            "a repeated key inside metadata",
            json_body(
                create(),
                r#"{"title":"a","destination":"C0123456789","metadata":{"k":{"x":1,"x":2}}}"#,
            ),
            bad,
            "malformed-body",
        ),
        // Well-formed, but a field breaks a domain rule.
        invalid(
            "over-long title",
            json_body(create(), create_with("title", json!("x".repeat(201)))),
            "title",
        ),
        invalid(
            // PostgreSQL cannot store it; every store refuses it alike.
            "a NUL character in a metadata string",
            json_body(create(), create_with("metadata", json!({"k": "a\u{0}b"}))),
            "metadata",
        ),
        invalid(
            "a NUL character in a metadata key",
            json_body(create(), create_with("metadata", json!({"a\u{0}b": 1}))),
            "metadata",
        ),
        invalid(
            "a right-to-left override in a title",
            json_body(
                create(),
                create_with("title", json!("Approve \u{202E}gpj.exe")),
            ),
            "title",
        ),
        Case {
            field: Some("required_approvals"),
            ..case(
                "more required approvals than eligible allowed approvers",
                json_body(
                    create(),
                    r#"{"title":"t","destination":"C1","required_approvals":2,"allowed_approvers":["alice"]}"#,
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsatisfiable-policy",
            )
        },
        invalid(
            "control character in the title",
            json_body(create(), create_with("title", json!("deploy\u{7} now"))),
            "title",
        ),
        invalid(
            "blank title",
            json_body(create(), create_with("title", json!("   "))),
            "title",
        ),
        invalid(
            "destination with spaces",
            json_body(create(), create_with("destination", json!("two words"))),
            "destination",
        ),
        invalid(
            "metadata not an object",
            json_body(create(), create_with("metadata", json!([1, 2]))),
            "metadata",
        ),
        invalid(
            "metadata over 8 KiB",
            json_body(
                create(),
                create_with("metadata", json!({ "blob": "x".repeat(9 * 1024) })),
            ),
            "metadata",
        ),
        invalid(
            "callback URL with another scheme",
            json_body(
                create(),
                create_with("callback_url", json!("ftp://example.com/x")),
            ),
            "callback_url",
        ),
        invalid(
            "relative callback URL",
            json_body(create(), create_with("callback_url", json!("/hooks/42"))),
            "callback_url",
        ),
        invalid(
            "zero required approvals",
            json_body(create(), create_with("required_approvals", json!(0))),
            "required_approvals",
        ),
        invalid(
            "eleven required approvals",
            json_body(create(), create_with("required_approvals", json!(11))),
            "required_approvals",
        ),
        invalid(
            "invalid allowed approver",
            json_body(
                create(),
                create_with("allowed_approvers", json!(["not valid"])),
            ),
            "allowed_approvers",
        ),
        invalid(
            "expiry under a minute",
            json_body(create(), create_with("expires_in_seconds", json!(10))),
            "expires_in_seconds",
        ),
        invalid(
            "reminders more often than every five seconds",
            json_body(create(), create_with("remind_after_seconds", json!(1))),
            "remind_after_seconds",
        ),
        invalid(
            "reminders less often than every thirty days",
            json_body(
                create(),
                create_with("remind_after_seconds", json!(31 * 24 * 3600)),
            ),
            "remind_after_seconds",
        ),
        invalid(
            "over-long comment",
            json_body(
                decide(&pending, alice),
                json!({ "verdict": "approve", "comment": "x".repeat(1001) }).to_string(),
            ),
            "comment",
        ),
        // Query strings and path parameters.
        case(
            "unknown status filter",
            get("/v1/approvals?status=maybe"),
            bad,
            "invalid-query",
        ),
        case(
            "non-numeric limit",
            get("/v1/approvals?limit=ten"),
            bad,
            "invalid-query",
        ),
        case(
            "unknown query parameter",
            get("/v1/approvals?sort=asc"),
            bad,
            "invalid-query",
        ),
        invalid("limit of zero", get("/v1/approvals?limit=0"), "limit"),
        invalid(
            "limit of a thousand",
            get("/v1/approvals?limit=1000"),
            "limit",
        ),
        case(
            "garbage cursor",
            get("/v1/approvals?cursor=not-a-cursor!"),
            bad,
            "invalid-cursor",
        ),
        case(
            "empty cursor",
            get("/v1/approvals?cursor="),
            bad,
            "invalid-cursor",
        ),
        case("non-UUID id", get("/v1/approvals/42"), bad, "invalid-path"),
        case(
            "non-UUID id in a decision",
            json_body(decide("not-a-uuid", alice), approve.clone()),
            bad,
            "invalid-path",
        ),
        // Transport-level refusals.
        case(
            "body over the limit, announced by Content-Length",
            json_body(
                create().header(CONTENT_LENGTH, oversized.len()),
                oversized.clone(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
        ),
        case(
            "body over the limit, streamed without Content-Length",
            json_body(create(), oversized.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
        ),
        case(
            // The idempotency layer reads the body itself, before the JSON extractor.
            "body over the limit, streamed, with an Idempotency-Key",
            json_body(create().header("idempotency-key", "\"big\""), oversized),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
        ),
        case(
            "wrong content type",
            create()
                .header(CONTENT_TYPE, "text/plain")
                .body(Body::from(new_approval("deploy").to_string()))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        case(
            "form-encoded body",
            create()
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("title=deploy&destination=C0123456789"))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        // Idempotency-Key: a structured-field string of 1–255 printable ASCII characters.
        case(
            "empty Idempotency-Key",
            with_idempotency_key(b""),
            bad,
            "idempotency-key-invalid",
        ),
        case(
            "Idempotency-Key of 256 characters",
            with_idempotency_key(format!("\"{}\"", "k".repeat(256)).as_bytes()),
            bad,
            "idempotency-key-invalid",
        ),
        case(
            "non-ASCII Idempotency-Key",
            with_idempotency_key("\"ключ\"".as_bytes()),
            bad,
            "idempotency-key-invalid",
        ),
        case(
            "Idempotency-Key with an unterminated quote",
            with_idempotency_key(b"\"8e03978e-40d5"),
            bad,
            "idempotency-key-invalid",
        ),
        case(
            "16 KiB Idempotency-Key",
            with_idempotency_key(huge_header_value.as_bytes()),
            bad,
            "idempotency-key-invalid",
        ),
        case(
            "16 KiB API key",
            json_body(
                Request::builder()
                    .method(Method::POST)
                    .uri("/v1/approvals")
                    .header(AUTHORIZATION, format!("Bearer {huge_header_value}")),
                valid_body.clone(),
            ),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        case(
            "one header over the header limit",
            json_body(
                create().header("x-padding", "p".repeat(33 * 1024)),
                valid_body.clone(),
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
        ),
        case(
            "many headers over the header limit together",
            json_body(
                (0..40).fold(create(), |request, n| {
                    request.header(format!("x-padding-{n}"), "p".repeat(1024))
                }),
                valid_body.clone(),
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
        ),
        case(
            "an over-limit header on a read",
            call(Method::GET, "/v1/approvals", ci)
                .header("x-padding", "p".repeat(33 * 1024))
                .body(Body::empty())
                .unwrap(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
        ),
        case(
            "no content type",
            create()
                .body(Body::from(new_approval("deploy").to_string()))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        case(
            "unknown route",
            get("/v1/approvals-and-more"),
            StatusCode::NOT_FOUND,
            "route-not-found",
        ),
        case(
            "wrong method",
            call(Method::DELETE, &format!("/v1/approvals/{pending}"), ci)
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
        // Well-formed requests the domain refuses.
        case(
            "unknown approval id",
            get(&format!("/v1/approvals/{unknown_id}")),
            StatusCode::NOT_FOUND,
            "approval-not-found",
        ),
        case(
            "decision on an unknown approval id",
            json_body(decide(&unknown_id.to_string(), alice), approve.clone()),
            StatusCode::NOT_FOUND,
            "approval-not-found",
        ),
        case(
            "decision by the requester (four eyes)",
            json_body(decide(&pending, ci), approve.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "self-approval",
        ),
        case(
            "decision on a cancelled request",
            json_body(decide(&cancelled, alice), approve.clone()),
            StatusCode::CONFLICT,
            "not-pending",
        ),
        case(
            "decision by an approver not on the allow-list",
            json_body(decide(&bob_only, alice), approve.clone()),
            StatusCode::FORBIDDEN,
            "approver-not-allowed",
        ),
        case(
            "changing a verdict",
            json_body(
                decide(&alice_approved, alice),
                json!({ "verdict": "reject" }).to_string(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "conflicting-verdict",
        ),
        case(
            "decision after the expiry time",
            json_body(decide(&expired, bob), approve),
            StatusCode::UNPROCESSABLE_ENTITY,
            "approval-expired",
        ),
        case(
            "cancel by another client",
            call(
                Method::POST,
                &format!("/v1/approvals/{pending}/cancel"),
                alice,
            )
            .body(Body::empty())
            .unwrap(),
            StatusCode::FORBIDDEN,
            "not-requester",
        ),
        case(
            "cancel of a cancelled request",
            call(
                Method::POST,
                &format!("/v1/approvals/{cancelled}/cancel"),
                ci,
            )
            .body(Body::empty())
            .unwrap(),
            StatusCode::CONFLICT,
            "not-pending",
        ),
    ];

    assert_refused_changing_nothing(&app, cases).await;
}

#[tokio::test]
async fn problems_carry_what_the_client_needs_to_react() {
    let app = TestApp::new().await;
    let approval = app.create(&app.ci, new_approval("deploy")).await;
    let id = approval["id"].as_str().unwrap();
    let decisions = format!("/v1/approvals/{id}/decisions");
    app.post(&decisions, &app.alice, &json!({ "verdict": "approve" }))
        .await;

    let late = app
        .post(&decisions, &app.bob, &json!({ "verdict": "reject" }))
        .await;
    let problem = late.assert_problem(StatusCode::CONFLICT, "not-pending");
    assert_eq!(problem["approval_status"], "approved");
    assert_eq!(problem["decided_by"], json!(["alice"]));

    let wrong_method = app
        .send(
            call(Method::PUT, &decisions, &app.ci)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    assert_eq!(wrong_method.header("allow"), "POST");
}
