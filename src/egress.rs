//! Requests to addresses users give (a campaign's `webhook_url`): only public
//! internet addresses. The host is resolved and every address checked when the
//! URL is accepted and again at each delivery (DNS can change between the
//! two); the request then goes to exactly the addresses checked and follows no
//! redirect, so neither DNS rebinding nor a `302` reaches Redis, a metadata
//! service or anything else on a private network. `ALLOW_PRIVATE_WEBHOOKS=true`
//! lifts the address rule for local development.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::Url;

/// How long resolving a webhook host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EgressError {
    #[error("must be an http(s) URL")]
    NotHttp,
    #[error("has no host")]
    NoHost,
    #[error("points to a private, loopback or link-local address ({0}); set ALLOW_PRIVATE_WEBHOOKS=true for local development")]
    Private(IpAddr),
    #[error("host cannot be resolved: {0}")]
    Unresolvable(String),
}

/// Whether `ip` is an ordinary public internet address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // 169.254/16: cloud metadata services live here
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
    let compatible = s[..6].iter().all(|x| *x == 0) && !v6.is_loopback() && !v6.is_unspecified();
    (nat64 || compatible).then_some(tail)
}

/// The addresses `url` may be reached at: all of them public unless
/// `allow_private`. A name is resolved; an IP literal (in any of the forms
/// URL parsing accepts, such as `2130706433` or `0x7f000001`) is taken as is.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, EgressError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EgressError::NotHttp);
    }
    let port = url.port_or_known_default().ok_or(EgressError::NotHttp)?;
    let addrs: Vec<SocketAddr> = match url.host().ok_or(EgressError::NoHost)? {
        url::Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
        url::Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
        url::Host::Domain(name) => {
            let lookup = tokio::net::lookup_host((name, port));
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(e)) => return Err(EgressError::Unresolvable(e.to_string())),
                Err(_) => return Err(EgressError::Unresolvable("timed out".into())),
            }
        }
    };
    if addrs.is_empty() {
        return Err(EgressError::Unresolvable("no address".into()));
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(EgressError::Private(bad.ip()));
        }
    }
    Ok(addrs)
}

/// A client that reaches `url`'s host only at `addrs` (the addresses just
/// checked) and follows no redirect.
pub fn pinned_client(
    url: &Url,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(url::Host::Domain(name)) = url.host() {
        builder = builder.resolve_to_addrs(name, addrs);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(url: &str) -> Result<(), EgressError> {
        let url = Url::parse(url).expect("a URL");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(resolve(&url, false)).map(|_| ())
    }

    #[test]
    fn private_and_special_addresses_are_refused_in_every_spelling() {
        for url in [
            "http://127.0.0.1:6390/",
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost/",
            "http://[::1]/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.5.4/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
        ] {
            assert!(
                matches!(verdict(url), Err(EgressError::Private(_))),
                "{url}: {:?}",
                verdict(url)
            );
        }
    }

    #[test]
    fn public_literals_pass_and_other_schemes_do_not() {
        assert_eq!(verdict("https://93.184.215.14/hook"), Ok(()));
        assert_eq!(verdict("http://[2606:4700::1111]/"), Ok(()));
        assert_eq!(verdict("ftp://93.184.215.14/"), Err(EgressError::NotHttp));
    }

    #[test]
    fn private_addresses_pass_when_allowed() {
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(rt.block_on(resolve(&url, true)).is_ok());
    }
}
