//! The binary itself: a missing variable stops it at cold start, naming the variable.

use std::process::Command;

#[test]
fn a_missing_variable_fails_the_cold_start_and_names_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("FERRY_TABLE_NAME", "ferry-state")
        .env("FERRY_STATE_MACHINE_ARN", "not-an-arn")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("FERRY_STATE_MACHINE_ARN: 'not-an-arn' is not an ARN"),
        "{printed}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("FERRY_TABLE_NAME: is not set"));
}

/// The local-identity mode cannot reach a deployed Ferry, twice over: the real binary
/// refuses to start with it inside Lambda, and Ferry's own template never sets it (nor
/// fault injection) on any function, nor lets a parameter set it.
#[test]
fn local_only_switches_never_reach_a_deployed_ferry() {
    let output = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("FERRY_TABLE_NAME", "ferry-state")
        .env(
            "FERRY_STATE_MACHINE_ARN",
            "arn:aws:states:us-east-1:123456789012:stateMachine:p",
        )
        .env("FERRY_LOCAL_IDENTITY", "true")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout)
        .contains("FERRY_LOCAL_IDENTITY: is for local runs only and cannot be on in AWS Lambda"));

    // Fault injection (the api's Step Functions calls, for the e2e tests) likewise.
    let output = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("FERRY_TABLE_NAME", "ferry-state")
        .env(
            "FERRY_STATE_MACHINE_ARN",
            "arn:aws:states:us-east-1:123456789012:stateMachine:p",
        )
        .env("FERRY_FAULT_INJECTION", "true")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ferry-api")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout)
        .contains("FERRY_FAULT_INJECTION: is for local runs only and cannot be on in AWS Lambda"));

    let template = include_str!("../../../infra/ferry.json");
    for switch in ["FERRY_LOCAL_IDENTITY", "FERRY_FAULT_INJECTION"] {
        assert!(
            !template.contains(switch),
            "infra/ferry.json mentions {switch}"
        );
    }
}
