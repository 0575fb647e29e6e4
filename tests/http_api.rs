//! The HTTP API over real HTTP: submit, status, receipts by webhook, errors, retries, Kannel's sendsms.

mod http_common;

use std::time::Duration;

use axum::http::StatusCode;
use http_common::*;
use serde_json::json;
use sluice::http::webhook::{verify, SIGNATURE_HEADER, TIMESTAMP_HEADER};

#[tokio::test]
async fn a_submitted_message_is_delivered_and_its_signed_receipt_posted() {
    let mut hooks = Receiver::start(0).await;
    let gw = start(&config(&account("alpha", 1000, ""), "")).await;
    let body = json!({
        "to": "+4915123456789", "from": "ACME", "text": "Your code is 123456", "class": "otp",
        "validity": "5m", "callback_url": format!("{}/receipts", hooks.url), "client_ref": "order-7",
    });
    let (status, accepted) = post(&gw, "/v1/messages", &body.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    assert_eq!(accepted["segments"], 1);
    assert_eq!(accepted["encoding"], "gsm7");
    let id = accepted["id"].as_str().unwrap().to_string();

    let hook = hooks.next().await;
    assert_eq!(hook.method, "POST");
    assert_eq!(hook.uri.path(), "/receipts");
    let ts: i64 = hook.headers[TIMESTAMP_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let sig = hook.headers[SIGNATURE_HEADER].to_str().unwrap();
    assert!(
        verify(SECRET, ts, &hook.body, sig),
        "signature {sig} checks out"
    );
    let receipt = hook.json();
    assert_eq!(receipt["type"], "receipt");
    assert_eq!(receipt["id"], id.as_str());
    assert_eq!(receipt["state"], "delivered");
    assert_eq!(receipt["client_ref"], "order-7");

    let (status, got) = get(&gw, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["state"], "delivered");
    assert_eq!(got["carrier"], "sim");
    assert_eq!(got["class"], "otp");
    assert_eq!(got["to"], "+4915123456789");
    assert_eq!(got["error_code"], 0);
    assert!(
        got["sent_at"].is_string() && got["done_at"].is_string(),
        "{got}"
    );
}

#[tokio::test]
async fn a_long_unicode_text_is_split_into_ucs2_segments_and_reported_once() {
    let mut hooks = Receiver::start(0).await;
    let acct = account(
        "beta",
        1000,
        &format!("callback_url = \"{}/default\"", hooks.url),
    );
    let gw = start(&config(&acct, "")).await;
    let text = "Привет! ".repeat(12); // 96 characters of Cyrillic: UCS-2, 2 segments of 67
    let (status, accepted) = post(
        &gw,
        "/v1/messages",
        &json!({"to": "+4915123456789", "from": "ACME", "text": text}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    assert_eq!(
        (accepted["segments"].as_u64(), accepted["encoding"].as_str()),
        (Some(2), Some("ucs2"))
    );
    let hook = hooks.next().await;
    assert_eq!(
        hook.uri.path(),
        "/default",
        "the account's callback_url is used"
    );
    assert_eq!(hook.json()["segments"], 2);
    assert_eq!(hook.json()["state"], "delivered");
    assert!(
        hooks.is_quiet_for(Duration::from_millis(200)).await,
        "one receipt per message, not per segment"
    );
}

async fn error_of(body: &str) -> (StatusCode, String, Option<String>, String) {
    let gw = start(&config(&account("errs", 1000, ""), "")).await;
    let (status, e) = post(&gw, "/v1/messages", body).await;
    let e = &e["error"];
    (
        status,
        e["code"].as_str().unwrap_or_default().to_string(),
        e["field"].as_str().map(String::from),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn bad_json_is_a_400_that_says_so() {
    let (status, code, field, message) = error_of(r#"{"to": "+4915123456789", "#).await;
    assert_eq!(
        (status, code.as_str(), field),
        (StatusCode::BAD_REQUEST, "invalid_json", None)
    );
    assert!(message.contains("not valid JSON"), "{message}");
}

#[tokio::test]
async fn a_missing_field_is_named() {
    let (status, code, field, message) =
        error_of(r#"{"to": "+4915123456789", "from": "ACME"}"#).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "missing_field")
    );
    assert_eq!(field.as_deref(), Some("text"));
    assert!(message.contains("`text` is required"), "{message}");
}

#[tokio::test]
async fn an_unknown_field_is_named_with_the_expected_ones() {
    let (status, code, field, message) =
        error_of(r#"{"to": "+4915123456789", "from": "ACME", "text": "hi", "sender": "x"}"#).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "unknown_field")
    );
    assert_eq!(field.as_deref(), Some("sender"));
    assert!(
        message.contains("remove it") && message.contains("`from`"),
        "{message}"
    );
}

#[tokio::test]
async fn a_text_over_the_segment_limit_is_refused_with_its_count() {
    let text = "a".repeat(153 * 3 + 1); // 4 GSM segments; the test config allows 3
    let (status, code, field, message) =
        error_of(&json!({"to": "+4915123456789", "from": "ACME", "text": text}).to_string()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "text_too_long")
    );
    assert_eq!(field.as_deref(), Some("text"));
    assert!(
        message.contains("needs 4 segments") && message.contains("at most 3"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unregistered_sender_is_refused() {
    let (status, code, field, message) =
        error_of(&json!({"to": "+4915123456789", "from": "OTHERCO", "text": "hi"}).to_string())
            .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unregistered_sender")
    );
    assert_eq!(field.as_deref(), Some("from"));
    assert!(
        message.contains("OTHERCO") && message.contains("registered"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_number_is_refused() {
    let (status, code, field, message) =
        error_of(&json!({"to": "call me", "from": "ACME", "text": "hi"}).to_string()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_number")
    );
    assert_eq!(field.as_deref(), Some("to"));
    assert!(message.contains("E.164"), "{message}");
}

#[tokio::test]
async fn scheduled_delivery_is_refused_as_unsupported() {
    let (status, code, field, _) = error_of(
        &json!({"to": "+4915123456789", "from": "ACME", "text": "hi", "scheduled_at": "2030-01-01T00:00:00Z"})
            .to_string(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "scheduling_unsupported")
    );
    assert_eq!(field.as_deref(), Some("scheduled_at"));
}

#[tokio::test]
async fn a_request_without_a_valid_key_is_a_json_401() {
    let gw = start(&config(&account("auth", 1000, ""), "")).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", api(&gw)))
        .bearer_auth("wrong-key")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let e: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unauthorized");
    let resp = reqwest::get(format!("{}/v1/messages/0000000000000000", api(&gw)))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let lower_case_scheme = reqwest::Client::new()
        .get(format!("{}/v1/messages/0000000000000000", api(&gw)))
        .header("authorization", format!("bearer {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        lower_case_scheme.status(),
        StatusCode::NOT_FOUND,
        "authenticated, no such message"
    );
}

#[tokio::test]
async fn over_the_account_rate_is_a_429_with_retry_after() {
    let gw = start(&config(&account("slow", 1, ""), "")).await;
    let body = json!({"to": "+4915123456789", "from": "ACME", "text": "hi"}).to_string();
    assert_eq!(
        post(&gw, "/v1/messages", &body).await.0,
        StatusCode::ACCEPTED
    );
    let resp = post_response(&gw, "/v1/messages", &body).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
    let e: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn a_batch_accepts_and_rejects_each_message_on_its_own() {
    let gw = start(&config(&account("batch", 1000, ""), "")).await;
    let body = json!({"messages": [
        {"to": "+4915123456789", "from": "ACME", "text": "one"},
        {"to": "+4915123456789", "from": "NOPE", "text": "two"},
        {"to": "+4915123456789", "from": "ACME"},
        {"to": "+4915123456780", "from": "ACME", "text": "four"},
    ]});
    let (status, r) = post(&gw, "/v1/messages/batch", &body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    let results = r["results"].as_array().unwrap();
    assert!(results[0]["id"].is_string());
    assert_eq!(results[1]["error"]["field"], "messages[1].from");
    assert_eq!(results[2]["error"]["code"], "missing_field");
    assert_eq!(results[2]["error"]["field"], "messages[2].text");
    assert!(results[3]["id"].is_string());

    let too_many = json!({"messages": vec![json!({"to": "+4915123456789", "from": "ACME", "text": "x"}); 1001]});
    let (status, e) = post(&gw, "/v1/messages/batch", &too_many.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["field"], "messages");
}

#[tokio::test]
async fn a_failing_webhook_is_retried_until_it_succeeds_and_nothing_is_lost() {
    let mut hooks = Receiver::start(4).await;
    let acct = account(
        "retry",
        1000,
        &format!("callback_url = \"{}/hook\"", hooks.url),
    );
    let gw = start(&config(&acct, "max_attempts = 10")).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, a) = post(
            &gw,
            "/v1/messages",
            &json!({"to": "+4915123456789", "from": "ACME", "text": format!("n{i}")}).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        ids.push(a["id"].as_str().unwrap().to_string());
    }
    let mut delivered = Vec::new();
    let mut failed = 0;
    while delivered.len() < 3 {
        let (hook, f) = hooks.next_ok().await;
        failed += f;
        delivered.push(hook.json()["id"].as_str().unwrap().to_string());
    }
    delivered.sort();
    ids.sort();
    assert_eq!(delivered, ids, "every receipt arrived once");
    assert_eq!(failed, 4);
    assert!(
        hooks.is_quiet_for(Duration::from_millis(200)).await,
        "no duplicates"
    );
    let scrape = scrape(&gw).await;
    let labels = [("account", "retry"), ("kind", "receipt")];
    assert_eq!(
        sample(&scrape, "sluice_webhooks_delivered_total", &labels),
        3.0
    );
    assert_eq!(
        sample(&scrape, "sluice_webhooks_retried_total", &labels),
        4.0
    );
    assert_eq!(
        sample(&scrape, "sluice_webhooks_failed_total", &labels),
        0.0
    );
}

#[tokio::test]
async fn a_webhook_that_never_succeeds_is_counted_as_failed() {
    let mut hooks = Receiver::start(usize::MAX).await;
    let acct = account(
        "deadhook",
        1000,
        &format!("callback_url = \"{}/hook\"", hooks.url),
    );
    let gw = start(&config(&acct, "max_attempts = 3")).await;
    let (status, _) = post(
        &gw,
        "/v1/messages",
        &json!({"to": "+4915123456789", "from": "ACME", "text": "x"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for _ in 0..3 {
        assert_eq!(hooks.next().await.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert!(
        hooks.is_quiet_for(Duration::from_millis(200)).await,
        "3 attempts, no more"
    );
    let labels = [("account", "deadhook"), ("kind", "receipt")];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let failed = sample(&scrape(&gw).await, "sluice_webhooks_failed_total", &labels);
        if failed == 1.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "failed = {failed}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn kannel_sendsms_as_documented_accepts_and_calls_the_dlr_url() {
    let mut hooks = Receiver::start(0).await;
    let gw = start(&config(&account("kannel", 1000, ""), "")).await;
    // As in the Kannel user guide: a GET with the dlr-url URL-encoded, its escapes left for Kannel to fill in.
    let dlr_url = format!("{}/dlr?type=%d&id=%I&to=%P&answer=%A", hooks.url);
    let url = reqwest::Url::parse_with_params(
        &format!("{}/cgi-bin/sendsms", api(&gw)),
        &[
            ("username", "kannel"),
            ("password", KEY),
            ("from", "ACME"),
            ("to", "+4915123456789"),
            ("text", "Hello world"),
            ("dlr-mask", "31"),
            ("dlr-url", dlr_url.as_str()),
        ],
    )
    .unwrap();
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(resp.text().await.unwrap(), "0: Accepted for delivery");

    // Mask 31 asks for every event: 8 when the carrier took it, then 1 when it was delivered (in either order: the
    // two requests go out concurrently).
    let mut queries = Vec::new();
    for _ in 0..2 {
        let hook = hooks.next().await;
        assert_eq!((hook.method.as_str(), hook.uri.path()), ("GET", "/dlr"));
        queries.push(hook.uri.query().unwrap().to_string());
    }
    queries.sort();
    let (delivered, sent) = (&queries[0], &queries[1]);
    assert!(delivered.starts_with("type=1&id="), "{delivered}");
    assert!(delivered.contains("&to=%2B4915123456789&"), "{delivered}");
    assert!(delivered.contains("stat%3ADELIVRD"), "{delivered}");
    assert!(
        sent.starts_with("type=8&id=") && sent.ends_with("answer=ACK%2F"),
        "{sent}"
    );
    assert!(
        hooks.is_quiet_for(Duration::from_millis(200)).await,
        "one report per event"
    );
}

#[tokio::test]
async fn kannel_sendsms_with_a_wrong_password_is_refused_as_kannel_does() {
    let gw = start(&config(&account("kannel2", 1000, ""), "")).await;
    let resp = reqwest::get(format!(
        "{}/cgi-bin/sendsms?username=kannel2&password=nope&from=ACME&to=%2B4915123456789&text=hi",
        api(&gw)
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        resp.text().await.unwrap(),
        "Authorization failed for sendsms"
    );
}

#[tokio::test]
async fn mo_for_an_account_with_a_callback_url_is_posted_signed() {
    let mut hooks = Receiver::start(0).await;
    let acct = account("mo", 1000, &format!("callback_url = \"{}/mo\"", hooks.url));
    let gw = start(&config(&acct, "")).await;
    let deliver = smpp::pdu::DeliverSm {
        source_addr: smpp::types::Address::new(
            smpp::types::Ton::INTERNATIONAL,
            smpp::types::Npi::ISDN,
            "4915123456789",
        )
        .unwrap(),
        dest_addr: smpp::types::Address::new(
            smpp::types::Ton::INTERNATIONAL,
            smpp::types::Npi::ISDN,
            "4915100000000",
        )
        .unwrap(),
        short_message: smpp::types::OctetString::new(bytes::Bytes::from_static(b"STOP")).unwrap(),
        ..Default::default()
    };
    gw.gateway.on_mo(deliver).unwrap();
    let hook = hooks.next().await;
    let ts: i64 = hook.headers[TIMESTAMP_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(verify(
        SECRET,
        ts,
        &hook.body,
        hook.headers[SIGNATURE_HEADER].to_str().unwrap()
    ));
    let mo = hook.json();
    assert_eq!(
        (mo["type"].as_str(), mo["text"].as_str()),
        (Some("mo"), Some("STOP"))
    );
    assert_eq!(mo["from"], "4915123456789");
}

#[tokio::test]
async fn the_openapi_document_and_health_are_served() {
    let gw = start(&config(&account("docs", 1000, ""), "")).await;
    let doc: serde_json::Value = reqwest::get(format!("{}/v1/openapi.json", api(&gw)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/v1/messages"]["post"].is_object());
    let health = reqwest::get(format!("{}/healthz", admin(&gw)))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = reqwest::get(format!("{}/readyz", admin(&gw)))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// A gateway whose only carrier cannot be reached, so messages stay queued.
async fn start_without_carrier(system_id: &str, extra: &str) -> sluice::app::Running {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = format!(
        r#"
[server]
smpp_listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[webhooks]
allow_private_addresses = true
{}
{extra}

[[carrier]]
name = "down"
host = "127.0.0.1"
port = {port}
system_id = "sluice"
password = "secret"
sender_ids = ["*"]

[[route]]
prefix = "49"
carriers = [{{ carrier = "down" }}]
"#,
        account(system_id, 1000, "")
    );
    let config = sluice::config::Config::parse(std::path::Path::new("test.toml"), &text).unwrap();
    sluice::app::start(&config).await.unwrap()
}

#[tokio::test]
async fn a_queued_message_can_be_cancelled_once() {
    let gw = start_without_carrier("cancel", "").await;
    let (status, a) = post(
        &gw,
        "/v1/messages",
        &json!({"to": "+4915123456789", "from": "ACME", "text": "later"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let path = format!("/v1/messages/{}", a["id"].as_str().unwrap());
    assert_eq!(get(&gw, &path).await.1["state"], "queued");
    let client = reqwest::Client::new();
    let url = format!("{}{path}", api(&gw));
    let resp = client.delete(&url).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["state"], "cancelled");
    let again = client.delete(&url).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let e: serde_json::Value = again.json().await.unwrap();
    assert_eq!(e["error"]["code"], "not_queued");
    assert_eq!(get(&gw, &path).await.1["state"], "cancelled");
    let unknown = client
        .delete(format!("{}/v1/messages/0000000000000001", api(&gw)))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn readyz_is_503_while_a_route_has_no_bound_carrier() {
    let gw = start_without_carrier("notready", "").await;
    let resp = reqwest::get(format!("{}/readyz", admin(&gw)))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["routes_without_bound_carrier"], json!(["49"]));
    let health = reqwest::get(format!("{}/healthz", admin(&gw)))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK, "alive, though not ready");
}

#[tokio::test]
async fn a_full_carrier_queue_is_a_503_with_retry_after() {
    let gw = start_without_carrier("full", "[queue]\nmax_messages = 1").await;
    let body = json!({"to": "+4915123456789", "from": "ACME", "text": "one"}).to_string();
    assert_eq!(
        post(&gw, "/v1/messages", &body).await.0,
        StatusCode::ACCEPTED
    );
    let resp = post_response(&gw, "/v1/messages", &body).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let e: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "queue_full");
}

#[tokio::test]
async fn a_long_message_is_queued_whole_or_not_at_all() {
    let gw = start_without_carrier("whole", "[queue]\nmax_messages = 1").await;
    let long = json!({"to": "+4915123456789", "from": "ACME", "text": "x".repeat(200)}).to_string();
    assert_eq!(
        post(&gw, "/v1/messages", &long).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        gw.gateway.store().len(),
        0,
        "the first segment was taken back"
    );
    let short = json!({"to": "+4915123456789", "from": "ACME", "text": "x"}).to_string();
    assert_eq!(
        post(&gw, "/v1/messages", &short).await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn webhooks_still_pending_at_shutdown_are_counted_as_dropped() {
    let mut hooks = Receiver::start(usize::MAX).await;
    let acct = account(
        "stopping",
        1000,
        &format!("callback_url = \"{}/hook\"", hooks.url),
    );
    let gw = start(&config(&acct, "max_attempts = 1000")).await;
    let body = json!({"to": "+4915123456789", "from": "ACME", "text": "x"}).to_string();
    assert_eq!(
        post(&gw, "/v1/messages", &body).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(hooks.next().await.status, StatusCode::INTERNAL_SERVER_ERROR);
    tokio::time::timeout(Duration::from_secs(10), gw.shutdown(Duration::from_secs(5)))
        .await
        .expect("shutdown finishes");
    let scrape = sluice::metrics::prometheus().render();
    let dropped = sample(
        &scrape,
        "sluice_webhooks_dropped_total",
        &[("account", "all"), ("reason", "shutdown")],
    );
    assert_eq!(
        dropped, 1.0,
        "the receipt still being retried is counted, not lost silently"
    );
}

#[test]
fn mo_is_refused_for_the_carrier_to_retry_while_the_webhook_queue_is_full() {
    let acct = account("mofull", 1000, "callback_url = \"http://127.0.0.1:9/mo\"");
    let text = config(&acct, "queue = 1");
    let config = sluice::config::Config::parse(std::path::Path::new("test.toml"), &text).unwrap();
    // No dispatcher runs, so nothing drains the queue of one.
    let gw = sluice::gateway::Gateway::new(&config, 0);
    let mo = || smpp::pdu::DeliverSm {
        dest_addr: smpp::types::Address::new(
            smpp::types::Ton::INTERNATIONAL,
            smpp::types::Npi::ISDN,
            "4915100000000",
        )
        .unwrap(),
        ..Default::default()
    };
    assert_eq!(gw.on_mo(mo()), Ok(()));
    assert_eq!(gw.on_mo(mo()), Err(smpp::CommandStatus::ESME_RMSGQFUL));
}

#[tokio::test]
async fn an_undeliverable_message_reports_its_state_and_error_code() {
    let mut hooks = Receiver::start(0).await;
    let acct = account(
        "undeliv",
        1000,
        &format!("callback_url = \"{}/hook\"", hooks.url),
    );
    let text = config(&acct, "").replace(
        "receipt_delay = \"1ms\"",
        "receipt_delay = \"1ms\"\nundeliverable = 1.0",
    );
    let gw = start(&text).await;
    let body = json!({"to": "+4915123456789", "from": "ACME", "text": "x"}).to_string();
    let (status, a) = post(&gw, "/v1/messages", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let receipt = hooks.next().await.json();
    assert_eq!(receipt["id"], a["id"]);
    assert_eq!(receipt["state"], "undeliverable");
    assert_eq!(receipt["error_code"], 1, "the carrier's err:001");
    let (_, got) = get(&gw, &format!("/v1/messages/{}", a["id"].as_str().unwrap())).await;
    assert_eq!(got["state"], "undeliverable");
}

#[tokio::test]
async fn a_message_whose_validity_passes_in_the_queue_expires_with_a_receipt() {
    let mut hooks = Receiver::start(0).await;
    let gw = start_without_carrier("expiring", "").await;
    let body = json!({
        "to": "+4915123456789", "from": "ACME", "text": "x", "validity": "1s",
        "callback_url": format!("{}/hook", hooks.url),
    });
    let (status, a) = post(&gw, "/v1/messages", &body.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The housekeeping sweep (every 500 ms) expires it: this waits for the webhook, about a second.
    let receipt = hooks.next().await.json();
    assert_eq!(receipt["id"], a["id"]);
    assert_eq!(receipt["state"], "expired");
    assert!(receipt["sent_at"].is_null() && receipt["done_at"].is_string());
}

#[tokio::test]
async fn requests_over_the_in_progress_limit_are_a_503_not_a_queue() {
    use tokio::io::AsyncWriteExt;
    let gw = start(&config(&account("busy", 1000, ""), "").replace(
        "http_max_segments = 3",
        "http_max_segments = 3\nhttp_max_requests = 1",
    ))
    .await;
    // A request whose body never arrives holds the only permit.
    let mut slow = tokio::net::TcpStream::connect(gw.http_addr.unwrap())
        .await
        .unwrap();
    slow.write_all(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-api-key\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    let body = json!({"to": "+4915123456789", "from": "ACME", "text": "x"}).to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let (status, e) = loop {
        // Until the server has read the slow request's head, the permit may still be free.
        let (status, e) = post(&gw, "/v1/messages", &body).await;
        if status != StatusCode::ACCEPTED || tokio::time::Instant::now() > deadline {
            break (status, e);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(e["error"]["code"], "overloaded");
    drop(slow);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while post(&gw, "/v1/messages", &body).await.0 != StatusCode::ACCEPTED {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the permit comes back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn kannel_post_with_the_text_as_body_and_x_kannel_headers_is_accepted() {
    let mut hooks = Receiver::start(0).await;
    let gw = start(&config(&account("kannelpost", 1000, ""), "")).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/cgi-bin/sendsms", api(&gw)))
        .header("content-type", "text/plain")
        .header("X-Kannel-Username", "kannelpost")
        .header("X-Kannel-Password", KEY)
        .header("X-Kannel-From", "ACME")
        .header("X-Kannel-To", "+4915123456789")
        .header("X-Kannel-DLR-Mask", "1")
        .header("X-Kannel-DLR-Url", format!("{}/dlr?s=%d", hooks.url))
        .body("Grüße aus Köln")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert_eq!(resp.text().await.unwrap(), "0: Accepted for delivery");
    assert_eq!(hooks.next().await.uri.query(), Some("s=1"));
}

#[tokio::test]
async fn kannel_post_with_a_form_body_is_accepted() {
    let gw = start(&config(&account("kannelform", 1000, ""), "")).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/cgi-bin/sendsms", api(&gw)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=kannelform&password=demo-api-key&from=ACME&to=%2B4915123456789&text=Hi+there&coding=2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let missing_to = reqwest::Client::new()
        .post(format!("{}/cgi-bin/sendsms", api(&gw)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=kannelform&password=demo-api-key&from=ACME&text=Hi")
        .send()
        .await
        .unwrap();
    assert_eq!(missing_to.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing_to.text().await.unwrap(),
        "Missing receiver number, rejected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_gets_one_receipt_per_message() {
    let mut hooks = Receiver::start(0).await;
    let acct = account(
        "bulk",
        100_000,
        &format!("callback_url = \"{}/hook\"", hooks.url),
    );
    let gw = start(&config(&acct, "")).await;
    let messages: Vec<_> = (0..1000)
        .map(|i| json!({"to": "+4915123456789", "from": "ACME", "text": format!("m{i}"), "client_ref": i.to_string()}))
        .collect();
    let (status, r) = post(
        &gw,
        "/v1/messages/batch",
        &json!({"messages": messages}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["accepted"], 1000, "{}", r["results"][0]);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        let receipt = hooks.next().await.json();
        assert_eq!(receipt["state"], "delivered");
        assert!(
            seen.insert(receipt["client_ref"].as_str().unwrap().to_string()),
            "a duplicate receipt"
        );
    }
    assert!(
        hooks.is_quiet_for(Duration::from_millis(200)).await,
        "no duplicates"
    );
}

#[tokio::test]
async fn a_hanging_endpoint_delays_only_its_own_accounts_webhooks() {
    let mut hanging = Receiver::start_hanging().await;
    let mut healthy = Receiver::start(0).await;
    let healthy_hash =
        sluice::gateway::accounts::hex(&sluice::gateway::accounts::api_key_digest("healthy-key"));
    let accounts = account(
        "hangs",
        1000,
        &format!("callback_url = \"{}/h\"", hanging.url),
    ) + &account(
        "healthy",
        1000,
        &format!("callback_url = \"{}/h\"", healthy.url),
    )
    .replace("numbers = [\"4915100000000\"]", "")
    .replace(DEMO_KEY_HASH, &healthy_hash);
    // Two slots in all, one per account; requests time out after 5 s.
    let gw = start(
        &config(&accounts, "concurrency = 2\naccount_concurrency = 1")
            .replace("timeout = \"2s\"", "timeout = \"5s\""),
    )
    .await;
    let body = json!({"to": "+4915123456789", "from": "ACME", "text": "x"}).to_string();
    for _ in 0..3 {
        assert_eq!(
            post(&gw, "/v1/messages", &body).await.0,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(hanging.next().await.status, StatusCode::GATEWAY_TIMEOUT);
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", api(&gw)))
        .bearer_auth("healthy-key")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    // Well inside the hanging requests' 5 s timeout.
    let hook = tokio::time::timeout(Duration::from_secs(2), healthy.next())
        .await
        .expect("the healthy account's receipt is not stuck behind the hanging endpoint");
    assert_eq!(hook.json()["state"], "delivered");
    assert!(
        hanging.is_quiet_for(Duration::from_millis(100)).await,
        "one request at a time to the hanging account"
    );
}

#[tokio::test]
async fn callback_urls_into_private_networks_are_refused_unless_allowed() {
    let text = config(&account("ssrf", 1000, ""), "").replace(
        "allow_private_addresses = true",
        "allow_private_addresses = false",
    );
    let gw = start(&text).await;
    for url in [
        "http://127.0.0.1:9090/metrics",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://localhost/",
    ] {
        let body =
            json!({"to": "+4915123456789", "from": "ACME", "text": "x", "callback_url": url});
        let (status, e) = post(&gw, "/v1/messages", &body.to_string()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(e["error"]["code"], "invalid_callback_url", "{url}");
        assert_eq!(e["error"]["field"], "callback_url");
    }
    let public = json!({"to": "+4915123456789", "from": "ACME", "text": "x", "callback_url": "https://app.example/hook"});
    assert_eq!(
        post(&gw, "/v1/messages", &public.to_string()).await.0,
        StatusCode::ACCEPTED
    );
    let kannel = reqwest::get(format!(
        "{}/cgi-bin/sendsms?username=ssrf&password={KEY}&from=ACME&to=%2B4915123456789&text=hi&dlr-mask=1&dlr-url=http%3A%2F%2F192.168.1.1%2F",
        api(&gw)
    ))
    .await
    .unwrap();
    assert_eq!(kannel.status(), StatusCode::BAD_REQUEST);
}
