//! `read`: one verified read of a card, with only the fields the client may have.
//!
//! Checked before any reader is touched: the parameters, the access data's form, the
//! fields against the client's policy, the client's wrong-key throttle. Then the reader
//! is claimed (named, or the first card; either way waiting up to `wait` seconds for a card), the
//! card's throttle is checked, and the read runs on its own thread; this task writes the
//! answer when it ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize as _;
use serde_json::{Map, Value, json};
use zeroize::Zeroize as _;

use super::{CmdError, Code, Fields, success_answer};
use crate::api::Shared;
use crate::api::context::{Context, ReadTask};
use crate::api::throttle::Subject;
use crate::failure::Failure;
use crate::fields::{Field, FieldSet};
use crate::lds::dg2::OutputFormat;
use crate::readers::{CancelToken, Claim, ClaimError, ReadFailure};
use crate::session::access_input::AccessInput;
use crate::session::{ReadPolicy, ReadRequest};

/// The longest `wait` a client may ask for a card.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// The names in a `fields` list.
const MAX_FIELDS: usize = 64;

/// The fields of a `read` request (other fields, `id` and `cmd` among them, are ignored).
#[derive(serde::Deserialize)]
struct Params {
    #[serde(default)]
    reader: Option<String>,
    #[serde(default)]
    face: Option<Face>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    raw: bool,
    #[serde(default)]
    wait: Option<f64>,
    #[serde(default)]
    require_chip_proof: Option<bool>,
    #[serde(default)]
    allow_bac_fallback: Option<bool>,
}

#[derive(serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Face {
    Jpeg,
    Png,
}

/// A `read` request, checked against the client's fields; nothing touched yet.
#[derive(Debug)]
pub struct ReadParams {
    /// What to read.
    pub request: ReadRequest,
    /// The fields the answer keeps.
    pub fields: FieldSet,
    /// The reader, or `None` for the first card.
    pub reader: Option<String>,
    /// How long to wait for a first card.
    pub wait: Duration,
}

impl ReadParams {
    /// Checks the parameters, the access data's form and the fields against `allowed`;
    /// the request may make `deployment`'s verification policy stricter, never looser.
    pub fn parse(
        mut request: Map<String, Value>,
        allowed: &FieldSet,
        deployment: ReadPolicy,
    ) -> Result<ReadParams, CmdError> {
        // The access data leaves the request first, goes into a zeroizing type, and its
        // JSON copy is wiped. A malformed access object fails as a whole ("did not match
        // any variant"), so the message never quotes access data.
        let mut access_json = request
            .remove("access")
            .ok_or_else(|| CmdError::new(Code::BadRequest, "read: missing field `access`"))?;
        let input = AccessInput::deserialize(&access_json);
        wipe(&mut access_json);
        let input =
            input.map_err(|e| CmdError::new(Code::BadRequest, format!("read: access: {e}")))?;
        let access = input
            .to_key()
            .map_err(|e| CmdError::new(Code::BadRequest, e.to_string()))?;
        drop(input);
        let params: Params = serde_json::from_value(Value::Object(request))
            .map_err(|e| CmdError::new(Code::BadRequest, format!("read: {e}")))?;
        let mut fields = match &params.fields {
            None => allowed.clone(),
            Some(names) if names.len() > MAX_FIELDS => {
                return Err(CmdError::new(Code::BadRequest, "too many fields"));
            }
            Some(names) => FieldSet::parse(names.iter().map(String::as_str))
                .map_err(|e| CmdError::new(Code::BadRequest, e))?
                .with_grants_of(allowed),
        };
        if params.face.is_some() {
            fields.insert(Field::Face);
        }
        if params.raw {
            fields.insert(Field::Raw);
        }
        let outside = fields.outside(allowed);
        if !outside.is_empty() {
            let names: Vec<&str> = outside.iter().map(|f| f.name()).collect();
            return Err(CmdError::new(
                Code::Forbidden,
                format!("this client may not have: {}", names.join(", ")),
            ));
        }
        let wait = match params.wait {
            None => Duration::ZERO,
            Some(s) if s.is_finite() && s >= 0.0 => {
                Duration::from_secs_f64(s.min(MAX_WAIT.as_secs_f64()))
            }
            Some(_) => {
                return Err(CmdError::new(
                    Code::BadRequest,
                    "wait must be a number of seconds",
                ));
            }
        };
        if params.allow_bac_fallback == Some(true) && !deployment.allow_bac_fallback {
            return Err(CmdError::new(
                Code::Forbidden,
                "the daemon's configuration does not allow a BAC fallback ([verification] allow_bac_fallback)",
            ));
        }
        if params.require_chip_proof == Some(false) && deployment.require_chip_proof {
            return Err(CmdError::new(
                Code::Forbidden,
                "the daemon's configuration requires a chip proof ([verification] require_chip_proof)",
            ));
        }
        let policy = ReadPolicy {
            allow_bac_fallback: params
                .allow_bac_fallback
                .unwrap_or(deployment.allow_bac_fallback),
            require_chip_proof: params
                .require_chip_proof
                .unwrap_or(deployment.require_chip_proof),
        };
        let face = params.face.map(|f| match f {
            Face::Jpeg => OutputFormat::Jpeg,
            Face::Png => OutputFormat::Png,
        });
        if face.is_none() {
            fields.remove(Field::Face);
        }
        if !params.raw {
            fields.remove(Field::Raw);
        }
        Ok(ReadParams {
            request: ReadRequest {
                access,
                face,
                raw: params.raw,
                skip: fields.data_groups_to_skip(),
                policy,
            },
            fields,
            reader: params.reader,
            wait,
        })
    }
}

