//! Who is calling, and for whom.
//!
//! A SpacetimeDB 1.3 module sees only `ctx.sender`; it cannot read the caller's JWT claims (`act`,
//! `tenant_id`, `scope`…). So there are two ways in, and every reducer takes the same first parameter,
//! `actor: Option<ActorClaim>`:
//!
//! - **`None`: the caller's own identity.** `ctx.sender` is resolved through `identity_link` to an app
//!   actor: a person (`user_123`) or an API key's robot (`robot:<keyId>`, its token minted by the app
//!   with `sub = robot:<keyId>`). A delegated token (`sub = user`, `act = robot`) gives the *user's*
//!   identity — the module cannot tell it from the user's own token, which is why delegated calls must
//!   come through a gateway (below), and why the gateway refuses delegated tokens on per-user calls.
//! - **`Some(claim)`: a trusted gateway names the actor** from a token *it* verified: `sub` and `act.sub`,
//!   exactly as in the token. Accepted only when `ctx.sender` is in `trusted_gateway`; from anyone else
//!   (a browser, a user's own connection) the call is refused — an actor id from a client is never
//!   trusted.

use spacetimedb::{Identity, ReducerContext, SpacetimeType};

use crate::tables::{actor_identity_map, identity_link, trusted_gateway, ActorKind, IdentityLink, Via};

/// The verified claims a trusted gateway passes: the token's `sub`, and `act.sub` when someone acts for
/// `sub` (an API key's robot: delegated access; an admin: impersonation).
#[derive(SpacetimeType, Clone, Debug, PartialEq, Eq)]
pub struct ActorClaim {
    pub sub: String,
    pub act: Option<String>,
}

/// The prefix of robot actor ids: `robot:<keyId>`.
pub const ROBOT_PREFIX: &str = "robot:";

/// SpacetimeDB's limit for `sub` (and so for actor ids).
const MAX_ACTOR_BYTES: usize = 128;

/// The kind of actor an id denotes: robots are `robot:<keyId>`, everything else is a person.
pub fn kind_of(actor: &str) -> ActorKind {
    if actor.starts_with(ROBOT_PREFIX) {
        ActorKind::Robot
    } else {
        ActorKind::Human
    }
}

/// The key id of a robot actor id.
pub fn key_of(robot: &str) -> Option<&str> {
    robot.strip_prefix(ROBOT_PREFIX).filter(|k| !k.is_empty())
}

/// Who acts and whose rights apply, resolved and checked for shape (not yet for permission).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Who acts: the person, the robot, or the impersonating admin.
    pub actor: String,
    /// Whose rights apply: the user acted for; otherwise `actor`.
    pub effective: String,
    pub via: Via,
    /// The trusted gateway that named the actor.
    pub gateway: Option<Identity>,
}

impl Caller {
    /// The API key behind a robot or delegated action.
    pub fn key_id(&self) -> Option<&str> {
        match self.via {
            Via::Robot | Via::Delegated => key_of(&self.actor),
            _ => None,
        }
    }

    /// Refuses anything but a person acting as themselves (key management, granting impersonation).
    pub fn require_human(&self, what: &str) -> Result<(), String> {
        match self.via {
            Via::Human => Ok(()),
            Via::Robot => Err(format!("{} is a robot: only a person acting as themselves may {what}", self.actor)),
            Via::Delegated => Err(format!(
                "{} acts for {} with a delegated key: only a person acting as themselves may {what}",
                self.actor, self.effective
            )),
            Via::Impersonation => Err(format!(
                "{} is impersonating {}: only a person acting as themselves may {what}",
                self.actor, self.effective
            )),
            Via::Service => Err(format!("{} is a service identity: only a person may {what}", self.actor)),
        }
    }
}

