//! SigV4 against the reference vectors and against the `aws-sigv4` crate as an independent
//! oracle. Where a reference vector and the oracle disagree, the oracle wins and the test
//! names the deviation (PROTOCOL §16).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use serde_json::{Value, json};

use super::*;
use crate::retrieve::query::append_query;

/// 2024-01-02T03:04:05Z, the time of the §6.5 vectors.
fn vector_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_164_645)
}

struct Case<'a> {
    method: &'a str,
    url: &'a str,
    headers: Vec<(String, String)>,
    body: &'a [u8],
    akid: &'a str,
    secret: &'a str,
    region: Option<&'a str>,
    service: Option<&'a str>,
    at: SystemTime,
}

impl<'a> Case<'a> {
    fn get(url: &'a str) -> Self {
        Self {
            method: "GET",
            url,
            headers: vec![],
            body: b"",
            akid: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: None,
            service: None,
            at: vector_time(),
        }
    }

    fn ours(&self) -> SigV4Headers {
        let request = SigV4Request {
            method: self.method,
            url: self.url,
            headers: &self.headers,
            body: self.body,
        };
        let creds = SigV4Credentials {
            access_key_id: self.akid,
            secret_access_key: self.secret,
            fallback_region: self.region,
            fallback_service: self.service,
        };
        sign_sigv4(&request, &creds, self.at).unwrap()
    }

    /// The oracle's three headers for this case sent to `url`, with the region and service
    /// our signature used.
    fn oracle(&self, url: &str, ours: &SigV4Headers) -> SigV4Headers {
        let scope = ours.authorization.split('/').collect::<Vec<_>>();
        let (region, service) = (scope[2], scope[3]);

        let identity = Credentials::new(self.akid, self.secret, None, None, "oracle").into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        if service == "s3" {
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(self.at)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let headers = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let request =
            SignableRequest::new(self.method, url, headers, SignableBody::Bytes(self.body))
                .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();

        let value = |name: &str| {
            instructions
                .headers()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_owned())
                .unwrap()
        };
        SigV4Headers {
            url: url.to_owned(),
            authorization: value("authorization"),
            amz_date: value("x-amz-date"),
            content_sha256: value("x-amz-content-sha256"),
        }
    }

    /// Asserts that the oracle, given the URL we send, signs exactly as we do.
    fn assert_matches_oracle(&self) -> SigV4Headers {
        let ours = self.ours();
        let oracle = self.oracle(&ours.url, &ours);
        assert_eq!(ours, oracle, "oracle disagrees for {}", self.url);
        ours
    }
}

fn signature(headers: &SigV4Headers) -> &str {
    headers.authorization.rsplit("Signature=").next().unwrap()
}

fn conformance_entry(id: &str) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/conformance/requests.json"
    ))
    .unwrap();
    let entries: Value = serde_json::from_str(&text).unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap()
        .clone()
}

fn token_credentials(entry: &Value) -> (String, String, String, String) {
    let token = &entry["response_fixtures"][0]["body_json"];
    let extra = &token["additional_credentials"];
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    (
        text(&token["access_token"]),
        text(&extra["secret_key"]),
        text(&extra["region"]),
        text(&extra["service"]),
    )
}

