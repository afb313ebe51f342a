//! `POST /slack/commands`: a slash command, e.g. `/hexagate approve <id> looks good` or
//! `/hexagate ack <alert id>`.
//!
//! Slack sends everything after the command name as free text, so it is parsed strictly into
//! one of six subcommands (`approve`, `reject`, `ack`, `resolve`, `status`, `help`); the
//! command's own name is whatever the Slack app was configured with. Every answer is an
//! ephemeral message to the person who typed it. Like button clicks, decisions go through the
//! `Decide` use case and alert actions through `SettleAlert`, and the message in the channel
//! is updated later by the relay, never while Slack waits.

use application::use_cases::{AlertAction, DecideInput, Decided, GetAlertError, GetApprovalError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{
    Alert, AlertId, ApprovalId, ApprovalRequest, DecideOutcome, Identity, Status,
    TransitionOutcome, Verdict,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::blocks::{acknowledged_line, alert_headline, resolved_line};
use crate::identity::from_slack_user;
use crate::inbound::{SignedBody, SlackState};
use crate::reply::{
    Ephemeral, alert_past_tense, already_settled, past_tense, refused, settle_refused, try_again,
};
use crate::text::{date, escape, escape_truncated, person, truncate};

const DEFAULT_COMMAND: &str = "/hexagate";
/// Keeps a status reply with many decisions within one message.
const COMMENT_MAX_CHARS_IN_STATUS: usize = 200;
/// How much of a mistyped word is repeated back.
const ECHO_MAX_CHARS: usize = 40;

/// The fields of a slash command this route reads.
#[derive(Deserialize)]
struct Form {
    #[serde(default)]
    command: String,
    #[serde(default)]
    text: String,
    user_id: String,
    api_app_id: Option<String>,
}

/// What the text after the command asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Approve {
        id: ApprovalId,
        comment: Option<String>,
    },
    Reject {
        id: ApprovalId,
        reason: String,
    },
    Ack {
        id: AlertId,
    },
    Resolve {
        id: AlertId,
    },
    /// Of an approval request or an alert: both have UUIDs, so the id alone does not say.
    Status {
        id: Uuid,
    },
    Help,
}

/// What the id after a subcommand names; for usage errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Request,
    Alert,
    RequestOrAlert,
}

impl Target {
    fn noun(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Alert => "alert",
            Self::RequestOrAlert => "request or alert",
        }
    }

    fn with_article(self) -> &'static str {
        match self {
            Self::Request => "a request",
            Self::Alert => "an alert",
            Self::RequestOrAlert => "a request or alert",
        }
    }
}

/// Why the text is not a command; shown to the user above the help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum UsageError {
    #[error("“{0}” is not something I can do.")]
    UnknownSubcommand(String),
    #[error("Which {}? Give its id.", .0.noun())]
    MissingId(Target),
    #[error("“{raw}” is not {} id.", target.with_article())]
    InvalidId { raw: String, target: Target },
    #[error("A rejection needs a reason.")]
    MissingReason,
    #[error("`{subcommand}` takes only {} id.", target.with_article())]
    UnexpectedText {
        subcommand: &'static str,
        target: Target,
    },
}

