//! Policy rules a team writes: any valid cfn-guard rule is evaluated, however it is
//! written, because the template view each set of rules sees is derived from the parsed
//! rules (see vendor/cfn-guard/src/view.rs), not from reading the rules text.

use cfn_guard::PreparedRules;
use ferry_core::infra::policy::{Policy, PolicyRules, RULES_FILE};
use ferry_core::infra::spec::AppSpec;
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

fn rules(text: &str) -> PolicyRules {
    PolicyRules::parse("test", text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The rules that fail on `template`: Ferry's, and `app`'s.
fn failed_rules(app: &PolicyRules, template: &Value) -> Vec<String> {
    let policy = Policy {
        account: None,
        app: Some(app),
    };
    let report = policy.check(template, &[]).unwrap();
    report.violations.into_iter().map(|v| v.rule).collect()
}

const TLS_13: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// One rule, "HTTPS listeners use the TLS 1.3 policy", written three ways. No rule of
/// Ferry's reads a listener, so none of what these read is in Ferry's view.
fn tls_rule_styles() -> [(&'static str, String); 3] {
    [
        (
            "a variable bound to a filtered query, used in a `when` and a clause",
            format!(
                "let https_listeners = Resources.*[ Type == 'AWS::ElasticLoadBalancingV2::Listener'
                                                    Properties.Protocol == 'HTTPS' ]
                 rule https_listeners_use_tls13 when %https_listeners !empty {{
                     %https_listeners.Properties.SslPolicy == '{TLS_13}'
                         <<HTTPS listeners use the TLS 1.3 policy>>
                 }}"
            ),
        ),
        (
            "a type block with a `when` condition on each resource",
            format!(
                "rule https_listeners_use_tls13 {{
                     AWS::ElasticLoadBalancingV2::Listener when Properties.Protocol == 'HTTPS' {{
                         Properties.SslPolicy == '{TLS_13}'
                     }}
                 }}"
            ),
        ),
        (
            "an inline query on `Resources` with `in`, a block, and a named rule as the gate",
            format!(
                "rule has_listeners {{
                     Resources[ Type in ['AWS::ElasticLoadBalancingV2::Listener'] ] !empty
                 }}
                 rule https_listeners_use_tls13 when has_listeners {{
                     Resources.*[ Type in ['AWS::ElasticLoadBalancingV2::Listener'] ] {{
                         when Properties.Protocol == 'HTTPS' {{
                             Properties.SslPolicy in ['{TLS_13}']
                         }}
                     }}
                 }}"
            ),
        ),
    ]
}

#[test]
fn the_same_rule_written_three_ways_catches_the_same_violation() {
    let good = prod_template();
    let mut broken = prod_template();
    broken["Resources"]["HttpsListener"]["Properties"]["SslPolicy"] =
        json!("ELBSecurityPolicy-2016-08");
    // The plain-HTTP listener (a redirect) has no SslPolicy, and must not count.
    assert_eq!(
        good["Resources"]["HttpListener"]["Properties"]["Protocol"],
        "HTTP"
    );
    for (style, text) in tls_rule_styles() {
        let rules = rules(&text);
        assert_eq!(failed_rules(&rules, &good), Vec::<String>::new(), "{style}");
        assert_eq!(
            failed_rules(&rules, &broken),
            ["https_listeners_use_tls13"],
            "{style}"
        );
    }
}

/// A block clause over a list, with `some`.
const ALB_RULE: &str = "rule alb_drops_invalid_headers {
    AWS::ElasticLoadBalancingV2::LoadBalancer {
        some Properties.LoadBalancerAttributes[*] {
            Key == 'routing.http.drop_invalid_header_fields.enabled'
            Value == 'true'
        }
    }
}";

