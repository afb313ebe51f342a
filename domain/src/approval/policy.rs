//! Who may decide a request, and how many approvals it needs.

use std::collections::BTreeSet;

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::{Identity, ValidationError, Violation};

/// How many distinct approvals move a request to Approved: 1–10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct RequiredApprovals(u8);

impl RequiredApprovals {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 10;

    /// # Errors
    /// `OutOfRange` outside 1–10.
    pub fn new(count: i64) -> Result<Self, ValidationError> {
        u8::try_from(count)
            .ok()
            .filter(|n| (Self::MIN..=Self::MAX).contains(n))
            .map(Self)
            .ok_or_else(|| {
                ValidationError::new(
                    "required_approvals",
                    Violation::OutOfRange {
                        min: Self::MIN.into(),
                        max: Self::MAX.into(),
                    },
                )
            })
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for RequiredApprovals {
    fn default() -> Self {
        Self(1)
    }
}

impl TryFrom<u8> for RequiredApprovals {
    type Error = ValidationError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value.into())
    }
}

impl From<RequiredApprovals> for u8 {
    fn from(value: RequiredApprovals) -> Self {
        value.0
    }
}

/// How long a pending request waits before its approvers are reminded of it, and again
/// after each reminder: five seconds to thirty days.
///
/// The floor is low so that tests and demos can watch reminders happen; a real request
/// wants minutes or hours (Slack takes about one message per second per channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct RemindAfter(i64);

impl RemindAfter {
    pub const MIN_SECONDS: i64 = 5;
    pub const MAX_SECONDS: i64 = 30 * 24 * 60 * 60;

    /// # Errors
    /// `OutOfRange` outside five seconds to thirty days.
    pub fn from_seconds(seconds: i64) -> Result<Self, ValidationError> {
        if !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(ValidationError::new(
                "remind_after_seconds",
                Violation::OutOfRange {
                    min: Self::MIN_SECONDS,
                    max: Self::MAX_SECONDS,
                },
            ));
        }
        Ok(Self(seconds))
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn as_duration(self) -> Duration {
        Duration::seconds(self.0)
    }
}

impl TryFrom<i64> for RemindAfter {
    type Error = ValidationError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::from_seconds(value)
    }
}

impl From<RemindAfter> for i64 {
    fn from(value: RemindAfter) -> Self {
        value.0
    }
}

/// The decision policy of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    required_approvals: RequiredApprovals,
    /// Empty means anyone but (by default) the requester may decide.
    allowed_approvers: BTreeSet<Identity>,
    allow_self_approval: bool,
    /// `None`: nobody is reminded (the default).
    #[serde(default)]
    remind_after: Option<RemindAfter>,
}

impl Policy {
    pub const MAX_ALLOWED_APPROVERS: usize = 50;

    /// Builds a policy that can actually be satisfied.
    ///
    /// # Errors
    /// `TooLong` for more than 50 allowed approvers; `Unsatisfiable` when the allow-list has
    /// fewer eligible people than approvals are required (the request could never be
    /// approved).
    pub fn new(
        required_approvals: RequiredApprovals,
        allowed_approvers: BTreeSet<Identity>,
        allow_self_approval: bool,
        requester: &Identity,
    ) -> Result<Self, ValidationError> {
        if allowed_approvers.len() > Self::MAX_ALLOWED_APPROVERS {
            return Err(ValidationError::new(
                "allowed_approvers",
                Violation::TooLong {
                    max: Self::MAX_ALLOWED_APPROVERS,
                },
            ));
        }
        if !allowed_approvers.is_empty() {
            let eligible = allowed_approvers
                .iter()
                .filter(|a| allow_self_approval || *a != requester)
                .count();
            if eligible < usize::from(required_approvals.get()) {
                return Err(ValidationError::new(
                    "required_approvals",
                    Violation::Unsatisfiable("exceeds the number of eligible allowed approvers"),
                ));
            }
        }
        Ok(Self {
            required_approvals,
            allowed_approvers,
            allow_self_approval,
            remind_after: None,
        })
    }

    /// The same policy, reminding the approvers every `remind_after` while the request
    /// waits (or never, with `None`). Any interval is valid with any other rule.
    #[must_use]
    pub fn with_remind_after(self, remind_after: Option<RemindAfter>) -> Self {
        Self {
            remind_after,
            ..self
        }
    }

    pub fn remind_after(&self) -> Option<RemindAfter> {
        self.remind_after
    }

    pub fn required_approvals(&self) -> RequiredApprovals {
        self.required_approvals
    }

    pub fn allowed_approvers(&self) -> &BTreeSet<Identity> {
        &self.allowed_approvers
    }

    pub fn allow_self_approval(&self) -> bool {
        self.allow_self_approval
    }

    /// True when the allow-list is empty or names this approver.
    pub fn allows(&self, approver: &Identity) -> bool {
        self.allowed_approvers.is_empty() || self.allowed_approvers.contains(approver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Identity {
        Identity::parse(s).unwrap()
    }

    #[test]
    fn required_approvals_is_bounded() {
        assert!(RequiredApprovals::new(0).is_err());
        assert!(RequiredApprovals::new(1).is_ok());
        assert!(RequiredApprovals::new(10).is_ok());
        assert!(RequiredApprovals::new(11).is_err());
        assert!(RequiredApprovals::new(-1).is_err());
        assert!(RequiredApprovals::new(i64::MAX).is_err());
    }

    #[test]
    fn remind_after_is_bounded_and_off_by_default() {
        assert!(RemindAfter::from_seconds(4).is_err());
        assert!(RemindAfter::from_seconds(5).is_ok());
        assert!(RemindAfter::from_seconds(30 * 24 * 3600).is_ok());
        assert!(RemindAfter::from_seconds(30 * 24 * 3600 + 1).is_err());
        assert_eq!(
            RemindAfter::from_seconds(-1).map(|_| ()),
            Err(ValidationError::new(
                "remind_after_seconds",
                Violation::OutOfRange {
                    min: 5,
                    max: 30 * 24 * 3600
                }
            ))
        );
        let policy = Policy::new(
            RequiredApprovals::default(),
            BTreeSet::new(),
            false,
            &id("ci"),
        )
        .unwrap();
        assert_eq!(policy.remind_after(), None);
        let hourly = RemindAfter::from_seconds(3600).ok();
        assert_eq!(policy.with_remind_after(hourly).remind_after(), hourly);
    }

    #[test]
    fn unsatisfiable_allow_list_is_refused() {
        let two = RequiredApprovals::new(2).unwrap();
        let list: BTreeSet<_> = [id("alice"), id("ci")].into();
        // The requester "ci" cannot approve its own request, so only alice is eligible.
        assert!(Policy::new(two, list.clone(), false, &id("ci")).is_err());
        assert!(Policy::new(two, list, true, &id("ci")).is_ok());
    }

    #[test]
    fn empty_allow_list_allows_anyone() {
        let policy = Policy::new(
            RequiredApprovals::default(),
            BTreeSet::new(),
            false,
            &id("ci"),
        )
        .unwrap();
        assert!(policy.allows(&id("anyone")));
    }
}
