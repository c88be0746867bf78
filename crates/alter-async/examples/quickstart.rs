//! The alter-rs quickstart: one story through the whole SDK.
//!
//! An operator app creates an agent and mints its key, grants it a managed secret; the
//! agent calls a provider in retrieve mode (the credential is injected, never shown), then
//! through the proxy; an approval-gated call waits for a human; grants are listed and one
//! is revoked; the audit trail is shown.
//!
//! ```sh
//! cargo run -p alter-async --example quickstart
//! ```
//!
//! Without `ALTER_BASE_URL` and `ALTER_API_KEY` it starts `alter-testkit`, the embedded fake
//! backend, and plays the human approver itself. With both set it runs against that REAL
//! backend and changes it: it creates an agent, mints a key and revokes a grant there. The
//! steps that need data only a real account has (a managed secret, a provider URL, an
//! approval-gated grant) then read their ids from `ALTER_QUICKSTART_MANAGED_SECRET_ID`,
//! `ALTER_QUICKSTART_PROVIDER_URL` and `ALTER_QUICKSTART_HITL_GRANT_ID`, and are skipped
//! when those are not set.
//!
//! `ALTER_QUICKSTART_FAKE=1` forces the embedded fake even when both are set. The first
//! line printed says which backend the run uses.
//!
//! ```sh
//! ALTER_QUICKSTART_FAKE=1 cargo run -p alter-async --example quickstart
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use alter_async::types::{GrantItem, Principal};
use alter_async::{
    Agent, App, AwaitOptions, CreateAgent, ListGrants, ProxyOutcome, ProxyRequest, RetrieveRequest,
};
use alter_testkit::FakeAlter;

type Outcome<T = ()> = Result<T, Box<dyn Error>>;

/// Set to `1` to run on the embedded fake even when a real backend is configured.
const FORCE_FAKE: &str = "ALTER_QUICKSTART_FAKE";

/// Where the story runs.
struct Backend {
    base_url: String,
    api_key: String,
    fake: Option<FakeAlter>,
    managed_secret_id: Option<String>,
    provider_url: Option<String>,
    hitl_grant_id: Option<String>,
}

