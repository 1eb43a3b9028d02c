//! The CloudFormation service role of environment stacks (`EnvironmentStackRole`) against
//! what CloudFormation needs to create, update and delete what Ferry generates: the
//! handler permissions in the resource schemas cfn-lint ships, for the resource types of
//! every example under every environment. The local AWS cannot check this (moto does not
//! authorize the calls CloudFormation makes for a stack); AWS would, at the first deploy.

use infra::{actions, ferry_template, generated_templates, handler_permissions, of_type};
use serde_json::Value;
use std::collections::BTreeSet;

const ROLE: &str = "EnvironmentStackRole";

fn generated_types() -> BTreeSet<String> {
    generated_templates()
        .iter()
        .flat_map(|(_, t)| {
            t["Resources"]
                .as_object()
                .unwrap()
                .values()
                .map(|r| r["Type"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The role's managed policies, by logical id.
fn role_policies(template: &Value) -> Vec<(String, Value)> {
    template["Resources"][ROLE]["Properties"]["ManagedPolicyArns"]
        .as_array()
        .expect("the role's ManagedPolicyArns")
        .iter()
        .map(|r| {
            let id = r["Ref"]
                .as_str()
                .expect("a Ref to a policy of the template");
            (id.to_owned(), template["Resources"][id].clone())
        })
        .collect()
}

fn granted(template: &Value) -> BTreeSet<String> {
    role_policies(template)
        .iter()
        .flat_map(|(_, p)| {
            p["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .clone()
        })
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| actions(&s))
        .collect()
}

/// Schema permissions that are no IAM action (a few schemas name API operations), each
/// listed in the role's Metadata with the reason it is not granted.
fn not_iam_actions(template: &Value) -> BTreeSet<String> {
    template["Resources"][ROLE]["Metadata"]["NotIamActions"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_role_grants_every_handler_permission_of_every_type_ferry_generates() {
    let template = ferry_template();
    let types = generated_types();
    let needed = handler_permissions(&types);
    let granted = granted(&template);
    let excused = not_iam_actions(&template);
    let missing: Vec<String> = needed
        .iter()
        .filter(|(p, _)| !granted.contains(*p) && !excused.contains(*p))
        .map(|(p, t)| {
            format!(
                "{p} (for {})",
                t.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    println!(
        "{} resource types, {} handler permissions, {} granted, {} not IAM actions",
        types.len(),
        needed.len(),
        granted.len(),
        excused.len()
    );
    assert!(
        missing.is_empty(),
        "{ROLE} lacks {} permission(s) CloudFormation needs; run scripts/service-role:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn and_no_more_than_those() {
    let template = ferry_template();
    let needed = handler_permissions(&generated_types());
    let extra: Vec<String> = granted(&template)
        .into_iter()
        .filter(|p| !needed.contains_key(p))
        .collect();
    assert!(
        extra.is_empty(),
        "{ROLE} grants what no generated type needs: {extra:?}"
    );
    let stale: Vec<String> = not_iam_actions(&template)
        .into_iter()
        .filter(|p| !needed.contains_key(p))
        .collect();
    assert!(
        stale.is_empty(),
        "NotIamActions lists what no schema names: {stale:?}"
    );
}

#[test]
fn only_cloudformation_assumes_it_and_its_policies_fit_iam_quotas() {
    let template = ferry_template();
    let trust = &template["Resources"][ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(
        trust,
        &serde_json::json!([{"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}])
    );
    let policies = role_policies(&template);
    // IAM: 10 managed policies per role by default, 6,144 characters each, whitespace
    // not counted (and ${AWS::AccountId} only grows by 0 when substituted).
    assert!(policies.len() <= 10, "{} managed policies", policies.len());
    for (id, policy) in &policies {
        let text: String = policy["Properties"]["PolicyDocument"]
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.len() <= 6144, "{id} is {} characters", text.len());
    }
}

#[test]
fn the_role_may_be_passed_only_to_cloudformation_and_roles_only_to_their_services() {
    let template = ferry_template();
    let mut passes = Vec::new();
    for (id, role) in of_type(&template, "AWS::IAM::Role") {
        for statement in infra::inline_statements(role) {
            if actions(&statement)
                .iter()
                .any(|a| a == "iam:PassRole" || a == "iam:*" || a == "*")
            {
                passes.push((id.to_owned(), statement));
            }
        }
    }
    assert_eq!(passes.len(), 1, "one function may pass a role: {passes:?}");
    let (holder, statement) = &passes[0];
    assert_eq!(holder, "PromotionStepRole");
    assert_eq!(
        statement["Resource"],
        serde_json::json!({"Fn::GetAtt": [ROLE, "Arn"]})
    );
    assert_eq!(
        statement["Condition"],
        serde_json::json!({"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}})
    );
    // The service role itself passes only ferry-* roles, each to a service a generated
    // role trusts.
    let role_passes: Vec<Value> = role_policies(&template)
        .iter()
        .flat_map(|(_, p)| {
            p["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .clone()
        })
        .filter(|s| actions(s).contains(&"iam:PassRole".to_owned()))
        .collect();
    assert_eq!(role_passes.len(), 1, "{role_passes:?}");
    assert!(role_passes[0]["Resource"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .ends_with(":role/ferry-*"));
    let services = role_passes[0]["Condition"]["StringEquals"]["iam:PassedToService"].clone();
    assert_eq!(
        services,
        serde_json::json!(["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"])
    );
}

#[test]
fn the_promotion_step_passes_the_role_and_keeps_only_what_it_calls() {
    let template = ferry_template();
    let env =
        &template["Resources"]["PromotionStepFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        env["FERRY_STACK_ROLE_ARN"],
        serde_json::json!({"Fn::GetAtt": [ROLE, "Arn"]})
    );
    // The functions call DynamoDB, Step Functions, CloudFormation (change sets only),
    // CloudWatch, SSM, SNS, SQS (dead letters) and S3 (large templates). Resource APIs
    // (ECS, ELB, EC2, RDS, ...) are CloudFormation's, through the service role, except
    // the live drift readers' Describe calls, which only the drift checks make.
    let drift_reads = [
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ec2:DescribeSecurityGroups",
        "elasticloadbalancing:DescribeTargetGroups",
        "rds:DescribeDBInstances",
        "logs:DescribeLogGroups",
    ];
    let allowed_services = [
        "dynamodb",
        "states",
        "cloudformation",
        "cloudwatch",
        "ssm",
        "sns",
        "sqs",
        "s3",
        "iam",
        "logs",
    ];
    for (id, role) in of_type(&template, "AWS::IAM::Role") {
        if id == ROLE || id == "StateMachineRole" {
            continue;
        }
        for statement in infra::inline_statements(role) {
            for action in actions(&statement) {
                if drift_reads.contains(&action.as_str()) {
                    assert!(
                        ["ApiRole", "DriftCheckerRole"].contains(&id),
                        "{id} grants {action}: only drift checks read resources"
                    );
                    continue;
                }
                let service = action.split(':').next().unwrap();
                assert!(allowed_services.contains(&service), "{id} grants {action}");
                if service == "iam" {
                    assert_eq!(action, "iam:PassRole", "{id} grants {action}");
                }
                if service == "logs" {
                    panic!("{id} grants {action}: log groups are the template's, not a function's");
                }
            }
        }
    }
}

#[test]
fn ferrys_own_resources_are_out_of_its_reach_whatever_ferrys_stack_is_called() {
    // A Ferry stack named `ferry` would give its roles names that `role/ferry-*` matches,
    // were they not under their own path.
    let template = ferry_template();
    for (id, role) in of_type(&template, "AWS::IAM::Role") {
        assert_eq!(role["Properties"]["Path"], "/platform/", "{id}");
    }
    let denied: Vec<Value> = role_policies(&template)
        .iter()
        .flat_map(|(_, p)| {
            p["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .clone()
        })
        .filter(|s| s["Effect"] == "Deny")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["Action"], "*");
    assert_eq!(
        denied[0]["Resource"],
        serde_json::json!([{"Fn::GetAtt": ["ArtifactsBucket", "Arn"]}, {"Fn::Sub": "${ArtifactsBucket.Arn}/*"}])
    );
}
