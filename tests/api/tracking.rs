//! Email tracking against the real server: a tracked link redirects at once (even while the
//! workspace is busy) and its click is written afterwards with its alias; the open image; a
//! forged or misused token is a 404 that writes nothing; one-click unsubscribe turns the opt-in
//! off; SMTP carries the server's List-Unsubscribe, and a credential with tracking off sends
//! the links as they are.

use super::*;

/// A GET (or a POST of `body`, a form) that does not follow redirects: (status, Location,
/// content type, body).
fn call(api: &Api, url: &str, body: Option<&str>) -> (u16, String, String, String) {
    api.runtime.block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let request = match body {
            None => client.get(url),
            Some(b) => client.post(url).header("content-type", "application/x-www-form-urlencoded").body(b.to_owned()),
        };
        let r = request.send().await.unwrap();
        let header = |name| r.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let (status, location, kind) = (r.status().as_u16(), header("location"), header("content-type"));
        (status, location, kind, r.text().await.unwrap())
    })
}

/// Events of `kind` that the tracking wrote (the Sandbox's simulated ones left out).
fn tracked(db: &rusqlite::Connection, kind: &str) -> i64 {
    one(db, &format!("SELECT COUNT(*) FROM cc_interactions WHERE kind = '{kind}' AND detail_json NOT LIKE '%sandbox%'"))
}

