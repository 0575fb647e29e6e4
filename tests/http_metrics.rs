//! `/metrics` after a known traffic mix: every counter matches exactly. Its own test binary, so that it is the only
//! gateway recording into this process's Prometheus recorder (HTTP request counters have no account label).

mod http_common;

use axum::http::StatusCode;
use http_common::*;
use serde_json::json;

#[tokio::test]
async fn metrics_count_a_known_traffic_mix_exactly() {
    let mut hooks = Receiver::start(0).await;
    let acct = account(
        "mix",
        1000,
        &format!("callback_url = \"{}/hook\"", hooks.url),
    );
    let gw = start(&config(&acct, "")).await;
    let send = |body: serde_json::Value| {
        let gw = &gw;
        async move { post(gw, "/v1/messages", &body.to_string()).await.0 }
    };
    for i in 0..3 {
        let otp = json!({"to": "+4915123456789", "from": "ACME", "text": format!("code {i}"), "class": "otp"});
        assert_eq!(send(otp).await, StatusCode::ACCEPTED);
    }
    // 200 GSM characters: two segments, each a message at the carrier.
    let long = json!({"to": "+4915123456789", "from": "ACME", "text": "x".repeat(200), "class": "transactional"});
    assert_eq!(send(long).await, StatusCode::ACCEPTED);
    for _ in 0..2 {
        let bad_sender = json!({"to": "+4915123456789", "from": "NOTOURS", "text": "hi"});
        assert_eq!(send(bad_sender).await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let bad_number = json!({"to": "12", "from": "ACME", "text": "hi"});
    assert_eq!(send(bad_number).await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        post(&gw, "/v1/messages", "not json").await.0,
        StatusCode::BAD_REQUEST
    );
    for _ in 0..4 {
        assert_eq!(hooks.next().await.json()["state"], "delivered");
    }
    let nowhere = reqwest::get(format!("{}/v1/nowhere/4915123456789", api(&gw)))
        .await
        .unwrap();
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    let put = reqwest::Client::new()
        .put(format!("{}/v1/messages", api(&gw)))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    let e: serde_json::Value = put.json().await.unwrap();
    assert_eq!(e["error"]["code"], "method_not_allowed");

    let s = scrape(&gw).await;
    let n = |name: &str, labels: &[(&str, &str)]| sample(&s, name, labels);
    assert_eq!(
        n(
            "sluice_messages_accepted_total",
            &[("account", "mix"), ("class", "otp")]
        ),
        3.0
    );
    assert_eq!(
        n(
            "sluice_messages_accepted_total",
            &[("account", "mix"), ("class", "transactional")]
        ),
        2.0
    );
    assert_eq!(
        n(
            "sluice_messages_rejected_total",
            &[
                ("account", "mix"),
                ("class", "transactional"),
                ("reason", "sender")
            ]
        ),
        2.0
    );
    assert_eq!(
        n(
            "sluice_messages_rejected_total",
            &[
                ("account", "mix"),
                ("class", "transactional"),
                ("reason", "destination")
            ]
        ),
        1.0
    );
    assert_eq!(
        n(
            "sluice_messages_sent_total",
            &[("account", "mix"), ("carrier", "sim"), ("class", "otp")]
        ),
        3.0
    );
    assert_eq!(
        n(
            "sluice_messages_sent_total",
            &[
                ("account", "mix"),
                ("carrier", "sim"),
                ("class", "transactional")
            ]
        ),
        2.0
    );
    let finished = |class| {
        [
            ("account", "mix"),
            ("carrier", "sim"),
            ("class", class),
            ("state", "DELIVRD"),
        ]
    };
    assert_eq!(n("sluice_messages_finished_total", &finished("otp")), 3.0);
    assert_eq!(
        n("sluice_messages_finished_total", &finished("transactional")),
        2.0
    );
    assert_eq!(
        n(
            "sluice_submit_to_receipt_seconds_count",
            &[("class", "otp")]
        ),
        3.0
    );
    assert_eq!(
        n(
            "sluice_submit_to_carrier_seconds_count",
            &[("class", "transactional")]
        ),
        2.0
    );
    let http = |status| {
        [
            ("route", "/v1/messages"),
            ("method", "POST"),
            ("status", status),
        ]
    };
    assert_eq!(n("sluice_http_requests_total", &http("202")), 4.0);
    assert_eq!(n("sluice_http_requests_total", &http("422")), 3.0);
    assert_eq!(n("sluice_http_requests_total", &http("400")), 1.0);
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert_eq!(
        n("sluice_http_requests_total", &unmatched),
        1.0,
        "the path itself is never a label"
    );
    let put = [
        ("route", "/v1/messages"),
        ("method", "PUT"),
        ("status", "405"),
    ];
    assert_eq!(n("sluice_http_requests_total", &put), 1.0);
    assert_eq!(
        n(
            "sluice_webhooks_delivered_total",
            &[("account", "mix"), ("kind", "receipt")]
        ),
        4.0
    );
    assert_eq!(n("sluice_carrier_binds", &[("carrier", "sim")]), 1.0);
    assert_eq!(
        n(
            "sluice_queue_depth",
            &[("carrier", "sim"), ("class", "otp")]
        ),
        0.0
    );
    assert!(
        s.contains("sluice_queue_depth{carrier=\"sim\",class=\"marketing\"} 0"),
        "every class has a depth"
    );
    assert!(!s.contains("4915123456789"), "no phone number in any label");
}
