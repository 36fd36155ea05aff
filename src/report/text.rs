//! Foreign text and URLs, made safe to print — the one place for both.
//!
//! *Foreign* text is anything ecsgate did not write: ECS's stopped and status reasons, container reasons,
//! log lines, hook and alarm reasons, target-health descriptions, service event messages, AWS error
//! messages, a webhook's answer. [`foreign`] makes it one line that can neither move a terminal's
//! cursor nor be read as a command by a CI runner:
//! - control characters (ESC, CR, LF, …) and Unicode line separators become spaces;
//! - `##[` (GitHub's legacy command syntax, honoured *anywhere* on a line) becomes `## [`;
//! - a leading `::` (GitHub's workflow commands, honoured after leading whitespace is trimmed) gets a
//!   `‹›` prefix — a text can be printed alone on a line by some sink, and must still not be a command.
//!
//! Every sink also passes each line it writes through [`guard_line`], so even a line assembled from
//! several pieces cannot become a command; ecsgate's own annotations (the GitHub sink) are the only
//! commands it writes.
//!
//! Every URL ecsgate prints passes [`redact_url`]: scheme and host only, never the userinfo, path or
//! query, where webhook secrets live.

use std::borrow::Cow;

/// Foreign text as one safe line (see the module's documentation).
pub fn foreign(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}');
    let needs = s.chars().any(bad) || s.contains("##[") || s.trim_start().starts_with("::");
    if !needs {
        return Cow::Borrowed(s);
    }
    let one: String = s.chars().map(|c| if bad(c) { ' ' } else { c }).collect();
    Cow::Owned(guard_line(&one).into_owned())
}

/// A line about to be written: no runner command can start it or hide in it. Lines of ecsgate's own
/// (time stamps, labels) pass unchanged.
pub fn guard_line(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    if out.contains("##[") {
        out = Cow::Owned(out.replace("##[", "## ["));
    }
    if out.trim_start().starts_with("::") {
        let indent = out.len() - out.trim_start().len();
        out = Cow::Owned(format!("{}‹›{}", &out[..indent], &out[indent..]));
    }
    out
}

/// The parts of an http(s) URL ecsgate cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    /// `user:password`, still percent-encoded.
    pub userinfo: Option<&'a str>,
    pub host: &'a str,
    pub port: Option<&'a str>,
    /// Everything from the first `/`, `?` or `#` after the authority (may be empty).
    pub rest: &'a str,
}

/// Splits `scheme://[userinfo@]host[:port][/path][?query]`; `None` when there is no `://`.
pub fn url_parts(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, after) = url.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    // An IPv6 literal keeps its colons inside the brackets.
    let (host, port) = match hostport.rfind(':') {
        Some(i) if !hostport[i..].contains(']') => (&hostport[..i], Some(&hostport[i + 1..])),
        _ => (hostport, None),
    };
    Some(UrlParts { scheme, userinfo, host, port, rest })
}

/// A URL as ecsgate prints it: `https://hooks.slack.com/…` — scheme, host and port; the userinfo, path
/// and query (where webhook secrets are) never.
pub fn redact_url(url: &str) -> String {
    match url_parts(url.trim()) {
        Some(p) => {
            let port = p.port.map(|x| format!(":{x}")).unwrap_or_default();
            let more = if p.userinfo.is_some() || !p.rest.trim_start_matches('/').is_empty() { "/…" } else { "" };
            foreign(&format!("{}://{}{port}{more}", p.scheme, p.host)).into_owned()
        }
        None => "(not a URL)".into(),
    }
}

/// At most this many characters of a webhook's answer are ever printed.
pub const SNIPPET_CHARS: usize = 120;

