//! How an alert reads in chat: its message, and its `status` text.
//!
//! An open alert gets Acknowledge and Resolve actions; an acknowledged one says who is on it
//! and keeps only Resolve; a resolved one says who resolved it and has no actions.

use chrono::{DateTime, Utc};
use domain::{Alert, AlertState, AlertStatus, Identity, Severity};

use super::{ACKNOWLEDGE, RESOLVE, VOCABULARY};
use crate::chat::{
    Action, ActionStyle, ChatMessage, Confirmation, Emoji, Fact, RestCall, RichText, SubjectRef,
    Tone,
};

/// The alert as it is now.
pub fn alert_message(alert: &Alert) -> ChatMessage {
    let state = alert.state();
    let (_, severity) = marker_and_label(state.severity);
    let lower = state.severity.as_str();
    let (label, tone) = match state.status {
        AlertStatus::Open => (format!("{severity} alert"), tone(state.severity)),
        AlertStatus::Acknowledged => (format!("Acknowledged {lower} alert"), tone(state.severity)),
        AlertStatus::Resolved => (format!("Resolved {lower} alert"), Tone::Success),
    };
    ChatMessage {
        subject: SubjectRef {
            kind: VOCABULARY.kind,
            id: alert.id().as_uuid(),
            version: alert.version(),
        },
        destination: state.destination.clone(),
        tone,
        status: format!("{lower}, {}", state.status.as_str()),
        notification: RichText::new()
            .text(format!("{label}: "))
            .text(state.summary.as_str()),
        headline: headline(state),
        body: state.details.as_str().to_owned(),
        facts: facts(state),
        outcome: history(state),
        actions: actions(alert),
    }
}

/// The marker, the severity in words (colour alone does not reach everyone) and the summary,
/// e.g. `🔴 Critical · *db-1 disk 97%*`.
fn headline(state: &AlertState) -> RichText {
    let (marker, label) = marker_and_label(state.severity);
    RichText::new()
        .emoji(marker)
        .text(format!(" {label} · "))
        .strong(state.summary.as_str())
}

fn marker_and_label(severity: Severity) -> (Emoji, &'static str) {
    match severity {
        Severity::Critical => (Emoji::RedCircle, "Critical"),
        Severity::Warning => (Emoji::OrangeCircle, "Warning"),
        Severity::Info => (Emoji::BlueCircle, "Info"),
    }
}

fn tone(severity: Severity) -> Tone {
    match severity {
        Severity::Critical => Tone::Danger,
        Severity::Warning => Tone::Warning,
        Severity::Info => Tone::Info,
    }
}

/// Who raised it and when, how often in all and when last (once it repeated), and its dedup
/// key: the name to search the monitoring for.
fn facts(state: &AlertState) -> Vec<Fact> {
    let mut facts = vec![Fact {
        label: "Raised by".to_owned(),
        value: RichText::new()
            .person(&state.raised_by)
            .text(" · ")
            .time(state.created_at),
    }];
    if state.count > 1 {
        facts.push(Fact {
            label: "Raised".to_owned(),
            value: RichText::new()
                .text(format!("{} times, last ", state.count))
                .time(state.last_raised_at),
        });
    }
    facts.push(Fact {
        label: "Key".to_owned(),
        value: RichText::new().code(state.dedup_key.as_str()),
    });
    facts
}

/// "Acknowledged by …" and "Resolved by …", once someone has.
fn history(state: &AlertState) -> Vec<RichText> {
    let acknowledged = state
        .acknowledged_by
        .as_ref()
        .map(|by| line(Emoji::Eyes, "Acknowledged", by, state.acknowledged_at));
    let resolved = state
        .resolved_by
        .as_ref()
        .map(|by| line(Emoji::CheckMark, "Resolved", by, state.resolved_at));
    acknowledged.into_iter().chain(resolved).collect()
}

fn line(emoji: Emoji, what: &str, by: &Identity, at: Option<DateTime<Utc>>) -> RichText {
    let line = RichText::new()
        .emoji(emoji)
        .text(" ")
        .strong(what)
        .text(" by ")
        .person(by);
    match at {
        Some(at) => line.text(" · ").time(at),
        None => line,
    }
}

/// Acknowledge while nobody has, Resolve until someone has.
fn actions(alert: &Alert) -> Vec<Action> {
    let state = alert.state();
    if state.status == AlertStatus::Resolved {
        return Vec::new();
    }
    let rest = |action: &str| {
        Some(RestCall {
            path: format!("/v1/alerts/{}/{action}", alert.id()),
            body: None,
        })
    };
    let mut actions = Vec::with_capacity(2);
    if state.status == AlertStatus::Open {
        actions.push(Action {
            id: ACKNOWLEDGE,
            label: "Acknowledge".to_owned(),
            style: None,
            confirm: None,
            rest: rest("acknowledge"),
        });
    }
    actions.push(Action {
        id: RESOLVE,
        label: "Resolve".to_owned(),
        style: Some(ActionStyle::Primary),
        // Resolving cannot be undone, and a misclick would hide a problem that is still there.
        confirm: Some(Confirmation {
            title: RichText::new()
                .text("Resolve “")
                .text(state.summary.as_str())
                .text("”?"),
            text: "Resolving closes the alert for good. If the problem comes back, it is raised \
                   as a new alert."
                .to_owned(),
            confirm: "Resolve".to_owned(),
            deny: "Cancel".to_owned(),
        }),
        rest: rest("resolve"),
    });
    actions
}

/// Where the alert stands and who acted, for the `status` command.
pub(super) fn status(alert: &Alert) -> RichText {
    let state = alert.state();
    let raised = match state.count {
        1 => "once".to_owned(),
        count => format!("{count} times"),
    };
    let mut lines = vec![
        headline(state),
        RichText::new()
            .text("Status: ")
            .strong(state.status.as_str())
            .text(format!(" · raised {raised}, last "))
            .time(state.last_raised_at),
        RichText::new()
            .text("Raised by ")
            .person(&state.raised_by)
            .text(" · key ")
            .code(state.dedup_key.as_str())
            .text(" · id ")
            .code(alert.id().to_string()),
    ];
    lines.extend(history(state));
    RichText::lines(lines)
}

#[cfg(test)]
#[path = "message/tests.rs"]
mod tests;
