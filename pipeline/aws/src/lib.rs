//! # haul-aws
//!
//! haul on AWS: where the framework core meets the AWS SDK.
//!
//! - [`S3Store`]: objects in S3 (or any S3-compatible endpoint), streamed.
//! - [`SnsResultSink`]: each result to the results topic; [`iot`]: each result to its
//!   device through the IoT data plane.
//! - [`lambda`]: the SQS batch adapter with `ReportBatchItemFailures`.
//! - [`worker`]: `haul worker`, an SQS long-poller with visibility heartbeats;
//!   [`metrics_server`]: its Prometheus `/metrics`.
//!
//! All three queue runtimes decide what to do with a message through
//! [`haul_pipeline::delivery`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use haul_pipeline::one_line_error;

pub mod iot;
pub mod lambda;
pub mod metrics_server;
mod s3_store;
mod sns_sink;
pub mod worker;

pub use s3_store::{S3Settings, S3Store};
pub use sns_sink::SnsResultSink;

/// The HTTPS client every AWS SDK client of haul uses: hyper with rustls on `ring` (the
/// crypto library the device, the broker and the certificates already use), so that no
/// second crypto library (aws-lc, a C build) is compiled. Shared, so connections are pooled.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    static CLIENT: std::sync::OnceLock<aws_smithy_runtime_api::client::http::SharedHttpClient> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

/// `aws_config::defaults` with the latest behaviour version and [`https_client`]: the start
/// of every AWS configuration haul loads.
pub fn config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client())
}

/// The AWS configuration of a runtime: credentials from the default chain (environment,
/// profile, SSO, container or instance role), the configuration's `region`, and `endpoint`
/// (an emulator) when given; without one `AWS_ENDPOINT_URL` still applies.
pub async fn sdk_config(region: &str, endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = config_loader().region(aws_config::Region::new(region.to_owned()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// The result sinks of an AWS runtime: the results SNS topic when `results_topic_arn` is
/// given, and the devices through IoT Core when `iot_endpoint` (the `iot:Data-ATS` host) is.
pub fn result_sinks(
    sdk: &aws_config::SdkConfig,
    config: &haul_pipeline::config::HaulConfig,
    results_topic_arn: Option<&str>,
    iot_endpoint: Option<&str>,
) -> Vec<std::sync::Arc<dyn haul_pipeline::ResultSink>> {
    let mut sinks: Vec<std::sync::Arc<dyn haul_pipeline::ResultSink>> = Vec::new();
    if let Some(host) = iot_endpoint {
        let publisher = iot::IotPublisher::new(sdk, host);
        sinks.push(std::sync::Arc::new(iot::IotResultSink::new(
            publisher,
            &config.storage.incoming_prefix,
        )));
    }
    if let Some(arn) = results_topic_arn {
        sinks.push(std::sync::Arc::new(SnsResultSink::new(
            aws_sdk_sns::Client::new(sdk),
            arn,
        )));
    }
    sinks
}
