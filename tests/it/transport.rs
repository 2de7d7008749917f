//! Real services through the binary (issue 9): HTTPS behind a private CA and with mutual TLS,
//! HTTP/2 by ALPN and h2c, certificates slagate must refuse (in one line, exit 3), GOAWAY and
//! idle keep-alive closes handled as a careful client does, a refused target not hammered.
//! Every server is made in the test, on 127.0.0.1:0, with certificates generated in the test.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::server::{Behaviour, TestServer};
use crate::tls::{
    ClientAuth, H2, H2cServer, HTTP_1_1, Http1Server, PkiFiles, ServeOptions, TestPki, TlsOptions,
    TlsServer, UNTRUSTED_CA_NAME, WRONG_HOST,
};
use crate::{check, stderr, stdout};

/// A folder with certificates, an sla file for `base_url` (with `target_extra` lines in
/// `[target]`, paths relative to the file) and a short profile.
struct Setup {
    dir: tempfile::TempDir,
    pki: PkiFiles,
}

impl Setup {
    fn new(pki: &TestPki, base_url: &str, target_extra: &str, profile: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let files = pki.write_to(dir.path());
        let sla = format!(
            "[target]\nbase_url = \"{base_url}\"\ntimeout = \"5s\"\n{target_extra}\n\n\
             [[endpoint]]\nname = \"/x\"\nbudget = {{ p50 = \"500ms\" }}\n\n\
             [level.edge]\nmax_error_rate = \"0%\"\n"
        );
        std::fs::write(dir.path().join("sla.toml"), sla).unwrap();
        std::fs::write(dir.path().join("edge.toml"), profile).unwrap();
        Setup { dir, pki: files }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn check(&self) -> crate::Check {
        check(self.path("edge.toml"))
            .sla(self.path("sla.toml"))
            .arg("--json")
            .arg(self.path("run.json"))
    }

    fn run(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.path("run.json")).unwrap()).unwrap()
    }
}

const SHORT: &str = "users = 4\nspawn_rate = 100\nrun_time = \"2s\"\nthink_time = \"20ms\"\n";

fn names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

fn passed(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(out),
        stderr(out)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A private-CA HTTPS server is trusted through `tls.ca` (relative to the sla file) and through
/// `--cacert`; `auto` picks HTTP/2 when the server offers it, `--http1.1` keeps to HTTP/1.1, and
/// the run records what it used. No secret given on the command line reaches any output.
#[test]
fn a_private_ca_server_is_trusted_through_tls_ca_and_cacert() {
    let pki = TestPki::generate();
    let server = TlsServer::start(TlsOptions::new(&pki.server).alpn(&[H2, HTTP_1_1]));
    let s = Setup::new(&pki, &server.url(), "tls = { ca = \"ca.pem\" }", SHORT);
    let secret = "tls-run-secret-4e1f9a";
    let out = s
        .check()
        .args(["-H", &format!("x-api-key: {secret}")])
        .run();
    passed(&out);
    let run = s.run();
    let c = &run["connections"];
    assert_eq!(names(&c["protocols"]), ["HTTP/2"], "{c}");
    assert_eq!(c["verified"], true);
    assert!(names(&c["tls_versions"])[0].starts_with("TLSv1."), "{c}");
    // The four users share their worker's HTTP/2 connection (max_streams 100): one
    // connection per worker thread, not one per user.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4) as u64;
    assert!(c["opened"].as_u64().unwrap() <= workers, "{c}");
    let stats = server.stats();
    assert!(
        stats.http2_requests > 0 && stats.http1_requests == 0,
        "{stats:?}"
    );
    assert!(
        stdout(&out).contains("Protocol: HTTP/2 × "),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains(" over TLSv1.3 × "),
        "{}",
        stdout(&out)
    );
    let text = std::fs::read_to_string(s.path("run.json")).unwrap();
    assert!(!text.contains(secret) && !stdout(&out).contains(secret));

    // The same server trusted through the flag alone, spoken to in HTTP/1.1.
    let server = TlsServer::start(TlsOptions::new(&pki.server).alpn(&[H2, HTTP_1_1]));
    let s = Setup::new(&pki, &server.url(), "", SHORT);
    let out = s
        .check()
        .args(["--cacert", path(&s.pki.ca), "--http1.1"])
        .run();
    passed(&out);
    assert_eq!(names(&s.run()["connections"]["protocols"]), ["HTTP/1.1"]);
    let stats = server.stats();
    assert!(
        stats.http1_requests > 0 && stats.http2_requests == 0,
        "{stats:?}"
    );

    // `http = "2"` in the file: HTTP/2 only, even where the server would speak both.
    let server = TlsServer::start(TlsOptions::new(&pki.server).alpn(&[H2, HTTP_1_1]));
    let s = Setup::new(
        &pki,
        &server.url(),
        "http = \"2\"\ntls = { ca = \"ca.pem\" }",
        SHORT,
    );
    passed(&s.check().run());
    let stats = server.stats();
    assert!(
        stats.http2_requests > 0 && stats.http1_requests == 0,
        "{stats:?}"
    );
}

/// Certificates slagate must not trust fail the pre-flight in one line that says which and
/// what to do, exit 3, before any load; `--insecure` runs anyway and every report says so.
#[test]
fn untrusted_wrong_host_and_expired_certificates_stop_the_run_in_one_line() {
    let pki = TestPki::generate();
    let cases = [
        (
            &pki.untrusted_server,
            format!("issued by an unknown authority \"{UNTRUSTED_CA_NAME}\"; pass --cacert FILE"),
        ),
        (
            &pki.wrong_host,
            format!("is for {WRONG_HOST}, not 127.0.0.1"),
        ),
        (&pki.expired, "expired at 2001-01-01".to_string()),
    ];
    for (identity, reason) in cases {
        let server = TlsServer::start(TlsOptions::new(identity));
        let s = Setup::new(&pki, &server.url(), "tls = { ca = \"ca.pem\" }", SHORT);
        let out = s.check().run();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(&reason)).collect();
        assert_eq!(lines.len(), 1, "{reason:?} once, on one line:\n{err}");
        assert_eq!(
            server.stats().requests(),
            0,
            "no load after a refused certificate"
        );
        assert_eq!(s.run()["verdict"], "not-run");
    }

    let server = TlsServer::start(TlsOptions::new(&pki.untrusted_server));
    let s = Setup::new(&pki, &server.url(), "", SHORT);
    let out = s.check().arg("--insecure").run();
    passed(&out);
    assert!(stdout(&out).contains("TLS certificates were NOT verified"));
    assert_eq!(s.run()["connections"]["verified"], false);
}

