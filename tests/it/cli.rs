//! Command-line behaviour that needs no target.

use crate::{slagate, stderr, stdout};

#[test]
fn validate_accepts_the_repository_config() {
    let out = slagate(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("6 profile(s) are valid"));
}

#[test]
fn profiles_lists_the_guide_scenarios_in_load_order() {
    let out = slagate(&["profiles"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let pos: Vec<usize> = ["smoke", "light", "medium", "heavy", "stress"]
        .iter()
        .map(|p| {
            text.find(&format!(" {p} "))
                .unwrap_or_else(|| panic!("{p}: {text}"))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("200–800 ms"), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["check"],
        vec!["check", "--profile", "smoke", "-t", "soon"],
        vec!["check", "--profile", "smoke", "-u", "-3"],
        vec!["check", "--profile", "no-such-profile"],
        vec!["check", "--profile", "smoke", "--sla", "missing/sla.toml"],
        vec!["check", "--profile", "smoke", "--host", "ftp://example"],
        vec!["frobnicate"],
    ] {
        let out = slagate(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?} printed no reason");
    }
}

#[test]
fn help_documents_exit_codes() {
    let out = slagate(&["check", "--help"]);
    let text = stdout(&out);
    assert!(text.contains("Exit codes:"));
    assert!(text.contains("3  the run could not be made"));
    assert!(text.contains("4  INCONCLUSIVE under --strict"), "{text}");
    assert!(text.contains("--strict"), "{text}");
}

#[test]
fn tls_and_http_flags_are_checked_before_anything_is_sent() {
    let https = ["--profile", "smoke", "--host", "https://127.0.0.1:9"];
    for (flags, said) in [
        (vec!["--cert", "c.pem"], "--key"),
        (vec!["--key", "k.pem"], "--cert"),
        (vec!["--cacert", "ca.pem", "-k"], "cannot be used with"),
        (vec!["--http2", "--http1.1"], "cannot be used with"),
        (vec!["--cacert", "no-such-ca.pem"], "[--cacert:1:1]"),
        (
            vec!["--cert", "Cargo.toml", "--key", "Cargo.toml"],
            "[--cert:1:1]",
        ),
    ] {
        for command in ["check", "demo"] {
            let mut args = vec![command];
            // demo has no --host: its target is the simulator, on http://.
            args.extend(if command == "check" {
                &https[..]
            } else {
                &https[..2]
            });
            args.extend(&flags);
            let out = slagate(&args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            let said = if command == "demo" && said.starts_with("[--") {
                "is for https:// targets"
            } else {
                said
            };
            assert!(err.contains(said), "{args:?}: {err}");
        }
    }
}
