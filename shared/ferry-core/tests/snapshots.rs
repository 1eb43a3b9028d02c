//! Every example under every environment it has: the template is pinned by a snapshot, so
//! any change to generated output shows up in review. Generation is deterministic, so
//! these compare byte for byte.

use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;

const EXAMPLES: [(&str, &str); 4] = [
    (
        "small-web",
        include_str!("../../../examples/small-web.yaml"),
    ),
    (
        "web-postgres-valkey",
        include_str!("../../../examples/web-postgres-valkey.yaml"),
    ),
    (
        "two-services",
        include_str!("../../../examples/two-services.yaml"),
    ),
    ("shop", include_str!("../../../examples/shop.json")),
];

#[test]
fn every_example_under_every_profile() {
    for (example, text) in EXAMPLES {
        let spec = AppSpec::parse(text).unwrap_or_else(|e| panic!("{example}: {e}"));
        for env in spec.environment_names() {
            let mut environment = spec.new_environment(&env).unwrap();
            // A fixed time: the snapshot must not change with the clock.
            environment.updated_at = chrono::DateTime::UNIX_EPOCH;
            let (template, report) =
                ferry_core::infra::template::render(&environment, None, Colour::Blue)
                    .unwrap_or_else(|e| panic!("{example}/{env}: {e}"));
            assert!(report.waived.is_empty(), "{example}/{env} waives nothing");
            let first = serde_json::to_string_pretty(&template).unwrap();
            let again = serde_json::to_string_pretty(&ferry_core::infra::template::generate(
                &environment,
                None,
                Colour::Blue,
            ))
            .unwrap();
            assert_eq!(first, again, "{example}/{env}: generation is deterministic");
            insta::assert_snapshot!(format!("{example}-{env}"), first);
        }
    }
}

/// Fargate Spot places only X86_64 Linux tasks: wherever a profile turns Spot on, the
/// task definitions are x86; elsewhere they run on Graviton.
#[test]
fn spot_environments_run_x86_tasks_and_the_rest_graviton() {
    for (example, text) in EXAMPLES {
        let spec = AppSpec::parse(text).unwrap();
        for env_name in spec.environment_names() {
            let env = spec.new_environment(&env_name).unwrap();
            let template =
                ferry_core::infra::template::generate(&env, None, ferry_core::names::Colour::Blue);
            let expected = if env.spec.profile.fargate_spot {
                "X86_64"
            } else {
                "ARM64"
            };
            for (id, resource) in template["Resources"].as_object().unwrap() {
                if resource["Type"] == "AWS::ECS::TaskDefinition" {
                    assert_eq!(
                        resource["Properties"]["RuntimePlatform"]["CpuArchitecture"], expected,
                        "{example} {env_name} {id}"
                    );
                }
            }
        }
    }
}
