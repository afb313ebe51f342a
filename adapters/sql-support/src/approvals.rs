//! One `approvals` row, and the mapping between it and the aggregate.
//!
//! **Why decisions live in a JSON column, not a table of their own.** Decisions belong to
//! the aggregate: they are always read and written together with it and never queried on
//! their own. There are few of them (a request settles at its N-th approval or first reject,
//! and N ≤ 10), and the aggregate's version check already guarantees one verdict per
//! approver. A column keeps `save` a single-row write and every read a single-table query,
//! with no child rows to diff. When this does not apply: if you need to query decisions
//! across requests ("everything alice approved this month"), give them a table with an index.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::str::FromStr;

use application::ports::{ListQuery, RepositoryError};
use chrono::{DateTime, Utc};
use domain::{
    ApprovalId, ApprovalRequest, ApprovalState, CallbackUrl, ChatDestination, Comment, Decision,
    Description, Identity, Metadata, Policy, RemindAfter, RequiredApprovals, Status, Title,
    Verdict,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::errors::corrupt;
use crate::save::AggregateRow;

/// The columns of `approvals`. These are the types PostgreSQL's columns decode to, so its
/// `query_as!` fills this row directly; SQLite converts the two it stores differently (times,
/// the approver set).
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRow {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub requester: String,
    pub destination: String,
    /// A JSON object.
    pub metadata: Value,
    pub callback_url: Option<String>,
    pub required_approvals: i16,
    pub allowed_approvers: Vec<String>,
    pub allow_self_approval: bool,
    pub status: String,
    /// A JSON array of [`StoredDecision`]s.
    pub decisions: Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
    /// The policy's reminder interval; `None` when nobody is reminded.
    pub remind_after_seconds: Option<i64>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub expiry_warned: bool,
    /// Derived: the domain's `next_reminder_at`, written by every save so that the stores
    /// find the requests due by an index. Never read back into the aggregate, which
    /// computes it from the fields above.
    pub next_reminder_at: Option<DateTime<Utc>>,
}

impl AggregateRow for ApprovalRow {
    /// Also the kind a saved approval is announced under on the change feed.
    const AGGREGATE_TYPE: &'static str = "approval";

    fn id_and_version(&self) -> (Uuid, i64) {
        (self.id, self.version)
    }
}

/// The bounds of a page of `list`, which pages by key: the page is the `limit` newest rows
/// with an id below `before`. Ids are UUID v7, so `id` order is creation order; the first
/// page starts below the greatest possible UUID, so that every page is one indexable
/// `id < before`.
pub fn keyset_page(query: &ListQuery) -> (Uuid, i64) {
    let before = query.after.map_or(Uuid::max(), |after| after.as_uuid());
    (before, i64::from(query.limit))
}

/// One element of the `decisions` array. This crate owns the stored format, so renaming a
/// domain field can never silently change what is on disk.
#[derive(Debug, Serialize, Deserialize)]
struct StoredDecision {
    approver: String,
    verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    decided_at: DateTime<Utc>,
}

impl ApprovalRow {
    /// The row that stores `approval`.
    ///
    /// # Errors
    /// `Corrupt` when the decisions cannot be serialized (which a valid aggregate never
    /// causes).
    pub fn from_approval(approval: &ApprovalRequest) -> Result<Self, RepositoryError> {
        let decisions: Vec<StoredDecision> = approval
            .decisions()
            .iter()
            .map(|d| StoredDecision {
                approver: d.approver.to_string(),
                verdict: d.verdict.as_str().to_owned(),
                comment: d.comment.as_ref().map(ToString::to_string),
                decided_at: d.decided_at,
            })
            .collect();
        let policy = approval.policy();
        Ok(Self {
            id: approval.id().as_uuid(),
            title: approval.title().to_string(),
            description: approval.description().to_string(),
            requester: approval.requester().to_string(),
            destination: approval.destination().to_string(),
            metadata: Value::Object(approval.metadata().as_map().clone()),
            callback_url: approval.callback_url().map(ToString::to_string),
            required_approvals: i16::from(policy.required_approvals().get()),
            allowed_approvers: policy
                .allowed_approvers()
                .iter()
                .map(ToString::to_string)
                .collect(),
            allow_self_approval: policy.allow_self_approval(),
            status: approval.status().as_str().to_owned(),
            decisions: serde_json::to_value(decisions)
                .map_err(|e| corrupt("serializing decisions", e))?,
            created_at: approval.created_at(),
            expires_at: approval.expires_at(),
            resolved_at: approval.resolved_at(),
            version: approval.version(),
            remind_after_seconds: policy.remind_after().map(RemindAfter::seconds),
            reminded_at: approval.reminded_at(),
            expiry_warned: approval.expiry_warned(),
            next_reminder_at: approval.next_reminder_at(),
        })
    }

    /// Rebuilds the aggregate, re-validating every field.
    ///
    /// # Errors
    /// `Corrupt`, naming the approval and the field, when a stored value is one the domain
    /// forbids.
    pub fn into_approval(self) -> Result<ApprovalRequest, RepositoryError> {
        let id = self.id;
        let requester = Identity::parse(&self.requester).map_err(invalid(id, "requester"))?;
        let allowed_approvers = self
            .allowed_approvers
            .iter()
            .map(|a| Identity::parse(a))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(invalid(id, "allowed_approvers"))?;
        let policy = Policy::new(
            RequiredApprovals::new(self.required_approvals.into())
                .map_err(invalid(id, "required_approvals"))?,
            allowed_approvers,
            self.allow_self_approval,
            &requester,
        )
        .map_err(invalid(id, "policy"))?
        .with_remind_after(
            self.remind_after_seconds
                .map(RemindAfter::from_seconds)
                .transpose()
                .map_err(invalid(id, "remind_after_seconds"))?,
        );
        let decisions = serde_json::from_value::<Vec<StoredDecision>>(self.decisions)
            .map_err(invalid(id, "decisions"))?
            .into_iter()
            .map(|d| d.into_decision(id))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(ApprovalRequest::restore(ApprovalState {
            id: ApprovalId::from_uuid(id),
            title: Title::parse(&self.title).map_err(invalid(id, "title"))?,
            description: Description::parse(&self.description)
                .map_err(invalid(id, "description"))?,
            requester,
            destination: ChatDestination::parse(&self.destination)
                .map_err(invalid(id, "destination"))?,
            metadata: Metadata::parse(self.metadata).map_err(invalid(id, "metadata"))?,
            callback_url: self
                .callback_url
                .as_deref()
                .map(CallbackUrl::parse)
                .transpose()
                .map_err(invalid(id, "callback_url"))?,
            policy,
            status: Status::from_str(&self.status).map_err(invalid(id, "status"))?,
            decisions,
            created_at: self.created_at,
            expires_at: self.expires_at,
            resolved_at: self.resolved_at,
            reminded_at: self.reminded_at,
            expiry_warned: self.expiry_warned,
            version: self.version,
        }))
    }
}

impl StoredDecision {
    fn into_decision(self, approval: Uuid) -> Result<Decision, RepositoryError> {
        let what = format!("approval {approval}: decision by {:?}", self.approver);
        Ok(Decision {
            approver: Identity::parse(&self.approver).map_err(|e| corrupt(&what, e))?,
            verdict: Verdict::from_str(&self.verdict)
                .map_err(|()| corrupt(&what, format!("unknown verdict {:?}", self.verdict)))?,
            comment: self
                .comment
                .as_deref()
                .map(Comment::parse)
                .transpose()
                .map_err(|e| corrupt(&what, e))?,
            decided_at: self.decided_at,
        })
    }
}

/// Names the approval and the field that failed to load.
fn invalid<E: Display>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> RepositoryError {
    move |e| corrupt(&format!("approval {id}: {field}"), e)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::{NewApproval, Ttl};
    use serde_json::json;

    use super::*;

    fn decided_approval() -> ApprovalRequest {
        let requester = Identity::parse("ci-pipeline").unwrap();
        let new = NewApproval {
            title: Title::parse("Deploy v7").unwrap(),
            description: Description::default(),
            destination: ChatDestination::parse("C0123456789").unwrap(),
            metadata: Metadata::parse(json!({"ticket": "OPS-1"})).unwrap(),
            callback_url: None,
            policy: Policy::new(
                RequiredApprovals::new(2).unwrap(),
                BTreeSet::new(),
                false,
                &requester,
            )
            .unwrap(),
            requester,
            ttl: Ttl::default(),
        };
        let now = Utc.with_ymd_and_hms(2031, 3, 4, 10, 0, 0).unwrap();
        let mut approval =
            ApprovalRequest::open(ApprovalId::from_uuid(Uuid::from_u128(7)), new, now);
        approval
            .decide(
                Identity::parse("alice").unwrap(),
                Verdict::Approve,
                Some(Comment::parse("ship it").unwrap()),
                now,
            )
            .unwrap();
        approval
    }

    #[test]
    fn an_approval_survives_the_round_trip_through_its_row() {
        let approval = decided_approval();
        let restored = ApprovalRow::from_approval(&approval)
            .unwrap()
            .into_approval()
            .unwrap();
        assert_eq!(restored.decisions(), approval.decisions());
        assert_eq!(restored.status(), approval.status());
        assert_eq!(restored.metadata(), approval.metadata());
        assert_eq!(restored.version(), approval.version());
    }

    #[test]
    fn decisions_are_stored_in_the_format_this_crate_owns() {
        let row = ApprovalRow::from_approval(&decided_approval()).unwrap();
        assert_eq!(
            row.decisions,
            json!([{
                "approver": "alice",
                "verdict": "approve",
                "comment": "ship it",
                "decided_at": "2031-03-04T10:00:00Z",
            }])
        );
        assert_eq!(row.status, "pending");
    }

    #[test]
    fn a_row_the_domain_refuses_is_corrupt_and_names_the_field() {
        let mut row = ApprovalRow::from_approval(&decided_approval()).unwrap();
        row.status = "maybe".into();
        let error = row.into_approval().unwrap_err();
        assert!(
            matches!(&error, RepositoryError::Corrupt(m) if m.contains("status")),
            "{error:?}"
        );
    }

    #[test]
    fn a_page_starts_below_the_id_it_follows_and_the_first_below_every_id() {
        let after = ApprovalId::from_uuid(Uuid::from_u128(7));
        let first = ListQuery {
            status: None,
            after: None,
            limit: 20,
        };
        assert_eq!(keyset_page(&first), (Uuid::max(), 20));
        let next = ListQuery {
            after: Some(after),
            ..first
        };
        assert_eq!(keyset_page(&next), (Uuid::from_u128(7), 20));
    }

    #[test]
    fn an_unknown_stored_verdict_is_corrupt() {
        let mut row = ApprovalRow::from_approval(&decided_approval()).unwrap();
        row.decisions[0]["verdict"] = json!("abstain");
        let error = row.into_approval().unwrap_err();
        assert!(
            matches!(&error, RepositoryError::Corrupt(m) if m.contains("unknown verdict")),
            "{error:?}"
        );
    }
}
