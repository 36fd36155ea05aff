//! `--notify`: posting what the reporter's notification sink queued (`report::notify`), when the gate
//! ends. Each URL gets one POST with a short timeout, retried once; a notification that fails is a
//! warning, never a change of exit code. URLs are printed redacted (`report::text::redact_url`), a
//! refusal's answer only as a short redacted snippet, and userinfo in a URL is sent as Basic auth, never
//! in the request line.

use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

use crate::report::Reporter;
use crate::report::text::{redact_snippet, redact_url, url_parts};

/// One attempt's limit; with the one retry a notification costs at most about 11 s.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Posts everything the reporter's sinks queued.
pub async fn deliver(reporter: &mut Reporter) {
    let outbox = reporter.take_outbox();
    if outbox.is_empty() {
        return;
    }
    let sends = outbox.iter().map(|o| async move { (o, post_with_retry(&o.url, o.body.clone()).await) });
    let results = futures_util::future::join_all(sends).await;
    // Two URLs on one host would print the same redacted line: number them then.
    let names: Vec<String> = outbox.iter().map(|o| redact_url(&o.url)).collect();
    for (i, (o, res)) in results.into_iter().enumerate() {
        let mut name = names[i].clone();
        if names.iter().filter(|n| **n == name).count() > 1 {
            name.push_str(&format!(" (--notify #{})", i + 1));
        }
        match res {
            Ok(()) => reporter.info(&format!("ecsgate: {} {name}", o.label)),
            Err(e) => reporter.warn(&format!("{} {name} failed: {e} (the verdict stands)", o.what)),
        }
    }
}

async fn post_with_retry(url: &str, body: String) -> Result<(), String> {
    match post(url, body.clone()).await {
        Ok(()) => Ok(()),
        // A redirect is an answer, not a hiccup: retrying would get the same one.
        Err(e) if e.starts_with("redirect") => Err(e),
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            post(url, body).await
        }
    }
}

/// The URL without its userinfo, and the `Authorization` header the userinfo stands for (`user:pass`
/// percent-decoded, as curl and browsers do).
pub fn split_credentials(url: &str) -> (String, Option<String>) {
    let Some(p) = url_parts(url) else { return (url.to_string(), None) };
    let Some(userinfo) = p.userinfo else { return (url.to_string(), None) };
    let port = p.port.map(|x| format!(":{x}")).unwrap_or_default();
    let bare = format!("{}://{}{port}{}", p.scheme, p.host, p.rest);
    let decoded = percent_decode(userinfo);
    let auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(decoded));
    (bare, Some(auth))
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// An answer to [`post_json`]: the status, up to 64 KiB of the body, and a redirect's target (redacted).
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// One JSON POST with a timeout of [`ATTEMPT_TIMEOUT`]: the shared HTTP client of `--notify` and
/// `--github-deployment`. `auth` is an `Authorization` header; userinfo in `url` becomes Basic auth.
/// Errors are short and redacted: hyper's text can quote the URL.
pub(crate) async fn post_json(url: &str, auth: Option<String>, body: String) -> Result<Answer, String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
    let (bare, userinfo) = split_credentials(url);
    let mut req = hyper::Request::post(bare.as_str())
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("user-agent", concat!("ecsgate/", env!("CARGO_PKG_VERSION")));
    if let Some(a) = auth.or(userinfo) {
        req = req.header("authorization", a);
    }
    let req = req.body(Full::new(Bytes::from(body))).map_err(|_| "not a valid request URL".to_string())?;
    let res = tokio::time::timeout(ATTEMPT_TIMEOUT, async {
        let resp = client.request(req).await.map_err(|e| redact_snippet(&crate::aws::error_chain(&e), url))?;
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).map(redact_url);
        let bytes = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let body = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned();
        Ok(Answer { status, body, location })
    })
    .await;
    match res {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
    }
}

async fn post(url: &str, body: String) -> Result<(), String> {
    let a = post_json(url, None, body).await?;
    if (200..300).contains(&a.status) {
        Ok(())
    } else if (300..400).contains(&a.status) {
        Err(format!(
            "redirect (HTTP {}) to {} not followed: give the final URL",
            a.status,
            a.location.unwrap_or_else(|| "an unnamed location".into())
        ))
    } else {
        // A short snippet explains a refusal.
        let snippet = redact_snippet(&a.body[..a.body.len().min(4096)], url);
        let snippet = if snippet.is_empty() { String::new() } else { format!(": {snippet}") };
        Err(format!("HTTP {}{snippet}", a.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_becomes_basic_auth_and_leaves_the_url() {
        let (bare, auth) = split_credentials("http://user:p%40ss@relay.example:8080/hook?x=1");
        assert_eq!(bare, "http://relay.example:8080/hook?x=1");
        // base64("user:p@ss")
        assert_eq!(auth.as_deref(), Some("Basic dXNlcjpwQHNz"));
        assert_eq!(split_credentials("https://h/x"), ("https://h/x".to_string(), None));
    }
}
