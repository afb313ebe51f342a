//! A throw-away PostgreSQL cluster under `target/test-postgres/`, for machines that have
//! PostgreSQL installed but no server running. Started once, then reused by later test runs
//! (and by other test processes); stop it with `pg_ctl -D target/test-postgres/data stop`,
//! or delete the directory to start afresh.
//!
//! `initdb` refuses to run as root, so when the tests run as root the cluster belongs to the
//! `postgres` user (which the PostgreSQL packages create) and every command runs through
//! `runuser -u postgres`. As a normal user it simply belongs to that user.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Why no cluster could be started.
#[derive(Debug)]
pub(super) enum ClusterError {
    /// `initdb`/`pg_ctl` are nowhere to be found.
    NotInstalled,
    /// They are, but something went wrong; the text says what.
    Failed(String),
}

/// Settings for a cluster whose data is worthless: no durability, TCP on localhost only.
const SETTINGS: &str = "
# Written by the tests: a throw-away cluster, so durability is traded for speed.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
";

/// Starts the cluster (creating it on first use) or finds it running; returns its URL.
pub(super) fn start() -> Result<String, ClusterError> {
    let bin = find_binaries().ok_or(ClusterError::NotInstalled)?;
    let root = target_dir().join("test-postgres");
    let data = root.join("data");
    fs::create_dir_all(&root).map_err(failed("creating", &root))?;
    // Test processes run in parallel (one per test file); one at a time sets the cluster up.
    let lock_path = root.join("lock");
    let lock = File::create(&lock_path).map_err(failed("creating", &lock_path))?;
    lock.lock().map_err(failed("locking", &lock_path))?;

    let owner = cluster_owner()?;
    if let Some(port) = running_port(owner.as_deref(), &bin, &data) {
        return Ok(url(port));
    }
    if let Some(user) = owner.as_deref() {
        run(Command::new("chown").arg("-R").arg(user).arg(&root))?;
    }
    if !data.join("PG_VERSION").exists() {
        run(as_owner(owner.as_deref(), &bin.join("initdb"))
            .arg("--pgdata")
            .arg(&data)
            .args([
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
            ]))?;
        let conf = data.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| file.write_all(SETTINGS.as_bytes()))
            .map_err(failed("configuring", &conf))?;
    }
    let port = free_port()?;
    let log = root.join("server.log");
    run(as_owner(owner.as_deref(), &bin.join("pg_ctl"))
        .arg("--pgdata")
        .arg(&data)
        .arg("--log")
        .arg(&log)
        .args(["--options", &format!("-p {port}")])
        .args(["--wait", "--timeout", "60", "start"]))
    .map_err(|e| match e {
        ClusterError::Failed(reason) => {
            ClusterError::Failed(format!("{reason}; the server's log is {}", log.display()))
        }
        other => other,
    })?;
    eprintln!(
        "started a throw-away PostgreSQL on port {port}, data in {}",
        data.display()
    );
    Ok(url(port))
}

fn url(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

/// The directory holding `initdb` and `pg_ctl`: on `PATH`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian keeps them off `PATH`).
fn find_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    on_path
        .into_iter()
        .chain(versioned.into_iter().map(|(_, dir)| dir))
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// The workspace's target directory, where cargo keeps everything it may delete.
fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

/// The port of a server already running on `data`, read from its `postmaster.pid`.
fn running_port(owner: Option<&str>, bin: &Path, data: &Path) -> Option<u16> {
    let status = as_owner(owner, &bin.join("pg_ctl"))
        .arg("status")
        .arg("--pgdata")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    // Line 4 of postmaster.pid is the port.
    let pid_file = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let port = pid_file.lines().nth(3)?.trim().parse().ok()?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_secs(1))
        .is_ok()
        .then_some(port)
}

/// `None` to run as ourselves; `Some("postgres")` when we are root, which `initdb` refuses.
fn cluster_owner() -> Result<Option<String>, ClusterError> {
    let uid = output(Command::new("id").arg("-u"))?;
    if uid.trim() != "0" {
        return Ok(None);
    }
    output(Command::new("id").args(["-u", "postgres"])).map_err(|_| {
        ClusterError::Failed(
            "running as root, the cluster must belong to another user, and there is no \
             `postgres` user: create one, run the tests as a normal user, or set DATABASE_URL"
                .into(),
        )
    })?;
    Ok(Some("postgres".into()))
}

/// A command that runs `program` as `owner` (through `runuser`) or as ourselves.
fn as_owner(owner: Option<&str>, program: &Path) -> Command {
    match owner {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| ClusterError::Failed(format!("finding a free port: {e}")))
}

/// Runs a command to completion; its output becomes the error if it fails.
fn run(command: &mut Command) -> Result<(), ClusterError> {
    output(command).map(drop)
}

fn output(command: &mut Command) -> Result<String, ClusterError> {
    // No stdin, and captured stdout/stderr: `pg_ctl` redirects the server's own output to
    // its log file, so the pipes close when the command exits.
    let result = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ClusterError::Failed(format!("running {command:?}: {e}")))?;
    if result.status.success() {
        Ok(String::from_utf8_lossy(&result.stdout).into_owned())
    } else {
        Err(ClusterError::Failed(format!(
            "{command:?} failed ({}): {}",
            result.status,
            String::from_utf8_lossy(&result.stderr).trim()
        )))
    }
}

fn failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError {
    let path = path.display().to_string();
    move |e| ClusterError::Failed(format!("{action} {path}: {e}"))
}
