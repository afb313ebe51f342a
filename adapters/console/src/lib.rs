//! # adapter-console — the chat gateway for a machine without Slack
//!
//! `cargo run` with no chat credentials still has to show people what is waiting for them.
//! [`ConsoleGateway`] implements the `ChatGateway` port by writing each approval message to the
//! log, together with the exact `curl` commands that decide it through the REST API. It is
//! the zero-configuration default and a readable example of the smallest possible adapter.
//!
//! What belongs here: turning an [`ApprovalRequest`] or an [`Alert`] into readable text. What does not: any
//! network call, any state (the message reference is the approval id, so nothing needs
//! remembering), and any decision logic — deciding happens through the REST API like any
//! other client.

use application::ports::{ChatError, ChatGateway, MessageRef};
use async_trait::async_trait;
use domain::{Alert, AlertStatus, ApprovalRequest, Status};

/// The `channel` of every [`MessageRef`] this gateway returns.
pub const CHANNEL: &str = "console";

/// Logs approval messages instead of posting them to a chat platform.
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
    async fn post_approval(&self, approval: &ApprovalRequest) -> Result<MessageRef, ChatError> {
        tracing::info!(
            approval_id = %approval.id(),
            destination = %approval.destination(),
            "{}",
            render(approval, &self.base_url)
        );
        Ok(MessageRef {
            channel: CHANNEL.to_owned(),
            message_id: approval.id().to_string(),
        })
    }

    async fn update_approval(
        &self,
        _message: &MessageRef,
        approval: &ApprovalRequest,
    ) -> Result<(), ChatError> {
        tracing::info!(
            approval_id = %approval.id(),
            status = %approval.status(),
            "{}",
            render_update(approval)
        );
        Ok(())
    }

    async fn post_alert(&self, alert: &Alert) -> Result<MessageRef, ChatError> {
        tracing::info!(
            alert_id = %alert.id(),
            destination = %alert.state().destination,
            "{}",
            render_alert(alert, &self.base_url)
        );
        Ok(MessageRef {
            channel: CHANNEL.to_owned(),
            message_id: alert.id().to_string(),
        })
    }

    async fn update_alert(&self, _message: &MessageRef, alert: &Alert) -> Result<(), ChatError> {
        tracing::info!(
            alert_id = %alert.id(),
            status = alert.status().as_str(),
            "{}",
            render_alert(alert, &self.base_url)
        );
        Ok(())
    }
}

/// The text logged for an alert: what is wrong, how often, and how to act on it while it is
/// unresolved.
pub fn render_alert(alert: &Alert, base_url: &str) -> String {
    let base_url = base_url.trim_end_matches('/');
    let state = alert.state();
    let id = alert.id();
    let mut lines = vec![
        format!(
            "alert {id} [{} {}] {}",
            state.severity.as_str(),
            state.status.as_str(),
            state.summary
        ),
        format!(
            "  raised {} time(s) by {} for {}, last at {}",
            state.count,
            state.raised_by,
            state.destination,
            state.last_raised_at.to_rfc3339()
        ),
    ];
    lines.extend(
        state
            .details
            .as_str()
            .lines()
            .map(|line| format!("  | {line}")),
    );
    if let Some(by) = &state.acknowledged_by {
        lines.push(format!("  acknowledged by {by}"));
    }
    if let Some(by) = &state.resolved_by {
        lines.push(format!("  resolved by {by}"));
    }
    if state.status != AlertStatus::Resolved {
        let auth = r#"-H "Authorization: Bearer $HEXAGATE_API_KEY""#;
        if state.status == AlertStatus::Open {
            lines.push(format!(
                "    acknowledge: curl -X POST {base_url}/v1/alerts/{id}/acknowledge {auth}"
            ));
        }
        lines.push(format!(
            "    resolve:     curl -X POST {base_url}/v1/alerts/{id}/resolve {auth}"
        ));
    }
    lines.join("\n")
}

