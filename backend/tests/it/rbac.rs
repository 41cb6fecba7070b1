//! Every REST route against every kind of caller, with the exact allow/deny outcome.
//!
//! The project `p1` is private and holds `p1/app:v1`. Calls that would destroy the fixture aim
//! at something absent (an unknown digest, tag or member) or at a resource made fresh for each
//! caller, so an allowed call answers 2xx or a 4xx about its target, and a denied one 401, 403
//! or the 404 that hides a private project. No call may answer 5xx.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// The callers, in the order of each case's expectation string.
const CALLERS: [&str; 10] = [
    "admin",
    "projectAdmin",
    "maintainer",
    "developer",
    "guest",
    "limitedGuest",
    "nonMember",
    "anonymous",
    "projectRobot",
    "systemRobot",
];

/// The users holding each member role in `p1`, with Harbor's role ids.
const MEMBERS: [(&str, i32); 5] = [("pa", 1), ("ma", 4), ("de", 2), ("gu", 3), ("lg", 5)];

const ZERO: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const ART: &str = "/api/v2.0/projects/p1/repositories/app/artifacts";

/// One route: method, path (with placeholders), body, and per caller `A` (allowed) or `D`.
struct Case {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: &'static str,
}

fn case(method: Method, path: &'static str, body: Option<Value>, expect: &'static str) -> Case {
    assert_eq!(expect.len(), CALLERS.len(), "{method} {path}");
    Case {
        method,
        path,
        body,
        expect,
    }
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Method as M;
    let bad_project_robot = json!({"name": "Bad Name", "level": "project", "permissions": [
        {"kind": "project", "namespace": "p1", "access": [{"resource": "repository", "action": "pull"}]}]});
    let bad_system_robot = json!({"name": "Bad Name", "level": "system", "permissions": [
        {"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "list"}]}]});
    let bad_gc = json!({"schedule": {"type": "Manual"}, "parameters": {"bogus": true}});
    //                                                                       admin..........systemRobot
    //                                                                       A pa ma de gu lg nm an pr sr
    vec![
        case(M::GET, "/api/v2.0/ping", None,                                   "AAAAAAAAAA"),
        case(M::GET, "/api/v2.0/health", None,                                 "AAAAAAAAAA"),
        case(M::GET, "/api/v2.0/systeminfo", None,                             "AAAAAAAAAA"),
        case(M::GET, "/api/v2.0/search?q=p", None,                             "AAAAAAAAAA"),
        case(M::GET, "/api/v2.0/statistics", None,                             "AAAAAAADAA"),
        case(M::GET, "/c/log_out", None,                                       "AAAAAAAAAA"),
        // Projects.
        case(M::GET, "/api/v2.0/projects", None,                               "AAAAAAAAAA"),
        case(M::POST, "/api/v2.0/projects", Some(json!({"project_name": "Bad Name"})), "AAAAAAADDA"),
        case(M::HEAD, "/api/v2.0/projects?project_name=p1", None,              "AAAAAAADAA"),
        case(M::GET, "/api/v2.0/projects/p1", None,                            "AAAAAADDDD"),
        case(M::PUT, "/api/v2.0/projects/p1", Some(json!({"metadata": {"severity": "bogus"}})), "AADDDDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1", None,                         "AADDDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/summary", None,                    "AAAAAADDDD"),
        case(M::GET, "/api/v2.0/projects/p1/_deletable", None,                 "AADDDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/logs", None,                       "AADDDDDDDD"),
        // Metadata.
        case(M::GET, "/api/v2.0/projects/p1/metadatas", None,                  "AAADDDDDDD"),
        case(M::POST, "/api/v2.0/projects/p1/metadatas", Some(json!({"bogus": "x"})), "AADDDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/metadatas/auto_scan", None,        "AAADDDDDDD"),
        case(M::PUT, "/api/v2.0/projects/p1/metadatas/auto_scan", Some(json!({"auto_scan": "bogus"})), "AADDDDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1/metadatas/auto_scan", None,     "AADDDDDDDD"),
        // Members.
        case(M::GET, "/api/v2.0/projects/p1/members", None,                    "AAAAADDDDD"),
        case(M::POST, "/api/v2.0/projects/p1/members", Some(json!({"role_id": 99, "member_user": {"username": "nm"}})), "AADDDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/members/999999", None,             "AAAAADDDDD"),
        case(M::PUT, "/api/v2.0/projects/p1/members/999999", Some(json!({"role_id": 1})), "AADDDDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1/members/999999", None,          "AADDDDDDDD"),
        // Repositories.
        case(M::GET, "/api/v2.0/repositories", None,                           "AAAAAAAAAA"),
        case(M::GET, "/api/v2.0/projects/p1/repositories", None,               "AAAAAADDAA"),
        case(M::GET, "/api/v2.0/projects/p1/repositories/app", None,           "AAAAAADDAD"),
        case(M::PUT, "/api/v2.0/projects/p1/repositories/app", Some(json!({"description": "d"})), "AAAADDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1/repositories/absent", None,     "AAADDDDDDD"),
        // Artifacts and tags.
        case(M::GET, ART, None,                                                "AAAAAADDAD"),
        case(M::POST, "/api/v2.0/projects/p1/repositories/copy/artifacts?from=p1/app:absent", None, "AAAADDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/repositories/app/artifacts/v1", None, "AAAAAADDAD"),
        case(M::DELETE, "/api/v2.0/projects/p1/repositories/app/artifacts/{zero}", None, "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags", None, "AAAAAADDAD"),
        case(M::POST, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags", Some(json!({"name": "-bad"})), "AAAADDDDAD"),
        case(M::DELETE, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/tags/absent", None, "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/accessories", None, "AAAAAADDDD"),
        case(M::GET, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/additions/build_history", None, "AAAAAADDDD"),
        case(M::GET, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/additions/layers", None, "AAAAAADDDD"),
        case(M::POST, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/labels", Some(json!({"id": 999999})), "AAAADDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1/repositories/app/artifacts/v1/labels/999999", None, "AAAADDDDDD"),
        // Labels.
        case(M::GET, "/api/v2.0/labels", None,                                 "AAAAAAADAA"),
        case(M::POST, "/api/v2.0/labels", Some(json!({"name": ""})),          "ADDDDDDDDA"),
        case(M::GET, "/api/v2.0/labels/{label}", None,                         "AAAAAAADAA"),
        case(M::PUT, "/api/v2.0/labels/{label}", Some(json!({"color": "bad"})), "ADDDDDDDDD"),
        case(M::DELETE, "/api/v2.0/labels/{fresh_label}", None,                "ADDDDDDDDD"),
        // Robots.
        case(M::GET, "/api/v2.0/permissions", None,                            "AAAAAAADAA"),
        case(M::GET, "/api/v2.0/robots", None,                                 "ADDDDDDDDA"),
        case(M::GET, "/api/v2.0/robots?q=ProjectID={pid}", None,               "AAAAADDDAD"),
        case(M::POST, "/api/v2.0/robots", Some(bad_project_robot),             "AADDDDDDDD"),
        case(M::POST, "/api/v2.0/robots", Some(bad_system_robot),              "ADDDDDDDDA"),
        case(M::GET, "/api/v2.0/robots/{probot}", None,                        "AAAAADDDDD"),
        case(M::GET, "/api/v2.0/robots/{srobot}", None,                        "ADDDDDDDDA"),
        case(M::PUT, "/api/v2.0/robots/{probot}", Some(json!({"level": "system"})), "AADDDDDDDD"),
        case(M::PATCH, "/api/v2.0/robots/{probot}", Some(json!({"secret": "weak"})), "AADDDDDDDD"),
        case(M::DELETE, "/api/v2.0/robots/{fresh_robot}", None,                "AADDDDDDDD"),
        // Users.
        case(M::GET, "/api/v2.0/users", None,                                  "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/users", Some(json!({"username": "bad name", "password": "x"})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/users/current", None,                          "AAAAAAADDD"),
        case(M::GET, "/api/v2.0/users/current/permissions", None,              "AAAAAAADAA"),
        case(M::GET, "/api/v2.0/users/search?username=n", None,                "AAAAAAADAA"),
        case(M::GET, "/api/v2.0/users/{nm}", None,                             "ADDDDDADDD"),
        case(M::PUT, "/api/v2.0/users/{nm}", Some(json!({})),                  "ADDDDDADDD"),
        case(M::PUT, "/api/v2.0/users/{nm}/password", Some(json!({"new_password": "weak"})), "ADDDDDADDD"),
        case(M::PUT, "/api/v2.0/users/{nm}/sysadmin", Some(json!({"sysadmin_flag": false})), "ADDDDDDDDD"),
        case(M::DELETE, "/api/v2.0/users/{fresh_user}", None,                  "ADDDDDDDDD"),
        // A user's CLI secret and personal access tokens: the user themselves or an administrator.
        case(M::GET, "/api/v2.0/users/{nm}/cli_secret", None,                  "ADDDDDADDD"),
        case(M::PUT, "/api/v2.0/users/{nm}/cli_secret", Some(json!({"secret": "weak"})), "ADDDDDADDD"),
        case(M::DELETE, "/api/v2.0/users/{nm}/cli_secret", None,               "ADDDDDADDD"),
        case(M::GET, "/api/v2.0/users/{nm}/tokens", None,                      "ADDDDDADDD"),
        case(M::POST, "/api/v2.0/users/{nm}/tokens", Some(json!({"name": "t", "scopes": []})), "ADDDDDADDD"),
        case(M::DELETE, "/api/v2.0/users/{nm}/tokens/999999", None,            "ADDDDDADDD"),
        // OIDC: the sign-in page's list and browser navigations are public; providers are
        // managed by administrators.
        case(M::GET, "/c/oidc/providers", None,                                "AAAAAAAAAA"),
        case(M::GET, "/c/oidc/login?provider=absent", None,                    "AAAAAAAAAA"),
        case(M::GET, "/c/oidc/callback", None,                                 "AAAAAAAAAA"),
        case(M::GET, "/c/oidc/onboard", None,                                  "AAAAAAAAAA"),
        case(M::POST, "/c/oidc/onboard", Some(json!({"username": "x"})),       "AAAAAAAAAA"),
        case(M::GET, "/api/v2.0/oidc/providers", None,                         "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/oidc/providers", Some(json!({"name": "Bad Name", "issuer": "x", "client_id": ""})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/oidc/providers/absent", None,                  "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/oidc/providers/absent", Some(json!({"issuer": "x", "client_id": "c"})), "ADDDDDDDDD"),
        case(M::DELETE, "/api/v2.0/oidc/providers/absent", None,               "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/oidc/ping", Some(json!({"issuer": "not a url", "client_id": "c"})), "ADDDDDDDDD"),
        // User groups.
        case(M::GET, "/api/v2.0/usergroups", None,                             "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/usergroups", Some(json!({"group_name": ""})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/usergroups/search?group_name=g", None,         "AAAAAAADAA"),
        case(M::GET, "/api/v2.0/usergroups/{group}", None,                     "AAAAAAADAA"),
        case(M::PUT, "/api/v2.0/usergroups/{group}", Some(json!({"group_name": ""})), "ADDDDDDDDD"),
        case(M::DELETE, "/api/v2.0/usergroups/{fresh_group}", None,            "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/usergroups/{group}/members", None,             "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/usergroups/{group}/members", Some(json!({"user_id": 999999})), "ADDDDDDDDD"),
        case(M::DELETE, "/api/v2.0/usergroups/{group}/members/999999", None,   "ADDDDDDDDD"),
        // Configuration and audit.
        case(M::GET, "/api/v2.0/configurations", None,                         "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/configurations", Some(json!({"auth_mode": "ldap_auth"})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/audit-logs", None,                             "ADDDDDDDDA"),
        // Registry endpoints (proxy caches): system administrators only; changes aim at an
        // absent id or carry an invalid body.
        case(M::GET, "/api/v2.0/registries", None,                             "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/registries", Some(json!({"name": "r", "type": "bogus", "url": "http://127.0.0.1:9"})), "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/registries/ping", Some(json!({"id": 999999})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/registries/999999", None,                      "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/registries/999999", Some(json!({"name": "r"})), "ADDDDDDDDD"),
        case(M::DELETE, "/api/v2.0/registries/999999", None,                   "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/replication/adapters", None,                   "ADDDDDDDDD"),
        // Quotas, garbage collection and the job service: system administrators only.
        case(M::GET, "/api/v2.0/quotas", None,                                 "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/quotas/recalculate?project_id=999999", None,  "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/quotas/{pid}", None,                           "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/quotas/{pid}", Some(json!({"hard": {"storage": -2}})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/system/gc", None,                              "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/system/gc/schedule", None,                     "ADDDDDDDDD"),
        case(M::POST, "/api/v2.0/system/gc/schedule", Some(bad_gc.clone()),    "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/system/gc/schedule", Some(bad_gc),             "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/system/gc/999999", None,                       "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/system/gc/999999", None,                       "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/system/gc/999999/log", None,                   "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/jobservice/jobs", None,                        "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/jobservice/jobs/999999", None,                 "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/jobservice/jobs/999999", Some(json!({"action": "stop"})), "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/jobservice/jobs/999999/log", None,             "ADDDDDDDDD"),
        case(M::GET, "/api/v2.0/jobservice/queues", None,                      "ADDDDDDDDD"),
        case(M::PUT, "/api/v2.0/jobservice/queues/absent", Some(json!({"action": "pause"})), "ADDDDDDDDD"),
        // Tag immutability rules.
        // Webhook policies: project administrators manage them, maintainers read them.
        case(M::GET, "/api/v2.0/projects/p1/webhook/policies", None,           "AAADDDDDDD"),
        case(M::POST, "/api/v2.0/projects/p1/webhook/policies", Some(json!({"name": "w", "event_types": []})), "AADDDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/webhook/policies/999999", None,    "AAADDDDDDD"),
        case(M::PUT, "/api/v2.0/projects/p1/webhook/policies/999999", Some(json!({"enabled": false})), "AADDDDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1/webhook/policies/999999", None, "AADDDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/webhook/policies/999999/executions", None, "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/webhook/policies/999999/executions/1/log", None, "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/webhook/lasttrigger", None,        "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/webhook/events", None,             "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/projects/p1/immutabletagrules", None,          "AAADDDDDDD"),
        case(M::POST, "/api/v2.0/projects/p1/immutabletagrules", Some(json!({"tag_selectors": []})), "AAADDDDDDD"),
        case(M::PUT, "/api/v2.0/projects/p1/immutabletagrules/999999", Some(json!({"tag_selectors": []})), "AAADDDDDDD"),
        case(M::DELETE, "/api/v2.0/projects/p1/immutabletagrules/999999", None, "AAADDDDDDD"),
        // Tag retention.
        case(M::GET, "/api/v2.0/retentions/metadatas", None,                   "AAAAAAADAA"),
        case(M::POST, "/api/v2.0/retentions", Some(json!({"algorithm": "bogus", "scope": {"level": "project", "ref": "{pid}"}})), "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/retentions/{fresh_retention}", None,          "AAAADDDDDD"),
        case(M::PUT, "/api/v2.0/retentions/{fresh_retention}", Some(json!({"algorithm": "bogus", "scope": {"level": "project", "ref": 0}})), "AAADDDDDDD"),
        case(M::POST, "/api/v2.0/retentions/{fresh_retention}/executions", Some(json!({"dry_run": true})), "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/retentions/{fresh_retention}/executions", None, "AAAADDDDDD"),
        case(M::PATCH, "/api/v2.0/retentions/{fresh_retention}/executions/999999", Some(json!({"action": "stop"})), "AAADDDDDDD"),
        case(M::GET, "/api/v2.0/retentions/{fresh_retention}/executions/999999/tasks", None, "AAAADDDDDD"),
        case(M::GET, "/api/v2.0/retentions/{fresh_retention}/executions/999999/tasks/999999", None, "AAAADDDDDD"),
        case(M::DELETE, "/api/v2.0/retentions/{fresh_retention}", None,       "AAADDDDDDD"),
    ]
}

/// Fixture ids substituted into paths.
struct Fixture {
    ids: BTreeMap<&'static str, String>,
    robot_secrets: BTreeMap<&'static str, (String, String)>,
}

async fn created_id(res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::CREATED, "fixture creation");
    let location = header(&res, "location");
    location.rsplit('/').next().expect("id").to_owned()
}

async fn robot(app: &TestApp, body: Value) -> (String, String, String) {
    let res = app
        .admin(Method::POST, "/api/v2.0/robots")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "robot fixture {body}");
    let created: Value = res.json().await.unwrap();
    (
        created["id"].to_string(),
        created["name"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

async fn fixture(app: &TestApp) -> Fixture {
    app.create_project("p1", false).await;
    app.push_m1("p1/app", "v1").await;
    for (user, role) in MEMBERS {
        app.create_user(user).await;
        app.add_member("p1", user, role).await;
    }
    app.create_user("nm").await;
    let mut ids = BTreeMap::new();
    let project: Value = app
        .admin(Method::GET, "/api/v2.0/projects/p1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ids.insert("pid", project["project_id"].to_string());
    let users: Value = app
        .admin(Method::GET, "/api/v2.0/users/search?username=nm")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ids.insert("nm", users[0]["user_id"].to_string());
    let res = app
        .admin(Method::POST, "/api/v2.0/labels")
        .json(&json!({"name": "fixture"}))
        .send()
        .await
        .unwrap();
    ids.insert("label", created_id(res).await);
    let res = app
        .admin(Method::POST, "/api/v2.0/usergroups")
        .json(&json!({"group_name": "fixture"}))
        .send()
        .await
        .unwrap();
    ids.insert("group", created_id(res).await);
    ids.insert("zero", ZERO.to_owned());
    let project_robot = robot(app, json!({"name": "ci", "level": "project", "permissions": [{
        "kind": "project", "namespace": "p1", "access": [
            {"resource": "repository", "action": "pull"}, {"resource": "repository", "action": "push"},
            {"resource": "repository", "action": "list"}, {"resource": "repository", "action": "read"},
            {"resource": "artifact", "action": "read"}, {"resource": "artifact", "action": "list"},
            {"resource": "tag", "action": "list"}, {"resource": "tag", "action": "create"},
            {"resource": "robot", "action": "list"}, {"resource": "label", "action": "list"}]}]})).await;
    let system_robot = robot(app, json!({"name": "ops", "level": "system", "permissions": [
        {"kind": "system", "namespace": "/", "access": [
            {"resource": "project", "action": "create"}, {"resource": "project", "action": "list"},
            {"resource": "robot", "action": "create"}, {"resource": "robot", "action": "list"},
            {"resource": "robot", "action": "read"}, {"resource": "audit-log", "action": "list"},
            {"resource": "label", "action": "create"}]},
        {"kind": "project", "namespace": "*", "access": [
            {"resource": "repository", "action": "list"}, {"resource": "repository", "action": "pull"}]}]})).await;
    ids.insert("probot", project_robot.0);
    ids.insert("srobot", system_robot.0);
    let mut robot_secrets = BTreeMap::new();
    robot_secrets.insert("projectRobot", (project_robot.1, project_robot.2));
    robot_secrets.insert("systemRobot", (system_robot.1, system_robot.2));
    Fixture { ids, robot_secrets }
}

/// Makes the fresh resource a `{fresh_*}` placeholder asks for, returning its id.
async fn fresh(app: &TestApp, fixture: &Fixture, kind: &str, n: usize) -> String {
    let res = match kind {
        "fresh_retention" => {
            // `p1` holds at most one policy: reuse the one a refused caller left behind.
            let pid: i64 = fixture.ids["pid"].parse().unwrap();
            let res = app
                .admin(Method::POST, "/api/v2.0/retentions")
                .json(&json!({"algorithm": "or", "rules": [],
                    "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
                    "scope": {"level": "project", "ref": pid}}))
                .send()
                .await
                .unwrap();
            if res.status() == StatusCode::CONFLICT {
                let body: Value = res.json().await.unwrap();
                let message = body["errors"][0]["message"].as_str().unwrap();
                return message.rsplit(' ').next().unwrap().to_owned();
            }
            return created_id(res).await;
        }
        "fresh_label" => app
            .admin(Method::POST, "/api/v2.0/labels")
            .json(&json!({"name": format!("fresh{n}")})),
        "fresh_group" => app
            .admin(Method::POST, "/api/v2.0/usergroups")
            .json(&json!({"group_name": format!("fresh{n}")})),
        "fresh_user" => app
            .admin(Method::POST, "/api/v2.0/users")
            .json(&json!({"username": format!("fresh{n}"), "password": USER_PASSWORD})),
        "fresh_robot" => {
            return robot(app, json!({"name": format!("fresh{n}"), "level": "project", "permissions": [
                {"kind": "project", "namespace": "p1", "access": [{"resource": "repository", "action": "pull"}]}]}))
            .await
            .0;
        }
        other => panic!("unknown placeholder {other}"),
    };
    created_id(res.send().await.unwrap()).await
}

async fn resolve(app: &TestApp, fixture: &Fixture, path: &str, n: usize) -> String {
    let mut out = path.to_owned();
    for (key, value) in &fixture.ids {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    for kind in [
        "fresh_label",
        "fresh_group",
        "fresh_user",
        "fresh_robot",
        "fresh_retention",
    ] {
        let placeholder = format!("{{{kind}}}");
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, &fresh(app, fixture, kind, n).await);
        }
    }
    out
}

fn request(
    app: &TestApp,
    fixture: &Fixture,
    caller: &str,
    method: Method,
    path: &str,
) -> reqwest::RequestBuilder {
    let user = match caller {
        "admin" => return app.admin(method, path),
        "anonymous" => return app.request(method, path),
        "projectRobot" | "systemRobot" => {
            let (name, secret) = &fixture.robot_secrets[caller];
            return app.request(method, path).basic_auth(name, Some(secret));
        }
        "projectAdmin" => "pa",
        "maintainer" => "ma",
        "developer" => "de",
        "guest" => "gu",
        "limitedGuest" => "lg",
        _ => "nm",
    };
    app.as_user(user, method, path)
}

/// `D` for a refusal (401, 403, or the 404 hiding private project `p1`), `A` otherwise.
async fn outcome(res: reqwest::Response, what: &str) -> char {
    let status = res.status();
    assert!(!status.is_server_error(), "{what}: server error {status}");
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => 'D',
        StatusCode::NOT_FOUND => {
            let body: Value = res.json().await.unwrap_or(Value::Null);
            if body["errors"][0]["message"] == "project p1 not found" {
                'D'
            } else {
                'A'
            }
        }
        _ => 'A',
    }
}

/// How many literal segments of spec path `pattern` a table path matches (`None`: no match).
fn literal_matches(pattern: &str, path: &str) -> Option<usize> {
    let path = path.split('?').next().unwrap_or_default();
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    if pattern.len() != path.len() {
        return None;
    }
    let mut literal = 0;
    for (want, got) in pattern.iter().zip(&path) {
        if want.starts_with('{') {
            continue;
        }
        if want != got {
            return None;
        }
        literal += 1;
    }
    Some(literal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_caller() {
    let app = TestApp::start().await;
    let fixture = fixture(&app).await;
    let cases = cases();
    let mut mismatches = Vec::new();
    let mut n = 0;
    for case in &cases {
        let mut got = String::new();
        for caller in CALLERS {
            n += 1;
            let path = resolve(&app, &fixture, case.path, n).await;
            let mut req = request(&app, &fixture, caller, case.method.clone(), &path);
            if let Some(body) = &case.body {
                // A quoted `"{id}"` placeholder in a body becomes the bare (numeric) id.
                let mut text = body.to_string();
                for (key, value) in &fixture.ids {
                    text = text.replace(&format!("\"{{{key}}}\""), value);
                }
                req = req.json(&serde_json::from_str::<Value>(&text).unwrap());
            }
            let what = format!("{} {path} as {caller}", case.method);
            got.push(outcome(req.send().await.unwrap(), &what).await);
        }
        if got != case.expect {
            mismatches.push(format!(
                "{} {}: expected {} got {}",
                case.method, case.path, case.expect, got
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "callers: {CALLERS:?}\n{}",
        mismatches.join("\n")
    );

    // Every documented operation is in the table (login is exercised in the robots tests).
    let spec: Value = serde_json::from_str(
        &<berth::api::docs::ApiDoc as utoipa::OpenApi>::openapi()
            .to_json()
            .unwrap(),
    )
    .unwrap();
    let operations: Vec<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.clone(), path.clone()))
        })
        .collect();
    let mut covered = BTreeSet::new();
    for case in &cases {
        let method = case.method.as_str().to_lowercase();
        let best = operations
            .iter()
            .filter(|(m, _)| *m == method)
            .filter_map(|(m, p)| literal_matches(p, case.path).map(|n| (n, (m.clone(), p.clone()))))
            .max_by_key(|(n, _)| *n);
        if let Some((_, operation)) = best {
            covered.insert(operation);
        }
    }
    let uncovered: Vec<String> = operations
        .iter()
        .filter(|op| !covered.contains(*op) && op.1 != "/c/login")
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        uncovered.is_empty(),
        "routes without an RBAC case:\n{}",
        uncovered.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_tokens_follow_the_same_roles() {
    let app = TestApp::start().await;
    let fixture = fixture(&app).await;
    let scope = ["repository:p1/app:pull,push,delete"];
    let expected: [(&str, &[&str]); 10] = [
        ("admin", &["pull", "push", "delete"]),
        ("projectAdmin", &["pull", "push", "delete"]),
        ("maintainer", &["pull", "push", "delete"]),
        ("developer", &["pull", "push"]),
        ("guest", &["pull"]),
        ("limitedGuest", &["pull"]),
        ("nonMember", &[]),
        ("anonymous", &[]),
        ("projectRobot", &["pull", "push"]),
        ("systemRobot", &["pull"]),
    ];
    for (caller, actions) in expected {
        let credentials = match caller {
            "admin" => Some(("admin".to_owned(), ADMIN_PASSWORD.to_owned())),
            "anonymous" => None,
            "projectRobot" | "systemRobot" => Some(fixture.robot_secrets[caller].clone()),
            "projectAdmin" => Some(("pa".into(), USER_PASSWORD.into())),
            "maintainer" => Some(("ma".into(), USER_PASSWORD.into())),
            "developer" => Some(("de".into(), USER_PASSWORD.into())),
            "guest" => Some(("gu".into(), USER_PASSWORD.into())),
            "limitedGuest" => Some(("lg".into(), USER_PASSWORD.into())),
            _ => Some(("nm".into(), USER_PASSWORD.into())),
        };
        let token = app
            .token_string(
                credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
                &scope,
            )
            .await;
        let granted: Vec<String> = access_claim(&token)
            .as_array()
            .and_then(|a| a.first())
            .and_then(|entry| entry["actions"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(granted, actions, "{caller}");
    }
}
