//! Black-box helpers for end-to-end tests: the real application, wired by the same
//! `service::build` that `main` calls, served on a loopback port, with its neighbours —
//! Slack and Discord — replaced by faithful local fakes.
//!
//! A test reads like the story it checks: `app.create_approval(..)`, `app.click(..)`,
//! `app.slack.wait_for(UPDATE, 1)`. The helpers keep HTTP, signing and polling out of sight.

mod fake_discord;
mod fake_slack;
mod on_a_test_clock;
mod platform;
mod test_app;

pub use fake_discord::{
    APPLICATION_ID, CHANNEL, Call, DISCORD_TOKEN, Endpoint, FakeDiscord, Scripted,
};
pub use fake_slack::{BOT_TOKEN, FakeSlack, POST, UPDATE};
pub use on_a_test_clock::OnATestClock;
pub use platform::{PLATFORMS, Platform, spawn};
pub use test_app::{Answer, Backend, SIGNING_SECRET, TestApp, discord_click};

/// Instantiates each story — an `async fn(Backend)` in the calling module — once per backend,
/// as the tests `sqlite::<story>` and `postgres::<story>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() { super::$story($crate::e2e::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() { super::$story($crate::e2e::Backend::Postgres).await }
            )*
        }
    };
}
