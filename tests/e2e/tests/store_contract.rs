//! The store contract (ferry-testkit's suite, which the in-memory store also passes) on
//! the DynamoDB store, against the local AWS's table: the fake the engine tests use and
//! the real store keep the same conditional-write semantics.

use e2e::Local;

#[tokio::test]
async fn the_dynamodb_store_keeps_the_store_contract() {
    let local = Local::connect().await;
    let store = ferry_aws::DynamoStore::new(local.dynamodb.clone(), local.table.clone());
    let prefix = e2e::unique_app("c");
    let passed = ferry_testkit::contract::run(&store, &prefix).await.unwrap();
    println!("store contract on DynamoDB: {}", passed.join(", "));
    assert_eq!(passed.len(), 9);
}
