//! The capability store: what the signed-in user may do, derived from the
//! auth state in one place.
//!
//! The permissions come from the source `/config.json` names: the ID
//! token's permissions claim, its roles claim through the operator's role
//! map, or the API (`GET {api_base}/me/capabilities`). Claims are read with
//! the shared parser of the `permissions` crate, the one the API uses. The
//! store is derived from the auth state, so a new token (sign-in, refresh,
//! another tab) updates every `<Can>` and guard without a reload.
//!
//! It also decides, for `<Can>` and the route guard alike, what a
//! requirement comes to ([`Decision`]), so the two cannot disagree: once
//! per distinct requirement for every element that asks it, and it updates
//! only the elements whose decision a change alters ([`Followers`]).

use std::future::Future;
use std::pin::Pin;

use contract::api as paths;
use leptos::prelude::*;
use oidc_login::json;
use permissions::{Capabilities, ClaimPath, ParsedCapabilities, Requirement, merge};
use serde_json::{Map, Value};

use crate::api::{ApiClient, use_api};
use crate::auth::{AuthState, use_auth};
use crate::chunk;
use crate::config::{AppConfig, CapabilitySource};
use crate::load::Loader;
use crate::split::ChunkError;

/// What the UI knows about the user's permissions.
#[derive(Debug, Clone, PartialEq)]
pub enum CapabilityState {
    /// Not known yet: show nothing that needs a permission.
    Pending,
    /// Nobody is signed in.
    Anonymous,
    /// The signed-in user's permissions.
    Ready(Capabilities),
}

impl CapabilityState {
    /// What `requirement` comes to in this state.
    pub fn decide(&self, requirement: &Requirement) -> Decision {
        match self {
            CapabilityState::Pending => Decision::Pending,
            CapabilityState::Anonymous => Decision::SignInFirst,
            CapabilityState::Ready(caps) if requirement.is_met_by(caps) => Decision::Allowed,
            CapabilityState::Ready(_) => Decision::Denied,
        }
    }
}

/// What a guarded element does about its requirement: one type for `<Can>`
/// and the route guard, which differ only in how they show a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The permissions are not known yet: render nothing authorized.
    Pending,
    /// Nobody is signed in.
    SignInFirst,
    /// The signed-in user meets the requirement.
    Allowed,
    /// The signed-in user does not meet the requirement.
    Denied,
}

impl Decision {
    /// Why the element is refused, in words (`None` unless refused).
    pub fn reason(self, requirement: &Requirement) -> Option<String> {
        match self {
            Decision::Pending | Decision::Allowed => None,
            Decision::SignInFirst => Some("sign in first".to_owned()),
            Decision::Denied => Some(requirement.to_string()),
        }
    }
}

/// Where the permissions came from and what was ignored, for the inspector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapabilityReport {
    /// The source, in words (`ID token claim "…"`).
    pub source: String,
    /// The raw value(s) read, as pretty JSON.
    pub raw: Option<String>,
    /// What the parser ignored or could not read.
    pub warnings: Vec<String>,
}

/// The store, provided as context.
#[derive(Clone, Copy)]
pub struct CapabilityStore {
    /// The current state.
    pub state: Memo<CapabilityState>,
    /// How the state was derived.
    pub report: Memo<CapabilityReport>,
    /// The elements following a decision, by requirement.
    followers: StoredValue<Followers>,
}

impl CapabilityStore {
    /// The decision on `requirement`, following the state while the calling
    /// component is mounted. It is right from the start (decided now), and
    /// after each change of state it is decided once for all the elements
    /// that follow the same requirement.
    pub fn decide(self, requirement: Requirement) -> Signal<Decision> {
        let decision = ArcRwSignal::new(self.state.with_untracked(|state| state.decide(&requirement)));
        let followed = decision.clone();
        if let Some(slot) = self.followers.try_update_value(|followers| followers.add(requirement, followed)) {
            let followers = self.followers;
            on_cleanup(move || followers.update_value(|followers| followers.remove(slot)));
        }
        decision.into()
    }

    /// How many distinct requirements are followed, and by how many elements
    /// in all (for tests, and to see that the elements share decisions).
    pub fn followed(self) -> (usize, usize) {
        self.followers.with_value(|followers| {
            let groups = followers.groups.iter().filter(|group| group.live > 0);
            groups.fold((0, 0), |(requirements, elements), group| (requirements + 1, elements + group.live))
        })
    }
}

