//! The processes under test: hexagate (`serve`, `relay`, and its one-shot commands) and the
//! flat baseline, each started with its own environment, its log in a file, and killed when
//! dropped. Also what the benchmark reads about a running process from `/proc`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::Error;

/// How to start hexagate against one database.
#[derive(Debug, Clone)]
pub struct Hexagate {
    pub binary: PathBuf,
    pub database_url: String,
    /// The fake Slack's base URL; without it messages would go to the console.
    pub slack_api_base_url: Option<String>,
    /// Where the processes' logs go.
    pub log_dir: PathBuf,
    /// More settings for every process (the event stream's, for instance).
    pub env: Vec<(String, String)>,
}

impl Hexagate {
    fn command(&self, args: &[&str], log: &str) -> Result<Command, Error> {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            // Warnings only: a log line per request would measure the terminal.
            .env("RUST_LOG", "warn")
            .env("HEXAGATE_LOG_FORMAT", "json");
        if let Some(base) = &self.slack_api_base_url {
            command
                .env("SLACK_BOT_TOKEN", crate::fake_slack::BOT_TOKEN)
                .env("SLACK_SIGNING_SECRET", "bench-signing-secret")
                .env("SLACK_API_BASE_URL", base);
        }
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        let log = std::fs::File::create(self.log_dir.join(log))?;
        command.stdin(Stdio::null()).stderr(log).kill_on_drop(true);
        Ok(command)
    }

    /// `hexagate migrate`.
    pub async fn migrate(&self) -> Result<(), Error> {
        let status = self.command(&["migrate"], "migrate.log")?.status().await?;
        if status.success() {
            Ok(())
        } else {
            Err(self.failed("hexagate migrate", "migrate.log"))
        }
    }

    /// `hexagate api-key create --name NAME`: the key it prints.
    pub async fn create_api_key(&self, name: &str) -> Result<String, Error> {
        let output = self
            .command(&["api-key", "create", "--name", name], "api-key.log")?
            .stdout(Stdio::piped())
            .output()
            .await?;
        let key = String::from_utf8(output.stdout)?.trim().to_owned();
        if output.status.success() && !key.is_empty() {
            Ok(key)
        } else {
            Err(self.failed("hexagate api-key create", "api-key.log"))
        }
    }

    /// `hexagate serve --no-relay` on a free port, once `/readyz` answers.
    pub async fn serve(&self) -> Result<Process, Error> {
        self.start(&["serve", "--no-relay"]).await
    }

    /// `hexagate serve` with its relay delivering in the same process, as a single instance
    /// runs in production.
    pub async fn serve_with_relay(&self) -> Result<Process, Error> {
        self.start(&["serve"]).await
    }

    async fn start(&self, args: &[&str]) -> Result<Process, Error> {
        let addr = free_address().await?;
        let child = self
            .command(args, "serve.log")?
            .env("HEXAGATE_ADDR", &addr)
            .stdout(Stdio::null())
            .spawn()?;
        let process = Process::new(child, format!("http://{addr}"))?;
        process
            .wait_until_answering("/readyz", true)
            .await
            .map_err(|e| format!("{e}; {}", self.failed("hexagate serve", "serve.log")))?;
        Ok(process)
    }

    /// `hexagate relay`, the `n`th of several.
    pub fn relay(&self, n: usize) -> Result<Process, Error> {
        let child = self
            .command(&["relay"], &format!("relay-{n}.log"))?
            .stdout(Stdio::null())
            .spawn()?;
        Process::new(child, String::new())
    }

    fn failed(&self, what: &str, log: &str) -> Error {
        let text = std::fs::read_to_string(self.log_dir.join(log)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(5)..];
        format!("{what} failed; its log ends with:\n{}", tail.join("\n")).into()
    }
}

/// Starts the flat baseline (this same executable's `flat` command) on a free port.
pub async fn flat(
    database_url: &str,
    api_keys: &[(&str, &str)],
    log_dir: &Path,
) -> Result<Process, Error> {
    let addr = free_address().await?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["flat", "--database-url", database_url, "--addr", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log_dir.join("flat.log"))?)
        .kill_on_drop(true);
    for (name, key) in api_keys {
        command.arg("--api-key").arg(format!("{name}={key}"));
    }
    let process = Process::new(command.spawn()?, format!("http://{addr}"))?;
    // The baseline has no readiness route; any answer means the schema is in place.
    process.wait_until_answering("/v1/approvals", false).await?;
    Ok(process)
}

/// A running process; killed when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
    pid: u32,
    /// `http://host:port`, for the ones that serve HTTP.
    pub base_url: String,
}

impl Process {
    fn new(child: Child, base_url: String) -> Result<Self, Error> {
        let pid = child.id().ok_or("the process exited at once")?;
        Ok(Self {
            child,
            pid,
            base_url,
        })
    }

    /// Polls `path` until it answers (with a success when `success` is set), for up to 30 s.
    async fn wait_until_answering(&self, path: &str, success: bool) -> Result<(), Error> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(response) = client.get(format!("{}{path}", self.base_url)).send().await
                && (!success || response.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("{} did not answer {path} within 30 s", self.base_url).into())
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu_time(&self) -> Result<Duration, Error> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // The command name in parentheses may hold spaces; the fields after it do not.
        // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |index: usize| -> Result<u64, Error> {
            Ok(fields
                .get(index)
                .ok_or("/proc/PID/stat is shorter than expected")?
                .parse()?)
        };
        let total = ticks(11)? + ticks(12)?;
        Ok(Duration::from_secs_f64(
            total as f64 / clock_ticks_per_second(),
        ))
    }

    /// The process's resident set right now, in bytes.
    pub fn rss(&self) -> Result<u64, Error> {
        self.status_kib("VmRSS:").map(|kib| kib * 1024)
    }

    /// The largest resident set the process has had, in bytes.
    pub fn peak_rss(&self) -> Result<u64, Error> {
        self.status_kib("VmHWM:").map(|kib| kib * 1024)
    }

    /// A `… kB` field of `/proc/PID/status`.
    fn status_kib(&self, field: &str) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .ok_or_else(|| format!("no {field} in /proc/PID/status").into())
    }

    /// Kills the process and waits for it to be gone. Every store here is thrown away after
    /// the run, so there is nothing a graceful shutdown would save.
    pub async fn stop(mut self) {
        // An error means it is already gone, which is what was asked for.
        let _ = self.child.kill().await;
    }
}

/// `USER_HZ`: the unit of `/proc/PID/stat` times. It is 100 on every mainstream Linux
/// build; `getconf` says for sure.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// A loopback address no one listens on right now. Another process could take it before the
/// service binds it; on a benchmark machine that does not happen.
async fn free_address() -> Result<String, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    Ok(listener.local_addr()?.to_string())
}
