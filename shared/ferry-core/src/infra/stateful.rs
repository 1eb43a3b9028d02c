//! Resources that hold data: the database, the cache and the access-log bucket. A change
//! set that would replace or delete one loses what it holds, so it is never made
//! silently: the request must name each one it allows (`allow_replace`), and the
//! environment's approval policy applies on top.

use crate::infra::deploy::ResourceChange;

/// The resource types whose replacement loses data.
pub const STATEFUL_TYPES: [&str; 5] = [
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::CacheCluster",
    "AWS::S3::Bucket",
];

pub fn is_stateful(change: &ResourceChange) -> bool {
    STATEFUL_TYPES.contains(&change.resource_type.as_str())
}

/// Whether `change` would replace or delete its resource. CloudFormation's `Conditional`
/// counts: it means the replacement depends on a value only known at deploy time.
pub fn loses_resource(change: &ResourceChange) -> bool {
    change.action == "Remove" || matches!(change.replacement.as_str(), "True" | "Conditional")
}

/// The stateful resources `changes` would replace or delete that `allowed` (logical
/// ids) does not name.
pub fn refused<'a>(changes: &'a [ResourceChange], allowed: &[String]) -> Vec<&'a ResourceChange> {
    changes
        .iter()
        .filter(|c| is_stateful(c) && loses_resource(c))
        .filter(|c| !allowed.iter().any(|a| a == &c.logical_id))
        .collect()
}

/// One line naming what would be lost and how to allow it.
pub fn describe_refusal(refused: &[&ResourceChange]) -> String {
    let what: Vec<String> = refused
        .iter()
        .map(|c| {
            let how = if c.action == "Remove" {
                "delete"
            } else {
                "replace"
            };
            format!("{how} {} ({})", c.logical_id, c.resource_type)
        })
        .collect();
    let flags: Vec<String> = refused
        .iter()
        .map(|c| format!("--allow-replace {}", c.logical_id))
        .collect();
    format!(
        "the change set would {}, losing its data; nothing was deployed. If that is intended, ask again with {} (allow_replace in the API)",
        what.join(" and "),
        flags.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, id: &str, kind: &str, replacement: &str) -> ResourceChange {
        ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: kind.into(),
            replacement: replacement.into(),
        }
    }

    #[test]
    fn replacing_or_deleting_data_needs_its_name() {
        let changes = [
            change("Modify", "Database", "AWS::RDS::DBInstance", "True"),
            change("Remove", "Cache", "AWS::ElastiCache::ReplicationGroup", ""),
            change("Modify", "AccessLogBucket", "AWS::S3::Bucket", "False"),
            change("Modify", "WebBlueService", "AWS::ECS::Service", "True"),
        ];
        let ids =
            |r: Vec<&ResourceChange>| r.iter().map(|c| c.logical_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(refused(&changes, &[])), ["Database", "Cache"]);
        assert_eq!(ids(refused(&changes, &["Database".into()])), ["Cache"]);
        let message = describe_refusal(&refused(&changes, &[]));
        assert!(
            message.contains("replace Database (AWS::RDS::DBInstance) and delete Cache"),
            "{message}"
        );
        assert!(
            message.contains("--allow-replace Database --allow-replace Cache"),
            "{message}"
        );
    }
}