/// Every element that follows a decision ([`CapabilityStore::decide`]),
/// grouped by requirement. Each element has a signal of its own, set from
/// here, rather than a memo of the state: a state followed by N memos
/// would have every one of them unsubscribe from, and subscribe again to, a
/// list of N subscribers each time it re-ran (O(N) each, O(N²) per change;
/// the reactive graph keeps subscribers in order). This way the state has
/// one follower, each requirement is decided once per change, and only the
/// elements whose decision changes are touched.
#[derive(Default)]
struct Followers {
    /// Few: one per distinct requirement in the code, so found by scanning.
    groups: Vec<Group>,
}

/// The elements following one requirement.
struct Group {
    requirement: Requirement,
    /// Each element's decision; `None` where one was unmounted (reused).
    members: Vec<Option<ArcRwSignal<Decision>>>,
    /// The indices in `members` that are `None`.
    free: Vec<usize>,
    /// How many of `members` are `Some`.
    live: usize,
}

/// Where one element is in [`Followers`].
#[derive(Clone, Copy)]
struct Slot {
    group: usize,
    member: usize,
}

impl Followers {
    /// Adds an element following `requirement` with its `decision`.
    fn add(&mut self, requirement: Requirement, decision: ArcRwSignal<Decision>) -> Slot {
        let group = match self.groups.iter().position(|group| group.requirement == requirement) {
            Some(group) => group,
            None => {
                self.groups.push(Group { requirement, members: Vec::new(), free: Vec::new(), live: 0 });
                self.groups.len() - 1
            }
        };
        let entry = &mut self.groups[group];
        entry.live += 1;
        let member = match entry.free.pop() {
            Some(member) => {
                entry.members[member] = Some(decision);
                member
            }
            None => {
                entry.members.push(Some(decision));
                entry.members.len() - 1
            }
        };
        Slot { group, member }
    }

    /// Removes the element at `slot` (it was unmounted).
    fn remove(&mut self, slot: Slot) {
        let Some(group) = self.groups.get_mut(slot.group) else { return };
        if group.members.get_mut(slot.member).and_then(Option::take).is_some() {
            group.free.push(slot.member);
            group.live -= 1;
        }
    }

    /// The elements whose decision differs from what `state` decides, with
    /// the new decision: each requirement decided once.
    fn changes(&self, state: &CapabilityState) -> Vec<(ArcRwSignal<Decision>, Decision)> {
        let mut changes = Vec::new();
        for group in self.groups.iter().filter(|group| group.live > 0) {
            let decision = state.decide(&group.requirement);
            let stale = group.members.iter().flatten().filter(|member| member.get_untracked() != decision);
            changes.extend(stale.map(|member| (member.clone(), decision)));
        }
        changes
    }
}

/// How the API source reads: the permissions, and the report.
type ReadFromApi = fn(ApiClient) -> Pin<Box<dyn Future<Output = (ParsedCapabilities, CapabilityReport)>>>;

chunk! {
    /// The API source's request and reading, in a chunk: with the ID-token
    /// sources (the usual configuration) no load runs it, nor the API
    /// client's requests, which the list screens' chunks share.
    fn api_reading() -> ReadFromApi {
        Ok(|api| Box::pin(read_from_api(api)))
    }
}

/// What the report names as the API source.
fn api_source(api: ApiClient) -> String {
    format!("the API ({})", api.url(paths::CAPABILITIES))
}

/// `GET {api_base}/me/capabilities`, read again with the shared parser.
async fn read_from_api(api: ApiClient) -> (ParsedCapabilities, CapabilityReport) {
    let source = api_source(api);
    match api.capabilities().await {
        Ok(me) => {
            // The API's list, read again with the shared parser:
            // bounded, de-duplicated, unknown names kept as such.
            let strings = |list: &[String]| Value::Array(list.iter().cloned().map(Value::String).collect());
            let listed = json::object([("permissions", strings(&me.permissions))]);
            let parsed = Capabilities::from_claims(&listed, &ClaimPath::Claim("permissions".into()));
            let warnings = me.warnings.iter().cloned().chain(parsed.warnings.iter().map(ToString::to_string));
            let report = CapabilityReport {
                source: format!("{source}, access-token claim \"{}\"", me.source),
                raw: Some(json::to_string_pretty(&json::object([
                    ("subject", me.subject.clone().map_or(Value::Null, Value::String)),
                    ("permissions", strings(&me.permissions)),
                    ("source", Value::String(me.source.clone())),
                    ("warnings", strings(&me.warnings)),
                ]))),
                warnings: warnings.collect(),
            };
            (parsed, report)
        }
        // Deny by default: signed in, but nothing granted.
        Err(err) => (
            ParsedCapabilities::default(),
            CapabilityReport { source, raw: None, warnings: vec![format!("could not load permissions: {err}")] },
        ),
    }
}

