//! The binary as an operator meets it: run as a process, with only the variables
//! each test sets (the developer's own environment is cleared), judged by its exit code,
//! stdout and stderr.

// Helpers below are test code too; clippy.toml's allowances only reach `#[test]` functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The variables' prefix, as the binary prints them.
const P: &str = env!("SERVICE_ENV_PREFIX");
const SECRETS: [&str; 3] = ["hunter2", "xoxb-bot-token-value", "signing-secret-value"];

fn binary(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("SERVICE_NAME"))));
    command.args(args).env_clear().envs(env.iter().copied());
    command
}

/// Runs to completion, but never longer than `limit`: a hang is a failure, not a stuck CI.
fn run(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut child, limit);
    let mut output = Output {
        status,
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output.stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut output.stderr)
        .unwrap();
    output
}

fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the binary did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh database file in a directory that is removed when the returned guard drops.
fn scratch_database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.db").to_string_lossy().into_owned();
    (dir, path)
}

#[test]
fn config_check_prints_the_effective_configuration_with_secrets_redacted() {
    let output = run(
        binary(
            &["config", "check"],
            &[
                ("DATABASE_URL", "postgres://app:hunter2@db.internal/service"),
                ("SLACK_BOT_TOKEN", "xoxb-bot-token-value"),
                ("SLACK_SIGNING_SECRET", "signing-secret-value"),
            ],
        ),
        Duration::from_secs(10),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("\nDATABASE_URL=postgres://app:***@db.internal/service\n"));
    assert!(stdout.contains("\nSLACK_BOT_TOKEN=***\n"));
    assert!(stdout.contains("\nSLACK_SIGNING_SECRET=***\n"));
    assert!(stdout.contains(&format!("\n{P}_ADDR=127.0.0.1:8080\n")));
    for secret in SECRETS {
        assert!(!stdout.contains(secret), "stdout shows {secret}");
        assert!(
            !text(&output.stderr).contains(secret),
            "stderr shows {secret}"
        );
    }
}

#[test]
fn config_check_reads_the_config_file_and_shows_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("service.env");
    std::fs::write(
        &file,
        format!(
            "# production\n\
         {P}_ADDR=0.0.0.0:9000\n\
         DATABASE_URL=postgres://app:hunter2@db.internal/service\n\
         SLACK_BOT_TOKEN=xoxb-bot-token-value\n\
         SLACK_SIGNING_SECRET=signing-secret-value\n",
        ),
    )
    .unwrap();
    let file = file.to_string_lossy().into_owned();
    let output = run(
        binary(
            &["config", "check"],
            &[
                (concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"), &file),
                (
                    concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"),
                    "127.0.0.1:7000",
                ),
            ],
        ),
        Duration::from_secs(10),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let from_environment =
        format!("\n# from the environment\n{P}_CONFIG_FILE={file}\n{P}_ADDR=127.0.0.1:7000\n");
    assert!(stdout.contains(&from_environment), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\n# from {file}\nDATABASE_URL=postgres://app:***@db.internal/service\n\
             SLACK_BOT_TOKEN=***\nSLACK_SIGNING_SECRET=***\n"
        )),
        "{stdout}"
    );
    for secret in SECRETS {
        assert!(!stdout.contains(secret), "stdout shows {secret}");
    }
}

