//! The Resource Agent SLA and the guide's five profiles, compiled into the binary, so that
//! `slagate demo` works outside a checkout.

use std::path::{Path, PathBuf};

use super::{ConfigError, ProfileFile, SlaFile, parse_profile, parse_sla};

const SLA: &[u8] = include_bytes!("../../sla.toml");
const PROFILES: [(&str, &[u8]); 5] = [
    ("smoke", include_bytes!("../../profiles/smoke.toml")),
    ("light", include_bytes!("../../profiles/light.toml")),
    ("medium", include_bytes!("../../profiles/medium.toml")),
    ("heavy", include_bytes!("../../profiles/heavy.toml")),
    ("stress", include_bytes!("../../profiles/stress.toml")),
];

/// The built-in sla file and the built-in profile of that name.
pub fn load_builtin(profile: &str) -> Result<(SlaFile, ProfileFile), ConfigError> {
    let Some((name, bytes)) = PROFILES.iter().find(|(n, _)| *n == profile) else {
        let names: Vec<&str> = PROFILES.iter().map(|(n, _)| *n).collect();
        return Err(ConfigError::Inconsistent {
            message: format!("no built-in profile `{profile}`"),
            help: format!(
                "the built-in ones are {}; or run in a folder with an sla.toml, or pass --sla FILE",
                names.join(", ")
            ),
        });
    };
    let sla = parse_sla(Path::new("sla.toml (built-in)"), SLA)?;
    let path = PathBuf::from(format!("profiles/{name}.toml"));
    Ok((sla, parse_profile(&path, bytes)?))
}
