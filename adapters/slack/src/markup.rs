//! Rich text as Slack writes it: mrkdwn for sections, context and replies, plain text for
//! buttons and dialogs.
//!
//! Every text has a Block Kit limit. When a text is too long, its longest span is cut (with
//! `…`, never inside an escaped entity): that is the user-provided part (a description, a
//! comment, a title in a dialog), while the fixed words, mentions and dates around it stay
//! whole.

use application::chat::{Emoji, RichText, Span, SpanMarkup, fit};

use crate::text::{date, escape, escape_truncated, person, truncate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    Mrkdwn,
    Plain,
}

/// `text` as mrkdwn, within `max_chars`.
pub(crate) fn mrkdwn(text: &RichText, max_chars: usize) -> String {
    render(text, max_chars, Markup::Mrkdwn)
}

/// `text` as plain text (shown as is), within `max_chars`.
pub(crate) fn plain(text: &RichText, max_chars: usize) -> String {
    render(text, max_chars, Markup::Plain)
}

fn render(text: &RichText, max_chars: usize, markup: Markup) -> String {
    fit(text, max_chars, &markup).unwrap_or_else(|| {
        // Only mentions, dates and markers, which are short: not reached by our messages.
        let whole: String = text.spans().iter().map(|s| span(s, markup, None)).collect();
        truncate(&whole, max_chars)
    })
}

impl SpanMarkup for Markup {
    fn render(&self, s: &Span, budget: Option<usize>) -> String {
        span(s, *self, budget)
    }

    fn frame(&self, s: &Span) -> usize {
        match (s, self) {
            (Span::Strong(_) | Span::Code(_), Markup::Mrkdwn) => 2,
            _ => 0,
        }
    }
}

/// One span, its text cut to `budget` characters when given.
fn span(span: &Span, markup: Markup, budget: Option<usize>) -> String {
    let text = |raw: &str| match (markup, budget) {
        (Markup::Mrkdwn, None) => escape(raw),
        (Markup::Mrkdwn, Some(max)) => escape_truncated(raw, max),
        (Markup::Plain, None) => raw.to_owned(),
        (Markup::Plain, Some(max)) => truncate(raw, max),
    };
    match (span, markup) {
        (Span::Text(raw), _) | (Span::Strong(raw) | Span::Code(raw), Markup::Plain) => text(raw),
        (Span::Strong(raw), Markup::Mrkdwn) => format!("*{}*", text(raw)),
        (Span::Code(raw), Markup::Mrkdwn) => format!("`{}`", text(raw)),
        (Span::Person(identity), Markup::Mrkdwn) => person(identity),
        (Span::Person(identity), Markup::Plain) => identity.as_str().to_owned(),
        (Span::Time(at), Markup::Mrkdwn) => date(*at),
        (Span::Time(at), Markup::Plain) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
        (Span::Emoji(emoji), _) => shortcode(*emoji).to_owned(),
    }
}

fn shortcode(emoji: Emoji) -> &'static str {
    match emoji {
        Emoji::CheckMark => ":white_check_mark:",
        Emoji::CrossMark => ":x:",
        Emoji::Hourglass => ":hourglass:",
        Emoji::NoEntry => ":no_entry_sign:",
        Emoji::Eyes => ":eyes:",
        Emoji::RedCircle => ":red_circle:",
        Emoji::OrangeCircle => ":large_orange_circle:",
        Emoji::BlueCircle => ":large_blue_circle:",
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use domain::Identity;

    use super::*;

    fn id(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    #[test]
    fn spans_become_mrkdwn_with_user_text_escaped() {
        let text = RichText::new()
            .emoji(Emoji::CrossMark)
            .text(" ")
            .strong("<!here>")
            .text(" by ")
            .person(&id("slack:U2"))
            .text(" and ")
            .person(&id("ci"))
            .text(" at ")
            .time(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
            .text(", key ")
            .code("a&b");
        assert_eq!(
            mrkdwn(&text, 3000),
            ":x: *&lt;!here&gt;* by <@U2> and ci at \
             <!date^1767323045^{date_short_pretty} at {time}|2026-01-02 03:04 UTC>, key `a&amp;b`"
        );
    }

    #[test]
    fn a_text_too_long_is_cut_in_its_longest_span_and_keeps_its_frame() {
        let text = RichText::new()
            .text("Reject “")
            .text("x".repeat(500))
            .text("”?");
        let cut = plain(&text, 100);
        assert_eq!(cut.chars().count(), 100);
        assert!(
            cut.starts_with("Reject “x") && cut.ends_with("x…”?"),
            "{cut}"
        );

        let escaped = mrkdwn(
            &RichText::new().strong("T").text("\n").text("&".repeat(900)),
            50,
        );
        assert!(escaped.chars().count() <= 50);
        assert!(
            escaped.starts_with("*T*\n&amp;") && escaped.ends_with("&amp;…"),
            "{escaped}"
        );
    }

    #[test]
    fn a_cut_bold_span_keeps_its_asterisks() {
        let cut = mrkdwn(&RichText::new().strong("y".repeat(100)), 10);
        assert_eq!(cut, format!("*{}…*", "y".repeat(7)));
    }
}
