//! What the figures were measured on, for the report's first lines.

/// CPU, cores, memory, OS, kernel and PostgreSQL version, as far as Linux says.
pub async fn describe(postgres_admin_url: &str) -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = field(&cpuinfo, "model name").unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = read("/proc/meminfo");
    let memory = field(&meminfo, "MemTotal")
        .and_then(|kib| kib.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.0} GiB", kib / 1048576.0),
        );
    let os_release = read("/etc/os-release");
    let os = os_release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map_or("unknown OS", |name| name.trim_matches('"'));
    let kernel = read("/proc/sys/kernel/osrelease");
    let postgres = crate::databases::postgres_version(postgres_admin_url)
        .await
        .unwrap_or_else(|e| format!("unknown ({e})"));
    format!(
        "Machine: {cpu}, {cores} cores, {memory} memory; {os}, Linux {}; PostgreSQL {postgres}.",
        kernel.trim()
    )
}

/// The value of the first `name : value` line.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim())
    })
}
