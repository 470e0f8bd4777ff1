//! Secrets: a sentinel key for every provider, the whole path at `-vv`, and the key
//! in no output: stdout, stderr, run.json, manifest.json, junit.xml, summary.md,
//! index.html. The emulators echo every request header back in their error messages,
//! as a misconfigured proxy might, so scrubbing is tested, not only not-printing.

use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::harness::{self, Fal, KEY, Project, code, text};

/// (provider, key variable, sentinel, endpoint)
const PROVIDERS: &[(&str, &str, &str, &str)] = &[
    (
        "fal",
        "FAL_KEY",
        "sentinel-fal-1c8e2b7f40",
        "fal-ai/flux/dev",
    ),
    (
        "openrouter",
        "OPENROUTER_API_KEY",
        "sk-or-sentinel-77a1d0c3e9",
        "bytedance/seedream-4.5",
    ),
    (
        "replicate",
        "REPLICATE_API_TOKEN",
        "r8_sentinel_5d2f9a0b63",
        "bytedance/seedream-4",
    ),
    (
        "ark",
        "ARK_API_KEY",
        "ark-sentinel-0e6b3c9d12",
        // An inference endpoint id, not a catalogued model: the catalogue would refuse
        // the tiny images these runs ask for.
        "ep-20260101-sentinel",
    ),
    (
        "openai",
        "OPENAI_API_KEY",
        "sk-proj-sentinel-9f4a2e7c58",
        "gpt-image-2",
    ),
    (
        "wavespeed",
        "WAVESPEED_API_KEY",
        "ws-sentinel-3b7e1f0a94",
        // Not in the endpoint catalogue, as for ark: the catalogued Seedream edit
        // endpoints would refuse these runs' tiny images before any request.
        "sentinel/unlisted-model",
    ),
    (
        "atlascloud",
        "ATLASCLOUD_API_KEY",
        "apikey-sentinel-6c0d2a8e51",
        "sentinel/unlisted-model",
    ),
];

/// Answers every request with an error whose message repeats the request's headers.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let headers: Vec<String> = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
            .collect();
        ResponseTemplate::new(self.0).set_body_json(serde_json::json!({
            "error": {"message": format!("rejected request with headers {}", headers.join("; "))}
        }))
    }
}

