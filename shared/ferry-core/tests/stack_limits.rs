//! CloudFormation's limits on one stack, for the largest spec the schema allows: at most
//! 500 resources, at most 1,000,000 bytes of template read from S3. A spec over either is
//! refused when rendered (at validation), naming the limit.

use ferry_core::infra::spec::AppSpec;
use ferry_core::infra::template::{render, RenderError, MAX_RESOURCES, MAX_TEMPLATE_BYTES};
use ferry_core::names::Colour;
use serde_json::{json, Value};

/// The schema's maxima: 20 services (its `maxItems`), every one with the longest name,
/// its own path, autoscaling, a health check, environment variables and secrets, and a
/// database and a cache, rendered for prod (one NAT gateway per zone, flow logs, access
/// logs, every alarm).
fn largest_spec(variables_per_service: usize, value_bytes: usize) -> Value {
    let services: Vec<Value> = (0..20)
        .map(|i| {
            let name = format!("s{i:02}{}", "x".repeat(29));
            let environment: serde_json::Map<String, Value> = (0..variables_per_service)
                .map(|v| (format!("VARIABLE_{v:04}"), json!("v".repeat(value_bytes))))
                .collect();
            json!({
                "name": name, "image": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"),
                "port": 8080, "cpu": 1024, "memory": 2048, "desired_count": 2,
                "autoscaling": {"min": 2, "max": 100, "cpu_target": 60},
                "health_check_path": "/healthz", "path": format!("/{name}/*"),
                "environment": environment,
                "secrets": {"DATABASE_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password"}
            })
        })
        .collect();
    json!({
        "app": "a".repeat(32),
        "services": services,
        "database": {"engine": "postgres", "version": "17.6", "instance_class": "db.r7g.large", "storage_gb": 500},
        "cache": {"engine": "valkey", "version": "8.0", "node_type": "cache.r7g.large"},
    })
}

fn prod(spec: &Value) -> Result<(Value, usize, usize), RenderError> {
    let spec = AppSpec::parse(&spec.to_string()).expect("the spec is valid");
    let env = spec.new_environment("prod").unwrap();
    let (template, _) = render(&env, None, Colour::Blue)?;
    let resources = template["Resources"].as_object().unwrap().len();
    let bytes = template.to_string().len();
    Ok((template, resources, bytes))
}

#[test]
fn the_largest_spec_the_schema_allows_fits_one_stack() {
    // Ten variables of 100 bytes per service: a generous, ordinary configuration.
    let (_, resources, bytes) = prod(&largest_spec(10, 100)).unwrap();
    println!("20 services in prod: {resources} resources, {bytes} bytes");
    assert!(resources <= MAX_RESOURCES, "{resources} resources");
    assert!(bytes <= MAX_TEMPLATE_BYTES, "{bytes} bytes");
    // It does not fit inline (51,200 bytes): it is deployed through S3.
    assert!(bytes > 51_200, "{bytes} bytes");
}

#[test]
fn a_spec_over_the_template_size_limit_is_refused_naming_it() {
    // The schema bounds the number of services, not their environments: 20 services with
    // 100 variables of 600 bytes each come to about 1.2 MB.
    let error = prod(&largest_spec(100, 600)).unwrap_err();
    assert!(matches!(error, RenderError::TooLarge { bytes } if bytes > MAX_TEMPLATE_BYTES));
    let message = error.to_string();
    assert!(
        message.contains("over CloudFormation's limit of 1000000 bytes"),
        "{message}"
    );
}