/// What one reading produced: the permissions, and the report.
type Reading = Option<(ParsedCapabilities, CapabilityReport)>;

/// Derives the store from the auth context and the configured source, and
/// provides it. With `capabilities_source: "api"` it asks the API client,
/// which must be provided first ([`crate::api::provide_api`]).
pub fn provide_capabilities(config: AppConfig) -> CapabilityStore {
    let auth = use_auth();
    let reading: Signal<Reading> = match config.capabilities.clone() {
        CapabilitySource::IdToken { permissions_claim, roles } => {
            let memo = Memo::new(move |_| {
                auth.state.with(|state| {
                    let claims = state.claims()?;
                    let mut parsed = ParsedCapabilities::default();
                    let mut raw = Map::new();
                    let mut sources = Vec::new();
                    if let Some(path) = &permissions_claim {
                        parsed = merge(parsed, Capabilities::from_claims(claims, path));
                        raw.insert(path.to_string(), path.lookup(claims).cloned().unwrap_or(Value::Null));
                        sources.push(format!("ID-token claim \"{path}\""));
                    }
                    if let Some((path, map)) = &roles {
                        parsed = merge(parsed, map.capabilities(claims, path));
                        raw.insert(path.to_string(), path.lookup(claims).cloned().unwrap_or(Value::Null));
                        sources.push(format!("roles in ID-token claim \"{path}\" through role_permissions"));
                    }
                    let report = CapabilityReport {
                        source: sources.join(" + "),
                        raw: Some(json::to_string_pretty(&Value::Object(raw))),
                        warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
                    };
                    Some((parsed, report))
                })
            });
            memo.into()
        }
        CapabilitySource::Api => {
            let api = use_api();
            let token = Memo::new(move |_| auth.state.with(|s| s.session().map(|s| s.access_token.clone())));
            let fetched = Loader::new(move || {
                let signed_in = token.get().is_some();
                async move {
                    if !signed_in {
                        return None;
                    }
                    Some(match api_reading().await {
                        Ok(read) => read(api).await,
                        // Deny by default: signed in, but nothing granted.
                        Err(ChunkError) => (
                            ParsedCapabilities::default(),
                            CapabilityReport {
                                source: api_source(api),
                                raw: None,
                                warnings: vec![
                                    "could not load permissions: the code that asks the API could not \
                                                be downloaded"
                                        .into(),
                                ],
                            },
                        ),
                    })
                }
            });
            Signal::derive(move || fetched.get().flatten())
        }
    };
    let state = Memo::new(move |_| {
        auth.state.with(|auth_state| match auth_state {
            AuthState::Pending => CapabilityState::Pending,
            AuthState::SignedIn(_) | AuthState::Resuming(_) => match reading.get() {
                Some((parsed, _)) => CapabilityState::Ready(parsed.capabilities),
                None => CapabilityState::Pending,
            },
            AuthState::SignedOut | AuthState::Failed(_) => CapabilityState::Anonymous,
        })
    });
    let report = Memo::new(move |_| reading.get().map(|(_, report)| report).unwrap_or_default());
    Effect::new(move |_| {
        for warning in report.get().warnings {
            leptos::logging::warn!("permissions: {warning}");
        }
    });
    let followers = StoredValue::new(Followers::default());
    // The one follower of the state on behalf of every guarded element. The
    // new decisions are collected first and set after, so that nothing a
    // signal's subscribers do can reach the followers while they are read.
    Effect::new(move |_| {
        let changes = state.with(|state| followers.with_value(|followers| followers.changes(state)));
        for (decision, new) in changes {
            decision.set(new);
        }
    });
    let store = CapabilityStore { state, report, followers };
    provide_context(store);
    store
}

/// The capability store of the current app.
pub fn use_capabilities() -> CapabilityStore {
    expect_context::<CapabilityStore>()
}
