//! The command grammar, against two made-up kinds of subject, so the rules shown are the
//! generic ones, not any aggregate's.

use mockall::predicate::always;

use super::*;
use crate::chat::subject::{MockChatSubject, Noun, Vocabulary};

const ID: &str = "01900000-0000-7000-8000-000000000001";

static WIDGET: Vocabulary = Vocabulary {
    kind: "widget",
    name: Noun {
        word: "blue widget",
        with_article: "a blue widget",
    },
    short: Noun {
        word: "widget",
        with_article: "a widget",
    },
    purpose: "turn widgets",
    actions: &["turn", "smash"],
    commands: &[
        CommandSpec {
            verb: "turn",
            action: "turn",
            usage: "<id> [comment]",
            summary: "turns a widget",
            text: TextArg::Optional,
        },
        CommandSpec {
            verb: "smash",
            action: "smash",
            usage: "<id> <reason>",
            summary: "smashes it",
            text: TextArg::Required {
                missing: "Smashing needs a reason.",
            },
        },
    ],
};

static GADGET: Vocabulary = Vocabulary {
    kind: "gadget",
    name: Noun {
        word: "gadget",
        with_article: "a gadget",
    },
    short: Noun {
        word: "gadget",
        with_article: "a gadget",
    },
    purpose: "poke gadgets",
    actions: &["poke"],
    commands: &[CommandSpec {
        verb: "poke",
        action: "poke",
        usage: "<gadget id>",
        summary: "pokes a gadget",
        text: TextArg::None,
    }],
};

fn subject(vocabulary: &'static Vocabulary) -> MockChatSubject {
    let mut subject = MockChatSubject::new();
    subject.expect_vocabulary().return_const(vocabulary);
    subject
}

/// Subjects that must not be acted on.
fn untouched() -> ChatSubjects {
    let mut widget = subject(&WIDGET);
    widget.expect_act().never();
    let mut gadget = subject(&GADGET);
    gadget.expect_act().never();
    ChatSubjects::new().with(widget).with(gadget)
}

async fn run(subjects: &ChatSubjects, text: &str) -> String {
    subjects
        .command(SlashCommand {
            name: "/gate",
            text,
            actor: Identity::parse("slack:U1").unwrap(),
            platform: "Slack",
        })
        .await
        .to_string()
}

/// The first line of the answer: the usage error above the help.
async fn first_line(subjects: &ChatSubjects, text: &str) -> String {
    run(subjects, text).await.lines().next().unwrap().to_owned()
}

fn expecting(act: impl Fn(&Act) -> bool + Send + 'static) -> ChatSubjects {
    let mut widget = subject(&WIDGET);
    widget
        .expect_act()
        .withf(act)
        .times(1)
        .returning(|_| Some("done".into()));
    ChatSubjects::new().with(widget).with(subject(&GADGET))
}

#[tokio::test]
async fn a_verb_acts_on_the_id_with_the_rest_as_its_text() {
    let subjects = expecting(|act| {
        act.action == "turn"
            && act.id.to_string() == ID
            && act.text.as_deref() == Some("ship it,  really")
            && act.via == Via::Command
            && act.actor.as_str() == "slack:U1"
    });
    let answer = run(&subjects, &format!("  TURN   {ID}   ship it,  really  ")).await;
    assert_eq!(answer, "done");
}

#[tokio::test]
async fn an_optional_text_may_be_left_out() {
    let subjects = expecting(|act| act.text.is_none());
    assert_eq!(run(&subjects, &format!("turn {ID}")).await, "done");
}

#[tokio::test]
async fn a_required_text_must_be_given() {
    for text in [format!("smash {ID}"), format!("smash {ID}   ")] {
        assert_eq!(
            first_line(&untouched(), &text).await,
            "Smashing needs a reason."
        );
    }
}

#[tokio::test]
async fn a_verb_without_text_takes_exactly_an_id() {
    let mut gadget = subject(&GADGET);
    gadget
        .expect_act()
        .with(always())
        .times(1)
        .returning(|_| Some("poked".into()));
    let subjects = ChatSubjects::new().with(subject(&WIDGET)).with(gadget);
    assert_eq!(run(&subjects, &format!(" Poke  {ID} ")).await, "poked");
    assert_eq!(
        first_line(&untouched(), &format!("poke {ID} please")).await,
        "`poke` takes only a gadget id."
    );
}

#[tokio::test]
async fn bad_ids_and_unknown_verbs_are_explained_above_the_help() {
    let subjects = untouched();
    let cases = [
        ("turn", "Which widget? Give its id."),
        ("poke 42", "“42” is not a gadget id."),
        ("status", "Which widget or gadget? Give its id."),
        ("status 42", "“42” is not a widget or gadget id."),
        (
            &format!("status {ID} now"),
            "`status` takes only a widget or gadget id.",
        ),
        ("deploy now", "“deploy” is not something I can do."),
    ];
    for (text, expected) in cases {
        let answer = run(&subjects, text).await;
        assert!(answer.starts_with(&format!("{expected}\n\n")), "{answer}");
        assert!(answer.contains("Turn widgets and poke gadgets from Slack:"));
    }
}

#[tokio::test]
async fn a_long_mistyped_word_is_repeated_back_only_in_part() {
    let answer = first_line(&untouched(), &"x".repeat(1000)).await;
    assert_eq!(
        answer,
        format!("“{}…” is not something I can do.", "x".repeat(39))
    );
}

#[tokio::test]
async fn help_lists_every_verb_with_the_command_name() {
    for text in ["", "   ", "help", "help me"] {
        assert_eq!(
            run(&untouched(), text).await,
            "Turn widgets and poke gadgets from Slack:\n\
             • `/gate turn <id> [comment]` turns a widget\n\
             • `/gate smash <id> <reason>` smashes it\n\
             • `/gate poke <gadget id>` pokes a gadget\n\
             • `/gate status <id>` shows where a widget or a gadget stands\n\
             • `/gate help` shows this message"
        );
    }
}
