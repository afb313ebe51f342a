//! `POST /slack/commands`: a slash command, e.g. `/hexagate approve <id> looks good`.
//!
//! Slack sends everything after the command name as free text, so it is parsed strictly into
//! one of four subcommands (`approve`, `reject`, `status`, `help`); the command's own name is
//! whatever the Slack app was configured with. Every answer is an ephemeral message to the
//! person who typed it. Like button clicks, decisions go through the `Decide` use case and the
//! approval message is updated later by the relay, never while Slack waits.

use application::use_cases::{DecideInput, Decided, GetApprovalError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{ApprovalId, ApprovalRequest, DecideOutcome, Identity, Status, Verdict};
use serde::Deserialize;

use crate::identity::from_slack_user;
use crate::inbound::{SignedBody, SlackState};
use crate::reply::{Ephemeral, past_tense, refused, try_again};
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
    Status {
        id: ApprovalId,
    },
    Help,
}

/// Why the text is not a command; shown to the user above the help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum UsageError {
    #[error("“{0}” is not something I can do.")]
    UnknownSubcommand(String),
    #[error("Which request? Give its id.")]
    MissingId,
    #[error("“{0}” is not a request id.")]
    InvalidId(String),
    #[error("A rejection needs a reason.")]
    MissingReason,
    #[error("`status` takes only a request id.")]
    UnexpectedText,
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
                id: approval_id(id)?,
                comment: Some(comment.to_owned()).filter(|c| !c.is_empty()),
            })
        }
        "reject" => {
            let (id, reason) = first_word(rest);
            let id = approval_id(id)?;
            if reason.is_empty() {
                return Err(UsageError::MissingReason);
            }
            Ok(Command::Reject {
                id,
                reason: reason.to_owned(),
            })
        }
        "status" => {
            let (id, extra) = first_word(rest);
            let id = approval_id(id)?;
            if !extra.is_empty() {
                return Err(UsageError::UnexpectedText);
            }
            Ok(Command::Status { id })
        }
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

fn approval_id(raw: &str) -> Result<ApprovalId, UsageError> {
    if raw.is_empty() {
        return Err(UsageError::MissingId);
    }
    uuid::Uuid::parse_str(raw)
        .map(ApprovalId::from_uuid)
        .map_err(|_| UsageError::InvalidId(truncate(raw, ECHO_MAX_CHARS)))
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
    match state.use_cases().decide.execute(input).await {
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

async fn status(state: &SlackState, id: ApprovalId) -> String {
    match state.use_cases().get_approval.execute(id).await {
        Ok(approval) => status_text(&approval),
        Err(GetApprovalError::NotFound) => format!("No approval request has the id `{id}`."),
        Err(error @ GetApprovalError::Store(_)) => try_again(&error),
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

fn help(command: &str) -> String {
    let command = escape(command);
    [
        "Decide approval requests from Slack:".to_owned(),
        format!("• `{command} approve &lt;id&gt; [comment]` approves a request"),
        format!("• `{command} reject &lt;id&gt; &lt;reason&gt;` rejects it; a reason is required"),
        format!("• `{command} status &lt;id&gt;` shows where it stands"),
        format!("• `{command} help` shows this message"),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01900000-0000-7000-8000-000000000001";

    fn id() -> ApprovalId {
        ApprovalId::from_uuid(uuid::Uuid::parse_str(ID).unwrap())
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
    fn status_takes_exactly_an_id() {
        assert_eq!(
            parse(&format!("status {ID}")),
            Ok(Command::Status { id: id() })
        );
        assert_eq!(
            parse(&format!("status {ID} please")),
            Err(UsageError::UnexpectedText)
        );
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
        assert_eq!(parse("approve"), Err(UsageError::MissingId));
        assert_eq!(parse("status 42"), Err(UsageError::InvalidId("42".into())));
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
    fn help_uses_the_command_name_and_escapes_the_placeholders() {
        let text = help("/gate");
        assert!(
            text.contains("`/gate approve &lt;id&gt; [comment]`"),
            "{text}"
        );
        assert!(!text.contains('<'), "{text}");
    }
}