/// A short, safe snippet of a webhook's answer body: one line, at most [`SNIPPET_CHARS`] characters,
/// with every URL in it redacted and every secret-bearing part of `url` (userinfo, path segments,
/// query values) blanked — a relay that echoes the request path must not print the secret.
pub fn redact_snippet(body: &str, url: &str) -> String {
    let mut s: String = foreign(body).split_whitespace().collect::<Vec<_>>().join(" ");
    // URLs in the answer: host only.
    let mut out = String::new();
    for word in s.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.contains("://") { out.push_str(&redact_url(word)) } else { out.push_str(word) }
    }
    s = out;
    if let Some(p) = url_parts(url.trim()) {
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(u) = p.userinfo {
            secrets.push(u);
            secrets.extend(u.split(':'));
        }
        secrets.push(p.rest);
        secrets.extend(p.rest.split(['/', '?', '&', '=', '#']));
        // Short pieces ("services", "v1") are not secrets, and blanking them would blank prose.
        secrets.retain(|x| x.len() >= 6);
        secrets.sort_by_key(|x| std::cmp::Reverse(x.len()));
        for sec in secrets {
            s = s.replace(sec, "[redacted]");
        }
    }
    let mut t: String = s.chars().take(SNIPPET_CHARS).collect();
    if s.chars().count() > SNIPPET_CHARS {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile payloads: each would be a runner command or a terminal escape if printed raw.
    pub const HOSTILE: [&str; 6] = [
        "::error file=a,line=1::forged",
        "  ::set-output name=outcome::succeeded",
        "ok ##[error]forged mid-line",
        "##[stop-commands]tok",
        "line one\n::warning::second line\r\n##[group]x",
        "\x1b[2J\x1b[31mred </details> <script> | pipe",
    ];

    #[test]
    fn foreign_text_cannot_become_a_runner_command_or_an_escape() {
        for h in HOSTILE {
            let f = foreign(h);
            assert!(!f.contains('\n') && !f.contains('\r') && !f.contains('\x1b'), "{f:?}");
            assert!(!f.trim_start().starts_with("::"), "{f:?}");
            assert!(!f.contains("##["), "{f:?}");
        }
        assert_eq!(
            foreign("CannotPullContainerError: pull access denied"),
            "CannotPullContainerError: pull access denied"
        );
        // IAM role ARNs have `::` mid-text: they stay as they are.
        assert_eq!(foreign("role arn:aws:iam::123456789012:role/x"), "role arn:aws:iam::123456789012:role/x");
    }

    #[test]
    fn a_guarded_line_of_our_own_passes_unchanged() {
        assert_eq!(guard_line("14:03:21  task abc STOPPED"), "14:03:21  task abc STOPPED");
        assert_eq!(guard_line("    ::error::x"), "    ‹›::error::x");
    }

    #[test]
    fn a_printed_url_keeps_only_scheme_host_and_port() {
        assert_eq!(redact_url("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com/…");
        assert_eq!(redact_url("http://user:PASSWORD@relay.example:8080/x?token=abc"), "http://relay.example:8080/…");
        assert_eq!(redact_url("https://example.com"), "https://example.com");
        assert_eq!(redact_url("http://[::1]:9000/p"), "http://[::1]:9000/…");
        assert_eq!(redact_url("not a url"), "(not a URL)");
    }

    #[test]
    fn a_webhook_answer_that_echoes_the_secret_path_is_blanked() {
        let url = "https://relay.example/services/T0AAAA/B0BBBB/supersecret123?token=qwertyuiop";
        let body = "500 Internal Server Error: no route for POST /services/T0AAAA/B0BBBB/supersecret123?token=qwertyuiop (see https://relay.example/docs/x)";
        let s = redact_snippet(body, url);
        for secret in ["supersecret123", "qwertyuiop", "T0AAAA", "B0BBBB", "/docs/x"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(s.chars().count() <= SNIPPET_CHARS + 1, "{s}");
        let long = "x".repeat(1000);
        assert_eq!(redact_snippet(&long, url).chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn userinfo_is_split_from_the_host() {
        let p = url_parts("http://u:p%40ss@h:1/x").unwrap();
        assert_eq!((p.userinfo, p.host, p.port, p.rest), (Some("u:p%40ss"), "h", Some("1"), "/x"));
    }
}
