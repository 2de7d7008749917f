//! Resolves the [`Transport`]: `[target]`'s `http`, `max_streams`, `connect_timeout`, `tls` and
//! `connect_budget` as `config` read and checked them, with the command line over them:
//! `--http2`/`--http1.1` replace `http`, `--cacert` adds trusted certificates, `--cert`/`--key`
//! replace the client identity, `-k` accepts any certificate. A flag's file is read and checked
//! as the sla file's are (relative to the working directory), and a bad one is a diagnostic
//! naming the flag.
//!
//! Precedence, where the file and a flag disagree: `-k` turns verification off and drops the
//! file's `ca` (nothing would use it); `--cacert` turns the file's `insecure = true` off (it
//! asks for verification against that authority). A `--host` with an http:// URL drops the
//! file's `tls`, which is for its https:// base URL; TLS flags on an http:// target are refused.

use std::path::Path;
use std::time::Duration;

use super::build::{Overrides, budgets_of};
use super::{ClientIdentity, DEFAULT_MAX_STREAMS, HttpVersion, Secrets, Tls, Transport};
use crate::config::{
    ConfigError, HttpSpec, PemError, Problem, SlaFile, check_key_matches, read_certificates,
    read_private_key,
};

/// The transport for `base_url` (the file's or `--host`'s), `timeout` the request timeout.
/// `secrets` masks what the plan may show (the identity's source).
pub(super) fn resolve(
    sla: &SlaFile,
    overrides: &Overrides,
    base_url: &url::Url,
    timeout: Duration,
    secrets: &Secrets,
) -> Result<Transport, ConfigError> {
    let spec = &sla.target;
    let http = overrides.http.unwrap_or(match spec.http {
        HttpSpec::Auto => HttpVersion::Auto,
        HttpSpec::Http1 => HttpVersion::Http1,
        HttpSpec::Http2 => HttpVersion::Http2,
    });
    let tls = if base_url.scheme() == "https" {
        tls(sla, overrides, secrets)?
    } else {
        refuse_tls_flags(overrides, base_url, secrets)?;
        Tls::default()
    };
    Ok(Transport {
        http,
        max_streams: spec.max_streams.unwrap_or(DEFAULT_MAX_STREAMS),
        connect_timeout: spec.connect_timeout.unwrap_or(timeout),
        tls,
        connect_budgets: budgets_of(sla, &spec.connect_budgets)?,
    })
}

fn tls(sla: &SlaFile, overrides: &Overrides, secrets: &Secrets) -> Result<Tls, ConfigError> {
    let mut tls = match &sla.target.tls {
        None => Tls::default(),
        Some(spec) => Tls {
            ca: spec.ca.clone(),
            identity: spec.identity.as_ref().map(|id| ClientIdentity {
                chain: id.chain.clone(),
                key: id.key.clone_key(),
                source: secrets
                    .redact(&id.cert_path.display().to_string())
                    .into_owned(),
            }),
            insecure: spec.insecure,
            server_name: spec.server_name.clone(),
        },
    };
    let count = overrides.cacert.len();
    for (i, path) in overrides.cacert.iter().enumerate() {
        let flag = if count > 1 {
            format!("--cacert #{}", i + 1)
        } else {
            "--cacert".to_string()
        };
        let mut certificates =
            read_certificates(path, "--cacert").map_err(|e| pem_flag_error(&flag, path, e))?;
        tls.ca.append(&mut certificates);
    }
    if overrides.insecure {
        if count > 0 {
            return Err(ConfigError::Inconsistent {
                message: "--insecure and --cacert contradict each other".to_string(),
                help: "--insecure accepts any certificate, so --cacert would never be used: \
                       keep one of them"
                    .to_string(),
            });
        }
        tls.insecure = true;
        tls.ca.clear();
    } else if count > 0 {
        tls.insecure = false;
    }
    match (&overrides.cert, &overrides.key) {
        (Some(cert), Some(key)) => tls.identity = Some(identity(cert, key)?),
        (None, None) => {}
        (cert, _) => {
            let (given, missing) = if cert.is_some() {
                ("--cert", "--key")
            } else {
                ("--key", "--cert")
            };
            return Err(ConfigError::Inconsistent {
                message: format!("{given} is given without {missing}"),
                help: "a client certificate is presented with its private key: pass both, \
                       --cert FILE --key FILE"
                    .to_string(),
            });
        }
    }
    Ok(tls)
}

