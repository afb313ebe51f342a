//! The check at creation: scheme, then where the host resolves to.

use application::ports::{CallbackUrlGuard, CallbackUrlRefused};
use async_trait::async_trait;
use domain::CallbackUrl;
use url::{Host, Url};

use crate::addresses::AddressRule;
use crate::resolver::{self, AddressRefused};

/// Vets callback URLs before a request is stored (`CallbackUrlGuard`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookGuard {
    pub rule: AddressRule,
    /// Allows `http` beside `https` (a receiver on a private network without TLS, a test).
    pub allow_http: bool,
}

impl WebhookGuard {
    /// The scheme check alone, and the address check of an IP literal; `Some(host)` when
    /// the host is a name still to resolve.
    pub(crate) fn check_without_dns(self, url: &Url) -> Result<Option<String>, String> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err("it must use https".into()),
            other => return Err(format!("the scheme {other} is not allowed")),
        }
        let refused = |error: AddressRefused| error.to_string();
        match url.host() {
            None => Err("it has no host".into()),
            Some(Host::Ipv4(ip)) => resolver::check_ip(self.rule, &ip.to_string(), ip.into())
                .map(|()| None)
                .map_err(refused),
            Some(Host::Ipv6(ip)) => resolver::check_ip(self.rule, &ip.to_string(), ip.into())
                .map(|()| None)
                .map_err(refused),
            Some(Host::Domain(name)) => Ok(Some(name.to_owned())),
        }
    }
}

#[async_trait]
impl CallbackUrlGuard for WebhookGuard {
    #[tracing::instrument(name = "webhook.check_url", skip_all)]
    async fn check(&self, url: &CallbackUrl) -> Result<(), CallbackUrlRefused> {
        let refuse = |reason: String| CallbackUrlRefused { reason };
        let parsed = Url::parse(url.as_str()).map_err(|e| refuse(e.to_string()))?;
        if let Some(host) = self.check_without_dns(&parsed).map_err(refuse)? {
            resolver::resolve(self.rule, &host)
                .await
                .map_err(|e| refuse(e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn check(guard: WebhookGuard, url: &str) -> Result<(), CallbackUrlRefused> {
        guard.check(&CallbackUrl::parse(url).unwrap()).await
    }

    fn open() -> WebhookGuard {
        WebhookGuard {
            rule: AddressRule {
                allow_private_networks: true,
            },
            allow_http: true,
        }
    }

    #[tokio::test]
    async fn http_is_refused_unless_allowed() {
        let strict = WebhookGuard::default();
        assert!(check(strict, "http://1.1.1.1/hook").await.is_err());
        assert_eq!(check(strict, "https://1.1.1.1/hook").await, Ok(()));
        assert_eq!(check(open(), "http://1.1.1.1/hook").await, Ok(()));
    }

    #[tokio::test]
    async fn private_literals_and_names_are_refused_by_default() {
        let strict = WebhookGuard::default();
        for url in [
            "https://127.0.0.1/hook",
            "https://10.0.0.8:8443/hook",
            "https://[::1]/hook",
            "https://[::ffff:192.168.0.1]/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://localhost/hook",
        ] {
            let refused = check(strict, url).await;
            assert!(refused.is_err(), "{url} was allowed");
        }
    }

    #[tokio::test]
    async fn the_setting_allows_private_receivers_but_never_the_metadata_endpoint() {
        assert_eq!(check(open(), "http://127.0.0.1:9000/hook").await, Ok(()));
        assert_eq!(check(open(), "http://localhost:9000/hook").await, Ok(()));
        let metadata = check(open(), "http://169.254.169.254/latest/meta-data/").await;
        assert!(metadata.unwrap_err().reason.contains("metadata"));
    }
}
