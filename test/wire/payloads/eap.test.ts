import { describe, expect, it } from 'vitest';
import { decodePayloadChain, EapCode, eapHeaderOf, eapPayload, encodePayloadChain, PayloadType, type EapPayload } from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;
const EAP = PayloadType.EAP;

describe('EAP payload (RFC 7296 3.16)', () => {
  it('keeps the EAP message and reads its header', () => {
    const bytes = hex`
      00 00 00 0e   # length 14
      02            # Code 2 (Response)
      05            # Identifier 5
      00 0a         # Length 10 (the whole EAP packet)
      01            # Type 1 (Identity)
      61 6c 69 63 65  # "alice"
    `;
    const payloads = expectOk(decodePayloadChain(bytes, EAP, BASE));
    expect(payloads).toEqual([eapPayload(hex`0205000a01616c696365`)]);
    expect(eapHeaderOf(payloads[0] as EapPayload)).toEqual({ code: EapCode.Response, identifier: 5, length: 10, eapType: 1 });
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('EAP Success is 4 octets, no Type', () => {
    const [p] = expectOk(decodePayloadChain(hex`00 00 00 08  03 07 00 04`, EAP, BASE));
    expect(eapHeaderOf(p as EapPayload)).toEqual({ code: EapCode.Success, identifier: 7, length: 4 });
  });

  it('a message shorter than 4 octets, or whose Length disagrees, is bad-eap-message', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 07  03 07 00`, EAP, BASE), {
      code: 'bad-eap-message',
      offset: 32,
      payloadType: EAP,
    });
    expectParseError(decodePayloadChain(hex`00 00 00 09  03 07 00 04 00`, EAP, BASE), {
      code: 'bad-eap-message',
      offset: 34,
      payloadType: EAP,
    });
    expect(eapHeaderOf(eapPayload(hex`03`))).toBeUndefined();
  });
});