/// `--cert FILE --key FILE`, read and matched.
fn identity(cert: &Path, key: &Path) -> Result<ClientIdentity, ConfigError> {
    let chain = read_certificates(cert, "--cert").map_err(|e| pem_flag_error("--cert", cert, e))?;
    let private = read_private_key(key).map_err(|e| pem_flag_error("--key", key, e))?;
    check_key_matches(&chain, &private, cert, key).map_err(|e| pem_flag_error("--key", key, e))?;
    Ok(ClientIdentity {
        chain,
        key: private,
        source: cert.display().to_string(),
    })
}

/// TLS flags are for https:// targets: on http:// they would silently do nothing.
fn refuse_tls_flags(
    overrides: &Overrides,
    base_url: &url::Url,
    secrets: &Secrets,
) -> Result<(), ConfigError> {
    let flag = if !overrides.cacert.is_empty() {
        "--cacert"
    } else if overrides.cert.is_some() {
        "--cert"
    } else if overrides.key.is_some() {
        "--key"
    } else if overrides.insecure {
        "--insecure"
    } else {
        return Ok(());
    };
    let origin = if overrides.host.is_some() {
        "--host"
    } else {
        "base_url"
    };
    Err(ConfigError::Inconsistent {
        message: format!(
            "{flag} is for https:// targets, and the target is {} ({origin})",
            super::BaseUrl::new(base_url.clone(), base_url.as_str(), secrets)
        ),
        help: format!(
            "use an https:// URL, or leave out {flag} (over http://, --http2 speaks h2c without \
             TLS)"
        ),
    })
}

