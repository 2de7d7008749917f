//! Certificates and keys for tests, made with rcgen inside the test (no private key is checked
//! in) and written as PEM into a fresh temporary folder under `target/`, named by a relative path
//! of fixed length: diagnostics that quote it wrap the same way on every run, and
//! [`Pki::render`] writes it as `[dir]` for snapshots.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::CertificateDer;

use super::ConfigError;

/// A test CA, a client certificate it issued with its key, and damaged files, under `certs/`.
///
/// | file | holds |
/// |---|---|
/// | `certs/ca.pem` | the CA's certificate |
/// | `certs/cas.pem` | a second CA's certificate, then the first's |
/// | `certs/client.pem` | the client certificate, then the CA's (a chain) |
/// | `certs/client.key` | the client certificate's private key (PKCS#8) |
/// | `certs/other.key` | an unrelated private key |
/// | `certs/other.pem` | a second client certificate, whose key is `other.key` |
/// | `certs/truncated.pem` | a certificate block without its END line |
/// | `certs/not-a-cert.pem` | a CERTIFICATE block whose bytes are no certificate |
/// | `certs/encrypted.key` | an ENCRYPTED PRIVATE KEY block |
pub(crate) struct Pki {
    _dir: tempfile::TempDir,
    /// The folder, relative to the working directory (the crate's root under cargo test).
    pub(crate) dir: PathBuf,
    pub(crate) ca: CertificateDer<'static>,
    pub(crate) other_ca: CertificateDer<'static>,
    pub(crate) client: CertificateDer<'static>,
    /// The client key's PKCS#8 DER.
    pub(crate) client_key: Vec<u8>,
    pub(crate) other_client: CertificateDer<'static>,
    pub(crate) other_key: Vec<u8>,
    /// Every PEM text of a private key written, to check that no message quotes one.
    pub(crate) key_pems: Vec<String>,
}

impl Pki {
    pub(crate) fn new() -> Pki {
        std::fs::create_dir_all("target").expect("target/ can be created");
        let tmp = tempfile::Builder::new()
            .prefix("tls.")
            .tempdir_in("target")
            .expect("a temporary folder");
        let cwd = std::env::current_dir().expect("a working directory");
        let dir = tmp
            .path()
            .strip_prefix(&cwd)
            .expect("under the working directory")
            .to_path_buf();
        std::fs::create_dir(dir.join("certs")).expect("certs/");

        let ca = issuer("slagate test CA");
        let other_ca = issuer("slagate other CA");
        let client_key = KeyPair::generate().expect("a key");
        let client = CertificateParams::new(vec!["client.test".to_string()])
            .expect("params")
            .signed_by(&client_key, &ca)
            .expect("a client certificate");
        let other_key = KeyPair::generate().expect("a key");
        let other_client = CertificateParams::new(vec!["other.test".to_string()])
            .expect("params")
            .signed_by(&other_key, &ca)
            .expect("a second client certificate");

        let write = |name: &str, text: &str| {
            std::fs::write(dir.join("certs").join(name), text).expect("a test file");
        };
        write("ca.pem", &ca.pem());
        write("cas.pem", &format!("{}{}", other_ca.pem(), ca.pem()));
        write("client.pem", &format!("{}{}", client.pem(), ca.pem()));
        write("client.key", &client_key.serialize_pem());
        write("other.key", &other_key.serialize_pem());
        write("other.pem", &other_client.pem());
        let pem = ca.pem();
        write("truncated.pem", &pem[..pem.len() / 2]);
        write(
            "not-a-cert.pem",
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        );
        write(
            "encrypted.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        Pki {
            _dir: tmp,
            dir,
            ca: ca.der().clone(),
            other_ca: other_ca.der().clone(),
            client: client.der().clone(),
            client_key: client_key.serialize_der(),
            other_client: other_client.der().clone(),
            other_key: other_key.serialize_der(),
            key_pems: vec![client_key.serialize_pem(), other_key.serialize_pem()],
        }
    }

    /// A file in the folder (e.g. `certs/ca.pem`), as a path relative to the working directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `sla.toml` into the folder: `target` is the whole `[target]` table's body, followed
    /// by one endpoint. Returns its path.
    pub(crate) fn sla(&self, target: &str) -> PathBuf {
        let path = self.dir.join("sla.toml");
        let text = format!(
            "[target]\n{target}\n[[endpoint]]\nname = \"/health\"\nbudget = {{ p95 = \"200ms\" }}\n"
        );
        std::fs::write(&path, text).expect("sla.toml");
        path
    }

    /// The diagnostic as users see it (no colour, fixed width) with the folder written as
    /// `[dir]`; asserts that no key's PEM shows in it. Wider than other snapshots' 100 columns:
    /// a message that quotes the folder's random name must not wrap inside it.
    pub(crate) fn render(&self, e: &ConfigError) -> String {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(160)
            .render_report(&mut out, e)
            .expect("a diagnostic renders");
        for pem in &self.key_pems {
            for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!out.contains(line), "a private key shows:\n{out}");
            }
        }
        let rendered = out.replace(&self.dir.display().to_string(), "[dir]");
        assert!(
            !rendered.contains("target/"),
            "the folder wraps:\n{rendered}"
        );
        rendered
    }
}

fn issuer(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key")).expect("a CA")
}