/// A server that requires a client certificate: without one, the pre-flight says so (exit 3);
/// with `--cert/--key` the run is served and the server saw the certificate.
#[test]
fn mutual_tls_needs_and_takes_a_client_certificate() {
    let pki = TestPki::generate();
    let server = TlsServer::start(
        TlsOptions::new(&pki.server).client_auth(ClientAuth::Required(pki.client_ca.clone())),
    );
    let s = Setup::new(&pki, &server.url(), "tls = { ca = \"ca.pem\" }", SHORT);
    let out = s.check().run();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("requires a client certificate")
            && stderr(&out).contains("pass --cert FILE --key FILE"),
        "{}",
        stderr(&out)
    );
    let out = s
        .check()
        .args([
            "--cert",
            path(&s.pki.client_cert),
            "--key",
            path(&s.pki.client_key),
        ])
        .run();
    passed(&out);
    assert!(server.stats().client_certs > 0, "{:?}", server.stats());
}

/// `--http2` on an http:// target is h2c with prior knowledge: the server sees HTTP/2 only.
#[test]
fn http2_on_cleartext_is_h2c() {
    let pki = TestPki::generate();
    let server = H2cServer::start(ServeOptions::new());
    let s = Setup::new(&pki, &server.url(), "", SHORT);
    let out = s.check().arg("--http2").run();
    passed(&out);
    let stats = server.stats();
    assert!(
        stats.http2_requests > 0 && stats.http1_requests == 0,
        "{stats:?}"
    );
    assert_eq!(names(&s.run()["connections"]["protocols"]), ["HTTP/2"]);
}

/// The open model over HTTP/2: arrivals are streams on shared connections (`max_streams` per
/// connection), not a connection each: 60 arrivals/s held 50 ms ≈ 3 in flight, on one
/// connection per worker at most.
#[test]
fn open_model_arrivals_over_http2_are_streams_on_shared_connections() {
    let pki = TestPki::generate();
    let server = H2cServer::start(ServeOptions::new().delay(Duration::from_millis(50)));
    let s = Setup::new(
        &pki,
        &server.url(),
        "",
        "rate = 60\nrun_time = \"3s\"\nmax_in_flight = 50\n",
    );
    let out = s.check().arg("--http2").run();
    passed(&out);
    let run = s.run();
    let stats = server.stats();
    assert!(
        stats.http2_requests >= 170 && stats.http1_requests == 0,
        "{stats:?}"
    );
    assert_eq!(names(&run["connections"]["protocols"]), ["HTTP/2"]);
    let opened = run["connections"]["opened"].as_u64().unwrap();
    assert!(opened <= 2, "one connection per worker at most: {opened}");
    assert_eq!(run["arrivals"]["dropped"], 0);
}

