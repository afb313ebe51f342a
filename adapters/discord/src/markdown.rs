//! Rich text as Discord writes it: its markdown for contents, embeds and replies, plain text
//! for button labels.
//!
//! User text is escaped character by character, so a title cannot become a heading, a link
//! or a mention; people are mentions only when they are Discord users (`<@id>`, which the
//! `allowed_mentions` of every message keeps from pinging), and times are `<t:…>` stamps that
//! every reader sees in their own time zone. Too long a text is cut in its longest span of
//! user text (`application::chat::fit`), the same rule the Slack adapter follows.

use application::chat::{Emoji, RichText, Span, SpanMarkup, fit, truncate};

use crate::identity::discord_user;

/// Characters with a meaning in Discord's markdown (or mentions) at some position.
const SPECIAL: &[char] = &[
    '\\', '*', '_', '~', '`', '|', '>', '#', '-', '[', ']', '(', ')', '<', '@',
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    Markdown,
    Plain,
}

/// `text` as Discord markdown, within `max_chars`.
pub(crate) fn markdown(text: &RichText, max_chars: usize) -> String {
    render(text, max_chars, Markup::Markdown)
}

/// `text` as plain text (shown as is), within `max_chars`.
pub(crate) fn plain(text: &RichText, max_chars: usize) -> String {
    render(text, max_chars, Markup::Plain)
}

fn render(text: &RichText, max_chars: usize, markup: Markup) -> String {
    fit(text, max_chars, &markup).unwrap_or_else(|| {
        let whole: String = text
            .spans()
            .iter()
            .map(|s| markup.render(s, None))
            .collect();
        // Cutting markup may break it, but never lets user text out of its escaping.
        truncate(&whole, max_chars)
    })
}

impl SpanMarkup for Markup {
    fn render(&self, span: &Span, budget: Option<usize>) -> String {
        let text = |raw: &str| match (self, budget) {
            (Markup::Markdown, budget) => escape(raw, budget),
            (Markup::Plain, None) => raw.to_owned(),
            (Markup::Plain, Some(max)) => truncate(raw, max),
        };
        match (span, self) {
            (Span::Text(raw), _) | (Span::Strong(raw) | Span::Code(raw), Markup::Plain) => {
                text(raw)
            }
            (Span::Strong(raw), Markup::Markdown) => format!("**{}**", text(raw)),
            // Nothing escapes inside a code span, so a backtick becomes a look-alike.
            (Span::Code(raw), Markup::Markdown) => {
                let raw = raw.replace('`', "ˋ");
                let raw = budget.map_or(raw.clone(), |max| truncate(&raw, max));
                format!("`{raw}`")
            }
            (Span::Person(identity), Markup::Markdown) => match discord_user(identity) {
                Some(user) => format!("<@{user}>"),
                None => escape(identity.as_str(), None),
            },
            (Span::Person(identity), Markup::Plain) => identity.as_str().to_owned(),
            (Span::Time(at), Markup::Markdown) => format!("<t:{}:f>", at.timestamp()),
            (Span::Time(at), Markup::Plain) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
            (Span::Emoji(emoji), _) => glyph(*emoji).to_owned(),
        }
    }

    fn frame(&self, span: &Span) -> usize {
        match (span, self) {
            (Span::Strong(_), Markup::Markdown) => 4,
            (Span::Code(_), Markup::Markdown) => 2,
            _ => 0,
        }
    }
}

fn glyph(emoji: Emoji) -> &'static str {
    emoji.unicode()
}

/// `raw` with every markdown character escaped; with `budget`, cut (ending in `…`) so that
/// the escaped text fits, never between a backslash and the character it escapes.
fn escape(raw: &str, budget: Option<usize>) -> String {
    let escaped_len = |c: char| if SPECIAL.contains(&c) { 2 } else { 1 };
    let total: usize = raw.chars().map(escaped_len).sum();
    let limit = match budget {
        Some(max) if total > max => Some(max.saturating_sub(1)),
        _ => None,
    };
    let mut out = String::with_capacity(raw.len() + 8);
    let mut used = 0;
    for c in raw.chars() {
        let len = escaped_len(c);
        if limit.is_some_and(|limit| used + len > limit) {
            out.push('…');
            return out;
        }
        if len == 2 {
            out.push('\\');
        }
        out.push(c);
        used += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use domain::Identity;

    use super::*;

    #[test]
    fn user_text_cannot_format_link_or_mention() {
        let text = RichText::new().text("# **hi** @everyone <@1> [x](http://e)");
        assert_eq!(
            markdown(&text, 2000),
            r"\# \*\*hi\*\* \@everyone \<\@1\> \[x\]\(http://e\)"
        );
    }

    #[test]
    fn discord_users_are_mentions_and_times_are_stamps() {
        let text = RichText::new()
            .person(&Identity::parse("discord:80351110224678912").unwrap())
            .text(" ")
            .person(&Identity::parse("slack:U1").unwrap())
            .text(" ")
            .time(Utc.timestamp_opt(1_700_000_000, 0).unwrap())
            .text(" ")
            .strong("ok")
            .code("a`b");
        assert_eq!(
            markdown(&text, 2000),
            r"<@80351110224678912> slack:U1 <t:1700000000:f> **ok**`aˋb`"
        );
        assert_eq!(
            plain(&text, 2000),
            "discord:80351110224678912 slack:U1 2023-11-14 22:13 UTC oka`b"
        );
    }

    #[test]
    fn too_long_a_text_is_cut_in_its_user_text() {
        let text = RichText::new().strong("Title: ").text("*".repeat(50));
        let cut = markdown(&text, 30);
        assert!(cut.chars().count() <= 30, "{cut}");
        assert!(cut.starts_with("**Title: **"), "{cut}");
        assert!(cut.ends_with('…') && !cut.ends_with("\\…"), "{cut}");
    }
}