pub(crate) async fn receive(
    State(state): State<SlackState>,
    SignedBody(body): SignedBody,
) -> Response {
    let form: Form = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(reason) => {
            tracing::warn!(%reason, "refused a Slack command: unreadable form");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    if let Err(refusal) = state.check_app(form.api_app_id.as_deref()) {
        return refusal.into_response();
    }
    let Some(user) = from_slack_user(&form.user_id) else {
        tracing::warn!("refused a Slack command without a valid user id");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let name = if form.command.is_empty() {
        DEFAULT_COMMAND
    } else {
        form.command.as_str()
    };
    let text = match parse(&form.text) {
        Ok(Command::Help) => help(name),
        Ok(Command::Ack { id }) => settle(&state, user, id, AlertAction::Acknowledge).await,
        Ok(Command::Resolve { id }) => settle(&state, user, id, AlertAction::Resolve).await,
        Ok(Command::Status { id }) => status(&state, id).await,
        Ok(Command::Approve { id, comment }) => {
            decide(&state, user, id, Verdict::Approve, comment).await
        }
        Ok(Command::Reject { id, reason }) => {
            decide(&state, user, id, Verdict::Reject, Some(reason)).await
        }
        Err(usage) => format!("{}\n\n{}", escape(&usage.to_string()), help(name)),
    };
    Ephemeral::to_command(text).into_response()
}

fn parse(text: &str) -> Result<Command, UsageError> {
    let (subcommand, rest) = first_word(text);
    match subcommand.to_ascii_lowercase().as_str() {
        "" | "help" => Ok(Command::Help),
        "approve" => {
            let (id, comment) = first_word(rest);
            Ok(Command::Approve {
                id: ApprovalId::from_uuid(parse_id(id, Target::Request)?),
                comment: Some(comment.to_owned()).filter(|c| !c.is_empty()),
            })
        }
        "reject" => {
            let (id, reason) = first_word(rest);
            let id = ApprovalId::from_uuid(parse_id(id, Target::Request)?);
            if reason.is_empty() {
                return Err(UsageError::MissingReason);
            }
            Ok(Command::Reject {
                id,
                reason: reason.to_owned(),
            })
        }
        "ack" => Ok(Command::Ack {
            id: AlertId::from_uuid(only_id(rest, "ack", Target::Alert)?),
        }),
        "resolve" => Ok(Command::Resolve {
            id: AlertId::from_uuid(only_id(rest, "resolve", Target::Alert)?),
        }),
        "status" => Ok(Command::Status {
            id: only_id(rest, "status", Target::RequestOrAlert)?,
        }),
        _ => Err(UsageError::UnknownSubcommand(truncate(
            subcommand,
            ECHO_MAX_CHARS,
        ))),
    }
}

/// Splits off the first whitespace-separated word; the rest keeps its inner spacing.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// The id that is all of `rest`, the text after `subcommand`.
fn only_id(rest: &str, subcommand: &'static str, target: Target) -> Result<Uuid, UsageError> {
    let (id, extra) = first_word(rest);
    let id = parse_id(id, target)?;
    if !extra.is_empty() {
        return Err(UsageError::UnexpectedText { subcommand, target });
    }
    Ok(id)
}

fn parse_id(raw: &str, target: Target) -> Result<Uuid, UsageError> {
    if raw.is_empty() {
        return Err(UsageError::MissingId(target));
    }
    Uuid::parse_str(raw).map_err(|_| UsageError::InvalidId {
        raw: truncate(raw, ECHO_MAX_CHARS),
        target,
    })
}

async fn decide(
    state: &SlackState,
    approver: Identity,
    approval_id: ApprovalId,
    verdict: Verdict,
    comment: Option<String>,
) -> String {
    let input = DecideInput {
        approval_id,
        approver,
        verdict,
        comment,
    };
    match state.use_cases().decide.execute(input, None).await {
        Ok(decided) => decided_text(verdict, &decided),
        Err(error) => refused(&error),
    }
}

fn decided_text(verdict: Verdict, decided: &Decided) -> String {
    let approval = &decided.approval;
    let title = escape(approval.title().as_str());
    let done = past_tense(verdict);
    match decided.outcome {
        DecideOutcome::Unchanged => format!("You already {done} *{title}*."),
        DecideOutcome::Recorded {
            status: Status::Pending,
        } => format!(
            "You {done} *{title}*. Approvals so far: {} of {}.",
            approval.approvals(),
            approval.policy().required_approvals().get()
        ),
        DecideOutcome::Recorded { status } => {
            format!("You {done} *{title}*. It is now {status}.")
        }
    }
}

/// Acknowledges or resolves the alert as `user`, and says how that went.
async fn settle(state: &SlackState, user: Identity, id: AlertId, action: AlertAction) -> String {
    match state
        .use_cases()
        .settle_alert
        .execute(id, action, user.clone(), None)
        .await
    {
        Ok((alert, TransitionOutcome::Changed)) => format!(
            "You {} *{}*.",
            alert_past_tense(action),
            escape(alert.state().summary.as_str())
        ),
        Ok((alert, TransitionOutcome::Unchanged)) => already_settled(action, &alert, &user),
        Err(error) => settle_refused(&error),
    }
}

/// Looks the id up as an approval request, then as an alert.
async fn status(state: &SlackState, id: Uuid) -> String {
    let use_cases = state.use_cases();
    match use_cases
        .get_approval
        .execute(ApprovalId::from_uuid(id))
        .await
    {
        Ok(approval) => return status_text(&approval),
        Err(GetApprovalError::NotFound) => {}
        Err(error @ GetApprovalError::Store(_)) => return try_again(&error),
    }
    match use_cases.get_alert.execute(AlertId::from_uuid(id)).await {
        Ok(alert) => alert_status_text(&alert),
        Err(GetAlertError::NotFound) => {
            format!("No approval request or alert has the id `{id}`.")
        }
        Err(error @ GetAlertError::Store(_)) => try_again(&error),
    }
}

fn status_text(approval: &ApprovalRequest) -> String {
    let when = match approval.resolved_at() {
        Some(resolved_at) => format!("closed {}", date(resolved_at)),
        None => format!("expires {}", date(approval.expires_at())),
    };
    let mut lines = vec![
        format!("*{}*", escape(approval.title().as_str())),
        format!(
            "Status: *{}* · approvals: {} of {} · {when}",
            approval.status(),
            approval.approvals(),
            approval.policy().required_approvals().get()
        ),
        format!(
            "Requested by {} · id `{}`",
            person(approval.requester()),
            approval.id()
        ),
    ];
    for decision in approval.decisions() {
        let mut line = format!(
            "• {} {}",
            person(&decision.approver),
            past_tense(decision.verdict)
        );
        if let Some(comment) = &decision.comment {
            line.push_str(&format!(
                ": “{}”",
                escape_truncated(comment.as_str(), COMMENT_MAX_CHARS_IN_STATUS)
            ));
        }
        lines.push(line);
    }
    lines.join("\n")
}

fn alert_status_text(alert: &Alert) -> String {
    let state = alert.state();
    let raised = match state.count {
        1 => "once".to_owned(),
        count => format!("{count} times"),
    };
    let mut lines = vec![
        alert_headline(state),
        format!(
            "Status: *{}* · raised {raised}, last {}",
            state.status.as_str(),
            date(state.last_raised_at)
        ),
        format!(
            "Raised by {} · key `{}` · id `{}`",
            person(&state.raised_by),
            escape(state.dedup_key.as_str()),
            alert.id()
        ),
    ];
    lines.extend(acknowledged_line(state));
    lines.extend(resolved_line(state));
    lines.join("\n")
}

fn help(command: &str) -> String {
    let command = escape(command);
    [
        "Decide approval requests and handle alerts from Slack:".to_owned(),
        format!("• `{command} approve &lt;id&gt; [comment]` approves a request"),
        format!("• `{command} reject &lt;id&gt; &lt;reason&gt;` rejects it; a reason is required"),
        format!("• `{command} ack &lt;alert id&gt;` acknowledges an alert: you are on it"),
        format!("• `{command} resolve &lt;alert id&gt;` resolves it"),
        format!("• `{command} status &lt;id&gt;` shows where a request or an alert stands"),
        format!("• `{command} help` shows this message"),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01900000-0000-7000-8000-000000000001";

    fn uuid() -> Uuid {
        Uuid::parse_str(ID).unwrap()
    }

    fn id() -> ApprovalId {
        ApprovalId::from_uuid(uuid())
    }

    #[test]
    fn approve_takes_an_id_and_an_optional_comment() {
        assert_eq!(
            parse(&format!("approve {ID}")),
            Ok(Command::Approve {
                id: id(),
                comment: None
            })
        );
        assert_eq!(
            parse(&format!("  APPROVE   {ID}   ship it,  really  ")),
            Ok(Command::Approve {
                id: id(),
                comment: Some("ship it,  really".into())
            })
        );
    }

    #[test]
    fn reject_requires_a_reason() {
        assert_eq!(
            parse(&format!("reject {ID} tests are red")),
            Ok(Command::Reject {
                id: id(),
                reason: "tests are red".into()
            })
        );
        assert_eq!(
            parse(&format!("reject {ID}")),
            Err(UsageError::MissingReason)
        );
        assert_eq!(
            parse(&format!("reject {ID}   ")),
            Err(UsageError::MissingReason)
        );
    }

    #[test]
    fn ack_resolve_and_status_take_exactly_an_id() {
        let alert = AlertId::from_uuid(uuid());
        assert_eq!(parse(&format!("ack {ID}")), Ok(Command::Ack { id: alert }));
        assert_eq!(
            parse(&format!(" Resolve  {ID} ")),
            Ok(Command::Resolve { id: alert })
        );
        assert_eq!(
            parse(&format!("status {ID}")),
            Ok(Command::Status { id: uuid() })
        );
        for (subcommand, target) in [
            ("ack", Target::Alert),
            ("resolve", Target::Alert),
            ("status", Target::RequestOrAlert),
        ] {
            assert_eq!(
                parse(&format!("{subcommand} {ID} please")),
                Err(UsageError::UnexpectedText { subcommand, target })
            );
        }
    }

    #[test]
    fn empty_text_and_help_ask_for_help() {
        assert_eq!(parse(""), Ok(Command::Help));
        assert_eq!(parse("   "), Ok(Command::Help));
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse("help me"), Ok(Command::Help));
    }

    #[test]
    fn bad_ids_and_unknown_subcommands_are_usage_errors() {
        assert_eq!(
            parse("approve"),
            Err(UsageError::MissingId(Target::Request))
        );
        assert_eq!(parse("ack"), Err(UsageError::MissingId(Target::Alert)));
        assert_eq!(
            parse("status 42"),
            Err(UsageError::InvalidId {
                raw: "42".into(),
                target: Target::RequestOrAlert
            })
        );
        assert_eq!(
            parse("deploy now"),
            Err(UsageError::UnknownSubcommand("deploy".into()))
        );
    }

    #[test]
    fn a_long_mistyped_word_is_repeated_back_only_in_part() {
        let long = "x".repeat(1000);
        assert_eq!(
            parse(&long),
            Err(UsageError::UnknownSubcommand(format!(
                "{}…",
                "x".repeat(39)
            )))
        );
    }

    #[test]
    fn usage_errors_name_what_the_id_is_of() {
        let cases = [
            (
                UsageError::MissingId(Target::Alert),
                "Which alert? Give its id.",
            ),
            (
                UsageError::InvalidId {
                    raw: "42".into(),
                    target: Target::Request,
                },
                "“42” is not a request id.",
            ),
            (
                UsageError::UnexpectedText {
                    subcommand: "status",
                    target: Target::RequestOrAlert,
                },
                "`status` takes only a request or alert id.",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn help_uses_the_command_name_and_escapes_the_placeholders() {
        let text = help("/gate");
        assert!(
            text.contains("`/gate approve &lt;id&gt; [comment]`"),
            "{text}"
        );
        assert!(!text.contains('<'), "{text}");
    }
}
