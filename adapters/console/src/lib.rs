//! # adapter-console — the chat gateway for a machine without Slack
//!
//! `cargo run` with no chat credentials still has to show people what is waiting for them.
//! [`ConsoleGateway`] implements the `ChatGateway` port by writing each message to the log as
//! plain text, with the exact `curl` command for each of its actions, so they can be taken
//! through the REST API. It is the zero-configuration default and a readable example of the
//! smallest possible chat adapter: one renderer of the neutral message model.
//!
//! What belongs here: turning a [`ChatMessage`] into readable text. What does not: any
//! network call, any state (the message reference is the subject's id, so nothing needs
//! remembering), and anything about what a message is about — every subject renders alike.

use application::chat::{Action, ChatMessage, ChatReply};
use application::ports::{ChatError, ChatGateway, MessageRef};
use async_trait::async_trait;

/// The `channel` of every [`MessageRef`] this gateway returns.
pub const CHANNEL: &str = "console";

/// Logs messages instead of posting them to a chat platform.
#[derive(Debug, Clone)]
pub struct ConsoleGateway {
    base_url: String,
}

impl ConsoleGateway {
    /// `public_url` is where people reach the REST API, e.g. `http://127.0.0.1:8080`; the
    /// logged `curl` commands start with it.
    pub fn new(public_url: &str) -> Self {
        Self {
            base_url: public_url.trim_end_matches('/').to_owned(),
        }
    }
}

#[async_trait]
impl ChatGateway for ConsoleGateway {
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError> {
        tracing::info!(
            subject = %message.subject,
            destination = %message.destination,
            "{}",
            render(message, &self.base_url)
        );
        Ok(MessageRef {
            channel: CHANNEL.to_owned(),
            message_id: message.subject.id.to_string(),
        })
    }

    async fn update(&self, _at: &MessageRef, message: &ChatMessage) -> Result<(), ChatError> {
        tracing::info!(
            subject = %message.subject,
            status = message.status,
            "{}",
            render(message, &self.base_url)
        );
        Ok(())
    }

    async fn reply(&self, to: &MessageRef, reply: &ChatReply) -> Result<(), ChatError> {
        tracing::info!(subject = %reply.subject, "{}", render_reply(reply, to));
        Ok(())
    }
}

/// The text logged for a reply: which message it answers, then the reply itself.
pub fn render_reply(reply: &ChatReply, to: &MessageRef) -> String {
    let subject = reply.subject;
    format!(
        "{} {} (reply to {}) {}",
        subject.kind, subject.id, to.message_id, reply.text
    )
}

/// The text logged for a message: what it is about and its state, the body, the facts, what
/// happened so far, and how to take each action that is left.
pub fn render(message: &ChatMessage, base_url: &str) -> String {
    let base_url = base_url.trim_end_matches('/');
    let subject = message.subject;
    let mut lines = vec![format!(
        "{} {} [{}] {}",
        subject.kind, subject.id, message.status, message.headline
    )];
    lines.extend(message.body.lines().map(|line| format!("  | {line}")));
    lines.extend(
        message
            .facts
            .iter()
            .map(|fact| format!("  {}: {}", fact.label, fact.value)),
    );
    lines.extend(message.outcome.iter().map(|line| format!("  {line}")));
    let commands: Vec<_> = message
        .actions
        .iter()
        .filter_map(|action| command(action, base_url))
        .collect();
    if !commands.is_empty() {
        lines.extend(commands);
        // Also keeps the commands copyable: log formatters append fields to the last line.
        lines.push(
            concat!(
                "  (create API keys with: ",
                env!("SERVICE_NAME"),
                " api-key create --name <name>)"
            )
            .to_owned(),
        );
    }
    lines.join("\n")
}

