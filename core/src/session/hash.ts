/**
 * FNV-1a, 64 bits, over the UTF-8 bytes of a string, as 16 lowercase hex digits. Not
 * cryptographic: used for storage keys (so a raw join token is never written into a key)
 * and model signatures (so two models with the same parameter shapes agree), where a
 * synchronous, dependency-free, isomorphic hash is what matters.
 */
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

export function fnv1a64(text: string): string {
  let h = OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
}