fn all_output(p: &Project, outputs: &[std::process::Output]) -> String {
    let mut all = String::new();
    for o in outputs {
        all.push_str(&text(o));
    }
    for (path, bytes) in harness::tree(p.path()) {
        all.push_str(&format!("\n=== {}\n", path.display()));
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn every_providers_key_stays_out_of_every_output_at_vv() {
    for &(provider, _var, _key, endpoint) in PROVIDERS {
        for status in [400, 401, 500] {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any())
                .respond_with(Echo(status))
                .mount(&server)
                .await;
            let p = Project::new();
            // The same cases recorded by the offline sim give the run baselines to judge
            // against: the request fingerprint does not depend on the platform.
            let cases = "defaults: { size: { width: 32, height: 32 }, seed: 3, samples: 1 }\ncases:\n  - id: a\n    prompt: a bottle on a table\n";
            let sim = p.write(
                "sim.yaml",
                format!("suite: leak\nmodel: {{ provider: sim, endpoint: {endpoint}, version: \"1\", send_seed: true }}\n{cases}"),
            );
            let real = p.write(
                "suites/leak.yaml",
                format!("suite: leak\nmodel: {{ provider: {provider}, endpoint: {endpoint}, version: \"1\", base_url: \"{}\", send_seed: true, poll_interval_ms: 10 }}\n{cases}", server.uri()),
            );
            let (sim, real) = (
                sim.to_string_lossy().into_owned(),
                real.to_string_lossy().into_owned(),
            );
            let with_keys = |args: &[&str]| {
                let mut c = p.cmd(args);
                for &(_, v, k, _) in PROVIDERS {
                    c.env(v, k);
                }
                c.output().unwrap()
            };
            let mut outs = vec![with_keys(&["-vv", "record", &sim])];
            assert_eq!(code(&outs[0]), 0, "{}", text(&outs[0]));
            let run = with_keys(&[
                "-vv",
                "run",
                &real,
                "--out",
                "out",
                "--retry-base-ms",
                "1",
                "--timeout",
                "5",
            ]);
            assert_eq!(code(&run), 3, "{provider} {status}: {}", text(&run));
            outs.push(run);
            outs.push(with_keys(&[
                "-vv",
                "record",
                "--force",
                &real,
                "--retry-base-ms",
                "1",
            ]));
            outs.push(with_keys(&["-vv", "check", &real]));
            outs.push(with_keys(&["-vv", "providers"]));
            outs.push(with_keys(&["-vv", "report", "out"]));
            outs.push(with_keys(&["-vv", "run", &real, "--dry-run"]));
            let all = all_output(&p, &outs);
            for f in [
                "out/run.json",
                "out/junit.xml",
                "out/summary.md",
                "out/index.html",
                "baselines/leak/manifest.json",
            ] {
                assert!(all.contains(&format!("=== {f}")), "{f} was written");
            }
            assert!(
                all.contains("rejected request with headers"),
                "{provider}: the echo reached the report"
            );
            // The echo carried the credential header, so scrubbing is what kept the
            // key out, not a request sent without one.
            let run_json = &all[all.find("=== out/run.json").unwrap_or(0)..];
            let run_json = &run_json[..run_json[1..]
                .find("\n=== ")
                .map_or(run_json.len(), |i| i + 1)];
            assert!(
                run_json.contains("authorization: "),
                "{provider} {status}: no credential header in the echo: {run_json}"
            );
            for &(_, _, k, _) in PROVIDERS {
                if let Some(at) = all.find(k) {
                    panic!(
                        "{provider} {status}: key {k} leaked: …{}…",
                        &all[at.saturating_sub(300)..(at + 40).min(all.len())]
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn successful_record_and_run_at_vv_leak_no_key() {
    let fal = Fal::start().await;
    let p = Project::new();
    let file = p.write("suites/faults.yaml", harness::fal_suite(&fal.uri(), 2));
    let file = file.to_string_lossy().into_owned();
    fal.all_ok().await;
    let rec = p.run(&["-vv", "record", &file, "--retry-base-ms", "1"]);
    assert_eq!(code(&rec), 0, "{}", text(&rec));
    let run = p.run(&["-vv", "run", &file, "--out", "out", "--format", "json"]);
    assert_eq!(code(&run), 0, "{}", text(&run));
    let log = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(
        log.contains("-> POST http://127.0.0.1:"),
        "-vv logs requests: {log}"
    );
    assert!(
        log.contains("authorization"),
        "header names are shown: {log}"
    );
    assert!(log.contains("values redacted"), "{log}");
    let all = all_output(&p, &[rec, run]);
    assert!(!all.contains(KEY), "key leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn key_echoed_in_response_metadata_is_not_stored() {
    let fal = Fal::start().await;
    let p = Project::new();
    let file = p.write("suites/faults.yaml", harness::fal_suite(&fal.uri(), 1));
    let file = file.to_string_lossy().into_owned();
    // A proxy that reflects the credential into the request id it hands back.
    fal.when(
        "a",
        harness::answer(&fal.file("ok.png"))
            .insert_header("x-fal-request-id", format!("req-{KEY}").as_str()),
    )
    .await;
    let rec = p.run(&["-vv", "record", &file, "--retry-base-ms", "1"]);
    assert_eq!(code(&rec), 0, "{}", text(&rec));
    let run = p.run(&["-vv", "run", &file, "--out", "out"]);
    let all = all_output(&p, &[rec, run]);
    assert!(
        !all.contains(KEY),
        "key leaked: {}",
        &all[all.find(KEY).map_or(0, |i| i.saturating_sub(200))..]
    );
}