/// What `start` settled before the read runs.
struct Plan {
    request: ReadRequest,
    fields: FieldSet,
    reader: Option<Claim>,
    wait: Duration,
    /// Whose wrong keys count: the local user, or the browser page's web rule.
    who: Subject,
}

fn plan(request: Map<String, Value>, context: &Context) -> Result<Plan, CmdError> {
    let allowed = context
        .client
        .as_ref()
        .map(|c| c.fields.clone())
        .unwrap_or_else(FieldSet::none);
    let params = ReadParams::parse(request, &allowed, context.shared.config().verification)?;
    // A connection without peer credentials is a browser's: its web rule is counted.
    let who = match (context.peer, &context.client) {
        (Some(p), _) => Subject::Client(p.uid),
        (None, Some(rule)) => Subject::Web(rule.name.clone()),
        (None, None) => Subject::Client(u32::MAX),
    };
    if let Some(wait) = throttle_wait(&context.shared, std::slice::from_ref(&who), Instant::now()) {
        return Err(throttled(wait));
    }
    let reader = match params.reader {
        Some(name) => Some(context.shared.readers.claim(&name).map_err(claim_error)?),
        None => None,
    };
    Ok(Plan {
        request: params.request,
        fields: params.fields,
        reader,
        wait: params.wait,
        who,
    })
}

/// Zeroes every string in `value` (access data must not linger in freed memory).
fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

fn throttle_wait(shared: &Shared, subjects: &[Subject], now: Instant) -> Option<Duration> {
    let throttle = shared.throttle.lock().unwrap_or_else(|p| p.into_inner());
    throttle.wait_any(subjects, now)
}

fn throttled(wait: Duration) -> CmdError {
    let mut e = CmdError::new(
        Code::Throttled,
        format!(
            "too many wrong access keys; try again in {} s",
            wait.as_secs_f64().ceil()
        ),
    );
    e.retry_after = Some(wait);
    e
}

