//! A phone number belongs to at most one tenant: the global ownership index
//! (`store::numbers`) against a real redis-server.

use callflow::redis_server::RedisServer;
use callflow::store::{NumberClaim, NumberHeld, Store};

async fn store() -> (RedisServer, Store) {
    let redis = RedisServer::start().expect("redis-server starts");
    let store = Store::connect(&redis.url(), "default").await.unwrap();
    (redis, store)
}

#[tokio::test]
async fn a_number_belongs_to_one_tenant_and_a_claim_by_another_names_the_holder() {
    let (_redis, store) = store().await;
    let (a, b) = (store.for_tenant("acme"), store.for_tenant("bolt"));
    assert_eq!(
        a.claim_number("+14155550100").await.unwrap(),
        NumberClaim::Claimed
    );
    assert_eq!(
        a.claim_number("+14155550100").await.unwrap(),
        NumberClaim::AlreadyYours
    );
    assert_eq!(
        b.claim_number("+14155550100").await.unwrap(),
        NumberClaim::HeldBy("acme".into())
    );
    assert_eq!(b.numbers().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        store
            .number_tenant("+14155550100")
            .await
            .unwrap()
            .as_deref(),
        Some("acme")
    );
    assert_eq!(store.number_tenant("+14155550199").await.unwrap(), None);

    // Only the holder can release it; then another tenant may claim it.
    assert!(!b.release_number("+14155550100").await.unwrap());
    assert_eq!(a.numbers().await.unwrap(), vec!["+14155550100".to_string()]);
    assert!(a.release_number("+14155550100").await.unwrap());
    assert_eq!(a.numbers().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        b.claim_number("+14155550100").await.unwrap(),
        NumberClaim::Claimed
    );
    assert_eq!(
        store
            .number_tenant("+14155550100")
            .await
            .unwrap()
            .as_deref(),
        Some("bolt")
    );
}

#[tokio::test]
async fn concurrent_claims_of_one_number_leave_exactly_one_holder() {
    let (_redis, store) = store().await;
    let mut claims = tokio::task::JoinSet::new();
    for i in 0..20 {
        let s = store.for_tenant(&format!("t{i}"));
        claims.spawn(async move { s.claim_number("+14155550123").await.unwrap() });
    }
    let results = claims.join_all().await;
    let won = results
        .iter()
        .filter(|r| **r == NumberClaim::Claimed)
        .count();
    assert_eq!(won, 1, "{results:?}");
    let holder = store.number_tenant("+14155550123").await.unwrap().unwrap();
    for r in results {
        if let NumberClaim::HeldBy(h) = r {
            assert_eq!(h, holder);
        }
    }
}

#[tokio::test]
async fn setting_a_tenants_numbers_is_all_or_nothing() {
    let (_redis, store) = store().await;
    let (a, b) = (store.for_tenant("acme"), store.for_tenant("bolt"));
    let nums = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    a.set_numbers(&nums(&["+14155550001", "+14155550002"]))
        .await
        .unwrap()
        .unwrap();
    b.set_numbers(&nums(&["+14155550003"]))
        .await
        .unwrap()
        .unwrap();

    // One of them is acme's: nothing changes for bolt.
    let refused = b
        .set_numbers(&nums(&["+14155550004", "+14155550002"]))
        .await
        .unwrap();
    assert_eq!(
        refused,
        Err(NumberHeld {
            number: "+14155550002".into(),
            holder: "acme".into()
        })
    );
    assert_eq!(b.numbers().await.unwrap(), nums(&["+14155550003"]));
    assert_eq!(store.number_tenant("+14155550004").await.unwrap(), None);

    // Replacing releases the numbers left out.
    a.set_numbers(&nums(&["+14155550002", "+14155550005"]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.numbers().await.unwrap(),
        nums(&["+14155550002", "+14155550005"])
    );
    assert_eq!(store.number_tenant("+14155550001").await.unwrap(), None);
    assert_eq!(
        store
            .number_tenant("+14155550005")
            .await
            .unwrap()
            .as_deref(),
        Some("acme")
    );
}
