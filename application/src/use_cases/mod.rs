//! One module per use case, named by what the user does.
//!
//! Each use case is a small struct holding the ports it needs (`Arc<dyn Port>`), with one
//! `execute` method and its own error enum, so an inbound adapter can map every failure to a
//! precise response.

mod answer;
mod authenticate;
mod cancel_approval;
mod create_api_key;
mod create_approval;
mod dead_letters;
mod decide;
mod deliver_notifications;
mod expire_overdue;
mod get_alert;
mod get_approval;
mod list_approvals;
mod raise_alert;
mod remind_approvers;
mod retry;
mod rotate_webhook_secret;
mod settle_alert;
mod sweep;
mod wait_for_outcome;

pub use answer::Answer;
pub use authenticate::{Authenticate, AuthenticateError};
pub use cancel_approval::{CancelApproval, CancelApprovalError};
pub use create_api_key::{CreateApiKey, CreateApiKeyError, CreatedApiKey};
pub use create_approval::{CreateApproval, CreateApprovalError, CreateApprovalInput};
pub use dead_letters::DeadLetters;
pub use decide::{Decide, DecideError, DecideInput, Decided};
pub use deliver_notifications::{Batch, DeliverNotifications, DeliveryReport, RelayPolicy};
pub use expire_overdue::ExpireOverdue;
pub use get_alert::{GetAlert, GetAlertError};
pub use get_approval::{GetApproval, GetApprovalError};
pub use list_approvals::{ListApprovals, ListApprovalsError, ListApprovalsInput, Page};
pub use raise_alert::{RaiseAlert, RaiseAlertError, RaiseAlertInput, Raised};
pub use remind_approvers::RemindApprovers;
pub use rotate_webhook_secret::{RotateWebhookSecret, RotateWebhookSecretError};
pub use settle_alert::{AlertAction, SettleAlert, SettleAlertError};
pub use wait_for_outcome::{APPROVAL_KIND, WaitForOutcome};
