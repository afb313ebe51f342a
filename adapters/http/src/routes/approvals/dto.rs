//! The approval shapes: `/v1/approvals` bodies, the list query, and the approval as the API
//! shows it.

use application::use_cases::{CreateApprovalInput, Page};
use chrono::{DateTime, Utc};
use domain::{ApprovalRequest, Decision, RemindAfter, Status, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::dto::rules;
use crate::{cursor, strict_json};

/// Body of `POST /v1/approvals`. Only the shape is checked here; the rules (lengths, ranges,
/// URL form) are the domain's and are checked by the use case. The schema states the same
/// rules, from the same constants (`rules.rs`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewApproval)]
pub(crate) struct CreateApprovalBody {
    /// What is to be decided: 1–200 characters, one line.
    #[schema(schema_with = rules::title)]
    title: String,
    /// Context for the approvers: up to 4000 characters.
    #[schema(schema_with = rules::description)]
    description: Option<String>,
    /// Where to ask, e.g. a Slack channel id.
    #[schema(schema_with = rules::destination)]
    destination: String,
    /// Any JSON object up to 8 KiB, kept and returned as is.
    #[serde(default, deserialize_with = "strict_json::optional")]
    #[schema(schema_with = rules::metadata)]
    metadata: Option<Value>,
    /// An absolute http(s) URL to notify when the request settles.
    #[schema(schema_with = rules::callback_url)]
    callback_url: Option<String>,
    /// How many distinct approvals settle the request: 1–10, default 1.
    #[serde(default, deserialize_with = "strict_json::optional_integer")]
    #[schema(schema_with = rules::required_approvals)]
    required_approvals: Option<i64>,
    /// Only these identities may decide; empty or absent means anyone but the requester.
    #[schema(schema_with = rules::allowed_approvers)]
    allowed_approvers: Option<Vec<String>>,
    /// Whether the requester may approve their own request; default false (four eyes).
    allow_self_approval: Option<bool>,
    /// Seconds until the request expires: 60 s to 30 days, default 24 h.
    #[serde(default, deserialize_with = "strict_json::optional_integer")]
    #[schema(schema_with = rules::expires_in_seconds)]
    expires_in_seconds: Option<i64>,
    /// Seconds between reminders in the chat thread: 5 s to 30 days; absent: none.
    #[serde(default, deserialize_with = "strict_json::optional_integer")]
    #[schema(schema_with = rules::remind_after_seconds)]
    remind_after_seconds: Option<i64>,
}

impl From<CreateApprovalBody> for CreateApprovalInput {
    fn from(body: CreateApprovalBody) -> Self {
        Self {
            title: body.title,
            description: body.description,
            destination: body.destination,
            metadata: body.metadata,
            callback_url: body.callback_url,
            required_approvals: body.required_approvals,
            allowed_approvers: body.allowed_approvers.unwrap_or_default(),
            allow_self_approval: body.allow_self_approval.unwrap_or(false),
            expires_in_seconds: body.expires_in_seconds,
            remind_after_seconds: body.remind_after_seconds,
        }
    }
}

/// Body of `POST /v1/approvals/{id}/decisions`. The approver is the caller, never a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewDecision)]
pub(crate) struct DecisionBody {
    pub(crate) verdict: VerdictJson,
    /// Why, for the record: up to 1000 characters.
    #[schema(schema_with = rules::comment)]
    pub(crate) comment: Option<String>,
}

/// Query string of `GET /v1/approvals`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only requests in this state.
    pub(crate) status: Option<StatusJson>,
    /// Page size: 1–100, default 20.
    #[param(schema_with = rules::limit)]
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = rules::cursor)]
    pub(crate) cursor: Option<String>,
}

/// Query string of `GET /v1/approvals/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct GetParams {
    /// Long-poll: while the request is pending, wait up to this long for it to settle
    /// before answering (`30s`, `1m`, or plain seconds; at most 60 s). The answer comes as
    /// soon as it is approved, rejected, expired or cancelled, else after the wait with its
    /// current state, so a client loops until `status` is no longer `pending`. Long-polls
    /// have a concurrency limit of their own; beyond it they get 503 `overloaded`.
    #[param(schema_with = rules::wait)]
    pub(crate) wait: Option<String>,
}

/// A verdict on the wire: `"approve"` or `"reject"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Verdict)]
pub(crate) enum VerdictJson {
    Approve,
    Reject,
}

impl VerdictJson {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }
}

impl From<VerdictJson> for Verdict {
    fn from(verdict: VerdictJson) -> Self {
        match verdict {
            VerdictJson::Approve => Self::Approve,
            VerdictJson::Reject => Self::Reject,
        }
    }
}

impl From<Verdict> for VerdictJson {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Approve => Self::Approve,
            Verdict::Reject => Self::Reject,
        }
    }
}

