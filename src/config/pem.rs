//! Reading the PEM files `[target] tls` and `--cacert`, `--cert`, `--key` name: trusted
//! certificates, a client certificate chain and its private key, parsed and checked with
//! rustls' own types (a key is matched to its certificate as rustls will, under ring). Each
//! failure comes back as a [`PemError`] that the caller places at a value in the file or at a
//! flag. No message quotes a file's contents: a private key never appears in one.

use std::path::Path;

use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::ProblemKind;

/// Why a PEM file cannot be used: the message, the label for the value that named it, and how
/// to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PemError {
    pub(crate) kind: ProblemKind,
    pub(crate) message: String,
    pub(crate) label: String,
    pub(crate) help: String,
}

impl PemError {
    fn new(kind: ProblemKind, message: String, label: &str, help: impl Into<String>) -> PemError {
        PemError {
            kind,
            message,
            label: label.to_string(),
            help: help.into(),
        }
    }
}

/// Every certificate in the PEM file at `path` (at least one), each checked to be an X.509
/// certificate rustls can trust. `what` names the setting in messages (`ca`, `--cacert`).
pub(crate) fn read_certificates(
    path: &Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let sections = read_sections(path)?;
    let certificates: Vec<CertificateDer<'static>> = sections
        .iter()
        .filter(|(kind, _)| *kind == SectionKind::Certificate)
        .map(|(_, der)| CertificateDer::from(der.clone()))
        .collect();
    if certificates.is_empty() {
        let holds_key = sections.iter().any(|(kind, _)| is_key(*kind));
        let help = if holds_key {
            format!(
                "this file holds a private key: `{what}` takes certificates (-----BEGIN \
                 CERTIFICATE----- blocks); the key goes in `key`"
            )
        } else {
            not_pem_help("certificates", "-----BEGIN CERTIFICATE-----", "x509")
        };
        return Err(PemError::new(
            ProblemKind::InvalidPem,
            format!("{} holds no certificate", path.display()),
            "no certificate in this file",
            help,
        ));
    }
    for (i, certificate) in certificates.iter().enumerate() {
        if rustls::RootCertStore::empty()
            .add(certificate.clone())
            .is_err()
        {
            return Err(PemError::new(
                ProblemKind::InvalidPem,
                format!(
                    "certificate {} of {} in {} is not a valid X.509 certificate",
                    i + 1,
                    certificates.len(),
                    path.display()
                ),
                "not a valid certificate",
                "the block decodes but is not a certificate: export it again from its source \
                 (openssl x509 -in FILE -noout -text shows what it holds)",
            ));
        }
    }
    Ok(certificates)
}

/// The one private key in the PEM file at `path` (PKCS#8, PKCS#1 or SEC1), checked to be a
/// key rustls can sign with (RSA, ECDSA P-256/P-384, Ed25519).
pub(crate) fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    let bytes = read_file(path)?;
    let sections = sections_of(path, &bytes)?;
    let mut keys: Vec<PrivateKeyDer<'static>> = sections
        .into_iter()
        .filter_map(|(kind, der)| PrivateKeyDer::from_pem(kind, der))
        .collect();
    let key = match keys.len() {
        1 => keys.remove(0),
        0 => {
            let help = if contains(&bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
                "the key is encrypted, and slagate cannot ask for its passphrase: decrypt it \
                 into a file only you can read (openssl pkey -in KEY -out KEY.plain)"
                    .to_string()
            } else if contains(&bytes, b"-----BEGIN CERTIFICATE-----") {
                "this file holds certificates: `key` takes the private key (a -----BEGIN \
                 PRIVATE KEY----- block); the certificates go in `cert`"
                    .to_string()
            } else {
                not_pem_help("a private key", "-----BEGIN PRIVATE KEY-----", "pkey")
            };
            return Err(PemError::new(
                ProblemKind::InvalidPem,
                format!("{} holds no private key", path.display()),
                "no private key in this file",
                help,
            ));
        }
        n => {
            return Err(PemError::new(
                ProblemKind::InvalidPem,
                format!("{} holds {n} private keys", path.display()),
                "more than one private key",
                "keep only the key of the client certificate in this file",
            ));
        }
    };
    if rustls::crypto::ring::sign::any_supported_type(&key).is_err() {
        return Err(PemError::new(
            ProblemKind::InvalidPem,
            format!("the private key in {} cannot be used", path.display()),
            "unusable private key",
            "slagate signs with RSA, ECDSA (P-256, P-384) and Ed25519 keys: check that the \
             block is whole and of one of those kinds",
        ));
    }
    Ok(key)
}

