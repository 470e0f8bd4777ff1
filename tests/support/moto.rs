//! moto's S3 server on a free port of 127.0.0.1, for the tests and the bench that need a
//! real S3-compatible peer. Shared by `tests/s3.rs` and `benches/s3.rs` (through `#[path]`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to install what [`Moto::start`] needs.
pub(crate) const INSTALL: &str = "python3 -m pip install \"moto[s3]\" flask flask-cors";

/// A moto S3 server with one bucket; killed when dropped.
pub(crate) struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
}

impl Moto {
    /// Whether moto's server can be started here.
    pub(crate) fn installed() -> bool {
        Command::new("python3")
            .args(["-c", "import moto.server, flask, werkzeug"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts the server and creates `bucket`; `None` when moto is not installed.
    pub(crate) fn start(bucket: &str) -> Option<Self> {
        if !Self::installed() {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Self { child, port };
        let start = Instant::now();
        let mut conn = loop {
            if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
                break c;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // moto creates a bucket from an unsigned request.
        write!(
            conn,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("create the bucket");
        let mut answer = String::new();
        let _ = conn.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "creating the bucket: {answer}"
        );
        Some(moto)
    }

    /// The server's address, as `AWS_ENDPOINT_URL` takes it.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