/// A server that ends each HTTP/2 connection with GOAWAY after a few requests: the users move
/// to a new connection without a failure, and the run counts the GOAWAYs.
#[test]
fn a_goaway_moves_the_users_to_a_new_connection() {
    let pki = TestPki::generate();
    let server = TlsServer::start(
        TlsOptions::new(&pki.server)
            .alpn(&[H2])
            .serve(ServeOptions::new().goaway_after(20)),
    );
    let s = Setup::new(&pki, &server.url(), "tls = { ca = \"ca.pem\" }", SHORT);
    let out = s.check().run();
    passed(&out);
    let run = s.run();
    let c = &run["connections"];
    assert!(c["goaways"].as_u64().unwrap() >= 1, "{c}");
    assert!(c["opened"].as_u64().unwrap() >= 2, "{c}");
    assert_eq!(run["total"]["failures"], 0);
    assert!(server.stats().goaways >= 1);
}

/// A server that closes idle keep-alive connections after 1 s, users that think 2 s: every
/// request finds its connection closed, reconnects outside its latency, and nothing fails.
#[test]
fn idle_keep_alive_closes_are_reconnects_not_failures() {
    let pki = TestPki::generate();
    let server = Http1Server::start(ServeOptions::new().idle_timeout(Duration::from_secs(1)));
    let s = Setup::new(
        &pki,
        &server.url(),
        "",
        "users = 2\nspawn_rate = 100\nrun_time = \"7s\"\nthink_time = \"2s\"\n",
    );
    let out = s.check().run();
    passed(&out);
    let run = s.run();
    let c = &run["connections"];
    assert_eq!(run["total"]["failures"], 0, "{}", stdout(&out));
    assert!(c["reconnects"].as_u64().unwrap() >= 2, "{c}");
    assert!(server.stats().idle_closes >= 2);
    // Every connection the server accepted but the pre-flight's was one slagate counted.
    assert_eq!(
        c["opened"].as_u64().unwrap() + 1,
        server.stats().connections,
        "{c}"
    );
}

/// A target that answers a few requests and then refuses every connection is not a tight
/// loop: each user backs off (10 ms doubling to 1 s), so a few seconds make a few dozen
/// attempts, not tens of thousands.
#[test]
fn a_refusing_target_gets_a_bounded_attempt_rate() {
    let pki = TestPki::generate();
    let server = TestServer::start(Behaviour::DieAfter { answered: 5 });
    let s = Setup::new(
        &pki,
        &server.url(),
        "",
        "users = 2\nspawn_rate = 100\nrun_time = \"4s\"\n",
    );
    let out = s.check().run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let run = s.run();
    let attempts: u64 = run["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .sum();
    assert!(attempts < 60, "{attempts} attempts in 4 s");
    let failed = run["connections"]["failed"].as_u64().unwrap();
    assert!(failed >= 4, "{}", run["connections"]);
}

/// Reconnects to a TLS server resume their session (a fraction of a full handshake's cost),
/// and the run counts them.
#[test]
fn tls_reconnects_resume_their_session() {
    let pki = TestPki::generate();
    let server = TlsServer::start(
        TlsOptions::new(&pki.server)
            .alpn(&[HTTP_1_1])
            .serve(ServeOptions::new().idle_timeout(Duration::from_secs(1))),
    );
    let s = Setup::new(
        &pki,
        &server.url(),
        "tls = { ca = \"ca.pem\" }",
        "users = 1\nspawn_rate = 100\nrun_time = \"7s\"\nthink_time = \"2s\"\n",
    );
    let out = s.check().run();
    passed(&out);
    let run = s.run();
    let c = &run["connections"];
    assert_eq!(run["total"]["failures"], 0);
    assert!(c["reconnects"].as_u64().unwrap() >= 2, "{c}");
    assert!(c["resumed"].as_u64().unwrap() >= 1, "{c}");
    assert!(server.stats().resumed >= 1, "{:?}", server.stats());
}

/// The shipped smoke profile and sla.toml, pointed with `--host` at a private-CA HTTPS server
/// (trusted with `--cacert`) and at one that requires a client certificate (`--cert/--key`).
#[test]
fn the_smoke_profile_gates_an_https_service_behind_a_private_ca_and_mutual_tls() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let files = pki.write_to(dir.path());
    let smoke = |url: &str, extra: &[&str]| {
        check("smoke")
            .sla(crate::repo_sla())
            .host(url)
            .users(8)
            .spawn_rate(100)
            .run_time("5s")
            .args(["--cacert", path(&files.ca)])
            .args(extra)
            .run()
    };
    let server = TlsServer::start(TlsOptions::new(&pki.server));
    let out = smoke(&server.url(), &[]);
    passed(&out);
    assert!(stdout(&out).contains("SLA PASSED"), "{}", stdout(&out));

    let mtls = TlsServer::start(
        TlsOptions::new(&pki.server).client_auth(ClientAuth::Required(pki.client_ca.clone())),
    );
    let out = smoke(
        &mtls.url(),
        &[
            "--cert",
            path(&files.client_cert),
            "--key",
            path(&files.client_key),
        ],
    );
    passed(&out);
    assert!(mtls.stats().client_certs > 0);
}
