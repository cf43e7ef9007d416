/**
 * Known answers for the IKEv2 key derivation (RFC 7296 2.13, 2.14, 2.17, 2.18), in the shape of
 * NIST's SP 800-135 "KDF135 IKEv2" component test: from Ni, Nr, g^ir, g^ir (new), SPIi, SPIr it
 * checks
 *
 *   SKEYSEED          = prf(Ni | Nr, g^ir)                                   (2.14)
 *   DKM               = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), DKM length     (2.14)
 *   DKM(Child SA)     = prf+(SK_d, Ni | Nr)          with SK_d = the first     (2.17)
 *   DKM(Child SA D-H) = prf+(SK_d, g^ir (new) | Ni | Nr)  prf key length of DKM
 *   SKEYSEED(Rekey)   = prf(SK_d, g^ir (new) | Ni | Nr)                      (2.18)
 *
 * The hex values are copied exactly from the files named in each `source`; they were produced
 * by NIST's test generator (the ACVP server's own unit test, libreswan's CAVP run) or taken by
 * NSS from the NIST sample file, so they are independent of this code.
 *
 * The same file carries the two other known answers of this layer, from the Android IKE
 * library's unit tests (AOSP packages/modules/IPsec), whose data come from a real exchange:
 * the SK payload of an IKE_AUTH request (AES-CBC-128 + HMAC-SHA1-96), AES-GCM-16-256 SK and
 * SKF bodies, and the shared-key AUTH of that IKE_AUTH request.
 */
import { EncrId, IntegId, PrfId } from '../../wire/iana.js';
import { deriveChildSaKeymat, deriveIkeSaKeymat, deriveRekeyedSkeyseed, deriveSkeyseed } from '../ikev2-keys.js';
import { pskAuth, signedOctets, verifyPskAuth } from '../psk-auth.js';
import { createCryptoRegistry } from '../registry.js';
import { createSkProtection, openSkBody, sealSkBody } from '../sk-payload.js';
import type { EncryptionTransform, IntegrityTransform, PrfTransform } from '../types.js';
import type { KnownAnswerCase, KnownAnswerOutcome } from './types.js';

export interface DerivationVector {
  readonly prf: PrfId;
  /** Repository, path and test case the values were copied from. */
  readonly source: string;
  readonly Ni: string;
  readonly Nr: string;
  readonly gir: string;
  readonly SPIi: string;
  readonly SPIr: string;
  readonly SKEYSEED: string;
  readonly DKM: string;
  /** The rest is absent where the source has no value for it. */
  readonly girNew?: string;
  readonly DKMChild?: string;
  readonly DKMChildDh?: string;
  readonly SKEYSEEDRekey?: string;
}

