//! List approval requests, newest first, one keyset page at a time.

use std::sync::Arc;

use domain::{ApprovalId, ApprovalRequest, Status, ValidationError, Violation};

use crate::ports::{ApprovalRepository, ListQuery, RepositoryError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListApprovalsInput {
    pub status: Option<Status>,
    /// Page size; 20 when absent, at most 100.
    pub limit: Option<i64>,
    /// The `next` of the previous page.
    pub after: Option<ApprovalId>,
}

/// One page, and where the next one starts (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<ApprovalRequest>,
    pub next: Option<ApprovalId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListApprovalsError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct ListApprovals {
    approvals: Arc<dyn ApprovalRepository>,
}

impl ListApprovals {
    pub const DEFAULT_LIMIT: u32 = 20;
    pub const MAX_LIMIT: u32 = 100;

    pub fn new(approvals: Arc<dyn ApprovalRepository>) -> Self {
        Self { approvals }
    }

    /// # Errors
    /// `Invalid` for a limit outside 1–100, `Store` when the repository fails.
    pub async fn execute(&self, input: ListApprovalsInput) -> Result<Page, ListApprovalsError> {
        let limit = match input.limit {
            None => Self::DEFAULT_LIMIT,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
                .ok_or_else(|| ValidationError {
                    field: "limit",
                    violation: Violation::OutOfRange {
                        min: 1,
                        max: Self::MAX_LIMIT.into(),
                    },
                })?,
        };
        // Ask for one more than the page holds: its presence says whether a next page exists.
        let mut items = self
            .approvals
            .list(&ListQuery {
                status: input.status,
                after: input.after,
                limit: limit + 1,
            })
            .await
            .map_err(ListApprovalsError::Store)?;
        let has_more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = has_more
            .then(|| items.last().map(ApprovalRequest::id))
            .flatten();
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockApprovalRepository;

    #[tokio::test]
    async fn asks_for_one_extra_row_to_detect_the_next_page() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_list()
            .withf(|q| q.limit == 21 && q.status == Some(Status::Pending) && q.after.is_none())
            .times(1)
            .returning(|_| Ok(Vec::new()));
        let page = ListApprovals::new(Arc::new(repo))
            .execute(ListApprovalsInput {
                status: Some(Status::Pending),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.next, None);
    }

    #[tokio::test]
    async fn limit_out_of_range_is_invalid_and_queries_nothing() {
        for limit in [0, 101, -5] {
            let mut repo = MockApprovalRepository::new();
            repo.expect_list().never();
            let err = ListApprovals::new(Arc::new(repo))
                .execute(ListApprovalsInput {
                    limit: Some(limit),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert!(matches!(
                err,
                ListApprovalsError::Invalid(ValidationError { field: "limit", .. })
            ));
        }
    }
}
