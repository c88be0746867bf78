//! The blocking twin of `alter-async`'s quickstart: the same story with `alter-blocking`.
//!
//! ```sh
//! cargo run -p alter-blocking --example quickstart_blocking
//! ```
//!
//! It runs on the embedded fake backend (`alter-testkit`), which also plays the human
//! approver through its Rust control API. For a real backend, use the async quickstart,
//! which reads `ALTER_BASE_URL` and `ALTER_API_KEY`.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use alter_blocking::types::Principal;
use alter_blocking::{
    Agent, App, AwaitOptions, CreateAgent, ListGrants, ProxyOutcome, ProxyRequest, RetrieveRequest,
};
use alter_testkit::FakeAlter;

fn main() -> ExitCode {
    let fake = FakeAlter::start();
    match story(&fake) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn story(fake: &FakeAlter) -> Result<(), Box<dyn Error>> {
    let url = format!("{}/echo/v1/forecast", fake.provider_base_url());
    println!("backend: embedded alter-testkit at {}", fake.base_url());

    // 1. The operator creates an agent and mints its key.
    let app = App::builder()
        .base_url(fake.base_url())
        .api_key(fake.app_key())
        .build()?;
    let created = app.create_agent(CreateAgent::new("quickstart-blocking"))?;
    let minted = app.mint_agent_key(&created.agent.id.to_string())?;
    let key = minted.api_key.ok_or("the backend returned no key")?;
    println!("1. agent {} has a new key", created.agent.name);

    // 2. The agent's key grants it the managed secret (an agent principal binds to the
    //    agent whose key signs the call).
    let as_agent = App::builder()
        .base_url(fake.base_url())
        .api_key(key.expose_secret())
        .build()?;
    let principal = Principal::agent(Some("quickstart".to_owned()))?;
    let grant = as_agent.create_managed_secret_grant(fake.managed_secret_id(), &principal, None)?;
    as_agent.close();
    println!("2. managed secret granted: {}", grant.grant_id);

    // 3. Retrieve mode: the credential is injected into the provider call.
    let agent = Agent::builder()
        .base_url(fake.base_url())
        .api_key(key.expose_secret())
        .caller("quickstart-agent")
        .build()?;
    let response = agent.request(RetrieveRequest::grant("GET", &url, &grant.grant_id))?;
    println!("3. provider answered {} in retrieve mode", response.status);

    // 4. Proxy mode: the backend makes the call.
    if let ProxyOutcome::Completed(result) =
        agent.proxy_request(ProxyRequest::new("POST", &url, &grant.grant_id))?
    {
        println!(
            "4. provider answered {} through the proxy",
            result.status_code
        );
    }

    // 5. An approval-gated call: a human approves while the app waits.
    let ProxyOutcome::Pending(pending) =
        app.proxy_request(ProxyRequest::new("DELETE", &url, &fake.grants().hitl))?
    else {
        return Err("the gated grant did not ask for approval".into());
    };
    let approval_id = pending.approval_id.to_string();
    println!("5. approval {approval_id} pending");
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            println!("   a human approves");
            fake.approve(&approval_id)
        });
        let options = AwaitOptions::default().poll_interval(Duration::from_millis(200));
        app.await_approval(&approval_id, options)
    })?;
    println!("   executed: provider answered {}", result.status_code);

    // 6. Grants are listed and one is revoked.
    let count = app
        .grants(ListGrants::default())
        .collect::<Result<Vec<_>, _>>()?
        .len();
    let revoked = app.revoke_grant(&grant.grant_id, Some("quickstart finished"))?;
    println!("6. {count} grants listed; {} revoked", revoked.grant_id);

    // 7. The audit trail.
    agent.close();
    app.close();
    for row in fake.audit_rows().iter().filter_map(|row| row.log.as_ref()) {
        println!(
            "7. audit: {} {} -> {}",
            row.method, row.url, row.response_status
        );
    }
    Ok(())
}
