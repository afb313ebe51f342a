//! A fake Discord REST API on a loopback port, faithful to what the real one checks and
//! answers (`shared/reference/chat-protocols.md` §6.5, §7.2 and §8.1): the `Bot` token, the
//! `DiscordBot (…)` user agent, JSON bodies, mentions that ping nobody, components within
//! their limits, and the `nonce` with `enforce_nonce` (a second post with the same nonce gets
//! the first message back, and no new one). A message with a `message_reference` is a reply:
//! it must name a message of its channel, and may ping exactly the users it mentions.
//! Failures are scripted per endpoint; every call is recorded with the moment it arrived.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use rand::rand_core::{Rng as _, UnwrapErr};
use rand::rngs::SysRng;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The bot token the application is configured with; the fake refuses any other.
pub const DISCORD_TOKEN: &str = "discord-e2e-bot-token";
/// The application id the application is configured with.
pub const APPLICATION_ID: &str = "1100000000000000001";
/// The channel the tests post to.
pub const CHANNEL: &str = "1200000000000000002";

/// Which calls a scripted failure applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /channels/{id}/messages`
    Create,
    /// `PATCH /channels/{id}/messages/{id}`
    Edit,
    /// `PUT /applications/{id}/commands`
    Commands,
}

/// A scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl Scripted {
    /// A route rate limit, as Discord answers it: the fractional `retry_after` in the body,
    /// the rounded-up `Retry-After` and the `X-RateLimit-*` headers.
    pub fn rate_limited(retry_after: f64) -> Self {
        Self {
            status: 429,
            headers: vec![
                ("retry-after", (retry_after.ceil() as u64).to_string()),
                ("x-ratelimit-limit", "5".into()),
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset-after", retry_after.to_string()),
                ("x-ratelimit-scope", "user".into()),
            ],
            body: json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
        }
    }

    /// An error with Discord's JSON error body.
    pub fn error(status: u16, code: u32, message: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: json!({"code": code, "message": message}),
        }
    }

    fn template(&self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status).set_body_json(&self.body);
        for (name, value) in &self.headers {
            template = template.insert_header(*name, value.as_str());
        }
        template
    }
}

/// One call as the fake received it.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub endpoint: Option<Endpoint>,
    pub path: String,
    pub body: Value,
    pub status: u16,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    /// Message id → the latest body posted or edited into it, and its channel.
    messages: HashMap<String, (String, Value)>,
    /// Message ids in creation order.
    created: Vec<String>,
    /// Replies (messages with a `message_reference`), in creation order.
    replies: Vec<Value>,
    nonces: HashMap<String, String>,
    next_id: u64,
    fail_next: Vec<(Endpoint, VecDeque<Scripted>)>,
    fail_while: Vec<(Endpoint, Arc<AtomicBool>, Scripted)>,
    commands: Option<Value>,
}

#[derive(Clone)]
struct Responder(Arc<Mutex<State>>);

