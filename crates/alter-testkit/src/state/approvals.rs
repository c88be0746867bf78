//! Human-in-the-loop approvals of proxied calls (PROTOCOL.md §5.4–5.6, §7).
//!
//! ```text
//! pending --approve--> approved --execute--> executing --> executed | failed
//!    |--deny--> denied
//!    '--expire (or time)--> expired
//! ```

use alter_types::{ApprovalResult, ApprovalStatus, ApprovalStatusValue, PendingApproval};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{Store, after, now};

/// A provider call made through the proxy, as the caller described it.
#[derive(Clone, Debug)]
pub(crate) struct ProxyCall {
    pub(crate) grant_id: String,
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
    pub(crate) query_params: Vec<(String, Value)>,
    pub(crate) reason: Option<String>,
}

/// One approval.
#[derive(Clone, Debug)]
pub(crate) struct Approval {
    pub(crate) id: Uuid,
    pub(crate) call: ProxyCall,
    pub(crate) status: ApprovalStatusValue,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) decided_at: Option<DateTime<Utc>>,
    pub(crate) decision_reason: Option<String>,
    pub(crate) executed_at: Option<DateTime<Utc>>,
    pub(crate) result: Option<ApprovalResult>,
    /// Every status it went through, in order.
    pub(crate) history: Vec<ApprovalStatusValue>,
}

impl Approval {
    /// Moves to `status`, remembering the step.
    pub(crate) fn enter(&mut self, status: ApprovalStatusValue) {
        self.history.push(status.clone());
        self.status = status;
    }

    /// The `GET /sdk/approvals/{id}` view.
    pub(crate) fn view(&self) -> ApprovalStatus {
        ApprovalStatus {
            approval_id: self.id,
            status: self.status.clone(),
            expires_at: self.expires_at,
            decided_at: self.decided_at,
            decision_reason: self.decision_reason.clone(),
            executed_at: self.executed_at,
            has_result: self.result.is_some(),
        }
    }

    /// The 202 answer of the proxy call that created it.
    pub(crate) fn pending_answer(&self, base_url: &str) -> PendingApproval {
        let now = now();
        PendingApproval {
            approval_id: self.id,
            status: ApprovalStatusValue::Pending,
            expires_at: self.expires_at,
            expires_in: (self.expires_at - now).num_seconds().max(0),
            approval_url: format!("{base_url}/approvals/{}", self.id),
        }
    }
}

impl Store {
    /// Creates a pending approval for a proxied call.
    pub(crate) fn create_approval(&mut self, call: ProxyCall) -> Approval {
        let approval = Approval {
            id: self.rng.uuid(),
            call,
            status: ApprovalStatusValue::Pending,
            expires_at: after(now(), self.settings.approval_ttl),
            decided_at: None,
            decision_reason: None,
            executed_at: None,
            result: None,
            history: vec![ApprovalStatusValue::Pending],
        };
        self.approvals.push(approval.clone());
        approval
    }

    /// The approval with this id, pending ones past their deadline moved to `expired`.
    pub(crate) fn approval_mut(&mut self, id: &str) -> Option<&mut Approval> {
        let id = super::parse_uuid(id)?;
        let approval = self.approvals.iter_mut().find(|a| a.id == id)?;
        if approval.status == ApprovalStatusValue::Pending && approval.expires_at <= now() {
            approval.enter(ApprovalStatusValue::Expired);
        }
        Some(approval)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::state::{Settings, ids::Rng};

    fn call() -> ProxyCall {
        ProxyCall {
            grant_id: "g".into(),
            method: "GET".into(),
            url: "http://127.0.0.1/echo".into(),
            headers: Vec::new(),
            body: None,
            query_params: Vec::new(),
            reason: None,
        }
    }

    #[test]
    fn views_follow_the_state() {
        let mut store = Store::new(Settings::default(), Rng::seeded(5));
        let approval = store.create_approval(call());
        let pending = approval.pending_answer("http://127.0.0.1:1");
        assert!(pending.expires_in > 0 && pending.approval_url.ends_with(&approval.id.to_string()));

        let id = approval.id.to_string();
        let stored = store.approval_mut(&id).unwrap();
        stored.enter(ApprovalStatusValue::Approved);
        assert_eq!(stored.view().status, ApprovalStatusValue::Approved);
        assert!(!stored.view().has_result);
        assert_eq!(
            stored.history,
            [ApprovalStatusValue::Pending, ApprovalStatusValue::Approved]
        );
        assert!(store.approval_mut("not-a-uuid").is_none());
    }

    #[test]
    fn an_overdue_pending_approval_reads_as_expired() {
        let settings = Settings {
            approval_ttl: Duration::ZERO,
            ..Settings::default()
        };
        let mut store = Store::new(settings, Rng::seeded(5));
        let id = store.create_approval(call()).id.to_string();
        assert_eq!(
            store.approval_mut(&id).unwrap().status,
            ApprovalStatusValue::Expired
        );
    }
}