fn claim_error(e: ClaimError) -> CmdError {
    let message = match e {
        ClaimError::NoReader => "no reader of that name",
        ClaimError::Busy => "a read is under way on that reader",
        ClaimError::NoCard => "no card on any free reader",
        ClaimError::Cancelled => "the read was cancelled",
    };
    CmdError::failed(e.failure(), message)
}

fn failure(e: ReadFailure) -> CmdError {
    CmdError::failed(e.failure(), e.to_string())
}

/// Starts `read`: checks what can be checked at once (answering with an error), then
/// runs the read as a task that writes its own answer.
pub fn start(
    id: Value,
    request: Map<String, Value>,
    context: &mut Context,
) -> Result<(), CmdError> {
    if context.reading() {
        return Err(CmdError::new(
            Code::Busy,
            "this connection has a read under way",
        ));
    }
    let plan = plan(request, context)?;
    let cancel = CancelToken::new();
    let shared = context.shared.clone();
    let out = context.out.clone();
    let client = context
        .client
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let task_id = id.clone();
    let task_cancel = cancel.clone();
    let fields = plan.fields.clone();
    let task = tokio::spawn(async move {
        let started = Instant::now();
        let progress_id = task_id.clone();
        let progress_out = out.clone();
        let outcome = run(shared, plan, task_cancel, move |reader, p| {
            // The connection that asked sees its read's progress, subscribed or not.
            // Best effort: a full queue drops it rather than stall the card.
            let Some(partial) = &p.partial else {
                let _ = progress_out.try_send(json!({
                    "event": "read-progress",
                    "id": progress_id,
                    "reader": reader,
                    "step": p.step.name(),
                    "bytes": p.bytes,
                    "percent": p.percent,
                }));
                return;
            };
            // The same field policy as the final answer; the verdict is absent while it
            // would be `genuine` before the chip proved itself.
            let Ok(mut event) = serde_json::to_value(fields.filter_partial(partial)) else {
                return;
            };
            if let Some(event) = event.as_object_mut() {
                event.insert("event".into(), json!("read-partial"));
                event.insert("id".into(), progress_id.clone());
                event.insert("reader".into(), json!(reader));
            }
            let _ = progress_out.try_send(event);
        })
        .await;
        let seconds = started.elapsed().as_secs_f64();
        let answer = match outcome {
            Ok(fields) => {
                tracing::info!(cmd = "read", client, seconds, "api: command done");
                success_answer(task_id, fields)
            }
            Err(e) => {
                tracing::info!(
                    cmd = "read",
                    client,
                    seconds,
                    code = e.code.as_str(),
                    "api: command failed"
                );
                e.answer(&task_id)
            }
        };
        let _ = out.send(answer).await;
    });
    context.read = Some(ReadTask { id, cancel, task });
    Ok(())
}