fn recorded_time(entry: &Value) -> SystemTime {
    let seconds: u64 = entry["clock"]["timestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[test]
fn first_reference_vector_differs_only_in_how_plus_is_read() {
    // §6.5 vector 1. The reference read the `+` in `prefix=x+y` as a literal plus and signed
    // `prefix=x%2By` (signature b9cf8ad7...). AWS, and the oracle, read a `+` in a query as
    // a space. Deviation D3: we follow the oracle, and send `x%20y` so that what is sent is
    // what was signed.
    let reference = "b9cf8ad79e267eb928cf7e517704af8fa87ebcbb60c9533ffb17731a395277bc";
    let case = Case::get("https://s3.us-east-1.amazonaws.com/my-bucket/a b.txt?prefix=x+y&a=1");
    let ours = case.assert_matches_oracle();
    assert_eq!(
        ours.url,
        "https://s3.us-east-1.amazonaws.com/my-bucket/a%20b.txt?prefix=x%20y&a=1"
    );
    assert_ne!(signature(&ours), reference);

    // With the plus spelled as the reference meant it, our canonical request is the
    // reference's, byte for byte: same signature.
    let literal_plus =
        Case::get("https://s3.us-east-1.amazonaws.com/my-bucket/a b.txt?prefix=x%2By&a=1");
    let ours = literal_plus.assert_matches_oracle();
    assert_eq!(signature(&ours), reference);
    assert_eq!(ours.amz_date, "20240102T030405Z");
}

#[test]
fn second_reference_vector_is_reproduced() {
    let case = Case {
        method: "POST",
        body: br#"{"a": 1}"#,
        akid: "AKID",
        secret: "SECRET",
        region: Some("eu-west-1"),
        service: Some("execute-api"),
        ..Case::get("https://example.internal:8443/api")
    };
    let ours = case.assert_matches_oracle();
    assert_eq!(
        ours.content_sha256,
        "f9d86028c6e0d64e225186f96acb69338b2c59764df79162107f5c4bb34d1310"
    );
    assert_eq!(
        signature(&ours),
        "bf897937722b18aa6be73026b0521be17d917aebdb0afe03ef0402dc5c58dd58"
    );
    assert_eq!(
        case.oracle(case.url, &ours),
        SigV4Headers {
            url: case.url.into(),
            ..ours
        }
    );
}

#[test]
fn conformance_sigv4_vector_without_query_is_reproduced_and_with_query_matches_the_oracle() {
    let entry = conformance_entry("app.request.sigv4");
    let (akid, secret, region, service) = token_credentials(&entry);
    let url = entry["call"]["args"][1].as_str().unwrap();
    let body = json_body_for_sigv4(&entry["call"]["kwargs"]["json"]);
    let recorded = &entry["provider_requests"][0]["request"];
    let case = Case {
        method: "POST",
        body: &body,
        akid: &akid,
        secret: &secret,
        region: Some(&region),
        service: Some(&service),
        at: recorded_time(&entry),
        ..Case::get(url)
    };
    assert_eq!(body, recorded["body_b64"].as_str().map(decode_b64).unwrap());

    // As the reference did it: query_params left out of the signed URL.
    let unmerged = case.assert_matches_oracle();
    assert_eq!(unmerged.authorization, recorded["headers"]["authorization"]);
    assert_eq!(unmerged.amz_date, recorded["headers"]["x-amz-date"]);
    assert_eq!(
        unmerged.content_sha256,
        recorded["headers"]["x-amz-content-sha256"]
    );

    // D3: query_params merged before signing. The signature changes, the sent query stays
    // byte-identical to the recorded one, and the oracle agrees.
    let query: Vec<(String, Value)> = entry["call"]["kwargs"]["query_params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let merged_url = append_query(url, &query);
    let merged = Case {
        url: &merged_url,
        ..case
    }
    .assert_matches_oracle();
    assert_eq!(
        merged.url,
        format!(
            "http://127.0.0.1:41709{}",
            recorded["path"].as_str().unwrap()
        )
    );
    assert_ne!(merged.authorization, unmerged.authorization);
}

#[test]
fn conformance_boto3_vector_is_reproduced() {
    let entry = conformance_entry("app.boto3_client.dynamodb");
    let (akid, secret, region, service) = token_credentials(&entry);
    let recorded = &entry["provider_requests"][0]["request"];
    let body = decode_b64(recorded["body_b64"].as_str().unwrap());
    let url = format!(
        "{}{}",
        entry["server_origin"].as_str().unwrap(),
        recorded["path"].as_str().unwrap()
    );
    let case = Case {
        method: "POST",
        body: &body,
        akid: &akid,
        secret: &secret,
        region: Some(&region),
        service: Some(&service),
        at: recorded_time(&entry),
        ..Case::get(&url)
    };
    let ours = case.assert_matches_oracle();
    assert_eq!(ours.authorization, recorded["headers"]["authorization"]);
    assert_eq!(ours.amz_date, recorded["headers"]["x-amz-date"]);
}

#[test]
fn non_s3_paths_are_normalised_and_double_encoded() {
    // D2: the reference encoded every path once; AWS (and the oracle) normalise non-S3
    // paths and encode the sent path again, so `%20` signs as `%2520`.
    let url = "https://abc.execute-api.us-east-1.amazonaws.com/prod/a b/%20x/ü/../c/./d//e%2Fz~";
    let ours = Case::get(url).assert_matches_oracle();
    assert_eq!(
        ours.url,
        "https://abc.execute-api.us-east-1.amazonaws.com/prod/a%20b/%20x/c/d/e%2Fz~"
    );

    let pre_encoded = "https://abc.execute-api.us-east-1.amazonaws.com/prod/a%20b/%2e%2E/c";
    let case = Case::get(pre_encoded);
    let ours = case.assert_matches_oracle();
    assert_eq!(
        ours.url,
        "https://abc.execute-api.us-east-1.amazonaws.com/prod/c"
    );
}

#[test]
fn s3_paths_are_signed_as_sent() {
    let url = "https://bucket.s3.eu-west-1.amazonaws.com/dir/a%20b/c d/%2f/x+y/./z";
    let case = Case::get(url);
    let ours = case.assert_matches_oracle();
    assert_eq!(
        ours.url,
        "https://bucket.s3.eu-west-1.amazonaws.com/dir/a%20b/c%20d/%2F/x%2By/./z"
    );
}

#[test]
fn ports_are_dropped_only_when_they_are_the_scheme_default() {
    // D1: the reference dropped 80 and 443 whatever the scheme.
    let cases = [
        (
            "https://dynamodb.us-east-1.amazonaws.com:443/",
            "https://dynamodb.us-east-1.amazonaws.com/",
        ),
        (
            "http://dynamodb.us-east-1.amazonaws.com:80/",
            "http://dynamodb.us-east-1.amazonaws.com/",
        ),
        (
            "https://dynamodb.us-east-1.amazonaws.com:8443/",
            "https://dynamodb.us-east-1.amazonaws.com:8443/",
        ),
        (
            "http://dynamodb.us-east-1.amazonaws.com:443/",
            "http://dynamodb.us-east-1.amazonaws.com:443/",
        ),
        (
            "https://dynamodb.us-east-1.amazonaws.com:80/",
            "https://dynamodb.us-east-1.amazonaws.com:80/",
        ),
    ];
    for (url, sent) in cases {
        let case = Case::get(url);
        let ours = case.assert_matches_oracle();
        assert_eq!(ours.url, sent);
        // The oracle also agrees when it reads the port from the URL as written.
        assert_eq!(
            case.oracle(url, &ours),
            SigV4Headers {
                url: url.into(),
                ..ours
            }
        );
    }
}

#[test]
fn queries_with_plus_spaces_repeats_and_empty_values_match_the_oracle() {
    let url =
        "https://sqs.us-east-1.amazonaws.com/q?b=2&a=x+y&a=&a=%20z&c&d=1%2B1&e=%E2%9C%93&f=a=b&&";
    let case = Case::get(url);
    let ours = case.assert_matches_oracle();
    assert_eq!(
        ours.url,
        "https://sqs.us-east-1.amazonaws.com/q?b=2&a=x%20y&a=&a=%20z&c=&d=1%2B1&e=%E2%9C%93&f=a%3Db"
    );
    assert_eq!(
        case.oracle(url, &ours),
        SigV4Headers {
            url: url.into(),
            ..ours
        }
    );

    // Query parameters appended by the query module survive the round trip.
    let params = vec![
        ("s".to_owned(), json!("a b+c")),
        ("l".to_owned(), json!([1, 2])),
        ("n".to_owned(), json!(null)),
    ];
    let merged = append_query("https://sqs.us-east-1.amazonaws.com/q?z=1", &params);
    let ours = Case::get(&merged).assert_matches_oracle();
    assert_eq!(
        ours.url,
        "https://sqs.us-east-1.amazonaws.com/q?z=1&s=a%20b%2Bc&l=1&l=2&n="
    );
}

#[test]
fn a_caller_host_header_is_what_gets_signed() {
    let case = Case {
        headers: vec![("HOST".to_owned(), "  Custom.Example   :9000 ".to_owned())],
        ..Case::get("https://s3.us-east-1.amazonaws.com/b/k")
    };
    let ours = case.assert_matches_oracle();
    let without = Case::get("https://s3.us-east-1.amazonaws.com/b/k").ours();
    assert_ne!(ours.authorization, without.authorization);
}

#[test]
fn host_names_beat_fallbacks() {
    let case = Case {
        region: Some("eu-central-1"),
        service: Some("execute-api"),
        ..Case::get("https://s3.us-west-2.amazonaws.com/b")
    };
    assert!(
        case.ours()
            .authorization
            .contains("/us-west-2/s3/aws4_request")
    );

    let half = Case {
        service: Some("sts"),
        ..Case::get("https://us-east-1.amazonaws.com/")
    };
    assert!(
        half.ours()
            .authorization
            .contains("/us-east-1/sts/aws4_request")
    );
}

#[test]
fn undeterminable_scope_is_a_backend_error() {
    for (region, service) in [
        (None, Some("s3")),
        (Some("us-east-1"), None),
        (Some(""), Some("")),
    ] {
        let request = SigV4Request {
            method: "GET",
            url: "https://example.com/",
            headers: &[],
            body: b"",
        };
        let creds = SigV4Credentials {
            access_key_id: "AKID",
            secret_access_key: "s",
            fallback_region: region,
            fallback_service: service,
        };
        let error = sign_sigv4(&request, &creds, vector_time()).unwrap_err();
        assert!(
            matches!(error, Error::MalformedResponse { status: 200, .. }),
            "{error:?}"
        );
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let request = |url| SigV4Request {
        method: "GET",
        url,
        headers: &[],
        body: b"",
    };
    let creds = |akid, secret| SigV4Credentials {
        access_key_id: akid,
        secret_access_key: secret,
        fallback_region: Some("us-east-1"),
        fallback_service: Some("s3"),
    };

    let error = sign_sigv4(&request("https://h/"), &creds("", "s"), vector_time()).unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }));
    let error = sign_sigv4(&request("https://h/"), &creds("A\nB", "s"), vector_time()).unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }));
    let error = sign_sigv4(&request("h/x"), &creds("A", "s"), vector_time()).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }));
    let before_1970 = UNIX_EPOCH - Duration::from_secs(1);
    let error = sign_sigv4(&request("https://h/"), &creds("A", "s"), before_1970).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }));
    let year_10000 = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
    let error = sign_sigv4(&request("https://h/"), &creds("A", "s"), year_10000).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }));

    let headers = vec![("Host".to_owned(), "h\r\nX: y".to_owned())];
    let with_host = SigV4Request {
        headers: &headers,
        ..request("https://h/")
    };
    let error = sign_sigv4(&with_host, &creds("A", "s"), vector_time()).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }));
}

