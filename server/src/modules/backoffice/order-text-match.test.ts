import { describe, expect, it } from 'vitest';
import { idFragmentPieces, indexPattern, isFragmentSearch } from './order-text-match.js';

describe('idFragmentPieces: what the trigram index is asked for a piece of an id', () => {
  it('a uuid prefix: without its first three digits (a UUIDv7 time prefix is in every recent order)', () => {
    expect(idFragmentPieces('019e8f7e')).toEqual(['e8f7e']);
    expect(idFragmentPieces('019E8F7E-869d')).toEqual(['e8f7e', '869d']);
  });

  it('dash-separated groups one by one (pg_trgm pads each group: "-7…" starts a word in every id); groups under three digits left to the whole match', () => {
    expect(idFragmentPieces('869d-74e8-8dfe')).toEqual(['869d', '74e8', '8dfe']);
    expect(idFragmentPieces('7e-869d-74e8-8d')).toEqual(['869d', '74e8']);
    expect(idFragmentPieces('-74e8-8dfe-47da89421744')).toEqual(['74e8', '8dfe', '47da89421744']);
    // The first group keeps its digits when fewer than five would be left.
    expect(idFragmentPieces('9e8f7e-869d')).toEqual(['9e8f7e', '869d']);
  });

  it('anything else is looked up whole: not hex, fewer than eight digits, or no group of three', () => {
    for (const q of ['PAY-2C869597BEAC', 'gmail', 'mug-04', '019e8f7', 'ab-cd-ef-01', 'user-1011']) expect(idFragmentPieces(q), q).toBeUndefined();
    expect(isFragmentSearch('869d-74e8-8dfe')).toBe(true);
  });
});

describe('indexPattern: the LIKE pattern the trigram index is asked for a fragment', () => {
  it('words of three letters or more, with % between them: no padding trigrams of word starts and ends', () => {
    expect(indexPattern('henry wil')).toBe('%henry%wil%');
    expect(indexPattern('enry.wil')).toBe('%enry%wil%');
    expect(indexPattern('Müll@web')).toBe('%müll%web%');
  });

  it('a word of six letters or more: every third trigram of it, none overlapping', () => {
    expect(indexPattern('Ceramic Mug')).toBe('%cer%ami%mug%');
    expect(indexPattern('enry.willia')).toBe('%enry%wil%lia%');
    expect(indexPattern('obinson')).toBe('%obi%nso%');
    expect(indexPattern('müller@web')).toBe('%mül%ler%web%');
    expect(indexPattern('PAY-2C869597BEAC')).toBe('%pay%2c8%695%97b%eac%');
    // By characters: a letter outside the BMP is one character, never half of one.
    expect(indexPattern('𝒜𝒷𝒸𝒹𝑒𝒻')).toBe('%𝒜𝒷𝒸%𝒹𝑒𝒻%');
  });

  it('a word under three letters has no trigram of its own: the fragment is asked whole, its %, _ and \\ literal', () => {
    expect(indexPattern('mug-04')).toBe('%mug-04%');
    expect(indexPattern('a_b%cde')).toBe('%a\\_b\\%cde%');
    expect(indexPattern('gmail')).toBe('%gmail%');
  });

  it('a piece of an id: every third trigram of its pieces (idFragmentPieces) when that makes three, else its pieces whole', () => {
    expect(indexPattern('869d-74e8-8dfe')).toBe('%869%74e%8df%');
    expect(indexPattern('019E8F7E')).toBe('%e8f7e%');
    expect(indexPattern('7aa0386c9d')).toBe('%0386c9d%');
    expect(indexPattern('869d-74e8')).toBe('%869d%74e8%');
  });
});