/// `    approve: curl -X POST …`, for an action the REST API can take too.
fn command(action: &Action, base_url: &str) -> Option<String> {
    let rest = action.rest.as_ref()?;
    let auth = concat!(
        r#"-H "Authorization: Bearer $"#,
        env!("SERVICE_ENV_PREFIX"),
        r#"_API_KEY""#
    );
    let mut line = format!(
        "    {}: curl -X POST {base_url}{} {auth}",
        action.id, rest.path
    );
    if let Some(body) = &rest.body {
        line.push_str(&format!(" -H 'content-type: application/json' -d '{body}'"));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use application::chat::{
        Action, ActionStyle, Emoji, Fact, RestCall, RichText, SubjectRef, Tone,
    };
    use chrono::{TimeZone, Utc};
    use domain::{ChatDestination, Identity};
    use uuid::Uuid;

    use super::*;

    const ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

    fn action(id: &'static str, body: Option<&str>) -> Action {
        Action {
            id,
            label: id.to_uppercase(),
            style: Some(ActionStyle::Primary),
            confirm: None,
            rest: Some(RestCall {
                path: format!("/v1/widgets/{ID}/{id}"),
                body: body.map(str::to_owned),
            }),
        }
    }

    fn message(body: &str, actions: Vec<Action>) -> ChatMessage {
        ChatMessage {
            subject: SubjectRef {
                kind: "widget",
                id: Uuid::parse_str(ID).unwrap(),
                version: 1,
            },
            destination: ChatDestination::parse("#ops").unwrap(),
            tone: Tone::Neutral,
            status: "pending".into(),
            notification: "Widget waiting: Turn it?".into(),
            headline: RichText::new().strong("Turn it?"),
            body: body.into(),
            facts: vec![Fact {
                label: "Asked by".into(),
                value: RichText::new()
                    .person(&Identity::parse("slack:U1").unwrap())
                    .text(" at ")
                    .time(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()),
            }],
            outcome: vec![],
            actions,
        }
    }

    #[test]
    fn a_message_shows_what_is_asked_and_the_exact_commands() {
        let text = render(
            &message(
                "",
                vec![
                    action("turn", Some(r#"{"how":"left"}"#)),
                    action("drop", None),
                ],
            ),
            "http://127.0.0.1:8080",
        );
        let expected = format!(
            "widget {ID} [pending] Turn it?\n\
             \x20 Asked by: slack:U1 at 2025-01-02T03:04:05+00:00\n\
             \x20   turn: curl -X POST http://127.0.0.1:8080/v1/widgets/{ID}/turn -H \"Authorization: Bearer ${P}_API_KEY\" -H 'content-type: application/json' -d '{{\"how\":\"left\"}}'\n\
             \x20   drop: curl -X POST http://127.0.0.1:8080/v1/widgets/{ID}/drop -H \"Authorization: Bearer ${P}_API_KEY\"\n\
             \x20 (create API keys with: {N} api-key create --name <name>)",
            P = env!("SERVICE_ENV_PREFIX"),
            N = env!("SERVICE_NAME"),
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn trailing_slash_of_the_base_url_does_not_double() {
        let text = render(
            &message("", vec![action("turn", None)]),
            "https://gate.example.com/",
        );
        assert!(text.contains(&format!(
            "curl -X POST https://gate.example.com/v1/widgets/{ID}/turn"
        )));
        assert!(!text.contains(".com//v1"));
    }

    #[test]
    fn body_lines_are_indented_and_the_outcome_follows_the_facts() {
        let mut settled = message("line one\nline two", vec![]);
        settled.outcome = vec![RichText::new().emoji(Emoji::CheckMark).text(" Turned")];
        let text = render(&settled, "http://h");
        assert!(
            text.contains("\n  | line one\n  | line two\n  Asked by:"),
            "{text}"
        );
        assert!(text.ends_with("\n  ✅ Turned"), "{text}");
        assert!(!text.contains("curl"), "nothing left to do: {text}");
    }

    #[tokio::test]
    async fn post_returns_a_console_reference_named_by_the_subject_id() {
        let gateway = ConsoleGateway::new("http://127.0.0.1:8080");
        let message = message("", vec![]);
        let posted = gateway.post(&message).await.unwrap();
        assert_eq!(
            posted,
            MessageRef {
                channel: "console".into(),
                message_id: ID.into(),
            }
        );
        assert_eq!(gateway.update(&posted, &message).await, Ok(()));
    }

    #[tokio::test]
    async fn a_reply_names_the_message_it_answers_and_the_people_it_is_for() {
        let reply = ChatReply {
            subject: message("", vec![]).subject,
            tone: Tone::Warning,
            text: RichText::new()
                .emoji(Emoji::Hourglass)
                .text(" Reminder: still waiting. ")
                .person(&Identity::parse("slack:U1").unwrap())
                .text(", please decide."),
        };
        let to = MessageRef {
            channel: CHANNEL.into(),
            message_id: ID.into(),
        };
        assert_eq!(
            render_reply(&reply, &to),
            format!(
                "widget {ID} (reply to {ID}) ⌛ Reminder: still waiting. slack:U1, please decide."
            )
        );
        let gateway = ConsoleGateway::new("http://127.0.0.1:8080");
        assert_eq!(gateway.reply(&to, &reply).await, Ok(()));
    }
}
