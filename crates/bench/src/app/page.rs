//! The scripts the benchmark runs in the app's page (WebDriver "execute async script"). The
//! timings are taken IN the page with `performance.now()`, so WebDriver round trips do not
//! count. "Painted" = the first task after the rendering update of the frame that shows
//! the change: a `requestAnimationFrame` callback (it runs just before that frame's
//! style, layout and paint) posts a message whose handler runs after the frame is drawn.

/// Arguments: scan text, expected name, expected card, callback. Sets `#scan-input` (the
/// native value setter + an `input` event, as typing does), presses Enter (`keydown`, which
/// is what the input listens to), then waits until `#cust-name` shows the expected name and
/// `#cust-card` the expected card, and for the paint of that frame. Answers `{ms, dom_ms}`
/// or `{err}` (the scan error banner, or a timeout after 10 s).
pub const SCAN: &str = r#"
const [text, name, card, done] = arguments;
const input = document.getElementById('scan-input');
if (!input) { done({err: 'no #scan-input on the page'}); return; }
let finished = false, seen = false, t0 = 0, domMs = 0, obs = null, timer = 0;
const finish = (r) => {
  if (finished) return;
  finished = true;
  if (obs) obs.disconnect();
  clearTimeout(timer);
  done(r);
};
const shows = () => {
  const n = document.getElementById('cust-name');
  const c = document.getElementById('cust-card');
  return !!n && !!c && n.textContent.trim() === name && c.textContent.trim() === card;
};
const afterPaint = (f) => requestAnimationFrame(() => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => f(performance.now());
  ch.port2.postMessage(0);
});
const check = () => {
  if (seen) return;
  if (shows()) {
    seen = true;
    domMs = performance.now() - t0;
    afterPaint((t) => finish({ms: t - t0, dom_ms: domMs}));
    return;
  }
  const e = document.getElementById('scan-error');
  if (e && e.textContent.trim()) finish({err: e.textContent.trim()});
};
obs = new MutationObserver(check);
obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
timer = setTimeout(() => finish({err: 'timeout: ' + text + ' did not show ' + name + ' within 10 s'}), 10000);
if (document.activeElement !== input) input.focus();
const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
t0 = performance.now();
setValue.call(input, text);
input.dispatchEvent(new Event('input', {bubbles: true}));
input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter', bubbles: true, cancelable: true}));
"#;

/// Argument: callback. Waits for the login screen to be ready: the UI marks the moment it
/// focuses the PIN field (`performance.mark('ready:login')`, `ui/src/lib/perf.ts`) and,
/// after the next frame is painted, `ready:login:painted`. Answers `{at, ready_at, origin,
/// fcp, how: 'marks'}` in epoch ms (`performance.timeOrigin` + the mark): `at` the painted
/// frame, `ready_at` the focus, `origin` the page's navigation start, `fcp` the first
/// contentful paint (ms after `origin`). A UI without the marks: `at` is when this script
/// first saw the PIN field focused (`how: 'focus-seen'`; an upper bound when it was focused
/// before the script ran, `upper_bound: true`).
pub const PIN_READY: &str = r#"
const done = arguments[arguments.length - 1];
const origin = performance.timeOrigin;
const last = (n) => {
  const e = performance.getEntriesByName(n);
  return e.length ? e[e.length - 1].startTime : null;
};
const focused = () => {
  const a = document.activeElement;
  return !!a && a.id === 'pin-input';
};
const upperBound = focused();
let finished = false, seenAt = null;
const finish = (r) => {
  if (finished) return;
  finished = true;
  done(Object.assign({origin, fcp: last('first-contentful-paint')}, r));
};
const tick = () => {
  if (finished) return;
  const painted = last('ready:login:painted');
  if (painted !== null) {
    finish({at: origin + painted, ready_at: origin + last('ready:login'), how: 'marks'});
    return;
  }
  if (seenAt === null && focused()) seenAt = performance.now();
  if (seenAt !== null && last('ready:login') === null && performance.now() - seenAt > 500) {
    finish({at: origin + seenAt, how: 'focus-seen', upper_bound: upperBound});
    return;
  }
  setTimeout(tick, 2);
};
tick();
setTimeout(() => finish({err: 'the login screen was not ready within 60 s', url: location.href}), 60000);
"#;

/// Argument: callback. The app's sync status (`status` command over the Tauri IPC, the
/// same `SyncStatusView` the status bar shows): `{ok: status}` or `{err}`.
pub const STATUS: &str = r#"
const done = arguments[arguments.length - 1];
const t = window.__TAURI_INTERNALS__;
if (!t) { done({err: 'no Tauri IPC in the page'}); return; }
t.invoke('status', {}).then((s) => done({ok: s}), (e) => done({err: JSON.stringify(e)}));
"#;

/// Arguments: scan text, callback. The `scan` command alone, called over the Tauri IPC
/// as the scan screen calls it, nothing rendered: `{ms}` from the call to its answer
/// (IPC both ways + the core's lookup), or `{err}`.
pub const INVOKE_SCAN: &str = r#"
const [text, done] = arguments;
const t = window.__TAURI_INTERNALS__;
if (!t) { done({err: 'no Tauri IPC in the page'}); return; }
const t0 = performance.now();
t.invoke('scan', {input: text}).then(
  () => done({ms: performance.now() - t0}),
  (e) => done({err: JSON.stringify(e)}));
"#;