export const derivationVectors: readonly DerivationVector[] = [
  {
    prf: PrfId.PRF_HMAC_SHA1,
    source:
      'libreswan/libreswan programs/cavp/test.acvp.ikev2.run (CAVP KDF135 IKEv2 [SHA-1] COUNT = 0, ACVP tcId 100; ' +
      'expected values also in programs/cavp/test.acvp.ikev2.json)',
    Ni: '32b50d5f4a3763f3',
    Nr: '9206a04b26564cb1',
    gir: '4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52',
    girNew: '863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330',
    SPIi: '34c9e7c188868785',
    SPIr: '3ff77d760d2b2199',
    SKEYSEED: 'a9a7b222b59f8f48645f28a1db5b5f5d7479cba7',
    DKM:
      'a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b76606f9fa5e992204fc5a670bde3' +
      'f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384bd275c5f594cf266b' +
      '05ebadca855e4249520a441a81157435a7a56cc4',
    DKMChild:
      '8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85eccdf0ad0d' +
      'c9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf285f524aea6545b33106bc03e614296d' +
      '319d41d4b50b3f510b1c0a22f3e664994d234cb4',
    DKMChildDh:
      'bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab14c400a5197dd3730ed4820a8a' +
      '10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a05884d1b7d2f933708450b7b3288f1fc' +
      '863ab49fa901227cffc06e27899c7054d56fd74c',
    SKEYSEEDRekey: '63e81194946ebd05df7df5ebf5d8750056bf1f1d',
  },
  {
    prf: PrfId.PRF_HMAC_SHA2_256,
    source:
      'usnistgov/ACVP-Server gen-val/src/crypto/test/NIST.CVP.ACVTS.Libraries.Crypto.IKEv2.Tests/IKEv2Tests.cs ' +
      '(TestCase "IKEv2 SHA2-256", DKM and Child DKM 3072 bits)',
    Ni:
      '0a58fea9c1d4fee2e74e1aad6fb02dd5f318eb127465a112be8dc3c04d5dba62eae708f9dc1b2362afd6ba4bda3cf5000f4979fbcbadbcfd' +
      'a9291593829c4e905c21db0c2ee15175ce77a8a0dadf25c7f175bc53fd91b636a9b3c50b203de9b9d6dc463dcb4048f101e26498ceaed3af' +
      'bcd931394a7e099392dfff82e5d6fa85c2e8a8ab90ad363a66795dc32798847e405acd87988140f973058917273a6b0bafb962c75e2b1a21' +
      'e79c08beeb82168bf8b4b57f3dce867bf7862a7b8acbc21be838021913daf64340c055ed17aaf7b6e1d0ca33ae890ddbdb83f4e615aad5e3' +
      'bff58c3db70bac81a0dfbabe5391fc62bca4659e22a0741e01d8d06e67d9bb41',
    Nr:
      'e4fdfa68df6171d9eaff8b7b5ad31e7c6098d259f3397c9854cbefe7449b0864c1df16ddece8b26567560f8d59182a44c19149c2d0d72606' +
      'a160021ade3d23c7c6936c91a4b6bec37adf38cfc84b851c68dcee06f81306f63abbefc07e231e3058c49437a557df617eac01663593d2a3' +
      'e594699284c0a35eae6931492ccb2a43db72a600a3899205d681d2b76b1280e456339bb10e0c584aecfdae31c77a4c40dbcb345f782ac328' +
      '35d4c220c1e97254ded6a40075dd717b00b69c86a49e801773026536ae02d58a649827f1ba67610ee936dffd11c9d5a9156631916a0a0046' +
      'ec0ba42f56f2a18de83d5d71a985b0cc9eec2c06b3d907ca58454419f374069d',
    gir: '9d469de41b4739c7dd01f19aa94f17e48150ae9dbede94832142db19',
    girNew: 'c2987b0767006c3b9aea491bfed1646a3d7194639492b8d45b23b383',
    SPIi: 'c8de93111750e409',
    SPIr: '32d51b33508997fa',
    SKEYSEED: 'eec13ac67c2e072abb684ab4e7b6ce3e7f400af8b96bed48e113497ed337f8d4',
    DKM:
      'bc83518f63b762874ac57947cdfae33a8d9724df0b83ee4b6df38c23fc2ad829f4d70b5a68dd1f5a52416f09758638aedf919c09a17c5298' +
      'cdb703bb75b1005cba0109739aaa4efd2fe7534c95ad05e546e4419931270eddcab68ac1589d7fde47f5b9e8d5b614cb24ec3caf515497a9' +
      'e99ee6f1b318ff153b539ef071dcaff9b41945dcb780700d69e5dc888a91de195c52825badfd0ab4c33cec71ab5c2b4badefe5455455ce5d' +
      '8ae91721a2091bcccc1514e69482c9c8da1d9f0f187eedda916393570a8c0a8dfabc26d8ed31e8ea47662515972a22d11d692bc1fac6395a' +
      'ecd82a01ab78daafcd6f3070b1201f158a19331b5d21ceee66fccd2ea37bc07648b9539a52dbf797af53e31a0e8706dd86cf5081ebabd095' +
      'f281d23c222dd3bc5abf06869017ca8f751cafcc85abea6ba88c139d1f32a12f7f486cf57eae5d85551b97f3963616d8f597c70efa98c1e1' +
      'fa369fb77a80b1ec5fe533890672c4551172eab1b7fd68ad08c4d4c69f2a867302065ca730aa6915bc2cfb6d93820977',
    DKMChild:
      'c725012285d56e53244a9baaaf95abfca543708d333a3f3a86ba660e00edd4d489bcd631819fda0413382edd9f53d1ed718e056c2ad91d38' +
      'de90f06cd434de70141d051c021e7ddd6e4137946b4770dca59a4decabdd866852eb557fdd995646613ff2923f5f23aa58c8fbd5ad52cf2e' +
      'ac9bda97faad5596695f4a747a0f1cc6a1f78b2181138fb19ac24574d2e6b3a40d6e688abb919a27d793b76568ec66bd099f6f476b705c14' +
      '72d774a1516a11311b887688f36649e24227640ea8d8666b9f452217e7103b6f0a92b6adb8fbda650ba58d6ac13ac6f6b6361a5d1c44f1e9' +
      'f22196c96295115c5d01a120e7265962d20353a049286908da776c2165f706a16f43d85fcd319f89c4386340bcb8ed10df38345cb68af719' +
      'abaf997e9789a5f19a392dcecd78168ba282f0b30555c7a47031a3156d12d7158aa41b863b8394d30fec63120e89cbc5750eed7786f7d596' +
      '1b1f2e6faca641ed776d2211bee757b68b77f94056172553715da9fbd1c9a8728f28a2f3c9714a4917490132562484cd',
    DKMChildDh:
      '140a1f2a3c94318ece6edfa8c63f37d8d45982de8b6cbfe34011150db0253e34de3796d4aa579954a0bbf234794eb6e7ece2a8f91100f550' +
      '7df4ee8e66c7813d4c0ff64d484a3494c54b0d9c605ea24234a49a010ce5c352feb9e1060c8c787229466296cdc9d11bb9d221ed2bb39544' +
      '572464254ec02a0fbe777b07402c775eb6d3e53cd16214c707f851942cc7da92a811b6c5c82f29d9fc3751b0ebff9898fb14372402a6989f' +
      'fb9cc32dfe7e2cea32fd882e09804d7fea34ce3b5eb6f303e095c48a452b0a3eccada81af22195ebbaad289aeabdab074c94e751496bde39' +
      'd868ebf1d693f36d1c3c672bbb59c9f77aeb68de57d77da231b7f13d6d277f600c3d3086c4de7b3a59127f4cb9c118935574f30e1b7c88b5' +
      '2c8c3531fdbd38ee3d14c69e81803ced6e7501fa0180f6d110b648272002dc1ad5bf09dc83188011da1d48632e0d2453c8abdd8e9fd32a57' +
      '6aeb9ddfb0a024f674441c20a950d9bd8cd7b30933cc0d8e87b55e8aa9d913579b410417b3acc13c14bf73c457327873',
    SKEYSEEDRekey: '05f796c8df322a7e33283ae5fa2f376d8d5efa0ac3745fc548e430031424c121',
  },
  {
    prf: PrfId.PRF_HMAC_SHA2_384,
    source:
      'NSS (copy in Floorp-Projects/Floorp) security/nss/gtests/common/testvectors/ike-sha384-vectors.h ' +
      '(NIST sample cases 6 ikeGxy, 8 ikePlus, 7 ikeV2Rekey)',
    Ni: 'fd1b572a8e735591',
    Nr: '6013b0ef88dacd3d',
    gir: 'd3288cd87565101e88fe3bad918f31939d8dd26ff1071f8b2d7f447524e58d7c',
    girNew: '3358f620539473aee8d07e779764c4c6a9aabddc79a28e136b3bac021dbde44a',
    SPIi: '2116ad07ce61f749',
    SPIr: '24880e55f11a65b7',
    SKEYSEED: '69fe7a1ac94adaeb711295f5fe004b1a8d6a0b65d05692758ce8ad2f7a45f59d7d0b596f51f7dfcf3330061888f6a94f',
    DKM:
      '4f904c2025c90c817ea5ff9b662a6fdb445a73b57cdf09eacd379b95e1f03cacb04cd6deeda4f952191dd9bc1f7a9502471a648d74dc06d3' +
      '8112de48a42501f6b1a3ad55c2099cd9a648e5f17e5bf3e34bf9b5953decb768a34f875fe2b78dca0c2fcca81ec1a412006dfaed38fa0688' +
      '2e61f4c148105fb8e231fdb33c4d484c001721d4',
    SKEYSEEDRekey: 'e0548c1682e13bce454026b3b1bdf42985b24e4e7408095a7c529de38c3d1fcb04c9fe6868042a34c9614c6c99e3fcea',
  },
  {
    prf: PrfId.PRF_HMAC_SHA2_512,
    source:
      'NSS (copy in Floorp-Projects/Floorp) security/nss/gtests/common/testvectors/ike-sha512-vectors.h ' +
      '(NIST sample cases 6 ikeGxy, 8 ikePlus, 7 ikeV2Rekey)',
    Ni: '97c41a9b0a03e74c',
    Nr: 'a659fd06e1746600',
    gir: '276255c3eaace5c6db32b609aa86c0ef07bba4bf2dc4c262995efd95ca607c3f',
    girNew: 'bb4015f7727b35532021336a9e4a6370ac8729b01fbb8f15d52236820fac4709',
    SPIi: 'ff43c5c689b95481',
    SPIr: 'e2ba607f30079bb7',
    SKEYSEED:
      'd6e74966b75fd2afab48be319d63d97c8a5d2ffe2e320763a462c664b36c3a944067d867c3a55fd8a7e5cca64b22e24415987e15549f09a8' +
      '1b455adaa5303df8',
    DKM:
      '22259105314717dc73c210919ee9cb3ded774dc087e866aa3960404c0ed7b8e78e79b993888388e2e5cb238d4bfcb4cdee9da074a26e329d' +
      '6c2f2f660cc9c711c941a2fb3d85a2e5d01e579c8f2c9d00fa6fabe76a137b00c7ff1b291899906588c26f073d819063238c4c844f0f8d22' +
      '1b65b76dbc9ed6f6368e5dba86b3e81b60eb44a1',
    SKEYSEEDRekey:
      'ecdaf3ccb990abc898a453b03fd56f9975275f150e1e571b0560b3cb2ee67289e82b899cdc2129fd821fe8aebea796f190765c25798f5883' +
      'f923526551f16a4b',
  },
  {
    prf: PrfId.PRF_AES128_XCBC,
    // Not NIST: NSS generated these itself ("these vectors are self generated"), so they check
    // us against another implementation, not against a standard. 8-octet nonces make Ni | Nr
    // exactly the 128-bit key, so the 2.14 "first 64 bits" rule is not exercised here.
    source:
      'NSS (copy in Floorp-Projects/Floorp) security/nss/gtests/common/testvectors/ike-aesxcbc-vectors.h ' +
      '(NSS self-generated cases 6 ikeGxy, 8 ikePlus)',
    Ni: '32b50d5f4a3763f3',
    Nr: '9206a04b26564cb1',
    gir: '4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52',
    SPIi: '34c9e7c188868785',
    SPIr: '3ff77d760d2b2199',
    SKEYSEED: '08b95345c9557240ddc98d6e1dfda875',
    DKM:
      'efa38ecee9fd05062f64b655105436d54b4728da66f3bc5768636170ff5017ab082342a683e7144a58d549c53d4575a2897d14c7c687040e' +
      '86384065456b8dcd8aaea88b85b5e4d8ab2f61c015859337000550cda1750a15c1f90af0ddd296e0a7f291afe46295dd3108078bd8eadf09' +
      'bc614c205a7c283907c3e6a384ad3f5373887e83',
  },
];

