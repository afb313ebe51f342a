//! One `approvals` row, and the mapping between it and the aggregate.
//!
//! **Why decisions live in a JSON column, not a table of their own.** Decisions belong to the
//! aggregate: they are always read and written together with it and never queried on their
//! own. There are few of them (a request settles at its N-th approval or first reject, and
//! N ≤ 10), and the aggregate's version check already guarantees one verdict per approver. A
//! column keeps `save` a single-row write and every read a single-table query, with no child
//! rows to diff. When this does not apply: if you need to query decisions across requests,
//! give them a table with an index.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::str::FromStr;

use application::ports::RepositoryError;
use chrono::{DateTime, Utc};
use domain::{
    ApprovalId, ApprovalRequest, ApprovalState, CallbackUrl, ChatDestination, Comment, Decision,
    Description, Identity, Metadata, Policy, RequiredApprovals, Status, Title, Verdict,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::errors::corrupt;
use crate::time::{from_micros, from_optional_micros, to_micros};

/// The columns of `approvals`, in the types they are stored as.
#[derive(sqlx::FromRow)]
pub(crate) struct ApprovalRow {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub requester: String,
    pub destination: String,
    /// A JSON object.
    pub metadata: String,
    pub callback_url: Option<String>,
    pub required_approvals: i64,
    /// A JSON array of identities.
    pub allowed_approvers: String,
    pub allow_self_approval: bool,
    pub status: String,
    /// A JSON array of [`StoredDecision`]s.
    pub decisions: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub resolved_at: Option<i64>,
    pub version: i64,
}

/// One element of the `decisions` array. The adapter owns this stored format, so renaming a
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
    pub(crate) fn from_approval(approval: &ApprovalRequest) -> Result<Self, RepositoryError> {
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
        let allowed_approvers: Vec<&str> = policy
            .allowed_approvers()
            .iter()
            .map(Identity::as_str)
            .collect();
        let json = |what: &str, result: serde_json::Result<String>| {
            result.map_err(|e| corrupt(&format!("serializing {what}"), e))
        };
        Ok(Self {
            id: approval.id().as_uuid(),
            title: approval.title().to_string(),
            description: approval.description().to_string(),
            requester: approval.requester().to_string(),
            destination: approval.destination().to_string(),
            metadata: json(
                "metadata",
                serde_json::to_string(approval.metadata().as_map()),
            )?,
            callback_url: approval.callback_url().map(ToString::to_string),
            required_approvals: i64::from(policy.required_approvals().get()),
            allowed_approvers: json(
                "allowed approvers",
                serde_json::to_string(&allowed_approvers),
            )?,
            allow_self_approval: policy.allow_self_approval(),
            status: approval.status().as_str().to_owned(),
            decisions: json("decisions", serde_json::to_string(&decisions))?,
            created_at: to_micros(approval.created_at()),
            expires_at: to_micros(approval.expires_at()),
            resolved_at: approval.resolved_at().map(to_micros),
            version: approval.version(),
        })
    }

    /// Rebuilds the aggregate, re-validating every field: a row edited by hand into something
    /// the domain forbids is reported as `Corrupt`, never loaded.
    pub(crate) fn into_approval(self) -> Result<ApprovalRequest, RepositoryError> {
        let id = self.id;
        let requester = Identity::parse(&self.requester).map_err(invalid(id, "requester"))?;
        let allowed_approvers = serde_json::from_str::<Vec<String>>(&self.allowed_approvers)
            .map_err(invalid(id, "allowed_approvers"))?
            .iter()
            .map(|a| Identity::parse(a))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(invalid(id, "allowed_approvers"))?;
        let policy = Policy::new(
            RequiredApprovals::new(self.required_approvals)
                .map_err(invalid(id, "required_approvals"))?,
            allowed_approvers,
            self.allow_self_approval,
            &requester,
        )
        .map_err(invalid(id, "policy"))?;
        let metadata = serde_json::from_str(&self.metadata).map_err(invalid(id, "metadata"))?;
        let decisions = serde_json::from_str::<Vec<StoredDecision>>(&self.decisions)
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
            metadata: Metadata::parse(metadata).map_err(invalid(id, "metadata"))?,
            callback_url: self
                .callback_url
                .as_deref()
                .map(CallbackUrl::parse)
                .transpose()
                .map_err(invalid(id, "callback_url"))?,
            policy,
            status: Status::from_str(&self.status).map_err(invalid(id, "status"))?,
            decisions,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            resolved_at: from_optional_micros(self.resolved_at)?,
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
