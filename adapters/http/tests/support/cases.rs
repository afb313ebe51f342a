//! Table-driven refusals: each case is a request and the problem it must get, and the store
//! must be unchanged after every one of them.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::TestApp;

/// A request that must be refused, and how.
pub struct Case {
    pub name: &'static str,
    pub request: Request<Body>,
    pub status: StatusCode,
    pub problem: &'static str,
    /// For validation problems: the field the `field` extension must name.
    pub field: Option<&'static str>,
}

/// A case refused with `status` and the problem type `problem`.
pub fn case(
    name: &'static str,
    request: Request<Body>,
    status: StatusCode,
    problem: &'static str,
) -> Case {
    Case {
        name,
        request,
        status,
        problem,
        field: None,
    }
}

/// A 400 `validation` problem that names `field`.
pub fn invalid(name: &'static str, request: Request<Body>, field: &'static str) -> Case {
    Case {
        field: Some(field),
        ..case(name, request, StatusCode::BAD_REQUEST, "validation")
    }
}

/// Sends each case, checks its problem (and the field it names), and checks after each one
/// that the store is unchanged; a failure names its case.
pub async fn assert_refused_changing_nothing(app: &TestApp, cases: Vec<Case>) {
    let before = app.snapshot();
    for case in cases {
        let response = app.send(case.request).await;
        let problem = response
            .check_problem(case.status, case.problem)
            .unwrap_or_else(|mismatch| panic!("{}: {mismatch}", case.name));
        if let Some(field) = case.field {
            assert_eq!(problem["field"], field, "{}: {problem}", case.name);
        }
        assert_eq!(app.snapshot(), before, "{}: the store changed", case.name);
    }
}
