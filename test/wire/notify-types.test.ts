import { describe, expect, it } from 'vitest';
import { isNotifyError, NOTIFY_STATUS_FLOOR, NotifyType } from '../../src/wire/index.js';

describe('IANA Notify Message Types', () => {
  it('has the values RFC 7296 3.10.1 assigns', () => {
    expect(NotifyType).toMatchObject({
      UNSUPPORTED_CRITICAL_PAYLOAD: 1,
      INVALID_IKE_SPI: 4,
      INVALID_MAJOR_VERSION: 5,
      INVALID_SYNTAX: 7,
      INVALID_MESSAGE_ID: 9,
      INVALID_SPI: 11,
      NO_PROPOSAL_CHOSEN: 14,
      INVALID_KE_PAYLOAD: 17,
      AUTHENTICATION_FAILED: 24,
      SINGLE_PAIR_REQUIRED: 34,
      NO_ADDITIONAL_SAS: 35,
      INTERNAL_ADDRESS_FAILURE: 36,
      FAILED_CP_REQUIRED: 37,
      TS_UNACCEPTABLE: 38,
      INVALID_SELECTORS: 39,
      TEMPORARY_FAILURE: 43,
      CHILD_SA_NOT_FOUND: 44,
      INITIAL_CONTACT: 16384,
      SET_WINDOW_SIZE: 16385,
      ADDITIONAL_TS_POSSIBLE: 16386,
      IPCOMP_SUPPORTED: 16387,
      NAT_DETECTION_SOURCE_IP: 16388,
      NAT_DETECTION_DESTINATION_IP: 16389,
      COOKIE: 16390,
      USE_TRANSPORT_MODE: 16391,
      HTTP_CERT_LOOKUP_SUPPORTED: 16392,
      REKEY_SA: 16393,
      ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
      NON_FIRST_FRAGMENTS_ALSO: 16395,
      MOBIKE_SUPPORTED: 16396,
      IKEV2_FRAGMENTATION_SUPPORTED: 16430,
      SIGNATURE_HASH_ALGORITHMS: 16431,
    });
  });

  it('names and values are one-to-one; status types are contiguous from 16384 to 16447', () => {
    const values = Object.values(NotifyType);
    expect(new Set(values).size).toBe(values.length);
    const status = values.filter((v) => v >= NOTIFY_STATUS_FLOOR).sort((a, b) => a - b);
    expect(status).toEqual(Array.from({ length: 16447 - 16384 + 1 }, (_, i) => 16384 + i));
    const errors = values.filter((v) => v < NOTIFY_STATUS_FLOOR).sort((a, b) => a - b);
    expect(errors).toEqual([1, 4, 5, 7, 9, 11, 14, 17, 24, ...Array.from({ length: 49 - 34 + 1 }, (_, i) => 34 + i)]);
  });

  it('isNotifyError splits at 16384', () => {
    expect(isNotifyError(NotifyType.CHILD_SA_NOT_FOUND)).toBe(true);
    expect(isNotifyError(16383)).toBe(true);
    expect(isNotifyError(NotifyType.INITIAL_CONTACT)).toBe(false);
  });
});
