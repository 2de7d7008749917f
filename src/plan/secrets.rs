//! What is secret besides the `${NAME}` values `config` found, and the command line's `-H`.
//!
//! - The value of a header named authorization, proxy-authorization, cookie or x-api-key, or
//!   named in `[target] redact`, wherever it is set (target, endpoint, `-H`), whatever its
//!   length; and, at the floor, the parts of it a server might echo on their own: the
//!   credentials after an auth scheme (`Bearer TOKEN` → `TOKEN`), Basic's decoded
//!   `user:password` and password, each cookie's value.
//! - Every `-H` value, at the floor.
//! - A base URL's `user:password@`: the password, `user:password` (decoded and as written), its
//!   base64 form and the `Basic …` header it becomes (the user alone when there is no password:
//!   then it is the token).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::COOKIE;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::Secrets;
use crate::config::{ConfigError, MASK, Problem, ProblemKind};

/// Headers whose values are always secrets (matched case-insensitively: `HeaderName`s are
/// lower case).
const ALWAYS_SECRET: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// Whether a header's value is a secret whatever the configuration says.
pub fn is_always_secret(name: &HeaderName) -> bool {
    ALWAYS_SECRET.contains(&name.as_str())
}

/// Adds the secrets in `headers`: the values of always-secret headers and of those named in
/// `redact`, with their parts (see the module docs); and marks those values sensitive, so that
/// `Debug` prints `Sensitive` and HTTP/2 would never index them.
pub(crate) fn collect(secrets: &mut Secrets, headers: &mut HeaderMap, redact: &[HeaderName]) {
    for (name, value) in headers.iter_mut() {
        if is_always_secret(name) || redact.contains(name) {
            add_value(secrets, name, value);
            value.set_sensitive(true);
        }
    }
}

fn add_value(secrets: &mut Secrets, name: &HeaderName, value: &HeaderValue) {
    let text = String::from_utf8_lossy(value.as_bytes());
    secrets.add_always(&text);
    let text = text.trim();
    if name == COOKIE {
        for pair in text.split(';') {
            if let Some((_, v)) = pair.split_once('=') {
                secrets.add(v.trim());
            }
        }
        return;
    }
    let Some((scheme, credentials)) = text.split_once(' ') else {
        return;
    };
    let credentials = credentials.trim();
    secrets.add(credentials);
    if scheme.eq_ignore_ascii_case("basic")
        && let Some(pair) = BASE64
            .decode(credentials)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    {
        secrets.add(&pair);
        if let Some((_, password)) = pair.split_once(':') {
            secrets.add(password);
        }
    }
}

/// The `Authorization: Basic …` value for a URL's `user:password@`, if it has one, adding what
/// it reveals to `secrets`. The user and password are percent-decoded, as browsers and curl do.
pub(crate) fn basic_auth(url: &url::Url, secrets: &mut Secrets) -> Option<HeaderValue> {
    let (user_written, password_written) = (url.username(), url.password());
    if user_written.is_empty() && password_written.is_none() {
        return None;
    }
    let user = percent_decode(user_written);
    let password = password_written.map(percent_decode).unwrap_or_default();
    let pair = format!("{user}:{password}");
    let encoded = BASE64.encode(&pair);
    let value = format!("Basic {encoded}");
    if password.is_empty() {
        secrets.add(&user);
        secrets.add(user_written);
    } else {
        secrets.add(&password);
        secrets.add(password_written.unwrap_or_default());
    }
    secrets.add(&pair);
    secrets.add(&format!(
        "{user_written}:{}",
        password_written.unwrap_or_default()
    ));
    secrets.add(&encoded);
    secrets.add_always(&value);
    let mut header = HeaderValue::from_str(&value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// `%XX` → the byte; anything else as it is. Invalid UTF-8 after decoding is replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where the `user:password` of a URL's text is: between `://` and the last `@` of the
/// authority (which ends at the first `/`, `?` or `#`).
fn userinfo(text: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find("://")? + 3;
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let at = text[start..authority_end].rfind('@')?;
    Some(start..start + at)
}

/// A URL's text without its `user:password@`.
pub(crate) fn without_userinfo(text: &str) -> String {
    match userinfo(text) {
        Some(info) => format!("{}{}", &text[..info.start], &text[info.end + 1..]),
        None => text.to_string(),
    }
}

/// The password written in a URL's text (for masking a `--host` value in its diagnostic, which
/// quotes it before it could be parsed).
pub(crate) fn written_password(text: &str) -> Secrets {
    let mut secrets = Secrets::default();
    if let Some(info) = userinfo(text)
        && let Some((_, password)) = text[info].split_once(':')
    {
        secrets.add_always(password);
    }
    secrets
}

/// One `-H 'Name: value'`. An empty value removes the header from every request, as in curl.
#[derive(Debug, Clone)]
pub(crate) struct HeaderFlag {
    pub(crate) name: HeaderName,
    pub(crate) value: Option<HeaderValue>,
}

/// Parses the `index`-th of `count` `-H` values. Its diagnostic never shows the value, which
/// may be a secret (and with no colon, any of the text may be).
pub(crate) fn parse_header_flag(
    arg: &str,
    index: usize,
    count: usize,
) -> Result<HeaderFlag, ConfigError> {
    let flag = if count > 1 {
        format!("-H #{index}")
    } else {
        "-H".to_string()
    };
    let example = "-H 'x-api-key: VALUE'";
    let Some((name, value)) = arg.split_once(':') else {
        let problem = Problem::new(
            ProblemKind::InvalidHeader,
            0..MASK.len(),
            format!("{flag} has no `:` between a header name and its value"),
        )
        .label("not shown: it may hold a secret")
        .help(format!(
            "write a header name, a colon and the value: {example}"
        ));
        return Err(ConfigError::flag(&flag, MASK, problem));
    };
    let name = name.trim();
    let shown = format!("{name}: {MASK}");
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        let problem = Problem::new(
            ProblemKind::InvalidHeader,
            0..name.len(),
            format!("`{name}` is not a valid header name"),
        )
        .label("invalid header name")
        .help(format!(
            "header names are letters, digits and - (no spaces), before the colon: {example}"
        ));
        ConfigError::flag(&flag, &shown, problem)
    })?;
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Ok(HeaderFlag { name, value: None });
    }
    let value = HeaderValue::from_str(value).map_err(|_| {
        let at = shown.len() - MASK.len();
        let problem = Problem::new(
            ProblemKind::InvalidHeader,
            at..shown.len(),
            format!("invalid value for header `{name}`"),
        )
        .label("invalid header value (not shown: it may be a secret)")
        .help("header values are visible ASCII text: no line breaks or control characters");
        ConfigError::flag(&flag, &shown, problem)
    })?;
    Ok(HeaderFlag {
        name,
        value: Some(value),
    })
}

/// `-H` over `headers`: each name given replaces every value of that name; several `-H` with
/// one name are all sent; an empty value removes the header.
pub(crate) fn apply_flags(headers: &mut HeaderMap, flags: &[HeaderFlag]) {
    for flag in flags {
        headers.remove(&flag.name);
    }
    for flag in flags {
        if let Some(value) = &flag.value {
            headers.append(&flag.name, value.clone());
        }
    }
}
