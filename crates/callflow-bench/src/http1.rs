//! A lean HTTP/1.1 client for the load generator: one keep-alive connection per
//! worker and server, each request written whole, each response parsed with
//! httparse. The load generator shares two cores with the server and Redis;
//! driving calls through reqwest (pool, connection tasks, header maps) cost it
//! more CPU per callback than the server spent answering, so the figures
//! measured the client. This is what `wrk` does, with Twilio's signing added.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Http1 {
    addr: String,
    stream: Option<TcpStream>,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl Http1 {
    /// `base` is `http://host:port`.
    pub fn new(base: &str) -> Self {
        Self {
            addr: base
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string(),
            stream: None,
            request: Vec::with_capacity(1024),
            buf: Vec::with_capacity(4096),
        }
    }

    /// POSTs `body` to `path` with `headers`; returns the status and body.
    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, String), String> {
        use std::io::Write;
        self.request.clear();
        let r = &mut self.request;
        let _ = write!(
            r,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            let _ = write!(r, "{name}: {value}\r\n");
        }
        r.extend_from_slice(b"\r\n");
        r.extend_from_slice(body);
        // A kept-alive connection the server has closed fails before any answer:
        // that one case is tried again on a new connection.
        let reused = self.stream.is_some();
        match self.exchange().await {
            Ok(answer) => Ok(answer),
            Err(Failure::BeforeAnswer(_)) if reused => {
                self.stream = None;
                self.exchange().await.map_err(|e| e.to_string())
            }
            Err(e) => {
                self.stream = None;
                Err(e.to_string())
            }
        }
    }

    // Long on purpose: one request and its response, parsed in sequence.
    async fn exchange(&mut self) -> Result<(u16, String), Failure> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.addr)
                .await
                .map_err(Failure::BeforeAnswer)?;
            stream.set_nodelay(true).map_err(Failure::BeforeAnswer)?;
            self.stream = Some(stream);
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream
            .write_all(&self.request)
            .await
            .map_err(Failure::BeforeAnswer)?;
        self.buf.clear();
        loop {
            if stream
                .read_buf(&mut self.buf)
                .await
                .map_err(Failure::BeforeAnswer)?
                == 0
            {
                return Err(Failure::BeforeAnswer(
                    std::io::ErrorKind::UnexpectedEof.into(),
                ));
            }
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let head = match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => continue,
                Err(e) => return Err(Failure::Bad(e.to_string())),
            };
            let status = response.code.unwrap_or(0);
            let header = |name: &str| {
                response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
            };
            let length: usize = header("content-length")
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| Failure::Bad("an answer without Content-Length".into()))?;
            let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            while self.buf.len() < head + length {
                if stream
                    .read_buf(&mut self.buf)
                    .await
                    .map_err(|e| Failure::Bad(e.to_string()))?
                    == 0
                {
                    return Err(Failure::Bad("the answer was cut short".into()));
                }
            }
            let body = String::from_utf8_lossy(&self.buf[head..head + length]).into_owned();
            if close {
                self.stream = None;
            }
            return Ok((status, body));
        }
    }
}

enum Failure {
    /// Nothing was answered (the request may not have arrived).
    BeforeAnswer(std::io::Error),
    Bad(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::BeforeAnswer(e) => write!(f, "{e}"),
            Failure::Bad(e) => f.write_str(e),
        }
    }
}
