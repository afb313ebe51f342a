//! The NATS settings: off without `NATS_URL`, one way to authenticate, TLS files in pairs,
//! secrets never shown.

use super::super::variables::{
    NATS_PASSWORD, NATS_STREAM, NATS_SUBJECT_PREFIX, NATS_TIMEOUT, NATS_URL,
};
use super::*;

fn variables_in_problems(vars: &[(&str, &str)]) -> Vec<&'static str> {
    problems(vars).iter().map(|p| p.variable).collect()
}

#[test]
fn without_a_nats_url_there_is_no_event_stream() {
    let config = config(&[(concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_STREAM"), "OTHER")]).unwrap();
    assert!(config.nats.is_none());
    assert_eq!(effective(&config, &NATS_STREAM), "");
}

#[test]
fn a_nats_url_alone_takes_the_documented_defaults() {
    let config = config(&[("NATS_URL", "nats://127.0.0.1:4222")]).unwrap();
    let nats = config.nats.as_ref().unwrap();
    assert_eq!(nats.url.expose_secret(), "nats://127.0.0.1:4222");
    assert!(matches!(nats.credentials, NatsCredentials::None));
    assert_eq!((&nats.ca_file, &nats.client_certificate), (&None, &None));
    for variable in [NATS_STREAM, NATS_SUBJECT_PREFIX, NATS_TIMEOUT] {
        assert_eq!(effective(&config, &variable), variable.default);
    }
}

#[test]
fn every_way_to_authenticate_is_read_into_its_own_credentials() {
    let user = config(&[
        ("NATS_URL", "nats://n1:4222"),
        ("NATS_USER", "svc"),
        ("NATS_PASSWORD", "nats-password"),
    ])
    .unwrap();
    assert!(matches!(
        &user.nats.unwrap().credentials,
        NatsCredentials::UserPassword { user, password }
            if user == "svc" && password.expose_secret() == "nats-password"
    ));
    let token = config(&[("NATS_URL", "n1:4222"), ("NATS_TOKEN", "nats-token")]).unwrap();
    assert!(matches!(
        &token.nats.unwrap().credentials,
        NatsCredentials::Token(token) if token.expose_secret() == "nats-token"
    ));
    let creds = config(&[
        ("NATS_URL", "n1:4222"),
        ("NATS_CREDS", "/run/service.creds"),
    ])
    .unwrap();
    assert!(matches!(
        &creds.nats.unwrap().credentials,
        NatsCredentials::File(path) if path == Path::new("/run/service.creds")
    ));
}

#[test]
fn two_ways_to_authenticate_are_one_too_many() {
    assert_eq!(
        variables_in_problems(&[
            ("NATS_URL", "nats://n1:4222"),
            ("NATS_TOKEN", "nats-token"),
            ("NATS_CREDS", "/run/service.creds"),
        ]),
        ["NATS_CREDS"]
    );
}

#[test]
fn user_and_password_and_certificate_and_key_come_in_pairs() {
    assert_eq!(
        variables_in_problems(&[
            ("NATS_URL", "nats://n1:4222"),
            ("NATS_USER", "svc"),
            ("NATS_CERT", "/etc/service/client.pem"),
        ]),
        ["NATS_PASSWORD", "NATS_KEY"]
    );
    let tls = config(&[
        ("NATS_URL", "tls://n1:4222"),
        ("NATS_CA", "/etc/service/ca.pem"),
        ("NATS_CERT", "/etc/service/client.pem"),
        ("NATS_KEY", "/etc/service/client.key"),
    ])
    .unwrap();
    let nats = tls.nats.unwrap();
    assert_eq!(
        nats.ca_file.as_deref(),
        Some(Path::new("/etc/service/ca.pem"))
    );
    assert!(nats.client_certificate.is_some());
}

#[test]
fn nats_credentials_without_a_nats_url_are_reported() {
    assert_eq!(
        variables_in_problems(&[("NATS_TOKEN", "nats-token"), ("NATS_CA", "/ca.pem")]),
        ["NATS_TOKEN", "NATS_CA"]
    );
}

#[test]
fn server_addresses_must_be_nats_or_tls_urls() {
    let config = config(&[("NATS_URL", "nats://n1:4222, n2:4222,tls://n3")]).unwrap();
    assert_eq!(
        config.nats.unwrap().redacted_url,
        "nats://n1:4222,nats://n2:4222,tls://n3"
    );
    for bad in ["http://n1:4222", "nats://", "nats://n1:4222,ws://n2"] {
        assert_eq!(
            variables_in_problems(&[("NATS_URL", bad)]),
            ["NATS_URL"],
            "{bad:?}"
        );
    }
}

#[test]
fn nats_secrets_are_redacted_wherever_the_configuration_is_shown() {
    let config = config(&[
        (
            "NATS_URL",
            "nats://app:url-password@n1:4222,nats://url-token@n2:4222",
        ),
        ("NATS_USER", "svc"),
        ("NATS_PASSWORD", "nats-password"),
    ])
    .unwrap();
    assert_eq!(
        effective(&config, &NATS_URL),
        "nats://app:***@n1:4222,nats://***@n2:4222"
    );
    assert_eq!(effective(&config, &NATS_PASSWORD), "***");
    let shown = format!("{config:?}{}", config.report());
    for secret in ["url-password", "url-token", "nats-password"] {
        assert!(!shown.contains(secret), "{secret} is shown");
    }
    let found = problems(&[("NATS_URL", "nats://app:pw@[bad"), ("NATS_TOKEN", "t")]);
    assert!(
        found
            .iter()
            .all(|p| p.value.is_none() && !p.message.contains("pw"))
    );
}