/// Checks that `key` is the private key of `chain`'s first certificate, as rustls does when it
/// is given them for client authentication. `key_path` and `cert_path` name them in messages.
pub(crate) fn check_key_matches(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<(), PemError> {
    let provider = rustls::crypto::ring::default_provider();
    let error =
        match rustls::sign::CertifiedKey::from_der(chain.to_vec(), key.clone_key(), &provider) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
    let (message, label, help) = match error {
        rustls::Error::InconsistentKeys(_) => (
            format!(
                "the private key in {} does not match the certificate in {}",
                key_path.display(),
                cert_path.display()
            ),
            "not the certificate's key",
            "the key must be the private key of the client certificate (the first in its \
             file, before any intermediates): check that both files come from the same issuance",
        ),
        rustls::Error::InvalidCertificate(_) => (
            format!(
                "the first certificate in {} cannot be read",
                cert_path.display()
            ),
            "not a usable certificate",
            "the first block of the certificate file must be the client's own certificate: \
             export it again from its source",
        ),
        _ => (
            format!(
                "the private key in {} cannot be used with the certificate in {}",
                key_path.display(),
                cert_path.display()
            ),
            "unusable key",
            "slagate signs with RSA, ECDSA (P-256, P-384) and Ed25519 keys",
        ),
    };
    Err(PemError::new(
        ProblemKind::KeyMismatch,
        message,
        label,
        help,
    ))
}

fn read_file(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|e| {
        let (reason, help) = match e.kind() {
            std::io::ErrorKind::NotFound => (
                "no such file".to_string(),
                "check the path: in sla.toml it is relative to the sla file's folder, on the \
                 command line to the current directory",
            ),
            std::io::ErrorKind::PermissionDenied => (
                "permission denied".to_string(),
                "make the file readable by the user that runs slagate",
            ),
            std::io::ErrorKind::IsADirectory => (
                "it is a directory".to_string(),
                "name a PEM file, not the folder that holds it",
            ),
            _ => (
                e.to_string(),
                "check that the path names a readable PEM file",
            ),
        };
        PemError::new(
            ProblemKind::UnreadableFile,
            format!("cannot read {}: {reason}", path.display()),
            "unreadable file",
            help,
        )
    })
}

fn read_sections(path: &Path) -> Result<Vec<(SectionKind, Vec<u8>)>, PemError> {
    let bytes = read_file(path)?;
    sections_of(path, &bytes)
}

/// Every PEM section of a kind rustls knows; sections of other kinds are skipped.
fn sections_of(path: &Path, bytes: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, PemError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            // The errors' own texts may quote a line of the file: describe them instead.
            let (what, help) = match e {
                pem::Error::MissingSectionEnd { end_marker } => (
                    format!(
                        "a -----BEGIN {0}----- block has no -----END {0}----- line",
                        String::from_utf8_lossy(&end_marker)
                    ),
                    "the file looks cut short: copy the whole block, from its -----BEGIN line \
                     to its -----END line",
                ),
                pem::Error::IllegalSectionStart { .. } => (
                    "a -----BEGIN line is malformed".to_string(),
                    "a block starts with a line such as -----BEGIN CERTIFICATE----- (five dashes \
                     on each side)",
                ),
                pem::Error::Base64Decode(_) => (
                    "a block's base64 does not decode".to_string(),
                    "the file is damaged between a -----BEGIN and an -----END line: export it \
                     again from its source",
                ),
                pem::Error::SectionTooLarge => (
                    "a block is larger than 256 MB".to_string(),
                    "name a PEM file of certificates or a key",
                ),
                _ => (
                    "it cannot be read as PEM".to_string(),
                    "name a PEM file of certificates or a key",
                ),
            };
            PemError::new(
                ProblemKind::InvalidPem,
                format!("{} is not valid PEM: {what}", path.display()),
                "malformed PEM",
                help,
            )
        })
}

fn is_key(kind: SectionKind) -> bool {
    matches!(
        kind,
        SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn not_pem_help(holds: &str, begin: &str, openssl: &str) -> String {
    format!(
        "expected PEM with {holds} ({begin} blocks); a DER (binary) file converts with \
         openssl {openssl} -inform der -in FILE -out FILE.pem"
    )
}
