// The personal offer in the UI language. The core sends English text plus the figures in
// it (`Offer.figures`); the other languages are rendered from the kind and the figures,
// and anything not understood falls back to the core's text.
import { date, money, pct, pts } from './format';
import { i18n, t } from './i18n/index.svelte';
import type { CustomerPanel } from './types';

export function offerText(c: CustomerPanel): string {
  const o = c.offer;
  if (!o) return '';
  if (i18n.locale === 'en') return o.text;
  const f = o.figures;
  switch (o.kind) {
    case 'expiring_points':
      if (f.length >= 1 && c.balance.next_expiry)
        return t('offer.expiring', { n: pts(f[0]), date: date(c.balance.next_expiry) });
      break;
    case 'next_tier': {
      const tier = o.subject ?? /to reach (.+) \(discount/.exec(o.text)?.[1];
      if (f.length >= 2 && tier) {
        const purchases = /purchase/.test(o.text);
        return purchases
          ? t('offer.nextTierPurchases', { n: f[0], tier, pct: pct(f[1]) })
          : t('offer.nextTierSpend', { money: money(f[0]), tier, pct: pct(f[1]) });
      }
      break;
    }
    case 'birthday':
      return t('offer.birthday');
    case 'lapsed_category':
      if (f.length >= 2 && o.subject)
        return t('offer.lapsedCategory', { cat: o.subject, d: f[0], n: f[1] });
      break;
    case 'favourite_category':
      if (f.length >= 1 && o.subject)
        return t('offer.favouriteCategory', { cat: o.subject, n: f[0] });
      break;
  }
  return o.text;
}