/// The text logged for a new request: what is asked, by whom, and how to answer it.
///
/// A settled request (the relay can be late) is rendered without the commands, because
/// there is nothing left to decide.
pub fn render(approval: &ApprovalRequest, base_url: &str) -> String {
    let base_url = base_url.trim_end_matches('/');
    let id = approval.id();
    let mut lines = vec![
        format!("approval request {id} [{}]", approval.status()),
        format!("  title:       {}", approval.title()),
        format!(
            "  requested by {} for {}",
            approval.requester(),
            approval.destination()
        ),
        format!(
            "  needs {} approval(s), expires at {}",
            approval.policy().required_approvals().get(),
            approval.expires_at().to_rfc3339()
        ),
    ];
    lines.extend(
        approval
            .description()
            .as_str()
            .lines()
            .map(|line| format!("  | {line}")),
    );
    if approval.status() == Status::Pending {
        let auth = r#"-H "Authorization: Bearer $HEXAGATE_API_KEY""#;
        let decide = format!("curl -X POST {base_url}/v1/approvals/{id}/decisions {auth}");
        let json = "-H 'content-type: application/json'";
        lines.extend([
            "  decide with an API key other than the requester's (four eyes), \
             cancel with the requester's:"
                .to_owned(),
            format!("    approve: {decide} {json} -d '{{\"verdict\":\"approve\"}}'"),
            format!("    reject:  {decide} {json} -d '{{\"verdict\":\"reject\"}}'"),
            format!("    cancel:  curl -X POST {base_url}/v1/approvals/{id}/cancel {auth}"),
            // Also keeps the commands copyable: log formatters append fields to the last line.
            "  (create API keys with: hexagate api-key create --name <name>)".to_owned(),
        ]);
    }
    lines.join("\n")
}

