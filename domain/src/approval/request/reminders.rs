//! Reminders of a pending request: when the approvers are reminded, and the one warning
//! before it expires.
//!
//! Both are off unless the request's policy sets `remind_after`. Then:
//!
//! - **Reminders** repeat every `remind_after`, counted from the request's creation and then
//!   from the last reminder (or warning) sent, and only while the request is pending and
//!   before its expiry. A sweep that runs late sends one reminder, not the ones it missed.
//! - **The expiry warning** goes out once, at `expires_at − lead`, where the lead is a
//!   quarter of the request's lifetime or one hour, whichever is smaller: a day-long request
//!   is warned an hour ahead, a ten-minute one two and a half minutes ahead. A quarter keeps
//!   the warning late enough to be news for short requests; the hour keeps it from coming so
//!   early on long ones that it reads like any other reminder.
//!
//! The methods are pure: the caller passes the time and stores the events they raise.

use chrono::{DateTime, Duration, Utc};

use super::{ApprovalRequest, Status};
use crate::ApprovalEvent;

/// What [`ApprovalRequest::remind`] sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// "Still waiting for you": raised `Reminded`.
    Repeat,
    /// "Expires soon", once: raised `ExpiryWarned`.
    ExpiryWarning,
}

/// Why no reminder was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemindError {
    /// Settled requests remind nobody.
    #[error("the request is already {status}")]
    NotPending { status: Status },
    /// Past its deadline the request is for the expiry sweep, not a warning.
    #[error("the request expired at {expires_at}")]
    Overdue { expires_at: DateTime<Utc> },
    /// Nothing is due yet; `next` is when something will be, if ever.
    #[error("no reminder is due yet")]
    NotDue { next: Option<DateTime<Utc>> },
}

impl ApprovalRequest {
    /// The expiry warning comes at most this long before the deadline.
    pub const EXPIRY_WARNING_MAX_LEAD: Duration = Duration::hours(1);
    /// …and at most this fraction (one over it) of the lifetime before it.
    pub const EXPIRY_WARNING_LIFETIME_DIVISOR: i32 = 4;

    /// When the next reminder or the expiry warning falls due, whichever is first; `None`
    /// when nothing will (reminders off, the request settled, or nothing left before its
    /// deadline). The stores index this time to find the requests due.
    pub fn next_reminder_at(&self) -> Option<DateTime<Utc>> {
        if self.status != Status::Pending {
            return None;
        }
        let warning = (!self.expiry_warned)
            .then(|| self.expiry_warning_at())
            .flatten();
        [self.next_repeat_at(), warning].into_iter().flatten().min()
    }

