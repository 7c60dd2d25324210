//! A tiny HTTP/1.1 client, one request per connection, for the server
//! functions and pages: signing agents in, timing calls, bytes on the wire.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one HTTP exchange may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP response.
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// From the first byte written to the last byte read.
    pub took: Duration,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `kefu_session=<token>` from Set-Cookie, for the Cookie header.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(name, _)| name == "set-cookie")
            .filter_map(|(_, value)| value.split(';').next())
            .find(|pair| pair.starts_with("kefu_session=") && pair.len() > "kefu_session=".len())
            .map(str::to_owned)
    }
}

/// Bytes on the wire (headers and body) for `GET path` from a browser that
/// accepts brotli and gzip, as a first visit downloads it.
pub async fn transferred(addr: SocketAddr, path: &str) -> Result<usize> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Accept-Encoding: gzip, deflate, br\r\n\r\n"
    );
    Ok(exchange(addr, &request, "GET", path).await?.0.len())
}

/// Sends `request` on a new connection and reads the whole answer, raw,
/// with the time from sending to the connection's end.
async fn exchange(
    addr: SocketAddr,
    request: &str,
    method: &str,
    path: &str,
) -> Result<(Vec<u8>, Duration)> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let started = Instant::now();
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>((raw, started.elapsed()))
    };
    tokio::time::timeout(HTTP_TIMEOUT, exchange)
        .await
        .with_context(|| format!("{method} {path}: no complete response in {HTTP_TIMEOUT:?}"))?
        .with_context(|| format!("{method} {path}"))
}

/// One request with `Connection: close`; reads the whole response.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Result<HttpResponse> {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(cookie) = cookie {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    match form {
        Some(body) => request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )),
        None => request.push_str("\r\n"),
    }
    let (raw, took) = exchange(addr, &request, method, path).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| format!("{method} {path}: not an HTTP response"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{method} {path}: bad status line"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut response = HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
        took,
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.body = dechunk(&response.body)
            .with_context(|| format!("{method} {path}: bad chunked body"))?;
    }
    Ok(response)
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&raw[..end]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// Signs an agent in; returns `kefu_session=<token>`.
pub async fn sign_in(addr: SocketAddr, name: &str, password: &str) -> Result<String> {
    let body = format!(
        "name={}&password={}",
        form_escape(name),
        form_escape(password)
    );
    let response = http(addr, "POST", "/api/sign_in", None, Some(&body)).await?;
    if response.status != 200 {
        bail!(
            "sign_in as {name} refused: HTTP {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    response
        .session_cookie()
        .context("sign_in set no kefu_session cookie")
}

/// application/x-www-form-urlencoded escaping.
pub fn form_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
