//! Test support: SDK clients whose HTTP answers are canned, so tests run the production calls — the
//! SDK's own deserializer and our mapping to the engine's types — on API JSON, without a network.

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use serde_json::Value;

use super::Clients;

/// Answers every request with the same status, error type (for an error) and JSON body.
#[derive(Debug, Clone)]
struct Canned {
    status: u16,
    error_type: Option<String>,
    body: String,
}

impl HttpConnector for Canned {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let mut r =
            Response::new(StatusCode::try_from(self.status).expect("a status"), SdkBody::from(self.body.clone()));
        r.headers_mut().insert("content-type", "application/x-amz-json-1.1");
        if let Some(t) = &self.error_type {
            r.headers_mut().insert("x-amzn-errortype", t.clone());
        }
        HttpConnectorFuture::ready(Ok(r))
    }
}

impl HttpClient for Canned {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// Clients whose every call is answered `status` with `body` (an error's type from its `__type`).
pub fn clients(status: u16, body: &str) -> Clients {
    let error_type = serde_json::from_str::<Value>(body).ok().and_then(|v| v["__type"].as_str().map(str::to_string));
    let conf = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("AKID", "secret", None, None, "test")))
        .http_client(SharedHttpClient::new(Canned {
            status,
            error_type: error_type.filter(|_| status >= 300),
            body: body.into(),
        }))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    // EventBridge keeps the canned configuration's "no retries" too (`from_conf` gives it the gate's).
    Clients { events: aws_sdk_eventbridge::Client::new(&conf), ..Clients::from_conf(&conf, "us-east-1".into()) }
}

/// Runs a call to its end on a runtime of its own (tests are synchronous).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(f)
}

/// The docs' samples print timestamps as RFC 3339 text; the API sends epoch seconds, which is what
/// the SDK reads. Converts every `…At` field, recursively.
pub fn wire_timestamps(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k.ends_with("At")
                    && let Some(ms) = x.as_str().and_then(crate::engine::time::parse_rfc3339_millis)
                {
                    *x = serde_json::json!(ms as f64 / 1000.0);
                } else {
                    wire_timestamps(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(wire_timestamps),
        _ => {}
    }
}

/// One DescribeServiceDeployments entry in the API's JSON, through the SDK and the production mapping
/// ([`super::ecs::describe_service_deployments`]).
pub fn service_deployment(entry: &Value) -> crate::engine::snapshot::ServiceDeploymentSnapshot {
    let mut entry = entry.clone();
    wire_timestamps(&mut entry);
    let body = serde_json::json!({"serviceDeployments": [entry], "failures": []}).to_string();
    let c = clients(200, &body);
    let mut out = block_on(super::ecs::describe_service_deployments(&c, &["arn:x".to_string()])).expect("mapped");
    assert_eq!(out.len(), 1, "one entry in, one out");
    out.remove(0)
}

/// A GetDeployment answer in the API's JSON, through the SDK and the production mapping.
pub fn codedeploy_deployment(answer: &Value) -> crate::engine::codedeploy::CdDeployment {
    let c = clients(200, &answer.to_string());
    block_on(super::codedeploy::get_deployment(&c, "d-x")).expect("mapped")
}

/// A GetDeploymentTarget answer in the API's JSON, through the SDK and the production mapping.
pub fn codedeploy_target(answer: &Value) -> crate::engine::codedeploy::CdTarget {
    let c = clients(200, &answer.to_string());
    block_on(super::codedeploy::get_target(&c, "d-x", "prod", "web")).expect("mapped").expect("a target")
}
