//! What the security findings on generated templates (checkov, run by
//! scripts/lint-templates) led to: the fixes, and the suppressions, which must appear only
//! where the profile makes the trade they explain, each documented in docs/security.md.

use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;
use serde_json::Value;

const EXAMPLES: [&str; 4] = [
    include_str!("../../../examples/small-web.yaml"),
    include_str!("../../../examples/web-postgres-valkey.yaml"),
    include_str!("../../../examples/two-services.yaml"),
    include_str!("../../../examples/shop.json"),
];
const SECURITY_DOC: &str = include_str!("../../../docs/security.md");

/// Every example under every environment: (example's app/env, the profile's settings, template).
fn templates() -> Vec<(String, ferry_core::infra::profile::Profile, Value)> {
    let mut all = Vec::new();
    for text in EXAMPLES {
        let spec = AppSpec::parse(text).unwrap();
        for env_name in spec.environment_names() {
            let env = spec.new_environment(&env_name).unwrap();
            let template = ferry_core::infra::template::generate(&env, None, Colour::Blue);
            all.push((
                format!("{}/{env_name}", env.app),
                env.spec.profile.clone(),
                template,
            ));
        }
    }
    all
}

fn skipped(template: &Value, id: &str) -> Vec<String> {
    template["Resources"][id]["Metadata"]["checkov"]["skip"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

fn of_type<'a>(
    template: &'a Value,
    kind: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(move |(_, r)| r["Type"] == kind)
}

#[test]
fn every_suppression_gives_its_reason_and_is_documented() {
    let mut seen = 0;
    for (at, _, template) in templates() {
        for (id, resource) in template["Resources"].as_object().unwrap() {
            for skip in resource["Metadata"]["checkov"]["skip"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let check = skip["id"].as_str().unwrap();
                let comment = skip["comment"].as_str().unwrap();
                assert!(check.starts_with("CKV_AWS_"), "{at} {id}: {check}");
                assert!(
                    comment.len() > 40,
                    "{at} {id} {check}: a reason, not a label"
                );
                assert!(
                    SECURITY_DOC.contains(&format!("`{check}`")),
                    "{at} {id}: {check} is suppressed but docs/security.md does not explain it"
                );
                seen += 1;
            }
        }
    }
    // 87 on the examples when these suppressions were written; the count moves with the
    // examples, so this only checks the walk found them.
    assert!(seen > 50, "{seen}");
}

/// A profile trade is suppressed where that profile makes it, and nowhere else: a dev
/// environment that turns the setting on loses the suppression, and checkov would flag a
/// regression there.
#[test]
fn profile_trades_are_suppressed_only_where_the_profile_makes_them() {
    for (at, profile, template) in templates() {
        let has = |id: &str, check: &str| skipped(&template, id).contains(&check.to_owned());
        assert_eq!(has("HttpListener", "CKV_AWS_2"), profile.allow_http, "{at}");
        assert_eq!(
            has("HttpListener", "CKV_AWS_103"),
            profile.allow_http,
            "{at}"
        );
        assert_eq!(
            has("Cluster", "CKV_AWS_65"),
            !profile.container_insights,
            "{at}"
        );
        assert_eq!(
            has("LoadBalancer", "CKV_AWS_91"),
            !profile.alb_access_logs,
            "{at}"
        );
        if template["Resources"].get("Database").is_some() {
            assert_eq!(has("Database", "CKV_AWS_157"), !profile.db_multi_az, "{at}");
        }
    }
    let text = EXAMPLES[1].replace(
        "  dev:\n",
        "  dev:\n    settings: {allow_http: false, container_insights: true, alb_access_logs: true, db_multi_az: true}\n",
    );
    let env = AppSpec::parse(&text)
        .unwrap()
        .new_environment("dev")
        .unwrap();
    let template = ferry_core::infra::template::generate(&env, None, Colour::Blue);
    for id in ["HttpListener", "Cluster", "LoadBalancer"] {
        assert_eq!(skipped(&template, id), Vec::<String>::new(), "{id}");
    }
    assert_eq!(skipped(&template, "Database"), ["CKV_AWS_118"]);
}

#[test]
fn databases_accept_iam_authentication() {
    for (at, _, template) in templates() {
        for (id, db) in of_type(&template, "AWS::RDS::DBInstance") {
            assert_eq!(
                db["Properties"]["EnableIAMDatabaseAuthentication"], true,
                "{at} {id}"
            );
        }
    }
}

/// Access logs are evidence: a deleted or overwritten one stays recoverable for a while,
/// and the noncurrent versions expire so the bucket does not grow without end.
#[test]
fn the_access_log_bucket_is_versioned_and_its_old_versions_expire() {
    let mut buckets = 0;
    for (at, _, template) in templates() {
        for (id, bucket) in of_type(&template, "AWS::S3::Bucket") {
            let p = &bucket["Properties"];
            assert_eq!(
                p["VersioningConfiguration"]["Status"], "Enabled",
                "{at} {id}"
            );
            let rules = p["LifecycleConfiguration"]["Rules"].as_array().unwrap();
            assert!(
                rules
                    .iter()
                    .any(|r| r["NoncurrentVersionExpiration"]["NoncurrentDays"].is_u64()),
                "{at} {id}"
            );
            buckets += 1;
        }
    }
    assert!(buckets > 0, "prod has an access-log bucket");
}

/// Without `SecurityGroupEgress`, AWS gives a group allow-all egress: every group Ferry
/// makes lists its own, and only the services reach the internet (on 443).
#[test]
fn every_security_group_lists_its_egress() {
    for (at, _, template) in templates() {
        for (id, group) in of_type(&template, "AWS::EC2::SecurityGroup") {
            let egress = group["Properties"]["SecurityGroupEgress"]
                .as_array()
                .unwrap_or_else(|| panic!("{at} {id}: no SecurityGroupEgress"));
            let to_anywhere: Vec<&Value> = egress
                .iter()
                .filter(|e| e["CidrIp"] == "0.0.0.0/0")
                .collect();
            if id == "ServiceSecurityGroup" {
                assert_eq!(to_anywhere.len(), 1, "{at} {id}");
                assert_eq!(
                    (&to_anywhere[0]["FromPort"], &to_anywhere[0]["ToPort"]),
                    (&Value::from(443), &Value::from(443)),
                    "{at} {id}"
                );
            } else {
                assert!(to_anywhere.is_empty(), "{at} {id}: {to_anywhere:?}");
            }
        }
    }
}

#[test]
fn containers_run_read_only_as_their_user_with_a_writable_tmp() {
    for (at, _, template) in templates() {
        for (id, task) in of_type(&template, "AWS::ECS::TaskDefinition") {
            let container = &task["Properties"]["ContainerDefinitions"][0];
            assert_eq!(container["ReadonlyRootFilesystem"], true, "{at} {id}");
            let user = container["User"].as_str().unwrap();
            assert!(
                !["root", "0"].contains(&user) && !user.starts_with("0:"),
                "{at} {id}"
            );
            let tmpfs = &container["LinuxParameters"]["Tmpfs"];
            assert_eq!(tmpfs[0]["ContainerPath"], "/tmp", "{at} {id}");
            assert!(tmpfs[0]["Size"].as_u64().unwrap() > 0, "{at} {id}");
        }
    }
    // The spec chooses: small-web's nginx runs as its own user, 101.
    let small = &templates()[0].2;
    assert_eq!(
        small["Resources"]["WebBlueTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
            ["User"],
        "101"
    );
}

#[test]
fn a_service_lists_its_own_tmpfs_paths() {
    let text = EXAMPLES[0].replace(
        "    user: \"101\"\n",
        "    user: \"101\"\n    tmpfs: {/tmp: 32, /var/cache/nginx: 16}\n",
    );
    let env = AppSpec::parse(&text)
        .unwrap()
        .new_environment("dev")
        .unwrap();
    let template = ferry_core::infra::template::generate(&env, None, Colour::Blue);
    let tmpfs = &template["Resources"]["WebGreenTaskDefinition"]["Properties"]
        ["ContainerDefinitions"][0]["LinuxParameters"]["Tmpfs"];
    let mounts: Vec<(&str, u64)> = tmpfs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["ContainerPath"].as_str().unwrap(),
                t["Size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(mounts, [("/tmp", 32), ("/var/cache/nginx", 16)]);
}

/// CloudFormation takes a template body of 51,200 bytes at most (larger ones must go
/// through S3); the suppressions' reasons add to every template, so keep an eye on it.
#[test]
fn templates_fit_a_cloudformation_template_body() {
    for (at, _, template) in templates() {
        let size = serde_json::to_string(&template).unwrap().len();
        assert!(size < 51_200, "{at}: {size} bytes");
    }
}
