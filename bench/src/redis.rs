//! `--redis URL`: the Redis server the kefu nodes share, found as PostgreSQL
//! is (pg.rs) without being told its pid: the bench asks it (`INFO server`
//! gives `process_id` and `redis_version`) over a plain TCP connection,
//! speaking RESP by hand. `--redis-pid` overrides the pid, for a server
//! whose process this machine's /proc sees under another id (a container).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long connecting and asking may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The Redis server of a run.
pub struct Server {
    /// The URL the kefu nodes get as `--redis`.
    pub url: String,
    /// Its process id (None when it could not be told: no Redis CPU figures).
    pub pid: Option<u32>,
    /// `redis_version` of `INFO server`.
    pub version: String,
}

impl Server {
    /// Asks the server at `url` for its pid and version (`pid` given: that one).
    pub async fn probe(url: &str, pid: Option<u32>) -> Result<Self> {
        let info = tokio::time::timeout(TIMEOUT, info_server(url))
            .await
            .with_context(|| format!("asking Redis at {}: timed out", redact(url)))?
            .with_context(|| format!("asking Redis at {}", redact(url)))?;
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
        };
        Ok(Self {
            url: url.to_owned(),
            pid: pid.or_else(|| field("process_id")?.parse().ok()),
            version: field("redis_version").unwrap_or_else(|| "unknown".into()),
        })
    }
}

/// `host:port` and the password of `redis://[user[:password]@]host[:port][/db]`.
fn parse(url: &str) -> Result<(String, Option<(String, String)>)> {
    let Some(rest) = url.strip_prefix("redis://") else {
        bail!("--redis {}: expected redis://HOST:PORT/", redact(url));
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:6379")
    };
    let auth = userinfo.map(|u| match u.split_once(':') {
        Some((user, password)) => (user.to_owned(), password.to_owned()),
        None => (String::new(), u.to_owned()),
    });
    Ok((host, auth))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// One RESP command (an array of bulk strings).
fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// One reply: a simple string or a bulk string (an error fails).
async fn reply(reader: &mut BufReader<TcpStream>) -> Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let line = line.trim_end();
    match line.as_bytes().first() {
        Some(b'+') => Ok(line[1..].to_owned()),
        Some(b'-') => bail!("Redis answered {line}"),
        Some(b'$') => {
            let len: usize = line[1..].parse().context("a bulk length")?;
            let mut body = vec![0; len + 2];
            reader.read_exact(&mut body).await?;
            body.truncate(len);
            Ok(String::from_utf8_lossy(&body).into_owned())
        }
        _ => bail!("unexpected answer from Redis: {line:?}"),
    }
}

/// The text of `INFO server` (after `AUTH` when the URL has a password).
async fn info_server(url: &str) -> Result<String> {
    let (host, auth) = parse(url)?;
    let mut reader = BufReader::new(TcpStream::connect(&host).await?);
    if let Some((user, password)) = auth {
        let auth = match user.as_str() {
            "" => command(&["AUTH", &password]),
            _ => command(&["AUTH", &user, &password]),
        };
        reader.get_mut().write_all(&auth).await?;
        reply(&mut reader).await?;
    }
    reader
        .get_mut()
        .write_all(&command(&["INFO", "server"]))
        .await?;
    reply(&mut reader).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (host, auth) = parse("redis://127.0.0.1:6380/").expect("a URL");
        assert_eq!((host.as_str(), auth), ("127.0.0.1:6380", None));
        let (host, auth) = parse("redis://:pw@h/0").expect("a URL");
        assert_eq!(host, "h:6379");
        assert_eq!(auth, Some((String::new(), "pw".to_owned())));
        assert!(parse("http://h").is_err());
        assert_eq!(redact("redis://u:pw@h:1/"), "redis://h:1/");
        assert_eq!(redact("redis://h:1/"), "redis://h:1/");
    }
}
