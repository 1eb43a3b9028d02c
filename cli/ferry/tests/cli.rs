//! The CLI as a user runs it: exit codes and one-line errors.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

/// Writes a spec to a file of its own under the target's temp dir.
fn spec_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ferry-cli-{}-{name}.json", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    path
}

#[test]
fn plan_prices_the_example_offline() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/shop.json");
    Command::cargo_bin("ferry")
        .unwrap()
        .args(["plan", "--spec", example, "--app", "shop", "--env", "dev"])
        .env_remove("AWS_ENDPOINT_URL")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "total: $65.16 / month in us-east-1",
        ));
}

#[test]
fn a_bad_spec_exits_non_zero_with_one_line_naming_each_field() {
    let spec = spec_file(
        "bad",
        r#"{"services": [{"name": "web", "port": 80, "cpu": 300, "memory": 512}], "cache": {"engine": "memcached", "node_type": "cache.t4g.micro"}}"#,
    );
    let output = Command::cargo_bin("ferry")
        .unwrap()
        .args([
            "plan",
            "--spec",
            spec.to_str().unwrap(),
            "--app",
            "shop",
            "--env",
            "dev",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("spec.services[0].cpu: 300 is not a valid Fargate CPU value"),
        "{stderr}"
    );
    assert!(stderr.contains("spec.cache.engine"), "{stderr}");
}

#[test]
fn bad_names_and_regions_are_named() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/shop.json");
    Command::cargo_bin("ferry")
        .unwrap()
        .args(["plan", "--spec", example, "--app", "Shop!", "--env", "dev"])
        .assert()
        .failure()
        .stderr(predicate::str::starts_with(
            "ferry: --app: 'Shop!' is not a valid name",
        ));
    Command::cargo_bin("ferry")
        .unwrap()
        .args([
            "plan", "--spec", example, "--app", "shop", "--env", "dev", "--region", "mars-1",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--region: region: the pricing catalog has no prices for 'mars-1'",
        ));
    Command::cargo_bin("ferry")
        .unwrap()
        .args([
            "plan",
            "--spec",
            "/nonexistent/spec.json",
            "--app",
            "shop",
            "--env",
            "dev",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "/nonexistent/spec.json: cannot read",
        ));
}
