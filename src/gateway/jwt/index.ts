/** JWTs as credentials: HS256 and EdDSA verification per the configuration, claims to a Principal. */
export {
  JWT_ALGORITHMS,
  JWT_VERIFIER_DEFAULTS,
  JwtVerifier,
  bearerToken,
  type JwtAlgorithm,
  type JwtVerifierOptions,
} from './verifier.js';
