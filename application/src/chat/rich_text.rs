//! Text that each chat platform renders in its own markup.
//!
//! A [`RichText`] is a list of [`Span`]s. Spans say *what* a piece of text is (someone's
//! identity, a point in time, emphasis), never how a platform writes it: Slack turns a
//! `slack:U123` identity into the mention `<@U123>` and a time into `<!date^…>`, Discord into
//! `<@…>` and `<t:…>`, the console into plain words. User-provided text is always a
//! [`Span::Text`] (or `Strong`/`Code`), so each renderer escapes it for its own markup and
//! nobody can smuggle a ping or a link into a message.

use std::fmt;

use chrono::{DateTime, Utc};
use domain::Identity;

/// One piece of a [`RichText`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Shown as is; renderers escape it.
    Text(String),
    /// Emphasised (bold).
    Strong(String),
    /// A name or key to copy exactly (monospace).
    Code(String),
    /// Someone: a mention where the platform knows the identity, the identity elsewhere.
    Person(Identity),
    /// A point in time, shown in each reader's own time zone where the platform can.
    Time(DateTime<Utc>),
    /// A marker that sets the tone of a line.
    Emoji(Emoji),
}

/// The few markers messages use, named by what they show so that each platform can pick its
/// own glyph (a Slack shortcode, a Unicode character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emoji {
    CheckMark,
    CrossMark,
    Hourglass,
    NoEntry,
    Eyes,
    RedCircle,
    OrangeCircle,
    BlueCircle,
}

/// A line (or several: `Text("\n")` separates lines) of rich text, built with the chained
/// methods below.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichText(Vec<Span>);

impl RichText {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn spans(&self) -> &[Span] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn text(self, text: impl Into<String>) -> Self {
        self.span(Span::Text(text.into()))
    }

    #[must_use]
    pub fn strong(self, text: impl Into<String>) -> Self {
        self.span(Span::Strong(text.into()))
    }

    #[must_use]
    pub fn code(self, text: impl Into<String>) -> Self {
        self.span(Span::Code(text.into()))
    }

    #[must_use]
    pub fn person(self, identity: &Identity) -> Self {
        self.span(Span::Person(identity.clone()))
    }

    /// "A", "A and B", "A, B and C".
    #[must_use]
    pub fn people<'a>(mut self, identities: impl IntoIterator<Item = &'a Identity>) -> Self {
        let identities: Vec<_> = identities.into_iter().collect();
        for (i, identity) in identities.iter().enumerate() {
            if i + 1 == identities.len() && i > 0 {
                self = self.text(" and ");
            } else if i > 0 {
                self = self.text(", ");
            }
            self = self.person(identity);
        }
        self
    }

    #[must_use]
    pub fn time(self, at: DateTime<Utc>) -> Self {
        self.span(Span::Time(at))
    }

    #[must_use]
    pub fn emoji(self, emoji: Emoji) -> Self {
        self.span(Span::Emoji(emoji))
    }

    #[must_use]
    pub fn span(mut self, span: Span) -> Self {
        self.0.push(span);
        self
    }

    /// This text followed by `other`.
    #[must_use]
    pub fn then(mut self, other: Self) -> Self {
        self.0.extend(other.0);
        self
    }

    /// The texts one per line.
    pub fn lines(lines: impl IntoIterator<Item = Self>) -> Self {
        lines.into_iter().fold(Self::new(), |joined, line| {
            if joined.is_empty() {
                line
            } else {
                joined.text("\n").then(line)
            }
        })
    }
}

impl From<&str> for RichText {
    fn from(text: &str) -> Self {
        Self::new().text(text)
    }
}

impl Emoji {
    /// The Unicode character, for platforms without shortcodes.
    pub fn unicode(self) -> &'static str {
        match self {
            Self::CheckMark => "✅",
            Self::CrossMark => "❌",
            Self::Hourglass => "⌛",
            Self::NoEntry => "🚫",
            Self::Eyes => "👀",
            Self::RedCircle => "🔴",
            Self::OrangeCircle => "🟠",
            Self::BlueCircle => "🔵",
        }
    }
}

impl fmt::Display for RichText {
    /// Plain text without markup: identities as they are, times in RFC 3339, code in
    /// backticks. For logs, the console, and tests that read a reply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for span in &self.0 {
            match span {
                Span::Text(text) | Span::Strong(text) => f.write_str(text)?,
                Span::Code(code) => write!(f, "`{code}`")?,
                Span::Person(identity) => f.write_str(identity.as_str())?,
                Span::Time(at) => f.write_str(&at.to_rfc3339())?,
                Span::Emoji(emoji) => f.write_str(emoji.unicode())?,
            }
        }
        Ok(())
    }
}

/// How one span renders in a platform's markup: with `budget`, its user text is cut to
/// that many characters; `frame` is what its markup adds around that text (`**…**`).
pub trait SpanMarkup {
    fn render(&self, span: &Span, budget: Option<usize>) -> String;
    fn frame(&self, span: &Span) -> usize;
}

/// `text` in `markup`, within `max_chars`, the way every platform keeps a text within its
/// limits: when too long, its longest span of user text (a description, a comment) is cut,
/// while the fixed words, mentions and dates around it stay whole. `None` when the text is
/// too long and has no such span; the platform then cuts the whole.
pub fn fit(text: &RichText, max_chars: usize, markup: &impl SpanMarkup) -> Option<String> {
    let spans = text.spans();
    let mut rendered: Vec<String> = spans.iter().map(|s| markup.render(s, None)).collect();
    let length = |s: &String| s.chars().count();
    let total: usize = rendered.iter().map(length).sum();
    if total <= max_chars {
        return Some(rendered.concat());
    }
    let longest = (0..spans.len())
        .filter(|&i| matches!(spans[i], Span::Text(_) | Span::Strong(_) | Span::Code(_)))
        .max_by_key(|&i| length(&rendered[i]))?;
    let others = total - length(&rendered[longest]);
    let budget = max_chars.saturating_sub(others + markup.frame(&spans[longest]));
    rendered[longest] = markup.render(&spans[longest], Some(budget));
    Some(rendered.concat())
}

/// Keeps `text` within `max_chars`, ending a cut text with `…`, for texts the model itself
/// shortens (a comment quoted in a status line).
pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    #[test]
    fn people_are_listed_in_a_sentence() {
        let (a, b, c) = (id("a"), id("b"), id("c"));
        let listed = |ids: &[&Identity]| RichText::new().people(ids.iter().copied());
        assert_eq!(listed(&[]), RichText::new());
        assert_eq!(listed(&[&a]), RichText::new().person(&a));
        assert_eq!(
            listed(&[&a, &b, &c]),
            RichText::new()
                .person(&a)
                .text(", ")
                .person(&b)
                .text(" and ")
                .person(&c)
        );
    }

    #[test]
    fn lines_are_joined_with_newlines() {
        let joined = RichText::lines([RichText::from("a"), RichText::from("b")]);
        assert_eq!(joined, RichText::new().text("a").text("\n").text("b"));
    }

    #[test]
    fn truncation_counts_characters_and_cuts_on_their_boundaries() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("abc", 0), "");
    }
}