/// Classifies a claim named by a trusted gateway (pure: no tables).
pub fn classify(claim: &ActorClaim, gateway: Identity) -> Result<Caller, String> {
    check_actor_id(&claim.sub, "actor.sub")?;
    let caller = |actor: &str, via| Caller {
        actor: actor.to_string(),
        effective: claim.sub.clone(),
        via,
        gateway: Some(gateway),
    };
    match (kind_of(&claim.sub), claim.act.as_deref()) {
        (ActorKind::Robot, None) => {
            key_of(&claim.sub).ok_or_else(|| format!("actor.sub {} names no key (robot:<keyId>)", claim.sub))?;
            Ok(caller(&claim.sub, Via::Robot))
        }
        (ActorKind::Robot, Some(act)) => {
            Err(format!("actor.sub {} is a robot; a robot acts only for itself, not for {act}", claim.sub))
        }
        (ActorKind::Human, None) => Ok(caller(&claim.sub, Via::Human)),
        (ActorKind::Human, Some(act)) => {
            check_actor_id(act, "actor.act")?;
            if act == claim.sub {
                return Err(format!("actor.act equals actor.sub ({act}): nobody acts for themselves"));
            }
            match kind_of(act) {
                ActorKind::Robot => {
                    key_of(act).ok_or_else(|| format!("actor.act {act} names no key (robot:<keyId>)"))?;
                    Ok(caller(act, Via::Delegated))
                }
                ActorKind::Human => Ok(caller(act, Via::Impersonation)),
            }
        }
    }
}

fn check_actor_id(actor: &str, what: &str) -> Result<(), String> {
    if actor.trim().is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if actor.len() > MAX_ACTOR_BYTES {
        return Err(format!("{what} is {} bytes, the limit is {MAX_ACTOR_BYTES}", actor.len()));
    }
    Ok(())
}

pub fn is_trusted_gateway(ctx: &ReducerContext, who: Identity) -> bool {
    ctx.db.trusted_gateway().identity().find(who).is_some()
}

/// Resolves the caller of a reducer (see the module comment) and checks that every actor involved is
/// known and active.
pub fn resolve(ctx: &ReducerContext, actor: Option<ActorClaim>) -> Result<Caller, String> {
    let caller = match actor {
        Some(claim) => {
            if !is_trusted_gateway(ctx, ctx.sender) {
                return Err(format!(
                    "the caller {} is not a trusted gateway: an actor argument is accepted only from identities in \
                     trusted_gateway (call with actor = null to act as yourself)",
                    ctx.sender.to_hex()
                ));
            }
            classify(&claim, ctx.sender)?
        }
        None => {
            let link = touch_link(ctx)?;
            let via = match kind_of(&link.actor) {
                ActorKind::Human => Via::Human,
                ActorKind::Robot => Via::Robot,
            };
            Caller { actor: link.actor.clone(), effective: link.actor, via, gateway: None }
        }
    };
    require_active(ctx, &caller.actor)?;
    if caller.effective != caller.actor {
        require_active(ctx, &caller.effective)?;
    }
    Ok(caller)
}

/// A link's use is recorded at most once per this interval (60 s): a busy caller's reducer calls then
/// cost no extra row write, and `spacetime-gateway identity retire-check` widens its window by as much
/// (its USE_GRANULARITY_SECONDS must match).
pub const USE_GRANULARITY_MICROS: i64 = 60_000_000;

/// The link of `ctx.sender`, with its last use recorded (for retiring an old issuer).
fn touch_link(ctx: &ReducerContext) -> Result<IdentityLink, String> {
    let link = ctx.db.identity_link().identity().find(ctx.sender).ok_or_else(|| {
        format!(
            "the caller {} is not linked to an app actor (link_identity links an issuer and subject to one)",
            ctx.sender.to_hex()
        )
    })?;
    Ok(record_use(ctx, link))
}

/// Records that `link` is used now, unless a use less than `USE_GRANULARITY_MICROS` ago is recorded.
/// A refused call rolls back with its transaction, so only calls that committed (and connections) count.
pub fn record_use(ctx: &ReducerContext, link: IdentityLink) -> IdentityLink {
    let now = ctx.timestamp.to_micros_since_unix_epoch();
    let recent = link.last_seen_at.is_some_and(|t| now - t.to_micros_since_unix_epoch() < USE_GRANULARITY_MICROS);
    if recent {
        return link;
    }
    ctx.db.identity_link().identity().update(IdentityLink { last_seen_at: Some(ctx.timestamp), ..link })
}

/// Refuses actors the module does not know, or that were deactivated. Robots need no registry row:
/// their API key grant is checked on every action instead.
fn require_active(ctx: &ReducerContext, actor: &str) -> Result<(), String> {
    if kind_of(actor) == ActorKind::Robot {
        return Ok(());
    }
    match ctx.db.actor_identity_map().actor().find(actor.to_string()) {
        Some(entry) if entry.active => Ok(()),
        Some(_) => Err(format!("actor {actor} is deactivated")),
        None => Err(format!("actor {actor} is not known to the module (link_identity registers it)")),
    }
}
