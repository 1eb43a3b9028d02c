//! One test per policy rule: a compliant template passes, and breaking the rule is caught
//! under that rule's name.

use ferry_core::infra::policy::{check, RULES, RULES_FILE};
use ferry_core::infra::spec::{AppSpec, Waiver};
use ferry_core::names::Colour;
use serde_json::{json, Value};

const EXAMPLE: &str = include_str!("../../../examples/web-postgres-valkey.yaml");

fn prod_template() -> Value {
    let env = AppSpec::parse(EXAMPLE)
        .unwrap()
        .new_environment("prod")
        .unwrap();
    ferry_core::infra::template::generate(&env, None, Colour::Blue)
}

fn failed_rules(template: &Value) -> Vec<String> {
    check(template, &[])
        .unwrap()
        .violations
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

fn assert_caught(rule: &str, break_it: impl FnOnce(&mut Value)) {
    let mut template = prod_template();
    break_it(&mut template);
    assert_eq!(failed_rules(&template), [rule], "breaking {rule}");
}

#[test]
fn the_generated_prod_template_passes_every_rule() {
    assert_eq!(failed_rules(&prod_template()), Vec::<String>::new());
}

#[test]
fn the_rule_list_matches_the_rules_file() {
    let in_file: Vec<&str> = RULES_FILE
        .lines()
        .filter_map(|l| l.strip_prefix("rule "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let listed: Vec<&str> = RULES.iter().map(|r| r.name).collect();
    assert_eq!(in_file, listed);
}

#[test]
fn rds_storage_encrypted() {
    assert_caught("rds_storage_encrypted", |t| {
        t["Resources"]["Database"]["Properties"]["StorageEncrypted"] = json!(false)
    });
}

#[test]
fn rds_not_public() {
    assert_caught("rds_not_public", |t| {
        t["Resources"]["Database"]["Properties"]["PubliclyAccessible"] = json!(true)
    });
}

#[test]
fn cache_encrypted() {
    assert_caught("cache_encrypted", |t| {
        t["Resources"]["Cache"]["Properties"]["TransitEncryptionEnabled"] = json!(false)
    });
}

#[test]
fn s3_encrypted_and_private() {
    assert_caught("s3_encrypted_and_private", |t| {
        t["Resources"]["AccessLogBucket"]["Properties"]["PublicAccessBlockConfiguration"]
            ["BlockPublicPolicy"] = json!(false)
    });
}

#[test]
fn open_ingress_only_https() {
    assert_caught("open_ingress_only_https", |t| {
        t["Resources"]["AlbSecurityGroup"]["Properties"]["SecurityGroupIngress"]
            .as_array_mut()
            .unwrap()
            .push(json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}))
    });
}

#[test]
fn ingress_from_security_groups() {
    assert_caught("ingress_from_security_groups", |t| {
        t["Resources"]["DatabaseSecurityGroup"]["Properties"]["SecurityGroupIngress"] =
            json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/8"}])
    });
    // A standalone ingress resource too: its whole Properties is what the rule reads.
    assert_caught("ingress_from_security_groups", |t| {
        let ingress = t["Resources"]
            .as_object_mut()
            .unwrap()
            .iter_mut()
            .find(|(_, r)| r["Type"] == "AWS::EC2::SecurityGroupIngress")
            .map(|(_, r)| r)
            .expect("a standalone ingress in the template");
        let properties = ingress["Properties"].as_object_mut().unwrap();
        properties.remove("SourceSecurityGroupId");
        properties.insert("CidrIp".into(), json!("10.0.0.0/8"));
    });
}

#[test]
fn prod_deletion_protection() {
    assert_caught("prod_deletion_protection", |t| {
        t["Resources"]["Database"]["Properties"]["DeletionProtection"] = json!(false)
    });
    assert_caught("prod_deletion_protection", |t| {
        t["Resources"]["Database"]["DeletionPolicy"] = json!("Delete")
    });
}

#[test]
fn log_retention_set() {
    assert_caught("log_retention_set", |t| {
        t["Resources"]["WebLogGroup"]["Properties"]
            .as_object_mut()
            .unwrap()
            .remove("RetentionInDays");
    });
}

#[test]
fn tasks_not_public() {
    assert_caught("tasks_not_public", |t| {
        t["Resources"]["WebGreenService"]["Properties"]["NetworkConfiguration"]
            ["AwsvpcConfiguration"]["AssignPublicIp"] = json!("ENABLED")
    });
}

fn first_container(t: &mut Value) -> &mut Value {
    &mut t["Resources"]["WebBlueTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
}

#[test]
fn containers_read_only_root() {
    assert_caught("containers_read_only_root", |t| {
        first_container(t)["ReadonlyRootFilesystem"] = json!(false)
    });
    assert_caught("containers_read_only_root", |t| {
        first_container(t)
            .as_object_mut()
            .unwrap()
            .remove("ReadonlyRootFilesystem");
    });
}

#[test]
fn containers_not_root() {
    for root in ["root", "0", "0:0", "root:root", "root:0", "0:root"] {
        assert_caught("containers_not_root", |t| {
            first_container(t)["User"] = json!(root)
        });
    }
    // No User: the container runs as whatever the image says, root unless it says otherwise.
    assert_caught("containers_not_root", |t| {
        first_container(t).as_object_mut().unwrap().remove("User");
    });
    for user in ["1000:1000", "10001", "app", "rootless"] {
        let mut template = prod_template();
        first_container(&mut template)["User"] = json!(user);
        assert_eq!(failed_rules(&template), Vec::<String>::new(), "{user}");
    }
}

#[test]
fn egress_restricted() {
    // No SecurityGroupEgress: AWS's default allows all traffic out.
    assert_caught("egress_restricted", |t| {
        t["Resources"]["DatabaseSecurityGroup"]["Properties"]
            .as_object_mut()
            .unwrap()
            .remove("SecurityGroupEgress");
    });
    assert_caught("egress_restricted", |t| {
        t["Resources"]["ServiceSecurityGroup"]["Properties"]["SecurityGroupEgress"]
            .as_array_mut()
            .unwrap()
            .push(json!({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}))
    });
    assert_caught("egress_restricted", |t| {
        t["Resources"]["CacheSecurityGroup"]["Properties"]["SecurityGroupEgress"] = json!([
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "CidrIpv6": "::/0"}
        ])
    });
    assert_caught("egress_restricted", |t| {
        let egress = &mut t["Resources"]["ServiceToDatabaseEgress"]["Properties"];
        let egress = egress.as_object_mut().unwrap();
        egress.remove("DestinationSecurityGroupId");
        egress.insert("CidrIp".into(), json!("10.0.0.0/8"));
    });
}

#[test]
fn rds_backups() {
    assert_caught("rds_backups", |t| {
        t["Resources"]["Database"]["Properties"]["BackupRetentionPeriod"] = json!(0)
    });
    // Prod keeps a week at least.
    assert_caught("rds_backups", |t| {
        t["Resources"]["Database"]["Properties"]["BackupRetentionPeriod"] = json!(3)
    });
    // Dev's one day is enough there, and zero is not.
    let env = AppSpec::parse(EXAMPLE)
        .unwrap()
        .new_environment("dev")
        .unwrap();
    let mut dev = ferry_core::infra::template::generate(&env, None, Colour::Blue);
    assert_eq!(
        dev["Resources"]["Database"]["Properties"]["BackupRetentionPeriod"],
        1
    );
    assert_eq!(failed_rules(&dev), Vec::<String>::new());
    dev["Resources"]["Database"]["Properties"]["BackupRetentionPeriod"] = json!(0);
    assert_eq!(failed_rules(&dev), ["rds_backups"]);
}

/// The hardening can be turned off in the spec, and then the environment must waive the
/// rule by name, with its reason, as for any other rule.
#[test]
fn a_service_that_needs_a_writable_root_renders_only_with_a_waiver() {
    let spec = |waivers: &str| {
        EXAMPLE.replace(
            "    health_check_path: /health\n",
            "    health_check_path: /health\n    read_only_root_filesystem: false\n    user: root\n",
        ) + &format!("  staging:\n    waivers: [{waivers}]\n")
    };
    let render = |text: String| {
        let env = AppSpec::parse(&text)
            .unwrap()
            .new_environment("staging")
            .unwrap();
        ferry_core::infra::template::render(&env, None, Colour::Blue)
    };
    let error = render(spec("")).unwrap_err().to_string();
    assert!(error.contains("containers_read_only_root"), "{error}");
    assert!(error.contains("containers_not_root"), "{error}");

    let (_, report) = render(spec(
        "{rule: containers_read_only_root, reason: vendor image writes to /var/lib}, \
         {rule: containers_not_root, reason: \"vendor image needs root, ticket 12\"}",
    ))
    .unwrap();
    let waived: Vec<(&str, &str)> = report
        .waived
        .iter()
        .map(|(v, reason)| (v.rule.as_str(), reason.as_str()))
        .collect();
    assert_eq!(
        waived,
        [
            (
                "containers_read_only_root",
                "vendor image writes to /var/lib"
            ),
            ("containers_not_root", "vendor image needs root, ticket 12"),
        ]
    );
}

#[test]
fn a_waiver_moves_a_violation_to_waived_with_its_reason() {
    let mut template = prod_template();
    template["Resources"]["Database"]["Properties"]["StorageEncrypted"] = json!(false);
    let waiver = Waiver {
        rule: "rds_storage_encrypted".into(),
        reason: "open data, reviewed".into(),
    };
    let report = check(&template, &[waiver]).unwrap();
    assert!(report.violations.is_empty());
    assert_eq!(report.waived[0].0.rule, "rds_storage_encrypted");
    assert_eq!(report.waived[0].1, "open data, reviewed");
}

#[test]
fn a_violation_names_the_resource_and_says_what_to_fix() {
    let mut template = prod_template();
    template["Resources"]["Database"]["Properties"]["StorageEncrypted"] = json!(false);
    template["Resources"]["WebLogGroup"]["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("RetentionInDays");
    let violations = check(&template, &[]).unwrap().violations;
    let messages: Vec<(&str, &[String])> = violations
        .iter()
        .map(|v| (v.rule.as_str(), v.messages.as_slice()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "rds_storage_encrypted",
                &["Database: RDS storage must be encrypted (StorageEncrypted: true)".to_owned()][..]
            ),
            (
                "log_retention_set",
                &["WebLogGroup: Log groups must set a retention, or logs are kept (and billed) forever".to_owned()][..]
            ),
        ]
    );
}

/// cfn-guard's `run_checks` returned only the tail of a report longer than its 8 KiB
/// write buffer, which could not be read back: breaking many rules at once was an engine error.
#[test]
fn a_template_breaking_many_rules_gets_every_violation() {
    let mut template = prod_template();
    for (_, resource) in template["Resources"].as_object_mut().unwrap().iter_mut() {
        if let Some(props) = resource
            .get_mut("Properties")
            .and_then(Value::as_object_mut)
        {
            for (_, value) in props.iter_mut() {
                if let Some(flag) = value.as_bool() {
                    *value = json!(!flag);
                }
            }
            if props.contains_key("SecurityGroupIngress") {
                props.insert(
                    "SecurityGroupIngress".into(),
                    json!([{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]),
                );
            }
        }
    }
    assert_eq!(
        failed_rules(&template),
        [
            "rds_storage_encrypted",
            "rds_not_public",
            "cache_encrypted",
            "open_ingress_only_https",
            "prod_deletion_protection"
        ]
    );
}
