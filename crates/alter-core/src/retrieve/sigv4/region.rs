//! Region and service names read from an AWS host name (PROTOCOL §6.5).

/// Region and service named by `host` (lower-case, without port), each when it can be read.
///
/// Recognised forms, under `amazonaws.com` or `amazonaws.com.cn`:
/// `<service>.<region>`, `<bucket>.s3.<region>` (any prefix before `<service>`) and
/// `vpce-<id>.<service>.<region>.vpce`. A `dualstack` label before the region is skipped and
/// a `-fips` suffix is dropped from the service. The region must look like one: two letters,
/// one or more `-<letters or digits>` groups, and a final `-<digits>`.
pub(super) fn detect(host: &str) -> (Option<String>, Option<String>) {
    let Some(name) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return (None, None);
    };

    let mut labels: Vec<&str> = name.split('.').collect();
    if labels.last() == Some(&"vpce") {
        labels.pop();
    }
    let Some(region) = labels.pop().filter(|label| is_region(label)) else {
        return (None, None);
    };
    if labels.last() == Some(&"dualstack") {
        labels.pop();
    }
    let service = labels
        .pop()
        .map(|label| label.strip_suffix("-fips").unwrap_or(label))
        .filter(|label| !label.is_empty());

    (Some(region.to_owned()), service.map(str::to_owned))
}

fn is_region(label: &str) -> bool {
    let groups: Vec<&str> = label.split('-').collect();
    let [first, middle @ .., last] = groups.as_slice() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !middle.is_empty()
        && middle.iter().all(|g| {
            !g.is_empty()
                && g.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(region: &str, service: &str) -> (Option<String>, Option<String>) {
        (Some(region.to_owned()), Some(service.to_owned()))
    }

    #[test]
    fn reads_the_documented_host_forms() {
        let cases = [
            ("s3.us-east-1.amazonaws.com", found("us-east-1", "s3")),
            (
                "my-bucket.s3.eu-west-2.amazonaws.com",
                found("eu-west-2", "s3"),
            ),
            (
                "dynamodb.ap-southeast-1.amazonaws.com",
                found("ap-southeast-1", "dynamodb"),
            ),
            (
                "abc123.execute-api.us-gov-west-1.amazonaws.com",
                found("us-gov-west-1", "execute-api"),
            ),
            (
                "vpce-0a1b.execute-api.us-east-1.vpce.amazonaws.com",
                found("us-east-1", "execute-api"),
            ),
            ("s3.cn-north-1.amazonaws.com.cn", found("cn-north-1", "s3")),
            (
                "b.s3.dualstack.us-west-2.amazonaws.com",
                found("us-west-2", "s3"),
            ),
            (
                "dynamodb-fips.us-east-1.amazonaws.com",
                found("us-east-1", "dynamodb"),
            ),
        ];
        for (host, expected) in cases {
            assert_eq!(detect(host), expected, "{host}");
        }
    }

    #[test]
    fn a_region_without_a_service_is_half_found() {
        assert_eq!(
            detect("us-east-1.amazonaws.com"),
            (Some("us-east-1".into()), None)
        );
    }

    #[test]
    fn other_hosts_name_nothing() {
        for host in [
            "127.0.0.1",
            "example.com",
            "s3.amazonaws.com",
            "amazonaws.com",
            "s3.us-east.amazonaws.com",
            "s3.useast-1.amazonaws.com",
            "s3.u-east-1.amazonaws.com",
            "s3.us--1.amazonaws.com",
            "s3.us-east-1.amazonaws.com.evil.example",
        ] {
            assert_eq!(detect(host), (None, None), "{host}");
        }
    }
}
