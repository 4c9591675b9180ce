import { describe, expect, it } from 'vitest';
import { IdMap } from '../../lib/data/id-map';
import { Interactions } from '../../lib/data/interactions';

// Rows grouped by user (u0: items 0, 2; u1: none; u2: items 1, 3, 4), as GroupLens' CSV files are.
const users = Int32Array.from([0, 0, 2, 2, 2]);
const items = Int32Array.from([0, 2, 1, 3, 4]);
const ratings = Float32Array.from([4, 3.5, 5, 1, 2]);
const ids = () => ({
  userIds: IdMap.fromSorted(Int32Array.from([10, 11, 12])),
  itemIds: IdMap.fromSorted(Int32Array.from([1, 2, 3, 4, 5])),
});
const byPointers = () =>
  new Interactions({ userIndptr: Int32Array.from([0, 2, 2, 5]), items, ratings, timestamps: null, ...ids() });

describe('Interactions from by-user row pointers', () => {
  it('derives the same users column, counts, CSR and ratings as the coordinate form', () => {
    const coo = new Interactions({ users, items, ratings, ...ids() });
    const ptr = byPointers();
    expect(ptr.size).toBe(5);
    expect(Array.from(ptr.userCounts())).toEqual([2, 0, 3]);
    expect(Array.from(ptr.users)).toEqual(Array.from(coo.users));
    expect(Array.from(ptr.csr().indptr)).toEqual(Array.from(coo.csr().indptr));
    expect(ptr.csr().indices).toBe(items); // items ascend within each user: the arrays are shared
    expect(ptr.rating(2, 3)).toBe(1);
    expect(Number.isNaN(ptr.rating(1, 0))).toBe(true);
    expect(Array.from(ptr.csc().indices)).toEqual(Array.from(coo.csc().indices));
    expect(Array.from(ptr.select(Int32Array.from([4, 0])).users)).toEqual([2, 0]);
  });

  it('keeps the users column through an object spread', () => {
    const ptr = byPointers();
    const copy = new Interactions({ ...ptr, timestamps: null, userIds: ptr.userIds, itemIds: ptr.itemIds });
    expect(Array.from(copy.users)).toEqual(Array.from(users));
  });

  it('sorts within users when items do not ascend', () => {
    const shuffled = Int32Array.from([2, 0, 4, 1, 3]);
    const ptr = new Interactions({
      userIndptr: Int32Array.from([0, 2, 2, 5]),
      items: shuffled,
      ratings,
      ...ids(),
    });
    expect(Array.from(ptr.csr().indices)).toEqual([0, 2, 1, 3, 4]);
    expect(ptr.rating(0, 2)).toBe(4);
  });

  it('rejects row pointers that do not cover the rows or decrease', () => {
    expect(
      () => new Interactions({ userIndptr: Int32Array.from([0, 2, 2, 4]), items, ratings, ...ids() }),
    ).toThrow(/from 0 to 5/);
    expect(
      () => new Interactions({ userIndptr: Int32Array.from([0, 3, 2, 5]), items, ratings, ...ids() }),
    ).toThrow(/decreases at user 1/);
    expect(() => new Interactions({ items, ratings, ...ids() })).toThrow(/users column or/);
  });
});
