//! Parsers for the value formats of environment variables: durations, byte sizes, URLs.
//!
//! Each returns a message written for the person who set the variable, because it ends up
//! verbatim in the start-up error.

use std::time::Duration;

use url::Url;

/// `500ms`, `30s`, `5m`, `1h`: a whole number and a unit, no spaces. Zero is refused because
/// every duration here is an interval or a timeout, where zero means a hot loop or an
/// instant failure.
pub(crate) fn duration(raw: &str) -> Result<Duration, String> {
    const HINT: &str = "expected a duration such as 500ms, 30s, 5m or 1h";
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number.parse().map_err(|_| HINT.to_owned())?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        _ => return Err(HINT.to_owned()),
    };
    if duration.is_zero() {
        return Err("must be greater than zero".to_owned());
    }
    Ok(duration)
}

/// A [`duration`] of at least `min`.
pub(super) fn duration_at_least(raw: &str, min: Duration) -> Result<Duration, String> {
    let duration = duration(raw)?;
    if duration < min {
        return Err(format!("must be at least {}ms", min.as_millis()));
    }
    Ok(duration)
}

/// `65536`, `64KiB`, `1MiB`: bytes, optionally with a binary unit.
/// `true` or `false` (also `1`/`0`, `yes`/`no`, in any case).
pub(super) fn boolean(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

pub(super) fn byte_size(raw: &str) -> Result<usize, String> {
    const HINT: &str = "expected a size in bytes such as 65536, 64KiB or 1MiB";
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: usize = number.parse().map_err(|_| HINT.to_owned())?;
    let factor = match unit {
        "" => 1,
        "KiB" => 1024,
        "MiB" => 1024 * 1024,
        _ => return Err(HINT.to_owned()),
    };
    match number.checked_mul(factor) {
        Some(0) => Err("must be greater than zero".to_owned()),
        Some(bytes) => Ok(bytes),
        None => Err("is too large".to_owned()),
    }
}

/// A whole number within `min..=max`.
pub(super) fn bounded(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("expected a whole number from {min} to {max}"))
}

/// An absolute `http` or `https` URL without query or fragment, i.e. a base to append paths
/// to. Returned as given, minus trailing slashes, so `{base}/v1/…` is always one slash.
pub(super) fn base_url(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query string or fragment".to_owned());
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// The SQLite URL of a file. The characters SQLite URLs give a meaning (`%`, `?`, `#`) are
/// percent-encoded, so any file name survives the trip. The store creates a missing file.
pub(super) fn sqlite_url(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    format!("sqlite:{encoded}")
}

/// The URL with its password (in the user-info part or as a `password` query parameter)
/// replaced by `***`, for logs and `config check`. Unparseable input is hidden completely.
pub(super) fn redact_url(raw: &str) -> String {
    const HIDDEN: &str = "***";
    let Ok(mut url) = Url::parse(raw) else {
        return HIDDEN.to_owned();
    };
    if url.password().is_some() && url.set_password(Some(HIDDEN)).is_err() {
        return HIDDEN.to_owned();
    }
    if url.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "password" {
                    HIDDEN.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["30", "s", "1.5s", "-1s", "5 m", "1d", ""] {
            assert!(duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(duration("0s"), Err("must be greater than zero".to_owned()));
    }

    #[test]
    fn booleans_are_true_or_false() {
        assert_eq!(boolean("TRUE"), Ok(true));
        assert_eq!(boolean("0"), Ok(false));
        assert!(boolean("maybe").is_err());
    }

    #[test]
    fn sizes_are_bytes_or_binary_units() {
        assert_eq!(byte_size("65536"), Ok(65536));
        assert_eq!(byte_size("64KiB"), Ok(65536));
        assert_eq!(byte_size("2MiB"), Ok(2 * 1024 * 1024));
        for bad in ["64kb", "1GiB", "KiB", "-1", "1.5MiB"] {
            assert!(byte_size(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(byte_size("0").is_err());
        assert_eq!(
            byte_size(&format!("{}MiB", usize::MAX)),
            Err("is too large".to_owned())
        );
    }

    #[test]
    fn bounded_numbers_name_their_range() {
        assert_eq!(bounded("10", 1, 100), Ok(10));
        assert_eq!(
            bounded("0", 1, 100),
            Err("expected a whole number from 1 to 100".to_owned())
        );
        assert!(bounded("101", 1, 100).is_err());
        assert!(bounded("ten", 1, 100).is_err());
    }

    #[test]
    fn base_urls_are_absolute_http() {
        assert_eq!(
            base_url("https://gate.example.com/"),
            Ok("https://gate.example.com".to_owned())
        );
        assert!(base_url("http://127.0.0.1:8080/prefix").is_ok());
        assert!(base_url("gate.example.com").is_err());
        assert!(base_url("ftp://gate.example.com").is_err());
        assert!(base_url("https://gate.example.com/?a=b").is_err());
    }

    #[test]
    fn sqlite_paths_are_encoded_into_a_url() {
        assert_eq!(sqlite_url("./service.db"), "sqlite:./service.db");
        assert_eq!(
            sqlite_url("/data/50%?#1.db"),
            "sqlite:/data/50%25%3F%231.db"
        );
    }

    #[test]
    fn passwords_are_redacted_wherever_they_are() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/service"),
            "postgres://app:***@db:5432/service"
        );
        assert_eq!(
            redact_url("postgres://db/service?user=app&password=s3cret&sslmode=require"),
            "postgres://db/service?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://app@db/service"),
            "postgres://app@db/service"
        );
        assert_eq!(redact_url("not a url s3cret"), "***");
    }
}
