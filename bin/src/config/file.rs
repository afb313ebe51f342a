//! The optional configuration file named by `<PREFIX>_CONFIG_FILE`: the same variables as
//! the environment, one `NAME=value` per line.
//!
//! The format is the common subset of Docker's `--env-file` and systemd's
//! `EnvironmentFile=`, so one file can serve all three: blank lines and lines starting with
//! `#` are skipped, the value is everything after the first `=` with surrounding spaces
//! removed, and there is no quoting or escaping. Being stricter than the environment is
//! deliberate: a file holds only the service's settings, so an unknown name is a typo worth
//! reporting, where the environment is shared with every other program.
//!
//! Messages never quote a line or a value: the file may hold the database password or the
//! Slack credentials, and a line that does not parse may be one of them.

use std::collections::HashMap;

use super::variables::{CONFIG_FILE, VARIABLES};

/// The settings of one file, by variable name. Empty values are left out: like an empty
/// environment variable, they count as unset.
pub(super) type Settings = HashMap<&'static str, String>;

/// Parses the text of a configuration file: the settings it holds, and one message per line
/// that could not be used (`line 3: …`). Lines that parse are kept even when others do not,
/// so every problem is found in one go.
pub(super) fn parse(text: &str) -> (Settings, Vec<String>) {
    let mut settings = Settings::new();
    let mut first_seen: HashMap<&'static str, usize> = HashMap::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match setting(line) {
            Ok((name, value)) => {
                if let Some(earlier) = first_seen.insert(name, number) {
                    problems.push(format!(
                        "line {number}: {name} is already set on line {earlier}"
                    ));
                } else if !value.is_empty() {
                    settings.insert(name, value.to_owned());
                }
            }
            Err(message) => problems.push(format!("line {number}: {message}")),
        }
    }
    (settings, problems)
}

/// One non-blank, non-comment line as `(variable name, value)`.
fn setting(line: &str) -> Result<(&'static str, &str), String> {
    const SHAPE: &str = "expected NAME=value";
    let (name, value) = line.split_once('=').ok_or(SHAPE)?;
    let (name, value) = (name.trim(), value.trim());
    if !looks_like_a_name(name) {
        // Not echoed: a line such as `xoxb-…` or `password=…` could be a secret.
        return Err(SHAPE.to_owned());
    }
    if name == CONFIG_FILE.name {
        return Err(format!("{name} can only be set in the environment"));
    }
    let Some(variable) = VARIABLES.iter().find(|variable| variable.name == name) else {
        return Err(format!(
            "unknown variable {name}; `{} --help` lists them",
            env!("SERVICE_NAME")
        ));
    };
    if is_quoted(value) {
        // Docker would keep the quotes as part of the value, systemd would strip them; a
        // token with quotes around it fails only much later, so it is refused here.
        return Err(format!(
            "{name}: remove the quotes; values are taken literally"
        ));
    }
    Ok((variable.name, value))
}

/// Upper-case letters, digits and underscores, as every variable the service reads is named.
fn looks_like_a_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn is_quoted(value: &str) -> bool {
    value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = env!("SERVICE_ENV_PREFIX");
    const N: &str = env!("SERVICE_NAME");

    #[test]
    fn settings_comments_and_blank_lines() {
        let (settings, problems) = parse(&format!(
            "# staging\n\
             \n\
             {P}_ADDR=0.0.0.0:8080\n\
             \x20 RUST_LOG = info,service=debug \n\
             DATABASE_URL=postgres://app:pw@db/service?sslmode=require\n\
             SLACK_APP_ID=\n",
        ));
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(settings.len(), 3, "the empty SLACK_APP_ID counts as unset");
        assert_eq!(settings[format!("{P}_ADDR").as_str()], "0.0.0.0:8080");
        assert_eq!(settings["RUST_LOG"], "info,service=debug");
        assert_eq!(
            settings["DATABASE_URL"], "postgres://app:pw@db/service?sslmode=require",
            "only the first = separates the name from the value"
        );
    }

    #[test]
    fn each_unusable_line_is_reported_by_number_and_the_rest_is_kept() {
        let (settings, problems) = parse(&format!(
            "{P}_ADDR=0.0.0.0:8080\n\
             xoxb-a-token-pasted-alone\n\
             {P}_ADR=0.0.0.0:9090\n\
             export RUST_LOG=debug\n\
             {P}_CONFIG_FILE=other.env\n\
             SLACK_BOT_TOKEN=\"xoxb-quoted\"\n\
             {P}_ADDR=127.0.0.1:1\n",
        ));
        assert_eq!(
            problems,
            [
                "line 2: expected NAME=value".to_owned(),
                format!("line 3: unknown variable {P}_ADR; `{N} --help` lists them"),
                "line 4: expected NAME=value".to_owned(),
                format!("line 5: {P}_CONFIG_FILE can only be set in the environment"),
                "line 6: SLACK_BOT_TOKEN: remove the quotes; values are taken literally".to_owned(),
                format!("line 7: {P}_ADDR is already set on line 1"),
            ]
        );
        assert_eq!(settings.len(), 1);
        assert_eq!(settings[format!("{P}_ADDR").as_str()], "0.0.0.0:8080");
    }

    #[test]
    fn problems_never_quote_what_the_line_holds() {
        let (_, problems) = parse(
            "secret-token-value\n\
             password=secret-token-value\n\
             SLACK_SIGNING_SECRET='secret-token-value'\n",
        );
        assert_eq!(problems.len(), 3);
        for problem in problems {
            assert!(!problem.contains("secret-token-value"), "{problem}");
        }
    }
}