/// The load balancer and its attributes are read by no rule of Ferry's; a team's rule
/// about them is evaluated, and fails when the template breaks it.
#[test]
fn a_rule_about_what_ferrys_rules_never_read_is_evaluated() {
    let rules = rules(ALB_RULE);
    let mut template = prod_template();
    assert_eq!(failed_rules(&rules, &template), Vec::<String>::new());
    for attribute in template["Resources"]["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]
        .as_array_mut()
        .unwrap()
    {
        if attribute["Key"] == "routing.http.drop_invalid_header_fields.enabled" {
            attribute["Value"] = json!("false");
        }
    }
    assert_eq!(
        failed_rules(&rules, &template),
        ["alb_drops_invalid_headers"]
    );
}

/// The view must give every rule the result the whole template gives. Broken many ways
/// (each read property removed, set to other values, or spelt in camelCase, which
/// cfn-guard also looks under; each resource given another checked type), Ferry's rules
/// and the three-way rules fail the same on their views as on the whole template, with
/// the same messages. Every fifth variant, since evaluating whole templates is slow in a
/// debug build: all of them gave the same outcomes when this was written.
#[test]
fn rules_fail_on_their_view_as_on_the_whole_template() {
    let mut texts = vec![RULES_FILE.to_owned()];
    texts.extend(tls_rule_styles().map(|(_, text)| text));
    texts.push(ALB_RULE.to_owned());
    let sets: Vec<PreparedRules> = texts
        .iter()
        .map(|t| PreparedRules::parse(t, "rules").unwrap())
        .collect();
    let mut checked = 0;
    for template in variants(&prod_template()).into_iter().step_by(5) {
        for rules in &sets {
            let whole = outcome(rules.evaluate(&template, "t").unwrap());
            let view = outcome(rules.evaluate(&rules.view(&template), "t").unwrap());
            assert_eq!(view, whole, "{template:#}");
        }
        checked += 1;
    }
    assert!(checked > 300, "{checked} variants");
}

/// Each failed rule with its checks' messages, up to where cfn-guard quotes the value it
/// stopped at: a value the view keeps only in part (the resource of a missing property)
/// is quoted in part. Ferry's messages stop there too.
/// A failed rule's name, and each failing check's error and custom message.
type Outcome = Vec<(String, Vec<(String, Option<String>)>)>;

fn outcome(failed: Vec<cfn_guard::FailedRule>) -> Outcome {
    failed
        .into_iter()
        .map(|rule| {
            let checks = rule
                .checks
                .into_iter()
                .map(|c| {
                    let error = c
                        .error_message
                        .split(" Value traversed")
                        .next()
                        .unwrap_or_default();
                    (error.to_owned(), c.custom_message)
                })
                .collect();
            (rule.rule, checks)
        })
        .collect()
}

/// The template broken in many ways, around the resources rules read.
fn variants(template: &Value) -> Vec<Value> {
    let checked_types = [
        "AWS::RDS::DBInstance",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::S3::Bucket",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::Logs::LogGroup",
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ];
    let replacements = [
        json!(null),
        json!(false),
        json!(true),
        json!(0),
        json!("0.0.0.0/0"),
        json!([]),
        json!({}),
    ];
    let mut out = vec![template.clone()];
    let resources = template["Resources"].as_object().unwrap();
    for (id, resource) in resources {
        let kind = resource["Type"].as_str().unwrap();
        if !checked_types.contains(&kind) {
            // Another type's resource made one of a checked type.
            let mut t = template.clone();
            t["Resources"][id]["Type"] = json!(checked_types[out.len() % checked_types.len()]);
            out.push(t);
            continue;
        }
        for (key, value) in resource["Properties"].as_object().into_iter().flatten() {
            let mut removed = template.clone();
            removed["Resources"][id]["Properties"]
                .as_object_mut()
                .unwrap()
                .remove(key);
            out.push(removed.clone());
            let mut camel = removed;
            let camel_key = format!("{}{}", key[..1].to_lowercase(), &key[1..]);
            camel["Resources"][id]["Properties"][camel_key.as_str()] = value.clone();
            out.push(camel);
            for replacement in &replacements {
                let mut t = template.clone();
                t["Resources"][id]["Properties"][key] = replacement.clone();
                out.push(t);
            }
            // One level down: each key of an object, or of a list's first item.
            let inner = match value {
                Value::Array(items) => items.first().map(|first| (Some(0), first)),
                other => Some((None, other)),
            };
            if let Some((index, Value::Object(fields))) = inner {
                for field in fields.keys() {
                    for replacement in [None, Some(json!(false)), Some(json!("root"))] {
                        let mut t = template.clone();
                        let at = &mut t["Resources"][id]["Properties"][key];
                        let at = match index {
                            Some(i) => &mut at[i],
                            None => at,
                        };
                        match &replacement {
                            None => {
                                at.as_object_mut().unwrap().remove(field);
                            }
                            Some(v) => at[field] = v.clone(),
                        }
                        out.push(t);
                    }
                }
            }
        }
        let mut t = template.clone();
        t["Resources"][id]
            .as_object_mut()
            .unwrap()
            .remove("DeletionPolicy");
        out.push(t);
    }
    let mut t = template.clone();
    t["Metadata"]["Ferry"]["Profile"] = json!("dev");
    out.push(t);
    out
}

/// Two things the view must not change. Where a rule asks only whether `Resources` is
/// empty, the view keeps one entry of it, emptied, which the filter of another rule must
/// still reject. And a filter over values a function made (not the template's) must still
/// see the template's values it compares them with.
#[test]
fn what_the_view_keeps_for_emptiness_does_not_change_other_rules() {
    let text = "let types = Resources.*.Type
let wanted = json_parse('[\"AWS::S3::Bucket\"]')
rule has_resources {
    Resources !empty
}
rule databases_encrypted {
    Resources.*[ Type == 'AWS::RDS::DBInstance' ].Properties.StorageEncrypted == true
}
rule a_bucket {
    %wanted[ this in %types ] !empty
}
";
    let rules = PreparedRules::parse(text, "rules").unwrap();
    let template = json!({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b"}},
        "Queue": {"Type": "AWS::SQS::Queue"}}});
    let whole = outcome(rules.evaluate(&template, "t").unwrap());
    assert_eq!(
        whole,
        Outcome::new(),
        "every rule passes on the whole template"
    );
    let view = outcome(rules.evaluate(&rules.view(&template), "t").unwrap());
    assert_eq!(view, whole);
}

