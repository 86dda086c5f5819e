//! HTTPS for connectors that insist on it: a local certificate authority,
//! made once and kept in a directory of its own, and the server certificate
//! it issues at every start for `localhost`, `127.0.0.1` and the real API
//! hosts of the CRMs served.
//!
//! The CA is what a client is told to trust (`NODE_EXTRA_CA_CERTS` for
//! Node.js), so it must stay the same from one start to the next: a CA
//! file that is missing its key, unreadable or corrupt is an error, never a
//! reason to make a new one (which would silently break every client that
//! trusts the old one). Its private key is written readable by its owner
//! only and is never served. This module owns files and certificates
//! only: it knows nothing of HTTP, routes or the store.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The CA certificate, the file clients trust.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA's private key: owner-only, never served.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The name the CA signs as; the certificate kept on disk carries it too,
/// which is what lets a reloaded key go on issuing under the same CA.
const CA_COMMON_NAME: &str = "mockcrm local CA";
const CA_ORGANISATION: &str = "mockcrm (for offline testing only)";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot create the TLS directory {}: {source}; pick another with --tls-dir", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}; fix its permissions, or point --tls-dir at another directory (a new CA is made only where none exists)", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a usable {what}: {reason}; restore it, or delete both {CA_CERT_FILE} and {CA_KEY_FILE} in that directory to make a new CA (clients that trust the old one must then trust the new one)", path.display())]
    Corrupt {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("{} exists but {} does not; restore it, or delete {} to make a new CA", present.display(), missing.display(), present.display())]
    Incomplete { present: PathBuf, missing: PathBuf },
    #[error("{} can be read by others (mode {mode:o}); the CA key must be private: chmod 600 it", path.display())]
    KeyNotPrivate { path: PathBuf, mode: u32 },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot issue a certificate: {0}")]
    Issue(String),
}

/// The local certificate authority, loaded or just made.
pub struct LocalCa {
    dir: PathBuf,
    key: KeyPair,
    cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("LocalCa").field("dir", &self.dir).finish()
    }
}

impl LocalCa {
    /// Loads the CA kept in `dir`, or makes one there when the directory
    /// holds neither of its files.
    pub fn open_or_create(dir: &Path) -> Result<LocalCa, TlsError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => LocalCa::load(dir, &cert_path, &key_path),
            (false, false) => LocalCa::create(dir, &cert_path, &key_path),
            (true, false) => Err(TlsError::Incomplete {
                present: cert_path,
                missing: key_path,
            }),
            (false, true) => Err(TlsError::Incomplete {
                present: key_path,
                missing: cert_path,
            }),
        }
    }

    /// The file a client trusts (`NODE_EXTRA_CA_CERTS`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join(CA_CERT_FILE)
    }

    fn load(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<LocalCa, TlsError> {
        check_private(key_path)?;
        let key_pem = read(key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|error| TlsError::Corrupt {
            path: key_path.to_owned(),
            what: "CA private key",
            reason: error.to_string(),
        })?;
        let cert_pem = read(cert_path)?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|error| {
            TlsError::Corrupt {
                path: cert_path.to_owned(),
                what: "CA certificate",
                reason: error.to_string(),
            }
        })?;
        let ca = LocalCa {
            dir: dir.to_owned(),
            key,
            cert_der,
        };
        // A certificate and a key that do not belong together would only
        // show as every client refusing the server: find it here instead.
        ca.check_pair(cert_path)?;
        Ok(ca)
    }

    fn create(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<LocalCa, TlsError> {
        create_private_dir(dir)?;
        let key = KeyPair::generate().map_err(|error| TlsError::Issue(error.to_string()))?;
        let mut params = ca_params();
        // Valid from a day ago (clocks differ) for twenty years: a CA
        // clients were told to trust should not expire under them.
        let now = time_now();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365 * 20);
        params.serial_number = Some(random_serial());
        let cert = params
            .self_signed(&key)
            .map_err(|error| TlsError::Issue(error.to_string()))?;
        // The key first and exclusively: two servers starting at once in
        // one directory must not both write a CA; the loser reports it.
        write_new(key_path, key.serialize_pem().as_bytes(), 0o600)?;
        write_new(cert_path, cert.pem().as_bytes(), 0o644)?;
        Ok(LocalCa {
            dir: dir.to_owned(),
            key,
            cert_der: cert.der().clone(),
        })
    }

    /// Issues a server certificate for `names` (host names and IP
    /// addresses) and builds the TLS configuration that serves it, HTTP/1.1
    /// only, with the CA in the chain so a client can verify it.
    pub fn server_config(&self, names: &[String]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let (chain, key) = self.issue(names)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError::Issue(error.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| TlsError::Issue(error.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// A leaf certificate for `names`, signed by the CA, with the chain a
    /// server sends (leaf, then CA).
    fn issue(
        &self,
        names: &[String],
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().map_or("localhost", String::as_str),
        );
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                // rcgen takes any ASCII; a client would match none of it.
                // A wildcard (`*.pipedrive.com`) is checked without its `*.`.
                Err(_) => rustls::pki_types::DnsName::try_from(
                    name.strip_prefix("*.").unwrap_or(name.as_str()),
                )
                .map_err(|error| error.to_string())
                .and_then(|_| {
                    name.clone()
                        .try_into()
                        .map_err(|e: rcgen::Error| e.to_string())
                })
                .map(SanType::DnsName)
                .map_err(|error| TlsError::Issue(format!("{name:?} is not a host name: {error}"))),
            })
            .collect::<Result<_, _>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let now = time_now();
        params.not_before = now - time::Duration::days(1);
        // Made fresh at every start, so a short life costs nothing; under
        // the 398 days clients accept for a server certificate.
        params.not_after = now + time::Duration::days(365);
        params.serial_number = Some(random_serial());
        let leaf_key = KeyPair::generate().map_err(|error| TlsError::Issue(error.to_string()))?;
        let issuer = Issuer::new(ca_params(), &self.key);
        let leaf = params
            .signed_by(&leaf_key, &issuer)
            .map_err(|error| TlsError::Issue(error.to_string()))?;
        let key = PrivateKeyDer::try_from(leaf_key.serialize_der())
            .map_err(|error| TlsError::Issue(error.to_string()))?;
        Ok((vec![leaf.der().clone(), self.cert_der.clone()], key))
    }

    /// Verifies that a certificate issued with the loaded key chains to the
    /// loaded certificate.
    fn check_pair(&self, cert_path: &Path) -> Result<(), TlsError> {
        let mismatch = |reason: String| TlsError::Corrupt {
            path: cert_path.to_owned(),
            what: "CA certificate for the key beside it",
            reason,
        };
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.cert_der.clone())
            .map_err(|error| mismatch(error.to_string()))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| mismatch(error.to_string()))?;
        let (chain, _) = self.issue(&["localhost".to_owned()])?;
        let name = rustls::pki_types::ServerName::try_from("localhost")
            .map_err(|error| mismatch(error.to_string()))?;
        use rustls::client::danger::ServerCertVerifier;
        verifier
            .verify_server_cert(
                &chain[0],
                &chain[1..],
                &name,
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .map(|_| ())
            .map_err(|error| mismatch(format!("it does not match the key ({error})")))
    }
}

