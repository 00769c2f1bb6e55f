'use strict'
// Snapshot signatures: Ed25519 over the exact bytes, base64 (docs/sdk.md, Refresh 7a). The
// checks and messages every platform shares; the platforms verify (node:crypto in
// lib/platform/node.js, WebCrypto in lib/webcrypto.js).
const { ClientError } = require('./errors.js')

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Standard base64 (padded) to bytes; `null` when it is not base64. */
function decodeBase64(text) {
  const trimmed = text.trim()
  if (!BASE64.test(trimmed) || trimmed.length % 4 !== 0) return null
  return Uint8Array.from(atob(trimmed), (c) => c.charCodeAt(0))
}

/** The 32 bytes of a base64 Ed25519 public key; throws an `invalid_public_key` ClientError. */
function publicKeyBytes(text) {
  if (typeof text !== 'string') throw new ClientError('invalid_public_key', 'the public key must be a base64 string')
  const raw = decodeBase64(text)
  if (raw === null) throw new ClientError('invalid_public_key', 'the public key is not base64')
  if (raw.length !== 32) {
    throw new ClientError('invalid_public_key', `an Ed25519 public key has 32 bytes, not ${raw.length}`)
  }
  return raw
}

/** The 64 bytes of a snapshot's signature (base64); throws a `signature_invalid` ClientError. */
function signatureBytes(signature) {
  if (typeof signature !== 'string' || signature.trim() === '') {
    throw invalid('the snapshot carries no signature and a public key is configured')
  }
  const raw = decodeBase64(signature)
  if (raw === null) throw invalid('the signature is not base64')
  if (raw.length !== 64) throw invalid(`malformed signature: ${raw.length} bytes, not 64`)
  return raw
}

/** The error of a well-formed signature that does not verify. */
function notVerified() {
  return invalid("the snapshot's signature does not verify with the configured public key")
}

function invalid(why) {
  return new ClientError('signature_invalid', why)
}

module.exports = { publicKeyBytes, signatureBytes, notVerified }