async fn run(
    shared: Arc<Shared>,
    plan: Plan,
    cancel: CancelToken,
    progress: impl Fn(&str, crate::session::Progress) + Send + 'static,
) -> Result<Fields, CmdError> {
    let claim = match plan.reader {
        // A named reader without a card is waited on as long as `wait` allows; with no
        // wait the read goes ahead and reports the missing card itself.
        Some(mut claim) if !plan.wait.is_zero() => {
            let waited = shared
                .readers
                .wait_for_card(&mut claim, plan.wait, &cancel)
                .await;
            match waited {
                Ok(()) => claim,
                Err(ClaimError::NoCard) => {
                    return Err(CmdError::new(
                        Code::CardRemoved,
                        "no card in the reader within the wait",
                    ));
                }
                Err(e) => return Err(claim_error(e)),
            }
        }
        Some(claim) => claim,
        None => shared
            .readers
            .claim_first_card(plan.wait, &cancel)
            .await
            .map_err(claim_error)?,
    };
    let reader = claim.reader.clone();
    let subjects = [
        plan.who.clone(),
        Subject::Card(reader.clone(), claim.insertion),
    ];
    if let Some(wait) = throttle_wait(&shared, &subjects, Instant::now()) {
        return Err(throttled(wait));
    }
    let progress_reader = reader.clone();
    let outcome = shared
        .readers
        .read(
            claim,
            plan.request,
            cancel,
            Box::new(move |p| progress(&progress_reader, p)),
        )
        .await;
    {
        let mut throttle = shared.throttle.lock().unwrap_or_else(|p| p.into_inner());
        match &outcome {
            Ok(_) => throttle.right_key(&subjects),
            Err(e) if e.failure() == Failure::WrongAccessKey => {
                throttle.wrong_key(&subjects, Instant::now())
            }
            Err(_) => {}
        }
    }
    let result = outcome.map_err(failure)?;
    let shown = serde_json::to_value(plan.fields.filter(&result))
        .map_err(|e| CmdError::new(Code::Internal, e.to_string()))?;
    let mut fields = Fields::new();
    fields.insert("reader".into(), json!(reader));
    fields.insert("result".into(), shown);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiped_access_json_holds_no_strings() {
        let mut v = json!({"can": "123456", "nested": [{"mrz": "P<UTO"}], "n": 1});
        wipe(&mut v);
        assert_eq!(v, json!({"can": "", "nested": [{"mrz": ""}], "n": 1}));
    }

    /// A `read` request with the CAN and `extra` parameters.
    fn request(extra: Value) -> Map<String, Value> {
        let mut r = json!({"cmd": "read", "access": {"can": "123456"}});
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r.as_object().unwrap().clone()
    }

    #[test]
    fn read_params_check_fields_before_anything() {
        let name_only = FieldSet::parse(["full_name"]).unwrap();
        let ok = ReadParams::parse(request(json!({})), &name_only, ReadPolicy::default()).unwrap();
        assert!(ok.request.skip.contains(&2) && ok.request.face.is_none());
        assert_eq!(ok.fields.names(), ["full_name"]);
        let e = ReadParams::parse(
            request(json!({"face": "png"})),
            &name_only,
            ReadPolicy::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::Forbidden);
        let e = ReadParams::parse(
            request(json!({"wait": -1})),
            &name_only,
            ReadPolicy::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, Code::BadRequest);
        let mut no_access = request(json!({}));
        no_access.remove("access");
        let e = ReadParams::parse(no_access, &name_only, ReadPolicy::default()).unwrap_err();
        assert_eq!(e.code, Code::BadRequest);
        let all = ReadParams::parse(
            request(json!({"face": "jpeg", "raw": true})),
            &FieldSet::all(),
            ReadPolicy::default(),
        )
        .unwrap();
        assert!(!all.request.skip.contains(&2) && all.request.raw);
    }

    #[test]
    fn a_request_may_tighten_the_verification_policy_never_loosen_it() {
        let all = FieldSet::all();
        let strict = ReadPolicy {
            allow_bac_fallback: false,
            require_chip_proof: true,
        };
        let loose = ReadPolicy {
            allow_bac_fallback: true,
            require_chip_proof: false,
        };
        let p = ReadParams::parse(request(json!({})), &all, strict).unwrap();
        assert_eq!(
            p.request.policy, strict,
            "the deployment's policy is the default"
        );
        let p = ReadParams::parse(
            request(json!({"require_chip_proof": true, "allow_bac_fallback": false})),
            &all,
            loose,
        )
        .unwrap();
        assert_eq!(p.request.policy, strict);
        for extra in [
            json!({"allow_bac_fallback": true}),
            json!({"require_chip_proof": false}),
        ] {
            let e = ReadParams::parse(request(extra.clone()), &all, strict).unwrap_err();
            assert_eq!(e.code, Code::Forbidden, "{extra}");
        }
        let e = ReadParams::parse(request(json!({"require_chip_proof": "yes"})), &all, loose)
            .unwrap_err();
        assert_eq!(e.code, Code::BadRequest);
    }
}
