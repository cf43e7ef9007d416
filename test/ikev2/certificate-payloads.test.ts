/** CERT payloads for a CERTREQ (RFC 7296 3.7; RFC 4945 3.2.1): which of our chain the peer gets. */
import { describe, expect, it } from 'vitest';
import { certificateRequest, certificateRequestsOf, certificatesForRequest, certificatesOf } from '../../src/ikev2/exchanges/certificate-payloads.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { CertEncoding, certPayload, certReqPayload, PayloadType } from '../../src/wire/index.js';
import { testCa, testCertificate } from '../support/test-pki.js';

const root = testCa('CN=Root');
const intermediate = testCa('CN=Intermediate', { issuer: root });
const ee = testCertificate(intermediate, 'CN=gw', { san: ['gw.example'] });
const chain = [ee.der, intermediate.der];
const hashOf = (der: Buffer): Buffer => {
  const c = parseCertificate(der);
  if (!c.ok) throw new Error(c.error);
  return c.value.spkiSha1;
};

describe('certificates for a CERTREQ', () => {
  it('the whole chain when the peer names the root, or nothing we have, or sent no hashes', () => {
    expect(certificatesForRequest(chain, [hashOf(root.der)])).toEqual(chain);
    expect(certificatesForRequest(chain, [Buffer.alloc(20, 7)])).toEqual(chain);
    expect(certificatesForRequest(chain, [])).toEqual(chain);
    expect(certificatesForRequest(chain, undefined)).toEqual(chain);
  });

  it('up to, not including, an intermediate the peer names as trusted', () => {
    expect(certificatesForRequest(chain, [Buffer.alloc(20, 1), hashOf(intermediate.der)])).toEqual([ee.der]);
  });

  it('never leaves out the end entity, even when the peer names its own key', () => {
    expect(certificatesForRequest(chain, [hashOf(ee.der)])).toEqual(chain);
  });

  it('reads X.509 CERT and CERTREQ payloads and leaves other encodings out', () => {
    const inner = [
      certPayload(CertEncoding.X509_SIGNATURE, ee.der),
      certPayload(CertEncoding.HASH_AND_URL_X509_CERT, Buffer.alloc(20)),
      certPayload(CertEncoding.X509_SIGNATURE, intermediate.der),
      ...certificateRequest([hashOf(root.der), hashOf(intermediate.der)]),
      certReqPayload(CertEncoding.PKCS7_WRAPPED_X509, Buffer.alloc(20)),
    ];
    expect(certificatesOf(inner)).toEqual(chain);
    expect(certificateRequestsOf(inner)).toEqual([hashOf(root.der), hashOf(intermediate.der)]);
    expect(certificateRequestsOf([])).toBeUndefined();
    expect(certificateRequest([])).toEqual([]);
    expect(certificateRequest([Buffer.alloc(20)])[0]?.type).toBe(PayloadType.CERTREQ);
  });
});
