// Performance marks of moments that matter to the cashier, for measurement tools
// (`loyalty-bench app` reads them through WebDriver). No effect on behaviour.

/** Name of the mark set when `screen` is ready for input. */
export const readyMark = (screen: string): string => `ready:${screen}`;
/** Name of the mark set once the frame showing that screen has been painted. */
export const paintedMark = (screen: string): string => `ready:${screen}:painted`;

/**
 * Marks `screen` ready for input now (`ready:<screen>`), then, after the next frame is
 * painted, `ready:<screen>:painted`: a requestAnimationFrame callback runs just before
 * that frame's rendering, the message it posts is handled after it. Older marks of the
 * same screen are dropped, so the marks always describe its latest appearance.
 */
export function markReady(screen: string): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  const ready = readyMark(screen);
  const painted = paintedMark(screen);
  performance.clearMarks(ready);
  performance.clearMarks(painted);
  performance.mark(ready);
  if (typeof requestAnimationFrame !== 'function' || typeof MessageChannel !== 'function') return;
  requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      performance.mark(painted);
      ch.port1.close();
    };
    ch.port2.postMessage(0);
  });
}
