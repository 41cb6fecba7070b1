//! OIDC sign-in through Berth itself, against the real `oidc-provider` of `e2e/oidc`: the
//! console flow (onboarding, group sync, admin group, user-name choice), failures shown as
//! pages rather than 500s, providers managed through the API with their ping, and the
//! credentials that work without the provider: CLI secrets, personal access tokens and
//! bearer ID tokens.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::oidc::{PASSWORD, TestIdp, browser, free_port, sign_in_at_idp, start_idp_for};
use crate::support::*;

/// A Berth server with the test provider added through the admin API as `test-idp`.
async fn berth_with_idp(extra: Value) -> (TestApp, TestIdp) {
    let app = TestApp::start().await;
    let idp = start_idp_for(&app.url("/c/oidc/callback"));
    let mut body = json!({
        "name": "test-idp",
        "display_name": "Test IdP",
        "issuer": idp.issuer,
        "client_id": "berth",
        "client_secret": "berth-client-secret",
        "scopes": ["profile", "email", "groups"],
        "admin_group": "berth-admins",
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let res = app
        .admin(Method::POST, "/api/v2.0/oidc/providers")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    (app, idp)
}

/// Signs `user` in through the console flow with a fresh browser; returns the browser (holding
/// the session cookie) and the final redirect's response.
async fn console_sign_in(app: &TestApp, user: &str) -> (reqwest::Client, reqwest::Response) {
    let browser = browser();
    let start = browser
        .get(app.url("/c/oidc/login?provider=test-idp&redirect=/projects"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::FOUND);
    let to_idp = url::Url::parse(&header(&start, "location")).unwrap();
    let callback = sign_in_at_idp(
        &browser,
        to_idp,
        user,
        PASSWORD,
        &app.url("/c/oidc/callback"),
    )
    .await
    .expect("sign in at the provider");
    let res = browser.get(callback).send().await.unwrap();
    (browser, res)
}

fn csrf(res: &reqwest::Response) -> String {
    header(res, "x-harbor-csrf-token")
}

async fn current(browser: &reqwest::Client, app: &TestApp) -> Value {
    let res = browser
        .get(app.url("/api/v2.0/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The names of the OIDC groups `user_id` belongs to.
async fn oidc_groups_of(app: &TestApp, user_id: i64) -> Vec<String> {
    let groups: Value = app
        .admin(Method::GET, "/api/v2.0/usergroups?page_size=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names = Vec::new();
    for group in groups.as_array().unwrap() {
        if group["group_type"] != 3 {
            continue;
        }
        let members: Value = app
            .admin(
                Method::GET,
                &format!("/api/v2.0/usergroups/{}/members", group["id"]),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == user_id)
        {
            names.push(group["group_name"].as_str().unwrap().to_owned());
        }
    }
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_onboards_the_user_and_keeps_groups_and_admin_flag_in_sync() {
    let (app, idp) = berth_with_idp(json!({})).await;
    let listed: Value = app
        .request(Method::GET, "/c/oidc/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed,
        json!([{"name": "test-idp", "display_name": "Test IdP"}])
    );

    let (browser, res) = console_sign_in(&app, "alice").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location"), "/projects");
    let me = current(&browser, &app).await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["email"], "alice@example.test");
    assert_eq!(me["sysadmin_flag"], true, "alice is in the admin group");
    let alice = me["user_id"].as_i64().unwrap();
    assert_eq!(
        oidc_groups_of(&app, alice).await,
        ["berth-admins", "dev-team"]
    );

    // The provider moves alice out of the admin group and into qa.
    idp.set_groups("alice", &["dev-team", "qa"]).await;
    let (browser, res) = console_sign_in(&app, "alice").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let me = current(&browser, &app).await;
    assert_eq!(
        me["user_id"], alice,
        "the same user, found by issuer and subject"
    );
    assert_eq!(me["sysadmin_flag"], false, "admin rights follow the group");
    assert_eq!(oidc_groups_of(&app, alice).await, ["dev-team", "qa"]);

    // A group is a project member like any other: bob gets in through dev-team.
    app.create_project("team", false).await;
    let groups: Value = app
        .admin(
            Method::GET,
            "/api/v2.0/usergroups/search?group_name=dev-team",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .admin(Method::POST, "/api/v2.0/projects/team/members")
        .json(&json!({"role_id": 2, "member_group": {"id": groups[0]["id"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (browser, _) = console_sign_in(&app, "bob").await;
    let res = browser
        .get(app.url("/api/v2.0/projects/team"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "bob reaches the project through dev-team"
    );

    // A deleted user is onboarded afresh at the next sign-in.
    let res = app
        .admin(Method::DELETE, &format!("/api/v2.0/users/{alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (again, res) = console_sign_in(&app, "alice").await;
    assert_eq!(header(&res, "location"), "/projects");
    let me = current(&again, &app).await;
    assert_eq!(me["username"], "alice");
    assert_ne!(me["user_id"], alice, "a new account");

    // Logging out hands back the provider's end-session URL.
    let res = browser.get(app.url("/c/log_out")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = res.json().await.unwrap();
    let end = out["end_session_url"].as_str().expect("end_session_url");
    assert!(end.starts_with(&idp.issuer), "{end}");
    assert!(end.contains("id_token_hint="), "{end}");
    let res = browser
        .get(app.url("/api/v2.0/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_or_auto_onboarding_off_asks_for_a_user_name() {
    let (app, _idp) = berth_with_idp(json!({})).await;
    app.create_user("bob").await;
    let (browser, res) = console_sign_in(&app, "bob").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location"), "/c/oidc/onboard");
    let form = browser
        .get(app.url("/c/oidc/onboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("value=\"bob\""));
    let res = browser
        .post(app.url("/c/oidc/onboard"))
        .form(&[("username", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("is taken"));
    let res = browser
        .post(app.url("/c/oidc/onboard"))
        .form(&[("username", "bob-sso")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(current(&browser, &app).await["username"], "bob-sso");
    let (browser, res) = console_sign_in(&app, "bob").await;
    assert_eq!(header(&res, "location"), "/projects", "linked from now on");
    assert_eq!(current(&browser, &app).await["username"], "bob-sso");
    // The ticket was used up.
    let res = browser
        .post(app.url("/c/oidc/onboard"))
        .form(&[("username", "bob-again")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // With auto-onboarding off, even a free name is chosen by the user.
    let res = app
        .admin(Method::PUT, "/api/v2.0/oidc/providers/test-idp")
        .json(
            &json!({"issuer": _idp.issuer, "client_id": "berth", "auto_onboard": false,
            "scopes": ["profile", "email", "groups"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the stored secret is kept");
    let (_, res) = console_sign_in(&app, "alice").await;
    assert_eq!(header(&res, "location"), "/c/oidc/onboard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misconfiguration_and_forged_state_give_pages_not_500s() {
    let (app, idp) = berth_with_idp(json!({})).await;
    let res = app
        .request(Method::GET, "/c/oidc/login?provider=absent")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("no identity provider named")
    );

    // A callback the browser did not start (no state cookie), and one with no state at all.
    let browser = browser();
    let start = browser
        .get(app.url("/c/oidc/login?provider=test-idp"))
        .send()
        .await
        .unwrap();
    let to_idp = url::Url::parse(&header(&start, "location")).unwrap();
    let callback = sign_in_at_idp(&browser, to_idp, "alice", PASSWORD, &app.url("/c/oidc/"))
        .await
        .unwrap();
    let res = app.client.get(callback.clone()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "another browser");
    assert!(res.text().await.unwrap().contains("state mismatch"));
    let res = browser.get(callback).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the state was used up"
    );
    let res = app
        .request(
            Method::GET,
            "/c/oidc/callback?error=access_denied&error_description=nope",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("refused the sign-in: nope")
    );

    // A provider that is down, and one whose client secret is wrong.
    let down = format!("http://127.0.0.1:{}", free_port());
    for (name, issuer, secret) in [
        ("down", down.as_str(), "x"),
        ("wrong-secret", idp.issuer.as_str(), "wrong"),
        ("wrong-issuer", &format!("{}/elsewhere", idp.issuer), "x"),
    ] {
        let res = app
            .admin(Method::POST, "/api/v2.0/oidc/providers")
            .json(
                &json!({"name": name, "issuer": issuer, "client_id": "berth",
                "client_secret": secret}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .request(Method::GET, "/c/oidc/login?provider=down")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert!(res.text().await.unwrap().contains("cannot be reached"));
    let res = app
        .request(Method::GET, "/c/oidc/login?provider=wrong-issuer")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);

    let browser = crate::oidc::browser();
    let start = browser
        .get(app.url("/c/oidc/login?provider=wrong-secret"))
        .send()
        .await
        .unwrap();
    let to_idp = url::Url::parse(&header(&start, "location")).unwrap();
    let callback = sign_in_at_idp(&browser, to_idp, "alice", PASSWORD, &app.url("/c/oidc/"))
        .await
        .unwrap();
    let res = browser.get(callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert!(res.text().await.unwrap().contains("invalid_client"));

    // The ping says the same before anything is saved.
    let ping = |body: Value| {
        let req = app.admin(Method::POST, "/api/v2.0/oidc/ping").json(&body);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let good = ping(json!({"name": "test-idp", "issuer": idp.issuer, "client_id": "berth"})).await;
    assert_eq!(good["ok"], true, "the stored secret is used: {good}");
    let wrong =
        ping(json!({"issuer": idp.issuer, "client_id": "berth", "client_secret": "no"})).await;
    assert_eq!(wrong["ok"], false);
    assert_eq!(wrong["checks"][2]["check"], "client_credentials");
    assert_eq!(wrong["checks"][2]["ok"], false, "{wrong}");
    let unreachable =
        ping(json!({"issuer": down, "client_id": "berth", "client_secret": "x"})).await;
    assert_eq!(unreachable["checks"][1]["check"], "discovery");
    assert_eq!(unreachable["checks"][1]["ok"], false);
    let invalid =
        ping(json!({"issuer": "ftp://x", "client_id": "berth", "client_secret": "x"})).await;
    assert_eq!(invalid["checks"][0]["ok"], false, "{invalid}");

    // Secrets are write-only.
    let listed: Value = app
        .admin(Method::GET, "/api/v2.0/oidc/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert!(!listed.to_string().contains("berth-client-secret"));
    assert_eq!(listed[3]["client_secret_set"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_secret_and_access_tokens_work_without_the_provider_and_narrow_rights() {
    let (app, idp) = berth_with_idp(json!({})).await;
    app.create_project("team", false).await;
    app.create_project("other", false).await;
    let (browser, res) = console_sign_in(&app, "bob").await;
    let token = csrf(&res);
    let bob = current(&browser, &app).await["user_id"].as_i64().unwrap();
    app.add_member("team", "bob", 2).await;
    app.add_member("other", "bob", 2).await;

    let res = browser
        .put(app.url(&format!("/api/v2.0/users/{bob}/cli_secret")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the CSRF header is required"
    );
    let res = browser
        .put(app.url(&format!("/api/v2.0/users/{bob}/cli_secret")))
        .header("X-Harbor-CSRF-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let secret = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let status: Value = browser
        .get(app.url(&format!("/api/v2.0/users/{bob}/cli_secret")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["has_secret"], true);
    assert!(!status.to_string().contains(&secret), "never shown again");

    // The provider goes away: the CLI secret keeps working.
    drop(idp);
    let scope = ["repository:team/app:pull,push"];
    let granted = app.token_string(Some(("bob", &secret)), &scope).await;
    assert_eq!(
        access_claim(&granted)[0]["actions"],
        json!(["pull", "push"])
    );
    let res = app
        .request(Method::GET, "/api/v2.0/users/current")
        .basic_auth("bob", Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Personal access tokens: pull-only in one project, and read-only API.
    let create = |body: Value| {
        let req = app
            .request(Method::POST, &format!("/api/v2.0/users/{bob}/tokens"))
            .basic_auth("bob", Some(&secret))
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let res =
        create(json!({"name": "ci", "scopes": ["registry:pull"], "projects": ["team"]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let pull_only: Value = res.json().await.unwrap();
    let pat = pull_only["token"].as_str().unwrap().to_owned();
    let granted = app.token_string(Some(("bob", &pat)), &scope).await;
    assert_eq!(access_claim(&granted)[0]["actions"], json!(["pull"]));
    let elsewhere = app
        .token_string(Some(("bob", &pat)), &["repository:other/app:pull"])
        .await;
    assert_eq!(access_claim(&elsewhere), json!([]), "limited to team");
    let res = app
        .request(Method::GET, "/api/v2.0/projects/team")
        .basic_auth("bob", Some(&pat))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no api scope");
    assert_eq!(
        create(json!({"name": "ci", "scopes": ["api:read"]}))
            .await
            .status(),
        StatusCode::CONFLICT
    );

    let res = create(json!({"name": "reader", "scopes": ["api:read"]})).await;
    let reader = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .request(Method::GET, "/api/v2.0/projects/team")
        .basic_auth("bob", Some(&reader))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(Method::POST, "/api/v2.0/projects")
        .basic_auth("bob", Some(&reader))
        .json(&json!({"project_name": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "read-only");
    let res = app
        .request(Method::POST, &format!("/api/v2.0/users/{bob}/tokens"))
        .basic_auth("bob", Some(&reader))
        .json(&json!({"name": "wider", "scopes": ["api:write"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a token cannot mint tokens"
    );

    // A token limited to a project sees nothing of the others through the API either, and an
    // administrator's project-limited token carries no administrator rights.
    let res =
        create(json!({"name": "team-reader", "scopes": ["api:read"], "projects": ["team"]})).await;
    let team_reader = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (project, wanted) in [("team", true), ("other", false)] {
        let res = app
            .request(Method::GET, &format!("/api/v2.0/projects/{project}"))
            .basic_auth("bob", Some(&team_reader))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().is_success(),
            wanted,
            "{project}: {}",
            res.status()
        );
    }
    let admin: Value = app
        .admin(Method::GET, "/api/v2.0/users/current")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v2.0/users/{}/tokens", admin["user_id"]),
        )
        .json(&json!({"name": "admin-team", "scopes": ["api:read"], "projects": ["team"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin_team = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .request(Method::GET, "/api/v2.0/users")
        .basic_auth("admin", Some(&admin_team))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "no administrator rights"
    );
    let res = app
        .request(Method::GET, "/api/v2.0/users")
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // An expired token and revoked credentials are refused.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    let res =
        create(json!({"name": "short", "scopes": ["registry:pull"], "expires_at": soon})).await;
    let short = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.token(Some(("bob", &short)), &scope).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        app.token(Some(("bob", &short)), &scope).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let listed: Value = app
        .request(Method::GET, &format!("/api/v2.0/users/{bob}/tokens"))
        .basic_auth("bob", Some(&secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(listed[0]["name"], "short");
    assert_eq!(listed[0]["expired"], true);
    assert!(
        !listed.to_string().contains(&pat),
        "values are never listed"
    );
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v2.0/users/{bob}/tokens/{}", pull_only["id"]),
        )
        .basic_auth("bob", Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.token(Some(("bob", &pat)), &scope).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = app
        .admin(Method::DELETE, &format!("/api/v2.0/users/{bob}/cli_secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "administrators revoke anyone's"
    );
    assert_eq!(
        app.token(Some(("bob", &secret)), &scope).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_is_accepted_as_a_bearer_token_on_the_api() {
    let (app, idp) = berth_with_idp(json!({})).await;
    let config: berth::config::OidcProviderConfig = serde_json::from_value(json!({
        "name": "test-idp", "issuer": idp.issuer, "client_id": "berth",
        "client_secret": "berth-client-secret", "scopes": ["profile", "email", "groups"],
    }))
    .unwrap();
    let redirect = app.url("/c/oidc/callback");
    let provider = berth::auth::oidc::OidcProvider::discover(config, &redirect)
        .await
        .unwrap();
    let (url, pending) = provider.start_login();
    let back = sign_in_at_idp(&browser(), url, "alice", PASSWORD, &redirect)
        .await
        .unwrap();
    let query: std::collections::HashMap<String, String> =
        back.query_pairs().into_owned().collect();
    let identity = provider
        .finish_login(&pending, &query["state"], &query["code"])
        .await
        .unwrap();

    let bearer = |token: &str| {
        app.request(Method::GET, "/api/v2.0/users/current")
            .bearer_auth(token)
            .send()
    };
    let res = bearer(&identity.id_token).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "not linked yet");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("sign in to the console once")
    );

    console_sign_in(&app, "alice").await;
    let res = bearer(&identity.id_token).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["username"], "alice");

    // Change a character inside the signature: the last one also carries padding bits, which
    // a decoder may ignore, so changing only those would leave the signature as it was.
    let mut forged = identity.id_token.clone().into_bytes();
    let inside = forged.len() - 8;
    forged[inside] = if forged[inside] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let res = bearer(&forged).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "signature checked");
    let res = bearer("not.a.jwt").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
