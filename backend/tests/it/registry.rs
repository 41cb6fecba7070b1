//! `/v2` protocol cases.

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use crate::support::*;

const C2: &[u8] = b"chunk-one-chunk-two";
const EMPTY_DIGEST: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async fn app_with_project() -> TestApp {
    let app = TestApp::start().await;
    app.create_project("proj", false).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixtures_match_the_case_file() {
    assert_eq!(m1().len(), 393);
    assert_eq!(
        digest(m1().as_bytes()),
        "sha256:e4c51d8f69df7e80282f10d75922f4f647fee2d621e7928a9ca47cda356e8c79"
    );
    assert_eq!(
        digest(C2),
        "sha256:ddb32506d99497317352b78b4e6a287dcb84538d39834f1f00907c61492dd7ea"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b01_chunked_upload_range_arithmetic() {
    let app = app_with_project().await;
    let res = app
        .admin(Method::POST, "/v2/proj/chunky/blobs/uploads/")
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let loc = header(&res, "location");
    assert!(loc.starts_with("/v2/proj/chunky/blobs/uploads/"), "{loc}");

    let patch = |loc: String, range: &'static str, body: &'static [u8]| {
        app.admin(Method::PATCH, &loc)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", range)
            .body(body)
            .send()
    };
    let res = patch(loc.clone(), "0-9", b"chunk-one-").await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&res, "range"), "0-9");
    let loc = header(&res, "location");

    let res = app.admin(Method::GET, &loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "range"), "0-9");
    header(&res, "location");

    let res = patch(loc.clone(), "5-13", b"chunk-two").await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&res, "range"), "0-9");
    header(&res, "location");
    assert_eq!(error_code(res).await, "BLOB_UPLOAD_INVALID");
    let res = app.admin(Method::GET, &loc).send().await.unwrap();
    assert_eq!(
        header(&res, "range"),
        "0-9",
        "offset unchanged after a refused chunk"
    );

    let res = patch(loc.clone(), "10-18", b"chunk-two").await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&res, "range"), "0-18");
    let loc = header(&res, "location");

    let d = digest(C2);
    let res = app
        .admin(Method::PUT, &with_query(&loc, &format!("digest={d}")))
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(header(&res, "location").ends_with(&format!("/v2/proj/chunky/blobs/{d}")));
    assert_eq!(header(&res, "docker-content-digest"), d);

    let res = app
        .admin(Method::GET, &format!("/v2/proj/chunky/blobs/{d}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), C2);

    // A first chunk must start at 0, and HTTP-response syntax is not a request range.
    let res = app
        .admin(Method::POST, "/v2/proj/chunky/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    let res = patch(loc.clone(), "1-10", b"chunk-one-").await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let res = app
        .admin(Method::PATCH, &loc)
        .header("Content-Range", "bytes 0-9/19")
        .body("chunk-one-")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let res = app.admin(Method::GET, &loc).send().await.unwrap();
    assert_eq!(header(&res, "range"), "0-0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b02_streamed_patch_without_range_or_length() {
    let app = app_with_project().await;
    let stream_body = |parts: Vec<&'static [u8]>| {
        let stream = futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(bytes::Bytes::from_static(p))),
        );
        reqwest::Body::wrap_stream(stream)
    };
    let res = app
        .admin(Method::POST, "/v2/proj/stream/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    // reqwest sends a wrapped stream with Transfer-Encoding: chunked and no Content-Length.
    let res = app
        .admin(Method::PATCH, &loc)
        .header("Content-Type", "application/octet-stream")
        .body(stream_body(vec![b"hello ", b"layer\n"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&res, "range"), "0-11");
    let loc = header(&res, "location");
    let d = digest(L1);
    let res = app
        .admin(Method::PUT, &with_query(&loc, &format!("digest={d}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(Method::HEAD, &format!("/v2/proj/stream/blobs/{d}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-length"), "12");

    // With Content-Length and no Content-Range, then a second streamed PATCH appending.
    let res = app
        .admin(Method::POST, "/v2/proj/stream/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    let res = app
        .admin(Method::PATCH, &loc)
        .body(&b"chunk-one-"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "range"), "0-9");
    let loc = header(&res, "location");
    let res = app
        .admin(Method::PATCH, &loc)
        .body(stream_body(vec![b"chunk-", b"two"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&res, "range"), "0-18");
    let loc = header(&res, "location");
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(C2))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // containerd style: the whole blob in a chunked PUT straight after the POST.
    let res = app
        .admin(Method::POST, "/v2/proj/stream/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(CFG))),
        )
        .body(stream_body(vec![b"{", b"}"]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b03_status_codes_of_each_step() {
    let app = app_with_project().await;
    let res = app
        .admin(Method::POST, "/v2/proj/codes/blobs/uploads/")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app
        .admin(Method::PATCH, &header(&res, "location"))
        .header("Content-Range", "0-9")
        .body("chunk-one-")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let loc = header(&res, "location");
    let res = app.admin(Method::GET, &loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(C2))),
        )
        .body("chunk-two")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "docker-content-digest"), digest(C2));

    // Single-request upload.
    let d = digest(L1);
    let res = app
        .admin(
            Method::POST,
            &format!("/v2/proj/codes/blobs/uploads/?digest={d}"),
        )
        .header("Content-Type", "application/octet-stream")
        .body(L1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        header(&res, "location"),
        format!("/v2/proj/codes/blobs/{d}")
    );

    app.upload("proj/codes", CFG).await;
    for _ in 0..2 {
        let res = app
            .admin(Method::PUT, "/v2/proj/codes/manifests/v1")
            .header("Content-Type", OCI_MANIFEST)
            .body(m1())
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "manifest PUT is 201, also when repeated"
        );
        assert_eq!(
            header(&res, "docker-content-digest"),
            digest(m1().as_bytes())
        );
        header(&res, "location");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b05_mount_answers_201_only_when_mounted() {
    let app = app_with_project().await;
    let d = app.upload("proj/src", L1).await;
    let res = app
        .admin(
            Method::POST,
            &format!("/v2/proj/dst/blobs/uploads/?mount={d}&from=proj/src"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(header(&res, "location").ends_with(&format!("/v2/proj/dst/blobs/{d}")));
    assert_eq!(header(&res, "docker-content-digest"), d);
    let res = app
        .admin(Method::HEAD, &format!("/v2/proj/dst/blobs/{d}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let never = format!("sha256:{}", "ab".repeat(32));
    let res = app
        .admin(
            Method::POST,
            &format!("/v2/proj/dst2/blobs/uploads/?mount={never}&from=proj/src"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(header(&res, "location").starts_with("/v2/proj/dst2/blobs/uploads/"));
    let res = app
        .admin(Method::HEAD, &format!("/v2/proj/dst2/blobs/{never}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A manifest naming a blob that was never really mounted is refused.
    app.upload("proj/dst2", CFG).await;
    let manifest = manifest_with(
        &format!(
            ",\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{never}\",\"size\":3}}]"
        ),
        "application/vnd.oci.image.config.v1+json",
        "",
    );
    let res = app
        .admin(Method::PUT, "/v2/proj/dst2/manifests/v1")
        .header("Content-Type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "MANIFEST_BLOB_UNKNOWN");

    // Mounting from a repository the caller cannot read is not a mount.
    app.create_user("u1").await;
    app.create_project("other", false).await;
    app.add_member("other", "u1", 2).await;
    let res = app
        .as_user(
            "u1",
            Method::POST,
            &format!("/v2/other/app/blobs/uploads/?mount={d}&from=proj/src"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "no mount without pull on the source"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b07_head_carries_the_get_headers() {
    let app = app_with_project().await;
    let d = app.push_m1("proj/app", "v1").await;
    let accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";
    for reference in ["v1", d.as_str()] {
        for method in [Method::GET, Method::HEAD] {
            let head = method == Method::HEAD;
            let res = app
                .admin(method, &format!("/v2/proj/app/manifests/{reference}"))
                .header("Accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(header(&res, "content-type"), OCI_MANIFEST);
            assert_eq!(header(&res, "content-length"), "393");
            assert_eq!(header(&res, "docker-content-digest"), d);
            assert_eq!(
                header(&res, "docker-distribution-api-version"),
                "registry/2.0"
            );
            let body = res.bytes().await.unwrap();
            if head {
                assert!(body.is_empty());
            } else {
                assert_eq!(body.as_ref(), m1().as_bytes());
            }
        }
    }
    // An index pushed by tag answers the same way.
    let index = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_INDEX}\",\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{d}\",\"size\":393}}]}}"
    );
    let di = app
        .put_manifest("proj/app", "list", OCI_INDEX, index.clone().into_bytes())
        .await;
    let res = app
        .admin(Method::HEAD, "/v2/proj/app/manifests/list")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "content-type"), OCI_INDEX);
    assert_eq!(header(&res, "content-length"), index.len().to_string());
    assert_eq!(header(&res, "docker-content-digest"), di);

    let res = app
        .admin(Method::HEAD, "/v2/proj/app/manifests/nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b10_error_codes_for_absent_content() {
    let app = app_with_project().await;
    let d = app.push_m1("proj/err", "v1").await;
    let listed = [
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
        "TOOMANYREQUESTS",
    ];
    let sig_tag = format!("{}.sig", d.replace(':', "-"));
    let cases: Vec<(String, StatusCode, &[&str])> = vec![
        (
            "/v2/proj/err/manifests/does-not-exist".into(),
            StatusCode::NOT_FOUND,
            &["MANIFEST_UNKNOWN"],
        ),
        (
            format!("/v2/proj/err/manifests/{sig_tag}"),
            StatusCode::NOT_FOUND,
            &["MANIFEST_UNKNOWN"],
        ),
        (
            format!("/v2/proj/err/blobs/sha256:{}", "0".repeat(64)),
            StatusCode::NOT_FOUND,
            &["BLOB_UNKNOWN"],
        ),
        (
            "/v2/proj/nothere/manifests/v1".into(),
            StatusCode::NOT_FOUND,
            &["NAME_UNKNOWN", "MANIFEST_UNKNOWN"],
        ),
        (
            "/v2/proj/err/manifests/.bad..tag".into(),
            StatusCode::BAD_REQUEST,
            &["MANIFEST_INVALID"],
        ),
        (
            "/v2/proj/err/manifests/sha256:xyz".into(),
            StatusCode::BAD_REQUEST,
            &["DIGEST_INVALID"],
        ),
        (
            format!("/v2/proj/err/blobs/uploads/{}", uuid::Uuid::new_v4()),
            StatusCode::NOT_FOUND,
            &["BLOB_UPLOAD_UNKNOWN"],
        ),
    ];
    for (path, status, codes) in cases {
        let res = app.admin(Method::GET, &path).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(header(&res, "content-type"), "application/json", "{path}");
        let code = error_code(res).await;
        assert!(codes.contains(&code.as_str()), "{path}: {code}");
        assert!(listed.contains(&code.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b11_referrers_carry_artifact_type_and_annotations() {
    let app = app_with_project().await;
    let subject = app.push_m1("proj/app", "v1").await;
    let layer = format!(
        ",\"layers\":[{{\"mediaType\":\"application/vnd.example.sbom.v1\",\"digest\":\"{}\",\"size\":12}}]",
        digest(L1)
    );
    let subject_json = format!(
        ",\"subject\":{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{subject}\",\"size\":393}}"
    );
    let a1 = manifest_with(
        &layer,
        "application/vnd.oci.empty.v1+json",
        &format!("{subject_json},\"annotations\":{{\"org.example.kind\":\"sbom\"}}"),
    )
    .replacen(
        &format!("\"mediaType\":\"{OCI_MANIFEST}\","),
        &format!(
            "\"mediaType\":\"{OCI_MANIFEST}\",\"artifactType\":\"application/vnd.example.sbom.v1\","
        ),
        1,
    );
    let a2 = manifest_with(
        &layer,
        "application/vnd.example.sig.config.v1+json",
        &format!("{subject_json},\"annotations\":{{\"org.example.kind\":\"sig\"}}"),
    );
    for body in [&a1, &a2] {
        let d = digest(body.as_bytes());
        let res = app
            .admin(Method::PUT, &format!("/v2/proj/app/manifests/{d}"))
            .header("Content-Type", OCI_MANIFEST)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(header(&res, "oci-subject"), subject);
    }
    let res = app
        .admin(Method::GET, &format!("/v2/proj/app/referrers/{subject}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), OCI_INDEX);
    let index: Value = res.json().await.unwrap();
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2);
    let find = |d: String| {
        manifests
            .iter()
            .find(|m| m["digest"] == d.as_str())
            .unwrap()
            .clone()
    };
    let e1 = find(digest(a1.as_bytes()));
    assert_eq!(e1["artifactType"], "application/vnd.example.sbom.v1");
    assert_eq!(e1["annotations"]["org.example.kind"], "sbom");
    assert_eq!(e1["size"], a1.len());
    let e2 = find(digest(a2.as_bytes()));
    assert_eq!(
        e2["artifactType"],
        "application/vnd.example.sig.config.v1+json"
    );
    assert_eq!(e2["annotations"]["org.example.kind"], "sig");

    let res = app
        .admin(
            Method::GET,
            &format!(
                "/v2/proj/app/referrers/{subject}?artifactType=application/vnd.example.sbom.v1"
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "oci-filters-applied"), "artifactType");
    let index: Value = res.json().await.unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b14_tag_pagination_follows_link() {
    let app = app_with_project().await;
    app.push_m1("proj/pg", "latest").await;
    for tag in ["v1", "v10", "v2", "v9"] {
        app.put_manifest("proj/pg", tag, OCI_MANIFEST, m1().into_bytes())
            .await;
    }
    let tags = |body: Value| -> Vec<String> {
        body["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    let res = app
        .admin(Method::GET, "/v2/proj/pg/tags/list")
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "proj/pg");
    assert_eq!(tags(body), ["latest", "v1", "v10", "v2", "v9"]);

    // Follow Link with a pull-only token, as clients do.
    app.create_user("reader").await;
    app.add_member("proj", "reader", 3).await;
    let token = app
        .token_string(
            Some(("reader", USER_PASSWORD)),
            &["repository:proj/pg:pull"],
        )
        .await;
    let mut next = Some("/v2/proj/pg/tags/list?n=2".to_owned());
    let mut pages = Vec::new();
    while let Some(path) = next {
        let res = app
            .request(Method::GET, &path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        next = res.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("rel=\"next\""), "{l}");
            l[l.find('<').unwrap() + 1..l.find('>').unwrap()].to_owned()
        });
        pages.push(tags(res.json().await.unwrap()));
    }
    assert_eq!(
        pages,
        vec![vec!["latest", "v1"], vec!["v10", "v2"], vec!["v9"]]
    );

    let get = |q: &'static str| {
        app.admin(Method::GET, &format!("/v2/proj/pg/tags/list?{q}"))
            .send()
    };
    assert_eq!(
        tags(get("n=2&last=v15").await.unwrap().json().await.unwrap()),
        ["v2", "v9"]
    );
    assert_eq!(
        tags(get("last=v2").await.unwrap().json().await.unwrap()),
        ["v9"]
    );
    let res = get("n=0").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(tags(res.json().await.unwrap()).is_empty());
    let res = get("n=abc").await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b21_zero_byte_blob_and_empty_config() {
    let app = app_with_project().await;
    let res = app
        .admin(Method::POST, "/v2/proj/empty/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={EMPTY_DIGEST}")),
        )
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "docker-content-digest"), EMPTY_DIGEST);
    let res = app
        .admin(
            Method::POST,
            &format!("/v2/proj/empty/blobs/uploads/?digest={EMPTY_DIGEST}"),
        )
        .header("Content-Length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .admin(
            Method::HEAD,
            &format!("/v2/proj/empty/blobs/{EMPTY_DIGEST}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-length"), "0");
    let res = app
        .admin(Method::GET, &format!("/v2/proj/empty/blobs/{EMPTY_DIGEST}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().is_empty());

    app.upload("proj/empty", L1).await;
    let manifest = m1()
        .replace(
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.cncf.openpolicyagent.config.v1+json",
        )
        .replace(
            &format!("\"digest\":\"{}\",\"size\":2", digest(CFG)),
            &format!("\"digest\":\"{EMPTY_DIGEST}\",\"size\":0"),
        );
    app.put_manifest(
        "proj/empty",
        "v1",
        OCI_MANIFEST,
        manifest.clone().into_bytes(),
    )
    .await;
    let res = app
        .admin(Method::GET, "/v2/proj/empty/manifests/v1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), manifest.as_bytes());

    let res = app
        .admin(Method::POST, "/v2/proj/empty/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={EMPTY_DIGEST}")),
        )
        .body("not empty")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "DIGEST_INVALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b22_delete_by_tag_and_by_digest() {
    let app = app_with_project().await;
    let d = app.push_m1("proj/del", "t1").await;
    app.put_manifest("proj/del", "t2", OCI_MANIFEST, m1().into_bytes())
        .await;
    let status = |m: Method, p: String| {
        let req = app.admin(m, &p);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(
        status(Method::DELETE, "/v2/proj/del/manifests/t1".into()).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        status(Method::GET, "/v2/proj/del/manifests/t1".into()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(Method::GET, "/v2/proj/del/manifests/t2".into()).await,
        StatusCode::OK
    );
    assert_eq!(
        status(Method::GET, format!("/v2/proj/del/manifests/{d}")).await,
        StatusCode::OK
    );
    let body: Value = app
        .admin(Method::GET, "/v2/proj/del/tags/list")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["tags"], serde_json::json!(["t2"]));

    assert_eq!(
        status(Method::DELETE, format!("/v2/proj/del/manifests/{d}")).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        status(Method::GET, format!("/v2/proj/del/manifests/{d}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(Method::GET, "/v2/proj/del/manifests/t2".into()).await,
        StatusCode::NOT_FOUND
    );
    let body: Value = app
        .admin(Method::GET, "/v2/proj/del/tags/list")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["tags"], serde_json::json!([]));
    let res = app
        .admin(Method::DELETE, &format!("/v2/proj/del/manifests/{d}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "MANIFEST_UNKNOWN");
    let res = app
        .admin(
            Method::DELETE,
            &format!("/v2/proj/del/manifests/{}", digest(CFG)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "MANIFEST_UNKNOWN");

    // A manifest referenced by an index may be deleted; the index stays readable.
    let d = app.push_m1("proj/del", "v1").await;
    let index = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_INDEX}\",\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{d}\",\"size\":393}}]}}"
    );
    app.put_manifest("proj/del", "sha256-abc.sig", OCI_INDEX, index.into_bytes())
        .await;
    assert_eq!(
        status(
            Method::DELETE,
            "/v2/proj/del/manifests/sha256-abc.sig".into()
        )
        .await,
        StatusCode::ACCEPTED
    );
    app.put_manifest("proj/del", "list", OCI_INDEX, format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_INDEX}\",\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{d}\",\"size\":393}}]}}"
    ).into_bytes()).await;
    assert_eq!(
        status(Method::DELETE, format!("/v2/proj/del/manifests/{d}")).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        status(Method::GET, "/v2/proj/del/manifests/list".into()).await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b25_helm_chart_push_by_digest_then_tag() {
    let app = app_with_project().await;
    let repo = "proj/charts/demo";
    let config = br#"{"name":"demo","version":"0.1.0","apiVersion":"v2"}"#;
    let chart = b"\x1f\x8bfake-chart-bytes";
    let dc = app.upload(repo, config).await;
    let dl = app.upload(repo, chart).await;
    let manifest = format!(
        "{{\"schemaVersion\":2,\"config\":{{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\",\"digest\":\"{dc}\",\"size\":{}}},\"layers\":[{{\"mediaType\":\"application/vnd.cncf.helm.chart.content.v1.tar+gzip\",\"digest\":\"{dl}\",\"size\":{}}}]}}",
        config.len(),
        chart.len()
    );
    let dm = digest(manifest.as_bytes());
    let res = app
        .admin(Method::HEAD, &format!("/v2/{repo}/manifests/{dm}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.put_manifest(repo, &dm, OCI_MANIFEST, manifest.clone().into_bytes())
            .await,
        dm
    );
    let res = app
        .admin(Method::GET, &format!("/v2/{repo}/manifests/{dm}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), manifest.as_bytes());
    app.put_manifest(repo, "0.1.0", OCI_MANIFEST, manifest.clone().into_bytes())
        .await;
    app.put_manifest(
        repo,
        "0.1.0_build.1",
        OCI_MANIFEST,
        manifest.clone().into_bytes(),
    )
    .await;
    let res = app
        .admin(Method::PUT, &format!("/v2/{repo}/manifests/0.1.0+build.1"))
        .header("Content-Type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = app
        .admin(Method::GET, &format!("/v2/{repo}/tags/list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["tags"], serde_json::json!(["0.1.0", "0.1.0_build.1"]));
    let res = app
        .admin(Method::GET, &format!("/v2/{repo}/blobs/{dc}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), config);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b27_manifest_limit_is_enforced_at_push() {
    let app = app_with_project().await;
    app.upload("proj/big", CFG).await;
    app.upload("proj/big", L1).await;
    let padded = |total: usize| {
        let base = m1();
        let prefix = &base[..base.len() - 1];
        let frame = ",\"annotations\":{\"org.example.pad\":\"\"}}";
        let pad = total - prefix.len() - frame.len();
        format!(
            "{prefix},\"annotations\":{{\"org.example.pad\":\"{}\"}}}}",
            "a".repeat(pad)
        )
    };
    let big = padded(4_100_000);
    assert_eq!(big.len(), 4_100_000);
    app.put_manifest("proj/big", "big", OCI_MANIFEST, big.clone().into_bytes())
        .await;
    let res = app
        .admin(Method::GET, "/v2/proj/big/manifests/big")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "content-length"), "4100000");
    assert_eq!(res.bytes().await.unwrap().len(), 4_100_000);
    let res = app
        .admin(Method::HEAD, "/v2/proj/big/manifests/big")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "content-length"), "4100000");

    // Over the configured limit: 413 and nothing stored.
    let app = TestApp::start_with(|c| c.registry.max_manifest_bytes = 4 * 1024 * 1024).await;
    app.create_project("proj", false).await;
    app.upload("proj/big", CFG).await;
    app.upload("proj/big", L1).await;
    let res = app
        .admin(Method::PUT, "/v2/proj/big/manifests/huge")
        .header("Content-Type", OCI_MANIFEST)
        .body(padded(4_500_000))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(res).await, "SIZE_INVALID");
    let res = app
        .admin(Method::GET, "/v2/proj/big/manifests/huge")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b28_repository_names() {
    let app = app_with_project().await;
    app.push_m1("proj/team/sub/deep/app", "v1").await;
    let body: Value = app
        .admin(Method::GET, "/v2/proj/team/sub/deep/app/tags/list")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        serde_json::json!({"name": "proj/team/sub/deep/app", "tags": ["v1"]})
    );

    app.push_m1("proj/manifests", "v1").await;
    app.push_m1("proj/blobs/uploads", "v1").await;
    let res = app
        .admin(Method::GET, "/v2/proj/manifests/manifests/v1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .admin(Method::GET, "/v2/proj/blobs/uploads/tags/list")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    for bad in ["proj/App", "proj/a___b", "proj/-a", "proj//a"] {
        let res = app
            .admin(Method::POST, &format!("/v2/{bad}/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(res).await, "NAME_INVALID", "{bad}");
    }
    for good in ["proj/a__b", "proj/a--b", "proj/a.b"] {
        let res = app
            .admin(Method::POST, &format!("/v2/{good}/blobs/uploads/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{good}");
    }
    let long = format!("proj/{}", "a".repeat(228));
    assert_eq!(long.len(), 233);
    app.push_m1(&long, "v1").await;
    let catalog: Value = app
        .admin(Method::GET, "/v2/_catalog")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        catalog["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == long.as_str())
    );
    let too_long = format!("proj/{}", "a".repeat(295));
    let res = app
        .admin(Method::POST, &format!("/v2/{too_long}/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "NAME_INVALID");

    let tag128 = "t".repeat(128);
    app.put_manifest(
        "proj/team/sub/deep/app",
        &tag128,
        OCI_MANIFEST,
        m1().into_bytes(),
    )
    .await;
    let res = app
        .admin(
            Method::PUT,
            &format!("/v2/proj/team/sub/deep/app/manifests/{}", "t".repeat(129)),
        )
        .header("Content-Type", OCI_MANIFEST)
        .body(m1())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_ranges_and_unknown_project() {
    let app = app_with_project().await;
    let d = app.upload("proj/rng", C2).await;
    let res = app
        .admin(Method::GET, &format!("/v2/proj/rng/blobs/{d}"))
        .header("Range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&res, "content-range"), "bytes 10-18/19");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"chunk-two");
    let res = app
        .admin(Method::GET, &format!("/v2/proj/rng/blobs/{d}"))
        .header("Range", "bytes=40-")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let res = app
        .admin(Method::POST, "/v2/nosuch/app/blobs/uploads/")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nosuch")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b04_every_location_is_present_and_host_independent() {
    let app = app_with_project().await;
    let locations = |res: &Response| {
        let loc = header(res, "location");
        assert!(
            loc.starts_with("/v2/proj/loc/"),
            "Location must be a path under the repository, never an internal host: {loc}"
        );
        loc
    };
    let res = app
        .admin(Method::POST, "/v2/proj/loc/blobs/uploads/")
        .header("Host", "internal-core:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let loc = locations(&res);
    assert!(loc.starts_with("/v2/proj/loc/blobs/uploads/"), "{loc}");

    let res = app
        .admin(Method::PATCH, &loc)
        .header("Content-Type", "application/octet-stream")
        .body(L1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let loc = locations(&res);

    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(L1))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        locations(&res),
        format!("/v2/proj/loc/blobs/{}", digest(L1))
    );

    app.upload("proj/loc", CFG).await;
    let res = app
        .admin(Method::PUT, "/v2/proj/loc/manifests/v1")
        .header("Content-Type", OCI_MANIFEST)
        .header("Host", "internal-core:8080")
        .body(m1())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let digest_m1 = digest(m1().as_bytes());
    assert_eq!(
        locations(&res),
        format!("/v2/proj/loc/manifests/{digest_m1}")
    );

    let res = app
        .admin(
            Method::POST,
            &format!(
                "/v2/proj/loc/blobs/uploads/?mount={}&from=proj/loc",
                digest(L1)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        locations(&res),
        format!("/v2/proj/loc/blobs/{}", digest(L1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_put_with_an_out_of_order_range_keeps_the_session() {
    let app = app_with_project().await;
    let res = app
        .admin(Method::POST, "/v2/proj/chunky/blobs/uploads/")
        .send()
        .await
        .unwrap();
    let loc = header(&res, "location");
    let res = app
        .admin(Method::PATCH, &loc)
        .header("Content-Range", "0-9")
        .body(&C2[..10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let loc = header(&res, "location");
    let put = |range: &'static str, body: &'static [u8]| {
        app.admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(C2))),
        )
        .header("Content-Range", range)
        .body(body)
        .send()
    };
    let res = put("0-8", &C2[10..]).await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&res, "range"), "0-9");
    assert_eq!(error_code(res).await, "BLOB_UPLOAD_INVALID");
    let res = app.admin(Method::GET, &loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "the session survives");
    assert_eq!(header(&res, "range"), "0-9");

    let res = put("10-18", &C2[10..]).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "docker-content-digest"), digest(C2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_manifests_only_when_configured() {
    let layers = format!(
        ",\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{}\",\"size\":7}}]",
        digest(b"missing")
    );
    let sparse = manifest_with(&layers, "application/vnd.oci.image.config.v1+json", "");
    let index = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_INDEX}\",\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{}\",\"size\":42}}]}}",
        digest(b"no such child")
    );

    let strict = app_with_project().await;
    strict.upload("proj/sparse", CFG).await;
    let res = strict
        .admin(Method::PUT, "/v2/proj/sparse/manifests/v1")
        .header("Content-Type", OCI_MANIFEST)
        .body(sparse.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "MANIFEST_BLOB_UNKNOWN");

    let mirror = TestApp::start_with(|c| c.registry.allow_sparse_manifests = true).await;
    mirror.create_project("proj", false).await;
    mirror.upload("proj/sparse", CFG).await;
    mirror
        .put_manifest(
            "proj/sparse",
            "v1",
            OCI_MANIFEST,
            sparse.clone().into_bytes(),
        )
        .await;
    mirror
        .put_manifest("proj/sparse", "list", OCI_INDEX, index.clone().into_bytes())
        .await;
    for (reference, body) in [("v1", sparse), ("list", index)] {
        let res = mirror
            .admin(
                Method::GET,
                &format!("/v2/proj/sparse/manifests/{reference}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_sessions_survive_a_restart_and_stale_ones_are_purged() {
    let app = app_with_project().await;
    let start = |app: &TestApp| {
        app.admin(Method::POST, "/v2/proj/resume/blobs/uploads/")
            .send()
    };
    let res = start(&app).await.unwrap();
    let loc = header(&res, "location");
    let res = app
        .admin(Method::PATCH, &loc)
        .header("Content-Range", "0-9")
        .body(&C2[..10])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let loc = header(&res, "location");
    let abandoned = header(&start(&app).await.unwrap(), "location");

    let app = TestApp::start_in(app.stop().await, |_| {}).await;
    let res = app.admin(Method::GET, &loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&res, "range"),
        "0-9",
        "the offset survived the restart"
    );
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(C2))),
        )
        .header("Content-Range", "10-18")
        .body(&C2[10..])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the digest state was rebuilt from the stored bytes"
    );
    let res = app
        .admin(
            Method::GET,
            &format!("/v2/proj/resume/blobs/{}", digest(C2)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), C2);

    let fresh = header(&start(&app).await.unwrap(), "location");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app
        .admin(Method::PATCH, &fresh)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "activity keeps a session young"
    );
    let removed = app.state.registry.purge_stale_uploads(1).await.unwrap();
    assert_eq!(removed.sessions, 1, "only the abandoned session is purged");
    let res = app.admin(Method::GET, &abandoned).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "BLOB_UPLOAD_UNKNOWN");
    let res = app.admin(Method::GET, &fresh).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

/// Bodies long enough to be hashed on a thread of their own (past 256 KiB), pushed whole and in
/// chunks whose starts and ends fall inside disk blocks, are stored byte for byte, and a wrong
/// digest is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_bodies_hash_and_store_every_byte() {
    let app = app_with_project().await;
    let blob: Vec<u8> = (0..11 * 1024 * 1024 + 4321)
        .map(|i| (i * 31 % 253) as u8)
        .collect();
    let blob_digest = digest(&blob);

    let start = |app: &TestApp| {
        app.admin(Method::POST, "/v2/proj/long/blobs/uploads/")
            .send()
    };
    let loc = header(&start(&app).await.unwrap(), "location");
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={}", digest(b"other"))),
        )
        .body(blob.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "DIGEST_INVALID");

    let loc = header(&start(&app).await.unwrap(), "location");
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={blob_digest}")),
        )
        .body(blob.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "monolithic push");

    // Other content, so the chunked push writes its own file.
    let blob: Vec<u8> = blob.iter().rev().copied().collect();
    let blob_digest = digest(&blob);
    let mut loc = header(&start(&app).await.unwrap(), "location");
    let cuts = [0, 4097, 6 * 1024 * 1024 + 1, blob.len() - 10];
    for pair in cuts.windows(2) {
        let res = app
            .admin(Method::PATCH, &loc)
            .header("Content-Range", format!("{}-{}", pair[0], pair[1] - 1))
            .body(blob[pair[0]..pair[1]].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        loc = header(&res, "location");
    }
    let res = app
        .admin(
            Method::PUT,
            &with_query(&loc, &format!("digest={blob_digest}")),
        )
        .body(blob[cuts[3]..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "chunked push");

    let res = app
        .admin(Method::GET, &format!("/v2/proj/long/blobs/{blob_digest}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.bytes().await.unwrap().as_ref() == blob.as_slice(),
        "the blob reads back whole"
    );
}