/// Rules whose reads the walk cannot bound (here, parameterized rules nested deeper than
/// it follows) are given the whole template: slower, and still right.
#[test]
fn rules_the_view_cannot_bound_see_the_whole_template() {
    let depth = 20;
    let mut text = String::from(
        "rule deep_encryption {
             level0(Resources.*[ Type == 'AWS::RDS::DBInstance' ])
         }\n",
    );
    for level in 0..depth {
        text.push_str(&format!(
            "rule level{level}(resources) {{\n level{}(%resources)\n}}\n",
            level + 1
        ));
    }
    text.push_str(&format!(
        "rule level{depth}(resources) {{
             %resources.Properties.StorageEncrypted == true
         }}\n"
    ));
    let prepared = PreparedRules::parse(&text, "deep").unwrap();
    assert!(prepared.views_everything());
    let rules = rules(&text);
    let mut template = prod_template();
    assert_eq!(failed_rules(&rules, &template), Vec::<String>::new());
    template["Resources"]["Database"]["Properties"]["StorageEncrypted"] = json!(false);
    assert_eq!(
        failed_rules(&rules, &template),
        ["rds_storage_encrypted", "deep_encryption"]
    );
}

/// What a team might write that cfn-guard cannot evaluate on any template is refused when
/// the rules are read, naming the problem, rather than failing every template later (or,
/// for a rule that depends on itself, overflowing the stack).
#[test]
fn rules_that_cannot_be_evaluated_are_refused_with_the_reason() {
    let refused = |text: &str| PolicyRules::parse("policy.rules", text).unwrap_err();
    let error = refused("rule a { Resources exists ");
    assert_eq!(error.field, "policy.rules");
    assert!(
        error
            .message
            .starts_with("cfn-guard rejects these rules: Parser Error when parsing"),
        "{error}"
    );
    assert_eq!(
        refused("rule a {\n b\n}\nrule b {\n a\n}\n").message,
        "cfn-guard rejects these rules: rule a depends on itself (a -> b -> a), \
         which cfn-guard would evaluate without end"
    );
    assert!(
        refused("rule r(x) {\n r(%x)\n}\nrule a {\n r(Resources)\n}\n")
            .message
            .contains("parameterized rule r calls itself")
    );
    assert!(refused("rule a {\n nowhere\n}\n")
        .message
        .contains("rule a refers to rule nowhere, which is not defined"));
    assert!(refused("# only a comment\n")
        .message
        .contains("defines no rule"));
    assert_eq!(
        refused("rule rds_backups { Resources exists }").message,
        "rule rds_backups is one of Ferry's own rules; give yours another name"
    );
}

