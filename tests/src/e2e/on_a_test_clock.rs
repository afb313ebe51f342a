//! The application in process, on a test clock: a fresh SQLite file, the fakes of the chat
//! platforms, and the use cases called step by step, as the sweeper and the relay would call
//! them. For the stories that need time to pass without waiting for it.

use std::sync::Arc;

use adapter_memory::{ManualClock, SequentialIds};
use application::UseCases;
use application::use_cases::CreateApprovalInput;
use domain::{ApprovalRequest, Identity};
use service::{Adapters, App, Config, Store};

use super::{BOT_TOKEN, FakeDiscord, FakeSlack, SIGNING_SECRET};

pub struct OnATestClock {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl OnATestClock {
    /// The application connected to `slack` and, if given, to `discord`, with the variables
    /// `more` (names without the prefix) on top; its clock starts at the real now.
    pub async fn start(
        slack: &FakeSlack,
        discord: Option<&FakeDiscord>,
        more: &[(&str, &str)],
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("service.db");
        let prefixed = |name: &str| format!("{}_{name}", env!("SERVICE_ENV_PREFIX"));
        let mut env: Vec<(String, String)> = vec![
            (
                prefixed("SQLITE_PATH"),
                database.to_str().unwrap().to_owned(),
            ),
            ("SLACK_BOT_TOKEN".into(), BOT_TOKEN.into()),
            ("SLACK_SIGNING_SECRET".into(), SIGNING_SECRET.into()),
            ("SLACK_API_BASE_URL".into(), slack.uri()),
        ];
        env.extend(
            discord
                .iter()
                .flat_map(|discord| discord.env())
                .map(|(name, value)| (name.to_owned(), value)),
        );
        env.extend(
            more.iter()
                .map(|(name, value)| (prefixed(name), (*value).to_owned())),
        );
        let config = Config::from_env(env).unwrap();
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let persistence = service::open_store(&config).await.unwrap();
        let store = persistence.store.clone();
        let app = service::build_with(
            &config,
            Adapters {
                persistence,
                chat: service::chat_gateway(&config).unwrap(),
                clock: clock.clone(),
                ids: Arc::new(SequentialIds::default()),
                sinks: Default::default(),
            },
        )
        .unwrap();
        Self {
            app,
            clock,
            store,
            _dir: dir,
        }
    }

    pub fn use_cases(&self) -> &UseCases {
        self.app.use_cases()
    }

    /// Creates the request `input` as the client `ci`.
    pub async fn request(&self, input: CreateApprovalInput) -> ApprovalRequest {
        self.use_cases()
            .create_approval
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap()
    }
}
