//! The database's own limit: pgbench running the statements of one hexagate create — the API
//! key lookup, then the approval and its outbox row in one transaction — with nothing in
//! between. No service can beat it on the same server; how close one gets is the figure.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::process::Command;

use crate::Error;

/// `pgbench` runs the create transaction on `clients` connections for `duration`; the
/// transactions per second it reports, or `None` when pgbench is not installed.
///
/// The database must be migrated by hexagate and hold the API key `key` named `name`.
pub async fn create_transaction(
    database_url: &str,
    name: &str,
    key: &str,
    clients: usize,
    duration: Duration,
    dir: &std::path::Path,
) -> Result<Option<f64>, Error> {
    if which("pgbench").is_none() {
        return Ok(None);
    }
    let script = dir.join("create.sql");
    std::fs::write(&script, script_text(name, key))?;
    let output = Command::new("pgbench")
        .args(["--no-vacuum", "--protocol=prepared", "--file"])
        .arg(&script)
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", clients.min(2)))
        .arg(format!("--time={}", duration.as_secs().max(1)))
        .arg(database_url)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    // "tps = 4123.456789 (without initial connection time)"
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .map(Some)
        .ok_or_else(|| format!("no tps line in pgbench's output:\n{stdout}").into())
}

/// The statements of a create as hexagate's PostgreSQL adapter sends them, with the values
/// of the benchmark's request. The id is a UUID v7 (a millisecond timestamp, then random
/// bits), so the primary key index grows at its right edge as it does for hexagate. The
/// round trips are hexagate's too: the id comes back with the insert.
fn script_text(name: &str, key: &str) -> String {
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    // pgbench reads `:name` as a variable, so every colon here is followed by a space.
    let payload = r#"{"type": "approval_requested", "approval": {"title": "Deploy model v7 to production?", "description": "", "destination": "C0BENCH0001", "metadata": {}, "callback_url": null, "policy": {"required_approvals": 1, "allowed_approvers": [], "allow_self_approval": false}, "status": "pending", "decisions": [], "version": 1}}"#;
    format!(
        "SELECT name, hash, created_at FROM api_keys WHERE hash = '{hash}';
BEGIN;
INSERT INTO approvals (id, title, description, requester, destination, metadata, callback_url, required_approvals, allowed_approvers, allow_self_approval, status, decisions, created_at, expires_at, resolved_at, version) VALUES (encode(overlay(uuid_send(gen_random_uuid()) placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid, 'Deploy model v7 to production?', '', '{name}', 'C0BENCH0001', '{{}}', NULL, 1, '{{}}', false, 'pending', '[]', now(), now() + interval '24 hours', NULL, 1) RETURNING id \\gset
INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, next_attempt_at, created_at) VALUES ('approval', :id, 'approval_requested', '{payload}', now(), now());
COMMIT;
"
    )
}

/// The path of `program` on `PATH`, if it is there.
fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}
