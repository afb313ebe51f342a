//! Slack's text rules: mrkdwn escaping, length limits, mentions and dates. (`markup.rs`
//! applies them to rich text.)
//!
//! Slack parses `&`, `<` and `>` as control characters in mrkdwn (`<!channel>` pings everyone,
//! `<https://…|label>` is a link), so every piece of user-provided text is escaped before it
//! goes into mrkdwn. Limits are counted in characters and cut on character boundaries; a cut
//! text ends with `…` so the reader sees that something is missing.

use chrono::{DateTime, Utc};
use domain::Identity;

const ELLIPSIS: char = '…';

/// Escapes the three characters Slack's mrkdwn treats as control characters.
pub(crate) fn escape(raw: &str) -> String {
    let mut escaped = String::with_capacity(raw.len());
    for c in raw.chars() {
        match entity(c) {
            Some(entity) => escaped.push_str(entity),
            None => escaped.push(c),
        }
    }
    escaped
}

/// Escapes `raw` and keeps the result within `max_chars`. Cutting happens between escaped
/// characters, never inside an `&amp;`, so Slack never sees a broken entity.
pub(crate) fn escape_truncated(raw: &str, max_chars: usize) -> String {
    let escaped = escape(raw);
    if escaped.chars().count() <= max_chars {
        return escaped;
    }
    let mut budget = max_chars.saturating_sub(1);
    let mut cut = String::new();
    for c in raw.chars() {
        let entity = entity(c);
        let len = entity.map_or(1, str::len);
        if len > budget {
            break;
        }
        budget -= len;
        match entity {
            Some(entity) => cut.push_str(entity),
            None => cut.push(c),
        }
    }
    if max_chars > 0 {
        cut.push(ELLIPSIS);
    }
    cut
}

/// Keeps `text` within `max_chars`, ending a cut text with `…`. For plain text, which Slack
/// shows as is.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push(ELLIPSIS);
    cut
}

/// How a person appears in mrkdwn: a Slack user as a mention (Slack shows their current
/// display name), anyone else by their identity. Identities are restricted to a safe ASCII
/// alphabet, so they need no escaping.
pub(crate) fn person(identity: &Identity) -> String {
    match crate::identity::slack_user(identity) {
        Some(user) => format!("<@{user}>"),
        None => identity.as_str().to_owned(),
    }
}

/// A time Slack shows in each reader's own time zone, with a UTC fallback for clients that
/// cannot.
pub(crate) fn date(at: DateTime<Utc>) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} at {{time}}|{}>",
        at.timestamp(),
        at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// The entity that stands for `c` in mrkdwn, if `c` is a control character. Entities are
/// ASCII, so their length in bytes is their length in characters.
fn entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn escapes_only_the_control_characters() {
        assert_eq!(
            escape("<!channel> & *bold* <https://x|y>"),
            "&lt;!channel&gt; &amp; *bold* &lt;https://x|y&gt;"
        );
    }

    #[test]
    fn escaped_truncation_never_splits_an_entity() {
        assert_eq!(escape_truncated("a&b", 5), "a…");
        for max in 0..20 {
            let cut = escape_truncated("x&&&&&&&&", max);
            assert!(cut.chars().count() <= max, "{cut:?} exceeds {max}");
            let body = cut.trim_end_matches(ELLIPSIS);
            assert!(
                body.strip_prefix('x')
                    .unwrap_or(body)
                    .split("&amp;")
                    .all(str::is_empty),
                "{cut:?} splits an entity"
            );
        }
    }

    #[test]
    fn escaped_truncation_keeps_short_text_whole() {
        assert_eq!(escape_truncated("a < b", 100), "a &lt; b");
    }

    #[test]
    fn truncation_counts_characters_and_cuts_on_their_boundaries() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("🚀🚀🚀", 2), "🚀…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn slack_users_become_mentions_and_others_stay_as_they_are() {
        let slack = Identity::parse("slack:U2CERLKJA").unwrap();
        let key = Identity::parse("ci-pipeline").unwrap();
        let odd = Identity::parse("slack:U.1").unwrap();
        assert_eq!(person(&slack), "<@U2CERLKJA>");
        assert_eq!(person(&key), "ci-pipeline");
        assert_eq!(person(&odd), "slack:U.1");
    }

    #[test]
    fn dates_carry_a_utc_fallback() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(
            date(at),
            "<!date^1767323045^{date_short_pretty} at {time}|2026-01-02 03:04 UTC>"
        );
    }
}