impl Backend {
    fn choose() -> Self {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let real = match env(FORCE_FAKE).as_deref() {
            Some("1") => None,
            _ => env("ALTER_BASE_URL").zip(env("ALTER_API_KEY")),
        };
        if let Some((base_url, api_key)) = real {
            return Self {
                base_url,
                api_key,
                fake: None,
                managed_secret_id: env("ALTER_QUICKSTART_MANAGED_SECRET_ID"),
                provider_url: env("ALTER_QUICKSTART_PROVIDER_URL"),
                hitl_grant_id: env("ALTER_QUICKSTART_HITL_GRANT_ID"),
            };
        }

        let fake = FakeAlter::start();
        Self {
            base_url: fake.base_url().to_owned(),
            api_key: fake.app_key().to_owned(),
            managed_secret_id: Some(fake.managed_secret_id().to_owned()),
            provider_url: Some(format!("{}/echo/v1/forecast", fake.provider_base_url())),
            hitl_grant_id: Some(fake.grants().hitl.clone()),
            fake: Some(fake),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match story().await {
        Ok(()) => {
            say("done", "the whole story ran");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn story() -> Outcome {
    let backend = Backend::choose();
    match &backend.fake {
        Some(_) => say(
            "backend",
            &format!("embedded alter-testkit at {}", backend.base_url),
        ),
        None => say(
            "backend",
            &format!(
                "REAL Alter backend at {} (this run creates an agent, mints a key and revokes \
                 a grant there; {FORCE_FAKE}=1 uses the embedded fake instead)",
                backend.base_url
            ),
        ),
    }

    let app = App::builder()
        .base_url(&backend.base_url)
        .api_key(&backend.api_key)
        .build()?;

    say("1 operator", "creating an agent and minting its key");
    let name = format!("quickstart-{}", std::process::id());
    let mut params = CreateAgent::new(&name);
    params.display_name = Some("Quickstart agent".to_owned());
    let created = app.create_agent(params).await?;
    let minted = app.mint_agent_key(&created.agent.id.to_string()).await?;
    let agent_key = minted.api_key.ok_or("the backend returned no key")?;
    say(
        "  agent",
        &format!(
            "{} ({}), key {}…",
            created.agent.name,
            created.agent.id,
            prefix(agent_key.expose_secret())
        ),
    );

    let agent = Agent::builder()
        .base_url(&backend.base_url)
        .api_key(agent_key.expose_secret())
        .caller("quickstart-agent")
        .build()?;

    let grant_id = grant_managed_secret(&backend, agent_key.expose_secret()).await?;
    if let (Some(grant_id), Some(url)) = (&grant_id, &backend.provider_url) {
        retrieve(&agent, grant_id, url).await?;
        proxy(&agent, grant_id, url).await?;
    } else {
        say(
            "3-4 skipped",
            "set ALTER_QUICKSTART_MANAGED_SECRET_ID and ALTER_QUICKSTART_PROVIDER_URL",
        );
    }

    match (&backend.hitl_grant_id, &backend.provider_url) {
        (Some(hitl), Some(url)) => approval(&app, &backend, hitl, url).await?,
        _ => say("5 skipped", "set ALTER_QUICKSTART_HITL_GRANT_ID"),
    }

    grants(&app, &agent, grant_id.as_deref()).await?;

    agent.close().await;
    app.close().await;
    audit_trail(&backend);
    Ok(())
}

/// Step 2: the operator grants the agent a managed secret. An agent principal binds to
/// the agent whose key signs the call, so the grant is made with the agent's fresh key.
async fn grant_managed_secret(backend: &Backend, agent_key: &str) -> Outcome<Option<String>> {
    let Some(secret_id) = &backend.managed_secret_id else {
        return Ok(None);
    };

    say(
        "2 operator",
        &format!("granting managed secret {secret_id} to the agent"),
    );
    let as_agent = App::builder()
        .base_url(&backend.base_url)
        .api_key(agent_key)
        .build()?;
    let principal = Principal::agent(Some("quickstart".to_owned()))?;
    let grant = as_agent
        .create_managed_secret_grant(secret_id, &principal, None)
        .await?;
    as_agent.close().await;
    say("  grant", &grant.grant_id);
    Ok(Some(grant.grant_id))
}

/// Step 3: retrieve mode. The SDK fetches the credential, injects it, calls the provider.
async fn retrieve(agent: &Agent, grant_id: &str, url: &str) -> Outcome {
    say("3 agent", &format!("GET {url} in retrieve mode"));
    let mut call = RetrieveRequest::grant("GET", url, grant_id);
    call.reason = Some("quickstart: read the forecast".to_owned());
    let response = agent.request(call).await?;

    let echo: serde_json::Value = response.json().unwrap_or_default();
    let received: Vec<&str> = echo["headers"]
        .as_object()
        .map(|headers| headers.keys().map(String::as_str).collect())
        .unwrap_or_default();
    say(
        "  provider",
        &format!(
            "answered {}; it received headers {received:?} (values not shown)",
            response.status
        ),
    );
    Ok(())
}

/// Step 4: proxy mode. The backend makes the call; the agent never sees the credential.
async fn proxy(agent: &Agent, grant_id: &str, url: &str) -> Outcome {
    say("4 agent", &format!("POST {url} through the proxy"));
    let mut call = ProxyRequest::new("POST", url, grant_id);
    call.json_body = Some(serde_json::json!({"city": "Lisbon"}));
    match agent.proxy_request(call).await? {
        ProxyOutcome::Completed(result) => {
            say(
                "  provider",
                &format!(
                    "answered {} ({} body bytes)",
                    result.status_code,
                    result.body_bytes().len()
                ),
            );
        }
        ProxyOutcome::Pending(pending) => {
            say(
                "  pending",
                &format!("approval {} needed", pending.approval_id),
            );
        }
        _ => say("  outcome", "not known to this version"),
    }
    Ok(())
}

/// Step 5: an approval-gated call. A human approves (here the testkit plays the human).
async fn approval(app: &App, backend: &Backend, grant_id: &str, url: &str) -> Outcome {
    say(
        "5 operator",
        &format!("DELETE {url} through an approval-gated grant"),
    );
    let mut call = ProxyRequest::new("DELETE", url, grant_id);
    call.reason = Some("quickstart: clean up".to_owned());
    let pending = match app.proxy_request(call).await? {
        ProxyOutcome::Pending(pending) => pending,
        ProxyOutcome::Completed(_) => return Err("the gated grant did not ask for approval".into()),
        _ => return Err("unknown proxy outcome".into()),
    };
    let approval_id = pending.approval_id.to_string();
    say(
        "  pending",
        &format!(
            "approval {approval_id}: a human must decide at {}",
            pending.approval_url
        ),
    );

    if backend.fake.is_some() {
        // The human: the testkit's control API, as a reviewer's click would.
        let approve = format!(
            "{}/_testkit/approvals/{approval_id}/approve",
            backend.base_url
        );
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            say("  human", "approves the call");
            if let Err(error) = reqwest::Client::new().post(&approve).send().await {
                eprintln!("could not approve: {error}");
            }
        });
    }

    let options = AwaitOptions::default().poll_interval(Duration::from_millis(200));
    let result = app.await_approval(&approval_id, options).await?;
    say(
        "  approved",
        &format!(
            "the backend executed the call: provider answered {}",
            result.status_code
        ),
    );
    Ok(())
}

/// Step 6: the grant list, and a revocation.
async fn grants(app: &App, agent: &Agent, grant_id: Option<&str>) -> Outcome {
    say(
        "6 operator",
        "listing the grants end users connected (OAuth)",
    );
    let mut pages = app.grants(ListGrants::default());
    let mut count = 0;
    while let Some(grant) = pages.next().await {
        let grant = grant?;
        count += 1;
        say("  grant", &describe(&grant));
    }
    say("  total", &count.to_string());

    let Some(grant_id) = grant_id else {
        return Ok(());
    };
    let page = agent.list_grants(ListGrants::default()).await?;
    say(
        "6 agent",
        &format!(
            "sees {} grant(s), its managed secret included",
            page.grants.len()
        ),
    );
    let revoked = app
        .revoke_grant(grant_id, Some("quickstart finished"))
        .await?;
    say(
        "  revoked",
        &format!("{}: {}", revoked.grant_id, revoked.message),
    );
    Ok(())
}

/// Step 7: the audit trail the backend kept.
fn audit_trail(backend: &Backend) {
    let Some(fake) = &backend.fake else {
        say("7 audit", "see the audit log in the Alter console");
        return;
    };
    say("7 audit", "rows the backend stored");
    for row in fake.audit_rows() {
        let line = match &row.log {
            Some(log) => format!(
                "{} {} -> {} ({} ms)",
                log.method, log.url, log.response_status, log.latency_ms
            ),
            None => row.raw.to_string(),
        };
        say("  row", &line);
    }
}

fn describe(grant: &GrantItem) -> String {
    match grant {
        GrantItem::OAuth(item) => format!(
            "oauth {} {} ({})",
            item.provider_id, item.grant_id, item.status
        ),
        GrantItem::ManagedSecret(item) => {
            format!(
                "managed secret {} {} ({})",
                item.managed_secret_slug, item.grant_id, item.status
            )
        }
        other => format!("{:?}", other.grant_id()),
    }
}

fn prefix(key: &str) -> &str {
    key.get(..9).unwrap_or(key)
}

fn say(step: &str, text: &str) {
    println!("{step:>12}  {text}");
}
