//! The message that shows an alert in its channel.
//!
//! An alert has one message for its whole life: raising the same dedup key again while the
//! alert is unresolved updates this message (the count, the latest severity, summary and
//! details) instead of posting a new one. An open alert gets Acknowledge and Resolve buttons;
//! an acknowledged one says who is on it and keeps only Resolve; a resolved one says who
//! resolved it and has no buttons.

use chrono::{DateTime, Utc};
use domain::{Alert, AlertState, AlertStatus, Severity};

use super::{
    BUTTON_TEXT_MAX, Block, Button, ButtonStyle, CONFIRM_BUTTON_MAX, CONFIRM_TEXT_MAX,
    CONFIRM_TITLE_MAX, Confirm, MESSAGE_TEXT_MAX, Message, SECTION_TEXT_MAX, Text, section,
};
use crate::text::{date, escape, escape_truncated, person, truncate};

/// Stable action ids: the interaction route recognises a click by these, whatever version of
/// the message the button was on.
pub(crate) const ACKNOWLEDGE_ACTION: &str = "alert_acknowledge";
pub(crate) const RESOLVE_ACTION: &str = "alert_resolve";

/// Renders the alert as it is now.
pub(crate) fn alert_message(alert: &Alert) -> Message {
    let state = alert.state();
    let mut blocks = vec![summary(state), context(state)];
    let history: Vec<String> = [acknowledged_line(state), resolved_line(state)]
        .into_iter()
        .flatten()
        .collect();
    if !history.is_empty() {
        blocks.push(section(history.join("\n")));
    }
    if state.status != AlertStatus::Resolved {
        blocks.push(actions(alert));
    }
    Message {
        text: fallback_text(state),
        blocks,
    }
}

/// The marker, the severity in words (colour alone does not reach everyone) and the summary,
/// e.g. `:red_circle: Critical · *db-1 disk 97%*`. A summary is at most 200 characters, so
/// even fully escaped this stays far below the section limit.
pub(crate) fn alert_headline(state: &AlertState) -> String {
    let (marker, label) = marker_and_label(state.severity);
    format!("{marker} {label} · *{}*", escape(state.summary.as_str()))
}

/// "Acknowledged by …", once someone has.
pub(crate) fn acknowledged_line(state: &AlertState) -> Option<String> {
    let by = state.acknowledged_by.as_ref()?;
    Some(format!(
        ":eyes: *Acknowledged* by {}{}",
        person(by),
        when(state.acknowledged_at)
    ))
}

/// "Resolved by …", once someone has.
pub(crate) fn resolved_line(state: &AlertState) -> Option<String> {
    let by = state.resolved_by.as_ref()?;
    Some(format!(
        ":white_check_mark: *Resolved* by {}{}",
        person(by),
        when(state.resolved_at)
    ))
}

/// " · <date>" after who acted, when the time is known.
fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| format!(" · {}", date(at))).unwrap_or_default()
}

/// The emoji and the word that show a severity.
fn marker_and_label(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Critical => (":red_circle:", "Critical"),
        Severity::Warning => (":large_orange_circle:", "Warning"),
        Severity::Info => (":large_blue_circle:", "Info"),
    }
}

fn fallback_text(state: &AlertState) -> String {
    let (_, capitalised) = marker_and_label(state.severity);
    let severity = state.severity.as_str();
    let label = match state.status {
        AlertStatus::Open => format!("{capitalised} alert"),
        AlertStatus::Acknowledged => format!("Acknowledged {severity} alert"),
        AlertStatus::Resolved => format!("Resolved {severity} alert"),
    };
    // ": " after the label.
    let budget = MESSAGE_TEXT_MAX - label.chars().count() - 2;
    format!(
        "{label}: {}",
        escape_truncated(state.summary.as_str(), budget)
    )
}

/// The headline and the details, which are cut to fit.
fn summary(state: &AlertState) -> Block {
    let headline = alert_headline(state);
    let details = state.details.as_str();
    let text = if details.is_empty() {
        headline
    } else {
        let budget = SECTION_TEXT_MAX.saturating_sub(headline.chars().count() + 1);
        format!("{headline}\n{}", escape_truncated(details, budget))
    };
    section(text)
}

/// Who raised it and when, how often in all and when last (once it repeated), and its dedup
/// key: the name to search the monitoring for. Identities, dates and a key of at most 200
/// characters, so these stay far below the limit.
fn context(state: &AlertState) -> Block {
    let mut elements = vec![Text::Mrkdwn {
        text: format!(
            "Raised by {} · {}",
            person(&state.raised_by),
            date(state.created_at)
        ),
    }];
    if state.count > 1 {
        elements.push(Text::Mrkdwn {
            text: format!("×{}, last {}", state.count, date(state.last_raised_at)),
        });
    }
    elements.push(Text::Mrkdwn {
        text: format!("Key `{}`", escape(state.dedup_key.as_str())),
    });
    Block::Context { elements }
}