/// The fake, with helpers to script failures and read what it received.
pub struct FakeDiscord {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
    /// The application's key pair, generated per fake: the tests sign interactions with it.
    signing: SigningKey,
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            next_id: 1_300_000_000_000_000_000,
            ..State::default()
        }));
        Mock::given(any())
            .respond_with(Responder(state.clone()))
            .mount(&server)
            .await;
        let mut seed = [0u8; 32];
        UnwrapErr(SysRng).fill_bytes(&mut seed);
        Self {
            server,
            state,
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// `DISCORD_API_BASE_URL`: the fake, with the version path the real API has.
    pub fn uri(&self) -> String {
        format!("{}/api/v10", self.server.uri())
    }

    /// `DISCORD_PUBLIC_KEY`.
    pub fn public_key(&self) -> String {
        hex::encode(self.signing.verifying_key().as_bytes())
    }

    /// The `X-Signature-Ed25519` Discord sends with `body` at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &str) -> String {
        hex::encode(
            self.signing
                .sign(format!("{timestamp}{body}").as_bytes())
                .to_bytes(),
        )
    }

    /// The environment that points the service at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DISCORD_BOT_TOKEN", DISCORD_TOKEN.to_owned()),
            ("DISCORD_PUBLIC_KEY", self.public_key()),
            ("DISCORD_APPLICATION_ID", APPLICATION_ID.to_owned()),
            ("DISCORD_API_BASE_URL", self.uri()),
            ("DISCORD_TIMEOUT", "5s".to_owned()),
        ]
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `times` calls to `endpoint` get `response`, after authentication.
    pub fn fail(&self, endpoint: Endpoint, times: usize, response: Scripted) {
        self.state()
            .fail_next
            .push((endpoint, std::iter::repeat_n(response, times).collect()));
    }

    /// Calls to `endpoint` get `response` for as long as `broken` is set.
    pub fn fail_while(&self, endpoint: Endpoint, broken: Arc<AtomicBool>, response: Scripted) {
        self.state().fail_while.push((endpoint, broken, response));
    }

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The calls to `endpoint` so far.
    pub fn calls_to(&self, endpoint: Endpoint) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.endpoint == Some(endpoint))
            .collect()
    }

    /// The messages in the channel, in creation order, each as last posted or edited.
    pub fn messages(&self) -> Vec<Value> {
        let state = self.state();
        state
            .created
            .iter()
            .filter_map(|id| state.messages.get(id).map(|(_, body)| body.clone()))
            .collect()
    }

    /// The replies posted so far, in creation order (not among [`messages`](Self::messages)).
    pub fn replies(&self) -> Vec<Value> {
        self.state().replies.clone()
    }

    /// The message with this id, as last posted or edited.
    pub fn message(&self, id: &str) -> Option<Value> {
        self.state().messages.get(id).map(|(_, body)| body.clone())
    }

    /// The commands registered so far.
    pub fn commands(&self) -> Option<Value> {
        self.state().commands.clone()
    }

    /// The verbs (subcommand names) of the registered commands, in order, after checking
    /// that the first command registered is the service's own.
    pub fn registered_verbs(&self) -> Vec<String> {
        let commands = self.commands().expect("commands were registered");
        assert_eq!(commands[0]["name"], env!("SERVICE_NAME"), "{commands}");
        commands[0]["options"]
            .as_array()
            .expect("the command has options")
            .iter()
            .map(|option| option["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits (up to 30 s) until `check` holds for the messages in the channel.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..600 {
            let messages = self.messages();
            if check(&messages) {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {what}; the channel has {:#?}", self.messages());
    }
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let path = request.url.path().to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let endpoint = endpoint(request.method.as_str(), &path);
        let (status, response) = match check_request(request) {
            Err(refusal) => (refusal.status, refusal.template()),
            Ok(()) => match scripted(&mut state, endpoint) {
                Some(response) => response,
                None => answer(&mut state, endpoint, &path, &body),
            },
        };
        state.calls.push(Call {
            at: Instant::now(),
            endpoint,
            path,
            body,
            status,
        });
        response
    }
}

fn endpoint(method: &str, path: &str) -> Option<Endpoint> {
    let parts: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", ["channels", _, "messages"]) => Some(Endpoint::Create),
        ("PATCH", ["channels", _, "messages", _]) => Some(Endpoint::Edit),
        ("PUT", ["applications", _, "commands"]) => Some(Endpoint::Commands),
        _ => None,
    }
}

fn error(status: u16, code: u32, message: &str) -> (u16, ResponseTemplate) {
    (
        status,
        ResponseTemplate::new(status).set_body_json(json!({"code": code, "message": message})),
    )
}

/// What Discord refuses before looking at the call itself.
fn check_request(request: &Request) -> Result<(), Scripted> {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if header("authorization") != format!("Bot {DISCORD_TOKEN}") {
        return Err(Scripted::error(401, 0, "401: Unauthorized"));
    }
    if !header("user-agent").starts_with("DiscordBot (") {
        // What Cloudflare does with unknown agents, as near as a fake gets.
        return Err(Scripted::error(403, 0, "bad user agent"));
    }
    if !header("content-type").starts_with("application/json")
        || serde_json::from_slice::<Value>(&request.body).is_err()
    {
        return Err(Scripted::error(400, 50035, "Invalid Form Body"));
    }
    Ok(())
}

fn scripted(state: &mut State, endpoint: Option<Endpoint>) -> Option<(u16, ResponseTemplate)> {
    let endpoint = endpoint?;
    let found = state
        .fail_while
        .iter()
        .find(|(scripted, broken, _)| *scripted == endpoint && broken.load(Ordering::SeqCst))
        .map(|(_, _, response)| response.clone())
        .or_else(|| {
            state
                .fail_next
                .iter_mut()
                .filter(|(scripted, _)| *scripted == endpoint)
                .find_map(|(_, responses)| responses.pop_front())
        })?;
    Some((found.status, found.template()))
}

fn answer(
    state: &mut State,
    endpoint: Option<Endpoint>,
    path: &str,
    body: &Value,
) -> (u16, ResponseTemplate) {
    let parts: Vec<&str> = path.trim_start_matches("/api/v10/").split('/').collect();
    match endpoint {
        Some(Endpoint::Create) if body.get("message_reference").is_some() => {
            if let Err(refusal) = check_reply(state, parts[1], body) {
                return (refusal.status, refusal.template());
            }
            state.next_id += 1;
            let id = state.next_id.to_string();
            state.replies.push(body.clone());
            (200, message_answer(&id, parts[1], body))
        }
        Some(Endpoint::Create) => {
            if let Err(refusal) = check_message(body) {
                return (refusal.status, refusal.template());
            }
            let nonce = body["nonce"].as_str().unwrap_or_default();
            if nonce.is_empty() || nonce.len() > 25 || body["enforce_nonce"] != true {
                return error(400, 50035, "Invalid Form Body (nonce)");
            }
            let channel = parts[1].to_owned();
            if let Some(id) = state.nonces.get(nonce) {
                let id = id.clone();
                return (200, message_answer(&id, &channel, &state.messages[&id].1));
            }
            state.next_id += 1;
            let id = state.next_id.to_string();
            state.nonces.insert(nonce.to_owned(), id.clone());
            state.created.push(id.clone());
            state
                .messages
                .insert(id.clone(), (channel.clone(), body.clone()));
            (200, message_answer(&id, &channel, body))
        }
        Some(Endpoint::Edit) => {
            if let Err(refusal) = check_message(body) {
                return (refusal.status, refusal.template());
            }
            let (channel, id) = (parts[1], parts[3]);
            match state.messages.get_mut(id) {
                Some((posted_in, stored)) if posted_in.as_str() == channel => {
                    *stored = body.clone();
                    (200, message_answer(id, channel, body))
                }
                _ => error(404, 10008, "Unknown Message"),
            }
        }
        Some(Endpoint::Commands) => {
            let valid = body.as_array().is_some_and(|commands| {
                commands.iter().all(|c| {
                    let name = c["name"].as_str().unwrap_or_default();
                    let description = c["description"].as_str().unwrap_or_default();
                    !name.is_empty()
                        && name.len() <= 32
                        // Discord's rule is `^[-_\p{L}\p{N}]{1,32}$`, letters in lower case;
                        // the ASCII part of it covers every name a service is given.
                        && name.chars().all(|ch| {
                            ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_'
                        })
                        && (1..=100).contains(&description.chars().count())
                })
            });
            if !valid || parts[1] != APPLICATION_ID {
                return error(400, 50035, "Invalid Form Body (commands)");
            }
            state.commands = Some(body.clone());
            (200, ResponseTemplate::new(200).set_body_json(body))
        }
        None => error(404, 0, "404: Not Found"),
    }
}

/// A message body as Discord accepts it, with the rules of this service on top: nobody may be
/// pinged (`allowed_mentions.parse` empty), and `components` always sent.
fn check_message(body: &Value) -> Result<(), Scripted> {
    let refuse = |what: &str| Scripted::error(400, 50035, &format!("Invalid Form Body ({what})"));
    if body["allowed_mentions"] != json!({"parse": []}) {
        return Err(refuse("allowed_mentions would ping"));
    }
    if body["content"]
        .as_str()
        .is_none_or(|c| c.chars().count() > 2000)
    {
        return Err(refuse("content"));
    }
    let Some(rows) = body["components"].as_array() else {
        return Err(refuse("components missing"));
    };
    for row in rows {
        let buttons = row["components"].as_array().map_or(&[][..], Vec::as_slice);
        if row["type"] != 1 || buttons.is_empty() || buttons.len() > 5 {
            return Err(refuse("action row"));
        }
        for button in buttons {
            let custom_id = button["custom_id"].as_str().unwrap_or_default();
            let label = button["label"].as_str().unwrap_or_default();
            let style = button["style"].as_u64().unwrap_or_default();
            if button["type"] != 2
                || !(1..=4).contains(&style)
                || custom_id.is_empty()
                || custom_id.len() > 100
                || label.chars().count() > 80
            {
                return Err(refuse("button"));
            }
        }
    }
    Ok(())
}

/// A reply as Discord accepts it: a reference to a message of the same channel (Discord
/// answers 400 for one it cannot find, unless `fail_if_not_exists` is false), content within
/// its limit, a nonce, and pings for no one but users the content mentions.
fn check_reply(state: &State, channel: &str, body: &Value) -> Result<(), Scripted> {
    let refuse = |what: &str| Scripted::error(400, 50035, &format!("Invalid Form Body ({what})"));
    let reference = &body["message_reference"];
    let replied_to = reference["message_id"].as_str().unwrap_or_default();
    let exists = state
        .messages
        .get(replied_to)
        .is_some_and(|(posted_in, _)| posted_in == channel);
    if !exists && reference["fail_if_not_exists"] != false {
        return Err(refuse("message_reference: Unknown message"));
    }
    let content = body["content"].as_str().unwrap_or_default();
    if content.is_empty() || content.chars().count() > 2000 {
        return Err(refuse("content"));
    }
    let nonce = body["nonce"].as_str().unwrap_or_default();
    if nonce.is_empty() || nonce.len() > 25 || body["enforce_nonce"] != true {
        return Err(refuse("nonce"));
    }
    let mentions = &body["allowed_mentions"];
    let users = mentions["users"].as_array().map_or(&[][..], Vec::as_slice);
    let only_mentioned_users = users.len() <= 100
        && users.iter().all(|user| {
            user.as_str()
                .is_some_and(|id| content.contains(&format!("<@{id}>")))
        });
    if mentions["parse"] != json!([]) || mentions["replied_user"] == true || !only_mentioned_users {
        return Err(refuse("allowed_mentions would ping someone not mentioned"));
    }
    Ok(())
}

fn message_answer(id: &str, channel: &str, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id,
        "channel_id": channel,
        "type": 0,
        "content": body["content"],
        "components": body["components"],
        "embeds": body["embeds"],
    }))
}
