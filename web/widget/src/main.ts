/**
 * The Perks referral widget: load this script once and put `<perks-referral>` anywhere in the page.
 * See docs/widget.md for the attributes, the token and the CSS custom properties.
 */
import { PerksReferral } from './element.js';

export type { TokenProvider } from './element.js';
export { PerksReferral };

// Loading the script twice (two bundles, a hot reload) must not throw on the second definition.
if (!customElements.get('perks-referral')) customElements.define('perks-referral', PerksReferral);

declare global {
  interface HTMLElementTagNameMap {
    'perks-referral': PerksReferral;
  }
}
