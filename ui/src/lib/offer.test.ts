import { afterEach, describe, expect, it } from 'vitest';
import { offerText } from './offer';
import { i18n } from './i18n/index.svelte';
import type { CustomerPanel } from './types';

const panel = (offer: CustomerPanel['offer']): CustomerPanel =>
  ({ offer, balance: { next_expiry: null } }) as unknown as CustomerPanel;

describe('offerText of the category offers', () => {
  afterEach(() => {
    i18n.locale = 'en';
  });

  it('renders the favourite and the lapsed category from subject and figures', () => {
    const fav = panel({
      kind: 'favourite_category',
      text: 'Coffee is the favourite (5 purchases): suggest coffee today',
      figures: [5, 1750],
      subject: 'coffee',
    });
    const lapsed = panel({
      kind: 'lapsed_category',
      text: 'No cakes for 61 days (bought 3 times before): suggest cakes today',
      figures: [61, 3],
      subject: 'cakes',
    });
    expect(offerText(fav)).toBe('Coffee is the favourite (5 purchases): suggest coffee today');
    i18n.locale = 'ru';
    expect(offerText(fav)).toBe('Любимая категория — coffee (5 покупок): предложите coffee сегодня');
    expect(offerText(lapsed)).toContain('61');
    expect(offerText(lapsed)).toContain('cakes');
    // Without a subject: the core's text.
    expect(offerText(panel({ ...fav.offer!, subject: null }))).toBe(fav.offer!.text);
  });
});
