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
                source: secrets.redact(&id.cert_path.display().to_string()).into_owned(),
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