/// The example with the app's own rules, and waivers in prod.
fn spec_with(rules: &str, prod_waivers: &str) -> String {
    let mut text = EXAMPLE.to_owned();
    if !prod_waivers.is_empty() {
        text.push_str(&format!("    waivers: [{prod_waivers}]\n"));
    }
    text.push_str("policy:\n  rules: |\n");
    for line in rules.lines() {
        text.push_str(&format!("    {line}\n"));
    }
    text
}

const SMALL_DATABASES: &str = "rule small_databases {
    Resources.*[ Type == 'AWS::RDS::DBInstance' ].Properties.DBInstanceClass in ['db.t4g.micro', 'db.t4g.small']
        <<Databases stay small (db.t4g.micro or db.t4g.small)>>
}";

#[test]
fn the_apps_rules_apply_to_every_environment_and_are_waived_by_name() {
    let render = |text: &str, env: &str| {
        let env = AppSpec::parse(text).unwrap().new_environment(env).unwrap();
        ferry_core::infra::template::render(&env, None, Colour::Blue)
    };
    let text = spec_with(SMALL_DATABASES, "");
    for env in ["dev", "staging"] {
        let (_, report) = render(&text, env).unwrap();
        assert_eq!(
            report.rules_checked,
            ferry_core::infra::policy::RULES.len() + 1
        );
    }
    let error = render(&text, "prod").unwrap_err().to_string();
    assert!(
        error.contains(
            "small_databases (Database: Databases stay small (db.t4g.micro or db.t4g.small))"
        ),
        "{error}"
    );

    let text = spec_with(
        SMALL_DATABASES,
        "{rule: small_databases, reason: \"prod's load needs an m7g, ticket 42\"}",
    );
    let (_, report) = render(&text, "prod").unwrap();
    let waived: Vec<(&str, &str)> = report
        .waived
        .iter()
        .map(|(v, reason)| (v.rule.as_str(), reason.as_str()))
        .collect();
    assert_eq!(
        waived,
        [("small_databases", "prod's load needs an m7g, ticket 42")]
    );
}

fn spec_errors(text: &str) -> Vec<(String, String)> {
    AppSpec::parse(text)
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

#[test]
fn rules_that_do_not_parse_are_named_once_at_policy_rules_with_cfn_guards_message() {
    let errors = spec_errors(&spec_with("rule broken {\n  Resources.*[ Type == \n}", ""));
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (field, message) = &errors[0];
    assert_eq!(field, "policy.rules");
    assert!(
        message.starts_with("cfn-guard rejects these rules: Parser Error when parsing"),
        "{message}"
    );

    let errors = spec_errors(&spec_with("rule rds_backups {\n  Resources exists\n}", ""));
    assert_eq!(
        errors,
        [(
            "policy.rules".to_owned(),
            "rule rds_backups is one of Ferry's own rules; give yours another name".to_owned()
        )]
    );
    // The schema: a text, not empty, and no other key.
    let errors = spec_errors(&format!("{EXAMPLE}policy:\n  rules: ''\n  extra: 1\n"));
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["policy.rules", "policy.extra"], "{errors:?}");
}

#[test]
fn a_waiver_for_no_rule_lists_the_apps_rules_among_those_it_may_name() {
    let errors = spec_errors(&spec_with(
        SMALL_DATABASES,
        "{rule: small_database, reason: a typo in the rule's name}",
    ));
    let (field, message) = &errors[0];
    assert_eq!(field, "environments.prod.waivers[0].rule");
    assert!(
        message.starts_with(
            "'small_database' is not a policy rule; use one of rds_storage_encrypted,"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(", rds_backups, small_databases"),
        "{message}"
    );
}
