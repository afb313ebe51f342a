//! Slash commands, for every platform that has them: `/<service> <verb> <id> [text]`,
//! `/<service> status <id>`, `/<service> help`.
//!
//! The platform sends everything after the command's name as free text, so it is parsed
//! strictly: a verb, an id, and for some verbs a text. The verbs come from the registered
//! subjects' [`Vocabulary`] (each names the action it performs); `status` and `help` work
//! across all of them. The command's own name is whatever the platform's app was configured
//! with, and is only echoed back in the help.

use domain::Identity;
use uuid::Uuid;

use super::subject::{Act, ChatSubject, ChatSubjects, CommandSpec, TextArg, Via};
use super::{RichText, rich_text::truncate};

/// How much of a mistyped word is repeated back.
const ECHO_MAX_CHARS: usize = 40;

/// One slash command as a platform received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand<'a> {
    /// The command's name as typed, e.g. `/<service>`.
    pub name: &'a str,
    /// Everything after the name.
    pub text: &'a str,
    /// From the platform's verified payload.
    pub actor: Identity,
    /// The platform's name, for the help: `Slack`.
    pub platform: &'a str,
}

/// What the id after a verb names, in usage errors: `widget`, `a widget`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    word: String,
    with_article: String,
}

/// Why the text is not a command; shown to the user above the help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum UsageError {
    #[error("“{0}” is not something I can do.")]
    UnknownVerb(String),
    #[error("Which {}? Give its id.", .0.word)]
    MissingId(Target),
    #[error("“{raw}” is not {} id.", target.with_article)]
    InvalidId { raw: String, target: Target },
    #[error("{0}")]
    MissingText(&'static str),
    #[error("`{verb}` takes only {} id.", target.with_article)]
    UnexpectedText { verb: &'static str, target: Target },
}

/// What the text asked for.
enum Parsed<'s> {
    Help,
    Status(Uuid),
    Act {
        subject: &'s dyn ChatSubject,
        spec: &'static CommandSpec,
        id: Uuid,
        text: Option<String>,
    },
}

impl ChatSubjects {
    /// Runs a slash command and returns the answer for the person who typed it.
    pub async fn command(&self, command: SlashCommand<'_>) -> RichText {
        match self.parse(command.text) {
            Ok(Parsed::Help) => self.help(&command),
            Ok(Parsed::Status(id)) => self.status(id).await,
            Ok(Parsed::Act {
                subject,
                spec,
                id,
                text,
            }) => {
                let act = Act {
                    action: spec.action,
                    id,
                    actor: command.actor,
                    text,
                    via: Via::Command,
                };
                subject.act(act).await.unwrap_or_else(|| "Done.".into())
            }
            Err(usage) => RichText::new()
                .text(usage.to_string())
                .text("\n\n")
                .then(self.help(&command)),
        }
    }

    fn parse(&self, text: &str) -> Result<Parsed<'_>, UsageError> {
        let (typed, rest) = first_word(text);
        let verb = typed.to_ascii_lowercase();
        match verb.as_str() {
            "" | "help" => return Ok(Parsed::Help),
            "status" => return Ok(Parsed::Status(only_id(rest, "status", self.target())?)),
            _ => {}
        }
        let Some((subject, spec)) = self.iter().find_map(|subject| {
            let spec = subject
                .vocabulary()
                .commands
                .iter()
                .find(|c| c.verb == verb)?;
            Some((subject, spec))
        }) else {
            return Err(UsageError::UnknownVerb(truncate(typed, ECHO_MAX_CHARS)));
        };
        let short = subject.vocabulary().short;
        let target = Target {
            word: short.word.to_owned(),
            with_article: short.with_article.to_owned(),
        };
        let (id, text) = match spec.text {
            TextArg::None => (only_id(rest, spec.verb, target)?, None),
            TextArg::Optional | TextArg::Required { .. } => {
                let (id, text) = first_word(rest);
                let id = parse_id(id, target)?;
                let text = Some(text.to_owned()).filter(|t| !t.is_empty());
                if let (TextArg::Required { missing }, None) = (spec.text, &text) {
                    return Err(UsageError::MissingText(missing));
                }
                (id, text)
            }
        };
        Ok(Parsed::Act {
            subject,
            spec,
            id,
            text,
        })
    }

    /// What `status` takes: any registered kind, `a widget or gadget`.
    fn target(&self) -> Target {
        let words = self.join(|v| v.short.word, " or ");
        let with_article = match self.iter().next() {
            Some(first) => {
                let first = first.vocabulary().short;
                format!("{}{}", first.with_article, &words[first.word.len()..])
            }
            None => String::new(),
        };
        Target {
            word: words,
            with_article,
        }
    }

    fn help(&self, command: &SlashCommand<'_>) -> RichText {
        let name = command.name;
        let purposes = self.join(|v| v.purpose, " and ");
        let mut purposes = purposes.chars();
        let heading = match purposes.next() {
            Some(first) => format!("{}{}", first.to_uppercase(), purposes.as_str()),
            None => "Use".to_owned(),
        };
        let line = |usage: String, summary: &str| {
            RichText::new()
                .text("• ")
                .code(usage)
                .text(format!(" {summary}"))
        };
        let mut lines = vec![RichText::from(
            format!("{heading} from {}:", command.platform).as_str(),
        )];
        for subject in self.iter() {
            for spec in subject.vocabulary().commands {
                lines.push(line(
                    format!("{name} {} {}", spec.verb, spec.usage),
                    spec.summary,
                ));
            }
        }
        let any = self.join(|v| v.short.with_article, " or ");
        lines.push(line(
            format!("{name} status <id>"),
            &format!("shows where {any} stands"),
        ));
        lines.push(line(format!("{name} help"), "shows this message"));
        RichText::lines(lines)
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

/// The id that is all of `rest`, the text after `verb`.
fn only_id(rest: &str, verb: &'static str, target: Target) -> Result<Uuid, UsageError> {
    let (id, extra) = first_word(rest);
    let id = parse_id(id, target.clone())?;
    if !extra.is_empty() {
        return Err(UsageError::UnexpectedText { verb, target });
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

#[cfg(test)]
#[path = "commands/tests.rs"]
mod tests;
