/**
 * The widget's styles, scoped by its shadow root. Every colour, the font, the corner radius and the
 * spacing come from CSS custom properties the host page can set on `perks-referral` (they inherit
 * into the shadow root); the defaults meet WCAG AA contrast (4.5:1 for text, 3:1 for the focus ring).
 * The list is documented in docs/widget.md.
 */
export const STYLES = `
:host {
  display: block;
  max-width: var(--perks-max-width, 28rem);
  color: var(--perks-text-color, #1f2328);
  font-family: var(--perks-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: var(--perks-font-size, 1rem);
  line-height: 1.45;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.card {
  background: var(--perks-background, #ffffff);
  border: 1px solid var(--perks-border-color, #d0d7de);
  border-radius: var(--perks-radius, 0.75rem);
  padding: calc(var(--perks-spacing, 1rem) * 1.25);
  display: grid;
  /* One column that may shrink below its content's width, so narrow pages wrap instead of overflow. */
  grid-template-columns: minmax(0, 1fr);
  gap: var(--perks-spacing, 1rem);
}
h2, h3, p, dl, dd, ul { margin: 0; }
h2 { font-size: 1.2em; line-height: 1.3; }
h3 { font-size: 0.95em; }
.muted { color: var(--perks-muted-color, #57606a); font-size: 0.92em; }
.field { display: grid; gap: 0.35rem; }
.label { font-size: 0.85em; font-weight: 600; color: var(--perks-muted-color, #57606a); }
.row { display: flex; gap: 0.5rem; align-items: stretch; }
.value {
  flex: 1;
  min-width: 0;
  width: 100%;
  padding: 0.5rem 0.75rem;
  border-radius: calc(var(--perks-radius, 0.75rem) / 1.5);
  background: var(--perks-code-background, #f6f8fa);
  border: 1px solid var(--perks-border-color, #d0d7de);
  font-family: var(--perks-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace);
  overflow-wrap: anywhere;
  user-select: all;
}
.code { font-size: 1.15em; letter-spacing: 0.08em; font-weight: 600; }
button {
  font: inherit;
  font-weight: 600;
  cursor: pointer;
  padding: 0.5rem 0.9rem;
  border-radius: calc(var(--perks-radius, 0.75rem) / 1.5);
  border: 1px solid var(--perks-accent, #0a58ca);
  background: var(--perks-accent, #0a58ca);
  color: var(--perks-accent-text, #ffffff);
  white-space: nowrap;
}
[data-copy] { min-width: 5.5em; }
.card > button, .commission button { justify-self: start; }
button.secondary {
  background: var(--perks-background, #ffffff);
  color: var(--perks-accent, #0a58ca);
}
button:hover:not(:disabled) { filter: brightness(0.92); }
button:focus-visible, .value:focus-visible {
  outline: 3px solid var(--perks-focus-ring, var(--perks-accent, #0a58ca));
  outline-offset: 2px;
}
button:disabled {
  cursor: not-allowed;
  background: var(--perks-disabled-background, #eaeef2);
  border-color: var(--perks-border-color, #d0d7de);
  color: var(--perks-disabled-text, #57606a);
}
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(6rem, 1fr)); gap: 0.5rem; }
.stat {
  padding: 0.6rem 0.75rem;
  border-radius: calc(var(--perks-radius, 0.75rem) / 1.5);
  background: var(--perks-code-background, #f6f8fa);
}
.stat dt { font-size: 0.85em; color: var(--perks-muted-color, #57606a); }
.stat dd { font-size: 1.4em; font-weight: 700; }
.rewards { padding-left: 1.2rem; display: grid; gap: 0.2rem; }
.notice {
  padding: 0.6rem 0.75rem;
  border-radius: calc(var(--perks-radius, 0.75rem) / 1.5);
  border-left: 4px solid var(--perks-accent, #0a58ca);
  background: var(--perks-code-background, #f6f8fa);
}
.error { border-left-color: var(--perks-error-color, #b42318); color: var(--perks-error-color, #b42318); }
.success { color: var(--perks-success-color, #1a7f37); }
.commission { display: grid; gap: 0.5rem; }
.balance { font-size: 1.3em; font-weight: 700; }
.live:empty { display: none; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
`;
