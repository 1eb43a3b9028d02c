//! Ferry's HTTPS, for the AWS SDK's clients and for the webhook's: rustls on ring. The
//! SDK's default client and reqwest's default TLS each bring aws-lc-rs, a second and
//! larger crypto library; one library keeps the Lambda zips small (docs/benchmarks.md).

use aws_smithy_http_client::tls;

/// Makes ring the process's rustls provider; reqwest's clients take it from there.
pub fn install_crypto_provider() {
    // An error only means a provider is installed already: ring, by an earlier call.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The SDK's HTTPS client, on ring.
pub fn sdk_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// `aws_config::defaults` with Ferry's HTTPS client: every SDK client Ferry makes, in the
/// functions, the CLI and the tests, starts here. `AWS_ENDPOINT_URL` points them at a
/// local AWS (moto) in tests and the demo; in Lambda it is unset.
pub fn sdk_defaults() -> aws_config::ConfigLoader {
    install_crypto_provider();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(sdk_http_client())
}

/// A reqwest client builder, its TLS on ring.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}