#[test]
fn a_bad_configuration_is_refused_with_every_problem_listed() {
    let output = run(
        binary(
            &["config", "check"],
            &[
                (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "localhost"),
                (concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"), "xml"),
                ("SLACK_BOT_TOKEN", "xoxb-bot-token-value"),
            ],
        ),
        Duration::from_secs(10),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: invalid configuration\n"),
        "{stderr}"
    );
    for variable in [
        concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"),
        concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"),
        "SLACK_SIGNING_SECRET",
    ] {
        assert!(
            stderr.contains(&format!("\n  {variable}")),
            "{variable} missing: {stderr}"
        );
    }
    assert!(!stderr.contains("xoxb-bot-token-value"));
}

#[test]
fn an_unreachable_database_fails_fast_with_one_clear_error_line() {
    let output = run(
        binary(
            &["migrate"],
            &[
                // Port 1 on loopback: nothing listens there, so the connection is refused.
                ("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:1/service"),
                (
                    concat!(env!("SERVICE_ENV_PREFIX"), "_DB_ACQUIRE_TIMEOUT"),
                    "1s",
                ),
            ],
        ),
        Duration::from_secs(20),
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(
            "error: cannot open PostgreSQL at postgres://app:***@127.0.0.1:1/service: "
        ),
        "{}",
        errors[0]
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn api_key_create_prints_the_key_alone_on_stdout_and_refuses_a_taken_name() {
    let (_dir, database) = scratch_database();
    let env = [(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
        database.as_str(),
    )];

    let output = run(
        binary(&["api-key", "create", "--name", "ci"], &env),
        Duration::from_secs(20),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let key = text(&output.stdout);
    let key = key.trim_end();
    assert_eq!(key.len(), 43, "a 256-bit key in base64url: {key:?}");
    assert!(!key.contains('\n'));
    assert!(text(&output.stderr).contains("created API key ci"));

    let again = run(
        binary(&["api-key", "create", "--name", "ci"], &env),
        Duration::from_secs(20),
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(again.stdout.is_empty());
    assert!(
        text(&again.stderr).contains("error: an API key named ci already exists"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn api_key_create_json_prints_the_webhook_secret_and_rotation_prints_a_new_one() {
    let (_dir, database) = scratch_database();
    let env = [(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
        database.as_str(),
    )];

    let output = run(
        binary(&["api-key", "create", "--name", "ci", "--json"], &env),
        Duration::from_secs(20),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created["name"], "ci");
    assert_eq!(created["api_key"].as_str().unwrap().len(), 43);
    let first = created["webhook_secret"].as_str().unwrap().to_owned();
    assert!(first.starts_with("whsec_"), "{first}");

    let rotated = run(
        binary(
            &[
                "api-key",
                "rotate-webhook-secret",
                "--name",
                "ci",
                "--grace",
                "1h",
            ],
            &env,
        ),
        Duration::from_secs(20),
    );
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let second = text(&rotated.stdout);
    let second = second.trim_end();
    assert!(second.starts_with("whsec_") && second != first, "{second}");
    assert!(
        !text(&rotated.stderr).contains("whsec_"),
        "a secret on stderr"
    );

    let unknown = run(
        binary(
            &["api-key", "rotate-webhook-secret", "--name", "nobody"],
            &env,
        ),
        Duration::from_secs(20),
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no API key is named nobody"));
}

/// Starts a long-running subcommand with JSON logs and returns it with its log lines.
fn spawn_logging(
    args: &[&str],
    env: &[(&str, &str)],
) -> (Child, mpsc::Receiver<serde_json::Value>) {
    let mut child = binary(args, env)
        .env(concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"), "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    // Reads until the process exits, so it never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let parsed = serde_json::from_str(&line).unwrap_or(serde_json::Value::String(line));
            if lines.send(parsed).is_err() {
                break;
            }
        }
    });
    (child, received)
}

fn wait_for_log(lines: &mpsc::Receiver<serde_json::Value>, message: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line["message"] == message => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no {message:?} log line");
}

#[cfg(unix)]
fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn serve_answers_requests_and_exits_cleanly_on_sigterm() {
    let (_dir, database) = scratch_database();
    let (mut child, lines) = spawn_logging(
        &["serve"],
        &[
            (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "127.0.0.1:0"),
            (
                concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
                database.as_str(),
            ),
        ],
    );
    let listening = wait_for_log(&lines, "listening");
    let addr: SocketAddr = listening["addr"].as_str().unwrap().parse().unwrap();

    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"GET /healthz HTTP/1.1\r\nhost: test\r\nx-request-id: cli-probe-1\r\n\
              connection: close\r\n\r\n",
        )
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // The JSON log line of the response is one flat object carrying the request's fields.
    let answered = wait_for_log(&lines, "finished processing request");
    assert_eq!(answered["request_id"], "cli-probe-1", "{answered}");
    assert_eq!(answered["route"], "/healthz", "{answered}");

    send_signal(&child, "-TERM");
    let status = wait(&mut child, Duration::from_secs(20));
    assert!(status.success(), "exit status {status}");
    wait_for_log(&lines, "stopped");
}

#[cfg(unix)]
#[test]
fn the_relay_worker_exits_cleanly_on_sigint() {
    let (_dir, database) = scratch_database();
    let (mut child, lines) = spawn_logging(
        &["relay"],
        &[(
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            database.as_str(),
        )],
    );
    wait_for_log(&lines, "outbox relay started");

    send_signal(&child, "-INT");
    let status = wait(&mut child, Duration::from_secs(20));
    assert!(status.success(), "exit status {status}");
    wait_for_log(&lines, "outbox relay stopped");
}