/// The CA's own parameters, the same at creation and at every reload: the
/// issuer name in every certificate it signs must be the name it carries.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, CA_ORGANISATION);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A positive 16-byte serial: two certificates of one CA must not share
/// one, and a client may cache by it.
fn random_serial() -> rcgen::SerialNumber {
    let mut bytes = [0u8; 16];
    // Fill from the system's randomness; should it fail, a clock-based
    // serial is still unique enough for a local CA.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_be_bytes();
    }
    bytes[0] &= 0x7f;
    rcgen::SerialNumber::from_slice(&bytes)
}

fn read(path: &Path) -> Result<String, TlsError> {
    fs::read_to_string(path).map_err(|source| TlsError::Unreadable {
        path: path.to_owned(),
        source,
    })
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = fs::metadata(path).map_err(|source| TlsError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TlsError::KeyNotPrivate {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), TlsError> {
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| TlsError::CreateDir {
        path: dir.to_owned(),
        source,
    })
}

/// Writes a file that must not exist yet, with `mode` from the start (a
/// key is never readable by others, not even for a moment), and syncs it.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let error = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(error)?;
    file.write_all(contents).map_err(error)?;
    file.sync_all().map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = LocalCa::open_or_create(dir.path()).expect("made");
        let pem = fs::read_to_string(made.ca_file()).expect("CA file");
        let again = LocalCa::open_or_create(dir.path()).expect("loaded");
        assert_eq!(fs::read_to_string(again.ca_file()).expect("CA file"), pem);
        assert_eq!(again.cert_der, made.cert_der);
        again
            .server_config(&["localhost".into(), "127.0.0.1".into()])
            .expect("a reloaded CA still issues");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_owner_only_and_a_readable_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        LocalCa::open_or_create(dir.path()).expect("made");
        let key = dir.path().join(CA_KEY_FILE);
        let mode = fs::metadata(&key).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = LocalCa::open_or_create(dir.path()).expect_err("refused");
        assert!(
            matches!(error, TlsError::KeyNotPrivate { mode: 0o644, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }

    #[test]
    fn a_corrupt_or_half_ca_is_an_error_never_a_new_ca() {
        let dir = tempfile::tempdir().expect("temp dir");
        LocalCa::open_or_create(dir.path()).expect("made");
        let cert = dir.path().join(CA_CERT_FILE);
        fs::write(&cert, "not a certificate").expect("write");
        let error = LocalCa::open_or_create(dir.path()).expect_err("corrupt");
        assert!(matches!(error, TlsError::Corrupt { .. }), "{error}");
        assert_eq!(
            fs::read_to_string(&cert).expect("kept"),
            "not a certificate"
        );

        fs::remove_file(&cert).expect("remove");
        let error = LocalCa::open_or_create(dir.path()).expect_err("half");
        assert!(matches!(error, TlsError::Incomplete { .. }), "{error}");
        assert!(!cert.exists(), "no new certificate was written");
    }

    #[test]
    fn a_certificate_of_another_ca_beside_the_key_is_found() {
        let first = tempfile::tempdir().expect("temp dir");
        let second = tempfile::tempdir().expect("temp dir");
        LocalCa::open_or_create(first.path()).expect("made");
        LocalCa::open_or_create(second.path()).expect("made");
        fs::copy(
            second.path().join(CA_CERT_FILE),
            first.path().join(CA_CERT_FILE),
        )
        .expect("copy");
        let error = LocalCa::open_or_create(first.path()).expect_err("mismatch");
        assert!(
            error.to_string().contains("does not match the key"),
            "{error}"
        );
    }

    #[test]
    fn a_name_that_is_no_host_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = LocalCa::open_or_create(dir.path()).expect("made");
        assert!(ca.server_config(&["bad host name\n".into()]).is_err());
        assert!(ca.server_config(&["*.bad host".into()]).is_err());
        assert!(ca
            .server_config(&["*.pipedrive.com".into(), "api.pipedrive.com".into()])
            .is_ok());
    }
}