/** Where the AOSP IKE library's tests are stored (one copy of AOSP packages/modules/IPsec). */
const AOSP_IKE_TESTS =
  'BPI-SINOVOIP/BPI-Rockchip-Android11 packages/modules/IPsec/tests/iketests/src/java/com/android/internal/net/ipsec/ike/message';

/** An SK or SKF payload body from a captured message, with the key that protects it. */
export interface SkPayloadVector {
  readonly source: string;
  readonly encryption: { readonly id: EncrId; readonly keyLengthBits: number | undefined };
  readonly integrity?: IntegId;
  /** The whole message: IKE header, SK/SKF header, body. */
  readonly message: string;
  /** Octets in front of the body: 28 + 4 for SK, 28 + 8 for SKF (RFC 7383 2.5). */
  readonly prefixLength: number;
  readonly encryptionKey: string;
  readonly integrityKey?: string;
  /** The inner payloads after removing padding and Pad Length. */
  readonly plaintext: string;
  /**
   * True when the sender used minimal zero padding, as `sealSkBody` does, so sealing the
   * plaintext with the message's IV must reproduce the body octet for octet.
   */
  readonly resealable: boolean;
}

export const skPayloadVectors: readonly SkPayloadVector[] = [
  {
    source: `${AOSP_IKE_TESTS}/IkeEncryptedPayloadBodyTest.java (IKE_AUTH_INIT_REQUEST_*, ENCR/INTE_KEY_FROM_INIT_TO_RESP)`,
    encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 128 },
    integrity: IntegId.AUTH_HMAC_SHA1_96,
    message:
      '5f54bf6d8b48e6e1909232b3d1edcb5c2e20230800000001000000ec' +
      '230000d0' +
      'b9132b7bb9f658dfdc648e5017a6322a' +
      '030c316ce55f365760d46426ce5cfc78bd1ed9abff63eb9594c1bd5846de333ecd3ea2b705d18293b130395300ba92a351041345' +
      '0a10525cea51b2753b4e92b081fd78d995659a98f742278ff9b8fd3e21554865c15c79a5134d66b2744966089e416c60' +
      'a274e44a9a3f084eb02f3bdce1e7de9de8d9a62773ab563b9a69ba1db03c752acb6136452b8a86c41addb4210d68c423' +
      'efed80e26edca5fa3fe5d0a5ca9375ce332c474b93fb1fa359eb4e81' +
      'ae6e0f22abdad69ba8007d50',
    prefixLength: 32,
    encryptionKey: '5cbfd33f75796c0188c4a3a546aec4a1',
    integrityKey: '554fbf5a05b7f511e05a30ce23d874db9ef55e51',
    plaintext:
      '2400000c010000000a50500d2700000c010000000a5050502100001c02000000df7c038aefaaa32d3f44b228b52a3327' +
      '44dfb2c12c00002c00000028010304032ad4c0a20300000c0100000c800e008003000008030000020000000805000000' +
      '2d00001801000000070000100000ffff00000000ffffffff2900001801000000070000100000ffff00000000ffffffff' +
      '29000008000040000000000c0000400100000001',
    resealable: true,
  },
  {
    source: `${AOSP_IKE_TESTS}/IkeEncryptedPayloadBodyTest.java (AES_GCM_MSG_*)`,
    encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256 },
    message:
      '77c708b4523e39a471dc683c1d4f21362e202308000000050000006127000045fbd69d9ee2dafc5e7c03a0106761065b2' +
      '8fa8d11aed6046f7f8af117e44da7635be6e0dfafcb0a387c53fb46ba5d6fa9509161915929de97b7fbe23dc65723b0fe',
    prefixLength: 32,
    encryptionKey: '7C04513660DEC572D896105254EF92608054F8E6EE19E79CE52AB8697B2B5F2C2AA90C29',
    plaintext: '000000280200000033233837e909ec805d56151bef5b1fa9b8e25b32419c9b3fc96ee699ec29d501',
    // The sender did not pad to 4 octets; our GCM transform does, so only opening is checked.
    resealable: false,
  },
  {
    source: `${AOSP_IKE_TESTS}/IkeEncryptedPayloadBodyTest.java (AES_GCM_FRAG_*, SKF fragment 2 of 2)`,
    encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256 },
    message:
      '77c708b4523e39a471dc683c1d4f2136352023200000000100000113000000f7000200026faf9e5c04c67571871681d443' +
      '01489f99fd78d318b0517a5a99bf6a3e1770f43d7d997c9e0d186038d16df3fd525eda821f80b3a40fc6bce397ac67539e' +
      '40042919a5e9af38c70881d092a8571f0e131f594c0e8d6b84ea116f0c95619439b0a267b35bc47dac72bbfb3d3776feb3' +
      '86d7d4f819b0248f52f60bf4371ab6384e37819a9685c27d8e41abe30cd6f60905dd5c05c351ec0a1fcf9b99360161d2f3' +
      '4dcf6401829df9392121d88e2201d279200e25d750678af6a7f4892a5c8d4a7358ec50cdf12cfa7652488f756ba6d07441' +
      'e9a27aad3976ac8a705ff796857cb2df9ce360c3992e0285b34834255b06',
    prefixLength: 36,
    encryptionKey: '955ED949D6F18857220E97B17D9285C830A39F8D4DC46AB43943668093C62A3D66664F8C',
    plaintext:
      '0fce6e996f4936ec8db8097339c371c686be75f4bed3f259c14d39c3ad90cb864085c6375f75b724d9f9daa8e7b22a106a' +
      '488bc48c081997b7416fd33b146882e51ff6a640edf7602127f2454d502e92262ba3dd07cff52ee1bb1ea85f582db41a68' +
      'aaf6dace362e5d8b10cfeb65eebc7572690e2c415a11cae57020810cf7aa56d9f2d5c2be3a633f8e4c6af5483a2b1f05bd' +
      '4340ab551ddf7f51def57eaf5a37793ff6aa1e1ec288a2adfa647c369f15efa61a619966a320f24e1765c0e00c5ed394aa' +
      'ef14512032b005827c000000090100000501',
    resealable: false,
  },
];

