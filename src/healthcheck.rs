//! `callflow healthcheck`: asks this machine's `serve` (on `PORT`) whether it
//! is ready, for container health checks in images that carry no HTTP client.
//! Plain HTTP/1.0 over a socket with short timeouts: it must never hang.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

/// `Ok` when `GET /ready` on 127.0.0.1:`port` answers 200.
pub fn check(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /ready HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| format!("cannot ask {addr}: {e}"))?;
    // The status line is all that matters; read a bounded amount.
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match stream.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("no answer from {addr}: {e}")),
        }
    }
    let line = String::from_utf8_lossy(&head[..got]);
    match line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        Some(code) => Err(format!("/ready answered {code}")),
        None => Err("/ready gave no HTTP answer".into()),
    }
}

/// The port `serve` listens on, as it reads it (`PORT`, default 3000).
pub fn port_from_env() -> Result<u16, String> {
    match std::env::var("PORT") {
        Err(_) => Ok(3000),
        Ok(v) => v
            .parse()
            .map_err(|_| format!("PORT: '{v}' is not a port number (0-65535)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn answer_once(reply: &'static [u8]) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf);
                let _ = s.write_all(reply);
            }
        });
        port
    }

    #[test]
    fn ready_is_200_and_anything_else_is_not() {
        assert!(check(answer_once(b"HTTP/1.1 200 OK\r\n\r\nready")).is_ok());
        let err = check(answer_once(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")).unwrap_err();
        assert!(err.contains("503"), "{err}");
        let err = check(answer_once(b"")).unwrap_err();
        assert!(err.contains("no HTTP answer"), "{err}");
    }

    #[test]
    fn nobody_listening_is_an_error_not_a_hang() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(check(port).is_err());
    }
}