/// Waits until `count()` is `n` (at most 15 s).
fn wait_for(n: i64, count: impl Fn() -> i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while count() != n {
        assert!(Instant::now() < deadline, "expected {n}, found {}", count());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends the reset email (two links) to `email` through the demo's Sandbox; returns the message
/// as the Sandbox kept it.
fn send_reset(api: &Api, request_id: &str, email: &str) -> campaign_console::model::delivery::SentMessage {
    let (_, mut form) = api.console.api_campaign(RESET).unwrap();
    form.message.html =
        "<html><body><p>Hi</p><a href=\"{{ context.reset_url }}\" data-alias=\"Reset button\">Reset</a> \
         <a href=\"https://example.com/help?a=1&amp;b=2\">Help &amp; <b>support</b></a></body></html>"
            .into();
    form.message.text = "Reset: {{ context.reset_url }}".into();
    api.console.save_api_campaign(RESET, "", form, (None, None)).unwrap();
    let context = json!({ "reset_url": "https://example.com/reset?token=s3cret" });
    let (status, _, body) = api.trigger(RESET, one_recipient(request_id, email, context));
    assert_eq!(status, 202, "{body}");
    let execution = body["execution_id"].as_str().unwrap();
    let done = api.settled(execution);
    assert_eq!(done["recipients"][0]["status"], "sent", "{done}");
    let db = sqlite(api.dir.path());
    let ledger = one(
        &db,
        &format!(
            "SELECT l.id FROM cc_ledger l JOIN cc_api_executions e ON e.delivery_id = l.delivery_id WHERE e.id = '{execution}'"
        ),
    );
    api.console.sent_message(ledger).unwrap().expect("the Sandbox kept it")
}

#[test]
fn a_tracked_link_redirects_and_its_click_is_written_with_its_alias() {
    let api = Api::start(None);
    let db = sqlite(api.dir.path());
    let m = send_reset(&api, "t-1", "p2@example.com");
    let aliases: Vec<_> = m.links.iter().map(|l| l.alias.clone().unwrap_or_default()).collect();
    assert_eq!(aliases, ["Reset button", "Help & support"]);
    let click = format!("{}/t/c/", api.url);
    assert!(m.links.iter().all(|l| l.url.starts_with(&click)), "{:?}", m.links);
    assert_eq!(m.links[1].leads_to.as_deref(), Some("https://example.com/help?a=1&b=2"));
    assert!(m.text.starts_with(&format!("Reset: {click}")), "{}", m.text);
    assert!(m.html.contains(&format!("{}/t/o/", api.url)) && m.html.ends_with("</body></html>"), "{}", m.html);
    assert!(m.unsubscribe.starts_with(&format!("{}/u/", api.url)));

    let (status, location, _, _) = call(&api, &m.links[0].url, None);
    assert_eq!((status, location.as_str()), (302, "https://example.com/reset?token=s3cret"));
    let (status, location, _, _) = call(&api, &m.links[1].url, None);
    assert_eq!((status, location.as_str()), (302, "https://example.com/help?a=1&b=2"));
    wait_for(2, || tracked(&db, "clicked"));
    let detail: String = db
        .query_row("SELECT detail_json FROM cc_interactions WHERE detail_json LIKE '%Reset button%'", [], |r| r.get(0))
        .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["url"], "https://example.com/reset", "the query (the context) is not kept: {detail}");
    let (profile, campaign): (String, i64) = db
        .query_row("SELECT profile_key, campaign_id FROM cc_interactions WHERE detail_json LIKE '%Reset%'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((profile.as_str(), campaign), ("2", RESET));

    // The open image: a GIF, then an open.
    let pixel = m.html.split("src=\"").nth(1).unwrap().split('"').next().unwrap();
    let (status, _, kind, _) = call(&api, pixel, None);
    assert_eq!((status, kind.as_str()), (200, "image/gif"));
    wait_for(1, || tracked(&db, "opened"));

    // Forged, altered or misused tokens: 404, nothing written.
    let token = m.links[0].url.strip_prefix(&click).unwrap();
    let mut altered = token.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let (payload, _) = token.split_once('.').unwrap();
    for url in [
        format!("{click}{altered}"),
        format!("{click}{payload}.AAAAAAAAAAAAAAAAAAAAAA"),
        format!("{click}nonsense"),
        format!("{}/t/o/{token}", api.url),
        format!("{click}{}", pixel.rsplit('/').next().unwrap()),
    ] {
        let (status, location, _, _) = call(&api, &url, None);
        assert_eq!((status, location.as_str()), (404, ""), "{url}");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!((tracked(&db, "clicked"), tracked(&db, "opened")), (2, 1));
    // The delivery's counts are of messages: a second click of the same email is one more event.
    call(&api, &m.links[0].url, None);
    wait_for(3, || tracked(&db, "clicked"));
    let delivery = api.console.deliveries(None).unwrap().into_iter().find(|d| d.campaign_id == Some(RESET)).unwrap();
    assert_eq!(delivery.events_of("clicked"), 1);
}

#[test]
fn a_click_is_redirected_while_the_workspace_is_busy_and_written_after() {
    let api = Api::start(None);
    let db = sqlite(api.dir.path());
    let m = send_reset(&api, "t-2", "p2@example.com");
    let blocker = sqlite(api.dir.path());
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let (status, location, _, _) = call(&api, &m.links[1].url, None);
    assert_eq!((status, location.as_str()), (302, "https://example.com/help?a=1&b=2"));
    assert!(started.elapsed() < Duration::from_secs(2), "answered in {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(tracked(&blocker, "clicked"), 0, "not written while the workspace is held");
    blocker.execute_batch("COMMIT").unwrap();
    wait_for(1, || tracked(&db, "clicked"));
}

#[test]
fn one_click_unsubscribe_turns_the_email_opt_in_off() {
    let api = Api::start(None);
    let db = sqlite(api.dir.path());
    assert_eq!(one(&db, "SELECT email_opt_in FROM profiles WHERE id = 3"), 1);
    let m = send_reset(&api, "t-3", "p3@example.com");
    let (status, _, kind, page) = call(&api, &m.unsubscribe, None);
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(page.contains("p\u{2022}\u{2022}\u{2022}@example.com") && page.contains("method=post"), "{page}");
    assert_eq!(one(&db, "SELECT email_opt_in FROM profiles WHERE id = 3"), 1, "a GET changes nothing");

    // What a mail app sends for List-Unsubscribe-Post (RFC 8058).
    let (status, _, _, page) = call(&api, &m.unsubscribe, Some("List-Unsubscribe=One-Click"));
    assert_eq!(status, 200);
    assert!(page.contains("You are unsubscribed"), "{page}");
    assert_eq!(one(&db, "SELECT email_opt_in FROM profiles WHERE id = 3"), 0);
    assert_eq!(tracked(&db, "unsubscribed"), 1);
    let (status, _, _, _) = call(&api, &format!("{}x", m.unsubscribe), Some("List-Unsubscribe=One-Click"));
    assert_eq!(status, 404);
    assert_eq!(tracked(&db, "unsubscribed"), 1);
}

#[test]
fn smtp_carries_the_servers_unsubscribe_link_and_tracking_off_leaves_links_alone() {
    let api = Api::start(None);
    let sink = support::smtp_sink::SmtpSink::start("mailer", "pw");
    let mut fields =
        json!({ "host": "127.0.0.1", "port": sink.port, "tls": "none", "username": "mailer", "from": "a@example.com" });
    api.console
        .add_credential(Channel::Email, "Relay", settings(ProviderKind::Smtp, fields.clone()), Some("pw"))
        .unwrap();
    fields["tracking"] = json!("off");
    api.console.add_credential(Channel::Email, "Quiet", settings(ProviderKind::Smtp, fields), Some("pw")).unwrap();
    for (n, credential) in ["Relay", "Quiet"].into_iter().enumerate() {
        let (_, mut form) = api.console.api_campaign(RESET).unwrap();
        form.credential = Some(credential.into());
        api.console.save_api_campaign(RESET, "", form, (None, None)).unwrap();
        let context = json!({ "reset_url": "https://example.com/reset" });
        let (status, _, body) = api.trigger(RESET, one_recipient(&format!("s-{n}"), "p3@example.com", context));
        assert_eq!(status, 202, "{body}");
        api.settled(body["execution_id"].as_str().unwrap());
    }
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    // Headers folded over lines, and quoted-printable soft breaks, undone.
    let unfold = |data: &str| data.replace("\r\n ", " ").replace("=\r\n", "").replace("=3D", "=");
    let (tracked, quiet) = (unfold(&mails[0].data), unfold(&mails[1].data));
    assert!(tracked.contains(&format!("List-Unsubscribe: <{}/u/", api.url)), "{tracked}");
    assert!(tracked.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(tracked.contains(&format!("href=\"{}/t/c/", api.url)) && tracked.contains("/t/o/"), "{tracked}");
    assert!(!quiet.contains("/t/c/") && !quiet.contains("/t/o/") && !quiet.contains("List-Unsubscribe"), "{quiet}");
    // As rendered (minijinja escapes "/" in HTML), not through the server.
    assert!(quiet.contains("href=\"https:&#x2f;&#x2f;example.com&#x2f;reset\""), "{quiet}");
}