    /// The next time a sweep has work with this request: its next reminder or its expiry,
    /// whichever is first; `None` once it is settled. Over all pending requests, the
    /// earliest of these is what the stores' `next_deadline` answers.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        (self.status == Status::Pending).then(|| {
            self.next_reminder_at()
                .map_or(self.expires_at, |reminder| reminder.min(self.expires_at))
        })
    }

    /// When the expiry warning is (or was) due; `None` without reminders.
    pub fn expiry_warning_at(&self) -> Option<DateTime<Utc>> {
        self.policy.remind_after()?;
        let lifetime = self.expires_at - self.created_at;
        let lead =
            (lifetime / Self::EXPIRY_WARNING_LIFETIME_DIVISOR).min(Self::EXPIRY_WARNING_MAX_LEAD);
        self.expires_at.checked_sub_signed(lead)
    }

    /// Reminds the approvers if a reminder is due at `now`. The warning wins when both are
    /// due, and counts as a reminder: the next one is `remind_after` after it.
    ///
    /// # Errors
    /// `NotPending` once settled, `Overdue` at or past the deadline, `NotDue` before the
    /// next reminder (or always, with reminders off).
    pub fn remind(&mut self, now: DateTime<Utc>) -> Result<Reminder, RemindError> {
        if self.status != Status::Pending {
            return Err(RemindError::NotPending {
                status: self.status,
            });
        }
        if self.is_overdue(now) {
            return Err(RemindError::Overdue {
                expires_at: self.expires_at,
            });
        }
        let warning_due =
            !self.expiry_warned && self.expiry_warning_at().is_some_and(|at| now >= at);
        if warning_due {
            self.expiry_warned = true;
            self.reminded_at = Some(now);
            self.pending_events.push(ApprovalEvent::ExpiryWarned {
                approval_id: self.id,
                expires_at: self.expires_at,
                at: now,
            });
            return Ok(Reminder::ExpiryWarning);
        }
        if self.next_repeat_at().is_some_and(|at| now >= at) {
            self.reminded_at = Some(now);
            self.pending_events.push(ApprovalEvent::Reminded {
                approval_id: self.id,
                at: now,
            });
            return Ok(Reminder::Repeat);
        }
        Err(RemindError::NotDue {
            next: self.next_reminder_at(),
        })
    }

    /// The next "still waiting" reminder, if it comes before the deadline.
    fn next_repeat_at(&self) -> Option<DateTime<Utc>> {
        let every = self.policy.remind_after()?.as_duration();
        self.reminded_at
            .unwrap_or(self.created_at)
            .checked_add_signed(every)
            .filter(|at| *at < self.expires_at)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;

    use super::*;
    use crate::{
        ApprovalId, ChatDestination, Description, Identity, Metadata, NewApproval, Policy,
        RemindAfter, RequiredApprovals, Title, Ttl, Verdict,
    };

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    /// A request opened at `t0`, open for `ttl_minutes`, reminding every `every_minutes`.
    fn request(ttl_minutes: i64, every_minutes: Option<i64>) -> ApprovalRequest {
        let requester = Identity::parse("ci").unwrap();
        let policy = Policy::new(
            RequiredApprovals::default(),
            BTreeSet::new(),
            false,
            &requester,
        )
        .unwrap()
        .with_remind_after(every_minutes.map(|m| RemindAfter::from_seconds(m * 60).unwrap()));
        let mut request = ApprovalRequest::open(
            ApprovalId::from_uuid(uuid::Uuid::nil()),
            NewApproval {
                title: Title::parse("Deploy v7?").unwrap(),
                description: Description::default(),
                requester,
                destination: ChatDestination::parse("C1").unwrap(),
                metadata: Metadata::default(),
                callback_url: None,
                policy,
                ttl: Ttl::from_seconds(ttl_minutes * 60).unwrap(),
            },
            t0(),
        );
        request.take_events();
        request
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        t0() + Duration::minutes(minutes)
    }

    /// `request`, approved by alice at minute 5.
    fn approved_at_5(mut request: ApprovalRequest) -> ApprovalRequest {
        request
            .decide(
                Identity::parse("alice").unwrap(),
                Verdict::Approve,
                None,
                at(5),
            )
            .unwrap();
        request
    }

    #[test]
    fn without_remind_after_nobody_is_ever_reminded() {
        let mut request = request(60, None);
        assert_eq!(request.next_reminder_at(), None);
        assert_eq!(request.expiry_warning_at(), None);
        assert_eq!(
            request.remind(at(59)),
            Err(RemindError::NotDue { next: None })
        );
        assert!(request.take_events().is_empty());
    }

    #[test]
    fn reminders_repeat_every_interval_counted_from_the_last_one() {
        // A day-long request reminding hourly: the warning is an hour before the end.
        let mut request = request(24 * 60, Some(60));
        assert_eq!(request.next_reminder_at(), Some(at(60)));
        assert_eq!(
            request.remind(at(59)),
            Err(RemindError::NotDue { next: Some(at(60)) })
        );
        // A late sweep sends one reminder, and the next counts from it.
        assert_eq!(request.remind(at(150)), Ok(Reminder::Repeat));
        assert_eq!(request.reminded_at(), Some(at(150)));
        assert_eq!(request.next_reminder_at(), Some(at(210)));
        assert_eq!(
            request.remind(at(209)),
            Err(RemindError::NotDue {
                next: Some(at(210))
            })
        );
        assert_eq!(
            request.take_events(),
            [ApprovalEvent::Reminded {
                approval_id: request.id(),
                at: at(150)
            }]
        );
    }

    #[test]
    fn the_warning_comes_a_quarter_of_the_lifetime_or_an_hour_before_expiry() {
        assert_eq!(
            request(24 * 60, Some(60)).expiry_warning_at(),
            Some(at(23 * 60))
        );
        assert_eq!(request(60, Some(60)).expiry_warning_at(), Some(at(45)));
        assert_eq!(
            request(4 * 60, Some(60)).expiry_warning_at(),
            Some(at(3 * 60))
        );
    }

    #[test]
    fn the_warning_goes_out_once_and_counts_as_a_reminder() {
        let mut request = request(60, Some(20));
        assert_eq!(request.remind(at(20)), Ok(Reminder::Repeat));
        assert_eq!(request.remind(at(40)), Ok(Reminder::Repeat));
        assert_eq!(request.next_reminder_at(), Some(at(45)));
        assert_eq!(request.remind(at(45)), Ok(Reminder::ExpiryWarning));
        assert!(request.expiry_warned());
        // The next repeat would be at 65, after the deadline: nothing is left.
        assert_eq!(request.next_reminder_at(), None);
        assert_eq!(
            request.remind(at(59)),
            Err(RemindError::NotDue { next: None })
        );
        let events = request.take_events();
        assert_eq!(
            events.last(),
            Some(&ApprovalEvent::ExpiryWarned {
                approval_id: request.id(),
                expires_at: at(60),
                at: at(45)
            })
        );
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn a_warning_due_together_with_a_reminder_is_sent_alone() {
        let mut request = request(60, Some(15));
        request.remind(at(15)).unwrap();
        request.remind(at(30)).unwrap();
        // At 46 both the repeat (45) and the warning (45) are due: one message, the warning.
        assert_eq!(request.remind(at(46)), Ok(Reminder::ExpiryWarning));
        assert_eq!(
            request.remind(at(46)),
            Err(RemindError::NotDue { next: None })
        );
    }

    #[test]
    fn a_long_interval_still_gets_the_warning() {
        let mut request = request(60, Some(120));
        assert_eq!(request.next_reminder_at(), Some(at(45)));
        assert_eq!(request.remind(at(50)), Ok(Reminder::ExpiryWarning));
        assert_eq!(request.next_reminder_at(), None);
    }

    #[test]
    fn the_next_deadline_is_the_next_reminder_or_the_expiry_until_settled() {
        assert_eq!(request(60, Some(20)).next_deadline(), Some(at(20)));
        assert_eq!(request(60, None).next_deadline(), Some(at(60)));
        let mut warned = request(60, Some(20));
        warned.remind(at(20)).unwrap();
        warned.remind(at(40)).unwrap();
        warned.remind(at(45)).unwrap();
        assert_eq!(
            warned.next_deadline(),
            Some(at(60)),
            "nothing left but the expiry"
        );

        assert_eq!(approved_at_5(request(60, Some(20))).next_deadline(), None);
    }

    #[test]
    fn nobody_is_reminded_after_settlement_or_past_the_deadline() {
        let mut decided = approved_at_5(request(60, Some(10)));
        assert_eq!(decided.next_reminder_at(), None);
        assert_eq!(
            decided.remind(at(30)),
            Err(RemindError::NotPending {
                status: Status::Approved
            })
        );

        let mut overdue = request(60, Some(10));
        assert_eq!(
            overdue.remind(at(60)),
            Err(RemindError::Overdue { expires_at: at(60) })
        );
        assert!(overdue.take_events().is_empty());
    }
}
