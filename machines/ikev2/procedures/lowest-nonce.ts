/**
 * RFC 7296 2.8.1 (and 2.8.2 for IKE SAs): of two SAs created by simultaneous rekeys, "the SA
 * created with the lowest of the four nonces used in the two exchanges SHOULD be closed by the
 * endpoint that created it". Nonces compare as unsigned octet strings.
 */
export function lowestNonceIn(a: { readonly Ni: Buffer; readonly Nr: Buffer }, b: { readonly Ni: Buffer; readonly Nr: Buffer }): boolean {
  const minA = Buffer.compare(a.Ni, a.Nr) <= 0 ? a.Ni : a.Nr;
  const minB = Buffer.compare(b.Ni, b.Nr) <= 0 ? b.Ni : b.Nr;
  return Buffer.compare(minA, minB) < 0;
}