#[test]
fn debug_output_hides_secret_and_signature() {
    let ours = Case::get("https://s3.us-east-1.amazonaws.com/b?token=t0p").ours();
    let creds = SigV4Credentials {
        access_key_id: "AKID",
        secret_access_key: "hunter2",
        fallback_region: None,
        fallback_service: None,
    };
    let shown = format!("{ours:?} {creds:?}");
    assert!(
        !shown.contains(signature(&ours)) && !shown.contains("hunter2") && !shown.contains("t0p")
    );
}

#[test]
fn json_body_uses_the_reference_default_layout() {
    assert_eq!(json_body_for_sigv4(&json!({"Limit": 5})), b"{\"Limit\": 5}");
    assert_eq!(json_body_for_sigv4(&json!([])), b"[]");
}

fn decode_b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_urls_never_panic(url in "\\PC*", host in "\\PC{0,20}") {
        let headers = [("host".to_owned(), host)];
        let creds = SigV4Credentials {
            access_key_id: "A",
            secret_access_key: "s",
            fallback_region: Some("us-east-1"),
            fallback_service: Some("execute-api"),
        };
        for headers in [&headers[..], &[]] {
            let request = SigV4Request { method: "GET", url: &url, headers, body: b"" };
            let _ = sign_sigv4(&request, &creds, vector_time());
        }
    }

    #[test]
    fn arbitrary_paths_and_queries_match_the_oracle(
        path in "(/[a-zA-Z0-9 %+=&~.!*'()é/-]{0,12}){0,4}",
        query in "[a-zA-Z0-9 %+=&~.!*'()é-]{0,24}",
        s3 in proptest::bool::ANY,
    ) {
        let host = if s3 { "b.s3.us-east-1.amazonaws.com" } else { "sns.us-east-1.amazonaws.com" };
        let url = format!("https://{host}{path}?{query}");
        let ours = Case::get(&url).assert_matches_oracle();
        let prefix = format!("https://{host}/");
        proptest::prop_assert!(ours.url.starts_with(&prefix), "{}", ours.url);
    }
}
