//! Command-line behaviour that needs no target.

use crate::{slagate, stderr, stdout};

#[test]
fn validate_accepts_the_repository_config() {
    let out = slagate(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("5 profile(s) are valid"));
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
