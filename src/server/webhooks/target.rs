//! Where a webhook may point: `http(s)` URLs with a host, never kefu's own
//! listener, and with `--webhooks-deny-private` never a loopback, private,
//! link-local or otherwise internal address. Checked when an admin saves a
//! URL and again at each delivery, after resolving the host (a name may
//! point somewhere else by then); the HTTP client's resolver
//! ([`Guarded`]) drops internal addresses too, so a name that changes
//! between the check and the connection does not get through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use crate::protocol::webhooks::MAX_WEBHOOK_URL_BYTES;
use crate::protocol::ErrorCode;

/// Why a target is refused (each has a code the console translates, and a
/// short name for a delivery's `last_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an `http(s)` URL with a host, or too long.
    BadUrl,
    /// kefu's own listener.
    OwnListener,
    /// An internal address, refused by `--webhooks-deny-private`.
    Private,
    /// The host did not resolve (at delivery only; saving allows it).
    Dns,
}

impl Refusal {
    /// The code admins see when saving.
    pub fn code(self) -> ErrorCode {
        match self {
            Refusal::BadUrl | Refusal::Dns => ErrorCode::WebhookUrl,
            Refusal::OwnListener => ErrorCode::WebhookSelf,
            Refusal::Private => ErrorCode::WebhookPrivate,
        }
    }

    /// A delivery's `last_error`.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::BadUrl => "bad_url",
            Refusal::OwnListener => "own_listener",
            Refusal::Private => "private_address",
            Refusal::Dns => "dns",
        }
    }
}

/// Parses `raw` as a webhook URL (shape only, no lookup).
pub fn parse(raw: &str) -> Result<Url, Refusal> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_WEBHOOK_URL_BYTES {
        return Err(Refusal::BadUrl);
    }
    let url = Url::parse(raw).map_err(|_| Refusal::BadUrl)?;
    let shaped = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    if shaped {
        Ok(url)
    } else {
        Err(Refusal::BadUrl)
    }
}

/// Resolves `url`'s host and refuses it if any address is kefu's own
/// listener `own`, or (with `deny_private`) internal. A host that does not
/// resolve is [`Refusal::Dns`].
pub async fn check(url: &Url, own: Option<SocketAddr>, deny_private: bool) -> Result<(), Refusal> {
    let host = url.host_str().ok_or(Refusal::BadUrl)?;
    let port = url.port_or_known_default().ok_or(Refusal::BadUrl)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| Refusal::Dns)?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refusal::Dns);
    }
    for addr in addrs {
        if own.is_some_and(|own| is_own(addr, own)) {
            return Err(Refusal::OwnListener);
        }
        if deny_private && is_internal(addr.ip()) {
            return Err(Refusal::Private);
        }
    }
    Ok(())
}

/// Whether `addr` reaches the listener bound at `own`: the same port, on
/// the bound address, a loopback one, or any when bound to all addresses.
fn is_own(addr: SocketAddr, own: SocketAddr) -> bool {
    let ip = canonical(addr.ip());
    addr.port() == own.port()
        && (ip == canonical(own.ip())
            || ip.is_loopback()
            || ip.is_unspecified()
            || own.ip().is_unspecified())
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Loopback, private (RFC 1918, IPv6 unique local), link-local, shared
/// (carrier-grade NAT), unspecified, broadcast, multicast, documentation
/// or "this network" addresses: everything that is not the public Internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || ip
            .to_ipv4()
            .is_some_and(|v4| ip.segments()[..6] == [0; 6] && is_internal_v4(v4))
}

/// The HTTP client's resolver: the system's, without internal addresses
/// while `deny_private` is on.
#[derive(Debug, Clone)]
pub struct Guarded {
    /// `--webhooks-deny-private`.
    pub deny_private: Arc<AtomicBool>,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let deny = self.deny_private.load(Ordering::Relaxed);
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| !(deny && is_internal(a.ip())))
                .collect();
            if found.is_empty() {
                return Err("no address this kefu may deliver webhooks to".into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_and_no_credentials() {
        assert!(parse("https://hooks.example/kefu?x=1").is_ok());
        assert!(parse("http://10.0.0.1:8080/").is_ok());
        for bad in [
            "",
            "ftp://hooks.example/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pw@hooks.example/",
            "hooks.example/path",
            "http://",
        ] {
            assert_eq!(parse(bad).err(), Some(Refusal::BadUrl), "{bad}");
        }
        let long = format!("https://h.example/{}", "a".repeat(MAX_WEBHOOK_URL_BYTES));
        assert_eq!(parse(&long).err(), Some(Refusal::BadUrl));
    }

    #[test]
    fn internal_addresses_are_known() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().expect("an address")), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_internal(ip.parse().expect("an address")), "{ip}");
        }
    }

    #[tokio::test]
    async fn own_listener_and_private_addresses_are_refused() {
        let own: SocketAddr = "127.0.0.1:3000".parse().expect("an address");
        let check_url = |u: &str| {
            let url = parse(u).expect("parses");
            async move { check(&url, Some(own), false).await }
        };
        assert_eq!(
            check_url("http://127.0.0.1:3000/hook").await,
            Err(Refusal::OwnListener)
        );
        assert_eq!(
            check_url("http://localhost:3000/").await,
            Err(Refusal::OwnListener)
        );
        assert_eq!(
            check_url("http://[::1]:3000/").await,
            Err(Refusal::OwnListener)
        );
        assert_eq!(check_url("http://127.0.0.1:3001/").await, Ok(()));
        let url = parse("http://192.168.0.10/").expect("parses");
        assert_eq!(check(&url, Some(own), true).await, Err(Refusal::Private));
        assert_eq!(check(&url, Some(own), false).await, Ok(()));
    }
}