/** RFC 7296 2.15 shared-key AUTH of an IKE_AUTH request. */
export interface PskAuthVector {
  readonly source: string;
  readonly prf: PrfId;
  readonly sharedSecret: string;
  /** RealMessage1: the IKE_SA_INIT request as sent. */
  readonly realMessage: string;
  /** NonceRData */
  readonly peerNonce: string;
  /** SK_pi */
  readonly SK_p: string;
  /** RestOfInitIDPayload (ID_IPV4_ADDR 10.80.80.13) */
  readonly idPayloadBody: string;
  readonly auth: string;
}

export const pskAuthVectors: readonly PskAuthVector[] = [
  {
    source: `${AOSP_IKE_TESTS}/IkeAuthPskPayloadTest.java (testBuildOutboundIkeAuthPskPayload)`,
    prf: PrfId.PRF_HMAC_SHA1,
    sharedSecret: '6A756E69706572313233',
    realMessage:
      '5f54bf6d8b48e6e10000000000000000212022080000000000000150220000300000002c010100040300000c0100000c' +
      '800e008003000008030000020300000804000002000000080200000228000088' +
      '00020000b4a2faf4bb54878ae21d638512ece55d9236fc5046ab6cef82220f421f3ce6361faf36564ecb6d28798a94aa' +
      'd7b2b4b603ddeaaa5630adb9ece8ac37534036040610ebdd92f46bef84f0be7db860351843858f8acf87056e272377f7' +
      '0c9f2d81e29c7b0ce4f291a3a72476bb0b278fd4b7b0a4c26bbeb08214c707137607958729000024c39b7f368f4681b8' +
      '9fa9b7be6465abd7c5f68b6ed5d3b4c72cb4240eb5c464122900001c00004004e54f73b7d83f6beb881eab2051d8663f' +
      '421d10b02b00001c00004005d915368ca036004cb578ae3e3fb268509aeab19000000020699369228741c6d4ca094c93' +
      'e242c9de19e7b7c60000000500000500',
    peerNonce: '9756112ca539f5c25abacc7ee92b73091942a9c06950f98848f1af1694c4ddff',
    SK_p: '094787780EE466E2CB049FA327B43908BC57E485',
    idPayloadBody: '010000000a50500d',
    auth: 'df7c038aefaaa32d3f44b228b52a332744dfb2c1',
  },
];