fn pem_flag_error(flag: &str, path: &Path, e: PemError) -> ConfigError {
    let value = path.display().to_string();
    let problem = Problem::new(e.kind, 0..value.len(), e.message)
        .label(e.label)
        .help(e.help);
    ConfigError::flag(flag, &value, problem)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use crate::config::test_pki::Pki;
    use crate::config::{ConfigError, load_sla, parse_profile};
    use crate::plan::{HttpVersion, Metric, Plan, Transport, build};

    use super::Overrides;

    const PROFILE: &str = "users = 1\nspawn_rate = 1\nrun_time = \"5s\"\n";
    const HTTPS: &str = "base_url = \"https://staging.example.com\"\ntimeout = \"4s\"";

    fn try_transport(sla: &Path, overrides: &Overrides) -> Result<Transport, ConfigError> {
        let sla = load_sla(sla).expect("sla loads");
        let profile = parse_profile(Path::new("p.toml"), PROFILE.as_bytes()).expect("profile");
        build(&sla, &profile, overrides).map(|plan: Plan| plan.target.transport)
    }

    fn transport(sla: &Path, overrides: &Overrides) -> Transport {
        try_transport(sla, overrides).expect("builds")
    }

    fn flags(pki: &Pki, cacert: &[&str], cert_key: Option<(&str, &str)>) -> Overrides {
        Overrides {
            cacert: cacert.iter().map(|f| pki.file(f)).collect(),
            cert: cert_key.map(|(c, _)| pki.file(c)),
            key: cert_key.map(|(_, k)| pki.file(k)),
            ..Overrides::default()
        }
    }

    #[test]
    fn defaults_are_todays_transport() {
        let t = transport(Path::new("sla.toml"), &Overrides::default());
        assert_eq!(t.http, HttpVersion::Auto);
        assert_eq!(t.max_streams, crate::plan::DEFAULT_MAX_STREAMS);
        assert_eq!(
            t.connect_timeout,
            Duration::from_secs(10),
            "the request timeout"
        );
        assert!(t.tls.ca.is_empty() && t.tls.identity.is_none() && !t.tls.insecure);
        assert!(t.connect_budgets.is_empty());
    }

    #[test]
    fn a_tls_target_resolves_into_the_transport() {
        let pki = Pki::new();
        let sla = pki.sla(&format!(
            "{HTTPS}\nhttp = \"2\"\nmax_streams = 50\nconnect_timeout = \"3s\"\n\
             connect_budget = {{ p99 = \"50ms\", max = \"200ms\" }}\n\
             tls = {{ ca = \"certs/ca.pem\", cert = \"certs/client.pem\", \
             key = \"certs/client.key\", server_name = \"api.internal\" }}"
        ));
        let t = transport(&sla, &Overrides::default());
        assert_eq!(t.http, HttpVersion::Http2);
        assert_eq!(t.max_streams, 50);
        assert_eq!(t.connect_timeout, Duration::from_secs(3));
        assert_eq!(t.tls.ca, std::slice::from_ref(&pki.ca));
        assert!(!t.tls.insecure);
        assert_eq!(t.tls.server_name.as_deref(), Some("api.internal"));
        let identity = t.tls.identity.as_ref().expect("identity");
        assert_eq!(identity.chain, [pki.client.clone(), pki.ca.clone()]);
        assert_eq!(identity.key.secret_der(), &pki.client_key[..]);
        assert_eq!(
            identity.source,
            pki.file("certs/client.pem").display().to_string()
        );
        let [p99, max] = &t.connect_budgets[..] else {
            panic!("two connect budgets");
        };
        assert_eq!(
            (p99.metric.to_string(), p99.limit),
            ("p99".into(), Duration::from_millis(50))
        );
        assert_eq!(max.metric, Metric::Max);
        assert_eq!((max.location.line, max.location.column), (7, 40));
        assert_eq!(max.location.file, sla);

        // Without connect_timeout, the request timeout.
        let sla = pki.sla(HTTPS);
        assert_eq!(
            transport(&sla, &Overrides::default()).connect_timeout,
            Duration::from_secs(4)
        );
    }

    #[test]
    fn flags_override_the_file() {
        let pki = Pki::new();
        let sla = pki.sla(&format!(
            "{HTTPS}\nhttp = \"1.1\"\ntls = {{ ca = \"certs/ca.pem\", cert = \"certs/client.pem\", \
             key = \"certs/client.key\" }}"
        ));
        // --http2 over http = "1.1"; --cacert adds to ca; --cert/--key replace the identity.
        let overrides = Overrides {
            http: Some(HttpVersion::Http2),
            ..flags(
                &pki,
                &["certs/cas.pem"],
                Some(("certs/other.pem", "certs/other.key")),
            )
        };
        let t = transport(&sla, &overrides);
        assert_eq!(t.http, HttpVersion::Http2);
        assert_eq!(
            t.tls.ca,
            [pki.ca.clone(), pki.other_ca.clone(), pki.ca.clone()]
        );
        let identity = t.tls.identity.as_ref().expect("identity");
        assert_eq!(identity.chain, std::slice::from_ref(&pki.other_client));
        assert_eq!(identity.key.secret_der(), &pki.other_key[..]);
        assert_eq!(
            identity.source,
            pki.file("certs/other.pem").display().to_string()
        );
        let t = transport(
            &sla,
            &Overrides {
                http: Some(HttpVersion::Http1),
                ..Overrides::default()
            },
        );
        assert_eq!(t.http, HttpVersion::Http1);

        // -k accepts any certificate: the file's ca is dropped; the identity stays.
        let t = transport(
            &sla,
            &Overrides {
                insecure: true,
                ..Overrides::default()
            },
        );
        assert!(t.tls.insecure && t.tls.ca.is_empty());
        assert!(t.tls.identity.is_some());

        // --cacert asks for verification over the file's insecure = true.
        let insecure = pki.sla(&format!("{HTTPS}\ntls = {{ insecure = true }}"));
        assert!(transport(&insecure, &Overrides::default()).tls.insecure);
        let t = transport(&insecure, &flags(&pki, &["certs/ca.pem"], None));
        assert!(!t.tls.insecure);
        assert_eq!(t.tls.ca, std::slice::from_ref(&pki.ca));

        // A --host with http:// drops the file's tls; --http2 there is h2c.
        let host = Overrides {
            host: Some("http://127.0.0.1:9".into()),
            http: Some(HttpVersion::Http2),
            ..Overrides::default()
        };
        let t = transport(&sla, &host);
        assert!(t.tls.identity.is_none() && t.tls.ca.is_empty());
        assert_eq!(t.http, HttpVersion::Http2);
    }

    #[test]
    fn a_bad_flag_file_names_the_flag() {
        let pki = Pki::new();
        let sla = pki.sla(HTTPS);
        let cases: &[(Overrides, &[&str])] = &[
            (
                flags(&pki, &["certs/missing.pem"], None),
                &[
                    "[--cacert:1:1]",
                    "cannot read [dir]/certs/missing.pem: no such file",
                ],
            ),
            (
                flags(&pki, &["certs/ca.pem", "certs/client.key"], None),
                &[
                    "[--cacert #2:1:1]",
                    "[dir]/certs/client.key holds no certificate",
                ],
            ),
            (
                flags(&pki, &[], Some(("certs/truncated.pem", "certs/client.key"))),
                &["[--cert:1:1]", "is not valid PEM"],
            ),
            (
                flags(&pki, &[], Some(("certs/client.pem", "certs/client.pem"))),
                &["[--key:1:1]", "holds no private key"],
            ),
        ];
        for (overrides, needles) in cases {
            let e = try_transport(&sla, overrides).expect_err("refused");
            let rendered = pki.render(&e);
            for needle in *needles {
                assert!(rendered.contains(needle), "lacks {needle:?}:\n{rendered}");
            }
            assert!(rendered.contains("help:"), "{rendered}");
        }
        let mismatch = flags(&pki, &[], Some(("certs/client.pem", "certs/other.key")));
        let rendered = pki.render(&try_transport(&sla, &mismatch).expect_err("mismatch"));
        assert!(rendered.contains("[--key:1:1]"), "{rendered}");
        assert!(
            rendered.contains(
                "the private key in [dir]/certs/other.key does not match the certificate in \
                 [dir]/certs/client.pem"
            ),
            "{rendered}"
        );
        insta::assert_snapshot!("key_flag_mismatch", rendered);
    }

    #[test]
    fn tls_flags_on_an_http_target_are_refused() {
        let pki = Pki::new();
        let http = Path::new("sla.toml");
        let cases: [(Overrides, &str); 3] = [
            (
                flags(&pki, &["certs/ca.pem"], None),
                "--cacert is for https:// targets",
            ),
            (
                flags(&pki, &[], Some(("certs/client.pem", "certs/client.key"))),
                "--cert is for https:// targets",
            ),
            (
                Overrides {
                    insecure: true,
                    ..Overrides::default()
                },
                "--insecure is for https://",
            ),
        ];
        for (overrides, message) in cases {
            let rendered = pki.render(&try_transport(http, &overrides).expect_err(message));
            assert!(rendered.contains(message), "{rendered}");
            assert!(
                rendered.contains("http://localhost:8003/ (base_url)"),
                "{rendered}"
            );
        }
        let host = Overrides {
            host: Some("http://u:pa55word@127.0.0.1:9".into()),
            insecure: true,
            ..Overrides::default()
        };
        let rendered = pki.render(&try_transport(&pki.sla(HTTPS), &host).expect_err("http host"));
        assert!(
            rendered.contains("target is http://127.0.0.1:9/ (--host)"),
            "{rendered}"
        );
        assert!(!rendered.contains("pa55word"), "{rendered}");
        insta::assert_snapshot!("insecure_on_http", rendered);
    }

    #[test]
    fn cert_and_key_flags_come_together() {
        let pki = Pki::new();
        let only_cert = Overrides {
            cert: Some(PathBuf::from("client.pem")),
            ..Overrides::default()
        };
        let e = try_transport(&pki.sla(HTTPS), &only_cert).expect_err("no key");
        assert!(pki.render(&e).contains("--cert is given without --key"));
    }
}
