//! Name resolution with the address rule applied: what the guard asks at creation, and the
//! DNS resolver of the sender's HTTP client, so the rule holds for the address the
//! connection is actually made to. A name that resolved to a public address when the
//! request was created can resolve to 127.0.0.1 by the time it settles (DNS rebinding); the
//! check at connect time is the one that cannot be raced.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::addresses::AddressRule;

/// A host that resolves to an address the rule refuses, or to nothing. The sender finds it
/// in the source chain of a failed request, to report it as permanent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} {why}")]
pub(crate) struct AddressRefused {
    host: String,
    why: String,
}

impl AddressRefused {
    pub(crate) fn new(host: &str, why: impl Into<String>) -> Self {
        Self {
            host: host.to_owned(),
            why: why.into(),
        }
    }
}

/// Checks an address as written in a URL (an IP literal never reaches a resolver); `host`
/// is how the URL writes it.
pub(crate) fn check_ip(rule: AddressRule, host: &str, ip: IpAddr) -> Result<(), AddressRefused> {
    rule.check(ip)
        .map_err(|kind| AddressRefused::new(host, format!("is {kind}")))
}

/// Resolves `host` and checks every address it resolves to. One refused address refuses the
/// host: a name that points at a private address beside a public one is not a receiver we
/// may reach at random.
pub(crate) async fn resolve(
    rule: AddressRule,
    host: &str,
) -> Result<Vec<SocketAddr>, AddressRefused> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|error| AddressRefused::new(host, format!("does not resolve: {error}")))?
        .collect();
    if addresses.is_empty() {
        return Err(AddressRefused::new(host, "resolves to no address"));
    }
    for address in &addresses {
        rule.check(address.ip()).map_err(|kind| {
            AddressRefused::new(host, format!("resolves to {kind} ({})", address.ip()))
        })?;
    }
    Ok(addresses)
}

/// The sender's resolver: the system's, through [`resolve`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver(pub(crate) AddressRule);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rule = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolve(rule, &host).await?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn localhost_is_refused_unless_private_networks_are_allowed() {
        let refused = resolve(AddressRule::default(), "localhost").await;
        assert!(refused.is_err(), "{refused:?}");

        let open = AddressRule {
            allow_private_networks: true,
        };
        let addresses = resolve(open, "localhost").await.unwrap();
        assert!(addresses.iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_refused() {
        let result = resolve(AddressRule::default(), "no-such-host.invalid").await;
        assert!(result.is_err());
    }
}