/// The text logged when a request changes: its status and who decided so far.
pub fn render_update(approval: &ApprovalRequest) -> String {
    let mut lines = vec![format!(
        "approval request {} is now {}: {}",
        approval.id(),
        approval.status(),
        approval.title()
    )];
    lines.extend(approval.decisions().iter().map(|decision| {
        let comment = decision
            .comment
            .as_ref()
            .map(|comment| format!(": {comment}"))
            .unwrap_or_default();
        format!(
            "  {} by {} at {}{comment}",
            decision.verdict.as_str(),
            decision.approver,
            decision.decided_at.to_rfc3339()
        )
    }));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{DateTime, Utc};
    use domain::{
        ApprovalId, ChatDestination, Comment, Description, Identity, Metadata, NewApproval, Policy,
        RequiredApprovals, Title, Ttl, Verdict,
    };
    use uuid::Uuid;

    use super::*;

    const ID: &str = "01890a5d-ac96-774b-bcce-b302099a8057";

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    fn identity(name: &str) -> Identity {
        Identity::parse(name).unwrap()
    }

    fn approval(description: &str, required: i64) -> ApprovalRequest {
        let requester = identity("ci-pipeline");
        let policy = Policy::new(
            RequiredApprovals::new(required).unwrap(),
            BTreeSet::new(),
            false,
            &requester,
        )
        .unwrap();
        ApprovalRequest::open(
            ApprovalId::from_uuid(Uuid::parse_str(ID).unwrap()),
            NewApproval {
                title: Title::parse("Deploy model v7 to production?").unwrap(),
                description: Description::parse(description).unwrap(),
                requester,
                destination: ChatDestination::parse("#deploys").unwrap(),
                metadata: Metadata::default(),
                callback_url: None,
                policy,
                ttl: Ttl::default(),
            },
            at("2025-01-02T03:04:05Z"),
        )
    }

    #[test]
    fn pending_request_shows_what_is_asked_and_the_exact_commands() {
        let text = render(&approval("", 1), "http://127.0.0.1:8080");
        let expected = format!(
            "approval request {ID} [pending]\n\
             \x20 title:       Deploy model v7 to production?\n\
             \x20 requested by ci-pipeline for #deploys\n\
             \x20 needs 1 approval(s), expires at 2025-01-03T03:04:05+00:00\n\
             \x20 decide with an API key other than the requester's (four eyes), cancel with the requester's:\n\
             \x20   approve: curl -X POST http://127.0.0.1:8080/v1/approvals/{ID}/decisions -H \"Authorization: Bearer $HEXAGATE_API_KEY\" -H 'content-type: application/json' -d '{{\"verdict\":\"approve\"}}'\n\
             \x20   reject:  curl -X POST http://127.0.0.1:8080/v1/approvals/{ID}/decisions -H \"Authorization: Bearer $HEXAGATE_API_KEY\" -H 'content-type: application/json' -d '{{\"verdict\":\"reject\"}}'\n\
             \x20   cancel:  curl -X POST http://127.0.0.1:8080/v1/approvals/{ID}/cancel -H \"Authorization: Bearer $HEXAGATE_API_KEY\"\n\
             \x20 (create API keys with: hexagate api-key create --name <name>)"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn trailing_slash_of_the_base_url_does_not_double() {
        let text = render(&approval("", 1), "https://gate.example.com/");
        assert!(text.contains(&format!(
            "curl -X POST https://gate.example.com/v1/approvals/{ID}/decisions"
        )));
        assert!(!text.contains(".com//v1"));
    }

    #[test]
    fn description_lines_are_indented_under_the_request() {
        let text = render(&approval("line one\nline two", 2), "http://h");
        assert!(text.contains("needs 2 approval(s)"));
        assert!(text.contains("\n  | line one\n  | line two\n  decide with"));
    }

    #[test]
    fn settled_request_has_no_commands() {
        let mut request = approval("", 1);
        request
            .decide(
                identity("alice"),
                Verdict::Reject,
                None,
                at("2025-01-02T04:00:00Z"),
            )
            .unwrap();
        let text = render(&request, "http://h");
        assert!(text.contains("[rejected]"));
        assert!(!text.contains("curl"));
    }

    #[test]
    fn update_names_the_new_status_and_every_decision() {
        let mut request = approval("", 2);
        request
            .decide(
                identity("alice"),
                Verdict::Approve,
                Some(Comment::parse("looks good").unwrap()),
                at("2025-01-02T04:00:00Z"),
            )
            .unwrap();
        request
            .decide(
                identity("bob"),
                Verdict::Approve,
                None,
                at("2025-01-02T04:05:00Z"),
            )
            .unwrap();
        assert_eq!(
            render_update(&request),
            format!(
                "approval request {ID} is now approved: Deploy model v7 to production?\n\
                 \x20 approve by alice at 2025-01-02T04:00:00+00:00: looks good\n\
                 \x20 approve by bob at 2025-01-02T04:05:00+00:00"
            )
        );
    }

    #[tokio::test]
    async fn post_returns_a_console_reference_named_by_the_approval_id() {
        let gateway = ConsoleGateway::new("http://127.0.0.1:8080");
        let request = approval("", 1);
        let posted = gateway.post_approval(&request).await.unwrap();
        assert_eq!(
            posted,
            MessageRef {
                channel: "console".into(),
                message_id: ID.into(),
            }
        );
        assert_eq!(gateway.update_approval(&posted, &request).await, Ok(()));
    }

    #[test]
    fn an_open_alert_shows_how_to_acknowledge_and_resolve_it() {
        use domain::{AlertId, ChatDestination, DedupKey, Description, NewAlert, Severity, Title};

        let at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut alert = Alert::raise(
            AlertId::from_uuid(uuid::Uuid::nil()),
            NewAlert {
                severity: Severity::Critical,
                summary: Title::parse("db-1 disk 97%").unwrap(),
                details: Description::parse("grows 1%/h").unwrap(),
                destination: ChatDestination::parse("C1").unwrap(),
                dedup_key: DedupKey::parse("disk:db-1").unwrap(),
                raised_by: domain::Identity::parse("monitor").unwrap(),
            },
            at,
        );
        let text = render_alert(&alert, "http://127.0.0.1:8080/");
        assert!(text.contains("[critical open] db-1 disk 97%"), "{text}");
        assert!(text.contains(
            "acknowledge: curl -X POST http://127.0.0.1:8080/v1/alerts/00000000-0000-0000-0000-000000000000/acknowledge"
        ));
        assert!(text.contains("  | grows 1%/h"));

        alert.resolve(domain::Identity::parse("slack:U1").unwrap(), at);
        let text = render_alert(&alert, "http://127.0.0.1:8080");
        assert!(text.contains("resolved by slack:U1"), "{text}");
        assert!(
            !text.contains("curl"),
            "nothing to do once resolved: {text}"
        );
    }
}