/// The buttons: Acknowledge while nobody has, Resolve until someone has. The block id changes
/// with every version, as Slack asks for updated messages; the action ids never change.
fn actions(alert: &Alert) -> Block {
    let id = alert.id().to_string();
    let mut elements = Vec::with_capacity(2);
    if alert.status() == AlertStatus::Open {
        elements.push(Button {
            action_id: ACKNOWLEDGE_ACTION,
            text: Text::plain("Acknowledge", BUTTON_TEXT_MAX),
            value: id.clone(),
            style: None,
            confirm: None,
        });
    }
    let frame = "Resolve “”?".chars().count();
    let confirm_title = format!(
        "Resolve “{}”?",
        truncate(alert.state().summary.as_str(), CONFIRM_TITLE_MAX - frame)
    );
    elements.push(Button {
        action_id: RESOLVE_ACTION,
        text: Text::plain("Resolve", BUTTON_TEXT_MAX),
        value: id.clone(),
        style: Some(ButtonStyle::Primary),
        // Resolving cannot be undone, and a misclick would hide a problem that is still there.
        confirm: Some(Confirm {
            title: Text::plain(&confirm_title, CONFIRM_TITLE_MAX),
            text: Text::plain(
                "Resolving closes the alert for good. If the problem comes back, it is raised \
                 as a new alert.",
                CONFIRM_TEXT_MAX,
            ),
            confirm: Text::plain("Resolve", CONFIRM_BUTTON_MAX),
            deny: Text::plain("Cancel", CONFIRM_BUTTON_MAX),
            style: ButtonStyle::Primary,
        }),
    });
    Block::Actions {
        block_id: format!("alert-{id}-v{}", alert.version()),
        elements,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use domain::{AlertId, ChatDestination, DedupKey, Description, Identity, NewAlert, Title};
    use serde_json::{Value, json};

    use super::*;

    const ID: &str = "01900000-0000-7000-8000-0000000000a1";
    /// 2026-01-01 09:00 UTC and 09:40 UTC.
    const RAISED: &str = "<!date^1767258000^{date_short_pretty} at {time}|2026-01-01 09:00 UTC>";
    const REPEATED: &str = "<!date^1767260400^{date_short_pretty} at {time}|2026-01-01 09:40 UTC>";

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 9, minute, 0).unwrap()
    }

    fn who(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    fn new_alert(severity: Severity, summary: &str, details: &str, key: &str) -> NewAlert {
        NewAlert {
            severity,
            summary: Title::parse(summary).unwrap(),
            details: Description::parse(details).unwrap(),
            destination: ChatDestination::parse("C0123456789").unwrap(),
            dedup_key: DedupKey::parse(key).unwrap(),
            raised_by: who("monitor"),
        }
    }

    fn raised(new: NewAlert) -> Alert {
        let id = AlertId::from_uuid(uuid::Uuid::parse_str(ID).unwrap());
        let mut alert = Alert::raise(id, new, at(0));
        alert.take_events();
        alert
    }

    fn open() -> Alert {
        raised(new_alert(
            Severity::Critical,
            "db-1 disk 97%",
            "/var/lib/postgres",
            "disk:db-1",
        ))
    }

    fn acknowledged() -> Alert {
        let mut alert = open();
        alert.acknowledge(who("slack:U0ALICE"), at(5)).unwrap();
        alert.take_events();
        alert
    }

    fn json(alert: &Alert) -> Value {
        serde_json::to_value(alert_message(alert)).unwrap()
    }

    fn text_of(block: &Value) -> &str {
        block["text"]["text"].as_str().unwrap()
    }

    fn action_ids(message: &Value) -> Vec<&str> {
        message["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().unwrap())
            .map(|e| e["action_id"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn an_open_alert_gets_acknowledge_and_resolve_buttons_carrying_its_id() {
        assert_eq!(
            json(&open()),
            json!({
                "text": "Critical alert: db-1 disk 97%",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn",
                        "text": ":red_circle: Critical · *db-1 disk 97%*\n/var/lib/postgres"}},
                    {"type": "context", "elements": [
                        {"type": "mrkdwn", "text": format!("Raised by monitor · {RAISED}")},
                        {"type": "mrkdwn", "text": "Key `disk:db-1`"}
                    ]},
                    {"type": "actions", "block_id": format!("alert-{ID}-v1"), "elements": [
                        {"type": "button", "action_id": "alert_acknowledge",
                         "text": {"type": "plain_text", "text": "Acknowledge"}, "value": ID},
                        {"type": "button", "action_id": "alert_resolve", "style": "primary",
                         "text": {"type": "plain_text", "text": "Resolve"}, "value": ID,
                         "confirm": {
                            "title": {"type": "plain_text", "text": "Resolve “db-1 disk 97%”?"},
                            "text": {"type": "plain_text", "text": "Resolving closes the alert for good. If the problem comes back, it is raised as a new alert."},
                            "confirm": {"type": "plain_text", "text": "Resolve"},
                            "deny": {"type": "plain_text", "text": "Cancel"},
                            "style": "primary"
                         }}
                    ]}
                ]
            })
        );
    }

    #[test]
    fn a_repeat_shows_the_count_and_the_latest_severity_and_summary() {
        let mut alert = open();
        alert
            .repeat(
                new_alert(Severity::Warning, "db-1 disk 92%", "", "disk:db-1"),
                at(20),
            )
            .unwrap();
        alert
            .repeat(
                new_alert(Severity::Warning, "db-1 disk 93%", "", "disk:db-1"),
                at(40),
            )
            .unwrap();
        alert.take_events();
        let message = json(&alert);

        assert_eq!(message["text"], "Warning alert: db-1 disk 93%");
        assert_eq!(
            text_of(&message["blocks"][0]),
            ":large_orange_circle: Warning · *db-1 disk 93%*"
        );
        assert_eq!(
            message["blocks"][1]["elements"][1]["text"],
            format!("×3, last {REPEATED}")
        );
        assert_eq!(message["blocks"][2]["block_id"], format!("alert-{ID}-v2"));
    }

    #[test]
    fn every_new_version_gets_a_new_block_id_and_the_same_action_ids() {
        let before = json(&open());
        let after = json(&acknowledged());
        assert_ne!(
            before["blocks"][2]["block_id"],
            after["blocks"][3]["block_id"]
        );
        assert_eq!(action_ids(&before), [ACKNOWLEDGE_ACTION, RESOLVE_ACTION]);
        assert_eq!(action_ids(&after), [RESOLVE_ACTION]);
    }

    #[test]
    fn an_acknowledged_alert_names_who_is_on_it_and_keeps_only_resolve() {
        let message = json(&acknowledged());
        assert_eq!(
            message["text"],
            "Acknowledged critical alert: db-1 disk 97%"
        );
        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 4);
        assert!(
            text_of(&blocks[2])
                .starts_with(":eyes: *Acknowledged* by <@U0ALICE> · <!date^1767258300^"),
            "{}",
            blocks[2]
        );
        assert_eq!(action_ids(&message), [RESOLVE_ACTION]);
    }

    #[test]
    fn a_resolved_alert_has_no_buttons_and_keeps_its_history() {
        let mut alert = acknowledged();
        alert.resolve(who("slack:U0BOB"), at(30));
        alert.take_events();
        let message = json(&alert);

        assert_eq!(message["text"], "Resolved critical alert: db-1 disk 97%");
        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 3);
        assert!(action_ids(&message).is_empty());
        let lines: Vec<&str> = text_of(&blocks[2]).lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with(":eyes: *Acknowledged* by <@U0ALICE>"));
        assert!(
            lines[1].starts_with(":white_check_mark: *Resolved* by <@U0BOB> · <!date^"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn an_alert_resolved_while_open_says_only_who_resolved_it() {
        let mut alert = open();
        alert.resolve(who("ops-bot"), at(30));
        alert.take_events();
        let message = json(&alert);
        assert!(
            text_of(&message["blocks"][2]).starts_with(":white_check_mark: *Resolved* by ops-bot")
        );
        assert!(!text_of(&message["blocks"][2]).contains("Acknowledged"));
    }

    #[test]
    fn each_severity_has_its_marker() {
        for (severity, expected) in [
            (Severity::Info, ":large_blue_circle: Info · *x*"),
            (Severity::Warning, ":large_orange_circle: Warning · *x*"),
            (Severity::Critical, ":red_circle: Critical · *x*"),
        ] {
            let alert = raised(new_alert(severity, "x", "", "k"));
            assert_eq!(text_of(&json(&alert)["blocks"][0]), expected);
        }
    }

    #[test]
    fn user_text_is_escaped_so_it_cannot_ping_or_link() {
        let alert = raised(new_alert(
            Severity::Info,
            "<!channel> & <https://evil|click>",
            "a > b",
            "<!here>",
        ));
        let message = json(&alert);
        assert_eq!(
            message["text"],
            "Info alert: &lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
        );
        assert_eq!(
            text_of(&message["blocks"][0]),
            ":large_blue_circle: Info · *&lt;!channel&gt; &amp; &lt;https://evil|click&gt;*\na &gt; b"
        );
        assert_eq!(
            message["blocks"][1]["elements"][1]["text"],
            "Key `&lt;!here&gt;`"
        );
    }

    #[test]
    fn long_summaries_and_details_are_cut_to_block_kit_limits() {
        let summary = "S".repeat(Title::MAX_CHARS);
        let details = "<".repeat(Description::MAX_CHARS);
        let message = json(&raised(new_alert(
            Severity::Critical,
            &summary,
            &details,
            &"k".repeat(DedupKey::MAX_CHARS),
        )));

        let section = text_of(&message["blocks"][0]);
        assert!(section.chars().count() <= SECTION_TEXT_MAX);
        assert!(section.starts_with(&format!(":red_circle: Critical · *{summary}*\n&lt;")));
        assert!(section.ends_with("&lt;…"), "cut inside an entity");

        let confirm_title = message["blocks"][2]["elements"][1]["confirm"]["title"]["text"]
            .as_str()
            .unwrap();
        assert_eq!(confirm_title.chars().count(), CONFIRM_TITLE_MAX);
        assert!(confirm_title.ends_with("S…”?"), "{confirm_title}");
        assert!(message["text"].as_str().unwrap().chars().count() <= MESSAGE_TEXT_MAX);
    }
}
