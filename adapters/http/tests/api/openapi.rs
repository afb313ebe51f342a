//! `GET /openapi.json`: a valid OpenAPI 3.1 document that describes exactly what is served.

use std::collections::BTreeSet;

use adapter_http::{problem_types, prometheus_recorder};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::AGGREGATE_OPERATIONS;
use crate::support::{Overrides, TestApp, call};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(crate) async fn document(app: &TestApp) -> Value {
    let response = app
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.header("content-type"), "application/json");
    response.json()
}

/// Every `(method, path template)` the document describes.
fn operations(document: &Value) -> Vec<(String, String)> {
    let paths = document["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Every value of a `key` member anywhere in `value`.
fn all_members<'a>(value: &'a Value, key: &str, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(object) => {
            for (name, member) in object {
                if name == key {
                    found.push(member);
                }
                all_members(member, key, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| all_members(item, key, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    let app = TestApp::new().await;
    let document = document(&app).await;

    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert!(document["info"]["title"].is_string());
    let mut references = Vec::new();
    all_members(&document, "$ref", &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
            .unwrap_or_else(|| panic!("not a local reference: {reference}"));
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    // Every tag an operation names is declared once, with a description.
    let declared: Vec<&str> = document["tags"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|tag| assert!(tag["description"].is_string(), "{tag}"))
        .map(|tag| tag["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        declared.len(),
        declared.iter().collect::<BTreeSet<_>>().len(),
        "{declared:?}"
    );
    let mut used = Vec::new();
    all_members(&document["paths"], "tags", &mut used);
    for tag in used.iter().flat_map(|tags| tags.as_array().unwrap()) {
        let tag = tag.as_str().unwrap();
        assert!(
            declared.contains(&tag),
            "{tag} is not declared: {declared:?}"
        );
    }
    let schemes = &document["components"]["securitySchemes"];
    let mut requirements = Vec::new();
    all_members(&document["paths"], "security", &mut requirements);
    for requirement in requirements.iter().flat_map(|r| r.as_array().unwrap()) {
        for scheme in requirement.as_object().unwrap().keys() {
            assert!(schemes.get(scheme).is_some(), "unknown scheme {scheme}");
        }
    }
}

#[tokio::test]
async fn the_document_describes_exactly_the_served_routes_and_methods() {
    let recorder = prometheus_recorder().unwrap();
    let app = TestApp::with(Overrides {
        metrics: Some(recorder.handle()),
        ..Overrides::default()
    })
    .await;
    let document = document(&app).await;
    let operations = operations(&document);

    // The public surface, spelled out (each aggregate's routes in its own test module):
    // adding or dropping an operation shows up here.
    let listed: BTreeSet<(&str, &str)> = operations
        .iter()
        .map(|(method, path)| (method.as_str(), path.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("GET", "/healthz"),
            ("GET", "/metrics"),
            ("GET", "/openapi.json"),
            ("GET", "/readyz"),
        ]
        .into_iter()
        .chain(AGGREGATE_OPERATIONS.iter().copied().flatten().copied())
        .collect::<BTreeSet<_>>()
    );

    let id = Uuid::now_v7().to_string();
    for (method, template) in &operations {
        let path = template.replace("{id}", &id);
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let served = app
            .send(
                call(method.clone(), &path, &app.ci)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        // Not every answer is JSON (`/metrics` is text); only a problem has a `type`.
        let problem_type = serde_json::from_slice::<Value>(&served.body)
            .ok()
            .and_then(|body| body.get("type").cloned())
            .unwrap_or_default();
        assert!(
            served.status != StatusCode::METHOD_NOT_ALLOWED
                && problem_type != concat!(env!("PROBLEM_BASE_URL"), "route-not-found"),
            "documented {method} {template} is not served: {}",
            served.text()
        );
    }

    // The methods a path answers are exactly the documented ones: a method added to a
    // documented path without its documentation shows up in `Allow`.
    let paths = document["paths"].as_object().unwrap();
    for (template, item) in paths {
        let path = template.replace("{id}", &id);
        let response = app
            .send(
                call(Method::PATCH, &path, &app.ci)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        response.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
        let allowed: BTreeSet<String> = response
            .header("allow")
            .split(',')
            .map(|m| m.trim().to_owned())
            // axum answers HEAD wherever it answers GET; HEAD is implied, not documented.
            .filter(|m| m != "HEAD")
            .collect();
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|method| item.get(**method).is_some())
            .map(|method| method.to_uppercase())
            .collect();
        assert_eq!(allowed, documented, "{template}");
    }
}

#[tokio::test]
async fn every_operation_documents_its_problems_and_together_they_are_every_problem_type() {
    let app = TestApp::new().await;
    let document = document(&app).await;

    let mut documented = BTreeSet::new();
    for (method, path) in operations(&document) {
        let responses = &document["paths"][&path][method.to_lowercase()]["responses"];
        let errors: Vec<&Value> = responses
            .as_object()
            .unwrap()
            .iter()
            .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
            .map(|(_, response)| response)
            .collect();
        assert!(
            errors.len() >= 2,
            "{method} {path} documents too few errors"
        );
        for response in errors {
            let content = &response["content"]["application/problem+json"];
            assert!(content.is_object(), "{method} {path}: not problem+json");
            for example in content["examples"].as_object().unwrap().values() {
                documented.insert(example["value"]["type"].as_str().unwrap().to_owned());
            }
        }
    }
    for response in document["components"]["responses"]
        .as_object()
        .unwrap()
        .values()
    {
        let examples = &response["content"]["application/problem+json"]["examples"];
        for example in examples.as_object().unwrap().values() {
            documented.insert(example["value"]["type"].as_str().unwrap().to_owned());
        }
    }

    let every_type: BTreeSet<String> = problem_types().map(|t| t.uri().to_owned()).collect();
    assert_eq!(documented, every_type);
}

#[tokio::test]
async fn v1_operations_need_the_api_key_and_v1_posts_take_an_idempotency_key() {
    let app = TestApp::new().await;
    let document = document(&app).await;

    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let security = operation["security"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let headers: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        if path.starts_with("/v1/") {
            assert_eq!(
                security,
                [serde_json::json!({ "api_key": [] })],
                "{method} {path}"
            );
        } else {
            assert!(security.is_empty(), "{method} {path} needs no key");
        }
        let takes_key = path.starts_with("/v1/") && method == "POST";
        assert_eq!(
            headers.contains(&"Idempotency-Key"),
            takes_key,
            "{method} {path}"
        );
    }
}

/// The schema of one property of a component schema.
fn property<'a>(document: &'a Value, schema: &str, name: &str) -> &'a Value {
    &document["components"]["schemas"][schema]["properties"][name]
}

/// A property's `[minLength, maxLength, minimum, maximum]`.
pub(crate) fn bounds(document: &Value, schema: &str, name: &str) -> [Option<u64>; 4] {
    let p = property(document, schema, name);
    [
        &p["minLength"],
        &p["maxLength"],
        &p["minimum"],
        &p["maximum"],
    ]
    .map(Value::as_u64)
}

#[tokio::test]
async fn the_schemas_state_the_rules_the_server_applies() {
    let app = TestApp::new().await;
    let document = document(&app).await;
    let bounds = |schema: &str, name: &str| bounds(&document, schema, name);

    assert_eq!(
        bounds("NewApproval", "title"),
        [Some(1), Some(200), None, None]
    );
    assert_eq!(
        bounds("NewApproval", "description"),
        [None, Some(4000), None, None]
    );
    assert_eq!(
        bounds("NewDecision", "comment"),
        [None, Some(1000), None, None]
    );
    assert_eq!(
        bounds("NewApproval", "destination"),
        [Some(1), Some(80), None, None]
    );
    assert_eq!(
        bounds("NewApproval", "required_approvals"),
        [None, None, Some(1), Some(10)]
    );
    assert_eq!(
        bounds("NewApproval", "expires_in_seconds"),
        [None, None, Some(60), Some(2_592_000)]
    );
    let approvers = property(&document, "NewApproval", "allowed_approvers");
    assert_eq!(approvers["maxItems"], 50);
    assert_eq!(approvers["items"]["maxLength"], 128);
    assert_eq!(approvers["items"]["pattern"], "^[A-Za-z0-9._:@\\-]+$");
    for (schema, name) in [("NewApproval", "title"), ("NewApproval", "description")] {
        let pattern = property(&document, schema, name)["pattern"]
            .as_str()
            .unwrap();
        // The NUL character and RIGHT-TO-LEFT OVERRIDE are refused by both text rules.
        assert!(pattern.contains("\\u0000-"), "{name}: {pattern}");
        assert!(pattern.contains("\\u202a-\\u202e"), "{name}: {pattern}");
    }

    let list = &document["paths"]["/v1/approvals"]["get"]["parameters"];
    let limit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 100);
    let key = &document["paths"]["/v1/approvals"]["post"]["parameters"][0];
    assert_eq!(key["name"], "Idempotency-Key");
    assert!(key["schema"]["pattern"].is_string());
}
