//! `NativeRelay`: the binding of `relay::Relay` (wrapped by `lib/stream.js`). Options cross as JSON text
//! (parsed and validated by `relay::options`); output crosses as one `Buffer` per take.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use super::to_napi_error;
use crate::gateway::{Gateway, RelayHandle};
use crate::relay::options::{parse_narrowing, parse_selector, parse_stream_options, parse_view_options};
use crate::relay::read::view_json;
use crate::relay::{Relay, Wake};

/// The JS pump: called (with no argument) when output is ready. Weak: it does not keep Node alive by
/// itself; `keepAlive(true)` makes it strong while streams are open.
type WakeFn = ThreadsafeFunction<(), (), (), Status, false, true>;

/// The waker the relay calls from the session task; shared with `NativeRelay` for ref/unref.
struct JsWaker(Arc<Mutex<Option<WakeFn>>>);

impl Wake for JsWaker {
    fn wake(&self) {
        if let Some(wake) = self.0.lock().unwrap().as_ref() {
            // NonBlocking: the session task must never wait for the JS thread.
            wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Starts the relay of a gateway, its waker not installed yet (`setWaker`).
pub(crate) fn start(gateway: &Gateway) -> Result<NativeRelay> {
    let wake = Arc::new(Mutex::new(None));
    let handle = gateway.start_relay(Arc::new(JsWaker(wake.clone()))).map_err(to_napi_error)?;
    Ok(NativeRelay { handle, wake })
}

/// Counters of a relay: streams, snapshots in progress and waiting, rows frames encoded and shared.
#[napi(object)]
pub struct NativeRelayStats {
    pub streams: u32,
    pub snapshots_in_progress: u32,
    pub snapshots_waiting: u32,
    pub snapshot_frames_encoded: f64,
    pub snapshot_bytes_encoded: f64,
    pub snapshot_frames_shared: f64,
    pub snapshot_bytes_shared: f64,
}

/// The SSE relay of one gateway. Use `gateway.stream()` from the package instead.
#[napi]
pub struct NativeRelay {
    handle: RelayHandle,
    wake: Arc<Mutex<Option<WakeFn>>>,
}

impl NativeRelay {
    fn relay(&self) -> &Relay {
        self.handle.relay()
    }
}

#[napi]
impl NativeRelay {
    /// Installs the function called when output is ready (it should call `take()`).
    #[napi(ts_args_type = "wake: () => void")]
    pub fn set_waker(&self, wake: WakeFn) {
        *self.wake.lock().unwrap() = Some(wake);
    }

    /// Whether the waker keeps Node alive (while streams are open, like an open socket).
    #[napi]
    #[allow(deprecated)] // ref/unref of a threadsafe function: the napi-rs 3 API for it
    pub fn keep_alive(&self, env: Env, on: bool) -> Result<()> {
        if let Some(wake) = self.wake.lock().unwrap().as_mut() {
            if on {
                wake.refer(&env)?;
            } else {
                wake.unref(&env)?;
            }
        }
        Ok(())
    }

    /// This relay's epoch (the first part of every event id).
    #[napi(getter)]
    pub fn epoch(&self) -> String {
        self.relay().epoch().as_str().to_string()
    }

    /// How many streams are open.
    #[napi(getter)]
    pub fn stream_count(&self) -> u32 {
        self.relay().stream_count() as u32
    }

    /// Opens a stream (paused until `resume`); `optionsJson` is the JSON of `gateway.stream()`'s options.
    #[napi]
    pub fn open(&self, options_json: String) -> Result<u32> {
        let request = parse_stream_options(&options_json, self.relay().defaults()).map_err(to_napi_error)?;
        let selection = request.selection().map_err(to_napi_error)?;
        self.relay().open(&selection, request.settings.clone(), request.last_event_id.as_deref()).map_err(to_napi_error)
    }

    /// The rows `optionsJson` (`gateway.snapshot()`'s options) selects and the id its stream resumes
    /// after, as JSON `{"rows":{table:[…]},"lastEventId":"…"}`.
    #[napi]
    pub fn snapshot(&self, options_json: String) -> Result<String> {
        let options = parse_view_options(&options_json).map_err(to_napi_error)?;
        let selection = options.selection().map_err(to_napi_error)?;
        let principal = options.principal().map_err(to_napi_error)?;
        self.handle
            .logged(|relay| relay.read(&selection, &principal).map(|view| view_json(&view)))
            .map_err(to_napi_error)
    }

    /// Counters of streams and snapshot work.
    #[napi]
    pub fn stats(&self) -> NativeRelayStats {
        let s = self.relay().stats();
        NativeRelayStats {
            streams: s.streams as u32,
            snapshots_in_progress: s.snapshots_in_progress as u32,
            snapshots_waiting: s.snapshots_waiting as u32,
            snapshot_frames_encoded: s.snapshot_frames_encoded as f64,
            snapshot_bytes_encoded: s.snapshot_bytes_encoded as f64,
            snapshot_frames_shared: s.snapshot_frames_shared as f64,
            snapshot_bytes_shared: s.snapshot_bytes_shared as f64,
        }
    }

    /// Takes the output of every ready stream as one Buffer, laid out as `relay::take` defines (header,
    /// the streams' bytes, an index of `(streamId, byteLength, flags)`; `lib/take-layout.js` holds its
    /// constants).
    ///
    /// The Buffer is a copy in V8's heap (the only copy: the streams wrote into the relay's buffer in
    /// place): an external Buffer would not count towards V8's memory, so takes would pile up between
    /// collections (measured: over 1 GB at 150k events/s).
    ///
    /// `pauses` and `resumes` are the stream ids whose consumers paused or resumed since the last take, in
    /// that order (a resume after a pause of the same stream wins).
    #[napi]
    pub fn take<'env>(&self, env: &'env Env, pauses: Uint32Array, resumes: Uint32Array) -> Result<BufferSlice<'env>> {
        BufferSlice::copy_from(env, self.handle.logged(|relay| relay.take_with(&pauses, &resumes)).0)
    }

    /// The consumer of stream `id` cannot take more now.
    #[napi]
    pub fn pause(&self, id: u32) {
        self.relay().pause(id);
    }

    /// The consumer of stream `id` can take more.
    #[napi]
    pub fn resume(&self, id: u32) {
        self.relay().resume(id);
    }

    /// Forgets stream `id` (its client went away).
    #[napi]
    pub fn close_stream(&self, id: u32) -> bool {
        self.relay().close_stream(id)
    }

    /// Ends the streams matching `selectorJson` with a `revoked` frame; returns how many.
    #[napi]
    pub fn revoke(&self, selector_json: String, reason: String) -> Result<u32> {
        let selector = parse_selector(&selector_json).map_err(to_napi_error)?;
        self.relay().revoke(&selector, &reason).map(|n| n as u32).map_err(to_napi_error)
    }

    /// Narrows the streams matching `selectorJson` to `narrowingJson` (`{ tables?, where? }`); returns how
    /// many.
    #[napi]
    pub fn narrow(&self, selector_json: String, narrowing_json: String) -> Result<u32> {
        let selector = parse_selector(&selector_json).map_err(to_napi_error)?;
        let narrowing = parse_narrowing(&narrowing_json).map_err(to_napi_error)?;
        self.relay()
            .narrow(&selector, narrowing.tables.as_deref(), narrowing.where_())
            .map(|n| n as u32)
            .map_err(to_napi_error)
    }

    /// Ends every stream (the next `take()` reports them ended) and stops the relay: no more events, no
    /// heartbeats. With `reason`, each stream's last output is `retry: <retryMs>` and a `closed` frame with
    /// that reason (a shutdown: reconnect elsewhere soon). Call `release()` after the last take.
    #[napi]
    pub fn close(&self, reason: Option<String>, retry_ms: Option<u32>) {
        self.handle.close(reason.as_deref().map(|reason| (reason, retry_ms.unwrap_or(1000))));
    }

    /// Drops the waker, so nothing of the relay keeps Node alive.
    #[napi]
    pub fn release(&self) {
        self.relay().set_waker(None);
        self.wake.lock().unwrap().take();
    }
}
