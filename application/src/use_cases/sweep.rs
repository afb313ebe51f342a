//! The shape every sweep over pending requests shares (expiry, reminders): load each
//! request the store found due, let the domain decide, save what changed.

use domain::{ApprovalId, ApprovalRequest};

use crate::ports::{ApprovalRepository, RepositoryError};

/// Applies `step` to each request in `due` and saves those it changed; returns how many.
///
/// `step` returns whether the request changed. One that is gone, that the domain refuses
/// (settled or no longer due since the store listed it) or that changed concurrently (a
/// decision, another instance's sweep) is skipped, not an error: a sweep is safe to run
/// anywhere, any number of times.
///
/// # Errors
/// `Store` errors other than a lost race.
pub(super) async fn save_each_changed(
    approvals: &dyn ApprovalRepository,
    due: Vec<ApprovalId>,
    mut step: impl FnMut(&mut ApprovalRequest) -> bool + Send,
) -> Result<usize, RepositoryError> {
    let mut changed = 0;
    for id in due {
        let Some(mut approval) = approvals.get(id).await? else {
            continue;
        };
        if !step(&mut approval) {
            continue;
        }
        let events = approval.take_events();
        match approvals.save(&approval, &events, None).await {
            Ok(()) => changed += 1,
            Err(RepositoryError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(changed)
}
