//! Baselines in object storage, against a real S3-compatible server: moto's, started by
//! each test on a free port of 127.0.0.1 and stopped when the test ends. The faults a
//! server can throw at a night (a 503 SlowDown storm, the server gone mid-record, a
//! corrupted object, two writers at once) are driven through a small loopback proxy in
//! front of it.
//!
//! Without moto (`python3 -m pip install "moto[s3]" flask flask-cors`, or all of
//! `"moto[server]"`) the tests say so loudly and pass, except under `CI`, where a
//! missing moto fails them: `.ci/run` installs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use driftgate::store::{Baselines, Manifest, RemoteStore};
use object_store::{ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

const BUCKET: &str = "driftgate-test";
/// Credentials the tests hand to driftgate; neither may show up in any output.
const KEY_ID: &str = "AKIASENTINEL7D2E0TEST";
const SECRET: &str = "sentinel-secret-7f3a9c2e51b84d06";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

#[path = "support/moto.rs"]
mod moto;
use moto::Moto;

/// moto's server with the test bucket; `None` (after saying so loudly) when moto is not
/// installed, which fails under `CI`.
fn start_moto() -> Option<Moto> {
    let moto = Moto::start(BUCKET);
    if moto.is_none() {
        assert!(
            !ci(),
            "CI is set but moto is not installed: `{}` (.ci/run does)",
            moto::INSTALL
        );
        eprintln!(
            "\n*** SKIPPED: moto is not installed, so the S3 tests did not run. Install it with `{}` ***\n",
            moto::INSTALL
        );
    }
    moto
}

/// What the proxy in front of moto does.
#[derive(Default)]
struct ProxyState {
    /// Requests still to be answered `503 SlowDown` before any is forwarded.
    slowdowns: AtomicU64,
    /// Requests still to be forwarded before the "server" stops (`u64::MAX`: never).
    forward: AtomicU64,
    slowed: AtomicU64,
    forwarded: AtomicU64,
    stopped: AtomicBool,
}

/// A loopback proxy to moto, one request per connection, that can answer 503 SlowDown
/// or stop dead (drop the request in flight, then refuse connections).
struct Proxy {
    port: u16,
    state: Arc<ProxyState>,
}

impl Proxy {
    fn start(upstream: u16, slowdowns: u64, forward: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let state = Arc::new(ProxyState {
            slowdowns: AtomicU64::new(slowdowns),
            forward: AtomicU64::new(forward),
            ..ProxyState::default()
        });
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            // Bounded: a proxy nobody stops ends with the test binary, or after 10 min.
            let start = Instant::now();
            while !st.stopped.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(600) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let st = Arc::clone(&st);
                        std::thread::spawn(move || serve(conn, upstream, &st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            // The listener is dropped here: from now on connections are refused.
        });
        Self { port, state }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn stop(&self) {
        self.state.stopped.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(mut conn: TcpStream, upstream: u16, st: &ProxyState) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let take = |a: &AtomicU64| {
        a.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    };
    if take(&st.slowdowns) {
        st.slowed.fetch_add(1, Ordering::SeqCst);
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
        let _ = write!(
            conn,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    if st.stopped.load(Ordering::SeqCst) || !take(&st.forward) {
        // The server is gone: the request in flight gets no answer.
        st.stopped.store(true, Ordering::SeqCst);
        return;
    }
    st.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut rewritten = String::new();
    for l in head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
    {
        rewritten.push_str(l);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    if up.write_all(rewritten.as_bytes()).is_err()
        || up.write_all(&buf[head_end..head_end + length]).is_err()
    {
        return;
    }
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    let _ = conn.write_all(&answer);
}

/// A scratch project, a moto server, and the binary run against it.
struct Env {
    moto: Moto,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Option<Self> {
        let moto = start_moto()?;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        Some(Self { moto, dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The binary with the platform's usual S3 variables pointing at `endpoint`, and no
    /// other cloud variable inherited (none may send a request off this machine).
    fn cmd_via(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("AWS_") || k.starts_with("GOOGLE_") || k.starts_with("AZURE_") {
                c.env_remove(k);
            }
        }
        c.args(args)
            .current_dir(self.path())
            .env("HOME", self.path().join("home"))
            .env("CI", "1")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("GITHUB_ACTIONS")
            .env("DRIFTGATE_SIM_DATE", "2026-12-01")
            .env("DRIFTGATE_SIM_BUILD", "1")
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ALLOW_HTTP", "true");
        c
    }

    fn run_via(&self, endpoint: &str, args: &[&str]) -> Output {
        self.cmd_via(endpoint, args)
            .output()
            .expect("run driftgate")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_via(&self.moto.endpoint(), args)
    }

    /// The store as a library user opens it, configured without the environment.
    fn remote(&self, prefix: &str, endpoint: &str) -> RemoteStore {
        RemoteStore::open_with(
            &self.url(prefix),
            &self.path().join("lib-cache"),
            &[
                ("aws_access_key_id", KEY_ID),
                ("aws_secret_access_key", SECRET),
                ("aws_region", "us-east-1"),
                ("aws_endpoint", endpoint),
                ("aws_allow_http", "true"),
            ],
        )
        .expect("open the store")
    }

    /// An object's bytes, straight from the server.
    fn get(&self, prefix: &str, rel: &str) -> Option<Vec<u8>> {
        let (store, key) = self.remote(prefix, &self.moto.endpoint()).object(rel);
        rt().block_on(async {
            match store.get(&key).await {
                Ok(r) => Some(r.bytes().await.expect("body").to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("get {rel}: {e}"),
            }
        })
    }

    /// Overwrites an object on the server.
    fn put(&self, prefix: &str, rel: &str, bytes: &[u8]) {
        let (store, key) = self.remote(prefix, &self.moto.endpoint()).object(rel);
        rt().block_on(store.put(&key, PutPayload::from(bytes.to_vec())))
            .expect("put");
    }

    fn manifest(&self, prefix: &str, suite: &str) -> Manifest {
        let bytes = self
            .get(prefix, &format!("{suite}/manifest.json"))
            .expect("a manifest in the store");
        serde_json::from_slice(&bytes).expect("manifest JSON")
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A sim suite of small seeded images, two samples per case, no jitter: an unchanged
/// case renders the same bytes every time.
fn suite(id: &str, cases: &[(&str, &str)]) -> String {
    let mut s = format!(
        "suite: {id}\nmodel: {{ provider: sim, endpoint: sim/s3, version: \"1\" }}\ndefaults: {{ size: {{ width: 48, height: 48 }}, seed: 3, samples: 2 }}\ncases:\n"
    );
    for (case, prompt) in cases {
        s.push_str(&format!("  - id: {case}\n    prompt: {prompt}\n"));
    }
    s
}

/// Distinct images a manifest names: a seeded case renders the same image for each of
/// its samples, and the store keeps one copy.
fn unique(m: &Manifest) -> u64 {
    let shas: std::collections::BTreeSet<&str> = m
        .cases
        .values()
        .flat_map(|c| c.images.iter().map(|i| i.sha256.as_str()))
        .collect();
    shas.len() as u64
}

const CASES: &[(&str, &str)] = &[
    ("a", "a red bottle on a wooden table"),
    ("b", "a blue shoe on white sand"),
    ("c", "a green cup in a kitchen"),
    ("d", "an orange lamp on a desk"),
];

/// The summary line's figure before `word`, e.g. `images uploaded` in "2 images uploaded".
fn figure(stderr: &str, words: &str) -> u64 {
    let at = stderr
        .find(words)
        .unwrap_or_else(|| panic!("no `{words}` in:\n{stderr}"));
    stderr[..at]
        .split_whitespace()
        .last()
        .and_then(|n| n.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("no figure before `{words}` in:\n{stderr}"))
}

#[test]
fn record_run_accept_round_trip_downloads_only_what_changed() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", &CASES[..3]));
    let url = e.url("night");
    let base = ["--baselines", url.as_str(), "--cache-dir", "cache"];
    let o = e.run(&cat(&["record", "suites/shop.yaml"], &base));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let m = e.manifest("night", "shop");
    assert_eq!(m.cases.len(), 3);
    let distinct = unique(&m);
    assert_eq!(
        figure(&stderr(&o), "images uploaded"),
        distinct,
        "{}",
        text(&o)
    );
    assert_eq!(figure(&stderr(&o), "already in the store"), 6 - distinct);
    for img in m.cases.values().flat_map(|c| &c.images) {
        let blob = e
            .get("night", &format!("blobs/sha256/{}", img.sha256))
            .expect("every image the manifest names is in the store");
        assert_eq!(sha256(&blob), img.sha256);
    }

    // A new runner: an empty cache downloads every image once; the next night none.
    let fresh = ["--baselines", url.as_str(), "--cache-dir", "runner-cache"];
    let o = e.run(&cat(&["run", "suites/shop.yaml", "--out", "r1"], &fresh));
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        figure(&stderr(&o), "images downloaded"),
        distinct,
        "{}",
        text(&o)
    );
    // Into the default reports/<run-id>/, beside which a local history would be kept.
    let o = e.run(&cat(&["run", "suites/shop.yaml"], &fresh));
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(figure(&stderr(&o), "images downloaded"), 0, "{}", text(&o));
    assert_eq!(figure(&stderr(&o), "from the cache"), 6, "{}", text(&o));

    // The model moves; the change is reviewed and accepted into the store.
    let o = e
        .cmd_via(
            &e.moto.endpoint(),
            &cat(&["run", "suites/shop.yaml", "--out", "r3"], &fresh),
        )
        .env("DRIFTGATE_SIM_BUILD", "2")
        .output()
        .expect("run");
    assert_eq!(code(&o), 1, "{}", text(&o));
    let o = e.run(&cat(&["accept", "r3", "--reason", "new grade"], &fresh));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let accepted = e.manifest("night", "shop");
    for (id, c) in &accepted.cases {
        assert_eq!(c.source, format!("accept {}", run_id(&e, "r3")), "{id}");
        assert_ne!(c.images, m.cases[id].images, "{id}");
    }
    let o = e
        .cmd_via(
            &e.moto.endpoint(),
            &cat(&["run", "suites/shop.yaml", "--out", "r4"], &fresh),
        )
        .env("DRIFTGATE_SIM_BUILD", "2")
        .output()
        .expect("run");
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The accepting machine keeps what it uploaded: nothing to download.
    assert_eq!(figure(&stderr(&o), "images downloaded"), 0, "{}", text(&o));

    // The history lives in the store, so a runner that starts empty draws the trend.
    let history =
        String::from_utf8(e.get("night", "history.jsonl").expect("history")).expect("UTF-8");
    let r2 = std::fs::read_dir(e.path().join("reports"))
        .expect("reports/")
        .flatten()
        .filter(|d| d.path().is_dir())
        .map(|d| format!("reports/{}", d.file_name().to_string_lossy()))
        .next()
        .expect("the second run's folder");
    let runs: Vec<String> = ["r1", r2.as_str(), "r3", "r4"]
        .iter()
        .map(|r| run_id(&e, r))
        .collect();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 4, "{history}");
    for (line, id) in lines.iter().zip(&runs) {
        assert!(line.contains(id.as_str()), "{line} should be run {id}");
    }
    assert!(
        !e.path().join("reports/history.jsonl").exists(),
        "no local history beside remote baselines"
    );
    let o = e.run(&cat(&["check", "suites/shop.yaml"], &fresh));
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn a_sharded_night_merged_keeps_one_history_line_in_the_store() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", CASES));
    let url = e.url("sharded");
    let base = ["--baselines", url.as_str(), "--cache-dir", "cache"];
    let o = e.run(&cat(&["record", "suites/shop.yaml"], &base));
    assert_eq!(code(&o), 0, "{}", text(&o));
    for i in 1..=2 {
        let (shard, out) = (format!("{i}/2"), format!("shard-{i}"));
        let o = e.run(&cat(
            &["run", "suites/shop.yaml", "--shard", &shard, "--out", &out],
            &base,
        ));
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    assert!(
        e.get("sharded", "history.jsonl").is_none(),
        "a shard is not a night: it leaves the history to the merge"
    );
    let o = e.run(&cat(
        &["merge", "shard-1", "shard-2", "--out", "night"],
        &base,
    ));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let history =
        String::from_utf8(e.get("sharded", "history.jsonl").expect("history")).expect("UTF-8");
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 1, "{history}");
    assert!(lines[0].contains(&run_id(&e, "night")), "{history}");
}

fn cat<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    [a, b].concat()
}

fn run_id(e: &Env, dir: &str) -> String {
    let text = std::fs::read_to_string(e.path().join(dir).join("run.json")).expect("run.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    v["run_id"].as_str().expect("run_id").to_string()
}

#[test]
fn re_recording_with_one_changed_case_uploads_only_its_images() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", CASES));
    let url = e.url("rr");
    let args = ["--baselines", url.as_str(), "--cache-dir", "cache"];
    let o = e.run(&cat(&["record", "suites/shop.yaml"], &args));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let full = figure(&stderr(&o), "bytes),");
    let distinct = unique(&e.manifest("rr", "shop"));
    assert_eq!(
        figure(&stderr(&o), "images uploaded"),
        distinct,
        "{}",
        text(&o)
    );

    let mut changed = CASES.to_vec();
    changed[1].1 = "a purple shoe on white sand";
    e.write("suites/shop.yaml", &suite("shop", &changed));
    let before = e.manifest("rr", "shop");
    let o = e.run(&cat(&["record", "suites/shop.yaml", "--force"], &args));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let err = stderr(&o);
    assert_eq!(figure(&err, "images uploaded"), 1, "{err}");
    assert_eq!(figure(&err, "already in the store"), 7, "{err}");
    let part = figure(&err, "bytes),");
    assert!(part * 3 < full, "uploaded {part} of {full} bytes");
    let after = e.manifest("rr", "shop");
    for (id, c) in &after.cases {
        assert_eq!(c.images == before.cases[id].images, id != "b", "{id}");
    }
    let o = e.run(&cat(&["check", "suites/shop.yaml"], &args));
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn two_accepts_at_once_lose_nothing() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", CASES));
    let url = e.url("ca");
    let args = ["--baselines", url.as_str(), "--cache-dir", "cache"];
    let o = e.run(&cat(&["record", "suites/shop.yaml"], &args));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = e
        .cmd_via(
            &e.moto.endpoint(),
            &cat(&["run", "suites/shop.yaml", "--out", "drift"], &args),
        )
        .env("DRIFTGATE_SIM_BUILD", "2")
        .output()
        .expect("run");
    assert_eq!(code(&o), 1, "{}", text(&o));
    let before = e.manifest("ca", "shop");
    // Two reviewers accept different cases of the same night at the same moment, each
    // with its own cache, as two CI jobs would.
    let spawn = |cases: &[&str], cache: &str| {
        let mut a = vec![
            "accept",
            "drift",
            "--baselines",
            url.as_str(),
            "--cache-dir",
            cache,
        ];
        for c in cases {
            a.extend(["--case", *c]);
        }
        e.cmd_via(&e.moto.endpoint(), &a)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn accept")
    };
    let first = spawn(&["a", "b"], "c1");
    let second = spawn(&["c", "d"], "c2");
    for child in [first, second] {
        let o = child.wait_with_output().expect("accept");
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    let after = e.manifest("ca", "shop");
    assert_eq!(after.cases.len(), 4);
    for (id, c) in &after.cases {
        assert!(c.source.starts_with("accept "), "{id} lost: {}", c.source);
        assert_ne!(c.images, before.cases[id].images, "{id}");
    }
    let o = e
        .cmd_via(
            &e.moto.endpoint(),
            &cat(&["run", "suites/shop.yaml", "--out", "after"], &args),
        )
        .env("DRIFTGATE_SIM_BUILD", "2")
        .output()
        .expect("run");
    assert_eq!(code(&o), 0, "every accepted case passes: {}", text(&o));
}

/// The same race made certain, in-process: the second writer finds the manifest
/// replaced, lays its case over the other's, and a change to one case by both is refused.
#[test]
fn a_conditional_write_that_loses_merges_other_cases_and_refuses_the_same_case() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", CASES));
    let url = e.url("cw");
    let o = e.run(&[
        "record",
        "suites/shop.yaml",
        "--baselines",
        &url,
        "--cache-dir",
        "cache",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let endpoint = e.moto.endpoint();
    let (one, two) = (e.remote("cw", &endpoint), e.remote("cw", &endpoint));
    let mut m1 = one.load_manifest("shop").expect("read").expect("manifest");
    let mut m2 = two.load_manifest("shop").expect("read").expect("manifest");
    m1.cases.get_mut("a").expect("a").reason = Some("first".into());
    m2.cases.get_mut("b").expect("b").reason = Some("second".into());
    assert_eq!(one.commit(&m1).expect("first write").retries, 0);
    assert_eq!(two.commit(&m2).expect("second write merges").retries, 1);
    let now = e.manifest("cw", "shop");
    assert_eq!(now.cases["a"].reason.as_deref(), Some("first"));
    assert_eq!(now.cases["b"].reason.as_deref(), Some("second"));

    let (three, four) = (
        Baselines::Remote(Box::new(e.remote("cw", &endpoint))),
        Baselines::Remote(Box::new(e.remote("cw", &endpoint))),
    );
    let mut m3 = three
        .load_manifest("shop")
        .expect("read")
        .expect("manifest");
    let mut m4 = four.load_manifest("shop").expect("read").expect("manifest");
    m3.cases.get_mut("c").expect("c").reason = Some("third".into());
    m4.cases.get_mut("c").expect("c").reason = Some("fourth".into());
    m4.cases.get_mut("d").expect("d").reason = Some("fourth".into());
    three.commit(&m3).expect("third write");
    let err = four.commit(&m4).expect_err("both changed c").to_string();
    assert!(
        err.starts_with(
            "shop/c was changed in s3://driftgate-test/cw/shop/manifest.json by another driftgate"
        ) && !err.contains('\n'),
        "{err}"
    );
    let now = e.manifest("cw", "shop");
    assert_eq!(now.cases["c"].reason.as_deref(), Some("third"));
    assert_eq!(now.cases["d"].reason, None, "nothing of the refused write");
}

#[test]
fn a_corrupted_blob_is_refused_with_one_clear_line() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", &CASES[..2]));
    let url = e.url("cb");
    let o = e.run(&[
        "record",
        "suites/shop.yaml",
        "--baselines",
        &url,
        "--cache-dir",
        "cache",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let m = e.manifest("cb", "shop");
    let victim = &m.cases["b"].images[1];
    e.put(
        "cb",
        &format!("blobs/sha256/{}", victim.sha256),
        b"not the image",
    );
    for cmd in ["run", "check"] {
        let mut args = vec![
            cmd,
            "suites/shop.yaml",
            "--baselines",
            &url,
            "--cache-dir",
            "fresh",
        ];
        if cmd == "run" {
            args.extend(["--out", "r"]);
        }
        let o = e.run(&args);
        assert_eq!(code(&o), 2, "{}", text(&o));
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("sha256")).collect();
        // One line for each baseline file that names the altered object.
        let naming = m.cases["b"]
            .images
            .iter()
            .filter(|i| i.sha256 == victim.sha256)
            .count();
        assert_eq!(lines.len(), naming, "{err}");
        let expected = format!(
            "baseline s3://driftgate-test/cb/blobs/sha256/{0} ({1}) does not match its sha256 in the manifest (expected {0}, found {2})",
            victim.sha256,
            victim.file,
            sha256(b"not the image")
        );
        assert!(lines.iter().any(|l| l.contains(&expected)), "{err}");
        assert!(
            !e.path()
                .join("fresh/blobs/sha256")
                .join(&victim.sha256)
                .exists(),
            "an altered image is never cached"
        );
    }
    assert!(!e.path().join("r/run.json").exists(), "nothing judged");
}

#[test]
fn the_server_stopping_mid_record_leaves_the_old_manifest() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", CASES));
    let url = e.url("stop");
    let o = e.run(&[
        "record",
        "suites/shop.yaml",
        "--baselines",
        &url,
        "--cache-dir",
        "cache",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let old = e.get("stop", "shop/manifest.json").expect("manifest");
    // The re-record reads the manifest, then uploads: the server dies after 5 requests.
    let proxy = Proxy::start(e.moto.port, 0, 5);
    let o = e
        .cmd_via(
            &proxy.endpoint(),
            &[
                "record",
                "suites/shop.yaml",
                "--force",
                "--baselines",
                &url,
                "--cache-dir",
                "cache",
            ],
        )
        .env("DRIFTGATE_SIM_BUILD", "2")
        .output()
        .expect("record");
    assert_ne!(code(&o), 0, "{}", text(&o));
    assert!(proxy.state.stopped.load(Ordering::SeqCst));
    assert_eq!(proxy.state.forwarded.load(Ordering::SeqCst), 5);
    let err = stderr(&o);
    let failures: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(!failures.is_empty(), "{err}");
    for l in &failures {
        assert!(
            l.contains("s3://driftgate-test/stop/"),
            "names the object: {l}"
        );
    }
    assert_eq!(e.get("stop", "shop/manifest.json").expect("manifest"), old);
    let o = e.run(&[
        "check",
        "suites/shop.yaml",
        "--baselines",
        &url,
        "--cache-dir",
        "fresh",
    ]);
    assert_eq!(code(&o), 0, "the old baselines stand: {}", text(&o));
}

#[test]
fn slowdown_503s_are_retried_and_a_storm_fails_clearly() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", &CASES[..1]));
    let url = e.url("slow");
    let o = e.run(&[
        "record",
        "suites/shop.yaml",
        "--baselines",
        &url,
        "--cache-dir",
        "cache",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));

    let proxy = Proxy::start(e.moto.port, 2, u64::MAX);
    let o = e.run_via(
        &proxy.endpoint(),
        &[
            "run",
            "suites/shop.yaml",
            "--baselines",
            &url,
            "--cache-dir",
            "fresh",
            "--out",
            "r1",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(proxy.state.slowed.load(Ordering::SeqCst), 2);
    let distinct = unique(&e.manifest("slow", "shop"));
    assert_eq!(
        figure(&stderr(&o), "images downloaded"),
        distinct,
        "{}",
        text(&o)
    );

    let storm = Proxy::start(e.moto.port, 1000, u64::MAX);
    let started = Instant::now();
    let o = e.run_via(
        &storm.endpoint(),
        &[
            "run",
            "suites/shop.yaml",
            "--baselines",
            &url,
            "--cache-dir",
            "fresh2",
            "--out",
            "r2",
        ],
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(started.elapsed() < Duration::from_secs(30));
    let attempts = storm.state.slowed.load(Ordering::SeqCst);
    assert_eq!(attempts, 1 + driftgate::store::MAX_RETRIES as u64);
    let err = stderr(&o);
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: cannot read s3://driftgate-test/slow/shop/manifest.json: ")
            && first.contains("503")
            && first.contains("SlowDown"),
        "{err}"
    );
}

#[test]
fn push_and_pull_move_a_store_across() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", &CASES[..2]));
    let o = e.run(&["record", "suites/shop.yaml", "--baselines", "local"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let url = e.url("moved");
    let o = e.run(&["baselines", "push", "local", &url, "--cache-dir", "cache"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(figure(&stderr(&o), "images uploaded"), 2, "{}", text(&o));
    let local: Manifest = serde_json::from_str(
        &std::fs::read_to_string(e.path().join("local/shop/manifest.json")).expect("manifest"),
    )
    .expect("JSON");
    assert_eq!(e.manifest("moved", "shop"), local);
    // Pushing again sends no image.
    let o = e.run(&["baselines", "push", "local", &url, "--cache-dir", "cache"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(figure(&stderr(&o), "images uploaded"), 0, "{}", text(&o));

    let o = e.run(&["baselines", "pull", "pulled", &url, "--cache-dir", "fresh"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    for case in ["a", "b"] {
        for n in 0..2 {
            let rel = format!("shop/{case}/{n}.png");
            assert_eq!(
                std::fs::read(e.path().join("pulled").join(&rel)).expect("pulled image"),
                std::fs::read(e.path().join("local").join(&rel)).expect("local image"),
                "{rel}"
            );
        }
    }
    let o = e.run(&["check", "suites/shop.yaml", "--baselines", "pulled"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = e.run(&["baselines", "push", &url, "local"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
}

/// The S3 credentials stay out of every output, on success and on failure, at `-vv`;
/// a location carrying them is refused without echoing them.
#[test]
fn credentials_never_reach_an_output() {
    let Some(e) = Env::new() else { return };
    e.write("suites/shop.yaml", &suite("shop", &CASES[..2]));
    let url = e.url("sec");
    let common = ["--baselines", url.as_str(), "--cache-dir", "cache", "-vv"];
    let mut outputs = vec![
        e.run(&cat(&["record", "suites/shop.yaml"], &common)),
        e.run(&cat(&["run", "suites/shop.yaml", "--out", "r"], &common)),
        e.run(&cat(&["check", "suites/shop.yaml"], &common)),
        e.run(&["accept", "r", "--baselines", &url, "-vv"]),
    ];
    for o in &outputs {
        assert_eq!(code(o), 0, "{}", text(o));
    }
    let missing = ["--baselines", "s3://no-such-bucket-here/x", "-vv"];
    outputs.push(e.run(&cat(&["check", "suites/shop.yaml"], &missing)));
    outputs.push(e.run(&cat(&["record", "suites/shop.yaml"], &missing)));
    let in_url = format!("s3://{KEY_ID}:{SECRET}@{BUCKET}/sec");
    let refused = e.run(&["check", "suites/shop.yaml", "--baselines", &in_url]);
    assert_eq!(code(&refused), 2, "{}", text(&refused));
    assert!(
        stderr(&refused).contains("holds credentials"),
        "{}",
        text(&refused)
    );
    outputs.push(refused);
    for o in &outputs[4..] {
        assert_ne!(code(o), 0, "{}", text(o));
    }
    let mut all: String = outputs.iter().map(text).collect();
    for f in walk(e.path()) {
        all.push_str(&String::from_utf8_lossy(
            &std::fs::read(&f).unwrap_or_default(),
        ));
    }
    for obj in ["sec/shop/manifest.json", "sec/history.jsonl"] {
        let rel = obj.trim_start_matches("sec/");
        all.push_str(&String::from_utf8_lossy(
            &e.get("sec", rel).expect("object"),
        ));
    }
    assert!(!all.contains(SECRET), "the secret key leaked");
    assert!(!all.contains(KEY_ID), "the access key id leaked");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}
