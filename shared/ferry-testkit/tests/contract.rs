//! The store contract on the in-memory store (the end-to-end tests run it on DynamoDB).

#[tokio::test]
async fn the_in_memory_store_keeps_the_store_contract() {
    let store = ferry_testkit::InMemoryStore::new();
    let passed = ferry_testkit::contract::run(&store, "mem").await.unwrap();
    assert_eq!(
        passed,
        [
            "versions",
            "stacks",
            "lock",
            "decisions recorded while the wait is open",
            "an ended promotion keeps its status",
            "unlock by hand",
            "ledger claim",
            "engine state versions",
            "a promotion's template pinned once"
        ]
    );
}
