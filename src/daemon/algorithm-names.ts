/**
 * Negotiated transforms (IANA IDs) as strongSwan proposal keywords, for `ikekm status`: the names
 * a strongSwan user reads in `swanctl --list-sas` and writes in a proposal.
 */
import type { ChildTransformIds, IkeTransformIds } from '../ikev2/ike-sa-session.js';
import { transformKeyword, unknownKeyword } from '../policy/proposal-syntax.js';
import { TransformType } from '../wire/iana.js';
import type { ChildAlgorithms, IkeAlgorithms } from '../control/daemon-status.js';

function keyword(type: number, id: number, keyLengthBits?: number): string {
  return transformKeyword(type, id, keyLengthBits) ?? unknownKeyword(type, id, keyLengthBits);
}

/** INTEG 0 (NONE) is what an AEAD proposal carries, if anything: shown as no integrity. */
const hasIntegrity = (integ: number | undefined): integ is number => integ !== undefined && integ !== 0;

export function ikeAlgorithmNames(ids: IkeTransformIds): IkeAlgorithms {
  return {
    encryption: keyword(TransformType.ENCR, ids.encr, ids.encrKeyLengthBits),
    ...(hasIntegrity(ids.integ) ? { integrity: keyword(TransformType.INTEG, ids.integ) } : {}),
    prf: keyword(TransformType.PRF, ids.prf),
    dh: keyword(TransformType.DH, ids.dh),
  };
}

export function childAlgorithmNames(ids: ChildTransformIds): ChildAlgorithms {
  return {
    encryption: keyword(TransformType.ENCR, ids.encr, ids.encrKeyLengthBits),
    ...(hasIntegrity(ids.integ) ? { integrity: keyword(TransformType.INTEG, ids.integ) } : {}),
    ...(ids.dh === undefined || ids.dh === 0 ? {} : { dh: keyword(TransformType.DH, ids.dh) }),
    esn: ids.esn,
  };
}
