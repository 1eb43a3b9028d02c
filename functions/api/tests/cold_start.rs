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
