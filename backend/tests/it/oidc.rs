//! OpenID Connect sign-in against a real provider: the certified `oidc-provider` library run by
//! Node.js from `e2e/oidc` (installed by `scripts/install-tools.sh`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use berth::auth::oidc::{OidcError, OidcProvider, PendingLogin};
use berth::config::OidcProviderConfig;
use reqwest::StatusCode;

const REDIRECT: &str = "http://127.0.0.1:5000/c/oidc/callback";
pub const PASSWORD: &str = "Passw0rd!x";

/// The provider process, stopped when dropped.
pub struct TestIdp {
    child: Child,
    pub issuer: String,
}

impl TestIdp {
    /// Replaces an account's groups (the provider's test-only control endpoint).
    pub async fn set_groups(&self, account: &str, groups: &[&str]) {
        let res = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .put(format!("{}/test/accounts/{account}/groups", self.issuer))
            .json(&groups)
            .send()
            .await
            .expect("set groups");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn start_idp() -> TestIdp {
    start_idp_for(REDIRECT)
}

/// Starts the provider with one client whose redirect URI is `redirect`.
pub fn start_idp_for(redirect: &str) -> TestIdp {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e/oidc");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/oidc-provider")
            .exists(),
        "{dir}/node_modules is missing: run scripts/install-tools.sh"
    );
    let port = free_port();
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg(port.to_string())
        .arg(redirect)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let issuer = loop {
        let line = lines.next().expect("provider exited").expect("read");
        if let Some(issuer) = line.strip_prefix("ready ") {
            break issuer.to_owned();
        }
    };
    // Keep reading: a closed pipe would kill the provider at its next line of output.
    std::thread::spawn(move || lines.for_each(drop));
    TestIdp { child, issuer }
}

fn provider_config(issuer: &str, secret: &str) -> OidcProviderConfig {
    serde_json::from_value(serde_json::json!({
        "name": "test-idp",
        "display_name": "Test IdP",
        "issuer": issuer,
        "client_id": "berth",
        "client_secret": secret,
        "scopes": ["profile", "email", "groups"],
        "admin_group": "berth-admins",
        "group_filter": "^(dev-team|berth-admins)$",
    }))
    .expect("provider config")
}

/// A browser-like client: keeps cookies, does not follow redirects on its own.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client")
}

/// Plays the browser: follows the provider's redirects, signs in on its form, and returns the
/// query of the final redirect to Berth's callback.
async fn browser_sign_in(
    url: url::Url,
    user: &str,
    password: &str,
) -> Result<Vec<(String, String)>, String> {
    let next = sign_in_at_idp(&browser(), url, user, password, REDIRECT).await?;
    Ok(next.query_pairs().into_owned().collect())
}

/// Follows redirects from `url` with `browser`, posting `user`'s credentials to the provider's
/// form, until a redirect starts with `stop`; returns that URL (not visited).
pub async fn sign_in_at_idp(
    browser: &reqwest::Client,
    url: url::Url,
    user: &str,
    password: &str,
    stop: &str,
) -> Result<url::Url, String> {
    let mut next = url;
    for _ in 0..10 {
        if next.as_str().starts_with(stop) {
            return Ok(next);
        }
        let res = browser.get(next.clone()).send().await.expect("get");
        if res.status() == StatusCode::OK {
            // The provider's sign-in form: post the credentials to it.
            let page = res.text().await.expect("page");
            let action = page
                .split("action=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .ok_or_else(|| format!("no form in {page}"))?;
            let res = browser
                .post(next.join(action).expect("action"))
                .form(&[("login", user), ("password", password)])
                .send()
                .await
                .expect("post");
            if res.status() == StatusCode::OK {
                return Err(res.text().await.expect("page"));
            }
            next = location(&next, &res);
            continue;
        }
        next = location(&next, &res);
    }
    Err("too many redirects".into())
}

fn location(base: &url::Url, res: &reqwest::Response) -> url::Url {
    let value = res
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("{} without Location", res.status()))
        .to_str()
        .expect("ascii");
    base.join(value).expect("location")
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> &'a str {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {query:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_flow_with_pkce_yields_the_identity_and_groups() {
    let idp = start_idp();
    let provider = OidcProvider::discover(
        provider_config(&idp.issuer, "berth-client-secret"),
        REDIRECT,
    )
    .await
    .expect("discovery");
    assert_eq!(provider.display_name(), "Test IdP");

    let (url, pending) = provider.start_login();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(param(&query, "code_challenge_method"), "S256");
    assert!(param(&query, "scope").contains("openid"));
    assert_eq!(param(&query, "state"), pending.state);

    let back = browser_sign_in(url, "alice", PASSWORD)
        .await
        .expect("sign in");
    let code = param(&back, "code").to_owned();
    let identity = provider
        .finish_login(&pending, param(&back, "state"), &code)
        .await
        .expect("finish");
    assert_eq!(identity.username, "alice");
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.issuer, idp.issuer);
    assert_eq!(identity.email.as_deref(), Some("alice@example.test"));
    assert_eq!(identity.groups, ["dev-team", "berth-admins"]);
    assert!(identity.is_admin);

    let replay = provider.finish_login(&pending, &pending.state, &code).await;
    assert!(
        matches!(replay, Err(OidcError::Refused { .. })),
        "a code works once: {replay:?}"
    );

    let (url, pending) = provider.start_login();
    let back = browser_sign_in(url, "bob", PASSWORD)
        .await
        .expect("sign in");
    let forged = PendingLogin {
        state: "not-the-state".into(),
        ..pending.clone()
    };
    let result = provider
        .finish_login(&forged, param(&back, "state"), param(&back, "code"))
        .await;
    assert!(
        matches!(result, Err(OidcError::StateMismatch)),
        "{result:?}"
    );
    let bob = provider
        .finish_login(&pending, param(&back, "state"), param(&back, "code"))
        .await
        .expect("bob");
    assert_eq!(bob.groups, ["dev-team"]);
    assert!(!bob.is_admin);

    let (url, _) = provider.start_login();
    let refused = browser_sign_in(url, "alice", "wrong").await;
    assert!(
        refused.is_err_and(|page| page.contains("wrong user name or password")),
        "the provider checks passwords"
    );

    let bearer = provider.verify_bearer("eyJhbGciOiJub25lIn0.e30.");
    assert!(matches!(bearer, Err(OidcError::InvalidIdToken { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misconfiguration_gives_a_clear_error() {
    let down = format!("http://127.0.0.1:{}", free_port());
    let result = OidcProvider::discover(provider_config(&down, "x"), REDIRECT).await;
    let err = result.expect_err("nothing listens there");
    assert!(matches!(err, OidcError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be reached"), "{err}");

    let idp = start_idp();
    let wrong_issuer = format!("{}/elsewhere", idp.issuer);
    let err = OidcProvider::discover(provider_config(&wrong_issuer, "x"), REDIRECT)
        .await
        .expect_err("wrong issuer");
    assert!(matches!(err, OidcError::Unavailable { .. }), "{err:?}");

    let provider = OidcProvider::discover(provider_config(&idp.issuer, "wrong-secret"), REDIRECT)
        .await
        .expect("discovery works without the secret");
    let (url, pending) = provider.start_login();
    let back = browser_sign_in(url, "alice", PASSWORD)
        .await
        .expect("sign in");
    let err = provider
        .finish_login(&pending, param(&back, "state"), param(&back, "code"))
        .await
        .expect_err("the provider refuses a wrong client secret");
    assert!(
        matches!(&err, OidcError::Refused { detail, .. } if detail.contains("invalid_client")),
        "{err:?}"
    );
}
