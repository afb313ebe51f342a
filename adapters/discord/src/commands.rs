//! The slash command, named after the service (`/<name>`): `/<name> <verb> id:<id>
//! [text:<text>]`, `/<name> status id:<id>`, `/<name> help`.
//!
//! Discord wants a command's options declared up front, so each verb of the registered
//! subjects' vocabularies becomes a subcommand with an `id` option and, where the verb takes
//! one, a `text` option. What arrives is put back into the words Slack's free text has
//! (`approve <id> looks good`) and handed to the same parser, so the grammar, the rules and
//! every reply are the ones `application::chat` defines for every platform.

use application::chat::{ChatSubjects, TextArg};
use application::ports::ChatError;
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::client::DiscordGateway;
use crate::settings::{DiscordSettings, DiscordSetupError};

/// The command's name in Discord.
pub(crate) const COMMAND_NAME: &str = env!("SERVICE_NAME");
const DESCRIPTION_MAX: usize = 100;

// Discord's option types.
const SUB_COMMAND: u8 = 1;
const STRING: u8 = 3;

/// One application command, or one of its options, as `PUT /applications/{id}/commands`
/// takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandOption {
    #[serde(rename = "type")]
    kind: u8,
    name: String,
    description: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    options: Vec<CommandOption>,
}

/// Why registering the command failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Setup(#[from] DiscordSetupError),
    #[error("Discord refused the command: {0}")]
    Call(#[from] ChatError),
}

/// The application's commands: `/<name>` with one subcommand per verb, plus `status` and
/// `help` (a chat-input command is type 1, as is a subcommand option).
pub fn command_definitions(subjects: &ChatSubjects) -> Vec<CommandOption> {
    let id = |what: &str| CommandOption {
        kind: STRING,
        name: "id".into(),
        description: cut(&format!("the {what}'s id")),
        required: true,
        options: Vec::new(),
    };
    let mut subcommands = Vec::new();
    for subject in subjects.iter() {
        let vocabulary = subject.vocabulary();
        for spec in vocabulary.commands {
            let mut options = vec![id(vocabulary.short.word)];
            match spec.text {
                TextArg::None => {}
                TextArg::Optional => options.push(text("an optional comment", false)),
                TextArg::Required { missing } => options.push(text(missing, true)),
            }
            subcommands.push(sub(spec.verb, spec.summary, options));
        }
    }
    let any = subjects
        .iter()
        .map(|s| s.vocabulary().short.word)
        .collect::<Vec<_>>()
        .join(" or ");
    subcommands.push(sub("status", "shows where it stands", vec![id(&any)]));
    subcommands.push(sub("help", "shows what you can do", Vec::new()));
    let purposes = subjects
        .iter()
        .map(|s| s.vocabulary().purpose)
        .collect::<Vec<_>>()
        .join(" and ");
    vec![CommandOption {
        kind: SUB_COMMAND,
        name: COMMAND_NAME.into(),
        description: cut(&capitalised(&purposes)),
        required: false,
        options: subcommands,
    }]
}

/// Registers (replacing) the application's global commands.
///
/// # Errors
/// `Setup` for unusable settings or a missing application id, `Call` when Discord refuses.
pub async fn register_commands(
    settings: &DiscordSettings,
    subjects: &ChatSubjects,
) -> Result<usize, RegisterError> {
    let application = settings.require_application_id()?.to_owned();
    let gateway = DiscordGateway::new(settings)?;
    let commands = command_definitions(subjects);
    gateway
        .call(
            Method::PUT,
            &format!("/applications/{application}/commands"),
            &commands,
        )
        .await?;
    Ok(commands.len())
}

/// The words of a received command, as Slack's free text would have them: the subcommand's
/// name and its option values in their declared order.
pub(crate) fn command_text(data: &Value) -> String {
    let Some(sub) = data["options"].as_array().and_then(|o| o.first()) else {
        return String::new();
    };
    let mut words = vec![sub["name"].as_str().unwrap_or_default().to_owned()];
    for name in ["id", "text"] {
        let value = sub["options"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["name"] == name)
            .and_then(|o| o["value"].as_str());
        if let Some(value) = value {
            words.push(value.to_owned());
        }
    }
    words.join(" ")
}

fn sub(name: &str, description: &str, options: Vec<CommandOption>) -> CommandOption {
    CommandOption {
        kind: SUB_COMMAND,
        name: name.into(),
        description: cut(description),
        required: false,
        options,
    }
}

fn text(description: &str, required: bool) -> CommandOption {
    CommandOption {
        kind: STRING,
        name: "text".into(),
        description: cut(description),
        required,
        options: Vec::new(),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}", first.to_uppercase(), chars.as_str()),
        None => COMMAND_NAME.into(),
    }
}

fn cut(text: &str) -> String {
    application::chat::truncate(text, DESCRIPTION_MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_received_command_reads_as_slacks_free_text() {
        let data = json!({"name": COMMAND_NAME, "type": 1, "options": [{
        "name": "reject", "type": 1, "options": [
            {"name": "text", "type": 3, "value": "too risky today"},
            {"name": "id", "type": 3, "value": "0190-x"},
        ]}]});
        assert_eq!(command_text(&data), "reject 0190-x too risky today");
        assert_eq!(
            command_text(&json!({"options": [{"name": "help", "type": 1}]})),
            "help"
        );
        assert_eq!(command_text(&json!({})), "");
    }
}
