/**
 * Reading `ip [-s] xfrm state` (iproute2): one record per SA, from its block of lines
 *
 *   src 192.0.2.2 dst 192.0.2.1
 *   	proto esp spi 0xc9d8a1b2(3386417586) reqid 1(0x00000001) mode tunnel
 *   	aead rfc4106(gcm(aes)) 0x… (160 bits) 128
 *   	encap type espinudp sport 4500 dport 4500 addr 0.0.0.0     (UDP-encapsulated only)
 *   	lifetime current:
 *   	  252(bytes), 3(packets)                                    (with -s)
 */

export interface XfrmStateText {
  readonly src: string;
  readonly dst: string;
  /** esp, ah, comp… */
  readonly proto: string;
  /** 8 lowercase hex digits. */
  readonly spi: string;
  readonly mode: string | undefined;
  /** The AEAD or encryption algorithm, e.g. rfc4106(gcm(aes)). */
  readonly algorithm: string | undefined;
  /** Its key in lowercase hex (an AEAD's with the salt), as `ip` prints it. */
  readonly key: string | undefined;
  readonly reqid: number | undefined;
  /** UDP encapsulation (NAT-T). */
  readonly encap: boolean;
  /** Traffic counters, with `ip -s`. */
  readonly bytes: number | undefined;
  readonly packets: number | undefined;
}

export function parseXfrmStates(text: string): XfrmStateText[] {
  const blocks = text.split(/^(?=src \S+ dst \S+)/m).filter((block) => block.startsWith('src '));
  return blocks.map((block) => {
    const header = /^src (\S+) dst (\S+)/.exec(block);
    const proto = /^\s+proto (\S+) spi 0x([0-9a-f]+)/m.exec(block);
    if (!header || !proto) throw new Error(`not an xfrm state: ${JSON.stringify(block.slice(0, 200))}`);
    const counters = /(\d+)\(bytes\), (\d+)\(packets\)/.exec(block);
    const reqid = /\breqid (\d+)/.exec(block)?.[1];
    return {
      src: header[1] ?? '',
      dst: header[2] ?? '',
      proto: proto[1] ?? '',
      spi: (proto[2] ?? '').padStart(8, '0'),
      mode: /\bmode (\S+)/.exec(block)?.[1],
      algorithm: /^\s+(?:aead|enc) (\S+)/m.exec(block)?.[1],
      key: /^\s+(?:aead|enc) \S+ 0x([0-9a-f]+)/m.exec(block)?.[1],
      reqid: reqid === undefined ? undefined : Number(reqid),
      encap: /^\s+encap /m.test(block),
      bytes: counters ? Number(counters[1]) : undefined,
      packets: counters ? Number(counters[2]) : undefined,
    };
  });
}

/** One policy of `ip xfrm policy`: direction, "src > dst" selector, its template's reqid. */
export interface XfrmPolicyText {
  readonly dir: string;
  readonly selector: string;
  readonly reqid: number | undefined;
}

/**
 * `ip xfrm policy`'s blocks, sorted by direction and selector; per-socket policies (a socket's
 * own bypass, `socket in|out`) are only counted.
 */
export function parseXfrmPolicies(text: string): { readonly policies: XfrmPolicyText[]; readonly socketPolicies: number } {
  const policies: XfrmPolicyText[] = [];
  let socketPolicies = 0;
  for (const block of text.split(/^(?=src )/m).filter((b) => b.startsWith('src '))) {
    if (/^\s+socket (in|out) /m.test(block)) {
      socketPolicies++;
      continue;
    }
    const selector = /^src (\S+) dst (\S+)/.exec(block);
    const reqid = /\breqid (\d+)/.exec(block)?.[1];
    policies.push({ dir: /^\s+dir (\S+)/m.exec(block)?.[1] ?? '?', selector: `${selector?.[1]} > ${selector?.[2]}`, reqid: reqid === undefined ? undefined : Number(reqid) });
  }
  return { policies: policies.sort((x, y) => `${x.dir}${x.selector}`.localeCompare(`${y.dir}${y.selector}`)), socketPolicies };
}
