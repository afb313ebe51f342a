//! The approval request aggregate and everything it is made of.

mod event;
mod fields;
mod policy;
mod request;

pub use event::ApprovalEvent;
pub use fields::{ApprovalId, CallbackUrl, Comment, Metadata, Ttl};
pub use policy::{Policy, RemindAfter, RequiredApprovals};
pub use request::{
    ApprovalRequest, ApprovalState, CancelError, DecideOutcome, Decision, DecisionError,
    ExpireError, NewApproval, RemindError, Reminder, Status, UnknownStatus, Verdict,
};
