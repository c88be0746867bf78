//! [`Provider`]: the OAuth and API-key providers the backend knows by name (PROTOCOL §11).

wire_enum! {
    /// A provider id as used in `provider_id` fields and in provider-mode requests.
    ///
    /// The 66 values of PROTOCOL §11 are variants; any other id (a provider added to the backend
    /// later, a custom managed secret) parses into [`Provider::Unknown`] and is forwarded
    /// unchanged. Variant names are the wire value in CamelCase, split on `-`
    /// (`cal-com` is [`Provider::CalCom`]).
    ///
    /// There is no AWS variant: AWS credentials are reached by grant id and signed with SigV4.
    ///
    /// ```
    /// use alter_types::Provider;
    ///
    /// assert_eq!("cal-com".parse::<Provider>(), Ok(Provider::CalCom));
    /// assert_eq!(Provider::Google.as_str(), "google");
    /// assert_eq!(Provider::from("acme-crm"), Provider::Unknown("acme-crm".into()));
    /// assert_eq!(Provider::ALL.len(), 66);
    /// ```
    pub enum Provider {
        AcuityScheduling => "acuity-scheduling",
        Adobe => "adobe",
        Aircall => "aircall",
        Airtable => "airtable",
        Apollo => "apollo",
        Asana => "asana",
        Atlassian => "atlassian",
        Attio => "attio",
        Autodesk => "autodesk",
        Basecamp => "basecamp",
        Bitbucket => "bitbucket",
        Bitly => "bitly",
        Box => "box",
        Brex => "brex",
        Calendly => "calendly",
        CalCom => "cal-com",
        Canva => "canva",
        Clickup => "clickup",
        Close => "close",
        ConstantContact => "constant-contact",
        Contentful => "contentful",
        Deel => "deel",
        Dialpad => "dialpad",
        Digitalocean => "digitalocean",
        Discord => "discord",
        Docusign => "docusign",
        Dropbox => "dropbox",
        Ebay => "ebay",
        Eventbrite => "eventbrite",
        Facebook => "facebook",
        Figma => "figma",
        Github => "github",
        Google => "google",
        Hubspot => "hubspot",
        Instagram => "instagram",
        Linear => "linear",
        Linkedin => "linkedin",
        Mailchimp => "mailchimp",
        Mercury => "mercury",
        Microsoft => "microsoft",
        Miro => "miro",
        Monday => "monday",
        Notion => "notion",
        Outreach => "outreach",
        Pagerduty => "pagerduty",
        Paypal => "paypal",
        Pinterest => "pinterest",
        Pipedrive => "pipedrive",
        Quickbooks => "quickbooks",
        Ramp => "ramp",
        Reddit => "reddit",
        Ringcentral => "ringcentral",
        Salesforce => "salesforce",
        Sentry => "sentry",
        Slack => "slack",
        Snapchat => "snapchat",
        Spotify => "spotify",
        Square => "square",
        Squarespace => "squarespace",
        Stripe => "stripe",
        Tiktok => "tiktok",
        Todoist => "todoist",
        Twitter => "twitter",
        Typeform => "typeform",
        Webex => "webex",
        Webflow => "webflow",
    }
    other:
        /// A provider id this crate does not list; kept verbatim.
        Unknown,
    normalize: crate::wire_enum::verbatim,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn all_sixty_six_providers_are_listed_once() {
        assert_eq!(Provider::ALL.len(), 66);

        let wires: HashSet<&str> = Provider::ALL.iter().map(Provider::as_str).collect();
        assert_eq!(wires.len(), 66);
        assert!(Provider::ALL.iter().all(|provider| !provider.is_unknown()));
    }

    #[test]
    fn every_known_value_round_trips_through_json() {
        for provider in Provider::ALL {
            let json = serde_json::to_string(provider).unwrap();
            assert_eq!(json, format!("\"{}\"", provider.as_str()));

            let back: Provider = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, provider);
            assert!(!back.is_unknown());
        }
    }

    #[test]
    fn hyphenated_names_map_to_camel_case() {
        assert_eq!(
            Provider::from("acuity-scheduling"),
            Provider::AcuityScheduling
        );
        assert_eq!(
            Provider::from("constant-contact"),
            Provider::ConstantContact
        );
        assert_eq!(Provider::CalCom.to_string(), "cal-com");
    }

    #[test]
    fn unknown_ids_survive_unchanged() {
        for raw in ["aws", "Google", "acme_crm", ""] {
            let provider: Provider = serde_json::from_value(serde_json::json!(raw)).unwrap();
            assert!(provider.is_unknown(), "{raw}");
            assert_eq!(
                serde_json::to_value(&provider).unwrap(),
                serde_json::json!(raw)
            );
        }
    }

    #[test]
    fn ids_are_case_sensitive() {
        assert_eq!(Provider::from("GitHub"), Provider::Unknown("GitHub".into()));
        assert_ne!(Provider::from("GitHub"), Provider::Github);
    }
}
