/**
 * The xoshiro128** step of `Rng.nextUint32` (lib/util/rng.ts) as WebAssembly text, for kernels that continue an
 * `Rng` stream (state from `Rng.stateWords()`). `state` names the four words a, b, c, d, held in locals or
 * globals; the step stores the uint32 output in `result` and uses `scratch` (locals, i32).
 */
export function xoshiroStepWat(
  scope: 'local' | 'global',
  state: readonly [string, string, string, string],
  result: string,
  scratch: string,
): string {
  const [a, b, c, d] = state;
  const get = (w: string) => `(${scope}.get ${w})`;
  const set = (w: string, v: string) => `(${scope}.set ${w} ${v})`;
  return [
    `(local.set ${result} (i32.mul (i32.rotl (i32.mul ${get(b)} (i32.const 5)) (i32.const 7)) (i32.const 9)))`,
    `(local.set ${scratch} (i32.shl ${get(b)} (i32.const 9)))`,
    set(c, `(i32.xor ${get(c)} ${get(a)})`),
    set(d, `(i32.xor ${get(d)} ${get(b)})`),
    set(b, `(i32.xor ${get(b)} ${get(c)})`),
    set(a, `(i32.xor ${get(a)} ${get(d)})`),
    set(c, `(i32.xor ${get(c)} (local.get ${scratch}))`),
    set(d, `(i32.rotl ${get(d)} (i32.const 11))`),
  ].join('\n    ');
}
