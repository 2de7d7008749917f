//! The shell of every HTML page slagate writes (the run report here, the comparison in
//! `compare::html`): the document head with its Content-Security-Policy and the inlined
//! stylesheet (`style.css`), around a body that the page's own module lays out. One shell, so
//! both pages look alike and refuse the same things.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The one stylesheet, inlined: the pages load nothing.
pub(crate) const STYLE: &str = include_str!("style.css");

/// Scripts, fonts, images and remote styles are all refused; only the inline stylesheet and
/// inline SVG are allowed, so even a markup slip could not run code.
pub(crate) const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// A whole page: `title` (escaped, like every interpolation) and `body` inside `<main>`.
pub(crate) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main { (body) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use maud::html;

    use super::{CSP, STYLE, page};

    #[test]
    fn the_shell_refuses_loads_and_escapes_its_title() {
        let p = page("a <b> & c", html! { p { "body" } }).into_string();
        assert!(
            p.starts_with("<!DOCTYPE html><html lang=\"en\"><head>"),
            "{p}"
        );
        assert!(p.contains(&format!("content=\"{CSP}\"")));
        assert!(p.contains("<title>a &lt;b&gt; &amp; c</title>"));
        assert_eq!(p.matches("<style>").count(), 1);
        assert!(p.contains(STYLE));
        assert!(p.ends_with("<main><p>body</p></main></body></html>"), "{p}");
    }
}
