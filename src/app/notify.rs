//! `--notify`: posting the verdict where the team looks, when the gate ends. Each URL gets one POST with
//! a short timeout, retried once; a notification that fails is a warning, never a change of exit code.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

use super::settings::redact;
use crate::cli::NotifyOn;
use crate::engine::Outcome;
use crate::report::notify::{ci_job_link, kind_of, payload};
use crate::report::{GateReport, Reporter};

/// One attempt's limit; with the one retry a notification costs at most about 11 s.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn notify(urls: &[String], on: NotifyOn, r: &GateReport, reporter: &mut Reporter) {
    if urls.is_empty() || (on == NotifyOn::Failure && r.outcome == Outcome::Succeeded) {
        return;
    }
    let job = ci_job_link(&|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let sends = urls.iter().map(|url| {
        let body = payload(kind_of(url), r, job.as_deref()).to_string();
        async move { (url, post_with_retry(url, body).await) }
    });
    for (url, res) in futures_util::future::join_all(sends).await {
        match res {
            Ok(()) => reporter.info(&format!("ecsgate: notified {}", redact(url))),
            Err(e) => reporter.warn(&format!("notification to {} failed: {e} (the verdict stands)", redact(url))),
        }
    }
}

async fn post_with_retry(url: &str, body: String) -> Result<(), String> {
    match post(url, body.clone()).await {
        Ok(()) => Ok(()),
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            post(url, body).await
        }
    }
}

async fn post(url: &str, body: String) -> Result<(), String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
    let req = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("ecsgate/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let res = tokio::time::timeout(ATTEMPT_TIMEOUT, async {
        let resp = client.request(req).await.map_err(|e| crate::aws::error_chain(&e))?;
        let status = resp.status();
        // Read the (small) answer so the connection is done with; its text explains a refusal.
        let text = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            let text = String::from_utf8_lossy(&text[..text.len().min(200)]).into_owned();
            Err(format!("HTTP {status}: {}", crate::report::one_line(&text)))
        }
    })
    .await;
    match res {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
    }
}