/// A status on the wire, in responses and in the `status` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Status)]
pub(crate) enum StatusJson {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl StatusJson {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

impl From<StatusJson> for Status {
    fn from(status: StatusJson) -> Self {
        match status {
            StatusJson::Pending => Self::Pending,
            StatusJson::Approved => Self::Approved,
            StatusJson::Rejected => Self::Rejected,
            StatusJson::Expired => Self::Expired,
            StatusJson::Cancelled => Self::Cancelled,
        }
    }
}

impl From<Status> for StatusJson {
    fn from(status: Status) -> Self {
        match status {
            Status::Pending => Self::Pending,
            Status::Approved => Self::Approved,
            Status::Rejected => Self::Rejected,
            Status::Expired => Self::Expired,
            Status::Cancelled => Self::Cancelled,
        }
    }
}

/// An approval request as the API shows it. Every field is always present; optional ones
/// are `null` when unset.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Approval)]
pub(crate) struct ApprovalResponse {
    id: Uuid,
    title: String,
    description: String,
    /// The API key name that opened the request.
    requester: String,
    destination: String,
    #[schema(value_type = Object)]
    metadata: Map<String, Value>,
    #[schema(required)]
    callback_url: Option<String>,
    policy: PolicyResponse,
    status: StatusJson,
    /// In the order they were made.
    decisions: Vec<DecisionResponse>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// When the request left `pending`.
    #[schema(required)]
    resolved_at: Option<DateTime<Utc>>,
    /// Increases with every change.
    version: i64,
}

/// Who may decide, and how many must approve.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Policy)]
struct PolicyResponse {
    required_approvals: u8,
    /// Empty when anyone but the requester may decide.
    allowed_approvers: Vec<String>,
    allow_self_approval: bool,
    /// Seconds between reminders; `null` when nobody is reminded.
    #[schema(required)]
    remind_after_seconds: Option<i64>,
}

/// One approver's verdict.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Decision)]
struct DecisionResponse {
    approver: String,
    verdict: VerdictJson,
    #[schema(required)]
    comment: Option<String>,
    decided_at: DateTime<Utc>,
}

impl From<&ApprovalRequest> for ApprovalResponse {
    fn from(approval: &ApprovalRequest) -> Self {
        let policy = approval.policy();
        Self {
            id: approval.id().as_uuid(),
            title: approval.title().to_string(),
            description: approval.description().to_string(),
            requester: approval.requester().to_string(),
            destination: approval.destination().to_string(),
            metadata: approval.metadata().as_map().clone(),
            callback_url: approval.callback_url().map(ToString::to_string),
            policy: PolicyResponse {
                required_approvals: policy.required_approvals().get(),
                allowed_approvers: policy
                    .allowed_approvers()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                allow_self_approval: policy.allow_self_approval(),
                remind_after_seconds: policy.remind_after().map(RemindAfter::seconds),
            },
            status: approval.status().into(),
            decisions: approval
                .decisions()
                .iter()
                .map(DecisionResponse::from)
                .collect(),
            created_at: approval.created_at(),
            expires_at: approval.expires_at(),
            resolved_at: approval.resolved_at(),
            version: approval.version(),
        }
    }
}

impl From<&Decision> for DecisionResponse {
    fn from(decision: &Decision) -> Self {
        Self {
            approver: decision.approver.to_string(),
            verdict: decision.verdict.into(),
            comment: decision.comment.as_ref().map(ToString::to_string),
            decided_at: decision.decided_at,
        }
    }
}

/// One page of `GET /v1/approvals`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApprovalPage)]
pub(crate) struct ApprovalPageResponse {
    items: Vec<ApprovalResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

impl From<&Page> for ApprovalPageResponse {
    fn from(page: &Page) -> Self {
        Self {
            items: page.items.iter().map(ApprovalResponse::from).collect(),
            next_cursor: page.next.map(cursor::encode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip_through_the_domain() {
        for status in Status::ALL {
            let json = StatusJson::from(status);
            assert_eq!(Status::from(json), status);
            assert_eq!(
                serde_json::to_value(json).unwrap(),
                Value::from(json.as_str())
            );
        }
    }

    #[test]
    fn verdict_names_round_trip_through_the_domain() {
        for verdict in [Verdict::Approve, Verdict::Reject] {
            let json = VerdictJson::from(verdict);
            assert_eq!(Verdict::from(json), verdict);
            assert_eq!(
                serde_json::to_value(json).unwrap(),
                Value::from(json.as_str())
            );
        }
    }

    #[test]
    fn optional_create_fields_fall_back_to_the_domain_defaults() {
        let body: CreateApprovalBody =
            serde_json::from_str(r#"{"title":"t","destination":"C1"}"#).unwrap();
        let input = CreateApprovalInput::from(body);
        assert!(input.allowed_approvers.is_empty());
        assert!(!input.allow_self_approval);
        assert_eq!(input.required_approvals, None);
        assert_eq!(input.expires_in_seconds, None);
        assert_eq!(input.remind_after_seconds, None);
    }

    #[test]
    fn a_misspelled_field_is_refused_rather_than_ignored() {
        let result = serde_json::from_str::<CreateApprovalBody>(
            r#"{"title":"t","destination":"C1","requried_approvals":2}"#,
        );
        assert!(result.is_err());
    }
}