/** The lookups these checks need; `createCryptoRegistry()` has exactly this shape. */
export interface TransformLookup {
  prf(id: number): PrfTransform | undefined;
  integrity(id: number): IntegrityTransform | undefined;
  encryption(id: number, keyLengthBits?: number): EncryptionTransform | undefined;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** Runs one vector through deriveSkeyseed, deriveIkeSaKeymat, deriveChildSaKeymat and deriveRekeyedSkeyseed. */
export function runDerivationVector(prf: PrfTransform, v: DerivationVector): KnownAnswerOutcome {
  const failures: string[] = [];
  const check = (what: string, actual: Buffer, expected: string): void => {
    if (actual.toString('hex') !== expected) failures.push(what);
  };
  const Ni = hex(v.Ni);
  const Nr = hex(v.Nr);
  const SKEYSEED = deriveSkeyseed(prf, Ni, Nr, hex(v.gir));
  check('SKEYSEED', SKEYSEED, v.SKEYSEED);
  const dkm = deriveIkeSaKeymat(prf, hex(v.SKEYSEED), Ni, Nr, hex(v.SPIi), hex(v.SPIr), v.DKM.length / 2);
  check('DKM', dkm, v.DKM);
  // SK_d is the first field of the 2.14 keying material, prf.keyLength octets long.
  const SK_d = hex(v.DKM).subarray(0, prf.keyLength);
  if (v.DKMChild !== undefined) {
    check('DKM(Child SA)', deriveChildSaKeymat(prf, SK_d, Ni, Nr, undefined, v.DKMChild.length / 2), v.DKMChild);
  }
  if (v.girNew !== undefined && v.DKMChildDh !== undefined) {
    const girNew = hex(v.girNew);
    check('DKM(Child SA D-H)', deriveChildSaKeymat(prf, SK_d, Ni, Nr, girNew, v.DKMChildDh.length / 2), v.DKMChildDh);
  }
  if (v.girNew !== undefined && v.SKEYSEEDRekey !== undefined) {
    check('SKEYSEED(Rekey)', deriveRekeyedSkeyseed(prf, SK_d, hex(v.girNew), Ni, Nr), v.SKEYSEEDRekey);
  }
  return outcome(failures);
}

/** Opens the captured body (and, where the sender padded like we do, re-seals it with the same IV). */
export function runSkPayloadVector(transforms: TransformLookup, v: SkPayloadVector): KnownAnswerOutcome {
  const encryption = transforms.encryption(v.encryption.id, v.encryption.keyLengthBits);
  const integrity = v.integrity === undefined ? undefined : transforms.integrity(v.integrity);
  if (encryption === undefined || (v.integrity !== undefined && integrity === undefined)) {
    return { ok: false, detail: 'transform not available' };
  }
  const protection = createSkProtection({
    encryption,
    integrity,
    encryptionKey: hex(v.encryptionKey),
    integrityKey: v.integrityKey === undefined ? undefined : hex(v.integrityKey),
  });
  const message = hex(v.message);
  const prefix = message.subarray(0, v.prefixLength);
  const body = message.subarray(v.prefixLength);
  const failures: string[] = [];
  const opened = openSkBody(protection, prefix, body);
  if (!opened.ok) failures.push(`open: ${opened.error.kind}`);
  else if (opened.value.toString('hex') !== v.plaintext) failures.push('plaintext');
  if (v.resealable) {
    const iv = body.subarray(0, encryption.ivLength);
    const sealed = sealSkBody(protection, prefix, hex(v.plaintext), (n) => Buffer.from(iv.subarray(0, n)));
    if (!sealed.equals(body)) failures.push('sealed body');
  }
  return outcome(failures);
}

export function runPskAuthVector(prf: PrfTransform, v: PskAuthVector): KnownAnswerOutcome {
  const octets = signedOctets({
    realMessage: hex(v.realMessage),
    peerNonce: hex(v.peerNonce),
    prf,
    SK_p: hex(v.SK_p),
    idPayloadBody: hex(v.idPayloadBody),
  });
  const failures: string[] = [];
  if (pskAuth(prf, hex(v.sharedSecret), octets).toString('hex') !== v.auth) failures.push('AUTH');
  if (!verifyPskAuth(prf, hex(v.sharedSecret), octets, hex(v.auth))) failures.push('verify');
  return outcome(failures);
}

function outcome(failures: readonly string[]): KnownAnswerOutcome {
  return failures.length === 0 ? { ok: true } : { ok: false, detail: `differs: ${failures.join(', ')}` };
}

function checkedParts(v: DerivationVector): string {
  const parts = ['SKEYSEED', 'DKM'];
  if (v.DKMChild !== undefined) parts.push('Child DKM');
  if (v.DKMChildDh !== undefined) parts.push('Child DKM D-H');
  if (v.SKEYSEEDRekey !== undefined) parts.push('rekey SKEYSEED');
  return parts.join(', ');
}

function guarded(run: () => KnownAnswerOutcome): () => KnownAnswerOutcome {
  return () => {
    try {
      return run();
    } catch (e) {
      return { ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
  };
}

function nameOf(registry: Record<string, number>, id: number): string {
  const entry = Object.entries(registry).find(([, value]) => value === id);
  return entry === undefined ? String(id) : entry[0];
}

/**
 * The known-answer cases of this layer, with transforms looked up in `transforms` (the crypto
 * registry in the product, so the checks run through the real PRFs and ciphers). A transform
 * the lookup lacks is a failed case, not a skipped one: every vector here is for a transform
 * ikekm offers.
 */
export function derivationKnownAnswerCases(transforms: TransformLookup): KnownAnswerCase[] {
  const withPrf =
    (id: PrfId, run: (prf: PrfTransform) => KnownAnswerOutcome) =>
    (): KnownAnswerOutcome => {
      const prf = transforms.prf(id);
      return prf === undefined ? { ok: false, detail: `${nameOf(PrfId, id)} not available` } : run(prf);
    };
  return [
    ...derivationVectors.map((v) => ({
      algorithm: `IKEv2 KDF ${nameOf(PrfId, v.prf)} (${checkedParts(v)})`,
      source: v.source,
      run: guarded(withPrf(v.prf, (prf) => runDerivationVector(prf, v))),
    })),
    ...skPayloadVectors.map((v) => ({
      algorithm:
        `IKEv2 ${v.prefixLength === 36 ? 'SKF' : 'SK'} payload ${nameOf(EncrId, v.encryption.id)}` +
        `${v.encryption.keyLengthBits === undefined ? '' : `_${v.encryption.keyLengthBits}`}` +
        `${v.integrity === undefined ? '' : ` + ${nameOf(IntegId, v.integrity)}`} (${v.resealable ? 'seal, open' : 'open'})`,
      source: v.source,
      run: guarded(() => runSkPayloadVector(transforms, v)),
    })),
    ...pskAuthVectors.map((v) => ({
      algorithm: `IKEv2 shared-key AUTH ${nameOf(PrfId, v.prf)}`,
      source: v.source,
      run: guarded(withPrf(v.prf, (prf) => runPskAuthVector(prf, v))),
    })),
  ];
}

/** What `ikekm selfcheck` and the tests run: every case above, through the default registry. */
export const derivationKnownAnswers: KnownAnswerCase[] = derivationKnownAnswerCases(createCryptoRegistry());
